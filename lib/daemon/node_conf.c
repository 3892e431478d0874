/* The transport settings shared by every daemon's file and the testbed tool's. */
#include "daemon/daemon.h"

#include <stdio.h>
#include <string.h>
#include <zmq.h>

static void copy_setting(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

static void read_secret_key(m2m_conf *c, config_setting_t *t, m2m_node_conf *out)
{
	const char *path = m2m_conf_str(c, t, "secret_key_file", NULL, 1);
	if (!path)
		return;
	FILE *f = fopen(path, "r");
	char key[64] = "";
	if (!f || !fgets(key, sizeof key, f))
		m2m_conf_fail(c, config_setting_get_member(t, "secret_key_file"), "cannot read %s", path);
	else {
		key[strcspn(key, "\r\n")] = 0;
		uint8_t raw[32];
		if (strlen(key) != 40 || !zmq_z85_decode(raw, key))
			m2m_conf_fail(c, config_setting_get_member(t, "secret_key_file"),
				      "%s does not hold a 40-character Z85 CURVE secret key", path);
		copy_setting(out->secret_key, sizeof out->secret_key, key);
	}
	if (f)
		fclose(f);
}

static void read_peer(m2m_conf *c, config_setting_t *p, m2m_peer_conf *out)
{
	static const char *const names[] = {"id", "endpoint", "public_key", NULL};
	m2m_conf_only(c, p, names);
	copy_setting(out->id, sizeof out->id, m2m_conf_str(c, p, "id", NULL, 1));
	copy_setting(out->endpoint, sizeof out->endpoint, m2m_conf_str(c, p, "endpoint", "", 0));
	const char *key = m2m_conf_str(c, p, "public_key", NULL, 1);
	uint8_t raw[32];
	if (key && (strlen(key) != 40 || !zmq_z85_decode(raw, key)))
		m2m_conf_fail(c, config_setting_get_member(p, "public_key"), "must be 40 Z85 characters");
	copy_setting(out->public_key, sizeof out->public_key, key);
}

void m2m_conf_node(m2m_conf *c, m2m_node_conf *out)
{
	static const char *const names[] = {"bind", "tap", "secret_key_file", "timeout_ms", "retries", NULL};
	memset(out, 0, sizeof *out);
	copy_setting(out->entity, sizeof out->entity, m2m_conf_str(c, NULL, "entity", NULL, 1));
	config_setting_t *t = m2m_conf_group(c, NULL, "transport", 1);
	m2m_conf_only(c, t, names);
	copy_setting(out->bind, sizeof out->bind, m2m_conf_str(c, t, "bind", "", 0));
	copy_setting(out->tap, sizeof out->tap, m2m_conf_str(c, t, "tap", "", 0));
	out->timeout_ms = (int)m2m_conf_int(c, t, "timeout_ms", 1000, 1, 600000, 0);
	out->retries = (int)m2m_conf_int(c, t, "retries", 2, 0, 100, 0);
	read_secret_key(c, t, out);
	config_setting_t *peers = m2m_conf_list(c, NULL, "peers", 0);
	int count = peers ? config_setting_length(peers) : 0;
	if (count > M2M_MAX_PEERS)
		m2m_conf_fail(c, peers, "at most %d peers", M2M_MAX_PEERS);
	for (int i = 0; i < count && i < M2M_MAX_PEERS; i++) {
		config_setting_t *p = config_setting_get_elem(peers, (unsigned)i);
		if (!config_setting_is_group(p)) {
			m2m_conf_fail(c, p, "each peer is a group { id, endpoint, public_key }");
			break;
		}
		read_peer(c, p, &out->peers[i]);
		for (int j = 0; j < i; j++)
			if (!strcmp(out->peers[j].id, out->peers[i].id))
				m2m_conf_fail(c, p, "peer %s is listed twice", out->peers[i].id);
	}
	out->npeers = count < M2M_MAX_PEERS ? count : M2M_MAX_PEERS;
}

int m2m_client_conf(const char *path, m2m_node_conf *out, char *err, size_t errlen)
{
	m2m_conf c;
	memset(&c, 0, sizeof c);
	memset(out, 0, sizeof *out);
	if (m2m_conf_load(&c, path) == 0)
		m2m_conf_node(&c, out);
	else
		c.failed = 1;
	int failed = c.failed;
	if (failed)
		snprintf(err, errlen, "%s", c.error);
	m2m_conf_free(&c);
	return failed ? -1 : 0;
}

/* ---- a role's settings that name a peer ------------------------------------------------------- */

int m2m_conf_is_peer(m2m_conf *c, const char *id, int *has_endpoint)
{
	config_setting_t *peers = config_lookup(&c->cfg, "peers");
	for (int i = 0; peers && i < config_setting_length(peers); i++) {
		const char *pid = NULL, *endpoint = "";
		config_setting_t *p = config_setting_get_elem(peers, (unsigned)i);
		if (!config_setting_lookup_string(p, "id", &pid) || strcmp(pid, id))
			continue;
		config_setting_lookup_string(p, "endpoint", &endpoint);
		if (has_endpoint)
			*has_endpoint = endpoint[0] != 0;
		return 1;
	}
	return 0;
}

int m2m_conf_check_peer(m2m_conf *c, const config_setting_t *at, const char *id, int need_endpoint)
{
	int endpoint = 0;
	if (!m2m_conf_is_peer(c, id, &endpoint))
		m2m_conf_fail(c, at, "%s is not in peers", id);
	else if (need_endpoint && !endpoint)
		m2m_conf_fail(c, at, "%s is a peer without an endpoint: it cannot be called", id);
	else
		return 0;
	return -1;
}

int m2m_conf_peer(m2m_conf *c, config_setting_t *group, const char *name, const char *dflt, int need_endpoint,
		  char out[M2M_ENTITY_MAX + 1])
{
	const char *id = m2m_conf_str(c, group, name, dflt, !dflt);
	config_setting_t *at = group ? config_setting_get_member(group, name) : NULL;
	if (!id)
		return -1;
	if (!id[0] || strlen(id) > M2M_ENTITY_MAX) {
		m2m_conf_fail(c, at ? at : group, "must be an entity id of 1 to %d characters", M2M_ENTITY_MAX);
		return -1;
	}
	if (m2m_conf_check_peer(c, at ? at : group, id, need_endpoint))
		return -1;
	snprintf(out, M2M_ENTITY_MAX + 1, "%s", id);
	return 0;
}
