/*
 * The node: sockets, the event loop, and the step discipline. Every event (a request to
 * dispatch, a reply or a timeout to hand to a caller) runs as one step: a database transaction
 * is opened, the handler runs, the transaction commits, and only then does anything the handler
 * sent leave the process (the outbox). A crash at any point therefore either loses the whole
 * step (and the peer's retry redoes it) or keeps it with its reply stored for the retry.
 */
#include "net/node.h"

#include "log/log.h"
#include "net/tap.h"
#include "net/window.h"
#include "net/zap.h"
#include "crypto/crypto.h"
#include "store/store.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#define SEQ_BLOCK 100000  /* sequence numbers reserved per database write */
#define ROUTER (-1)       /* outbox destination: our ROUTER, back to a requester */

typedef struct call {
	uint8_t txid[M2M_TXID_LEN];
	int peer;
	unsigned char *der;
	size_t len;
	int64_t deadline_ms;
	int retries_left;
	int in_outbox;  /* created by the current step: not sent yet */
	m2m_response_cb cb;
	void *arg;
	struct call *next;
} call;

typedef struct outmsg {
	int peer;
	uint8_t route[256];
	size_t route_len;
	unsigned char *der;
	size_t len;
	struct outmsg *next;
} outmsg;

struct m2m_node {
	m2m_node_conf conf;
	char public_key[M2M_KEY_Z85];
	char bound[M2M_ENDPOINT_MAX + 1];
	void *ctx, *router, *zap, *tap;
	void *dealers[M2M_MAX_PEERS];
	sqlite3 *db;
	int own_db;
	uint64_t next_seq, reserved;
	call *calls;
	m2m_request *deferred;
	outmsg *outbox;
	int in_step, step_refused;
	m2m_request *step_request;
	m2m_counters counters;
	m2m_window_key reply_key;
	m2m_dispatch_cb dispatch;
	void *dispatch_arg;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- sequence numbers ------------------------------------------------------------------ */

static int reserve_sequence(m2m_node *n)
{
	if (!n->db) {  /* a client without state: the clock keeps it increasing across runs */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t us = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
		if (us > n->next_seq)
			n->next_seq = us;
		n->reserved = UINT64_MAX;
		return 0;
	}
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(n->db, "UPDATE node_sequence SET reserved = reserved + ? RETURNING reserved",
				    -1, &st, NULL);
	sqlite3_bind_int64(st, 1, SEQ_BLOCK);
	if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
		n->reserved = (uint64_t)sqlite3_column_int64(st, 0);
		if (n->next_seq <= n->reserved - SEQ_BLOCK)
			n->next_seq = n->reserved - SEQ_BLOCK + 1;
		rc = 0;
	} else {
		m2m_error("cannot reserve sequence numbers: %s", sqlite3_errmsg(n->db));
		rc = -1;
	}
	sqlite3_finalize(st);
	return rc;
}

static uint64_t take_sequence(m2m_node *n)
{
	if (!n->db)
		reserve_sequence(n);
	return n->next_seq++;
}

/* ---- sending ---------------------------------------------------------------------------- */

static void send_now(m2m_node *n, const outmsg *m)
{
	int64_t when = m2m_tap_clock();
	int rc;
	if (m->peer == ROUTER) {
		rc = zmq_send(n->router, m->route, m->route_len, ZMQ_SNDMORE);
		if (rc >= 0)
			rc = zmq_send(n->router, m->der, m->len, 0);
	} else {
		rc = zmq_send(n->dealers[m->peer], m->der, m->len, ZMQ_DONTWAIT);
	}
	if (rc < 0) {
		m2m_warn("send failed: %s", zmq_strerror(errno));
		return;
	}
	n->counters.sent++;
	m2m_tap_publish(n->tap, "tx", n->conf.entity, when, m->der, m->len);
}

/* Sends at once outside a step, or queues until the step has committed. */
static void emit(m2m_node *n, int peer, const uint8_t *route, size_t route_len, unsigned char *der,
		 size_t len)
{
	outmsg *m = calloc(1, sizeof *m);
	m->peer = peer;
	if (route)
		memcpy(m->route, route, route_len);
	m->route_len = route_len;
	m->der = der;
	m->len = len;
	if (!n->in_step) {
		send_now(n, m);
		OPENSSL_free(m->der);
		free(m);
		return;
	}
	outmsg **tail = &n->outbox;
	while (*tail)
		tail = &(*tail)->next;
	*tail = m;
}

