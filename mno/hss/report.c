/*
 * What mno-admin prints: `list`, one subscriber per line, and `show`, the labelled fields of one
 * subscriber with its location, its contract lock, the changes of subscription that took its MCIM
 * away (docs/alt1a-change.md: the DPF's dpf_change, with the TRE's deletion receipt) or the device
 * on its card (docs/alt3b.md: dpf_uicc_change) and its audit trail. Neither ever prints K, OPc or ADM: records are loaded without the storage key, so the
 * keys stay sealed even in memory.
 */
#include "hss/provision.h"

#include "crypto/crypto.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void print_apns(FILE *out, const hss_profile *p)
{
	for (int i = 0; i < p->napns; i++)
		fprintf(out, "%s%s", i ? "," : "", p->apns[i]);
}

/* One snapshot for what is printed, while the daemon may be writing (WAL readers never block). */
static hss_outcome snapshot(sqlite3 *db, hss_outcome (*print)(sqlite3 *, const char *, FILE *, char *, size_t),
			    const char *imsi, FILE *out, char *err, size_t len)
{
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return hss_db_failed(db, err, len);
	hss_outcome r = print(db, imsi, out, err, len);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	return r;
}

/* ---- list ------------------------------------------------------------------------------------ */

static void list_line(FILE *out, const hss_subscriber *s, const hss_location *loc)
{
	fprintf(out, "%-15s %-9s apns=", s->imsi, hss_state_name(s->state));
	print_apns(out, &s->profile);
	fprintf(out, " cs=%s imei_lock=%s location=%s\n", s->profile.cs_allowed ? "yes" : "no",
		s->profile.imei_lock[0] ? s->profile.imei_lock : "none", loc ? loc->network : "none");
}

static hss_outcome print_list(sqlite3 *db, const char *unused, FILE *out, char *err, size_t len)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT imsi FROM hss_subscriber ORDER BY imsi", -1, &st, NULL) != SQLITE_OK)
		return hss_db_failed(db, err, len);
	hss_outcome r = HSS_DONE;
	int rc;
	while (r == HSS_DONE && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		char imsi[HSS_IMSI_MAX + 1];
		hss_subscriber s;
		hss_location loc;
		snprintf(imsi, sizeof imsi, "%s", (const char *)sqlite3_column_text(st, 0));
		int where = hss_location_get(db, imsi, &loc);
		if (hss_subscriber_load(db, NULL, imsi, &s) || where < 0)
			r = hss_db_failed(db, err, len);
		else
			list_line(out, &s, where == 0 ? &loc : NULL);
	}
	if (r == HSS_DONE && rc != SQLITE_DONE)
		r = hss_db_failed(db, err, len);
	sqlite3_finalize(st);
	return r;
}

/* ---- show ------------------------------------------------------------------------------------ */

static void show_location(FILE *out, const hss_location *loc)
{
	char t[32];
	if (loc)
		fprintf(out, "location:  %s, IMEI %s, since %s\n", loc->network, loc->imei, hss_utc(loc->since, t, sizeof t));
	else
		fprintf(out, "location:  none\n");
}

static void show_record(FILE *out, const hss_subscriber *s, const hss_location *loc)
{
	char t[32];
	fprintf(out, "imsi:      %s\n", s->imsi);
	fprintf(out, "state:     %s\n", hss_state_name(s->state));
	fprintf(out, "iccid:     %s\n", s->iccid[0] ? s->iccid : "none (no card personalised here)");
	fprintf(out, "keys:      %s\n", s->has_keys ? "K, OPc held sealed" : "none");
	fprintf(out, "amf:       %02x%02x\n", s->amf[0], s->amf[1]);
	fprintf(out, "sqn_he:    SEQ %llu, next IND %u\n", (unsigned long long)s->sqn.seq_he, (unsigned)s->sqn.ind_he);
	fprintf(out, "apns:      ");
	print_apns(out, &s->profile);
	fprintf(out, "\ncs:        %s\n", s->profile.cs_allowed ? "allowed" : "not allowed");
	fprintf(out, "imei_lock: %s\n", s->profile.imei_lock[0] ? s->profile.imei_lock : "none");
	show_location(out, loc);
	fprintf(out, "created:   %s\n", hss_utc(s->created, t, sizeof t));
	fprintf(out, "changed:   %s\n", hss_utc(s->changed, t, sizeof t));
}

static hss_outcome show_audit(sqlite3 *db, const char *imsi, FILE *out, char *err, size_t len)
{
	sqlite3_stmt *st;
	char t[32];
	if (sqlite3_prepare_v2(db, "SELECT time, actor, action, detail FROM hss_audit WHERE imsi = ? ORDER BY id", -1,
			       &st, NULL) != SQLITE_OK)
		return hss_db_failed(db, err, len);
	sqlite3_bind_text(st, 1, imsi, -1, SQLITE_STATIC);
	fprintf(out, "audit:\n");
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fprintf(out, "  %s %s %s: %s\n", hss_utc(sqlite3_column_int64(st, 0), t, sizeof t),
			(const char *)sqlite3_column_text(st, 1), (const char *)sqlite3_column_text(st, 2),
			(const char *)sqlite3_column_text(st, 3));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? HSS_DONE : hss_db_failed(db, err, len);
}

