/*
 * The device's part in Alternative 3b (docs/alt3b.md): the TRE re-credentials the device's UICC
 * with the credentials the new operator made for that card alone, and the device is its pipe to
 * the card as it is its pipe to the network (provision.c).
 *
 * A card step (treProvisionNext.card) goes to the device's own UICC only if it is one of the
 * commands the re-credentialing uses (docs/uicc.md "Re-credentialing by the new operator"):
 *
 *   class 80   GET DATA (CA), GET CHALLENGE (84), STORE DATA (E2), SWITCH (38), COMMIT (3A),
 *              ROLLBACK (3C)
 *   class 00   SELECT (A4), READ BINARY (B0): the ICCID, and EF_IMSI when the TRE checks where
 *              the card stands
 *
 * Anything else ends the procedure notAuthorised before it reaches the card: the TRE is not the
 * card's terminal, and must never run AUTHENTICATE, VERIFY, UPDATE BINARY or the toolkit through
 * the device (T-3b-2). The answer, data and status word as the card gave them (91XX included),
 * goes back in treProvision.card. Neither the command nor the answer is logged beyond its name
 * and status word: STORE DATA carries the ciphertext for the card, GET CHALLENGE its nonce.
 *
 * uiccSwitching (no step, no card): the card switched (or rolled back) and asks for a REFRESH of
 * EF_IMSI when the last card answer was 91XX. The device follows it as after 3a's OTA
 * (refresh.c): FETCH, REFRESH, TERMINAL RESPONSE, then a reset and the reading, then detach and
 * attach with the IMSI the card presents through the network of the session (attach only, when
 * the device is not attached: a failed attach before a ROLLBACK), then treAttached {that IMSI,
 * attached | failed with the attach's reason} to the TRE, which decides COMMIT or ROLLBACK; then
 * the TRE is asked again. A card that breaks off ends the procedure with cardError; the TRE keeps
 * uiccSwitching, the OTA's row makes the tick settle the card, and a later provisioning follows
 * again (the phase following is stored before the card is asked).
 */
#include "device.h"

#include "log/log.h"

#include <stdio.h>
#include <string.h>

/* The STORE DATA chain of a blob of at most 8192 bytes in blocks of 240 is 35 commands; the
 * registration, SWITCH, COMMIT or ROLLBACK a few more, and a restarted chain as many again. */
#define MAX_CARD_STEPS 128
/* A switch and a rollback; a TRE that keeps switching would hold the device. */
#define MAX_FOLLOWS 4

enum { CLA_ISO = 0x00, CLA_PROPRIETARY = 0x80 };

static const struct card_command {
	uint8_t cla, ins;
	const char *name;
} commands[] = {
	{CLA_PROPRIETARY, 0xCA, "GET DATA"},  {CLA_PROPRIETARY, 0x84, "GET CHALLENGE"},
	{CLA_PROPRIETARY, 0xE2, "STORE DATA"}, {CLA_PROPRIETARY, 0x38, "SWITCH"},
	{CLA_PROPRIETARY, 0x3A, "COMMIT"},     {CLA_PROPRIETARY, 0x3C, "ROLLBACK"},
	{CLA_ISO, 0xA4, "SELECT"},             {CLA_ISO, 0xB0, "READ BINARY"},
};

static const struct card_command *command_of(const uint8_t *apdu, size_t len)
{
	if (len < 4 || len > M2ME_APDU_MAX)
		return NULL;
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (apdu[0] == commands[i].cla && apdu[1] == commands[i].ins)
			return &commands[i];
	return NULL;
}

int m2me_card_step_allowed(const uint8_t *apdu, size_t len)
{
	return command_of(apdu, len) != NULL;
}

/* The card is there for the TRE's next card step or switch, and the TRE within its bound (*count
 * of max); 0, or -1 with the procedure ended. */
static int card_ready(m2me_device *dev, int *count, int max, const char *what)
{
	if (!dev->state.card[0] || !dev->state.powered) {
		m2me_fail(dev, m2me_provision_finish, M2M_R_NO_CARD, "the TRE's %s finds no powered card in the slot", what);
		return -1;
	}
	if (++*count > max) {
		m2me_fail(dev, m2me_provision_finish, M2M_R_WRONG_STATE, "the TRE asked for more than %d of %s", max, what);
		return -1;
	}
	return 0;
}

/* ---- a card step ----------------------------------------------------------------------------------- */

