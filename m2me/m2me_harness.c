/* The world of the m2me daemon tests (m2me_harness.h). */
#include "m2me_harness.h"

#include "crypto/crypto.h"
#include "daemon/test_agency.h"
#include "log/log.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

fake_card_state fake_card;
fake_net_state fake_net;
fake_tre_state fake_tre;
char world_dir[64];

typedef struct keypair {
	char pub[M2M_KEY_Z85], sec[M2M_KEY_Z85];
} keypair;

static struct {
	keypair m2me, client, card, net, tre;
	pid_t m2me_pid, uicc_pid;
	const char *uicc_binary;
	m2m_node *client_node, *card_node, *net_node, *tre_node;
	int configured, with_tre;
} w;

static void path_of(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", world_dir, name);
}

static void write_file(const char *name, const char *text)
{
	char path[128];
	path_of(path, sizeof path, name);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "cannot write %s", path);
	fputs(text, f);
	fclose(f);
}

int world_exists(const char *name)
{
	char path[128];
	path_of(path, sizeof path, name);
	return access(path, F_OK) == 0;
}

char *world_read(const char *name, size_t *len)
{
	char path[128];
	path_of(path, sizeof path, name);
	char *data = ta_read(path, len);
	cr_assert_not_null(data, "cannot read %s", path);
	return data;
}

int world_query(const char *sql, char *out, size_t len)
{
	char path[128];
	path_of(path, sizeof path, "m2me.db");
	sqlite3 *db;
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(db));
	int rc = sqlite3_step(st);
	cr_assert(rc == SQLITE_ROW || rc == SQLITE_DONE, "%s: %s", sql, sqlite3_errmsg(db));
	const unsigned char *text = rc == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
	snprintf(out, len, "%s", text ? (const char *)text : "");
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc == SQLITE_ROW;
}

/* ---- nodes and processes -------------------------------------------------------------------------- */

static m2m_node *open_node(const char *entity, const char *sock, const keypair *k, const char *peer_endpoint,
			   m2m_dispatch_cb serve)
{
	m2m_node_conf c = {.timeout_ms = 3000, .retries = 2};
	snprintf(c.entity, sizeof c.entity, "%s", entity);
	snprintf(c.secret_key, sizeof c.secret_key, "%s", k->sec);
	if (sock)
		snprintf(c.bind, sizeof c.bind, "ipc://%s/%s", world_dir, sock);
	ta_peer_add(&c, "m2me-t", peer_endpoint, w.m2me.pub);
	return ta_node(&c, NULL, serve, NULL);
}

static void write_key(const char *name, const char *text)
{
	write_file(name, text);
	char path[128];
	path_of(path, sizeof path, name);
	chmod(path, 0600);
}

static void write_m2me_conf(void)
{
	const char *d = world_dir;
	char text[4096], holder[64];
	/* by with_tre: a card; a TRE and no card (Alternative 1a); both (Alternative 3b) */
	static const char *const holders[] = {"card = \"uicc-t\";", "tre = \"tre-t\";",
					      "card = \"uicc-t\"; tre = \"tre-t\";"};
	snprintf(holder, sizeof holder, "%s", holders[w.with_tre]);
	snprintf(text, sizeof text,
		 "entity = \"m2me-t\";\n"
		 "database = \"%s/m2me.db\";\n"
		 "log_level = \"debug\";\n"
		 "transport = { bind = \"ipc://%s/m2me.sock\"; secret_key_file = \"%s/m2me.key\";"
		 " timeout_ms = 500; retries = 2; };\n"
		 "peers = (\n"
		 "  { id = \"testbed\"; public_key = \"%s\"; },\n"
		 "  { id = \"uicc-t\"; endpoint = \"ipc://%s/card.sock\"; public_key = \"%s\"; },\n"
		 "  { id = \"mno-v\"; endpoint = \"ipc://%s/net.sock\"; public_key = \"%s\"; },\n"
		 "  { id = \"tre-t\"; endpoint = \"ipc://%s/tre.sock\"; public_key = \"%s\"; },\n"
		 "  { id = \"mno-q\"; public_key = \"%s\"; }\n"
		 ");\n"
		 "m2me = { imei = \"" DEVICE_IMEI "\"; network = \"mno-v\"; apn = \"m2m.meter\"; %s"
		 " storage_key_file = \"%s/m2me.storage\"; };\n",
		 d, d, d, w.client.pub, d, w.card.pub, d, w.net.pub, d, w.tre.pub, w.net.pub, holder, d);
	write_file("m2me.conf", text);
}

