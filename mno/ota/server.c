/*
 * The OTA server in the home mno daemon: from the tick, each queued job whose card can be reached
 * goes out. A card is reached through the HSS: the IMSI whose record holds its ICCID, and the
 * network that IMSI is attached at (hss_location). The counter of the keyset is raised and stored,
 * with the job SENT, in a transaction committed BEFORE the first SMS-DELIVER leaves: a counter is
 * never used twice, even across a crash (a retry always takes a new one).
 */
#include "ota/ota_impl.h"

#include "daemon/daemon.h"
#include "hss/hss_impl.h"
#include "log/log.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SENDS_PER_TICK 64  /* bounds one tick's work; the next tick goes on */

ota_context *ota_context_new(const ota_settings *s, const uint8_t storage_key[32])
{
	ota_context *o = calloc(1, sizeof *o);
	if (!o)
		return NULL;
	o->settings = *s;
	memcpy(o->storage_key, storage_key, sizeof o->storage_key);
	return o;
}

void ota_flight_free(ota_flight *f)
{
	m2m_wipe(f, sizeof *f);
	free(f);
}

void ota_context_free(ota_context *o)
{
	if (!o)
		return;
	while (o->flights) {
		ota_flight *f = o->flights;
		o->flights = f->next_flight;
		ota_flight_free(f);
	}
	m2m_wipe(o, sizeof *o);
	free(o);
}

/* ---- the entry points of mno/main.c ------------------------------------------------------------- */

void ota_configure(m2m_daemon *d, m2m_conf *c, config_setting_t *group, mno_context *ctx)
{
	ota_settings s;
	config_setting_t *g = group ? config_setting_get_member(group, "ota") : NULL;
	ota_settings_read(c, g, ctx->hss->settings.plmn, &s);
	ctx->ota = ota_context_new(&s, ctx->hss->settings.storage_key);
}

int ota_server_resume(ota_context *o)
{
	int n = m2m_store_begin(o->db) ? -1 : ota_job_requeue_sent(o->db);
	if (n < 0 || m2m_store_commit(o->db)) {
		m2m_store_rollback(o->db);
		m2m_error("OTA server: the jobs sent before this start cannot be queued again");
		return -1;
	}
	return n;
}

int ota_start(m2m_daemon *d, mno_context *ctx)
{
	ota_context *o = ctx->ota;
	o->node = m2m_daemon_node(d);
	o->db = m2m_daemon_db(d);
	int n = ota_server_resume(o);
	if (n < 0)
		return -1;
	m2m_info("OTA server of %s (address %s)%s", ctx->hss->settings.plmn, o->settings.address,
		 n ? ": jobs sent before the restart are queued again" : "");
	return 0;
}

void ota_tick(m2m_daemon *d, mno_context *ctx)
{
	if (ctx->ota)
		ota_serve_tick(ctx->ota);
}

void ota_stop(mno_context *ctx)
{
	ota_context_free(ctx->ota);
	ctx->ota = NULL;
}

/* ---- retries -------------------------------------------------------------------------------------- */

/* retry_first_s after the first attempt, doubled each time up to retry_max_s. */
static int64_t retry_due(const ota_settings *s, int attempts)
{
	int64_t delay = s->retry_first_s;
	for (int i = 1; i < attempts && delay < s->retry_max_s; i++)
		delay *= 2;
	return (int64_t)time(NULL) + (delay < s->retry_max_s ? delay : s->retry_max_s);
}

void ota_job_retry(ota_context *o, const ota_job_row *r, int count_attempt, m2m_reason reason, const char *why)
{
	const ota_job *j = &r->job;
	int attempts = j->attempts + (count_attempt ? 1 : 0);
	if (o->settings.max_attempts && attempts >= o->settings.max_attempts) {
		char text[200];
		snprintf(text, sizeof text, "given up after %d attempts: %s", attempts, why);
		m2m_warn("OTA job %lld ICCID %s: %s", (long long)j->id, j->iccid, text);
		if (ota_job_end(o->db, j->id, OTA_JOB_FAILED, NULL, reason, text) ||
		    (r->kind == OTA_KIND_ROTATE && ota_rotation_end(o->db, NULL, j->iccid, 0)))
			m2m_error("OTA job %lld: its end cannot be stored", (long long)j->id);
		return;
	}
	int64_t due = retry_due(&o->settings, attempts);
	m2m_info("OTA job %lld ICCID %s: %s; again in %llds", (long long)j->id, j->iccid, why,
		 (long long)(due - (int64_t)time(NULL)));
	if (ota_job_requeue(o->db, j->id, due, count_attempt, why))
		m2m_error("OTA job %lld: its retry cannot be stored", (long long)j->id);
}

