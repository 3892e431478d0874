/*
 * Subscribers as scenarios see them: the IMSI and home operator behind a card of the topology,
 * and the home operator's staff acting on a subscriber record through `mno-admin` (suspend on
 * the subscriber's request, resume, show its state and audit trail).
 */
#include "testbed.h"

#include <stdarg.h>
#include <strings.h>
#include <stdio.h>
#include <string.h>

const char *tb_card_imsi(const tb_session *s, const char *card)
{
	const tb_card *k = tb_card_origin(s->topology, tb_card_of(s->topology, card));
	return k ? k->imsi : "?";
}

const char *tb_card_home(const tb_session *s, const char *card)
{
	const tb_card *k = tb_card_of(s->topology, card);
	return k ? s->topology->entities[k->home].id : "?";
}

void tb_show_output(const char *text)
{
	for (const char *p = text; p && *p;) {
		size_t n = strcspn(p, "\n");
		printf("  | %.*s\n", (int)n, p);
		p += n + (p[n] == '\n');
	}
}

int tb_admin_step(tb_session *s, const char *op, const char *const *args, const char *fmt, ...)
{
	char what[512], how[64];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	tb_buf out = {0}, err = {0};
	tb_step(s, "%s", what);
	int rc = tb_admin(s->rundir, op, args, &out, &err);
	if (rc)
		tb_step_fail(s, "mno-admin %s at %s %s: %s", args[0], op, tb_tool_status(rc, how, sizeof how),
			     err.data ? err.data : "");
	else
		tb_step_ok(s);
	tb_buf_free(&out);
	tb_buf_free(&err);
	return rc ? -1 : 0;
}

int tb_subscriber_admin(tb_session *s, const char *command, const char *card, const char *why)
{
	const char *imsi = tb_card_imsi(s, card), *home = tb_card_home(s, card);
	const char *args[] = {command, imsi, NULL};
	tb_step(s, "%s: %s runs mno-admin %s %s", why, home, command, imsi);
	tb_buf out = {0}, err = {0};
	int rc = tb_admin(s->rundir, home, args, &out, &err);
	int result = rc == 0 ? tb_step_ok(s)
			     : tb_step_fail(s, "mno-admin %s %s at %s exited with %d: %s", command, imsi, home, rc,
					    err.data ? err.data : "");
	tb_show_output(out.data);
	tb_buf_free(&out);
	tb_buf_free(&err);
	return result;
}

/* Whether word occurs in text, ignoring case. */
static int mentions(const char *text, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = text; p && *p; p++)
		if (!strncasecmp(p, word, n))
			return 1;
	return 0;
}

/* The record's "state:" line names state ("active" must not match "inactive"). */
static int in_state(const char *text, const char *state)
{
	const char *line = text ? strstr(text, "state:") : NULL;
	if (!line)
		return 0;
	line += strlen("state:");
	line += strspn(line, " \t");
	return !strncmp(line, state, strlen(state)) && strchr(" \t\n", line[strlen(state)]) != NULL;
}

int tb_record_expect(tb_session *s, const char *op, const char *imsi, const char *state, const char *const *words)
{
	const char *args[] = {"show", imsi, NULL};
	tb_step(s, "%s's record of IMSI %s says %s (mno-admin show)", op, imsi, state);
	tb_buf out = {0}, err = {0};
	int rc = tb_admin(s->rundir, op, args, &out, &err), result = 0;
	if (rc != 0)
		result = tb_step_fail(s, "mno-admin show %s at %s exited with %d: %s", imsi, op, rc, err.data ? err.data : "");
	else if (!in_state(out.data, state))
		result = tb_step_fail(s, "the record does not say \"state: %s\"", state);
	for (int i = 0; !result && words && words[i]; i++)
		if (!mentions(out.data, words[i]))
			result = tb_step_fail(s, "the record does not mention \"%s\"", words[i]);
	if (!result)
		tb_step_ok(s);
	tb_show_output(out.data);
	tb_buf_free(&out);
	tb_buf_free(&err);
	return result;
}

int tb_subscriber_expect(tb_session *s, const char *card, const char *state, const char *const *words)
{
	return tb_record_expect(s, tb_card_home(s, card), tb_card_imsi(s, card), state, words);
}
