/*
 * The subscriber of the testbed's devices: the testbed, as the subscriber's portal, holds a P-256
 * key pair. In Alternative 1a (docs/alt1a-change.md) its public key is registered with the device
 * at the DRF (Registration.subscriberKey), and a change of subscription needs the subscriber's
 * authorisation signed with it. In Alternative 3a (docs/alt3a.md) the old operator knows the
 * subscriber by a certificate registered with it (`mno-admin subscriber register`) and checks the
 * port authorisation, a CMS SignedData, against it. `up` writes the key to
 * RUNDIR/keys/subscriber.key (its PKCS#8 DER in hex, mode 0600), like every other secret of the
 * run directory, and the certificate to RUNDIR/keys/subscriber.crt (PEM, public). The certificate
 * is self-signed: the agency certifies network functions and TREs, and no CertProfile of
 * docs/protocol.asn1 is a subscriber's; the operator pins the certificate it registered.
 */
#include "testbed.h"

#include "crypto/crypto.h"
#include "pki/pki.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KEY_FILE "subscriber"
#define CERT_DAYS 730
#define CERT_BACKDATE 3600  /* a verifier's clock a little behind ours still finds it valid */

static int key_path(char *out, size_t len, const char *rundir)
{
	char dir[PATH_MAX];
	return tb_path(dir, sizeof dir, rundir, "keys", "") || tb_path(out, len, dir, KEY_FILE, ".key");
}

int tb_subscriber_cert_path(char *out, size_t len, const char *rundir)
{
	char dir[PATH_MAX];
	return tb_path(dir, sizeof dir, rundir, "keys", "") || tb_path(out, len, dir, KEY_FILE, ".crt");
}

static int write_key(const char *rundir, EVP_PKEY *key)
{
	char path[PATH_MAX];
	uint8_t *der = NULL;
	size_t len = 0;
	int rc = -1;
	if (!key_path(path, sizeof path, rundir) && !m2m_pki_key_der(key, &der, &len)) {
		char *hex = malloc(2 * len + 1);
		if (hex) {
			m2m_hex(der, len, hex);
			rc = tb_write_file(path, hex, 0600);
			m2m_wipe(hex, 2 * len);
		}
		free(hex);
	}
	if (der)
		OPENSSL_clear_free(der, len);
	return rc;
}

X509 *tb_subscriber_self_signed(EVP_PKEY *key, const char *id)
{
	uint64_t serial;
	m2m_random(&serial, sizeof serial);
	time_t now = time(NULL);
	/* lib/pki self-signs only its root kind: a certificate that is its own trust anchor */
	m2m_cert_spec spec = {.kind = M2M_CERT_ROOT, .cn = id, .subject_key = key, .serial = (serial >> 1) | 1,
			      .not_before = now - CERT_BACKDATE, .not_after = now + CERT_DAYS * 86400L};
	return m2m_pki_issue(&spec, NULL, key);
}

int tb_subscriber_key_write(const char *rundir, const char *id)
{
	char path[PATH_MAX];
	EVP_PKEY *key = m2m_pki_keygen();
	X509 *cert = key ? tb_subscriber_self_signed(key, id) : NULL;
	int rc = !cert || write_key(rundir, key) || tb_subscriber_cert_path(path, sizeof path, rundir) ||
			 m2m_pki_cert_write_pem(cert, path)
		 ? -1
		 : 0;
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}

X509 *tb_subscriber_cert(const char *rundir)
{
	char path[PATH_MAX];
	X509 *cert = tb_subscriber_cert_path(path, sizeof path, rundir) ? NULL : m2m_pki_cert_read_pem(path);
	if (!cert)
		fprintf(stderr, "testbed: no subscriber certificate in %s\n", path);
	return cert;
}

EVP_PKEY *tb_subscriber_key(const char *rundir)
{
	char path[PATH_MAX];
	size_t hexlen = 0;
	char *hex = key_path(path, sizeof path, rundir) ? NULL : tb_read_file(path, 0, &hexlen);
	uint8_t der[512];
	size_t len = hexlen / 2;
	EVP_PKEY *key = NULL;
	if (hex && len <= sizeof der && !m2m_unhex(hex, der, len))
		key = m2m_pki_key_from_der(der, len);
	if (!key)
		fprintf(stderr, "testbed: no subscriber key in %s\n", path);
	m2m_wipe(der, sizeof der);
	if (hex)
		m2m_wipe(hex, hexlen);
	free(hex);
	return key;
}

int tb_subscriber_public(EVP_PKEY *key, ASN1_OCTET_STRING **out)
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(key, &der);
	*out = n > 0 ? ASN1_OCTET_STRING_new() : NULL;
	int rc = *out && ASN1_OCTET_STRING_set(*out, der, n) ? 0 : -1;
	OPENSSL_free(der);
	return rc;
}

/* ECDSA with SHA-256 over the DER of the content: the Ecdsa-Sig-Value OpenSSL writes. */
static int sign(EVP_PKEY *key, const M2M_CHANGE_AUTHORISATION *content, ASN1_OCTET_STRING *signature)
{
	unsigned char *der = NULL, sig[80];
	size_t siglen = sizeof sig;
	int n = i2d_M2M_CHANGE_AUTHORISATION(content, &der);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = n > 0 && md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
		 EVP_DigestSign(md, sig, &siglen, der, (size_t)n) == 1 && ASN1_OCTET_STRING_set(signature, sig, (int)siglen);
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	return ok ? 0 : -1;
}

M2M_SUBSCRIBER_AUTHORISATION *tb_subscriber_authorise(EVP_PKEY *key, const char *tre, const char *imei,
						       const char *from, const char *to)
{
	uint8_t nonce[16];
	m2m_random(nonce, sizeof nonce);
	M2M_SUBSCRIBER_AUTHORISATION *a = M2M_SUBSCRIBER_AUTHORISATION_new();
	M2M_CHANGE_AUTHORISATION *c = a ? a->content : NULL;
	int bad = !c || m2m_set_str(c->tre, tre) || m2m_set_digits(&c->m2me, imei) || m2m_set_str(c->from_sho, from) ||
		  m2m_set_str(c->to_sho, to) || !ASN1_OCTET_STRING_set(c->nonce, nonce, sizeof nonce) ||
		  !ASN1_GENERALIZEDTIME_set(c->issued_at, time(NULL)) || sign(key, c, a->signature);
	if (bad) {
		M2M_SUBSCRIBER_AUTHORISATION_free(a);
		return NULL;
	}
	return a;
}