/* ---- one job out ---------------------------------------------------------------------------------- */

/* The IMSI and serving network of the job's card: 0, or 1 after the job was rescheduled. */
static int locate(ota_context *o, const ota_job_row *r, ota_flight *f)
{
	const ota_job *j = &r->job;
	hss_location loc;
	char why[160];
	int rc = hss_imsi_of_iccid(o->db, j->iccid, f->imsi);
	if (rc == 0)
		rc = hss_location_get(o->db, f->imsi, &loc);
	const m2m_peer_conf *peer = rc ? NULL : m2m_node_conf_peer(m2m_node_config(o->node), loc.network);
	if (!rc && peer && peer->endpoint[0]) {
		snprintf(f->network, sizeof f->network, "%s", loc.network);
		return 0;
	}
	m2m_reason reason = M2M_R_NOT_ATTACHED;
	if (rc < 0) {
		reason = M2M_R_INTERNAL;
		snprintf(why, sizeof why, "the HSS record of the card cannot be read");
	} else if (rc > 0 && !f->imsi[0]) {
		reason = M2M_R_NOT_FOUND;  /* not yet (a port's record), or no more */
		snprintf(why, sizeof why, "no subscriber has the card");
	} else if (rc > 0) {
		snprintf(why, sizeof why, "IMSI %s is attached nowhere", f->imsi);
	} else {
		reason = M2M_R_UNREACHABLE;
		snprintf(why, sizeof why, "IMSI %s is attached at %s, a network this operator cannot call", f->imsi,
			 loc.network);
	}
	ota_job_retry(o, r, 1, reason, why);
	return 1;
}

/*
 * The keys the packet goes under, its counter (stored in the keyset unless the engineer gave
 * one), and the script (a rotation's PUT KEY is made now, under those keys' DEK). 0, or -1 with why
 * and the reason the job fails with.
 */
static int prepare(ota_context *o, const ota_job_row *r, ota_flight *f, uint8_t *script, size_t *len,
		   m2m_reason *reason, char *why, size_t wlen)
{
	ota_card_keyset ks;
	int64_t rotation_job;
	int own_counter = r->keys == OTA_KEYS_EXPLICIT && r->explicit_counter;
	int rc = ota_keyset_get(o->db, o->storage_key, r->job.iccid, r->job.tar, &ks);
	*reason = M2M_R_NOT_FOUND;
	if (rc < 0 || (rc > 0 && !own_counter)) {
		snprintf(why, wlen, rc > 0 ? "the card has no keyset for the TAR" : "the card's keyset cannot be read");
		return -1;
	}
	f->counter = own_counter ? r->explicit_counter : ks.counter + 1;
	if (rc == 0)
		f->keys = ks.keys;
	m2m_wipe(&ks, sizeof ks);
	rc = r->keys == OTA_KEYS_EXPLICIT ? ota_job_explicit_keys(o->db, o->storage_key, r->job.id, &f->keys) : 0;
	if (!rc && r->kind == OTA_KIND_ROTATE)
		rc = ota_rotation_pending(o->db, o->storage_key, r->job.iccid, &rotation_job, &f->pending);
	if (rc) {
		snprintf(why, wlen, "the job's keys cannot be read");
		return -1;
	}
	if (r->keys == OTA_KEYS_PENDING)
		f->keys = f->pending;
	f->has_pending = r->kind == OTA_KIND_ROTATE && r->keys == OTA_KEYS_CARD;
	*reason = M2M_R_INTERNAL;
	if (f->counter > M2M_OTA_CNTR_MAX) {
		snprintf(why, wlen, "the keyset's counter is used up");
		return -1;
	}
	if (r->kind == OTA_KIND_ROTATE)
		return ota_rotation_script(&f->keys, &f->pending, script, OTA_SCRIPT_MAX, len, why, wlen);
	memcpy(script, r->script, r->script_len);
	*len = r->script_len;
	return 0;
}

