/*
 * Reading wire values with the module's constraints, which OpenSSL's templates do not check
 * (SIZE, value ranges), for every role's handlers.
 */
#ifndef M2M_WIRE_READ_H
#define M2M_WIRE_READ_H

#include "wire/wire.h"

#include <stdint.h>

/* An OCTET STRING of exactly len bytes into out: 0 or -1. */
int m2m_read_octets(const ASN1_OCTET_STRING *s, uint8_t *out, size_t len);
/* A non-empty UTF8String of at most max bytes, without NUL, into buf[max + 1]: 0 or -1. */
int m2m_read_name(const ASN1_STRING *s, char *buf, size_t max);
/* An ENUMERATED of 0..max: 0 or -1. */
int m2m_read_enum(const ASN1_ENUMERATED *e, int max, int *out);
/* A GeneralizedTime as Unix seconds: 0 or -1. */
int m2m_read_time(const ASN1_GENERALIZEDTIME *t, int64_t *out);

#endif
