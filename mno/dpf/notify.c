/*
 * provisioned {tre, sho, mcimId} to the DRF once the TRE confirmed the install (brief §2.1 step
 * 10: the ICF then releases the device's PCID). The notice is written in the install's step and
 * sent from the tick that follows it, then again every RETRY_S until the DRF answers
 * provisionedAck: a lost message or a DRF that is down delays the release, never loses it, also
 * across a restart of this daemon.
 */
#include "dpf/dpf_impl.h"

#include "crypto/crypto.h"
#include "log/log.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RETRY_S 5

int dpf_notify_add(dpf_context *dpf, const char *tre, const uint8_t mcim_id[DPF_MCIM_ID_LEN])
{
	sqlite3_stmt *st = m2m_store_prepare(dpf->db, "INSERT INTO dpf_provisioned (mcim_id, tre, created) VALUES (?, ?, ?)");
	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, mcim_id, DPF_MCIM_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, tre, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
	dpf->notify_due = 0;  /* the next tick sends it */
	return m2m_store_run(dpf->db, st);
}

static int acknowledge(sqlite3 *db, const uint8_t *mcim_id)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "UPDATE dpf_provisioned SET acknowledged = ? WHERE mcim_id = ?");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL));
	sqlite3_bind_blob(st, 2, mcim_id, DPF_MCIM_ID_LEN, SQLITE_STATIC);
	return m2m_store_run(db, st);
}

static void acked(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
	dpf_flight *x = arg;
	dpf_context *dpf = x->dpf;
	uint8_t mcim_id[DPF_MCIM_ID_LEN];
	char id_hex[2 * DPF_MCIM_ID_LEN + 1];
	memcpy(mcim_id, x->key, sizeof mcim_id);
	m2m_hex(mcim_id, DPF_MCIM_ID_LEN, id_hex);
	dpf_flight_end(&dpf->notices, x);
	if (resp && resp->type == M2M_MSG_PROVISIONED_ACK && !acknowledge(dpf->db, mcim_id)) {
		m2m_info("the DRF %s knows MCIM %s is installed", dpf->settings.drf, id_hex);
	} else {
		char failure[300];
		m2m_warn("provisioned of MCIM %s not acknowledged: %s; again in %ds", id_hex,
			 m2m_call_failure(dpf->settings.drf, resp, reason, failure, sizeof failure), RETRY_S);
		dpf->notify_due = (int64_t)time(NULL) + RETRY_S;
	}
}

static void send_notice(dpf_context *dpf, const char *tre, const uint8_t *mcim_id)
{
	M2M_PROVISIONED *p = M2M_PROVISIONED_new();
	if (p && !m2m_set_str(p->tre, tre) && !m2m_set_str(p->sho, dpf->entity) &&
	    ASN1_OCTET_STRING_set(p->mcim_id, mcim_id, DPF_MCIM_ID_LEN)) {
		dpf_flight *x = dpf_flight_add(&dpf->notices, dpf, mcim_id);
		if (x && m2m_call(dpf->node, dpf->settings.drf, M2M_MSG_PROVISIONED, p, acked, x))
			dpf_flight_end(&dpf->notices, x);
	}
	M2M_PROVISIONED_free(p);
}

void dpf_notify_tick(dpf_context *dpf)
{
	if (!dpf_due(&dpf->notify_due, RETRY_S))
		return;
	sqlite3_stmt *st = m2m_store_prepare(dpf->db, "SELECT mcim_id, tre FROM dpf_provisioned WHERE acknowledged IS NULL");
	uint8_t mcim_id[DPF_MCIM_ID_LEN];
	char tre[M2M_ENTITY_MAX + 1];
	while (st && sqlite3_step(st) == SQLITE_ROW) {
		m2m_store_column_text(st, 1, tre, sizeof tre);
		if (!m2m_store_column_blob(st, 0, mcim_id, sizeof mcim_id) && !dpf_flying(dpf->notices, mcim_id))
			send_notice(dpf, tre, mcim_id);
	}
	sqlite3_finalize(st);
}
