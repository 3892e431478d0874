/*
 * The PVA's tables (part of migration 1 of the certauth schema).
 *
 * pva_challenge: one row per attestationChallenge sent. The nonce is single use: 'issued' until
 * evidence for it is appraised ('used') or the TRE did not answer ('abandoned'); expires bounds
 * how late evidence may come. result and reasons keep each appraisal's outcome (the audit trail;
 * reasons are ReasonCode values, comma separated).
 * pva_validation: the latest outcome per TRE, which validationStatus reports. A tamper report
 * received later ends its validity (tamper.c).
 * pva_tamper: the tamper reports received, one row per (TRE, reportId), with the signed report
 * as it came so that it can be shown to the TRE's operator.
 */
#include "pva_impl.h"

const char PVA_SCHEMA_V1[] =
	"CREATE TABLE pva_challenge ("
	" nonce BLOB PRIMARY KEY CHECK (length(nonce) = 32),"
	" tre TEXT NOT NULL,"
	" relying_party TEXT NOT NULL,"
	" mode INTEGER NOT NULL CHECK (mode BETWEEN 0 AND 2),"
	" min_assurance INTEGER NOT NULL CHECK (min_assurance BETWEEN 1 AND 7),"
	" state TEXT NOT NULL CHECK (state IN ('issued', 'used', 'abandoned')),"
	" issued INTEGER NOT NULL,"
	" expires INTEGER NOT NULL,"
	" result TEXT CHECK (result IS NULL OR result IN ('ok', 'quarantine', 'fail')),"
	" reasons TEXT) WITHOUT ROWID;"
	"CREATE INDEX pva_challenge_by_state ON pva_challenge (state);"
	"CREATE TABLE pva_validation ("
	" tre TEXT PRIMARY KEY,"
	" relying_party TEXT NOT NULL,"
	" mode INTEGER NOT NULL CHECK (mode BETWEEN 0 AND 2),"
	" result TEXT NOT NULL CHECK (result IN ('ok', 'quarantine', 'fail')),"
	" reasons TEXT NOT NULL,"
	" nonce BLOB NOT NULL CHECK (length(nonce) = 32),"
	" validated_at INTEGER NOT NULL,"
	" valid_until INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE pva_tamper ("
	" tre TEXT NOT NULL,"
	" report_id BLOB NOT NULL CHECK (length(report_id) = 16),"
	" event TEXT NOT NULL CHECK (event IN ('caseOpened', 'componentModified')),"
	" component TEXT NOT NULL,"
	" at INTEGER NOT NULL,"
	" reaction TEXT NOT NULL CHECK (reaction IN ('refused', 'zeroised')),"
	" received INTEGER NOT NULL,"
	" report BLOB NOT NULL,"
	" PRIMARY KEY (tre, report_id)) WITHOUT ROWID;";
