/*
 * The ICF's pool of PCIDs (brief 2.1 preconditions): pool.size consecutive IMSIs from pool.first.
 * At manufacture the equipment supplier asks for one per TRE (pcidAssignRequest); each gets a
 * random K_pc and OPc_pc, sealed here under the storage key with the PCID as associated data,
 * a fresh SQN state, and a validity. A PCID goes back to the pool, its row and so its keys deleted
 * (secure_delete overwrites the freed pages), when its validity ends or once its TRE holds an MCIM
 * (provisioned.c); another TRE may then get it.
 */
#include "drf.h"

#include "crypto/crypto.h"
#include "log/log.h"
#include "wire/read.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEALED_LEN (32 + M2M_SEAL_OVERHEAD)  /* K_pc || OPc_pc */
#define ASSIGN_MAX 1000                      /* PcidAssignRequest.tres */
#define COLUMNS "imsi, tre, sealed, sqn, assigned_at, valid_until, imei, network"

/* ---- the rows ------------------------------------------------------------------------------- */

void drf_pcid_wipe(drf_pcid *p)
{
	m2m_wipe(p, sizeof *p);
}

static int read_row(drf *d, sqlite3_stmt *st, int keys, drf_pcid *p)
{
	uint8_t blob[M2M_SQN_HE_BLOB_LEN], plain[32];
	memset(p, 0, sizeof *p);
	m2m_store_column_text(st, 0, p->imsi, sizeof p->imsi);
	m2m_store_column_text(st, 1, p->tre, sizeof p->tre);
	p->assigned_at = sqlite3_column_int64(st, 4);
	p->valid_until = sqlite3_column_int64(st, 5);
	m2m_store_column_text(st, 6, p->imei, sizeof p->imei);
	m2m_store_column_text(st, 7, p->network, sizeof p->network);
	if (m2m_store_column_blob(st, 3, blob, sizeof blob) || m2m_sqn_he_deserialise(&p->sqn, blob))
		return -1;
	if (!keys)
		return 0;
	int bad = sqlite3_column_bytes(st, 2) != SEALED_LEN ||
		  m2m_unseal(d->s.storage_key, p->imsi, strlen(p->imsi), sqlite3_column_blob(st, 2), SEALED_LEN, plain);
	memcpy(p->k, plain, 16);
	memcpy(p->opc, plain + 16, 16);
	m2m_wipe(plain, sizeof plain);
	return bad ? -1 : 0;
}

static int load_where(drf *d, const char *sql, const char *value, int keys, drf_pcid *p)
{
	sqlite3_stmt *st = m2m_store_prepare(d->db, sql);
	int rc = -1;
	if (st) {
		sqlite3_bind_text(st, 1, value, -1, SQLITE_TRANSIENT);
		int step = sqlite3_step(st);
		rc = step == SQLITE_ROW ? read_row(d, st, keys, p) : step == SQLITE_DONE ? 1 : -1;
	}
	sqlite3_finalize(st);
	if (rc < 0) {
		drf_pcid_wipe(p);
		m2m_error("the PCID record of %s cannot be read", value);
	}
	return rc;
}

int drf_pcid_load(drf *d, const char *imsi, int keys, drf_pcid *p)
{
	return load_where(d, "SELECT " COLUMNS " FROM drf_pcid WHERE imsi = ?1", imsi, keys, p);
}

int drf_pcid_of_tre(drf *d, const char *tre, int keys, drf_pcid *p)
{
	return load_where(d, "SELECT " COLUMNS " FROM drf_pcid WHERE tre = ?1", tre, keys, p);
}

