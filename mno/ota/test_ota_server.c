/*
 * The OTA server's tests: personalisation's keysets and image fields, the job life cycle against a
 * serving network of the test's own (a node answering smsDeliver with a card built from lib/ota's
 * card side: it opens packets with the card's keys, checks counters, runs UPDATE/READ BINARY and
 * PUT KEY, and answers PoRs), counters persisted before sending, retries, refusals, a restart with
 * a job in flight, key rotation with a lost PoR, mno-admin's `ota` commands, and no key in clear.
 * The life cycle and the rotation also run against the real card engine (uicc/, made from the
 * image personalisation wrote), each SMS-DELIVER handed to it in an ENVELOPE as a terminal does.
 */
#include "ota/ota_impl.h"

#include "hss/hss_impl.h"
#include "hss/provision.h"
#include "schema.h"

#include "card.h"  /* uicc/: the real card engine */
#include "crypto/crypto.h"
#include "daemon/test_agency.h"
#include "ota/rfm.h"
#include "store/store.h"

#include <criterion/criterion.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#define PLMN "00101"
#define IMSI_1 "001010000000001"
#define ICCID_1 "8900101000000000019"
#define NETWORK "mno-v"
#define EF_IMSI_NEW "0809101010000000f2"  /* 08, then 001010000000002 in BCD with the parity nibble */
#define UPDATE_IMSI "00d6000009" EF_IMSI_NEW
#define READ_IMSI "00b0000009"

/* ---- the card, as lib/ota's card side runs it ------------------------------------------------- */

enum { RFM, ISD };

typedef struct card {
	m2m_ota_keyset keys;  /* kvn 1, on both TARs */
	uint64_t counter[2];  /* per TAR, as the card keeps them */
	uint8_t ef_imsi[9];
	m2m_sms_concat concat;
	uint64_t seen[64];    /* the counters of the packets it accepted */
	int nseen;
} card;

typedef enum net_mode { NET_OK, NET_NOT_ATTACHED, NET_SILENT, NET_LOSE_POR, NET_FORGE_OK } net_mode;

static struct {
	char dir[64], db_path[128];
	sqlite3 *db;
	sqlite3 *observer;  /* another connection: sees only what is committed */
	hss_settings hs;
	ota_context *ota;
	ta_keypair home_key, net_key;
	m2m_node *home, *net;
	card card;
	int real;           /* the packets go to the real card engine below, not to card */
	sqlite3 *uicc_db;
	uicc_card uicc;
	net_mode modes[8];  /* what the network does with its next messages; then NET_OK */
	int nmodes, messages, packets, stored_before;
	char err[512];
} fx;

static int tar_index(const uint8_t tar[3])
{
	return !memcmp(tar, OTA_TAR_USIM_RFM, 3) ? RFM : !memcmp(tar, OTA_TAR_ISD, 3) ? ISD : -1;
}

/* One command of a script: UPDATE and READ BINARY of EF_IMSI on the RFM TAR, PUT KEY on the ISD. */
static uint16_t run_command(card *c, int t, const m2m_rfm_apdu *a, const m2m_ota_keyset *under, uint8_t *data,
			    size_t *dlen)
{
	size_t off = (size_t)a->p1 << 8 | a->p2;
	char err[128];
	*dlen = 0;
	if (t == RFM && a->ins == 0xD6 && a->data && off + a->lc <= sizeof c->ef_imsi) {
		memcpy(c->ef_imsi + off, a->data, a->lc);
		return 0x9000;
	}
	if (t == RFM && a->ins == 0xB0 && off + a->p3 <= sizeof c->ef_imsi) {
		memcpy(data, c->ef_imsi + off, a->p3);
		*dlen = a->p3;
		return 0x9000;
	}
	if (t == ISD && a->ins == 0xD8 && a->data) {
		m2m_ota_keyset next;
		if (m2m_rfm_put_key_parse(a->data, a->lc, &under->dek, &next, err, sizeof err))
			return 0x6A80;
		c->keys = next;
		return 0x9000;
	}
	return 0x6D00;
}

static void run_script(card *c, int t, const m2m_ota_command *cmd, const m2m_ota_keyset *under, uint8_t *out,
		       size_t *out_len)
{
	m2m_rfm_apdu a;
	size_t off = 0, dlen = 0;
	uint8_t executed = 0, data[256];
	uint16_t sw = 0x9000;
	while (sw == 0x9000 && m2m_rfm_script_next(cmd->data, cmd->len, &off, &a) == 1) {
		executed++;
		sw = run_command(c, t, &a, under, data, &dlen);
	}
	cr_assert_eq(m2m_rfm_response_build(executed, sw, data, dlen, out, 300, out_len), 0);
}

/* The card's answer to a whole command packet: the user data 02 71 00 + PoR (TS 31.115). */
static void card_receive(card *c, const uint8_t *pkt, size_t len, uint8_t *ud, size_t *ud_len)
{
	m2m_ota_header h;
	m2m_ota_command cmd;
	m2m_ota_response r = {.status = M2M_OTA_POR_OK};
	m2m_ota_keyset used = c->keys;  /* a PUT KEY changes c->keys; the PoR goes under these */
	uint8_t buf[M2M_OTA_PACKET_MAX], rdata[300], por[M2M_OTA_PACKET_MAX];
	size_t plen;
	char err[160];
	r.status = m2m_ota_command_header(pkt, len, &h);
	int t = tar_index(h.tar);
	memcpy(r.tar, h.tar, 3);
	if (r.status == M2M_OTA_POR_OK && t < 0)
		r.status = M2M_OTA_TAR_UNKNOWN;
	if (r.status == M2M_OTA_POR_OK && h.kic >> 4 != used.kvn)
		r.status = M2M_OTA_SECURITY_ERROR;
	if (r.status == M2M_OTA_POR_OK)
		r.status = m2m_ota_command_open(pkt, len, &used, &cmd, buf, sizeof buf);
	const m2m_ota_keyset *ks = r.status == M2M_OTA_POR_OK ? &used : NULL;  /* unprotected before that */
	if (ks) {
		r.counter = cmd.counter;
		r.status = m2m_ota_counter_check(h.spi.counter, c->counter[t], cmd.counter);
	}
	if (ks && r.status == M2M_OTA_POR_OK) {
		c->counter[t] = cmd.counter;
		c->seen[c->nseen++] = cmd.counter;
		run_script(c, t, &cmd, &used, rdata, &r.len);
		r.data = rdata;
	}
	cr_assert_eq(m2m_ota_response_build(&r, &h.spi, ks, por, sizeof por, &plen, err, sizeof err), 0, "%s", err);
	cr_assert_eq(m2m_sms_por_ud_build(por, plen, ud, M2M_SMS_UD_MAX, ud_len), 0);
}

