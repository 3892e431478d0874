/*
 * Tamper detection, reaction and reporting (TR 33.812 4.3.1: the TRE "may provide a means of
 * detection and reporting (to a TBD network entity) of evidence of tampering"; brief §3,
 * "Tamper detection and reporting").
 *
 * Two events: the case was opened (a latch: it stays set, as a tamper-evident seal does), and a
 * boot found a component that differs from its certified reference value (set while the last
 * boot found one). The reaction is configured: refuse withholds every credential while a flag
 * is set (tre_credentials_allowed); zeroise also wipes the credential slots at once, and with
 * them the PCID's and the MCIMs' rows.
 *
 * Each event makes one TamperReport for the configured recipients (report_to) and the operators
 * that own an MCIM in the TRE. It is kept in the database until each recipient has acknowledged
 * it (tamperAck with its reportId, the reply to tamperReport), and sent again on every boot and
 * after each failed attempt. It is signed when sent, so a report made before enrolment waits
 * for the certificate.
 */
#include "tre.h"

#include "crypto/crypto.h"
#include "log/log.h"

#include <stdio.h>
#include <string.h>

/* ---- flags ------------------------------------------------------------------------------ */

unsigned tre_tamper_flags(const tre *t)
{
	unsigned flags = t->case_opened ? TRE_TAMPER_BIT(M2M_TAMPER_CASE_OPENED) : 0;
	for (int i = 0; t->boot.booted && i < t->s.ncomponents; i++)
		if (t->boot.match[i] == TRE_MODIFIED)
			flags |= TRE_TAMPER_BIT(M2M_TAMPER_COMPONENT_MODIFIED);
	return flags;
}

int tre_tamper_load(tre *t)
{
	sqlite3_stmt *st = m2m_store_prepare(t->db, "SELECT case_opened FROM tre_tamper WHERE id = 1");
	int rc = st && sqlite3_step(st) == SQLITE_ROW ? 0 : -1;
	if (!rc)
		t->case_opened = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc;
}

/* ---- making a report -------------------------------------------------------------------- */

static int add_recipient(char list[][M2M_ENTITY_MAX + 1], int n, int max, const char *id)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(list[i], id))
			return n;
	if (n < max)
		snprintf(list[n++], M2M_ENTITY_MAX + 1, "%.*s", M2M_ENTITY_MAX, id);
	return n;
}

/* report_to, then the owner of every MCIM: an operator whose credential the TRE holds must
 * learn that it was tampered with (its DPF answers tamperAck). Read before a zeroisation wipes
 * the MCIMs. */
static int recipients(tre *t, char list[][M2M_ENTITY_MAX + 1], int max)
{
	int n = 0;
	for (int i = 0; i < t->s.nreport_to; i++)
		n = add_recipient(list, n, max, t->s.report_to[i]);
	char owners[TRE_MAX_RECIPIENTS][M2M_ENTITY_MAX + 1];
	int k = tre_mcim_owners(t, owners, TRE_MAX_RECIPIENTS);
	for (int i = 0; i < k; i++)
		n = add_recipient(list, n, max, owners[i]);
	return n;
}

static M2M_TAMPER_REPORT *report_body(const tre *t, const uint8_t id[TRE_REPORT_ID_LEN], m2m_tamper_event ev,
				      const char *component)
{
	M2M_TAMPER_REPORT *r = M2M_TAMPER_REPORT_new();
	ASN1_OCTET_STRING_set(r->report_id, id, TRE_REPORT_ID_LEN);
	m2m_set_str(r->tre, t->entity);
	ASN1_ENUMERATED_set(r->event, ev);
	m2m_set_str(r->component, component);
	ASN1_GENERALIZEDTIME_set(r->at, time(NULL));
	ASN1_ENUMERATED_set(r->reaction, t->s.reaction);
	return r;
}

