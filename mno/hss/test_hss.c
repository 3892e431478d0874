/*
 * HSS/AuC tests: subscriber records sealed at rest, the staff's operations (the functions
 * mno-admin calls, and mno-admin itself as a process for its exit statuses), card images,
 * vectors checked by lib/aka's USIM side with the image's keys, re-synchronisation, SQN across
 * restarts, clone detection, and the protocol over real nodes (authInfoRequest, updateLocation
 * with cancelLocation, purge, refusals that roll back and the one that must not).
 */
#include "hss/hss_impl.h"
#include "hss/provision.h"
#include "schema.h"

#include "aka/gsm.h"
#include "crypto/crypto.h"
#include "daemon/test_agency.h"
#include "store/store.h"

#include <criterion/criterion.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define PLMN "00101"
#define IMSI_1 "001010000000001"
#define IMSI_2 "001010000000002"
#define IMSI_3 "001010000000003"
#define ICCID_1 "8900101000000000019"
#define IMEI_1 "356938035643809"
#define IMEI_2 "490154203237518"
#define K_HEX "465b5ce8b199b49faa5f0a2ee238a6bc"
#define OPC_HEX "cd63cb71954a9f4e48a5994e37a02baf"

typedef struct fixture {
	char dir[64];
	char db_path[128];
	hss_context *h;
	char err[1024];
} fixture;

static fixture fx;

/* The operator's whole schema, as the daemon and mno-admin open it. */
static sqlite3 *open_db(void)
{
	char err[256] = "";
	sqlite3 *db = m2m_store_open(fx.db_path, mno_schema(), err, sizeof err);
	cr_assert_not_null(db, "%s", err);
	return db;
}

static void setup(void)
{
	memset(&fx, 0, sizeof fx);
	snprintf(fx.dir, sizeof fx.dir, "/tmp/m2mhssXXXXXX");
	cr_assert_not_null(mkdtemp(fx.dir));
	snprintf(fx.db_path, sizeof fx.db_path, "%s/mno-a.db", fx.dir);
	fx.h = hss_context_new();
	snprintf(fx.h->settings.plmn, sizeof fx.h->settings.plmn, PLMN);
	fx.h->settings.mnc_length = 2;
	m2m_random(fx.h->settings.storage_key, sizeof fx.h->settings.storage_key);
	fx.h->settings.clone_policy = HSS_CLONE_SUSPEND;
	fx.h->db = open_db();
}

static void teardown(void)
{
	if (fx.h) {
		m2m_store_close(fx.h->db);
		hss_context_free(fx.h);
	}
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", fx.dir);
	cr_assert_eq(system(cmd), 0);
}

static void reopen(void)
{
	m2m_store_close(fx.h->db);
	fx.h->db = open_db();
}

/* ---- helpers --------------------------------------------------------------------------------- */

static const hss_settings *settings(void)
{
	return &fx.h->settings;
}

static sqlite3 *db(void)
{
	return fx.h->db;
}

static hss_outcome add_keyed(const char *imsi)
{
	hss_order o = {.imsi = imsi, .k = K_HEX, .opc = OPC_HEX};
	return hss_add(db(), settings(), &o, "admin", fx.err, sizeof fx.err);
}

static void path_in_dir(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", fx.dir, name);
}

static hss_outcome personalise(const char *imsi, const char *iccid, const char *image_name)
{
	char image[256];
	path_in_dir(image, sizeof image, image_name);
	hss_order o = {.imsi = imsi, .imei_lock = IMEI_1};
	return hss_personalise(db(), settings(), iccid, &o, image, "admin", fx.err, sizeof fx.err);
}

/* What show or list printed. The caller frees it. */
static char *captured(hss_outcome (*show)(sqlite3 *, const char *, FILE *, char *, size_t), const char *imsi,
		      hss_outcome *r)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	*r = show(db(), imsi, f, fx.err, sizeof fx.err);
	fclose(f);
	return text;
}

static hss_outcome list_into(sqlite3 *d, const char *unused, FILE *f, char *err, size_t len)
{
	return hss_list(d, f, err, len);
}

static hss_state state_of(const char *imsi)
{
	hss_subscriber s;
	cr_assert_eq(hss_subscriber_load(db(), NULL, imsi, &s), 0);
	return s.state;
}

static int count_rows(const char *sql)
{
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_prepare_v2(db(), sql, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db()));
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	int n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

static int audited(const char *imsi, const char *action, const char *actor)
{
	char sql[256];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM hss_audit WHERE imsi = '%s' AND action = '%s' AND actor = '%s'",
		 imsi, action, actor);
	return count_rows(sql);
}

/* The card image's K and OPc, as the uicc would read them (libconfig). */
static void image_keys(const char *image_name, uint8_t k[16], uint8_t opc[16], config_t *cfg)
{
	char image[256];
	const char *kh, *opch;
	path_in_dir(image, sizeof image, image_name);
	config_init(cfg);
	cr_assert_eq(config_read_file(cfg, image), CONFIG_TRUE, "%s:%d: %s", image, config_error_line(cfg),
		     config_error_text(cfg));
	cr_assert(config_lookup_string(cfg, "card.k", &kh));
	cr_assert(config_lookup_string(cfg, "card.opc", &opch));
	cr_assert_eq(m2m_unhex(kh, k, 16), 0);
	cr_assert_eq(m2m_unhex(opch, opc, 16), 0);
}

/* A USIM with the image's keys and a fresh SQN array. */
static void usim_from_image(const char *image_name, m2m_milenage *m, m2m_sqn_usim *u)
{
	uint8_t k[16], opc[16];
	config_t cfg;
	image_keys(image_name, k, opc, &cfg);
	config_destroy(&cfg);
	cr_assert_eq(m2m_milenage_init(m, k, opc), 0);
	cr_assert_eq(m2m_sqn_usim_init(u, NULL), 0);
}

/* hss_vectors inside one transaction, as a step: committed when it succeeds. */
static m2m_reason vectors(const char *imsi, int n, const hss_resync *rs, m2m_aka_vector *out)
{
	char why[200];
	cr_assert_eq(m2m_store_begin(db()), 0);
	m2m_reason r = hss_vectors(fx.h, "mno-v", imsi, n, rs, out, why, sizeof why);
	if (r == M2M_OK)
		cr_assert_eq(m2m_store_commit(db()), 0);
	else
		m2m_store_rollback(db());
	return r;
}

static m2m_reason locate(const char *network, const char *imsi, const char *imei, hss_located *out)
{
	cr_assert_eq(m2m_store_begin(db()), 0);
	m2m_reason r = hss_locate(fx.h, network, imsi, imei, out);
	if (r == M2M_OK || out->keep)
		cr_assert_eq(m2m_store_commit(db()), 0);
	else
		m2m_store_rollback(db());
	return r;
}

static uint64_t stored_seq(const char *imsi)
{
	hss_subscriber s;
	cr_assert_eq(hss_subscriber_load(db(), NULL, imsi, &s), 0);
	return s.sqn.seq_he;
}

TestSuite(hss, .init = setup, .fini = teardown, .timeout = 60);

/* ---- sealing --------------------------------------------------------------------------------- */

static void assert_absent(const char *data, size_t len, const void *needle, size_t nlen, const char *what)
{
	cr_assert_null(memmem(data, len, needle, nlen), "the database file holds %s", what);
}

static void assert_file_free_of(const char *path, const uint8_t k[16], const uint8_t opc[16])
{
	size_t len = 0;
	char *data = ta_read(path, &len);
	if (!data)
		return;  /* e.g. no WAL left after a clean close */
	char hex[33], upper[33];
	const uint8_t *secrets[] = {k, opc};
	for (int i = 0; i < 2; i++) {
		assert_absent(data, len, secrets[i], 16, i ? "OPc" : "K");
		m2m_hex(secrets[i], 16, hex);
		for (int c = 0; c < 33; c++)
			upper[c] = (char)(hex[c] >= 'a' && hex[c] <= 'f' ? hex[c] - 32 : hex[c]);
		assert_absent(data, len, hex, 32, "a key in hex");
		assert_absent(data, len, upper, 32, "a key in upper-case hex");
	}
	free(data);
}

Test(hss, the_database_file_holds_neither_k_nor_opc)
{
	uint8_t k[16], opc[16], ik[16], iopc[16];
	m2m_unhex(K_HEX, k, 16);
	m2m_unhex(OPC_HEX, opc, 16);
	cr_assert_eq(add_keyed(IMSI_1), HSS_DONE, "%s", fx.err);
	cr_assert_eq(personalise(IMSI_2, ICCID_1, "uicc-2.card"), HSS_DONE, "%s", fx.err);
	config_t cfg;
	image_keys("uicc-2.card", ik, iopc, &cfg);
	config_destroy(&cfg);
	/* while open (the WAL holds the latest pages) and after closing */
	char wal[160];
	snprintf(wal, sizeof wal, "%s-wal", fx.db_path);
	assert_file_free_of(fx.db_path, k, opc);
	assert_file_free_of(wal, k, opc);
	assert_file_free_of(wal, ik, iopc);
	m2m_store_close(fx.h->db);
	fx.h->db = NULL;
	assert_file_free_of(fx.db_path, k, opc);
	assert_file_free_of(fx.db_path, ik, iopc);
	fx.h->db = open_db();
	/* the sealed value opens only under the storage key, and only for its own IMSI */
	hss_subscriber s;
	cr_assert_eq(hss_subscriber_load(db(), settings()->storage_key, IMSI_1, &s), 0);
	cr_assert_eq(memcmp(s.k, k, 16), 0);
	cr_assert_eq(memcmp(s.opc, opc, 16), 0);
	uint8_t other[32] = {1};
	cr_assert_eq(hss_subscriber_load(db(), other, IMSI_1, &s), -1);
	cr_assert_eq(m2m_store_exec(db(), "UPDATE hss_subscriber SET k_opc_sealed = (SELECT k_opc_sealed FROM"
					  " hss_subscriber WHERE imsi = '" IMSI_1 "') WHERE imsi = '" IMSI_2 "'"),
		     0);
	cr_assert_eq(hss_subscriber_load(db(), settings()->storage_key, IMSI_2, &s), -1,
		     "a sealed value moved to another IMSI must not open");
}

