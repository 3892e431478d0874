/* The certification agency's database: migration 1 holds the transport's, the agency's and the
 * PVA's tables (one schema for the daemon and certauth-admin, whichever opens it first). */
#ifndef CERTAUTH_SCHEMA_H
#define CERTAUTH_SCHEMA_H

#include "store/store.h"

extern const char CA_SCHEMA_V1[];
const m2m_schema *certauth_schema(void);

#endif