/* ---- the serving network ---------------------------------------------------------------------- */

static void reply_report(m2m_node *n, m2m_request *req, const uint8_t *ud, size_t ud_len)
{
	M2M_SMS_REPORT *rep = M2M_SMS_REPORT_new();
	uint8_t tpdu[M2M_SMS_TPDU_MAX];
	size_t len;
	if (ud) {
		cr_assert_eq(m2m_sms_report_build(ud, ud_len, tpdu, sizeof tpdu, &len), 0);
		rep->tpdu = ASN1_OCTET_STRING_new();
		ASN1_OCTET_STRING_set(rep->tpdu, tpdu, (int)len);
	}
	m2m_reply(n, req, M2M_MSG_SMS_REPORT, rep);
	M2M_SMS_REPORT_free(rep);
}

/* The counter of the packet, and its job sent, are committed before the packet arrives. */
static void check_stored_before(const uint8_t *pkt, size_t len)
{
	m2m_ota_header h;
	m2m_ota_command cmd;
	uint8_t buf[M2M_OTA_PACKET_MAX];
	sqlite3_stmt *st;
	if (m2m_ota_command_header(pkt, len, &h) != M2M_OTA_POR_OK ||
	    m2m_ota_command_open(pkt, len, &fx.card.keys, &cmd, buf, sizeof buf) != M2M_OTA_POR_OK)
		return;  /* not under the card's keys: nothing to compare */
	cr_assert_eq(sqlite3_prepare_v2(fx.observer,
					"SELECT (SELECT counter FROM ota_keyset WHERE iccid = ?1 AND tar = ?2),"
					" (SELECT counter FROM ota_job WHERE iccid = ?1 AND state = 'sent')",
					-1, &st, NULL),
		     SQLITE_OK);
	sqlite3_bind_text(st, 1, ICCID_1, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, h.tar, 3, SQLITE_STATIC);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_eq((uint64_t)sqlite3_column_int64(st, 1), cmd.counter, "the job sent with that counter is committed");
	if (sqlite3_column_type(st, 0) != SQLITE_NULL)
		cr_assert_eq((uint64_t)sqlite3_column_int64(st, 0), cmd.counter, "the keyset's counter is committed");
	sqlite3_finalize(st);
	fx.stored_before++;
}

static void forge_unprotected_ok(const uint8_t *pkt, size_t len, uint8_t *ud, size_t *ud_len)
{
	m2m_ota_header h;
	m2m_ota_response r = {.status = M2M_OTA_POR_OK};
	uint8_t por[64];
	size_t plen;
	char err[128];
	cr_assert_eq(m2m_ota_command_header(pkt, len, &h), M2M_OTA_POR_OK);
	memcpy(r.tar, h.tar, 3);
	cr_assert_eq(m2m_ota_response_build(&r, &h.spi, NULL, por, sizeof por, &plen, err, sizeof err), 0, "%s", err);
	cr_assert_eq(m2m_sms_por_ud_build(por, plen, ud, M2M_SMS_UD_MAX, ud_len), 0);
}

/* The ME's part: the SMS-DELIVER in an ENVELOPE (SMS-PP download) to the card; the answer's data
 * (02 71 00 + PoR, or nothing for a segment that completes nothing) is the report's user data. */
static void real_card_receive(const ASN1_OCTET_STRING *tpdu, uint8_t *ud, size_t *ud_len)
{
	uint8_t apdu[UICC_APDU_MAX], resp[UICC_RESPONSE_MAX];
	size_t n, rlen = 0;
	memcpy(apdu, (const uint8_t[]){0x80, 0xC2, 0x00, 0x00}, 4);
	cr_assert_eq(m2m_sms_pp_download_build(ASN1_STRING_get0_data(tpdu), (size_t)ASN1_STRING_length(tpdu), apdu + 5,
					       UICC_APDU_MAX - 6, &n),
		     0);
	apdu[4] = (uint8_t)n;
	apdu[5 + n] = 0x00;
	uint16_t sw = uicc_apdu(&fx.uicc, apdu, 6 + n, resp, &rlen);
	cr_assert(sw == 0x9000 || (sw & 0xFF00) == 0x9100, "ENVELOPE answered %04X", sw);
	cr_assert_leq(rlen, M2M_SMS_UD_MAX);
	memcpy(ud, resp, rlen);
	*ud_len = rlen;
}

static void serve_net(m2m_node *n, m2m_request *req, void *arg)
{
	const M2M_SMS_DELIVER *d = req->env.body;
	m2m_sms_deliver sms;
	char imsi[16], err[128];
	uint8_t pkt[M2M_OTA_PACKET_MAX], ud[M2M_SMS_UD_MAX];
	size_t ud_len = 0;
	cr_assert_eq(req->env.type, M2M_MSG_SMS_DELIVER);
	net_mode mode = fx.messages < fx.nmodes ? fx.modes[fx.messages] : NET_OK;
	fx.messages++;
	cr_assert_eq(m2m_digits(d->imsi, imsi, sizeof imsi, 6, 15), 0);
	cr_assert_str_eq(imsi, IMSI_1);
	if (mode == NET_NOT_ATTACHED) {
		m2m_refuse(n, req, M2M_R_NOT_ATTACHED, "IMSI %s is not attached here", imsi);
		return;
	}
	if (mode == NET_SILENT) {
		m2m_defer(n, req);  /* never answered: the home's call times out */
		return;
	}
	cr_assert_eq(m2m_sms_deliver_parse(ASN1_STRING_get0_data(d->tpdu), (size_t)ASN1_STRING_length(d->tpdu), &sms,
					   err, sizeof err),
		     0, "%s", err);
	cr_assert_str_eq(sms.originator, PLMN, "the operator's OTA address");
	cr_assert_eq(sms.pid, M2M_SMS_PID_DATA_DOWNLOAD);
	int complete = m2m_sms_concat_add(&fx.card.concat, &sms);
	cr_assert_geq(complete, 0);
	size_t len = complete ? m2m_sms_concat_take(&fx.card.concat, pkt, sizeof pkt) : 0;
	if (len) {
		fx.packets++;
		check_stored_before(pkt, len);
	}
	if (fx.real)
		real_card_receive(d->tpdu, ud, &ud_len);
	else if (mode == NET_FORGE_OK && len)
		forge_unprotected_ok(pkt, len, ud, &ud_len);
	else if (len)
		card_receive(&fx.card, pkt, len, ud, &ud_len);
	/* else a segment that completes nothing: a report without user data */
	reply_report(n, req, mode == NET_LOSE_POR || !ud_len ? NULL : ud, ud_len);
}

