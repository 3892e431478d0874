/* drf: the registration operator: initial connectivity (ICF) and discovery and registration (DRF). */
#include "daemon/daemon.h"

static const char *const migrations[] = {M2M_NODE_SCHEMA};
static const m2m_schema schema = {migrations, sizeof migrations / sizeof migrations[0]};

static const m2m_role role = {
	.name = "drf",
	.description = "the registration operator: initial connectivity (ICF) and discovery and registration (DRF)",
	.schema = &schema,
};

int main(int argc, char **argv)
{
	return m2m_daemon_main(argc, argv, &role);
}
