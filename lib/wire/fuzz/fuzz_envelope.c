/*
 * libFuzzer target for the envelope codec. Whatever arrives must be either refused with a reason
 * code or accepted as canonical DER: an accepted message re-encodes to exactly the input bytes,
 * and, checked independently of the codec with OpenSSL's TLV reader, uses definite minimal
 * lengths and 0x00/0xff booleans only. Seed corpus: lib/wire/fuzz/corpus (m2m-wire-examples DIR).
 */
#include "wire/wire.h"

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static long base128_digits(long v)
{
	long n = 1;
	while (v >>= 7)
		n++;
	return n;
}

static long length_octets(long len)
{
	long n = 1;
	if (len >= 128)
		for (long v = len; v; v >>= 8)
			n++;
	return n;
}

/* 1 when every TLV in [p, p + len) has a minimal header, a definite length and DER booleans. */
static int strict_der(const unsigned char *p, long len, int depth)
{
	const unsigned char *end = p + len;
	while (p < end) {
		const unsigned char *start = p;
		long clen;
		int tag, cls;
		int r = ASN1_get_object(&p, &clen, &tag, &cls, end - p);
		if ((r & 0x80) || r == 0x21)
			return 0;
		long tag_octets = tag < 31 ? 1 : 1 + base128_digits(tag);
		if (p - start != tag_octets + length_octets(clen))
			return 0;
		if (cls == V_ASN1_UNIVERSAL && tag == V_ASN1_BOOLEAN && !(r & V_ASN1_CONSTRUCTED) &&
		    (clen != 1 || (p[0] != 0x00 && p[0] != 0xff)))
			return 0;
		if ((r & V_ASN1_CONSTRUCTED) && depth < 64 && !strict_der(p, clen, depth + 1))
			return 0;
		p += clen;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	m2m_envelope env;
	m2m_reason r = m2m_decode(data, size, &env);
	if (r == M2M_OK) {
		if (!env.header_ok || !env.body || !m2m_msgtype_name(env.type)) {
			fprintf(stderr, "accepted without a usable header or body\n");
			abort();
		}
		unsigned char *der = NULL;
		size_t len = 0;
		m2m_reason again = m2m_encode(&env, env.body, &der, &len);
		if (again != M2M_OK || len != size || memcmp(der, data, size)) {
			fprintf(stderr, "accepted %s does not re-encode to its own bytes (%s, %zu vs %zu bytes)\n",
				m2m_msgtype_name(env.type), m2m_reason_name(again), len, size);
			abort();
		}
		OPENSSL_free(der);
		if (!strict_der(data, (long)size, 0)) {
			fprintf(stderr, "accepted %s is not DER (length form or BOOLEAN value)\n",
				m2m_msgtype_name(env.type));
			abort();
		}
		char *summary = m2m_body_summary(env.type, env.body);
		if (!summary || strlen(summary) > 512) {
			fprintf(stderr, "bad summary\n");
			abort();
		}
		free(summary);
	} else if (!m2m_reason_name(r)) {
		fprintf(stderr, "refused with reason %d, which the module does not define\n", r);
		abort();
	} else if (env.body) {
		fprintf(stderr, "refused message kept a body\n");
		abort();
	}
	m2m_envelope_clear(&env);
	ERR_clear_error();
	return 0;
}