static void outbox_flush(m2m_node *n, int deliver)
{
	while (n->outbox) {
		outmsg *m = n->outbox;
		n->outbox = m->next;
		if (deliver)
			send_now(n, m);
		OPENSSL_free(m->der);
		free(m);
	}
}

static unsigned char *envelope(m2m_node *n, const uint8_t *txid, const char *to, int type,
			       const void *body, size_t *len)
{
	m2m_envelope e = {.version = M2M_WIRE_VERSION, .type = type, .seq = take_sequence(n)};
	memcpy(e.txid, txid, M2M_TXID_LEN);
	snprintf(e.sender, sizeof e.sender, "%s", n->conf.entity);
	snprintf(e.recipient, sizeof e.recipient, "%s", to);
	unsigned char *der = NULL;
	if (m2m_encode(&e, body, &der, len) != M2M_OK) {
		m2m_error("cannot encode %s for %s", m2m_msgtype_name(type), to);
		return NULL;
	}
	return der;
}

static unsigned char *error_envelope(m2m_node *n, const m2m_envelope *req, m2m_reason reason,
				     const char *text, size_t *len)
{
	M2M_ERROR_REPORT *er = M2M_ERROR_REPORT_new();
	ASN1_ENUMERATED_set(er->reason, reason);
	m2m_set_str(er->text, text);
	if (req->header_ok && m2m_msgdef_find(req->type)) {
		er->refused_type = ASN1_INTEGER_new();
		ASN1_INTEGER_set(er->refused_type, req->type);
	}
	/* an undecodable message has no usable sender: answer the connection, addressed to "?" */
	unsigned char *der = envelope(n, req->txid, req->header_ok ? req->sender : "?", M2M_MSG_ERROR, er, len);
	M2M_ERROR_REPORT_free(er);
	n->counters.refused++;
	m2m_log_event(M2M_LOG_WARN, req->txid, m2m_msgtype_name(req->type), "refused from %s: %s (%s)",
		      req->header_ok ? req->sender : "?", m2m_reason_name(reason), text);
	return der;
}

/* ---- steps ------------------------------------------------------------------------------ */

static void step_begin(m2m_node *n, m2m_request *req)
{
	n->in_step = 1;
	n->step_refused = 0;
	n->step_request = req;
	if (n->db && m2m_store_begin(n->db))
		m2m_error("cannot open a step transaction");
}

/* Commits the step and releases what it sent; a refused step was already rolled back. */
static void step_end(m2m_node *n)
{
	int ok = 1;
	if (n->db && !n->step_refused && m2m_store_commit(n->db)) {
		m2m_store_rollback(n->db);
		ok = 0;
	}
	n->in_step = 0;
	n->step_request = NULL;
	for (call *c = n->calls; c; c = c->next)
		c->in_outbox = 0;
	outbox_flush(n, ok);
}

/* ---- answering requests ------------------------------------------------------------------ */

static void request_free(m2m_request *req)
{
	m2m_envelope_clear(&req->env);
	free(req);
}

static void unlink_deferred(m2m_node *n, m2m_request *req)
{
	for (m2m_request **p = &n->deferred; *p; p = &(*p)->next)
		if (*p == req) {
			*p = req->next;
			return;
		}
}

static int owned_by_step(m2m_node *n, m2m_request *req)
{
	return n->in_step && n->step_request == req;
}

static void drop_unsent_calls(m2m_node *n)
{
	for (call **p = &n->calls; *p;) {
		call *c = *p;
		if (c->in_outbox) {
			*p = c->next;
			OPENSSL_free(c->der);
			free(c);
		} else
			p = &c->next;
	}
}

