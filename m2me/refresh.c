/*
 * The proactive session the card opens when it answers 91XX (TS 102 221, TS 102 223 §6.4.7):
 * after an OTA that rewrote EF_IMSI (Alternative 3a, TR 33.812 §5.4.1 step 4: "the last stage of
 * the OTA procedure is to reset the USIM so that on next activation the new IMSI is presented"),
 * the card asks the terminal for a REFRESH.
 *
 *   FETCHING   FETCH (80 12 00 00 XX)                      -> the command (D0 ...), 9000
 *   READING    REFRESH 00..03 (NAA initialisation, file change notification): EF_ICCID,
 *              EF_IMSI and EF_AD read again, then TERMINAL RESPONSE "command performed";
 *              REFRESH 04 (UICC reset): cardReset and the power-on reading, no TERMINAL
 *              RESPONSE (the reset ended the proactive session)
 *              anything else: TERMINAL RESPONSE "beyond terminal's capabilities"
 *              -> 9000, or 91XX: the next command is fetched (at most MAX_COMMANDS)
 *   settling   the device adopts what the card read; if the card's IMSI is not the session's:
 *   REATTACHING detach from that network, attach with the new IMSI on the same network and APN
 *
 * Alternative 3b's switch (m2me_refresh_follow) runs the same session inside the provisioning:
 * the REFRESH the card queued after SWITCH or ROLLBACK, then a reset and the reading whatever the
 * qualifier (the card may have had none pending, a restart may have lost it), then the device on
 * the IMSI the card presents (attached if it was not); the provisioning goes on with the result.
 *
 * Each phase is stored (table ota) before the card or the network is asked. A refresh that
 * breaks off (the card stops answering, the device is killed) is settled later as a terminal
 * does after a reset: the card is reset and read, and the device re-attaches if the IMSI it
 * presents is not the session's (m2me_ota_tick, retried RECOVER_ATTEMPTS times).
 */
#include "device.h"

#include "crypto/crypto.h"
#include "log/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* A card that keeps announcing commands would hold the device for ever. */
#define MAX_COMMANDS 8
#define RECOVER_DELAY 2      /* seconds before a broken-off refresh is settled */
#define RECOVER_ATTEMPTS 5

static void fetch(m2me_device *dev);

static int enter(m2me_device *dev, m2me_ota_phase phase)
{
	dev->proc.ota.phase = phase;
	return m2me_store_save_ota(dev, &dev->proc.ota);
}

/* Settled: the row goes; a procedure that follows the card goes on with the attach's result. */
static void end(m2me_device *dev, m2m_reason reason, const char *text)
{
	if (m2me_store_forget_ota(dev))
		m2m_error("the end of the card's proactive session could not be stored");
	dev->ota_recover = 0;
	dev->ota_attempts = 0;
	m2me_done_fn then = dev->proc.ota.then;
	dev->proc.ota.then = NULL;
	if (then)
		then(dev, reason, text);
	else
		m2m_wipe(&dev->proc, sizeof dev->proc);
}

