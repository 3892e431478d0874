/* The `port` group of a home operator: see settings.h for the settings and their meaning. */
#include "port/settings.h"

#include "crypto/crypto.h"

#include <string.h>

static void read_range(m2m_conf *c, config_setting_t *group, const char *plmn, port_settings *out)
{
	if (config_setting_get_member(group, "imsi_first") || config_setting_get_member(group, "imsi_count"))
		hss_conf_imsi_range(c, group, plmn, PORT_IMSI_COUNT_MAX, out->imsi_first, &out->imsi_count);
}

void port_settings_read(m2m_conf *c, config_setting_t *group, const char *plmn, int identity_here,
			port_settings *out)
{
	static const char *const with_identity[] = {M2M_IDENTITY_SETTINGS, "imsi_first", "imsi_count",
						    "max_age_seconds", "retry_seconds", "rewrite_retries",
						    "transfer_timeout_seconds", NULL};
	static const char *const without[] = {"imsi_first", "imsi_count", "max_age_seconds", "retry_seconds",
					      "rewrite_retries", "transfer_timeout_seconds", NULL};
	memset(out, 0, sizeof *out);
	if (!config_setting_is_group(group)) {
		m2m_conf_fail(c, group, "must be a group { imsi_first; imsi_count; max_age_seconds; ... }");
		return;
	}
	/* one identity per operator: with a DPF it is the DPF's (its group names the agency) */
	if (!identity_here && config_setting_get_member(group, "agency"))
		m2m_conf_fail(c, config_setting_get_member(group, "agency"),
			      "the operator's identity is configured in its dpf group, not here");
	m2m_conf_only(c, group, identity_here ? with_identity : without);
	out->has_identity = identity_here;
	if (identity_here)
		m2m_identity_configure(c, group, M2M_PROFILE_OPERATOR_FUNCTION, &out->identity);
	read_range(c, group, plmn, out);
	out->max_age_s = (int)m2m_conf_int(c, group, "max_age_seconds", 86400, 60, 365 * 86400, 0);
	out->retry_s = (int)m2m_conf_int(c, group, "retry_seconds", 5, 1, 3600, 0);
	out->rewrite_retries = (int)m2m_conf_int(c, group, "rewrite_retries", 3, 0, 100, 0);
	out->transfer_timeout_s = (int)m2m_conf_int(c, group, "transfer_timeout_seconds", 86400, 1, 365 * 86400, 0);
}

void port_settings_clear(port_settings *s)
{
	m2m_identity_settings_clear(&s->identity);
	m2m_wipe(s, sizeof *s);
}
