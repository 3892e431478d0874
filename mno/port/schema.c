/*
 * The ports' tables (part of migration 4 of the mno schema, with the HSS's owners; docs/alt3a.md).
 * One row per port in port_port and one per card of a port in port_device, at either end: side
 * 'in' is this operator as the new operator B, side 'out' as the old operator A. Their state
 * machines (port_impl.h) are the CHECKs' lists.
 *
 * B keeps the subscriber's authorisation as it will send it, A the same bytes as it checked them,
 * with their nonce (single use: UNIQUE), B's certificate (the recipient of the package) and, from
 * transferring on, the package as sent (a retry sends the same bytes; it is encrypted to B, so it
 * holds K only in a form B alone opens). B keeps the SHA-256 of the package it provisioned: the
 * same package again gets the same answer, another one is a replay. Both keep A's signed deletion
 * receipt of each card. No key is in these tables: K, OPc and the OTA keys are the HSS's and the
 * OTA server's, sealed.
 */
#include "port/port.h"

const char PORT_SCHEMA[] =
	"CREATE TABLE port_port ("
	" port_id BLOB PRIMARY KEY CHECK (length(port_id) = 16),"
	" side TEXT NOT NULL CHECK (side IN ('in', 'out')),"
	" peer TEXT NOT NULL,"
	" subscriber TEXT NOT NULL,"
	" state TEXT NOT NULL CHECK (state IN ('requesting', 'accepted', 'transferring', 'transferred',"
	"  'provisioned', 'completed', 'refused', 'failed')),"
	" devices INTEGER NOT NULL CHECK (devices > 0),"
	" authorisation BLOB NOT NULL,"
	" nonce BLOB UNIQUE CHECK (length(nonce) = 16),"
	" certificate BLOB,"
	" package BLOB,"
	" reason INTEGER,"
	" why TEXT,"
	" created INTEGER NOT NULL,"
	" changed INTEGER NOT NULL,"
	" CHECK ((side = 'out') = (nonce IS NOT NULL) AND (side = 'out') = (certificate IS NOT NULL)),"
	" CHECK (side = 'in' OR state IN ('accepted', 'transferring', 'transferred', 'completed', 'failed')),"
	" CHECK (side = 'out' OR state IN ('requesting', 'accepted', 'provisioned', 'completed', 'refused', 'failed')),"
	" CHECK ((state IN ('refused', 'failed')) = (reason IS NOT NULL))) WITHOUT ROWID;"
	"CREATE INDEX port_port_by_state ON port_port (side, state);"
	"CREATE TABLE port_device ("
	" port_id BLOB NOT NULL REFERENCES port_port (port_id),"
	" iccid TEXT NOT NULL,"
	" old_imsi TEXT,"
	" new_imsi TEXT NOT NULL,"
	" state TEXT NOT NULL CHECK (state IN ('requested', 'refused', 'provisioned', 'attached', 'completed',"
	"  'accepted', 'rewriting', 'rewritten', 'rewriteFailed', 'deleted')),"
	" job_id INTEGER,"
	" receipt BLOB,"
	" changed INTEGER NOT NULL,"
	" PRIMARY KEY (port_id, iccid),"
	" CHECK (receipt IS NULL OR state IN ('completed', 'deleted'))) WITHOUT ROWID;"
	"CREATE INDEX port_device_by_state ON port_device (state, port_id);"
	"CREATE INDEX port_device_by_iccid ON port_device (iccid);"
	"CREATE INDEX port_device_by_imsi ON port_device (new_imsi);";
