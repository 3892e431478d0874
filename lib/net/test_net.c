/*
 * Transport tests: two real nodes in one process over real ipc:// sockets with CurveZMQ,
 * plus a raw DEALER for messages a well-behaved node would never send.
 */
#include "net/node.h"
#include "net/window.h"
#include "store/store.h"
#include "crypto/crypto.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

typedef struct keys {
	char pub[M2M_KEY_Z85], sec[M2M_KEY_Z85];
} keys;

typedef struct fixture {
	char dir[64];
	keys server_keys, client_keys;
	m2m_node_conf server_conf, client_conf;
	m2m_node *server, *client;
	sqlite3 *db;
	int dispatched;
	int defer_all;
	m2m_request *held[1024];
	int nheld;
	int replies;
	m2m_reason last_reason;
	int last_type;
} fixture;

static fixture fx;

static void make_keys(keys *k)
{
	cr_assert_eq(zmq_curve_keypair(k->pub, k->sec), 0);
}

static void add_peer(m2m_node_conf *c, const char *id, const char *endpoint, const char *pub)
{
	m2m_peer_conf *p = &c->peers[c->npeers++];
	snprintf(p->id, sizeof p->id, "%s", id);
	snprintf(p->endpoint, sizeof p->endpoint, "%s", endpoint);
	snprintf(p->public_key, sizeof p->public_key, "%s", pub);
}

/* The CK of the one vector the test server hands out: it must never reach the database in clear. */
static const unsigned char vector_ck[16] = {0xc5, 0x4b, 0x1e, 0x77, 0x0d, 0xa2, 0x39, 0xe6,
					    0x5f, 0x80, 0x13, 0xcc, 0x6a, 0x94, 0x2b, 0xf1};

static void set_octets(ASN1_OCTET_STRING *s, unsigned char byte, int n)
{
	unsigned char b[16];
	memset(b, byte, sizeof b);
	ASN1_OCTET_STRING_set(s, b, n);
}

static M2M_AUTH_INFO_RESPONSE *one_vector(void)
{
	M2M_AUTH_VECTOR *v = M2M_AUTH_VECTOR_new();
	set_octets(v->rand, 0x11, 16);
	set_octets(v->xres, 0x22, 8);
	set_octets(v->autn, 0x33, 16);
	ASN1_OCTET_STRING_set(v->ck, vector_ck, sizeof vector_ck);
	set_octets(v->ik, 0x44, 16);
	set_octets(v->kc, 0x55, 8);
	M2M_AUTH_INFO_RESPONSE *r = sk_M2M_AUTH_VECTOR_new_null();
	sk_M2M_AUTH_VECTOR_push(r, v);
	return r;
}

/* The server's role: pong pings; refuse pingPeersRequest after writing (must roll back);
 * answer authInfoRequest with one_vector(), a reply with SECRET fields. */
static void serve(m2m_node *n, m2m_request *req, void *arg)
{
	fx.dispatched++;
	sqlite3_exec(fx.db, "INSERT INTO step_effects VALUES (1)", NULL, NULL, NULL);
	if (req->env.type == M2M_MSG_PING_PEERS_REQUEST) {
		m2m_refuse(n, req, M2M_R_WRONG_STATE, "refused after writing");
		return;
	}
	if (req->env.type == M2M_MSG_AUTH_INFO_REQUEST) {
		M2M_AUTH_INFO_RESPONSE *r = one_vector();
		m2m_reply(n, req, M2M_MSG_AUTH_INFO_RESPONSE, r);
		sk_M2M_AUTH_VECTOR_pop_free(r, M2M_AUTH_VECTOR_free);
		return;
	}
	if (fx.defer_all) {
		fx.held[fx.nheld++] = req;
		m2m_defer(n, req);
		return;
	}
	m2m_reply(n, req, M2M_MSG_PONG, req->env.body);
}

