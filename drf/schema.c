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
 *
 * Migration 2, the change of subscription (docs/alt1a-change.md):
 * drf_registration.subscriber_key: the DER public key that authorises a change (not a secret).
 * drf_change: every change asked for, kept after it closed: its row is also the record that the
 *   authorisation's nonce was used (UNIQUE (tre, nonce)); at most one open change per TRE
 *   (notifying, consented, complete: the partial unique index).
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
	"ALTER TABLE drf_registration ADD COLUMN subscriber_key BLOB"
	" CHECK (subscriber_key IS NULL OR length(subscriber_key) BETWEEN 1 AND 256);"
	"CREATE TABLE drf_change ("
	" change_id BLOB PRIMARY KEY CHECK (length(change_id) = 16),"
	" tre TEXT NOT NULL,"
	" m2me TEXT NOT NULL,"
	" from_sho TEXT NOT NULL,"
	" from_dpf TEXT NOT NULL,"
	" to_sho TEXT NOT NULL,"
	" to_dpf TEXT NOT NULL,"
	" state TEXT NOT NULL CHECK (state IN ('notifying', 'consented', 'complete', 'released', 'refused')),"
	" nonce BLOB NOT NULL CHECK (length(nonce) = 16),"
	" issued_at INTEGER NOT NULL,"
	" a_mcim_id BLOB CHECK (a_mcim_id IS NULL OR length(a_mcim_id) = 16),"
	" b_mcim_id BLOB CHECK (b_mcim_id IS NULL OR length(b_mcim_id) = 16),"
	" refusal INTEGER,"
	" refusal_text TEXT,"
	" created_at INTEGER NOT NULL,"
	" updated_at INTEGER NOT NULL,"
	" UNIQUE (tre, nonce),"
	" CHECK ((state = 'refused') = (refusal IS NOT NULL))) WITHOUT ROWID;"
	"CREATE UNIQUE INDEX drf_change_open ON drf_change (tre) WHERE state IN ('notifying', 'consented', 'complete');",
};

const m2m_schema drf_schema = {migrations, sizeof migrations / sizeof migrations[0]};
