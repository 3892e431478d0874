/*
 * The `mno` group in visited mode:
 *
 *   mno = { mode = "visited";
 *           plmn = "00103";                                  # our MCC || MNC
 *           storage_key_file = "/run/keys/mno-v.storage";    # 64 hex digits: seals vectors, session keys
 *           roaming = ( { plmn = "00101"; home = "mno-a"; },  # IMSI prefix -> home operator (a peer)
 *                       { plmn = "00102"; home = "mno-b"; },
 *                       { plmn = "00109"; home = "drf"; pcid = true; } );  # a registration operator's ICF
 *           walled_garden = [ "drf", "mno-a", "mno-b", "certauth" ];  # what a PCID session reaches
 *           attack = "none"; };                              # "false-network" | "replay": attackers only
 *
 * roaming may be absent or empty: every attach is then refused roamingNotAllowed (or answered by
 * the false-network attacker itself). walled_garden may be absent or empty: a PCID session then
 * reaches nothing. Every home and every walled-garden entity must be a peer with an endpoint.
 */
#include "vno/vno_impl.h"

#include "crypto/crypto.h"

#include <stdio.h>
#include <string.h>

static const char *const attack_names[] = {"none", "false-network", "replay", NULL};

const char *vno_attack_name(vno_attack a)
{
	return attack_names[a];
}

/* 5 or 6 digits: MCC (3) and MNC (2 or 3), TS 23.003 2.2. 0 when it is one. */
static int plmn_invalid(const char *plmn)
{
	size_t n = strlen(plmn);
	return (n != 5 && n != 6) || strspn(plmn, "0123456789") != n;
}

static void read_plmn(m2m_conf *c, config_setting_t *group, char out[VNO_PLMN_MAX + 1])
{
	const char *plmn = m2m_conf_str(c, group, "plmn", NULL, 1);
	if (!plmn)
		return;
	if (plmn_invalid(plmn))
		m2m_conf_fail(c, config_setting_get_member(group, "plmn"), "must be 5 or 6 digits (MCC || MNC)");
	else
		snprintf(out, VNO_PLMN_MAX + 1, "%s", plmn);
}

static void read_agreement(m2m_conf *c, config_setting_t *entry, vno_settings *out)
{
	static const char *const names[] = {"plmn", "home", "pcid", NULL};
	if (!config_setting_is_group(entry)) {
		m2m_conf_fail(c, entry, "each roaming agreement is a group { plmn; home; pcid; }");
		return;
	}
	m2m_conf_only(c, entry, names);
	const char *plmn = m2m_conf_str(c, entry, "plmn", NULL, 1);
	const char *home = m2m_conf_str(c, entry, "home", NULL, 1);
	if (!plmn || !home)
		return;
	if (plmn_invalid(plmn)) {
		m2m_conf_fail(c, config_setting_get_member(entry, "plmn"), "must be 5 or 6 digits (MCC || MNC)");
		return;
	}
	if (!home[0] || strlen(home) > M2M_ENTITY_MAX) {
		m2m_conf_fail(c, config_setting_get_member(entry, "home"), "must be an entity id of 1 to %d characters",
			      M2M_ENTITY_MAX);
		return;
	}
	for (int i = 0; i < out->nroaming; i++)
		if (!strcmp(out->roaming[i].plmn, plmn)) {
			m2m_conf_fail(c, config_setting_get_member(entry, "plmn"), "PLMN %s has two roaming agreements",
				      plmn);
			return;
		}
	vno_roaming *r = &out->roaming[out->nroaming++];
	snprintf(r->plmn, sizeof r->plmn, "%s", plmn);
	snprintf(r->home, sizeof r->home, "%s", home);
	r->pcid = m2m_conf_bool(c, entry, "pcid", 0, 0);
}

static void read_roaming(m2m_conf *c, config_setting_t *group, vno_settings *out)
{
	config_setting_t *list = m2m_conf_list(c, group, "roaming", 0);
	int count = list ? config_setting_length(list) : 0;
	if (count > VNO_ROAMING_MAX) {
		m2m_conf_fail(c, list, "at most %d roaming agreements", VNO_ROAMING_MAX);
		return;
	}
	for (int i = 0; i < count && !c->failed; i++)
		read_agreement(c, config_setting_get_elem(list, (unsigned)i), out);
}

static void read_walled_garden(m2m_conf *c, config_setting_t *group, vno_settings *out)
{
	config_setting_t *list = config_setting_get_member(group, "walled_garden");
	if (!list)
		return;
	int count = config_setting_is_array(list) || config_setting_is_list(list) ? config_setting_length(list) : -1;
	if (count < 0 || count > VNO_WALLED_MAX) {
		m2m_conf_fail(c, list, "must list at most %d entity ids ([ \"drf\", ... ])", VNO_WALLED_MAX);
		return;
	}
	for (int i = 0; i < count && !c->failed; i++) {
		config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
		const char *id = config_setting_get_string(e);
		if (!id || !id[0] || strlen(id) > M2M_ENTITY_MAX)
			m2m_conf_fail(c, e, "must be an entity id of 1 to %d characters in double quotes", M2M_ENTITY_MAX);
		else
			snprintf(out->walled[out->nwalled++], M2M_ENTITY_MAX + 1, "%s", id);
	}
}

void vno_settings_read(m2m_conf *c, config_setting_t *group, vno_settings *out)
{
	static const char *const names[] = {"mode", "plmn", "storage_key_file", "roaming", "walled_garden", "attack",
					    NULL};
	memset(out, 0, sizeof *out);
	if (!group) {
		m2m_conf_fail(c, NULL, "mno: missing (a visited operator needs mode, plmn and storage_key_file)");
		return;
	}
	m2m_conf_only(c, group, names);
	read_plmn(c, group, out->plmn);
	m2m_conf_key_file(c, group, "storage_key_file", out->storage_key, 32);
	read_roaming(c, group, out);
	read_walled_garden(c, group, out);
	out->attack = (vno_attack)m2m_conf_enum(c, group, "attack", attack_names, VNO_ATTACK_NONE, 0);
}

/* what: "a home operator", "a walled-garden entity": for the message. */
static void check_callable(m2m_conf *c, config_setting_t *at, const m2m_node_conf *nc, const char *id,
			   const char *what)
{
	const m2m_peer_conf *p = m2m_node_conf_peer(nc, id);
	if (!p)
		m2m_conf_fail(c, at, "%s is not a configured peer", id);
	else if (!p->endpoint[0])
		m2m_conf_fail(c, at, "peer %s has no endpoint: %s must be callable", id, what);
}

void vno_settings_check_peers(m2m_conf *c, config_setting_t *group, const vno_settings *s,
			      const m2m_node_conf *nc)
{
	config_setting_t *list = group ? config_setting_get_member(group, "roaming") : NULL;
	for (int i = 0; i < s->nroaming && !c->failed; i++) {
		config_setting_t *entry = list ? config_setting_get_elem(list, (unsigned)i) : NULL;
		config_setting_t *at = entry ? config_setting_get_member(entry, "home") : group;
		check_callable(c, at, nc, s->roaming[i].home, "a home operator");
	}
	list = group ? config_setting_get_member(group, "walled_garden") : NULL;
	for (int i = 0; i < s->nwalled && !c->failed; i++) {
		config_setting_t *at = list ? config_setting_get_elem(list, (unsigned)i) : group;
		check_callable(c, at, nc, s->walled[i], "a walled-garden entity");
	}
}

void vno_settings_wipe(vno_settings *s)
{
	m2m_wipe(s, sizeof *s);
}
