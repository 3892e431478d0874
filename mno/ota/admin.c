/*
 * mno-admin `ota ...`: the operator's staff queue OTA jobs and look at them and at the cards'
 * keysets (never their keys). The daemon sends what is queued from its tick; `--wait S` follows a
 * job in the database until it ends. `ota raw` is the engineer's probe with keys given on the
 * command line: it is a job like the others, its keys sealed in the job's row (aad = the job) and
 * erased when it ends, so that the daemon, which alone reaches the cards, sends it; the tool then
 * waits for its PoR status.
 */
#include "ota/ota_impl.h"

#include "hss/subscriber.h"
#include "store/store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ACTOR "admin"
#define RAW_WAIT_S 60  /* what `ota raw` waits for by default: the PoR is what it is for */

typedef struct ota_cmd {
	sqlite3 *db;
	const uint8_t *storage_key;
	char *err;
	size_t len;
} ota_cmd;

static int fail(ota_cmd *c, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(ota_cmd *c, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err, c->len, fmt, ap);
	va_end(ap);
	return rc;
}

/* ---- arguments -------------------------------------------------------------------------------------- */

static int iccid_arg(ota_cmd *c, const char *iccid)
{
	return hss_iccid_valid(iccid) ? 0 : fail(c, 2, "%s: an ICCID is 18 to 20 digits", iccid);
}

static int tar_arg(ota_cmd *c, const char *hex, uint8_t tar[3])
{
	return strlen(hex) == 6 && !m2m_unhex(hex, tar, 3) ? 0 : fail(c, 2, "%s: a TAR is 6 hex digits", hex);
}

/* A number in min..max. */
static int number_arg(ota_cmd *c, const char *what, const char *text, long long min, long long max, long long *out)
{
	char *end;
	long long v = strtoll(text, &end, 10);
	if (!*text || *end || v < min || v > max)
		return fail(c, 2, "%s must be %lld to %lld, not %s", what, min, max, text);
	*out = v;
	return 0;
}

/* The APDUs (hex, one per argument) joined into one compact script. */
static int script_args(ota_cmd *c, int argc, char **argv, uint8_t *script, size_t *len)
{
	*len = 0;
	if (argc < 1)
		return fail(c, 2, "at least one APDU (hex) is needed");
	for (int i = 0; i < argc; i++) {
		long n = m2m_unhex_var(argv[i], script + *len, OTA_SCRIPT_MAX - *len);
		if (n < 5)
			return fail(c, 2, "%s: an APDU is CLA INS P1 P2 P3 [data] in hex, the script %d bytes at most",
				    argv[i], OTA_SCRIPT_MAX);
		*len += (size_t)n;
	}
	return 0;
}

/* An AES key of 16, 24 or 32 bytes (KIc AES-CBC, KID AES-CMAC). */
static int key_arg(ota_cmd *c, const char *what, const char *hex, uint8_t alg, m2m_ota_key *k)
{
	long n = m2m_unhex_var(hex, k->key, M2M_OTA_KEY_MAX);
	if (n != 16 && n != 24 && n != 32)
		return fail(c, 2, "%s: an AES key of 16, 24 or 32 bytes in hex", what);
	k->alg = alg;
	k->len = (size_t)n;
	return 0;
}

/* ---- waiting for a job ------------------------------------------------------------------------------ */

static void print_job(const ota_job *j)
{
	char tar[7], hex[2 * sizeof j->data + 1];
	m2m_hex(j->tar, 3, tar);
	printf("job %lld: ICCID %s TAR %s (%s)\n", (long long)j->id, j->iccid, tar, j->purpose);
	printf("  state %s, %d attempt(s), last counter %llu\n", ota_job_state_name(j->state), j->attempts,
	       (unsigned long long)j->counter);
	if (j->por_status >= 0)
		printf("  PoR status %s, %d command(s) executed, last SW %04X\n", m2m_ota_status_name(j->por_status),
		       j->executed, j->last_sw);
	if (j->data_len) {
		m2m_hex(j->data, j->data_len, hex);
		printf("  data %s\n", hex);
	}
	if (j->state == OTA_JOB_FAILED)
		printf("  reason %s\n", m2m_reason_name((m2m_reason)j->reason));
	if (j->last_error[0])
		printf("  %s %s\n", j->state == OTA_JOB_FAILED ? "why" : "last problem", j->last_error);
}

/* Polls the job until it ends or wait_s pass: 0 done, 1 failed or not ended (err says). */
static int wait_job(ota_cmd *c, int64_t id, long long wait_s)
{
	ota_job j;
	time_t end = time(NULL) + wait_s;
	int rc;
	while ((rc = ota_job_get(c->db, id, &j)) == 0 && j.state < OTA_JOB_DONE && time(NULL) < end)
		usleep(200 * 1000);
	if (rc)
		return fail(c, 1, "job %lld cannot be read", (long long)id);
	print_job(&j);
	if (j.state == OTA_JOB_DONE)
		return 0;
	if (j.state == OTA_JOB_FAILED)
		return fail(c, 1, "job %lld failed: %s", (long long)id, j.last_error);
	return fail(c, 1, "job %lld is still %s after %llds (is the daemon running, the device attached?)",
		    (long long)id, ota_job_state_name(j.state), wait_s);
}