/* The row stays: the card is reset and read later, as after a restart. */
void m2me_ota_interrupted(m2me_device *dev, const char *fmt, ...)
{
	char text[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	m2m_warn("the OTA on the card broke off (%s): the card will be reset and read again", text);
	dev->ota_recover = 1;
	dev->ota_retry_at = time(NULL) + RECOVER_DELAY;
	m2me_ota_run *o = &dev->proc.ota;
	m2me_done_fn then = o->then;
	if (!then) {
		m2m_wipe(&dev->proc, sizeof dev->proc);
		return;
	}
	o->then = NULL;
	o->interrupted = 1;
	then(dev, M2M_R_CARD_ERROR, text);
}

/* ---- settling: what the card presents now ------------------------------------------------------- */

static void after_attach(m2me_device *dev, m2m_reason reason, const char *text)
{
	const m2me_ota_run *o = &dev->proc.ota;
	if (reason)
		m2m_warn("the attach with IMSI %s through %s failed (%s: %s): the device stays detached",
			 dev->state.info.imsi, o->network, m2me_reason_name(reason), text);
	else
		m2m_info("attached through %s with IMSI %s, the card's new identity", o->network, dev->state.info.imsi);
	end(dev, reason, text);
}

static void attach(m2me_device *dev)
{
	const m2me_ota_run *o = &dev->proc.ota;
	m2me_attach(dev, o->network, o->apn, after_attach);
}

static void after_detach(m2me_device *dev, m2m_reason reason, const char *text)
{
	/* the session is forgotten whatever the network said: the attach goes ahead */
	if (reason)
		m2m_warn("the detach of IMSI %s failed (%s: %s); attaching all the same", dev->proc.ota.from_imsi,
			 m2me_reason_name(reason), text);
	attach(dev);
}

static void reattach(m2me_device *dev)
{
	m2me_ota_run *o = &dev->proc.ota;
	const m2me_session *s = &dev->state.session;
	snprintf(o->network, sizeof o->network, "%s", s->network);
	snprintf(o->apn, sizeof o->apn, "%s", s->apn);
	snprintf(o->from_imsi, sizeof o->from_imsi, "%s", s->imsi);
	if (enter(dev, M2ME_OTA_REATTACHING)) {
		m2me_ota_interrupted(dev, "the re-attach could not be stored");
		return;
	}
	m2m_info("the card presents IMSI %s, the session through %s is IMSI %s's: detach, then attach with it",
		 dev->state.info.imsi, s->network, s->imsi);
	m2me_detach(dev, after_detach);
}

/* What the card read is the device's from now on (stored, then adopted); 0 or -1. */
static int adopt(m2me_device *dev, const m2me_card_info *info)
{
	const m2me_state *st = &dev->state;
	if (st->card_read && !strcmp(st->info.imsi, info->imsi) && !strcmp(st->info.iccid, info->iccid) &&
	    st->info.mnc_length == info->mnc_length)
		return 0;
	m2me_state next = *st;
	next.card_read = 1;
	next.info = *info;
	if (m2me_store_save_device(dev, &next))
		return -1;
	m2m_info("card %s now presents IMSI %s (was %s)", st->card, info->imsi, st->card_read ? st->info.imsi : "unread");
	dev->state = next;
	return 0;
}

static void on_reset(m2me_device *dev, const m2me_card_info *info, m2m_reason reason, const char *text);

/* The proactive session is over: the device follows what the card presents (read again after a
 * reset first when the procedure asks for it). */
static void settle(m2me_device *dev)
{
	m2me_ota_run *o = &dev->proc.ota;
	const m2me_state *st = &dev->state;
	if (o->reset_due) {
		o->reset_due = 0;
		if (enter(dev, M2ME_OTA_READING))
			m2me_ota_interrupted(dev, "the reading could not be stored");
		else
			m2me_card_read_start(dev, on_reset);
		return;
	}
	if (o->have_info && adopt(dev, &o->info)) {
		m2me_ota_interrupted(dev, "what the card read could not be stored");
		return;
	}
	if (st->attached && !st->session.via_tre && st->card_read && strcmp(st->session.imsi, st->info.imsi))
		reattach(dev);
	else if (!st->attached && o->attach_due && o->network[0] && st->card_read)
		attach(dev);  /* a restart came between the detach and the attach; 3b: not attached */
	else
		end(dev, M2M_OK, NULL);
}

/* ---- performing a command ------------------------------------------------------------------------ */

static void on_responded(m2me_device *dev, const m2me_rapdu *r, m2m_reason reason, const char *text)
{
	if (!r) {
		m2me_ota_interrupted(dev, "TERMINAL RESPONSE: %s", text);
		return;
	}
	if (r->sw >> 8 == M2ME_SW1_PROACTIVE) {
		dev->proc.ota.pending = (uint8_t)r->sw;
		if (enter(dev, M2ME_OTA_FETCHING))
			m2me_ota_interrupted(dev, "the next proactive command could not be stored");
		else
			fetch(dev);
		return;
	}
	if (r->sw != M2ME_SW_OK)
		m2m_warn("%s answered TERMINAL RESPONSE with SW %04X", dev->state.card, r->sw);
	settle(dev);
}

static void respond(m2me_device *dev, uint8_t result)
{
	uint8_t data[M2ME_CAT_DATA_MAX], apdu[M2ME_APDU_MAX];
	size_t len;
	if (m2m_cat_terminal_response_build(&dev->proc.ota.command, result, data, sizeof data, &len)) {
		m2me_ota_interrupted(dev, "the TERMINAL RESPONSE could not be built");
		return;
	}
	m2m_info("TERMINAL RESPONSE to %s: result %02X", dev->state.card, result);
	if (m2me_card_transmit(dev, apdu, m2me_apdu_terminal_response(data, len, apdu), on_responded))
		m2me_ota_interrupted(dev, "%s cannot be called", dev->state.card);
}

static void keep(m2me_device *dev, const m2me_card_info *info)
{
	dev->proc.ota.info = *info;
	dev->proc.ota.have_info = 1;
}

/* REFRESH with NAA initialisation or file change notification: the files read again. */
static void on_reread(m2me_device *dev, const m2me_card_info *info, m2m_reason reason, const char *text)
{
	if (reason) {
		m2m_warn("REFRESH: the card's files could not be read again (%s: %s)", m2me_reason_name(reason), text);
		respond(dev, M2M_CAT_RESULT_UNABLE_NOW);
		return;
	}
	keep(dev, info);
	respond(dev, M2M_CAT_RESULT_OK);
}

/* After a reset (REFRESH 04, or settling a broken-off session): a new session may be open. */
static void on_reset(m2me_device *dev, const m2me_card_info *info, m2m_reason reason, const char *text)
{
	m2me_ota_run *o = &dev->proc.ota;
	if (reason) {
		m2me_ota_interrupted(dev, "the card could not be read after its reset (%s: %s)", m2me_reason_name(reason),
				     text);
		return;
	}
	keep(dev, info);
	o->pending = dev->proc.read.proactive;
	if (!o->pending)
		settle(dev);
	else if (enter(dev, M2ME_OTA_FETCHING))
		m2me_ota_interrupted(dev, "the next proactive command could not be stored");
	else
		fetch(dev);
}

static const char *refresh_name(uint8_t qualifier)
{
	static const char *const names[] = {"NAA initialisation and full file change notification",
					    "file change notification", "NAA initialisation and file change notification",
					    "NAA initialisation", "UICC reset"};
	return names[qualifier];
}

static void perform(m2me_device *dev)
{
	const m2m_cat_command *c = &dev->proc.ota.command;
	if (c->type != M2M_CAT_CMD_REFRESH || c->qualifier > M2M_CAT_REFRESH_UICC_RESET) {
		m2m_info("proactive command %02X qualifier %02X: beyond this terminal's capabilities", c->type,
			 c->qualifier);
		respond(dev, M2M_CAT_RESULT_BEYOND_CAPABILITIES);
		return;
	}
	if (enter(dev, M2ME_OTA_READING)) {
		m2me_ota_interrupted(dev, "the REFRESH could not be stored");
		return;
	}
	m2m_info("REFRESH (%s) from %s", refresh_name(c->qualifier), dev->state.card);
	if (c->qualifier == M2M_CAT_REFRESH_UICC_RESET) {
		dev->proc.ota.reset_due = 0;  /* this is the reset */
		m2me_card_read_start(dev, on_reset);
	} else {
		m2me_card_read_files(dev, on_reread);
	}
}

static void on_fetched(m2me_device *dev, const m2me_rapdu *r, m2m_reason reason, const char *text)
{
	if (!r) {
		m2me_ota_interrupted(dev, "FETCH: %s", text);
		return;
	}
	if (r->sw != M2ME_SW_OK || m2m_cat_command_parse(r->data, r->len, &dev->proc.ota.command)) {
		m2m_warn("%s answered FETCH with SW %04X and %s: the proactive session ends", dev->state.card, r->sw,
			 r->sw == M2ME_SW_OK ? "no proactive command" : "no data");
		settle(dev);
		return;
	}
	perform(dev);
}

static void fetch(m2me_device *dev)
{
	m2me_ota_run *o = &dev->proc.ota;
	if (++o->commands > MAX_COMMANDS) {
		m2m_warn("%s announced more than %d proactive commands in one session: no more are fetched",
			 dev->state.card, MAX_COMMANDS);
		settle(dev);
		return;
	}
	uint8_t apdu[M2ME_APDU_MAX];
	if (m2me_card_transmit(dev, apdu, m2me_apdu_fetch(o->pending, apdu), on_fetched))
		m2me_ota_interrupted(dev, "%s cannot be called", dev->state.card);
}

/* ---- starting --------------------------------------------------------------------------------------- */

int m2me_refresh_begin(m2me_device *dev, uint8_t pending)
{
	m2me_ota_run *o = &dev->proc.ota;
	o->pending = pending;
	o->commands = 0;
	return enter(dev, M2ME_OTA_FETCHING);
}

void m2me_refresh_fetch(m2me_device *dev)
{
	dev->proc.active = 1;
	dev->proc.kind = M2ME_PROC_REFRESH;
	dev->proc.req = NULL;
	m2m_info("%s has a proactive command of %u bytes: FETCH", dev->state.card, dev->proc.ota.pending);
	fetch(dev);
}

void m2me_refresh_follow(m2me_device *dev, const char *network, const char *apn, uint8_t pending,
			 m2me_done_fn then)
{
	m2me_ota_run *o = &dev->proc.ota;
	const m2me_state *st = &dev->state;
	*o = (m2me_ota_run){.pending = pending, .attach_due = 1, .reset_due = !!pending, .then = then};
	snprintf(o->network, sizeof o->network, "%s", network);
	snprintf(o->apn, sizeof o->apn, "%s", apn);
	snprintf(o->from_imsi, sizeof o->from_imsi, "%s", st->attached ? st->session.imsi : "");
	if (enter(dev, pending ? M2ME_OTA_FETCHING : M2ME_OTA_READING)) {
		m2me_ota_interrupted(dev, "the card's switch could not be stored");
		return;
	}
	if (pending) {
		m2m_info("%s has a proactive command of %u bytes: FETCH", st->card, pending);
		fetch(dev);
	} else {
		m2m_info("no REFRESH pending on %s: reset and read it", st->card);
		m2me_card_read_start(dev, on_reset);
	}
}

void m2me_refresh_start(m2me_device *dev, uint8_t pending)
{
	dev->proc = (m2me_procedure){.active = 1, .kind = M2ME_PROC_REFRESH};
	if (m2me_refresh_begin(dev, pending)) {
		m2me_ota_interrupted(dev, "the proactive session could not be stored");
		return;
	}
	m2me_refresh_fetch(dev);
}

/* ---- settling what a restart or a silent card interrupted ------------------------------------------- */

static int imsi_mismatch(const m2me_state *st)
{
	return st->attached && !st->session.via_tre && st->card_read && strcmp(st->session.imsi, st->info.imsi);
}

int m2me_ota_check(m2me_device *dev)
{
	m2me_ota_run o;
	int found = m2me_store_load_ota(dev, &o);
	if (found < 0)
		return -1;
	if (found)
		m2m_info("an OTA on the card was interrupted (%s): the card will be reset and read again",
			 m2me_ota_phases[o.phase]);
	else if (imsi_mismatch(&dev->state))
		m2m_info("the session is IMSI %s's, the card presented IMSI %s: the card will be read again",
			 dev->state.session.imsi, dev->state.info.imsi);
	dev->ota_recover = found || imsi_mismatch(&dev->state);
	dev->ota_retry_at = 0;
	return 0;
}

/* Gives up on an OTA the device cannot settle: the row goes, the next power-on reads the card. */
static void give_up(m2me_device *dev, const char *why)
{
	m2m_error("the interrupted OTA on the card is not settled: %s", why);
	if (m2me_store_forget_ota(dev))
		m2m_error("the OTA's row could not be removed");
	dev->ota_recover = 0;
	dev->ota_attempts = 0;
}

void m2me_ota_tick(m2me_device *dev)
{
	if (!dev->ota_recover || dev->proc.active || time(NULL) < dev->ota_retry_at)
		return;
	const m2me_state *st = &dev->state;
	m2me_ota_run stored;
	int found = m2me_store_load_ota(dev, &stored);
	if (found < 0 || !st->powered || !st->card[0] || ++dev->ota_attempts > RECOVER_ATTEMPTS) {
		give_up(dev, found < 0 ? "its row cannot be read" : dev->ota_attempts > RECOVER_ATTEMPTS
				 ? "the card could not be read" : "the device is off or its slot empty");
		return;
	}
	dev->proc = (m2me_procedure){.active = 1, .kind = M2ME_PROC_REFRESH};
	m2me_ota_run *o = &dev->proc.ota;
	if (found) {
		*o = stored;
		o->attach_due = stored.phase == M2ME_OTA_REATTACHING;
	} else if (enter(dev, M2ME_OTA_READING)) {
		m2me_ota_interrupted(dev, "the reading could not be stored");
		return;
	}
	m2m_info("settling the interrupted OTA (%s, attempt %d): reset and read %s", m2me_ota_phases[o->phase],
		 dev->ota_attempts, st->card);
	m2me_card_read_start(dev, on_reset);
}
