/*
 * The certification agency's settings, the `certauth` group of its configuration file. Read by
 * the daemon and by certauth-admin, which works on the same database with the same storage key.
 *
 *   certauth = {
 *     storage_key_file = "/run/keys/certauth.storage";   # 64 hex digits: seals the CA and PVA keys
 *     root_certificate = "/run/certauth/root.pem";       # written at every start: give it to every relying party
 *     validity_days = 365;                               # of the certificates it issues (1..3650)
 *     crl_hours = 24;                                    # from a CRL's thisUpdate to its nextUpdate (1..720)
 *     enrolment = ( { id = "tre-1"; profile = "tre"; secret = "32 to 128 hex digits" }, ... );
 *                 # or secret_file = "/run/keys/tre-1.enrol" (the same hex digits in a file)
 *     pva = { ... };                                     # certauth/pva (pva_configure)
 *   };
 *
 * An enrolment entry names who may ask for a certificate, of which profile (a CertProfile
 * identifier of docs/protocol.asn1), with which authorisation secret.
 */
#ifndef CERTAUTH_SETTINGS_H
#define CERTAUTH_SETTINGS_H

#include "conf/conf.h"
#include "wire/wire.h"

#include <stddef.h>
#include <stdint.h>

#define CA_ENROLMENTS_MAX 256
#define CA_SECRET_MIN 16  /* EnrolRequest.authorisation (SIZE (16..64)) */
#define CA_SECRET_MAX 64

typedef struct ca_enrolment {
	char id[M2M_ENTITY_MAX + 1];
	int profile;  /* m2m_cert_profile */
	uint8_t secret[CA_SECRET_MAX];
	size_t secret_len;
} ca_enrolment;

typedef struct ca_settings {
	uint8_t storage_key[32];
	char root_certificate[256];
	int validity_days;
	int crl_hours;
	size_t nenrolments;
	ca_enrolment enrolments[CA_ENROLMENTS_MAX];
} ca_settings;

/* Reads the group (NULL: missing) into out; problems go to c (m2m_conf_fail). The `pva` member
 * is left to pva_configure. */
void ca_settings_read(m2m_conf *c, config_setting_t *group, ca_settings *out);
/* The enrolment entry of id, or NULL. */
const ca_enrolment *ca_settings_enrolment(const ca_settings *s, const char *id);
/* Wipes the storage key and the enrolment secrets. */
void ca_settings_wipe(ca_settings *s);

#endif
