/* The subscriber record store: see subscriber.h. K || OPc and ADM are sealed with aad = IMSI. */
#include "hss/subscriber.h"

#include "crypto/crypto.h"
#include "store/store.h"
#include "log/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const state_names[] = {"pending", "active", "suspended", "deleted"};

const char *hss_state_name(hss_state s)
{
	return s >= HSS_PENDING && s <= HSS_DELETED ? state_names[s] : "?";
}

static int state_parse(const char *name, hss_state *out)
{
	for (int i = HSS_PENDING; i <= HSS_DELETED; i++)
		if (name && !strcmp(name, state_names[i])) {
			*out = (hss_state)i;
			return 0;
		}
	return -1;
}

static int digits(const char *s, size_t min, size_t max)
{
	size_t n = s ? strlen(s) : 0;
	return n >= min && n <= max && strspn(s, "0123456789") == n;
}

int hss_imsi_valid(const char *imsi) { return digits(imsi, 6, HSS_IMSI_MAX); }
int hss_imei_valid(const char *imei) { return digits(imei, 14, HSS_IMEI_MAX); }
int hss_iccid_valid(const char *iccid) { return digits(iccid, 18, HSS_ICCID_MAX); }

int hss_imei_same_device(const char *a, const char *b)
{
	return !strncmp(a, b, 14);
}

int hss_apn_valid(const char *apn)
{
	size_t n = apn ? strlen(apn) : 0;
	if (n < 1 || n > HSS_APN_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (apn[i] <= ' ' || apn[i] > '~' || apn[i] == ',' || apn[i] == ';' || apn[i] == '"')
			return 0;
	return 1;
}

void hss_subscriber_init(hss_subscriber *s, const char *imsi)
{
	memset(s, 0, sizeof *s);
	snprintf(s->imsi, sizeof s->imsi, "%s", imsi);
	s->state = HSS_ACTIVE;
	memcpy(s->amf, HSS_DEFAULT_AMF, 2);
	m2m_sqn_he_init(&s->sqn, NULL, 0);
}

void hss_subscriber_wipe(hss_subscriber *s)
{
	m2m_wipe(s, sizeof *s);
}

/* ---- statements ------------------------------------------------------------------------------ */

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *text)
{
	if (text && text[0])
		sqlite3_bind_text(st, i, text, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

/* ---- sealing ---------------------------------------------------------------------------------- */

static int bind_sealed(sqlite3_stmt *st, int i, const uint8_t key[32], const char *imsi, const uint8_t *secret,
		       size_t len)
{
	uint8_t sealed[64 + M2M_SEAL_OVERHEAD];
	int rc = len <= 64 ? m2m_seal(key, imsi, strlen(imsi), secret, len, sealed) : -1;
	if (rc == 0)
		sqlite3_bind_blob(st, i, sealed, (int)(len + M2M_SEAL_OVERHEAD), SQLITE_TRANSIENT);
	else
		m2m_error("cannot seal the keys of IMSI %s", imsi);
	m2m_wipe(sealed, sizeof sealed);
	return rc;
}

/* 0 when the column is NULL (*present = 0) or opens to exactly len bytes; -1 otherwise. */
static int open_sealed(sqlite3_stmt *st, int i, const uint8_t key[32], const char *imsi, uint8_t *out, size_t len,
		       int *present)
{
	*present = sqlite3_column_type(st, i) != SQLITE_NULL;
	if (!*present || !key)
		return 0;
	int n = sqlite3_column_bytes(st, i);
	const uint8_t *blob = sqlite3_column_blob(st, i);
	if (n != (int)(len + M2M_SEAL_OVERHEAD) || m2m_unseal(key, imsi, strlen(imsi), blob, (size_t)n, out)) {
		m2m_error("the sealed keys of IMSI %s do not open under this storage key", imsi);
		return -1;
	}
	return 0;
}

/* The card's keys travel sealed as one blob: ADM || TAR || KIc || KID. */
#define HSS_CARD_KEYS_LEN (HSS_ADM_LEN + 3 + 16 + 16)

static void card_keys_split(const uint8_t *b, hss_subscriber *s)
{
	memcpy(s->adm, b, HSS_ADM_LEN);
	memcpy(s->ota_tar, b + HSS_ADM_LEN, 3);
	memcpy(s->ota_kic, b + HSS_ADM_LEN + 3, 16);
	memcpy(s->ota_kid, b + HSS_ADM_LEN + 19, 16);
}

static void card_keys_join(const hss_subscriber *s, uint8_t *b)
{
	memcpy(b, s->adm, HSS_ADM_LEN);
	memcpy(b + HSS_ADM_LEN, s->ota_tar, 3);
	memcpy(b + HSS_ADM_LEN + 3, s->ota_kic, 16);
	memcpy(b + HSS_ADM_LEN + 19, s->ota_kid, 16);
}

/* ---- the record ------------------------------------------------------------------------------ */

static int load_apns(sqlite3 *db, const char *imsi, hss_profile *p)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "SELECT apn FROM hss_apn WHERE imsi = ? ORDER BY position");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, imsi, -1, SQLITE_STATIC);
	int rc;
	p->napns = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && p->napns < HSS_APNS_MAX)
		m2m_store_column_text(st, 0, p->apns[p->napns++], sizeof p->apns[0]);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

