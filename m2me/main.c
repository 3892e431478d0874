/* m2me: the M2M equipment: the device that attaches, runs AKA and carries user data. */
#include "daemon/daemon.h"

static const char *const migrations[] = {M2M_NODE_SCHEMA};
static const m2m_schema schema = {migrations, sizeof migrations / sizeof migrations[0]};

static const m2m_role role = {
	.name = "m2me",
	.description = "the M2M equipment: the device that attaches, runs AKA and carries user data",
	.schema = &schema,
};

int main(int argc, char **argv)
{
	return m2m_daemon_main(argc, argv, &role);
}
