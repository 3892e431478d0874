/*
 * Power and the card slot. At power-on the device resets its card and reads what it needs to
 * attach: the card number from the MF (EF_ICCID, TS 102 221 §13.2), then the IMSI and the MNC
 * length from ADF.USIM (EF_IMSI, EF_AD, TS 31.102 §4.2.2 and §4.2.18), and tells the card what
 * it supports (TERMINAL PROFILE, the profile download of TS 102 223 §5.2: SMS-PP data download
 * and REFRESH), so that the card may use proactive commands. A card can only be inserted or
 * removed while the device is off, and switching off detaches first.
 */
#include "device.h"

#include "log/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef enum { SELECT_AID, SELECT_FID, READ } command_kind;
enum { FILE_IMSI, FILE_AD, FILE_ICCID, NO_FILE };

/*
 * The power-on reading, one command per step; each READ takes the file selected before it.
 * The card number comes first, from the MF, as in the UICC activation of TS 102 221 §14.5 and
 * TS 31.102 §5.1.1: the USIM application is selected last and stays the current one, which
 * AUTHENTICATE needs.
 */
static const struct command {
	const char *name;
	command_kind kind;
	uint16_t fid;
	int file;
} script[] = {
	{"SELECT MF", SELECT_FID, M2ME_FID_MF, NO_FILE},
	{"SELECT EF_ICCID", SELECT_FID, M2ME_FID_ICCID, NO_FILE},
	{"READ BINARY EF_ICCID", READ, 0, FILE_ICCID},
	{"SELECT ADF.USIM", SELECT_AID, 0, NO_FILE},
	{"SELECT EF_IMSI", SELECT_FID, M2ME_FID_IMSI, NO_FILE},
	{"READ BINARY EF_IMSI", READ, 0, FILE_IMSI},
	{"SELECT EF_AD", SELECT_FID, M2ME_FID_AD, NO_FILE},
	{"READ BINARY EF_AD", READ, 0, FILE_AD},
};
#define NSTEPS ((int)(sizeof script / sizeof script[0]))

static uint8_t *file_buffer(m2me_card_read *rd, int file, size_t *size)
{
	switch (file) {
	case FILE_IMSI:
		*size = sizeof rd->ef_imsi;
		return rd->ef_imsi;
	case FILE_AD:
		*size = sizeof rd->ef_ad;
		return rd->ef_ad;
	case FILE_ICCID:
		*size = sizeof rd->ef_iccid;
		return rd->ef_iccid;
	default:
		*size = 0;
		return NULL;
	}
}

/* ---- reading the card ----------------------------------------------------------------------- */

