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
/* The node settings of a client's file (the testbed tool, the supplier's m2m-manufacture): 0, or
 * -1 with the reason ("FILE:LINE: ...") in err. The caller wipes out->secret_key after use. */
int m2m_client_conf(const char *path, m2m_node_conf *out, char *err, size_t errlen);

#endif
