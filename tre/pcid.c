/*
 * The PCID credential (brief §2.1 preconditions: "PCID (IMSI-format, from the RO's range) +
 * provisional key K_pc (+ OPc_pc), and the PCID validity period"): the one credential a new TRE
 * attaches with, to reach the registration operator's DRF and download its first MCIM.
 *
 * The equipment supplier's tool obtains it from the ICF's pool and hands it to the TRE once, in
 * a file named by the tre setting pcid_file (one `key = value` a line):
 *   pcid = 001090000000001
 *   k = 32 hex digits            (K_pc)
 *   opc = 32 hex digits          (OPc_pc)
 *   valid_until = Unix seconds
 * A file present at start is read with the configuration (a malformed one is refused like a bad
 * setting); one that appears later is found by the tick (the supplier's tool may run after the
 * TRE's first power-on). Either is imported into the sealed slot "pcid" when the TRE holds no
 * PCID, then deleted: from then on K_pc exists only sealed. The slot's owner is the registration operator (drf).
 */
#include "tre.h"

#include "crypto/crypto.h"
#include "log/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PCID_SLOT "pcid"

/* ---- the file ----------------------------------------------------------------------------- */

enum { F_PCID = 1, F_K = 2, F_OPC = 4, F_VALID = 8, F_ALL = 15 };

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && strchr(" \t\r\n", s[n - 1]))
		s[--n] = 0;
	return s;
}

static int all_digits(const char *s, size_t min, size_t max)
{
	size_t n = strspn(s, "0123456789");
	return !s[n] && n >= min && n <= max;
}

/* One `key = value`: the field it set, or 0 with why. */
static int read_line(char *line, tre_pcid *out, char *why, size_t len)
{
	char *eq = strchr(line, '=');
	if (!eq)
		return snprintf(why, len, "not a `key = value` line"), 0;
	*eq = 0;
	const char *key = trim(line), *value = trim(eq + 1);
	if (!strcmp(key, "pcid")) {
		if (!all_digits(value, TRE_IMSI_MIN, TRE_IMSI_MAX))
			return snprintf(why, len, "pcid must be an IMSI of %d..%d digits", TRE_IMSI_MIN, TRE_IMSI_MAX), 0;
		snprintf(out->imsi, sizeof out->imsi, "%s", value);
		return F_PCID;
	}
	if (!strcmp(key, "k") || !strcmp(key, "opc")) {
		uint8_t *to = key[0] == 'k' ? out->k : out->opc;
		if (strlen(value) != 2 * TRE_AKA_KEY_LEN || m2m_unhex(value, to, TRE_AKA_KEY_LEN))
			return snprintf(why, len, "%s must be %d hex digits", key, 2 * TRE_AKA_KEY_LEN), 0;
		return key[0] == 'k' ? F_K : F_OPC;
	}
	if (!strcmp(key, "valid_until")) {
		char *end = NULL;
		errno = 0;
		long long v = strtoll(value, &end, 10);
		if (!all_digits(value, 1, 12) || errno || *end || v <= 0)
			return snprintf(why, len, "valid_until must be Unix seconds"), 0;
		out->valid_until = v;
		return F_VALID;
	}
	return snprintf(why, len, "unknown key \"%.20s\" (pcid, k, opc, valid_until)", key), 0;
}

/* The message names the line, never a value: two of them are secrets. */
static int read_lines(FILE *f, tre_pcid *out, char *why, size_t len)
{
	char line[256], what[160];
	int seen = 0, number = 0;
	while (fgets(line, sizeof line, f)) {
		number++;
		char *text = trim(line);
		if (!text[0])
			continue;
		int field = read_line(text, out, what, sizeof what);
		if (field && (seen & field))
			snprintf(what, sizeof what, "a key given twice"), field = 0;
		if (!field) {
			m2m_wipe(line, sizeof line);
			return snprintf(why, len, "line %d: %s", number, what), -1;
		}
		seen |= field;
	}
	m2m_wipe(line, sizeof line);
	if (seen != F_ALL)
		return snprintf(why, len, "needs pcid, k, opc and valid_until, one line each"), -1;
	return 0;
}