/* ---- commands --------------------------------------------------------------------------------------- */

/* Audited against the card's IMSI, when it has one. */
static int audit(ota_cmd *c, const char *iccid, const char *action, int64_t id, const uint8_t tar[3])
{
	char imsi[HSS_IMSI_MAX + 1] = "", tar_hex[7];
	m2m_hex(tar, 3, tar_hex);
	if (hss_imsi_of_iccid(c->db, iccid, imsi) < 0)
		return -1;
	return hss_audit(c->db, ACTOR, imsi, action, "job %lld on ICCID %s TAR %s", (long long)id, iccid, tar_hex);
}

/* Runs queue(c, arg) in a transaction with its audit row: 0 with *id, or 1. */
static int in_transaction(ota_cmd *c, int (*queue)(ota_cmd *, const void *, int64_t *), const void *arg,
			  const char *iccid, const char *action, const uint8_t tar[3], int64_t *id)
{
	if (m2m_store_begin(c->db))
		return fail(c, 1, "the database is busy or unwritable: %s", sqlite3_errmsg(c->db));
	c->err[0] = '\0';
	int rc = queue(c, arg, id);
	if (!rc && audit(c, iccid, action, *id, tar))
		rc = -1;
	if (!rc && !m2m_store_commit(c->db))
		return 0;
	if (!c->err[0])
		fail(c, 1, "database: %s", sqlite3_errmsg(c->db));
	m2m_store_rollback(c->db);
	return 1;
}

typedef struct send_arg {
	const char *iccid;
	uint8_t tar[3];
	uint8_t script[OTA_SCRIPT_MAX];
	size_t len;
	m2m_ota_keyset keys;  /* raw */
	long long counter;    /* raw */
} send_arg;

static int queue_send(ota_cmd *c, const void *arg, int64_t *id)
{
	const send_arg *a = arg;
	ota_card_keyset ks;
	int rc = ota_keyset_get(c->db, NULL, a->iccid, a->tar, &ks);
	if (rc)
		return rc < 0 ? -1 : fail(c, -1, "ICCID %s has no OTA keyset for that TAR", a->iccid);
	if (ota_job_queue(c->db, a->iccid, a->tar, a->script, a->len, "admin", id))
		return fail(c, -1, "the script is not whole APDUs");
	return 0;
}

static int queue_raw(ota_cmd *c, const void *arg, int64_t *id)
{
	const send_arg *a = arg;
	if (ota_job_queue_raw(c->db, c->storage_key, a->iccid, a->tar, &a->keys, (uint64_t)a->counter, a->script,
			      a->len, "admin raw", id))
		return fail(c, -1, "the script is not whole APDUs");
	return 0;
}

/* Options --wait S (both), and for raw --kic-key, --kid-key, --kvn, --counter, --tar; the rest are
 * the APDUs. 0, or 2. */
static int raw_options(ota_cmd *c, int argc, char **argv, int raw, send_arg *a, long long *wait_s, int *first_apdu)
{
	const char *kic = NULL, *kid = NULL;
	long long kvn = 1;
	int i = 0;
	for (; i < argc && !strncmp(argv[i], "--", 2); i += 2) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int rc = !v ? fail(c, 2, "%s needs a value", o)
			 : !strcmp(o, "--wait") ? number_arg(c, o, v, 0, 3600, wait_s)
			 : !raw ? fail(c, 2, "this command takes no %s", o)
			 : !strcmp(o, "--kic-key") ? (kic = v, 0)
			 : !strcmp(o, "--kid-key") ? (kid = v, 0)
			 : !strcmp(o, "--kvn") ? number_arg(c, o, v, 1, 15, &kvn)
			 : !strcmp(o, "--counter") ? number_arg(c, o, v, 1, (long long)M2M_OTA_CNTR_MAX, &a->counter)
			 : !strcmp(o, "--tar") ? tar_arg(c, v, a->tar)
			 : fail(c, 2, "this command takes no %s", o);
		if (rc)
			return rc;
	}
	*first_apdu = i;
	if (!raw)
		return 0;
	if (!kic || !kid)
		return fail(c, 2, "ota raw needs --kic-key and --kid-key");
	a->keys.kvn = (uint8_t)kvn;
	return key_arg(c, "--kic-key", kic, 0x2, &a->keys.kic) || key_arg(c, "--kid-key", kid, 0x2, &a->keys.kid) ? 2 : 0;
}

