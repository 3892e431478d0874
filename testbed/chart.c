/*
 * Message sequence charts from the trace. Each message is seen up to twice on the taps (the
 * sender's tx, the receiver's rx): it becomes one arc, placed at its send time when the sender
 * has a tap, else at its receive time (the testbed tool has no tap), so identified by (from, seq).
 */
#include "testbed.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define LABEL_SUMMARY 24  /* characters of the body summary shown on an arc */
#define MAX_CHART_ENTITIES (TB_MAX_ENTITIES + 8)

typedef struct arc {
	uint64_t time, seq;
	int has_seq, from_tx, order;
	char from[M2M_ENTITY_MAX + 2], to[M2M_ENTITY_MAX + 2];
	char type[40], txid[40], reason[40], summary[LABEL_SUMMARY + 4];
} arc;

typedef struct arcs {
	arc *v;
	int n, cap;
} arcs;

static arc *find_message(arcs *a, const arc *m)
{
	for (int i = 0; m->has_seq && i < a->n; i++)
		if (a->v[i].has_seq && a->v[i].seq == m->seq && !strcmp(a->v[i].from, m->from))
			return &a->v[i];
	return NULL;
}

/* Reads one trace line into m; -1 for a line that is not a tap event. */
static int parse_event(const char *line, arc *m)
{
	char event[8], observer[M2M_ENTITY_MAX + 2], summary[512] = "";
	memset(m, 0, sizeof *m);
	if (tb_json_str(line, "event", event, sizeof event) || tb_json_str(line, "observer", observer, sizeof observer) ||
	    tb_json_str(line, "type", m->type, sizeof m->type) || tb_json_u64(line, "time", &m->time))
		return -1;
	int tx = !strcmp(event, "tx");
	/* an undecodable message may lack the header: the observer is then its only known end */
	if (tb_json_str(line, "from", m->from, sizeof m->from))
		snprintf(m->from, sizeof m->from, "%s", tx ? observer : "?");
	if (tb_json_str(line, "to", m->to, sizeof m->to))
		snprintf(m->to, sizeof m->to, "%s", tx ? "?" : observer);
	m->has_seq = !tb_json_u64(line, "seq", &m->seq);
	m->from_tx = tx && !strcmp(observer, m->from);
	tb_json_str(line, "txid", m->txid, sizeof m->txid);
	tb_json_str(line, "reason", m->reason, sizeof m->reason);
	tb_json_str(line, "summary", summary, sizeof summary);
	snprintf(m->summary, sizeof m->summary, "%.*s%s", LABEL_SUMMARY, summary,
		 strlen(summary) > LABEL_SUMMARY ? "..." : "");
	return 0;
}

static void collect(arcs *a, const char *trace)
{
	char *copy = strdup(trace), *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		arc m;
		if (parse_event(line, &m))
			continue;
		arc *seen = find_message(a, &m);
		if (seen) {
			if (m.from_tx && !seen->from_tx) {  /* the sender's own record wins */
				m.order = seen->order;
				*seen = m;
			}
			continue;
		}
		if (a->n == a->cap)
			a->v = realloc(a->v, (size_t)(a->cap = a->cap ? a->cap * 2 : 64) * sizeof *a->v);
		m.order = a->n;
		a->v[a->n++] = m;
	}
	free(copy);
}

static int by_time(const void *x, const void *y)
{
	const arc *a = x, *b = y;
	if (a->time != b->time)
		return a->time < b->time ? -1 : 1;
	return a->order - b->order;
}

/* A reply travels back along a transaction an earlier arc opened the other way. */
static int is_reply(const arcs *a, int i)
{
	const arc *m = &a->v[i];
	for (int j = 0; j < i && m->txid[0]; j++)
		if (!strcmp(a->v[j].txid, m->txid) && !strcmp(a->v[j].from, m->to) && !strcmp(a->v[j].to, m->from))
			return 1;
	return 0;
}

/* ---- writing mscgen --------------------------------------------------------------------------- */

static void put_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void add_entity(const char **names, int *n, const char *name)
{
	for (int i = 0; i < *n; i++)
		if (!strcmp(names[i], name))
			return;
	if (*n < MAX_CHART_ENTITIES)
		names[(*n)++] = name;
}

