#include "wire/wire.h"
#include <criterion/criterion.h>
Test(wire, placeholder_roundtrip_ping) {
	M2M_PING *p = M2M_PING_new();
	ASN1_OCTET_STRING_set(p->nonce, (const unsigned char *)"12345678", 8);
	m2m_envelope e = {.type = M2M_MSG_PING, .seq = 1};
	strcpy(e.sender, "a"); strcpy(e.recipient, "b");
	unsigned char *der; size_t n;
	cr_assert_eq(m2m_encode(&e, p, &der, &n), M2M_OK);
	m2m_envelope d;
	cr_assert_eq(m2m_decode(der, n, &d), M2M_OK);
	char *s = m2m_body_summary(d.type, d.body);
	cr_log_info("%s", s);
	printf("summary: %s\n", s);
	for (size_t i = 0; i < n; i++)
		printf("%02x", der[i]);
	printf("\n");
	free(s); m2m_envelope_clear(&d); OPENSSL_free(der); M2M_PING_free(p);
}
