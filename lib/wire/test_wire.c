/*
 * Tests of the envelope codec (lib/wire): every registered message type survives a round trip,
 * every malformed input is refused with the ReasonCode docs/protocol.md gives for it, and the
 * one-line body summary is readable. Malformed inputs are written out as raw bytes.
 */
#include "wire/wire.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <openssl/asn1t.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ---------------------------------------------------------------------------- */

static ASN1_UTF8STRING *utf8(const char *text)
{
	ASN1_UTF8STRING *s = ASN1_UTF8STRING_new();
	cr_assert(s && m2m_set_str(s, text) == 0);
	return s;
}

static ASN1_ENUMERATED *enumerated(long v)
{
	ASN1_ENUMERATED *e = ASN1_ENUMERATED_new();
	cr_assert(e && ASN1_ENUMERATED_set(e, v));
	return e;
}

static void assert_str_eq(const ASN1_STRING *want, const ASN1_STRING *got, const char *what)
{
	cr_assert(want && got, "%s: missing", what);
	cr_assert_eq(ASN1_STRING_length(want), ASN1_STRING_length(got), "%s: length differs", what);
	cr_assert_eq(ASN1_STRING_type(want), ASN1_STRING_type(got), "%s: type differs", what);
	if (ASN1_STRING_length(want) > 0)
		cr_assert(!memcmp(ASN1_STRING_get0_data(want), ASN1_STRING_get0_data(got),
				  (size_t)ASN1_STRING_length(want)),
			  "%s: content differs", what);
}

static void assert_enum_eq(const ASN1_ENUMERATED *want, const ASN1_ENUMERATED *got, const char *what)
{
	cr_assert_eq(want == NULL, got == NULL, "%s: presence differs", what);
	if (want)
		cr_assert_eq(ASN1_ENUMERATED_get(want), ASN1_ENUMERATED_get(got), "%s differs", what);
}

/* Decode from an exactly sized heap copy, so that ASan sees any read past the input. */
static m2m_reason decode_copy(const unsigned char *der, size_t len, m2m_envelope *env)
{
	unsigned char *copy = malloc(len ? len : 1);
	cr_assert(copy);
	if (len)
		memcpy(copy, der, len);
	m2m_reason r = m2m_decode(copy, len, env);
	free(copy);
	return r;
}

static void set_header(m2m_envelope *env, int type)
{
	memset(env, 0, sizeof *env);
	env->type = type;
	env->seq = 7;
	for (int i = 0; i < M2M_TXID_LEN; i++)
		env->txid[i] = (uint8_t)(0x11 * i);
	strcpy(env->sender, "mno-a");
	strcpy(env->recipient, "tre-1");
}

/* ---- one non-trivial body per message type ---------------------------------------------- */

/* refusedType is an OPTIONAL INTEGER: -1 stands for absent in these tests. */
static void set_refused_type(M2M_ERROR_REPORT *e, long v)
{
	e->refused_type = ASN1_INTEGER_new();
	ASN1_INTEGER_set(e->refused_type, v);
}

static long get_refused_type(const M2M_ERROR_REPORT *e)
{
	return e->refused_type ? ASN1_INTEGER_get(e->refused_type) : -1;
}

#define SET_REFUSED_TYPE(report, v) set_refused_type(report, v)
#define GET_REFUSED_TYPE(report) get_refused_type(report)

static void *build_error(void)
{
	M2M_ERROR_REPORT *e = M2M_ERROR_REPORT_new();
	cr_assert(e);
	ASN1_ENUMERATED_set(e->reason, M2M_R_BAD_BODY);
	m2m_set_str(e->text, "body does not match its type");
	SET_REFUSED_TYPE(e, M2M_MSG_PING);
	return e;
}

static void check_error(const void *want_, const void *got_)
{
	const M2M_ERROR_REPORT *want = want_, *got = got_;
	assert_enum_eq(want->reason, got->reason, "reason");
	assert_str_eq(want->text, got->text, "text");
	cr_assert_eq(GET_REFUSED_TYPE(want), GET_REFUSED_TYPE(got), "refusedType");
}

static void *build_health_request(void)
{
	return ASN1_NULL_new();
}

static void check_health_request(const void *want, const void *got)
{
	cr_assert(got, "a NULL body decodes to a non-NULL ASN1_NULL");
}

static void *build_health_response(void)
{
	M2M_HEALTH_RESPONSE *h = M2M_HEALTH_RESPONSE_new();
	m2m_set_str(h->role, "mno");
	m2m_set_str(h->entity, "mno-a");
	m2m_set_str(h->software_version, "0.1.0");
	h->uptime_seconds = 3;
	h->received = 10;
	h->sent = 9;
	h->refused = 1;
	h->open_transactions = UINT64_MAX;  /* INTEGER (0..MAX): the largest UINT64 there is */
	return h;
}

static void check_health_response(const void *want_, const void *got_)
{
	const M2M_HEALTH_RESPONSE *want = want_, *got = got_;
	assert_str_eq(want->role, got->role, "role");
	assert_str_eq(want->entity, got->entity, "entity");
	assert_str_eq(want->software_version, got->software_version, "softwareVersion");
	cr_assert_eq(want->uptime_seconds, got->uptime_seconds);
	cr_assert_eq(want->received, got->received);
	cr_assert_eq(want->sent, got->sent);
	cr_assert_eq(want->refused, got->refused);
	cr_assert_eq(want->open_transactions, got->open_transactions);
}

