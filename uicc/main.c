/* uicc: a software UICC speaking ISO 7816-4 APDUs. */
#include "daemon/daemon.h"

static const char *const migrations[] = {M2M_NODE_SCHEMA};
static const m2m_schema schema = {migrations, sizeof migrations / sizeof migrations[0]};

static const m2m_role role = {
	.name = "uicc",
	.description = "a software UICC speaking ISO 7816-4 APDUs",
	.schema = &schema,
};

int main(int argc, char **argv)
{
	return m2m_daemon_main(argc, argv, &role);
}