static void milenage_of(m2m_milenage *m, const char *k_hex, const char *opc_hex)
{
	uint8_t k[16], opc[16];
	cr_assert_eq(m2m_unhex(k_hex, k, 16), 0);
	cr_assert_eq(m2m_unhex(opc_hex, opc, 16), 0);
	cr_assert_eq(m2m_milenage_init(m, k, opc), 0);
}

/* Both ends of each credential: the card and the TRE's, and the network's copies. */
static void credentials(void)
{
	milenage_of(&fake_card.m, CARD_K, CARD_OPC);
	milenage_of(&fake_net.m, CARD_K, CARD_OPC);
	milenage_of(&fake_tre.pcid, PCID_K, PCID_OPC);
	milenage_of(&fake_net.m_pcid, PCID_K, PCID_OPC);
	milenage_of(&fake_tre.mcim, MCIM_K, MCIM_OPC);
	milenage_of(&fake_net.m_mcim, MCIM_K, MCIM_OPC);
	milenage_of(&fake_tre.mcim_b, MCIM_B_K, MCIM_B_OPC);
	milenage_of(&fake_net.m_mcim_b, MCIM_B_K, MCIM_B_OPC);
	milenage_of(&fake_card.m_b, CARD_B_K, CARD_B_OPC);
	milenage_of(&fake_net.m_card_b, CARD_B_K, CARD_B_OPC);
	m2m_sqn_usim *usim[] = {&fake_card.sqn, &fake_tre.sqn_pcid, &fake_tre.sqn_mcim, &fake_tre.sqn_mcim_b,
				&fake_card.sqn_b};
	for (size_t i = 0; i < sizeof usim / sizeof usim[0]; i++)
		cr_assert_eq(m2m_sqn_usim_init(usim[i], NULL), 0);
	m2m_sqn_he *he[] = {&fake_net.he, &fake_net.he_pcid, &fake_net.he_mcim, &fake_net.he_mcim_b, &fake_net.he_card_b};
	for (size_t i = 0; i < sizeof he / sizeof he[0]; i++)
		cr_assert_eq(m2m_sqn_he_init(he[i], NULL, 0), 0);
}

void world_setup(void)
{
	m2m_log_init("test", M2M_LOG_ERROR);  /* the fakes' own traffic would drown the report */
	memset(&w, 0, sizeof w);
	memset(&fake_card, 0, sizeof fake_card);
	memset(&fake_net, 0, sizeof fake_net);
	memset(&fake_tre, 0, sizeof fake_tre);
	snprintf(world_dir, sizeof world_dir, "/tmp/m2meXXXXXX");
	cr_assert_not_null(mkdtemp(world_dir));
	keypair *all[] = {&w.m2me, &w.client, &w.card, &w.net, &w.tre};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		cr_assert_eq(zmq_curve_keypair(all[i]->pub, all[i]->sec), 0);
	char line[64];
	snprintf(line, sizeof line, "%s\n", w.m2me.sec);
	write_key("m2me.key", line);
	uint8_t storage[32];
	char hex[65];
	m2m_random(storage, sizeof storage);
	m2m_hex(storage, sizeof storage, hex);
	write_key("m2me.storage", hex);
	credentials();
	static const uint8_t card_imsi[] = {0x08, 0x09, 0x10, 0x10, 0x00, 0x00, 0x00, 0x00, 0x10};  /* CARD_IMSI */
	static const uint8_t por[] = {0x02, 0x71, 0x00, 0x00, 0x0B, 0x0A, 0xB0, 0x00, 0x10,
				      0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00};  /* a PoR's user data */
	memcpy(fake_card.ef_imsi, card_imsi, sizeof card_imsi);
	cr_assert_eq(m2m_ef_imsi_encode(CARD_B_IMSI, fake_card.ef_imsi_shadow), 0);
	static const uint8_t cert_header[] = {0x30, 0x82, 0x01, 0x28};  /* 4 + 296 bytes */
	for (size_t i = 0; i < sizeof fake_card.cert; i++)
		fake_card.cert[i] = i < sizeof cert_header ? cert_header[i] : (uint8_t)(i * 7);
	memcpy(fake_card.por, por, sizeof por);
	fake_card.por_len = sizeof por;
	char ep[128];
	snprintf(ep, sizeof ep, "ipc://%s/m2me.sock", world_dir);
	w.client_node = open_node("testbed", NULL, &w.client, ep, NULL);
	w.net_node = open_node("mno-v", "net.sock", &w.net, ep, fake_net_serve);  /* it relays SMS to the device */
	w.tre_node = open_node("tre-t", "tre.sock", &w.tre, "", fake_tre_serve);
}