static int read_row(sqlite3_stmt *st, const uint8_t key[32], hss_subscriber *s)
{
	uint8_t k_opc[32], card[HSS_CARD_KEYS_LEN];
	hss_state state;
	if (state_parse((const char *)sqlite3_column_text(st, 0), &state) ||
	    sqlite3_column_bytes(st, 4) != 2 || sqlite3_column_bytes(st, 5) != M2M_SQN_HE_BLOB_LEN ||
	    m2m_sqn_he_deserialise(&s->sqn, sqlite3_column_blob(st, 5))) {
		m2m_error("the record of IMSI %s is damaged", s->imsi);
		return -1;
	}
	s->state = state;
	int rc = open_sealed(st, 1, key, s->imsi, k_opc, sizeof k_opc, &s->has_keys) ||
		 open_sealed(st, 2, key, s->imsi, card, sizeof card, &s->has_adm);
	if (!rc && key && s->has_keys) {
		memcpy(s->k, k_opc, 16);
		memcpy(s->opc, k_opc + 16, 16);
	}
	if (!rc && key && s->has_adm)
		card_keys_split(card, s);
	m2m_wipe(k_opc, sizeof k_opc);
	m2m_wipe(card, sizeof card);
	m2m_store_column_text(st, 3, s->iccid, sizeof s->iccid);
	memcpy(s->amf, sqlite3_column_blob(st, 4), 2);
	s->profile.cs_allowed = sqlite3_column_int(st, 6);
	m2m_store_column_text(st, 7, s->profile.imei_lock, sizeof s->profile.imei_lock);
	s->created = sqlite3_column_int64(st, 8);
	s->changed = sqlite3_column_int64(st, 9);
	return rc ? -1 : 0;
}

int hss_subscriber_load(sqlite3 *db, const uint8_t key[32], const char *imsi, hss_subscriber *s)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "SELECT state, k_opc_sealed, card_keys_sealed, iccid, amf, sqn, cs_allowed,"
				       " imei_lock, created, changed FROM hss_subscriber WHERE imsi = ?");
	if (!st)
		return -1;
	memset(s, 0, sizeof *s);
	snprintf(s->imsi, sizeof s->imsi, "%s", imsi);
	sqlite3_bind_text(st, 1, imsi, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	int result = rc == SQLITE_DONE ? 1 : rc == SQLITE_ROW ? read_row(st, key, s) : -1;
	sqlite3_finalize(st);
	if (result == 0 && load_apns(db, imsi, &s->profile))
		result = -1;
	if (result < 0)
		hss_subscriber_wipe(s);
	return result;
}

