/*
 * The subscriber lifecycle as the operator's staff drive it: an order checked into a record,
 * creation, and the state changes suspend, resume and delete, each one audited transaction.
 */
#include "hss/provision.h"

#include "crypto/crypto.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>

/* ---- orders --------------------------------------------------------------------------------- */

static hss_outcome bad(char *err, size_t len, const char *what, const char *value)
{
	snprintf(err, len, "%s: %s", value ? value : "(none)", what);
	return HSS_BAD_INPUT;
}

static hss_outcome order_keys(const hss_order *o, hss_subscriber *rec, char *err, size_t len)
{
	if (!o->k != !o->opc)
		return bad(err, len, "K and OPc are given together or not at all", o->k ? "--k" : "--opc");
	if (!o->k)
		return HSS_DONE;
	if (strlen(o->k) != 32 || m2m_unhex(o->k, rec->k, 16))
		return bad(err, len, "K must be 32 hex digits", "K");
	if (strlen(o->opc) != 32 || m2m_unhex(o->opc, rec->opc, 16))
		return bad(err, len, "OPc must be 32 hex digits", "OPc");
	rec->has_keys = 1;
	return HSS_DONE;
}

static hss_outcome order_profile(const hss_order *o, hss_profile *p, char *err, size_t len)
{
	if (o->napns < 0 || o->napns > HSS_APNS_MAX)
		return bad(err, len, "at most 16 APNs", "APN list");
	for (int i = 0; i < o->napns; i++) {
		if (!hss_apn_valid(o->apns[i]))
			return bad(err, len, "an APN is 1 to 100 printable characters without , ; or quotes", o->apns[i]);
		for (int j = 0; j < i; j++)
			if (!strcmp(o->apns[i], o->apns[j]))
				return bad(err, len, "APN given twice", o->apns[i]);
		snprintf(p->apns[i], sizeof p->apns[i], "%s", o->apns[i]);
	}
	p->napns = o->napns;
	if (!p->napns)
		snprintf(p->apns[p->napns++], sizeof p->apns[0], "%s", HSS_DEFAULT_APN);
	p->cs_allowed = o->cs_allowed != 0;
	if (o->imei_lock && !hss_imei_valid(o->imei_lock))
		return bad(err, len, "an IMEI lock is 14 to 16 digits", o->imei_lock);
	snprintf(p->imei_lock, sizeof p->imei_lock, "%s", o->imei_lock ? o->imei_lock : "");
	return HSS_DONE;
}

hss_outcome hss_order_record(const hss_settings *s, const hss_order *o, hss_subscriber *rec, char *err, size_t len)
{
	if (!hss_imsi_valid(o->imsi))
		return bad(err, len, "an IMSI is 6 to 15 digits", o->imsi);
	if (strncmp(o->imsi, s->plmn, strlen(s->plmn)))
		return bad(err, len, "not an IMSI of this operator's PLMN", o->imsi);
	hss_subscriber_init(rec, o->imsi);
	if (o->amf && (strlen(o->amf) != 4 || m2m_unhex(o->amf, rec->amf, 2)))
		return bad(err, len, "AMF must be 4 hex digits", o->amf);
	hss_outcome r = order_keys(o, rec, err, len);
	if (r == HSS_DONE)
		r = order_profile(o, &rec->profile, err, len);
	rec->state = rec->has_keys ? HSS_ACTIVE : HSS_PENDING;
	if (r != HSS_DONE)
		hss_subscriber_wipe(rec);
	return r;
}

/* ---- transactions ------------------------------------------------------------------------------ */

hss_outcome hss_begin(sqlite3 *db, char *err, size_t len)
{
	if (m2m_store_begin(db) == 0)
		return HSS_DONE;
	snprintf(err, len, "the database is busy or unwritable: %s", sqlite3_errmsg(db));
	return HSS_FAILED;
}

hss_outcome hss_end(sqlite3 *db, hss_outcome r, char *err, size_t len)
{
	if (r == HSS_DONE && m2m_store_commit(db) == 0)
		return HSS_DONE;
	if (r == HSS_DONE) {
		snprintf(err, len, "the change could not be committed: %s", sqlite3_errmsg(db));
		r = HSS_FAILED;
	}
	m2m_store_rollback(db);
	return r;
}

hss_outcome hss_db_failed(sqlite3 *db, char *err, size_t len)
{
	snprintf(err, len, "database: %s", sqlite3_errmsg(db));
	return HSS_FAILED;
}

/* ---- creation ----------------------------------------------------------------------------------- */

