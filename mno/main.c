/*
 * mno: a mobile network operator, started either as a home operator (SHO: HSS/AuC, later DPF
 * and OTA server; mno/hss) or as a visited operator (VNO: the access network; mno/vno).
 */
#include "context.h"
#include "hss/hss.h"
#include "vno/vno.h"

#include <stdio.h>
#include <stdlib.h>

/* Migration 1 holds the tables of both modes: one schema whatever the mode, so that a database
 * is never half-migrated by a process started in the other mode. */
static char migration_1[16384];
static const char *const migrations[] = {migration_1};
static const m2m_schema schema = {migrations, sizeof migrations / sizeof migrations[0]};

static void build_schema(void)
{
	snprintf(migration_1, sizeof migration_1, "%s%s%s", M2M_NODE_SCHEMA, HSS_SCHEMA_V1, VNO_SCHEMA_V1);
}

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

static const m2m_role role = {
	.name = "mno",
	.description = "a mobile network operator, home (HSS/AuC) or visited (access network)",
	.schema = &schema,
	.configure = configure,
	.start = start,
	.dispatch = dispatch,
	.stop = stop,
};

int main(int argc, char **argv)
{
	build_schema();
	return m2m_daemon_main(argc, argv, &role);
}
