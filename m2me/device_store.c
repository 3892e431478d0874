/*
 * The device's state in its own database, so that a restarted m2me knows where it was: power,
 * the card in the slot and what was read from it, the IMEI, the open session (and the
 * credential it was opened with), how far the TRE's provisioning got, and an OTA on the card
 * that the device has not settled yet. The session key is sealed under the storage key with the
 * session id as associated data; nothing else stored is secret.
 */
#include "device.h"

#include "crypto/crypto.h"
#include "log/log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *text, int present)
{
	if (present && text[0])
		sqlite3_bind_text(st, i, text, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

static void column_text(sqlite3_stmt *st, int i, char *out, size_t len)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	snprintf(out, len, "%s", t ? (const char *)t : "");
}

int m2me_store_save_device(m2me_device *dev, const m2me_state *s)
{
	sqlite3_stmt *st = m2m_store_prepare(dev->db,
				   "INSERT OR REPLACE INTO device (id, powered, card, imei, iccid, imsi, mnc_length)"
				   " VALUES (1, ?, ?, ?, ?, ?, ?)");
	if (st) {
		sqlite3_bind_int(st, 1, s->powered ? 1 : 0);
		bind_text_or_null(st, 2, s->card, 1);
		sqlite3_bind_text(st, 3, s->imei, -1, SQLITE_TRANSIENT);
		bind_text_or_null(st, 4, s->info.iccid, s->card_read);
		bind_text_or_null(st, 5, s->info.imsi, s->card_read);
		if (s->card_read)
			sqlite3_bind_int(st, 6, s->info.mnc_length);
		else
			sqlite3_bind_null(st, 6);
	}
	return m2m_store_run(dev->db, st);
}

int m2me_store_save_session(m2me_device *dev, const m2me_session *s)
{
	uint8_t sealed[sizeof s->key + M2M_SEAL_OVERHEAD];
	if (m2m_seal(dev->settings.storage_key, s->id, sizeof s->id, s->key, sizeof s->key, sealed))
		return -1;
	sqlite3_stmt *st = m2m_store_prepare(dev->db,
				   "INSERT OR REPLACE INTO session (id, network, apn, session_id, sealed_key, uplink, imsi,"
				   " holder) VALUES (1, ?, ?, ?, ?, ?, ?, ?)");
	if (st) {
		sqlite3_bind_text(st, 1, s->network, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, s->apn, -1, SQLITE_TRANSIENT);
		sqlite3_bind_blob(st, 3, s->id, sizeof s->id, SQLITE_TRANSIENT);
		sqlite3_bind_blob(st, 4, sealed, sizeof sealed, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)s->uplink);
		sqlite3_bind_text(st, 6, s->imsi, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 7, s->via_tre ? "tre" : "card", -1, SQLITE_STATIC);
	}
	return m2m_store_run(dev->db, st);
}

int m2me_store_save_uplink(m2me_device *dev, uint64_t uplink)
{
	sqlite3_stmt *st = m2m_store_prepare(dev->db, "UPDATE session SET uplink = ? WHERE id = 1");
	if (st)
		sqlite3_bind_int64(st, 1, (sqlite3_int64)uplink);
	return m2m_store_run(dev->db, st) || sqlite3_changes(dev->db) != 1 ? -1 : 0;
}

int m2me_store_forget_session(m2me_device *dev)
{
	return m2m_store_run(dev->db, m2m_store_prepare(dev->db, "DELETE FROM session"));
}

const char *const m2me_provision_phases[M2ME_PROV_PHASES] = {"asking",   "relaying", "switching",
								 "changing", "carding",  "following"};

int m2me_store_save_provision(m2me_device *dev, const m2me_provision_run *p)
{
	sqlite3_stmt *st = m2m_store_prepare(dev->db,
		"INSERT INTO provision (id, phase, steps, last_type, last_destination, from_imsi, failure, uicc,"
		" unattended, started, changed) VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?8, ?9, ?7, ?7) ON CONFLICT (id)"
		" DO UPDATE SET phase = ?1, steps = ?2, last_type = ?3, last_destination = ?4, from_imsi = ?5,"
		" failure = ?6, uicc = ?8, unattended = ?9, changed = ?7");
	if (st) {
		sqlite3_bind_text(st, 1, m2me_provision_phases[p->phase], -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, p->steps);
		if (p->steps) {
			sqlite3_bind_int(st, 3, p->last_type);
			sqlite3_bind_text(st, 4, p->last_destination, -1, SQLITE_TRANSIENT);
		}
		bind_text_or_null(st, 5, p->from_imsi, 1);
		sqlite3_bind_int(st, 6, (int)p->failure);
		sqlite3_bind_int64(st, 7, (sqlite3_int64)time(NULL));
		sqlite3_bind_int(st, 8, p->uicc ? 1 : 0);
		sqlite3_bind_int(st, 9, p->unattended ? 1 : 0);
	}
	return m2m_store_run(dev->db, st);
}

