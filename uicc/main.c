/*
 * uicc: a software UICC with a USIM application, answering ISO 7816-4 command APDUs carried
 * in apduCommand/apduResponse and power cycles carried in cardReset/cardAtr (docs/uicc.md).
 *
 *   uicc = { image = "/run/keys/uicc-1.card";                # the card image, read at first start
 *            storage_key_file = "/run/keys/uicc-1.storage";     # 64 hex digits: seals K, OPc, ADM, OTA keys
 *            # optional, all three: the card's identity for Alternative 3b (lib/daemon/identity)
 *            agency = "certauth"; enrolment_secret_file = "..."; root_certificate = "root.pem"; };
 *
 * The image is checked at every start (a bad one exits with status 2), but it makes the card
 * only when the database holds none: from then on the database is the card. With an agency the
 * card makes its P-256 key at first start (sealed in its database) and enrols it with profile
 * uicc, as the card maker would; the agency's root is the one it checks operators against.
 */
#include "card.h"

#include "crypto/crypto.h"
#include "daemon/daemon.h"
#include "daemon/identity.h"
#include "log/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct uicc_daemon {
	char image_path[512];
	uicc_image image;         /* wiped once the card is open */
	uint8_t storage_key[32];  /* idem: the card keeps its own copy (PUT KEY seals new keys) */
	uicc_card card;
	int open;
	int has_identity;                 /* configured with an agency: a 3b-capable card */
	m2m_identity_settings identity_settings;
	m2m_identity *identity;
} uicc_daemon;

/* ---- configuration ---------------------------------------------------------------------- */

/* The image's own problem, located in the image file, becomes the configuration's. */
static void read_image(m2m_conf *c, config_setting_t *group, uicc_daemon *u)
{
	const char *path = m2m_conf_str(c, group, "image", NULL, 1);
	if (!path || c->failed)
		return;
	snprintf(u->image_path, sizeof u->image_path, "%s", path);
	m2m_conf image_conf;
	if (uicc_image_read(&image_conf, path, &u->image)) {
		c->failed = 1;
		snprintf(c->error, sizeof c->error, "%s", image_conf.error);
	}
	m2m_conf_free(&image_conf);
}

/* The identity's settings go together: any of them asks for all (m2m_identity_configure). */
static void read_identity(m2m_conf *c, config_setting_t *group, uicc_daemon *u)
{
	static const char *const names[] = {M2M_IDENTITY_SETTINGS, NULL};
	for (int i = 0; names[i] && !u->has_identity; i++)
		u->has_identity = config_setting_get_member(group, names[i]) != NULL;
	if (u->has_identity)
		m2m_identity_configure(c, group, M2M_PROFILE_UICC, &u->identity_settings);
}

static void configure(m2m_daemon *d, m2m_conf *c, config_setting_t *group)
{
	static const char *const names[] = {"image", "storage_key_file", M2M_IDENTITY_SETTINGS, NULL};
	uicc_daemon *u = calloc(1, sizeof *u);
	m2m_daemon_set_ctx(d, u);
	if (!group) {
		m2m_conf_fail(c, NULL, "uicc: missing (a card needs image and storage_key_file)");
		return;
	}
	m2m_conf_only(c, group, names);
	m2m_conf_key_file(c, group, "storage_key_file", u->storage_key, 32);
	read_image(c, group, u);
	read_identity(c, group, u);
}

/* ---- life ------------------------------------------------------------------------------- */

static void report_card(uicc_daemon *u, int imported)
{
	uicc_state from_image;
	uicc_image_state(&u->image, &from_image);
	if (imported)
		m2m_info("card made from %s: ICCID %s, IMSI %s", u->image_path, u->image.iccid, u->image.imsi);
	else if (memcmp(from_image.ef[UICC_EF_ICCID], u->card.st.ef[UICC_EF_ICCID],
			uicc_file_at(UICC_EF_ICCID)->size))
		m2m_warn("%s describes another card (ICCID %s): the card in the database is kept", u->image_path,
			 u->image.iccid);
	else
		m2m_info("card loaded from the database (%s not used again)", u->image_path);
	m2m_wipe(&from_image, sizeof from_image);
}

/* The card's key is generated in the card at its first start and kept sealed in its database;
 * its certificate comes from the agency as the daemon ticks (not yet: GET DATA answers 6A88). */
static int open_identity(m2m_daemon *d, uicc_daemon *u)
{
	if (!u->has_identity)
		return 0;
	u->identity = m2m_identity_open(m2m_daemon_db(d), u->storage_key, m2m_daemon_entity(d), &u->identity_settings);
	return u->identity ? 0 : -1;
}

