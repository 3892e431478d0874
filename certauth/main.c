/* certauth: the certification agency and the platform validation authority (PVA). */
#include "daemon/daemon.h"

static const char *const migrations[] = {M2M_NODE_SCHEMA};
static const m2m_schema schema = {migrations, sizeof migrations / sizeof migrations[0]};

static const m2m_role role = {
	.name = "certauth",
	.description = "the certification agency and the platform validation authority (PVA)",
	.schema = &schema,
};

int main(int argc, char **argv)
{
	return m2m_daemon_main(argc, argv, &role);
}
