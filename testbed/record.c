/*
 * The recorder (the hidden `record` sub-command, started by `up`): one SUB socket connected to
 * every daemon's tap as the CurveZMQ client "testbed", writing each tap event as one JSON line
 * to RUNDIR/trace.jsonl. It tells `up` it is ready (RUNDIR/recorder.ready) once the CURVE
 * handshake with every tap has succeeded, which is when the taps learn its subscription.
 */
#include "testbed.h"

#include "crypto/crypto.h"
#include "daemon/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define MONITOR "inproc://recorder.monitor"
/* After the last handshake the subscription still has to cross to the tap's I/O thread. */
#define SETTLE_MS 100

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	stopping = 1;
}

typedef struct recorder {
	void *ctx, *sub, *monitor;
	int trace;
	int ntaps, joined;
	char taps[M2M_MAX_PEERS][M2M_ENDPOINT_MAX + 1];
	int handshaken[M2M_MAX_PEERS];
	char ready_path[PATH_MAX];
	long long ready_at;  /* when to announce readiness; 0: not yet due, -1: announced */
} recorder;

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- one trace line ---------------------------------------------------------------------- */

static void frame_text(zmq_msg_t *f, char *out, size_t len)
{
	snprintf(out, len, "%.*s", (int)zmq_msg_size(f), (const char *)zmq_msg_data(f));
}

static void put_str(tb_buf *b, const char *key, const char *value)
{
	tb_buf_printf(b, ", \"%s\": ", key);
	tb_buf_json_str(b, value);
}

static void put_header(tb_buf *b, const m2m_envelope *env)
{
	put_str(b, "from", env->sender);
	put_str(b, "to", env->recipient);
}

static void put_transaction(tb_buf *b, const m2m_envelope *env)
{
	tb_buf_printf(b, ", \"txid\": \"");
	tb_buf_hex(b, env->txid, sizeof env->txid);
	tb_buf_printf(b, "\", \"seq\": %llu", (unsigned long long)env->seq);
}

static void put_reason(tb_buf *b, long value)
{
	const char *name = m2m_reason_name((m2m_reason)value);
	char fallback[32];
	snprintf(fallback, sizeof fallback, "reason(%ld)", value);
	put_str(b, "reason", name ? name : fallback);
}

static void put_decoded(tb_buf *b, const m2m_envelope *env, size_t size)
{
	put_header(b, env);
	put_str(b, "type", m2m_msgtype_name(env->type));
	put_transaction(b, env);
	tb_buf_printf(b, ", \"size\": %zu", size);
	if (env->type == M2M_MSG_ERROR)
		put_reason(b, ASN1_ENUMERATED_get(((const M2M_ERROR_REPORT *)env->body)->reason));
	char *summary = m2m_body_summary(env->type, env->body);
	put_str(b, "summary", summary ? summary : "");
	free(summary);
}

/* What could be read of a message that did not decode, and why it did not. */
static void put_undecodable(tb_buf *b, const m2m_envelope *env, m2m_reason why, size_t size)
{
	if (env->header_ok)
		put_header(b, env);
	put_str(b, "type", "undecodable");
	if (env->header_ok)
		put_transaction(b, env);
	tb_buf_printf(b, ", \"size\": %zu", size);
	put_reason(b, why);
}

static void record_event(recorder *r, zmq_msg_t *f)
{
	char direction[8], observer[M2M_ENTITY_MAX + 1], when[32];
	frame_text(&f[0], direction, sizeof direction);
	frame_text(&f[1], observer, sizeof observer);
	frame_text(&f[2], when, sizeof when);
	const uint8_t *der = zmq_msg_data(&f[3]);
	size_t size = zmq_msg_size(&f[3]);

	tb_buf b = {0};
	tb_buf_printf(&b, "{\"time\": %llu", strtoull(when, NULL, 10));
	put_str(&b, "observer", observer);
	put_str(&b, "event", direction);
	m2m_envelope env;
	m2m_reason why = m2m_decode(der, size, &env);
	if (why == M2M_OK)
		put_decoded(&b, &env, size);
	else
		put_undecodable(&b, &env, why, size);
	m2m_envelope_clear(&env);
	tb_buf_printf(&b, ", \"der\": \"");
	tb_buf_hex(&b, der, size);
	tb_buf_printf(&b, "\"}\n");
	/* one write per line: the line is in the file at once, whole (O_APPEND) */
	if (write(r->trace, b.data, b.len) != (ssize_t)b.len)
		fprintf(stderr, "recorder: cannot write the trace: %s\n", strerror(errno));
	tb_buf_free(&b);
}

