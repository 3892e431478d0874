/*
 * The steps of Alternative 3a that scenarios share (scenario_3a.c, scenario_3a_recover.c): the
 * subscriber's signed authorisation written for a port, the new operator's staff starting the
 * port (`mno-admin port start`) and either operator's view of it (`mno-admin port status`: the
 * port's state, and each card's IMSIs, state and OTA job), and
 * the run directory's note of which port moves which card (RUNDIR/port/CARD.port), so that a
 * scenario run after an interruption finds the port the interrupted one started.
 */
#include "testbed.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define PORT_DIR "port"
#define POLL_MS 200

int tb_port_path(char *out, size_t len, const char *rundir, const char *name, const char *suffix)
{
	char dir[PATH_MAX];
	if (tb_path(dir, sizeof dir, rundir, PORT_DIR, "") || (mkdir(dir, 0755) && errno != EEXIST))
		return -1;
	return tb_path(out, len, dir, name, suffix);
}

/* The first run of 32 hex digits in text: how mno-admin names a port. */
static int find_port_id(const char *text, char id[TB_PORT_ID_HEX + 1])
{
	for (const char *p = text; p && *p; p++) {
		size_t n = strspn(p, "0123456789abcdef");
		if (n == TB_PORT_ID_HEX && (p == text || !strchr("0123456789abcdefABCDEF", p[-1]))) {
			snprintf(id, TB_PORT_ID_HEX + 1, "%.*s", TB_PORT_ID_HEX, p);
			return 0;
		}
		p += n ? n - 1 : 0;
	}
	return -1;
}

int tb_port_start(tb_session *s, const char *to, const char *from, const char *authorisation,
		  char id[TB_PORT_ID_HEX + 1], char *why, size_t len)
{
	const char *args[] = {"port", "start", "--from", from, "--authorisation", authorisation, NULL};
	tb_buf out = {0}, err = {0};
	id[0] = 0;
	int rc = tb_admin(s->rundir, to, args, &out, &err);
	char how[64];
	if (rc)
		snprintf(why, len, "mno-admin port start at %s %s: %s", to, tb_tool_status(rc, how, sizeof how), err.data);
	else if (find_port_id(out.data, id))
		snprintf(why, len, "mno-admin port start at %s names no port: %s", to, out.data);
	tb_show_output(out.data);
	int failed = rc || !id[0];
	tb_buf_free(&out);
	tb_buf_free(&err);
	return failed ? -1 : 0;
}

int tb_port_status(const tb_session *s, const char *op, const char *id, tb_buf *out)
{
	const char *args[] = {"port", "status", id, NULL};
	tb_buf err = {0};
	int rc = tb_admin(s->rundir, op, args, out, &err);
	if (rc)
		tb_buf_printf(out, "(mno-admin port status exited with %d: %s)", rc, err.data ? err.data : "");
	tb_buf_free(&err);
	return rc;
}

/* The value of the "state:" line of a port status, into state. */
static int status_state(const char *text, char *state, size_t len)
{
	const char *line = text ? strstr(text, "state:") : NULL;
	if (!line)
		return -1;
	line += strlen("state:");
	line += strspn(line, " \t");
	snprintf(state, len, "%.*s", (int)strcspn(line, " \t\n("), line);
	return 0;
}

int tb_port_wait(tb_session *s, const char *op, const char *id, const char *const *states, int ms, tb_buf *last)
{
	uint64_t until = tb_now_us() + (uint64_t)ms * 1000u;
	for (;;) {
		char state[32] = "";
		tb_buf_free(last);
		tb_port_status(s, op, id, last);
		if (!status_state(last->data, state, sizeof state))
			for (int i = 0; states[i]; i++)
				if (!strcmp(state, states[i]))
					return i;
		if (tb_now_us() >= until)
			return -1;
		struct timespec ts = {0, POLL_MS * 1000000L};
		nanosleep(&ts, NULL);
	}
}

/* The line "card: ICCID OLD -> NEW STATE[ job=N]" of iccid in a port status. */
static int card_line(const char *text, const char *iccid, tb_port_card *out)
{
	char want[40];
	snprintf(want, sizeof want, "card: %s ", iccid);
	const char *line = text ? strstr(text, want) : NULL;
	memset(out, 0, sizeof *out);
	if (!line || sscanf(line + strlen(want), "%15s -> %15s %31s", out->old_imsi, out->new_imsi, out->state) != 3)
		return -1;
	const char *job = strstr(line, " job="), *end = strchr(line, '\n');
	if (job && (!end || job < end))
		snprintf(out->job, sizeof out->job, "%.*s", (int)strspn(job + 5, "0123456789"), job + 5);
	return 0;
}

int tb_port_card_of(const tb_session *s, const char *op, const char *id, const char *iccid, tb_port_card *out)
{
	tb_buf status = {0};
	int rc = tb_port_status(s, op, id, &status) ? -1 : card_line(status.data, iccid, out);
	tb_buf_free(&status);
	return rc;
}

int tb_port_note(const char *rundir, const char *card, const char *id)
{
	char path[PATH_MAX], text[TB_PORT_ID_HEX + 2];
	snprintf(text, sizeof text, "%s\n", id);
	return tb_port_path(path, sizeof path, rundir, card, ".port") || tb_write_file(path, text, 0644);
}

int tb_port_noted(const char *rundir, const char *card, char id[TB_PORT_ID_HEX + 1])
{
	char path[PATH_MAX];
	char *text = tb_port_path(path, sizeof path, rundir, card, ".port") ? NULL : tb_read_file(path, 0, NULL);
	int rc = text ? find_port_id(text, id) : -1;
	free(text);
	return rc;
}
