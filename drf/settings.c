/*
 * The drf group of the configuration file:
 *
 *   drf = {
 *     storage_key_file = "/run/keys/drf.storage";   # 64 hex digits: seals K_pc, OPc_pc, the identity key
 *     agency = "certauth";                          # enrolment (profile registration) and CRL
 *     enrolment_secret_file = "/run/keys/drf.enrol";
 *     root_certificate = "/run/certauth/root.pem";
 *     plmn = "00109";                               # the registration operator's MCC || MNC
 *     pool = { first = "001090000000001"; size = 64; };   # PCIDs: consecutive IMSIs of the plmn
 *     pcid_validity_days = 30;
 *     gate = "after_attach";                        # or "before_av" (brief 2.1 step 3)
 *     pva = "certauth"; validation_mode = "remote"; min_assurance = 3;   # for the gate
 *     suppliers = [ "testbed" ];                    # may send pcidAssignRequest
 *     registrars = [ "testbed" ];                   # may register devices for any SHO
 *     ticket_seconds = 600;                         # how long a registration ticket is valid
 *     apn = "m2m.provisioning";                     # the only APN of a PCID subscription
 *     authorisation_seconds = 3600;                 # a subscriber's change authorisation: how old it may be
 *     change_retry_seconds = 5;                     # pause before telling the old SHO of a change again
 *     uicc_wake_seconds = 120;                      # 3b: a change waiting on the device that long is
 *                                                   # triggered again (uicc_trigger.c)
 *   };
 */
#include "drf.h"

#include "crypto/crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int all_digits(const char *s, size_t min, size_t max)
{
	size_t n = strlen(s);
	return n >= min && n <= max && strspn(s, "0123456789") == n;
}

static void read_plmn(m2m_conf *c, config_setting_t *group, drf_settings *out)
{
	const char *plmn = m2m_conf_str(c, group, "plmn", NULL, 1);
	if (plmn && !all_digits(plmn, 5, 6))
		m2m_conf_fail(c, config_setting_get_member(group, "plmn"), "must be MCC || MNC: 5 or 6 digits");
	else if (plmn)
		snprintf(out->plmn, sizeof out->plmn, "%s", plmn);
}

/* pool = { first; size; }: every PCID an IMSI of the plmn, all of first's length. */
static void read_pool(m2m_conf *c, config_setting_t *group, drf_settings *out)
{
	static const char *const names[] = {"first", "size", NULL};
	config_setting_t *pool = m2m_conf_group(c, group, "pool", 1);
	if (!pool || c->failed)
		return;
	m2m_conf_only(c, pool, names);
	const char *first = m2m_conf_str(c, pool, "first", NULL, 1);
	out->pool_size = (long)m2m_conf_int(c, pool, "size", 1, 1, DRF_POOL_MAX, 1);
	if (!first || c->failed)
		return;
	config_setting_t *at = config_setting_get_member(pool, "first");
	size_t n = strlen(first);
	char last[32];
	snprintf(last, sizeof last, "%0*lld", (int)n, strtoll(first, NULL, 10) + out->pool_size - 1);
	if (!all_digits(first, 6, DRF_IMSI_MAX) || strncmp(first, out->plmn, strlen(out->plmn)))
		m2m_conf_fail(c, at, "must be an IMSI of 6 to 15 digits starting with plmn %s", out->plmn);
	else if (strlen(last) > n || strncmp(last, out->plmn, strlen(out->plmn)))
		m2m_conf_fail(c, at, "the pool ends at %s, outside the %zu-digit IMSIs of plmn %s", last, n, out->plmn);
	else
		snprintf(out->pool_first, sizeof out->pool_first, "%s", first);
}

/* A list ( ... ) or an array [ ... ] of configured peers, each once. */
static int read_peers(m2m_conf *c, config_setting_t *group, const char *name, char (*out)[M2M_ENTITY_MAX + 1])
{
	config_setting_t *list = config_setting_get_member(group, name);
	int count = !list ? 0 : config_setting_is_list(list) || config_setting_is_array(list) ? config_setting_length(list) : -1;
	if (count < 0 || count > DRF_LIST_MAX) {
		m2m_conf_fail(c, list, "must list at most %d peers ([ \"testbed\", ... ])", DRF_LIST_MAX);
		return 0;
	}
	for (int i = 0; i < count && !c->failed; i++) {
		config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
		const char *id = config_setting_get_string(e);
		if (!id)
			m2m_conf_fail(c, e, "must be an entity id in double quotes");
		else
			m2m_conf_check_peer(c, e, id, 0);
		for (int j = 0; j < i && !c->failed; j++)
			if (!strcmp(out[j], id))
				m2m_conf_fail(c, e, "%s is listed twice", id);
		if (!c->failed)
			snprintf(out[i], M2M_ENTITY_MAX + 1, "%s", id);
	}
	return count;
}

