/*
 * Tests of the envelope codec (lib/wire): every registered message type survives a round trip,
 * every malformed input is refused with the ReasonCode docs/protocol.md gives for it, the
 * one-line body summary is readable, m2m_redact zeroes exactly the SECRET fields, and m2m_digits
 * reads NumericStrings. Malformed inputs are written out as raw bytes.
 */
#include "wire/wire.h"

#include "crypto/crypto.h"

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

/*
 * SAME(field) compares want->field with got->field whatever its C type: a string of any kind
 * (an absent OPTIONAL one included), a SEQUENCE OF UTF8String, an embedded integer or a BOOLEAN.
 * It names the field in a failure, so a comparer is one line per field.
 */
static void same_string(const ASN1_STRING *want, const ASN1_STRING *got, const char *what)
{
	cr_assert_eq(want == NULL, got == NULL, "%s: presence differs", what);
	if (want)
		assert_str_eq(want, got, what);
}

static void same_utf8_list(const STACK_OF(ASN1_UTF8STRING) *want, const STACK_OF(ASN1_UTF8STRING) *got,
			   const char *what)
{
	cr_assert_eq(want == NULL, got == NULL, "%s: presence differs", what);
	if (!want)
		return;
	cr_assert_eq(sk_ASN1_UTF8STRING_num(want), sk_ASN1_UTF8STRING_num(got), "%s: count differs", what);
	for (int i = 0; i < sk_ASN1_UTF8STRING_num(want); i++)
		assert_str_eq(sk_ASN1_UTF8STRING_value(want, i), sk_ASN1_UTF8STRING_value(got, i), what);
}

static void same_u64(uint64_t want, uint64_t got, const char *what)
{
	cr_assert_eq(want, got, "%s: %llu, not %llu", what, (unsigned long long)got, (unsigned long long)want);
}

/* DER TRUE is ff, and a decoded BOOLEAN keeps its content octet: compare truth, not bytes. */
static void same_bool(ASN1_BOOLEAN want, ASN1_BOOLEAN got, const char *what)
{
	cr_assert_eq(want > 0, got > 0, "%s differs", what);
}

/* A SEQUENCE OF strings of any kind: the stacks differ in C type only, so one body serves them. */
static void same_string_stack(const OPENSSL_STACK *want, const OPENSSL_STACK *got, const char *what)
{
	cr_assert_eq(want == NULL, got == NULL, "%s: presence differs", what);
	if (!want)
		return;
	cr_assert_eq(OPENSSL_sk_num(want), OPENSSL_sk_num(got), "%s: count differs", what);
	for (int i = 0; i < OPENSSL_sk_num(want); i++)
		assert_str_eq(OPENSSL_sk_value(want, i), OPENSSL_sk_value(got, i), what);
}

static void same_octets_list(const STACK_OF(ASN1_OCTET_STRING) *want, const STACK_OF(ASN1_OCTET_STRING) *got,
			     const char *what)
{
	same_string_stack((const OPENSSL_STACK *)want, (const OPENSSL_STACK *)got, what);
}

/* SEQUENCE OF NumericString (PortAuthorisation.iccids) */
static void same_digits_list(const STACK_OF(ASN1_STRING) *want, const STACK_OF(ASN1_STRING) *got, const char *what)
{
	same_string_stack((const OPENSSL_STACK *)want, (const OPENSSL_STACK *)got, what);
}

static void same_enum_list(const STACK_OF(ASN1_ENUMERATED) *want, const STACK_OF(ASN1_ENUMERATED) *got,
			   const char *what)
{
	same_string_stack((const OPENSSL_STACK *)want, (const OPENSSL_STACK *)got, what);
}

