/*
 * The DPF's settings: the `dpf` group inside the home operator's `mno` group. Without it the
 * operator runs no DPF (Alternative 2 only).
 *
 *   dpf = { agency = "certauth";                        # enrols the DPF's identity, gives the CRL
 *           enrolment_secret_file = "/run/keys/mno-a.enrol";
 *           root_certificate = "/run/keys/root.pem";
 *           drf = "drf";                                # the only signer of tickets; told of installs
 *           pva = "certauth";                           # asked for the TRE's verdict
 *           validation_mode = "remote";                 # or "autonomous", "semiAutonomous" (default remote)
 *           min_assurance = 3;                          # 1..7 (default 3)
 *           imsi_first = "001010000100001"; imsi_count = 10000;   # the MCIMs' IMSI range
 *           apns = ( "m2m.meter" );                     # the MCIMs' profile (default m2m.meter)
 *           export_dir = "/run/mno-a/export"; };        # optional: packages and certificates as files
 *
 * The storage key is the HSS's (storage_key_file of the mno group): it seals the identity's key.
 */
#ifndef MNO_DPF_SETTINGS_H
#define MNO_DPF_SETTINGS_H

#include "daemon/identity.h"
#include "hss/subscriber.h"

#include <limits.h>

#define DPF_IMSI_COUNT_MAX 100000000L

typedef struct dpf_settings {
	m2m_identity_settings identity;
	char drf[M2M_ENTITY_MAX + 1];
	char pva[M2M_ENTITY_MAX + 1];
	m2m_validation_mode mode;
	int min_assurance;
	char imsi_first[HSS_IMSI_MAX + 1];
	long imsi_count;
	hss_profile profile;       /* of every MCIM: the APNs, no CS, no IMEI lock */
	char export_dir[PATH_MAX];  /* "" when not exporting */
} dpf_settings;

/* Reads the dpf group (not NULL) of an operator of PLMN plmn; problems go to c (m2m_conf_fail).
 * drf, pva and agency must be peers with an endpoint. */
void dpf_settings_read(m2m_conf *c, config_setting_t *group, const char *plmn, dpf_settings *out);
void dpf_settings_clear(dpf_settings *s);

#endif
