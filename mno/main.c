/*
 * mno: a mobile network operator, started either as a home operator (SHO: HSS/AuC in mno/hss,
 * with a `dpf` group also the DPF of Alternative 1a in mno/dpf, later the OTA server) or as a
 * visited operator (VNO: the access network; mno/vno).
 */
#include "context.h"
#include "dpf/dpf.h"
#include "hss/hss.h"
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
	} else
		vno_configure(d, c, group, ctx);
}

static int start(m2m_daemon *d)
{
	mno_context *ctx = m2m_daemon_ctx(d);
	if (ctx->mode == MNO_VISITED)
		return vno_start(d, ctx);
	return hss_start(d, ctx) || dpf_start(d, ctx) ? -1 : 0;
}

static void dispatch(m2m_daemon *d, m2m_request *req)
{
	mno_context *ctx = m2m_daemon_ctx(d);
	if (ctx->mode == MNO_VISITED)
		vno_dispatch(d, ctx, req);
	else if (ctx->dpf && dpf_serves(req->env.type))
		dpf_dispatch(d, ctx, req);
	else
		hss_dispatch(d, ctx, req);
}

/* The DPF's identity (enrolment, CRL) and its notices to the DRF are kept up from here. */
static void tick(m2m_daemon *d)
{
	mno_context *ctx = m2m_daemon_ctx(d);
	if (ctx->mode == MNO_HOME)
		dpf_tick(d, ctx);
}

static void stop(m2m_daemon *d)
{
	mno_context *ctx = m2m_daemon_ctx(d);
	if (!ctx)
		return;
	dpf_stop(ctx);
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