void world_use_tre(void)
{
	w.with_tre = 1;
}

void world_use_card_and_tre(void)
{
	w.with_tre = 2;
}

static pid_t spawn(const char *binary, const char *conf, const char *log)
{
	char conf_path[128], log_path[128];
	path_of(conf_path, sizeof conf_path, conf);
	path_of(log_path, sizeof log_path, log);
	return ta_spawn(binary, conf_path, log_path);
}

static const char *m2me_binary(void)
{
	const char *bin = getenv("M2ME_BINARY");
	cr_assert_not_null(bin, "M2ME_BINARY is not set (meson test sets it)");
	return bin;
}

void world_start_m2me(void)
{
	if (!w.configured) {
		write_m2me_conf();
		if (!w.uicc_binary)
			w.card_node = open_node("uicc-t", "card.sock", &w.card, "", fake_card_serve);
		w.configured = 1;
	}
	w.m2me_pid = spawn(m2me_binary(), "m2me.conf", "m2me.log");
}

void world_stop_m2me(void)
{
	cr_assert_neq(w.m2me_pid, 0);
	int rc = ta_stop(w.m2me_pid);
	w.m2me_pid = 0;
	cr_assert_eq(rc, 0, "m2me exited with status %d (see %s/m2me.log)", rc, world_dir);
}

void world_kill_m2me(void)
{
	cr_assert_neq(w.m2me_pid, 0);
	kill(w.m2me_pid, SIGKILL);
	waitpid(w.m2me_pid, NULL, 0);
	w.m2me_pid = 0;
}

