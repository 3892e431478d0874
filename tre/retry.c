/*
 * The TRE's background work, repeated until it succeeds: enrolment, fetching the platform type,
 * delivering tamper reports; and the deadline of a change of subscription's switch (switch.c).
 * tre_tick runs from the daemon frame's tick (about once a second and after every event), and
 * after each reply or timeout of the TRE's own calls. A call that timed out has waited already
 * and is repeated at once, which makes an unreachable peer asked again every transport timeout;
 * a peer that refused is asked again no sooner than TRE_RETRY_SECONDS later, at the next event,
 * so that a refusal cannot make a loop.
 */
#include "tre.h"

#include <stdio.h>
#include <time.h>

time_t tre_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

int tre_retry_due(const tre_retry *r)
{
	return r->due <= tre_now();
}

void tre_retry_later(tre_retry *r, int waited)
{
	r->in_flight = 0;
	r->due = waited ? 0 : tre_now() + TRE_RETRY_SECONDS;
}

const char *tre_call_failure(const char *peer, const m2m_envelope *resp, m2m_reason reason, char *buf, size_t len)
{
	if (!resp) {
		const char *name = m2m_reason_name(reason);
		snprintf(buf, len, "no answer from %s (%s)", peer, name ? name : "?");
	} else if (resp->type == M2M_MSG_ERROR) {
		const M2M_ERROR_REPORT *er = resp->body;
		char text[256];
		const char *why = m2m_reason_name((m2m_reason)ASN1_ENUMERATED_get(er->reason));
		if (m2m_str(er->text, text, sizeof text))
			snprintf(text, sizeof text, "(unprintable)");
		snprintf(buf, len, "%s refused: %s: %s", peer, why ? why : "?", text);
	} else {
		snprintf(buf, len, "%s answered with an unexpected %s", peer, m2m_msgtype_name(resp->type));
	}
	return buf;
}

void tre_tick(tre *t)
{
	tre_switch_expire(t);  /* local: a switch past its deadline returns to the old MCIM */
	if (!t->node)
		return;
	tre_pcid_poll(t);
	tre_enrol_resume(t);
	tre_platform_resume(t);
	tre_tamper_send_due(t);
}