static const char *keys_label(ota_keys_from k)
{
	return k == OTA_KEYS_PENDING ? " under the pending keys" : k == OTA_KEYS_EXPLICIT ? " under given keys" : "";
}

/* Inside the tick's transaction: the flight ready to go (1), or the job rescheduled or failed (0). */
static int make_flight(ota_context *o, const ota_job_row *r, ota_flight *f)
{
	uint8_t script[OTA_SCRIPT_MAX];
	size_t len = 0;
	m2m_reason reason;
	char why[200];
	f->ota = o;
	f->job_id = r->job.id;
	snprintf(f->iccid, sizeof f->iccid, "%s", r->job.iccid);
	memcpy(f->tar, r->job.tar, 3);
	ota_spi(&f->spi);
	if (locate(o, r, f))
		return 0;
	int rc = prepare(o, r, f, script, &len, &reason, why, sizeof why) ||
		 ota_delivery_build(o, f, script, len, why, sizeof why);
	m2m_wipe(script, sizeof script);  /* a PUT KEY's keys are wrapped, but still */
	if (rc) {
		m2m_warn("OTA job %lld ICCID %s: failed: %s", (long long)r->job.id, r->job.iccid, why);
		ota_job_end(o->db, r->job.id, OTA_JOB_FAILED, NULL, reason, why);
		return 0;
	}
	uint64_t card_counter = r->keys == OTA_KEYS_EXPLICIT && r->explicit_counter ? 0 : f->counter;
	if ((card_counter && ota_keyset_set_counter(o->db, f->iccid, f->tar, card_counter)) ||
	    ota_job_mark_sent(o->db, f->job_id, f->counter))
		return -1;
	char tar[7];
	m2m_hex(f->tar, 3, tar);
	m2m_info("OTA job %lld ICCID %s TAR %s (%s): counter %llu%s, %zu SMS to IMSI %s at %s", (long long)f->job_id,
		 f->iccid, tar, r->job.purpose, (unsigned long long)f->counter, keys_label(r->keys), f->count, f->imsi,
		 f->network);
	return 1;
}

/* One job: its state committed, then its first SMS-DELIVER sent. */
static void send_job(ota_context *o, int64_t id)
{
	ota_job_row r;
	ota_flight *f = calloc(1, sizeof *f);
	if (!f || m2m_store_begin(o->db)) {
		free(f);
		return;
	}
	int rc = ota_job_row_get(o->db, id, &r) ? -1 : make_flight(o, &r, f);
	if (rc < 0 || m2m_store_commit(o->db)) {
		m2m_store_rollback(o->db);
		m2m_error("OTA job %lld cannot be moved along", (long long)id);
		rc = 0;
	}
	m2m_wipe(&r, sizeof r);
	if (rc <= 0) {
		ota_flight_free(f);
		return;
	}
	f->next_flight = o->flights;
	o->flights = f;
	o->nflights++;
	if (ota_delivery_send(f)) {
		ota_answer a = {.kind = OTA_ANSWER_NONE, .reason = M2M_R_UNREACHABLE};
		snprintf(a.why, sizeof a.why, "no route to %s", f->network);
		int began = !m2m_store_begin(o->db);
		ota_job_answered(f, &a);
		if (began && m2m_store_commit(o->db))
			m2m_store_rollback(o->db);
	}
}

void ota_serve_tick(ota_context *o)
{
	char tried[SENDS_PER_TICK][OTA_ICCID_MAX + 1];
	size_t n = 0;
	int64_t id;
	if (!o->node || !o->db)
		return;
	/* a card whose job could not go stays out of this tick: its next job would find it as unreachable */
	while (n < SENDS_PER_TICK && o->nflights < o->settings.in_flight &&
	       ota_job_next(o->db, (int64_t)time(NULL), tried, n, &id, tried[n]) == 0) {
		n++;
		send_job(o, id);
	}
}