int tre_pcid_file_read(const char *path, tre_pcid *out, char *why, size_t whylen)
{
	memset(out, 0, sizeof *out);
	FILE *f = fopen(path, "r");
	if (!f && errno == ENOENT)
		return 1;
	if (!f)
		return snprintf(why, whylen, "cannot read %s: %s", path, strerror(errno)), -1;
	int rc = read_lines(f, out, why, whylen);
	fclose(f);
	if (rc)
		m2m_wipe(out, sizeof *out);
	out->present = !rc;
	return rc;
}

/* ---- the slot and its row ----------------------------------------------------------------- */

int tre_pcid_held(tre *t, tre_credential *c)
{
	sqlite3_stmt *st = m2m_store_prepare(t->db, "SELECT imsi, valid_until, slot FROM tre_pcid WHERE id = 1");
	if (!st)
		return -1;
	int rc = 1;
	if (sqlite3_step(st) == SQLITE_ROW) {
		memset(c, 0, sizeof *c);
		c->kind = M2M_CREDENTIAL_PCID;
		m2m_store_column_text(st, 0, c->imsi, sizeof c->imsi);
		c->valid_until = sqlite3_column_int64(st, 1);
		m2m_store_column_text(st, 2, c->slot, sizeof c->slot);
		snprintf(c->owner, sizeof c->owner, "%s", t->s.drf);
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

int tre_pcid_valid(const tre_credential *c)
{
	return c->kind == M2M_CREDENTIAL_PCID && (int64_t)time(NULL) < c->valid_until;
}

static int insert_row(tre *t, const tre_pcid *p)
{
	sqlite3_stmt *st = m2m_store_prepare(t->db, "INSERT INTO tre_pcid (id, imsi, valid_until, slot) VALUES (1, ?1, ?2, ?3)");
	if (st) {
		sqlite3_bind_text(st, 1, p->imsi, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, p->valid_until);
		sqlite3_bind_text(st, 3, PCID_SLOT, -1, SQLITE_STATIC);
	}
	return m2m_store_run(t->db, st);
}

/* K_pc || OPc_pc sealed in the slot, the rest in the row, a fresh SQN state: all or nothing. */
static int store(tre *t, const tre_pcid *p)
{
	uint8_t secret[2 * TRE_AKA_KEY_LEN];
	memcpy(secret, p->k, TRE_AKA_KEY_LEN);
	memcpy(secret + TRE_AKA_KEY_LEN, p->opc, TRE_AKA_KEY_LEN);
	int failed = tre_savepoint(t->db) || tre_slot_put(t, PCID_SLOT, t->s.drf, secret, sizeof secret) ||
		     insert_row(t, p) || tre_sqn_create(t, PCID_SLOT, 0);
	m2m_wipe(secret, sizeof secret);
	return tre_release(t->db, failed);
}

/* Deleted once the PCID is held, whether just imported or held already (a restart between the
 * import and the deletion): the key must not stay in a file. */
static void delete_file(const tre *t)
{
	if (unlink(t->s.pcid_file))
		m2m_error("the PCID file %s could not be deleted: %s", t->s.pcid_file, strerror(errno));
}

int tre_pcid_import(tre *t)
{
	tre_pcid *p = &t->s.pcid;
	if (!p->present)
		return 0;
	tre_credential held;
	int rc = tre_pcid_held(t, &held);
	if (rc == 1) {
		rc = store(t, p);
		if (!rc)
			m2m_info("PCID %s imported from %s (valid until %lld), owner %s; the file is deleted", p->imsi,
				 t->s.pcid_file, (long long)p->valid_until, t->s.drf);
	} else if (rc == 0) {
		m2m_warn("a PCID is held already (%s): %s is not imported, only deleted", held.imsi, t->s.pcid_file);
	}
	if (!rc)
		delete_file(t);
	m2m_wipe(p, sizeof *p);
	return rc < 0 ? -1 : 0;
}

void tre_pcid_poll(tre *t)
{
	if (!t->s.pcid_file[0] || access(t->s.pcid_file, F_OK))
		return;
	char why[200];
	int rc = tre_pcid_file_read(t->s.pcid_file, &t->s.pcid, why, sizeof why);
	if (rc < 0 && !t->pcid_file_refused)
		m2m_error("the PCID file %s is refused: %s", t->s.pcid_file, why);
	t->pcid_file_refused = rc < 0;
	if (rc == 0 && tre_pcid_import(t))
		m2m_error("the PCID of %s could not be stored", t->s.pcid_file);
}
