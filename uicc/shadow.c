/*
 * The shadow slot of Alternative 3b (docs/alt3b.md, "Make before break"): the new operator's
 * credentials wait there, verified (credential.c), while the old ones stay active; SWITCH makes
 * them active and keeps the old ones in the slot, so that a failed first attach can go back
 * (ROLLBACK); COMMIT, after the first attach with the new IMSI, wipes the old ones for good.
 *
 * Credentials are EF_IMSI, K and OPc, the SQN array and the OTA keysets with the TARs that use
 * them: the other files (EF_AD, the location files) stay, as after the OTA change of 3a. After
 * SWITCH and ROLLBACK the card asks the terminal for a REFRESH of EF_IMSI, as after 3a's OTA
 * EF_IMSI update (proactive.c), when the terminal announced REFRESH; else the new IMSI waits
 * for the next reset.
 */
#include "commands.h"

#include "crypto/crypto.h"
#include "log/log.h"

#define DROP_NEW 0x01  /* ROLLBACK P1: also wipe the new credentials */

static void swap(void *a, void *b, size_t n)
{
	uint8_t *x = a, *y = b;
	for (size_t i = 0; i < n; i++) {
		uint8_t t = x[i];
		x[i] = y[i];
		y[i] = t;
	}
}

/* The active credentials and the slot's change places; the slot's state is the caller's. */
static void exchange(uicc_state *st)
{
	uicc_slot *s = &st->shadow;
	swap(st->ef[UICC_EF_IMSI], s->ef_imsi, sizeof s->ef_imsi);
	swap(st->k, s->k, sizeof s->k);
	swap(st->opc, s->opc, sizeof s->opc);
	swap(&st->sqn, &s->sqn, sizeof s->sqn);
	swap(st->ota.keyset, s->keyset, sizeof s->keyset);
	swap(st->ota.tar, s->tar, sizeof s->tar);
}

static uint16_t refresh(uicc_card *c, const char *what)
{
	int rc = uicc_toolkit_refresh_imsi(c);
	if (rc < 0)
		return SW_TECHNICAL_PROBLEM;
	m2m_info("%s: %s", what, rc ? "the new IMSI is read at the next reset (no REFRESH in the terminal profile)"
				      : "REFRESH of EF_IMSI queued");
	return SW_OK;
}

/* 80 38 00 00: the loaded credentials become active; the old ones stay in the slot. */
uint16_t uicc_cmd_switch(uicc_card *c, const uicc_command *cmd, uint8_t *out, size_t *out_len)
{
	if (cmd->p1 || cmd->p2)
		return SW_WRONG_P1P2;
	if (c->st.shadow.state != UICC_SLOT_LOADED)
		return SW_CONDITIONS_NOT_SATISFIED;
	exchange(&c->st);
	c->st.shadow.state = UICC_SLOT_SWITCHED;
	return refresh(c, "SWITCH: the new credentials are active, the previous ones kept until COMMIT");
}

/* 80 3A 00 00: after SWITCH, the previous credentials are wiped. */
uint16_t uicc_cmd_commit(uicc_card *c, const uicc_command *cmd, uint8_t *out, size_t *out_len)
{
	if (cmd->p1 || cmd->p2)
		return SW_WRONG_P1P2;
	if (c->st.shadow.state != UICC_SLOT_SWITCHED)
		return SW_CONDITIONS_NOT_SATISFIED;
	m2m_wipe(&c->st.shadow, sizeof c->st.shadow);
	m2m_info("COMMIT: the previous credentials are wiped");
	return SW_OK;
}

/* 80 3C P1 00: after SWITCH, the previous credentials are active again and the new ones wait in
 * the slot for another SWITCH; with P1 01 they are wiped instead (also before SWITCH). A
 * repeated ROLLBACK (P1 00) finds nothing switched: 6985, never a loss of the new ones. */
uint16_t uicc_cmd_rollback(uicc_card *c, const uicc_command *cmd, uint8_t *out, size_t *out_len)
{
	uicc_slot *s = &c->st.shadow;
	int drop = cmd->p1 == DROP_NEW;
	if ((cmd->p1 && !drop) || cmd->p2)
		return SW_WRONG_P1P2;
	if (s->state == UICC_SLOT_EMPTY || (s->state == UICC_SLOT_LOADED && !drop))
		return SW_CONDITIONS_NOT_SATISFIED;
	int switched = s->state == UICC_SLOT_SWITCHED;
	if (switched) {
		exchange(&c->st);
		s->state = UICC_SLOT_LOADED;
	}
	if (drop)
		m2m_wipe(s, sizeof *s);
	if (!switched) {
		m2m_info("ROLLBACK: the new credentials are wiped");
		return SW_OK;
	}
	return refresh(c, drop ? "ROLLBACK: the previous credentials are active again, the new ones wiped"
			       : "ROLLBACK: the previous credentials are active again, the new ones wait for SWITCH");
}