int m2me_store_schedule_provision(m2me_device *dev)
{
	sqlite3_stmt *st = m2m_store_prepare(dev->db,
		"INSERT INTO provision (id, phase, steps, unattended, started, changed) VALUES (1, 'asking', 0, 1, ?1, ?1)"
		" ON CONFLICT (id) DO UPDATE SET unattended = 1, changed = ?1");
	if (st)
		sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL));
	return m2m_store_run(dev->db, st);
}

int m2me_store_unschedule_provision(m2me_device *dev)
{
	return m2m_store_run(dev->db, m2m_store_prepare(dev->db, "UPDATE provision SET unattended = 0"));
}

/* The phase named in column i: its index in names[n], or -1 for a name not among them. */
static int column_phase(sqlite3_stmt *st, int i, const char *const *names, int n)
{
	char phase[16];
	column_text(st, i, phase, sizeof phase);
	for (int k = 0; k < n; k++)
		if (!strcmp(phase, names[k]))
			return k;
	return -1;
}

int m2me_store_load_provision(m2me_device *dev, m2me_provision_run *p)
{
	sqlite3_stmt *st = m2m_store_prepare(dev->db,
		"SELECT phase, steps, last_type, last_destination, from_imsi, failure, uicc, unattended FROM provision");
	if (!st)
		return -1;
	int rc = sqlite3_step(st), found = rc == SQLITE_DONE ? 0 : -1;
	if (rc == SQLITE_ROW) {
		memset(p, 0, sizeof *p);
		int phase = column_phase(st, 0, m2me_provision_phases, M2ME_PROV_PHASES);
		p->phase = (m2me_provision_phase)(phase < 0 ? 0 : phase);
		found = phase < 0 ? -1 : 1;
		p->steps = sqlite3_column_int(st, 1);
		p->last_type = sqlite3_column_int(st, 2);
		column_text(st, 3, p->last_destination, sizeof p->last_destination);
		column_text(st, 4, p->from_imsi, sizeof p->from_imsi);
		p->failure = (m2m_reason)sqlite3_column_int(st, 5);
		p->uicc = sqlite3_column_int(st, 6);
		p->unattended = sqlite3_column_int(st, 7);
	}
	sqlite3_finalize(st);
	return found;
}

int m2me_store_forget_provision(m2me_device *dev)
{
	return m2m_store_run(dev->db, m2m_store_prepare(dev->db, "DELETE FROM provision"));
}

const char *const m2me_ota_phases[M2ME_OTA_PHASES] = {"enveloping", "fetching", "reading", "reattaching"};

int m2me_store_save_ota(m2me_device *dev, const m2me_ota_run *o)
{
	sqlite3_stmt *st = m2m_store_prepare(dev->db,
		"INSERT INTO ota (id, phase, network, apn, from_imsi, started, changed) VALUES (1, ?1, ?2, ?3, ?4, ?5, ?5)"
		" ON CONFLICT (id) DO UPDATE SET phase = ?1, network = ?2, apn = ?3, from_imsi = ?4, changed = ?5");
	if (st) {
		sqlite3_bind_text(st, 1, m2me_ota_phases[o->phase], -1, SQLITE_STATIC);
		bind_text_or_null(st, 2, o->network, 1);
		bind_text_or_null(st, 3, o->apn, 1);
		bind_text_or_null(st, 4, o->from_imsi, 1);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)time(NULL));
	}
	return m2m_store_run(dev->db, st);
}

int m2me_store_load_ota(m2me_device *dev, m2me_ota_run *o)
{
	sqlite3_stmt *st = m2m_store_prepare(dev->db, "SELECT phase, network, apn, from_imsi FROM ota");
	if (!st)
		return -1;
	int rc = sqlite3_step(st), found = rc == SQLITE_DONE ? 0 : -1;
	if (rc == SQLITE_ROW) {
		memset(o, 0, sizeof *o);
		int phase = column_phase(st, 0, m2me_ota_phases, M2ME_OTA_PHASES);
		o->phase = (m2me_ota_phase)(phase < 0 ? 0 : phase);
		found = phase < 0 ? -1 : 1;
		column_text(st, 1, o->network, sizeof o->network);
		column_text(st, 2, o->apn, sizeof o->apn);
		column_text(st, 3, o->from_imsi, sizeof o->from_imsi);
	}
	sqlite3_finalize(st);
	return found;
}

