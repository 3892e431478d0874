/*
 * What the home operator's staff do to subscriber records, as mno-admin offers it: add, import,
 * personalise a card, suspend, resume, delete, list and show. Each operation is one transaction
 * and every change is audited with the given actor ("admin" for mno-admin). The unit tests call
 * these same functions.
 *
 * Each returns mno-admin's exit status: HSS_DONE; HSS_FAILED when the records do not allow it
 * (unknown IMSI, wrong state, a database or file failure); HSS_BAD_INPUT when what was typed is
 * malformed (not digits, wrong hex length, an IMSI outside the operator's PLMN). err says why.
 */
#ifndef MNO_HSS_PROVISION_H
#define MNO_HSS_PROVISION_H

#include "hss/settings.h"
#include "hss/subscriber.h"

#include <stdio.h>

typedef enum hss_outcome { HSS_DONE = 0, HSS_FAILED = 1, HSS_BAD_INPUT = 2 } hss_outcome;

/* A subscription as the staff give it, in text (command line or CSV row). */
typedef struct hss_order {
	const char *imsi;
	const char *k, *opc;     /* 32 hex digits each, both or neither (neither: pending, no card yet) */
	const char *amf;         /* 4 hex digits; NULL: HSS_DEFAULT_AMF */
	int napns;               /* 0: HSS_DEFAULT_APN */
	const char *apns[HSS_APNS_MAX];
	int cs_allowed;
	const char *imei_lock;   /* NULL: not locked */
} hss_order;

/* Checks an order and makes the record it asks for (state active, or pending without keys). */
hss_outcome hss_order_record(const hss_settings *s, const hss_order *o, hss_subscriber *rec, char *err, size_t len);

/* One transaction around an operation: begin, then end with the operation's outcome (committed
 * on HSS_DONE, rolled back otherwise). hss_end returns HSS_FAILED if the commit fails. */
hss_outcome hss_begin(sqlite3 *db, char *err, size_t len);
hss_outcome hss_end(sqlite3 *db, hss_outcome r, char *err, size_t len);
/* HSS_FAILED with the database's last error in err. */
hss_outcome hss_db_failed(sqlite3 *db, char *err, size_t len);

/* Inside the caller's transaction: stores rec as a new subscriber (the IMSI unused or deleted),
 * audited as action with detail. */
hss_outcome hss_create(sqlite3 *db, const uint8_t key[32], const hss_subscriber *rec, const char *actor,
		       const char *action, const char *detail, char *err, size_t len);

hss_outcome hss_add(sqlite3 *db, const hss_settings *s, const hss_order *o, const char *actor, char *err, size_t len);

/* The state changes, each audited. activate: a pending record that holds keys (an MCIM its TRE
 * installed, mno/dpf) becomes active. hss_change_in works inside the caller's transaction (a
 * protocol step); hss_suspend, hss_resume and hss_delete are one transaction each. */
typedef enum hss_change { HSS_CHANGE_ACTIVATE, HSS_CHANGE_SUSPEND, HSS_CHANGE_RESUME, HSS_CHANGE_DELETE } hss_change;
hss_outcome hss_change_in(sqlite3 *db, const char *imsi, hss_change which, const char *actor, char *err, size_t len);
hss_outcome hss_suspend(sqlite3 *db, const char *imsi, const char *actor, char *err, size_t len);
/* deactivate.c, inside the caller's transaction: imsi on card iccid moved to another operator
 * (Alternative 3b). Its record deleted unless it is already (K, OPc and card keys erased, location
 * cleared, audited with actor), the card's OTA keysets deleted, its OTA jobs not ended cancelled
 * with why, its owner forgotten. HSS_DONE, or HSS_FAILED (no such IMSI, a database error). */
hss_outcome hss_deactivate_in(sqlite3 *db, const char *imsi, const char *iccid, const char *actor, const char *why,
			      char *err, size_t len);
hss_outcome hss_resume(sqlite3 *db, const char *imsi, const char *actor, char *err, size_t len);
hss_outcome hss_delete(sqlite3 *db, const char *imsi, const char *actor, char *err, size_t len);

/* Contract locks (docs/alt1a-change.md, TR O16): while a subscriber is locked, a change of
 * subscription may not take its MCIM away (the DPF refuses the DRF's changeNotify with
 * contractLocked). hss_lock locks an existing, not deleted subscriber for days (text: 1 to 3650)
 * from now, replacing an earlier lock; hss_unlock lifts a lock in force. One audited transaction
 * each. */
#define HSS_LOCK_DAYS_MAX 3650
hss_outcome hss_lock(sqlite3 *db, const char *imsi, const char *days, const char *actor, char *err, size_t len);
hss_outcome hss_unlock(sqlite3 *db, const char *imsi, const char *actor, char *err, size_t len);
/* Inside the caller's transaction: 1 with *until when imsi is locked at now, 0 when it is not,
 * -1 on a database error. */
int hss_locked_until(sqlite3 *db, const char *imsi, int64_t now, int64_t *until);
/* Forgets the lock of imsi (a new subscription of the IMSI: hss_create); 0 or -1. */
int hss_lock_clear(sqlite3 *db, const char *imsi);

/* CSV with the header imsi,k,opc,amf,apns,cs,imei_lock (apns ';'-separated, cs 0/1/yes/no/true/
 * false or empty): all rows or none (*imported counts them); err names the line of the first
 * bad row, which is HSS_FAILED (the file's content, not the command line, is wrong). */
hss_outcome hss_import(sqlite3 *db, const hss_settings *s, const char *path, const char *actor, int *imported,
		       char *err, size_t len);

/* A card for o (whose k and opc must be NULL): random K, OPc and ADM, the card image written to
 * image (libconfig text, mode 0600, never over an existing file) and the active record stored,
 * both or neither. A pending record of that IMSI gets the card (keeping its profile when o
 * gives none); an active, suspended or unknown-PLMN IMSI is refused. */
hss_outcome hss_personalise(sqlite3 *db, const hss_settings *s, const char *iccid, const hss_order *o,
			    const char *image, const char *actor, char *err, size_t len);

/* One subscriber per line; never keys. */
hss_outcome hss_list(sqlite3 *db, FILE *out, char *err, size_t len);
/* Labelled fields of one subscriber, its location and its audit trail; never keys. */
hss_outcome hss_show(sqlite3 *db, const char *imsi, FILE *out, char *err, size_t len);

#endif
