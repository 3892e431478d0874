/*
 * The VNO tables (part of migration 1 of the mno schema, after M2M_NODE_SCHEMA and the HSS's).
 *
 * vno_attach: one row per attach procedure, its state persisted at every step. The current
 * vector (XRES, CK, IK) is only ever stored sealed under the storage key with aad = attach_id,
 * and dropped once the session key is derived. reason is the ReasonCode a failed attach ended
 * with (and, while purging, the one it will end with). pcid: the IMSI is a PCID, routed to a
 * registration operator's ICF (a roaming agreement with pcid = true).
 * vno_session: the protected sessions; the key from CK and IK sealed with aad = session_id;
 * last_uplink is -1 until the first protectedData; pcid: opened by a PCID, a walled garden.
 * vno_replay_challenge: ATTACKER state (rogue.c, attack = "replay"): the last challenge relayed
 * per IMSI. RAND and AUTN cross the radio in clear, so they are not sealed.
 */
#include "vno/vno.h"

const char VNO_SCHEMA_V1[] =
	"CREATE TABLE vno_attach ("
	" attach_id BLOB PRIMARY KEY CHECK (length(attach_id) = 8),"
	" device TEXT NOT NULL,"
	" imsi TEXT NOT NULL,"
	" imei TEXT NOT NULL,"
	" apn TEXT NOT NULL,"
	" home TEXT NOT NULL,"
	" pcid INTEGER NOT NULL DEFAULT 0 CHECK (pcid IN (0, 1)),"
	" origin TEXT NOT NULL CHECK (origin IN ('home', 'false-network', 'replay')),"
	" state TEXT NOT NULL CHECK (state IN ('awaitingVectors', 'challenged', 'resynchronising',"
	"  'locating', 'purging', 'accepted', 'failed')),"
	" resyncs INTEGER NOT NULL CHECK (resyncs >= 0),"
	" reason INTEGER NOT NULL,"
	" vector_sealed BLOB,"
	" session_id BLOB CHECK (session_id IS NULL OR length(session_id) = 8),"
	" created INTEGER NOT NULL,"
	" changed INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX vno_attach_by_state ON vno_attach (state);"
	"CREATE TABLE vno_session ("
	" session_id BLOB PRIMARY KEY CHECK (length(session_id) = 8),"
	" device TEXT NOT NULL,"
	" imsi TEXT NOT NULL,"
	" home TEXT NOT NULL,"
	" apn TEXT NOT NULL,"
	" pcid INTEGER NOT NULL DEFAULT 0 CHECK (pcid IN (0, 1)),"
	" key_sealed BLOB NOT NULL,"
	" last_uplink INTEGER NOT NULL CHECK (last_uplink >= -1),"
	" state TEXT NOT NULL CHECK (state IN ('open', 'closed')),"
	" created INTEGER NOT NULL,"
	" changed INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX vno_session_by_imsi ON vno_session (imsi, state);"
	"CREATE TABLE vno_replay_challenge ("
	" imsi TEXT PRIMARY KEY,"
	" rand BLOB NOT NULL CHECK (length(rand) = 16),"
	" autn BLOB NOT NULL CHECK (length(autn) = 16),"
	" captured INTEGER NOT NULL) WITHOUT ROWID;";