static void read_apn(m2m_conf *c, config_setting_t *group, drf_settings *out)
{
	const char *apn = m2m_conf_str(c, group, "apn", "m2m.provisioning", 0);
	size_t n = apn ? strlen(apn) : 0;
	int printable = 1;
	for (size_t i = 0; i < n; i++)
		printable &= apn[i] > ' ' && apn[i] <= '~' && apn[i] != '"';
	if (n < 1 || n > DRF_APN_MAX || !printable)
		m2m_conf_fail(c, config_setting_get_member(group, "apn"), "must be 1 to %d printable characters",
			      DRF_APN_MAX);
	else
		snprintf(out->apn, sizeof out->apn, "%s", apn);
}

/* The PVA is needed for the gate before_av only; named, it must be callable. */
static void read_gate(m2m_conf *c, config_setting_t *group, drf_settings *out)
{
	static const char *const gates[] = {"after_attach", "before_av", NULL};
	static const char *const modes[] = {"autonomous", "semiAutonomous", "remote", NULL};
	out->gate = (drf_gate)m2m_conf_enum(c, group, "gate", gates, DRF_GATE_AFTER_ATTACH, 0);
	if (out->gate == DRF_GATE_BEFORE_AV || config_setting_get_member(group, "pva"))
		m2m_conf_peer(c, group, "pva", NULL, 1, out->pva);
	out->validation_mode = (m2m_validation_mode)m2m_conf_enum(c, group, "validation_mode", modes, M2M_MODE_REMOTE, 0);
	out->min_assurance = (int)m2m_conf_int(c, group, "min_assurance", 3, 1, 7, 0);
}

void drf_settings_read(m2m_conf *c, config_setting_t *group, drf_settings *out)
{
	static const char *const names[] = {"storage_key_file", M2M_IDENTITY_SETTINGS, "plmn", "pool",
					    "pcid_validity_days", "gate", "pva", "validation_mode", "min_assurance",
					    "suppliers", "registrars", "ticket_seconds", "apn", "authorisation_seconds",
					    "change_retry_seconds", "uicc_wake_seconds", NULL};
	memset(out, 0, sizeof *out);
	if (!group) {
		m2m_conf_fail(c, NULL, "drf: missing (the registration operator needs storage_key_file, agency, "
				       "enrolment_secret_file, root_certificate, plmn and pool)");
		return;
	}
	m2m_conf_only(c, group, names);
	m2m_conf_key_file(c, group, "storage_key_file", out->storage_key, sizeof out->storage_key);
	m2m_identity_configure(c, group, M2M_PROFILE_REGISTRATION, &out->identity);
	read_plmn(c, group, out);
	read_pool(c, group, out);
	out->pcid_validity_days = (int)m2m_conf_int(c, group, "pcid_validity_days", 30, 1, 3650, 0);
	read_gate(c, group, out);
	out->nsuppliers = read_peers(c, group, "suppliers", out->suppliers);
	out->nregistrars = read_peers(c, group, "registrars", out->registrars);
	out->ticket_seconds = (int)m2m_conf_int(c, group, "ticket_seconds", 600, 10, 86400, 0);
	read_apn(c, group, out);
	out->authorisation_seconds = (int)m2m_conf_int(c, group, "authorisation_seconds", 3600, 60, 7 * 86400, 0);
	out->change_retry_seconds = (int)m2m_conf_int(c, group, "change_retry_seconds", 5, 1, 3600, 0);
	out->uicc_wake_seconds = (int)m2m_conf_int(c, group, "uicc_wake_seconds", 120, 5, 86400, 0);
}

void drf_settings_clear(drf_settings *s)
{
	m2m_identity_settings_clear(&s->identity);
	m2m_wipe(s, sizeof *s);
}

static int listed(const char (*list)[M2M_ENTITY_MAX + 1], int n, const char *id)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(list[i], id))
			return 1;
	return 0;
}

int drf_is_supplier(const drf_settings *s, const char *id)
{
	return listed(s->suppliers, s->nsuppliers, id);
}

int drf_is_registrar(const drf_settings *s, const char *id)
{
	return listed(s->registrars, s->nregistrars, id);
}
