/*
 * The agency's tables (docs/pki.md).
 *
 * ca_hierarchy: its own certificates, the root, the issuing CA and the agency's own end-entity
 * certificate (profile pva: the PVA's verdicts and the agency's signed objects), each with its
 * private key sealed under the storage key (aad "certauth:ROLE", so keys cannot be swapped).
 * ca_serial: the next serial number, shared by every certificate the agency signs.
 * ca_certificate: every end-entity certificate issued, kept after expiry; revoked_at and reason
 * (an RFC 5280 CRLReason) are set together. model and version are set exactly for a tre.
 * ca_revoked_model: withdrawn TRE models ('' as version: every version).
 * ca_crl: every CRL published, by cRLNumber; the newest is the one served.
 * ca_platform, ca_reference: the certified platform types and their reference metrics.
 */
#include "schema.h"

#include "net/node.h"
#include "pva/pva.h"

#include <stdio.h>

const char CA_SCHEMA_V1[] =
	"CREATE TABLE ca_hierarchy ("
	" role TEXT PRIMARY KEY CHECK (role IN ('root', 'issuing', 'pva')),"
	" certificate BLOB NOT NULL,"
	" key_sealed BLOB NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE ca_serial ("
	" id INTEGER PRIMARY KEY CHECK (id = 1),"
	" next INTEGER NOT NULL CHECK (next >= 1));"
	"INSERT INTO ca_serial VALUES (1, 1);"
	"CREATE TABLE ca_certificate ("
	" serial INTEGER PRIMARY KEY CHECK (serial >= 1),"
	" entity TEXT NOT NULL,"
	" profile INTEGER NOT NULL CHECK (profile BETWEEN 0 AND 6),"
	" model TEXT,"
	" version TEXT,"
	" not_before INTEGER NOT NULL,"
	" not_after INTEGER NOT NULL,"
	" der BLOB NOT NULL,"
	" revoked_at INTEGER,"
	" reason INTEGER,"
	" CHECK ((model IS NOT NULL) = (profile = 5) AND (version IS NOT NULL) = (profile = 5)),"
	" CHECK ((revoked_at IS NULL) = (reason IS NULL)));"
	"CREATE INDEX ca_certificate_by_model ON ca_certificate (model, version);"
	"CREATE TABLE ca_revoked_model ("
	" model TEXT NOT NULL,"
	" version TEXT NOT NULL,"
	" revoked_at INTEGER NOT NULL,"
	" PRIMARY KEY (model, version)) WITHOUT ROWID;"
	"CREATE TABLE ca_crl ("
	" number INTEGER PRIMARY KEY CHECK (number >= 1),"
	" this_update INTEGER NOT NULL,"
	" next_update INTEGER NOT NULL,"
	" der BLOB NOT NULL);"
	"CREATE TABLE ca_platform ("
	" model TEXT NOT NULL,"
	" version TEXT NOT NULL,"
	" assurance INTEGER NOT NULL CHECK (assurance BETWEEN 1 AND 7),"
	" added INTEGER NOT NULL,"
	" PRIMARY KEY (model, version)) WITHOUT ROWID;"
	"CREATE TABLE ca_reference ("
	" model TEXT NOT NULL,"
	" version TEXT NOT NULL,"
	" position INTEGER NOT NULL,"
	" component TEXT NOT NULL,"
	" digest BLOB NOT NULL CHECK (length(digest) = 32),"
	" PRIMARY KEY (model, version, position),"
	" UNIQUE (model, version, component),"
	" FOREIGN KEY (model, version) REFERENCES ca_platform (model, version) ON DELETE CASCADE) WITHOUT ROWID;";

const m2m_schema *certauth_schema(void)
{
	static char migration_1[32768];
	static const char *const migrations[] = {migration_1};
	static const m2m_schema schema = {migrations, sizeof migrations / sizeof migrations[0]};
	if (!migration_1[0])
		snprintf(migration_1, sizeof migration_1, "%s%s%s", M2M_NODE_SCHEMA, CA_SCHEMA_V1, PVA_SCHEMA_V1);
	return &schema;
}
