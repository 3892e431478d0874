/*
 * The DPF tables (part of migration 1 of the mno schema), and the tables of its signing identity.
 *
 * dpf_order is one row per TRE order (dpf_impl.h has the state machine). The package is stored
 * as sent: it is encrypted to the TRE's key, so only that TRE can open it, and a retry of the
 * order gets the same bytes. The MCIM's K and OPc live only in the HSS record, sealed.
 * dpf_provisioned holds what the DRF must be told, until it acknowledges; dpf_tamper the tamper
 * reports received (a report again is acknowledged again, not acted on twice).
 *
 * Migration 2: dpf_change is this operator's side of a change of subscription that takes one of
 * its MCIMs away (docs/alt1a-change.md, SHO A), one row per changeId:
 *
 *   consented --(reprovision receipt)--> triggered --(changeRelease)--> released
 *   released --(delete receipt: HSS record deleted)--> deleted
 *
 * (a release may also come while consented). In consented and released the signed mcimCommand
 * being sent is kept with its nonce, and sent again as it is until the TRE answers with its
 * receipt (the same receipt again for the same command); the delete's signed receipt is kept once
 * deleted.
 */
#include "dpf/dpf.h"

#include "daemon/identity.h"

const char DPF_SCHEMA_V1[] =
	M2M_IDENTITY_SCHEMA
	"CREATE TABLE dpf_order ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" tre TEXT NOT NULL,"
	" nonce BLOB NOT NULL CHECK (length(nonce) = 32),"
	" state TEXT NOT NULL CHECK (state IN ('validating', 'packaged', 'installed', 'refused', 'withdrawn')),"
	" tre_cert BLOB NOT NULL,"
	" mcim_id BLOB UNIQUE CHECK (length(mcim_id) = 16),"
	" imsi TEXT,"
	" package BLOB,"
	" created INTEGER NOT NULL,"
	" changed INTEGER NOT NULL,"
	" UNIQUE (tre, nonce),"
	" CHECK ((state = 'validating') = (mcim_id IS NULL)),"
	" CHECK ((mcim_id IS NULL) = (imsi IS NULL) AND (mcim_id IS NULL) = (package IS NULL)));"
	"CREATE INDEX dpf_order_by_tre ON dpf_order (tre, state);"
	"CREATE TABLE dpf_provisioned ("
	" mcim_id BLOB PRIMARY KEY REFERENCES dpf_order (mcim_id),"
	" tre TEXT NOT NULL,"
	" created INTEGER NOT NULL,"
	" acknowledged INTEGER) WITHOUT ROWID;"
	"CREATE TABLE dpf_tamper ("
	" report_id BLOB PRIMARY KEY CHECK (length(report_id) = 16),"
	" tre TEXT NOT NULL,"
	" received INTEGER NOT NULL,"
	" suspended INTEGER NOT NULL) WITHOUT ROWID;";

const char DPF_SCHEMA_V2[] =
	"CREATE TABLE dpf_change ("
	" change_id BLOB PRIMARY KEY CHECK (length(change_id) = 16),"
	" tre TEXT NOT NULL,"
	" mcim_id BLOB NOT NULL REFERENCES dpf_order (mcim_id),"
	" imsi TEXT NOT NULL,"
	" to_sho TEXT NOT NULL,"
	" state TEXT NOT NULL CHECK (state IN ('consented', 'triggered', 'released', 'deleted')),"
	" nonce BLOB CHECK (length(nonce) = 32),"
	" command BLOB,"
	" receipt BLOB,"
	" created INTEGER NOT NULL,"
	" changed INTEGER NOT NULL,"
	" CHECK ((state IN ('consented', 'released')) = (command IS NOT NULL)),"
	" CHECK ((nonce IS NULL) = (command IS NULL)),"
	" CHECK (receipt IS NULL OR state = 'deleted')) WITHOUT ROWID;"
	"CREATE INDEX dpf_change_by_mcim ON dpf_change (mcim_id, state);"
	"CREATE INDEX dpf_change_by_imsi ON dpf_change (imsi);";

/* Migration 5, Alternative 3b (docs/alt3b.md): SHO A's side of a change of a device on its UICC
 * (uicc_consent.c, uicc_release.c), one row per changeId: the device (its TRE, its IMEI) and the
 * IMSI of its card that the consent named,
 *
 *   consented --(uiccRelease: the IMSI deactivated, the card's OTA keys deleted)--> released
 *
 * with the ICCID the release named once released. Nothing secret: the keys were the HSS's. */
const char DPF_SCHEMA_UICC_A[] =
	"CREATE TABLE dpf_uicc_change ("
	" change_id BLOB PRIMARY KEY CHECK (length(change_id) = 16),"
	" tre TEXT NOT NULL,"
	" m2me TEXT NOT NULL,"
	" imsi TEXT NOT NULL,"
	" to_sho TEXT NOT NULL,"
	" state TEXT NOT NULL CHECK (state IN ('consented', 'released')),"
	" iccid TEXT,"
	" created INTEGER NOT NULL,"
	" changed INTEGER NOT NULL,"
	" CHECK ((state = 'released') = (iccid IS NOT NULL))) WITHOUT ROWID;"
	"CREATE INDEX dpf_uicc_change_by_imsi ON dpf_uicc_change (imsi, state);";

/* Migration 5, Alternative 3b: SHO B's credential orders for a device's UICC (uicc_order.c; the
 * state machine is in dpf_impl.h). dpf_uicc_order: one row per change, the card (ICCID) and TRE
 * it is for, and once its credentials are made the IMSI and the SQN the card starts at: K and OPc
 * are only in the HSS record (sealed), the OTA keys only in the OTA server's keysets (sealed).
 * dpf_uicc_package: one row per card challenge of the change, the blob as sent (encrypted to the
 * card, so that an order again gets the same bytes). */
const char DPF_SCHEMA_UICC_B[] =
	"CREATE TABLE dpf_uicc_order ("
	" change_id BLOB PRIMARY KEY CHECK (length(change_id) = 16),"
	" tre TEXT NOT NULL,"
	" iccid TEXT NOT NULL,"
	" imsi TEXT UNIQUE,"
	" sqn_start INTEGER CHECK (sqn_start BETWEEN 0 AND 281474976710655),"
	" created INTEGER NOT NULL,"
	" changed INTEGER NOT NULL,"
	" CHECK ((imsi IS NULL) = (sqn_start IS NULL))) WITHOUT ROWID;"
	"CREATE TABLE dpf_uicc_package ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" change_id BLOB NOT NULL REFERENCES dpf_uicc_order (change_id),"
	" card_nonce BLOB NOT NULL CHECK (length(card_nonce) = 16),"
	" state TEXT NOT NULL CHECK (state IN ('validating', 'packaged')),"
	" card_cert BLOB NOT NULL,"
	" package BLOB,"
	" created INTEGER NOT NULL,"
	" changed INTEGER NOT NULL,"
	" UNIQUE (change_id, card_nonce),"
	" CHECK ((state = 'packaged') = (package IS NOT NULL)));";
