/*
 * The TRE's database. Secrets are only ever stored sealed (m2m_seal under the storage key, the
 * row's name as associated data): the attestation key and the credential slots. The rest is
 * public or integrity-protected by its issuer: certificates, the agency-signed platform type,
 * the tamper state and the reports not yet acknowledged.
 */
#include "tre.h"

#include "log/log.h"

static const char *const migrations[] = {
	M2M_NODE_SCHEMA
	/* name 'attestation': the P-256 key, DER (SEC 1), sealed */
	"CREATE TABLE tre_key (name TEXT PRIMARY KEY, sealed BLOB NOT NULL) WITHOUT ROWID;"
	/* position 0: the TRE's certificate; 1..: its chain, issuing CA first */
	"CREATE TABLE tre_certificate (position INTEGER PRIMARY KEY CHECK (position >= 0),"
	" der BLOB NOT NULL);"
	/* the platformTypeResponse CMS as the agency signed it, verified again at each start */
	"CREATE TABLE tre_platform (id INTEGER PRIMARY KEY CHECK (id = 1), cms BLOB NOT NULL);"
	"CREATE TABLE tre_tamper (id INTEGER PRIMARY KEY CHECK (id = 1),"
	" case_opened INTEGER NOT NULL CHECK (case_opened IN (0, 1)));"
	"INSERT INTO tre_tamper VALUES (1, 0);"
	/* the components the last boot found modified: a report is made when one is new */
	"CREATE TABLE tre_modified (component TEXT PRIMARY KEY) WITHOUT ROWID;"
	/* every report made: the TamperReport DER (signed anew at each sending) */
	"CREATE TABLE tre_report (report_id BLOB PRIMARY KEY CHECK (length(report_id) = 16),"
	" content BLOB NOT NULL, made INTEGER NOT NULL) WITHOUT ROWID;"
	/* who has not acknowledged which report yet */
	"CREATE TABLE tre_delivery (report_id BLOB NOT NULL REFERENCES tre_report (report_id),"
	" recipient TEXT NOT NULL, PRIMARY KEY (report_id, recipient)) WITHOUT ROWID;"
	/* network credentials (PCID, MCIMs): sealed, aad = slot name; owner = the issuing operator */
	"CREATE TABLE tre_slot (slot TEXT PRIMARY KEY, owner TEXT NOT NULL, sealed BLOB NOT NULL)"
	" WITHOUT ROWID;",
};
const m2m_schema tre_schema = {migrations, sizeof migrations / sizeof migrations[0]};

int tre_savepoint(sqlite3 *db)
{
	return m2m_store_exec(db, "SAVEPOINT tre");
}

int tre_release(sqlite3 *db, int failed)
{
	if (failed)
		sqlite3_exec(db, "ROLLBACK TO tre", NULL, NULL, NULL);
	if (m2m_store_exec(db, "RELEASE tre"))
		return -1;
	return failed ? -1 : 0;
}
