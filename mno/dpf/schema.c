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