/* ---- the staff's operations ------------------------------------------------------------------ */

Test(hss, add_show_suspend_resume_delete)
{
	hss_outcome r;
	cr_assert_eq(add_keyed(IMSI_1), HSS_DONE, "%s", fx.err);
	char *text = captured(hss_show, IMSI_1, &r);
	cr_assert_eq(r, HSS_DONE);
	cr_assert_not_null(strstr(text, "state:     active"), "%s", text);
	cr_assert_not_null(strstr(text, "apns:      " HSS_DEFAULT_APN), "%s", text);
	cr_assert_not_null(strstr(text, "admin add"), "%s", text);
	cr_assert_null(strstr(text, K_HEX), "show printed K");
	cr_assert_null(strstr(text, OPC_HEX), "show printed OPc");
	free(text);

	cr_assert_eq(hss_suspend(db(), IMSI_1, "admin", fx.err, sizeof fx.err), HSS_DONE, "%s", fx.err);
	cr_assert_eq(state_of(IMSI_1), HSS_SUSPENDED);
	cr_assert_eq(hss_suspend(db(), IMSI_1, "admin", fx.err, sizeof fx.err), HSS_FAILED);
	cr_assert_not_null(strstr(fx.err, "not active"), "%s", fx.err);
	cr_assert_eq(hss_resume(db(), IMSI_1, "admin", fx.err, sizeof fx.err), HSS_DONE, "%s", fx.err);
	cr_assert_eq(state_of(IMSI_1), HSS_ACTIVE);
	cr_assert_eq(hss_resume(db(), IMSI_1, "admin", fx.err, sizeof fx.err), HSS_FAILED);
	cr_assert_not_null(strstr(fx.err, "not suspended"), "%s", fx.err);
	cr_assert_eq(hss_delete(db(), IMSI_1, "admin", fx.err, sizeof fx.err), HSS_DONE, "%s", fx.err);
	cr_assert_eq(state_of(IMSI_1), HSS_DELETED);
	cr_assert_eq(count_rows("SELECT count(*) FROM hss_subscriber WHERE k_opc_sealed IS NOT NULL"), 0,
		     "a deleted subscriber keeps no keys");
	cr_assert_eq(hss_delete(db(), IMSI_1, "admin", fx.err, sizeof fx.err), HSS_FAILED);
	for (const char *const *a = (const char *const[]){"add", "suspend", "resume", "delete", NULL}; *a; a++)
		cr_assert_eq(audited(IMSI_1, *a, "admin"), 1, "no audit entry for %s", *a);
	/* a deleted IMSI can be given out again */
	cr_assert_eq(add_keyed(IMSI_1), HSS_DONE, "%s", fx.err);
	cr_assert_eq(state_of(IMSI_1), HSS_ACTIVE);
}

Test(hss, contract_lock_and_unlock_are_audited_and_shown)
{
	hss_outcome r;
	int64_t until = 0, now = (int64_t)time(NULL);
	cr_assert_eq(add_keyed(IMSI_1), HSS_DONE, "%s", fx.err);
	cr_assert_eq(hss_locked_until(db(), IMSI_1, now, &until), 0, "locked before any lock");
	cr_assert_eq(hss_lock(db(), IMSI_1, "30", "admin", fx.err, sizeof fx.err), HSS_DONE, "%s", fx.err);
	cr_assert_eq(hss_locked_until(db(), IMSI_1, now, &until), 1);
	cr_assert(until >= now + 30 * 86400 && until <= now + 30 * 86400 + 5, "until %lld", (long long)until);
	cr_assert_eq(hss_locked_until(db(), IMSI_1, until + 1, &until), 0, "a lock ends");
	char *text = captured(hss_show, IMSI_1, &r);
	cr_assert_eq(r, HSS_DONE);
	cr_assert_not_null(strstr(text, "lock:      contract locked until "), "%s", text);
	cr_assert_not_null(strstr(text, "admin lock: contract locked for 30 day(s)"), "%s", text);
	free(text);
	/* refusals change nothing */
	int audit = count_rows("SELECT count(*) FROM hss_audit");
	const char *bad_days[] = {"0", "3651", "-1", "1.5", "", "x", NULL};
	for (int i = 0; i < 7; i++)
		cr_assert_eq(hss_lock(db(), IMSI_1, bad_days[i], "admin", fx.err, sizeof fx.err), HSS_BAD_INPUT, "%d days",
			     i);
	cr_assert_eq(hss_lock(db(), IMSI_2, "5", "admin", fx.err, sizeof fx.err), HSS_FAILED, "unknown IMSI");
	cr_assert_eq(hss_lock(db(), "12x", "5", "admin", fx.err, sizeof fx.err), HSS_BAD_INPUT);
	cr_assert_eq(hss_unlock(db(), IMSI_2, "admin", fx.err, sizeof fx.err), HSS_FAILED);
	cr_assert_eq(count_rows("SELECT count(*) FROM hss_audit"), audit);
	cr_assert_eq(hss_unlock(db(), IMSI_1, "admin", fx.err, sizeof fx.err), HSS_DONE, "%s", fx.err);
	cr_assert_eq(hss_locked_until(db(), IMSI_1, now, &until), 0);
	cr_assert_eq(hss_unlock(db(), IMSI_1, "admin", fx.err, sizeof fx.err), HSS_FAILED, "unlocked twice");
	cr_assert_not_null(strstr(fx.err, "not under a contract lock"), "%s", fx.err);
	cr_assert_eq(audited(IMSI_1, "lock", "admin"), 1);
	cr_assert_eq(audited(IMSI_1, "unlock", "admin"), 1);
	/* a deleted subscriber cannot be locked; a new subscription of its IMSI starts unlocked */
	cr_assert_eq(hss_lock(db(), IMSI_1, "10", "admin", fx.err, sizeof fx.err), HSS_DONE, "%s", fx.err);
	cr_assert_eq(hss_delete(db(), IMSI_1, "admin", fx.err, sizeof fx.err), HSS_DONE, "%s", fx.err);
	cr_assert_eq(hss_lock(db(), IMSI_1, "10", "admin", fx.err, sizeof fx.err), HSS_FAILED);
	cr_assert_eq(add_keyed(IMSI_1), HSS_DONE, "%s", fx.err);
	cr_assert_eq(hss_locked_until(db(), IMSI_1, now, &until), 0, "the old subscription's lock");
}

Test(hss, staff_errors_are_told_apart)
{
	cr_assert_eq(hss_show(db(), IMSI_3, stdout, fx.err, sizeof fx.err), HSS_FAILED);
	cr_assert_not_null(strstr(fx.err, "no such subscriber"), "%s", fx.err);
	cr_assert_eq(hss_suspend(db(), IMSI_3, "admin", fx.err, sizeof fx.err), HSS_FAILED);
	cr_assert_eq(hss_suspend(db(), "12ab", "admin", fx.err, sizeof fx.err), HSS_BAD_INPUT);
	hss_order other_plmn = {.imsi = "001020000000001"}, half_keys = {.imsi = IMSI_2, .k = K_HEX},
		  short_k = {.imsi = IMSI_2, .k = "0011", .opc = OPC_HEX},
		  bad_apn = {.imsi = IMSI_2, .napns = 1, .apns = {"a;b"}},
		  bad_lock = {.imsi = IMSI_2, .imei_lock = "12345"};
	const hss_order *bad[] = {&other_plmn, &half_keys, &short_k, &bad_apn, &bad_lock};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_assert_eq(hss_add(db(), settings(), bad[i], "admin", fx.err, sizeof fx.err), HSS_BAD_INPUT,
			     "order %zu accepted", i);
	cr_assert_eq(count_rows("SELECT count(*) FROM hss_subscriber"), 0);
	cr_assert_eq(add_keyed(IMSI_1), HSS_DONE);
	cr_assert_eq(add_keyed(IMSI_1), HSS_FAILED, "an existing IMSI was added twice");
	cr_assert_not_null(strstr(fx.err, "already exists"), "%s", fx.err);
}

Test(hss, list_prints_one_subscriber_per_line)
{
	hss_order pending = {.imsi = IMSI_2, .napns = 2, .apns = {"m2m.meter", "m2m.backup"}, .cs_allowed = 1};
	cr_assert_eq(add_keyed(IMSI_1), HSS_DONE);
	cr_assert_eq(hss_add(db(), settings(), &pending, "admin", fx.err, sizeof fx.err), HSS_DONE, "%s", fx.err);
	hss_outcome r;
	char *text = captured(list_into, NULL, &r);
	cr_assert_eq(r, HSS_DONE);
	cr_assert_str_eq(text, IMSI_1 " active    apns=m2m.meter cs=no imei_lock=none location=none\n" IMSI_2
				      " pending   apns=m2m.meter,m2m.backup cs=yes imei_lock=none location=none\n");
	free(text);
}

