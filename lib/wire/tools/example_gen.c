/*
 * m2m-wire-examples: one example envelope per registered message type, as produced by
 * m2m_encode, for docs/protocol.md and the fuzzer's seed corpus.
 *
 *   m2m-wire-examples      prints "TYPE NAME HEX" and a "# summary: ..." line per message type
 *   m2m-wire-examples DIR  also writes DIR/NN-NAME.der per type and DIR/bad-*.der, a few
 *                          malformed variants (byte edits of the encoder's output); creates DIR
 *
 * Exit status 1 if a registered type has no example here, so a new type is not forgotten.
 */
#include "wire/wire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_TYPE 100

static const uint8_t example_txid[M2M_TXID_LEN] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
						   0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
static const unsigned char example_nonce[8] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};

static ASN1_UTF8STRING *utf8(const char *text)
{
	ASN1_UTF8STRING *s = ASN1_UTF8STRING_new();
	if (!s || m2m_set_str(s, text)) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	return s;
}

/* ---- example bodies ---------------------------------------------------------------------- */

/*
 * The ErrorReport is assembled field by field instead of with M2M_ERROR_REPORT_new: with
 * OpenSSL 3.0, ASN1_item_new on a template with ASN1_OPT(..., INT32) writes through a NULL
 * pointer (x_int64.c's clear function), so _new and d2i of ErrorReport crash; encoding and
 * freeing do not go through that path. refusedType is set through _Generic so that this still
 * compiles once the template stores it differently (ASN1_INTEGER *, or an embedded int32_t).
 */
static void set_refused_i32(void *field, long v)
{
	int32_t *p = OPENSSL_malloc(sizeof *p);
	*p = (int32_t)v;
	*(int32_t **)field = p;
}

static void set_refused_integer(void *field, long v)
{
	ASN1_INTEGER *i = ASN1_INTEGER_new();
	ASN1_INTEGER_set(i, v);
	*(ASN1_INTEGER **)field = i;
}

static void set_refused_embedded(void *field, long v)
{
	*(int32_t *)field = (int32_t)v;
}

#define SET_REFUSED_TYPE(report, v)                                                                 \
	_Generic((report)->refused_type, int32_t *: set_refused_i32, ASN1_INTEGER *: set_refused_integer, \
		 int32_t: set_refused_embedded)(&(report)->refused_type, v)

static void *make_error(void)
{
	M2M_ERROR_REPORT *e = OPENSSL_zalloc(sizeof *e);
	e->reason = ASN1_ENUMERATED_new();
	ASN1_ENUMERATED_set(e->reason, M2M_R_BAD_BODY);
	e->text = utf8("body does not match messageType 3");
	SET_REFUSED_TYPE(e, M2M_MSG_PING);
	return e;
}

static void *make_health_request(void)
{
	return ASN1_NULL_new();
}

static void *make_health_response(void)
{
	M2M_HEALTH_RESPONSE *h = M2M_HEALTH_RESPONSE_new();
	m2m_set_str(h->role, "tre");
	m2m_set_str(h->entity, "tre-1");
	m2m_set_str(h->software_version, "0.1.0");
	h->uptime_seconds = 3600;
	h->received = 12;
	h->sent = 11;
	h->refused = 1;
	h->open_transactions = 0;
	return h;
}

static void *make_ping(void)
{
	M2M_PING *p = M2M_PING_new();
	ASN1_OCTET_STRING_set(p->nonce, example_nonce, sizeof example_nonce);
	return p;
}

static void *make_ping_peers_request(void)
{
	M2M_PING_PEERS_REQUEST *r = M2M_PING_PEERS_REQUEST_new();
	r->peers = sk_ASN1_UTF8STRING_new_null();
	sk_ASN1_UTF8STRING_push(r->peers, utf8("m2me-1"));
	sk_ASN1_UTF8STRING_push(r->peers, utf8("uicc-1"));
	return r;
}

static M2M_PEER_REACHABILITY *reachability(const char *peer, int reachable, uint64_t micros, long reason)
{
	M2M_PEER_REACHABILITY *r = M2M_PEER_REACHABILITY_new();
	m2m_set_str(r->peer, peer);
	r->reachable = reachable ? 0xff : 0;
	r->round_trip_micros = micros;
	if (reason) {
		r->reason = ASN1_ENUMERATED_new();
		ASN1_ENUMERATED_set(r->reason, reason);
	}
	return r;
}

static void *make_ping_peers_response(void)
{
	M2M_PING_PEERS_RESPONSE *s = sk_M2M_PEER_REACHABILITY_new_null();
	sk_M2M_PEER_REACHABILITY_push(s, reachability("m2me-1", 1, 812, 0));
	sk_M2M_PEER_REACHABILITY_push(s, reachability("uicc-1", 0, 0, M2M_R_TIMEOUT));
	return s;
}

typedef struct example {
	int type;
	int is_reply;  /* replies go from tre-1 back to mno-a */
	void *(*make)(void);
} example;

static const example examples[] = {
	{M2M_MSG_ERROR, 1, make_error},
	{M2M_MSG_HEALTH_REQUEST, 0, make_health_request},
	{M2M_MSG_HEALTH_RESPONSE, 1, make_health_response},
	{M2M_MSG_PING, 0, make_ping},
	{M2M_MSG_PONG, 1, make_ping},
	{M2M_MSG_PING_PEERS_REQUEST, 0, make_ping_peers_request},
	{M2M_MSG_PING_PEERS_RESPONSE, 1, make_ping_peers_response},
};

static const example *example_for(int type)
{
	for (size_t i = 0; i < sizeof examples / sizeof examples[0]; i++)
		if (examples[i].type == type)
			return &examples[i];
	return NULL;
}