int m2me_store_forget_ota(m2me_device *dev)
{
	return m2m_store_run(dev->db, m2m_store_prepare(dev->db, "DELETE FROM ota"));
}

/* ---- loading at start ----------------------------------------------------------------------- */

/* The first start of a device: powered off, its IMEI and the card of the settings. */
static int create_device(m2me_device *dev)
{
	m2me_state s = {0};
	snprintf(s.imei, sizeof s.imei, "%s", dev->settings.imei);
	snprintf(s.card, sizeof s.card, "%s", dev->settings.card);
	if (m2m_store_begin(dev->db))
		return -1;
	if (m2me_store_save_device(dev, &s) || m2m_store_commit(dev->db)) {
		m2m_store_rollback(dev->db);
		return -1;
	}
	m2m_info("first start: IMEI %s, %s%s", s.imei, s.card[0] ? "card " : "empty slot", s.card);
	return 0;
}

/* 1 when the device row was read, 0 when there is none, -1 on failure. */
static int load_device(m2me_device *dev)
{
	m2me_state *s = &dev->state;
	sqlite3_stmt *st = m2m_store_prepare(dev->db, "SELECT powered, card, imei, iccid, imsi, mnc_length FROM device");
	if (!st)
		return -1;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		s->powered = sqlite3_column_int(st, 0);
		column_text(st, 1, s->card, sizeof s->card);
		column_text(st, 2, s->imei, sizeof s->imei);
		column_text(st, 3, s->info.iccid, sizeof s->info.iccid);
		column_text(st, 4, s->info.imsi, sizeof s->info.imsi);
		s->info.mnc_length = sqlite3_column_int(st, 5);
		s->card_read = sqlite3_column_type(st, 4) != SQLITE_NULL;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static int load_session(m2me_device *dev)
{
	m2me_session *s = &dev->state.session;
	sqlite3_stmt *st = m2m_store_prepare(dev->db,
		"SELECT network, apn, session_id, sealed_key, uplink, imsi, holder FROM session");
	if (!st)
		return -1;
	int rc = sqlite3_step(st), ok = rc == SQLITE_DONE;
	if (rc == SQLITE_ROW) {
		column_text(st, 0, s->network, sizeof s->network);
		column_text(st, 1, s->apn, sizeof s->apn);
		memcpy(s->id, sqlite3_column_blob(st, 2), sizeof s->id);  /* the schema holds it to 8 bytes */
		s->uplink = (uint64_t)sqlite3_column_int64(st, 4);
		column_text(st, 5, s->imsi, sizeof s->imsi);
		s->via_tre = !strcmp((const char *)sqlite3_column_text(st, 6), "tre");
		ok = sqlite3_column_bytes(st, 3) == (int)(sizeof s->key + M2M_SEAL_OVERHEAD) &&
		     !m2m_unseal(dev->settings.storage_key, s->id, sizeof s->id, sqlite3_column_blob(st, 3),
				 (size_t)sqlite3_column_bytes(st, 3), s->key);
		if (!ok)
			m2m_error("the stored session key does not open under this storage key");
		dev->state.attached = ok;
	}
	sqlite3_finalize(st);
	return ok ? 0 : -1;
}

int m2me_store_load(m2me_device *dev)
{
	int found = load_device(dev);
	if (found == 0 && (create_device(dev) || load_device(dev) != 1))
		return -1;
	if (found < 0 || load_session(dev))
		return -1;
	const m2me_state *s = &dev->state;
	m2m_info("state: %s, IMEI %s, %s%s%s%s", s->powered ? "powered on" : "powered off", s->imei,
		 s->card[0] ? "card " : "empty slot", s->card, s->attached ? ", attached to " : "",
		 s->attached ? s->session.network : "");
	m2me_provision_run p;
	int under_way = m2me_store_load_provision(dev, &p);
	if (under_way > 0)
		m2m_info("a provisioning was interrupted (%s, %d step(s) relayed): %s", m2me_provision_phases[p.phase],
			 p.steps, p.unattended ? "the TRE's trigger started it, it resumes once the device is idle"
					       : "provision resumes it");
	dev->provision_due = under_way > 0 && p.unattended;
	return under_way < 0 ? -1 : m2me_ota_check(dev);
}