/* A tap message is four frames: direction, observer, time, DER. */
static void receive_tap(recorder *r)
{
	zmq_msg_t f[4];
	int n = 0, more = 1;
	while (more && n < 4) {
		zmq_msg_init(&f[n]);
		if (zmq_msg_recv(&f[n], r->sub, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&f[n]);
			break;
		}
		more = zmq_msg_more(&f[n++]);
	}
	if (n == 4 && !more)
		record_event(r, f);
	else if (n)
		fprintf(stderr, "recorder: ignored a tap message that is not four frames\n");
	while (more && n == 4) {  /* the rest of an over-long message */
		zmq_msg_t x;
		zmq_msg_init(&x);
		more = zmq_msg_recv(&x, r->sub, 0) >= 0 && zmq_msg_more(&x);
		zmq_msg_close(&x);
	}
	for (int i = 0; i < n; i++)
		zmq_msg_close(&f[i]);
}

/* ---- readiness ---------------------------------------------------------------------------- */

static void receive_monitor(recorder *r)
{
	zmq_msg_t ev, addr;
	zmq_msg_init(&ev);
	zmq_msg_init(&addr);
	if (zmq_msg_recv(&ev, r->monitor, ZMQ_DONTWAIT) >= 0 && zmq_msg_recv(&addr, r->monitor, 0) >= 0 &&
	    zmq_msg_size(&ev) >= 6) {
		uint16_t event;
		memcpy(&event, zmq_msg_data(&ev), sizeof event);
		char endpoint[M2M_ENDPOINT_MAX + 1];
		frame_text(&addr, endpoint, sizeof endpoint);
		for (int i = 0; i < r->ntaps; i++) {
			if (strcmp(r->taps[i], endpoint))
				continue;
			if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED && !r->handshaken[i]++)
				r->joined++;
			else if (event != ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
				fprintf(stderr, "recorder: CURVE handshake with %s failed (event 0x%x)\n", endpoint, event);
		}
	}
	zmq_msg_close(&ev);
	zmq_msg_close(&addr);
	if (r->joined == r->ntaps && r->ready_at == 0)
		r->ready_at = now_ms() + SETTLE_MS;
}

static void announce_ready(recorder *r)
{
	if (r->ready_at <= 0 || now_ms() < r->ready_at)
		return;
	r->ready_at = -1;
	char text[64];
	snprintf(text, sizeof text, "%d taps\n", r->ntaps);
	if (!tb_write_file(r->ready_path, text, 0644))
		printf("recorder: subscribed to all %d taps\n", r->ntaps);
	fflush(stdout);
}

/* ---- set-up --------------------------------------------------------------------------------- */

static int read_client_conf(const char *rundir, m2m_node_conf *nc)
{
	char path[PATH_MAX];
	m2m_conf c;
	memset(&c, 0, sizeof c);
	if (tb_path(path, sizeof path, rundir, TB_SELF, ".conf"))
		return -1;
	if (m2m_conf_load(&c, path) == 0)
		m2m_conf_node(&c, nc);
	else
		c.failed = 1;
	if (c.failed)
		fprintf(stderr, "recorder: %s\n", c.error);
	m2m_conf_free(&c);
	return c.failed ? -1 : 0;
}

