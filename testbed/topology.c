/*
 * The topology file: which entities run, with which role and settings, and which links join
 * them. Read with lib/conf so that every problem is reported as FILE:LINE: SETTING: problem.
 */
#include "testbed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const roles[] = {"m2me", "tre", "uicc", "drf", "mno", "certauth", NULL};
/* Names the run directory uses for the tool's own files. */
static const char *const reserved[] = {TB_SELF, TB_RECORDER, "topology", NULL};

int tb_entity_index(const tb_topology *t, const char *id)
{
	for (int i = 0; i < t->nentities; i++)
		if (!strcmp(t->entities[i].id, id))
			return i;
	return -1;
}

static int listed(const char *const *names, const char *s)
{
	for (int i = 0; names[i]; i++)
		if (!strcmp(names[i], s))
			return 1;
	return 0;
}

/* An id names files and sockets: lowercase letters, digits and inner hyphens only. */
static int valid_id(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > M2M_ENTITY_MAX || id[0] == '-' || id[n - 1] == '-')
		return 0;
	return strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

static void read_entity(tb_topology *t, config_setting_t *s)
{
	static const char *const names[] = {"id", "role", "settings", NULL};
	m2m_conf *c = &t->conf;
	if (!config_setting_is_group(s)) {
		m2m_conf_fail(c, s, "each entity is a group { id; role; settings }");
		return;
	}
	m2m_conf_only(c, s, names);
	const char *id = m2m_conf_str(c, s, "id", "", 1);
	const char *role = m2m_conf_str(c, s, "role", "", 1);
	if (c->failed)
		return;
	if (!valid_id(id) || listed(reserved, id))
		m2m_conf_fail(c, config_setting_get_member(s, "id"),
			      "\"%s\" is not a usable id (a-z, 0-9 and inner '-'; not testbed, recorder, topology)", id);
	else if (tb_entity_index(t, id) >= 0)
		m2m_conf_fail(c, s, "entity %s is listed twice", id);
	else if (!listed(roles, role))
		m2m_conf_fail(c, config_setting_get_member(s, "role"),
			      "unknown role \"%s\" (m2me, tre, uicc, drf, mno, certauth)", role);
	if (c->failed)
		return;
	tb_entity *e = &t->entities[t->nentities++];
	snprintf(e->id, sizeof e->id, "%s", id);
	snprintf(e->role, sizeof e->role, "%s", role);
	e->settings = m2m_conf_group(c, s, "settings", 0);
}

static int linked(const tb_entity *e, int other)
{
	for (int i = 0; i < e->npeers; i++)
		if (e->peers[i] == other)
			return 1;
	return 0;
}

static void read_link(tb_topology *t, config_setting_t *s)
{
	m2m_conf *c = &t->conf;
	const char *a = config_setting_get_string_elem(s, 0), *b = config_setting_get_string_elem(s, 1);
	if (config_setting_is_group(s) || config_setting_length(s) != 2 || !a || !b) {
		m2m_conf_fail(c, s, "each link is a pair of entity ids: [\"a\", \"b\"]");
		return;
	}
	int ia = tb_entity_index(t, a), ib = tb_entity_index(t, b);
	if (ia < 0 || ib < 0)
		m2m_conf_fail(c, s, "link to an unknown entity %s", ia < 0 ? a : b);
	else if (ia == ib)
		m2m_conf_fail(c, s, "entity %s is linked to itself", a);
	else if (linked(&t->entities[ia], ib))
		m2m_conf_fail(c, s, "the link %s - %s is listed twice", a, b);
	else if (t->nlinks == TB_MAX_LINKS)
		m2m_conf_fail(c, s, "at most %d links", TB_MAX_LINKS);
	if (c->failed)
		return;
	/* links are symmetric: each end calls the other */
	t->entities[ia].peers[t->entities[ia].npeers++] = ib;
	t->entities[ib].peers[t->entities[ib].npeers++] = ia;
	t->links[t->nlinks][0] = ia;
	t->links[t->nlinks][1] = ib;
	t->nlinks++;
}

/* Link timing and log level of the daemons, and the tool's own call timing. */
static void read_timing(tb_topology *t)
{
	static const char *const dnames[] = {"timeout_ms", "retries", "log_level", NULL};
	static const char *const tnames[] = {"timeout_ms", "retries", NULL};
	static const char *const levels[] = {"debug", "info", "warn", "error", NULL};
	m2m_conf *c = &t->conf;
	config_setting_t *d = m2m_conf_group(c, NULL, "daemons", 0);
	config_setting_t *tb = m2m_conf_group(c, NULL, TB_SELF, 0);
	if (d)
		m2m_conf_only(c, d, dnames);
	if (tb)
		m2m_conf_only(c, tb, tnames);
	t->daemon_timeout_ms = (int)m2m_conf_int(c, d, "timeout_ms", 500, 1, 600000, 0);
	t->daemon_retries = (int)m2m_conf_int(c, d, "retries", 2, 0, 100, 0);
	snprintf(t->log_level, sizeof t->log_level, "%s", levels[m2m_conf_enum(c, d, "log_level", levels, 1, 0)]);
	t->testbed_timeout_ms = (int)m2m_conf_int(c, tb, "timeout_ms", 3000, 1, 600000, 0);
	t->testbed_retries = (int)m2m_conf_int(c, tb, "retries", 1, 0, 100, 0);
}

tb_topology *tb_topology_load(const char *path)
{
	static const char *const names[] = {"entities", "links", "daemons", TB_SELF, NULL};
	tb_topology *t = calloc(1, sizeof *t);
	m2m_conf *c = &t->conf;
	if (m2m_conf_load(c, path))
		c->failed = 1;  /* the loader explains why in c->error */
	else {
		m2m_conf_only(c, config_root_setting(&c->cfg), names);
		read_timing(t);
		config_setting_t *ents = m2m_conf_list(c, NULL, "entities", 1);
		int n = ents ? config_setting_length(ents) : 0;
		if (n > TB_MAX_ENTITIES)
			m2m_conf_fail(c, ents, "at most %d entities", TB_MAX_ENTITIES);
		for (int i = 0; i < n && !c->failed; i++)
			read_entity(t, config_setting_get_elem(ents, (unsigned)i));
		config_setting_t *links = m2m_conf_list(c, NULL, "links", 0);
		n = links ? config_setting_length(links) : 0;
		for (int i = 0; i < n && !c->failed; i++)
			read_link(t, config_setting_get_elem(links, (unsigned)i));
		if (!c->failed && t->nentities == 0)
			m2m_conf_fail(c, ents, "no entities");
	}
	if (c->failed) {
		fprintf(stderr, "testbed: topology %s\n", c->error);
		tb_topology_free(t);
		return NULL;
	}
	return t;
}

void tb_topology_free(tb_topology *t)
{
	if (!t)
		return;
	m2m_conf_free(&t->conf);
	free(t);
}