void world_teardown(void)
{
	if (!world_dir[0])
		return;  /* already torn down (a skipped test does it itself) */
	/* a clean stop also means no leak: the sanitizers make the exit status non-zero */
	int m2me_rc = ta_stop(w.m2me_pid);
	int uicc_rc = ta_stop(w.uicc_pid);
	m2m_node_free(w.client_node);
	m2m_node_free(w.card_node);
	m2m_node_free(w.net_node);
	m2m_node_free(w.tre_node);
	w.client_node = w.card_node = w.net_node = w.tre_node = NULL;
	w.m2me_pid = w.uicc_pid = 0;
	m2m_milenage *keys[] = {&fake_card.m,   &fake_net.m,      &fake_tre.pcid,   &fake_net.m_pcid,
				&fake_tre.mcim, &fake_net.m_mcim, &fake_tre.mcim_b, &fake_net.m_mcim_b,
				&fake_card.m_b, &fake_net.m_card_b};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		m2m_milenage_clear(keys[i]);
	/* the tests stop the m2me themselves and check its exit; here a failure can only be reported
	 * (Criterion does not fail a test from its fini), and the directory is kept to be looked at */
	if (m2me_rc || uicc_rc)
		fprintf(stderr, "m2me exited %d, uicc %d: see the logs in %s\n", m2me_rc, uicc_rc, world_dir);
	else if (!getenv("M2ME_KEEP")) {
		char cmd[128];
		snprintf(cmd, sizeof cmd, "rm -rf %s", world_dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", world_dir);
	}
	world_dir[0] = 0;
}

/* ---- the real uicc ------------------------------------------------------------------------------ */

static void write_uicc_files(const char *conf_name)
{
	const char *d = world_dir;
	char text[2048];
	snprintf(text, sizeof text,
		 "card = { iccid = \"" CARD_ICCID "\"; imsi = \"" CARD_IMSI "\"; mnc_length = 2;"
		 " k = \"" CARD_K "\"; opc = \"" CARD_OPC "\"; adm = \"0102030405060708\"; };\n");
	write_key("card.image", text);
	snprintf(text, sizeof text, "%s\n", w.card.sec);
	write_key("uicc.key", text);
	uint8_t storage[32];
	char hex[65];
	m2m_random(storage, sizeof storage);
	m2m_hex(storage, sizeof storage, hex);
	write_key("uicc.storage", hex);
	snprintf(text, sizeof text,
		 "entity = \"uicc-t\";\n"
		 "database = \"%s/uicc.db\";\n"
		 "log_level = \"debug\";\n"
		 "transport = { bind = \"ipc://%s/card.sock\"; secret_key_file = \"%s/uicc.key\"; };\n"
		 "peers = ( { id = \"m2me-t\"; public_key = \"%s\"; } );\n"
		 "uicc = { image = \"%s/card.image\"; storage_key_file = \"%s/uicc.storage\"; };\n",
		 d, d, d, w.m2me.pub, d, d);
	write_file(conf_name, text);
}

const char *world_real_uicc(void)
{
	const char *bin = getenv("UICC_BINARY");
	if (!bin || access(bin, X_OK))
		return NULL;
	/* the stub of the foundation has no settings: it refuses a uicc group */
	write_uicc_files("probe.conf");
	char cmd[512];
	snprintf(cmd, sizeof cmd, "%s -c %s/probe.conf --check-config >>%s/probe.log 2>&1", bin, world_dir, world_dir);
	int status = system(cmd);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? bin : NULL;
}

void world_start_uicc(const char *binary)
{
	w.uicc_binary = binary;
	write_uicc_files("uicc.conf");
	w.uicc_pid = spawn(binary, "uicc.conf", "uicc.log");
}

m2me_device *world_device_in_process(void)
{
	m2me_device *dev = calloc(1, sizeof *dev);
	char ep[128];
	snprintf(ep, sizeof ep, "ipc://%s/card.sock", world_dir);
	m2m_node_conf c = {.timeout_ms = 3000, .retries = 2};
	snprintf(c.entity, sizeof c.entity, "m2me-t");
	snprintf(c.secret_key, sizeof c.secret_key, "%s", w.m2me.sec);
	ta_peer_add(&c, "uicc-t", ep, w.card.pub);
	dev->node = ta_node(&c, NULL, NULL, NULL);
	snprintf(dev->state.card, sizeof dev->state.card, "uicc-t");
	return dev;
}

void world_device_poll(m2me_device *dev, const int *done)
{
	while (!*done)
		m2m_node_poll(dev->node, 5);
}

/* ---- deviceControl ---------------------------------------------------------------------------------- */

static void read_status(const M2M_DEVICE_STATUS *s, answer *a)
{
	a->powered = s->powered != 0;
	m2m_digits(s->imei, a->imei, sizeof a->imei, 14, 16);
	if (s->card)
		m2m_str(s->card, a->card, sizeof a->card);
	if (s->iccid)
		m2m_digits(s->iccid, a->iccid, sizeof a->iccid, 18, 20);
	if (s->imsi)
		m2m_digits(s->imsi, a->imsi, sizeof a->imsi, 6, 15);
	if (s->attached_to)
		m2m_str(s->attached_to, a->attached_to, sizeof a->attached_to);
	if (s->echo) {
		a->echo_len = (size_t)ASN1_STRING_length(s->echo);
		memcpy(a->echo, ASN1_STRING_get0_data(s->echo), a->echo_len);
	}
}

/* The answer as every test reads one (ta_on_answer), deviceStatus kept as plain values. */
static void on_answer(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
	answer *a = arg;
	ta_answer got = {0};
	ta_on_answer(n, resp, reason, &got);
	a->type = got.type;
	a->reason = got.reason;
	memcpy(a->text, got.text, sizeof a->text);
	if (got.type == M2M_MSG_DEVICE_STATUS)
		read_status(got.body, a);
	ta_answer_free(&got);
	a->done = 1;
}

static ASN1_UTF8STRING *utf8(const char *text)
{
	ASN1_UTF8STRING *s = ASN1_UTF8STRING_new();
	m2m_set_str(s, text);
	return s;
}

void control_start(ctl c, answer *a)
{
	memset(a, 0, sizeof *a);
	M2M_DEVICE_CONTROL *b = M2M_DEVICE_CONTROL_new();
	ASN1_ENUMERATED_set(b->action, c.action);
	b->card = c.card ? utf8(c.card) : NULL;
	if (c.imei)
		m2m_set_digits(&b->imei, c.imei);
	b->network = c.network ? utf8(c.network) : NULL;
	b->apn = c.apn ? utf8(c.apn) : NULL;
	if (c.data) {
		b->data = ASN1_OCTET_STRING_new();
		ASN1_OCTET_STRING_set(b->data, (const unsigned char *)c.data, (int)strlen(c.data));
	}
	cr_assert_eq(m2m_call(w.client_node, "m2me-t", M2M_MSG_DEVICE_CONTROL, b, on_answer, a), 0);
	M2M_DEVICE_CONTROL_free(b);
}

void world_step(int net)
{
	m2m_node_poll(w.client_node, 2);
	if (w.card_node)
		m2m_node_poll(w.card_node, 0);
	m2m_node_poll(w.tre_node, 0);
	if (net)
		m2m_node_poll(w.net_node, 0);
}

void world_poll_until(const int *flag, int net)
{
	for (time_t end = time(NULL) + 20; !*flag && time(NULL) < end;)
		world_step(net);
	cr_assert(*flag, "the world stood still for 20 s");
}

void world_poll(answer *a, int net)
{
	world_poll_until(&a->done, net);
}

answer control(ctl c)
{
	answer a;
	control_start(c, &a);
	world_poll(&a, 1);
	return a;
}

/* ---- configuration checks --------------------------------------------------------------------------- */

int world_check_config(const char *find, const char *replace)
{
	if (!w.configured) {
		write_m2me_conf();
		w.configured = 1;
	}
	size_t len;
	char *text = world_read("m2me.conf", &len);
	char *at = find ? strstr(text, find) : NULL;
	cr_assert(!find || at, "%s is not in the configuration", find);
	char edited[8192];
	if (at)
		snprintf(edited, sizeof edited, "%.*s%s%s", (int)(at - text), text, replace, at + strlen(find));
	else
		snprintf(edited, sizeof edited, "%s", text);
	free(text);
	write_file("check.conf", edited);
	char conf[128], cmd[512];
	path_of(conf, sizeof conf, "check.conf");
	snprintf(cmd, sizeof cmd, "%s -c %s --check-config >>%s/check.log 2>&1", m2me_binary(), conf, world_dir);
	int status = system(cmd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int world_leaks(const char *buf, size_t len, const uint8_t *secret, size_t slen)
{
	char hex[2 * 32 + 1], upper[2 * 32 + 1];
	m2m_hex(secret, slen, hex);
	for (size_t i = 0; i <= 2 * slen; i++)
		upper[i] = (char)(hex[i] >= 'a' && hex[i] <= 'f' ? hex[i] - 32 : hex[i]);
	return memmem(buf, len, secret, slen) || memmem(buf, len, hex, 2 * slen) || memmem(buf, len, upper, 2 * slen);
}

/* ---- what the tests expect of an answer ----------------------------------------------------------- */

void assert_status(const answer *a, int powered, const char *imsi, const char *attached_to)
{
	cr_assert_eq(a->type, M2M_MSG_DEVICE_STATUS, "expected deviceStatus, got %s: %s",
		     a->type == M2M_MSG_ERROR ? m2me_reason_name(a->reason) : "no answer", a->text);
	cr_assert_eq(a->powered, powered, "powered is %d", a->powered);
	cr_assert_str_eq(a->imsi, imsi);
	cr_assert_str_eq(a->attached_to, attached_to);
}

void assert_refused(const answer *a, m2m_reason want)
{
	cr_assert_eq(a->type, M2M_MSG_ERROR, "expected the refusal %s, got %s", m2me_reason_name(want),
		     a->type == M2M_MSG_DEVICE_STATUS ? "deviceStatus" : "no answer");
	cr_assert_eq(a->reason, want, "refused with %s (%s), expected %s", m2me_reason_name(a->reason), a->text,
		     m2me_reason_name(want));
}

void assert_relayed(int i, const char *destination, int type, const char *imsi)
{
	cr_assert_str_eq(fake_net.relayed_to[i], destination, "step %d went to %s", i + 1, fake_net.relayed_to[i]);
	cr_assert_eq(fake_net.relayed_type[i], type, "step %d was a %s", i + 1, m2m_msgtype_name(fake_net.relayed_type[i]));
	cr_assert(!imsi || !strcmp(fake_net.relayed_on[i], imsi), "step %d went over the session of %s", i + 1,
		  fake_net.relayed_on[i]);
}

int world_rows(const char *table)
{
	char sql[64], n[16];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
	world_query(sql, n, sizeof n);
	return atoi(n);
}

void world_until_no_provision(void)
{
	time_t end = time(NULL) + 20;
	while (world_rows("provision") && time(NULL) < end)
		for (int i = 0; i < 20; i++)
			world_step(1);
	cr_assert_eq(world_rows("provision"), 0, "the provisioning did not end within 20 s");
}

void sms_start(int from_network, const char *imsi, const uint8_t *tpdu, size_t len, ta_answer *a)
{
	M2M_SMS_DELIVER *q = M2M_SMS_DELIVER_new();
	m2m_set_digits(&q->imsi, imsi);
	ASN1_OCTET_STRING_set(q->tpdu, tpdu, (int)len);
	ta_call_start(from_network ? w.net_node : w.client_node, "m2me-t", M2M_MSG_SMS_DELIVER, q, a);
	M2M_SMS_DELIVER_free(q);
}

void trigger_start(int from_network, const char *imsi, const uint8_t *cms, size_t len, ta_answer *a)
{
	M2M_TRE_TRIGGER *q = M2M_TRE_TRIGGER_new();
	m2m_set_digits(&q->imsi, imsi);
	ASN1_OCTET_STRING_set(q->trigger->cms, cms, (int)len);
	ta_call_start(from_network ? w.net_node : w.client_node, "m2me-t", M2M_MSG_TRE_TRIGGER, q, a);
	M2M_TRE_TRIGGER_free(q);
}

void world_powered_and_attached(void)
{
	world_start_m2me();
	answer a = act(M2M_DEV_POWER_ON);
	assert_status(&a, 1, CARD_IMSI, "");
	a = act(M2M_DEV_ATTACH);
	assert_status(&a, 1, CARD_IMSI, "mno-v");
}

void expect_refused(ta_answer *a, m2m_reason want, const char *what)
{
	cr_assert_eq(a->type, M2M_MSG_ERROR, "%s: answered %s", what, a->type < 0 ? "nothing" : m2m_msgtype_name(a->type));
	cr_assert_eq(a->reason, want, "%s: refused %s (%s), expected %s", what, m2me_reason_name(a->reason), a->text,
		     m2me_reason_name(want));
	ta_answer_free(a);
}

void world_downlink_refusals(ta_answer (*send)(int from_network, const char *imsi))
{
	world_start_m2me();
	act(M2M_DEV_POWER_ON);
	ta_answer a = send(1, CARD_IMSI);
	expect_refused(&a, M2M_R_NOT_ATTACHED, "a device that is not attached");
	answer c = act(M2M_DEV_ATTACH);
	assert_status(&c, 1, CARD_IMSI, "mno-v");
	a = send(1, NEW_IMSI);
	expect_refused(&a, M2M_R_NOT_ATTACHED, "another IMSI than the session's");
	cr_assert(strstr(a.text, NEW_IMSI), "%s", a.text);
	a = send(0, CARD_IMSI);
	expect_refused(&a, M2M_R_NOT_ATTACHED, "from another entity than the network of the session");
}

void world_busy_refusals(ta_answer (*send)(int from_network, const char *imsi), const char *holder)
{
	ta_answer a = send(1, CARD_IMSI);
	expect_refused(&a, M2M_R_WRONG_STATE, "a downlink message while another holds the device");
	cr_assert(strstr(a.text, "busy"), "%s", a.text);
	answer c = act(M2M_DEV_DETACH);
	assert_refused(&c, M2M_R_WRONG_STATE);
	cr_assert(strstr(c.text, holder), "%s", c.text);
	c = act(M2M_DEV_STATUS);
	assert_status(&c, 1, CARD_IMSI, "mno-v");
}

answer act(int action)
{
	return control((ctl){.action = action});
}
