/*
 * Strict DER decoding and encoding of the envelope. OpenSSL's templates do the parsing; this
 * file only decides which ReasonCode a failure deserves and enforces canonical DER by
 * re-encoding what was decoded and comparing it byte for byte with what arrived.
 */
#include "wire/wire.h"

#include <openssl/asn1t.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

int m2m_str(const ASN1_STRING *s, char *buf, size_t buflen)
{
	int n = ASN1_STRING_length(s);
	const unsigned char *d = ASN1_STRING_get0_data(s);
	if (n < 0 || (size_t)n >= buflen || memchr(d, 0, (size_t)n))
		return -1;
	memcpy(buf, d, (size_t)n);
	buf[n] = 0;
	return 0;
}

int m2m_set_str(ASN1_STRING *s, const char *text)
{
	return ASN1_STRING_set(s, text, (int)strlen(text)) ? 0 : -1;
}

/* Map the earliest OpenSSL error of a failed d2i to a ReasonCode. */
static m2m_reason reason_from_openssl(void)
{
	unsigned long e = ERR_peek_error();
	ERR_clear_error();
	switch (ERR_GET_REASON(e)) {
	case ASN1_R_WRONG_TAG:
	case ASN1_R_MSTRING_WRONG_TAG:
	case ASN1_R_TYPE_NOT_PRIMITIVE:
	case ASN1_R_TYPE_NOT_CONSTRUCTED:
	case ASN1_R_EXPECTING_AN_INTEGER:
	case ASN1_R_BAD_OBJECT_HEADER:
		return M2M_R_WRONG_TAG;
	case ASN1_R_TOO_LONG:
	case ASN1_R_HEADER_TOO_LONG:
	case ASN1_R_NOT_ENOUGH_DATA:
		/* the outer frame was complete, so an inner length ran past its container */
		return M2M_R_LENGTH_TOO_LARGE;
	default:
		return M2M_R_MALFORMED;
	}
}

/* Look at the outermost TLV only, to tell a cut-off message from an absurd length. */
static m2m_reason check_frame(const unsigned char *der, size_t len)
{
	if (len < 2)
		return M2M_R_TRUNCATED;
	if (len > M2M_MAX_MESSAGE)
		return M2M_R_LENGTH_TOO_LARGE;
	if (der[0] != (V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED))
		return M2M_R_WRONG_TAG;
	if (der[1] == 0x80)
		return M2M_R_NOT_DER;  /* indefinite length is BER, never DER */
	if ((der[1] & 0x80) && (der[1] & 0x7f) > 3)
		return M2M_R_LENGTH_TOO_LARGE;  /* more than 3 length octets exceeds M2M_MAX_MESSAGE */

	const unsigned char *p = der;
	long plen;
	int tag, cls;
	ERR_set_mark();
	int r = ASN1_get_object(&p, &plen, &tag, &cls, (long)len);
	ERR_pop_to_mark();
	if (r & 0x80) {
		if (p == der || plen <= 0)
			return M2M_R_TRUNCATED;
		return plen > M2M_MAX_MESSAGE ? M2M_R_LENGTH_TOO_LARGE : M2M_R_TRUNCATED;
	}
	size_t total = (size_t)(p - der) + (size_t)plen;
	return total < len ? M2M_R_TRAILING_DATA : M2M_OK;
}

/* 0 when the value of item re-encodes to exactly (der, len). */
static int is_canonical(const ASN1_ITEM *item, const void *val, const unsigned char *der, size_t len)
{
	unsigned char *out = NULL;
	int n = ASN1_item_i2d((const ASN1_VALUE *)val, &out, item);
	int same = n >= 0 && (size_t)n == len && memcmp(out, der, len) == 0;
	OPENSSL_free(out);
	return same ? 0 : -1;
}

static m2m_reason read_header(const M2M_ENVELOPE *e, m2m_envelope *env)
{
	if (ASN1_STRING_length(e->transaction_id) != M2M_TXID_LEN || e->sequence < 1 ||
	    m2m_str(e->sender, env->sender, sizeof env->sender) || !env->sender[0] ||
	    m2m_str(e->recipient, env->recipient, sizeof env->recipient) || !env->recipient[0])
		return M2M_R_MALFORMED;
	memcpy(env->txid, ASN1_STRING_get0_data(e->transaction_id), M2M_TXID_LEN);
	env->seq = (uint64_t)e->sequence;
	env->version = e->version;
	env->type = e->message_type;
	env->header_ok = 1;
	return M2M_OK;
}