/* ota send ICCID TAR [--wait S] APDU...   and   ota raw ICCID --kic-key .. --kid-key .. [...] APDU... */
static int cmd_send(ota_cmd *c, int argc, char **argv, int raw)
{
	send_arg a;
	long long wait_s = raw ? RAW_WAIT_S : 0;
	int64_t id;
	int first, fixed = raw ? 1 : 2;
	memset(&a, 0, sizeof a);
	memcpy(a.tar, OTA_TAR_USIM_RFM, 3);
	if (argc < fixed)
		return fail(c, 2, raw ? "ota raw takes an ICCID" : "ota send takes an ICCID and a TAR");
	a.iccid = argv[0];
	int rc = iccid_arg(c, a.iccid) || (!raw && tar_arg(c, argv[1], a.tar)) ? 2 : 0;
	if (!rc)
		rc = raw_options(c, argc - fixed, argv + fixed, raw, &a, &wait_s, &first);
	if (!rc)
		rc = script_args(c, argc - fixed - first, argv + fixed + first, a.script, &a.len);
	if (!rc)
		rc = in_transaction(c, raw ? queue_raw : queue_send, &a, a.iccid, raw ? "ota raw" : "ota send", a.tar,
				    &id);
	m2m_wipe(&a.keys, sizeof a.keys);
	if (rc)
		return rc;
	printf("queued job %lld\n", (long long)id);
	return wait_s ? wait_job(c, id, wait_s) : 0;
}

static int cmd_show(ota_cmd *c, int argc, char **argv)
{
	long long id;
	ota_job j;
	if (argc != 1)
		return fail(c, 2, "ota show takes one job number");
	if (number_arg(c, "JOB", argv[0], 1, INT64_MAX, &id))
		return 2;
	int rc = ota_job_get(c->db, id, &j);
	if (rc)
		return fail(c, 1, rc > 0 ? "there is no job %lld" : "job %lld cannot be read", id);
	print_job(&j);
	return 0;
}

static int queue_rotation(ota_cmd *c, const void *arg, int64_t *id)
{
	return ota_rotate_queue(c->db, c->storage_key, arg, id, c->err, c->len);
}

static int cmd_rotate(ota_cmd *c, int argc, char **argv)
{
	int64_t id;
	if (argc != 1)
		return fail(c, 2, "ota rotate takes one ICCID");
	if (iccid_arg(c, argv[0]))
		return 2;
	if (in_transaction(c, queue_rotation, argv[0], argv[0], "ota rotate", OTA_TAR_ISD, &id))
		return 1;
	printf("rotation of the OTA keys of ICCID %s queued as job %lld\n", argv[0], (long long)id);
	return 0;
}

static int cmd_keysets(ota_cmd *c, int argc, char **argv)
{
	ota_card_keyset ks[8];
	m2m_ota_keyset pending;
	int64_t job;
	size_t n;
	if (argc != 1)
		return fail(c, 2, "ota keysets takes one ICCID");
	if (iccid_arg(c, argv[0]))
		return 2;
	if (ota_keyset_list(c->db, NULL, argv[0], ks, 8, &n))
		return fail(c, 1, "the keysets of ICCID %s cannot be read", argv[0]);
	if (!n)
		return fail(c, 1, "ICCID %s has no OTA keyset here", argv[0]);
	for (size_t i = 0; i < n; i++) {
		char tar[7];
		uint8_t kvn = (uint8_t)(ks[i].keys.kvn << 4);
		m2m_hex(ks[i].tar, 3, tar);
		printf("TAR %s kvn %u KIc %s KID %s counter %llu\n", tar, ks[i].keys.kvn,
		       m2m_ota_alg_name(kvn | ks[i].keys.kic.alg, 0, M2M_OTA_CHECK_CC),
		       m2m_ota_alg_name(kvn | ks[i].keys.kid.alg, 1, M2M_OTA_CHECK_CC),
		       (unsigned long long)ks[i].counter);
	}
	if (ota_rotation_pending(c->db, c->storage_key, argv[0], &job, &pending) == 0)
		printf("a key rotation is pending: job %lld\n", (long long)job);
	m2m_wipe(&pending, sizeof pending);
	return 0;
}

int ota_admin(sqlite3 *db, const uint8_t storage_key[32], int argc, char **argv, char *err, size_t len)
{
	ota_cmd c = {db, storage_key, err, len};
	const char *sub = argc ? argv[0] : "";
	argc--, argv++;
	if (!strcmp(sub, "send"))
		return cmd_send(&c, argc, argv, 0);
	if (!strcmp(sub, "raw"))
		return cmd_send(&c, argc, argv, 1);
	if (!strcmp(sub, "show"))
		return cmd_show(&c, argc, argv);
	if (!strcmp(sub, "rotate"))
		return cmd_rotate(&c, argc, argv);
	if (!strcmp(sub, "keysets"))
		return cmd_keysets(&c, argc, argv);
	return fail(&c, 2, "ota takes send, raw, show, rotate or keysets");
}