static void on_card_answer(m2me_device *dev, const m2me_rapdu *r, m2m_reason reason, const char *text)
{
	m2me_provision_run *p = &dev->proc.provision;
	if (!r) {
		m2me_provision_finish(dev, reason, text);
		return;
	}
	/* a SWITCH or ROLLBACK answered 91XX: the REFRESH the uiccSwitching that follows fetches */
	p->card_pending = r->sw >> 8 == M2ME_SW1_PROACTIVE ? (uint8_t)r->sw : 0;
	m2m_info("provision: %s answered SW %04X with %zu bytes; back to %s", dev->state.card, r->sw, r->len,
		 dev->settings.tre);
	m2me_provision_card_answer(dev, r);
}

void m2me_uicc_card_step(m2me_device *dev, const M2M_APDU_COMMAND *c)
{
	m2me_provision_run *p = &dev->proc.provision;
	const uint8_t *apdu = ASN1_STRING_get0_data(c->apdu);
	size_t len = (size_t)ASN1_STRING_length(c->apdu);
	const struct card_command *cmd = command_of(apdu, len);
	if (!cmd) {
		m2me_fail(dev, m2me_provision_finish, M2M_R_NOT_AUTHORISED,
			  "%s asked for the card command %02X %02X (%zu bytes): not one of the re-credentialing's,"
			  " it does not reach %s", dev->settings.tre, len ? apdu[0] : 0, len > 1 ? apdu[1] : 0, len,
			  dev->state.card[0] ? dev->state.card : "the card");
		return;
	}
	if (card_ready(dev, &p->card_steps, MAX_CARD_STEPS, "card steps") ||
	    m2me_provision_enter(dev, M2ME_PROV_CARDING))
		return;
	if (m2me_card_transmit(dev, apdu, len, on_card_answer)) {
		m2me_fail(dev, m2me_provision_finish, M2M_R_UNKNOWN_PEER, "%s cannot be called", dev->state.card);
		return;
	}
	m2m_info("provision: card step %d, %s (%zu bytes) from %s to %s", p->card_steps, cmd->name, len,
		 dev->settings.tre, dev->state.card);
}

/* ---- uiccSwitching ------------------------------------------------------------------------------- */

static void told(m2me_device *dev, const m2me_credential *c, m2m_reason reason, const char *text)
{
	/* the TRE answers with its credential, kind none for a TRE that holds none */
	if (reason && !(c && c->kind == M2M_CREDENTIAL_NONE)) {
		m2me_fail(dev, m2me_provision_finish, reason, "%s was not told how the attach ended: %s", dev->settings.tre,
			  text);
		return;
	}
	m2me_provision_continue(dev);
}

/* The card is settled: attached with the IMSI it presents, or the attach's reason. */
static void followed(m2me_device *dev, m2m_reason reason, const char *text)
{
	const m2me_state *st = &dev->state;
	if (dev->proc.ota.interrupted || !st->card_read) {
		m2me_fail(dev, m2me_provision_finish, reason ? reason : M2M_R_CARD_ERROR,
			  "the card's switch could not be followed: %s", text ? text : "the card was not read");
		return;
	}
	if (!reason && !(st->attached && !strcmp(st->session.imsi, st->info.imsi))) {
		reason = M2M_R_NOT_ATTACHED;
		text = "not attached with the card's IMSI";
	}
	m2m_info("provision: the card presents IMSI %s, the attach with it %s%s; treAttached to %s", st->info.imsi,
		 reason ? "failed: " : "succeeded", reason ? m2me_reason_name(reason) : "", dev->settings.tre);
	if (m2me_tre_attached(dev, st->info.imsi, reason, told))
		m2me_fail(dev, m2me_provision_finish, M2M_R_UNKNOWN_PEER, "%s is not a configured peer", dev->settings.tre);
}

void m2me_uicc_follow(m2me_device *dev)
{
	m2me_provision_run *p = &dev->proc.provision;
	const m2me_state *st = &dev->state;
	if (card_ready(dev, &p->follows, MAX_FOLLOWS, "card switches"))
		return;
	if (st->attached) {  /* the network to come back to, also after a failed attach */
		snprintf(p->network, sizeof p->network, "%s", st->session.network);
		snprintf(p->apn, sizeof p->apn, "%s", st->session.apn);
	}
	if (m2me_provision_enter(dev, M2ME_PROV_FOLLOWING))
		return;
	uint8_t pending = p->card_pending;
	p->card_pending = 0;
	m2m_info("provision: the card switched; the device follows it (%s)", pending ? "its REFRESH" : "reset");
	m2me_refresh_follow(dev, p->network, p->apn, pending, followed);
}
