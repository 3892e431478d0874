/*
 * mno: a mobile network operator, started either as a home operator (SHO: HSS/AuC, later DPF
 * and OTA server; mno/hss) or as a visited operator (VNO: the access network; mno/vno).
 */
#include "context.h"
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
	if (ctx->mode == MNO_HOME)
		hss_configure(d, c, group, ctx);
	else
		vno_configure(d, c, group, ctx);
}

static int start(m2m_daemon *d)
{
	mno_context *ctx = m2m_daemon_ctx(d);
	return ctx->mode == MNO_HOME ? hss_start(d, ctx) : vno_start(d, ctx);
}

static void dispatch(m2m_daemon *d, m2m_request *req)
{
	mno_context *ctx = m2m_daemon_ctx(d);
	if (ctx->mode == MNO_HOME)
		hss_dispatch(d, ctx, req);
	else
		vno_dispatch(d, ctx, req);
}

static void stop(m2m_daemon *d)
{
	mno_context *ctx = m2m_daemon_ctx(d);
	if (!ctx)
		return;
	hss_stop(ctx);
	vno_stop(ctx);
	free(ctx);
}

static m2m_role role = {  /* not const: the schema is built at start */
	.name = "mno",
	.description = "a mobile network operator, home (HSS/AuC) or visited (access network)",
	.configure = configure,
	.start = start,
	.dispatch = dispatch,
	.stop = stop,
};

int main(int argc, char **argv)
{
	role.schema = mno_schema();
	return m2m_daemon_main(argc, argv, &role);
}
