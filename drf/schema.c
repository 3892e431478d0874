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
 *
 * Migration 3, Alternative 3b (docs/alt3b.md): drf_change rebuilt (SQLite cannot alter a CHECK)
 *   with the kind of change (mcim: 1a; uicc: the old SHO consented with the IMSI of the device's
 *   UICC, a_imsi) and 3b's states; every state but released and refused is open.
 * drf_trigger_nonce: every nonce the DRF signed into a TreActivate, by change: the TRE's
 *   registration must name one (a new nonce per attempt: the TRE refuses one it saw).
 * drf_uicc_change: the card the TRE registered for a 3b change (ICCID, certificate, the card's
 *   challenge) and SHO B's package for that challenge (ciphertext for the card; no secret here).
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
	"CREATE TABLE drf_change3 ("
	" change_id BLOB PRIMARY KEY CHECK (length(change_id) = 16),"
	" tre TEXT NOT NULL,"
	" m2me TEXT NOT NULL,"
	" from_sho TEXT NOT NULL,"
	" from_dpf TEXT NOT NULL,"
	" to_sho TEXT NOT NULL,"
	" to_dpf TEXT NOT NULL,"
	" state TEXT NOT NULL CHECK (state IN ('notifying', 'consented', 'complete', 'released', 'refused',"
	"  'triggering', 'triggered', 'ordering', 'delivered', 'completed')),"
	" kind TEXT NOT NULL DEFAULT 'mcim' CHECK (kind IN ('mcim', 'uicc')),"
	" a_imsi TEXT CHECK ((kind = 'uicc') = (a_imsi IS NOT NULL)),"
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
	"INSERT INTO drf_change3 (change_id, tre, m2me, from_sho, from_dpf, to_sho, to_dpf, state, nonce, issued_at,"
	" a_mcim_id, b_mcim_id, refusal, refusal_text, created_at, updated_at)"
	" SELECT change_id, tre, m2me, from_sho, from_dpf, to_sho, to_dpf, state, nonce, issued_at, a_mcim_id,"
	" b_mcim_id, refusal, refusal_text, created_at, updated_at FROM drf_change;"
	"DROP TABLE drf_change;"
	"ALTER TABLE drf_change3 RENAME TO drf_change;"
	"CREATE UNIQUE INDEX drf_change_open ON drf_change (tre) WHERE state NOT IN ('released', 'refused');"
	"CREATE TABLE drf_trigger_nonce ("
	" nonce BLOB PRIMARY KEY CHECK (length(nonce) = 16),"
	" change_id BLOB NOT NULL REFERENCES drf_change (change_id),"
	" issued_at INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX drf_trigger_nonce_change ON drf_trigger_nonce (change_id);"
	"CREATE TABLE drf_uicc_change ("
	" change_id BLOB PRIMARY KEY REFERENCES drf_change (change_id),"
	" iccid TEXT NOT NULL,"
	" card_certificate BLOB NOT NULL CHECK (length(card_certificate) BETWEEN 1 AND 4096),"
	" card_nonce BLOB NOT NULL CHECK (length(card_nonce) = 16),"
	" registered_at INTEGER NOT NULL,"
	" b_imsi TEXT,"
	" package BLOB CHECK (package IS NULL OR length(package) BETWEEN 1 AND 65536),"
	" CHECK ((b_imsi IS NULL) = (package IS NULL))) WITHOUT ROWID;",
};

const m2m_schema drf_schema = {migrations, sizeof migrations / sizeof migrations[0]};
