/* The `mno` group in home mode: see settings.h for the settings and their meaning. */
#include "hss/settings.h"

#include "crypto/crypto.h"

#include <stdio.h>
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
	/* dpf: the DPF's own group (mno/dpf/settings.h), read by dpf_configure */
	static const char *const names[] = {"mode", "plmn", "storage_key_file", "clone_policy", "dpf", NULL};
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

void hss_settings_wipe(hss_settings *s)
{
	m2m_wipe(s, sizeof *s);
}