static hss_outcome show_lock(sqlite3 *db, const char *imsi, FILE *out, char *err, size_t len)
{
	int64_t until = 0;
	char t[32];
	int locked = hss_locked_until(db, imsi, (int64_t)time(NULL), &until);
	if (locked < 0)
		return hss_db_failed(db, err, len);
	fprintf(out, "lock:      %s%s\n", locked ? "contract locked until " : "none", locked ? hss_utc(until, t, sizeof t) : "");
	return HSS_DONE;
}

/* What became of a change's deletion receipt (the DPF's dpf_change.receipt). */
static void show_receipt(FILE *out, sqlite3_stmt *st)
{
	uint8_t digest[SHA256_DIGEST_LENGTH];
	char hex[2 * SHA256_DIGEST_LENGTH + 1];
	int n = sqlite3_column_bytes(st, 3);
	if (sqlite3_column_type(st, 3) == SQLITE_NULL) {
		fprintf(out, "\n");  /* not deleted yet: no receipt */
		return;
	}
	SHA256(sqlite3_column_blob(st, 3), (size_t)n, digest);
	m2m_hex(digest, sizeof digest, hex);
	fprintf(out, "; the TRE's signed deletion receipt is kept (%d octets, SHA-256 %s)\n", n, hex);
}

/* The changes of subscription that took (or are taking) this subscriber's MCIM to another SHO. */
static hss_outcome show_changes(sqlite3 *db, const char *imsi, FILE *out, char *err, size_t len)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT hex(change_id), to_sho, state, receipt FROM dpf_change WHERE imsi = ?"
				   " ORDER BY created", -1, &st, NULL) != SQLITE_OK)
		return hss_db_failed(db, err, len);
	sqlite3_bind_text(st, 1, imsi, -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *state = (const char *)sqlite3_column_text(st, 2);
		fprintf(out, "change:    %s to %s, %s", (const char *)sqlite3_column_text(st, 0),
			(const char *)sqlite3_column_text(st, 1), state);
		if (!strcmp(state, "deleted"))
			show_receipt(out, st);
		else
			fprintf(out, "\n");
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? HSS_DONE : hss_db_failed(db, err, len);
}

/* The changes of Alternative 3b that moved (or are moving) the device on this subscriber's card
 * to another SHO (the DPF's dpf_uicc_change): released means this IMSI was deactivated by it. */
static hss_outcome show_uicc_changes(sqlite3 *db, const char *imsi, FILE *out, char *err, size_t len)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT hex(change_id), to_sho, state, m2me, tre, iccid FROM dpf_uicc_change"
				   " WHERE imsi = ? ORDER BY created", -1, &st, NULL) != SQLITE_OK)
		return hss_db_failed(db, err, len);
	sqlite3_bind_text(st, 1, imsi, -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *iccid = (const char *)sqlite3_column_text(st, 5);
		fprintf(out, "change:    %s to %s, %s: the device with IMEI %s (TRE %s) on this card%s%s%s\n",
			(const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
			(const char *)sqlite3_column_text(st, 2), (const char *)sqlite3_column_text(st, 3),
			(const char *)sqlite3_column_text(st, 4), iccid ? "; IMSI deactivated by it on card ICCID " : "",
			iccid ? iccid : "", iccid ? ", its keys and OTA keysets erased" : "");
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? HSS_DONE : hss_db_failed(db, err, len);
}

static hss_outcome print_subscriber(sqlite3 *db, const char *imsi, FILE *out, char *err, size_t len)
{
	hss_subscriber s;
	hss_location loc;
	int rc = hss_subscriber_load(db, NULL, imsi, &s);
	if (rc > 0) {
		snprintf(err, len, "IMSI %s: no such subscriber", imsi);
		return HSS_FAILED;
	}
	int where = rc < 0 ? -1 : hss_location_get(db, imsi, &loc);
	if (rc < 0 || where < 0)
		return hss_db_failed(db, err, len);
	show_record(out, &s, where == 0 ? &loc : NULL);
	hss_outcome r = show_lock(db, imsi, out, err, len);
	if (r == HSS_DONE)
		r = show_changes(db, imsi, out, err, len);
	if (r == HSS_DONE)
		r = show_uicc_changes(db, imsi, out, err, len);
	return r == HSS_DONE ? show_audit(db, imsi, out, err, len) : r;
}

hss_outcome hss_list(sqlite3 *db, FILE *out, char *err, size_t len)
{
	return snapshot(db, print_list, NULL, out, err, len);
}

hss_outcome hss_show(sqlite3 *db, const char *imsi, FILE *out, char *err, size_t len)
{
	if (!hss_imsi_valid(imsi)) {
		snprintf(err, len, "%s: an IMSI is 6 to 15 digits", imsi);
		return HSS_BAD_INPUT;
	}
	return snapshot(db, print_subscriber, imsi, out, err, len);
}
