/* The `ota` group of a home operator: see settings.h for the settings and their meaning. */
#include "ota/settings.h"

#include <stdio.h>
#include <string.h>

static void read_address(m2m_conf *c, config_setting_t *group, const char *plmn, ota_settings *out)
{
	const char *a = group ? m2m_conf_str(c, group, "address", NULL, 0) : NULL;
	size_t n = a ? strlen(a) : 0;
	if (a && (n < 1 || n > M2M_SMS_ADDRESS_MAX || strspn(a, "0123456789") != n)) {
		m2m_conf_fail(c, config_setting_get_member(group, "address"), "must be 1 to %d digits",
			      M2M_SMS_ADDRESS_MAX);
		return;
	}
	snprintf(out->address, sizeof out->address, "%s", a ? a : plmn);
}

void ota_settings_read(m2m_conf *c, config_setting_t *group, const char *plmn, ota_settings *out)
{
	static const char *const names[] = {"address", "retry_first_s", "retry_max_s", "max_attempts", "in_flight",
					    NULL};
	memset(out, 0, sizeof *out);
	out->retry_first_s = 2;
	out->retry_max_s = 60;
	out->in_flight = 16;
	if (group && !config_setting_is_group(group)) {
		m2m_conf_fail(c, group, "must be a group { address; retry_first_s; retry_max_s; max_attempts; "
					"in_flight; }");
		return;
	}
	read_address(c, group, plmn, out);
	if (!group)
		return;
	m2m_conf_only(c, group, names);
	out->retry_first_s = (int)m2m_conf_int(c, group, "retry_first_s", 2, 1, 3600, 0);
	out->retry_max_s = (int)m2m_conf_int(c, group, "retry_max_s", 60, 1, 86400, 0);
	out->max_attempts = (int)m2m_conf_int(c, group, "max_attempts", 0, 0, 1000000, 0);
	out->in_flight = (int)m2m_conf_int(c, group, "in_flight", 16, 1, 1024, 0);
	if (out->retry_max_s < out->retry_first_s)
		m2m_conf_fail(c, config_setting_get_member(group, "retry_max_s"), "must not be below retry_first_s");
}