static m2m_reason decode_body(const M2M_ENVELOPE *e, m2m_envelope *env)
{
	const m2m_msgdef *def = m2m_msgdef_find(e->message_type);
	if (!def)
		return M2M_R_UNKNOWN_MESSAGE_TYPE;
	unsigned char *der = NULL;
	int n = i2d_ASN1_TYPE(e->body, &der);
	if (n <= 0)
		return M2M_R_BAD_BODY;
	const unsigned char *p = der;
	m2m_reason r = M2M_OK;
	ERR_clear_error();
	ASN1_VALUE *body = ASN1_item_d2i(NULL, &p, n, def->item());
	if (!body || p != der + n)
		r = M2M_R_BAD_BODY;
	else if (is_canonical(def->item(), body, der, (size_t)n))
		r = M2M_R_NOT_DER;
	ERR_clear_error();
	OPENSSL_free(der);
	if (r != M2M_OK) {
		ASN1_item_free(body, def->item());
		return r;
	}
	env->body = body;
	return M2M_OK;
}

m2m_reason m2m_decode(const unsigned char *der, size_t len, m2m_envelope *env)
{
	memset(env, 0, sizeof *env);
	m2m_reason r = check_frame(der, len);
	if (r != M2M_OK)
		return r;

	const unsigned char *p = der;
	ERR_clear_error();
	M2M_ENVELOPE *e = d2i_M2M_ENVELOPE(NULL, &p, (long)len);
	if (!e)
		return reason_from_openssl();
	r = read_header(e, env);
	if (r == M2M_OK && e->version != M2M_WIRE_VERSION)
		r = M2M_R_UNSUPPORTED_VERSION;
	if (r == M2M_OK && is_canonical(ASN1_ITEM_rptr(M2M_ENVELOPE), e, der, len))
		r = M2M_R_NOT_DER;
	if (r == M2M_OK)
		r = decode_body(e, env);
	M2M_ENVELOPE_free(e);
	return r;
}

void m2m_envelope_clear(m2m_envelope *env)
{
	const m2m_msgdef *def = m2m_msgdef_find(env->type);
	if (env->body && def)
		ASN1_item_free(env->body, def->item());
	env->body = NULL;
}

static ASN1_TYPE *body_as_any(const m2m_msgdef *def, const void *body)
{
	unsigned char *der = NULL;
	int n = ASN1_item_i2d((const ASN1_VALUE *)body, &der, def->item());
	if (n <= 0)
		return NULL;
	const unsigned char *p = der;
	ASN1_TYPE *any = d2i_ASN1_TYPE(NULL, &p, n);
	OPENSSL_free(der);
	return any;
}

m2m_reason m2m_encode(const m2m_envelope *env, const void *body, unsigned char **der, size_t *len)
{
	const m2m_msgdef *def = m2m_msgdef_find(env->type);
	if (!def)
		return M2M_R_UNKNOWN_MESSAGE_TYPE;
	M2M_ENVELOPE *e = M2M_ENVELOPE_new();
	if (!e)
		return M2M_R_INTERNAL;
	m2m_reason r = M2M_R_INTERNAL;
	e->version = env->version ? env->version : M2M_WIRE_VERSION;
	e->message_type = env->type;
	e->sequence = (int64_t)env->seq;
	ASN1_TYPE_free(e->body);
	e->body = body_as_any(def, body);
	if (e->body && ASN1_OCTET_STRING_set(e->transaction_id, env->txid, M2M_TXID_LEN) &&
	    !m2m_set_str(e->sender, env->sender) && !m2m_set_str(e->recipient, env->recipient)) {
		*der = NULL;
		int n = i2d_M2M_ENVELOPE(e, der);
		if (n > 0) {
			*len = (size_t)n;
			r = M2M_OK;
		}
	}
	M2M_ENVELOPE_free(e);
	return r;
}

/* Fold ASN1_item_print's indented lines into "field=value, ..." for one trace line. */
char *m2m_body_summary(int type, const void *body)
{
	const m2m_msgdef *def = m2m_msgdef_find(type);
	BIO *b = BIO_new(BIO_s_mem());
	if (!def || !b || !body) {
		BIO_free(b);
		return strdup("");
	}
	ASN1_item_print(b, (const ASN1_VALUE *)body, 0, def->item(), NULL);
	char *raw;
	long n = BIO_get_mem_data(b, &raw);
	char *out = malloc((size_t)n + 1);
	size_t o = 0;
	int at_line_start = 1;
	for (long i = 0; out && i < n; i++) {
		char c = raw[i];
		if (c == '\n') {
			at_line_start = 1;
			continue;
		}
		if (at_line_start && isspace((unsigned char)c))
			continue;
		if (at_line_start && o > 0) {
			out[o++] = ' ';
		}
		at_line_start = 0;
		out[o++] = c == '"' ? '\'' : c;
	}
	if (out)
		out[o] = 0;
	BIO_free(b);
	return out;
}
