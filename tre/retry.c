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
