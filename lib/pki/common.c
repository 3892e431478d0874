/* What every file of lib/pki shares: the project OIDs (pki.h, docs/pki.md) and DER helpers. */
#include "pki_impl.h"

#include <openssl/objects.h>
#include <stdio.h>
#include <stdlib.h>

/* Parsed once: OBJ_txt2obj of a 2.25 arc goes through a bignum every time otherwise. They are
 * not registered with OBJ_create, which would change a table shared by the whole process. */
static ASN1_OBJECT *tre_platform, *revoked_models, *profiles[M2M_PROFILE_MAX + 1];
static CRYPTO_ONCE once = CRYPTO_ONCE_STATIC_INIT;

static void parse_all(void)
{
	char text[96];
	tre_platform = OBJ_txt2obj(M2M_OID_TRE_PLATFORM, 1);
	revoked_models = OBJ_txt2obj(M2M_OID_REVOKED_MODELS, 1);
	for (int p = 0; p <= M2M_PROFILE_MAX; p++) {
		snprintf(text, sizeof text, "%s.%d", M2M_OID_PROFILE_ARC, p);
		profiles[p] = OBJ_txt2obj(text, 1);
	}
}

static void init(void)
{
	if (!CRYPTO_THREAD_run_once(&once, parse_all))
		abort();  /* only when OpenSSL cannot initialise at all */
}

const ASN1_OBJECT *pki_oid_tre_platform(void)
{
	init();
	return tre_platform;
}

const ASN1_OBJECT *pki_oid_revoked_models(void)
{
	init();
	return revoked_models;
}

const ASN1_OBJECT *pki_oid_profile(int profile)
{
	init();
	return profile >= 0 && profile <= M2M_PROFILE_MAX ? profiles[profile] : NULL;
}

int pki_consumed(const unsigned char *end, const uint8_t *der, size_t len)
{
	return end == der + len;
}

int pki_set_time(ASN1_TIME *t, time_t at)
{
	return ASN1_TIME_set(t, at) ? 0 : -1;
}
