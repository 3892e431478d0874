/*
 * The `ota` group of a home operator (optional; every setting has a default):
 *
 *   mno = { mode = "home"; plmn = "00101"; ...
 *           ota = { address = "00101";     # TP-OA of the SMS-DELIVERs (default: the plmn)
 *                   retry_first_s = 2;     # delay after the first failed attempt, doubled each time
 *                   retry_max_s = 60;      #   up to this
 *                   max_attempts = 0;      # then FAILED; 0 = retried without end (the testbed's)
 *                   in_flight = 16; };     # jobs sent at once (one per card at most)
 *         };
 */
#ifndef MNO_OTA_SETTINGS_H
#define MNO_OTA_SETTINGS_H

#include "conf/conf.h"
#include "ota/sms.h"

typedef struct ota_settings {
	char address[M2M_SMS_ADDRESS_MAX + 1];
	int retry_first_s, retry_max_s;
	int max_attempts;
	int in_flight;
} ota_settings;

/* group may be NULL (all defaults); plmn is the default address. Problems go to c. */
void ota_settings_read(m2m_conf *c, config_setting_t *group, const char *plmn, ota_settings *out);

#endif
