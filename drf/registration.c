/*
 * Registration (brief 2.1 step 5, T-1a-1): which selected home operator (SHO), and which DPF of
 * it, a device is for. A batch (registrationRequest) comes from the SHO named in every entry or
 * from a configured registrar (the subscriber's portal, drf-admin's file); it is all or nothing:
 * the first bad entry refuses the batch, its index in the text, and the step's rollback undoes the
 * entries before it. A device stays with its SHO: another SHO for a registered TRE is the change
 * of subscription's procedure, refused here (wrongState).
 *
 * An entry may carry the subscriber's key (a DER SubjectPublicKeyInfo of a P-256 key), which
 * authorises a change of subscription (subscriber.c); a registration without one keeps the key
 * held, so that an SHO re-registering its devices does not take the subscriber's say away.
 */
#include "drf.h"

#include "log/log.h"
#include "wire/read.h"

#include <stdio.h>
#include <string.h>

#define BATCH_MAX 10000  /* RegistrationRequest SIZE (1..10000) */

/* TS 23.003 Annex B: a 15-digit IMEI ends with the Luhn digit of the first 14; an IMEISV (16)
 * and a 14-digit IMEI without it carry none. */
int drf_imei_valid(const char *imei)
{
	size_t n = strlen(imei);
	int sum = 0;
	if (n < DRF_IMEI_MIN || n > DRF_IMEI_MAX || strspn(imei, "0123456789") != n)
		return 0;
	for (size_t i = 0; n == 15 && i < 14; i++) {
		int doubled = (imei[i] - '0') * (i % 2 ? 2 : 1);
		sum += doubled > 9 ? doubled - 9 : doubled;
	}
	return n != 15 || (10 - sum % 10) % 10 == imei[14] - '0';
}

int drf_registration_load(drf *d, const char *tre, drf_registration *r)
{
	sqlite3_stmt *st = m2m_store_prepare(d->db, "SELECT m2me, sho, dpf, provisioned_at IS NOT NULL, subscriber_key"
						    " FROM drf_registration WHERE tre = ?1");
	int rc = -1;
	memset(r, 0, sizeof *r);
	if (st) {
		sqlite3_bind_text(st, 1, tre, -1, SQLITE_TRANSIENT);
		int step = sqlite3_step(st);
		rc = step == SQLITE_ROW ? 0 : step == SQLITE_DONE ? 1 : -1;
	}
	if (rc == 0) {
		snprintf(r->tre, sizeof r->tre, "%s", tre);
		m2m_store_column_text(st, 0, r->m2me, sizeof r->m2me);
		m2m_store_column_text(st, 1, r->sho, sizeof r->sho);
		m2m_store_column_text(st, 2, r->dpf, sizeof r->dpf);
		r->provisioned = sqlite3_column_int(st, 3);
		int n = sqlite3_column_bytes(st, 4);
		if (n > 0 && n <= DRF_KEY_MAX) {
			memcpy(r->subscriber_key, sqlite3_column_blob(st, 4), (size_t)n);
			r->subscriber_key_len = (size_t)n;
		}
	}
	sqlite3_finalize(st);
	return rc;
}

m2m_reason drf_register(drf *d, const drf_registration *r, const char *actor, int64_t now, char *why, size_t len)
{
	drf_registration old;
	int rc = drf_registration_load(d, r->tre, &old);
	if (rc == 0 && strcmp(old.sho, r->sho)) {
		snprintf(why, len, "TRE %s is registered for %s: a change of SHO is its own procedure", r->tre, old.sho);
		return M2M_R_WRONG_STATE;
	}
	/* the same SHO again: the device and DPF it names now, provisioning kept */
	sqlite3_stmt *st = rc < 0 ? NULL
				  : m2m_store_prepare(d->db, "INSERT INTO drf_registration (tre, m2me, sho, dpf, registered_by,"
							     " registered_at, subscriber_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
							     " ON CONFLICT (tre) DO UPDATE SET m2me = ?2, dpf = ?4, registered_by = ?5,"
							     " registered_at = ?6, subscriber_key = coalesce(?7, subscriber_key)");
	const char *text[] = {r->tre, r->m2me, r->sho, r->dpf, actor};
	for (int i = 0; st && i < 5; i++)
		sqlite3_bind_text(st, i + 1, text[i], -1, SQLITE_TRANSIENT);
	if (st)
		sqlite3_bind_int64(st, 6, now);
	if (st && r->subscriber_key_len)
		sqlite3_bind_blob(st, 7, r->subscriber_key, (int)r->subscriber_key_len, SQLITE_TRANSIENT);
	if (m2m_store_run(d->db, st)) {
		snprintf(why, len, "the registration of TRE %s cannot be stored", r->tre);
		return M2M_R_INTERNAL;
	}
	return M2M_OK;
}

