/*
 * The ports in the mno daemon: their settings, their life (the operator's identity, shared with
 * the DPF, signs, opens packages and checks the other operator's certificate), the dispatch of
 * portRequest, portTransfer and portComplete, and the tick that moves what is left: B's requests
 * and completions, A's transfers and the rewrites it follows.
 */
#include "port/port_impl.h"

#include "log/log.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

void port_configure(m2m_daemon *d, m2m_conf *c, config_setting_t *group, mno_context *ctx)
{
	config_setting_t *g = group ? config_setting_get_member(group, "port") : NULL;
	if (!g)
		return;  /* no port: a change of operator is a card swap (Alternative 2) */
	ctx->port = calloc(1, sizeof *ctx->port);
	if (!ctx->port) {
		m2m_conf_fail(c, g, "out of memory");
		return;
	}
	port_settings_read(c, g, ctx->hss->settings.plmn, !ctx->identity, &ctx->port->settings);
	if (ctx->port->settings.has_identity)
		ctx->identity = &ctx->port->settings.identity;
}

int port_start(m2m_daemon *d, mno_context *ctx)
{
	port_context *port = ctx->port;
	if (!port)
		return 0;
	port->hss = ctx->hss;
	port->node = m2m_daemon_node(d);
	port->db = m2m_daemon_db(d);
	port->id = ctx->id;
	snprintf(port->entity, sizeof port->entity, "%s", m2m_daemon_entity(d));
	if (port->settings.imsi_first[0])
		m2m_info("ports: cards taken in get IMSIs from %s (%ld)", port->settings.imsi_first, port->settings.imsi_count);
	else
		m2m_info("ports: cards are given away only (no port range)");
	return 0;
}

int port_serves(int type)
{
	return type == M2M_MSG_PORT_REQUEST || type == M2M_MSG_PORT_TRANSFER || type == M2M_MSG_PORT_COMPLETE;
}

void port_dispatch(m2m_daemon *d, mno_context *ctx, m2m_request *req)
{
	port_context *port = ctx->port;
	if (!port) {
		m2m_refuse(m2m_daemon_node(d), req, M2M_R_UNEXPECTED_MESSAGE, "%s takes part in no port (Alternative 3a)",
			   m2m_daemon_entity(d));
		return;
	}
	/* internalError, not wrongState: the other operator asks again later */
	if (!m2m_identity_ready(port->id)) {
		m2m_refuse(port->node, req, M2M_R_INTERNAL, "%s is not enrolled at its agency yet", port->entity);
		return;
	}
	if (req->env.type == M2M_MSG_PORT_REQUEST)
		port_request_in(port, req);
	else if (req->env.type == M2M_MSG_PORT_TRANSFER)
		port_transfer_in(port, req);
	else
		port_complete_in(port, req);
}

/* Whether something other than a port's own answer moved it since the last round, so that its
 * next step need not wait retry_seconds: the staff started a port at B (mno-admin: portRequest
 * goes next), a card's first attach at B activated its record (the HSS's updateLocation:
 * portComplete goes next), an OTA rewrite at A ended done (its PoR). A failed job waits for the
 * round, as retries do. */
static int moved_elsewhere(port_context *port)
{
	static const char sql[] =
		"SELECT EXISTS (SELECT 1 FROM port_port WHERE side = 'in' AND state = 'requesting' AND created >= ?)"
		" OR EXISTS (SELECT 1 FROM port_device d JOIN hss_subscriber s ON s.imsi = d.new_imsi"
		"  WHERE d.state = 'provisioned' AND s.state = 'active')"
		" OR EXISTS (SELECT 1 FROM port_device d JOIN ota_job j ON j.id = d.job_id"
		"  WHERE d.state = 'rewriting' AND j.state = 'done')";
	sqlite3_stmt *st = m2m_store_prepare(port->db, sql);
	if (st)
		sqlite3_bind_int64(st, 1, port->due - port->settings.retry_s);  /* the last round */
	int moved = st && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return moved;
}

/* The ports' work runs every retry_seconds (calls not answered go again), and at once after a
 * step: an answer or a request that changed a port sets due to 0, moved_elsewhere the rest. */
void port_tick(m2m_daemon *d, mno_context *ctx)
{
	port_context *port = ctx->port;
	int64_t now = (int64_t)time(NULL);
	if (!port || !port->node || !m2m_identity_ready(port->id))
		return;
	if (now < port->due && !moved_elsewhere(port))
		return;
	port->due = now + port->settings.retry_s;
	port_request_tick(port);
	port_timeout_tick(port);
	port_transfer_tick(port);
	port_rewrite_tick(port);
	port_complete_tick(port);
}

void port_stop(mno_context *ctx)
{
	if (!ctx->port)
		return;
	port_flights_free(ctx->port);
	port_settings_clear(&ctx->port->settings);
	free(ctx->port);
	ctx->port = NULL;
}
