/*
 * sendData: user data over the session an attach opened (lib/aka/session.h). The device seals
 * the data uplink under the next counter, the visited network answers with the same data
 * sealed downlink under the same counter, and the device opens and compares it: an echo that
 * opens proves both ends derived the same key from the card's CK and IK (requirement R12).
 */
#include "device.h"

#include "crypto/crypto.h"
#include "log/log.h"

#include <string.h>

/* 0 when the echo is the data sent; -1 when it names another session, counter or length or
 * holds other data; -2 when it does not open under the session key. */
static int echo_matches(m2me_device *dev, const M2M_PROTECTED_DATA *e, char *why, size_t len)
{
	const m2me_session *s = &dev->state.session;
	m2me_procedure *p = &dev->proc;
	int sealed_len = ASN1_STRING_length(e->sealed);
	if (ASN1_STRING_length(e->session_id) != M2M_SESSION_ID_LEN ||
	    memcmp(ASN1_STRING_get0_data(e->session_id), s->id, M2M_SESSION_ID_LEN) || e->counter != p->counter)
		return snprintf(why, len, "%s echoed another session or counter", s->network), -1;
	if (sealed_len != (int)(p->data_len + M2M_SESSION_TAG_LEN))
		return snprintf(why, len, "%s echoed %d bytes for %zu sent", s->network,
				sealed_len - M2M_SESSION_TAG_LEN, p->data_len), -1;
	uint8_t plain[M2ME_DATA_MAX];
	if (m2m_session_open(s->key, s->id, M2M_DOWNLINK, p->counter, ASN1_STRING_get0_data(e->sealed),
			     (size_t)sealed_len, plain))
		return snprintf(why, len, "the echo from %s does not open under the session key", s->network), -2;
	int same = !memcmp(plain, p->data, p->data_len);
	m2m_wipe(plain, sizeof plain);
	if (!same)
		return snprintf(why, len, "%s echoed other data than was sent", s->network), -1;
	return 0;
}

static void on_echo(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
	m2me_device *dev = arg;
	char why[256];
	if (!resp || resp->type != M2M_MSG_PROTECTED_DATA_ECHO) {
		m2m_reason r = m2m_call_reason(resp, reason);
		m2m_call_failure(dev->state.session.network, resp, reason, why, sizeof why);
		if (r == M2M_R_NOT_ATTACHED)  /* cancelled, e.g. after a clone was seen */
			m2me_forget_session(dev);
		m2me_control_finish(dev, r, why);
		return;
	}
	int bad = echo_matches(dev, resp->body, why, sizeof why);
	if (bad) {
		m2me_control_finish(dev, bad == -2 ? M2M_R_BAD_SIGNATURE : M2M_R_UNEXPECTED_MESSAGE, why);
		return;
	}
	m2m_info("sendData: %zu bytes under counter %llu echoed by %s", dev->proc.data_len,
		 (unsigned long long)dev->proc.counter, dev->state.session.network);
	dev->proc.has_echo = 1;  /* the data in the procedure is what came back */
	m2me_control_finish(dev, M2M_OK, NULL);
}

/* M2M_OK, or why the data could not leave. */
static m2m_reason send_protected(m2me_device *dev)
{
	const m2me_session *s = &dev->state.session;
	m2me_procedure *p = &dev->proc;
	uint8_t sealed[M2ME_DATA_MAX + M2M_SESSION_TAG_LEN];
	if (m2m_session_seal(s->key, s->id, M2M_UPLINK, p->counter, p->data, p->data_len, sealed))
		return M2M_R_INTERNAL;
	M2M_PROTECTED_DATA *d = M2M_PROTECTED_DATA_new();
	ASN1_OCTET_STRING_set(d->session_id, s->id, M2M_SESSION_ID_LEN);
	d->counter = p->counter;
	ASN1_OCTET_STRING_set(d->sealed, sealed, (int)(p->data_len + M2M_SESSION_TAG_LEN));
	int rc = m2m_call(dev->node, s->network, M2M_MSG_PROTECTED_DATA, d, on_echo, dev);
	M2M_PROTECTED_DATA_free(d);
	return rc ? M2M_R_UNKNOWN_PEER : M2M_OK;
}

void m2me_send_data(m2me_device *dev, const uint8_t *data, size_t len)
{
	m2me_session *s = &dev->state.session;
	m2me_procedure *p = &dev->proc;
	if (!dev->state.attached) {
		m2me_control_fail(dev, M2M_R_NOT_ATTACHED, "not attached: attach first");
		return;
	}
	if (s->uplink >= M2ME_COUNTER_MAX) {
		m2me_control_fail(dev, M2M_R_WRONG_STATE, "the uplink counter is exhausted: detach and attach again");
		return;
	}
	p->counter = s->uplink + 1;
	memcpy(p->data, data, len);
	p->data_len = len;
	m2m_reason r = send_protected(dev);
	/* the counter is stored in the step that sends it: it is never used twice, even across a crash */
	if (r == M2M_OK && m2me_store_save_uplink(dev, p->counter))
		r = M2M_R_INTERNAL;
	if (r) {
		m2me_control_fail(dev, r, "the data could not be sent to %s", s->network);
		return;
	}
	s->uplink = p->counter;
}