static void setup(void)
{
	memset(&fx, 0, sizeof fx);
	snprintf(fx.dir, sizeof fx.dir, "/tmp/m2mnetXXXXXX");
	cr_assert_not_null(mkdtemp(fx.dir));
	make_keys(&fx.server_keys);
	make_keys(&fx.client_keys);
	char ep[128], db[128];
	snprintf(ep, sizeof ep, "ipc://%s/server.sock", fx.dir);
	snprintf(db, sizeof db, "%s/server.db", fx.dir);

	static const char *const migrations[] = {M2M_NODE_SCHEMA "CREATE TABLE step_effects (x);"};
	m2m_schema schema = {migrations, 1};
	char err[256] = "";
	fx.db = m2m_store_open(db, &schema, err, sizeof err);
	cr_assert_not_null(fx.db, "%s", err);

	m2m_node_conf *s = &fx.server_conf;
	snprintf(s->entity, sizeof s->entity, "server");
	snprintf(s->bind, sizeof s->bind, "%s", ep);
	snprintf(s->secret_key, sizeof s->secret_key, "%s", fx.server_keys.sec);
	s->timeout_ms = 200;
	add_peer(s, "client", "", fx.client_keys.pub);

	m2m_node_conf *c = &fx.client_conf;
	snprintf(c->entity, sizeof c->entity, "client");
	snprintf(c->secret_key, sizeof c->secret_key, "%s", fx.client_keys.sec);
	c->timeout_ms = 150;
	c->retries = 2;
	add_peer(c, "server", ep, fx.server_keys.pub);
}

static void start_server(void)
{
	char err[256] = "";
	fx.server = m2m_node_new(&fx.server_conf, fx.db, err, sizeof err);
	cr_assert_not_null(fx.server, "%s", err);
	m2m_node_set_dispatch(fx.server, serve, NULL);
}

static void start_client(void)
{
	char err[256] = "";
	fx.client = m2m_node_new(&fx.client_conf, NULL, err, sizeof err);
	cr_assert_not_null(fx.client, "%s", err);
}

