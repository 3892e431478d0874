/* The schema of an operator's database, shared by the mno daemon and mno-admin so that whichever
 * opens a database first creates the same one. */
#ifndef MNO_SCHEMA_H
#define MNO_SCHEMA_H

#include "store/store.h"

const m2m_schema *mno_schema(void);

#endif