void m2m_reply(m2m_node *n, m2m_request *req, int type, const void *body)
{
	size_t len;
	unsigned char *der = envelope(n, req->env.txid, req->env.sender, type, body, &len);
	if (!der) {
		m2m_refuse(n, req, M2M_R_INTERNAL, "reply could not be encoded");
		return;
	}
	int own_txn = !n->in_step && n->db;
	if (own_txn)
		m2m_store_begin(n->db);
	if (n->db)
		m2m_window_store_reply(n->db, &n->reply_key, &req->env, type, der, len);
	if (own_txn)
		m2m_store_commit(n->db);
	m2m_log_event(M2M_LOG_INFO, req->env.txid, m2m_msgtype_name(type), "reply to %s", req->env.sender);
	emit(n, ROUTER, req->route, req->route_len, der, len);
	if (owned_by_step(n, req))
		n->step_request = NULL;
	unlink_deferred(n, req);
	request_free(req);
}

void m2m_answer(m2m_node *n, m2m_request *req, m2m_reason r, int type, const void *body, const char *why)
{
	if (r == M2M_OK)
		m2m_reply(n, req, type, body);
	else
		m2m_refuse(n, req, r, "%s", why);
}

void m2m_refuse(m2m_node *n, m2m_request *req, m2m_reason reason, const char *fmt, ...)
{
	char text[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (owned_by_step(n, req)) {
		/* a refusal changes no state: undo the step and anything it meant to send */
		if (n->db && !n->step_refused)
			m2m_store_rollback(n->db);
		n->step_refused = 1;
		n->step_request = NULL;
		outbox_flush(n, 0);
		drop_unsent_calls(n);
	} else if (n->db) {
		m2m_window_forget(n->db, &req->env);  /* a deferred request admitted by an earlier step */
	}
	size_t len;
	unsigned char *der = error_envelope(n, &req->env, reason, text, &len);
	if (der) {
		outmsg m = {.peer = ROUTER, .route_len = req->route_len, .der = der, .len = len};
		memcpy(m.route, req->route, req->route_len);
		send_now(n, &m);
		OPENSSL_free(der);
	}
	unlink_deferred(n, req);
	request_free(req);
}

void m2m_refuse_recorded(m2m_node *n, m2m_request *req, m2m_reason reason, const char *fmt, ...)
{
	char text[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	M2M_ERROR_REPORT *er = M2M_ERROR_REPORT_new();
	ASN1_ENUMERATED_set(er->reason, reason);
	m2m_set_str(er->text, text);
	er->refused_type = ASN1_INTEGER_new();
	ASN1_INTEGER_set(er->refused_type, req->env.type);
	n->counters.refused++;
	m2m_log_event(M2M_LOG_WARN, req->env.txid, m2m_msgtype_name(req->env.type), "refused from %s: %s (%s)",
		      req->env.sender, m2m_reason_name(reason) ? m2m_reason_name(reason) : "?", text);
	m2m_reply(n, req, M2M_MSG_ERROR, er);
	M2M_ERROR_REPORT_free(er);
}

void m2m_defer(m2m_node *n, m2m_request *req)
{
	req->next = n->deferred;
	n->deferred = req;
	if (owned_by_step(n, req))
		n->step_request = NULL;
}

/* ---- receiving requests ----------------------------------------------------------------- */

static int deferred_holds(m2m_node *n, const m2m_envelope *env)
{
	for (m2m_request *r = n->deferred; r; r = r->next)
		if (r->env.seq == env->seq && !strcmp(r->env.sender, env->sender))
			return 1;
	return 0;
}

#define HANDLED ((m2m_reason)-1)  /* admit() answered it itself: nothing to dispatch */

static m2m_reason resend_stored(m2m_node *n, m2m_request *req, unsigned char *stored, size_t len)
{
	m2m_log_event(M2M_LOG_INFO, req->env.txid, m2m_msgtype_name(req->env.type),
		      "duplicate from %s answered from the stored reply", req->env.sender);
	outmsg m = {.peer = ROUTER, .route_len = req->route_len, .der = stored, .len = len};
	memcpy(m.route, req->route, req->route_len);
	send_now(n, &m);
	free(stored);
	return HANDLED;
}

/* The transport's own checks before a request reaches the role: M2M_OK to dispatch it. */
static m2m_reason admit(m2m_node *n, m2m_request *req, const char *user_id, char *why, size_t whylen)
{
	const m2m_envelope *env = &req->env;
	if (strcmp(env->recipient, n->conf.entity)) {
		snprintf(why, whylen, "addressed to %s, this is %s", env->recipient, n->conf.entity);
		return M2M_R_WRONG_RECIPIENT;
	}
	if (strcmp(env->sender, user_id)) {
		snprintf(why, whylen, "sender %s is not the authenticated peer %s", env->sender, user_id);
		return M2M_R_SENDER_MISMATCH;
	}
	unsigned char *stored = NULL;
	size_t stored_len = 0;
	switch (m2m_window_check(n->db, &n->reply_key, env, &stored, &stored_len)) {
	case M2M_WIN_NEW:
		return m2m_window_admit(n->db, env) ? M2M_R_INTERNAL : M2M_OK;
	case M2M_WIN_PENDING:
		/* still being worked on: its reply will answer the retry too; otherwise (we restarted)
		 * the step is redone, which the roles make idempotent per transaction */
		return deferred_holds(n, env) ? HANDLED : M2M_OK;
	case M2M_WIN_DUPLICATE:
		return resend_stored(n, req, stored, stored_len);
	case M2M_WIN_REPLAYED:
		snprintf(why, whylen, "sequence %llu was used by another transaction", (unsigned long long)env->seq);
		return M2M_R_REPLAYED;
	case M2M_WIN_OLD:
		snprintf(why, whylen, "sequence %llu is older than the last %d requests", (unsigned long long)env->seq,
			 M2M_WINDOW);
		return M2M_R_OUT_OF_WINDOW;
	}
	return M2M_R_INTERNAL;
}

static void handle_request(m2m_node *n, m2m_request *req, const unsigned char *der, size_t len,
			   const char *user_id)
{
	char why[200] = "";
	m2m_reason r = m2m_decode(der, len, &req->env);
	step_begin(n, req);
	if (r == M2M_OK)
		r = admit(n, req, user_id, why, sizeof why);
	if (r == M2M_OK) {
		m2m_log_event(M2M_LOG_INFO, req->env.txid, m2m_msgtype_name(req->env.type), "request from %s",
			      req->env.sender);
		n->dispatch(n, req, n->dispatch_arg);
		if (n->step_request == req)  /* the role neither answered nor deferred: a bug */
			m2m_refuse(n, req, M2M_R_INTERNAL, "request was not answered");
	} else if (r == HANDLED) {
		n->step_request = NULL;
		request_free(req);
	} else {
		m2m_refuse(n, req, r, "%s", why[0] ? why : m2m_reason_name(r));
	}
	step_end(n);
}

/* A message is exactly one frame; anything after it is drained and the message refused. */
static int drain_extra_frames(void *s, const zmq_msg_t *last)
{
	int more = zmq_msg_more(last), extra = more;
	while (more) {
		zmq_msg_t x;
		zmq_msg_init(&x);
		more = zmq_msg_recv(&x, s, 0) >= 0 && zmq_msg_more(&x);
		zmq_msg_close(&x);
	}
	return extra;
}

static void recv_router(m2m_node *n)
{
	zmq_msg_t route, payload;
	zmq_msg_init(&route);
	zmq_msg_init(&payload);
	if (zmq_msg_recv(&route, n->router, ZMQ_DONTWAIT) < 0 || !zmq_msg_more(&route) ||
	    zmq_msg_recv(&payload, n->router, 0) < 0) {
		zmq_msg_close(&route);
		zmq_msg_close(&payload);
		return;
	}
	int extra = drain_extra_frames(n->router, &payload);
	n->counters.received++;
	m2m_tap_publish(n->tap, "rx", n->conf.entity, m2m_tap_clock(), zmq_msg_data(&payload), zmq_msg_size(&payload));
	m2m_request *req = calloc(1, sizeof *req);
	if (zmq_msg_size(&route) <= sizeof req->route) {
		req->route_len = zmq_msg_size(&route);
		memcpy(req->route, zmq_msg_data(&route), req->route_len);
	}
	if (extra) {
		step_begin(n, req);
		m2m_refuse(n, req, M2M_R_MALFORMED, "a message is exactly one frame");
		step_end(n);
	} else {
		const char *user = zmq_msg_gets(&payload, "User-Id");
		handle_request(n, req, zmq_msg_data(&payload), zmq_msg_size(&payload), user ? user : "");
	}
	zmq_msg_close(&route);
	zmq_msg_close(&payload);
}

/* ---- calls ------------------------------------------------------------------------------ */

const m2m_peer_conf *m2m_node_conf_peer(const m2m_node_conf *conf, const char *id)
{
	for (int i = 0; i < conf->npeers; i++)
		if (!strcmp(conf->peers[i].id, id))
			return &conf->peers[i];
	return NULL;
}

static int peer_index(const m2m_node *n, const char *id)
{
	const m2m_peer_conf *p = m2m_node_conf_peer(&n->conf, id);
	return p ? (int)(p - n->conf.peers) : -1;
}

static void curve_client(m2m_node *n, void *s, const char *server_key)
{
	zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, server_key, strlen(server_key) + 1);
	zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, n->public_key, strlen(n->public_key) + 1);
	zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, n->conf.secret_key, strlen(n->conf.secret_key) + 1);
}

