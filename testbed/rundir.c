/*
 * The run directory: everything `up` generates (keys, one configuration file per daemon and
 * one for the tool itself) and the paths of sockets, logs and pid files, all derived here so
 * that every sub-command agrees on them.
 */
#include "testbed.h"

#include "crypto/crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

int tb_path(char *out, size_t len, const char *rundir, const char *name, const char *suffix)
{
	int n = snprintf(out, len, "%s/%s%s", rundir, name, suffix);
	if (n < 0 || (size_t)n >= len) {
		fprintf(stderr, "testbed: path %s/%s%s is too long\n", rundir, name, suffix);
		return -1;
	}
	return 0;
}

static int mkdir_p(char *path, mode_t mode)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		int rc = mkdir(path, 0755);
		*p = '/';
		if (rc && errno != EEXIST)
			return -1;
	}
	return mkdir(path, mode) && errno != EEXIST ? -1 : 0;
}

int tb_rundir_resolve(tb_opts *o, int create)
{
	char abs[PATH_MAX];
	if (!o->rundir[0]) {
		fprintf(stderr, "testbed: the run directory must not be empty\n");
		return -1;
	}
	if (create && mkdir_p(o->rundir, 0700)) {
		fprintf(stderr, "testbed: cannot create the run directory %s: %s\n", o->rundir, strerror(errno));
		return -1;
	}
	if (!realpath(o->rundir, abs)) {
		fprintf(stderr, "testbed: no run directory %s: %s\n", o->rundir, strerror(errno));
		return -1;
	}
	snprintf(o->rundir, sizeof o->rundir, "%s", abs);
	return 0;
}

int tb_rundir_check_lengths(const char *rundir, const tb_topology *t)
{
	char cwd[PATH_MAX], abs[2 * PATH_MAX];
	/* checked before the directory is created: relative to where we are, as it will be */
	if (rundir[0] != '/' && getcwd(cwd, sizeof cwd)) {
		snprintf(abs, sizeof abs, "%s/%s", cwd, rundir);
		rundir = abs;
	}
	for (int i = 0; i < t->nentities; i++) {
		size_t n = strlen(rundir) + 1 + strlen(t->entities[i].id) + strlen(".sock");
		if (n > TB_SOCKET_PATH_MAX) {
			fprintf(stderr,
				"testbed: the run directory %s is too long: the socket %s/%s.sock would be %zu characters,\n"
				"  more than the %d a Unix socket path may have here; choose a shorter one with -d\n",
				rundir, rundir, t->entities[i].id, n, TB_SOCKET_PATH_MAX);
			return -1;
		}
	}
	return 0;
}

char *tb_read_file(const char *path, long offset, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *data = NULL;
	size_t n = 0;
	if (!fseek(f, offset, SEEK_SET)) {
		size_t cap = 4096;
		data = malloc(cap);
		size_t got;
		while ((got = fread(data + n, 1, cap - n - 1, f)) > 0) {
			n += got;
			if (cap - n - 1 == 0)
				data = realloc(data, cap *= 2);
		}
		data[n] = 0;
	}
	fclose(f);
	if (len)
		*len = n;
	return data;
}