static void teardown(void)
{
	m2m_node_free(fx.client);
	m2m_node_free(fx.server);
	m2m_store_close(fx.db);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", fx.dir);
	cr_assert_eq(system(cmd), 0);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Drives both nodes until *done reaches want or the deadline passes. */
static void pump_until(const int *done, int want, int deadline_ms)
{
	int64_t end = now_ms() + deadline_ms;
	while (*done < want && now_ms() < end) {
		if (fx.server)
			m2m_node_poll(fx.server, 0);
		if (fx.client)
			m2m_node_poll(fx.client, 5);
	}
}

static void on_reply(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
	fx.replies++;
	fx.last_reason = reason;
	fx.last_type = resp ? resp->type : -1;
	if (resp && resp->type == M2M_MSG_ERROR)
		fx.last_reason = (m2m_reason)ASN1_ENUMERATED_get(((M2M_ERROR_REPORT *)resp->body)->reason);
}

static M2M_PING *new_ping(const char *nonce)
{
	M2M_PING *p = M2M_PING_new();
	ASN1_OCTET_STRING_set(p->nonce, (const unsigned char *)nonce, (int)strlen(nonce));
	return p;
}

static int call_ping(int type)
{
	M2M_PING *p = new_ping("nonce-0123");
	int rc = m2m_call(fx.client, "server", type, p, on_reply, NULL);
	M2M_PING_free(p);
	return rc;
}

TestSuite(net, .init = setup, .fini = teardown, .timeout = 30);

Test(net, request_and_reply_over_curve)
{
	start_server();
	start_client();
	cr_assert_eq(call_ping(M2M_MSG_PING), 0);
	pump_until(&fx.replies, 1, 3000);
	cr_assert_eq(fx.replies, 1);
	cr_assert_eq(fx.last_type, M2M_MSG_PONG);
	cr_assert_eq(fx.dispatched, 1);
	cr_assert_eq(m2m_node_open_calls(fx.client), 0);
}

Test(net, timeout_after_bounded_retries)
{
	start_client();  /* nobody serves the endpoint */
	int64_t t0 = now_ms();
	cr_assert_eq(call_ping(M2M_MSG_PING), 0);
	pump_until(&fx.replies, 1, 3000);
	int64_t elapsed = now_ms() - t0;
	cr_assert_eq(fx.replies, 1);
	cr_assert_eq(fx.last_type, -1);
	cr_assert_eq(fx.last_reason, M2M_R_TIMEOUT);
	/* one try and two retries of 150 ms each */
	cr_assert_geq(elapsed, 3 * 150, "gave up after %lld ms", (long long)elapsed);
}

Test(net, retry_reaches_a_late_server_and_is_processed_once)
{
	start_client();
	cr_assert_eq(call_ping(M2M_MSG_PING), 0);
	pump_until(&fx.replies, 1, 200);  /* the first try and one retry go unanswered */
	cr_assert_eq(fx.replies, 0);
	start_server();
	pump_until(&fx.replies, 1, 3000);
	cr_assert_eq(fx.replies, 1);
	cr_assert_eq(fx.last_type, M2M_MSG_PONG);
	pump_until(&fx.dispatched, 99, 300);  /* let every queued copy arrive */
	cr_assert_eq(fx.dispatched, 1, "the copies were processed %d times", fx.dispatched);
}

Test(net, refusal_rolls_back_the_step)
{
	start_server();
	start_client();
	M2M_PING_PEERS_REQUEST *q = M2M_PING_PEERS_REQUEST_new();
	cr_assert_eq(m2m_call(fx.client, "server", M2M_MSG_PING_PEERS_REQUEST, q, on_reply, NULL), 0);
	M2M_PING_PEERS_REQUEST_free(q);
	pump_until(&fx.replies, 1, 3000);
	cr_assert_eq(fx.last_type, M2M_MSG_ERROR);
	cr_assert_eq(fx.last_reason, M2M_R_WRONG_STATE);
	sqlite3_stmt *st;
	sqlite3_prepare_v2(fx.db, "SELECT count(*) FROM step_effects", -1, &st, NULL);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_eq(sqlite3_column_int(st, 0), 0, "a refused step left its writes");
	sqlite3_finalize(st);

	cr_assert_eq(call_ping(M2M_MSG_PING), 0);  /* a successful step keeps them */
	pump_until(&fx.replies, 2, 3000);
	sqlite3_prepare_v2(fx.db, "SELECT count(*) FROM step_effects", -1, &st, NULL);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_eq(sqlite3_column_int(st, 0), 1);
	sqlite3_finalize(st);
}

Test(net, unknown_curve_key_is_refused)
{
	start_server();
	keys stranger;
	make_keys(&stranger);
	snprintf(fx.client_conf.secret_key, sizeof fx.client_conf.secret_key, "%s", stranger.sec);
	start_client();
	cr_assert_eq(call_ping(M2M_MSG_PING), 0);
	pump_until(&fx.replies, 1, 3000);
	cr_assert_eq(fx.last_reason, M2M_R_TIMEOUT);
	cr_assert_eq(fx.dispatched, 0);
	cr_assert_geq(m2m_node_counters(fx.server).refused, 1, "the ZAP refusal was not counted");
}

Test(net, many_concurrent_transactions_answered_out_of_order)
{
	enum { N = 400 };
	fx.client_conf.timeout_ms = 5000;
	start_server();
	start_client();
	fx.defer_all = 1;
	for (int i = 0; i < N; i++) {
		char nonce[32];
		snprintf(nonce, sizeof nonce, "nonce-%08d", i);
		M2M_PING *p = new_ping(nonce);
		cr_assert_eq(m2m_call(fx.client, "server", M2M_MSG_PING, p, on_reply, NULL), 0);
		M2M_PING_free(p);
	}
	cr_assert_eq(m2m_node_open_calls(fx.client), N);
	pump_until(&fx.nheld, N, 10000);
	cr_assert_eq(fx.nheld, N, "only %d requests arrived", fx.nheld);
	for (int i = N - 1; i >= 0; i--)  /* the last request is answered first */
		m2m_reply(fx.server, fx.held[i], M2M_MSG_PONG, fx.held[i]->env.body);
	pump_until(&fx.replies, N, 10000);
	cr_assert_eq(fx.replies, N);
	cr_assert_eq(m2m_node_open_calls(fx.client), 0);
}

/* ---- a raw client, for what a node never sends by itself ---- */

static void *raw_dealer(void *ctx)
{
	void *s = zmq_socket(ctx, ZMQ_DEALER);
	zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, fx.server_keys.pub, 41);
	zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, fx.client_keys.pub, 41);
	zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, fx.client_keys.sec, 41);
	cr_assert_eq(zmq_connect(s, fx.server_conf.bind), 0);
	int timeout = 3000;
	zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
	return s;
}