#define SAME(field)                                                                                        \
	_Generic(want->field, ASN1_STRING *: same_string, STACK_OF(ASN1_UTF8STRING) *: same_utf8_list,      \
		 STACK_OF(ASN1_OCTET_STRING) *: same_octets_list, STACK_OF(ASN1_ENUMERATED) *: same_enum_list, \
		 STACK_OF(ASN1_STRING) *: same_digits_list,                                                  \
		 uint64_t: same_u64, ASN1_BOOLEAN: same_bool)(want->field, got->field, #field)

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

/* healthRequest, cardReset, detachAccept, purgeAck, cancelLocationAck: body NULL */
static void *build_null(void)
{
	return ASN1_NULL_new();
}

static void check_null(const void *want, const void *got)
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
	SAME(peers);
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

/* ---- the UICC, attach and HSS bodies (Alternative 2) ------------------------------------- */

#define TEST_IMSI "001010000000001"
#define TEST_IMEI "356938035643809"
#define TEST_ICCID "8900101000000000019"
#define TEST_APN "m2m.meter"

/* n bytes first, first+1, ...: each field gets its own run, so a mix-up shows in a failure. */
static void fill(unsigned char *b, int n, unsigned first)
{
	for (int i = 0; i < n; i++)
		b[i] = (unsigned char)(first + (unsigned)i);
}

static void set_run(ASN1_OCTET_STRING *s, int n, unsigned first)
{
	unsigned char *b = malloc(n > 0 ? (size_t)n : 1);
	cr_assert(b && n >= 0);
	fill(b, n, first);
	cr_assert(ASN1_OCTET_STRING_set(s, b, n));
	free(b);
}

static ASN1_OCTET_STRING *run(int n, unsigned first)
{
	ASN1_OCTET_STRING *s = ASN1_OCTET_STRING_new();
	cr_assert(s);
	set_run(s, n, first);
	return s;
}

#define SET_BYTES(s, ...) \
	cr_assert(ASN1_OCTET_STRING_set(s, (const unsigned char[]){__VA_ARGS__}, sizeof((const unsigned char[]){__VA_ARGS__})))

/* Fills a NumericString field, allocating it when it is an absent OPTIONAL one. */
static void set_digits(ASN1_STRING **s, const char *digits)
{
	cr_assert_eq(m2m_set_digits(s, digits), 0);
}

static void set_enum(ASN1_ENUMERATED **e, long v)
{
	if (!*e)
		*e = enumerated(v);
	cr_assert(ASN1_ENUMERATED_set(*e, v));
}

/* Builders with OPTIONAL fields come in two forms: every field present (the table's), none. */
#define FULL_AND_MINIMAL(name)                           \
	static void *build_##name(void)                  \
	{                                                \
		return make_##name(1);                   \
	}                                                \
	static void *build_##name##_minimal(void)        \
	{                                                \
		return make_##name(0);                   \
	}

static void *build_apdu_command(void)
{
	/* AUTHENTICATE, 3G context: 00 88 00 81 Lc=22 | 10 RAND | 10 AUTN | Le=00 */
	unsigned char apdu[40] = {0x00, 0x88, 0x00, 0x81, 0x22, 0x10};
	fill(apdu + 6, 16, 0x10);
	apdu[22] = 0x10;
	fill(apdu + 23, 16, 0x30);
	M2M_APDU_COMMAND *c = M2M_APDU_COMMAND_new();
	cr_assert(c && ASN1_OCTET_STRING_set(c->apdu, apdu, sizeof apdu));
	return c;
}

static void check_apdu_command(const void *want_, const void *got_)
{
	const M2M_APDU_COMMAND *want = want_, *got = got_;
	SAME(apdu);
}

static M2M_APDU_RESPONSE *apdu_response(const unsigned char *data, size_t n, uint64_t status_word)
{
	M2M_APDU_RESPONSE *r = M2M_APDU_RESPONSE_new();
	cr_assert(r && ASN1_OCTET_STRING_set(r->data, data, (int)n));
	r->status_word = status_word;
	return r;
}

/* Appends L || L bytes of a run: the length-value fields of a card's AUTHENTICATE answer. */
static size_t put_lv(unsigned char *b, size_t at, int n, unsigned first)
{
	b[at] = (unsigned char)n;
	fill(b + at + 1, n, first);
	return at + 1 + (size_t)n;
}

/* TS 31.102 7.1.2.1, 3G context: DB | 08 RES | 10 CK | 10 IK | 08 Kc (53 bytes). */
static size_t authenticate_3g(unsigned char b[53])
{
	b[0] = 0xdb;
	size_t at = put_lv(b, 1, 8, 0x50);
	at = put_lv(b, at, 16, 0x60);
	at = put_lv(b, at, 16, 0x70);
	return put_lv(b, at, 8, 0x80);
}

/* GSM context: 04 SRES | 08 Kc (14 bytes). */
static size_t authenticate_gsm(unsigned char b[14])
{
	return put_lv(b, put_lv(b, 0, 4, 0x90), 8, 0x98);
}

static void *build_apdu_response(void)
{
	unsigned char data[53];
	return apdu_response(data, authenticate_3g(data), 0x9000);
}

static void check_apdu_response(const void *want_, const void *got_)
{
	const M2M_APDU_RESPONSE *want = want_, *got = got_;
	SAME(data);
	SAME(status_word);
}

/* An optional ApduCommand or ApduResponse inside another body: both absent, or the same. */
static void check_optional(const void *want, const void *got, void (*check)(const void *, const void *))
{
	cr_assert_eq(want == NULL, got == NULL, "an optional field is %s", want ? "lost" : "invented");
	if (want)
		check(want, got);
}

static void *build_card_atr(void)
{
	M2M_CARD_ATR *a = M2M_CARD_ATR_new();
	SET_BYTES(a->atr, 0x3b, 0x97, 0x96, 0x80, 0x1f, 0xc7, 0x80, 0x31, 0xe0, 0x73, 0xfe, 0x21, 0x00, 0xa4);
	return a;
}

static void check_card_atr(const void *want_, const void *got_)
{
	const M2M_CARD_ATR *want = want_, *got = got_;
	SAME(atr);
}

static void *build_attach_request(void)
{
	M2M_ATTACH_REQUEST *r = M2M_ATTACH_REQUEST_new();
	set_digits(&r->imsi, TEST_IMSI);
	set_digits(&r->imei, TEST_IMEI);
	m2m_set_str(r->apn, TEST_APN);
	return r;
}

static void check_attach_request(const void *want_, const void *got_)
{
	const M2M_ATTACH_REQUEST *want = want_, *got = got_;
	SAME(imsi);
	SAME(imei);
	SAME(apn);
}

static void *build_auth_challenge(void)
{
	M2M_AUTH_CHALLENGE *c = M2M_AUTH_CHALLENGE_new();
	set_run(c->attach_id, 8, 0xa0);
	set_run(c->rand, 16, 0x10);
	set_run(c->autn, 16, 0x30);
	return c;
}

static void check_auth_challenge(const void *want_, const void *got_)
{
	const M2M_AUTH_CHALLENGE *want = want_, *got = got_;
	SAME(attach_id);
	SAME(rand);
	SAME(autn);
}

static void *build_auth_response(void)
{
	M2M_AUTH_RESPONSE *r = M2M_AUTH_RESPONSE_new();
	set_run(r->attach_id, 8, 0xa0);
	set_run(r->res, 8, 0x50);
	return r;
}

static void check_auth_response(const void *want_, const void *got_)
{
	const M2M_AUTH_RESPONSE *want = want_, *got = got_;
	SAME(attach_id);
	SAME(res);
}

/* full: a synchFailure with its AUTS; minimal: a macFailure, which has none */
static void *make_auth_failure(int full)
{
	M2M_AUTH_FAILURE *f = M2M_AUTH_FAILURE_new();
	set_run(f->attach_id, 8, 0xa0);
	set_enum(&f->cause, full ? M2M_AUTH_SYNCH_FAILURE : M2M_AUTH_MAC_FAILURE);
	if (full)
		f->auts = run(14, 0xc0);
	return f;
}
FULL_AND_MINIMAL(auth_failure)

static void check_auth_failure(const void *want_, const void *got_)
{
	const M2M_AUTH_FAILURE *want = want_, *got = got_;
	SAME(attach_id);
	SAME(cause);
	SAME(auts);
}

static void *build_attach_accept(void)
{
	M2M_ATTACH_ACCEPT *a = M2M_ATTACH_ACCEPT_new();
	set_run(a->session_id, 8, 0xe0);
	m2m_set_str(a->apn, TEST_APN);
	return a;
}

static void check_attach_accept(const void *want_, const void *got_)
{
	const M2M_ATTACH_ACCEPT *want = want_, *got = got_;
	SAME(session_id);
	SAME(apn);
}

static void *build_detach_request(void)
{
	M2M_DETACH_REQUEST *d = M2M_DETACH_REQUEST_new();
	set_run(d->session_id, 8, 0xe0);
	return d;
}

static void check_detach_request(const void *want_, const void *got_)
{
	const M2M_DETACH_REQUEST *want = want_, *got = got_;
	SAME(session_id);
}

static void *build_protected_data(void)
{
	M2M_PROTECTED_DATA *p = M2M_PROTECTED_DATA_new();
	set_run(p->session_id, 8, 0xe0);
	p->counter = 4294967295u;  /* INTEGER (0..4294967295): the last counter of a session */
	set_run(p->sealed, 40, 0x01);
	return p;
}

static void check_protected_data(const void *want_, const void *got_)
{
	const M2M_PROTECTED_DATA *want = want_, *got = got_;
	SAME(session_id);
	SAME(counter);
	SAME(sealed);
}

/* full: a re-synchronisation request (resync present) */
static void *make_auth_info_request(int full)
{
	M2M_AUTH_INFO_REQUEST *r = M2M_AUTH_INFO_REQUEST_new();
	set_digits(&r->imsi, TEST_IMSI);
	m2m_set_str(r->serving_network, "mno-v");
	r->num_vectors = full ? 1 : 5;
	if (full) {
		r->resync = M2M_RESYNC_new();
		set_run(r->resync->rand, 16, 0x10);
		set_run(r->resync->auts, 14, 0xc0);
	}
	return r;
}
FULL_AND_MINIMAL(auth_info_request)

static void check_resync(const M2M_RESYNC *want, const M2M_RESYNC *got)
{
	cr_assert_eq(want == NULL, got == NULL, "resync: presence differs");
	if (!want)
		return;
	SAME(rand);
	SAME(auts);
}

static void check_auth_info_request(const void *want_, const void *got_)
{
	const M2M_AUTH_INFO_REQUEST *want = want_, *got = got_;
	SAME(imsi);
	SAME(serving_network);
	SAME(num_vectors);
	check_resync(want->resync, got->resync);
}

/* Vector number i: its own runs of bytes, and an XRES of xres_len (4..16) bytes. */
static M2M_AUTH_VECTOR *auth_vector(unsigned i, int xres_len)
{
	M2M_AUTH_VECTOR *v = M2M_AUTH_VECTOR_new();
	unsigned base = 0x10 + 0x80 * i;
	set_run(v->rand, 16, base);
	set_run(v->xres, xres_len, base + 0x10);
	set_run(v->autn, 16, base + 0x20);
	set_run(v->ck, 16, base + 0x30);
	set_run(v->ik, 16, base + 0x40);
	set_run(v->kc, 8, base + 0x50);
	return v;
}

static void *build_auth_info_response(void)
{
	M2M_AUTH_INFO_RESPONSE *s = sk_M2M_AUTH_VECTOR_new_null();
	sk_M2M_AUTH_VECTOR_push(s, auth_vector(0, 8));
	sk_M2M_AUTH_VECTOR_push(s, auth_vector(1, 4));
	return s;
}

static void check_auth_vector(const M2M_AUTH_VECTOR *want, const M2M_AUTH_VECTOR *got)
{
	SAME(rand);
	SAME(xres);
	SAME(autn);
	SAME(ck);
	SAME(ik);
	SAME(kc);
}

static void check_auth_info_response(const void *want_, const void *got_)
{
	const M2M_AUTH_INFO_RESPONSE *want = want_, *got = got_;
	cr_assert_eq(sk_M2M_AUTH_VECTOR_num(want), sk_M2M_AUTH_VECTOR_num(got), "vector count");
	for (int i = 0; i < sk_M2M_AUTH_VECTOR_num(want); i++)
		check_auth_vector(sk_M2M_AUTH_VECTOR_value(want, i), sk_M2M_AUTH_VECTOR_value(got, i));
}

static void *build_update_location(void)
{
	M2M_UPDATE_LOCATION *u = M2M_UPDATE_LOCATION_new();
	set_digits(&u->imsi, TEST_IMSI);
	set_digits(&u->imei, TEST_IMEI);
	m2m_set_str(u->serving_network, "mno-v");
	return u;
}

static void check_update_location(const void *want_, const void *got_)
{
	const M2M_UPDATE_LOCATION *want = want_, *got = got_;
	SAME(imsi);
	SAME(imei);
	SAME(serving_network);
}

/* full: three APNs, circuit-switched service, an IMEI lock; minimal: one APN, none of those */
static void *make_subscription_profile(int full)
{
	M2M_SUBSCRIPTION_PROFILE *p = M2M_SUBSCRIPTION_PROFILE_new();
	sk_ASN1_UTF8STRING_push(p->allowed_apns, utf8(TEST_APN));
	if (full) {
		sk_ASN1_UTF8STRING_push(p->allowed_apns, utf8("m2m.backup"));
		sk_ASN1_UTF8STRING_push(p->allowed_apns, utf8("internet"));
		set_digits(&p->imei_lock, TEST_IMEI);
	}
	p->cs_allowed = full ? 0xff : 0;  /* not OPTIONAL: -1, the template's "absent", would not encode */
	return p;
}
FULL_AND_MINIMAL(subscription_profile)

static void check_subscription_profile(const void *want_, const void *got_)
{
	const M2M_SUBSCRIPTION_PROFILE *want = want_, *got = got_;
	SAME(allowed_apns);
	SAME(cs_allowed);
	SAME(imei_lock);
}

static void *build_purge(void)
{
	M2M_PURGE *p = M2M_PURGE_new();
	set_digits(&p->imsi, TEST_IMSI);
	m2m_set_str(p->serving_network, "mno-v");
	return p;
}

static void check_purge(const void *want_, const void *got_)
{
	const M2M_PURGE *want = want_, *got = got_;
	SAME(imsi);
	SAME(serving_network);
}

static void *build_cancel_location(void)
{
	M2M_CANCEL_LOCATION *c = M2M_CANCEL_LOCATION_new();
	set_digits(&c->imsi, TEST_IMSI);
	set_enum(&c->cause, M2M_CANCEL_ATTACHED_ELSEWHERE);
	return c;
}

static void check_cancel_location(const void *want_, const void *got_)
{
	const M2M_CANCEL_LOCATION *want = want_, *got = got_;
	SAME(imsi);
	SAME(cause);
}

/* full: every tagged OPTIONAL field [0]..[4] at once (no action uses them all, the codec does not care) */
static void *make_device_control(int full)
{
	M2M_DEVICE_CONTROL *c = M2M_DEVICE_CONTROL_new();
	set_enum(&c->action, full ? M2M_DEV_SEND_DATA : M2M_DEV_STATUS);
	if (full) {
		c->card = utf8("uicc-2");
		set_digits(&c->imei, "4901542032375181");  /* an IMEISV: 16 digits */
		c->network = utf8("mno-v");
		c->apn = utf8(TEST_APN);
		c->data = run(1024, 0);
	}
	return c;
}
FULL_AND_MINIMAL(device_control)

static void check_device_control(const void *want_, const void *got_)
{
	const M2M_DEVICE_CONTROL *want = want_, *got = got_;
	SAME(action);
	SAME(card);
	SAME(imei);
	SAME(network);
	SAME(apn);
	SAME(data);
}

/* full: powered, with a card read and attached, after a sendData; minimal: off and empty */
static void *make_device_status(int full)
{
	M2M_DEVICE_STATUS *s = M2M_DEVICE_STATUS_new();
	s->powered = full ? 0xff : 0;
	set_digits(&s->imei, TEST_IMEI);
	if (full) {
		s->card = utf8("uicc-1");
		set_digits(&s->iccid, TEST_ICCID);
		set_digits(&s->imsi, TEST_IMSI);
		s->attached_to = utf8("mno-v");
		s->echo = ASN1_OCTET_STRING_new();
		SET_BYTES(s->echo, 'k', 'W', 'h', '=', '4', '2');
	}
	return s;
}
FULL_AND_MINIMAL(device_status)

static void check_device_status(const void *want_, const void *got_)
{
	const M2M_DEVICE_STATUS *want = want_, *got = got_;
	SAME(powered);
	SAME(imei);
	SAME(card);
	SAME(iccid);
	SAME(imsi);
	SAME(attached_to);
	SAME(echo);
}


/* ---- certification agency and platform validation (types 40..55) ------------------------- */

static ASN1_GENERALIZEDTIME *gtime(const char *text)
{
	ASN1_GENERALIZEDTIME *t = ASN1_GENERALIZEDTIME_new();
	cr_assert(t && ASN1_GENERALIZEDTIME_set_string(t, text));
	return t;
}

static void set_gtime(ASN1_GENERALIZEDTIME *t, const char *text)
{
	cr_assert(ASN1_GENERALIZEDTIME_set_string(t, text));
}

static void set_bit(ASN1_BIT_STRING *b, int n)
{
	cr_assert(ASN1_BIT_STRING_set_bit(b, n, 1));
}

static void *build_signed_object(void)
{
	M2M_SIGNED_OBJECT *o = M2M_SIGNED_OBJECT_new();
	set_run(o->cms, 300, 0x30);  /* long form length: the CMS of a real object is hundreds of bytes */
	return o;
}

static void check_signed_object(const void *want_, const void *got_)
{
	const M2M_SIGNED_OBJECT *want = want_, *got = got_;
	SAME(cms);
}

static M2M_TRE_PLATFORM *tre_platform(void)
{
	M2M_TRE_PLATFORM *p = M2M_TRE_PLATFORM_new();
	m2m_set_str(p->model, "acme-tre");
	m2m_set_str(p->version, "2.1");
	p->assurance_level = 7;
	return p;
}

static void check_tre_platform(const M2M_TRE_PLATFORM *want, const M2M_TRE_PLATFORM *got)
{
	cr_assert_eq(want == NULL, got == NULL, "platform: presence differs");
	if (!want)
		return;
	SAME(model);
	SAME(version);
	SAME(assurance_level);
}

/* full: a TRE's request, with its platform; minimal: an operator function's */
static void *make_enrol_request(int full)
{
	M2M_ENROL_REQUEST *r = M2M_ENROL_REQUEST_new();
	set_run(r->csr, 200, 0x30);
	set_run(r->authorisation, full ? 64 : 16, 0xa0);
	set_enum(&r->profile, full ? M2M_PROFILE_TRE : M2M_PROFILE_OPERATOR_FUNCTION);
	if (full)
		r->platform = tre_platform();
	return r;
}
FULL_AND_MINIMAL(enrol_request)

static void check_enrol_request(const void *want_, const void *got_)
{
	const M2M_ENROL_REQUEST *want = want_, *got = got_;
	SAME(csr);
	SAME(authorisation);
	SAME(profile);
	check_tre_platform(want->platform, got->platform);
}

static void *build_enrol_response(void)
{
	M2M_ENROL_RESPONSE *r = M2M_ENROL_RESPONSE_new();
	set_run(r->certificate, 400, 0x30);
	sk_ASN1_OCTET_STRING_push(r->chain, run(350, 0x40));
	sk_ASN1_OCTET_STRING_push(r->chain, run(330, 0x50));
	return r;
}

static void check_enrol_response(const void *want_, const void *got_)
{
	const M2M_ENROL_RESPONSE *want = want_, *got = got_;
	SAME(certificate);
	SAME(chain);
}

static void *build_crl_response(void)
{
	M2M_CRL_RESPONSE *r = M2M_CRL_RESPONSE_new();
	set_run(r->crl, 1500, 0x30);
	return r;
}

static void check_crl_response(const void *want_, const void *got_)
{
	const M2M_CRL_RESPONSE *want = want_, *got = got_;
	SAME(crl);
}

static void *build_platform_type_request(void)
{
	M2M_PLATFORM_TYPE_REQUEST *r = M2M_PLATFORM_TYPE_REQUEST_new();
	m2m_set_str(r->model, "acme-tre");
	m2m_set_str(r->version, "2.1");
	return r;
}

static void check_platform_type_request(const void *want_, const void *got_)
{
	const M2M_PLATFORM_TYPE_REQUEST *want = want_, *got = got_;
	SAME(model);
	SAME(version);
}

static void *build_validation_request(void)
{
	M2M_VALIDATION_REQUEST *r = M2M_VALIDATION_REQUEST_new();
	m2m_set_str(r->tre, "tre-1");
	set_enum(&r->mode, M2M_MODE_REMOTE);
	r->min_assurance = 3;
	return r;
}

static void check_validation_request(const void *want_, const void *got_)
{
	const M2M_VALIDATION_REQUEST *want = want_, *got = got_;
	SAME(tre);
	SAME(mode);
	SAME(min_assurance);
}

static void *build_attestation_challenge(void)
{
	M2M_ATTESTATION_CHALLENGE *c = M2M_ATTESTATION_CHALLENGE_new();
	set_run(c->nonce, 32, 0xd0);
	set_enum(&c->mode, M2M_MODE_SEMI_AUTONOMOUS);
	return c;
}

static void check_attestation_challenge(const void *want_, const void *got_)
{
	const M2M_ATTESTATION_CHALLENGE *want = want_, *got = got_;
	SAME(nonce);
	SAME(mode);
}

static void *build_tamper_ack(void)
{
	M2M_TAMPER_ACK *a = M2M_TAMPER_ACK_new();
	set_run(a->report_id, 16, 0xe0);
	return a;
}

static void check_tamper_ack(const void *want_, const void *got_)
{
	const M2M_TAMPER_ACK *want = want_, *got = got_;
	SAME(report_id);
}

static void *build_validation_status_request(void)
{
	M2M_VALIDATION_STATUS_REQUEST *r = M2M_VALIDATION_STATUS_REQUEST_new();
	m2m_set_str(r->tre, "tre-1");
	return r;
}

static void check_validation_status_request(const void *want_, const void *got_)
{
	const M2M_VALIDATION_STATUS_REQUEST *want = want_, *got = got_;
	SAME(tre);
}

/* full: an ok verdict with its times; minimal: never validated, no times */
static void *make_validation_status(int full)
{
	M2M_VALIDATION_STATUS *v = M2M_VALIDATION_STATUS_new();
	m2m_set_str(v->tre, "tre-1");
	set_enum(&v->result, full ? M2M_VERDICT_OK : M2M_VERDICT_NEVER);
	if (full) {
		v->validated_at = gtime("20250102030405Z");
		v->valid_until = gtime("20250102040405Z");
	}
	return v;
}
FULL_AND_MINIMAL(validation_status)

static void check_validation_status(const void *want_, const void *got_)
{
	const M2M_VALIDATION_STATUS *want = want_, *got = got_;
	SAME(tre);
	SAME(result);
	SAME(validated_at);
	SAME(valid_until);
}

/* full: modifyComponent with its content; minimal: status */
static void *make_tre_control(int full)
{
	M2M_TRE_CONTROL *c = M2M_TRE_CONTROL_new();
	set_enum(&c->action, full ? M2M_TRE_CTL_MODIFY_COMPONENT : M2M_TRE_CTL_STATUS);
	if (full) {
		c->component = utf8("modem-fw");
		c->content = run(4096, 0);
	}
	return c;
}
FULL_AND_MINIMAL(tre_control)

static void check_tre_control(const void *want_, const void *got_)
{
	const M2M_TRE_CONTROL *want = want_, *got = got_;
	SAME(action);
	SAME(component);
	SAME(content);
}

static void *build_tre_status(void)
{
	M2M_TRE_STATUS *s = M2M_TRE_STATUS_new();
	m2m_set_str(s->tre, "tre-1");
	s->booted = 0xff;  /* secure_boot_ok stays FALSE: _new makes required booleans FALSE */
	set_bit(s->tamper, M2M_TAMPER_CASE_OPENED);
	set_bit(s->tamper, M2M_TAMPER_COMPONENT_MODIFIED);
	s->pending_reports = 2;
	s->enrolled = 0xff;
	set_enum(&s->provisioning, M2M_PROV_UICC_LOADING);
	return s;
}

static void check_tre_status(const void *want_, const void *got_)
{
	const M2M_TRE_STATUS *want = want_, *got = got_;
	SAME(tre);
	SAME(booted);
	SAME(secure_boot_ok);
	SAME(tamper);
	SAME(pending_reports);
	SAME(enrolled);
	SAME(provisioning);
}

/* The eContent types of the signed objects (encoded with i2d, not carried in an envelope). */

static M2M_REFERENCE_METRIC *reference(const char *component, unsigned first)
{
	M2M_REFERENCE_METRIC *m = M2M_REFERENCE_METRIC_new();
	m2m_set_str(m->component, component);
	set_run(m->digest, 32, first);
	return m;
}

static void *build_platform_type(void)
{
	M2M_PLATFORM_TYPE *t = M2M_PLATFORM_TYPE_new();
	m2m_set_str(t->model, "acme-tre");
	m2m_set_str(t->version, "2.1");
	t->assurance_level = 4;
	sk_M2M_REFERENCE_METRIC_push(t->references, reference("boot-rom", 0x00));
	sk_M2M_REFERENCE_METRIC_push(t->references, reference("tre-code", 0x20));
	return t;
}

static void check_platform_type(const void *want_, const void *got_)
{
	const M2M_PLATFORM_TYPE *want = want_, *got = got_;
	SAME(model);
	SAME(version);
	SAME(assurance_level);
	cr_assert_eq(sk_M2M_REFERENCE_METRIC_num(want->references), sk_M2M_REFERENCE_METRIC_num(got->references));
	for (int i = 0; i < sk_M2M_REFERENCE_METRIC_num(want->references); i++) {
		const M2M_REFERENCE_METRIC *w = sk_M2M_REFERENCE_METRIC_value(want->references, i);
		const M2M_REFERENCE_METRIC *g = sk_M2M_REFERENCE_METRIC_value(got->references, i);
		assert_str_eq(w->component, g->component, "component");
		assert_str_eq(w->digest, g->digest, "digest");
	}
}

static void *build_verdict(void)
{
	M2M_VERDICT *v = M2M_VERDICT_new();
	m2m_set_str(v->tre, "tre-1");
	m2m_set_str(v->relying_party, "mno-a");
	set_enum(&v->mode, M2M_MODE_REMOTE);
	set_enum(&v->result, M2M_VERDICT_FAIL);
	sk_ASN1_ENUMERATED_push(v->reasons, enumerated(M2M_R_COMPONENT_MODIFIED));
	sk_ASN1_ENUMERATED_push(v->reasons, enumerated(M2M_R_TAMPER_DETECTED));
	set_run(v->nonce, 32, 0xd0);
	set_gtime(v->validated_at, "20250102030405Z");
	set_gtime(v->valid_until, "20250102040405Z");
	return v;
}

static void check_verdict(const void *want_, const void *got_)
{
	const M2M_VERDICT *want = want_, *got = got_;
	SAME(tre);
	SAME(relying_party);
	SAME(mode);
	SAME(result);
	SAME(reasons);
	SAME(nonce);
	SAME(validated_at);
	SAME(valid_until);
}

static M2M_COMPONENT_VERDICT *component_verdict(const char *component, int matches)
{
	M2M_COMPONENT_VERDICT *c = M2M_COMPONENT_VERDICT_new();
	m2m_set_str(c->component, component);
	c->matches = matches ? 0xff : 0;
	return c;
}

static M2M_MEASUREMENT_LOG_ENTRY *log_entry(uint64_t reg, const char *component, unsigned first)
{
	M2M_MEASUREMENT_LOG_ENTRY *e = M2M_MEASUREMENT_LOG_ENTRY_new();
	e->register_ = reg;
	m2m_set_str(e->component, component);
	set_run(e->digest, 32, first);
	return e;
}

/* full: both OPTIONAL parts (no mode sends both, the codec does not care); minimal: autonomous */
static void *make_evidence(int full)
{
	M2M_EVIDENCE *e = M2M_EVIDENCE_new();
	m2m_set_str(e->tre, "tre-1");
	set_run(e->nonce, 32, 0xd0);
	set_enum(&e->mode, full ? M2M_MODE_REMOTE : M2M_MODE_AUTONOMOUS);
	e->secure_boot = full ? 0 : 0xff;
	if (!full)
		return e;
	set_bit(e->tamper, M2M_TAMPER_COMPONENT_MODIFIED);
	e->verdicts = sk_M2M_COMPONENT_VERDICT_new_null();
	sk_M2M_COMPONENT_VERDICT_push(e->verdicts, component_verdict("boot-rom", 1));
	sk_M2M_COMPONENT_VERDICT_push(e->verdicts, component_verdict("os", 0));
	e->quote = M2M_QUOTE_new();
	sk_ASN1_OCTET_STRING_push(e->quote->registers, run(32, 0x40));
	sk_ASN1_OCTET_STRING_push(e->quote->registers, run(32, 0x60));
	sk_M2M_MEASUREMENT_LOG_ENTRY_push(e->quote->log, log_entry(0, "boot-rom", 0x00));
	sk_M2M_MEASUREMENT_LOG_ENTRY_push(e->quote->log, log_entry(7, "os", 0x80));
	return e;
}
FULL_AND_MINIMAL(evidence)

static void check_component_verdicts(const STACK_OF(M2M_COMPONENT_VERDICT) *want,
				     const STACK_OF(M2M_COMPONENT_VERDICT) *got)
{
	cr_assert_eq(want == NULL, got == NULL, "verdicts: presence differs");
	cr_assert_eq(sk_M2M_COMPONENT_VERDICT_num(want), sk_M2M_COMPONENT_VERDICT_num(got));
	for (int i = 0; i < sk_M2M_COMPONENT_VERDICT_num(want); i++) {
		const M2M_COMPONENT_VERDICT *w = sk_M2M_COMPONENT_VERDICT_value(want, i);
		const M2M_COMPONENT_VERDICT *g = sk_M2M_COMPONENT_VERDICT_value(got, i);
		assert_str_eq(w->component, g->component, "component");
		cr_assert_eq(w->matches > 0, g->matches > 0, "matches");
	}
}

static void check_log_entry(const M2M_MEASUREMENT_LOG_ENTRY *want, const M2M_MEASUREMENT_LOG_ENTRY *got)
{
	SAME(register_);
	SAME(component);
	SAME(digest);
}

static void check_quote(const M2M_QUOTE *want, const M2M_QUOTE *got)
{
	cr_assert_eq(want == NULL, got == NULL, "quote: presence differs");
	if (!want)
		return;
	SAME(registers);
	cr_assert_eq(sk_M2M_MEASUREMENT_LOG_ENTRY_num(want->log), sk_M2M_MEASUREMENT_LOG_ENTRY_num(got->log));
	for (int i = 0; i < sk_M2M_MEASUREMENT_LOG_ENTRY_num(want->log); i++)
		check_log_entry(sk_M2M_MEASUREMENT_LOG_ENTRY_value(want->log, i),
				sk_M2M_MEASUREMENT_LOG_ENTRY_value(got->log, i));
}

static void check_evidence(const void *want_, const void *got_)
{
	const M2M_EVIDENCE *want = want_, *got = got_;
	SAME(tre);
	SAME(nonce);
	SAME(mode);
	SAME(tamper);
	SAME(secure_boot);
	check_component_verdicts(want->verdicts, got->verdicts);
	check_quote(want->quote, got->quote);
}

static void *build_tamper_report(void)
{
	M2M_TAMPER_REPORT *r = M2M_TAMPER_REPORT_new();
	set_run(r->report_id, 16, 0xe0);
	m2m_set_str(r->tre, "tre-1");
	set_enum(&r->event, M2M_TAMPER_COMPONENT_MODIFIED);
	m2m_set_str(r->component, "modem-fw");
	set_gtime(r->at, "20250102030405Z");
	set_enum(&r->reaction, M2M_TAMPER_ZEROISED);
	return r;
}

static void check_tamper_report(const void *want_, const void *got_)
{
	const M2M_TAMPER_REPORT *want = want_, *got = got_;
	SAME(report_id);
	SAME(tre);
	SAME(event);
	SAME(component);
	SAME(at);
	SAME(reaction);
}

static void *build_tre_platform(void)
{
	return tre_platform();
}

static void check_tre_platform_body(const void *want, const void *got)
{
	check_tre_platform(want, got);
}

/* ---- Alternative 1a (types 60..81) ------------------------------------------------------- */

#define TEST_PCID "001090000000007"

static M2M_RELAY_STEP *relay_step(void)
{
	M2M_RELAY_STEP *s = M2M_RELAY_STEP_new();
	m2m_set_str(s->destination, "drf");
	s->message_type = M2M_MSG_DISCOVERY_REQUEST;
	set_run(s->body, 200, 0x40);
	return s;
}

static void check_relay_step(const M2M_RELAY_STEP *want, const M2M_RELAY_STEP *got)
{
	cr_assert_eq(want == NULL, got == NULL, "step: presence differs");
	if (!want)
		return;
	SAME(destination);
	cr_assert_eq(want->message_type, got->message_type, "messageType differs");
	SAME(body);
}

static void *build_relay_request(void)
{
	M2M_RELAY_REQUEST *r = M2M_RELAY_REQUEST_new();
	set_run(r->session_id, 8, 0x10);
	M2M_RELAY_STEP_free(r->step);
	r->step = relay_step();
	return r;
}

static void check_relay_request(const void *want_, const void *got_)
{
	const M2M_RELAY_REQUEST *want = want_, *got = got_;
	SAME(session_id);
	check_relay_step(want->step, got->step);
}

static M2M_RELAY_RESPONSE *relay_response(void)
{
	M2M_RELAY_RESPONSE *r = M2M_RELAY_RESPONSE_new();
	r->message_type = M2M_MSG_ERROR;  /* a refusal relayed back */
	set_run(r->body, 40, 0x50);
	return r;
}

static void check_relay_answer(const M2M_RELAY_RESPONSE *want, const M2M_RELAY_RESPONSE *got)
{
	cr_assert_eq(want == NULL, got == NULL, "answer: presence differs");
	if (!want)
		return;
	cr_assert_eq(want->message_type, got->message_type, "messageType differs");
	SAME(body);
}

static void *build_relay_response(void)
{
	return relay_response();
}

static void check_relay_response(const void *want, const void *got)
{
	check_relay_answer(want, got);
}

static void *build_mcim_package(void)
{
	M2M_MCIM_PACKAGE *p = M2M_MCIM_PACKAGE_new();
	set_run(p->mcim_id, 16, 0x60);
	set_run(p->package, 900, 0x30);
	return p;
}

static void check_mcim_package(const void *want_, const void *got_)
{
	const M2M_MCIM_PACKAGE *want = want_, *got = got_;
	SAME(mcim_id);
	SAME(package);
}

static void *build_install_ack(void)
{
	M2M_INSTALL_ACK *a = M2M_INSTALL_ACK_new();
	set_run(a->mcim_id, 16, 0x60);
	return a;
}

static void check_install_ack(const void *want_, const void *got_)
{
	const M2M_INSTALL_ACK *want = want_, *got = got_;
	SAME(mcim_id);
}

static M2M_REGISTRATION *registration(const char *imei, const char *tre, const char *sho)
{
	M2M_REGISTRATION *r = M2M_REGISTRATION_new();
	set_digits(&r->m2me, imei);
	m2m_set_str(r->tre, tre);
	m2m_set_str(r->sho, sho);
	m2m_set_str(r->dpf, sho);
	return r;
}

/* the first with the subscriber's key, the second without */
static void *build_registration_request(void)
{
	M2M_REGISTRATION_REQUEST *q = sk_M2M_REGISTRATION_new_null();
	M2M_REGISTRATION *keyed = registration(TEST_IMEI, "tre-3", "mno-a");
	keyed->subscriber_key = run(91, 0x30);  /* the size of a P-256 SubjectPublicKeyInfo */
	sk_M2M_REGISTRATION_push(q, keyed);
	sk_M2M_REGISTRATION_push(q, registration("490154203237518", "tre-4", "mno-b"));
	return q;
}

static void check_registration_request(const void *want_, const void *got_)
{
	const M2M_REGISTRATION_REQUEST *w = want_, *g = got_;
	cr_assert_eq(sk_M2M_REGISTRATION_num(w), sk_M2M_REGISTRATION_num(g));
	for (int i = 0; i < sk_M2M_REGISTRATION_num(w); i++) {
		const M2M_REGISTRATION *want = sk_M2M_REGISTRATION_value(w, i), *got = sk_M2M_REGISTRATION_value(g, i);
		SAME(m2me);
		SAME(tre);
		SAME(sho);
		SAME(dpf);
		SAME(subscriber_key);
	}
}

static void *build_registration_response(void)
{
	M2M_REGISTRATION_RESPONSE *r = M2M_REGISTRATION_RESPONSE_new();
	r->registered = 10000;
	return r;
}

static void check_registration_response(const void *want_, const void *got_)
{
	const M2M_REGISTRATION_RESPONSE *want = want_, *got = got_;
	SAME(registered);
}

static void *build_provisioned(void)
{
	M2M_PROVISIONED *p = M2M_PROVISIONED_new();
	m2m_set_str(p->tre, "tre-3");
	m2m_set_str(p->sho, "mno-a");
	set_run(p->mcim_id, 16, 0x60);
	return p;
}

static void check_provisioned(const void *want_, const void *got_)
{
	const M2M_PROVISIONED *want = want_, *got = got_;
	SAME(tre);
	SAME(sho);
	SAME(mcim_id);
}

static void *build_pcid_assign_request(void)
{
	M2M_PCID_ASSIGN_REQUEST *q = M2M_PCID_ASSIGN_REQUEST_new();
	sk_ASN1_UTF8STRING_push(q->tres, utf8("tre-3"));
	sk_ASN1_UTF8STRING_push(q->tres, utf8("tre-4"));
	return q;
}

static void check_pcid_assign_request(const void *want_, const void *got_)
{
	const M2M_PCID_ASSIGN_REQUEST *want = want_, *got = got_;
	SAME(tres);
}

static M2M_PCID_CREDENTIAL *pcid_credential(const char *tre, const char *pcid, unsigned first)
{
	M2M_PCID_CREDENTIAL *c = M2M_PCID_CREDENTIAL_new();
	m2m_set_str(c->tre, tre);
	set_digits(&c->pcid, pcid);
	set_run(c->k, 16, first);
	set_run(c->opc, 16, first + 0x10);
	set_gtime(c->valid_until, "20261223000000Z");
	return c;
}

static void *build_pcid_assign_response(void)
{
	M2M_PCID_ASSIGN_RESPONSE *r = sk_M2M_PCID_CREDENTIAL_new_null();
	sk_M2M_PCID_CREDENTIAL_push(r, pcid_credential("tre-3", TEST_PCID, 0x70));
	sk_M2M_PCID_CREDENTIAL_push(r, pcid_credential("tre-4", "001090000000008", 0x90));
	return r;
}

static void check_pcid_credential(const M2M_PCID_CREDENTIAL *want, const M2M_PCID_CREDENTIAL *got)
{
	SAME(tre);
	SAME(pcid);
	SAME(k);
	SAME(opc);
	SAME(valid_until);
}

static void check_pcid_assign_response(const void *want_, const void *got_)
{
	const M2M_PCID_ASSIGN_RESPONSE *w = want_, *g = got_;
	cr_assert_eq(sk_M2M_PCID_CREDENTIAL_num(w), sk_M2M_PCID_CREDENTIAL_num(g));
	for (int i = 0; i < sk_M2M_PCID_CREDENTIAL_num(w); i++)
		check_pcid_credential(sk_M2M_PCID_CREDENTIAL_value(w, i), sk_M2M_PCID_CREDENTIAL_value(g, i));
}

/* full: an MCIM with its id and owner; minimal: no credential at all */
static void *make_tre_credential(int full)
{
	M2M_TRE_CREDENTIAL *c = M2M_TRE_CREDENTIAL_new();
	set_enum(&c->kind, full ? M2M_CREDENTIAL_MCIM : M2M_CREDENTIAL_NONE);
	if (full) {
		set_digits(&c->imsi, TEST_IMSI);
		c->mcim_id = run(16, 0x60);
		c->owner = utf8("mno-a");
	}
	return c;
}
FULL_AND_MINIMAL(tre_credential)

static void check_tre_credential(const void *want_, const void *got_)
{
	const M2M_TRE_CREDENTIAL *want = want_, *got = got_;
	SAME(kind);
	SAME(imsi);
	SAME(mcim_id);
	SAME(owner);
}

static void *build_tre_aka_request(void)
{
	M2M_TRE_AKA_REQUEST *q = M2M_TRE_AKA_REQUEST_new();
	set_digits(&q->imsi, TEST_PCID);
	set_run(q->rand, 16, 0x20);
	set_run(q->autn, 16, 0xa0);
	return q;
}

static void check_tre_aka_request(const void *want_, const void *got_)
{
	const M2M_TRE_AKA_REQUEST *want = want_, *got = got_;
	SAME(imsi);
	SAME(rand);
	SAME(autn);
}

/* full: success (res, ck, ik); minimal: synchronisation failure (auts alone) */
static void *make_tre_aka_response(int full)
{
	M2M_TRE_AKA_RESPONSE *r = M2M_TRE_AKA_RESPONSE_new();
	if (full) {
		r->res = run(8, 0xb0);
		r->ck = run(16, 0xc0);
		r->ik = run(16, 0xd0);
	} else {
		r->auts = run(14, 0xe0);
	}
	return r;
}
FULL_AND_MINIMAL(tre_aka_response)

static void check_tre_aka_response(const void *want_, const void *got_)
{
	const M2M_TRE_AKA_RESPONSE *want = want_, *got = got_;
	SAME(res);
	SAME(ck);
	SAME(ik);
	SAME(auts);
}

/* full: the answer of the last step; minimal: start */
static void *make_tre_provision(int full)
{
	M2M_TRE_PROVISION *p = M2M_TRE_PROVISION_new();
	if (full) {
		p->answer = relay_response();
		p->card = build_apdu_response();
	}
	return p;
}
FULL_AND_MINIMAL(tre_provision)

static void check_tre_provision(const void *want_, const void *got_)
{
	const M2M_TRE_PROVISION *want = want_, *got = got_;
	check_relay_answer(want->answer, got->answer);
	check_optional(want->card, got->card, check_apdu_response);
}

/* full: a step to relay (and a reason, which only `failed` uses); minimal: done */
static void *make_tre_provision_next(int full)
{
	M2M_TRE_PROVISION_NEXT *n = M2M_TRE_PROVISION_NEXT_new();
	set_enum(&n->state, full ? M2M_PROV_ORDERING : M2M_PROV_DONE);
	if (full) {
		n->step = relay_step();
		set_enum(&n->reason, M2M_R_NOT_VALIDATED);
		n->card = build_apdu_command();
	}
	return n;
}
FULL_AND_MINIMAL(tre_provision_next)

static void check_tre_provision_next(const void *want_, const void *got_)
{
	const M2M_TRE_PROVISION_NEXT *want = want_, *got = got_;
	SAME(state);
	check_relay_step(want->step, got->step);
	SAME(reason);
	check_optional(want->card, got->card, check_apdu_command);
}

/* The eContent of the Alternative 1a signed objects, and the MCIM inside its package. */
static void *make_discovery_request(int full)
{
	M2M_DISCOVERY_REQUEST *d = M2M_DISCOVERY_REQUEST_new();
	m2m_set_str(d->tre, "tre-3");
	set_digits(&d->m2me, TEST_IMEI);
	set_run(d->nonce, 32, 0x01);
	if (full)
		d->change_id = run(16, 0x80);
	return d;
}
FULL_AND_MINIMAL(discovery_request)

static void check_discovery_request(const void *want_, const void *got_)
{
	const M2M_DISCOVERY_REQUEST *want = want_, *got = got_;
	SAME(tre);
	SAME(m2me);
	SAME(nonce);
	SAME(change_id);
}

static void *make_registration_ticket(int full)
{
	M2M_REGISTRATION_TICKET *t = M2M_REGISTRATION_TICKET_new();
	m2m_set_str(t->tre, "tre-3");
	set_digits(&t->m2me, TEST_IMEI);
	m2m_set_str(t->sho, "mno-a");
	m2m_set_str(t->dpf, "mno-a");
	set_run(t->nonce, 32, 0x01);
	set_gtime(t->expires, "20261123130000Z");
	if (full)
		t->change_id = run(16, 0x80);
	return t;
}
FULL_AND_MINIMAL(registration_ticket)

static void check_registration_ticket(const void *want_, const void *got_)
{
	const M2M_REGISTRATION_TICKET *want = want_, *got = got_;
	SAME(tre);
	SAME(m2me);
	SAME(sho);
	SAME(dpf);
	SAME(nonce);
	SAME(expires);
	SAME(change_id);
}

static void *build_mcim_order(void)
{
	M2M_MCIM_ORDER *o = M2M_MCIM_ORDER_new();
	m2m_set_str(o->tre, "tre-3");
	set_run(o->ticket, 600, 0x30);
	set_run(o->nonce, 32, 0x21);
	return o;
}

static void check_mcim_order(const void *want_, const void *got_)
{
	const M2M_MCIM_ORDER *want = want_, *got = got_;
	SAME(tre);
	SAME(ticket);
	SAME(nonce);
}

static void *build_mcim(void)
{
	M2M_MCIM *m = M2M_MCIM_new();
	set_run(m->mcim_id, 16, 0x60);
	m->version = 255;
	m2m_set_str(m->owner, "mno-a");
	m2m_set_str(m->tre, "tre-3");
	set_run(m->nonce, 32, 0x21);
	set_digits(&m->imsi, TEST_IMSI);
	set_run(m->k, 16, 0x70);
	set_run(m->opc, 16, 0x80);
	SET_BYTES(m->amf, 0x80, 0x00);
	m->sqn = UINT64_C(281474976710655);  /* INTEGER (0..2^48-1): the last SQN */
	M2M_SUBSCRIPTION_PROFILE_free(m->profile);
	m->profile = make_subscription_profile(1);
	set_gtime(m->issued_at, "20261123120000Z");
	return m;
}

static void check_mcim(const void *want_, const void *got_)
{
	const M2M_MCIM *want = want_, *got = got_;
	SAME(mcim_id);
	SAME(version);
	SAME(owner);
	SAME(tre);
	SAME(nonce);
	SAME(imsi);
	SAME(k);
	SAME(opc);
	SAME(amf);
	SAME(sqn);
	check_subscription_profile(want->profile, got->profile);
	SAME(issued_at);
}

/* full: refused with its reason; minimal: installed */
static void *make_install_result(int full)
{
	M2M_INSTALL_RESULT *r = M2M_INSTALL_RESULT_new();
	set_run(r->mcim_id, 16, 0x60);
	m2m_set_str(r->tre, "tre-3");
	set_run(r->nonce, 32, 0x21);
	set_enum(&r->status, full ? M2M_INSTALL_REFUSED : M2M_INSTALLED);
	if (full)
		set_enum(&r->reason, M2M_R_WRONG_SHO);
	return r;
}
FULL_AND_MINIMAL(install_result)

static void check_install_result(const void *want_, const void *got_)
{
	const M2M_INSTALL_RESULT *want = want_, *got = got_;
	SAME(mcim_id);
	SAME(tre);
	SAME(nonce);
	SAME(status);
	assert_enum_eq(want->reason, got->reason, "reason");
}

static void *make_mcim_command(int full)
{
	M2M_MCIM_COMMAND *c = M2M_MCIM_COMMAND_new();
	set_run(c->mcim_id, 16, 0x60);
	m2m_set_str(c->owner, "mno-a");
	m2m_set_str(c->tre, "tre-3");
	set_enum(&c->action, full ? M2M_MCIM_DELETE : M2M_MCIM_ACTIVATE);
	set_run(c->nonce, 16, 0x31);
	if (full)
		c->change_id = run(16, 0x80);
	return c;
}
FULL_AND_MINIMAL(mcim_command)

static void check_mcim_command(const void *want_, const void *got_)
{
	const M2M_MCIM_COMMAND *want = want_, *got = got_;
	SAME(mcim_id);
	SAME(owner);
	SAME(tre);
	SAME(action);
	SAME(nonce);
	SAME(change_id);
}

static void *build_mcim_receipt(void)
{
	M2M_MCIM_RECEIPT *r = M2M_MCIM_RECEIPT_new();
	set_run(r->mcim_id, 16, 0x60);
	m2m_set_str(r->tre, "tre-3");
	set_enum(&r->action, M2M_MCIM_DELETE);
	set_run(r->nonce, 32, 0x31);
	set_enum(&r->state, M2M_MCIM_DELETED);
	return r;
}

static void check_mcim_receipt(const void *want_, const void *got_)
{
	const M2M_MCIM_RECEIPT *want = want_, *got = got_;
	SAME(mcim_id);
	SAME(tre);
	SAME(action);
	SAME(nonce);
	SAME(state);
}

/* ---- change of subscription (types 82..90) ----------------------------------------------- */

static M2M_CHANGE_AUTHORISATION *change_authorisation(void)
{
	M2M_CHANGE_AUTHORISATION *a = M2M_CHANGE_AUTHORISATION_new();
	m2m_set_str(a->tre, "tre-3");
	set_digits(&a->m2me, TEST_IMEI);
	m2m_set_str(a->from_sho, "mno-a");
	m2m_set_str(a->to_sho, "mno-b");
	set_run(a->nonce, 16, 0x41);
	set_gtime(a->issued_at, "20261123130000Z");
	return a;
}

static void check_change_authorisation(const M2M_CHANGE_AUTHORISATION *want, const M2M_CHANGE_AUTHORISATION *got)
{
	SAME(tre);
	SAME(m2me);
	SAME(from_sho);
	SAME(to_sho);
	SAME(nonce);
	SAME(issued_at);
}

static void *build_change_request(void)
{
	M2M_CHANGE_REQUEST *r = M2M_CHANGE_REQUEST_new();
	M2M_CHANGE_AUTHORISATION_free(r->authorisation->content);
	r->authorisation->content = change_authorisation();
	set_run(r->authorisation->signature, 72, 0x30);
	m2m_set_str(r->dpf, "mno-b");
	return r;
}

static void check_change_request(const void *want_, const void *got_)
{
	const M2M_CHANGE_REQUEST *w = want_, *g = got_;
	check_change_authorisation(w->authorisation->content, g->authorisation->content);
	same_string(w->authorisation->signature, g->authorisation->signature, "signature");
	same_string(w->dpf, g->dpf, "dpf");
}

static void *build_change_id(void)
{
	M2M_CHANGE_ACK *a = M2M_CHANGE_ACK_new();
	set_run(a->change_id, 16, 0x80);
	return a;
}

static void check_change_id(const void *want_, const void *got_)
{
	const M2M_CHANGE_ACK *want = want_, *got = got_;
	SAME(change_id);
}

static void *build_change_response(void)
{
	M2M_CHANGE_RESPONSE *r = M2M_CHANGE_RESPONSE_new();
	set_run(r->change_id, 16, 0x80);
	return r;
}

static void check_change_response(const void *want_, const void *got_)
{
	const M2M_CHANGE_RESPONSE *want = want_, *got = got_;
	SAME(change_id);
}

static void *build_change_notify(void)
{
	M2M_CHANGE_NOTIFY *n = M2M_CHANGE_NOTIFY_new();
	set_run(n->change_id, 16, 0x80);
	m2m_set_str(n->tre, "tre-3");
	set_digits(&n->m2me, TEST_IMEI);
	m2m_set_str(n->to_sho, "mno-b");
	return n;
}

static void check_change_notify(const void *want_, const void *got_)
{
	const M2M_CHANGE_NOTIFY *want = want_, *got = got_;
	SAME(change_id);
	SAME(tre);
	SAME(m2me);
	SAME(to_sho);
}

static void *build_change_consent(void)
{
	M2M_CHANGE_CONSENT *c = M2M_CHANGE_CONSENT_new();
	set_run(c->change_id, 16, 0x80);
	c->mcim_id = run(16, 0x60);
	return c;
}

/* Alternative 3b's consent: the IMSI of the device's UICC instead of an MCIM */
static void *build_change_consent_uicc(void)
{
	M2M_CHANGE_CONSENT *c = M2M_CHANGE_CONSENT_new();
	set_run(c->change_id, 16, 0x80);
	set_digits(&c->imsi, "001010000000042");
	return c;
}

static void check_change_consent(const void *want_, const void *got_)
{
	const M2M_CHANGE_CONSENT *want = want_, *got = got_;
	SAME(change_id);
	SAME(mcim_id);
	SAME(imsi);
}

static void *build_change_complete(void)
{
	M2M_CHANGE_COMPLETE *c = M2M_CHANGE_COMPLETE_new();
	set_run(c->change_id, 16, 0x80);
	m2m_set_str(c->tre, "tre-3");
	m2m_set_str(c->sho, "mno-b");
	set_run(c->mcim_id, 16, 0x90);
	return c;
}

static void check_change_complete(const void *want_, const void *got_)
{
	const M2M_CHANGE_COMPLETE *want = want_, *got = got_;
	SAME(change_id);
	SAME(tre);
	SAME(sho);
	SAME(mcim_id);
}

static void *build_change_release(void)
{
	M2M_CHANGE_RELEASE *r = M2M_CHANGE_RELEASE_new();
	set_run(r->change_id, 16, 0x80);
	m2m_set_str(r->tre, "tre-3");
	set_run(r->mcim_id, 16, 0x60);
	return r;
}

static void check_change_release(const void *want_, const void *got_)
{
	const M2M_CHANGE_RELEASE *want = want_, *got = got_;
	SAME(change_id);
	SAME(tre);
	SAME(mcim_id);
}

/* full: a failed attach with its reason; minimal: attached */
static void *make_tre_attached(int full)
{
	M2M_TRE_ATTACHED *a = M2M_TRE_ATTACHED_new();
	set_digits(&a->imsi, TEST_IMSI);
	set_enum(&a->result, full ? M2M_ATTACH_FAILED : M2M_ATTACH_OK);
	if (full)
		set_enum(&a->reason, M2M_R_AUTHENTICATION_FAILED);
	return a;
}
FULL_AND_MINIMAL(tre_attached)

static void check_tre_attached(const void *want_, const void *got_)
{
	const M2M_TRE_ATTACHED *want = want_, *got = got_;
	SAME(imsi);
	SAME(result);
	assert_enum_eq(want->reason, got->reason, "reason");
}

/* ---- OTA over SMS-PP and Alternative 3a (types 91..98) ----------------------------------- */

#define TEST_NEW_IMSI "001020000000101"
#define TEST_ICCID_2 "8900101000000000027"

/* Any bytes do for the codec: the TPDU is opaque to it (lib/ota reads it). */
static void *make_sms_report(int full)
{
	M2M_SMS_REPORT *r = M2M_SMS_REPORT_new();
	if (full)
		r->tpdu = run(25, 0x40);
	return r;
}
FULL_AND_MINIMAL(sms_report)

static void check_sms_report(const void *want_, const void *got_)
{
	const M2M_SMS_REPORT *want = want_, *got = got_;
	SAME(tpdu);
}

static void *build_sms_deliver(void)
{
	M2M_SMS_DELIVER *d = M2M_SMS_DELIVER_new();
	set_digits(&d->imsi, TEST_IMSI);
	set_run(d->tpdu, 164, 0x10);  /* SmsDeliver.tpdu (SIZE (1..164)): the longest */
	return d;
}

static void check_sms_deliver(const void *want_, const void *got_)
{
	const M2M_SMS_DELIVER *want = want_, *got = got_;
	SAME(imsi);
	SAME(tpdu);
}

static ASN1_STRING *digits(const char *text)
{
	ASN1_STRING *s = NULL;
	set_digits(&s, text);
	return s;
}

static void *build_port_authorisation(void)
{
	M2M_PORT_AUTHORISATION *a = M2M_PORT_AUTHORISATION_new();
	m2m_set_str(a->subscriber, "acme-metering");
	m2m_set_str(a->from_sho, "mno-a");
	m2m_set_str(a->to_sho, "mno-b");
	cr_assert(OPENSSL_sk_push((OPENSSL_STACK *)a->iccids, digits(TEST_ICCID)));
	cr_assert(OPENSSL_sk_push((OPENSSL_STACK *)a->iccids, digits(TEST_ICCID_2)));
	set_run(a->nonce, 16, 0x41);
	set_gtime(a->issued_at, "20261123130000Z");
	return a;
}

static void check_port_authorisation(const void *want_, const void *got_)
{
	const M2M_PORT_AUTHORISATION *want = want_, *got = got_;
	SAME(subscriber);
	SAME(from_sho);
	SAME(to_sho);
	SAME(iccids);
	SAME(nonce);
	SAME(issued_at);
}

static M2M_PORT_DEVICE *port_device(const char *iccid, const char *new_imsi)
{
	M2M_PORT_DEVICE *d = M2M_PORT_DEVICE_new();
	set_digits(&d->iccid, iccid);
	set_digits(&d->new_imsi, new_imsi);
	return d;
}

static void *build_port_request(void)
{
	M2M_PORT_REQUEST *r = M2M_PORT_REQUEST_new();
	set_run(r->port_id, 16, 0xa0);
	set_run(r->authorisation, 300, 0x30);  /* a CMS SignedData: long form length */
	cr_assert(sk_M2M_PORT_DEVICE_push(r->devices, port_device(TEST_ICCID, TEST_NEW_IMSI)));
	cr_assert(sk_M2M_PORT_DEVICE_push(r->devices, port_device(TEST_ICCID_2, "001020000000102")));
	set_run(r->certificate, 200, 0x50);
	return r;
}

static void check_port_request(const void *want_, const void *got_)
{
	const M2M_PORT_REQUEST *want = want_, *got = got_;
	SAME(port_id);
	SAME(authorisation);
	cr_assert_eq(sk_M2M_PORT_DEVICE_num(got->devices), sk_M2M_PORT_DEVICE_num(want->devices), "devices: count");
	for (int i = 0; i < sk_M2M_PORT_DEVICE_num(want->devices); i++) {
		const M2M_PORT_DEVICE *w = sk_M2M_PORT_DEVICE_value(want->devices, i);
		const M2M_PORT_DEVICE *g = sk_M2M_PORT_DEVICE_value(got->devices, i);
		same_string(w->iccid, g->iccid, "iccid");
		same_string(w->new_imsi, g->new_imsi, "newImsi");
	}
	SAME(certificate);
}

static void *build_port_response(void)
{
	M2M_PORT_RESPONSE *r = M2M_PORT_RESPONSE_new();
	set_run(r->port_id, 16, 0xa0);
	r->accepted = 10000;  /* PortResponse.accepted INTEGER (0..10000): the most */
	return r;
}

static void check_port_response(const void *want_, const void *got_)
{
	const M2M_PORT_RESPONSE *want = want_, *got = got_;
	SAME(port_id);
	SAME(accepted);
}

/* One keyset per card, its counter at the 40-bit maximum of TS 102 225. */
static M2M_OTA_KEYSET *ota_keyset(unsigned first)
{
	M2M_OTA_KEYSET *k = M2M_OTA_KEYSET_new();
	k->kvn = 1;
	k->kic_alg = 0x2;  /* AES-CBC */
	set_run(k->kic, 16, first);
	k->kid_alg = 0xe;  /* AES-CMAC */
	set_run(k->kid, 16, first + 0x10);
	set_run(k->dek, 32, first + 0x20);
	SET_BYTES(k->tar, 0xb0, 0x00, 0x10);
	k->counter = UINT64_C(0xffffffffff);
	return k;
}

static void check_ota_keyset(const M2M_OTA_KEYSET *want, const M2M_OTA_KEYSET *got)
{
	SAME(kvn);
	SAME(kic_alg);
	SAME(kic);
	SAME(kid_alg);
	SAME(kid);
	SAME(dek);
	SAME(tar);
	SAME(counter);
}

static M2M_PORT_CREDENTIAL *port_credential(const char *iccid, const char *old_imsi, const char *new_imsi,
					    unsigned first)
{
	M2M_PORT_CREDENTIAL *c = M2M_PORT_CREDENTIAL_new();
	set_digits(&c->iccid, iccid);
	set_digits(&c->old_imsi, old_imsi);
	set_digits(&c->new_imsi, new_imsi);
	set_run(c->k, 16, first);
	set_run(c->opc, 16, first + 0x10);
	c->sqn = UINT64_C(0xffffffffffff);  /* PortCredential.sqn INTEGER (0..281474976710655) */
	cr_assert(sk_M2M_OTA_KEYSET_push(c->keysets, ota_keyset(first + 0x20)));
	return c;
}

static void check_port_credential(const M2M_PORT_CREDENTIAL *want, const M2M_PORT_CREDENTIAL *got)
{
	SAME(iccid);
	SAME(old_imsi);
	SAME(new_imsi);
	SAME(k);
	SAME(opc);
	SAME(sqn);
	cr_assert_eq(sk_M2M_OTA_KEYSET_num(got->keysets), sk_M2M_OTA_KEYSET_num(want->keysets), "keysets: count");
	for (int i = 0; i < sk_M2M_OTA_KEYSET_num(want->keysets); i++)
		check_ota_keyset(sk_M2M_OTA_KEYSET_value(want->keysets, i), sk_M2M_OTA_KEYSET_value(got->keysets, i));
}

static void *build_port_credentials(void)
{
	M2M_PORT_CREDENTIALS *p = M2M_PORT_CREDENTIALS_new();
	set_run(p->port_id, 16, 0xa0);
	m2m_set_str(p->from_sho, "mno-a");
	m2m_set_str(p->to_sho, "mno-b");
	cr_assert(sk_M2M_PORT_CREDENTIAL_push(p->credentials,
					      port_credential(TEST_ICCID, TEST_IMSI, TEST_NEW_IMSI, 0x00)));
	cr_assert(sk_M2M_PORT_CREDENTIAL_push(p->credentials,
					      port_credential(TEST_ICCID_2, "001010000000002", "001020000000102", 0x80)));
	return p;
}

static void check_port_credentials(const void *want_, const void *got_)
{
	const M2M_PORT_CREDENTIALS *want = want_, *got = got_;
	SAME(port_id);
	SAME(from_sho);
	SAME(to_sho);
	cr_assert_eq(sk_M2M_PORT_CREDENTIAL_num(got->credentials), sk_M2M_PORT_CREDENTIAL_num(want->credentials),
		     "credentials: count");
	for (int i = 0; i < sk_M2M_PORT_CREDENTIAL_num(want->credentials); i++)
		check_port_credential(sk_M2M_PORT_CREDENTIAL_value(want->credentials, i),
				      sk_M2M_PORT_CREDENTIAL_value(got->credentials, i));
}

static void *build_port_transfer(void)
{
	M2M_PORT_TRANSFER *t = M2M_PORT_TRANSFER_new();
	set_run(t->port_id, 16, 0xa0);
	set_run(t->package, 300, 0x30);
	return t;
}

static void check_port_transfer(const void *want_, const void *got_)
{
	const M2M_PORT_TRANSFER *want = want_, *got = got_;
	SAME(port_id);
	SAME(package);
}

static void *build_port_transfer_ack(void)
{
	M2M_PORT_TRANSFER_ACK *a = M2M_PORT_TRANSFER_ACK_new();
	set_run(a->port_id, 16, 0xa0);
	a->provisioned = 2;
	return a;
}

static void check_port_transfer_ack(const void *want_, const void *got_)
{
	const M2M_PORT_TRANSFER_ACK *want = want_, *got = got_;
	SAME(port_id);
	SAME(provisioned);
}

static void *build_port_complete(void)
{
	M2M_PORT_COMPLETE *c = M2M_PORT_COMPLETE_new();
	set_run(c->port_id, 16, 0xa0);
	set_digits(&c->iccid, TEST_ICCID);
	set_digits(&c->new_imsi, TEST_NEW_IMSI);
	return c;
}

static void check_port_complete(const void *want_, const void *got_)
{
	const M2M_PORT_COMPLETE *want = want_, *got = got_;
	SAME(port_id);
	SAME(iccid);
	SAME(new_imsi);
}

static void *build_deletion_receipt(void)
{
	M2M_DELETION_RECEIPT *r = M2M_DELETION_RECEIPT_new();
	set_run(r->port_id, 16, 0xa0);
	set_digits(&r->iccid, TEST_ICCID);
	set_digits(&r->old_imsi, TEST_IMSI);
	set_gtime(r->deleted_at, "20261123140000Z");
	return r;
}

static void check_deletion_receipt(const void *want_, const void *got_)
{
	const M2M_DELETION_RECEIPT *want = want_, *got = got_;
	SAME(port_id);
	SAME(iccid);
	SAME(old_imsi);
	SAME(deleted_at);
}

static void *build_port_complete_ack(void)
{
	M2M_PORT_COMPLETE_ACK *a = M2M_PORT_COMPLETE_ACK_new();
	set_run(a->port_id, 16, 0xa0);
	set_digits(&a->iccid, TEST_ICCID);
	set_run(a->receipt, 300, 0x30);
	return a;
}

static void check_port_complete_ack(const void *want_, const void *got_)
{
	const M2M_PORT_COMPLETE_ACK *want = want_, *got = got_;
	SAME(port_id);
	SAME(iccid);
	SAME(receipt);
}

/* ---- Alternative 3b, new credentials into the UICC through the TRE (types 99..108) ---------- */

static void *build_tre_activate(void)
{
	M2M_TRE_ACTIVATE *a = M2M_TRE_ACTIVATE_new();
	set_run(a->change_id, 16, 0x80);
	m2m_set_str(a->tre, "tre-5");
	m2m_set_str(a->drf, "drf");
	set_run(a->nonce, 16, 0x41);
	set_gtime(a->issued_at, "20261123150000Z");
	return a;
}

static void check_tre_activate(const void *want_, const void *got_)
{
	const M2M_TRE_ACTIVATE *want = want_, *got = got_;
	SAME(change_id);
	SAME(tre);
	SAME(drf);
	SAME(nonce);
	SAME(issued_at);
}

static void *build_tre_trigger(void)
{
	M2M_TRE_TRIGGER *t = M2M_TRE_TRIGGER_new();
	set_digits(&t->imsi, TEST_IMSI);
	set_run(t->trigger->cms, 300, 0x30);
	return t;
}

static void check_tre_trigger(const void *want_, const void *got_)
{
	const M2M_TRE_TRIGGER *want = want_, *got = got_;
	SAME(imsi);
	check_signed_object(want->trigger, got->trigger);
}

static void *build_uicc_change_registration(void)
{
	M2M_UICC_CHANGE_REGISTRATION *r = M2M_UICC_CHANGE_REGISTRATION_new();
	set_run(r->change_id, 16, 0x80);
	m2m_set_str(r->tre, "tre-5");
	set_digits(&r->iccid, TEST_ICCID);
	set_run(r->card_certificate, 4096, 0x30);  /* cardCertificate (SIZE (1..4096)): the most */
	set_run(r->card_nonce, 16, 0xc0);
	set_run(r->trigger_nonce, 16, 0x41);
	return r;
}

static void check_uicc_change_registration(const void *want_, const void *got_)
{
	const M2M_UICC_CHANGE_REGISTRATION *want = want_, *got = got_;
	SAME(change_id);
	SAME(tre);
	SAME(iccid);
	SAME(card_certificate);
	SAME(card_nonce);
	SAME(trigger_nonce);
}

static void *build_uicc_credential_order(void)
{
	M2M_UICC_CREDENTIAL_ORDER *o = M2M_UICC_CREDENTIAL_ORDER_new();
	set_run(o->change_id, 16, 0x80);
	m2m_set_str(o->tre, "tre-5");
	set_digits(&o->iccid, TEST_ICCID);
	set_run(o->card_certificate, 500, 0x30);
	set_run(o->card_nonce, 16, 0xc0);
	set_run(o->ticket, 300, 0x50);
	return o;
}

static void check_uicc_credential_order(const void *want_, const void *got_)
{
	const M2M_UICC_CREDENTIAL_ORDER *want = want_, *got = got_;
	SAME(change_id);
	SAME(tre);
	SAME(iccid);
	SAME(card_certificate);
	SAME(card_nonce);
	SAME(ticket);
}

/* uiccCredentialPackage and uiccCredentialDelivery: the same body, B's package passed on. */
static void *build_uicc_credential_package(void)
{
	M2M_UICC_CREDENTIAL_PACKAGE *p = M2M_UICC_CREDENTIAL_PACKAGE_new();
	set_run(p->change_id, 16, 0x80);
	m2m_set_str(p->sho, "mno-b");
	set_digits(&p->imsi, TEST_NEW_IMSI);
	set_run(p->package, 700, 0x30);
	return p;
}

static void check_uicc_credential_package(const void *want_, const void *got_)
{
	const M2M_UICC_CREDENTIAL_PACKAGE *want = want_, *got = got_;
	SAME(change_id);
	SAME(sho);
	SAME(imsi);
	SAME(package);
}

static void *build_uicc_credential(void)
{
	M2M_UICC_CREDENTIAL *c = M2M_UICC_CREDENTIAL_new();
	set_digits(&c->iccid, TEST_ICCID);
	set_run(c->card_nonce, 16, 0xc0);
	set_run(c->change_id, 16, 0x80);
	m2m_set_str(c->sho, "mno-b");
	set_digits(&c->imsi, TEST_NEW_IMSI);
	set_run(c->k, 16, 0x00);
	set_run(c->opc, 16, 0x10);
	M2M_OTA_KEYSET_free(c->ota);
	c->ota = ota_keyset(0x20);
	c->sqn_start = UINT64_C(0xffffffffffff);  /* UiccCredential.sqnStart INTEGER (0..281474976710655) */
	return c;
}

static void check_uicc_credential(const void *want_, const void *got_)
{
	const M2M_UICC_CREDENTIAL *want = want_, *got = got_;
	SAME(iccid);
	SAME(card_nonce);
	SAME(change_id);
	SAME(sho);
	SAME(imsi);
	SAME(k);
	SAME(opc);
	check_ota_keyset(want->ota, got->ota);
	SAME(sqn_start);
}

/* switched: attached with B's IMSI; rolled back: that attach failed, the card is on A's again */
static void *uicc_change_result(int rolled_back)
{
	M2M_UICC_CHANGE_RESULT *r = M2M_UICC_CHANGE_RESULT_new();
	set_run(r->change_id, 16, 0x80);
	m2m_set_str(r->tre, "tre-5");
	set_digits(&r->iccid, TEST_ICCID);
	set_digits(&r->imsi, rolled_back ? TEST_IMSI : TEST_NEW_IMSI);
	set_enum(&r->result, rolled_back ? M2M_UICC_ROLLED_BACK : M2M_UICC_SWITCHED);
	return r;
}

static void *build_uicc_change_switched(void)
{
	return uicc_change_result(0);
}

static void *build_uicc_change_rolled_back(void)
{
	return uicc_change_result(1);
}

static void check_uicc_change_result(const void *want_, const void *got_)
{
	const M2M_UICC_CHANGE_RESULT *want = want_, *got = got_;
	SAME(change_id);
	SAME(tre);
	SAME(iccid);
	SAME(imsi);
	assert_enum_eq(want->result, got->result, "result");
}

static void *build_uicc_release(void)
{
	M2M_UICC_RELEASE *r = M2M_UICC_RELEASE_new();
	set_run(r->change_id, 16, 0x80);
	set_digits(&r->iccid, TEST_ICCID);
	set_digits(&r->imsi, TEST_IMSI);
	return r;
}

static void check_uicc_release(const void *want_, const void *got_)
{
	const M2M_UICC_RELEASE *want = want_, *got = got_;
	SAME(change_id);
	SAME(iccid);
	SAME(imsi);
}

typedef struct body_case {
	int type;
	void *(*build)(void);
	void (*check)(const void *want, const void *got);
} body_case;

/* A message type added to the registry fails roundtrip.every_registered_type until it is here. */
static const body_case body_cases[] = {
	{M2M_MSG_ERROR, build_error, check_error},
	{M2M_MSG_HEALTH_REQUEST, build_null, check_null},
	{M2M_MSG_HEALTH_RESPONSE, build_health_response, check_health_response},
	{M2M_MSG_PING, build_ping, check_ping},
	{M2M_MSG_PONG, build_ping, check_ping},
	{M2M_MSG_PING_PEERS_REQUEST, build_ping_peers_request, check_ping_peers_request},
	{M2M_MSG_PING_PEERS_RESPONSE, build_ping_peers_response, check_ping_peers_response},
	{M2M_MSG_APDU_COMMAND, build_apdu_command, check_apdu_command},
	{M2M_MSG_APDU_RESPONSE, build_apdu_response, check_apdu_response},
	{M2M_MSG_CARD_RESET, build_null, check_null},
	{M2M_MSG_CARD_ATR, build_card_atr, check_card_atr},
	{M2M_MSG_ATTACH_REQUEST, build_attach_request, check_attach_request},
	{M2M_MSG_AUTH_CHALLENGE, build_auth_challenge, check_auth_challenge},
	{M2M_MSG_AUTH_RESPONSE, build_auth_response, check_auth_response},
	{M2M_MSG_AUTH_FAILURE, build_auth_failure, check_auth_failure},
	{M2M_MSG_ATTACH_ACCEPT, build_attach_accept, check_attach_accept},
	{M2M_MSG_DETACH_REQUEST, build_detach_request, check_detach_request},
	{M2M_MSG_DETACH_ACCEPT, build_null, check_null},
	{M2M_MSG_PROTECTED_DATA, build_protected_data, check_protected_data},
	{M2M_MSG_PROTECTED_DATA_ECHO, build_protected_data, check_protected_data},
	{M2M_MSG_AUTH_INFO_REQUEST, build_auth_info_request, check_auth_info_request},
	{M2M_MSG_AUTH_INFO_RESPONSE, build_auth_info_response, check_auth_info_response},
	{M2M_MSG_UPDATE_LOCATION, build_update_location, check_update_location},
	{M2M_MSG_UPDATE_LOCATION_ACK, build_subscription_profile, check_subscription_profile},
	{M2M_MSG_PURGE, build_purge, check_purge},
	{M2M_MSG_PURGE_ACK, build_null, check_null},
	{M2M_MSG_CANCEL_LOCATION, build_cancel_location, check_cancel_location},
	{M2M_MSG_CANCEL_LOCATION_ACK, build_null, check_null},
	{M2M_MSG_DEVICE_CONTROL, build_device_control, check_device_control},
	{M2M_MSG_DEVICE_STATUS, build_device_status, check_device_status},
	{M2M_MSG_ENROL_REQUEST, build_enrol_request, check_enrol_request},
	{M2M_MSG_ENROL_RESPONSE, build_enrol_response, check_enrol_response},
	{M2M_MSG_CRL_REQUEST, build_null, check_null},
	{M2M_MSG_CRL_RESPONSE, build_crl_response, check_crl_response},
	{M2M_MSG_PLATFORM_TYPE_REQUEST, build_platform_type_request, check_platform_type_request},
	{M2M_MSG_PLATFORM_TYPE_RESPONSE, build_signed_object, check_signed_object},
	{M2M_MSG_VALIDATION_REQUEST, build_validation_request, check_validation_request},
	{M2M_MSG_VALIDATION_RESPONSE, build_signed_object, check_signed_object},
	{M2M_MSG_ATTESTATION_CHALLENGE, build_attestation_challenge, check_attestation_challenge},
	{M2M_MSG_ATTESTATION_EVIDENCE, build_signed_object, check_signed_object},
	{M2M_MSG_TAMPER_REPORT, build_signed_object, check_signed_object},
	{M2M_MSG_TAMPER_ACK, build_tamper_ack, check_tamper_ack},
	{M2M_MSG_VALIDATION_STATUS_REQUEST, build_validation_status_request, check_validation_status_request},
	{M2M_MSG_VALIDATION_STATUS, build_validation_status, check_validation_status},
	{M2M_MSG_TRE_CONTROL, build_tre_control, check_tre_control},
	{M2M_MSG_TRE_STATUS, build_tre_status, check_tre_status},
	{M2M_MSG_RELAY_REQUEST, build_relay_request, check_relay_request},
	{M2M_MSG_RELAY_RESPONSE, build_relay_response, check_relay_response},
	{M2M_MSG_DISCOVERY_REQUEST, build_signed_object, check_signed_object},
	{M2M_MSG_DISCOVERY_RESPONSE, build_signed_object, check_signed_object},
	{M2M_MSG_MCIM_REQUEST, build_signed_object, check_signed_object},
	{M2M_MSG_MCIM_PACKAGE, build_mcim_package, check_mcim_package},
	{M2M_MSG_INSTALL_RESULT, build_signed_object, check_signed_object},
	{M2M_MSG_INSTALL_ACK, build_install_ack, check_install_ack},
	{M2M_MSG_REGISTRATION_REQUEST, build_registration_request, check_registration_request},
	{M2M_MSG_REGISTRATION_RESPONSE, build_registration_response, check_registration_response},
	{M2M_MSG_PROVISIONED, build_provisioned, check_provisioned},
	{M2M_MSG_PROVISIONED_ACK, build_null, check_null},
	{M2M_MSG_PCID_ASSIGN_REQUEST, build_pcid_assign_request, check_pcid_assign_request},
	{M2M_MSG_PCID_ASSIGN_RESPONSE, build_pcid_assign_response, check_pcid_assign_response},
	{M2M_MSG_TRE_CREDENTIAL_REQUEST, build_null, check_null},
	{M2M_MSG_TRE_CREDENTIAL, build_tre_credential, check_tre_credential},
	{M2M_MSG_TRE_AKA_REQUEST, build_tre_aka_request, check_tre_aka_request},
	{M2M_MSG_TRE_AKA_RESPONSE, build_tre_aka_response, check_tre_aka_response},
	{M2M_MSG_TRE_PROVISION, build_tre_provision, check_tre_provision},
	{M2M_MSG_TRE_PROVISION_NEXT, build_tre_provision_next, check_tre_provision_next},
	{M2M_MSG_MCIM_COMMAND, build_signed_object, check_signed_object},
	{M2M_MSG_MCIM_RECEIPT, build_signed_object, check_signed_object},
	{M2M_MSG_CHANGE_REQUEST, build_change_request, check_change_request},
	{M2M_MSG_CHANGE_RESPONSE, build_change_response, check_change_response},
	{M2M_MSG_CHANGE_NOTIFY, build_change_notify, check_change_notify},
	{M2M_MSG_CHANGE_CONSENT, build_change_consent, check_change_consent},
	{M2M_MSG_CHANGE_COMPLETE, build_signed_object, check_signed_object},
	{M2M_MSG_CHANGE_COMPLETE_ACK, build_change_id, check_change_id},
	{M2M_MSG_CHANGE_RELEASE, build_change_release, check_change_release},
	{M2M_MSG_CHANGE_RELEASE_ACK, build_change_id, check_change_id},
	{M2M_MSG_TRE_ATTACHED, build_tre_attached, check_tre_attached},
	{M2M_MSG_SMS_DELIVER, build_sms_deliver, check_sms_deliver},
	{M2M_MSG_SMS_REPORT, build_sms_report, check_sms_report},
	{M2M_MSG_PORT_REQUEST, build_port_request, check_port_request},
	{M2M_MSG_PORT_RESPONSE, build_port_response, check_port_response},
	{M2M_MSG_PORT_TRANSFER, build_port_transfer, check_port_transfer},
	{M2M_MSG_PORT_TRANSFER_ACK, build_port_transfer_ack, check_port_transfer_ack},
	{M2M_MSG_PORT_COMPLETE, build_port_complete, check_port_complete},
	{M2M_MSG_PORT_COMPLETE_ACK, build_port_complete_ack, check_port_complete_ack},
	{M2M_MSG_TRE_TRIGGER, build_tre_trigger, check_tre_trigger},
	{M2M_MSG_TRE_TRIGGER_ACK, build_change_id, check_change_id},
	{M2M_MSG_UICC_CHANGE_REGISTER, build_signed_object, check_signed_object},
	{M2M_MSG_UICC_CREDENTIAL_DELIVERY, build_uicc_credential_package, check_uicc_credential_package},
	{M2M_MSG_UICC_CREDENTIAL_ORDER, build_uicc_credential_order, check_uicc_credential_order},
	{M2M_MSG_UICC_CREDENTIAL_PACKAGE, build_uicc_credential_package, check_uicc_credential_package},
	{M2M_MSG_UICC_CHANGE_COMPLETE, build_signed_object, check_signed_object},
	{M2M_MSG_UICC_CHANGE_COMPLETE_ACK, build_change_id, check_change_id},
	{M2M_MSG_UICC_RELEASE, build_uicc_release, check_uicc_release},
	{M2M_MSG_UICC_RELEASE_ACK, build_change_id, check_change_id},
};
#define NCASES (sizeof body_cases / sizeof body_cases[0])
#define MAX_TYPE_SCANNED 127

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

/* The bodies with OPTIONAL fields, every one absent (the table's builders set them all). */
static const body_case minimal_cases[] = {
	{M2M_MSG_AUTH_FAILURE, build_auth_failure_minimal, check_auth_failure},
	{M2M_MSG_AUTH_INFO_REQUEST, build_auth_info_request_minimal, check_auth_info_request},
	{M2M_MSG_UPDATE_LOCATION_ACK, build_subscription_profile_minimal, check_subscription_profile},
	{M2M_MSG_DEVICE_CONTROL, build_device_control_minimal, check_device_control},
	{M2M_MSG_DEVICE_STATUS, build_device_status_minimal, check_device_status},
	{M2M_MSG_ENROL_REQUEST, build_enrol_request_minimal, check_enrol_request},
	{M2M_MSG_VALIDATION_STATUS, build_validation_status_minimal, check_validation_status},
	{M2M_MSG_TRE_CONTROL, build_tre_control_minimal, check_tre_control},
	{M2M_MSG_TRE_CREDENTIAL, build_tre_credential_minimal, check_tre_credential},
	{M2M_MSG_TRE_AKA_RESPONSE, build_tre_aka_response_minimal, check_tre_aka_response},
	{M2M_MSG_TRE_PROVISION, build_tre_provision_minimal, check_tre_provision},
	{M2M_MSG_TRE_PROVISION_NEXT, build_tre_provision_next_minimal, check_tre_provision_next},
	{M2M_MSG_TRE_ATTACHED, build_tre_attached_minimal, check_tre_attached},
	{M2M_MSG_SMS_REPORT, build_sms_report_minimal, check_sms_report},
};

Test(roundtrip, change_consent_of_a_uicc_device)
{
	m2m_envelope env;
	set_header(&env, M2M_MSG_CHANGE_CONSENT);
	void *body = build_change_consent_uicc();
	roundtrip(&env, body, check_change_consent);
	free_body(M2M_MSG_CHANGE_CONSENT, body);
}

Test(roundtrip, every_optional_field_absent)
{
	for (size_t i = 0; i < sizeof minimal_cases / sizeof minimal_cases[0]; i++) {
		const body_case *c = &minimal_cases[i];
		m2m_envelope env;
		set_header(&env, c->type);
		void *body = c->build();
		roundtrip(&env, body, c->check);
		free_body(c->type, body);
	}
}

/* The eContent of the signed objects: DER of their own (i2d), not envelope bodies. */
typedef struct econtent_case {
	const char *name;
	ASN1_ITEM_EXP *item;
	void *(*build)(void);
	void (*check)(const void *want, const void *got);
} econtent_case;

static const econtent_case econtent_cases[] = {
	{"TrePlatform", ASN1_ITEM_ref(M2M_TRE_PLATFORM), build_tre_platform, check_tre_platform_body},
	{"PlatformType", ASN1_ITEM_ref(M2M_PLATFORM_TYPE), build_platform_type, check_platform_type},
	{"Verdict", ASN1_ITEM_ref(M2M_VERDICT), build_verdict, check_verdict},
	{"Evidence", ASN1_ITEM_ref(M2M_EVIDENCE), build_evidence, check_evidence},
	{"Evidence (autonomous)", ASN1_ITEM_ref(M2M_EVIDENCE), build_evidence_minimal, check_evidence},
	{"TamperReport", ASN1_ITEM_ref(M2M_TAMPER_REPORT), build_tamper_report, check_tamper_report},
	{"DiscoveryRequest", ASN1_ITEM_ref(M2M_DISCOVERY_REQUEST), build_discovery_request, check_discovery_request},
	{"DiscoveryRequest (first)", ASN1_ITEM_ref(M2M_DISCOVERY_REQUEST), build_discovery_request_minimal,
	 check_discovery_request},
	{"RegistrationTicket", ASN1_ITEM_ref(M2M_REGISTRATION_TICKET), build_registration_ticket,
	 check_registration_ticket},
	{"RegistrationTicket (first)", ASN1_ITEM_ref(M2M_REGISTRATION_TICKET), build_registration_ticket_minimal,
	 check_registration_ticket},
	{"McimOrder", ASN1_ITEM_ref(M2M_MCIM_ORDER), build_mcim_order, check_mcim_order},
	{"Mcim", ASN1_ITEM_ref(M2M_MCIM), build_mcim, check_mcim},
	{"InstallResult (refused)", ASN1_ITEM_ref(M2M_INSTALL_RESULT), build_install_result, check_install_result},
	{"InstallResult (installed)", ASN1_ITEM_ref(M2M_INSTALL_RESULT), build_install_result_minimal,
	 check_install_result},
	{"McimCommand", ASN1_ITEM_ref(M2M_MCIM_COMMAND), build_mcim_command, check_mcim_command},
	{"McimCommand (no change)", ASN1_ITEM_ref(M2M_MCIM_COMMAND), build_mcim_command_minimal, check_mcim_command},
	{"McimReceipt", ASN1_ITEM_ref(M2M_MCIM_RECEIPT), build_mcim_receipt, check_mcim_receipt},
	{"ChangeComplete", ASN1_ITEM_ref(M2M_CHANGE_COMPLETE), build_change_complete, check_change_complete},
	{"PortAuthorisation", ASN1_ITEM_ref(M2M_PORT_AUTHORISATION), build_port_authorisation,
	 check_port_authorisation},
	{"PortCredentials", ASN1_ITEM_ref(M2M_PORT_CREDENTIALS), build_port_credentials, check_port_credentials},
	{"DeletionReceipt", ASN1_ITEM_ref(M2M_DELETION_RECEIPT), build_deletion_receipt, check_deletion_receipt},
	{"TreActivate", ASN1_ITEM_ref(M2M_TRE_ACTIVATE), build_tre_activate, check_tre_activate},
	{"UiccChangeRegistration", ASN1_ITEM_ref(M2M_UICC_CHANGE_REGISTRATION), build_uicc_change_registration,
	 check_uicc_change_registration},
	{"UiccCredential", ASN1_ITEM_ref(M2M_UICC_CREDENTIAL), build_uicc_credential, check_uicc_credential},
	{"UiccChangeResult (switched)", ASN1_ITEM_ref(M2M_UICC_CHANGE_RESULT), build_uicc_change_switched,
	 check_uicc_change_result},
	{"UiccChangeResult (rolled back)", ASN1_ITEM_ref(M2M_UICC_CHANGE_RESULT), build_uicc_change_rolled_back,
	 check_uicc_change_result},
};

Test(roundtrip, signed_object_contents)
{
	for (size_t i = 0; i < sizeof econtent_cases / sizeof econtent_cases[0]; i++) {
		const econtent_case *c = &econtent_cases[i];
		void *want = c->build();
		unsigned char *der = NULL, *again = NULL;
		int len = ASN1_item_i2d(want, &der, c->item());
		cr_assert_gt(len, 0, "%s encodes", c->name);
		const unsigned char *p = der;
		void *got = ASN1_item_d2i(NULL, &p, len, c->item());
		cr_assert(got && p == der + len, "%s decodes", c->name);
		c->check(want, got);
		cr_assert_eq(ASN1_item_i2d(got, &again, c->item()), len, "%s re-encodes", c->name);
		cr_assert(!memcmp(der, again, (size_t)len), "%s re-encodes to other bytes", c->name);
		OPENSSL_free(der);
		OPENSSL_free(again);
		ASN1_item_free(want, c->item());
		ASN1_item_free(got, c->item());
	}
}

/* TamperFlags is a named bit list: DER drops trailing zero bits, and no flag is 03 01 00. */
Test(der, tamper_flags)
{
	M2M_TRE_STATUS *s = M2M_TRE_STATUS_new();
	m2m_set_str(s->tre, "t");
	unsigned char *der = NULL;
	int len = i2d_M2M_TRE_STATUS(s, &der);
	static const unsigned char none[] = {0x30, 0x12, 0x0c, 0x01, 't', 0x01, 0x01, 0x00, 0x01, 0x01, 0x00,
					     0x03, 0x01, 0x00, 0x02, 0x01, 0x00, 0x01, 0x01, 0x00};
	cr_assert_eq(len, (int)sizeof none);
	cr_assert(!memcmp(der, none, sizeof none), "booleans FALSE after _new, empty flags");
	OPENSSL_free(der);
	der = NULL;
	cr_assert(ASN1_BIT_STRING_set_bit(s->tamper, M2M_TAMPER_CASE_OPENED, 1));
	len = i2d_M2M_TRE_STATUS(s, &der);
	static const unsigned char case_opened[] = {0x03, 0x02, 0x07, 0x80};  /* bit 0 only: 7 unused */
	cr_assert(!memcmp(der + 11, case_opened, sizeof case_opened));
	OPENSSL_free(der);
	M2M_TRE_STATUS_free(s);
}

Test(roundtrip, apdu_response_sizes)
{
	static const unsigned char nothing[1];
	unsigned char most[256];  /* ApduResponse.data (SIZE (0..256)) */
	fill(most, sizeof most, 0);
	m2m_envelope env;
	set_header(&env, M2M_MSG_APDU_RESPONSE);
	M2M_APDU_RESPONSE *r = apdu_response(nothing, 0, 0x6982);  /* security status not satisfied */
	roundtrip(&env, r, check_apdu_response);
	M2M_APDU_RESPONSE_free(r);
	r = apdu_response(most, sizeof most, 0xffff);
	roundtrip(&env, r, check_apdu_response);
	M2M_APDU_RESPONSE_free(r);
}

/* A package for hundreds of cards: three length octets in the body and in the envelope. */
Test(roundtrip, port_transfer_of_a_large_package)
{
	m2m_envelope env;
	set_header(&env, M2M_MSG_PORT_TRANSFER);
	M2M_PORT_TRANSFER *t = build_port_transfer();
	set_run(t->package, 70000, 0x30);
	roundtrip(&env, t, check_port_transfer);
	M2M_PORT_TRANSFER_free(t);
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

/* ---- SECRET fields: m2m_redact ------------------------------------------------------------ */

static unsigned char *encode_body(int type, const void *body, size_t *len)
{
	m2m_envelope env;
	set_header(&env, type);
	unsigned char *der = NULL;
	cr_assert_eq(m2m_encode(&env, body, &der, len), M2M_OK, "encode %s", m2m_msgtype_name(type));
	return der;
}

/* The copy m2m_redact makes of a message of a type with secrets, decoded into *out (the caller
 * clears it). Returns whether its bytes differ from the original's. */
static int redacted(int type, const void *body, m2m_envelope *out)
{
	size_t len, rlen = 0;
	unsigned char *der = encode_body(type, body, &len), *red = NULL;
	cr_assert_eq(m2m_redact(der, len, &red, &rlen), 1, "%s can carry secrets", m2m_msgtype_name(type));
	cr_assert_eq(rlen, len, "a redacted copy keeps every length, so it has the original's size");
	int changed = memcmp(red, der, len) != 0;
	cr_assert_eq(decode_copy(red, rlen, out), M2M_OK, "the redacted copy is a valid message");
	cr_assert_eq(out->type, type);
	cr_assert_eq(out->seq, 7);
	OPENSSL_free(der);
	OPENSSL_free(red);
	return changed;
}

static void assert_zeroed(const ASN1_STRING *s, int len, const char *what)
{
	cr_assert_eq(ASN1_STRING_length(s), len, "%s: length changed", what);
	const unsigned char *d = ASN1_STRING_get0_data(s);
	for (int i = 0; i < len; i++)
		cr_assert_eq(d[i], 0, "%s: byte %d is %02x", what, i, d[i]);
}
#define ZEROED(field) assert_zeroed(got->field, ASN1_STRING_length(want->field), #field)

static void check_vector_redacted(const M2M_AUTH_VECTOR *want, const M2M_AUTH_VECTOR *got)
{
	SAME(rand);
	SAME(autn);
	ZEROED(xres);
	ZEROED(ck);
	ZEROED(ik);
	ZEROED(kc);
}

Test(redact, auth_info_response_zeroes_xres_ck_ik_kc)
{
	M2M_AUTH_INFO_RESPONSE *want = build_auth_info_response();
	m2m_envelope out;
	cr_assert(redacted(M2M_MSG_AUTH_INFO_RESPONSE, want, &out));
	const M2M_AUTH_INFO_RESPONSE *got = out.body;
	cr_assert_eq(sk_M2M_AUTH_VECTOR_num(got), sk_M2M_AUTH_VECTOR_num(want));
	for (int i = 0; i < sk_M2M_AUTH_VECTOR_num(want); i++)
		check_vector_redacted(sk_M2M_AUTH_VECTOR_value(want, i), sk_M2M_AUTH_VECTOR_value(got, i));
	m2m_envelope_clear(&out);
	free_body(M2M_MSG_AUTH_INFO_RESPONSE, want);
}

/* An apduResponse carrying data, after m2m_redact: zeroed (same length) or left as it was. */
static void apdu_redaction(const unsigned char *data, size_t n, int zeroed)
{
	M2M_APDU_RESPONSE *want = apdu_response(data, n, 0x9000);
	m2m_envelope out;
	int changed = redacted(M2M_MSG_APDU_RESPONSE, want, &out);
	const M2M_APDU_RESPONSE *got = out.body;
	SAME(status_word);
	if (zeroed)
		ZEROED(data);
	else
		SAME(data);
	cr_assert_eq(changed, zeroed && n > 0, "the copy is %s", changed ? "changed" : "byte for byte the original");
	m2m_envelope_clear(&out);
	M2M_APDU_RESPONSE_free(want);
}

Test(redact, apdu_response_to_authenticate_3g)
{
	unsigned char data[53];
	apdu_redaction(data, authenticate_3g(data), 1);
}

Test(redact, apdu_response_to_authenticate_gsm)
{
	unsigned char data[14];
	cr_assert_eq(authenticate_gsm(data), 14);
	cr_assert(data[0] == 4 && data[5] == 8, "04 SRES 08 Kc");
	apdu_redaction(data, sizeof data, 1);
}

/* File contents, a sync failure's AUTS (no key in it) and status answers stay readable in traces. */
Test(redact, apdu_response_with_other_data_is_untouched)
{
	static const unsigned char read_binary[] = {0x98, 0x10, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x10};
	apdu_redaction(read_binary, sizeof read_binary, 0);
	unsigned char sync_failure[16] = {0xdc, 0x0e};  /* DC | 0E AUTS */
	fill(sync_failure + 2, 14, 0xc0);
	apdu_redaction(sync_failure, sizeof sync_failure, 0);
	unsigned char gsm_like[14];
	authenticate_gsm(gsm_like);
	gsm_like[5] = 7;  /* 14 bytes starting 04, but no 08 Kc after SRES */
	apdu_redaction(gsm_like, sizeof gsm_like, 0);
	apdu_redaction(gsm_like, 13, 0);  /* one byte short of the GSM shape */
	apdu_redaction(gsm_like, 0, 0);
}

Test(redact, message_without_secrets_is_not_copied)
{
	size_t len, rlen = 12345;
	void *body = build_ping();
	unsigned char *der = encode_body(M2M_MSG_PING, body, &len), *red = NULL;
	cr_assert_eq(m2m_redact(der, len, &red, &rlen), 0);
	cr_assert_null(red, "no copy is made of a message that is safe as it is");
	cr_assert_eq(rlen, 12345);
	OPENSSL_free(der);
	free_body(M2M_MSG_PING, body);
}

Test(redact, enrol_request_authorisation_is_zeroed)
{
	M2M_ENROL_REQUEST *q = M2M_ENROL_REQUEST_new();
	static const unsigned char secret[32] = {0x5e, 0xc7, 0xe7, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
						 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29};
	ASN1_OCTET_STRING_set(q->csr, (const unsigned char *)"csr", 3);
	ASN1_OCTET_STRING_set(q->authorisation, secret, sizeof secret);
	ASN1_ENUMERATED_set(q->profile, 5);
	m2m_envelope env = {.type = M2M_MSG_ENROL_REQUEST, .seq = 1};
	snprintf(env.sender, sizeof env.sender, "tre-1");
	snprintf(env.recipient, sizeof env.recipient, "certauth");
	unsigned char *der = NULL, *red = NULL;
	size_t len, rlen;
	cr_assert_eq(m2m_encode(&env, q, &der, &len), M2M_OK);
	cr_assert_eq(m2m_redact(der, len, &red, &rlen), 1);
	cr_assert_eq(rlen, len, "the redacted copy keeps its shape");
	cr_assert_not_null(memmem(der, len, secret, sizeof secret));
	cr_assert_null(memmem(red, rlen, secret, sizeof secret), "the enrolment secret is in the tap copy");
	OPENSSL_free(der);
	OPENSSL_free(red);
	M2M_ENROL_REQUEST_free(q);
}

Test(redact, undecodable_message_is_refused)
{
	unsigned char *red = NULL;
	size_t rlen;
	cr_assert_eq(m2m_redact(valid_ping, sizeof valid_ping - 1, &red, &rlen), -1);
	cr_assert_null(red);
}

Test(redact, pcid_assign_response_zeroes_k_and_opc)
{
	M2M_PCID_ASSIGN_RESPONSE *want = build_pcid_assign_response();
	m2m_envelope out;
	cr_assert(redacted(M2M_MSG_PCID_ASSIGN_RESPONSE, want, &out));
	const M2M_PCID_ASSIGN_RESPONSE *got = out.body;
	for (int i = 0; i < sk_M2M_PCID_CREDENTIAL_num(want); i++) {
		const M2M_PCID_CREDENTIAL *w = sk_M2M_PCID_CREDENTIAL_value(want, i), *g = sk_M2M_PCID_CREDENTIAL_value(got, i);
		assert_str_eq(w->tre, g->tre, "tre");
		assert_str_eq(w->pcid, g->pcid, "pcid");
		assert_str_eq(w->valid_until, g->valid_until, "validUntil");
		assert_zeroed(g->k, ASN1_STRING_length(w->k), "k");
		assert_zeroed(g->opc, ASN1_STRING_length(w->opc), "opc");
	}
	m2m_envelope_clear(&out);
	free_body(M2M_MSG_PCID_ASSIGN_RESPONSE, want);
}

Test(redact, tre_aka_response_zeroes_ck_and_ik_keeps_res)
{
	M2M_TRE_AKA_RESPONSE *want = build_tre_aka_response();
	m2m_envelope out;
	cr_assert(redacted(M2M_MSG_TRE_AKA_RESPONSE, want, &out));
	const M2M_TRE_AKA_RESPONSE *got = out.body;
	assert_str_eq(want->res, got->res, "res");
	ZEROED(ck);
	ZEROED(ik);
	m2m_envelope_clear(&out);
	free_body(M2M_MSG_TRE_AKA_RESPONSE, want);
}

Test(redact, only_the_types_with_secret_fields_carry_secrets)
{
	int types[MAX_TYPE_SCANNED + 1];
	size_t n = registered_types(types);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(m2m_has_secrets(types[i]),
			     types[i] == M2M_MSG_APDU_RESPONSE || types[i] == M2M_MSG_AUTH_INFO_RESPONSE ||
				     types[i] == M2M_MSG_ENROL_REQUEST || types[i] == M2M_MSG_PCID_ASSIGN_RESPONSE ||
				     types[i] == M2M_MSG_TRE_AKA_RESPONSE,
			     "%s", m2m_msgtype_name(types[i]));
	cr_assert_eq(m2m_has_secrets(999), 0);
}

/* Every type of first..last is registered without redaction, and m2m_redact leaves it alone. */
static void published_as_they_are(int first, int last)
{
	for (int type = first; type <= last; type++) {
		const m2m_msgdef *def = m2m_msgdef_find(type);
		cr_assert(def, "type %d is registered", type);
		cr_assert_null(def->redact, "%s has no redaction", def->name);
		cr_assert_eq(m2m_has_secrets(type), 0, "%s", def->name);
		m2m_envelope env;
		set_header(&env, type);
		void *body = builder_for(type)->build();
		unsigned char *der = NULL, *red = NULL;
		size_t len = 0, rlen = 0;
		cr_assert_eq(m2m_encode(&env, body, &der, &len), M2M_OK);
		cr_assert_eq(m2m_redact(der, len, &red, &rlen), 0, "%s is not copied", def->name);
		cr_assert_null(red);
		OPENSSL_free(der);
		free_body(type, body);
	}
}

/*
 * OTA and Alternative 3a: K, OPc and the OTA keys cross only inside the portTransfer's CMS
 * package (AuthEnvelopedData to B), and a secured packet only ciphered inside smsDeliver, so no
 * type of 91..98 is redacted: a tap copy is the message itself.
 */
Test(redact, ota_and_port_messages_are_published_as_they_are)
{
	published_as_they_are(M2M_MSG_SMS_DELIVER, M2M_MSG_PORT_COMPLETE_ACK);
}

/*
 * Alternative 3b: UiccCredential (K, OPc, the OTA keys) is only ever the content of the CMS
 * AuthEnvelopedData to the card's certificate in UiccCredentialPackage.package; no body of
 * 99..108 holds it or another secret in clear (nonces, certificates, signed objects, IMSIs), so
 * none is redacted.
 */
Test(redact, uicc_change_messages_are_published_as_they_are)
{
	published_as_they_are(M2M_MSG_TRE_TRIGGER, M2M_MSG_UICC_RELEASE_ACK);
}

/* ---- NumericString: m2m_digits ------------------------------------------------------------ */

/* m2m_digits on a NumericString holding n bytes of text; buf gets the digits. */
static int digits_of(const char *text, size_t n, size_t min, size_t max, char *buf, size_t buflen)
{
	ASN1_STRING *s = ASN1_STRING_type_new(V_ASN1_NUMERICSTRING);
	cr_assert(s && ASN1_STRING_set(s, text, (int)n));
	int rc = m2m_digits(s, buf, buflen, min, max);
	ASN1_STRING_free(s);
	return rc;
}

static void accepts(const char *text, size_t min, size_t max)
{
	char buf[32];
	cr_assert_eq(digits_of(text, strlen(text), min, max, buf, sizeof buf), 0, "\"%s\" in %zu..%zu", text, min,
		     max);
	cr_assert_str_eq(buf, text);
}

static void refuses(const char *text, size_t min, size_t max)
{
	char buf[32];
	cr_assert_eq(digits_of(text, strlen(text), min, max, buf, sizeof buf), -1, "\"%s\" in %zu..%zu", text, min,
		     max);
}

Test(digits, accepts_imsi_imei_and_iccid)
{
	accepts(TEST_IMSI, 6, 15);
	accepts("001010", 6, 15);  /* Imsi (SIZE (6..15)): both ends */
	accepts("00101000000000", 14, 16);
	accepts(TEST_IMEI, 14, 16);
	accepts("3569380356438091", 14, 16);  /* IMEISV */
	accepts(TEST_ICCID, 18, 20);
}

Test(digits, refuses_anything_but_digits)
{
	refuses("00101000000000a", 6, 15);
	refuses("A01010000000001", 6, 15);
	refuses("001010 00000001", 6, 15);
	refuses("+00101000000001", 6, 15);
	refuses("-0010100000001", 6, 15);
	refuses("00101.000000001", 6, 15);
}

Test(digits, refuses_too_short_or_too_long)
{
	refuses("00101", 6, 15);
	refuses("0010100000000012", 6, 15);
	refuses("", 6, 15);
	refuses("3569380356438", 14, 16);
	refuses("35693803564380911", 14, 16);
}

Test(digits, refuses_nul_a_small_buffer_and_an_absent_string)
{
	char buf[32];
	cr_assert_eq(digits_of("00101\0" "000000001", 15, 6, 15, buf, sizeof buf), -1, "an embedded NUL");
	cr_assert_eq(digits_of(TEST_IMSI, 15, 6, 15, buf, 15), -1, "no room for the terminating NUL");
	cr_assert_eq(digits_of(TEST_IMSI, 15, 6, 15, buf, 16), 0);
	cr_assert_eq(m2m_digits(NULL, buf, sizeof buf, 6, 15), -1, "an absent OPTIONAL field");
}

Test(digits, set_digits_makes_a_numericstring)
{
	ASN1_STRING *s = NULL;
	cr_assert_eq(m2m_set_digits(&s, TEST_IMSI), 0);
	cr_assert(s, "an absent field is allocated");
	cr_assert_eq(ASN1_STRING_type(s), V_ASN1_NUMERICSTRING);
	ASN1_STRING *same = s;
	cr_assert_eq(m2m_set_digits(&s, TEST_IMEI), 0);
	cr_assert_eq(s, same, "a present field is overwritten in place");
	char buf[20];
	cr_assert_eq(m2m_digits(s, buf, sizeof buf, 14, 16), 0);
	cr_assert_str_eq(buf, TEST_IMEI);
	ASN1_STRING_free(s);
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
	{M2M_MSG_CARD_RESET, ""},
	{M2M_MSG_ATTACH_REQUEST, "imsi=001010000000001 imei=356938035643809 apn=m2m.meter"},
	{M2M_MSG_AUTH_FAILURE, "attachId=a0a1a2a3a4a5a6a7 cause=1 auts=c0c1c2c3c4c5c6c7c8c9cacbcccd"},
	{M2M_MSG_AUTH_INFO_REQUEST, "imsi=001010000000001 servingNetwork=mno-v numVectors=1 "
				    "resync={rand=101112131415161718191a1b1c1d1e1f auts=c0c1c2c3c4c5c6c7c8c9cacbcccd}"},
	{M2M_MSG_UPDATE_LOCATION_ACK, "allowedApns=[m2m.meter, m2m.backup, internet] csAllowed=true "
				      "imeiLock=356938035643809"},
	{M2M_MSG_DEVICE_CONTROL, "action=8 card=uicc-2 imei=4901542032375181 network=mno-v apn=m2m.meter "
				 "data=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f..."},
	{M2M_MSG_DEVICE_STATUS, "powered=true imei=356938035643809 card=uicc-1 iccid=8900101000000000019 "
				"imsi=001010000000001 attachedTo=mno-v echo=6b57683d3432"},
	{M2M_MSG_ENROL_REQUEST, "csr=303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f... "
				"authorisation=a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf... "
				"profile=5 platform={model=acme-tre version=2.1 assuranceLevel=7}"},
	{M2M_MSG_ENROL_RESPONSE, "certificate=303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f... "
				 "chain=[404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f..., "
				 "505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f...]"},
	{M2M_MSG_VALIDATION_REQUEST, "tre=tre-1 mode=2 minAssurance=3"},
	{M2M_MSG_VALIDATION_STATUS, "tre=tre-1 result=0 validatedAt=20250102030405Z validUntil=20250102040405Z"},
	{M2M_MSG_TRE_CONTROL, "action=2 component=modem-fw "
			      "content=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f..."},
	{M2M_MSG_TRE_STATUS, "tre=tre-1 booted=true secureBootOk=false tamper=c0 pendingReports=2 enrolled=true provisioning=9"},
	{M2M_MSG_ATTESTATION_CHALLENGE, "nonce=d0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef mode=1"},
	{M2M_MSG_SMS_DELIVER, "imsi=001010000000001 tpdu=101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f..."},
	{M2M_MSG_PORT_REQUEST, "portId=a0a1a2a3a4a5a6a7a8a9aaabacadaeaf "
			       "authorisation=303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f... "
			       "devices=[{iccid=8900101000000000019 newImsi=001020000000101}, "
			       "{iccid=8900101000000000027 newImsi=001020000000102}] "
			       "certificate=505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f..."},
	{M2M_MSG_PORT_RESPONSE, "portId=a0a1a2a3a4a5a6a7a8a9aaabacadaeaf accepted=10000"},
	{M2M_MSG_PORT_COMPLETE_ACK, "portId=a0a1a2a3a4a5a6a7a8a9aaabacadaeaf iccid=8900101000000000019 "
				    "receipt=303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f..."},
	{M2M_MSG_TRE_TRIGGER, "imsi=001010000000001 "
			      "trigger={cms=303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f...}"},
	{M2M_MSG_UICC_CREDENTIAL_PACKAGE, "changeId=808182838485868788898a8b8c8d8e8f sho=mno-b imsi=001020000000101 "
					  "package=303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f..."},
	{M2M_MSG_UICC_RELEASE, "changeId=808182838485868788898a8b8c8d8e8f iccid=8900101000000000019 "
			       "imsi=001010000000001"},
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
	cr_assert_str_eq(s, renderings[*i].want, "%s: %s", m2m_msgtype_name(renderings[*i].type), s);
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
	sk_M2M_PEER_REACHABILITY_push(r, reachability("drf-1", 0, 5, 98));
	char *s = m2m_body_summary(M2M_MSG_PING_PEERS_RESPONSE, r);
	cr_assert_str_eq(s, "[{peer=drf-1 reachable=false roundTripMicros=5 reason=98}]");
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

Test(summary, minimal_bodies_leave_absent_fields_out)
{
	static const char *const want[] = {
		"attachId=a0a1a2a3a4a5a6a7 cause=0",
		"imsi=001010000000001 servingNetwork=mno-v numVectors=5",
		"allowedApns=[m2m.meter] csAllowed=false",
		"action=0",
		"powered=false imei=356938035643809",
		"csr=303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f... "
		"authorisation=a0a1a2a3a4a5a6a7a8a9aaabacadaeaf profile=0",
		"tre=tre-1 result=3",
		"action=0",
		"kind=0",
		"auts=e0e1e2e3e4e5e6e7e8e9eaebeced",
		"",
		"state=4",
		"imsi=001010000000001 result=0",
		"",
	};
	cr_assert_eq(sizeof want / sizeof want[0], sizeof minimal_cases / sizeof minimal_cases[0]);
	for (size_t i = 0; i < sizeof minimal_cases / sizeof minimal_cases[0]; i++) {
		void *body = minimal_cases[i].build();
		char *s = m2m_body_summary(minimal_cases[i].type, body);
		free_body(minimal_cases[i].type, body);
		cr_assert(s && !strcmp(s, want[i]), "%s: %s", m2m_msgtype_name(minimal_cases[i].type), s);
		free(s);
	}
}

/* What the testbed's recorder prints for a tap copy: the summary of the redacted body. */
static char *redacted_summary(int type, const void *body)
{
	m2m_envelope out;
	redacted(type, body, &out);
	char *s = m2m_body_summary(type, out.body);
	m2m_envelope_clear(&out);
	cr_assert(s);
	return s;
}

/* Whether the hex of s (all of it: the secrets here are at most 16 bytes) is in the line. */
static int shows(const char *line, const ASN1_STRING *s)
{
	char hex[2 * 32 + 1];
	size_t n = (size_t)ASN1_STRING_length(s);
	cr_assert_leq(n, 32);
	m2m_hex(ASN1_STRING_get0_data(s), n, hex);
	return strstr(line, hex) != NULL;
}

Test(summary, redacted_auth_info_response_shows_no_secret)
{
	M2M_AUTH_INFO_RESPONSE *r = build_auth_info_response();
	char *s = redacted_summary(M2M_MSG_AUTH_INFO_RESPONSE, r);
	for (int i = 0; i < sk_M2M_AUTH_VECTOR_num(r); i++) {
		const M2M_AUTH_VECTOR *v = sk_M2M_AUTH_VECTOR_value(r, i);
		cr_assert(shows(s, v->rand) && shows(s, v->autn), "RAND and AUTN are public: %s", s);
		cr_assert(!shows(s, v->xres) && !shows(s, v->ck) && !shows(s, v->ik) && !shows(s, v->kc),
			  "vector %d: a secret is in the trace line: %s", i, s);
	}
	cr_assert(strstr(s, " xres=0000000000000000 ") && strstr(s, " xres=00000000 "), "XRES keeps its length: %s", s);
	cr_assert(strstr(s, " ck=00000000000000000000000000000000 ik=00000000000000000000000000000000 "
			    "kc=0000000000000000}"),
		  "%s", s);
	free(s);
	free_body(M2M_MSG_AUTH_INFO_RESPONSE, r);
}

Test(summary, redacted_apdu_response_shows_no_secret)
{
	unsigned char data[53];
	M2M_APDU_RESPONSE *r = apdu_response(data, authenticate_3g(data), 0x9000);
	char *s = redacted_summary(M2M_MSG_APDU_RESPONSE, r);
	cr_assert_str_eq(s, "data=0000000000000000000000000000000000000000000000000000000000000000... statusWord=36864");
	free(s);
	M2M_APDU_RESPONSE_free(r);
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

/* ---- a bare body: m2m_decode_body -------------------------------------------------------- */

Test(body, bare_body_decodes_as_strictly_as_in_an_envelope)
{
	M2M_INSTALL_ACK *a = build_install_ack();
	unsigned char *der = NULL;
	int n = i2d_M2M_INSTALL_ACK(a, &der);
	cr_assert_gt(n, 0);
	void *body = NULL;
	cr_assert_eq(m2m_decode_body(M2M_MSG_INSTALL_ACK, der, (size_t)n, &body), M2M_OK);
	check_install_ack(a, body);
	M2M_INSTALL_ACK_free(body);
	cr_assert_eq(m2m_decode_body(M2M_MSG_INSTALL_ACK, der, (size_t)n - 1, &body), M2M_R_BAD_BODY, "truncated");
	cr_assert_null(body);
	cr_assert_eq(m2m_decode_body(M2M_MSG_VALIDATION_STATUS_REQUEST, der, (size_t)n, &body), M2M_R_BAD_BODY,
		     "the body of a type of another shape");
	cr_assert_eq(m2m_decode_body(999, der, (size_t)n, &body), M2M_R_UNKNOWN_MESSAGE_TYPE);
	/* the same SEQUENCE with a non-minimal length: BER, not DER */
	unsigned char ber[64] = {0x30, 0x81, (unsigned char)(n - 2)};
	memcpy(ber + 3, der + 2, (size_t)n - 2);
	cr_assert_eq(m2m_decode_body(M2M_MSG_INSTALL_ACK, ber, (size_t)n + 1, &body), M2M_R_NOT_DER);
	cr_assert_null(body);
	OPENSSL_free(der);
	M2M_INSTALL_ACK_free(a);
}
