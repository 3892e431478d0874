/*
 * For tests that need the real certification agency (and its PVA): a certauth process of their
 * own in a temporary directory, configured with the peers and enrolments the test names, and the
 * small things around processes (files, keys, binaries next to the test's own). Also what every
 * role's tests do on the transport: open a node of their own, call and wait for the answer; and
 * what the worlds of real processes share (mno/dpf, mno/port): identities of the test's own,
 * enrolled at the agency, and the daemons' databases read directly.
 * Used by lib/daemon/test_identity.c and the tests of drf, mno, tre, m2me and certauth/pva.
 */
#ifndef M2M_TEST_AGENCY_H
#define M2M_TEST_AGENCY_H

#include "net/node.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct m2m_identity m2m_identity;  /* daemon/identity.h */
typedef struct m2m_trust m2m_trust;        /* pki/pki.h */

#define TA_AGENCY "certauth"

typedef struct ta_keypair {
	char pub[M2M_KEY_Z85], sec[M2M_KEY_Z85];
} ta_keypair;

/* An entity the agency knows. */
typedef struct ta_peer {
	const char *id;
	const char *pub;          /* its CurveZMQ public key */
	const char *endpoint;     /* NULL: it only calls the agency (a TRE the PVA challenges has one) */
	const char *profile;      /* NULL: it does not enrol; else its CertProfile name */
	const char *secret_file;  /* with a profile: its enrolment secret file */
} ta_peer;

typedef struct ta_agency {
	char dir[64];
	ta_keypair key;
	pid_t pid;
	char endpoint[128], root[128], conf[128];
} ta_agency;

/* ---- files, keys, processes ------------------------------------------------------------------ */

void ta_tempdir(char dir[64]);
/* DIR/NAME into out. */
void ta_path(char *out, size_t len, const char *dir, const char *name);
void ta_write(const char *dir, const char *name, const char *text);
/* A whole file, NUL-terminated (malloc'd, *len its size without the NUL); NULL when it cannot be read. */
char *ta_read(const char *path, size_t *len);
void ta_keypair_make(ta_keypair *k);
/* DIR/NAME holding k's secret key: a daemon's secret_key_file. */
void ta_write_key(const char *dir, const char *name, const ta_keypair *k);
/* The len bytes of the hex that starts DIR/NAME (a storage key, an enrolment secret). */
void ta_read_hex(const char *dir, const char *name, uint8_t *out, size_t len);
/* DIR/NAME holding n random bytes as hex (a storage key, an enrolment secret). */
void ta_random_file(const char *dir, const char *name, size_t n);
/* The binary named by environment variable env, or else relative (e.g. "certauth/certauth") to
 * the build directory of the running test. */
const char *ta_binary(const char *env, const char *relative, char *buf, size_t len);
/* binary -c conf in a child process, its output appended to log. */
pid_t ta_spawn(const char *binary, const char *conf, const char *log);
/* SIGTERM and wait: the exit status (128 + signal when killed). */
int ta_stop(pid_t pid);
/* A shell command's exit status. */
int ta_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- calls ------------------------------------------------------------------------------------- */

/* What a call got: a reply (a copy of its body), an ErrorReport (reason and text), or nothing
 * (type -1, reason timeout). */
typedef struct ta_answer {
	int done, type;
	m2m_reason reason;
	char text[256];
	void *body;
} ta_answer;

/* Adds peer id (endpoint NULL or "": it only calls us) to c. */
void ta_peer_add(m2m_node_conf *c, const char *id, const char *endpoint, const char *public_key);
/* A node of the test's own (db may be NULL), answering with serve(arg) when serve is not NULL. */
m2m_node *ta_node(const m2m_node_conf *c, sqlite3 *db, m2m_dispatch_cb serve, void *arg);

/* Calls peer from node; the answer lands in *a (a->done set) while the test polls the nodes its
 * world needs. */
void ta_call_start(m2m_node *from, const char *peer, int type, const void *body, ta_answer *a);
/* The callback of that call (arg: a ta_answer), for a harness that makes its own m2m_call. */
void ta_on_answer(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg);
/* ta_call_start, then polls that node alone until the answer comes. */
ta_answer ta_call(m2m_node *from, const char *peer, int type, const void *body);
void ta_answer_free(ta_answer *a);
/* A fake peer's answer of type with a ChangeAck {changeId: id} (treTriggerAck, changeCompleteAck, ...). */
void ta_reply_change_ack(m2m_node *n, m2m_request *req, int type, const uint8_t id[16]);

/* Polls the n nodes (NULL ones left out) for about ms, 1 ms each a round, and after each round
 * ticks ids[i] (NULL: none) on nodes[i]: what a test does while its daemons work. */
void ta_pump(m2m_node *const *nodes, m2m_identity *const *ids, size_t n, int ms);
/* Checks cond every 40 ms of pump, for at most seconds: whether it held. */
int ta_wait_for(int (*cond)(void), int seconds, void (*pump)(int ms));

/* ---- a daemon's database, read by the test ------------------------------------------------------ */

/* DIR/FILE opened read-only, with a busy timeout: its daemon writes meanwhile. */
sqlite3 *ta_db_readonly(const char *dir, const char *file);
/* The first column of the first row of a query (fmt, ap) on DIR/FILE, as an integer: -1 when
 * there is no row, -2 when it cannot be asked (yet: the daemon is still creating its tables). */
long long ta_query_intv(const char *dir, const char *file, const char *fmt, va_list ap);
/* ... as text into out ("" when there is no row or it cannot be asked). */
void ta_query_textv(char *out, size_t len, const char *dir, const char *file, const char *fmt, va_list ap);
/* DIR/FILE exists and holds its identity's chain: the daemon enrolled. */
int ta_db_enrolled(const char *dir, const char *file);

/* ---- the agency -------------------------------------------------------------------------------- */

/* Its configuration in dir (extra: more settings of the certauth group, may be NULL). */
void ta_agency_configure(ta_agency *a, const char *dir, const ta_peer *peers, int npeers, const char *extra);
/* certauth-admin -c its configuration ARGS: the exit status. */
int ta_agency_admin(ta_agency *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Starts the process and waits until its root certificate is written. */
void ta_agency_start(ta_agency *a);
int ta_agency_stop(ta_agency *a);
/* An identity of the test's own (a DRF, a PVA, an operator), its database a->dir/DB_FILE, under a
 * fresh storage key; it enrols at the agency with the secret a->dir/ENTITY.enrol (the one the
 * agency was configured with) as ta_pump ticks it. */
m2m_identity *ta_identity_open(const ta_agency *a, const char *entity, const char *db_file, int profile,
			       int crl_refresh_seconds, sqlite3 **db);
/* The item that SignedData sd holds, its signature checked against trust and its signer the
 * operatorFunction cn (an operator's package as its receiver opens it). Free it. */
void *ta_signed_item(m2m_trust *trust, const uint8_t *sd, size_t len, const char *cn, const ASN1_ITEM *item);

#endif