static void *build_ping(void)
{
	M2M_PING *p = M2M_PING_new();
	static const unsigned char nonce[] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x00, 0xff};
	ASN1_OCTET_STRING_set(p->nonce, nonce, sizeof nonce);
	return p;
}

static void check_ping(const void *want_, const void *got_)
{
	const M2M_PING *want = want_, *got = got_;
	assert_str_eq(want->nonce, got->nonce, "nonce");
}

static void *build_ping_peers_request(void)
{
	M2M_PING_PEERS_REQUEST *r = M2M_PING_PEERS_REQUEST_new();
	r->peers = sk_ASN1_UTF8STRING_new_null();
	sk_ASN1_UTF8STRING_push(r->peers, utf8("tre-1"));
	sk_ASN1_UTF8STRING_push(r->peers, utf8("uicc-1"));
	sk_ASN1_UTF8STRING_push(r->peers, utf8("drf-1"));
	return r;
}

static void check_ping_peers_request(const void *want_, const void *got_)
{
	const M2M_PING_PEERS_REQUEST *want = want_, *got = got_;
	cr_assert_eq(want->peers == NULL, got->peers == NULL, "peers presence");
	if (!want->peers)
		return;
	cr_assert_eq(sk_ASN1_UTF8STRING_num(want->peers), sk_ASN1_UTF8STRING_num(got->peers));
	for (int i = 0; i < sk_ASN1_UTF8STRING_num(want->peers); i++)
		assert_str_eq(sk_ASN1_UTF8STRING_value(want->peers, i), sk_ASN1_UTF8STRING_value(got->peers, i), "peer");
}

static M2M_PEER_REACHABILITY *reachability(const char *peer, int reachable, uint64_t micros, long reason)
{
	M2M_PEER_REACHABILITY *r = M2M_PEER_REACHABILITY_new();
	m2m_set_str(r->peer, peer);
	r->reachable = reachable ? 0xff : 0;  /* DER TRUE is 0xff; OpenSSL writes the stored byte */
	r->round_trip_micros = micros;
	if (reason)
		r->reason = enumerated(reason);
	return r;
}

static void *build_ping_peers_response(void)
{
	M2M_PING_PEERS_RESPONSE *s = sk_M2M_PEER_REACHABILITY_new_null();
	sk_M2M_PEER_REACHABILITY_push(s, reachability("tre-1", 1, 1234, 0));
	sk_M2M_PEER_REACHABILITY_push(s, reachability("uicc-1", 0, 0, M2M_R_TIMEOUT));
	return s;
}

static void check_ping_peers_response(const void *want_, const void *got_)
{
	const M2M_PING_PEERS_RESPONSE *want = want_, *got = got_;
	cr_assert_eq(sk_M2M_PEER_REACHABILITY_num(want), sk_M2M_PEER_REACHABILITY_num(got));
	for (int i = 0; i < sk_M2M_PEER_REACHABILITY_num(want); i++) {
		const M2M_PEER_REACHABILITY *w = sk_M2M_PEER_REACHABILITY_value(want, i);
		const M2M_PEER_REACHABILITY *g = sk_M2M_PEER_REACHABILITY_value(got, i);
		assert_str_eq(w->peer, g->peer, "peer");
		cr_assert_eq(!!w->reachable, !!g->reachable, "reachable");
		cr_assert_eq(w->round_trip_micros, g->round_trip_micros);
		assert_enum_eq(w->reason, g->reason, "reason");
	}
}

typedef struct body_case {
	int type;
	void *(*build)(void);
	void (*check)(const void *want, const void *got);
} body_case;

/* A message type added to the registry fails roundtrip.every_registered_type until it is here. */
static const body_case body_cases[] = {
	{M2M_MSG_ERROR, build_error, check_error},
	{M2M_MSG_HEALTH_REQUEST, build_health_request, check_health_request},
	{M2M_MSG_HEALTH_RESPONSE, build_health_response, check_health_response},
	{M2M_MSG_PING, build_ping, check_ping},
	{M2M_MSG_PONG, build_ping, check_ping},
	{M2M_MSG_PING_PEERS_REQUEST, build_ping_peers_request, check_ping_peers_request},
	{M2M_MSG_PING_PEERS_RESPONSE, build_ping_peers_response, check_ping_peers_response},
};
#define NCASES (sizeof body_cases / sizeof body_cases[0])
#define MAX_TYPE_SCANNED 100

static const body_case *case_for(int type)
{
	for (size_t i = 0; i < NCASES; i++)
		if (body_cases[i].type == type)
			return &body_cases[i];
	return NULL;
}

static void free_body(int type, void *body)
{
	ASN1_item_free(body, m2m_msgdef_find(type)->item());
}

