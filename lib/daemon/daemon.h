/*
 * What every role's process shares: command line (--help, --version, -c FILE, --check-config),
 * its libconfig file, its SQLite database, its node on the transport, signal handling, and the
 * requests every entity answers (healthRequest, ping, pingPeersRequest). A role supplies one
 * m2m_role: its settings, its schema and its single dispatch function.
 *
 * Exit status: 0 after a clean stop (SIGTERM or SIGINT), 1 on a runtime failure, 2 on bad
 * usage or a bad configuration file (the message names the file, line and setting).
 */
#ifndef M2M_DAEMON_H
#define M2M_DAEMON_H

#include "conf/conf.h"
#include "net/node.h"
#include "store/store.h"

typedef struct m2m_daemon m2m_daemon;

typedef struct m2m_role {
	const char *name;         /* "mno": also the name of its settings group */
	const char *description;  /* one line for --help */
	/* Its schema; migration 1 must contain M2M_NODE_SCHEMA. */
	const m2m_schema *schema;
	/* Reads the role's group (NULL when absent); reports problems with m2m_conf_fail. NULL: the
	 * role has no settings, and its group, if present, must be empty. */
	void (*configure)(m2m_daemon *d, m2m_conf *c, config_setting_t *group);
	/* After the database and transport are up: resume persisted procedures. May be NULL. */
	int (*start)(m2m_daemon *d);
	/* Every request other than the common ones; NULL refuses them all. */
	void (*dispatch)(m2m_daemon *d, m2m_request *req);
	/* Called about once a second and after every event the node handled: for retries and
	 * timers of persisted procedures. May be NULL. */
	void (*tick)(m2m_daemon *d);
	/* May be NULL. Also called after a refused configuration, when only what configure set up exists. */
	void (*stop)(m2m_daemon *d);
} m2m_role;

int m2m_daemon_main(int argc, char **argv, const m2m_role *role);

m2m_node *m2m_daemon_node(m2m_daemon *d);
sqlite3 *m2m_daemon_db(m2m_daemon *d);
const char *m2m_daemon_entity(const m2m_daemon *d);
/* The role's own context, set by configure. */
void *m2m_daemon_ctx(m2m_daemon *d);
void m2m_daemon_set_ctx(m2m_daemon *d, void *ctx);

/* Reads a transport section and peers list (shared with the testbed tool). */
void m2m_conf_node(m2m_conf *c, m2m_node_conf *out);
/* Whether id is in the file's peers list; *has_endpoint (may be NULL) whether it can be called. */
int m2m_conf_is_peer(m2m_conf *c, const char *id, int *has_endpoint);
/* That id, named by setting at, is a configured peer (one with an endpoint when need_endpoint):
 * 0, or -1 with the problem reported to c. */
int m2m_conf_check_peer(m2m_conf *c, const config_setting_t *at, const char *id, int need_endpoint);
/* A setting of group naming a configured peer (one with an endpoint when need_endpoint) into out;
 * dflt NULL makes it required. 0, or -1 with the problem reported to c. */
int m2m_conf_peer(m2m_conf *c, config_setting_t *group, const char *name, const char *dflt, int need_endpoint,
		  char out[M2M_ENTITY_MAX + 1]);
/* The node settings of a client's file (the testbed tool, the supplier's m2m-manufacture): 0, or
 * -1 with the reason ("FILE:LINE: ...") in err. The caller wipes out->secret_key after use. */
int m2m_client_conf(const char *path, m2m_node_conf *out, char *err, size_t errlen);

/* ---- a call that got no usable answer (call_failure.c) ----------------------------------------- */

/* Why, for a log line or a refusal's text: no answer (the transport's reason), the peer's
 * ErrorReport (its reason and text), or a message of an unexpected type. Returns buf. */
const char *m2m_call_failure(const char *peer, const m2m_envelope *resp, m2m_reason reason, char *buf, size_t len);
/* The reason to pass on for it: the transport's, the peer's refusal, or unexpectedMessage (also
 * for an ErrorReport that says ok, which is none). */
m2m_reason m2m_call_reason(const m2m_envelope *resp, m2m_reason reason);

#endif