static void *dealer_for(m2m_node *n, int peer)
{
	if (n->dealers[peer])
		return n->dealers[peer];
	void *s = zmq_socket(n->ctx, ZMQ_DEALER);
	int zero = 0, max = M2M_MAX_MESSAGE;
	int64_t max64 = max;
	zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
	zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &max64, sizeof max64);
	curve_client(n, s, n->conf.peers[peer].public_key);
	if (zmq_connect(s, n->conf.peers[peer].endpoint)) {
		m2m_error("cannot connect to %s at %s: %s", n->conf.peers[peer].id,
			  n->conf.peers[peer].endpoint, zmq_strerror(errno));
		zmq_close(s);
		return NULL;
	}
	return n->dealers[peer] = s;
}

int m2m_call(m2m_node *n, const char *peer, int type, const void *body, m2m_response_cb cb, void *arg)
{
	int p = peer_index(n, peer);
	if (p < 0 || !n->conf.peers[p].endpoint[0] || !dealer_for(n, p)) {
		m2m_error("no route to %s", peer);
		return -1;
	}
	call *c = calloc(1, sizeof *c);
	m2m_random(c->txid, sizeof c->txid);
	c->der = envelope(n, c->txid, peer, type, body, &c->len);
	if (!c->der) {
		free(c);
		return -1;
	}
	c->peer = p;
	c->cb = cb;
	c->arg = arg;
	c->retries_left = n->conf.retries;
	c->deadline_ms = now_ms() + n->conf.timeout_ms;
	c->in_outbox = n->in_step;
	c->next = n->calls;
	n->calls = c;
	m2m_log_event(M2M_LOG_INFO, c->txid, m2m_msgtype_name(type), "request to %s", peer);
	/* the outbox owns its own copy, the call keeps the original for retries */
	unsigned char *copy = OPENSSL_malloc(c->len);
	memcpy(copy, c->der, c->len);
	emit(n, p, NULL, 0, copy, c->len);
	return 0;
}