/* encode -> decode -> compare header and fields -> re-encode -> identical bytes */
static void roundtrip(const m2m_envelope *in, const void *body, void (*check)(const void *, const void *))
{
	unsigned char *der = NULL, *again = NULL;
	size_t len = 0, len2 = 0;
	cr_assert_eq(m2m_encode(in, body, &der, &len), M2M_OK, "encode %s", m2m_msgtype_name(in->type));

	m2m_envelope out;
	m2m_reason r = decode_copy(der, len, &out);
	cr_assert_eq(r, M2M_OK, "decode %s: %s", m2m_msgtype_name(in->type), m2m_reason_name(r));
	cr_assert_eq(out.header_ok, 1);
	cr_assert_eq(out.version, M2M_WIRE_VERSION);
	cr_assert_eq(out.type, in->type);
	cr_assert_eq(out.seq, in->seq);
	cr_assert(!memcmp(out.txid, in->txid, M2M_TXID_LEN));
	cr_assert_str_eq(out.sender, in->sender);
	cr_assert_str_eq(out.recipient, in->recipient);
	cr_assert(out.body);
	check(body, out.body);

	cr_assert_eq(m2m_encode(&out, out.body, &again, &len2), M2M_OK);
	cr_assert_eq(len2, len, "%s re-encodes to %zu bytes, not %zu", m2m_msgtype_name(in->type), len2, len);
	cr_assert(!memcmp(again, der, len), "%s re-encodes to other bytes", m2m_msgtype_name(in->type));

	m2m_envelope_clear(&out);
	cr_assert_null(out.body);
	OPENSSL_free(der);
	OPENSSL_free(again);
}

/* ---- round trips ------------------------------------------------------------------------- */

/* The registered message types, for the tests that run once per type. */
static size_t registered_types(int *types)
{
	size_t n = 0;
	for (int t = 0; t <= MAX_TYPE_SCANNED; t++)
		if (m2m_msgdef_find(t))
			types[n++] = t;
	return n;
}

#define PER_REGISTERED_TYPE(suite, name)                                  \
	ParameterizedTestParameters(suite, name)                          \
	{                                                                 \
		static int types[MAX_TYPE_SCANNED + 1];                  \
		size_t n = registered_types(types);                       \
		return cr_make_param_array(int, types, n);                \
	}                                                                 \
	ParameterizedTest(int *type, suite, name)

/* A registered type without a builder here fails, so a new message type forces a test. */
static const body_case *builder_for(int type)
{
	const m2m_msgdef *def = m2m_msgdef_find(type);
	cr_assert(def && def->type == type);
	cr_assert_str_eq(m2m_msgtype_name(type), def->name);
	const body_case *c = case_for(type);
	cr_assert(c, "message type %d (%s) is registered but test_wire.c has no builder for it", type, def->name);
	return c;
}

PER_REGISTERED_TYPE(roundtrip, every_registered_type)
{
	const body_case *c = builder_for(*type);
	m2m_envelope env;
	set_header(&env, *type);
	void *body = c->build();
	roundtrip(&env, body, c->check);
	free_body(*type, body);
}

Test(roundtrip, every_builder_is_for_a_registered_type)
{
	int types[MAX_TYPE_SCANNED + 1];
	cr_assert_eq(registered_types(types), NCASES);
	for (size_t i = 0; i < NCASES; i++)
		cr_assert(m2m_msgdef_find(body_cases[i].type), "builder for unregistered type %d", body_cases[i].type);
}

Test(roundtrip, header_extremes)
{
	m2m_envelope env;
	set_header(&env, M2M_MSG_PING);
	env.seq = INT64_MAX;  /* SequenceNumber ::= INTEGER (1..9223372036854775807) */
	memset(env.txid, 0xff, M2M_TXID_LEN);
	memset(env.sender, 'x', M2M_ENTITY_MAX);  /* EntityId (SIZE (1..63)) */
	env.sender[M2M_ENTITY_MAX] = 0;
	strcpy(env.recipient, "r");
	void *body = build_ping();
	roundtrip(&env, body, check_ping);
	env.seq = 1;
	roundtrip(&env, body, check_ping);
	free_body(M2M_MSG_PING, body);
}

Test(roundtrip, error_without_refused_type)
{
	m2m_envelope env;
	set_header(&env, M2M_MSG_ERROR);
	M2M_ERROR_REPORT *e = M2M_ERROR_REPORT_new();
	ASN1_ENUMERATED_set(e->reason, M2M_R_TRUNCATED);  /* refusedType absent, text empty */
	roundtrip(&env, e, check_error);
	M2M_ERROR_REPORT_free(e);
}

Test(roundtrip, optional_fields_absent)
{
	m2m_envelope env;
	set_header(&env, M2M_MSG_PING_PEERS_REQUEST);
	M2M_PING_PEERS_REQUEST *r = M2M_PING_PEERS_REQUEST_new();  /* peers absent: every peer */
	roundtrip(&env, r, check_ping_peers_request);
	M2M_PING_PEERS_REQUEST_free(r);

	set_header(&env, M2M_MSG_PING_PEERS_RESPONSE);
	M2M_PING_PEERS_RESPONSE *s = sk_M2M_PEER_REACHABILITY_new_null();  /* SIZE (0..64): empty */
	roundtrip(&env, s, check_ping_peers_response);
	sk_M2M_PEER_REACHABILITY_pop_free(s, M2M_PEER_REACHABILITY_free);
}

