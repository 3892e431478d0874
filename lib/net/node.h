/*
 * A node is one entity's end of the transport: a ROUTER it serves requests on (CurveZMQ
 * server, peers admitted by public key through the ZAP handler), one DEALER per peer it calls
 * (CurveZMQ client), and a PUB tap that copies every message it sends or receives.
 *
 * Requests arrive on the ROUTER, replies on the DEALERs. Calls are asynchronous: any number
 * may be open at once, each with its own deadline and bounded retries; a retry resends the
 * identical envelope (same transaction id and sequence), which the receiver's window answers
 * from its stored reply instead of processing twice.
 */
#ifndef M2M_NET_NODE_H
#define M2M_NET_NODE_H

#include "wire/wire.h"

#include <sqlite3.h>
#include <stdint.h>

#define M2M_MAX_PEERS 64
#define M2M_ENDPOINT_MAX 255
#define M2M_KEY_Z85 41  /* 40 Z85 characters and a NUL */

typedef struct m2m_peer_conf {
	char id[M2M_ENTITY_MAX + 1];
	char endpoint[M2M_ENDPOINT_MAX + 1];  /* empty: the peer only calls us */
	char public_key[M2M_KEY_Z85];
} m2m_peer_conf;

typedef struct m2m_node_conf {
	char entity[M2M_ENTITY_MAX + 1];
	char bind[M2M_ENDPOINT_MAX + 1];  /* empty: a pure client (the testbed tool) */
	char tap[M2M_ENDPOINT_MAX + 1];   /* empty: no tap */
	char secret_key[M2M_KEY_Z85];
	int timeout_ms;
	int retries;
	int npeers;
	m2m_peer_conf peers[M2M_MAX_PEERS];
} m2m_node_conf;

typedef struct m2m_node m2m_node;

/* An incoming request, valid until it is answered. */
typedef struct m2m_request {
	m2m_envelope env;
	uint8_t route[256];
	size_t route_len;
	struct m2m_request *next;  /* node-private list of deferred requests */
} m2m_request;

/* resp is NULL when no reply came (reason says why: timeout, unreachable); an ErrorReport
 * reply arrives as resp with resp->type == M2M_MSG_ERROR. */
typedef void (*m2m_response_cb)(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg);
typedef void (*m2m_dispatch_cb)(m2m_node *n, m2m_request *req, void *arg);

typedef struct m2m_counters {
	uint64_t received, sent, refused;
} m2m_counters;

/* db may be NULL (no persistence: sequence numbers then follow the clock, and duplicates are
 * not detected across restarts). With a db, the tables of M2M_NODE_SCHEMA must exist. */
m2m_node *m2m_node_new(const m2m_node_conf *conf, sqlite3 *db, char *err, size_t errlen);
void m2m_node_free(m2m_node *n);
void m2m_node_set_dispatch(m2m_node *n, m2m_dispatch_cb cb, void *arg);

/* One round of the event loop: waits at most max_wait_ms; returns -1 when interrupted by a
 * signal (the caller checks its flags), 0 otherwise. */
int m2m_node_poll(m2m_node *n, int max_wait_ms);

/* Starts a call; 0, or -1 if peer is unknown or has no endpoint (cb is then not called). */
int m2m_call(m2m_node *n, const char *peer, int type, const void *body, m2m_response_cb cb, void *arg);

/*
 * Answering a request, from inside the dispatch callback or later for a deferred one. Inside
 * dispatch the node has opened a database transaction around the step: m2m_reply stores the
 * reply in it and commits before sending; m2m_refuse rolls the step back (a refusal changes
 * no state) and sends an ErrorReport. Call exactly one of reply, refuse or defer per request.
 */
void m2m_reply(m2m_node *n, m2m_request *req, int type, const void *body);
void m2m_refuse(m2m_node *n, m2m_request *req, m2m_reason reason, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* A refusal that records a decision: unlike m2m_refuse the step commits (a suspended clone, an
 * attach marked failed), and the ErrorReport is stored as the reply a retry gets. */
void m2m_refuse_recorded(m2m_node *n, m2m_request *req, m2m_reason reason, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The outcome of a step run apart from the wire: the reply (type, body) when r is M2M_OK, else
 * the refusal r with why as its text. */
void m2m_answer(m2m_node *n, m2m_request *req, m2m_reason r, int type, const void *body, const char *why);
/* Keeps the request past the dispatch callback (its step is committed without a reply). */
void m2m_defer(m2m_node *n, m2m_request *req);

const char *m2m_node_entity(const m2m_node *n);
const m2m_node_conf *m2m_node_config(const m2m_node *n);
/* The configured peer id, or NULL. */
const m2m_peer_conf *m2m_node_conf_peer(const m2m_node_conf *conf, const char *id);
m2m_counters m2m_node_counters(const m2m_node *n);
size_t m2m_node_open_calls(const m2m_node *n);
/* The endpoint actually bound (resolves tcp://127.0.0.1:* to its port). */
const char *m2m_node_bound(const m2m_node *n);

/* Tables the node keeps in the daemon's database: the per-sender window of recent requests
 * with their stored replies, and the reserved block of our own sequence numbers. */
#define M2M_NODE_SCHEMA                                                                    \
	"CREATE TABLE peer_window (sender TEXT NOT NULL, seq INTEGER NOT NULL,"            \
	" txid BLOB NOT NULL, reply BLOB, sealed INTEGER NOT NULL DEFAULT 0,"                \
	" PRIMARY KEY (sender, seq)) WITHOUT ROWID;"       \
	"CREATE TABLE node_sequence (id INTEGER PRIMARY KEY CHECK (id = 1),"               \
	" reserved INTEGER NOT NULL);"                                                     \
	"INSERT INTO node_sequence VALUES (1, 0);"

#endif
