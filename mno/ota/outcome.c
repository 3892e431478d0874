/*
 * What the answer to a job's packet does to the job (inside the node's step for the answer):
 *
 *   protected PoR OK                 -> done, with executed / last SW / data (a rotation: the
 *                                       pending keys become the card's)
 *   protected PoR, an error status   -> failed, otaRefused and the status's name
 *   unprotected PoR                  -> failed, otaRefused: it is only a status that anyone could
 *                                       have written, never taken as success; except for a rotation
 *                                       refused "RC/CC/DS failed" under the old keys, which tries
 *                                       the pending keys next (rotation.c says why)
 *   no usable answer                 -> queued again, later, a new counter
 *
 * An answer for a job that is no longer sent with that counter (cancelled meanwhile) changes
 * nothing.
 */
#include "ota/ota_impl.h"

#include "log/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void take_off(ota_flight *f)
{
	ota_context *o = f->ota;
	for (ota_flight **p = &o->flights; *p; p = &(*p)->next_flight)
		if (*p == f) {
			*p = f->next_flight;
			o->nflights--;
			break;
		}
}

static void log_end(const ota_flight *f, const char *what, const char *detail)
{
	char tar[7];
	m2m_hex(f->tar, 3, tar);
	m2m_log_event(strcmp(what, "done") ? M2M_LOG_WARN : M2M_LOG_INFO, NULL, NULL,
		      "OTA job %lld ICCID %s TAR %s: %s (%s)", (long long)f->job_id, f->iccid, tar, what, detail);
}

static void fail(ota_context *o, const ota_flight *f, const ota_job_row *r, const ota_answer *a, const char *why)
{
	log_end(f, "failed", why);
	if (ota_job_end(o->db, f->job_id, OTA_JOB_FAILED, &a->por, M2M_R_OTA_REFUSED, why) ||
	    (r->kind == OTA_KIND_ROTATE && ota_rotation_end(o->db, NULL, f->iccid, 0)))
		m2m_error("OTA job %lld: its end cannot be stored", (long long)f->job_id);
}

static void done(ota_context *o, const ota_flight *f, const ota_job_row *r, const ota_answer *a)
{
	char detail[120];
	snprintf(detail, sizeof detail, "PoR OK, %d command(s) executed, last SW %04X%s", a->por.executed, a->por.sw,
		 r->kind == OTA_KIND_ROTATE ? ", the card has its new keys" : "");
	log_end(f, "done", detail);
	if (ota_job_end(o->db, f->job_id, OTA_JOB_DONE, &a->por, M2M_OK, "") ||
	    (r->kind == OTA_KIND_ROTATE && ota_rotation_end(o->db, o->storage_key, f->iccid, 1)))
		m2m_error("OTA job %lld: its end cannot be stored", (long long)f->job_id);
}

/* The old keys refused: the card may have taken the new ones with a PoR that was lost. */
static int old_keys_refused(const ota_job_row *r, const ota_answer *a)
{
	return r->kind == OTA_KIND_ROTATE && r->keys == OTA_KEYS_CARD && a->unprotected &&
	       a->por.status == M2M_OTA_CHECK_FAILED;
}

static void por_answer(ota_context *o, const ota_flight *f, const ota_job_row *r, const ota_answer *a)
{
	char why[160];
	const char *name = m2m_ota_status_name(a->por.status);
	if (old_keys_refused(r, a)) {
		m2m_info("OTA job %lld ICCID %s: the old keys are refused (%s); the pending keys next",
			 (long long)f->job_id, f->iccid, name);
		if (ota_job_set_keys(o->db, f->job_id, OTA_KEYS_PENDING) ||
		    ota_job_requeue(o->db, f->job_id, (int64_t)time(NULL), 0, "old keys refused: trying the pending keys"))
			m2m_error("OTA job %lld: its retry cannot be stored", (long long)f->job_id);
	} else if (a->unprotected) {
		snprintf(why, sizeof why, "%s in an unprotected PoR%s", name,
			 a->por.status == M2M_OTA_POR_OK ? ": not trusted as success" : "");
		fail(o, f, r, a, why);
	} else if (a->por.status != M2M_OTA_POR_OK) {
		fail(o, f, r, a, name);
	} else
		done(o, f, r, a);
}

void ota_job_answered(ota_flight *f, ota_answer *a)
{
	ota_context *o = f->ota;
	ota_job_row r;
	take_off(f);
	int rc = ota_job_row_get(o->db, f->job_id, &r);
	if (rc || r.job.state != OTA_JOB_SENT || r.job.counter != f->counter)
		m2m_info("OTA job %lld: an answer for a packet no longer awaited is ignored", (long long)f->job_id);
	else if (a->kind == OTA_ANSWER_NONE)
		ota_job_retry(o, &r, 0, a->reason, a->why);
	else
		por_answer(o, f, &r, a);
	m2m_wipe(&r, sizeof r);
	ota_flight_free(f);
}
