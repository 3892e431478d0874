/*
 * The testbed's hands on a device: deviceControl to an m2me, answered by deviceStatus or by the
 * error the network (or the card) gave. Scenarios build their steps from these, so that every
 * step says what it sent and checks the answer the same way.
 */
#include "testbed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const action_names[] = {"status", "powerOn", "powerOff", "insertCard", "removeCard",
					   "setImei", "attach", "detach", "sendData", "provision"};

static M2M_DEVICE_CONTROL *control_body(const tb_control *c)
{
	M2M_DEVICE_CONTROL *b = M2M_DEVICE_CONTROL_new();
	ASN1_ENUMERATED_set(b->action, c->action);
	if (c->card) {
		b->card = ASN1_UTF8STRING_new();
		m2m_set_str(b->card, c->card);
	}
	if (c->imei)
		m2m_set_digits(&b->imei, c->imei);
	if (c->network) {
		b->network = ASN1_UTF8STRING_new();
		m2m_set_str(b->network, c->network);
	}
	if (c->apn) {
		b->apn = ASN1_UTF8STRING_new();
		m2m_set_str(b->apn, c->apn);
	}
	if (c->data) {
		b->data = ASN1_OCTET_STRING_new();
		ASN1_OCTET_STRING_set(b->data, c->data, (int)c->len);
	}
	return b;
}

static void read_status(const M2M_DEVICE_STATUS *b, tb_device_status *st)
{
	memset(st, 0, sizeof *st);
	st->powered = b->powered != 0;
	m2m_digits(b->imei, st->imei, sizeof st->imei, 14, 16);
	if (b->card)
		m2m_str(b->card, st->card, sizeof st->card);
	if (b->iccid)
		m2m_digits(b->iccid, st->iccid, sizeof st->iccid, 18, 20);
	if (b->imsi)
		m2m_digits(b->imsi, st->imsi, sizeof st->imsi, 6, 15);
	if (b->attached_to)
		m2m_str(b->attached_to, st->attached_to, sizeof st->attached_to);
	if (b->echo && (size_t)b->echo->length <= sizeof st->echo) {
		st->echo_len = (size_t)b->echo->length;
		memcpy(st->echo, b->echo->data, st->echo_len);
	}
}

m2m_reason tb_device(tb_session *s, const char *device, const tb_control *c, tb_device_status *st, char *why,
		     size_t len)
{
	M2M_DEVICE_CONTROL *body = control_body(c);
	tb_reply r;
	tb_call(s->node, device, M2M_MSG_DEVICE_CONTROL, body, &r);
	M2M_DEVICE_CONTROL_free(body);
	tb_reply_problem(&r, M2M_MSG_DEVICE_STATUS, why, len);
	m2m_reason rc = M2M_OK;
	if (why[0])
		rc = r.reason != M2M_OK ? r.reason : M2M_R_UNEXPECTED_MESSAGE;
	else if (st)
		read_status(r.body, st);
	tb_reply_clear(&r);
	return rc;
}

/* "deviceStatus{powered, card uicc-1, IMSI ..., attached to mno-v}" for step reports. */
static void describe(const tb_device_status *st, char *out, size_t len)
{
	snprintf(out, len, "%s%s%s%s%s%s%s", st->powered ? "powered" : "off", st->card[0] ? ", card " : ", no card",
		 st->card, st->imsi[0] ? ", IMSI " : "", st->imsi, st->attached_to[0] ? ", attached to " : "",
		 st->attached_to);
}

static void announce(tb_session *s, const char *device, const tb_control *c, const char *fmt, va_list ap)
{
	char text[512];
	vsnprintf(text, sizeof text, fmt, ap);
	tb_step(s, "%s: deviceControl %s to %s", text, action_names[c->action], device);
}

int tb_device_ok(tb_session *s, const char *device, const tb_control *c, tb_device_status *st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	announce(s, device, c, fmt, ap);
	va_end(ap);
	char why[300], seen[200];
	tb_device_status mine;
	if (!st)
		st = &mine;
	if (tb_device(s, device, c, st, why, sizeof why))
		return tb_step_fail(s, "%s answered %s, expected deviceStatus", device, why);
	describe(st, seen, sizeof seen);
	printf("(%s) ", seen);
	return tb_step_ok(s);
}

int tb_device_refused(tb_session *s, const char *device, const tb_control *c, m2m_reason want, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	announce(s, device, c, fmt, ap);
	va_end(ap);
	char why[300];
	tb_device_status st;
	m2m_reason got = tb_device(s, device, c, &st, why, sizeof why);
	const char *want_name = m2m_reason_name(want);
	if (got == M2M_OK)
		return tb_step_fail(s, "%s was not refused: it answered deviceStatus (attached to %s); expected %s", device,
				    st.attached_to[0] ? st.attached_to : "nothing", want_name);
	if (got != want)
		return tb_step_fail(s, "%s answered %s; expected the refusal %s", device, why, want_name);
	printf("(refused: %s, as expected) ", want_name);
	return tb_step_ok(s);
}

