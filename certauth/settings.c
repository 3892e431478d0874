/* The `certauth` group: see settings.h for the settings and their meaning. */
#include "settings.h"

#include "crypto/crypto.h"
#include "pki/pki.h"

#include <stdio.h>
#include <string.h>

/* The secret inline (`secret`) or, so that a configuration file holds none, in a file of its own
 * (`secret_file`, as the entity's own enrolment_secret_file): exactly one of them. */
static void read_secret(m2m_conf *c, config_setting_t *entry, ca_enrolment *e)
{
	int inline_secret = config_setting_get_member(entry, "secret") != NULL;
	if (inline_secret == (config_setting_get_member(entry, "secret_file") != NULL)) {
		m2m_conf_fail(c, entry, "give the enrolment secret as secret or as secret_file, not %s",
			      inline_secret ? "both" : "neither");
		return;
	}
	if (!inline_secret) {
		long n = m2m_conf_secret_file(c, entry, "secret_file", e->secret, CA_SECRET_MIN, CA_SECRET_MAX);
		e->secret_len = n > 0 ? (size_t)n : 0;
		return;
	}
	const char *hex = m2m_conf_str(c, entry, "secret", NULL, 1);
	long n = hex ? m2m_unhex_var(hex, e->secret, sizeof e->secret) : -1;
	if (hex && (n < CA_SECRET_MIN || n > CA_SECRET_MAX))  /* the message never shows the secret */
		m2m_conf_fail(c, config_setting_get_member(entry, "secret"), "must be %d to %d bytes as hex digits",
			      CA_SECRET_MIN, CA_SECRET_MAX);
	e->secret_len = n > 0 ? (size_t)n : 0;
}

static void read_entry(m2m_conf *c, config_setting_t *entry, ca_settings *out)
{
	static const char *const names[] = {"id", "profile", "secret", "secret_file", NULL};
	ca_enrolment *e = &out->enrolments[out->nenrolments];
	m2m_conf_only(c, entry, names);
	const char *id = m2m_conf_str(c, entry, "id", NULL, 1);
	const char *profile = m2m_conf_str(c, entry, "profile", NULL, 1);
	if (id && (!id[0] || strlen(id) > M2M_ENTITY_MAX))
		m2m_conf_fail(c, config_setting_get_member(entry, "id"), "must be 1 to %d characters", M2M_ENTITY_MAX);
	else if (id && ca_settings_enrolment(out, id))
		m2m_conf_fail(c, config_setting_get_member(entry, "id"), "\"%s\" is listed twice", id);
	snprintf(e->id, sizeof e->id, "%s", id ? id : "");
	e->profile = m2m_pki_profile_from_name(profile);
	if (profile && e->profile < 0)
		m2m_conf_fail(c, config_setting_get_member(entry, "profile"),
			      "\"%s\" is not a CertProfile (operatorFunction, otaServer, registration, pva, supplier, "
			      "tre, uicc)", profile);
	read_secret(c, entry, e);
	out->nenrolments++;
}

static void read_enrolments(m2m_conf *c, config_setting_t *group, ca_settings *out)
{
	config_setting_t *list = m2m_conf_list(c, group, "enrolment", 0);
	int n = list ? config_setting_length(list) : 0;
	if (n > CA_ENROLMENTS_MAX) {
		m2m_conf_fail(c, list, "at most %d entries", CA_ENROLMENTS_MAX);
		return;
	}
	for (int i = 0; i < n && !c->failed; i++) {
		config_setting_t *entry = config_setting_get_elem(list, (unsigned)i);
		if (!config_setting_is_group(entry))
			m2m_conf_fail(c, entry, "must be a group { id = ...; profile = ...; secret = ...; }");
		else
			read_entry(c, entry, out);
	}
}

void ca_settings_read(m2m_conf *c, config_setting_t *group, ca_settings *out)
{
	static const char *const names[] = {"storage_key_file", "root_certificate", "validity_days", "crl_hours",
					    "enrolment", "pva", NULL};
	memset(out, 0, sizeof *out);
	if (!group) {
		m2m_conf_fail(c, NULL, "certauth: missing (the agency needs storage_key_file and root_certificate)");
		return;
	}
	m2m_conf_only(c, group, names);
	m2m_conf_key_file(c, group, "storage_key_file", out->storage_key, sizeof out->storage_key);
	const char *root = m2m_conf_str(c, group, "root_certificate", NULL, 1);
	if (root && (!root[0] || strlen(root) >= sizeof out->root_certificate))
		m2m_conf_fail(c, config_setting_get_member(group, "root_certificate"), "must be a path of 1 to %zu characters",
			      sizeof out->root_certificate - 1);
	snprintf(out->root_certificate, sizeof out->root_certificate, "%s", root ? root : "");
	out->validity_days = (int)m2m_conf_int(c, group, "validity_days", 365, 1, 3650, 0);
	out->crl_hours = (int)m2m_conf_int(c, group, "crl_hours", 24, 1, 720, 0);
	read_enrolments(c, group, out);
}

const ca_enrolment *ca_settings_enrolment(const ca_settings *s, const char *id)
{
	for (size_t i = 0; i < s->nenrolments; i++)
		if (!strcmp(s->enrolments[i].id, id))
			return &s->enrolments[i];
	return NULL;
}

void ca_settings_wipe(ca_settings *s)
{
	m2m_wipe(s, sizeof *s);
}