static call *take_call(m2m_node *n, const uint8_t *txid, int peer)
{
	for (call **p = &n->calls; *p; p = &(*p)->next)
		if ((peer < 0 || (*p)->peer == peer) && !memcmp((*p)->txid, txid, M2M_TXID_LEN)) {
			call *c = *p;
			*p = c->next;
			return c;
		}
	return NULL;
}

static void finish_call(m2m_node *n, call *c, const m2m_envelope *resp, m2m_reason reason)
{
	step_begin(n, NULL);
	c->cb(n, resp, reason, c->arg);
	step_end(n);
	OPENSSL_free(c->der);
	free(c);
}

static void recv_dealer(m2m_node *n, int peer)
{
	zmq_msg_t msg;
	zmq_msg_init(&msg);
	if (zmq_msg_recv(&msg, n->dealers[peer], ZMQ_DONTWAIT) < 0) {
		zmq_msg_close(&msg);
		return;
	}
	n->counters.received++;
	m2m_tap_publish(n->tap, "rx", n->conf.entity, m2m_tap_clock(), zmq_msg_data(&msg), zmq_msg_size(&msg));
	m2m_envelope env;
	m2m_reason r = m2m_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), &env);
	zmq_msg_close(&msg);
	/* the CURVE handshake authenticated this connection's server as the peer */
	call *c = r == M2M_OK && !strcmp(env.sender, n->conf.peers[peer].id) ? take_call(n, env.txid, peer) : NULL;
	if (!c)
		m2m_log_event(M2M_LOG_WARN, env.header_ok ? env.txid : NULL, m2m_msgtype_name(env.type),
			      "dropped reply from %s: %s", n->conf.peers[peer].id,
			      r == M2M_OK ? "no open call" : m2m_reason_name(r));
	else
		finish_call(n, c, &env, M2M_OK);
	m2m_envelope_clear(&env);
}