static M2M_PING_PEERS_RESPONSE *sixty_four_peers(void)
{
	M2M_PING_PEERS_RESPONSE *s = sk_M2M_PEER_REACHABILITY_new_null();
	for (int i = 0; i < 64; i++) {
		char name[48];
		snprintf(name, sizeof name, "entity-with-a-long-name-%02d", i);
		sk_M2M_PEER_REACHABILITY_push(s, reachability(name, i % 2, (uint64_t)i * 1000003u, i % 2 ? 0 : M2M_R_UNREACHABLE));
	}
	return s;
}

Test(roundtrip, large_message)
{
	m2m_envelope env;
	set_header(&env, M2M_MSG_PING_PEERS_RESPONSE);
	M2M_PING_PEERS_RESPONSE *s = sixty_four_peers();
	roundtrip(&env, s, check_ping_peers_response);
	sk_M2M_PEER_REACHABILITY_pop_free(s, M2M_PEER_REACHABILITY_free);
}

/* ---- raw vectors ------------------------------------------------------------------------- */

#define TXID_BYTES 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff
#define VERSION_1 0x02, 0x01, 0x01
#define TYPE_PING 0x02, 0x01, 0x03
#define TXID 0x04, 0x10, TXID_BYTES
#define SENDER 0x0c, 0x05, 'm', 'n', 'o', '-', 'a'
#define RECIPIENT 0x0c, 0x05, 't', 'r', 'e', '-', '1'
#define SEQ 0x02, 0x01, 0x07
#define NONCE_BYTES 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x00, 0xff
#define PING_BODY 0x30, 0x0c, 0x04, 0x0a, NONCE_BYTES
/* 3 + 3 + 18 + 7 + 7 + 3 = 41 bytes of header fields, + 14 of body = 55 (0x37) */
#define HEADER_AFTER_TYPE TXID, SENDER, RECIPIENT, SEQ

static const unsigned char valid_ping[] = {0x30, 0x37, VERSION_1, TYPE_PING, HEADER_AFTER_TYPE, PING_BODY};

Test(roundtrip, raw_vector_is_what_the_encoder_writes)
{
	m2m_envelope env;
	set_header(&env, M2M_MSG_PING);
	void *body = build_ping();
	unsigned char *der = NULL;
	size_t len = 0;
	cr_assert_eq(m2m_encode(&env, body, &der, &len), M2M_OK);
	cr_assert_eq(len, sizeof valid_ping);
	cr_assert(!memcmp(der, valid_ping, len));
	OPENSSL_free(der);
	free_body(M2M_MSG_PING, body);

	m2m_envelope out;
	cr_assert_eq(decode_copy(valid_ping, sizeof valid_ping, &out), M2M_OK);
	m2m_envelope_clear(&out);
}

static void expect(const unsigned char *der, size_t len, m2m_reason want, int header_ok)
{
	m2m_envelope env;
	m2m_reason r = decode_copy(der, len, &env);
	int had_body = env.body != NULL;
	m2m_envelope_clear(&env);  /* before any assertion, so a failure leaks nothing */
	cr_assert_eq(r, want, "decoded as %s (%d), expected %s (%d)", m2m_reason_name(r) ? m2m_reason_name(r) : "?", r,
		     m2m_reason_name(want), want);
	cr_assert(!had_body, "a refused message has no body");
	cr_assert_eq(env.header_ok, header_ok, "header_ok is %d", env.header_ok);
	if (header_ok) {
		static const unsigned char txid[] = {TXID_BYTES};
		cr_assert(!memcmp(env.txid, txid, sizeof txid), "the txid is usable for the error reply");
		cr_assert_str_eq(env.sender, "mno-a");
		cr_assert_str_eq(env.recipient, "tre-1");
		cr_assert_eq(env.seq, 7);
	}
}
#define EXPECT(arr, reason, hdr) expect(arr, sizeof arr, reason, hdr)

/* ---- truncation --------------------------------------------------------------------------- */

Test(truncated, empty_input)
{
	m2m_envelope env;
	static const unsigned char nothing[1] = {0};
	cr_assert_eq(m2m_decode(nothing, 0, &env), M2M_R_TRUNCATED);
	cr_assert_eq(env.header_ok, 0);
	expect(nothing, 0, M2M_R_TRUNCATED, 0);
	static const unsigned char one[] = {0x30};
	EXPECT(one, M2M_R_TRUNCATED, 0);
}

/* Every prefix of a valid message is cut inside the outer frame: all are refused as truncated. */
static void every_cut(const unsigned char *der, size_t len, const char *what)
{
	for (size_t cut = 0; cut < len; cut++) {
		m2m_envelope env;
		m2m_reason r = decode_copy(der, cut, &env);
		cr_assert_eq(r, M2M_R_TRUNCATED, "%s cut to %zu of %zu bytes: %s", what, cut, len,
			     m2m_reason_name(r) ? m2m_reason_name(r) : "?");
		cr_assert_null(env.body);
		m2m_envelope_clear(&env);
	}
}