hss_outcome hss_create(sqlite3 *db, const uint8_t key[32], const hss_subscriber *rec, const char *actor,
		       const char *action, const char *detail, char *err, size_t len)
{
	hss_subscriber old;
	int rc = hss_subscriber_load(db, NULL, rec->imsi, &old);
	if (rc < 0)
		return hss_db_failed(db, err, len);
	if (rc == 0 && old.state != HSS_DELETED) {
		snprintf(err, len, "IMSI %s already exists (%s)", rec->imsi, hss_state_name(old.state));
		return HSS_FAILED;
	}
	if (hss_location_clear(db, rec->imsi) || hss_lock_clear(db, rec->imsi) || hss_subscriber_store(db, key, rec) ||
	    hss_audit(db, actor, rec->imsi, action, "%s; state %s", detail, hss_state_name(rec->state)))
		return hss_db_failed(db, err, len);
	return HSS_DONE;
}

hss_outcome hss_add(sqlite3 *db, const hss_settings *s, const hss_order *o, const char *actor, char *err, size_t len)
{
	hss_subscriber rec;
	hss_outcome r = hss_order_record(s, o, &rec, err, len);
	if (r != HSS_DONE)
		return r;
	r = hss_begin(db, err, len);
	if (r == HSS_DONE)
		r = hss_end(db, hss_create(db, s->storage_key, &rec, actor, "add", "added", err, len), err, len);
	hss_subscriber_wipe(&rec);
	return r;
}

/* ---- state changes ---------------------------------------------------------------------------- */

typedef struct transition {
	const char *action;
	unsigned from;  /* bit per hss_state the change starts from */
	hss_state to;
	const char *refusal;  /* "IMSI x is STATE, <refusal>" */
} transition;

#define FROM(s) (1u << (s))

/* Indexed by hss_change. Activation is the DPF's: a pending record becomes active once it
 * holds keys (its TRE installed the MCIM); a record without keys needs personalise instead. */
static const transition transitions[] = {
	[HSS_CHANGE_ACTIVATE] = {"activate", FROM(HSS_PENDING), HSS_ACTIVE, "not pending"},
	[HSS_CHANGE_SUSPEND] = {"suspend", FROM(HSS_ACTIVE), HSS_SUSPENDED, "not active"},
	[HSS_CHANGE_RESUME] = {"resume", FROM(HSS_SUSPENDED), HSS_ACTIVE, "not suspended"},
	[HSS_CHANGE_DELETE] = {"delete", FROM(HSS_PENDING) | FROM(HSS_ACTIVE) | FROM(HSS_SUSPENDED), HSS_DELETED,
			       "already deleted"},
};

static hss_outcome apply(sqlite3 *db, const char *imsi, const transition *t, const char *actor, char *err, size_t len)
{
	hss_subscriber s;
	int rc = hss_subscriber_load(db, NULL, imsi, &s);
	if (rc < 0)
		return hss_db_failed(db, err, len);
	if (rc > 0) {
		snprintf(err, len, "IMSI %s: no such subscriber", imsi);
		return HSS_FAILED;
	}
	if (!(t->from & FROM(s.state))) {
		snprintf(err, len, "IMSI %s is %s, %s", imsi, hss_state_name(s.state), t->refusal);
		return HSS_FAILED;
	}
	if (t->to == HSS_ACTIVE && !s.has_keys) {
		snprintf(err, len, "IMSI %s has no keys: it needs a card (personalise)", imsi);
		return HSS_FAILED;
	}
	/* a deleted subscriber is attached nowhere; a suspended one keeps its location until the
	 * serving network purges it, and is refused at its next authentication */
	if (hss_subscriber_set_state(db, imsi, t->to) || (t->to == HSS_DELETED && hss_location_clear(db, imsi)) ||
	    hss_audit(db, actor, imsi, t->action, "%s -> %s", hss_state_name(s.state), hss_state_name(t->to)))
		return hss_db_failed(db, err, len);
	return HSS_DONE;
}

hss_outcome hss_change_in(sqlite3 *db, const char *imsi, hss_change which, const char *actor, char *err, size_t len)
{
	if (!hss_imsi_valid(imsi))
		return bad(err, len, "an IMSI is 6 to 15 digits", imsi);
	return apply(db, imsi, &transitions[which], actor, err, len);
}

static hss_outcome change(sqlite3 *db, const char *imsi, hss_change which, const char *actor, char *err, size_t len)
{
	hss_outcome r = hss_begin(db, err, len);
	return r == HSS_DONE ? hss_end(db, hss_change_in(db, imsi, which, actor, err, len), err, len) : r;
}

hss_outcome hss_suspend(sqlite3 *db, const char *imsi, const char *actor, char *err, size_t len)
{
	return change(db, imsi, HSS_CHANGE_SUSPEND, actor, err, len);
}

hss_outcome hss_resume(sqlite3 *db, const char *imsi, const char *actor, char *err, size_t len)
{
	return change(db, imsi, HSS_CHANGE_RESUME, actor, err, len);
}

hss_outcome hss_delete(sqlite3 *db, const char *imsi, const char *actor, char *err, size_t len)
{
	return change(db, imsi, HSS_CHANGE_DELETE, actor, err, len);
}
