/* The `mno` group in home mode: see settings.h for the settings and their meaning. */
#include "hss/settings.h"

#include "crypto/crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void read_plmn(m2m_conf *c, config_setting_t *group, hss_settings *out)
{
	const char *plmn = m2m_conf_str(c, group, "plmn", NULL, 1);
	if (!plmn)
		return;
	size_t n = strlen(plmn);
	if ((n != 5 && n != 6) || strspn(plmn, "0123456789") != n) {
		m2m_conf_fail(c, config_setting_get_member(group, "plmn"), "must be 5 or 6 digits (MCC || MNC)");
		return;
	}
	snprintf(out->plmn, sizeof out->plmn, "%s", plmn);
	out->mnc_length = (int)n - 3;
}

void hss_settings_read(m2m_conf *c, config_setting_t *group, hss_settings *out)
{
	/* dpf: the DPF's own group (mno/dpf/settings.h), read by dpf_configure; ota: the OTA server's
	 * (mno/ota/settings.h), read by ota_configure; port: the ports' (mno/port/settings.h) */
	static const char *const names[] = {"mode", "plmn", "storage_key_file", "clone_policy", "dpf", "ota", "port",
					    NULL};
	static const char *const policies[] = {"suspend", "log", NULL};
	memset(out, 0, sizeof *out);
	if (!group) {
		m2m_conf_fail(c, NULL, "mno: missing (a home operator needs mode, plmn and storage_key_file)");
		return;
	}
	m2m_conf_only(c, group, names);
	read_plmn(c, group, out);
	m2m_conf_key_file(c, group, "storage_key_file", out->storage_key, 32);
	out->clone_policy = (hss_clone_policy)m2m_conf_enum(c, group, "clone_policy", policies, HSS_CLONE_SUSPEND, 0);
}

void hss_conf_imsi_range(m2m_conf *c, config_setting_t *group, const char *plmn, long max,
			 char first[HSS_RANGE_FIRST_MAX], long *count)
{
	const char *f = m2m_conf_str(c, group, "imsi_first", NULL, 1);
	config_setting_t *at = config_setting_get_member(group, "imsi_first");
	*count = (long)m2m_conf_int(c, group, "imsi_count", 1, 1, max, 1);
	first[0] = 0;
	if (!f)
		return;
	size_t n = strlen(f);
	if (n < 6 || n >= HSS_RANGE_FIRST_MAX || strspn(f, "0123456789") != n || strncmp(f, plmn, strlen(plmn))) {
		m2m_conf_fail(c, at, "must be an IMSI of 6 to 15 digits starting with the operator's plmn %s", plmn);
		return;
	}
	char last[32];
	snprintf(last, sizeof last, "%0*lld", (int)n, strtoll(f, NULL, 10) + *count - 1);
	if (strlen(last) > n || strncmp(last, plmn, strlen(plmn))) {
		m2m_conf_fail(c, at, "the range ends at %s, outside the %zu-digit IMSIs of plmn %s", last, n, plmn);
		return;
	}
	snprintf(first, HSS_RANGE_FIRST_MAX, "%s", f);
}

void hss_settings_wipe(hss_settings *s)
{
	m2m_wipe(s, sizeof *s);
}
