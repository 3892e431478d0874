/*
 * The HSS tables (part of migration 1 of the mno schema, after M2M_NODE_SCHEMA).
 *
 * K || OPc and the card's keys (ADM, the first OTA keyset) are only ever stored sealed (m2m_seal under the storage key,
 * aad = the IMSI, so a sealed value cannot be moved to another subscriber); the active and
 * suspended records hold them, a deleted one's keys are erased (the CHECK). A pending record has
 * no card yet (staff), or holds the keys of an MCIM its TRE has not confirmed yet (mno/dpf): either
 * way it is not served. The SQN state is the serialised m2m_sqn_he.
 * The audit trail has no foreign key: it outlives the records it speaks of.
 *
 * Migration 2 (change of subscription, docs/alt1a-change.md): a subscriber under a contract lock
 * (mno-admin lock) may not be taken away by a change of subscription until `until`. A new
 * subscription of a deleted IMSI starts without the old one's lock (hss_create).
 *
 * Migration 4 (Alternative 3a, docs/alt3a.md), with the ports' tables of mno/port:
 *   hss_owner         the subscribers (M2M service providers) the staff registered, each with the
 *                     certificate its authorisations are checked against (pinned: it may be
 *                     self-signed; it is trusted because the staff registered it);
 *   hss_card_owner    which subscriber owns a card (ICCID) of this operator;
 *   hss_first_attach  pending records made from a port's transfer: unlike other pending records
 *                     they are served (their K came with the card), and their first successful
 *                     attach (updateLocation) activates them;
 * and an index to find a card's record by its ICCID.
 */
#include "hss/hss.h"

const char HSS_SCHEMA_V1[] =
	"CREATE TABLE hss_subscriber ("
	" imsi TEXT PRIMARY KEY,"
	" state TEXT NOT NULL CHECK (state IN ('pending', 'active', 'suspended', 'deleted')),"
	" k_opc_sealed BLOB,"
	" card_keys_sealed BLOB,"
	" iccid TEXT,"
	" amf BLOB NOT NULL CHECK (length(amf) = 2),"
	" sqn BLOB NOT NULL,"
	" cs_allowed INTEGER NOT NULL CHECK (cs_allowed IN (0, 1)),"
	" imei_lock TEXT,"
	" created INTEGER NOT NULL,"
	" changed INTEGER NOT NULL,"
	" CHECK (state = 'pending' OR (k_opc_sealed IS NOT NULL) = (state IN ('active', 'suspended'))))"
	" WITHOUT ROWID;"
	"CREATE TABLE hss_apn ("
	" imsi TEXT NOT NULL REFERENCES hss_subscriber (imsi) ON DELETE CASCADE,"
	" position INTEGER NOT NULL,"
	" apn TEXT NOT NULL,"
	" PRIMARY KEY (imsi, position), UNIQUE (imsi, apn)) WITHOUT ROWID;"
	"CREATE TABLE hss_location ("
	" imsi TEXT PRIMARY KEY REFERENCES hss_subscriber (imsi) ON DELETE CASCADE,"
	" network TEXT NOT NULL,"
	" imei TEXT NOT NULL,"
	" since INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE hss_audit ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" time INTEGER NOT NULL,"
	" actor TEXT NOT NULL,"
	" imsi TEXT NOT NULL,"
	" action TEXT NOT NULL,"
	" detail TEXT NOT NULL);"
	"CREATE INDEX hss_audit_by_imsi ON hss_audit (imsi, id);";

const char HSS_SCHEMA_V2[] =
	"CREATE TABLE hss_contract_lock ("
	" imsi TEXT PRIMARY KEY REFERENCES hss_subscriber (imsi) ON DELETE CASCADE,"
	" until INTEGER NOT NULL,"
	" since INTEGER NOT NULL) WITHOUT ROWID;";

const char HSS_SCHEMA_V3[] =
	"CREATE TABLE hss_owner ("
	" id TEXT PRIMARY KEY,"
	" certificate BLOB NOT NULL,"
	" registered INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE hss_card_owner ("
	" iccid TEXT PRIMARY KEY,"
	" owner TEXT NOT NULL REFERENCES hss_owner (id),"
	" since INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX hss_card_owner_by_owner ON hss_card_owner (owner);"
	"CREATE TABLE hss_first_attach ("
	" imsi TEXT PRIMARY KEY REFERENCES hss_subscriber (imsi) ON DELETE CASCADE,"
	" origin TEXT NOT NULL,"
	" since INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX hss_subscriber_by_iccid ON hss_subscriber (iccid);";