static int open_sockets(recorder *r, const char *rundir, const m2m_node_conf *nc)
{
	char pub[M2M_KEY_Z85];
	int zero = 0, events = ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
			       ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;
	if (zmq_curve_public(pub, nc->secret_key))
		return -1;
	r->ctx = zmq_ctx_new();
	r->sub = zmq_socket(r->ctx, ZMQ_SUB);
	zmq_setsockopt(r->sub, ZMQ_LINGER, &zero, sizeof zero);
	zmq_setsockopt(r->sub, ZMQ_RCVHWM, &zero, sizeof zero);  /* unlimited: never drop a recorded event */
	zmq_setsockopt(r->sub, ZMQ_SUBSCRIBE, "", 0);
	zmq_setsockopt(r->sub, ZMQ_CURVE_PUBLICKEY, pub, strlen(pub) + 1);
	zmq_setsockopt(r->sub, ZMQ_CURVE_SECRETKEY, nc->secret_key, strlen(nc->secret_key) + 1);
	if (zmq_socket_monitor(r->sub, MONITOR, events))
		return -1;
	r->monitor = zmq_socket(r->ctx, ZMQ_PAIR);
	zmq_setsockopt(r->monitor, ZMQ_LINGER, &zero, sizeof zero);
	if (zmq_connect(r->monitor, MONITOR))
		return -1;
	for (int i = 0; i < nc->npeers; i++) {
		/* the server key applies to the connections made after it is set */
		const char *key = nc->peers[i].public_key;
		zmq_setsockopt(r->sub, ZMQ_CURVE_SERVERKEY, key, strlen(key) + 1);
		int n = snprintf(r->taps[i], sizeof r->taps[i], "ipc://%s/%s.tap", rundir, nc->peers[i].id);
		if (n < 0 || (size_t)n >= sizeof r->taps[i] || zmq_connect(r->sub, r->taps[i])) {
			fprintf(stderr, "recorder: cannot connect to %s: %s\n", r->taps[i], zmq_strerror(errno));
			return -1;
		}
		r->ntaps++;
	}
	return 0;
}

static void close_sockets(recorder *r)
{
	if (r->monitor)
		zmq_close(r->monitor);
	if (r->sub) {
		zmq_socket_monitor(r->sub, NULL, 0);
		zmq_close(r->sub);
	}
	if (r->ctx)
		zmq_ctx_term(r->ctx);
}

static void install_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);  /* no SA_RESTART: zmq_poll must return on a signal */
	sigaction(SIGINT, &sa, NULL);
}

static void run(recorder *r)
{
	while (!stopping) {
		zmq_pollitem_t items[] = {{.socket = r->sub, .events = ZMQ_POLLIN},
					  {.socket = r->monitor, .events = ZMQ_POLLIN}};
		if (zmq_poll(items, 2, r->ready_at > 0 ? 20 : 1000) < 0)
			continue;  /* a signal: the loop condition decides */
		if (items[0].revents & ZMQ_POLLIN)
			receive_tap(r);
		if (items[1].revents & ZMQ_POLLIN)
			receive_monitor(r);
		announce_ready(r);
	}
	/* what the taps had already delivered belongs in the trace too */
	zmq_pollitem_t item = {.socket = r->sub, .events = ZMQ_POLLIN};
	while (zmq_poll(&item, 1, 0) > 0 && (item.revents & ZMQ_POLLIN))
		receive_tap(r);
}

int tb_cmd_record(tb_opts *o, int argc, char **argv)
{
	static recorder r = {.trace = -1};
	m2m_node_conf nc;
	char trace[PATH_MAX];
	install_signals();
	int rc = tb_rundir_resolve(o, 0) || read_client_conf(o->rundir, &nc) ||
		 tb_path(trace, sizeof trace, o->rundir, "trace", ".jsonl") ||
		 tb_path(r.ready_path, sizeof r.ready_path, o->rundir, TB_RECORDER, ".ready");
	if (!rc) {
		r.trace = open(trace, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (r.trace < 0)
			fprintf(stderr, "recorder: cannot open %s: %s\n", trace, strerror(errno));
		rc = r.trace < 0 || open_sockets(&r, o->rundir, &nc);
		m2m_wipe(nc.secret_key, sizeof nc.secret_key);
	}
	if (rc) {
		fprintf(stderr, "recorder: cannot start\n");
	} else {
		printf("recorder: watching %d taps, writing %s\n", r.ntaps, trace);
		fflush(stdout);
		run(&r);
		printf("recorder: stopped\n");
	}
	close_sockets(&r);
	if (r.trace >= 0)
		close(r.trace);
	unlink(r.ready_path);
	return rc ? 1 : 0;
}