static unsigned char *raw_message(const char *sender, uint64_t seq, uint8_t txid_byte, int type, const void *body,
				  size_t *len)
{
	m2m_envelope e = {.type = type, .seq = seq};
	memset(e.txid, txid_byte, sizeof e.txid);
	snprintf(e.sender, sizeof e.sender, "%s", sender);
	snprintf(e.recipient, sizeof e.recipient, "server");
	unsigned char *der = NULL;
	cr_assert_eq(m2m_encode(&e, body, &der, len), M2M_OK);
	return der;
}

static unsigned char *raw_ping(const char *sender, uint64_t seq, uint8_t txid_byte, size_t *len)
{
	M2M_PING *p = new_ping("raw-nonce");
	unsigned char *der = raw_message(sender, seq, txid_byte, M2M_MSG_PING, p, len);
	M2M_PING_free(p);
	return der;
}

static unsigned char *raw_auth_info_request(uint64_t seq, uint8_t txid_byte, size_t *len)
{
	M2M_AUTH_INFO_REQUEST *q = M2M_AUTH_INFO_REQUEST_new();
	cr_assert_eq(m2m_set_digits(&q->imsi, "001010000000001"), 0);
	m2m_set_str(q->serving_network, "client");
	q->num_vectors = 1;
	unsigned char *der = raw_message("client", seq, txid_byte, M2M_MSG_AUTH_INFO_REQUEST, q, len);
	M2M_AUTH_INFO_REQUEST_free(q);
	return der;
}

/* Sends, lets the server work, and returns the reply's bytes (malloc'd). */
static unsigned char *exchange(void *s, const unsigned char *der, size_t len, size_t *rlen)
{
	cr_assert_eq(zmq_send(s, der, len, 0), (int)len);
	unsigned char *buf = malloc(4096);
	int n = -1;
	for (int i = 0; i < 300 && n < 0; i++) {
		m2m_node_poll(fx.server, 10);
		n = zmq_recv(s, buf, 4096, ZMQ_DONTWAIT);
	}
	cr_assert_gt(n, 0, "no reply");
	*rlen = (size_t)n;
	return buf;
}

static m2m_reason reply_reason(const unsigned char *der, size_t len)
{
	m2m_envelope e;
	cr_assert_eq(m2m_decode(der, len, &e), M2M_OK);
	m2m_reason r = e.type == M2M_MSG_ERROR ? (m2m_reason)ASN1_ENUMERATED_get(((M2M_ERROR_REPORT *)e.body)->reason)
					       : M2M_OK;
	m2m_envelope_clear(&e);
	return r;
}

static m2m_reason send_raw(void *s, const char *sender, uint64_t seq, uint8_t txid_byte)
{
	size_t len, rlen;
	unsigned char *der = raw_ping(sender, seq, txid_byte, &len);
	unsigned char *reply = exchange(s, der, len, &rlen);
	m2m_reason r = reply_reason(reply, rlen);
	OPENSSL_free(der);
	free(reply);
	return r;
}