static void expire_calls(m2m_node *n)
{
	int64_t now = now_ms();
	for (call *c = n->calls; c; c = c->next) {
		if (c->deadline_ms > now)
			continue;
		if (c->retries_left-- > 0) {
			c->deadline_ms = now + n->conf.timeout_ms;
			m2m_log_event(M2M_LOG_INFO, c->txid, NULL, "retry to %s", n->conf.peers[c->peer].id);
			outmsg m = {.peer = c->peer, .der = c->der, .len = c->len};
			send_now(n, &m);
			continue;
		}
		take_call(n, c->txid, c->peer);
		m2m_log_event(M2M_LOG_WARN, c->txid, NULL, "no reply from %s", n->conf.peers[c->peer].id);
		finish_call(n, c, NULL, M2M_R_TIMEOUT);
		return;  /* the list changed under us; the rest expire next round */
	}
}

static int next_wait(const m2m_node *n, int max_wait_ms)
{
	int64_t now = now_ms(), wait = max_wait_ms;
	for (const call *c = n->calls; c; c = c->next)
		if (c->deadline_ms - now < wait)
			wait = c->deadline_ms - now;
	return wait < 0 ? 0 : (int)wait;
}

/* ---- the loop ---------------------------------------------------------------------------- */

int m2m_node_poll(m2m_node *n, int max_wait_ms)
{
	if (n->db && n->next_seq + SEQ_BLOCK / 2 > n->reserved)
		reserve_sequence(n);
	zmq_pollitem_t items[M2M_MAX_PEERS + 2];
	int map[M2M_MAX_PEERS + 2], k = 0;
	if (n->zap) {
		items[k] = (zmq_pollitem_t){.socket = n->zap, .events = ZMQ_POLLIN};
		map[k++] = -2;
	}
	if (n->router) {
		items[k] = (zmq_pollitem_t){.socket = n->router, .events = ZMQ_POLLIN};
		map[k++] = ROUTER;
	}
	for (int i = 0; i < n->conf.npeers; i++)
		if (n->dealers[i]) {
			items[k] = (zmq_pollitem_t){.socket = n->dealers[i], .events = ZMQ_POLLIN};
			map[k++] = i;
		}
	int rc = zmq_poll(items, k, next_wait(n, max_wait_ms));
	if (rc < 0)
		return errno == EINTR ? -1 : 0;
	for (int i = 0; i < k; i++) {
		if (!(items[i].revents & ZMQ_POLLIN))
			continue;
		if (map[i] == -2)
			n->counters.refused += (uint64_t)m2m_zap_answer(n->zap, &n->conf);
		else if (map[i] == ROUTER)
			recv_router(n);
		else
			recv_dealer(n, map[i]);
	}
	expire_calls(n);
	return 0;
}

/* ---- set-up ------------------------------------------------------------------------------ */

static void refuse_all(m2m_node *n, m2m_request *req, void *arg)
{
	m2m_refuse(n, req, M2M_R_UNEXPECTED_MESSAGE, "this entity serves no requests");
}