static int insert(drf *d, const drf_pcid *p)
{
	uint8_t plain[32], sealed[SEALED_LEN], sqn[M2M_SQN_HE_BLOB_LEN];
	memcpy(plain, p->k, 16);
	memcpy(plain + 16, p->opc, 16);
	int bad = m2m_seal(d->s.storage_key, p->imsi, strlen(p->imsi), plain, sizeof plain, sealed);
	m2m_wipe(plain, sizeof plain);
	m2m_sqn_he_serialise(&p->sqn, sqn);
	sqlite3_stmt *st = bad ? NULL
			       : m2m_store_prepare(d->db, "INSERT INTO drf_pcid (imsi, tre, sealed, sqn, assigned_at,"
							  " valid_until) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
	if (st) {
		sqlite3_bind_text(st, 1, p->imsi, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, p->tre, -1, SQLITE_TRANSIENT);
		sqlite3_bind_blob(st, 3, sealed, sizeof sealed, SQLITE_TRANSIENT);
		sqlite3_bind_blob(st, 4, sqn, sizeof sqn, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 5, p->assigned_at);
		sqlite3_bind_int64(st, 6, p->valid_until);
	}
	return m2m_store_run(d->db, st);
}

/* A statement on one PCID: ?1 is the IMSI, then up to three more values. */
static int update(drf *d, const char *sql, const char *imsi, const char *a, const char *b, int64_t n)
{
	sqlite3_stmt *st = m2m_store_prepare(d->db, sql);
	if (st) {
		sqlite3_bind_text(st, 1, imsi, -1, SQLITE_TRANSIENT);
		if (a)
			sqlite3_bind_text(st, 2, a, -1, SQLITE_TRANSIENT);
		if (b)
			sqlite3_bind_text(st, 3, b, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 4, n);
	}
	return m2m_store_run(d->db, st);
}

int drf_pcid_release(drf *d, const char *imsi)
{
	return update(d, "DELETE FROM drf_pcid WHERE imsi = ?1", imsi, NULL, NULL, 0);
}

int drf_pcid_set_use(drf *d, const char *imsi, const char *imei, const char *network, int64_t now)
{
	return update(d, "UPDATE drf_pcid SET imei = ?2, network = ?3, since = ?4 WHERE imsi = ?1", imsi, imei, network,
		      now);
}

int drf_pcid_set_sqn(drf *d, const char *imsi, const m2m_sqn_he *sqn)
{
	uint8_t blob[M2M_SQN_HE_BLOB_LEN];
	m2m_sqn_he_serialise(sqn, blob);
	return m2m_store_put_blob(d->db, "UPDATE drf_pcid SET sqn = ?2 WHERE imsi = ?1", imsi, blob, sizeof blob);
}

m2m_reason drf_pcid_usable(drf *d, const char *imsi, int keys, int64_t now, drf_pcid *p, char *why, size_t len)
{
	int rc = drf_pcid_load(d, imsi, keys, p);
	if (rc)
		snprintf(why, len, rc > 0 ? "%s is not an assigned PCID of PLMN %s" : "the PCID %s cannot be read", imsi,
			 d->s.plmn);
	if (rc)
		return rc > 0 ? M2M_R_NOT_FOUND : M2M_R_INTERNAL;
	if (p->valid_until > now)
		return M2M_OK;
	drf_pcid_wipe(p);
	if (drf_pcid_release(d, imsi)) {
		snprintf(why, len, "the expired PCID %s cannot be released", imsi);
		return M2M_R_INTERNAL;
	}
	m2m_info("PCID %s expired: back in the pool", imsi);
	snprintf(why, len, "PCID %s expired: it is back in the pool", imsi);
	return M2M_R_PCID_EXPIRED;
}

/* ---- assignment ----------------------------------------------------------------------------- */

/* Which pool numbers are taken (used[i] for first + i). */
static int mark_used(drf *d, uint8_t *used)
{
	long long first = strtoll(d->s.pool_first, NULL, 10);
	sqlite3_stmt *st = m2m_store_prepare(d->db, "SELECT imsi FROM drf_pcid");
	int rc = st ? SQLITE_ROW : SQLITE_ERROR;
	while (st && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		long long i = strtoll((const char *)sqlite3_column_text(st, 0), NULL, 10) - first;
		if (i >= 0 && i < d->s.pool_size)
			used[i] = 1;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int new_pcid(drf *d, const char *tre, long index, int64_t now, drf_pcid *p)
{
	memset(p, 0, sizeof *p);
	snprintf(p->imsi, sizeof p->imsi, "%0*lld", (int)strlen(d->s.pool_first),
		 strtoll(d->s.pool_first, NULL, 10) + index);
	snprintf(p->tre, sizeof p->tre, "%s", tre);
	m2m_random(p->k, sizeof p->k);
	m2m_random(p->opc, sizeof p->opc);
	p->assigned_at = now;
	p->valid_until = now + (int64_t)d->s.pcid_validity_days * 86400;
	return m2m_sqn_he_init(&p->sqn, NULL, 0) || insert(d, p) ? -1 : 0;
}

m2m_reason drf_pool_assign(drf *d, char (*tres)[M2M_ENTITY_MAX + 1], int n, int64_t now, drf_pcid *out, char *why,
			   size_t len)
{
	uint8_t *used = calloc((size_t)d->s.pool_size, 1);
	m2m_reason r = used && drf_pool_expire(d, now) >= 0 && !mark_used(d, used) ? M2M_OK : M2M_R_INTERNAL;
	long next = 0;
	for (int i = 0; i < n && r == M2M_OK; i++) {
		int rc = drf_pcid_of_tre(d, tres[i], 1, &out[i]);
		if (rc == 0)
			continue;  /* it holds a valid one already: the same again */
		while (next < d->s.pool_size && used[next])
			next++;
		if (rc < 0)
			r = M2M_R_INTERNAL;
		else if (next == d->s.pool_size)
			r = M2M_R_POOL_EXHAUSTED;
		else if (new_pcid(d, tres[i], next, now, &out[i]))
			r = M2M_R_INTERNAL;
		else
			used[next] = 1;
		if (r == M2M_R_POOL_EXHAUSTED)
			snprintf(why, len, "no free PCID for tres[%d] (%s): all %ld are assigned; none was assigned", i,
				 tres[i], d->s.pool_size);
		else if (r != M2M_OK)
			snprintf(why, len, "the PCID of tres[%d] (%s) cannot be stored", i, tres[i]);
	}
	free(used);
	if (r != M2M_OK)
		m2m_wipe(out, (size_t)n * sizeof *out);
	return r;
}

/* ---- pcidAssignRequest ------------------------------------------------------------------------ */

static M2M_PCID_CREDENTIAL *credential(const drf_pcid *p)
{
	M2M_PCID_CREDENTIAL *c = M2M_PCID_CREDENTIAL_new();
	if (c && m2m_set_str(c->tre, p->tre) == 0 && m2m_set_digits(&c->pcid, p->imsi) == 0 &&
	    ASN1_OCTET_STRING_set(c->k, p->k, sizeof p->k) && ASN1_OCTET_STRING_set(c->opc, p->opc, sizeof p->opc) &&
	    ASN1_GENERALIZEDTIME_set(c->valid_until, (time_t)p->valid_until))
		return c;
	M2M_PCID_CREDENTIAL_free(c);
	return NULL;
}

/* K_pc and OPc_pc are wiped before the memory is released. */
static void response_free(M2M_PCID_ASSIGN_RESPONSE *resp)
{
	for (int i = 0; i < sk_M2M_PCID_CREDENTIAL_num(resp); i++) {
		M2M_PCID_CREDENTIAL *c = sk_M2M_PCID_CREDENTIAL_value(resp, i);
		OPENSSL_cleanse(c->k->data, (size_t)c->k->length);
		OPENSSL_cleanse(c->opc->data, (size_t)c->opc->length);
	}
	M2M_PCID_ASSIGN_RESPONSE_free(resp);
}

static M2M_PCID_ASSIGN_RESPONSE *response(const drf_pcid *p, int n)
{
	M2M_PCID_ASSIGN_RESPONSE *resp = sk_M2M_PCID_CREDENTIAL_new_null();
	for (int i = 0; resp && i < n; i++) {
		M2M_PCID_CREDENTIAL *c = credential(&p[i]);
		if (!c || !sk_M2M_PCID_CREDENTIAL_push(resp, c)) {
			M2M_PCID_CREDENTIAL_free(c);
			response_free(resp);
			return NULL;
		}
	}
	return resp;
}

/* The TRE names of the request: their count, or -1 after refusing it. */
static int read_tres(drf *d, m2m_request *req, char (*tres)[M2M_ENTITY_MAX + 1])
{
	const M2M_PCID_ASSIGN_REQUEST *q = req->env.body;
	int n = sk_ASN1_UTF8STRING_num(q->tres);
	if (n < 1 || n > ASSIGN_MAX) {
		m2m_refuse(d->node, req, M2M_R_BAD_BODY, "tres must name 1 to %d TREs", ASSIGN_MAX);
		return -1;
	}
	for (int i = 0; i < n; i++)
		if (m2m_read_name(sk_ASN1_UTF8STRING_value(q->tres, i), tres[i], M2M_ENTITY_MAX)) {
			m2m_refuse(d->node, req, M2M_R_BAD_BODY, "tres[%d] is not an entity id of 1 to %d characters", i,
				   M2M_ENTITY_MAX);
			return -1;
		}
	return n;
}

void drf_pcid_assign_request(drf *d, m2m_request *req)
{
	char why[200] = "out of memory";
	if (!drf_is_supplier(&d->s, req->env.sender)) {
		m2m_refuse(d->node, req, M2M_R_NOT_AUTHORISED, "%s is not an equipment supplier of this ICF",
			   req->env.sender);
		return;
	}
	char (*tres)[M2M_ENTITY_MAX + 1] = calloc(ASSIGN_MAX, sizeof *tres);
	int n = tres ? read_tres(d, req, tres) : 0;
	if (n < 0) {
		free(tres);
		return;  /* refused already */
	}
	drf_pcid *out = n > 0 ? calloc((size_t)n, sizeof *out) : NULL;
	m2m_reason r = out ? drf_pool_assign(d, tres, n, time(NULL), out, why, sizeof why) : M2M_R_INTERNAL;
	free(tres);
	M2M_PCID_ASSIGN_RESPONSE *resp = r == M2M_OK ? response(out, n) : NULL;
	if (r == M2M_OK && !resp)
		r = M2M_R_INTERNAL, snprintf(why, sizeof why, "the pcidAssignResponse cannot be built");
	if (out)
		m2m_wipe(out, (size_t)n * sizeof *out);
	free(out);
	if (r != M2M_OK) {
		m2m_refuse(d->node, req, r, "%s", why);
		return;
	}
	m2m_info("%d PCID(s) assigned for %s", n, req->env.sender);
	m2m_reply(d->node, req, M2M_MSG_PCID_ASSIGN_RESPONSE, resp);
	response_free(resp);
}