/* ---- the world -------------------------------------------------------------------------------- */

static void endpoint(char *out, size_t len, const char *id)
{
	snprintf(out, len, "ipc://%s/%s.sock", fx.dir, id);
}

static void start_home(void)
{
	m2m_node_conf c = {.timeout_ms = 300, .retries = 0};
	char ep[128];
	snprintf(c.entity, sizeof c.entity, "mno-a");
	endpoint(c.bind, sizeof c.bind, "mno-a");
	snprintf(c.secret_key, sizeof c.secret_key, "%s", fx.home_key.sec);
	endpoint(ep, sizeof ep, NETWORK);
	ta_peer_add(&c, NETWORK, ep, fx.net_key.pub);
	fx.home = ta_node(&c, fx.db, NULL, NULL);
	ota_settings s = {.retry_first_s = 1, .retry_max_s = 1, .in_flight = 4};
	snprintf(s.address, sizeof s.address, PLMN);
	fx.ota = ota_context_new(&s, fx.hs.storage_key);
	fx.ota->node = fx.home;
	fx.ota->db = fx.db;
	cr_assert_geq(ota_server_resume(fx.ota), 0);
}

static void stop_home(void)
{
	ota_context_free(fx.ota);
	m2m_node_free(fx.home);
	fx.ota = NULL;
	fx.home = NULL;
}

static void start_net(void)
{
	m2m_node_conf c = {.timeout_ms = 300, .retries = 0};
	snprintf(c.entity, sizeof c.entity, NETWORK);
	endpoint(c.bind, sizeof c.bind, NETWORK);
	snprintf(c.secret_key, sizeof c.secret_key, "%s", fx.net_key.sec);
	ta_peer_add(&c, "mno-a", NULL, fx.home_key.pub);
	fx.net = ta_node(&c, NULL, serve_net, NULL);
}

static sqlite3 *open_db(void)
{
	char err[256] = "";
	sqlite3 *db = m2m_store_open(fx.db_path, mno_schema(), err, sizeof err);
	cr_assert_not_null(db, "%s", err);
	return db;
}

static void image_path(char *out, size_t len)
{
	snprintf(out, len, "%s/uicc-1.card", fx.dir);
}

/* The card made from its image, as the uicc reads it. */
static void card_from_image(card *c)
{
	char path[128];
	const char *text;
	int kvn;
	config_t cfg;
	image_path(path, sizeof path);
	config_init(&cfg);
	cr_assert_eq(config_read_file(&cfg, path), CONFIG_TRUE, "%s", config_error_text(&cfg));
	memset(c, 0, sizeof *c);
	c->keys = (m2m_ota_keyset){.kic = {.alg = 0x2, .len = 16}, .kid = {.alg = 0x2, .len = 16},
				   .dek = {.alg = 0x2, .len = 16}};
	cr_assert(config_lookup_int(&cfg, "card.ota_kvn", &kvn));
	c->keys.kvn = (uint8_t)kvn;
	cr_assert(config_lookup_string(&cfg, "card.ota_kic", &text) && !m2m_unhex(text, c->keys.kic.key, 16));
	cr_assert(config_lookup_string(&cfg, "card.ota_kid", &text) && !m2m_unhex(text, c->keys.kid.key, 16));
	cr_assert(config_lookup_string(&cfg, "card.ota_dek", &text) && !m2m_unhex(text, c->keys.dek.key, 16));
	config_destroy(&cfg);
	cr_assert_eq(m2m_unhex("0809101010000000f1", c->ef_imsi, 9), 0);
}

static void set_location(int64_t since)
{
	hss_location loc = {.since = since};
	snprintf(loc.network, sizeof loc.network, NETWORK);
	snprintf(loc.imei, sizeof loc.imei, "356938035643809");
	cr_assert_eq(hss_location_set(fx.db, IMSI_1, &loc), 0);
}

static void setup(void)
{
	char image[128];
	memset(&fx, 0, sizeof fx);
	ta_tempdir(fx.dir);
	snprintf(fx.db_path, sizeof fx.db_path, "%s/mno-a.db", fx.dir);
	fx.db = open_db();
	cr_assert_eq(sqlite3_open(fx.db_path, &fx.observer), SQLITE_OK);
	snprintf(fx.hs.plmn, sizeof fx.hs.plmn, PLMN);
	fx.hs.mnc_length = 2;
	m2m_random(fx.hs.storage_key, sizeof fx.hs.storage_key);
	hss_order o = {.imsi = IMSI_1};
	image_path(image, sizeof image);
	cr_assert_eq(hss_personalise(fx.db, &fx.hs, ICCID_1, &o, image, "admin", fx.err, sizeof fx.err), HSS_DONE, "%s",
		     fx.err);
	card_from_image(&fx.card);
	set_location(1);
	ta_keypair_make(&fx.home_key);
	ta_keypair_make(&fx.net_key);
	start_net();
	start_home();
}

/* From here on the packets go to the real card, made from the image personalisation wrote. */
static void use_real_card(void)
{
	char image[128], path[160], err[256] = "";
	uicc_image img;
	m2m_conf ic;
	int imported;
	image_path(image, sizeof image);
	cr_assert_eq(uicc_image_read(&ic, image, &img), 0, "the uicc refuses the image: %s", ic.error);
	m2m_conf_free(&ic);
	snprintf(path, sizeof path, "%s/uicc.db", fx.dir);
	fx.uicc_db = m2m_store_open(path, &uicc_schema, err, sizeof err);
	cr_assert_not_null(fx.uicc_db, "%s", err);
	cr_assert_eq(uicc_card_open(&fx.uicc, fx.uicc_db, fx.hs.storage_key, &img, &imported), 0);
	uicc_image_wipe(&img);
	fx.real = 1;
}

static void teardown(void)
{
	if (fx.real) {
		uicc_card_close(&fx.uicc);
		m2m_store_close(fx.uicc_db);
	}
	stop_home();
	m2m_node_free(fx.net);
	sqlite3_close(fx.observer);
	m2m_store_close(fx.db);
	cr_assert_eq(ta_run("rm -rf %s", fx.dir), 0);
}

TestSuite(ota, .init = setup, .fini = teardown, .timeout = 60);

/* ---- helpers ------------------------------------------------------------------------------------ */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void pump(void)
{
	ota_serve_tick(fx.ota);
	m2m_node_poll(fx.home, 0);
	m2m_node_poll(fx.net, 5);
}

