/* Reading wire values with the module's constraints (asn1_read.h). */
#include "wire/read.h"

#include <string.h>
#include <time.h>

int m2m_read_octets(const ASN1_OCTET_STRING *s, uint8_t *out, size_t len)
{
	if (!s || ASN1_STRING_length(s) != (int)len)
		return -1;
	memcpy(out, ASN1_STRING_get0_data(s), len);
	return 0;
}

int m2m_read_name(const ASN1_STRING *s, char *buf, size_t max)
{
	return s && !m2m_str(s, buf, max + 1) && buf[0] ? 0 : -1;
}

int m2m_read_enum(const ASN1_ENUMERATED *e, int max, int *out)
{
	int64_t v = -1;
	if (!e || !ASN1_ENUMERATED_get_int64(&v, e) || v < 0 || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

int m2m_read_time(const ASN1_GENERALIZEDTIME *t, int64_t *out)
{
	struct tm tm;
	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return -1;
	*out = (int64_t)timegm(&tm);
	return 0;
}