/* The tool first, the topology in its own order, then anyone else the trace names ("?"). */
static int entities(const tb_topology *t, const arcs *a, const char **names)
{
	int n = 0;
	add_entity(names, &n, TB_SELF);
	for (int i = 0; i < t->nentities; i++)
		add_entity(names, &n, t->entities[i].id);
	for (int i = 0; i < a->n; i++) {
		add_entity(names, &n, a->v[i].from);
		add_entity(names, &n, a->v[i].to);
	}
	return n;
}

static void put_arc(FILE *f, const arcs *a, int i)
{
	const arc *m = &a->v[i];
	int error = !strcmp(m->type, "error") || !strcmp(m->type, "undecodable");
	char label[160];
	if (error)
		snprintf(label, sizeof label, "%s: %s", m->type, m->reason[0] ? m->reason : "?");
	else
		snprintf(label, sizeof label, "%s%s%s", m->type, m->summary[0] ? " " : "", m->summary);
	fprintf(f, "  ");
	put_quoted(f, m->from);
	fprintf(f, " %s ", error ? ":>" : is_reply(a, i) ? ">>" : "->");
	put_quoted(f, m->to);
	fprintf(f, " [label = ");
	put_quoted(f, label);
	fprintf(f, "%s];\n", error ? ", linecolour = \"red\", textcolour = \"red\"" : "");
}

static int write_msc(const char *path, const tb_topology *t, const char *title, const arcs *a)
{
	const char *names[MAX_CHART_ENTITIES];
	int n = entities(t, a, names);
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "testbed: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(f, "# %s\n# -> request, >> reply, red :> error report or undecodable message\nmsc {\n", title);
	fprintf(f, "  hscale = \"%d\";\n  ", n > 6 ? (n + 2) / 4 : 1);
	for (int i = 0; i < n; i++) {
		put_quoted(f, names[i]);
		fprintf(f, "%s", i + 1 < n ? ", " : ";\n");
	}
	for (int i = 0; i < a->n; i++)
		put_arc(f, a, i);
	fprintf(f, "}\n");
	return fclose(f) ? -1 : 0;
}

/* ---- svg ------------------------------------------------------------------------------------- */

static int on_path(const char *program)
{
	const char *path = getenv("PATH");
	char *dirs = strdup(path ? path : "/usr/bin:/bin"), *save = NULL, file[PATH_MAX];
	int found = 0;
	for (char *d = strtok_r(dirs, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
		snprintf(file, sizeof file, "%s/%s", d, program);
		found = access(file, X_OK) == 0;
	}
	free(dirs);
	return found;
}

/* SVG is optional: without mscgen the .msc text is the chart. */
static void render_svg(const char *msc, const char *svg)
{
	if (!on_path("mscgen"))
		return;
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		execlp("mscgen", "mscgen", "-T", "svg", "-i", msc, "-o", svg, (char *)NULL);
		_exit(127);
	}
	int status = 0;
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		fprintf(stderr, "testbed: mscgen could not render %s (the .msc file is still there)\n", msc);
}

int tb_chart_render(const char *rundir, const tb_topology *t, const char *name, const char *title,
		    const char *trace)
{
	char dir[PATH_MAX], msc[PATH_MAX], svg[PATH_MAX];
	if (tb_path(dir, sizeof dir, rundir, "charts", "") || tb_path(msc, sizeof msc, dir, name, ".msc") ||
	    tb_path(svg, sizeof svg, dir, name, ".svg"))
		return -1;
	if (mkdir(dir, 0755) && errno != EEXIST) {
		fprintf(stderr, "testbed: cannot create %s: %s\n", dir, strerror(errno));
		return -1;
	}
	arcs a = {0};
	collect(&a, trace);
	qsort(a.v, (size_t)a.n, sizeof *a.v, by_time);
	int rc = write_msc(msc, t, title, &a);
	free(a.v);
	unlink(svg);  /* never leave the picture of an earlier run beside this chart */
	if (!rc)
		render_svg(msc, svg);
	return rc;
}