static int start(m2m_daemon *d)
{
	uicc_daemon *u = m2m_daemon_ctx(d);
	int imported = 0;
	u->open = !uicc_card_open(&u->card, m2m_daemon_db(d), u->storage_key, &u->image, &imported);
	if (u->open)
		report_card(u, imported);
	int rc = u->open ? open_identity(d, u) : -1;
	uicc_image_wipe(&u->image);
	m2m_wipe(u->storage_key, sizeof u->storage_key);
	return rc;
}

static void tick(m2m_daemon *d)
{
	uicc_daemon *u = m2m_daemon_ctx(d);
	m2m_identity_tick(u->identity, m2m_daemon_node(d));
}

static void stop(m2m_daemon *d)
{
	uicc_daemon *u = m2m_daemon_ctx(d);
	if (!u)
		return;
	if (u->open)
		uicc_card_close(&u->card);
	m2m_identity_free(u->identity);
	m2m_identity_settings_clear(&u->identity_settings);
	m2m_wipe(u, sizeof *u);
	free(u);
}

/* ---- the card's identity, lent to the card ----------------------------------------------- */

static m2m_reason open_with_identity(void *key, const uint8_t *der, size_t len, uint8_t **content, size_t *clen)
{
	return m2m_identity_decrypt(key, der, len, content, clen);
}

/* Before each command: the certificate and the CRL may have come since the last one. */
static void lend_identity(uicc_daemon *u)
{
	m2m_identity *id = u->identity;
	uicc_identity lent = {m2m_identity_cert(id), m2m_identity_trust(id), open_with_identity, id};
	uicc_card_lend_identity(&u->card, m2m_identity_ready(id) ? &lent : NULL);
}

/* ---- requests --------------------------------------------------------------------------- */

/* The response data may be RES, CK, IK and Kc: wiped from every buffer here once sent. */
static void answer_apdu(m2m_daemon *d, uicc_daemon *u, m2m_request *req)
{
	const M2M_APDU_COMMAND *body = req->env.body;
	int len = ASN1_STRING_length(body->apdu);
	if (len < 4 || len > UICC_APDU_MAX) {
		m2m_refuse(m2m_daemon_node(d), req, M2M_R_BAD_BODY, "an APDU has 4 to %d bytes, not %d",
			   UICC_APDU_MAX, len);
		return;
	}
	const uint8_t *apdu = ASN1_STRING_get0_data(body->apdu);
	uint8_t data[UICC_RESPONSE_MAX];
	size_t n = 0;
	lend_identity(u);
	uint16_t sw = uicc_apdu(&u->card, apdu, (size_t)len, data, &n);
	m2m_log_event(M2M_LOG_INFO, req->env.txid, "apduCommand", "%s: SW %04X", uicc_ins_name(apdu[1]), sw);
	M2M_APDU_RESPONSE *r = M2M_APDU_RESPONSE_new();
	ASN1_OCTET_STRING_set(r->data, data, (int)n);
	r->status_word = sw;
	m2m_reply(m2m_daemon_node(d), req, M2M_MSG_APDU_RESPONSE, r);
	m2m_wipe((void *)ASN1_STRING_get0_data(r->data), n);
	M2M_APDU_RESPONSE_free(r);
	m2m_wipe(data, sizeof data);
}

static void answer_reset(m2m_daemon *d, uicc_daemon *u, m2m_request *req)
{
	uint8_t atr[UICC_ATR_MAX];
	int n = uicc_reset(&u->card, atr);
	if (n < 0) {
		m2m_refuse(m2m_daemon_node(d), req, M2M_R_INTERNAL, "the card's reset state could not be stored");
		return;
	}
	M2M_CARD_ATR *a = M2M_CARD_ATR_new();
	ASN1_OCTET_STRING_set(a->atr, atr, n);
	m2m_log_event(M2M_LOG_INFO, req->env.txid, "cardReset", "reset: MF selected, security status cleared");
	m2m_reply(m2m_daemon_node(d), req, M2M_MSG_CARD_ATR, a);
	M2M_CARD_ATR_free(a);
}

static void dispatch(m2m_daemon *d, m2m_request *req)
{
	uicc_daemon *u = m2m_daemon_ctx(d);
	switch (req->env.type) {
	case M2M_MSG_APDU_COMMAND:
		answer_apdu(d, u, req);
		break;
	case M2M_MSG_CARD_RESET:
		answer_reset(d, u, req);
		break;
	default:
		m2m_refuse(m2m_daemon_node(d), req, M2M_R_UNEXPECTED_MESSAGE, "a uicc does not serve %s",
			   m2m_msgtype_name(req->env.type));
	}
}

static const m2m_role role = {
	.name = "uicc",
	.description = "a software UICC with a USIM application, speaking ISO 7816-4 APDUs",
	.schema = &uicc_schema,
	.configure = configure,
	.start = start,
	.dispatch = dispatch,
	.tick = tick,
	.stop = stop,
};

int main(int argc, char **argv)
{
	return m2m_daemon_main(argc, argv, &role);
}