/* The entry's subscriber key into r: 0, or -1 when it is not one. */
static int read_key(const ASN1_OCTET_STRING *key, drf_registration *r)
{
	int n = ASN1_STRING_length(key);
	if (n < 1 || n > DRF_KEY_MAX || drf_subscriber_key_check(ASN1_STRING_get0_data(key), (size_t)n))
		return -1;
	memcpy(r->subscriber_key, ASN1_STRING_get0_data(key), (size_t)n);
	r->subscriber_key_len = (size_t)n;
	return 0;
}

/* One entry: 0, or -1 with what is wrong in why. */
static int read_entry(const M2M_REGISTRATION *e, drf_registration *r, char *why, size_t len)
{
	memset(r, 0, sizeof *r);
	const char *bad = m2m_digits(e->m2me, r->m2me, sizeof r->m2me, DRF_IMEI_MIN, DRF_IMEI_MAX) || !drf_imei_valid(r->m2me)
				  ? "m2me is not an IMEI (14 to 16 digits, the check digit right)"
			  : m2m_read_name(e->tre, r->tre, M2M_ENTITY_MAX) ? "tre is not an entity id of 1 to 63 characters"
			  : m2m_read_name(e->sho, r->sho, M2M_ENTITY_MAX) ? "sho is not an entity id of 1 to 63 characters"
			  : m2m_read_name(e->dpf, r->dpf, M2M_ENTITY_MAX) ? "dpf is not an entity id of 1 to 63 characters"
			  : e->subscriber_key && read_key(e->subscriber_key, r)
				  ? "subscriberKey is not the DER SubjectPublicKeyInfo of a P-256 key"
				  : NULL;
	if (bad)
		snprintf(why, len, "%s", bad);
	return bad ? -1 : 0;
}

void drf_registration_request(drf *d, m2m_request *req)
{
	const M2M_REGISTRATION_REQUEST *q = req->env.body;
	int n = sk_M2M_REGISTRATION_num(q), registrar = drf_is_registrar(&d->s, req->env.sender);
	int64_t now = time(NULL);
	char why[200];
	drf_registration r;
	if (n < 1 || n > BATCH_MAX) {
		m2m_refuse(d->node, req, M2M_R_BAD_BODY, "a batch holds 1 to %d registrations", BATCH_MAX);
		return;
	}
	for (int i = 0; i < n; i++) {
		if (read_entry(sk_M2M_REGISTRATION_value(q, i), &r, why, sizeof why)) {
			m2m_refuse(d->node, req, M2M_R_BAD_BODY, "registration %d: %s; none registered", i, why);
			return;
		}
		if (!registrar && strcmp(r.sho, req->env.sender)) {
			m2m_refuse(d->node, req, M2M_R_NOT_AUTHORISED,
				   "registration %d is for %s: %s registers only its own devices; none registered", i, r.sho,
				   req->env.sender);
			return;
		}
		m2m_reason rc = drf_register(d, &r, req->env.sender, now, why, sizeof why);
		if (rc != M2M_OK) {
			m2m_refuse(d->node, req, rc, "registration %d: %s; none registered", i, why);
			return;
		}
	}
	M2M_REGISTRATION_RESPONSE *resp = M2M_REGISTRATION_RESPONSE_new();
	resp->registered = (uint64_t)n;
	m2m_info("%d device(s) registered by %s", n, req->env.sender);
	m2m_reply(d->node, req, M2M_MSG_REGISTRATION_RESPONSE, resp);
	M2M_REGISTRATION_RESPONSE_free(resp);
}
