/*
 * deviceControl: the testbed's hands on the device. Each action is checked against the
 * fields it may carry and the device's state, then run as its own procedure; an action that
 * has to talk to the card or the network is deferred and answered when its procedure ends,
 * with deviceStatus or with the reason the card or the network gave.
 */
#include "device.h"

#include "crypto/crypto.h"
#include "log/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum { F_CARD = 1, F_IMEI = 2, F_NETWORK = 4, F_APN = 8, F_DATA = 16 };

static const struct action_def {
	const char *name;  /* the ASN.1 identifier */
	int fields;        /* the optional fields the action may carry */
	int required;      /* ... and those it must */
} actions[] = {
	[M2M_DEV_STATUS] = {"status", 0, 0},
	[M2M_DEV_POWER_ON] = {"powerOn", 0, 0},
	[M2M_DEV_POWER_OFF] = {"powerOff", 0, 0},
	[M2M_DEV_INSERT_CARD] = {"insertCard", F_CARD, F_CARD},
	[M2M_DEV_REMOVE_CARD] = {"removeCard", 0, 0},
	[M2M_DEV_SET_IMEI] = {"setImei", F_IMEI, F_IMEI},
	[M2M_DEV_ATTACH] = {"attach", F_NETWORK | F_APN, 0},
	[M2M_DEV_DETACH] = {"detach", 0, 0},
	[M2M_DEV_SEND_DATA] = {"sendData", F_DATA, F_DATA},
	[M2M_DEV_PROVISION] = {"provision", F_NETWORK | F_APN, 0},
};
#define NACTIONS ((long)(sizeof actions / sizeof actions[0]))

/* ---- deviceStatus -------------------------------------------------------------------------- */

static ASN1_UTF8STRING *utf8(const char *text)
{
	ASN1_UTF8STRING *s = ASN1_UTF8STRING_new();
	m2m_set_str(s, text);
	return s;
}

static M2M_DEVICE_STATUS *status_body(const m2me_device *dev)
{
	const m2me_state *st = &dev->state;
	M2M_DEVICE_STATUS *s = M2M_DEVICE_STATUS_new();
	s->powered = st->powered ? 0xff : 0;
	m2m_set_digits(&s->imei, st->imei);
	if (st->card[0])
		s->card = utf8(st->card);
	if (st->card_read)
		m2m_set_digits(&s->iccid, st->info.iccid);
	/* the credential in use: the session's (the card's, or what the TRE named), else the card's */
	if (st->attached)
		m2m_set_digits(&s->imsi, st->session.imsi);
	else if (st->card_read)
		m2m_set_digits(&s->imsi, st->info.imsi);
	if (st->attached)
		s->attached_to = utf8(st->session.network);
	if (dev->proc.active && dev->proc.has_echo) {
		s->echo = ASN1_OCTET_STRING_new();
		ASN1_OCTET_STRING_set(s->echo, dev->proc.data, (int)dev->proc.data_len);
	}
	return s;
}

static void reply_status(m2me_device *dev, m2m_request *req)
{
	M2M_DEVICE_STATUS *s = status_body(dev);
	m2m_reply(dev->node, req, M2M_MSG_DEVICE_STATUS, s);
	M2M_DEVICE_STATUS_free(s);
}

void m2me_control_finish(m2me_device *dev, m2m_reason reason, const char *text)
{
	m2me_procedure *p = &dev->proc;
	if (!p->active || (p->kind != M2ME_PROC_CONTROL && p->kind != M2ME_PROC_UNATTENDED))
		return;
	if (p->action == M2M_DEV_PROVISION)  /* also a deviceControl's that took the trigger's over */
		m2me_provision_unattended_end(dev, reason, text);
	if (p->kind == M2ME_PROC_UNATTENDED) {
		/* nobody to answer: its end is logged */
	} else if (reason == M2M_OK) {
		m2m_info("%s done", actions[p->action].name);
		reply_status(dev, p->req);
	} else {
		text = text ? text : "";
		m2m_warn("%s refused: %s: %s", actions[p->action].name, m2me_reason_name(reason), text);
		m2m_refuse(dev->node, p->req, reason, "%s", text);
	}
	m2m_wipe(p, sizeof *p);
}