static ota_job job(int64_t id)
{
	ota_job j;
	cr_assert_eq(ota_job_get(fx.db, id, &j), 0);
	return j;
}

/* Runs the world until the job ends (or seconds pass): the job then. */
static ota_job run_job(int64_t id, int seconds)
{
	int64_t end = now_ms() + seconds * 1000;
	while (job(id).state < OTA_JOB_DONE && now_ms() < end)
		pump();
	return job(id);
}

/* Runs the world until the network got its n-th message. */
static void pump_until_message(int n)
{
	int64_t end = now_ms() + 3000;
	while (fx.messages < n && now_ms() < end)
		pump();
	cr_assert_geq(fx.messages, n, "the network got %d message(s)", fx.messages);
}

static void modes(int n, ...)
{
	va_list ap;
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		fx.modes[fx.nmodes++] = (net_mode)va_arg(ap, int);
	va_end(ap);
	fx.messages = 0;
}

static int64_t queue_hex(const uint8_t tar[3], const char *hex)
{
	uint8_t script[OTA_SCRIPT_MAX];
	long n = m2m_unhex_var(hex, script, sizeof script);
	int64_t id;
	cr_assert_gt(n, 0);
	cr_assert_eq(ota_job_queue(fx.db, ICCID_1, tar, script, (size_t)n, "test", &id), 0);
	return id;
}

static ota_card_keyset keyset(const uint8_t tar[3])
{
	ota_card_keyset k;
	cr_assert_eq(ota_keyset_get(fx.db, fx.hs.storage_key, ICCID_1, tar, &k), 0);
	return k;
}

static int same_keys(const m2m_ota_keyset *a, const m2m_ota_keyset *b)
{
	return a->kvn == b->kvn && a->kic.len == b->kic.len && !memcmp(a->kic.key, b->kic.key, a->kic.len) &&
	       a->kid.len == b->kid.len && !memcmp(a->kid.key, b->kid.key, a->kid.len) && a->dek.len == b->dek.len &&
	       !memcmp(a->dek.key, b->dek.key, a->dek.len);
}

