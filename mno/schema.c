/* Migration 1 holds the tables of both modes: one schema whatever the mode, so that a database
 * is never half-migrated by a process started in the other mode. Migration 2 adds the change of
 * subscription (contract locks, the old SHO's side of a change). Migration 3: the OTA server's
 * keysets, jobs and key rotations (mno/ota). Migration 4: Alternative 3a, the cards' owners and
 * the records awaiting their first attach (mno/hss) and the ports (mno/port). Migration 5:
 * Alternative 3b, both SHOs' sides in the DPF (mno/dpf/uicc_*.c). */
#include "schema.h"

#include "dpf/dpf.h"
#include "hss/hss.h"
#include "net/node.h"
#include "ota/ota.h"
#include "port/port.h"
#include "vno/vno.h"

#include <stdio.h>

const m2m_schema *mno_schema(void)
{
	static char migration_1[32768], migration_2[4096], migration_4[8192], migration_5[8192];
	static const char *const migrations[] = {migration_1, migration_2, OTA_SCHEMA, migration_4, migration_5};
	static const m2m_schema schema = {migrations, sizeof migrations / sizeof migrations[0]};
	if (!migration_1[0])
		snprintf(migration_1, sizeof migration_1, "%s%s%s%s", M2M_NODE_SCHEMA, HSS_SCHEMA_V1, DPF_SCHEMA_V1,
			 VNO_SCHEMA_V1);
	if (!migration_2[0])
		snprintf(migration_2, sizeof migration_2, "%s%s", HSS_SCHEMA_V2, DPF_SCHEMA_V2);
	if (!migration_4[0])
		snprintf(migration_4, sizeof migration_4, "%s%s", HSS_SCHEMA_V3, PORT_SCHEMA);
	if (!migration_5[0])
		snprintf(migration_5, sizeof migration_5, "%s%s", DPF_SCHEMA_UICC_A, DPF_SCHEMA_UICC_B);
	return &schema;
}