static void vfail(m2me_device *dev, m2me_done_fn done, m2m_reason reason, const char *fmt, va_list ap)
{
	char text[256];
	vsnprintf(text, sizeof text, fmt, ap);
	done(dev, reason, text);
}

void m2me_fail(m2me_device *dev, m2me_done_fn done, m2m_reason reason, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(dev, done, reason, fmt, ap);
	va_end(ap);
}

void m2me_control_fail(m2me_device *dev, m2m_reason reason, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(dev, m2me_control_finish, reason, fmt, ap);
	va_end(ap);
}

const char *m2me_reason_name(m2m_reason r)
{
	const char *name = m2m_reason_name(r);
	return name ? name : "unknown";
}

const char *m2me_procedure_name(const m2me_procedure *p)
{
	switch (p->kind) {
	case M2ME_PROC_SMS:
		return "an SMS-PP download to the card";
	case M2ME_PROC_REFRESH:
		return "the card's proactive session (REFRESH)";
	case M2ME_PROC_TRIGGER:
		return "a treTrigger held by the TRE";
	case M2ME_PROC_UNATTENDED:
		return "the provisioning the TRE's trigger started";
	case M2ME_PROC_CONTROL:
		break;
	}
	return actions[p->action].name;
}

/* ---- the actions that need neither card nor network --------------------------------------- */

static void set_imei(m2me_device *dev, const char *imei)
{
	/* an IMEI belongs to the equipment: it cannot change under an open session */
	if (dev->state.attached) {
		m2me_control_finish(dev, M2M_R_WRONG_STATE, "attached: detach before changing the IMEI");
		return;
	}
	m2me_state next = dev->state;
	snprintf(next.imei, sizeof next.imei, "%s", imei);
	if (m2me_store_save_device(dev, &next)) {
		m2me_control_finish(dev, M2M_R_INTERNAL, "the IMEI could not be stored");
		return;
	}
	dev->state = next;
	m2m_info("IMEI set to %s", imei);
	m2me_control_finish(dev, M2M_OK, NULL);
}

/* ---- reading and checking the request ----------------------------------------------------- */

static int present(const M2M_DEVICE_CONTROL *c)
{
	return (c->card ? F_CARD : 0) | (c->imei ? F_IMEI : 0) | (c->network ? F_NETWORK : 0) |
	       (c->apn ? F_APN : 0) | (c->data ? F_DATA : 0);
}

/* The request's fields, checked: 0, or -1 with the refusal's text. */
typedef struct control_args {
	char card[M2M_ENTITY_MAX + 1];
	char imei[M2ME_IMEI_LEN + 1];
	char network[M2M_ENTITY_MAX + 1];
	char apn[M2ME_APN_MAX + 1];
	const uint8_t *data;
	size_t data_len;
} control_args;

static int read_args(const m2me_device *dev, const M2M_DEVICE_CONTROL *c, control_args *a, char *why,
		     size_t len)
{
	snprintf(a->network, sizeof a->network, "%s", dev->settings.network);
	snprintf(a->apn, sizeof a->apn, "%s", dev->settings.apn);
	if (c->card && (m2m_str(c->card, a->card, sizeof a->card) || !a->card[0]))
		return snprintf(why, len, "card is not an entity id"), -1;
	if (c->imei && (m2m_digits(c->imei, a->imei, sizeof a->imei, M2ME_IMEI_LEN, M2ME_IMEI_LEN) ||
			!m2me_imei_valid(a->imei)))
		return snprintf(why, len, "imei is not 15 digits with a valid check digit"), -1;
	if (c->network && (m2m_str(c->network, a->network, sizeof a->network) || !a->network[0]))
		return snprintf(why, len, "network is not an entity id"), -1;
	if (c->apn && (m2m_str(c->apn, a->apn, sizeof a->apn) || !a->apn[0]))
		return snprintf(why, len, "apn is not 1..%d characters", M2ME_APN_MAX), -1;
	if (c->data) {
		int n = ASN1_STRING_length(c->data);
		if (n < 1 || n > M2ME_DATA_MAX)
			return snprintf(why, len, "data is not 1..%d bytes", M2ME_DATA_MAX), -1;
		a->data = ASN1_STRING_get0_data(c->data);
		a->data_len = (size_t)n;
	}
	return 0;
}

