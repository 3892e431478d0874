/*
 * The subscriber's authorisation of a port (Alternative 3a, docs/alt3a.md): the owner of a set of
 * cards asks that they move from one operator to another. It is the DER of a PortAuthorisation
 * {subscriber, fromSho, toSho, iccids, nonce, issuedAt} inside a CMS SignedData (binary, ECDSA
 * P-256 with SHA-256, the signer's certificate included) made with the subscriber's key, which
 * the new operator carries to the old one in its portRequest; the old operator checks it against
 * the certificate it registered for the owner of the cards. The testbed, as the subscriber's
 * portal, makes them for the 3a scenarios and for whoever runs `testbed authorise`.
 */
#include "testbed.h"

#include "crypto/crypto.h"
#include "pki/pki.h"
#include "wire/wire.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NONCE_LEN 16
#define ICCID_LINE 64

static M2M_PORT_AUTHORISATION *content(const char *subscriber, const char *from, const char *to,
					const char *const *iccids, size_t n)
{
	uint8_t nonce[NONCE_LEN];
	m2m_random(nonce, sizeof nonce);
	M2M_PORT_AUTHORISATION *a = M2M_PORT_AUTHORISATION_new();
	int bad = !a || m2m_set_str(a->subscriber, subscriber) || m2m_set_str(a->from_sho, from) ||
		  m2m_set_str(a->to_sho, to) || !ASN1_OCTET_STRING_set(a->nonce, nonce, sizeof nonce) ||
		  !ASN1_GENERALIZEDTIME_set(a->issued_at, time(NULL));
	for (size_t i = 0; !bad && i < n; i++) {
		ASN1_STRING *iccid = NULL;
		bad = m2m_set_digits(&iccid, iccids[i]) || !sk_ASN1_STRING_push(a->iccids, iccid);
		if (bad)
			ASN1_STRING_free(iccid);
	}
	if (bad) {
		M2M_PORT_AUTHORISATION_free(a);
		return NULL;
	}
	return a;
}

int tb_port_authorisation(EVP_PKEY *key, X509 *cert, const char *subscriber, const char *from, const char *to,
			  const char *const *iccids, size_t n, uint8_t **der, size_t *len)
{
	M2M_PORT_AUTHORISATION *a = content(subscriber, from, to, iccids, n);
	unsigned char *inner = NULL;
	int ilen = a ? i2d_M2M_PORT_AUTHORISATION(a, &inner) : -1;
	int rc = ilen > 0 ? m2m_cms_sign(key, cert, NULL, inner, (size_t)ilen, der, len) : -1;
	OPENSSL_free(inner);
	M2M_PORT_AUTHORISATION_free(a);
	return rc;
}

/* The signed authorisation into path (mode 0644: it is shown to both operators). */
static int write_der(const char *path, const uint8_t *der, size_t len)
{
	FILE *f = fopen(path, "wb");
	int rc = f && fwrite(der, 1, len, f) == len ? 0 : -1;
	if (f && fclose(f))
		rc = -1;
	if (rc)
		fprintf(stderr, "testbed: cannot write %s\n", path);
	return rc;
}

int tb_port_authorise(const char *rundir, EVP_PKEY *signer, const char *from, const char *to,
		      const char *const *iccids, size_t n, const char *path)
{
	tb_topology *t = tb_rundir_topology(rundir, 0);
	EVP_PKEY *own = signer ? NULL : tb_subscriber_key(rundir);
	EVP_PKEY *key = signer ? signer : own;
	const char *id = t && t->subscriber ? t->subscriber : TB_SUBSCRIBER_DEFAULT;
	/* another signer (a forger) has no registered certificate: it makes its own, in the owner's name */
	X509 *cert = !key ? NULL : signer ? tb_subscriber_self_signed(key, id) : tb_subscriber_cert(rundir);
	uint8_t *der = NULL;
	size_t len = 0;
	int rc = !t || !key || !cert || tb_port_authorisation(key, cert, id, from, to, iccids, n, &der, &len) ||
			 write_der(path, der, len)
		 ? -1
		 : 0;
	OPENSSL_free(der);
	X509_free(cert);
	EVP_PKEY_free(own);
	tb_topology_free(t);
	return rc;
}

/* ---- `authorise FROM TO ICCIDS OUT` ------------------------------------------------------ */

/* The ICCIDs of a file, one per line ('#' comments and blank lines skipped), malloc'd. */
static char **read_iccids(const char *path, size_t *n)
{
	FILE *f = fopen(path, "r");
	char line[ICCID_LINE], **out = NULL;
	size_t cap = 0;
	*n = 0;
	if (!f) {
		fprintf(stderr, "testbed: cannot read %s\n", path);
		return NULL;
	}
	for (int lineno = 1; fgets(line, sizeof line, f); lineno++) {
		line[strcspn(line, "#\r\n")] = 0;
		char *d = line + strspn(line, " \t");
		d[strcspn(d, " \t")] = 0;
		size_t len = strlen(d);
		if (!len)
			continue;
		if (len < 18 || len > 20 || strspn(d, "0123456789") != len) {
			fprintf(stderr, "testbed: %s:%d: \"%s\" is not an ICCID (18 to 20 digits)\n", path, lineno, d);
			goto fail;
		}
		if (*n == cap && !(out = realloc(out, (cap = cap ? 2 * cap : 64) * sizeof *out)))
			goto fail;
		out[(*n)++] = strdup(d);
	}
	fclose(f);
	if (!*n)
		fprintf(stderr, "testbed: %s names no ICCID\n", path);
	return out;
fail:
	fclose(f);
	for (size_t i = 0; out && i < *n; i++)
		free(out[i]);
	free(out);
	*n = 0;
	return NULL;
}

int tb_cmd_authorise(tb_opts *o, int argc, char **argv)
{
	size_t n = 0;
	char **iccids = tb_rundir_resolve(o, 0) ? NULL : read_iccids(argv[3], &n);
	int rc = !iccids || !n || tb_port_authorise(o->rundir, NULL, argv[1], argv[2], (const char *const *)iccids, n,
						     argv[4]);
	if (!rc)
		printf("%s: the subscriber's authorisation to move %zu card%s from %s to %s (CMS SignedData)\n", argv[4], n,
		       n == 1 ? "" : "s", argv[1], argv[2]);
	for (size_t i = 0; i < n; i++)
		free(iccids[i]);
	free(iccids);
	return rc ? 1 : 0;
}
