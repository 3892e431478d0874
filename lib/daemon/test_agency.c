/* A real certauth process for tests, and the files and processes around it (test_agency.h). */
#include "daemon/test_agency.h"

#include "crypto/crypto.h"
#include "daemon/identity.h"
#include "pki/pki.h"
#include "store/store.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

/* ---- files, keys, processes ------------------------------------------------------------------ */

void ta_tempdir(char dir[64])
{
	snprintf(dir, 64, "/tmp/m2mtaXXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

void ta_path(char *out, size_t len, const char *dir, const char *name)
{
	cr_assert_lt((size_t)snprintf(out, len, "%s/%s", dir, name), len);
}

void ta_write(const char *dir, const char *name, const char *text)
{
	char path[256];
	ta_path(path, sizeof path, dir, name);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "cannot write %s", path);
	fputs(text, f);
	fclose(f);
}

char *ta_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *data = n >= 0 ? malloc((size_t)n + 1) : NULL;
	cr_assert_not_null(data, "cannot read %s", path);
	*len = fread(data, 1, (size_t)n, f);
	data[*len] = 0;
	fclose(f);
	return data;
}

void ta_keypair_make(ta_keypair *k)
{
	cr_assert_eq(zmq_curve_keypair(k->pub, k->sec), 0);
}

void ta_write_key(const char *dir, const char *name, const ta_keypair *k)
{
	char line[64];
	snprintf(line, sizeof line, "%s\n", k->sec);
	ta_write(dir, name, line);
}

void ta_read_hex(const char *dir, const char *name, uint8_t *out, size_t len)
{
	char path[256], text[160] = "";
	cr_assert_lt(2 * len, sizeof text);
	ta_path(path, sizeof path, dir, name);
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "cannot read %s", path);
	cr_assert_not_null(fgets(text, sizeof text, f));
	fclose(f);
	text[2 * len] = 0;
	cr_assert_eq(m2m_unhex(text, out, len), 0);
}

void ta_random_file(const char *dir, const char *name, size_t n)
{
	uint8_t bytes[64];
	char hex[2 * sizeof bytes + 2];
	cr_assert_leq(n, sizeof bytes);
	m2m_random(bytes, n);
	m2m_hex(bytes, n, hex);
	strcat(hex, "\n");
	ta_write(dir, name, hex);
}

const char *ta_binary(const char *env, const char *relative, char *buf, size_t len)
{
	const char *set = getenv(env);
	if (set) {
		cr_assert_eq(access(set, X_OK), 0, "%s=%s is not built", env, set);
		return set;
	}
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	cr_assert_gt(n, 0);
	exe[n] = 0;
	/* the test is BUILD/DIR/test_NAME: the binaries are BUILD/ROLE/ROLE */
	char *build = dirname(dirname(exe));
	cr_assert_lt((size_t)snprintf(buf, len, "%s/%s", build, relative), len);
	cr_assert_eq(access(buf, X_OK), 0, "%s is not built (or set %s)", buf, env);
	return buf;
}

pid_t ta_spawn(const char *binary, const char *conf, const char *log)
{
	pid_t pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		dup2(fd, 1);
		dup2(fd, 2);
		execl(binary, binary, "-c", conf, (char *)NULL);
		_exit(127);
	}
	return pid;
}

