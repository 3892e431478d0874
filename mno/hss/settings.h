/*
 * The home operator's settings, the `mno` group of its configuration file in home mode. Read by
 * the daemon (hss_configure) and by mno-admin, which works on the same database with the same
 * storage key.
 *
 *   mno = { mode = "home";                       # "visited" is mno/vno's
 *           plmn = "00101";                      # MCC || MNC: every IMSI of this HSS starts with it
 *           storage_key_file = "/run/keys/mno-a.storage";   # 64 hex digits: seals K, OPc, ADM
 *           clone_policy = "suspend";            # or "log": what concurrent use of an IMSI does
 *           dpf = { ... };                       # optional: the DPF of Alternative 1a (mno/dpf/settings.h)
 *           ota = { ... };                       # optional: the OTA server's settings (mno/ota/settings.h)
 *           port = { ... }; };                   # optional: ports of Alternative 3a (mno/port/settings.h)
 */
#ifndef MNO_HSS_SETTINGS_H
#define MNO_HSS_SETTINGS_H

#include "conf/conf.h"

#include <stdint.h>

typedef enum hss_clone_policy { HSS_CLONE_SUSPEND, HSS_CLONE_LOG } hss_clone_policy;

typedef struct hss_settings {
	char plmn[7];
	int mnc_length;           /* 2 or 3: a 5-digit PLMN has a 2-digit MNC (TS 23.003 2.2) */
	uint8_t storage_key[32];
	hss_clone_policy clone_policy;
} hss_settings;

/* Reads the group (NULL: missing) into out; problems go to c (m2m_conf_fail). */
void hss_settings_read(m2m_conf *c, config_setting_t *group, hss_settings *out);
void hss_settings_wipe(hss_settings *s);

/* The IMSI range of a network function's group: imsi_first (an IMSI of plmn) and imsi_count
 * (1..max), every IMSI of the range of imsi_first's length and of plmn. Both required; problems go
 * to c. first gets "" on a problem. */
#define HSS_RANGE_FIRST_MAX 16  /* an IMSI and its NUL */
void hss_conf_imsi_range(m2m_conf *c, config_setting_t *group, const char *plmn, long max,
			 char first[HSS_RANGE_FIRST_MAX], long *count);

#endif
