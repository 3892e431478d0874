/* The `dpf` group of a home operator: see settings.h for the settings and their meaning. */
#include "dpf/settings.h"

#include "crypto/crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The range must be IMSIs of this operator, all of first's length. */
static void read_range(m2m_conf *c, config_setting_t *group, const char *plmn, dpf_settings *out)
{
	const char *first = m2m_conf_str(c, group, "imsi_first", NULL, 1);
	out->imsi_count = (long)m2m_conf_int(c, group, "imsi_count", 1, 1, DPF_IMSI_COUNT_MAX, 1);
	if (!first)
		return;
	config_setting_t *at = config_setting_get_member(group, "imsi_first");
	size_t n = strlen(first);
	if (!hss_imsi_valid(first) || strncmp(first, plmn, strlen(plmn))) {
		m2m_conf_fail(c, at, "must be an IMSI of 6 to 15 digits starting with the operator's plmn %s", plmn);
		return;
	}
	char last[32];
	snprintf(last, sizeof last, "%0*lld", (int)n, strtoll(first, NULL, 10) + out->imsi_count - 1);
	if (strlen(last) > n || strncmp(last, plmn, strlen(plmn))) {
		m2m_conf_fail(c, at, "the range ends at %s, outside the %zu-digit IMSIs of plmn %s", last, n, plmn);
		return;
	}
	snprintf(out->imsi_first, sizeof out->imsi_first, "%s", first);
}

static void add_apn(m2m_conf *c, config_setting_t *e, hss_profile *p)
{
	const char *apn = config_setting_get_string(e);
	if (!apn || !hss_apn_valid(apn)) {
		m2m_conf_fail(c, e, "an APN is 1 to 100 printable characters without , ; or quotes");
		return;
	}
	for (int j = 0; j < p->napns; j++)
		if (!strcmp(p->apns[j], apn)) {
			m2m_conf_fail(c, e, "%s is listed twice", apn);
			return;
		}
	snprintf(p->apns[p->napns++], sizeof p->apns[0], "%s", apn);
}

/* A list ( ... ) or an array [ ... ] of 1..16 APNs; default the HSS's. */
static void read_apns(m2m_conf *c, config_setting_t *group, hss_profile *p)
{
	config_setting_t *list = config_setting_get_member(group, "apns");
	if (!list) {
		snprintf(p->apns[p->napns++], sizeof p->apns[0], "%s", HSS_DEFAULT_APN);
		return;
	}
	int count = config_setting_is_list(list) || config_setting_is_array(list) ? config_setting_length(list) : -1;
	if (count < 1 || count > HSS_APNS_MAX) {
		m2m_conf_fail(c, list, "must list 1..%d APNs (\"m2m.meter\", ...)", HSS_APNS_MAX);
		return;
	}
	for (int i = 0; i < count && !c->failed; i++)
		add_apn(c, config_setting_get_elem(list, (unsigned)i), p);
}

static void read_export_dir(m2m_conf *c, config_setting_t *group, dpf_settings *out)
{
	const char *dir = m2m_conf_str(c, group, "export_dir", NULL, 0);
	struct stat st;
	if (!dir)
		return;
	if (stat(dir, &st) || !S_ISDIR(st.st_mode) || strlen(dir) + 64 >= sizeof out->export_dir)
		m2m_conf_fail(c, config_setting_get_member(group, "export_dir"), "%s is not a directory", dir);
	else
		snprintf(out->export_dir, sizeof out->export_dir, "%s", dir);
}

void dpf_settings_read(m2m_conf *c, config_setting_t *group, const char *plmn, dpf_settings *out)
{
	static const char *const names[] = {M2M_IDENTITY_SETTINGS, "drf", "pva", "validation_mode", "min_assurance",
					    "imsi_first", "imsi_count", "apns", "export_dir", NULL};
	static const char *const modes[] = {"autonomous", "semiAutonomous", "remote", NULL};
	memset(out, 0, sizeof *out);
	if (!config_setting_is_group(group)) {
		m2m_conf_fail(c, group, "must be a group { agency; drf; pva; imsi_first; imsi_count; ... }");
		return;
	}
	m2m_conf_only(c, group, names);
	m2m_identity_configure(c, group, M2M_PROFILE_OPERATOR_FUNCTION, &out->identity);
	/* the DPF calls both */
	m2m_conf_peer(c, group, "drf", NULL, 1, out->drf);
	m2m_conf_peer(c, group, "pva", NULL, 1, out->pva);
	out->mode = (m2m_validation_mode)m2m_conf_enum(c, group, "validation_mode", modes, M2M_MODE_REMOTE, 0);
	out->min_assurance = (int)m2m_conf_int(c, group, "min_assurance", 3, 1, 7, 0);
	read_range(c, group, plmn, out);
	read_apns(c, group, &out->profile);
	read_export_dir(c, group, out);
}

void dpf_settings_clear(dpf_settings *s)
{
	m2m_identity_settings_clear(&s->identity);
	m2m_wipe(s, sizeof *s);
}
