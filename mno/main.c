/*
 * mno: a mobile network operator, started either as a home operator (SHO: HSS/AuC in mno/hss,
 * with a `dpf` group also the DPF of Alternative 1a in mno/dpf, later the OTA server) or as a
 * visited operator (VNO: the access network; mno/vno).
 */
#include "context.h"
#include "dpf/dpf.h"
#include "hss/hss.h"
#include "hss/hss_impl.h"  /* the storage key that seals the operator's identity */
#include "ota/ota.h"
#include "port/port.h"
#include "schema.h"
#include "vno/vno.h"

#include <stdlib.h>

static void configure(m2m_daemon *d, m2m_conf *c, config_setting_t *group)
{
	static const char *const modes[] = {"home", "visited", NULL};
	mno_context *ctx = calloc(1, sizeof *ctx);
	m2m_daemon_set_ctx(d, ctx);
	if (!group) {
		m2m_conf_fail(c, NULL, "mno: missing (an operator is started as mode = \"home\" or \"visited\")");
		return;
	}
	ctx->mode = (mno_mode)m2m_conf_enum(c, group, "mode", modes, MNO_HOME, 1);
	if (ctx->mode == MNO_HOME) {
		hss_configure(d, c, group, ctx);
		dpf_configure(d, c, group, ctx);
		ota_configure(d, c, group, ctx);
		port_configure(d, c, group, ctx);
	} else
		vno_configure(d, c, group, ctx);
}

/* The operator's identity, opened once for the DPF and the ports (its key sealed under the HSS's
 * storage key); enrolled and kept fresh from the tick. */
static int identity_start(m2m_daemon *d, mno_context *ctx)
{
	if (!ctx->identity)
		return 0;
	ctx->id = m2m_identity_open(m2m_daemon_db(d), ctx->hss->settings.storage_key, m2m_daemon_entity(d), ctx->identity);
	return ctx->id ? 0 : -1;
}

static int start(m2m_daemon *d)
{
	mno_context *ctx = m2m_daemon_ctx(d);
	if (ctx->mode == MNO_VISITED)
		return vno_start(d, ctx);
	return hss_start(d, ctx) || identity_start(d, ctx) || dpf_start(d, ctx) || ota_start(d, ctx) ||
		       port_start(d, ctx)
		       ? -1
		       : 0;
}

static void dispatch(m2m_daemon *d, m2m_request *req)
{
	mno_context *ctx = m2m_daemon_ctx(d);
	if (ctx->mode == MNO_VISITED)
		vno_dispatch(d, ctx, req);
	else if (ctx->dpf && dpf_serves(req->env.type))
		dpf_dispatch(d, ctx, req);
	else if (port_serves(req->env.type))
		port_dispatch(d, ctx, req);
	else
		hss_dispatch(d, ctx, req);
}

/* The operator's identity (enrolment, CRL), the DPF's notices to the DRF, the OTA server's jobs
 * and the ports are kept up from here. */
static void tick(m2m_daemon *d)
{
	mno_context *ctx = m2m_daemon_ctx(d);
	if (ctx->mode == MNO_HOME) {
		if (ctx->id)
			m2m_identity_tick(ctx->id, m2m_daemon_node(d));
		dpf_tick(d, ctx);
		ota_tick(d, ctx);
		port_tick(d, ctx);
	}
}

static void stop(m2m_daemon *d)
{
	mno_context *ctx = m2m_daemon_ctx(d);
	if (!ctx)
		return;
	port_stop(ctx);
	ota_stop(ctx);
	dpf_stop(ctx);
	m2m_identity_free(ctx->id);
	hss_stop(ctx);
	vno_stop(ctx);
	free(ctx);
}

static m2m_role role = {  /* not const: the schema is built at start */
	.name = "mno",
	.description = "a mobile network operator, home (HSS/AuC, DPF) or visited (access network)",
	.configure = configure,
	.start = start,
	.dispatch = dispatch,
	.tick = tick,
	.stop = stop,
};

int main(int argc, char **argv)
{
	role.schema = mno_schema();
	return m2m_daemon_main(argc, argv, &role);
}
