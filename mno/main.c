/*
 * mno: a mobile network operator, started either as a home operator (SHO: HSS/AuC, DPF, OTA
 * server) or as a visited operator (VNO: radio access, roaming to home operators).
 */
#include "context.h"

#include <stdlib.h>

static const char *const migrations[] = {M2M_NODE_SCHEMA};
static const m2m_schema schema = {migrations, sizeof migrations / sizeof migrations[0]};

static void configure(m2m_daemon *d, m2m_conf *c, config_setting_t *group)
{
	static const char *const names[] = {"mode", NULL};
	static const char *const modes[] = {"home", "visited", NULL};
	mno_context *ctx = calloc(1, sizeof *ctx);
	m2m_daemon_set_ctx(d, ctx);
	if (!group) {
		m2m_conf_fail(c, NULL, "mno: missing (an operator is started as mode = \"home\" or \"visited\")");
		return;
	}
	m2m_conf_only(c, group, names);
	ctx->mode = (mno_mode)m2m_conf_enum(c, group, "mode", modes, MNO_HOME, 1);
}

static void stop(m2m_daemon *d)
{
	free(m2m_daemon_ctx(d));
}

static const m2m_role role = {
	.name = "mno",
	.description = "a mobile network operator, home (HSS/AuC, DPF) or visited (radio access)",
	.schema = &schema,
	.configure = configure,
	.stop = stop,
};

int main(int argc, char **argv)
{
	return m2m_daemon_main(argc, argv, &role);
}
