/* The administration tools' command line (admin_tool.h). */
#include "daemon/admin_tool.h"

#include "log/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int m2m_admin_usage(const m2m_admin_tool *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", t->name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	fputs(t->usage_text, stderr);
	return 2;
}

static const m2m_admin_command *find_command(const m2m_admin_tool *t, const char *name)
{
	for (size_t i = 0; i < t->ncommands; i++)
		if (!strcmp(t->commands[i].name, name))
			return &t->commands[i];
	return NULL;
}

static int run(const m2m_admin_tool *t, const char *config, const m2m_admin_command *cmd, int argc, char **argv)
{
	char err[1024] = "";
	int rc = t->open(t->state, config);
	if (!rc) {
		rc = cmd->run(t->state, argc, argv, err, sizeof err);
		if (rc && err[0])
			fprintf(stderr, "%s: %s\n", t->name, err);
	}
	t->close(t->state);
	return rc;
}

int m2m_admin_open_database(const m2m_admin_tool *t, const char *config, m2m_conf *c,
			    void (*settings)(void *state, m2m_conf *c), const m2m_schema *schema, sqlite3 **db)
{
	const char *path = NULL;
	char err[512] = "";
	if (m2m_conf_load(c, config) == 0) {
		path = m2m_conf_str(c, NULL, "database", NULL, 1);
		settings(t->state, c);
	}
	if (c->failed) {
		fprintf(stderr, "%s: %s\n", t->name, c->error);
		return 2;
	}
	*db = m2m_store_open(path, schema, err, sizeof err);
	if (!*db) {
		fprintf(stderr, "%s: database %s: %s\n", t->name, path, err);
		return 1;
	}
	return 0;
}

void m2m_admin_close_database(m2m_conf *c, sqlite3 *db)
{
	m2m_store_close(db);
	m2m_conf_free(c);
}

int m2m_admin_main(int argc, char **argv, const m2m_admin_tool *t)
{
	const char *config = NULL;
	int i = 1;
	m2m_log_init(t->name, M2M_LOG_WARN);
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--help")) {
			fputs(t->usage_text, stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			printf("%s %s\n", t->name, M2M_VERSION);
			return 0;
		} else if (!strcmp(argv[i], "-c")) {
			if (i + 1 >= argc)
				return m2m_admin_usage(t, "-c needs the daemon's configuration file");
			config = argv[++i];
		} else {
			return m2m_admin_usage(t, "unknown option %s", argv[i]);
		}
	}
	if (!config)
		return m2m_admin_usage(t, "-c %s is required", t->config_hint);
	if (i >= argc)
		return m2m_admin_usage(t, "no command");
	const m2m_admin_command *cmd = find_command(t, argv[i]);
	if (!cmd)
		return m2m_admin_usage(t, "unknown command %s", argv[i]);
	return run(t, config, cmd, argc - i - 1, argv + i + 1);
}