static int store_report(tre *t, const uint8_t id[TRE_REPORT_ID_LEN], const unsigned char *der, int len)
{
	sqlite3_stmt *st = m2m_store_prepare(t->db, "INSERT INTO tre_report (report_id, content, made) VALUES (?1, ?2, ?3)");
	if (st) {
		sqlite3_bind_blob(st, 1, id, TRE_REPORT_ID_LEN, SQLITE_TRANSIENT);
		sqlite3_bind_blob(st, 2, der, len, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
	}
	return m2m_store_run(t->db, st);
}

static int store_delivery(tre *t, const uint8_t id[TRE_REPORT_ID_LEN], const char *recipient)
{
	sqlite3_stmt *st = m2m_store_prepare(t->db, "INSERT INTO tre_delivery (report_id, recipient) VALUES (?1, ?2)");
	if (st) {
		sqlite3_bind_blob(st, 1, id, TRE_REPORT_ID_LEN, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, recipient, -1, SQLITE_TRANSIENT);
	}
	return m2m_store_run(t->db, st);
}

/* The reaction first, so that no credential outlives the decision to wipe it. */
static int raise_event(tre *t, m2m_tamper_event ev, const char *component)
{
	char to[TRE_MAX_RECIPIENTS * 2][M2M_ENTITY_MAX + 1];
	int n = recipients(t, to, TRE_MAX_RECIPIENTS * 2);
	if (t->s.reaction == M2M_TAMPER_ZEROISED && tre_slots_wipe(t))
		return -1;
	uint8_t id[TRE_REPORT_ID_LEN];
	m2m_random(id, sizeof id);
	M2M_TAMPER_REPORT *r = report_body(t, id, ev, component);
	unsigned char *der = NULL;
	int len = i2d_M2M_TAMPER_REPORT(r, &der);
	M2M_TAMPER_REPORT_free(r);
	int rc = len > 0 ? store_report(t, id, der, len) : -1;
	for (int i = 0; i < n && !rc; i++)
		rc = store_delivery(t, id, to[i]);
	OPENSSL_free(der);
	m2m_warn("tamper: %s%s%s; reaction %s; reported to %d recipients", ev == M2M_TAMPER_CASE_OPENED ? "case opened"
		 : "component modified", component[0] ? ": " : "", component,
		 t->s.reaction == M2M_TAMPER_ZEROISED ? "zeroise (credential slots wiped)" : "refuse (credentials withheld)",
		 n);
	return rc;
}

/* ---- events ----------------------------------------------------------------------------- */

int tre_tamper_open_case(tre *t)
{
	if (t->case_opened)
		return 0;  /* the latch is set already: the opening was reported */
	if (tre_savepoint(t->db))
		return -1;
	sqlite3_stmt *st = m2m_store_prepare(t->db, "UPDATE tre_tamper SET case_opened = 1 WHERE id = 1");
	if (tre_release(t->db, m2m_store_run(t->db, st) || raise_event(t, M2M_TAMPER_CASE_OPENED, "")))
		return -1;
	t->case_opened = 1;
	return 0;
}

static int was_modified(tre *t, const char *component)
{
	sqlite3_stmt *st = m2m_store_prepare(t->db, "SELECT 1 FROM tre_modified WHERE component = ?1");
	if (st)
		sqlite3_bind_text(st, 1, component, -1, SQLITE_TRANSIENT);
	int found = st && sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

static int keep_modified(tre *t, const char *component)
{
	sqlite3_stmt *st = m2m_store_prepare(t->db, "INSERT INTO tre_modified (component) VALUES (?1)");
	if (st)
		sqlite3_bind_text(st, 1, component, -1, SQLITE_TRANSIENT);
	return m2m_store_run(t->db, st);
}

int tre_tamper_after_boot(tre *t, const tre_boot_state *b)
{
	const char *name[TRE_MAX_COMPONENTS];
	int fresh[TRE_MAX_COMPONENTS], n = 0;
	for (int i = 0; i < t->s.ncomponents; i++)
		if (b->match[i] == TRE_MODIFIED) {
			name[n] = t->s.components[i].name;
			fresh[n++] = !was_modified(t, t->s.components[i].name);
		}
	int rc = m2m_store_run(t->db, m2m_store_prepare(t->db, "DELETE FROM tre_modified"));
	for (int i = 0; i < n && !rc; i++)
		rc = keep_modified(t, name[i]) || (fresh[i] && raise_event(t, M2M_TAMPER_COMPONENT_MODIFIED, name[i]));
	return rc;
}

int tre_tamper_pending(tre *t)
{
	return tre_count(t->db, "SELECT COUNT(DISTINCT report_id) FROM tre_delivery");
}

int tre_tamper_report_der(tre *t, const uint8_t id[TRE_REPORT_ID_LEN], unsigned char **der, size_t *len)
{
	sqlite3_stmt *st = m2m_store_prepare(t->db, "SELECT content FROM tre_report WHERE report_id = ?1");
	int rc = -1;
	if (st) {
		sqlite3_bind_blob(st, 1, id, TRE_REPORT_ID_LEN, SQLITE_TRANSIENT);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) > 0) {
			*len = (size_t)sqlite3_column_bytes(st, 0);
			*der = OPENSSL_memdup(sqlite3_column_blob(st, 0), *len);
			rc = *der ? 0 : -1;
		}
	}
	sqlite3_finalize(st);
	return rc;
}

