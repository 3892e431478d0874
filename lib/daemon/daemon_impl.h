/* The daemon's state, shared by daemon.c and common.c only. */
#ifndef M2M_DAEMON_IMPL_H
#define M2M_DAEMON_IMPL_H

#include "daemon/daemon.h"

#include <time.h>

struct m2m_daemon {
	const m2m_role *role;
	m2m_conf conf;
	m2m_node_conf node_conf;
	char database[512];
	m2m_node *node;
	sqlite3 *db;
	void *ctx;
	time_t started;
};

/* Answers the requests every entity serves; returns 0 if req was not one of them. */
int m2m_common_dispatch(m2m_daemon *d, m2m_request *req);

#endif