static void read_failed(m2me_device *dev, m2m_reason reason, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void read_failed(m2me_device *dev, m2m_reason reason, const char *fmt, ...)
{
	char text[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	dev->proc.read.done(dev, NULL, reason, text);
}

static void on_command_answer(m2me_device *dev, const m2me_rapdu *r, m2m_reason reason, const char *text);

static void send_step(m2me_device *dev)
{
	m2me_card_read *rd = &dev->proc.read;
	const struct command *c = &script[rd->step];
	uint8_t apdu[M2ME_APDU_MAX];
	size_t len = c->kind == SELECT_AID ? m2me_apdu_select_aid(m2me_usim_aid, sizeof m2me_usim_aid, apdu)
		     : c->kind == SELECT_FID ? m2me_apdu_select_fid(c->fid, apdu)
					     : m2me_apdu_read_binary(0, rd->le, apdu);
	if (m2me_card_transmit(dev, apdu, len, on_command_answer))
		read_failed(dev, M2M_R_UNKNOWN_PEER, "%s is not a configured peer", dev->state.card);
}

static void start_step(m2me_device *dev, int step)
{
	m2me_card_read *rd = &dev->proc.read;
	size_t size = 0;
	rd->step = step;
	rd->le_retried = 0;
	file_buffer(rd, script[step].file, &size);
	rd->le = (uint8_t)size;  /* a READ asks for the size the specification gives the file */
	send_step(dev);
}

static int decode_files(m2me_card_read *rd, m2me_card_info *info, char *why, size_t len)
{
	memset(info, 0, sizeof *info);
	if (m2m_ef_imsi_decode(rd->ef_imsi, rd->ef_len[FILE_IMSI], info->imsi))
		return snprintf(why, len, "EF_IMSI does not hold an IMSI"), -1;
	info->mnc_length = m2me_ad_mnc_length(rd->ef_ad, rd->ef_len[FILE_AD]);
	if (info->mnc_length < 0)
		return snprintf(why, len, "EF_AD does not give an MNC length of 2 or 3"), -1;
	if (strlen(info->imsi) <= 3 + (size_t)info->mnc_length)
		return snprintf(why, len, "the IMSI is too short for its MCC and MNC"), -1;
	if (m2m_ef_iccid_decode(rd->ef_iccid, rd->ef_len[FILE_ICCID], info->iccid))
		return snprintf(why, len, "EF_ICCID does not hold an ICCID"), -1;
	return 0;
}

/* The card's answer to TERMINAL PROFILE: only a silent card fails the reading. */
static void on_profile(m2me_device *dev, const m2me_rapdu *r, m2m_reason reason, const char *text)
{
	m2me_card_read *rd = &dev->proc.read;
	if (!r) {
		read_failed(dev, reason, "%s", text);
		return;
	}
	if (r->sw >> 8 == M2ME_SW1_PROACTIVE)
		rd->proactive = (uint8_t)r->sw;
	else if (r->sw != M2ME_SW_OK)  /* a card without a toolkit: no SMS-PP download, no REFRESH */
		m2m_warn("%s answered TERMINAL PROFILE with SW %04X: no proactive commands", dev->state.card, r->sw);
	rd->done(dev, &rd->info, M2M_OK, NULL);
}

static void send_profile(m2me_device *dev)
{
	uint8_t apdu[M2ME_APDU_MAX];
	size_t len = m2me_apdu_terminal_profile(m2m_cat_me_profile, m2m_cat_me_profile_len, apdu);
	if (m2me_card_transmit(dev, apdu, len, on_profile))
		read_failed(dev, M2M_R_UNKNOWN_PEER, "%s is not a configured peer", dev->state.card);
}

static void read_complete(m2me_device *dev)
{
	m2me_card_read *rd = &dev->proc.read;
	m2me_card_info *info = &rd->info;
	char why[128];
	if (decode_files(rd, info, why, sizeof why)) {
		read_failed(dev, M2M_R_CARD_ERROR, "%s: %s", dev->state.card, why);
		return;
	}
	m2m_info("card %s: ICCID %s, IMSI %s, MNC length %d", dev->state.card, info->iccid, info->imsi,
		 info->mnc_length);
	if (rd->initialise)
		send_profile(dev);
	else
		rd->done(dev, info, M2M_OK, NULL);
}

/* Keeps what a READ BINARY returned; -1 when the card sent more than was asked. */
static int keep_file(m2me_card_read *rd, const m2me_rapdu *r)
{
	int file = script[rd->step].file;
	size_t size;
	uint8_t *buf = file_buffer(rd, file, &size);
	if (r->len > size || r->len > (rd->le ? rd->le : 256u))
		return -1;
	memcpy(buf, r->data, r->len);
	rd->ef_len[file] = r->len;
	return 0;
}

static void on_command_answer(m2me_device *dev, const m2me_rapdu *r, m2m_reason reason, const char *text)
{
	m2me_card_read *rd = &dev->proc.read;
	const struct command *c = &script[rd->step];
	if (!r) {
		read_failed(dev, reason, "%s", text);
		return;
	}
	/* a file shorter than the specification's size: the card names the length to ask for */
	if (c->kind == READ && r->sw >> 8 == M2ME_SW1_WRONG_LE && !rd->le_retried && (r->sw & 0xFF)) {
		rd->le_retried = 1;
		rd->le = (uint8_t)(r->sw & 0xFF);
		send_step(dev);
		return;
	}
	if (r->sw != M2ME_SW_OK) {
		read_failed(dev, M2M_R_CARD_ERROR, "%s answered %s with SW %04X", dev->state.card, c->name, r->sw);
		return;
	}
	if (c->kind == READ && keep_file(rd, r)) {
		read_failed(dev, M2M_R_CARD_ERROR, "%s answered %s with more data than asked", dev->state.card,
			    c->name);
		return;
	}
	if (rd->step + 1 < NSTEPS)
		start_step(dev, rd->step + 1);
	else
		read_complete(dev);
}

static void on_atr(m2me_device *dev, const m2me_rapdu *r, m2m_reason reason, const char *text)
{
	if (!r) {
		read_failed(dev, reason, "%s", text);
		return;
	}
	start_step(dev, 0);
}

void m2me_card_read_start(m2me_device *dev, m2me_read_fn done)
{
	dev->proc.read = (m2me_card_read){.done = done, .initialise = 1};
	if (m2me_card_reset(dev, on_atr))
		read_failed(dev, M2M_R_UNKNOWN_PEER, "%s is not a configured peer", dev->state.card);
}

void m2me_card_read_files(m2me_device *dev, m2me_read_fn done)
{
	dev->proc.read = (m2me_card_read){.done = done};
	start_step(dev, 0);
}

/* ---- the actions ---------------------------------------------------------------------------- */

/* Stores the next state, then adopts it; ends the procedure either way. */
static void commit(m2me_device *dev, const m2me_state *next)
{
	if (m2me_store_save_device(dev, next)) {
		m2me_control_finish(dev, M2M_R_INTERNAL, "the device state could not be stored");
		return;
	}
	dev->state = *next;
	m2me_control_finish(dev, M2M_OK, NULL);
}

static void on_card_read(m2me_device *dev, const m2me_card_info *info, m2m_reason reason, const char *text)
{
	if (reason) {
		m2me_control_finish(dev, reason, text);  /* the device stays off: nothing changed */
		return;
	}
	uint8_t proactive = dev->proc.read.proactive;
	m2me_state next = dev->state;
	next.powered = 1;
	next.card_read = 1;
	next.info = *info;
	commit(dev, &next);
	/* the card has a command for the terminal already: its session runs once powerOn is answered */
	if (proactive && dev->state.powered)
		m2me_refresh_start(dev, proactive);
}

void m2me_power_on(m2me_device *dev)
{
	if (dev->state.powered) {
		m2me_control_finish(dev, M2M_R_WRONG_STATE, "already powered on");
		return;
	}
	if (dev->state.card[0]) {
		m2me_card_read_start(dev, on_card_read);
		return;
	}
	/* an empty slot does not keep a device from starting; it cannot attach (noCard) */
	m2me_state next = dev->state;
	next.powered = 1;
	commit(dev, &next);
}

static void power_down(m2me_device *dev)
{
	m2me_state next = dev->state;
	next.powered = 0;
	next.card_read = 0;  /* forgotten: the card may be changed while the device is off */
	memset(&next.info, 0, sizeof next.info);
	/* an OTA not settled yet is settled by the next power-on, which reads the card afresh */
	if (m2me_store_forget_ota(dev)) {
		m2me_control_finish(dev, M2M_R_INTERNAL, "the device state could not be stored");
		return;
	}
	dev->ota_recover = 0;
	commit(dev, &next);
}

static void after_detach(m2me_device *dev, m2m_reason reason, const char *text)
{
	/* pulling the power cannot be refused: a failed detach leaves the network to time out */
	if (reason)
		m2m_warn("detach before power-off failed (%s: %s); powering off all the same",
			 m2me_reason_name(reason), text);
	power_down(dev);
}

void m2me_power_off(m2me_device *dev)
{
	if (!dev->state.powered)
		m2me_control_finish(dev, M2M_R_WRONG_STATE, "already powered off");
	else if (dev->state.attached)
		m2me_detach(dev, after_detach);
	else
		power_down(dev);
}

static int is_peer(const m2me_device *dev, const char *id)
{
	const m2m_peer_conf *peer = m2m_node_conf_peer(m2m_node_config(dev->node), id);
	return peer && peer->endpoint[0];
}

void m2me_insert_card(m2me_device *dev, const char *card)
{
	char why[128];
	if (dev->state.powered) {
		m2me_control_finish(dev, M2M_R_WRONG_STATE, "powered on: switch off before changing the card");
	} else if (dev->state.card[0]) {
		snprintf(why, sizeof why, "the slot already holds %s", dev->state.card);
		m2me_control_finish(dev, M2M_R_WRONG_STATE, why);
	} else if (!is_peer(dev, card)) {
		snprintf(why, sizeof why, "%s is not a configured peer with an endpoint", card);
		m2me_control_finish(dev, M2M_R_UNKNOWN_PEER, why);
	} else {
		m2me_state next = dev->state;
		snprintf(next.card, sizeof next.card, "%s", card);
		commit(dev, &next);
	}
}

void m2me_remove_card(m2me_device *dev)
{
	if (dev->state.powered) {
		m2me_control_finish(dev, M2M_R_WRONG_STATE, "powered on: switch off before removing the card");
	} else if (!dev->state.card[0]) {
		m2me_control_finish(dev, M2M_R_NO_CARD, "the slot is empty");
	} else {
		m2me_state next = dev->state;
		next.card[0] = 0;
		commit(dev, &next);
	}
}