PER_REGISTERED_TYPE(truncated, every_cut_of_every_type)
{
	const body_case *c = builder_for(*type);
	m2m_envelope env;
	set_header(&env, *type);
	void *body = c->build();
	unsigned char *der = NULL;
	size_t len = 0;
	cr_assert_eq(m2m_encode(&env, body, &der, &len), M2M_OK);
	every_cut(der, len, m2m_msgtype_name(*type));
	OPENSSL_free(der);
	free_body(*type, body);
}

Test(truncated, every_cut_of_a_long_form_length)
{
	m2m_envelope env;
	set_header(&env, M2M_MSG_PING_PEERS_RESPONSE);
	M2M_PING_PEERS_RESPONSE *s = sixty_four_peers();
	unsigned char *der = NULL;
	size_t len = 0;
	cr_assert_eq(m2m_encode(&env, s, &der, &len), M2M_OK);
	cr_assert_eq(der[1], 0x82, "the outer length takes two octets");
	every_cut(der, len, "pingPeersResponse(64)");
	OPENSSL_free(der);
	sk_M2M_PEER_REACHABILITY_pop_free(s, M2M_PEER_REACHABILITY_free);
}

/* ---- the outer frame ------------------------------------------------------------------- */

Test(frame, wrong_outer_tag)
{
	static const unsigned char set[] = {0x31, 0x37, VERSION_1, TYPE_PING, HEADER_AFTER_TYPE, PING_BODY};
	EXPECT(set, M2M_R_WRONG_TAG, 0);
	static const unsigned char octets[] = {0x04, 0x37, VERSION_1, TYPE_PING, HEADER_AFTER_TYPE, PING_BODY};
	EXPECT(octets, M2M_R_WRONG_TAG, 0);
}

Test(frame, oversized_outer_length)
{
	static const unsigned char four[] = {0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, VERSION_1, TYPE_PING, HEADER_AFTER_TYPE,
					     PING_BODY};
	EXPECT(four, M2M_R_LENGTH_TOO_LARGE, 0);
	static const unsigned char three[] = {0x30, 0x83, 0x7f, 0xff, 0xff, VERSION_1, TYPE_PING, HEADER_AFTER_TYPE,
					      PING_BODY};
	EXPECT(three, M2M_R_LENGTH_TOO_LARGE, 0);
}

Test(frame, message_larger_than_the_limit)
{
	size_t len = M2M_MAX_MESSAGE + 1;
	unsigned char *big = calloc(1, len);
	cr_assert(big);
	big[0] = 0x30;
	big[1] = 0x83;
	big[2] = (unsigned char)((len - 5) >> 16);
	big[3] = (unsigned char)((len - 5) >> 8);
	big[4] = (unsigned char)(len - 5);
	expect(big, len, M2M_R_LENGTH_TOO_LARGE, 0);
	free(big);
}

Test(frame, trailing_data)
{
	static const unsigned char one_more[] = {0x30, 0x37, VERSION_1, TYPE_PING, HEADER_AFTER_TYPE, PING_BODY, 0x00};
	EXPECT(one_more, M2M_R_TRAILING_DATA, 0);
	static const unsigned char two[] = {0x30, 0x37, VERSION_1, TYPE_PING, HEADER_AFTER_TYPE, PING_BODY,
					    0x30, 0x37, VERSION_1, TYPE_PING, HEADER_AFTER_TYPE, PING_BODY};
	EXPECT(two, M2M_R_TRAILING_DATA, 0);
}

/* ---- tags and lengths inside the envelope -------------------------------------------- */

Test(inner, wrong_inner_tag)
{
	/* version as OCTET STRING */
	static const unsigned char version_octets[] = {0x30, 0x37, 0x04, 0x01, 0x01, TYPE_PING, HEADER_AFTER_TYPE, PING_BODY};
	EXPECT(version_octets, M2M_R_WRONG_TAG, 0);
	/* sender as OCTET STRING instead of UTF8String */
	static const unsigned char sender_octets[] = {0x30, 0x37, VERSION_1, TYPE_PING, TXID, 0x04, 0x05, 'm', 'n', 'o', '-',
						      'a', RECIPIENT, SEQ, PING_BODY};
	EXPECT(sender_octets, M2M_R_WRONG_TAG, 0);
}

Test(inner, inner_length_past_its_container)
{
	/* the transaction id claims 127 bytes; 47 are left in the envelope */
	static const unsigned char txid[] = {0x30, 0x37, VERSION_1, TYPE_PING, 0x04, 0x7f, TXID_BYTES, SENDER, RECIPIENT,
					     SEQ, PING_BODY};
	EXPECT(txid, M2M_R_LENGTH_TOO_LARGE, 0);
	/* the body claims one byte more than the envelope holds */
	static const unsigned char body[] = {0x30, 0x37, VERSION_1, TYPE_PING, HEADER_AFTER_TYPE, 0x30, 0x0d, 0x04, 0x0a,
					     NONCE_BYTES};
	EXPECT(body, M2M_R_LENGTH_TOO_LARGE, 0);
}

/* ---- header ------------------------------------------------------------------------------ */

