/*
 * The registration operator's database (migration 1, after the transport's and the identity's
 * tables).
 *
 * drf_pcid: the PCIDs assigned; a pool number without a row is free. K_pc || OPc_pc only ever
 *   sealed (aad = the PCID); the SQN state is the serialised m2m_sqn_he; imei and network say
 *   where the PCID is attached (both NULL: not in use).
 * drf_verdict: the newest OK verdict of the PVA per TRE (its CMS), kept until its validUntil.
 * drf_registration: which SHO and DPF a device (TRE and M2ME) is registered for, and once it is
 *   provisioned, the MCIM the DPF reported.
 * drf_ticket: every registration ticket issued, by the TRE and its discovery nonce: a repeated
 *   discovery gets the same ticket.
 */
#include "drf.h"

static const char *const migrations[] = {
	M2M_NODE_SCHEMA M2M_IDENTITY_SCHEMA
	"CREATE TABLE drf_pcid ("
	" imsi TEXT PRIMARY KEY,"
	" tre TEXT NOT NULL UNIQUE,"
	" sealed BLOB NOT NULL,"
	" sqn BLOB NOT NULL,"
	" assigned_at INTEGER NOT NULL,"
	" valid_until INTEGER NOT NULL,"
	" imei TEXT,"
	" network TEXT,"
	" since INTEGER,"
	" CHECK ((imei IS NULL) = (network IS NULL))) WITHOUT ROWID;"
	"CREATE TABLE drf_verdict ("
	" tre TEXT PRIMARY KEY,"
	" cms BLOB NOT NULL,"
	" valid_until INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE drf_registration ("
	" tre TEXT PRIMARY KEY,"
	" m2me TEXT NOT NULL,"
	" sho TEXT NOT NULL,"
	" dpf TEXT NOT NULL,"
	" registered_by TEXT NOT NULL,"
	" registered_at INTEGER NOT NULL,"
	" mcim_id BLOB CHECK (mcim_id IS NULL OR length(mcim_id) = 16),"
	" provisioned_at INTEGER,"
	" CHECK ((mcim_id IS NULL) = (provisioned_at IS NULL))) WITHOUT ROWID;"
	"CREATE TABLE drf_ticket ("
	" tre TEXT NOT NULL,"
	" nonce BLOB NOT NULL CHECK (length(nonce) = 32),"
	" cms BLOB NOT NULL,"
	" expires INTEGER NOT NULL,"
	" PRIMARY KEY (tre, nonce)) WITHOUT ROWID;",
};

const m2m_schema drf_schema = {migrations, sizeof migrations / sizeof migrations[0]};