/* ---- import ---------------------------------------------------------------------------------- */

static void write_csv(const char *name, const char *text, char *path, size_t len)
{
	path_in_dir(path, len, name);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

Test(hss, import_takes_every_row_or_none)
{
	char path[256];
	int n = -1;
	write_csv("bad.csv",
		  "imsi,k,opc,amf,apns,cs,imei_lock\n"
		  IMSI_1 "," K_HEX "," OPC_HEX ",8000,m2m.meter,0,\n"
		  IMSI_2 "," K_HEX ",00112233,,m2m.meter,0,\n"
		  IMSI_3 ",,,,,,\n",
		  path, sizeof path);
	cr_assert_eq(hss_import(db(), settings(), path, "admin", &n, fx.err, sizeof fx.err), HSS_FAILED);
	cr_assert_not_null(strstr(fx.err, "bad.csv:3:"), "the error does not name line 3: %s", fx.err);
	cr_assert_eq(n, 0);
	cr_assert_eq(count_rows("SELECT count(*) FROM hss_subscriber"), 0, "a bad row left rows behind");
	cr_assert_eq(count_rows("SELECT count(*) FROM hss_audit"), 0);

	write_csv("dup.csv", "imsi,k,opc,amf,apns,cs,imei_lock\n" IMSI_1 ",,,,,,\n\n" IMSI_1 ",,,,,,\n", path,
		  sizeof path);
	cr_assert_eq(hss_import(db(), settings(), path, "admin", &n, fx.err, sizeof fx.err), HSS_FAILED);
	cr_assert_not_null(strstr(fx.err, "dup.csv:4:"), "%s", fx.err);
	write_csv("header.csv", "imsi,k,opc\n", path, sizeof path);
	cr_assert_eq(hss_import(db(), settings(), path, "admin", &n, fx.err, sizeof fx.err), HSS_FAILED);
	cr_assert_not_null(strstr(fx.err, "header.csv:1:"), "%s", fx.err);
	cr_assert_eq(count_rows("SELECT count(*) FROM hss_subscriber"), 0);

	write_csv("good.csv",
		  "imsi,k,opc,amf,apns,cs,imei_lock\r\n"
		  IMSI_1 "," K_HEX "," OPC_HEX ",9000,m2m.meter;m2m.backup,yes," IMEI_1 "\r\n"
		  IMSI_2 "," K_HEX "," OPC_HEX ",,,0,\r\n"
		  IMSI_3 ",,,,,,\r\n",
		  path, sizeof path);
	cr_assert_eq(hss_import(db(), settings(), path, "admin", &n, fx.err, sizeof fx.err), HSS_DONE, "%s", fx.err);
	cr_assert_eq(n, 3);
	hss_subscriber s;
	cr_assert_eq(hss_subscriber_load(db(), settings()->storage_key, IMSI_1, &s), 0);
	cr_assert_eq(s.state, HSS_ACTIVE);
	cr_assert_eq(s.amf[0], 0x90);
	cr_assert_eq(s.profile.napns, 2);
	cr_assert_str_eq(s.profile.apns[1], "m2m.backup");
	cr_assert(s.profile.cs_allowed);
	cr_assert_str_eq(s.profile.imei_lock, IMEI_1);
	cr_assert_eq(state_of(IMSI_3), HSS_PENDING);
	cr_assert_eq(audited(IMSI_2, "import", "admin"), 1);
}

/* ---- personalise ----------------------------------------------------------------------------- */

Test(hss, personalise_writes_an_image_matching_the_record)
{
	cr_assert_eq(personalise(IMSI_1, ICCID_1, "uicc-1.card"), HSS_DONE, "%s", fx.err);
	char image[256];
	path_in_dir(image, sizeof image, "uicc-1.card");
	struct stat st;
	cr_assert_eq(stat(image, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600, "mode %o", st.st_mode & 0777);
	uint8_t k[16], opc[16];
	config_t cfg;
	const char *text;
	int mnc;
	image_keys("uicc-1.card", k, opc, &cfg);
	cr_assert(config_lookup_string(&cfg, "card.iccid", &text));
	cr_assert_str_eq(text, ICCID_1);
	cr_assert(config_lookup_string(&cfg, "card.imsi", &text));
	cr_assert_str_eq(text, IMSI_1);
	cr_assert(config_lookup_int(&cfg, "card.mnc_length", &mnc));
	cr_assert_eq(mnc, 2);
	cr_assert(config_lookup_string(&cfg, "card.adm", &text));
	cr_assert_eq(strlen(text), 16);
	uint8_t kic[16], kid[16];
	cr_assert(config_lookup_string(&cfg, "card.ota_tar", &text));
	cr_assert_str_eq(text, "b00010", "the USIM RFM TAR of TS 31.116");
	cr_assert(config_lookup_string(&cfg, "card.ota_kic", &text) && m2m_unhex(text, kic, 16) == 0);
	cr_assert(config_lookup_string(&cfg, "card.ota_kid", &text) && m2m_unhex(text, kid, 16) == 0);
	config_destroy(&cfg);
	hss_subscriber s;
	cr_assert_eq(hss_subscriber_load(db(), settings()->storage_key, IMSI_1, &s), 0);
	cr_assert_eq(memcmp(s.ota_kic, kic, 16), 0, "the image's KIc is not the record's");
	cr_assert_eq(memcmp(s.ota_kid, kid, 16), 0, "the image's KID is not the record's");
	cr_assert_neq(memcmp(kic, kid, 16), 0);
	cr_assert_eq(s.state, HSS_ACTIVE);
	cr_assert_eq(memcmp(s.k, k, 16), 0, "the image's K is not the record's");
	cr_assert_eq(memcmp(s.opc, opc, 16), 0, "the image's OPc is not the record's");
	cr_assert_str_eq(s.iccid, ICCID_1);
	cr_assert_str_eq(s.profile.imei_lock, IMEI_1);
	cr_assert_eq(audited(IMSI_1, "personalise", "admin"), 1);
}

Test(hss, personalise_writes_both_or_neither)
{
	char image[256];
	/* the image cannot be written: no record */
	cr_assert_eq(personalise(IMSI_1, ICCID_1, "no-such-dir/uicc-1.card"), HSS_FAILED);
	cr_assert_eq(count_rows("SELECT count(*) FROM hss_subscriber"), 0);
	/* an existing file is never overwritten, and no record is made */
	path_in_dir(image, sizeof image, "taken.card");
	FILE *f = fopen(image, "w");
	fputs("someone else's card\n", f);
	fclose(f);
	cr_assert_eq(personalise(IMSI_1, ICCID_1, "taken.card"), HSS_FAILED);
	cr_assert_not_null(strstr(fx.err, "exists"), "%s", fx.err);
	size_t len;
	char *kept = ta_read(image, &len);
	cr_assert_str_eq(kept, "someone else's card\n");
	free(kept);
	cr_assert_eq(count_rows("SELECT count(*) FROM hss_subscriber"), 0);
	/* the record cannot be written (the IMSI is taken): no image */
	cr_assert_eq(add_keyed(IMSI_1), HSS_DONE);
	cr_assert_eq(personalise(IMSI_1, ICCID_1, "uicc-1.card"), HSS_FAILED);
	path_in_dir(image, sizeof image, "uicc-1.card");
	cr_assert_neq(access(image, F_OK), 0, "an image was left for a refused record");
	cr_assert_eq(count_rows("SELECT count(*) FROM hss_subscriber WHERE iccid IS NOT NULL"), 0);
	/* nor is an ICCID given to two cards */
	cr_assert_eq(personalise(IMSI_2, ICCID_1, "uicc-2.card"), HSS_DONE, "%s", fx.err);
	cr_assert_eq(personalise(IMSI_3, ICCID_1, "uicc-3.card"), HSS_FAILED);
	/* a pending IMSI gets its card and keeps its profile */
	hss_order pending = {.imsi = "001010000000004", .napns = 1, .apns = {"m2m.pending"}};
	cr_assert_eq(hss_add(db(), settings(), &pending, "admin", fx.err, sizeof fx.err), HSS_DONE);
	hss_order card = {.imsi = "001010000000004"};
	path_in_dir(image, sizeof image, "uicc-4.card");
	cr_assert_eq(hss_personalise(db(), settings(), "8900101000000000043", &card, image, "admin", fx.err,
				     sizeof fx.err),
		     HSS_DONE, "%s", fx.err);
	hss_subscriber s;
	cr_assert_eq(hss_subscriber_load(db(), NULL, "001010000000004", &s), 0);
	cr_assert_eq(s.state, HSS_ACTIVE);
	cr_assert_str_eq(s.profile.apns[0], "m2m.pending");
}

Test(hss, personalise_removes_the_image_when_the_commit_fails)
{
	/* a constraint checked only at COMMIT, violated by every audit entry */
	cr_assert_eq(m2m_store_exec(db(), "CREATE TABLE veto (imsi TEXT REFERENCES hss_subscriber (imsi)"
					  " DEFERRABLE INITIALLY DEFERRED);"
					  "CREATE TRIGGER veto_audit AFTER INSERT ON hss_audit"
					  " BEGIN INSERT INTO veto VALUES ('no such imsi'); END;"),
		     0);
	cr_assert_eq(personalise(IMSI_1, ICCID_1, "uicc-1.card"), HSS_FAILED);
	cr_assert_not_null(strstr(fx.err, "committed"), "%s", fx.err);
	char image[256];
	path_in_dir(image, sizeof image, "uicc-1.card");
	cr_assert_neq(access(image, F_OK), 0, "the image of an uncommitted record was left behind");
	cr_assert_eq(count_rows("SELECT count(*) FROM hss_subscriber"), 0);
}

/* ---- vectors --------------------------------------------------------------------------------- */

Test(hss, vectors_verify_on_the_card_made_by_personalise)
{
	cr_assert_eq(personalise(IMSI_1, ICCID_1, "uicc-1.card"), HSS_DONE, "%s", fx.err);
	m2m_milenage m;
	m2m_sqn_usim u;
	usim_from_image("uicc-1.card", &m, &u);
	m2m_aka_vector v[3];
	cr_assert_eq(vectors(IMSI_1, 3, NULL, v), M2M_OK);
	for (int i = 0; i < 3; i++) {
		m2m_aka_usim_result res;
		uint8_t kc[8];
		cr_assert_eq(m2m_aka_usim_authenticate(&m, &u, v[i].av.rand, v[i].av.autn, &res), M2M_AKA_OK,
			     "vector %d refused by the USIM", i);
		cr_assert_eq(memcmp(res.res, v[i].av.xres, 8), 0);
		cr_assert_eq(memcmp(res.ck, v[i].av.ck, 16), 0);
		cr_assert_eq(memcmp(res.ik, v[i].av.ik, 16), 0);
		m2m_gsm_c3(res.ck, res.ik, kc);
		cr_assert_eq(memcmp(kc, v[i].kc, 8), 0, "Kc is not c3(CK, IK)");
		cr_assert_eq(v[i].av.autn[6], 0x80, "AMF of the record not in AUTN");
	}
	cr_assert_eq(stored_seq(IMSI_1), 3);
	cr_assert_eq(audited(IMSI_1, "authInfo", "mno-v"), 1);
	/* the same vector again is stale: a sync failure, not a second acceptance */
	m2m_aka_usim_result res;
	cr_assert_eq(m2m_aka_usim_authenticate(&m, &u, v[0].av.rand, v[0].av.autn, &res), M2M_AKA_SYNC_FAILURE);
	m2m_milenage_clear(&m);
}

Test(hss, vectors_only_for_serviceable_subscribers)
{
	m2m_aka_vector v[1];
	hss_order pending = {.imsi = IMSI_2};
	cr_assert_eq(vectors(IMSI_1, 1, NULL, v), M2M_R_NOT_FOUND);
	cr_assert_eq(hss_add(db(), settings(), &pending, "admin", fx.err, sizeof fx.err), HSS_DONE);
	cr_assert_eq(vectors(IMSI_2, 1, NULL, v), M2M_R_WRONG_STATE);
	cr_assert_eq(add_keyed(IMSI_1), HSS_DONE);
	cr_assert_eq(hss_suspend(db(), IMSI_1, "admin", fx.err, sizeof fx.err), HSS_DONE);
	cr_assert_eq(vectors(IMSI_1, 1, NULL, v), M2M_R_SUBSCRIBER_SUSPENDED);
	cr_assert_eq(stored_seq(IMSI_1), 0, "a refusal moved SQN");
	cr_assert_eq(hss_delete(db(), IMSI_1, "admin", fx.err, sizeof fx.err), HSS_DONE);
	cr_assert_eq(vectors(IMSI_1, 1, NULL, v), M2M_R_NOT_FOUND);
}

/* What the DPF stores for an MCIM on its way to its TRE: pending, with its keys. */
static hss_outcome add_mcim_record(const char *imsi)
{
	hss_subscriber rec;
	hss_subscriber_init(&rec, imsi);
	m2m_random(rec.k, sizeof rec.k);
	m2m_random(rec.opc, sizeof rec.opc);
	rec.has_keys = 1;
	rec.state = HSS_PENDING;
	hss_outcome r = hss_begin(db(), fx.err, sizeof fx.err);
	if (r == HSS_DONE)
		r = hss_end(db(), hss_create(db(), settings()->storage_key, &rec, "dpf", "mcim", "MCIM", fx.err, sizeof fx.err),
			    fx.err, sizeof fx.err);
	hss_subscriber_wipe(&rec);
	return r;
}

static hss_outcome change_in(const char *imsi, hss_change which)
{
	hss_outcome r = hss_begin(db(), fx.err, sizeof fx.err);
	return r == HSS_DONE ? hss_end(db(), hss_change_in(db(), imsi, which, "dpf", fx.err, sizeof fx.err), fx.err,
				       sizeof fx.err)
			     : r;
}

Test(hss, an_mcim_record_is_served_only_once_activated)
{
	m2m_aka_vector v[1];
	cr_assert_eq(add_mcim_record(IMSI_1), HSS_DONE, "%s", fx.err);
	cr_assert_eq(state_of(IMSI_1), HSS_PENDING);
	cr_assert_eq(vectors(IMSI_1, 1, NULL, v), M2M_R_WRONG_STATE, "served before its TRE installed it");
	/* the staff cannot make a card of it */
	cr_assert_eq(personalise(IMSI_1, ICCID_1, "uicc-1.card"), HSS_FAILED);
	cr_assert(strstr(fx.err, "MCIM"), "%s", fx.err);
	cr_assert_eq(change_in(IMSI_1, HSS_CHANGE_ACTIVATE), HSS_DONE, "%s", fx.err);
	cr_assert_eq(vectors(IMSI_1, 1, NULL, v), M2M_OK);
	cr_assert_eq(audited(IMSI_1, "activate", "dpf"), 1);
	cr_assert_eq(change_in(IMSI_1, HSS_CHANGE_ACTIVATE), HSS_FAILED, "active already");
	/* a pending record without keys (no card yet) cannot be activated: it needs personalise */
	hss_order pending = {.imsi = IMSI_2};
	cr_assert_eq(hss_add(db(), settings(), &pending, "admin", fx.err, sizeof fx.err), HSS_DONE);
	cr_assert_eq(change_in(IMSI_2, HSS_CHANGE_ACTIVATE), HSS_FAILED);
	cr_assert_eq(state_of(IMSI_2), HSS_PENDING);
	/* withdrawn before its install: deleted, keys erased */
	cr_assert_eq(add_mcim_record(IMSI_3), HSS_DONE);
	cr_assert_eq(change_in(IMSI_3, HSS_CHANGE_DELETE), HSS_DONE);
	cr_assert_eq(count_rows("SELECT count(*) FROM hss_subscriber WHERE imsi = '" IMSI_3 "' AND k_opc_sealed IS NULL"), 1);
}

static const char *first_free(const char *first, long count)
{
	static char imsi[HSS_IMSI_MAX + 1];
	int rc = hss_imsi_first_free(db(), first, count, imsi);
	cr_assert_geq(rc, 0);
	return rc ? "none" : imsi;
}

Test(hss, the_first_free_imsi_of_a_range_is_never_one_used_before)
{
	cr_assert_str_eq(first_free(IMSI_1, 3), IMSI_1);
	cr_assert_eq(add_mcim_record(IMSI_1), HSS_DONE);
	cr_assert_eq(add_mcim_record(IMSI_3), HSS_DONE);
	cr_assert_str_eq(first_free(IMSI_1, 3), IMSI_2, "the gap");
	cr_assert_eq(add_mcim_record(IMSI_2), HSS_DONE);
	cr_assert_str_eq(first_free(IMSI_1, 3), "none");
	cr_assert_str_eq(first_free(IMSI_1, 4), "001010000000004");
	/* a deleted record's IMSI stays used */
	cr_assert_eq(change_in(IMSI_3, HSS_CHANGE_DELETE), HSS_DONE);
	cr_assert_str_eq(first_free(IMSI_3, 1), "none");
	/* other lengths and other ranges do not count */
	cr_assert_eq(add_keyed("00101000000005"), HSS_DONE);
	cr_assert_str_eq(first_free("001010000000005", 1), "001010000000005");
}

Test(hss, resync_with_a_genuine_auts_moves_sqn_and_a_tampered_one_is_refused)
{
	cr_assert_eq(personalise(IMSI_1, ICCID_1, "uicc-1.card"), HSS_DONE, "%s", fx.err);
	m2m_milenage m;
	m2m_sqn_usim u;
	usim_from_image("uicc-1.card", &m, &u);
	/* the card has accepted SQNs this AuC never made (e.g. from a restored database) */
	const uint64_t ahead = UINT64_C(500) << M2M_SQN_IND_BITS_DEFAULT;
	cr_assert_eq(m2m_sqn_usim_accept(&u, ahead), 0);
	m2m_aka_vector v[1];
	m2m_aka_usim_result res;
	cr_assert_eq(vectors(IMSI_1, 1, NULL, v), M2M_OK);
	cr_assert_eq(m2m_aka_usim_authenticate(&m, &u, v[0].av.rand, v[0].av.autn, &res), M2M_AKA_SYNC_FAILURE);
	hss_resync rs;
	memcpy(rs.rand, v[0].av.rand, 16);
	memcpy(rs.auts, res.auts, 14);

	hss_resync tampered = rs;
	tampered.auts[13] ^= 1;
	uint64_t before = stored_seq(IMSI_1);
	cr_assert_eq(vectors(IMSI_1, 1, &tampered, v), M2M_R_AUTHENTICATION_FAILED);
	cr_assert_eq(stored_seq(IMSI_1), before, "a tampered AUTS moved SQN");
	cr_assert_eq(audited(IMSI_1, "resync", "mno-v"), 0);

	cr_assert_eq(vectors(IMSI_1, 1, &rs, v), M2M_OK);
	cr_assert_gt(stored_seq(IMSI_1), 500, "SQN_HE did not move past SQN_MS");
	cr_assert_eq(m2m_aka_usim_authenticate(&m, &u, v[0].av.rand, v[0].av.autn, &res), M2M_AKA_OK,
		     "the vector after resync is refused");
	cr_assert_eq(audited(IMSI_1, "resync", "mno-v"), 1);
	m2m_milenage_clear(&m);
}

Test(hss, sqn_survives_reopening_the_database)
{
	cr_assert_eq(personalise(IMSI_1, ICCID_1, "uicc-1.card"), HSS_DONE, "%s", fx.err);
	m2m_milenage m;
	m2m_sqn_usim u;
	m2m_aka_usim_result res;
	usim_from_image("uicc-1.card", &m, &u);
	m2m_aka_vector first[1], second[1];
	cr_assert_eq(vectors(IMSI_1, 1, NULL, first), M2M_OK);
	cr_assert_eq(m2m_aka_usim_authenticate(&m, &u, first[0].av.rand, first[0].av.autn, &res), M2M_AKA_OK);
	reopen();
	cr_assert_eq(stored_seq(IMSI_1), 1);
	cr_assert_eq(vectors(IMSI_1, 1, NULL, second), M2M_OK);
	cr_assert_eq(stored_seq(IMSI_1), 2);
	/* IND moved on too: the card would take the second vector even if it reused the slot */
	cr_assert_eq(m2m_aka_usim_authenticate(&m, &u, second[0].av.rand, second[0].av.autn, &res), M2M_AKA_OK,
		     "the vector after a restart reused an old SQN");
	m2m_milenage_clear(&m);
}

/* ---- location and clone detection ------------------------------------------------------------- */

static hss_location location_of(const char *imsi, int *rc)
{
	hss_location loc;
	*rc = hss_location_get(db(), imsi, &loc);
	return loc;
}

Test(hss, clone_detection_suspends_on_concurrent_different_imeis)
{
	hss_located out;
	int rc;
	cr_assert_eq(personalise(IMSI_1, ICCID_1, "uicc-1.card"), HSS_DONE, "%s", fx.err);
	cr_assert_eq(locate("mno-v", IMSI_1, IMEI_1, &out), M2M_OK, "%s", out.why);
	cr_assert_str_eq(out.cancel_at, "");
	cr_assert_str_eq(out.profile.imei_lock, IMEI_1);
	cr_assert_str_eq(out.profile.apns[0], HSS_DEFAULT_APN);
	/* the same device attaching again is no clone, even when it reports its IMEISV */
	cr_assert_eq(locate("mno-v", IMSI_1, IMEI_1, &out), M2M_OK);
	cr_assert_eq(locate("mno-v", IMSI_1, "3569380356438001", &out), M2M_OK);
	cr_assert_eq(state_of(IMSI_1), HSS_ACTIVE);
	cr_assert_eq(locate("mno-v", IMSI_1, IMEI_2, &out), M2M_R_SUBSCRIBER_SUSPENDED);
	cr_assert(out.keep, "the suspension must be kept, not rolled back");
	cr_assert_str_eq(out.cancel_at, "mno-v");
	cr_assert_eq(out.cancel_cause, M2M_CANCEL_WITHDRAWN);
	cr_assert_eq(state_of(IMSI_1), HSS_SUSPENDED);
	location_of(IMSI_1, &rc);
	cr_assert_eq(rc, 1, "the cancelled location is still recorded");
	cr_assert_eq(audited(IMSI_1, "clone", "mno-v"), 1);
	cr_assert_eq(audited(IMSI_1, "suspend", "mno-v"), 1);
	hss_outcome r;
	char *text = captured(hss_show, IMSI_1, &r);
	cr_assert_not_null(strstr(text, "clone"), "%s", text);
	free(text);
	/* until the operator resumes it, the genuine card is refused too */
	cr_assert_eq(locate("mno-v", IMSI_1, IMEI_1, &out), M2M_R_SUBSCRIBER_SUSPENDED);
	cr_assert(!out.keep);
	cr_assert_eq(hss_resume(db(), IMSI_1, "admin", fx.err, sizeof fx.err), HSS_DONE);
	cr_assert_eq(locate("mno-v", IMSI_1, IMEI_1, &out), M2M_OK);
}

Test(hss, clone_policy_log_only_audits)
{
	hss_located out;
	int rc;
	fx.h->settings.clone_policy = HSS_CLONE_LOG;
	cr_assert_eq(add_keyed(IMSI_1), HSS_DONE);
	cr_assert_eq(locate("mno-v", IMSI_1, IMEI_1, &out), M2M_OK);
	cr_assert_eq(locate("mno-w", IMSI_1, IMEI_2, &out), M2M_OK, "%s", out.why);
	cr_assert_eq(state_of(IMSI_1), HSS_ACTIVE);
	cr_assert_eq(audited(IMSI_1, "clone", "mno-w"), 1);
	cr_assert_str_eq(out.cancel_at, "mno-v");
	hss_location loc = location_of(IMSI_1, &rc);
	cr_assert_eq(rc, 0);
	cr_assert_str_eq(loc.imei, IMEI_2);
}

Test(hss, a_move_cancels_the_old_location_and_purge_clears_only_its_own)
{
	hss_located out;
	int rc, cleared;
	cr_assert_eq(add_keyed(IMSI_1), HSS_DONE);
	cr_assert_eq(locate("mno-v", IMSI_1, IMEI_1, &out), M2M_OK);
	cr_assert_eq(locate("mno-w", IMSI_1, IMEI_1, &out), M2M_OK);
	cr_assert_str_eq(out.cancel_at, "mno-v");
	cr_assert_eq(out.cancel_cause, M2M_CANCEL_ATTACHED_ELSEWHERE);
	cr_assert_eq(hss_purge_at(fx.h, "mno-v", IMSI_1, &cleared), M2M_OK);
	cr_assert_eq(cleared, 0, "a late purge from the old network cleared the new location");
	hss_location loc = location_of(IMSI_1, &rc);
	cr_assert_str_eq(loc.network, "mno-w");
	cr_assert_eq(hss_purge_at(fx.h, "mno-w", IMSI_1, &cleared), M2M_OK);
	cr_assert_eq(cleared, 1);
	location_of(IMSI_1, &rc);
	cr_assert_eq(rc, 1);
	cr_assert_eq(audited(IMSI_1, "purge", "mno-w"), 1);
	cr_assert_eq(hss_purge_at(fx.h, "mno-w", IMSI_2, &cleared), M2M_R_NOT_FOUND);
	/* after a purge another device may use the card: no clone */
	cr_assert_eq(locate("mno-v", IMSI_1, IMEI_2, &out), M2M_OK);
}

/* Alternative 3b: the IMSIs attached with a device, and a card's subscription ended at once. */
Test(hss, a_device_finds_its_imsi_and_a_deactivation_erases_the_card)
{
	hss_located out;
	char at[4][HSS_IMSI_MAX + 1];
	int rc;
	cr_assert_eq(personalise(IMSI_1, ICCID_1, "uicc-1.card"), HSS_DONE, "%s", fx.err);
	cr_assert_eq(add_keyed(IMSI_2), HSS_DONE);
	cr_assert_eq(locate("mno-v", IMSI_1, "3569380356438001", &out), M2M_OK, "%s", out.why);  /* its IMEISV */
	cr_assert_eq(locate("mno-v", IMSI_2, IMEI_2, &out), M2M_OK, "%s", out.why);
	cr_assert_eq(hss_imsis_at_device(db(), IMEI_1, at, 4), 1);
	cr_assert_str_eq(at[0], IMSI_1);
	cr_assert_eq(hss_imsis_at_device(db(), IMEI_2, at, 4), 1);
	cr_assert_str_eq(at[0], IMSI_2);
	cr_assert_eq(hss_imsis_at_device(db(), "353456789012347", at, 4), 0);
	cr_assert_eq(hss_suspend(db(), IMSI_2, "admin", fx.err, sizeof fx.err), HSS_DONE);
	cr_assert_eq(hss_imsis_at_device(db(), IMEI_2, at, 4), 0, "only active subscribers");
	cr_assert_gt(count_rows("SELECT count(*) FROM ota_keyset WHERE iccid = '" ICCID_1 "'"), 0);
	for (int i = 0; i < 2; i++) {  /* the second time: already deleted, nothing more to do */
		cr_assert_eq(m2m_store_begin(db()), 0);
		cr_assert_eq(hss_deactivate_in(db(), IMSI_1, ICCID_1, "dpf", "moved to mno-b", fx.err, sizeof fx.err), HSS_DONE,
			     "%s", fx.err);
		cr_assert_eq(m2m_store_commit(db()), 0);
	}
	cr_assert_eq(state_of(IMSI_1), HSS_DELETED);
	cr_assert_eq(count_rows("SELECT count(*) FROM hss_subscriber WHERE imsi = '" IMSI_1 "' AND (k_opc_sealed IS NOT NULL"
				" OR card_keys_sealed IS NOT NULL)"), 0, "the keys are erased, not flagged");
	location_of(IMSI_1, &rc);
	cr_assert_eq(rc, 1, "the location is purged");
	cr_assert_eq(count_rows("SELECT count(*) FROM ota_keyset WHERE iccid = '" ICCID_1 "'"), 0);
	cr_assert_eq(audited(IMSI_1, "delete", "dpf"), 1);
	cr_assert_eq(hss_deactivate_in(db(), IMSI_3, ICCID_1, "dpf", "moved", fx.err, sizeof fx.err), HSS_FAILED);
	cr_assert(strstr(fx.err, "no such subscriber"), "%s", fx.err);
}

/* ---- settings --------------------------------------------------------------------------------- */

static int read_settings(const char *group_text, hss_settings *out, char *error, size_t len)
{
	char path[256], key_path[256];
	path_in_dir(key_path, sizeof key_path, "mno.storage");
	FILE *f = fopen(key_path, "w");
	fputs("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n", f);
	fclose(f);
	path_in_dir(path, sizeof path, "mno.conf");
	f = fopen(path, "w");
	fprintf(f, group_text, key_path);
	fclose(f);
	m2m_conf c = {0};
	cr_assert_eq(m2m_conf_load(&c, path), 0, "%s", c.error);
	hss_settings_read(&c, config_lookup(&c.cfg, "mno"), out);
	snprintf(error, len, "%s", c.error);
	int failed = c.failed;
	m2m_conf_free(&c);
	return failed;
}

Test(hss, settings_are_checked)
{
	hss_settings s;
	char error[768];
	cr_assert_eq(read_settings("mno = { mode = \"home\"; plmn = \"001001\"; storage_key_file = \"%s\"; };", &s, error,
				   sizeof error),
		     0, "%s", error);
	cr_assert_str_eq(s.plmn, "001001");
	cr_assert_eq(s.mnc_length, 3);
	cr_assert_eq(s.clone_policy, HSS_CLONE_SUSPEND);
	cr_assert_eq(s.storage_key[31], 0xff);
	static const char *const bad[] = {
		"mno = { mode = \"home\"; plmn = \"00101\"; storage_key_file = \"%s\"; clone_polcy = \"log\"; };",
		"mno = { mode = \"home\"; plmn = \"0010\"; storage_key_file = \"%s\"; };",
		"mno = { mode = \"home\"; plmn = \"00101\"; storage_key_file = \"%s\"; clone_policy = \"ignore\"; };",
		"mno = { mode = \"home\"; plmn = \"00101\"; storage_key_file = \"%s.missing\"; };",
		"mno = { mode = \"home\"; storage_key_file = \"%s\"; };",
	};
	static const char *const why[] = {"mno.clone_polcy: unknown setting", "mno.plmn", "mno.clone_policy",
					  "cannot read", "plmn"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cr_assert_eq(read_settings(bad[i], &s, error, sizeof error), 1, "accepted: %s", bad[i]);
		cr_assert_not_null(strstr(error, why[i]), "%s", error);
	}
}

/* ---- the protocol over real nodes -------------------------------------------------------------- */

#define VNOS 2
static const char *const vno_ids[VNOS] = {"mno-v", "mno-w"};

typedef struct net {
	m2m_node *hss, *vno[VNOS], *drf;
	int replies, cancels;
	int last_type;
	m2m_reason last_reason;
	int nvectors;
	m2m_aka_vector v;         /* the first vector of the last authInfoResponse */
	char lock[HSS_IMEI_MAX + 1];
	int napns, cs;
	int cancel_cause;
	char cancelled_at[M2M_ENTITY_MAX + 1];
	/* treTrigger (Alternative 3b): how many each network got, how it answers, the ack's changeId */
	int triggers[VNOS];
	m2m_reason trigger_refusal;
	uint8_t change_id[16];
} net;

static net nx;

static void node_conf(m2m_node_conf *c, const char *id, const char *secret)
{
	memset(c, 0, sizeof *c);
	snprintf(c->entity, sizeof c->entity, "%s", id);
	snprintf(c->bind, sizeof c->bind, "ipc://%s/%s.sock", fx.dir, id);
	snprintf(c->secret_key, sizeof c->secret_key, "%s", secret);
	c->timeout_ms = 500;
	c->retries = 1;
}

static void add_peer(m2m_node_conf *c, const char *id, const char *pub)
{
	m2m_peer_conf *p = &c->peers[c->npeers++];
	snprintf(p->id, sizeof p->id, "%s", id);
	snprintf(p->endpoint, sizeof p->endpoint, "ipc://%s/%s.sock", fx.dir, id);
	snprintf(p->public_key, sizeof p->public_key, "%s", pub);
}

static void serve_hss(m2m_node *n, m2m_request *req, void *arg)
{
	hss_serve(fx.h, req);
}

static const uint8_t vno_change_id[16] = {0xC4, 0xA2, 0x3B};

/* A visited network's answer to treTrigger: the device's ack, or nx.trigger_refusal. */
static void serve_trigger(m2m_node *n, m2m_request *req, int vno)
{
	nx.triggers[vno]++;
	if (nx.trigger_refusal) {
		m2m_refuse(n, req, nx.trigger_refusal, "IMSI not attached here");
		return;
	}
	ta_reply_change_ack(n, req, M2M_MSG_TRE_TRIGGER_ACK, vno_change_id);
}

/* A visited network's end: it acknowledges every cancelLocation (and treTrigger, above). */
static void serve_vno(m2m_node *n, m2m_request *req, void *arg)
{
	const M2M_CANCEL_LOCATION *c = req->env.body;
	if (req->env.type == M2M_MSG_TRE_TRIGGER) {
		serve_trigger(n, req, (int)(intptr_t)arg);
		return;
	}
	if (req->env.type != M2M_MSG_CANCEL_LOCATION) {
		m2m_refuse(n, req, M2M_R_UNEXPECTED_MESSAGE, "test network");
		return;
	}
	nx.cancels++;
	nx.cancel_cause = (int)ASN1_ENUMERATED_get(c->cause);
	snprintf(nx.cancelled_at, sizeof nx.cancelled_at, "%s", m2m_node_entity(n));
	ASN1_NULL *nothing = ASN1_NULL_new();
	m2m_reply(n, req, M2M_MSG_CANCEL_LOCATION_ACK, nothing);
	ASN1_NULL_free(nothing);
}

/* The HSS, the visited networks and the registration operator "drf" (at index VNOS + 1). */
static void start_network(void)
{
	char pub[VNOS + 2][M2M_KEY_Z85], sec[VNOS + 2][M2M_KEY_Z85], err[256] = "";
	m2m_node_conf hc, vc;
	memset(&nx, 0, sizeof nx);
	for (int i = 0; i <= VNOS + 1; i++)
		cr_assert_eq(zmq_curve_keypair(pub[i], sec[i]), 0);
	node_conf(&hc, "mno-a", sec[VNOS]);
	for (int i = 0; i < VNOS; i++) {
		add_peer(&hc, vno_ids[i], pub[i]);
		node_conf(&vc, vno_ids[i], sec[i]);
		add_peer(&vc, "mno-a", pub[VNOS]);
		nx.vno[i] = m2m_node_new(&vc, NULL, err, sizeof err);
		cr_assert_not_null(nx.vno[i], "%s", err);
		m2m_node_set_dispatch(nx.vno[i], serve_vno, (void *)(intptr_t)i);
	}
	add_peer(&hc, "drf", pub[VNOS + 1]);
	node_conf(&vc, "drf", sec[VNOS + 1]);
	add_peer(&vc, "mno-a", pub[VNOS]);
	nx.drf = m2m_node_new(&vc, NULL, err, sizeof err);
	cr_assert_not_null(nx.drf, "%s", err);
	nx.hss = m2m_node_new(&hc, db(), err, sizeof err);
	cr_assert_not_null(nx.hss, "%s", err);
	m2m_node_set_dispatch(nx.hss, serve_hss, NULL);
	fx.h->node = nx.hss;
}

static void stop_network(void)
{
	for (int i = 0; i < VNOS; i++)
		m2m_node_free(nx.vno[i]);
	m2m_node_free(nx.drf);
	m2m_node_free(nx.hss);
	fx.h->node = NULL;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void pump_until(const int *done, int want)
{
	int64_t end = now_ms() + 5000;
	while (*done < want && now_ms() < end) {
		m2m_node_poll(nx.hss, 0);
		m2m_node_poll(nx.drf, 0);
		for (int i = 0; i < VNOS; i++)
			m2m_node_poll(nx.vno[i], 2);
	}
	cr_assert_geq(*done, want, "no answer within 5 s");
}

static void keep_response(const m2m_envelope *resp)
{
	if (resp->type == M2M_MSG_AUTH_INFO_RESPONSE) {
		const M2M_AUTH_INFO_RESPONSE *r = resp->body;
		const M2M_AUTH_VECTOR *av = sk_M2M_AUTH_VECTOR_value(r, 0);
		nx.nvectors = sk_M2M_AUTH_VECTOR_num(r);
		memcpy(nx.v.av.rand, ASN1_STRING_get0_data(av->rand), 16);
		memcpy(nx.v.av.autn, ASN1_STRING_get0_data(av->autn), 16);
		memcpy(nx.v.av.xres, ASN1_STRING_get0_data(av->xres), 8);
	} else if (resp->type == M2M_MSG_TRE_TRIGGER_ACK) {
		const M2M_CHANGE_ACK *a = resp->body;
		if (ASN1_STRING_length(a->change_id) == 16)
			memcpy(nx.change_id, ASN1_STRING_get0_data(a->change_id), 16);
	} else if (resp->type == M2M_MSG_UPDATE_LOCATION_ACK) {
		const M2M_SUBSCRIPTION_PROFILE *p = resp->body;
		nx.napns = sk_ASN1_UTF8STRING_num(p->allowed_apns);
		nx.cs = p->cs_allowed;
		if (p->imei_lock)
			m2m_digits(p->imei_lock, nx.lock, sizeof nx.lock, 14, 16);
	}
}

static void on_response(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
	nx.replies++;
	nx.last_type = resp ? resp->type : -1;
	nx.last_reason = reason;
	if (resp && resp->type == M2M_MSG_ERROR)
		nx.last_reason = (m2m_reason)ASN1_ENUMERATED_get(((M2M_ERROR_REPORT *)resp->body)->reason);
	else if (resp)
		keep_response(resp);
}

/* Sends a request from a node of the network and waits for its answer. */
static void ask_from(m2m_node *from, int type, void *body, ASN1_ITEM_EXP *free_item)
{
	int want = nx.replies + 1;
	cr_assert_eq(m2m_call(from, "mno-a", type, body, on_response, NULL), 0);
	ASN1_item_free(body, free_item());
	pump_until(&nx.replies, want);
}

/* ... from a visited network. */
static void ask(int vno, int type, void *body, ASN1_ITEM_EXP *free_item)
{
	ask_from(nx.vno[vno], type, body, free_item);
}

static void ask_auth_info(int vno, const char *serving, const hss_resync *rs)
{
	M2M_AUTH_INFO_REQUEST *q = M2M_AUTH_INFO_REQUEST_new();
	m2m_set_digits(&q->imsi, IMSI_1);
	m2m_set_str(q->serving_network, serving);
	q->num_vectors = 1;
	if (rs) {
		q->resync = M2M_RESYNC_new();
		ASN1_OCTET_STRING_set(q->resync->rand, rs->rand, 16);
		ASN1_OCTET_STRING_set(q->resync->auts, rs->auts, 14);
	}
	ask(vno, M2M_MSG_AUTH_INFO_REQUEST, q, ASN1_ITEM_ref(M2M_AUTH_INFO_REQUEST));
}

static void ask_update_location(int vno, const char *imei)
{
	M2M_UPDATE_LOCATION *q = M2M_UPDATE_LOCATION_new();
	m2m_set_digits(&q->imsi, IMSI_1);
	m2m_set_digits(&q->imei, imei);
	m2m_set_str(q->serving_network, vno_ids[vno]);
	ask(vno, M2M_MSG_UPDATE_LOCATION, q, ASN1_ITEM_ref(M2M_UPDATE_LOCATION));
}

static void ask_purge(int vno)
{
	M2M_PURGE *q = M2M_PURGE_new();
	m2m_set_digits(&q->imsi, IMSI_1);
	m2m_set_str(q->serving_network, vno_ids[vno]);
	ask(vno, M2M_MSG_PURGE, q, ASN1_ITEM_ref(M2M_PURGE));
}

Test(hss, protocol_auth_info_and_refusals)
{
	cr_assert_eq(personalise(IMSI_1, ICCID_1, "uicc-1.card"), HSS_DONE, "%s", fx.err);
	start_network();
	ask_auth_info(0, "mno-v", NULL);
	cr_assert_eq(nx.last_type, M2M_MSG_AUTH_INFO_RESPONSE, "reason %d", nx.last_reason);
	cr_assert_eq(nx.nvectors, 1);
	cr_assert_eq(stored_seq(IMSI_1), 1, "the SQN was not stored with the reply");
	m2m_milenage m;
	m2m_sqn_usim u;
	m2m_aka_usim_result res;
	usim_from_image("uicc-1.card", &m, &u);
	cr_assert_eq(m2m_aka_usim_authenticate(&m, &u, nx.v.av.rand, nx.v.av.autn, &res), M2M_AKA_OK);
	cr_assert_eq(memcmp(res.res, nx.v.av.xres, 8), 0);

	/* a network asking on behalf of another */
	ask_auth_info(0, "mno-w", NULL);
	cr_assert_eq(nx.last_reason, M2M_R_NOT_AUTHORISED);
	/* a resync whose AUTS does not verify changes nothing */
	hss_resync rs = {{0}, {0}};
	memcpy(rs.rand, nx.v.av.rand, 16);
	ask_auth_info(0, "mno-v", &rs);
	cr_assert_eq(nx.last_reason, M2M_R_AUTHENTICATION_FAILED);
	cr_assert_eq(stored_seq(IMSI_1), 1);
	/* what an HSS does not serve */
	M2M_ATTACH_REQUEST *a = M2M_ATTACH_REQUEST_new();
	m2m_set_digits(&a->imsi, IMSI_1);
	m2m_set_digits(&a->imei, IMEI_1);
	m2m_set_str(a->apn, "m2m.meter");
	ask(0, M2M_MSG_ATTACH_REQUEST, a, ASN1_ITEM_ref(M2M_ATTACH_REQUEST));
	cr_assert_eq(nx.last_reason, M2M_R_UNEXPECTED_MESSAGE);
	/* a suspended subscriber gets no vectors */
	cr_assert_eq(hss_suspend(db(), IMSI_1, "admin", fx.err, sizeof fx.err), HSS_DONE);
	ask_auth_info(0, "mno-v", NULL);
	cr_assert_eq(nx.last_reason, M2M_R_SUBSCRIBER_SUSPENDED);
	m2m_milenage_clear(&m);
	stop_network();
}

Test(hss, protocol_location_cancel_and_purge)
{
	cr_assert_eq(personalise(IMSI_1, ICCID_1, "uicc-1.card"), HSS_DONE, "%s", fx.err);
	start_network();
	ask_update_location(0, IMEI_1);
	cr_assert_eq(nx.last_type, M2M_MSG_UPDATE_LOCATION_ACK, "reason %d", nx.last_reason);
	cr_assert_eq(nx.napns, 1);
	cr_assert_eq(nx.cs, 0);
	cr_assert_str_eq(nx.lock, IMEI_1);
	/* the device moves to the other network: the first is told */
	ask_update_location(1, IMEI_1);
	cr_assert_eq(nx.last_type, M2M_MSG_UPDATE_LOCATION_ACK);
	pump_until(&nx.cancels, 1);
	cr_assert_str_eq(nx.cancelled_at, "mno-v");
	cr_assert_eq(nx.cancel_cause, M2M_CANCEL_ATTACHED_ELSEWHERE);
	int acked = 0;
	for (int64_t end = now_ms() + 3000; !acked && now_ms() < end;) {
		m2m_node_poll(nx.hss, 5);
		m2m_node_poll(nx.vno[0], 0);
		acked = audited(IMSI_1, "cancelLocationAck", "mno-v");
	}
	cr_assert_eq(acked, 1, "the ack of cancelLocation was not handled");
	/* a purge from the network it left changes nothing; its own clears it */
	ask_purge(0);
	cr_assert_eq(nx.last_type, M2M_MSG_PURGE_ACK);
	cr_assert_eq(count_rows("SELECT count(*) FROM hss_location"), 1);
	ask_purge(1);
	cr_assert_eq(nx.last_type, M2M_MSG_PURGE_ACK);
	cr_assert_eq(count_rows("SELECT count(*) FROM hss_location"), 0);
	stop_network();
}

/* ---- treTrigger (Alternative 3b): routed to the network serving the IMSI ------------------------ */

/* treTrigger for imsi from the registration operator (drf 1) or the visited network mno-v. */
static void ask_trigger(int from_drf, const char *imsi)
{
	M2M_TRE_TRIGGER *q = M2M_TRE_TRIGGER_new();
	m2m_set_digits(&q->imsi, imsi);
	ASN1_OCTET_STRING_set(q->trigger->cms, (const unsigned char *)"\x30\x03\x02\x01\x07", 5);
	ask_from(from_drf ? nx.drf : nx.vno[0], M2M_MSG_TRE_TRIGGER, q, ASN1_ITEM_ref(M2M_TRE_TRIGGER));
}

static void expect_trigger_refused(m2m_reason want, const char *what)
{
	cr_assert_eq(nx.last_type, M2M_MSG_ERROR, "%s: answered %d", what, nx.last_type);
	cr_assert_eq(nx.last_reason, want, "%s: %s, expected %s", what, m2m_reason_name(nx.last_reason),
		     m2m_reason_name(want));
}

/* IMSI_1 on a card, the network up, and IMSI_1 attached through the visited network vno. */
static void located_at(int vno)
{
	cr_assert_eq(personalise(IMSI_1, ICCID_1, "uicc-1.card"), HSS_DONE, "%s", fx.err);
	start_network();
	ask_update_location(vno, IMEI_1);
	cr_assert_eq(nx.last_type, M2M_MSG_UPDATE_LOCATION_ACK);
}

Test(hss, protocol_tre_trigger_goes_to_the_serving_network)
{
	located_at(1);
	snprintf(fx.h->drf, sizeof fx.h->drf, "drf");
	int rows = count_rows("SELECT (SELECT count(*) FROM hss_location) + (SELECT count(*) FROM hss_audit)");
	ask_trigger(1, IMSI_1);
	cr_assert_eq(nx.last_type, M2M_MSG_TRE_TRIGGER_ACK, "answered %d (%s)", nx.last_type,
		     m2m_reason_name(nx.last_reason));
	cr_assert_arr_eq(nx.change_id, vno_change_id, 16, "the ack changed on the way");
	cr_assert_eq(nx.triggers[1], 1, "the serving network mno-w did not get it");
	cr_assert_eq(nx.triggers[0], 0, "another network got it");
	cr_assert_eq(count_rows("SELECT (SELECT count(*) FROM hss_location) + (SELECT count(*) FROM hss_audit)"), rows,
		     "the relay stored something");
	/* the network's refusal is passed on */
	nx.trigger_refusal = M2M_R_NOT_ATTACHED;
	ask_trigger(1, IMSI_1);
	expect_trigger_refused(M2M_R_NOT_ATTACHED, "the serving network's refusal");
	stop_network();
}

Test(hss, protocol_tre_trigger_refusals)
{
	located_at(0);
	ask_trigger(1, IMSI_1);
	expect_trigger_refused(M2M_R_NOT_AUTHORISED, "an operator without a registration operator");
	snprintf(fx.h->drf, sizeof fx.h->drf, "drf");
	ask_trigger(0, IMSI_1);
	expect_trigger_refused(M2M_R_NOT_AUTHORISED, "a visited network");
	ask_trigger(1, IMSI_3);
	expect_trigger_refused(M2M_R_NOT_FOUND, "an IMSI this HSS does not know");
	ask_trigger(1, "12345");
	expect_trigger_refused(M2M_R_BAD_BODY, "a 5-digit IMSI");
	ask_purge(0);
	cr_assert_eq(nx.last_type, M2M_MSG_PURGE_ACK);
	ask_trigger(1, IMSI_1);
	expect_trigger_refused(M2M_R_NOT_ATTACHED, "an IMSI attached nowhere");
	cr_assert_eq(nx.triggers[0] + nx.triggers[1], 0, "a refused trigger was relayed");
	stop_network();
}

Test(hss, protocol_clone_refusal_keeps_the_suspension)
{
	cr_assert_eq(personalise(IMSI_1, ICCID_1, "uicc-1.card"), HSS_DONE, "%s", fx.err);
	start_network();
	ask_update_location(0, IMEI_1);
	cr_assert_eq(nx.last_type, M2M_MSG_UPDATE_LOCATION_ACK);
	ask_update_location(0, IMEI_2);
	cr_assert_eq(nx.last_type, M2M_MSG_ERROR);
	cr_assert_eq(nx.last_reason, M2M_R_SUBSCRIBER_SUSPENDED);
	pump_until(&nx.cancels, 1);
	cr_assert_eq(nx.cancel_cause, M2M_CANCEL_WITHDRAWN);
	cr_assert_eq(state_of(IMSI_1), HSS_SUSPENDED, "the refusal rolled the suspension back");
	cr_assert_eq(audited(IMSI_1, "clone", "mno-v"), 1);
	/* an ordinary refusal changes nothing: a bad IMEI */
	cr_assert_eq(hss_resume(db(), IMSI_1, "admin", fx.err, sizeof fx.err), HSS_DONE);
	ask_update_location(0, "12");
	cr_assert_eq(nx.last_reason, M2M_R_BAD_BODY);
	cr_assert_eq(count_rows("SELECT count(*) FROM hss_location"), 0);
	stop_network();
}

/* ---- mno-admin as a process -------------------------------------------------------------------- */

static void write_admin_config(const char *mode, char *conf, size_t len)
{
	char key[256];
	path_in_dir(key, sizeof key, "mno-a.storage");
	FILE *f = fopen(key, "w");
	char hex[65];
	m2m_hex(settings()->storage_key, 32, hex);
	fputs(hex, f);
	fclose(f);
	path_in_dir(conf, len, "mno-a.conf");
	f = fopen(conf, "w");
	fprintf(f,
		"entity = \"mno-a\";\ndatabase = \"%s\";\n"
		"transport = { bind = \"ipc://%s/mno-a.sock\"; secret_key_file = \"%s/mno-a.key\"; };\n"
		"mno = { mode = \"%s\"; plmn = \"" PLMN "\"; storage_key_file = \"%s\"; };\n",
		fx.db_path, fx.dir, fx.dir, mode, key);
	fclose(f);
}

/* Runs mno-admin with args; its exit status, and its stdout in out (when given). */
static int admin(const char *conf, const char *args, char **out)
{
	const char *bin = getenv("MNO_ADMIN");
	cr_assert_not_null(bin, "MNO_ADMIN names the mno-admin binary (set by meson test)");
	char cmd[1024], out_path[256];
	path_in_dir(out_path, sizeof out_path, "admin.out");
	snprintf(cmd, sizeof cmd, "%s %s%s %s >%s 2>%s.err", bin, conf ? "-c " : "", conf ? conf : "", args, out_path,
		 out_path);
	int status = system(cmd);
	cr_assert(WIFEXITED(status), "mno-admin did not exit: %s", cmd);
	if (out) {
		size_t len;
		*out = ta_read(out_path, &len);
	}
	return WEXITSTATUS(status);
}

Test(hss, mno_admin_exit_statuses)
{
	char conf[256], *out;
	write_admin_config("home", conf, sizeof conf);
	m2m_store_close(fx.h->db);  /* the tool works on the same file */
	fx.h->db = NULL;
	cr_assert_eq(admin(NULL, "list", NULL), 2, "no -c");
	cr_assert_eq(admin(conf, "", NULL), 2, "no command");
	cr_assert_eq(admin(conf, "frobnicate", NULL), 2, "unknown command");
	cr_assert_eq(admin(conf, "show", NULL), 2, "show without IMSI");
	cr_assert_eq(admin(conf, "add --k " K_HEX, NULL), 2, "add without --imsi");
	cr_assert_eq(admin(conf, "add --imsi " IMSI_1 " --bogus", NULL), 2, "unknown option");
	cr_assert_eq(admin(conf, "add --imsi 12x45678", NULL), 2, "malformed IMSI");
	cr_assert_eq(admin(conf, "show " IMSI_1, NULL), 1, "unknown IMSI");
	cr_assert_eq(admin(conf, "suspend " IMSI_1, NULL), 1, "unknown IMSI");
	cr_assert_eq(admin(conf, "add --imsi " IMSI_1 " --k " K_HEX " --opc " OPC_HEX " --apn m2m.meter --cs", NULL), 0);
	cr_assert_eq(admin(conf, "add --imsi " IMSI_1 " --k " K_HEX " --opc " OPC_HEX, NULL), 1, "added twice");
	cr_assert_eq(admin(conf, "suspend " IMSI_1, NULL), 0);
	cr_assert_eq(admin(conf, "show " IMSI_1, &out), 0);
	cr_assert_not_null(strstr(out, "state:     suspended"), "%s", out);
	cr_assert_not_null(strstr(out, "admin suspend"), "%s", out);
	cr_assert_null(strstr(out, K_HEX));
	cr_assert_null(strstr(out, OPC_HEX));
	free(out);
	cr_assert_eq(admin(conf, "resume " IMSI_1, NULL), 0);
	cr_assert_eq(admin(conf, "resume " IMSI_1, NULL), 1, "resume of an active subscriber");
	cr_assert_eq(admin(conf, "lock " IMSI_1, NULL), 2, "lock without --days");
	cr_assert_eq(admin(conf, "lock --days 3", NULL), 2, "lock without IMSI");
	cr_assert_eq(admin(conf, "lock " IMSI_1 " --days 0", NULL), 2, "zero days");
	cr_assert_eq(admin(conf, "lock " IMSI_2 " --days 3", NULL), 1, "unknown IMSI");
	cr_assert_eq(admin(conf, "unlock " IMSI_1, NULL), 1, "not locked");
	cr_assert_eq(admin(conf, "lock " IMSI_1 " --days 3", &out), 0);
	cr_assert_not_null(strstr(out, "contract lock for 3 day(s)"), "%s", out);
	free(out);
	cr_assert_eq(admin(conf, "show " IMSI_1, &out), 0);
	cr_assert_not_null(strstr(out, "lock:      contract locked until"), "%s", out);
	free(out);
	cr_assert_eq(admin(conf, "unlock " IMSI_1, NULL), 0);
	cr_assert_eq(admin(conf, "list", &out), 0);
	cr_assert_eq(strncmp(out, IMSI_1 " active", strlen(IMSI_1) + 7), 0, "%s", out);
	free(out);
	char args[512];
	snprintf(args, sizeof args, "personalise --iccid " ICCID_1 " --imsi " IMSI_2 " --out %s/uicc-2.card", fx.dir);
	cr_assert_eq(admin(conf, args, NULL), 0);
	cr_assert_eq(admin(conf, args, NULL), 1, "personalised twice");
	cr_assert_eq(admin(conf, "import /nonexistent.csv", NULL), 1);
	write_admin_config("visited", conf, sizeof conf);
	cr_assert_eq(admin(conf, "list", NULL), 2, "a visited operator's file");
	fx.h->db = open_db();
}
