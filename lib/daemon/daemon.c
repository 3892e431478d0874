/* The life of a daemon: arguments, configuration, database, transport, event loop, stop. */
#include "daemon/daemon_impl.h"

#include "log/log.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	stop_requested = sig;
}

static void usage(FILE *out, const m2m_role *role, const char *argv0)
{
	fprintf(out,
		"%s: %s\n"
		"usage: %s -c FILE [--check-config]\n"
		"  -c FILE          the libconfig file of this entity\n"
		"  --check-config   read and check FILE, then exit (0: good, 2: bad)\n"
		"  --version        print the version and exit\n"
		"  --help           print this help and exit\n"
		"It stops cleanly on SIGTERM or SIGINT. Exit status: 0 clean stop, 1 runtime failure,\n"
		"2 bad usage or configuration.\n",
		role->name, role->description, argv0);
}

static void dispatch(m2m_node *n, m2m_request *req, void *arg)
{
	m2m_daemon *d = arg;
	if (m2m_common_dispatch(d, req))
		return;
	if (d->role->dispatch)
		d->role->dispatch(d, req);
	else
		m2m_refuse(n, req, M2M_R_UNEXPECTED_MESSAGE, "%s does not serve %s", d->role->name,
			   m2m_msgtype_name(req->env.type));
}

static void read_config(m2m_daemon *d, const char *path)
{
	static const char *const common[] = {"entity", "database", "log_level", "transport", "peers", NULL};
	static const char *const no_settings[] = {NULL};  /* a role without configure has none */
	m2m_conf *c = &d->conf;
	if (m2m_conf_load(c, path))
		return;
	/* the role's own group is the only other top-level setting allowed */
	const char *names[8];
	int k = 0;
	for (; common[k]; k++)
		names[k] = common[k];
	names[k++] = d->role->name;
	names[k] = NULL;
	m2m_conf_only(c, config_root_setting(&c->cfg), names);
	m2m_conf_node(c, &d->node_conf);
	const char *db = m2m_conf_str(c, NULL, "database", NULL, 1);
	snprintf(d->database, sizeof d->database, "%s", db ? db : "");
	static const char *const levels[] = {"debug", "info", "warn", "error", NULL};
	int level = m2m_conf_enum(c, NULL, "log_level", levels, M2M_LOG_INFO, 0);
	if (!c->failed)  /* optional for the testbed tool, which shares m2m_conf_node */
		m2m_conf_str(c, config_lookup(&c->cfg, "transport"), "bind", NULL, 1);
	config_setting_t *group = config_lookup(&c->cfg, d->role->name);
	if (d->role->configure)
		d->role->configure(d, c, group);
	else
		m2m_conf_only(c, group, no_settings);
	m2m_log_init(d->node_conf.entity, (m2m_log_level)level);
}

static int run(m2m_daemon *d)
{
	char err[512] = "";
	d->db = m2m_store_open(d->database, d->role->schema, err, sizeof err);
	if (!d->db) {
		m2m_error("database %s: %s", d->database, err);
		return 1;
	}
	d->node = m2m_node_new(&d->node_conf, d->db, err, sizeof err);
	if (!d->node) {
		m2m_error("transport: %s", err);
		return 1;
	}
	m2m_node_set_dispatch(d->node, dispatch, d);
	if (d->role->start && d->role->start(d)) {
		m2m_error("%s could not resume its procedures", d->role->name);
		return 1;
	}
	m2m_info("%s %s serving on %s", d->role->name, M2M_VERSION, m2m_node_bound(d->node));
	while (!stop_requested) {
		m2m_node_poll(d->node, 1000);
		if (d->role->tick && !stop_requested)
			d->role->tick(d);
	}
	m2m_info("stopping on signal %d", (int)stop_requested);
	return 0;
}

static void install_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);  /* no SA_RESTART: zmq_poll must return on a signal */
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* The role's configure may have allocated its context even when the file was refused. */
static void release_config(m2m_daemon *d)
{
	if (d->role->stop)
		d->role->stop(d);
	m2m_conf_free(&d->conf);
}

static void teardown(m2m_daemon *d)
{
	if (d->role->stop)
		d->role->stop(d);
	m2m_node_free(d->node);
	m2m_store_close(d->db);
	m2m_conf_free(&d->conf);
}

int m2m_daemon_main(int argc, char **argv, const m2m_role *role)
{
	const char *path = NULL;
	int check_only = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help")) {
			usage(stdout, role, argv[0]);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			printf("%s %s\n", role->name, M2M_VERSION);
			return 0;
		} else if (!strcmp(argv[i], "--check-config")) {
			check_only = 1;
		} else if (!strcmp(argv[i], "-c") && i + 1 < argc) {
			path = argv[++i];
		} else {
			fprintf(stderr, "%s: unknown argument %s\n", role->name, argv[i]);
			usage(stderr, role, argv[0]);
			return 2;
		}
	}
	if (!path) {
		usage(stderr, role, argv[0]);
		return 2;
	}
	m2m_daemon d = {.role = role, .started = time(NULL)};
	read_config(&d, path);
	if (d.conf.failed) {
		fprintf(stderr, "%s: %s\n", role->name, d.conf.error);
		release_config(&d);
		return 2;
	}
	if (check_only) {
		printf("%s: configuration OK\n", path);
		release_config(&d);
		return 0;
	}
	install_signals();
	int rc = run(&d);
	teardown(&d);
	return rc;
}

m2m_node *m2m_daemon_node(m2m_daemon *d) { return d->node; }
sqlite3 *m2m_daemon_db(m2m_daemon *d) { return d->db; }
const char *m2m_daemon_entity(const m2m_daemon *d) { return d->node_conf.entity; }
void *m2m_daemon_ctx(m2m_daemon *d) { return d->ctx; }
void m2m_daemon_set_ctx(m2m_daemon *d, void *ctx) { d->ctx = ctx; }
