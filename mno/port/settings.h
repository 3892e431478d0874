/*
 * The ports' settings: the `port` group inside the home operator's `mno` group. Without it the
 * operator takes part in no port (Alternative 2 only: a change is a card swap).
 *
 *   port = { imsi_first = "001020000200001"; imsi_count = 10000;  # as B: the new IMSIs of cards
 *                                                                 # ported in (optional: without
 *                                                                 # them, no port start)
 *            max_age_seconds = 86400;        # as A: the oldest subscriber authorisation taken (default 1 day)
 *            retry_seconds = 5;              # how long a call that got no answer waits (default 5)
 *            rewrite_retries = 3;            # as A: new OTA jobs for a card whose rewrite failed (default 3)
 *            transfer_timeout_seconds = 86400;  # as B: a port A accepted but did not transfer
 *                                               # within it fails (default 1 day)
 *            agency = "certauth";            # the operator's identity (daemon/identity.h), only
 *            enrolment_secret_file = "...";  #   when the mno group has no dpf group: otherwise the
 *            root_certificate = "..."; };    #   dpf group's identity is the operator's, shared
 *
 * The storage key is the HSS's (storage_key_file of the mno group).
 */
#ifndef MNO_PORT_SETTINGS_H
#define MNO_PORT_SETTINGS_H

#include "daemon/identity.h"
#include "hss/settings.h"

#define PORT_IMSI_COUNT_MAX 100000000L

typedef struct port_settings {
	char imsi_first[HSS_RANGE_FIRST_MAX];  /* "" when no range: this operator takes no card in */
	long imsi_count;
	int max_age_s;
	int retry_s;
	int rewrite_retries;
	int transfer_timeout_s;
	int has_identity;                      /* the identity's settings are this group's */
	m2m_identity_settings identity;
} port_settings;

/* Reads the port group (not NULL) of an operator of PLMN plmn; identity_here: the operator has
 * no dpf group, so the identity's settings are read here (and required). Problems go to c. */
void port_settings_read(m2m_conf *c, config_setting_t *group, const char *plmn, int identity_here,
			port_settings *out);
void port_settings_clear(port_settings *s);

#endif