static int64_t count(const char *sql)
{
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_prepare_v2(fx.db, sql, -1, &st, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	int64_t n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* ---- personalisation ---------------------------------------------------------------------------- */

Test(ota, personalise_writes_the_image_fields_and_both_keysets)
{
	char path[128];
	const char *text;
	config_t cfg;
	image_path(path, sizeof path);
	config_init(&cfg);
	cr_assert_eq(config_read_file(&cfg, path), CONFIG_TRUE);
	cr_assert(config_lookup_string(&cfg, "card.ota_msl", &text));
	cr_assert_str_eq(text, "16", "CC, ciphering, counter higher");
	cr_assert(config_lookup_string(&cfg, "card.ota_tar", &text));
	cr_assert_str_eq(text, "b00010");
	cr_assert(config_lookup_string(&cfg, "card.ota_dek", &text));
	cr_assert_eq(strlen(text), 32);
	config_destroy(&cfg);
	cr_assert_eq(fx.card.keys.kvn, 1);

	ota_card_keyset ks[4];
	size_t n;
	cr_assert_eq(ota_keyset_list(fx.db, fx.hs.storage_key, ICCID_1, ks, 4, &n), 0);
	cr_assert_eq(n, 2, "the USIM RFM TAR and the ISD's");
	cr_assert_eq(memcmp(ks[0].tar, OTA_TAR_ISD, 3), 0);
	cr_assert_eq(memcmp(ks[1].tar, OTA_TAR_USIM_RFM, 3), 0);
	for (size_t i = 0; i < n; i++) {
		cr_assert(same_keys(&ks[i].keys, &fx.card.keys), "keyset %zu is not the image's", i);
		cr_assert_eq(ks[i].keys.kic.alg, 0x2);
		cr_assert_eq(ks[i].keys.kid.alg, 0x2, "AES-CMAC (TS 102 225 §5.1.3.1: KID 0010)");
		cr_assert_eq(ks[i].counter, 0);
	}
	hss_subscriber s;
	cr_assert_eq(hss_subscriber_load(fx.db, fx.hs.storage_key, IMSI_1, &s), 0);
	cr_assert_eq(memcmp(s.ota_kic, fx.card.keys.kic.key, 16), 0, "the HSS record keeps its KIc");
	cr_assert_eq(memcmp(s.ota_kid, fx.card.keys.kid.key, 16), 0);
	char imsi[16];
	cr_assert_eq(hss_imsi_of_iccid(fx.db, ICCID_1, imsi), 0);
	cr_assert_str_eq(imsi, IMSI_1);
	/* a keyset does not open under another storage key, nor as another card's */
	uint8_t other[32];
	m2m_random(other, sizeof other);
	cr_assert_eq(ota_keyset_list(fx.db, other, ICCID_1, ks, 4, &n), -1);
	cr_assert_eq(sqlite3_exec(fx.db, "UPDATE ota_keyset SET iccid = '8900101000000000027'", NULL, NULL, NULL),
		     SQLITE_OK);
	cr_assert_eq(ota_keyset_list(fx.db, fx.hs.storage_key, "8900101000000000027", ks, 4, &n), -1);
}

/* ---- the life of a job -------------------------------------------------------------------------- */

Test(ota, a_job_is_done_with_the_pors_results_and_counters_increase)
{
	int64_t id = queue_hex(OTA_TAR_USIM_RFM, UPDATE_IMSI READ_IMSI);
	cr_assert_eq(job(id).state, OTA_JOB_QUEUED);
	ota_job j = run_job(id, 10);
	cr_assert_eq(j.state, OTA_JOB_DONE, "%s: %s", ota_job_state_name(j.state), j.last_error);
	cr_assert_eq(j.por_status, M2M_OTA_POR_OK);
	cr_assert_eq(j.executed, 2);
	cr_assert_eq(j.last_sw, 0x9000);
	uint8_t want[9];
	m2m_unhex(EF_IMSI_NEW, want, 9);
	cr_assert_eq(j.data_len, 9);
	cr_assert_eq(memcmp(j.data, want, 9), 0, "READ BINARY's data in the PoR");
	cr_assert_eq(memcmp(fx.card.ef_imsi, want, 9), 0, "the card's EF_IMSI");
	cr_assert_eq(j.counter, 1);
	cr_assert_eq(keyset(OTA_TAR_USIM_RFM).counter, 1);
	cr_assert_eq(keyset(OTA_TAR_ISD).counter, 0, "each TAR has its counter");

	/* a long script: concatenated SMS-DELIVERs, the PoR in the last report */
	char hex[2 * OTA_SCRIPT_MAX + 1] = "";
	for (int i = 0; i < 17; i++)
		strcat(hex, UPDATE_IMSI);
	int before = fx.messages;
	id = queue_hex(OTA_TAR_USIM_RFM, hex);
	j = run_job(id, 10);
	cr_assert_eq(j.state, OTA_JOB_DONE, "%s", j.last_error);
	cr_assert_eq(j.executed, 17);
	cr_assert_gt(fx.messages - before, 1, "concatenated: %d message(s)", fx.messages - before);
	cr_assert_eq(j.counter, 2, "strictly increasing");
	cr_assert_eq(fx.card.nseen, 2);
	cr_assert_lt(fx.card.seen[0], fx.card.seen[1]);
	cr_assert_eq(fx.stored_before, 2, "the network checked both packets' counters were committed");
}

Test(ota, a_cards_jobs_go_one_at_a_time_in_order)
{
	int64_t a = queue_hex(OTA_TAR_USIM_RFM, "00d6000001" "01");
	int64_t b = queue_hex(OTA_TAR_USIM_RFM, "00d6000001" "02");
	pump();
	cr_assert_eq(job(a).state, OTA_JOB_SENT);
	cr_assert_eq(job(b).state, OTA_JOB_QUEUED, "the second waits for the first's PoR");
	cr_assert_eq(run_job(b, 10).state, OTA_JOB_DONE);
	cr_assert_eq(job(a).state, OTA_JOB_DONE);
	cr_assert_eq(fx.card.ef_imsi[0], 0x02, "the later job wrote last");
}

Test(ota, not_attached_and_timeout_are_retried_with_new_counters)
{
	modes(2, NET_NOT_ATTACHED, NET_SILENT);
	int64_t id = queue_hex(OTA_TAR_USIM_RFM, UPDATE_IMSI);
	ota_job j = run_job(id, 15);
	cr_assert_eq(j.state, OTA_JOB_DONE, "%s", j.last_error);
	cr_assert_eq(j.attempts, 3);
	cr_assert_eq(j.counter, 3, "a new counter each time");
	cr_assert_eq(fx.card.nseen, 1, "the card saw only the third");
	cr_assert_eq(fx.card.seen[0], 3);
	cr_assert_eq(keyset(OTA_TAR_USIM_RFM).counter, 3);
}

Test(ota, a_card_attached_nowhere_keeps_its_job_queued_until_it_attaches)
{
	fx.ota->settings.retry_first_s = fx.ota->settings.retry_max_s = 100;
	cr_assert_eq(hss_location_clear(fx.db, IMSI_1), 0);
	int64_t id = queue_hex(OTA_TAR_USIM_RFM, UPDATE_IMSI);
	int64_t end = now_ms() + 1500;
	while (now_ms() < end)
		pump();
	ota_job j = job(id);
	cr_assert_eq(j.state, OTA_JOB_QUEUED);
	cr_assert_eq(j.attempts, 0, "a card attached nowhere is not even tried: it takes no place in a tick");
	cr_assert_eq(fx.messages, 0);
	cr_assert_eq(keyset(OTA_TAR_USIM_RFM).counter, 0, "no packet, no counter used");
	/* the attach makes it due at once, not in 100 s */
	set_location((int64_t)time(NULL) + 1);
	cr_assert_eq(run_job(id, 5).state, OTA_JOB_DONE);
}

Test(ota, attempts_are_bounded_when_configured)
{
	fx.ota->settings.max_attempts = 2;
	modes(4, NET_NOT_ATTACHED, NET_NOT_ATTACHED, NET_NOT_ATTACHED, NET_NOT_ATTACHED);
	int64_t id = queue_hex(OTA_TAR_USIM_RFM, UPDATE_IMSI);
	ota_job j = run_job(id, 10);
	cr_assert_eq(j.state, OTA_JOB_FAILED);
	cr_assert_eq(j.reason, M2M_R_NOT_ATTACHED);
	cr_assert_eq(j.attempts, 2);
	cr_assert_eq(fx.messages, 2);
}

Test(ota, a_por_with_an_error_status_fails_the_job)
{
	fx.card.counter[RFM] = 100;  /* the card is ahead: CNTR low */
	int64_t id = queue_hex(OTA_TAR_USIM_RFM, UPDATE_IMSI);
	ota_job j = run_job(id, 10);
	cr_assert_eq(j.state, OTA_JOB_FAILED);
	cr_assert_eq(j.reason, M2M_R_OTA_REFUSED);
	cr_assert_eq(j.por_status, M2M_OTA_CNTR_LOW);
	cr_assert_str_eq(j.last_error, m2m_ota_status_name(M2M_OTA_CNTR_LOW));
	cr_assert_eq(j.attempts, 1, "a refusal is not retried");
}

Test(ota, an_unprotected_por_is_never_success)
{
	/* a forged "PoR OK" without checksum: not done, sent again */
	modes(1, NET_FORGE_OK);
	int64_t id = queue_hex(OTA_TAR_USIM_RFM, UPDATE_IMSI);
	pump_until_message(1);
	int64_t end = now_ms() + 3000;
	while (job(id).state == OTA_JOB_SENT && now_ms() < end)
		pump();
	ota_job j = job(id);
	cr_assert_eq(j.state, OTA_JOB_QUEUED, "an unprotected PoR OK was taken as success");
	cr_assert_not_null(strstr(j.last_error, "unprotected"), "%s", j.last_error);
	j = run_job(id, 10);
	cr_assert_eq(j.state, OTA_JOB_DONE);
	cr_assert_eq(j.attempts, 2);
	cr_assert_eq(j.counter, 2);

	/* keys the card does not have: it answers "RC/CC/DS failed" unprotected */
	m2m_ota_keyset wrong = fx.card.keys;
	m2m_random(wrong.kid.key, 16);
	uint8_t script[14];
	m2m_unhex(UPDATE_IMSI, script, 14);
	cr_assert_eq(ota_job_queue_raw(fx.db, fx.hs.storage_key, ICCID_1, OTA_TAR_USIM_RFM, &wrong, 0, script, 14,
				       "test raw", &id),
		     0);
	j = run_job(id, 10);
	cr_assert_eq(j.state, OTA_JOB_FAILED);
	cr_assert_eq(j.reason, M2M_R_OTA_REFUSED);
	cr_assert_eq(j.por_status, M2M_OTA_CHECK_FAILED);
	cr_assert_not_null(strstr(j.last_error, "unprotected"), "%s", j.last_error);
	cr_assert_eq(count("SELECT count(*) FROM ota_job WHERE explicit_sealed IS NOT NULL"), 0,
		     "the given keys are erased when the job ends");
}

Test(ota, a_job_sent_before_a_restart_is_sent_again_with_a_new_counter)
{
	modes(1, NET_SILENT);
	int64_t id = queue_hex(OTA_TAR_USIM_RFM, UPDATE_IMSI);
	pump_until_message(1);
	cr_assert_eq(job(id).state, OTA_JOB_SENT);
	stop_home();  /* the process ends with the packet in flight */
	m2m_store_close(fx.db);
	fx.db = open_db();
	start_home();
	ota_job j = job(id);
	cr_assert_eq(j.state, OTA_JOB_QUEUED, "sent at the restart: queued again");
	j = run_job(id, 10);
	cr_assert_eq(j.state, OTA_JOB_DONE, "%s", j.last_error);
	cr_assert_eq(j.counter, 2);
	cr_assert_eq(fx.card.seen[0], 2);
}

Test(ota, a_cards_jobs_are_cancelled_together)
{
	int64_t a = queue_hex(OTA_TAR_USIM_RFM, UPDATE_IMSI), r;
	cr_assert_eq(ota_rotate_queue(fx.db, fx.hs.storage_key, ICCID_1, &r, fx.err, sizeof fx.err), 0, "%s", fx.err);
	cr_assert_eq(ota_job_cancel_card(fx.db, ICCID_1, "ported away"), 0);
	cr_assert_eq(job(a).state, OTA_JOB_FAILED);
	cr_assert_eq(job(r).state, OTA_JOB_FAILED);
	cr_assert_str_eq(job(r).last_error, "ported away");
	cr_assert_eq(count("SELECT count(*) FROM ota_rotation"), 0);
	for (int i = 0; i < 20; i++)
		pump();
	cr_assert_eq(fx.messages, 0);
	cr_assert_eq(ota_keyset_delete_card(fx.db, ICCID_1), 0);
	cr_assert_eq(count("SELECT count(*) FROM ota_keyset"), 0);
}

Test(ota, bad_jobs_are_refused_and_store_nothing)
{
	uint8_t truncated[] = {0x00, 0xd6, 0x00, 0x00, 0x09, 0x08};
	int64_t id;
	cr_assert_eq(ota_job_queue(fx.db, ICCID_1, OTA_TAR_USIM_RFM, truncated, sizeof truncated, "t", &id), -1);
	cr_assert_eq(ota_job_queue(fx.db, "12345", OTA_TAR_USIM_RFM, truncated, 5, "t", &id), -1, "not an ICCID");
	cr_assert_eq(ota_job_queue(fx.db, ICCID_1, OTA_TAR_USIM_RFM, truncated, 0, "t", &id), -1, "empty");
	cr_assert_eq(count("SELECT count(*) FROM ota_job"), 0);
	cr_assert_eq(ota_rotate_queue(fx.db, fx.hs.storage_key, "8900101000000000027", &id, fx.err, sizeof fx.err), -1);
	cr_assert_not_null(strstr(fx.err, "no keyset"), "%s", fx.err);
	cr_assert_eq(ota_rotate_queue(fx.db, fx.hs.storage_key, ICCID_1, &id, fx.err, sizeof fx.err), 0);
	cr_assert_eq(ota_rotate_queue(fx.db, fx.hs.storage_key, ICCID_1, &id, fx.err, sizeof fx.err), -1);
	cr_assert_not_null(strstr(fx.err, "already pending"), "%s", fx.err);
	/* a job for a TAR without a keyset fails when its turn comes, nothing sent */
	id = queue_hex((const uint8_t[3]){0xB0, 0x00, 0x20}, UPDATE_IMSI);
	cr_assert_eq(ota_job_cancel_card(fx.db, ICCID_1, "x"), 0);
	cr_assert_eq(sqlite3_exec(fx.db, "UPDATE ota_job SET state = 'queued' WHERE tar = x'b00020'", NULL, NULL, NULL),
		     SQLITE_OK);
	ota_job j = run_job(id, 5);
	cr_assert_eq(j.state, OTA_JOB_FAILED);
	cr_assert_eq(j.reason, M2M_R_NOT_FOUND);
	cr_assert_eq(fx.messages, 0);
}

/* ---- key rotation ------------------------------------------------------------------------------- */

static void expect_rotated(const m2m_ota_keyset *old, uint64_t rfm_counter, uint64_t isd_counter)
{
	ota_card_keyset rfm = keyset(OTA_TAR_USIM_RFM), isd = keyset(OTA_TAR_ISD);
	cr_assert_not(same_keys(&fx.card.keys, old), "the card has new keys");
	cr_assert(same_keys(&rfm.keys, &fx.card.keys), "the RFM TAR's keyset is the card's new one");
	cr_assert(same_keys(&isd.keys, &fx.card.keys), "the ISD's keyset is the card's new one");
	cr_assert_eq(rfm.counter, rfm_counter, "counters are kept");
	cr_assert_eq(isd.counter, isd_counter);
	cr_assert_eq(count("SELECT count(*) FROM ota_rotation"), 0, "nothing pending");
}

Test(ota, rotation_replaces_the_keys_of_both_tars_once_the_card_says_ok)
{
	m2m_ota_keyset old = fx.card.keys;
	int64_t id = queue_hex(OTA_TAR_USIM_RFM, UPDATE_IMSI);
	cr_assert_eq(run_job(id, 10).state, OTA_JOB_DONE);
	cr_assert_eq(ota_rotate_queue(fx.db, fx.hs.storage_key, ICCID_1, &id, fx.err, sizeof fx.err), 0, "%s", fx.err);
	ota_card_keyset isd = keyset(OTA_TAR_ISD);
	cr_assert(same_keys(&isd.keys, &old), "pending until the PoR");
	ota_job j = run_job(id, 10);
	cr_assert_eq(j.state, OTA_JOB_DONE, "%s", j.last_error);
	cr_assert_eq(j.executed, 1);
	cr_assert_eq(j.last_sw, 0x9000);
	expect_rotated(&old, 1, 1);
	/* the new keys work, the old ones are refused */
	id = queue_hex(OTA_TAR_USIM_RFM, READ_IMSI);
	cr_assert_eq(run_job(id, 10).state, OTA_JOB_DONE);
	uint8_t script[5];
	m2m_unhex(READ_IMSI, script, 5);
	cr_assert_eq(ota_job_queue_raw(fx.db, fx.hs.storage_key, ICCID_1, OTA_TAR_USIM_RFM, &old, 50, script, 5, "old",
				       &id),
		     0);
	j = run_job(id, 10);
	cr_assert_eq(j.state, OTA_JOB_FAILED);
	cr_assert_eq(j.por_status, M2M_OTA_CHECK_FAILED);
	cr_assert_eq(keyset(OTA_TAR_USIM_RFM).counter, 2, "an explicit counter leaves the keyset's");
}

Test(ota, rotation_survives_a_por_lost_after_the_card_applied_it)
{
	m2m_ota_keyset old = fx.card.keys;
	int64_t id;
	modes(1, NET_LOSE_POR);
	cr_assert_eq(ota_rotate_queue(fx.db, fx.hs.storage_key, ICCID_1, &id, fx.err, sizeof fx.err), 0, "%s", fx.err);
	ota_job j = run_job(id, 15);
	cr_assert_eq(j.state, OTA_JOB_DONE, "%s", j.last_error);
	/* 1: applied, PoR lost; 2: old keys refused (01); 3: PUT KEY again under the new keys */
	cr_assert_eq(j.attempts, 3);
	cr_assert_eq(fx.packets, 3);
	cr_assert_eq(fx.card.nseen, 2, "the card accepted the first and the third");
	expect_rotated(&old, 0, 3);
	int64_t next = queue_hex(OTA_TAR_USIM_RFM, READ_IMSI);
	cr_assert_eq(run_job(next, 10).state, OTA_JOB_DONE);
}

Test(ota, rotation_fails_when_neither_keyset_works)
{
	m2m_ota_keyset old = fx.card.keys;
	int64_t id;
	m2m_random(fx.card.keys.kid.key, 16);  /* a card with keys the server never had */
	m2m_ota_keyset card_keys = fx.card.keys;
	cr_assert_eq(ota_rotate_queue(fx.db, fx.hs.storage_key, ICCID_1, &id, fx.err, sizeof fx.err), 0, "%s", fx.err);
	ota_job j = run_job(id, 10);
	cr_assert_eq(j.state, OTA_JOB_FAILED);
	cr_assert_eq(j.reason, M2M_R_OTA_REFUSED);
	cr_assert_eq(j.por_status, M2M_OTA_CHECK_FAILED);
	cr_assert_eq(j.attempts, 2, "the old keys, then the pending ones");
	cr_assert(same_keys(&fx.card.keys, &card_keys));
	ota_card_keyset isd = keyset(OTA_TAR_ISD);
	cr_assert(same_keys(&isd.keys, &old), "the server's keysets unchanged");
	cr_assert_eq(count("SELECT count(*) FROM ota_rotation"), 0, "the pending keys dropped");
}

/* ---- the real card ------------------------------------------------------------------------------- */

#define REAL_IMSI_NEW "080910100000000020"  /* 001010000000002 (TS 31.102 §4.2.2) */

Test(ota, the_real_card_runs_jobs_and_takes_new_keys_despite_a_lost_por)
{
	m2m_ota_keyset old = fx.card.keys;  /* the image's: what the real card starts with */
	uint8_t want[9];
	m2m_unhex(REAL_IMSI_NEW, want, 9);
	use_real_card();
	int64_t id = queue_hex(OTA_TAR_USIM_RFM, "00d6870009" REAL_IMSI_NEW "00b0870009");
	ota_job j = run_job(id, 10);
	cr_assert_eq(j.state, OTA_JOB_DONE, "%s: %s", ota_job_state_name(j.state), j.last_error);
	cr_assert_eq(j.executed, 2);
	cr_assert_eq(j.last_sw, 0x9000);
	cr_assert_eq(j.data_len, 9);
	cr_assert_eq(memcmp(j.data, want, 9), 0, "EF_IMSI as the card read it back");

	modes(1, NET_LOSE_POR);
	cr_assert_eq(ota_rotate_queue(fx.db, fx.hs.storage_key, ICCID_1, &id, fx.err, sizeof fx.err), 0, "%s", fx.err);
	j = run_job(id, 15);
	cr_assert_eq(j.state, OTA_JOB_DONE, "%s", j.last_error);
	cr_assert_eq(j.attempts, 3, "taken, PoR lost; old keys refused; the new keys");
	ota_card_keyset isd = keyset(OTA_TAR_ISD), rfm = keyset(OTA_TAR_USIM_RFM);
	cr_assert_not(same_keys(&isd.keys, &old));
	cr_assert(same_keys(&rfm.keys, &isd.keys));

	id = queue_hex(OTA_TAR_USIM_RFM, "00b0870009");
	j = run_job(id, 10);
	cr_assert_eq(j.state, OTA_JOB_DONE, "the new keys work: %s", j.last_error);
	cr_assert_eq(memcmp(j.data, want, 9), 0);
	uint8_t script[5];
	m2m_unhex("00b0870009", script, 5);
	cr_assert_eq(ota_job_queue_raw(fx.db, fx.hs.storage_key, ICCID_1, OTA_TAR_USIM_RFM, &old, 0, script, 5, "old",
				       &id),
		     0);
	j = run_job(id, 10);
	cr_assert_eq(j.state, OTA_JOB_FAILED, "the old keys are refused");
	cr_assert_eq(j.por_status, M2M_OTA_CHECK_FAILED);
}

/* ---- secrets ------------------------------------------------------------------------------------- */

/* Whether the bytes occur in the file. */
static int file_holds(const char *path, const uint8_t *bytes, size_t n)
{
	size_t len = 0;
	char *data = ta_read(path, &len);
	int found = 0;
	for (size_t i = 0; data && !found && i + n <= len; i++)
		found = !memcmp(data + i, bytes, n);
	free(data);
	return found;
}

static void expect_not_in_database(const m2m_ota_key *k, const char *what)
{
	char path[160];
	const char *const suffixes[] = {"", "-wal"};
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof path, "%s%s", fx.db_path, suffixes[i]);
		cr_assert_not(file_holds(path, k->key, k->len), "%s in clear in %s", what, path);
	}
}