int ta_stop(pid_t pid)
{
	int status = 0;
	if (pid <= 0)
		return 0;
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int vrun(const char *fmt, va_list ap)
{
	char cmd[2048];
	cr_assert_lt((size_t)vsnprintf(cmd, sizeof cmd, fmt, ap), sizeof cmd);
	int status = system(cmd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int ta_run(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = vrun(fmt, ap);
	va_end(ap);
	return rc;
}

/* ---- calls ------------------------------------------------------------------------------------- */

void ta_peer_add(m2m_node_conf *c, const char *id, const char *endpoint, const char *public_key)
{
	cr_assert_lt(c->npeers, M2M_MAX_PEERS);
	m2m_peer_conf *p = &c->peers[c->npeers++];
	snprintf(p->id, sizeof p->id, "%s", id);
	snprintf(p->endpoint, sizeof p->endpoint, "%s", endpoint ? endpoint : "");
	snprintf(p->public_key, sizeof p->public_key, "%s", public_key);
}

m2m_node *ta_node(const m2m_node_conf *c, sqlite3 *db, m2m_dispatch_cb serve, void *arg)
{
	char err[256] = "";
	m2m_node *n = m2m_node_new(c, db, err, sizeof err);
	cr_assert_not_null(n, "%s: %s", c->entity, err);
	if (serve)
		m2m_node_set_dispatch(n, serve, arg);
	return n;
}

void ta_on_answer(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
	ta_answer *a = arg;
	a->done = 1;
	a->type = resp ? resp->type : -1;
	a->reason = reason;
	if (resp && resp->type == M2M_MSG_ERROR) {
		const M2M_ERROR_REPORT *er = resp->body;
		a->reason = (m2m_reason)ASN1_ENUMERATED_get(er->reason);
		m2m_str(er->text, a->text, sizeof a->text);
	} else if (resp) {
		a->body = ASN1_item_dup(m2m_msgdef_find(resp->type)->item(), resp->body);
	}
}

void ta_call_start(m2m_node *from, const char *peer, int type, const void *body, ta_answer *a)
{
	memset(a, 0, sizeof *a);
	cr_assert_eq(m2m_call(from, peer, type, body, ta_on_answer, a), 0, "no route to %s", peer);
}

void ta_reply_change_ack(m2m_node *n, m2m_request *req, int type, const uint8_t id[16])
{
	M2M_CHANGE_ACK *a = M2M_CHANGE_ACK_new();
	ASN1_OCTET_STRING_set(a->change_id, id, 16);
	m2m_reply(n, req, type, a);
	M2M_CHANGE_ACK_free(a);
}

ta_answer ta_call(m2m_node *from, const char *peer, int type, const void *body)
{
	ta_answer a;
	ta_call_start(from, peer, type, body, &a);
	while (!a.done)
		m2m_node_poll(from, 20);
	return a;
}

void ta_answer_free(ta_answer *a)
{
	if (a->body)
		ASN1_item_free(a->body, m2m_msgdef_find(a->type)->item());
	a->body = NULL;
}

void ta_pump(m2m_node *const *nodes, m2m_identity *const *ids, size_t n, int ms)
{
	for (int t = 0; t < ms; t += 4) {
		for (size_t i = 0; i < n; i++)
			if (nodes[i])
				m2m_node_poll(nodes[i], 1);
		for (size_t i = 0; i < n; i++)
			if (ids[i])
				m2m_identity_tick(ids[i], nodes[i]);
	}
}

int ta_wait_for(int (*cond)(void), int seconds, void (*pump)(int ms))
{
	for (int i = 0; i < seconds * 25; i++) {
		if (cond())
			return 1;
		pump(40);
	}
	return cond();
}

/* ---- a daemon's database, read by the test ------------------------------------------------------ */

sqlite3 *ta_db_readonly(const char *dir, const char *file)
{
	char path[256];
	sqlite3 *db = NULL;
	ta_path(path, sizeof path, dir, file);
	cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK, "cannot open %s", path);
	sqlite3_busy_timeout(db, 5000);
	return db;
}

static sqlite3_stmt *query(sqlite3 *db, const char *fmt, va_list ap)
{
	char sql[2048];
	sqlite3_stmt *st = NULL;
	vsnprintf(sql, sizeof sql, fmt, ap);
	return sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK ? st : NULL;
}

long long ta_query_intv(const char *dir, const char *file, const char *fmt, va_list ap)
{
	sqlite3 *db = ta_db_readonly(dir, file);
	sqlite3_stmt *st = query(db, fmt, ap);
	long long v = !st ? -2 : sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

void ta_query_textv(char *out, size_t len, const char *dir, const char *file, const char *fmt, va_list ap)
{
	sqlite3 *db = ta_db_readonly(dir, file);
	sqlite3_stmt *st = query(db, fmt, ap);
	const unsigned char *t = st && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
	snprintf(out, len, "%s", t ? (const char *)t : "");
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static long long query_int(const char *dir, const char *file, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static long long query_int(const char *dir, const char *file, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	long long v = ta_query_intv(dir, file, fmt, ap);
	va_end(ap);
	return v;
}

int ta_db_enrolled(const char *dir, const char *file)
{
	char path[256];
	ta_path(path, sizeof path, dir, file);
	return access(path, F_OK) == 0 && query_int(dir, file, "SELECT count(*) FROM identity_chain") > 0;
}

/* ---- the agency -------------------------------------------------------------------------------- */

static void append(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void append(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;
	va_start(ap, fmt);
	cr_assert_lt((size_t)vsnprintf(buf + used, len - used, fmt, ap), len - used, "configuration too long");
	va_end(ap);
}

void ta_agency_configure(ta_agency *a, const char *dir, const ta_peer *peers, int npeers, const char *extra)
{
	char peer_list[8192] = "", enrolments[8192] = "", text[20000] = "";
	memset(a, 0, sizeof *a);
	snprintf(a->dir, sizeof a->dir, "%s", dir);
	ta_keypair_make(&a->key);
	ta_write_key(dir, "certauth.key", &a->key);
	ta_random_file(dir, "certauth.storage", 32);
	snprintf(a->endpoint, sizeof a->endpoint, "ipc://%s/certauth.sock", dir);
	ta_path(a->root, sizeof a->root, dir, "root.pem");
	ta_path(a->conf, sizeof a->conf, dir, "certauth.conf");
	for (int i = 0; i < npeers; i++) {
		const ta_peer *p = &peers[i];
		append(peer_list, sizeof peer_list, "%s  { id = \"%s\"; public_key = \"%s\";%s%s%s }", i ? ",\n" : "", p->id,
		       p->pub, p->endpoint ? " endpoint = \"" : "", p->endpoint ? p->endpoint : "", p->endpoint ? "\";" : "");
		if (p->profile)
			append(enrolments, sizeof enrolments, "%s    { id = \"%s\"; profile = \"%s\"; secret_file = \"%s\"; }",
			       enrolments[0] ? ",\n" : "", p->id, p->profile, p->secret_file);
	}
	append(text, sizeof text,
	       "entity = \"" TA_AGENCY "\";\ndatabase = \"%s/certauth.db\";\nlog_level = \"debug\";\n"
	       "transport = { bind = \"%s\"; secret_key_file = \"%s/certauth.key\"; timeout_ms = 2000; retries = 1; };\n"
	       "peers = (\n%s\n);\n"
	       "certauth = {\n  storage_key_file = \"%s/certauth.storage\";\n  root_certificate = \"%s\";\n",
	       dir, a->endpoint, dir, peer_list, dir, a->root);
	if (enrolments[0])
		append(text, sizeof text, "  enrolment = (\n%s\n  );\n", enrolments);
	append(text, sizeof text, "%s\n};\n", extra ? extra : "");
	ta_write(dir, "certauth.conf", text);
}

int ta_agency_admin(ta_agency *a, const char *fmt, ...)
{
	char admin[PATH_MAX], args[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof args, fmt, ap);
	va_end(ap);
	return ta_run("%s -c %s %s >>%s/certauth-admin.log 2>&1",
		      ta_binary("CERTAUTH_ADMIN", "certauth/certauth-admin", admin, sizeof admin), a->conf, args, a->dir);
}

void ta_agency_start(ta_agency *a)
{
	char bin[PATH_MAX], log[128];
	ta_path(log, sizeof log, a->dir, "certauth.log");
	a->pid = ta_spawn(ta_binary("CERTAUTH_BINARY", "certauth/certauth", bin, sizeof bin), a->conf, log);
	struct timespec pause = {0, 20 * 1000 * 1000};
	for (int i = 0; i < 1000; i++) {
		X509 *root = m2m_pki_cert_read_pem(a->root);
		X509_free(root);
		if (root)
			return;
		cr_assert_eq(waitpid(a->pid, NULL, WNOHANG), 0, "certauth exited: see %s", log);
		nanosleep(&pause, NULL);
	}
	cr_assert_fail("certauth wrote no root certificate: see %s", log);
}

int ta_agency_stop(ta_agency *a)
{
	int rc = ta_stop(a->pid);
	a->pid = 0;
	return rc;
}

m2m_identity *ta_identity_open(const ta_agency *a, const char *entity, const char *db_file, int profile,
			       int crl_refresh_seconds, sqlite3 **db)
{
	static const char *const migrations[] = {M2M_NODE_SCHEMA M2M_IDENTITY_SCHEMA};
	static const m2m_schema schema = {migrations, 1};
	char path[256], name[80], err[256] = "";
	ta_path(path, sizeof path, a->dir, db_file);
	*db = m2m_store_open(path, &schema, err, sizeof err);
	cr_assert_not_null(*db, "%s", err);
	m2m_identity_settings s = {.profile = profile, .crl_refresh_seconds = crl_refresh_seconds};
	snprintf(s.agency, sizeof s.agency, TA_AGENCY);
	snprintf(name, sizeof name, "%s.enrol", entity);
	ta_read_hex(a->dir, name, s.enrolment_secret, 32);
	s.enrolment_secret_len = 32;
	s.root = m2m_pki_cert_read_pem(a->root);
	uint8_t storage_key[32];
	m2m_random(storage_key, sizeof storage_key);
	m2m_identity *id = m2m_identity_open(*db, storage_key, entity, &s);
	m2m_identity_settings_clear(&s);
	cr_assert_not_null(id);
	return id;
}

void *ta_signed_item(m2m_trust *trust, const uint8_t *sd, size_t len, const char *cn, const ASN1_ITEM *item)
{
	uint8_t *content = NULL;
	size_t clen = 0;
	X509 *signer = NULL;
	char got[64] = "";
	cr_assert_eq(m2m_cms_verify(trust, sd, len, &content, &clen, &signer), M2M_OK);
	cr_assert_eq(m2m_pki_cert_cn(signer, got, sizeof got), 0);
	cr_assert_str_eq(got, cn, "signed by %s, not by %s", got, cn);
	cr_assert_eq(m2m_pki_cert_profile(signer), M2M_PROFILE_OPERATOR_FUNCTION);
	const uint8_t *p = content;
	void *value = ASN1_item_d2i(NULL, &p, (long)clen, item);
	cr_assert_not_null(value);
	OPENSSL_clear_free(content, clen);
	X509_free(signer);
	return value;
}
