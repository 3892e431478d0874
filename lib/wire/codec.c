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
#include <limits.h>
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

int m2m_digits(const ASN1_STRING *s, char *buf, size_t buflen, size_t min, size_t max)
{
	if (!s || m2m_str(s, buf, buflen))
		return -1;
	size_t n = strlen(buf);
	if (n < min || n > max || strspn(buf, "0123456789") != n)
		return -1;
	return 0;
}

/* Allocates *s when NULL (an OPTIONAL field being filled in). */
int m2m_set_digits(ASN1_STRING **s, const char *digits)
{
	if (!*s)
		*s = ASN1_STRING_type_new(V_ASN1_NUMERICSTRING);
	return *s ? m2m_set_str(*s, digits) : -1;
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

/*
 * DER allows only FF for a TRUE BOOLEAN, but OpenSSL keeps any non-zero content octet and writes
 * it back unchanged, so the re-encoding comparison cannot see 01. Walk every TLV to check.
 */
static int booleans_canonical(const unsigned char *p, long len, int depth)
{
	const unsigned char *end = p + len;
	while (p < end) {
		long clen;
		int tag, cls;
		int r = ASN1_get_object(&p, &clen, &tag, &cls, end - p);
		if (r & 0x80)
			return 1;  /* malformed: left for the decoder to name */
		if (r & V_ASN1_CONSTRUCTED) {
			if (depth < 32 && !booleans_canonical(p, clen, depth + 1))
				return 0;
		} else if (cls == V_ASN1_UNIVERSAL && tag == V_ASN1_BOOLEAN &&
			   (clen != 1 || (p[0] != 0x00 && p[0] != 0xff))) {
			return 0;
		}
		p += clen;
	}
	return 1;
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

m2m_reason m2m_decode_body(int type, const unsigned char *der, size_t len, void **out)
{
	*out = NULL;
	const m2m_msgdef *def = m2m_msgdef_find(type);
	if (!def)
		return M2M_R_UNKNOWN_MESSAGE_TYPE;
	if (!len || len > LONG_MAX)
		return M2M_R_BAD_BODY;
	const unsigned char *p = der;
	m2m_reason r = M2M_OK;
	ERR_clear_error();
	ASN1_VALUE *body = ASN1_item_d2i(NULL, &p, (long)len, def->item());
	if (!body || p != der + len)
		r = M2M_R_BAD_BODY;
	else if (is_canonical(def->item(), body, der, len))
		r = M2M_R_NOT_DER;
	ERR_clear_error();
	if (r != M2M_OK) {
		ASN1_item_free(body, def->item());
		return r;
	}
	*out = body;
	return M2M_OK;
}

static m2m_reason decode_body(const M2M_ENVELOPE *e, m2m_envelope *env)
{
	if (!m2m_msgdef_find(e->message_type))
		return M2M_R_UNKNOWN_MESSAGE_TYPE;
	unsigned char *der = NULL;
	int n = i2d_ASN1_TYPE(e->body, &der);
	m2m_reason r = n > 0 ? m2m_decode_body(e->message_type, der, (size_t)n, &env->body) : M2M_R_BAD_BODY;
	OPENSSL_free(der);
	return r;
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
	if (r == M2M_OK && (is_canonical(ASN1_ITEM_rptr(M2M_ENVELOPE), e, der, len) ||
			    !booleans_canonical(der, (long)len, 0)))
		r = M2M_R_NOT_DER;
	ERR_clear_error();
	if (r == M2M_OK)
		r = decode_body(e, env);
	M2M_ENVELOPE_free(e);
	return r;
}

int m2m_redact(const unsigned char *der, size_t len, unsigned char **out, size_t *outlen)
{
	m2m_envelope env;
	if (m2m_decode(der, len, &env) != M2M_OK) {
		m2m_envelope_clear(&env);
		return -1;
	}
	const m2m_msgdef *def = m2m_msgdef_find(env.type);
	int redacted = 0;
	if (def->redact) {
		def->redact(env.body);
		redacted = m2m_encode(&env, env.body, out, outlen) == M2M_OK ? 1 : -1;
	}
	m2m_envelope_clear(&env);
	return redacted;
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

/*
 * m2m_body_summary: one trace line per body, made by walking the body's OpenSSL template (the
 * same tables the codec uses), so a new message type needs no code here. Field names are the
 * template's struct field names turned into the module's camelCase ("software_version" ->
 * "softwareVersion"). Values: UTF8String etc. as text (quoted only when needed), OCTET STRING as
 * hex (32 bytes at most, then "..."), integers in decimal, BOOLEAN true/false, NULL empty,
 * SEQUENCE OF as [a, b], a nested SEQUENCE as {f=v g=w}; absent OPTIONAL fields are left out.
 * Anything the walker does not know is shown as the hex of its DER. At most SUMMARY_MAX chars.
 */
#define SUMMARY_MAX 512
#define SUMMARY_HEX_MAX 32
#define SUMMARY_DEPTH 12

typedef struct {
	char s[SUMMARY_MAX + 1];
	size_t n;
	int full;
} sum_buf;

static void sum_putc(sum_buf *b, char c)
{
	if (b->n < SUMMARY_MAX)
		b->s[b->n++] = c;
	else
		b->full = 1;
}

static void sum_puts(sum_buf *b, const char *s)
{
	while (*s)
		sum_putc(b, *s++);
}

static void sum_hexbyte(sum_buf *b, unsigned char c)
{
	static const char digits[] = "0123456789abcdef";
	sum_putc(b, digits[c >> 4]);
	sum_putc(b, digits[c & 15]);
}

static void sum_hex(sum_buf *b, const unsigned char *d, size_t n)
{
	if (n == 0) {
		sum_puts(b, "\"\"");
		return;
	}
	for (size_t i = 0; i < n && i < SUMMARY_HEX_MAX; i++)
		sum_hexbyte(b, d[i]);
	if (n > SUMMARY_HEX_MAX)
		sum_puts(b, "...");
}

static void sum_u64(sum_buf *b, uint64_t v)
{
	char d[24];
	int i = 0;
	do {
		d[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (i)
		sum_putc(b, d[--i]);
}

static void sum_i64(sum_buf *b, int64_t v)
{
	if (v < 0) {
		sum_putc(b, '-');
		sum_u64(b, (uint64_t)0 - (uint64_t)v);
	} else {
		sum_u64(b, (uint64_t)v);
	}
}

/* Text goes out bare when it cannot be confused with the separators, quoted and escaped otherwise. */
static int sum_bare_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && !strchr("\"\\=,[]{}", c);
}

static void sum_text(sum_buf *b, const unsigned char *d, size_t n)
{
	int bare = n > 0;
	for (size_t i = 0; i < n && bare; i++)
		bare = sum_bare_char(d[i]);
	if (!bare)
		sum_putc(b, '"');
	for (size_t i = 0; i < n && !b->full; i++) {
		unsigned char c = d[i];
		if (c == '"' || c == '\\') {
			sum_putc(b, '\\');
			sum_putc(b, (char)c);
		} else if (c >= 0x20 && c < 0x7f) {
			sum_putc(b, (char)c);
		} else {
			sum_puts(b, "\\x");
			sum_hexbyte(b, c);
		}
	}
	if (!bare)
		sum_putc(b, '"');
}

/* "software_version" -> "softwareVersion", the module's spelling of the field. */
static void sum_name(sum_buf *b, const char *field)
{
	int up = 0;
	for (const char *p = field; p && *p; p++) {
		if (*p == '_') {
			up = 1;
			continue;
		}
		sum_putc(b, up && *p >= 'a' && *p <= 'z' ? (char)(*p - 'a' + 'A') : *p);
		up = 0;
	}
}

/* Fields whose integer values have names in the module. */
static const char *sum_value_name(const char *field, int is_enum, int64_t v)
{
	if (!field || v < 0 || v > 65535)
		return NULL;
	if (is_enum && (!strcmp(field, "reason") || !strcmp(field, "reasons")))
		return v ? m2m_reason_name((m2m_reason)v) : NULL;
	if (!is_enum && (!strcmp(field, "refused_type") || !strcmp(field, "message_type")))
		return m2m_msgtype_name((int)v);
	return NULL;
}

static void sum_named_int(sum_buf *b, const char *field, int is_enum, int64_t v)
{
	const char *name = sum_value_name(field, is_enum, v);
	if (name)
		sum_puts(b, name);
	else
		sum_i64(b, v);
}

/* Fallback for shapes the walker does not know: the DER of the value, in hex. */
static void sum_der(sum_buf *b, const ASN1_VALUE **fld, const ASN1_ITEM *it)
{
	int n = ASN1_item_ex_i2d(fld, NULL, it, -1, 0);
	unsigned char *der = n > 0 ? OPENSSL_malloc((size_t)n) : NULL;
	unsigned char *p = der;
	if (der && ASN1_item_ex_i2d(fld, &p, it, -1, 0) == n) {
		sum_puts(b, "der:");
		sum_hex(b, der, (size_t)n);
	} else {
		sum_putc(b, '?');
	}
	OPENSSL_free(der);
	ERR_clear_error();
}

static void sum_string(sum_buf *b, const ASN1_STRING *s, int utype, const char *field)
{
	if (!s) {
		sum_putc(b, '-');
		return;
	}
	const unsigned char *d = ASN1_STRING_get0_data(s);
	int len = ASN1_STRING_length(s);
	size_t n = d && len > 0 ? (size_t)len : 0;
	int64_t v;
	switch (utype) {
	case V_ASN1_INTEGER:
	case V_ASN1_ENUMERATED:
		if ((utype == V_ASN1_INTEGER ? ASN1_INTEGER_get_int64(&v, s) : ASN1_ENUMERATED_get_int64(&v, s)) == 1) {
			sum_named_int(b, field, utype == V_ASN1_ENUMERATED, v);
		} else {
			ERR_clear_error();
			sum_puts(b, (ASN1_STRING_type(s) & V_ASN1_NEG) ? "-0x" : "0x");
			sum_hex(b, d, n);
		}
		return;
	case V_ASN1_UTF8STRING:
	case V_ASN1_PRINTABLESTRING:
	case V_ASN1_IA5STRING:
	case V_ASN1_VISIBLESTRING:
	case V_ASN1_NUMERICSTRING:
	case V_ASN1_T61STRING:
	case V_ASN1_UTCTIME:
	case V_ASN1_GENERALIZEDTIME:
		sum_text(b, d, n);
		return;
	case V_ASN1_NULL:
		return;
	default:  /* OCTET STRING, BIT STRING, and what is carried as bytes */
		sum_hex(b, d, n);
		return;
	}
}

static void sum_item(sum_buf *b, const ASN1_VALUE **fld, const void *field_addr, const ASN1_ITEM *it,
		     const char *field, int depth);
static void sum_fields(sum_buf *b, const ASN1_VALUE **pval, const ASN1_ITEM *it, int depth);

/* A template's value: fld points at the field (or, at the top, at the body pointer). */
static void sum_template(sum_buf *b, const ASN1_VALUE **fld, const ASN1_TEMPLATE *tt, int depth)
{
	const ASN1_ITEM *it = ASN1_ITEM_ptr(tt->item);
	const void *field_addr = fld;
	const ASN1_VALUE *embedded;
	if (tt->flags & ASN1_TFLG_EMBED) {  /* the value lives in the field itself */
		embedded = (const ASN1_VALUE *)fld;
		fld = &embedded;
	}
	if (tt->flags & ASN1_TFLG_SK_MASK) {
		const OPENSSL_STACK *sk = (const OPENSSL_STACK *)*fld;
		sum_putc(b, '[');
		for (int i = 0; sk && i < OPENSSL_sk_num(sk) && !b->full; i++) {
			const ASN1_VALUE *elem = OPENSSL_sk_value(sk, i);
			if (i)
				sum_puts(b, ", ");
			sum_item(b, &elem, &elem, it, tt->field_name, depth + 1);
		}
		sum_putc(b, ']');
		return;
	}
	sum_item(b, fld, field_addr, it, tt->field_name, depth);
}

/* Whether an OPTIONAL field was absent on the wire. */
static int sum_absent(const ASN1_VALUE **fld, const ASN1_TEMPLATE *tt)
{
	if (tt->flags & ASN1_TFLG_EMBED)
		return 0;
	if (tt->flags & ASN1_TFLG_SK_MASK)
		return *fld == NULL;
	const ASN1_ITEM *it = ASN1_ITEM_ptr(tt->item);
	if (it->itype == ASN1_ITYPE_PRIMITIVE && !it->templates && it->utype == V_ASN1_BOOLEAN)
		return *(const ASN1_BOOLEAN *)fld == -1;
	if (it->itype == ASN1_ITYPE_PRIMITIVE && !it->templates && it->funcs &&
	    (it == ASN1_ITEM_rptr(LONG) || it == ASN1_ITEM_rptr(ZLONG))) {
		long l;
		memcpy(&l, fld, sizeof l);
		return l == it->size;
	}
	return *fld == NULL;
}

/* The fields of a SEQUENCE, space separated, absent OPTIONAL ones left out. */
static void sum_fields(sum_buf *b, const ASN1_VALUE **pval, const ASN1_ITEM *it, int depth)
{
	int first = 1;
	for (long i = 0; i < it->tcount && !b->full; i++) {
		const ASN1_TEMPLATE *tt = &it->templates[i];
		const ASN1_VALUE **fld = (const ASN1_VALUE **)((const char *)*pval + tt->offset);
		if (!(tt->flags & ASN1_TFLG_ADB_MASK) && sum_absent(fld, tt))
			continue;
		if (!first)
			sum_putc(b, ' ');
		first = 0;
		sum_name(b, tt->field_name);
		sum_putc(b, '=');
		if (tt->flags & ASN1_TFLG_ADB_MASK)
			sum_putc(b, '?');  /* ANY DEFINED BY: not used by this module */
		else
			sum_template(b, fld, tt, depth + 1);
	}
}

static void sum_int_item(sum_buf *b, const ASN1_VALUE **fld, const void *field_addr, const ASN1_ITEM *it,
			 const char *field)
{
	const void *v = *fld;
	if (it == ASN1_ITEM_rptr(INT32) || it == ASN1_ITEM_rptr(ZINT32)) {
		int32_t x;
		memcpy(&x, v, sizeof x);
		sum_named_int(b, field, 0, x);
	} else if (it == ASN1_ITEM_rptr(UINT32) || it == ASN1_ITEM_rptr(ZUINT32)) {
		uint32_t x;
		memcpy(&x, v, sizeof x);
		sum_named_int(b, field, 0, x);
	} else if (it == ASN1_ITEM_rptr(INT64) || it == ASN1_ITEM_rptr(ZINT64)) {
		int64_t x;
		memcpy(&x, v, sizeof x);
		sum_named_int(b, field, 0, x);
	} else if (it == ASN1_ITEM_rptr(UINT64) || it == ASN1_ITEM_rptr(ZUINT64)) {
		uint64_t x;
		memcpy(&x, v, sizeof x);
		sum_u64(b, x);
	} else {  /* LONG, ZLONG: stored in the field itself */
		long x;
		memcpy(&x, field_addr, sizeof x);
		sum_named_int(b, field, 0, x);
	}
}

static void sum_item(sum_buf *b, const ASN1_VALUE **fld, const void *field_addr, const ASN1_ITEM *it,
		     const char *field, int depth)
{
	if (depth > SUMMARY_DEPTH) {
		sum_puts(b, "...");
		return;
	}
	int is_bool = it->itype == ASN1_ITYPE_PRIMITIVE && !it->templates && it->utype == V_ASN1_BOOLEAN;
	int is_long = it->itype == ASN1_ITYPE_PRIMITIVE && !it->templates &&
		      (it == ASN1_ITEM_rptr(LONG) || it == ASN1_ITEM_rptr(ZLONG));
	if (!is_bool && !is_long && !*fld) {
		sum_putc(b, '-');
		return;
	}
	switch (it->itype) {
	case ASN1_ITYPE_PRIMITIVE:
		if (it->templates) {  /* a type defined as one template, e.g. SEQUENCE OF x */
			sum_template(b, fld, it->templates, depth);
			return;
		}
		if (is_bool) {
			sum_puts(b, *(const ASN1_BOOLEAN *)field_addr > 0 ? "true" : "false");
			return;
		}
		if (it->funcs) {
			if (is_long || it == ASN1_ITEM_rptr(INT32) || it == ASN1_ITEM_rptr(ZINT32) ||
			    it == ASN1_ITEM_rptr(UINT32) || it == ASN1_ITEM_rptr(ZUINT32) ||
			    it == ASN1_ITEM_rptr(INT64) || it == ASN1_ITEM_rptr(ZINT64) ||
			    it == ASN1_ITEM_rptr(UINT64) || it == ASN1_ITEM_rptr(ZUINT64))
				sum_int_item(b, fld, field_addr, it, field);
			else
				sum_der(b, fld, it);
			return;
		}
		switch (it->utype) {
		case V_ASN1_NULL:
			return;
		case V_ASN1_ANY: {
			const ASN1_TYPE *any = (const ASN1_TYPE *)*fld;
			if (any->type == V_ASN1_BOOLEAN)
				sum_puts(b, any->value.boolean > 0 ? "true" : "false");
			else if (any->type == V_ASN1_NULL)
				return;
			else if (any->type == V_ASN1_OBJECT)
				sum_der(b, fld, it);
			else
				sum_string(b, any->value.asn1_string, any->type, field);
			return;
		}
		case V_ASN1_OBJECT:
		case V_ASN1_OTHER:
		case V_ASN1_SEQUENCE:
		case V_ASN1_SET:
			sum_der(b, fld, it);
			return;
		default:
			sum_string(b, (const ASN1_STRING *)*fld, (int)it->utype, field);
			return;
		}
	case ASN1_ITYPE_MSTRING: {
		const ASN1_STRING *s = (const ASN1_STRING *)*fld;
		sum_string(b, s, ASN1_STRING_type(s) & ~V_ASN1_NEG, field);
		return;
	}
	case ASN1_ITYPE_SEQUENCE:
	case ASN1_ITYPE_NDEF_SEQUENCE:
		if (depth > 0)
			sum_putc(b, '{');
		sum_fields(b, fld, it, depth);
		if (depth > 0)
			sum_putc(b, '}');
		return;
	case ASN1_ITYPE_CHOICE: {
		int sel = *(const int *)((const char *)*fld + it->utype);
		if (sel < 0 || sel >= it->tcount) {
			sum_putc(b, '?');
			return;
		}
		const ASN1_TEMPLATE *tt = &it->templates[sel];
		const ASN1_VALUE **cfld = (const ASN1_VALUE **)((const char *)*fld + tt->offset);
		sum_name(b, tt->field_name);
		sum_putc(b, ':');
		sum_template(b, cfld, tt, depth + 1);
		return;
	}
	default:  /* EXTERN and anything newer */
		sum_der(b, fld, it);
		return;
	}
}

char *m2m_body_summary(int type, const void *body)
{
	const m2m_msgdef *def = m2m_msgdef_find(type);
	if (!def || !body)
		return strdup("");
	sum_buf *b = calloc(1, sizeof *b);
	if (!b)
		return NULL;
	const ASN1_VALUE *val = body;
	sum_item(b, &val, &val, def->item(), NULL, 0);
	if (b->full && b->n >= 3)
		memcpy(b->s + b->n - 3, "...", 3);
	b->s[b->n] = 0;
	char *out = strdup(b->s);
	free(b);
	return out;
}