Test(ota, no_key_is_stored_in_clear)
{
	int64_t id, rot;
	m2m_ota_keyset raw = fx.card.keys, pending;
	m2m_random(raw.kic.key, 16);
	m2m_random(raw.kid.key, 16);
	uint8_t script[5];
	m2m_unhex(READ_IMSI, script, 5);
	cr_assert_eq(ota_job_queue_raw(fx.db, fx.hs.storage_key, ICCID_1, OTA_TAR_USIM_RFM, &raw, 0, script, 5, "raw",
				       &id),
		     0);
	cr_assert_eq(ota_rotate_queue(fx.db, fx.hs.storage_key, ICCID_1, &rot, fx.err, sizeof fx.err), 0);
	cr_assert_eq(ota_rotation_pending(fx.db, fx.hs.storage_key, ICCID_1, &rot, &pending), 0);
	const m2m_ota_key *keys[] = {&fx.card.keys.kic, &fx.card.keys.kid, &fx.card.keys.dek, &raw.kic, &raw.kid,
				     &pending.kic, &pending.kid, &pending.dek};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		expect_not_in_database(keys[i], "a key");
	m2m_ota_keyset back;
	cr_assert_eq(ota_job_explicit_keys(fx.db, fx.hs.storage_key, id, &back), 0);
	cr_assert(same_keys(&back, &raw));
	/* the sealed keys moved to another job's row do not open there */
	char sql[200];
	snprintf(sql, sizeof sql, "UPDATE ota_job SET keys = 'explicit', explicit_sealed = (SELECT explicit_sealed FROM"
		 " ota_job WHERE id = %lld) WHERE id = %lld", (long long)id, (long long)rot);
	cr_assert_eq(sqlite3_exec(fx.db, sql, NULL, NULL, NULL), SQLITE_OK);
	cr_assert_eq(ota_job_explicit_keys(fx.db, fx.hs.storage_key, rot, &back), -1, "sealed for its own job only");
}

