/* The card's life: made once from an image, loaded from its database, reset, closed. */
#include "card.h"

#include "crypto/crypto.h"
#include "log/log.h"

#include <string.h>

/*
 * Answer to reset (ISO 7816-3 §8, TS 102 221 §6.3): direct convention (3B); TA1 96 (Fi 512,
 * Di 32); TD1 80, TD2 1F: T=0, then T=15 global bytes; TA3 C7: no clock stop preference,
 * classes A, B and C. Historical bytes (ISO 7816-4 §8.1.1): 80, then card service data 31 E0
 * (selection by full and partial DF name, EF.DIR read by READ RECORD, an MF) and card
 * capabilities 73 FE 21 00 (selection by DF name, path, file identifier, implicit; short file
 * identifiers; record numbers; no chaining, no extended lengths, no logical channels).
 * TCK A4 makes the exclusive-or of T0..TCK zero.
 */
static const uint8_t atr[] = {0x3B, 0x97, 0x96, 0x80, 0x1F, 0xC7, 0x80, 0x31,
			      0xE0, 0x73, 0xFE, 0x21, 0x00, 0xA4};

int uicc_card_open(uicc_card *c, sqlite3 *db, const uint8_t storage_key[32], const uicc_image *img,
		   int *imported)
{
	memset(c, 0, sizeof *c);
	c->db = db;
	memcpy(c->storage_key, storage_key, sizeof c->storage_key);
	*imported = 0;
	int rc = uicc_store_load(c);
	if (rc == 1 && img) {
		if (uicc_store_create(db, storage_key, img)) {
			uicc_card_close(c);
			return -1;
		}
		*imported = 1;
		rc = uicc_store_load(c);
	}
	if (rc == 1)
		m2m_error("the database holds no card and there is no image to make one from");
	if (rc)
		uicc_card_close(c);
	return rc ? -1 : 0;
}

void uicc_card_close(uicc_card *c)
{
	if (c->keyed)
		m2m_milenage_clear(&c->milenage);
	m2m_wipe(c, sizeof *c);
}

/* SWITCH and ROLLBACK change the active K and OPc: the new MILENAGE context is made before
 * anything is stored, so that a card that could not key it stays as it was. */
static int keys_changed(const uicc_state *before, const uicc_state *after)
{
	return memcmp(before->k, after->k, sizeof after->k) || memcmp(before->opc, after->opc, sizeof after->opc);
}

int uicc_card_settle(uicc_card *c, uicc_state *before, int keep)
{
	m2m_milenage next = {0};
	int rekey = keep && keys_changed(before, &c->st);
	int failed = rekey && m2m_milenage_init(&next, c->st.k, c->st.opc);
	failed = failed || (keep && uicc_store_save(c->db, c->storage_key, before, &c->st));
	if (!keep || failed)
		c->st = *before;
	if (rekey && !failed) {
		m2m_milenage_clear(&c->milenage);
		c->milenage = next;
	} else if (next.aes) {
		m2m_milenage_clear(&next);
	}
	m2m_wipe(before, sizeof *before);
	return failed ? -1 : 0;
}

/* A power cycle ends the application session and the security status; the MF is selected.
 * What the card held in RAM goes too: the terminal's profile (it sends it again after the
 * ATR), a proactive command not yet done, the segments of an incomplete packet, the blocks of
 * an incomplete STORE DATA chain. The challenge stays: it is stored, and single use anyway. */
int uicc_reset(uicc_card *c, uint8_t *out)
{
	uicc_state before = c->st;
	c->st.s = (uicc_session){.df = UICC_MF, .ef = -1};
	c->st.cat = (uicc_toolkit){.number = c->st.cat.number};
	memset(&c->st.ota.sms, 0, sizeof c->st.ota.sms);
	m2m_wipe(&c->st.chain, sizeof c->st.chain);
	if (uicc_card_settle(c, &before, 1))
		return -1;
	memcpy(out, atr, sizeof atr);
	return (int)sizeof atr;
}
