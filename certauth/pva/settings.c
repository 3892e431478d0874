/*
 * The `pva` group of the certauth configuration:
 *
 *   pva = { relying_parties = ("mno-a", "drf");   # who may ask; absent: every configured peer
 *           verdict_validity_s = 600;             # how long an ok verdict lets a relying party act
 *           unknown_digest = "fail";              # or "quarantine": a component with no certified value
 *           nonce_lifetime_s = 60; };             # how long a TRE has to answer a challenge
 *
 * Every relying party must be a configured peer (it calls us, so an endpoint is not needed):
 * a name that no key is bound to could never ask, and is most likely misspelt.
 */
#include "pva_impl.h"

#include "crypto/crypto.h"

#include <stdio.h>
#include <string.h>

static const char *const unknown_names[] = {"fail", "quarantine", NULL};

const char *pva_unknown_policy_name(pva_unknown_policy p)
{
	return unknown_names[p];
}

static int listed(const pva_settings *s, const char *id)
{
	for (int i = 0; i < s->nrelying; i++)
		if (!strcmp(s->relying[i], id))
			return 1;
	return 0;
}

static void read_relying_party(m2m_conf *c, config_setting_t *entry, const m2m_node_conf *nc, pva_settings *out)
{
	const char *id = config_setting_get_string(entry);
	if (!id || !id[0] || strlen(id) > M2M_ENTITY_MAX) {
		m2m_conf_fail(c, entry, "must be an entity id of 1 to %d characters", M2M_ENTITY_MAX);
		return;
	}
	if (!m2m_node_conf_peer(nc, id)) {
		m2m_conf_fail(c, entry, "%s is not a configured peer", id);
		return;
	}
	if (listed(out, id)) {
		m2m_conf_fail(c, entry, "%s is listed twice", id);
		return;
	}
	snprintf(out->relying[out->nrelying++], M2M_ENTITY_MAX + 1, "%s", id);
}

static void read_relying_parties(m2m_conf *c, config_setting_t *group, const m2m_node_conf *nc,
				 pva_settings *out)
{
	config_setting_t *list = config_setting_get_member(group, "relying_parties");
	if (!list)
		return;  /* every configured peer may ask */
	if (!config_setting_is_list(list) && !config_setting_is_array(list)) {
		m2m_conf_fail(c, list, "must be a list of entity ids (\"mno-a\", ...)");
		return;
	}
	int count = config_setting_length(list);
	if (count > M2M_MAX_PEERS) {
		m2m_conf_fail(c, list, "at most %d relying parties", M2M_MAX_PEERS);
		return;
	}
	out->restricted = 1;
	for (int i = 0; i < count && !c->failed; i++)
		read_relying_party(c, config_setting_get_elem(list, (unsigned)i), nc, out);
}

void pva_settings_read(m2m_conf *c, config_setting_t *group, const m2m_node_conf *nc, pva_settings *out)
{
	static const char *const names[] = {"relying_parties", "verdict_validity_s", "unknown_digest",
					    "nonce_lifetime_s", NULL};
	memset(out, 0, sizeof *out);
	out->verdict_validity_s = PVA_DEFAULT_VALIDITY_S;
	out->nonce_lifetime_s = PVA_DEFAULT_NONCE_LIFETIME_S;
	if (!group)
		return;  /* the defaults: any peer, 600 s, unknown digests fail */
	if (!config_setting_is_group(group)) {
		m2m_conf_fail(c, group, "must be a group { relying_parties; verdict_validity_s; unknown_digest; }");
		return;
	}
	m2m_conf_only(c, group, names);
	read_relying_parties(c, group, nc, out);
	out->verdict_validity_s = m2m_conf_int(c, group, "verdict_validity_s", PVA_DEFAULT_VALIDITY_S, 1,
					       PVA_MAX_VALIDITY_S, 0);
	out->unknown = (pva_unknown_policy)m2m_conf_enum(c, group, "unknown_digest", unknown_names,
							 PVA_UNKNOWN_FAIL, 0);
	out->nonce_lifetime_s = m2m_conf_int(c, group, "nonce_lifetime_s", PVA_DEFAULT_NONCE_LIFETIME_S, 1,
					     PVA_MAX_NONCE_LIFETIME_S, 0);
}

int pva_may_ask(const pva_settings *s, const char *sender)
{
	return !s->restricted || listed(s, sender);
}