/* ---- mno-admin ---------------------------------------------------------------------------------- */

static void write_admin_config(char *conf, size_t len)
{
	char key[160], hex[65];
	snprintf(key, sizeof key, "%s/mno-a.storage", fx.dir);
	m2m_hex(fx.hs.storage_key, 32, hex);
	ta_write(fx.dir, "mno-a.storage", hex);
	snprintf(conf, len, "%s/mno-a.conf", fx.dir);
	FILE *f = fopen(conf, "w");
	cr_assert_not_null(f);
	fprintf(f,
		"entity = \"mno-a\";\ndatabase = \"%s\";\n"
		"transport = { bind = \"ipc://%s/mno-a.sock\"; secret_key_file = \"%s/mno-a.key\"; };\n"
		"mno = { mode = \"home\"; plmn = \"" PLMN "\"; storage_key_file = \"%s\"; ota = { retry_first_s = 1; }; };\n",
		fx.db_path, fx.dir, fx.dir, key);
	fclose(f);
}

static int admin(const char *conf, const char *args, char **out)
{
	char buf[256], cmd[1024], out_path[160];
	const char *bin = ta_binary("MNO_ADMIN", "mno/hss/mno-admin", buf, sizeof buf);
	snprintf(out_path, sizeof out_path, "%s/admin.out", fx.dir);
	snprintf(cmd, sizeof cmd, "%s -c %s %s >%s 2>&1", bin, conf, args, out_path);
	int status = system(cmd);
	cr_assert(WIFEXITED(status), "mno-admin did not exit: %s", cmd);
	size_t len;
	*out = ta_read(out_path, &len);
	cr_assert_not_null(*out);
	return WEXITSTATUS(status);
}