/* ---- delivery --------------------------------------------------------------------------- */

/* The delivery's record, or a new one: a free record first, else one that is idle and due (a
 * recipient that never acknowledges must not keep the others waiting). NULL: all are busy. */
static tre_flight *flight_for(tre *t, const uint8_t *id, const char *recipient)
{
	tre_flight *spare = NULL;
	for (int i = 0; i < TRE_MAX_FLIGHTS; i++) {
		tre_flight *f = &t->flights[i];
		if (f->used && !memcmp(f->report_id, id, TRE_REPORT_ID_LEN) && !strcmp(f->recipient, recipient))
			return f;
		if (!f->used && (!spare || spare->used))
			spare = f;
		else if (!spare && !f->retry.in_flight && tre_retry_due(&f->retry))
			spare = f;
	}
	if (spare) {
		*spare = (tre_flight){.used = 1, .owner = t};
		memcpy(spare->report_id, id, TRE_REPORT_ID_LEN);
		snprintf(spare->recipient, sizeof spare->recipient, "%s", recipient);
	}
	return spare;
}

int tre_tamper_acknowledge(tre *t, const uint8_t id[TRE_REPORT_ID_LEN], const char *recipient)
{
	sqlite3_stmt *st = m2m_store_prepare(t->db, "DELETE FROM tre_delivery WHERE report_id = ?1 AND recipient = ?2");
	if (st) {
		sqlite3_bind_blob(st, 1, id, TRE_REPORT_ID_LEN, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, recipient, -1, SQLITE_TRANSIENT);
	}
	return m2m_store_run(t->db, st);
}

static int ack_matches(const m2m_envelope *resp, const tre_flight *f)
{
	const M2M_TAMPER_ACK *a = resp && resp->type == M2M_MSG_TAMPER_ACK ? resp->body : NULL;
	return a && ASN1_STRING_length(a->report_id) == TRE_REPORT_ID_LEN &&
	       !memcmp(ASN1_STRING_get0_data(a->report_id), f->report_id, TRE_REPORT_ID_LEN);
}

static void on_ack(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
	tre_flight *f = arg;
	tre *t = f->owner;
	char text[300];
	f->retry.in_flight = 0;
	if (ack_matches(resp, f) && !tre_tamper_acknowledge(t, f->report_id, f->recipient)) {
		m2m_info("tamper report acknowledged by %s", f->recipient);
		memset(f, 0, sizeof *f);
	} else {
		if (resp && resp->type == M2M_MSG_TAMPER_ACK)
			snprintf(text, sizeof text, "%s acknowledged another report", f->recipient);
		else
			m2m_call_failure(f->recipient, resp, reason, text, sizeof text);
		m2m_warn("tamper report not acknowledged: %s; kept for a retry", text);
		tre_retry_later(&f->retry, !resp);
	}
	tre_tick(t);
}

static void send_one(tre *t, tre_flight *f, const unsigned char *content, size_t len)
{
	unsigned char *cms = NULL;
	size_t cmslen = 0;
	if (tre_keystore_sign(t, content, len, &cms, &cmslen))
		return;
	M2M_SIGNED_OBJECT *so = M2M_SIGNED_OBJECT_new();
	ASN1_OCTET_STRING_set(so->cms, cms, (int)cmslen);
	f->retry.in_flight = !m2m_call(t->node, f->recipient, M2M_MSG_TAMPER_REPORT, so, on_ack, f);
	if (!f->retry.in_flight)
		tre_retry_later(&f->retry, 0);
	M2M_SIGNED_OBJECT_free(so);
	OPENSSL_free(cms);
}

void tre_tamper_send_due(tre *t)
{
	if (!t->node || !tre_enrolled(t))
		return;  /* reports are signed: they wait for the certificate */
	sqlite3_stmt *st = m2m_store_prepare(t->db, "SELECT d.report_id, d.recipient, r.content FROM tre_delivery d"
				       " JOIN tre_report r USING (report_id) ORDER BY r.made");
	while (st && sqlite3_step(st) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) != TRE_REPORT_ID_LEN)
			continue;
		tre_flight *f = flight_for(t, sqlite3_column_blob(st, 0), (const char *)sqlite3_column_text(st, 1));
		if (f && !f->retry.in_flight && tre_retry_due(&f->retry))
			send_one(t, f, sqlite3_column_blob(st, 2), (size_t)sqlite3_column_bytes(st, 2));
	}
	sqlite3_finalize(st);
}

void tre_tamper_retry_now(tre *t)
{
	for (int i = 0; i < TRE_MAX_FLIGHTS; i++)
		t->flights[i].retry.due = 0;
}
