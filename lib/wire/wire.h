/*
 * The envelope codec. DER in, DER out, through OpenSSL's ASN.1 templates only. Decoding is
 * strict: a message is accepted only when it is the canonical DER of a known message type of
 * a version we implement, and every refusal comes with the ReasonCode that names what was wrong.
 */
#ifndef M2M_WIRE_H
#define M2M_WIRE_H

#include "wire/messages.h"
#include "wire/reason.h"

#include <stddef.h>
#include <stdint.h>

#define M2M_WIRE_VERSION 1
#define M2M_TXID_LEN 16
#define M2M_ENTITY_MAX 63
#define M2M_MAX_MESSAGE (1024 * 1024)

/* One row per message type of docs/protocol.asn1 (registry.c). */
typedef struct m2m_msgdef {
	int type;
	const char *name;       /* the ASN.1 identifier, e.g. "healthRequest" */
	ASN1_ITEM_EXP *item;    /* the body's template: item() gives the ASN1_ITEM */
	/* For bodies that can carry SECRET fields (docs/protocol.asn1): zeroes them in place.
	 * NULL for every other type. */
	void (*redact)(void *body);
} m2m_msgdef;

const m2m_msgdef *m2m_msgdef_find(int type);
const char *m2m_msgtype_name(int type);  /* "unknown(N)" style names are not returned: NULL */

/* A decoded message in plain C, with its body as the template type of its message type. */
typedef struct m2m_envelope {
	int version;
	int type;
	uint8_t txid[M2M_TXID_LEN];
	char sender[M2M_ENTITY_MAX + 1];
	char recipient[M2M_ENTITY_MAX + 1];
	uint64_t seq;
	void *body;  /* owned; freed by m2m_envelope_clear */
	int header_ok;  /* set by m2m_decode once txid, sender, recipient and seq are known */
} m2m_envelope;

/* DER of an envelope around body (not consumed). *der is OPENSSL_malloc'd. */
m2m_reason m2m_encode(const m2m_envelope *env, const void *body, unsigned char **der, size_t *len);

/* Strict decode. On refusal env->header_ok says whether the header fields are usable (an error
 * reply can then name the transaction). */
m2m_reason m2m_decode(const unsigned char *der, size_t len, m2m_envelope *env);
/* A bare body of a message type (a relayed step, a RelayResponse's body), as strictly as
 * m2m_decode decodes one: M2M_OK with *body (free with the type's item), unknownMessageType,
 * badBody or notDER. */
m2m_reason m2m_decode_body(int type, const unsigned char *der, size_t len, void **body);
void m2m_envelope_clear(m2m_envelope *env);

/*
 * The copy of a message that may leave the two parties (a tap, a stored reply): when its type
 * can carry SECRET fields, *out is a fresh DER with them zeroed (same lengths) and 1 is
 * returned; otherwise 0 and the message is safe as it is. -1 when it does not decode.
 */
int m2m_redact(const unsigned char *der, size_t len, unsigned char **out, size_t *outlen);
int m2m_has_secrets(int type);

/* Copies a NumericString of min..max digits (0-9 only) into buf; 0, or -1 when it is not one. */
int m2m_digits(const ASN1_STRING *s, char *buf, size_t buflen, size_t min, size_t max);
int m2m_set_digits(ASN1_STRING **s, const char *digits);

/* A one-line decoded rendering of a body for traces ("nonce=0a1b..."). Returns a malloc'd string. */
char *m2m_body_summary(int type, const void *body);

/* Convenience for handlers: copy a UTF8String into buf; 0 on success, -1 if too long/contains NUL. */
int m2m_str(const ASN1_STRING *s, char *buf, size_t buflen);
int m2m_set_str(ASN1_STRING *s, const char *text);

#endif