static void expect_admin(const char *conf, const char *args, int status, const char *text)
{
	char *out;
	int rc = admin(conf, args, &out);
	cr_assert_eq(rc, status, "mno-admin %s: %d\n%s", args, rc, out);
	if (text)
		cr_assert_not_null(strstr(out, text), "mno-admin %s:\n%s", args, out);
	char hex[33];
	const m2m_ota_key *keys[] = {&fx.card.keys.kic, &fx.card.keys.kid, &fx.card.keys.dek};
	for (int i = 0; i < 3; i++) {
		m2m_hex(keys[i]->key, keys[i]->len, hex);
		cr_assert_null(strstr(out, hex), "a key printed by mno-admin %s", args);
	}
	free(out);
}

Test(ota, mno_admin_ota_commands)
{
	char conf[160];
	write_admin_config(conf, sizeof conf);
	expect_admin(conf, "ota keysets " ICCID_1, 0, "TAR b00010 kvn 1");
	expect_admin(conf, "ota keysets " ICCID_1, 0, "TAR 000000 kvn 1");
	expect_admin(conf, "ota keysets 8900101000000000027", 1, "no OTA keyset");
	expect_admin(conf, "ota send " ICCID_1 " b00010 " UPDATE_IMSI, 0, "queued job 1");
	expect_admin(conf, "ota show 1", 0, "state queued");
	expect_admin(conf, "ota show 99", 1, "no job 99");
	expect_admin(conf, "ota send " ICCID_1 " b00010 00d6", 2, "an APDU");
	expect_admin(conf, "ota send " ICCID_1 " b000 " UPDATE_IMSI, 2, "6 hex digits");
	expect_admin(conf, "ota send 1234 b00010 " UPDATE_IMSI, 2, "18 to 20 digits");
	expect_admin(conf, "ota send " ICCID_1 " b00020 " UPDATE_IMSI, 1, "no OTA keyset for that TAR");
	expect_admin(conf, "ota frob", 2, "ota takes");
	expect_admin(conf, "ota rotate " ICCID_1, 0, "queued as job 2");
	expect_admin(conf, "ota rotate " ICCID_1, 1, "already pending");
	expect_admin(conf, "ota keysets " ICCID_1, 0, "a key rotation is pending: job 2");
	expect_admin(conf, "ota raw " ICCID_1 " --kic-key 00 --kid-key 00 " READ_IMSI, 2, "AES key");
	expect_admin(conf, "ota raw " ICCID_1 " --kid-key 00112233445566778899aabbccddeeff " READ_IMSI, 2,
		     "needs --kic-key and --kid-key");
	expect_admin(conf,
		     "ota raw " ICCID_1 " --kic-key 00112233445566778899aabbccddeeff --kid-key "
		     "00112233445566778899aabbccddeeff --counter 7 --wait 0 " READ_IMSI,
		     0, "queued job 3");
	cr_assert_eq(count("SELECT count(*) FROM ota_job WHERE keys = 'explicit' AND explicit_counter = 7"), 1);
	cr_assert_eq(count("SELECT count(*) FROM hss_audit WHERE action LIKE 'ota %' AND actor = 'admin'"), 3);
	/* the daemon's side: the admin's job goes out and its result shows */
	ota_job j = run_job(1, 10);
	cr_assert_eq(j.state, OTA_JOB_DONE, "%s", j.last_error);
	expect_admin(conf, "ota show 1", 0, "PoR status PoR OK, 1 command(s) executed, last SW 9000");
	/* the raw job's keys are not the card's: a PoR with an error status, then its wait shows it */
	j = run_job(3, 10);
	cr_assert_eq(j.state, OTA_JOB_FAILED);
	expect_admin(conf, "ota show 3", 0, "reason otaRefused");
}