static int open_server(m2m_node *n, char *err, size_t errlen)
{
	int one = 1, zero = 0;
	int64_t max = M2M_MAX_MESSAGE;
	n->zap = zmq_socket(n->ctx, ZMQ_REP);
	zmq_setsockopt(n->zap, ZMQ_LINGER, &zero, sizeof zero);
	if (zmq_bind(n->zap, M2M_ZAP_ENDPOINT)) {
		snprintf(err, errlen, "ZAP handler: %s", zmq_strerror(errno));
		return -1;
	}
	n->router = zmq_socket(n->ctx, ZMQ_ROUTER);
	zmq_setsockopt(n->router, ZMQ_LINGER, &zero, sizeof zero);
	zmq_setsockopt(n->router, ZMQ_MAXMSGSIZE, &max, sizeof max);
	zmq_setsockopt(n->router, ZMQ_CURVE_SERVER, &one, sizeof one);
	zmq_setsockopt(n->router, ZMQ_CURVE_SECRETKEY, n->conf.secret_key, strlen(n->conf.secret_key) + 1);
	zmq_setsockopt(n->router, ZMQ_ZAP_DOMAIN, "m2m", 3);
	if (zmq_bind(n->router, n->conf.bind)) {
		snprintf(err, errlen, "cannot bind %s: %s", n->conf.bind, zmq_strerror(errno));
		return -1;
	}
	size_t len = sizeof n->bound;
	zmq_getsockopt(n->router, ZMQ_LAST_ENDPOINT, n->bound, &len);
	if (n->conf.tap[0]) {
		n->tap = m2m_tap_open(n->ctx, n->conf.tap, n->conf.secret_key, err, errlen);
		if (!n->tap)
			return -1;
	}
	return 0;
}

static int open_memory_db(m2m_node *n, char *err, size_t errlen)
{
	static const char *const migrations[] = {M2M_NODE_SCHEMA};
	m2m_schema schema = {migrations, 1};
	n->db = m2m_store_open(":memory:", &schema, err, errlen);
	n->own_db = 1;
	return n->db ? 0 : -1;
}

m2m_node *m2m_node_new(const m2m_node_conf *conf, sqlite3 *db, char *err, size_t errlen)
{
	m2m_node *n = calloc(1, sizeof *n);
	n->conf = *conf;
	m2m_random(n->reply_key.key, sizeof n->reply_key.key);
	n->db = db;
	n->dispatch = refuse_all;
	if (n->conf.timeout_ms <= 0)
		n->conf.timeout_ms = 1000;
	if (strlen(conf->secret_key) != 40 || zmq_curve_public(n->public_key, conf->secret_key) != 0) {
		snprintf(err, errlen, "the CURVE secret key is not 40 Z85 characters");
		free(n);
		return NULL;
	}
	n->ctx = zmq_ctx_new();
	int ok = (!conf->bind[0] || ((db || !open_memory_db(n, err, errlen)) && !open_server(n, err, errlen))) &&
		 !reserve_sequence(n);
	if (!ok) {
		if (!err[0])
			snprintf(err, errlen, "cannot set up the transport");
		m2m_node_free(n);
		return NULL;
	}
	return n;
}

void m2m_node_free(m2m_node *n)
{
	if (!n)
		return;
	m2m_wipe(&n->reply_key, sizeof n->reply_key);
	while (n->calls) {
		call *c = n->calls;
		n->calls = c->next;
		OPENSSL_free(c->der);
		free(c);
	}
	while (n->deferred) {
		m2m_request *r = n->deferred;
		n->deferred = r->next;
		request_free(r);
	}
	outbox_flush(n, 0);
	for (int i = 0; i < M2M_MAX_PEERS; i++)
		if (n->dealers[i])
			zmq_close(n->dealers[i]);
	if (n->router)
		zmq_close(n->router);
	if (n->tap)
		zmq_close(n->tap);
	if (n->zap)
		zmq_close(n->zap);
	zmq_ctx_term(n->ctx);
	if (n->own_db)
		m2m_store_close(n->db);
	m2m_wipe(n->conf.secret_key, sizeof n->conf.secret_key);
	free(n);
}

void m2m_node_set_dispatch(m2m_node *n, m2m_dispatch_cb cb, void *arg)
{
	n->dispatch = cb;
	n->dispatch_arg = arg;
}

const char *m2m_node_entity(const m2m_node *n) { return n->conf.entity; }
const m2m_node_conf *m2m_node_config(const m2m_node *n) { return &n->conf; }
m2m_counters m2m_node_counters(const m2m_node *n) { return n->counters; }
const char *m2m_node_bound(const m2m_node *n) { return n->bound; }

size_t m2m_node_open_calls(const m2m_node *n)
{
	size_t k = 0;
	for (const call *c = n->calls; c; c = c->next)
		k++;
	return k;
}
