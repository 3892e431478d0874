/*
 * What a scenario expects to find in the trace: the messages of a procedure in the order the
 * standard gives them, or the absence of one (no attachAccept after a replayed challenge). The
 * trace is what the daemons' taps reported, so these checks see the network, not the device's
 * own account of it. A message counts when either of its ends reported it.
 */
#include "testbed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CATCH_UP_MS 2000  /* the recorder writes what the taps publish a moment later */
#define POLL_MS 50

typedef struct seen {
	uint64_t time;
	char from[M2M_ENTITY_MAX + 2], to[M2M_ENTITY_MAX + 2], type[40], summary[600];
} seen;

uint64_t tb_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int parse(const char *line, seen *m)
{
	memset(m, 0, sizeof *m);
	tb_json_str(line, "summary", m->summary, sizeof m->summary);
	return tb_json_u64(line, "time", &m->time) || tb_json_str(line, "from", m->from, sizeof m->from) ||
			       tb_json_str(line, "to", m->to, sizeof m->to) || tb_json_str(line, "type", m->type, sizeof m->type)
		       ? -1
		       : 0;
}

static int matches(const seen *m, const tb_msg *want)
{
	return !strcmp(m->from, want->from) && !strcmp(m->to, want->to) && !strcmp(m->type, want->type) &&
	       (!want->summary || strstr(m->summary, want->summary));
}

/* The earliest time at or after `after` that a message like want was reported; 0 when none. */
static uint64_t first_after(const char *trace, const tb_msg *want, uint64_t after)
{
	uint64_t best = 0;
	char *copy = strdup(trace), *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		seen m;
		if (!parse(line, &m) && m.time >= after && matches(&m, want) && (!best || m.time < best))
			best = m.time;
	}
	free(copy);
	return best;
}

static char *scenario_trace(const tb_session *s)
{
	char path[PATH_MAX];
	if (tb_path(path, sizeof path, s->rundir, "trace", ".jsonl"))
		return NULL;
	return tb_read_file(path, s->trace_from, NULL);
}

/* How many of msgs the trace shows in order from since_us on. */
static int in_order(const char *trace, const tb_msg *msgs, int n, uint64_t since_us)
{
	uint64_t at = since_us;
	for (int i = 0; i < n; i++)
		if (!(at = first_after(trace, &msgs[i], at)))
			return i;
	return n;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

int tb_expect_flow(tb_session *s, const char *what, const tb_msg *msgs, int n, uint64_t since_us)
{
	tb_step(s, "the trace shows %s", what);
	int got = 0;
	for (int waited = 0;; waited += POLL_MS) {
		char *trace = scenario_trace(s);
		got = trace ? in_order(trace, msgs, n, since_us) : 0;
		free(trace);
		if (got == n || waited >= CATCH_UP_MS)
			break;
		sleep_ms(POLL_MS);
	}
	if (got < n)
		return tb_step_fail(s, "no %s %s -> %s%s%s%s in the trace after the %d messages before it", msgs[got].type,
				    msgs[got].from, msgs[got].to, msgs[got].summary ? " (with " : "",
				    msgs[got].summary ? msgs[got].summary : "", msgs[got].summary ? ")" : "", got);
	printf("(%d messages in order) ", n);
	return tb_step_ok(s);
}

int tb_expect_none(tb_session *s, const char *what, const tb_msg *m, uint64_t since_us)
{
	tb_step(s, "the trace shows %s", what);
	/* what is absent cannot be waited for: give the recorder its time once */
	sleep_ms(CATCH_UP_MS / 4);
	char *trace = scenario_trace(s);
	if (!trace)
		return tb_step_fail(s, "cannot read the trace");
	uint64_t at = first_after(trace, m, since_us);
	free(trace);
	if (at)
		return tb_step_fail(s, "%s %s -> %s is in the trace (at %llu)", m->type, m->from, m->to,
				    (unsigned long long)at);
	return tb_step_ok(s);
}

int tb_expect_attach(tb_session *s, const char *device, const char *card, const char *network, uint64_t since_us)
{
	const char *home = tb_card_home(s, card);
	const tb_msg flow[] = {
		{device, network, "attachRequest", NULL},
		{network, home, "authInfoRequest", NULL},
		{home, network, "authInfoResponse", NULL},
		{network, device, "authChallenge", NULL},
		{device, card, "apduCommand", "apdu=0088"},  /* AUTHENTICATE */
		{card, device, "apduResponse", "statusWord=36864"},  /* 90 00: RES, CK, IK (zeroed in the trace) */
		{device, network, "authResponse", NULL},
		{network, home, "updateLocation", NULL},
		{home, network, "updateLocationAck", NULL},
		{network, device, "attachAccept", NULL},
	};
	char what[200];
	snprintf(what, sizeof what, "the attach of %s: AKA between %s and %s, the card computing RES, location at %s",
		 device, network, home, home);
	return tb_expect_flow(s, what, flow, (int)(sizeof flow / sizeof flow[0]), since_us);
}