static int store_apns(sqlite3 *db, const hss_subscriber *s)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "DELETE FROM hss_apn WHERE imsi = ?");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, s->imsi, -1, SQLITE_STATIC);
	if (m2m_store_run(db, st))
		return -1;
	for (int i = 0; i < s->profile.napns; i++) {
		st = m2m_store_prepare(db, "INSERT INTO hss_apn (imsi, position, apn) VALUES (?, ?, ?)");
		if (!st)
			return -1;
		sqlite3_bind_text(st, 1, s->imsi, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, i);
		sqlite3_bind_text(st, 3, s->profile.apns[i], -1, SQLITE_STATIC);
		if (m2m_store_run(db, st))
			return -1;
	}
	return 0;
}

int hss_subscriber_store(sqlite3 *db, const uint8_t key[32], const hss_subscriber *s)
{
	sqlite3_stmt *st = m2m_store_prepare(db,
		"INSERT INTO hss_subscriber (imsi, state, k_opc_sealed, card_keys_sealed, iccid, amf, sqn, cs_allowed,"
		" imei_lock, created, changed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)"
		" ON CONFLICT (imsi) DO UPDATE SET state = ?2, k_opc_sealed = ?3, card_keys_sealed = ?4, iccid = ?5,"
		" amf = ?6, sqn = ?7, cs_allowed = ?8, imei_lock = ?9, changed = ?10");
	if (!st)
		return -1;
	uint8_t k_opc[32], sqn[M2M_SQN_HE_BLOB_LEN];
	int sealed = 0;
	sqlite3_bind_text(st, 1, s->imsi, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, hss_state_name(s->state), -1, SQLITE_STATIC);
	if (s->has_keys) {
		memcpy(k_opc, s->k, 16);
		memcpy(k_opc + 16, s->opc, 16);
		sealed |= bind_sealed(st, 3, key, s->imsi, k_opc, sizeof k_opc);
		m2m_wipe(k_opc, sizeof k_opc);
	}
	if (s->has_adm) {
		uint8_t card[HSS_CARD_KEYS_LEN];
		card_keys_join(s, card);
		sealed |= bind_sealed(st, 4, key, s->imsi, card, sizeof card);
		m2m_wipe(card, sizeof card);
	}
	if (sealed) {
		sqlite3_finalize(st);
		return -1;
	}
	bind_text_or_null(st, 5, s->iccid);
	sqlite3_bind_blob(st, 6, s->amf, 2, SQLITE_STATIC);
	m2m_sqn_he_serialise(&s->sqn, sqn);
	sqlite3_bind_blob(st, 7, sqn, sizeof sqn, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 8, s->profile.cs_allowed ? 1 : 0);
	bind_text_or_null(st, 9, s->profile.imei_lock);
	sqlite3_bind_int64(st, 10, (sqlite3_int64)time(NULL));
	return m2m_store_run(db, st) || store_apns(db, s) ? -1 : 0;
}

/* One query: the range's first number, and every used one's successor, are the candidates;
 * the lowest unused candidate is the first gap. IMSIs of one length compare as text like numbers. */