Test(net, duplicate_is_answered_from_the_stored_reply)
{
	start_server();
	void *ctx = zmq_ctx_new(), *s = raw_dealer(ctx);
	size_t len, r1, r2;
	unsigned char *der = raw_ping("client", 7, 0xaa, &len);
	unsigned char *a = exchange(s, der, len, &r1);
	unsigned char *b = exchange(s, der, len, &r2);
	cr_assert_eq(fx.dispatched, 1, "a duplicate was processed again");
	cr_assert_eq(r1, r2);
	cr_assert_eq(memcmp(a, b, r1), 0, "the duplicate got a different reply");
	cr_assert_eq(reply_reason(a, r1), M2M_OK);
	OPENSSL_free(der);
	free(a);
	free(b);
	zmq_close(s);
	zmq_ctx_term(ctx);
}

static int contains(const void *hay, size_t len, const void *needle, size_t n)
{
	return memmem(hay, len, needle, n) != NULL;
}

/* The CK of the vector an authInfoResponse carries (the reply as the caller receives it). */
static int reply_carries_the_ck(const unsigned char *der, size_t len)
{
	m2m_envelope e;
	cr_assert_eq(m2m_decode(der, len, &e), M2M_OK);
	cr_assert_eq(e.type, M2M_MSG_AUTH_INFO_RESPONSE);
	const M2M_AUTH_VECTOR *v = sk_M2M_AUTH_VECTOR_value(e.body, 0);
	int same = ASN1_STRING_length(v->ck) == (int)sizeof vector_ck &&
		   !memcmp(ASN1_STRING_get0_data(v->ck), vector_ck, sizeof vector_ck);
	m2m_envelope_clear(&e);
	return same;
}

/* The stored reply of the window row (sender "client", seq) must be sealed: no CK in clear. */
static void assert_row_sealed(uint64_t seq, size_t reply_len)
{
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_prepare_v2(fx.db, "SELECT reply, sealed FROM peer_window WHERE sender = 'client' AND seq = ?",
					-1, &st, NULL),
		     SQLITE_OK);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "the request is in the window");
	size_t stored = (size_t)sqlite3_column_bytes(st, 0);
	int clear = contains(sqlite3_column_blob(st, 0), stored, vector_ck, sizeof vector_ck);
	int sealed = sqlite3_column_int(st, 1);
	sqlite3_finalize(st);
	cr_assert_eq(sealed, 1, "a reply with SECRET fields is stored sealed");
	cr_assert_eq(stored, reply_len + M2M_SEAL_OVERHEAD, "the stored reply is the sealed reply");
	cr_assert(!clear, "the stored reply holds CK in clear");
}

/* Not in any page of the database or its WAL either (a stale copy of a row would be). */
static void assert_files_lack_the_ck(void)
{
	static const char *const names[] = {"server.db", "server.db-wal"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char path[128];
		snprintf(path, sizeof path, "%s/%s", fx.dir, names[i]);
		FILE *f = fopen(path, "rb");
		if (!f)
			continue;
		static unsigned char buf[4 << 20];
		size_t n = fread(buf, 1, sizeof buf, f);
		fclose(f);
		cr_assert(!contains(buf, n, vector_ck, sizeof vector_ck), "%s holds CK in clear", names[i]);
	}
}

Test(net, duplicate_of_a_secret_reply_is_answered_from_the_sealed_store)
{
	start_server();
	void *ctx = zmq_ctx_new(), *s = raw_dealer(ctx);
	size_t len, r1, r2;
	unsigned char *der = raw_auth_info_request(11, 0xab, &len);
	unsigned char *a = exchange(s, der, len, &r1);
	unsigned char *b = exchange(s, der, len, &r2);
	cr_assert_eq(fx.dispatched, 1, "a duplicate was processed again");
	cr_assert_eq(r1, r2);
	cr_assert_eq(memcmp(a, b, r1), 0, "the duplicate got a different reply");
	cr_assert(reply_carries_the_ck(b, r2), "the caller gets the secret itself, not a redacted copy");
	cr_assert(contains(b, r2, vector_ck, sizeof vector_ck), "the search below would see a CK in clear");
	assert_row_sealed(11, r1);
	assert_files_lack_the_ck();
	OPENSSL_free(der);
	free(a);
	free(b);
	zmq_close(s);
	zmq_ctx_term(ctx);
}

