/*
 * The subscriber's authorisation of a port (docs/alt3a.md step 1, threat T-3a-3): the DER of
 * PortAuthorisation {subscriber, fromSho, toSho, iccids, nonce, issuedAt} inside a CMS SignedData
 * (binary, SHA-256, ECDSA P-256) signed with the subscriber's key. The old operator checks it
 * against the certificate the subscriber registered with it (pinned: neither chain nor agency is
 * involved, the staff's registration is the trust), so the signer's identifier must name that
 * certificate and the signature verify under its key. The content is decoded strictly (DER, the
 * module's sizes), as every message body is.
 */
#include "port/port_impl.h"

#include "wire/read.h"

#include <openssl/cms.h>
#include <openssl/err.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AUTH_CONTENT_MAX (1024 * 1024)

static m2m_reason fail(char *why, size_t wlen, m2m_reason r, const char *text)
{
	snprintf(why, wlen, "%s", text);
	return r;
}

/* SignedData over embedded id-data with exactly one signer: its SignerInfo, else NULL. */
static CMS_SignerInfo *shape(CMS_ContentInfo *cms)
{
	if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed ||
	    OBJ_obj2nid(CMS_get0_eContentType(cms)) != NID_pkcs7_data || CMS_is_detached(cms) ||
	    sk_CMS_SignerInfo_num(CMS_get0_SignerInfos(cms)) != 1)
		return NULL;
	return sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0);
}

/* The content as it stands, unchecked: what the new operator reads to know what it asks for. */
static m2m_reason unchecked_content(CMS_ContentInfo *cms, BIO *content, char *why, size_t wlen)
{
	ASN1_OCTET_STRING **os = CMS_get0_content(cms);
	if (!os || !*os || BIO_write(content, ASN1_STRING_get0_data(*os), ASN1_STRING_length(*os)) <= 0)
		return fail(why, wlen, M2M_R_BAD_BODY, "the authorisation has no content");
	return M2M_OK;
}

/* The signature under pinned and nothing else (CMS_NOINTERN: a certificate the CMS brings along
 * plays no part); the content on success. */
static m2m_reason check_signature(CMS_ContentInfo *cms, CMS_SignerInfo *si, X509 *pinned, BIO *content, char *why,
				  size_t wlen)
{
	if (!pinned)
		return unchecked_content(cms, content, why, wlen);
	if (CMS_SignerInfo_cert_cmp(si, pinned))
		return fail(why, wlen, M2M_R_NOT_AUTHORISED, "the authorisation is not signed with the subscriber's"
							    " registered certificate");
	STACK_OF(X509) *certs = sk_X509_new_null();
	int ok = certs && sk_X509_push(certs, pinned) &&
		 CMS_verify(cms, certs, NULL, NULL, content, CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY | CMS_NOINTERN) == 1;
	sk_X509_free(certs);
	return ok ? M2M_OK
		  : fail(why, wlen, M2M_R_BAD_SIGNATURE, "the subscriber's signature over the authorisation does not verify");
}

/* Strict DER of PortAuthorisation: the whole content, and what it re-encodes to. */
static M2M_PORT_AUTHORISATION *decode(BIO *content)
{
	const unsigned char *der = NULL;
	long n = BIO_get_mem_data(content, &der);
	const unsigned char *p = der;
	M2M_PORT_AUTHORISATION *a = n > 0 && n <= AUTH_CONTENT_MAX ? d2i_M2M_PORT_AUTHORISATION(NULL, &p, n) : NULL;
	unsigned char *again = NULL;
	int len = a && p == der + n ? i2d_M2M_PORT_AUTHORISATION(a, &again) : -1;
	if (len != n || memcmp(again, der, (size_t)n)) {
		M2M_PORT_AUTHORISATION_free(a);
		a = NULL;
	}
	OPENSSL_free(again);
	return a;
}

static int add_iccid(port_authorised *out, const ASN1_STRING *s)
{
	char iccid[HSS_ICCID_MAX + 1];
	if (m2m_digits(s, iccid, sizeof iccid, 18, HSS_ICCID_MAX))
		return -1;
	for (int i = 0; i < out->n; i++)
		if (!strcmp(out->iccids[i], iccid))
			return -1;  /* named twice */
	memcpy(out->iccids[out->n++], iccid, sizeof iccid);
	return 0;
}

/* The fields, within the module's sizes (and every ICCID once). */
static m2m_reason read_fields(const M2M_PORT_AUTHORISATION *a, port_authorised *out, char *why, size_t wlen)
{
	int n = sk_ASN1_STRING_num(a->iccids);
	if (m2m_read_name(a->subscriber, out->subscriber, HSS_OWNER_MAX) || m2m_read_name(a->from_sho, out->from, M2M_ENTITY_MAX) ||
	    m2m_read_name(a->to_sho, out->to, M2M_ENTITY_MAX) || m2m_read_octets(a->nonce, out->nonce, PORT_NONCE_LEN) ||
	    m2m_read_time(a->issued_at, &out->issued) || n < 1 || n > PORT_DEVICES_MAX)
		return fail(why, wlen, M2M_R_BAD_BODY, "the authorisation needs a subscriber, fromSho, toSho, 1 to 10000"
						       " ICCIDs, a 16-octet nonce and issuedAt");
	if (!(out->iccids = calloc((size_t)n, sizeof *out->iccids)))
		return fail(why, wlen, M2M_R_INTERNAL, "out of memory");
	for (int i = 0; i < n; i++)
		if (add_iccid(out, sk_ASN1_STRING_value(a->iccids, i)))
			return fail(why, wlen, M2M_R_BAD_BODY, "the authorisation names an ICCID that is not 18 to 20 digits,"
							       " or one twice");
	return M2M_OK;
}

m2m_reason port_authorisation_read(const uint8_t *der, size_t len, X509 *pinned, port_authorised *out, char *why,
				   size_t wlen)
{
	memset(out, 0, sizeof *out);
	const unsigned char *p = der;
	CMS_ContentInfo *cms = len <= LONG_MAX ? d2i_CMS_ContentInfo(NULL, &p, (long)len) : NULL;
	CMS_SignerInfo *si = cms && p == der + len ? shape(cms) : NULL;
	BIO *content = si ? BIO_new(BIO_s_mem()) : NULL;
	m2m_reason r = content ? check_signature(cms, si, pinned, content, why, wlen)
			       : fail(why, wlen, M2M_R_BAD_BODY, "the authorisation is not a CMS SignedData with one signer"
								 " over its embedded content");
	M2M_PORT_AUTHORISATION *a = r == M2M_OK ? decode(content) : NULL;
	if (r == M2M_OK && !a)
		r = fail(why, wlen, M2M_R_BAD_BODY, "the signed content is not DER of PortAuthorisation");
	if (r == M2M_OK)
		r = read_fields(a, out, why, wlen);
	if (r != M2M_OK)
		port_authorised_clear(out);
	M2M_PORT_AUTHORISATION_free(a);
	BIO_free(content);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return r;
}

void port_authorised_clear(port_authorised *a)
{
	free(a->iccids);
	memset(a, 0, sizeof *a);
}