int hss_imsi_first_free(sqlite3 *db, const char *first, long count, char out[HSS_IMSI_MAX + 1])
{
	size_t n = strlen(first);
	if (!hss_imsi_valid(first) || count < 1)
		return -1;
	char format[32];
	snprintf(format, sizeof format, "%%0%zulld", n);
	sqlite3_stmt *st = m2m_store_prepare(db,
		"WITH used (n) AS (SELECT CAST(imsi AS INTEGER) FROM hss_subscriber"
		"  WHERE length(imsi) = ?1 AND imsi BETWEEN printf(?2, ?3) AND printf(?2, ?4))"
		" SELECT printf(?2, c) FROM (SELECT ?3 AS c UNION SELECT n + 1 FROM used)"
		" WHERE c <= ?4 AND c NOT IN (SELECT n FROM used) ORDER BY c LIMIT 1");
	if (!st)
		return -1;
	long long lo = strtoll(first, NULL, 10);
	sqlite3_bind_int(st, 1, (int)n);
	sqlite3_bind_text(st, 2, format, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, lo);
	sqlite3_bind_int64(st, 4, lo + count - 1);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		m2m_store_column_text(st, 0, out, HSS_IMSI_MAX + 1);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

int hss_subscriber_set_state(sqlite3 *db, const char *imsi, hss_state state)
{
	/* a deleted subscription keeps no keys: crypto-shredding, the record stays for the audit */
	sqlite3_stmt *st = m2m_store_prepare(db, state == HSS_DELETED
		? "UPDATE hss_subscriber SET state = ?, changed = ?, k_opc_sealed = NULL, card_keys_sealed = NULL WHERE imsi = ?"
		: "UPDATE hss_subscriber SET state = ?, changed = ? WHERE imsi = ?");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, hss_state_name(state), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
	sqlite3_bind_text(st, 3, imsi, -1, SQLITE_STATIC);
	return m2m_store_run(db, st);
}

int hss_subscriber_set_sqn(sqlite3 *db, const char *imsi, const m2m_sqn_he *sqn)
{
	uint8_t blob[M2M_SQN_HE_BLOB_LEN];
	m2m_sqn_he_serialise(sqn, blob);
	return m2m_store_put_blob(db, "UPDATE hss_subscriber SET sqn = ?2 WHERE imsi = ?1", imsi, blob, sizeof blob);
}

/* ---- location --------------------------------------------------------------------------------- */

int hss_location_get(sqlite3 *db, const char *imsi, hss_location *loc)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "SELECT network, imei, since FROM hss_location WHERE imsi = ?");
	if (!st)
		return -1;
	memset(loc, 0, sizeof *loc);
	sqlite3_bind_text(st, 1, imsi, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		m2m_store_column_text(st, 0, loc->network, sizeof loc->network);
		m2m_store_column_text(st, 1, loc->imei, sizeof loc->imei);
		loc->since = sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

int hss_imsi_of_iccid(sqlite3 *db, const char *iccid, char imsi[HSS_IMSI_MAX + 1])
{
	return m2m_store_get_text(db, "SELECT imsi FROM hss_subscriber WHERE iccid = ? AND state <> 'deleted'", iccid, imsi,
				  HSS_IMSI_MAX + 1);
}

int hss_location_set(sqlite3 *db, const char *imsi, const hss_location *loc)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "INSERT OR REPLACE INTO hss_location (imsi, network, imei, since)"
				       " VALUES (?, ?, ?, ?)");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, imsi, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, loc->network, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, loc->imei, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, loc->since);
	return m2m_store_run(db, st);
}

int hss_location_clear(sqlite3 *db, const char *imsi)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "DELETE FROM hss_location WHERE imsi = ?");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, imsi, -1, SQLITE_STATIC);
	return m2m_store_run(db, st);
}

int hss_imsis_at_device(sqlite3 *db, const char *imei, char (*out)[HSS_IMSI_MAX + 1], int max)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "SELECT l.imsi, l.imei FROM hss_location l JOIN hss_subscriber s"
						 " ON s.imsi = l.imsi WHERE s.state = 'active' ORDER BY l.since DESC, l.imsi");
	if (!st)
		return -1;
	int n = 0, rc = SQLITE_DONE;
	while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *at = (const char *)sqlite3_column_text(st, 1);
		if (at && hss_imei_same_device(at, imei))
			m2m_store_column_text(st, 0, out[n++], HSS_IMSI_MAX + 1);
	}
	sqlite3_finalize(st);
	return n == max || rc == SQLITE_DONE ? n : -1;
}

/* ---- audit ------------------------------------------------------------------------------------ */

const char *hss_utc(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "%lld", (long long)t);
	return buf;
}

int hss_audit(sqlite3 *db, const char *actor, const char *imsi, const char *action, const char *fmt, ...)
{
	char detail[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	sqlite3_stmt *st = m2m_store_prepare(db, "INSERT INTO hss_audit (time, actor, imsi, action, detail) VALUES (?, ?, ?, ?, ?)");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL));
	sqlite3_bind_text(st, 2, actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, imsi, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, detail, -1, SQLITE_TRANSIENT);
	return m2m_store_run(db, st);
}