/* Refuses a request that does not name a valid action with exactly its fields. */
static int check_request(m2m_node *n, m2m_request *req, const M2M_DEVICE_CONTROL *c, long action)
{
	if (action < 0 || action >= NACTIONS) {
		m2m_refuse(n, req, M2M_R_BAD_BODY, "unknown action %ld", action);
		return -1;
	}
	const struct action_def *def = &actions[action];
	int fields = present(c);
	if (fields & ~def->fields) {
		m2m_refuse(n, req, M2M_R_BAD_BODY, "%s carries a field it does not use", def->name);
		return -1;
	}
	if ((fields & def->required) != def->required) {
		m2m_refuse(n, req, M2M_R_BAD_BODY, "%s is missing its %s", def->name,
			   def->required == F_CARD ? "card" : def->required == F_IMEI ? "imei" : "data");
		return -1;
	}
	return 0;
}

static void run(m2me_device *dev, const control_args *a)
{
	switch (dev->proc.action) {
	case M2M_DEV_STATUS:
		m2me_control_finish(dev, M2M_OK, NULL);
		break;
	case M2M_DEV_POWER_ON:
		m2me_power_on(dev);
		break;
	case M2M_DEV_POWER_OFF:
		m2me_power_off(dev);
		break;
	case M2M_DEV_INSERT_CARD:
		m2me_insert_card(dev, a->card);
		break;
	case M2M_DEV_REMOVE_CARD:
		m2me_remove_card(dev);
		break;
	case M2M_DEV_SET_IMEI:
		set_imei(dev, a->imei);
		break;
	case M2M_DEV_ATTACH:
		m2me_attach(dev, a->network, a->apn, m2me_control_finish);
		break;
	case M2M_DEV_DETACH:
		m2me_detach(dev, m2me_control_finish);
		break;
	case M2M_DEV_SEND_DATA:
		m2me_send_data(dev, a->data, a->data_len);
		break;
	case M2M_DEV_PROVISION:
		m2me_provision(dev, a->network, a->apn);
		break;
	}
}

void m2me_control(m2me_device *dev, m2m_request *req)
{
	const M2M_DEVICE_CONTROL *c = req->env.body;
	long action = ASN1_ENUMERATED_get(c->action);
	if (check_request(dev->node, req, c, action))
		return;
	control_args a = {0};
	char why[200];
	if (read_args(dev, c, &a, why, sizeof why)) {
		m2m_refuse(dev->node, req, M2M_R_BAD_BODY, "%s", why);
		return;
	}
	if (action == M2M_DEV_STATUS && dev->proc.active) {
		reply_status(dev, req);  /* looking at the device does not wait for what it is doing */
		return;
	}
	if (dev->proc.active) {
		m2m_refuse(dev->node, req, M2M_R_WRONG_STATE, "busy: %s in progress", m2me_procedure_name(&dev->proc));
		return;
	}
	m2m_info("%s requested by %s", actions[action].name, req->env.sender);
	dev->proc = (m2me_procedure){.active = 1, .req = req, .action = (m2m_device_action)action};
	run(dev, &a);
	/* still active: the procedure waits for the card or the network */
	if (dev->proc.active && dev->proc.req == req)
		m2m_defer(dev->node, req);
}
