/*
 * The old operator A rewrites each card's IMSI over the air (TR 33.812 5.4.1 step 4, docs/alt3a.md
 * step 6) once B acknowledged the transfer: one OTA job per card (mno/ota: SCP80 over SMS-PP, sent
 * through the network the card's device is attached to) on the USIM's RFM TAR B00010, whose
 * context starts at ADF.USIM (TS 31.116), with the compact script (TS 102 226 §5.1):
 *
 *   00 A4 00 0C 02 6F 07           SELECT EF_IMSI by its identifier, no answer data
 *   00 D6 00 00 09 <EF_IMSI>       UPDATE BINARY of the nine bytes of the new IMSI
 *
 * The card then asks its device for a REFRESH and the device attaches with the new IMSI at B.
 * The jobs are queued in the step that records the acknowledgement; the tick follows them: a PoR
 * saying both commands ran with 9000 makes the card rewritten; a failed job is followed by a new
 * one up to rewrite_retries times (a tick's round apart: retry_seconds), then the card is
 * rewriteFailed (it keeps A's IMSI, which A still serves).
 */
#include "port/port_impl.h"

#include "aka/ef_imsi.h"
#include "crypto/crypto.h"
#include "log/log.h"
#include "ota/ota.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCRIPT_COMMANDS 2

/* The compact script for imsi; its length. */
static size_t script_for(const char *imsi, uint8_t script[32])
{
	static const uint8_t select_ef_imsi[] = {0x00, 0xA4, 0x00, 0x0C, 0x02, 0x6F, 0x07};
	static const uint8_t update_binary[] = {0x00, 0xD6, 0x00, 0x00, 0x09};
	size_t n = 0;
	memcpy(script, select_ef_imsi, sizeof select_ef_imsi);
	n += sizeof select_ef_imsi;
	memcpy(script + n, update_binary, sizeof update_binary);
	n += sizeof update_binary;
	return m2m_ef_imsi_encode(imsi, script + n) ? 0 : n + M2M_EF_IMSI_LEN;
}

/* "port:<hex id>" (the id in id_hex): the purpose of the port's jobs, which counts a card's
 * attempts. */
static void purpose_of(const uint8_t id[PORT_ID_LEN], char id_hex[2 * PORT_ID_LEN + 1], char purpose[64])
{
	m2m_hex(id, PORT_ID_LEN, id_hex);
	snprintf(purpose, 64, "port:%s", id_hex);
}

/* A job writing the card's new IMSI, the card rewriting: 0 or -1. */
static int queue_one(port_context *port, const uint8_t id[PORT_ID_LEN], const port_device *d, int attempt)
{
	uint8_t script[32];
	int64_t job = 0;
	char purpose[64], id_hex[2 * PORT_ID_LEN + 1];
	size_t len = script_for(d->new_imsi, script);
	purpose_of(id, id_hex, purpose);
	return !len || ota_job_queue(port->db, d->iccid, OTA_TAR_USIM_RFM, script, len, purpose, &job) ||
	       port_device_set(port->db, id, d->iccid, DEV_REWRITING, job) ||
	       hss_audit(port->db, PORT_ACTOR, d->old_imsi, "portOut",
			 "port %s: OTA job %lld writes IMSI %s into EF_IMSI of card ICCID %s (attempt %d)", id_hex,
			 (long long)job, d->new_imsi, d->iccid, attempt);
}

int port_rewrite_queue(port_context *port, const uint8_t id[PORT_ID_LEN])
{
	int n = 0, rc = 0;
	port_device *list = port_devices(port->db, id, DEV_ACCEPTED, &n);
	for (int i = 0; i < n && !rc; i++)
		rc = queue_one(port, id, &list[i], 1);
	free(list);
	return n < 0 || rc ? -1 : 0;
}

/* How many rewrite jobs the port queued for the card (its attempts so far), or -1. */
static int attempts_of(port_context *port, const uint8_t id[PORT_ID_LEN], const char *iccid)
{
	char purpose[64], id_hex[2 * PORT_ID_LEN + 1];
	purpose_of(id, id_hex, purpose);
	sqlite3_stmt *st = m2m_store_prepare(port->db, "SELECT count(*) FROM ota_job WHERE iccid = ? AND purpose = ?");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, iccid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, purpose, -1, SQLITE_STATIC);
	int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
	return n;
}

/* ---- following the jobs ---------------------------------------------------------------------- */

/* What a job that ended did to the card: rewritten, rewriteFailed, or -1 while it runs. */
static int outcome_of(const ota_job *j)
{
	if (j->state == OTA_JOB_DONE && j->executed == SCRIPT_COMMANDS && j->last_sw == 0x9000)
		return DEV_REWRITTEN;
	if (j->state == OTA_JOB_DONE || j->state == OTA_JOB_FAILED)
		return DEV_REWRITE_FAILED;
	return -1;
}

/* A failed rewrite goes again with a new job while the card has retries left (the OTA server
 * gave the last one up: the device unreachable, a PoR error); 1 when it does not. */
static int retry(port_context *port, const uint8_t id[PORT_ID_LEN], const port_device *d)
{
	int attempts = attempts_of(port, id, d->iccid);
	if (attempts < 0)
		return -1;
	if (attempts > port->settings.rewrite_retries)
		return 1;
	m2m_info("port: card ICCID %s: the rewrite goes again (retry %d of %d)", d->iccid, attempts,
		 port->settings.rewrite_retries);
	return queue_one(port, id, d, attempts + 1);
}

static int follow(port_context *port, const uint8_t id[PORT_ID_LEN], const port_device *d)
{
	ota_job j;
	char id_hex[2 * PORT_ID_LEN + 1];
	int rc = ota_job_get(port->db, d->job_id, &j), state = rc ? DEV_REWRITE_FAILED : outcome_of(&j);
	if (rc < 0 || state < 0)
		return rc < 0 ? -1 : 0;
	int again = state == DEV_REWRITE_FAILED ? retry(port, id, d) : 1;
	if (again <= 0)
		return again;
	m2m_hex(id, PORT_ID_LEN, id_hex);
	if (state == DEV_REWRITTEN)
		m2m_info("port %s: card ICCID %s now holds IMSI %s (OTA job %lld)", id_hex, d->iccid, d->new_imsi,
			 (long long)d->job_id);
	else
		m2m_warn("port %s: the IMSI of card ICCID %s was not rewritten (OTA job %lld: %s%s%s; no retry left); it"
			 " keeps %s", id_hex, d->iccid, (long long)d->job_id, rc ? "gone" : ota_job_state_name(j.state),
			 rc ? "" : ", ", rc ? "" : j.last_error, d->old_imsi);
	return port_device_set(port->db, id, d->iccid, (port_device_state)state, 0) ||
	       hss_audit(port->db, PORT_ACTOR, d->old_imsi, "portOut", "port %s: EF_IMSI of card ICCID %s %s", id_hex,
			 d->iccid, state == DEV_REWRITTEN ? "rewritten (PoR OK)" : "not rewritten");
}

static void follow_port(port_context *port, const uint8_t id[PORT_ID_LEN])
{
	int n = 0, rc = 0;
	if (m2m_store_begin(port->db))
		return;
	port_device *list = port_devices(port->db, id, DEV_REWRITING, &n);
	for (int i = 0; i < n && !rc; i++)
		rc = follow(port, id, &list[i]);
	free(list);
	if (n < 0 || rc || m2m_store_commit(port->db))
		m2m_store_rollback(port->db);
}

void port_rewrite_tick(port_context *port)
{
	port_each(port, PORT_OUT, PORT_TRANSFERRED, follow_port);
}
