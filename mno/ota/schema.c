/*
 * The OTA server's tables (migration 3 of the mno schema).
 *
 * ota_keyset: a card's keyset per TAR; the keys (KIc, KID, DEK) only ever sealed under the storage
 * key with aad = ICCID || TAR, so that a sealed keyset cannot be moved to another card or TAR; the
 * counter is the last CNTR sent under it (written before the packet leaves).
 * ota_job: one script to one TAR of one card. kind 'rotate' jobs build their PUT KEY when sent
 * (from ota_rotation); keys says which keys a packet goes under: the card's keyset, the rotation's
 * pending keys (a PoR lost after the card applied PUT KEY), or keys given by the engineer (sealed
 * in the row, aad "ota-job:<id>", erased when the job ends).
 * ota_rotation: the pending keys of a rotation in progress, one per card, sealed (aad
 * "ota-rotation:<iccid>"), gone once the rotation ends.
 */
#include "ota/ota.h"

const char OTA_SCHEMA[] =
	"CREATE TABLE ota_keyset ("
	" iccid TEXT NOT NULL,"
	" tar BLOB NOT NULL CHECK (length(tar) = 3),"
	" kvn INTEGER NOT NULL CHECK (kvn BETWEEN 1 AND 15),"
	" kic_alg INTEGER NOT NULL,"
	" kid_alg INTEGER NOT NULL,"
	" keys_sealed BLOB NOT NULL,"
	" counter INTEGER NOT NULL CHECK (counter >= 0),"
	" PRIMARY KEY (iccid, tar)) WITHOUT ROWID;"
	"CREATE TABLE ota_job ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" iccid TEXT NOT NULL,"
	" tar BLOB NOT NULL CHECK (length(tar) = 3),"
	" kind TEXT NOT NULL CHECK (kind IN ('script', 'rotate')),"
	" keys TEXT NOT NULL CHECK (keys IN ('card', 'pending', 'explicit')),"
	" explicit_sealed BLOB,"
	" explicit_counter INTEGER NOT NULL DEFAULT 0,"
	" script BLOB,"
	" purpose TEXT NOT NULL,"
	" state TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'done', 'failed')),"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" due INTEGER NOT NULL,"
	" counter INTEGER NOT NULL DEFAULT 0,"
	" por_status INTEGER NOT NULL DEFAULT -1,"
	" executed INTEGER NOT NULL DEFAULT 0,"
	" last_sw INTEGER NOT NULL DEFAULT 0,"
	" data BLOB,"
	" reason INTEGER NOT NULL DEFAULT 0,"
	" last_error TEXT NOT NULL DEFAULT '',"
	" created INTEGER NOT NULL,"
	" changed INTEGER NOT NULL,"
	" CHECK (kind = 'rotate' OR script IS NOT NULL),"
	" CHECK ((keys = 'explicit') = (explicit_sealed IS NOT NULL) OR state IN ('done', 'failed')));"
	"CREATE INDEX ota_job_by_card ON ota_job (iccid, state, id);"
	"CREATE TABLE ota_rotation ("
	" iccid TEXT PRIMARY KEY,"
	" job_id INTEGER NOT NULL,"
	" keys_sealed BLOB NOT NULL) WITHOUT ROWID;";