Test(header, unsupported_version_keeps_the_header)
{
	static const unsigned char v2[] = {0x30, 0x37, 0x02, 0x01, 0x02, TYPE_PING, HEADER_AFTER_TYPE, PING_BODY};
	EXPECT(v2, M2M_R_UNSUPPORTED_VERSION, 1);
	static const unsigned char v0[] = {0x30, 0x37, 0x02, 0x01, 0x00, TYPE_PING, HEADER_AFTER_TYPE, PING_BODY};
	EXPECT(v0, M2M_R_UNSUPPORTED_VERSION, 1);
}

Test(header, unknown_message_type_keeps_the_header)
{
	static const unsigned char t999[] = {0x30, 0x38, VERSION_1, 0x02, 0x02, 0x03, 0xe7, HEADER_AFTER_TYPE, PING_BODY};
	m2m_envelope env;
	cr_assert_eq(decode_copy(t999, sizeof t999, &env), M2M_R_UNKNOWN_MESSAGE_TYPE);
	cr_assert_eq(env.type, 999);
	m2m_envelope_clear(&env);
	EXPECT(t999, M2M_R_UNKNOWN_MESSAGE_TYPE, 1);
}

Test(header, transaction_id_of_the_wrong_size)
{
	static const unsigned char short_txid[] = {0x30, 0x36, VERSION_1, TYPE_PING, 0x04, 0x0f, 0x00, 0x11, 0x22, 0x33, 0x44,
						   0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee,
						   SENDER, RECIPIENT, SEQ, PING_BODY};
	EXPECT(short_txid, M2M_R_MALFORMED, 0);
	static const unsigned char long_txid[] = {0x30, 0x38, VERSION_1, TYPE_PING, 0x04, 0x11, TXID_BYTES, 0x00,
						  SENDER, RECIPIENT, SEQ, PING_BODY};
	EXPECT(long_txid, M2M_R_MALFORMED, 0);
}

Test(header, empty_sender)
{
	static const unsigned char empty[] = {0x30, 0x32, VERSION_1, TYPE_PING, TXID, 0x0c, 0x00, RECIPIENT, SEQ, PING_BODY};
	EXPECT(empty, M2M_R_MALFORMED, 0);
}

Test(header, sequence_zero)
{
	static const unsigned char zero[] = {0x30, 0x37, VERSION_1, TYPE_PING, TXID, SENDER, RECIPIENT, 0x02, 0x01, 0x00,
					     PING_BODY};
	EXPECT(zero, M2M_R_MALFORMED, 0);
}

/* ---- body -------------------------------------------------------------------------------- */

Test(body, wrong_shape_for_its_type)
{
	/* ping with a NULL body */
	static const unsigned char null_body[] = {0x30, 0x2b, VERSION_1, TYPE_PING, HEADER_AFTER_TYPE, 0x05, 0x00};
	EXPECT(null_body, M2M_R_BAD_BODY, 1);
	/* ping whose nonce is an INTEGER */
	static const unsigned char int_nonce[] = {0x30, 0x2e, VERSION_1, TYPE_PING, HEADER_AFTER_TYPE, 0x30, 0x03, 0x02,
						  0x01, 0x05};
	EXPECT(int_nonce, M2M_R_BAD_BODY, 1);
	/* healthRequest (NULL body) carrying a Ping */
	static const unsigned char health_with_ping[] = {0x30, 0x37, VERSION_1, 0x02, 0x01, 0x01, HEADER_AFTER_TYPE,
							 PING_BODY};
	EXPECT(health_with_ping, M2M_R_BAD_BODY, 1);
	/* ping with an extra field after the nonce */
	static const unsigned char extra[] = {0x30, 0x3a, VERSION_1, TYPE_PING, HEADER_AFTER_TYPE, 0x30, 0x0f, 0x04, 0x0a,
					      NONCE_BYTES, 0x02, 0x01, 0x01};
	EXPECT(extra, M2M_R_BAD_BODY, 1);
}

/* ---- canonical DER ------------------------------------------------------------------------ */

#define TYPE_PING_PEERS_RESPONSE 0x02, 0x01, 0x06
/* SEQUENCE OF { SEQUENCE { peer "tre-1", reachable TRUE, roundTripMicros 5 } }, 17 bytes */
#define PEERS_BODY(true_octet) 0x30, 0x0f, 0x30, 0x0d, 0x0c, 0x05, 't', 'r', 'e', '-', '1', 0x01, 0x01, true_octet, \
			       0x02, 0x01, 0x05

/* OpenSSL stores a decoded BOOLEAN's content octet as is and writes it back unchanged, so the
 * re-encoding comparison alone does not catch 01 (or any non-zero octet) for TRUE. */
Test(der, boolean_true_is_0xff)
{
	static const unsigned char canonical[] = {0x30, 0x3a, VERSION_1, TYPE_PING_PEERS_RESPONSE, HEADER_AFTER_TYPE,
						  PEERS_BODY(0xff)};
	m2m_envelope env;
	cr_assert_eq(decode_copy(canonical, sizeof canonical, &env), M2M_OK, "the 0xff form is accepted");
	m2m_envelope_clear(&env);
	static const unsigned char ber_true[] = {0x30, 0x3a, VERSION_1, TYPE_PING_PEERS_RESPONSE, HEADER_AFTER_TYPE,
						 PEERS_BODY(0x01)};
	EXPECT(ber_true, M2M_R_NOT_DER, 1);
}

