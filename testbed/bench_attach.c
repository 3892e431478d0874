/*
 * testbed bench-attach SECONDS: attaches per second through a running testbed. Every m2me of
 * the topology (testbed/bench.conf has 16, each with its own card) powers on, then attaches and
 * detaches over and over, all devices at once, for SECONDS; each attach is the whole procedure
 * of docs/alt2.md (card, visited network, HSS, location update), through real processes and
 * CurveZMQ links. Prints figures only: a benchmark, never a pass/fail test (docs/benchmarks.md).
 */
#include "testbed.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct bench_device {
	const char *id;
	int attached;   /* what the call in flight will make it: attach when 0, detach when 1 */
	int busy;
	tb_reply reply;
	long attaches, failures;
} bench_device;

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int control(m2m_node *n, bench_device *d, int action)
{
	M2M_DEVICE_CONTROL *b = M2M_DEVICE_CONTROL_new();
	ASN1_ENUMERATED_set(b->action, action);
	memset(&d->reply, 0, sizeof d->reply);
	int rc = tb_call_start(n, d->id, M2M_MSG_DEVICE_CONTROL, b, &d->reply);
	M2M_DEVICE_CONTROL_free(b);
	d->busy = rc == 0;
	return rc;
}

/* Power on every device (one already on is fine) and wait for all of them. */
static int power_on(m2m_node *n, bench_device *devs, int count)
{
	for (int i = 0; i < count; i++)
		if (control(n, &devs[i], M2M_DEV_POWER_ON))
			return -1;
	for (int i = 0; i < count; i++) {
		tb_call_wait(n, &devs[i].reply, 1);
		int ok = devs[i].reply.type == M2M_MSG_DEVICE_STATUS || devs[i].reply.reason == M2M_R_WRONG_STATE;
		if (!ok)
			fprintf(stderr, "testbed: %s did not power on: %s\n", devs[i].id, m2m_reason_name(devs[i].reply.reason));
		tb_reply_clear(&devs[i].reply);
		devs[i].busy = 0;
		if (!ok)
			return -1;
	}
	return 0;
}

/* One answer in: count it and start the device's next call while the clock runs. */
static void next(m2m_node *n, bench_device *d, int running)
{
	int ok = d->reply.type == M2M_MSG_DEVICE_STATUS;
	if (!d->attached)
		ok ? d->attaches++ : d->failures++;
	if (ok || d->attached)
		d->attached = !d->attached;
	tb_reply_clear(&d->reply);
	d->busy = 0;
	if (running || d->attached)  /* after the deadline, only detaches: leave every device detached */
		control(n, d, d->attached ? M2M_DEV_DETACH : M2M_DEV_ATTACH);
}

static double run_for(m2m_node *n, bench_device *devs, int count, double seconds)
{
	double t0 = now_s(), end = t0 + seconds;
	for (int i = 0; i < count; i++)
		control(n, &devs[i], M2M_DEV_ATTACH);
	for (int busy = count; busy;) {
		m2m_node_poll(n, 20);
		busy = 0;
		for (int i = 0; i < count; i++) {
			if (devs[i].busy && devs[i].reply.done)
				next(n, &devs[i], now_s() < end);
			busy += devs[i].busy;
		}
	}
	return now_s() - t0;
}

int tb_cmd_bench_attach(tb_opts *o, int argc, char **argv)
{
	double seconds = atof(argv[1]);
	if (seconds <= 0) {
		fprintf(stderr, "testbed: bench-attach takes a number of seconds\n");
		return 2;
	}
	if (tb_rundir_resolve(o, 0))
		return 1;
	tb_topology *t = tb_rundir_topology(o->rundir, 0);
	m2m_node *n = t ? tb_client_open(o->rundir, 0) : NULL;
	bench_device devs[TB_MAX_ENTITIES] = {0};
	int count = 0;
	for (int i = 0; t && i < t->nentities; i++)
		if (!strcmp(t->entities[i].role, "m2me"))
			devs[count++].id = t->entities[i].id;
	int rc = 1;
	if (n && count && power_on(n, devs, count) == 0) {
		double elapsed = run_for(n, devs, count, seconds);
		long attaches = 0, failures = 0;
		for (int i = 0; i < count; i++) {
			attaches += devs[i].attaches;
			failures += devs[i].failures;
		}
		printf("devices %d\nseconds %.2f\nattaches %ld\nfailed_attaches %ld\nattaches_per_second %.1f\n", count,
		       elapsed, attaches, failures, (double)attaches / elapsed);
		rc = 0;
	}
	m2m_node_free(n);
	tb_topology_free(t);
	return rc;
}
