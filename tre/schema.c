/*
 * The TRE's database. Secrets are only ever stored sealed (m2m_seal under the storage key, the
 * row's name as associated data): the attestation key and the credential slots. The rest is
 * public or integrity-protected by its issuer: certificates, the agency-signed platform type and
 * CRL, the tamper state and the reports not yet acknowledged, the credentials' identities and
 * SQN states, the provisioning procedure.
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
	/* 2: Alternative 1a. The rows of a credential refer to its slot ON DELETE CASCADE: deleting
	 * the slot (a command, a zeroisation) removes the credential entirely. */
	"CREATE TABLE tre_pcid (id INTEGER PRIMARY KEY CHECK (id = 1), imsi TEXT NOT NULL,"
	" valid_until INTEGER NOT NULL, slot TEXT NOT NULL UNIQUE REFERENCES tre_slot (slot) ON DELETE CASCADE);"
	"CREATE TABLE tre_mcim (mcim_id BLOB PRIMARY KEY CHECK (length(mcim_id) = 16), owner TEXT NOT NULL,"
	" imsi TEXT NOT NULL UNIQUE, version INTEGER NOT NULL CHECK (version BETWEEN 1 AND 255),"
	" state INTEGER NOT NULL CHECK (state IN (0, 1, 2)),"
	" slot TEXT NOT NULL UNIQUE REFERENCES tre_slot (slot) ON DELETE CASCADE) WITHOUT ROWID;"
	/* at most one active MCIM */
	"CREATE UNIQUE INDEX tre_mcim_active ON tre_mcim (state) WHERE state = 1;"
	/* the USIM side's SQN state of each credential (m2m_sqn_usim_serialise) */
	"CREATE TABLE tre_sqn (slot TEXT PRIMARY KEY REFERENCES tre_slot (slot) ON DELETE CASCADE,"
	" state BLOB NOT NULL) WITHOUT ROWID;"
	/* the agency's latest CRL, checked again at each start */
	"CREATE TABLE tre_crl (id INTEGER PRIMARY KEY CHECK (id = 1), der BLOB NOT NULL);"
	/* the MCIM download (provision.c): nonces, the DRF's ticket, the step to relay */
	"CREATE TABLE tre_provision (id INTEGER PRIMARY KEY CHECK (id = 1),"
	" state INTEGER NOT NULL CHECK (state BETWEEN 0 AND 5), reason INTEGER NOT NULL DEFAULT 0,"
	" refusal INTEGER NOT NULL DEFAULT 0, nonce BLOB, nonce2 BLOB, mcim_id BLOB, sho TEXT, dpf TEXT,"
	" ticket BLOB, step BLOB);"
	"INSERT INTO tre_provision (id, state) VALUES (1, 0);"
	/* every mcimCommand nonce obeyed: single use */
	"CREATE TABLE tre_command_nonce (nonce BLOB PRIMARY KEY, used INTEGER NOT NULL) WITHOUT ROWID;",
	/* 3: the change of subscription (docs/alt1a-change.md). The procedure gets the states switching
	 * (6) and completing (7), the changeId it runs for and the switch deadline (Unix seconds). */
	"CREATE TABLE tre_provision_3 (id INTEGER PRIMARY KEY CHECK (id = 1),"
	" state INTEGER NOT NULL CHECK (state BETWEEN 0 AND 7), reason INTEGER NOT NULL DEFAULT 0,"
	" refusal INTEGER NOT NULL DEFAULT 0, nonce BLOB, nonce2 BLOB, mcim_id BLOB, sho TEXT, dpf TEXT,"
	" ticket BLOB, step BLOB, change_id BLOB CHECK (change_id IS NULL OR length(change_id) = 16),"
	" deadline INTEGER NOT NULL DEFAULT 0);"
	"INSERT INTO tre_provision_3 (id, state, reason, refusal, nonce, nonce2, mcim_id, sho, dpf, ticket, step)"
	" SELECT id, state, reason, refusal, nonce, nonce2, mcim_id, sho, dpf, ticket, step FROM tre_provision;"
	"DROP TABLE tre_provision;"
	"ALTER TABLE tre_provision_3 RENAME TO tre_provision;"
	/* the open change, from its owner's reprovision until the DRF acknowledges changeComplete: the
	 * MCIM it replaces, whether the switch is committed, and the new MCIM of a failed attempt that
	 * the next attempt's package replaces */
	"CREATE TABLE tre_change (id INTEGER PRIMARY KEY CHECK (id = 1),"
	" change_id BLOB NOT NULL CHECK (length(change_id) = 16), owner TEXT NOT NULL,"
	" mcim_id BLOB NOT NULL CHECK (length(mcim_id) = 16), committed INTEGER NOT NULL CHECK (committed IN (0, 1)),"
	" superseded BLOB CHECK (superseded IS NULL OR length(superseded) = 16));",
	/* 4: an obeyed command's digest (SHA-256 of its CMS) and the receipt signed for it: the same
	 * command again (its owner's retry after a lost receipt) gets the same receipt again */
	("ALTER TABLE tre_command_nonce ADD COLUMN command BLOB;"
	 "ALTER TABLE tre_command_nonce ADD COLUMN receipt BLOB;"),
	/* 5: Alternative 3b (docs/alt3b.md). Every treTrigger nonce accepted: single use, kept after
	 * its change is gone; the change a trigger opened, from the DRF's TreActivate */
	("CREATE TABLE tre_trigger_nonce (nonce BLOB PRIMARY KEY CHECK (length(nonce) = 16),"
	 " used INTEGER NOT NULL) WITHOUT ROWID;"
	 "CREATE TABLE tre_uicc_change (change_id BLOB PRIMARY KEY CHECK (length(change_id) = 16),"
	 " drf TEXT NOT NULL, nonce BLOB NOT NULL CHECK (length(nonce) = 16), issued_at INTEGER NOT NULL,"
	 " triggered INTEGER NOT NULL) WITHOUT ROWID;"),
	/* 6: the 3b procedure (uicc_change.c). The procedure gets the states uiccRegistering (8) to
	 * uiccCompleting (11) and the card APDU to send next; its own row keeps the card's phase, what
	 * was read from the card, B's delivery (ciphertext only) and how the attach went. */
	("CREATE TABLE tre_provision_6 (id INTEGER PRIMARY KEY CHECK (id = 1),"
	 " state INTEGER NOT NULL CHECK (state BETWEEN 0 AND 11), reason INTEGER NOT NULL DEFAULT 0,"
	 " refusal INTEGER NOT NULL DEFAULT 0, nonce BLOB, nonce2 BLOB, mcim_id BLOB, sho TEXT, dpf TEXT,"
	 " ticket BLOB, step BLOB, change_id BLOB CHECK (change_id IS NULL OR length(change_id) = 16),"
	 " deadline INTEGER NOT NULL DEFAULT 0, card BLOB);"
	 "INSERT INTO tre_provision_6 (id, state, reason, refusal, nonce, nonce2, mcim_id, sho, dpf, ticket, step,"
	 " change_id, deadline) SELECT id, state, reason, refusal, nonce, nonce2, mcim_id, sho, dpf, ticket, step,"
	 " change_id, deadline FROM tre_provision;"
	 "DROP TABLE tre_provision;"
	 "ALTER TABLE tre_provision_6 RENAME TO tre_provision;"
	 "CREATE TABLE tre_uicc_procedure (id INTEGER PRIMARY KEY CHECK (id = 1),"
	 " change_id BLOB NOT NULL CHECK (length(change_id) = 16), phase INTEGER NOT NULL CHECK (phase BETWEEN 0 AND 15),"
	 " probe INTEGER NOT NULL, card_switched INTEGER NOT NULL CHECK (card_switched IN (0, 1)), iccid TEXT NOT NULL,"
	 " certificate BLOB, card_nonce BLOB, sho TEXT NOT NULL, imsi TEXT NOT NULL, package BLOB,"
	 " block INTEGER NOT NULL CHECK (block BETWEEN 0 AND 255), result INTEGER NOT NULL CHECK (result IN (-1, 0, 1)),"
	 " attached TEXT NOT NULL, attach_reason INTEGER NOT NULL);"),
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

int tre_count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = m2m_store_prepare(db, sql);
	int n = st && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	return n;
}