Test(der, non_minimal_length)
{
	/* sender length written as 0x81 0x05 */
	static const unsigned char sender[] = {0x30, 0x38, VERSION_1, TYPE_PING, TXID, 0x0c, 0x81, 0x05, 'm', 'n', 'o', '-',
					       'a', RECIPIENT, SEQ, PING_BODY};
	EXPECT(sender, M2M_R_NOT_DER, 1);
	/* the outer length written as 0x81 0x37 */
	static const unsigned char outer[] = {0x30, 0x81, 0x37, VERSION_1, TYPE_PING, HEADER_AFTER_TYPE, PING_BODY};
	EXPECT(outer, M2M_R_NOT_DER, 1);
	/* the nonce's length inside the body written as 0x81 0x0a */
	static const unsigned char nonce[] = {0x30, 0x38, VERSION_1, TYPE_PING, HEADER_AFTER_TYPE, 0x30, 0x0d, 0x04, 0x81,
					      0x0a, NONCE_BYTES};
	EXPECT(nonce, M2M_R_NOT_DER, 1);
}

Test(der, indefinite_length)
{
	static const unsigned char outer[] = {0x30, 0x80, VERSION_1, TYPE_PING, HEADER_AFTER_TYPE, PING_BODY, 0x00, 0x00};
	EXPECT(outer, M2M_R_NOT_DER, 0);
	static const unsigned char body[] = {0x30, 0x39, VERSION_1, TYPE_PING, HEADER_AFTER_TYPE, 0x30, 0x80, 0x04, 0x0a,
					     NONCE_BYTES, 0x00, 0x00};
	EXPECT(body, M2M_R_NOT_DER, 1);
}

/* ---- body summary ------------------------------------------------------------------------- */

static char *summary_of(int type)
{
	const body_case *c = case_for(type);
	void *body = c->build();
	char *s = m2m_body_summary(type, body);
	free_body(type, body);
	cr_assert(s);
	return s;
}

PER_REGISTERED_TYPE(summary, every_registered_type)
{
	const m2m_msgdef *def = m2m_msgdef_find(*type);
	builder_for(*type);
	char *s = summary_of(*type);
	cr_assert_leq(strlen(s), 512);
	cr_assert_null(strchr(s, '\n'), "one line");
	if (def->item() != ASN1_ITEM_rptr(ASN1_NULL))
		cr_assert_gt(strlen(s), 0, "%s has an empty summary", def->name);
	free(s);
}

static const struct {
	int type;
	const char *want;
} renderings[] = {
	{M2M_MSG_ERROR, "reason=badBody text=\"body does not match its type\" refusedType=ping"},
	{M2M_MSG_HEALTH_REQUEST, ""},
	{M2M_MSG_HEALTH_RESPONSE, "role=mno entity=mno-a softwareVersion=0.1.0 uptimeSeconds=3 received=10 sent=9 "
				  "refused=1 openTransactions=18446744073709551615"},
	{M2M_MSG_PING, "nonce=0123456789abcdef00ff"},
	{M2M_MSG_PONG, "nonce=0123456789abcdef00ff"},
	{M2M_MSG_PING_PEERS_REQUEST, "peers=[tre-1, uicc-1, drf-1]"},
	{M2M_MSG_PING_PEERS_RESPONSE, "[{peer=tre-1 reachable=true roundTripMicros=1234}, "
				      "{peer=uicc-1 reachable=false roundTripMicros=0 reason=timeout}]"},
};

ParameterizedTestParameters(summary, exact_renderings)
{
	static int index[sizeof renderings / sizeof renderings[0]];
	for (size_t i = 0; i < sizeof index / sizeof index[0]; i++)
		index[i] = (int)i;
	return cr_make_param_array(int, index, sizeof index / sizeof index[0]);
}

ParameterizedTest(int *i, summary, exact_renderings)
{
	char *s = summary_of(renderings[*i].type);
	cr_assert_str_eq(s, renderings[*i].want, "%s", m2m_msgtype_name(renderings[*i].type));
	free(s);
}

Test(summary, ping_after_decoding_shows_the_nonce)
{
	m2m_envelope env;
	cr_assert_eq(decode_copy(valid_ping, sizeof valid_ping, &env), M2M_OK);
	char *s = m2m_body_summary(env.type, env.body);
	cr_assert(s && strstr(s, "0123456789abcdef00ff"), "summary: %s", s ? s : "(null)");
	free(s);
	m2m_envelope_clear(&env);
}

Test(summary, error_without_refused_type)
{
	M2M_ERROR_REPORT *e = M2M_ERROR_REPORT_new();
	ASN1_ENUMERATED_set(e->reason, M2M_R_TRUNCATED);
	char *s = m2m_body_summary(M2M_MSG_ERROR, e);
	cr_assert_str_eq(s, "reason=truncated text=\"\"");
	free(s);
	M2M_ERROR_REPORT_free(e);
}