/* The sealing key lives in the process only: after a restart the duplicate is processed again. */
Test(net, duplicate_of_a_secret_reply_after_a_restart_is_processed_again)
{
	start_server();
	void *ctx = zmq_ctx_new(), *s = raw_dealer(ctx);
	size_t len, r1, r2;
	unsigned char *der = raw_auth_info_request(12, 0xac, &len);
	unsigned char *a = exchange(s, der, len, &r1);
	m2m_node_free(fx.server);
	fx.server = NULL;
	start_server();
	unsigned char *b = exchange(s, der, len, &r2);
	cr_assert_eq(fx.dispatched, 2, "the stored reply cannot be opened by the new process");
	cr_assert(reply_carries_the_ck(a, r1) && reply_carries_the_ck(b, r2));
	assert_row_sealed(12, r2);
	OPENSSL_free(der);
	free(a);
	free(b);
	zmq_close(s);
	zmq_ctx_term(ctx);
}

Test(net, replayed_sequence_is_refused)
{
	start_server();
	void *ctx = zmq_ctx_new(), *s = raw_dealer(ctx);
	cr_assert_eq(send_raw(s, "client", 9, 0x01), M2M_OK);
	cr_assert_eq(send_raw(s, "client", 9, 0x02), M2M_R_REPLAYED);
	cr_assert_eq(fx.dispatched, 1);
	zmq_close(s);
	zmq_ctx_term(ctx);
}

Test(net, sequence_older_than_the_window_is_refused)
{
	start_server();
	void *ctx = zmq_ctx_new(), *s = raw_dealer(ctx);
	for (int i = 0; i < M2M_WINDOW; i++)
		cr_assert_eq(send_raw(s, "client", 1000 + (uint64_t)i * 10, (uint8_t)i), M2M_OK);
	cr_assert_eq(send_raw(s, "client", 995, 0xee), M2M_R_OUT_OF_WINDOW);
	cr_assert_eq(send_raw(s, "client", 1005, 0xef), M2M_OK, "a gap inside the window is accepted");
	zmq_close(s);
	zmq_ctx_term(ctx);
}

Test(net, sender_must_be_the_authenticated_peer)
{
	start_server();
	void *ctx = zmq_ctx_new(), *s = raw_dealer(ctx);
	cr_assert_eq(send_raw(s, "someone-else", 1, 0x01), M2M_R_SENDER_MISMATCH);
	cr_assert_eq(fx.dispatched, 0);
	zmq_close(s);
	zmq_ctx_term(ctx);
}

Test(net, garbage_gets_an_error_and_the_server_lives_on)
{
	start_server();
	void *ctx = zmq_ctx_new(), *s = raw_dealer(ctx);
	static const unsigned char junk[] = {0x30, 0x03, 0x02, 0x01};
	size_t rlen;
	unsigned char *reply = exchange(s, junk, sizeof junk, &rlen);
	cr_assert_eq(reply_reason(reply, rlen), M2M_R_TRUNCATED);
	free(reply);
	cr_assert_eq(send_raw(s, "client", 3, 0x03), M2M_OK);
	zmq_close(s);
	zmq_ctx_term(ctx);
}

Test(node_conf, a_peer_by_its_id)
{
	m2m_node_conf c = {.npeers = 2};
	snprintf(c.peers[0].id, sizeof c.peers[0].id, "mno-a");
	snprintf(c.peers[1].id, sizeof c.peers[1].id, "drf");
	cr_assert_eq(m2m_node_conf_peer(&c, "drf"), &c.peers[1]);
	cr_assert_eq(m2m_node_conf_peer(&c, "mno-a"), &c.peers[0]);
	cr_assert_null(m2m_node_conf_peer(&c, "mno-b"));
	cr_assert_null(m2m_node_conf_peer(&c, "dr"), "the whole id, not a prefix");
}