/* Written to a temporary name and renamed: a reader never sees half a file. */
int tb_write_file(const char *path, const char *text, mode_t mode)
{
	char tmp[PATH_MAX + 8];
	snprintf(tmp, sizeof tmp, "%s.new", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode);
	size_t n = strlen(text);
	int ok = fd >= 0 && fchmod(fd, mode) == 0 && write(fd, text, n) == (ssize_t)n;
	if (fd >= 0 && close(fd))
		ok = 0;
	if (!ok || rename(tmp, path)) {
		fprintf(stderr, "testbed: cannot write %s: %s\n", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* ---- keys ------------------------------------------------------------------------------------ */

typedef struct keypair {
	char pub[M2M_KEY_Z85], sec[M2M_KEY_Z85];
} keypair;

static int write_keys(const char *rundir, const char *id, keypair *k)
{
	char dir[PATH_MAX], path[PATH_MAX], line[M2M_KEY_Z85 + 1];
	if (zmq_curve_keypair(k->pub, k->sec)) {
		fprintf(stderr, "testbed: libzmq cannot make CURVE keys: %s\n", zmq_strerror(errno));
		return -1;
	}
	if (tb_path(dir, sizeof dir, rundir, "keys", "") || tb_path(path, sizeof path, dir, id, ".key"))
		return -1;
	snprintf(line, sizeof line, "%s\n", k->sec);
	int rc = tb_write_file(path, line, 0600);
	snprintf(line, sizeof line, "%s\n", k->pub);
	if (rc || tb_path(path, sizeof path, dir, id, ".pub"))
		return -1;
	return tb_write_file(path, line, 0644);
}

/* A storage key: 32 random bytes as exactly 64 hex digits (no newline), readable only by us. */
static int write_storage_key(const char *rundir, const char *id)
{
	char dir[PATH_MAX], path[PATH_MAX], hex[2 * 32 + 1];
	uint8_t key[32];
	if (tb_path(dir, sizeof dir, rundir, "keys", "") || tb_path(path, sizeof path, dir, id, ".storage"))
		return -1;
	m2m_random(key, sizeof key);
	m2m_hex(key, sizeof key, hex);
	int rc = tb_write_file(path, hex, 0600);
	m2m_wipe(key, sizeof key);
	m2m_wipe(hex, sizeof hex);
	return rc;
}

/* ---- configuration files --------------------------------------------------------------------- */

void tb_conf_add_str(config_setting_t *parent, const char *name, const char *value)
{
	config_setting_set_string(config_setting_add(parent, name, CONFIG_TYPE_STRING), value);
}

void tb_conf_add_int(config_setting_t *parent, const char *name, int value)
{
	config_setting_set_int(config_setting_add(parent, name, CONFIG_TYPE_INT), value);
}

/* A verbatim copy of a topology setting (any depth) under parent. */
static void copy_setting(config_setting_t *parent, const config_setting_t *from)
{
	int type = config_setting_type(from);
	const char *name = config_setting_is_group(parent) ? config_setting_name(from) : NULL;
	config_setting_t *to = config_setting_add(parent, name, type);
	switch (type) {
	case CONFIG_TYPE_INT:
		config_setting_set_int(to, config_setting_get_int(from));
		break;
	case CONFIG_TYPE_INT64:
		config_setting_set_int64(to, config_setting_get_int64(from));
		break;
	case CONFIG_TYPE_FLOAT:
		config_setting_set_float(to, config_setting_get_float(from));
		break;
	case CONFIG_TYPE_BOOL:
		config_setting_set_bool(to, config_setting_get_bool(from));
		break;
	case CONFIG_TYPE_STRING:
		config_setting_set_string(to, config_setting_get_string(from));
		break;
	default:  /* group, array, list */
		for (int i = 0; i < config_setting_length(from); i++)
			copy_setting(to, config_setting_get_elem(from, (unsigned)i));
	}
}

static void add_peer(config_setting_t *peers, const char *rundir, const char *id, const char *pub, int with_endpoint)
{
	char ep[PATH_MAX + 8];
	config_setting_t *p = config_setting_add(peers, NULL, CONFIG_TYPE_GROUP);
	tb_conf_add_str(p, "id", id);
	if (with_endpoint) {
		snprintf(ep, sizeof ep, "ipc://%s/%s.sock", rundir, id);
		tb_conf_add_str(p, "endpoint", ep);
	}
	tb_conf_add_str(p, "public_key", pub);
}

static void add_transport(config_setting_t *root, const char *rundir, const char *id, int server, int timeout_ms,
			  int retries)
{
	char s[PATH_MAX + 16];
	config_setting_t *t = config_setting_add(root, "transport", CONFIG_TYPE_GROUP);
	if (server) {
		snprintf(s, sizeof s, "ipc://%s/%s.sock", rundir, id);
		tb_conf_add_str(t, "bind", s);
		snprintf(s, sizeof s, "ipc://%s/%s.tap", rundir, id);
		tb_conf_add_str(t, "tap", s);
	}
	snprintf(s, sizeof s, "%s/keys/%s.key", rundir, id);
	tb_conf_add_str(t, "secret_key_file", s);
	tb_conf_add_int(t, "timeout_ms", timeout_ms);
	tb_conf_add_int(t, "retries", retries);
}

/* A configuration file of the given mode. None holds a secret: secrets stay in files of
 * RUNDIR/keys/ that the configuration names. */
static int write_config(config_t *cfg, const char *path, const char *what, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	FILE *f = fd < 0 || fchmod(fd, mode) ? NULL : fdopen(fd, "w");
	if (!f) {
		fprintf(stderr, "testbed: cannot write %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	fprintf(f, "# %s, generated by `testbed up`: edit the topology instead.\n", what);
	config_write(cfg, f);
	return fclose(f) ? -1 : 0;
}

/* The role's group: the topology's settings verbatim, plus what `up` generates: the storage key
 * of a role that seals secrets, the image of a uicc's card, and the agency's and TREs' settings. */
static int role_group(config_setting_t *root, const char *rundir, const tb_topology *t, const tb_entity *e)
{
	char path[PATH_MAX + 32];
	int storage = tb_role_has_storage_key(e->role);
	const tb_card *card = tb_card_of(t, e->id);
	if (!e->settings && !storage && !card)
		return 0;
	config_setting_t *g = config_setting_add(root, e->role, CONFIG_TYPE_GROUP);
	for (int k = 0; e->settings && k < config_setting_length(e->settings); k++)
		copy_setting(g, config_setting_get_elem(e->settings, (unsigned)k));
	if (card) {
		snprintf(path, sizeof path, "%s/keys/%s.card", rundir, e->id);
		tb_conf_add_str(g, "image", path);
	}
	if (storage) {
		snprintf(path, sizeof path, "%s/keys/%s.storage", rundir, e->id);
		tb_conf_add_str(g, "storage_key_file", path);
	}
	return tb_agency_settings(g, rundir, t, e);
}

static int daemon_config(const char *rundir, const tb_topology *t, int i, const keypair *keys, const keypair *self)
{
	const tb_entity *e = &t->entities[i];
	char db[PATH_MAX], path[PATH_MAX];
	if (tb_path(db, sizeof db, rundir, e->id, ".db") || tb_path(path, sizeof path, rundir, e->id, ".conf"))
		return -1;
	config_t cfg;
	config_init(&cfg);
	config_setting_t *root = config_root_setting(&cfg);
	tb_conf_add_str(root, "entity", e->id);
	tb_conf_add_str(root, "database", db);
	tb_conf_add_str(root, "log_level", t->log_level);
	add_transport(root, rundir, e->id, 1, t->daemon_timeout_ms, t->daemon_retries);
	config_setting_t *peers = config_setting_add(root, "peers", CONFIG_TYPE_LIST);
	for (int k = 0; k < e->npeers; k++)
		add_peer(peers, rundir, t->entities[e->peers[k]].id, keys[e->peers[k]].pub, 1);
	/* key-only: the tool may call every daemon and watch its tap, but is never called */
	add_peer(peers, rundir, TB_SELF, self->pub, 0);
	int rc = role_group(root, rundir, t, e);
	if (!rc)
		rc = write_config(&cfg, path, e->id, 0644);
	config_destroy(&cfg);
	return rc;
}

static int client_config(const char *rundir, const tb_topology *t, const keypair *keys)
{
	char path[PATH_MAX];
	if (tb_path(path, sizeof path, rundir, TB_SELF, ".conf"))
		return -1;
	config_t cfg;
	config_init(&cfg);
	config_setting_t *root = config_root_setting(&cfg);
	tb_conf_add_str(root, "entity", TB_SELF);
	add_transport(root, rundir, TB_SELF, 0, t->testbed_timeout_ms, t->testbed_retries);
	config_setting_t *peers = config_setting_add(root, "peers", CONFIG_TYPE_LIST);
	for (int i = 0; i < t->nentities; i++)
		add_peer(peers, rundir, t->entities[i].id, keys[i].pub, 1);
	int rc = write_config(&cfg, path, "the testbed tool's own client configuration", 0644);
	config_destroy(&cfg);
	return rc;
}

/* A fresh `up` starts from empty databases: sequence windows persisted by one run would
 * refuse the restarted sequence numbers of another, and the trace starts anew. */
static void remove_state(const char *rundir, const tb_topology *t)
{
	/* an old root certificate would let a TRE start against an agency that no longer exists */
	static const char *const suffixes[] = {".db", ".db-wal", ".db-shm", ".log", ".pid", ".root.pem", NULL};
	char path[PATH_MAX];
	for (int i = 0; i < t->nentities; i++)
		for (int k = 0; suffixes[k]; k++)
			if (!tb_path(path, sizeof path, rundir, t->entities[i].id, suffixes[k]))
				unlink(path);
	static const char *const own[] = {"trace.jsonl", TB_RECORDER ".log", TB_RECORDER ".ready", "last_run", NULL};
	for (int k = 0; own[k]; k++)
		if (!tb_path(path, sizeof path, rundir, own[k], ""))
			unlink(path);
}

static int copy_topology(const char *rundir, const char *from)
{
	char path[PATH_MAX];
	char *text = tb_read_file(from, 0, NULL);
	int rc = !text || tb_path(path, sizeof path, rundir, "topology", ".conf") || tb_write_file(path, text, 0644);
	free(text);
	return rc ? -1 : 0;
}

int tb_rundir_generate(const char *rundir, const char *topology_path, const tb_topology *t)
{
	char path[PATH_MAX];
	keypair *keys = calloc((size_t)t->nentities, sizeof *keys), self;
	int rc = -1;
	remove_state(rundir, t);
	if (tb_path(path, sizeof path, rundir, "keys", "") || (mkdir(path, 0700) && errno != EEXIST) ||
	    copy_topology(rundir, topology_path) || write_keys(rundir, TB_SELF, &self))
		goto out;
	for (int i = 0; i < t->nentities; i++)
		if (write_keys(rundir, t->entities[i].id, &keys[i]) ||
		    (tb_role_has_storage_key(t->entities[i].role) && write_storage_key(rundir, t->entities[i].id)))
			goto out;
	if (tb_agency_files(rundir, t) || ((tb_registration_operator(t) || t->subscriber) &&
					    tb_subscriber_key_write(rundir, t->subscriber ? t->subscriber : TB_SUBSCRIBER_DEFAULT)))
		goto out;
	for (int i = 0; i < t->nentities; i++)
		if (daemon_config(rundir, t, i, keys, &self))
			goto out;
	rc = client_config(rundir, t, keys);
out:
	m2m_wipe(keys, (size_t)t->nentities * sizeof *keys);
	m2m_wipe(&self, sizeof self);
	free(keys);
	return rc;
}

tb_topology *tb_rundir_topology(const char *rundir, int quiet)
{
	char path[PATH_MAX];
	if (tb_path(path, sizeof path, rundir, "topology", ".conf"))
		return NULL;
	if (access(path, R_OK)) {
		if (!quiet)
			fprintf(stderr, "testbed: %s holds no testbed (no topology.conf): run `testbed up` first\n", rundir);
		return NULL;
	}
	return tb_topology_load(path);
}