Test(summary, absent_optional_fields_are_left_out)
{
	M2M_PING_PEERS_REQUEST *r = M2M_PING_PEERS_REQUEST_new();
	char *s = m2m_body_summary(M2M_MSG_PING_PEERS_REQUEST, r);
	cr_assert_str_eq(s, "");
	free(s);
	M2M_PING_PEERS_REQUEST_free(r);

	M2M_PING_PEERS_RESPONSE *none = sk_M2M_PEER_REACHABILITY_new_null();
	s = m2m_body_summary(M2M_MSG_PING_PEERS_RESPONSE, none);
	cr_assert_str_eq(s, "[]");
	free(s);
	sk_M2M_PEER_REACHABILITY_free(none);
}

Test(summary, long_nonce_is_cut_at_32_bytes)
{
	unsigned char nonce[40];
	for (size_t i = 0; i < sizeof nonce; i++)
		nonce[i] = (unsigned char)i;
	M2M_PING *p = M2M_PING_new();
	ASN1_OCTET_STRING_set(p->nonce, nonce, 32);
	char *s = m2m_body_summary(M2M_MSG_PING, p);
	cr_assert_str_eq(s, "nonce=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
	free(s);
	ASN1_OCTET_STRING_set(p->nonce, nonce, sizeof nonce);
	s = m2m_body_summary(M2M_MSG_PING, p);
	cr_assert_str_eq(s, "nonce=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f...");
	free(s);
	M2M_PING_free(p);
}

Test(summary, text_is_escaped)
{
	M2M_HEALTH_RESPONSE *h = M2M_HEALTH_RESPONSE_new();
	static const char role[] = "a \"b\"\n\\c\x01\xc3\xa9";
	ASN1_STRING_set(h->role, role, (int)sizeof role - 1);
	m2m_set_str(h->entity, "x=y");
	char *s = m2m_body_summary(M2M_MSG_HEALTH_RESPONSE, h);
	cr_assert_str_eq(s, "role=\"a \\\"b\\\"\\x0a\\\\c\\x01\\xc3\\xa9\" entity=\"x=y\" softwareVersion=\"\" "
			    "uptimeSeconds=0 received=0 sent=0 refused=0 openTransactions=0");
	free(s);
	M2M_HEALTH_RESPONSE_free(h);
}

Test(summary, unknown_reason_is_a_number)
{
	M2M_PING_PEERS_RESPONSE *r = sk_M2M_PEER_REACHABILITY_new_null();
	sk_M2M_PEER_REACHABILITY_push(r, reachability("drf-1", 0, 5, 77));
	char *s = m2m_body_summary(M2M_MSG_PING_PEERS_RESPONSE, r);
	cr_assert_str_eq(s, "[{peer=drf-1 reachable=false roundTripMicros=5 reason=77}]");
	free(s);
	sk_M2M_PEER_REACHABILITY_pop_free(r, M2M_PEER_REACHABILITY_free);
}

Test(summary, capped_at_512_characters)
{
	M2M_PING_PEERS_RESPONSE *s = sixty_four_peers();
	char *text = m2m_body_summary(M2M_MSG_PING_PEERS_RESPONSE, s);
	cr_assert_eq(strlen(text), 512);
	cr_assert_str_eq(text + 509, "...");
	static const char start[] = "[{peer=entity-with-a-long-name-00 reachable=false roundTripMicros=0 reason=unreachable}, ";
	cr_assert(!strncmp(text, start, sizeof start - 1), "%s", text);
	free(text);
	sk_M2M_PEER_REACHABILITY_pop_free(s, M2M_PEER_REACHABILITY_free);
}

Test(summary, unknown_type_or_no_body)
{
	char *s = m2m_body_summary(999, (void *)"x");
	cr_assert_str_eq(s, "");
	free(s);
	s = m2m_body_summary(M2M_MSG_PING, NULL);
	cr_assert_str_eq(s, "");
	free(s);
}

/*
 * ---- ErrorReport: the one message every refusal sends ----------------------------------
 * Created empty and decoded with refusedType absent.
 */

Test(errorreport, can_be_created)
{
	M2M_ERROR_REPORT *e = M2M_ERROR_REPORT_new();
	cr_assert(e);
	cr_assert_eq(GET_REFUSED_TYPE(e), -1, "refusedType starts absent");
	M2M_ERROR_REPORT_free(e);
}

Test(errorreport, decodes_from_the_wire)
{
	/* error, body { reason truncated, text "", refusedType absent } */
	static const unsigned char msg[] = {0x30, 0x30, VERSION_1, 0x02, 0x01, 0x00, HEADER_AFTER_TYPE,
					    0x30, 0x05, 0x0a, 0x01, 0x02, 0x0c, 0x00};
	m2m_envelope env;
	cr_assert_eq(decode_copy(msg, sizeof msg, &env), M2M_OK);
	const M2M_ERROR_REPORT *e = env.body;
	cr_assert_eq(ASN1_ENUMERATED_get(e->reason), M2M_R_TRUNCATED);
	cr_assert_eq(GET_REFUSED_TYPE(e), -1, "refusedType absent");
	m2m_envelope_clear(&env);
}
