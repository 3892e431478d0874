/* The AuC's vectors and the authInfoResponse that carries them (auth_info.h). */
#include "aka/auth_info.h"

#include "aka/gsm.h"
#include "crypto/crypto.h"

#include <openssl/crypto.h>

int m2m_aka_vectors(m2m_milenage *m, m2m_sqn_he *he, const uint8_t amf[2], int n, m2m_aka_vector *out)
{
	for (int i = 0; i < n; i++) {
		if (m2m_aka_av_generate(m, he, amf, &out[i].av)) {
			m2m_wipe(out, (size_t)n * sizeof *out);
			return -1;
		}
		m2m_gsm_c3(out[i].av.ck, out[i].av.ik, out[i].kc);
	}
	return 0;
}

static int set_octets(ASN1_OCTET_STRING *s, const uint8_t *data, size_t len)
{
	return ASN1_OCTET_STRING_set(s, data, (int)len) ? 0 : -1;
}

static int set_vector(M2M_AUTH_VECTOR *w, const m2m_aka_vector *v)
{
	int bad = set_octets(w->rand, v->av.rand, sizeof v->av.rand) || set_octets(w->xres, v->av.xres, sizeof v->av.xres) ||
		  set_octets(w->autn, v->av.autn, sizeof v->av.autn) || set_octets(w->ck, v->av.ck, sizeof v->av.ck) ||
		  set_octets(w->ik, v->av.ik, sizeof v->av.ik) || set_octets(w->kc, v->kc, sizeof v->kc);
	return bad ? -1 : 0;
}

M2M_AUTH_INFO_RESPONSE *m2m_aka_auth_info_response(const m2m_aka_vector *v, int n)
{
	M2M_AUTH_INFO_RESPONSE *resp = sk_M2M_AUTH_VECTOR_new_null();
	int ok = resp != NULL;
	for (int i = 0; ok && i < n; i++) {
		M2M_AUTH_VECTOR *w = M2M_AUTH_VECTOR_new();
		ok = w && sk_M2M_AUTH_VECTOR_push(resp, w);  /* in resp before its secrets: wiped with it */
		if (!ok)
			M2M_AUTH_VECTOR_free(w);
		else
			ok = !set_vector(w, &v[i]);
	}
	if (!ok) {
		m2m_aka_auth_info_response_free(resp);
		resp = NULL;
	}
	return resp;
}

static void cleanse(ASN1_OCTET_STRING *s)
{
	if (s && s->data)
		OPENSSL_cleanse(s->data, (size_t)s->length);
}

void m2m_aka_auth_info_response_free(M2M_AUTH_INFO_RESPONSE *resp)
{
	for (int i = 0; i < sk_M2M_AUTH_VECTOR_num(resp); i++) {
		M2M_AUTH_VECTOR *w = sk_M2M_AUTH_VECTOR_value(resp, i);
		cleanse(w->xres);
		cleanse(w->ck);
		cleanse(w->ik);
		cleanse(w->kc);
	}
	M2M_AUTH_INFO_RESPONSE_free(resp);
}