/* ---- output ------------------------------------------------------------------------------ */

static int write_file(const char *dir, const char *name, const unsigned char *der, size_t len)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(der, 1, len, f) != len || fclose(f)) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static void print_hex(const unsigned char *der, size_t len)
{
	for (size_t i = 0; i < len; i++)
		printf("%02x", der[i]);
}

/* der with n bytes at off replaced by rep (rep_len bytes); the short-form outer length is fixed up. */
static unsigned char *splice(const unsigned char *der, size_t len, size_t off, size_t n, const unsigned char *rep,
			     size_t rep_len, size_t *out_len)
{
	*out_len = len - n + rep_len;
	unsigned char *out = malloc(*out_len);
	memcpy(out, der, off);
	memcpy(out + off, rep, rep_len);
	memcpy(out + off + rep_len, der + off + n, len - off - n);
	if (!(out[1] & 0x80))
		out[1] = (unsigned char)(out[1] + rep_len - n);
	return out;
}

static const unsigned char *find(const unsigned char *hay, size_t len, const unsigned char *needle, size_t n)
{
	for (size_t i = 0; i + n <= len; i++)
		if (!memcmp(hay + i, needle, n))
			return hay + i;
	return NULL;
}

/* A few malformed variants, each refused for a different reason (docs/protocol.md). */
static int write_malformed(const char *dir, int type, const unsigned char *der, size_t len)
{
	int rc = 0;
	size_t n;
	unsigned char *m;
	if (type == M2M_MSG_PING) {
		rc |= write_file(dir, "bad-truncated.der", der, len / 2);
		m = malloc(len + 1);
		memcpy(m, der, len);
		m[len] = 0;
		rc |= write_file(dir, "bad-trailing-data.der", m, len + 1);
		m[0] = 0x31;
		rc |= write_file(dir, "bad-wrong-tag.der", m, len);
		memcpy(m, der, len);
		m[4] = 2;  /* 30 LL 02 01 [01] : version */
		rc |= write_file(dir, "bad-version-2.der", m, len);
		free(m);

		static const unsigned char type999[] = {0x02, 0x02, 0x03, 0xe7};
		m = splice(der, len, 5, 3, type999, sizeof type999, &n);
		rc |= write_file(dir, "bad-unknown-type.der", m, n);
		free(m);

		static const unsigned char indefinite[] = {0x80};
		m = splice(der, len, 1, 1, indefinite, 1, &n);
		unsigned char *eoc = malloc(n + 2);
		memcpy(eoc, m, n);
		eoc[n] = eoc[n + 1] = 0;
		rc |= write_file(dir, "bad-indefinite-length.der", eoc, n + 2);
		free(eoc);
		free(m);

		static const unsigned char huge[] = {0x84, 0x7f, 0xff, 0xff, 0xff};
		m = splice(der, len, 1, 1, huge, sizeof huge, &n);
		rc |= write_file(dir, "bad-length-too-large.der", m, n);
		free(m);

		unsigned char long_form[] = {0x81, der[1]};
		m = splice(der, len, 1, 1, long_form, sizeof long_form, &n);
		rc |= write_file(dir, "bad-non-minimal-length.der", m, n);
		free(m);
	}
	if (type == M2M_MSG_PING_PEERS_RESPONSE) {
		static const unsigned char der_true[] = {0x01, 0x01, 0xff};
		const unsigned char *t = find(der, len, der_true, sizeof der_true);
		if (t) {
			m = malloc(len);
			memcpy(m, der, len);
			m[t - der + 2] = 0x01;
			rc |= write_file(dir, "bad-ber-boolean.der", m, len);
			free(m);
		}
	}
	if (type == M2M_MSG_HEALTH_REQUEST) {
		/* a healthRequest carrying a Ping body */
		static const unsigned char ping_body[] = {0x30, 0x0a, 0x04, 0x08, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
		m = splice(der, len, len - 2, 2, ping_body, sizeof ping_body, &n);
		rc |= write_file(dir, "bad-body.der", m, n);
		free(m);
	}
	return rc;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : NULL;
	if (dir && mkdir(dir, 0777) && errno != EEXIST) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		return 1;
	}
	int rc = 0;
	for (int t = 0; t <= MAX_TYPE; t++) {
		const m2m_msgdef *def = m2m_msgdef_find(t);
		if (!def)
			continue;
		const example *x = example_for(t);
		if (!x) {
			fprintf(stderr, "no example for message type %d (%s)\n", t, def->name);
			rc = 1;
			continue;
		}
		m2m_envelope env = {.version = M2M_WIRE_VERSION, .type = t, .seq = x->is_reply ? 7 : 42};
		memcpy(env.txid, example_txid, M2M_TXID_LEN);
		strcpy(env.sender, x->is_reply ? "tre-1" : "mno-a");
		strcpy(env.recipient, x->is_reply ? "mno-a" : "tre-1");
		void *body = x->make();
		unsigned char *der = NULL;
		size_t len = 0;
		m2m_reason r = m2m_encode(&env, body, &der, &len);
		if (r != M2M_OK) {
			fprintf(stderr, "%s: encode: %s\n", def->name, m2m_reason_name(r));
			rc = 1;
		} else {
			printf("%d %s ", t, def->name);
			print_hex(der, len);
			char *summary = m2m_body_summary(t, body);
			printf("\n# summary: %s\n", summary ? summary : "");
			free(summary);
			if (dir) {
				char name[64];
				snprintf(name, sizeof name, "%02d-%s.der", t, def->name);
				rc |= write_file(dir, name, der, len) ? 1 : 0;
				rc |= write_malformed(dir, t, der, len) ? 1 : 0;
			}
		}
		OPENSSL_free(der);
		ASN1_item_free(body, def->item());
	}
	return rc;
}