int tb_device_power_on(tb_session *s, const char *device, const char *card)
{
	tb_control c = {.action = M2M_DEV_POWER_ON};
	tb_device_status st;
	const char *imsi = tb_card_imsi(s, card);
	if (tb_device_ok(s, device, &c, &st, "%s powers on and reads %s (IMSI %s)", device, card, imsi))
		return -1;
	if (strcmp(st.card, card) || strcmp(st.imsi, imsi))
		return tb_step_fail(s, "%s reads card %s IMSI %s, expected %s IMSI %s", device, st.card,
				    st.imsi[0] ? st.imsi : "(none)", card, imsi);
	return 0;
}

int tb_device_attach(tb_session *s, const char *device, const char *network)
{
	tb_control c = {.action = M2M_DEV_ATTACH, .network = network};
	tb_device_status st;
	if (tb_device_ok(s, device, &c, &st, "%s attaches through %s", device, network))
		return -1;
	if (strcmp(st.attached_to, network))
		return tb_step_fail(s, "%s says it is attached to %s, expected %s", device,
				    st.attached_to[0] ? st.attached_to : "nothing", network);
	return 0;
}

int tb_device_send(tb_session *s, const char *device, const char *text)
{
	tb_control c = {.action = M2M_DEV_SEND_DATA, .data = (const uint8_t *)text, .len = strlen(text)};
	tb_device_status st;
	if (tb_device_ok(s, device, &c, &st, "%s sends \"%s\" protected under the session key", device, text))
		return -1;
	if (st.echo_len != c.len || memcmp(st.echo, text, c.len))
		return tb_step_fail(s, "the echo (%zu bytes: \"%.*s\") is not what %s sent", st.echo_len, (int)st.echo_len,
				    (const char *)st.echo, device);
	printf("  the echo, decrypted by %s, equals what it sent\n", device);
	return 0;
}

/* ---- the known state ------------------------------------------------------------------------ */

/* An action whose "already so" refusal is as good as success (powerOff of a device that is
 * off, removeCard of an empty slot). */
static int settle(tb_session *s, const char *device, const tb_control *c, m2m_reason also_fine, char *why, size_t len)
{
	m2m_reason r = tb_device(s, device, c, NULL, why, len);
	return r == M2M_OK || (also_fine != M2M_OK && r == also_fine) ? 0 : -1;
}

static const char *card_for(const tb_fit *fits, int n, const char *device)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(fits[i].device, device))
			return fits[i].card;
	return NULL;
}

/* Off, every card out, its configured IMEI: nothing any earlier scenario did is left. */
static int reset_device(tb_session *s, const tb_entity *e, char *why, size_t len)
{
	const char *imei = tb_entity_setting(e, "imei", NULL);
	tb_control off = {.action = M2M_DEV_POWER_OFF}, out = {.action = M2M_DEV_REMOVE_CARD},
		   set = {.action = M2M_DEV_SET_IMEI, .imei = imei};
	if (settle(s, e->id, &off, M2M_R_WRONG_STATE, why, len))
		return -1;
	if (settle(s, e->id, &out, M2M_R_NO_CARD, why, len))
		return -1;
	return imei ? settle(s, e->id, &set, M2M_OK, why, len) : 0;
}

static int resume_subscribers(tb_session *s, char *why, size_t len)
{
	const tb_topology *t = s->topology;
	for (int i = 0; i < t->ncards; i++) {
		const tb_card *k = &t->cards[i];
		if (k->clone_of >= 0)
			continue;
		const char *args[] = {"resume", k->imsi, NULL};
		tb_buf out = {0}, err = {0};
		int rc = tb_admin(s->rundir, t->entities[k->home].id, args, &out, &err);
		/* resuming an active subscriber is refused by some versions of the tool: harmless */
		int fine = rc == 0 || (rc == 1 && err.data && strstr(err.data, "not suspended"));
		if (!fine)
			snprintf(why, len, "mno-admin resume %s at %s: status %d: %s", k->imsi, t->entities[k->home].id, rc,
				 err.data ? err.data : "");
		tb_buf_free(&out);
		tb_buf_free(&err);
		if (!fine)
			return -1;
	}
	return 0;
}

int tb_known_state(tb_session *s, const tb_fit *fits, int nfits)
{
	const tb_topology *t = s->topology;
	char why[600] = "", plan[400] = "";
	for (int i = 0; i < nfits; i++)
		snprintf(plan + strlen(plan), sizeof plan - strlen(plan), "%s%s holds %s", i ? ", " : "", fits[i].device,
			 fits[i].card ? fits[i].card : "no card");
	tb_step(s, "known state: every device off with its own IMEI, %s, every subscriber active", plan);
	for (int i = 0; i < t->nentities; i++)
		if (!strcmp(t->entities[i].role, "m2me") && reset_device(s, &t->entities[i], why, sizeof why))
			return tb_step_fail(s, "%s: %s", t->entities[i].id, why);
	for (int i = 0; i < t->nentities; i++) {
		const char *card = card_for(fits, nfits, t->entities[i].id);
		tb_control in = {.action = M2M_DEV_INSERT_CARD, .card = card};
		if (card && settle(s, t->entities[i].id, &in, M2M_OK, why, sizeof why))
			return tb_step_fail(s, "%s cannot take %s: %s", t->entities[i].id, card, why);
	}
	if (resume_subscribers(s, why, sizeof why))
		return tb_step_fail(s, "%s", why);
	return tb_step_ok(s);
}
