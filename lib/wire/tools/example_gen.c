/*
 * m2m-wire-examples: one example envelope per registered message type (one per hop for a
 * message forwarded unchanged: smsDeliver, treTrigger and its treTriggerAck), as produced by
 * m2m_encode, for docs/protocol.md and the fuzzer's seed corpus.
 *
 *   m2m-wire-examples      prints "TYPE NAME HEX" and a "# summary: ..." line per message type,
 *                          and for a type with SECRET fields "# redacted: HEX" (the copy a tap
 *                          publishes, m2m_redact) and "# redacted summary: ..." (its trace line)
 *   m2m-wire-examples DIR  also writes DIR/NN-NAME.der per type (NN-NAME-2.der for its second
 *                          example, and so on) and DIR/bad-*.der, a few malformed variants
 *                          (byte edits of the encoder's output); creates DIR
 *
 * The Alternative 2 examples use the subscriber of TS 35.208 test set 1, and every value derived
 * from it (vector, Kc, AUTS, user-plane ciphertext) is computed with lib/aka, not written in, so
 * the examples agree with each other and with the specification.
 *
 * Exit status 1 if a registered type has no example here, so a new type is not forgotten.
 */
#include "aka/aka.h"
#include "aka/gsm.h"
#include "aka/session.h"
#include "crypto/crypto.h"
#include "wire/wire.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_TYPE 127

static const uint8_t example_txid[M2M_TXID_LEN] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
						   0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
static const unsigned char example_nonce[8] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};

static void die(const char *what)
{
	fprintf(stderr, "m2m-wire-examples: %s\n", what);
	exit(1);
}

static ASN1_UTF8STRING *utf8(const char *text)
{
	ASN1_UTF8STRING *s = ASN1_UTF8STRING_new();
	if (!s || m2m_set_str(s, text))
		die("out of memory");
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

/* healthRequest, cardReset, detachAccept, purgeAck, cancelLocationAck */
static void *make_null(void)
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

/* ---- the subscriber of the Alternative 2 examples: TS 35.208 test set 1 ----------------- */

#define EXAMPLE_IMSI "001010000000001"
#define EXAMPLE_IMEI "356938035643809"
#define EXAMPLE_ICCID "8900101000000000019"
#define EXAMPLE_APN "m2m.meter"
/* What the device sends once attached, and gets back decrypted from the echo. */
#define EXAMPLE_READING "meter 42: 1234.5 kWh"
#define EXAMPLE_COUNTER 1

/* Chosen by the visited operator (8 random bytes in a real run). */
static const uint8_t example_attach_id[8] = {0x9c, 0x21, 0x4e, 0x07, 0xd3, 0x58, 0xaa, 0x16};
static const uint8_t example_session_id[8] = {0x6d, 0x1f, 0x3a, 0x90, 0x2c, 0xe4, 0x07, 0xb5};

typedef struct example_auth {
	m2m_aka_av av;            /* RAND, XRES, CK, IK, AUTN */
	uint8_t kc[8];            /* c3(CK, IK), the GSM context */
	uint8_t auts[14];         /* the card's answer when the same challenge is replayed */
	uint8_t session_key[32];  /* the user-plane key of example_session_id */
} example_auth;

static void unhex_or_die(const char *hex, uint8_t *out, size_t len)
{
	if (m2m_unhex(hex, out, len))
		die("bad hex constant");
}

/* K, OPc, RAND, SQN and AMF of TS 35.208 test set 1; everything else follows from them. */
static const example_auth *auth(void)
{
	static example_auth a;
	static int done;
	if (done)
		return &a;
	uint8_t k[16], opc[16], rand[16], amf[2];
	unhex_or_die("465b5ce8b199b49faa5f0a2ee238a6bc", k, sizeof k);
	unhex_or_die("cd63cb71954a9f4e48a5994e37a02baf", opc, sizeof opc);
	unhex_or_die("23553cbe9637a89d218ae64dae47bf35", rand, sizeof rand);
	unhex_or_die("b9b9", amf, sizeof amf);
	const uint64_t sqn = UINT64_C(0xff9bb4d0b607);
	m2m_milenage m;
	if (m2m_milenage_init(&m, k, opc))
		die("MILENAGE failed");
	/* a replayed challenge carries an SQN the card has accepted already: it reports that SQN */
	int failed = m2m_aka_av_build(&m, rand, sqn, amf, &a.av) || m2m_aka_auts_build(&m, rand, sqn, a.auts);
	m2m_milenage_clear(&m);
	m2m_gsm_c3(a.av.ck, a.av.ik, a.kc);
	if (failed || m2m_session_key(a.av.ck, a.av.ik, example_session_id, a.session_key))
		die("MILENAGE failed");
	done = 1;
	return &a;
}

static void set_octets(ASN1_OCTET_STRING *s, const uint8_t *b, size_t n)
{
	if (!ASN1_OCTET_STRING_set(s, b, (int)n))
		die("out of memory");
}

/* For an OPTIONAL field, which the template's _new leaves absent. */
static ASN1_OCTET_STRING *octets(const uint8_t *b, size_t n)
{
	ASN1_OCTET_STRING *s = ASN1_OCTET_STRING_new();
	if (!s)
		die("out of memory");
	set_octets(s, b, n);
	return s;
}

static void set_digits(ASN1_STRING **s, const char *digits)
{
	if (m2m_set_digits(s, digits))
		die("out of memory");
}

/* ---- UICC ---- */

/* AUTHENTICATE in the 3G context (TS 31.102 7.1.2): 00 88 00 81 Lc | 10 RAND | 10 AUTN | Le */
static void *make_apdu_command(void)
{
	const example_auth *a = auth();
	uint8_t apdu[40] = {0x00, 0x88, 0x00, 0x81, 0x22, 0x10};
	memcpy(apdu + 6, a->av.rand, 16);
	apdu[22] = 0x10;
	memcpy(apdu + 23, a->av.autn, 16);
	apdu[39] = 0x00;
	M2M_APDU_COMMAND *c = M2M_APDU_COMMAND_new();
	set_octets(c->apdu, apdu, sizeof apdu);
	return c;
}

static size_t put_lv(uint8_t *b, size_t at, const uint8_t *v, size_t n)
{
	b[at] = (uint8_t)n;
	memcpy(b + at + 1, v, n);
	return at + 1 + n;
}

/* Its answer, successful: DB | 08 RES | 10 CK | 10 IK | 08 Kc, status 90 00 */
static void *make_apdu_response(void)
{
	const example_auth *a = auth();
	uint8_t data[53] = {0xdb};
	size_t n = put_lv(data, 1, a->av.xres, 8);
	n = put_lv(data, n, a->av.ck, 16);
	n = put_lv(data, n, a->av.ik, 16);
	n = put_lv(data, n, a->kc, 8);
	M2M_APDU_RESPONSE *r = M2M_APDU_RESPONSE_new();
	set_octets(r->data, data, n);
	r->status_word = 0x9000;
	return r;
}

/* The ATR of the testbed's card (uicc/card.c): TS 3B, T0 97 (TA1 and TD1, 7 historical bytes),
 * TA1 96, TD1 80, TD2 1F (T=15), TA3 C7, the historical bytes 80 31 E0 73 FE 21 00, TCK A4. */
static void *make_card_atr(void)
{
	static const uint8_t atr[] = {0x3b, 0x97, 0x96, 0x80, 0x1f, 0xc7, 0x80,
				      0x31, 0xe0, 0x73, 0xfe, 0x21, 0x00, 0xa4};
	M2M_CARD_ATR *c = M2M_CARD_ATR_new();
	set_octets(c->atr, atr, sizeof atr);
	return c;
}

/* ---- attach through the visited operator ---- */

static void *make_attach_request(void)
{
	M2M_ATTACH_REQUEST *r = M2M_ATTACH_REQUEST_new();
	set_digits(&r->imsi, EXAMPLE_IMSI);
	set_digits(&r->imei, EXAMPLE_IMEI);
	m2m_set_str(r->apn, EXAMPLE_APN);
	return r;
}

static void *make_auth_challenge(void)
{
	const example_auth *a = auth();
	M2M_AUTH_CHALLENGE *c = M2M_AUTH_CHALLENGE_new();
	set_octets(c->attach_id, example_attach_id, sizeof example_attach_id);
	set_octets(c->rand, a->av.rand, 16);
	set_octets(c->autn, a->av.autn, 16);
	return c;
}

static void *make_auth_response(void)
{
	M2M_AUTH_RESPONSE *r = M2M_AUTH_RESPONSE_new();
	set_octets(r->attach_id, example_attach_id, sizeof example_attach_id);
	set_octets(r->res, auth()->av.xres, 8);
	return r;
}

/* The sync failure of a replayed challenge (the one case that carries the OPTIONAL auts). */
static void *make_auth_failure(void)
{
	M2M_AUTH_FAILURE *f = M2M_AUTH_FAILURE_new();
	set_octets(f->attach_id, example_attach_id, sizeof example_attach_id);
	ASN1_ENUMERATED_set(f->cause, M2M_AUTH_SYNCH_FAILURE);
	f->auts = octets(auth()->auts, 14);
	return f;
}

static void *make_attach_accept(void)
{
	M2M_ATTACH_ACCEPT *a = M2M_ATTACH_ACCEPT_new();
	set_octets(a->session_id, example_session_id, sizeof example_session_id);
	m2m_set_str(a->apn, EXAMPLE_APN);
	return a;
}

static void *make_detach_request(void)
{
	M2M_DETACH_REQUEST *d = M2M_DETACH_REQUEST_new();
	set_octets(d->session_id, example_session_id, sizeof example_session_id);
	return d;
}

/* EXAMPLE_READING sealed under the session key, uplink or downlink (the echo). */
static void *protected_reading(m2m_direction dir)
{
	uint8_t sealed[sizeof EXAMPLE_READING - 1 + M2M_SESSION_TAG_LEN];
	if (m2m_session_seal(auth()->session_key, example_session_id, dir, EXAMPLE_COUNTER,
			     (const uint8_t *)EXAMPLE_READING, sizeof EXAMPLE_READING - 1, sealed))
		die("sealing failed");
	M2M_PROTECTED_DATA *p = M2M_PROTECTED_DATA_new();
	set_octets(p->session_id, example_session_id, sizeof example_session_id);
	p->counter = EXAMPLE_COUNTER;
	set_octets(p->sealed, sealed, sizeof sealed);
	return p;
}

static void *make_protected_data(void)
{
	return protected_reading(M2M_UPLINK);
}

static void *make_protected_data_echo(void)
{
	return protected_reading(M2M_DOWNLINK);
}

/* ---- visited operator <-> home operator ---- */

/* The request that follows the sync failure above (the one case with the OPTIONAL resync). */
static void *make_auth_info_request(void)
{
	const example_auth *a = auth();
	M2M_AUTH_INFO_REQUEST *r = M2M_AUTH_INFO_REQUEST_new();
	set_digits(&r->imsi, EXAMPLE_IMSI);
	m2m_set_str(r->serving_network, "mno-v");
	r->num_vectors = 1;
	r->resync = M2M_RESYNC_new();
	set_octets(r->resync->rand, a->av.rand, 16);
	set_octets(r->resync->auts, a->auts, 14);
	return r;
}

static void *make_auth_info_response(void)
{
	const example_auth *a = auth();
	M2M_AUTH_VECTOR *v = M2M_AUTH_VECTOR_new();
	set_octets(v->rand, a->av.rand, 16);
	set_octets(v->xres, a->av.xres, 8);
	set_octets(v->autn, a->av.autn, 16);
	set_octets(v->ck, a->av.ck, 16);
	set_octets(v->ik, a->av.ik, 16);
	set_octets(v->kc, a->kc, 8);
	M2M_AUTH_INFO_RESPONSE *s = sk_M2M_AUTH_VECTOR_new_null();
	sk_M2M_AUTH_VECTOR_push(s, v);
	return s;
}

static void *make_update_location(void)
{
	M2M_UPDATE_LOCATION *u = M2M_UPDATE_LOCATION_new();
	set_digits(&u->imsi, EXAMPLE_IMSI);
	set_digits(&u->imei, EXAMPLE_IMEI);
	m2m_set_str(u->serving_network, "mno-v");
	return u;
}

/* card uicc-1's profile (testbed/topology.conf) with a second APN: no CS, locked to the IMEI */
static void *make_subscription_profile(void)
{
	M2M_SUBSCRIPTION_PROFILE *p = M2M_SUBSCRIPTION_PROFILE_new();
	sk_ASN1_UTF8STRING_push(p->allowed_apns, utf8(EXAMPLE_APN));
	sk_ASN1_UTF8STRING_push(p->allowed_apns, utf8("m2m.firmware"));
	p->cs_allowed = 0;  /* not OPTIONAL: the template's default -1 would leave it out */
	set_digits(&p->imei_lock, EXAMPLE_IMEI);
	return p;
}

static void *make_purge(void)
{
	M2M_PURGE *p = M2M_PURGE_new();
	set_digits(&p->imsi, EXAMPLE_IMSI);
	m2m_set_str(p->serving_network, "mno-v");
	return p;
}

static void *make_cancel_location(void)
{
	M2M_CANCEL_LOCATION *c = M2M_CANCEL_LOCATION_new();
	set_digits(&c->imsi, EXAMPLE_IMSI);
	ASN1_ENUMERATED_set(c->cause, M2M_CANCEL_ATTACHED_ELSEWHERE);
	return c;
}

/* ---- the testbed's hands on the device ---- */

static void *make_device_control(void)
{
	M2M_DEVICE_CONTROL *c = M2M_DEVICE_CONTROL_new();
	ASN1_ENUMERATED_set(c->action, M2M_DEV_SEND_DATA);
	c->data = octets((const uint8_t *)EXAMPLE_READING, sizeof EXAMPLE_READING - 1);
	return c;
}

/* The answer to that sendData: attached, with the echo decrypted */
static void *make_device_status(void)
{
	M2M_DEVICE_STATUS *s = M2M_DEVICE_STATUS_new();
	s->powered = 0xff;
	set_digits(&s->imei, EXAMPLE_IMEI);
	s->card = utf8("uicc-1");
	set_digits(&s->iccid, EXAMPLE_ICCID);
	set_digits(&s->imsi, EXAMPLE_IMSI);
	s->attached_to = utf8("mno-v");
	s->echo = octets((const uint8_t *)EXAMPLE_READING, sizeof EXAMPLE_READING - 1);
	return s;
}

/* ---- certification agency and platform validation (types 40 to 55) ---- */

/*
 * Certificates, CRLs and CMS SignedData are hundreds of bytes of DER signed with fresh keys, so
 * the examples carry a short placeholder in their place (its text says what it stands for);
 * docs/pki.md shows how to get and check real ones. Every other value is what a run would send.
 */
#define EXAMPLE_MODEL "acme-tre"
#define EXAMPLE_VERSION "2.1"
#define EXAMPLE_TIME "20250102030405Z"
#define EXAMPLE_UNTIL "20250102031405Z"  /* ten minutes later: the PVA's default verdict validity */

static ASN1_OCTET_STRING *placeholder(ASN1_OCTET_STRING *s, const char *what)
{
	set_octets(s, (const uint8_t *)what, strlen(what));
	return s;
}

/* SHA-256 of text: the example nonces and component digests are computed, not made up. */
static void sha256_of(const char *text, uint8_t out[32])
{
	if (!EVP_Digest(text, strlen(text), out, NULL, EVP_sha256(), NULL))
		die("SHA-256 failed");
}

static void set_sha256(ASN1_OCTET_STRING *s, const char *text)
{
	uint8_t d[32];
	sha256_of(text, d);
	set_octets(s, d, sizeof d);
}

static void set_text(ASN1_UTF8STRING *s, const char *text)
{
	if (m2m_set_str(s, text))
		die("out of memory");
}

static void set_enum(ASN1_ENUMERATED *e, long v)
{
	if (!ASN1_ENUMERATED_set(e, v))
		die("out of memory");
}

static void set_time(ASN1_GENERALIZEDTIME *t, const char *text)
{
	if (!ASN1_GENERALIZEDTIME_set_string(t, text))
		die("bad time constant");
}

/* The secret and CSR a TRE sends (profile tre, with the platform it claims). */
static void *make_enrol_request(void)
{
	M2M_ENROL_REQUEST *r = M2M_ENROL_REQUEST_new();
	static const uint8_t secret[16] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
					   0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
	placeholder(r->csr, "<PKCS#10 request of tre-1>");
	set_octets(r->authorisation, secret, sizeof secret);
	set_enum(r->profile, M2M_PROFILE_TRE);
	r->platform = M2M_TRE_PLATFORM_new();
	set_text(r->platform->model, EXAMPLE_MODEL);
	set_text(r->platform->version, EXAMPLE_VERSION);
	r->platform->assurance_level = 4;
	return r;
}

static void *make_enrol_response(void)
{
	M2M_ENROL_RESPONSE *r = M2M_ENROL_RESPONSE_new();
	placeholder(r->certificate, "<certificate of tre-1>");
	sk_ASN1_OCTET_STRING_push(r->chain, placeholder(ASN1_OCTET_STRING_new(), "<issuing CA>"));
	sk_ASN1_OCTET_STRING_push(r->chain, placeholder(ASN1_OCTET_STRING_new(), "<root CA>"));
	return r;
}

static void *make_crl_response(void)
{
	M2M_CRL_RESPONSE *r = M2M_CRL_RESPONSE_new();
	placeholder(r->crl, "<CRL of the issuing CA>");
	return r;
}

static void *make_platform_type_request(void)
{
	M2M_PLATFORM_TYPE_REQUEST *r = M2M_PLATFORM_TYPE_REQUEST_new();
	set_text(r->model, EXAMPLE_MODEL);
	set_text(r->version, EXAMPLE_VERSION);
	return r;
}

static void *signed_object(const char *what)
{
	M2M_SIGNED_OBJECT *o = M2M_SIGNED_OBJECT_new();
	placeholder(o->cms, what);
	return o;
}

static void *make_platform_type_response(void)
{
	return signed_object("<SignedData over PlatformType, by certauth>");
}

static void *make_validation_request(void)
{
	M2M_VALIDATION_REQUEST *r = M2M_VALIDATION_REQUEST_new();
	set_text(r->tre, "tre-1");
	set_enum(r->mode, M2M_MODE_REMOTE);
	r->min_assurance = 3;
	return r;
}

static void *make_validation_response(void)
{
	return signed_object("<SignedData over Verdict, by certauth>");
}

static void *make_attestation_challenge(void)
{
	M2M_ATTESTATION_CHALLENGE *c = M2M_ATTESTATION_CHALLENGE_new();
	set_sha256(c->nonce, "example nonce");
	set_enum(c->mode, M2M_MODE_REMOTE);
	return c;
}

static void *make_attestation_evidence(void)
{
	return signed_object("<SignedData over Evidence, by tre-1>");
}

static void *make_tamper_report(void)
{
	return signed_object("<SignedData over TamperReport, by tre-1>");
}

static void *make_tamper_ack(void)
{
	static const uint8_t report_id[16] = {0x5a, 0x10, 0xc3, 0x7e, 0x02, 0x9b, 0x44, 0xd1,
					      0x8f, 0x26, 0x71, 0xe0, 0x3d, 0xb8, 0x06, 0x95};
	M2M_TAMPER_ACK *a = M2M_TAMPER_ACK_new();
	set_octets(a->report_id, report_id, sizeof report_id);
	return a;
}

static void *make_validation_status_request(void)
{
	M2M_VALIDATION_STATUS_REQUEST *r = M2M_VALIDATION_STATUS_REQUEST_new();
	set_text(r->tre, "tre-1");
	return r;
}

static void *make_validation_status(void)
{
	M2M_VALIDATION_STATUS *v = M2M_VALIDATION_STATUS_new();
	set_text(v->tre, "tre-1");
	set_enum(v->result, M2M_VERDICT_OK);
	v->validated_at = ASN1_GENERALIZEDTIME_new();
	v->valid_until = ASN1_GENERALIZEDTIME_new();
	if (!v->validated_at || !v->valid_until)
		die("out of memory");
	set_time(v->validated_at, EXAMPLE_TIME);
	set_time(v->valid_until, EXAMPLE_UNTIL);
	return v;
}

/* The testbed modifies the modem firmware: the next boot measures another digest. */
static void *make_tre_control(void)
{
	M2M_TRE_CONTROL *c = M2M_TRE_CONTROL_new();
	set_enum(c->action, M2M_TRE_CTL_MODIFY_COMPONENT);
	c->component = utf8("modem-fw");
	c->content = octets((const uint8_t *)"modem-fw 2.1 image, patched", 27);
	return c;
}

/* After that boot: booted, a component did not match, the report not yet acknowledged. */
static void *make_tre_status(void)
{
	M2M_TRE_STATUS *s = M2M_TRE_STATUS_new();
	set_text(s->tre, "tre-1");
	s->booted = 0xff;
	if (!ASN1_BIT_STRING_set_bit(s->tamper, M2M_TAMPER_COMPONENT_MODIFIED, 1))
		die("out of memory");
	s->pending_reports = 1;
	s->enrolled = 0xff;
	return s;
}

/* ---- Alternative 1a ---- */

/* The device of scenario 1a: tre-3 in m2me-3, a PCID from the registration operator's range. */
#define EXAMPLE_PCID "001090000000001"
#define EXAMPLE_IMEI "356938035643809"
static const uint8_t example_mcim_id[16] = {0x4d, 0x43, 0x49, 0x4d, 0x2d, 0x41, 0x2d, 0x30,
					    0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x31};

static M2M_RELAY_STEP *relay_step_of(const char *destination, int type, void *body)
{
	M2M_RELAY_STEP *s = M2M_RELAY_STEP_new();
	unsigned char *der = NULL;
	int n = s ? ASN1_item_i2d(body, &der, m2m_msgdef_find(type)->item()) : -1;
	if (n <= 0)
		die("cannot encode a relayed body");
	set_text(s->destination, destination);
	s->message_type = type;
	set_octets(s->body, der, (size_t)n);
	OPENSSL_free(der);
	ASN1_item_free(body, m2m_msgdef_find(type)->item());
	return s;
}

static void *make_relay_request(void)
{
	M2M_RELAY_REQUEST *r = M2M_RELAY_REQUEST_new();
	set_octets(r->session_id, example_session_id, sizeof example_session_id);
	M2M_RELAY_STEP_free(r->step);
	r->step = relay_step_of("drf", M2M_MSG_DISCOVERY_REQUEST,
				signed_object("<SignedData over DiscoveryRequest, by tre-3>"));
	return r;
}

static void *make_relay_response(void)
{
	M2M_RELAY_RESPONSE *r = M2M_RELAY_RESPONSE_new();
	M2M_SIGNED_OBJECT *o = signed_object("<SignedData over RegistrationTicket, by drf>");
	unsigned char *der = NULL;
	int n = i2d_M2M_SIGNED_OBJECT(o, &der);
	if (n <= 0)
		die("cannot encode a relayed body");
	r->message_type = M2M_MSG_DISCOVERY_RESPONSE;
	set_octets(r->body, der, (size_t)n);
	OPENSSL_free(der);
	M2M_SIGNED_OBJECT_free(o);
	return r;
}

static void *make_discovery_request(void)
{
	return signed_object("<SignedData over DiscoveryRequest, by tre-3>");
}

static void *make_discovery_response(void)
{
	return signed_object("<SignedData over RegistrationTicket, by drf>");
}

static void *make_mcim_request(void)
{
	return signed_object("<SignedData over McimOrder, by tre-3>");
}

static void *make_mcim_package(void)
{
	M2M_MCIM_PACKAGE *p = M2M_MCIM_PACKAGE_new();
	set_octets(p->mcim_id, example_mcim_id, sizeof example_mcim_id);
	placeholder(p->package, "<AuthEnvelopedData to tre-3 around SignedData over Mcim, by mno-a>");
	return p;
}

static void *make_install_result(void)
{
	return signed_object("<SignedData over InstallResult, by tre-3>");
}

static void *make_install_ack(void)
{
	M2M_INSTALL_ACK *a = M2M_INSTALL_ACK_new();
	set_octets(a->mcim_id, example_mcim_id, sizeof example_mcim_id);
	return a;
}

static M2M_REGISTRATION *registration(const char *imei, const char *tre, const char *sho)
{
	M2M_REGISTRATION *r = M2M_REGISTRATION_new();
	set_digits(&r->m2me, imei);
	set_text(r->tre, tre);
	set_text(r->sho, sho);
	set_text(r->dpf, sho);
	return r;
}

static void *make_registration_request(void)
{
	M2M_REGISTRATION_REQUEST *q = sk_M2M_REGISTRATION_new_null();
	if (!q || !sk_M2M_REGISTRATION_push(q, registration(EXAMPLE_IMEI, "tre-3", "mno-a")))
		die("out of memory");
	return q;
}

static void *make_registration_response(void)
{
	M2M_REGISTRATION_RESPONSE *r = M2M_REGISTRATION_RESPONSE_new();
	r->registered = 1;
	return r;
}

static void *make_provisioned(void)
{
	M2M_PROVISIONED *p = M2M_PROVISIONED_new();
	set_text(p->tre, "tre-3");
	set_text(p->sho, "mno-a");
	set_octets(p->mcim_id, example_mcim_id, sizeof example_mcim_id);
	return p;
}

static void *make_pcid_assign_request(void)
{
	M2M_PCID_ASSIGN_REQUEST *q = M2M_PCID_ASSIGN_REQUEST_new();
	if (!sk_ASN1_UTF8STRING_push(q->tres, utf8("tre-3")))
		die("out of memory");
	return q;
}

/* K_pc and OPc_pc are those of TS 35.208 test set 1, as every example secret here. */
static void *make_pcid_assign_response(void)
{
	M2M_PCID_CREDENTIAL *c = M2M_PCID_CREDENTIAL_new();
	uint8_t k[16], opc[16];
	unhex_or_die("465b5ce8b199b49faa5f0a2ee238a6bc", k, sizeof k);
	unhex_or_die("cd63cb71954a9f4e48a5994e37a02baf", opc, sizeof opc);
	set_text(c->tre, "tre-3");
	set_digits(&c->pcid, EXAMPLE_PCID);
	set_octets(c->k, k, sizeof k);
	set_octets(c->opc, opc, sizeof opc);
	set_time(c->valid_until, EXAMPLE_UNTIL);
	M2M_PCID_ASSIGN_RESPONSE *r = sk_M2M_PCID_CREDENTIAL_new_null();
	if (!r || !sk_M2M_PCID_CREDENTIAL_push(r, c))
		die("out of memory");
	return r;
}

static void *make_tre_credential(void)
{
	M2M_TRE_CREDENTIAL *c = M2M_TRE_CREDENTIAL_new();
	set_enum(c->kind, M2M_CREDENTIAL_PCID);
	set_digits(&c->imsi, EXAMPLE_PCID);
	return c;
}

static void *make_tre_aka_request(void)
{
	const example_auth *a = auth();
	M2M_TRE_AKA_REQUEST *q = M2M_TRE_AKA_REQUEST_new();
	set_digits(&q->imsi, EXAMPLE_PCID);
	set_octets(q->rand, a->av.rand, sizeof a->av.rand);
	set_octets(q->autn, a->av.autn, sizeof a->av.autn);
	return q;
}

static void *make_tre_aka_response(void)
{
	const example_auth *a = auth();
	M2M_TRE_AKA_RESPONSE *r = M2M_TRE_AKA_RESPONSE_new();
	r->res = octets(a->av.xres, sizeof a->av.xres);
	r->ck = octets(a->av.ck, sizeof a->av.ck);
	r->ik = octets(a->av.ik, sizeof a->av.ik);
	return r;
}

/* The M2ME hands back the ticket the DRF answered. */
static void *make_tre_provision(void)
{
	M2M_TRE_PROVISION *p = M2M_TRE_PROVISION_new();
	p->answer = make_relay_response();
	return p;
}

/* The TRE names the next step: its signed order, to the ticket's DPF. */
static void *make_tre_provision_next(void)
{
	M2M_TRE_PROVISION_NEXT *n = M2M_TRE_PROVISION_NEXT_new();
	set_enum(n->state, M2M_PROV_ORDERING);
	n->step = relay_step_of("mno-a", M2M_MSG_MCIM_REQUEST, signed_object("<SignedData over McimOrder, by tre-3>"));
	return n;
}

static void *make_mcim_command(void)
{
	return signed_object("<SignedData over McimCommand, by mno-a>");
}

static void *make_mcim_receipt(void)
{
	return signed_object("<SignedData over McimReceipt, by tre-3>");
}

/* ---- change of subscription ---- */

static const uint8_t example_change_id[16] = {0x43, 0x48, 0x41, 0x4e, 0x47, 0x45, 0x2d, 0x41,
					      0x2d, 0x54, 0x4f, 0x2d, 0x42, 0x2d, 0x30, 0x31};

static void *make_change_request(void)
{
	static const uint8_t nonce[16] = {0x9e, 0x11, 0x62, 0x07, 0xc4, 0x3b, 0x58, 0xd0,
					  0x21, 0x7a, 0xe5, 0x0f, 0x96, 0x4c, 0xb3, 0x28};
	M2M_CHANGE_REQUEST *r = M2M_CHANGE_REQUEST_new();
	M2M_CHANGE_AUTHORISATION *a = r->authorisation->content;
	set_text(a->tre, "tre-3");
	set_digits(&a->m2me, EXAMPLE_IMEI);
	set_text(a->from_sho, "mno-a");
	set_text(a->to_sho, "mno-b");
	set_octets(a->nonce, nonce, sizeof nonce);
	set_time(a->issued_at, EXAMPLE_TIME);
	placeholder(r->authorisation->signature, "<ECDSA by the subscriber's key>");
	set_text(r->dpf, "mno-b");
	return r;
}

static void *make_change_response(void)
{
	M2M_CHANGE_RESPONSE *r = M2M_CHANGE_RESPONSE_new();
	set_octets(r->change_id, example_change_id, sizeof example_change_id);
	return r;
}

static void *make_change_notify(void)
{
	M2M_CHANGE_NOTIFY *n = M2M_CHANGE_NOTIFY_new();
	set_octets(n->change_id, example_change_id, sizeof example_change_id);
	set_text(n->tre, "tre-3");
	set_digits(&n->m2me, EXAMPLE_IMEI);
	set_text(n->to_sho, "mno-b");
	return n;
}

static void *make_change_consent(void)
{
	M2M_CHANGE_CONSENT *c = M2M_CHANGE_CONSENT_new();
	set_octets(c->change_id, example_change_id, sizeof example_change_id);
	c->mcim_id = octets(example_mcim_id, sizeof example_mcim_id);
	return c;
}

static void *make_change_complete(void)
{
	return signed_object("<SignedData over ChangeComplete, by tre-3>");
}

static void *make_change_ack(void)
{
	M2M_CHANGE_ACK *a = M2M_CHANGE_ACK_new();
	set_octets(a->change_id, example_change_id, sizeof example_change_id);
	return a;
}

static void *make_change_release(void)
{
	M2M_CHANGE_RELEASE *r = M2M_CHANGE_RELEASE_new();
	set_octets(r->change_id, example_change_id, sizeof example_change_id);
	set_text(r->tre, "tre-3");
	set_octets(r->mcim_id, example_mcim_id, sizeof example_mcim_id);
	return r;
}

/* The M2ME attached with MCIM B: the TRE commits the switch. */
static void *make_tre_attached(void)
{
	M2M_TRE_ATTACHED *a = M2M_TRE_ATTACHED_new();
	set_digits(&a->imsi, "001020000100001");
	set_enum(a->result, M2M_ATTACH_OK);
	return a;
}

/* ---- OTA over SMS-PP and Alternative 3a ---- */

/*
 * The card of scenario 3a: uicc-1 of mno-a in m2me-1, ported to mno-b. Its secured packets have
 * the real SCP80 layout (TS 102 225 §5.1) inside real SMS TPDUs (TS 23.040, TS 31.115); only
 * the ciphered part is a placeholder of the same length (whole AES blocks) whose text says what
 * it stands for, as for the CMS objects: its bytes depend on the card's keys and counter.
 */
#define EXAMPLE_NEW_IMSI "001020000000101"  /* allocated by mno-b */
static const uint8_t example_port_id[16] = {0x50, 0x4f, 0x52, 0x54, 0x2d, 0x41, 0x2d, 0x54,
					    0x4f, 0x2d, 0x42, 0x2d, 0x30, 0x30, 0x30, 0x31};

/* CHL 15 (SPI to CC: 21 octets); SPI 16 19: CC, ciphered, counter higher; PoR always, with CC,
 * ciphered, in the SMS-DELIVER-REPORT; KIc 12 AES-CBC and KID 1E AES-CMAC of keyset 1; TAR
 * B0 00 10, the USIM RFM TAR of the card's first keyset (mno/hss/personalise.c). */
static const uint8_t command_header[] = {0x15, 0x16, 0x19, 0x12, 0x1e, 0xb0, 0x00, 0x10};
/* RHL 12 (TAR to CC: 18 octets); the TAR the command named. */
static const uint8_t por_header[] = {0x12, 0xb0, 0x00, 0x10};

/* CPL or RPL (2 octets: what follows them), the clear header, the ciphered part. */
static size_t ota_packet(uint8_t *b, const uint8_t *header, size_t hn, const char *ciphered)
{
	size_t n = strlen(ciphered);
	if (n % 16)
		die("an AES-CBC part is whole blocks");
	b[0] = (uint8_t)((hn + n) >> 8);
	b[1] = (uint8_t)(hn + n);
	memcpy(b + 2, header, hn);
	memcpy(b + 2 + hn, ciphered, n);
	return 2 + hn + n;
}

/* head, TP-UDL, then the user data: header 02 IEI 00 and the packet. With 8-bit data the UDL
 * counts octets, the header's included. */
static size_t sms_tpdu(uint8_t *b, const uint8_t *head, size_t hn, uint8_t iei, const uint8_t *pkt, size_t pn)
{
	if (hn + 4 + pn > 164)
		die("an SMS TPDU is at most 164 octets");
	memcpy(b, head, hn);
	b[hn] = (uint8_t)(3 + pn);
	b[hn + 1] = 0x02;
	b[hn + 2] = iei;
	b[hn + 3] = 0x00;
	memcpy(b + hn + 4, pkt, pn);
	return hn + 4 + pn;
}

/* mno-a's OTA server rewrites EF_IMSI: one SMS-DELIVER with TP-UDHI (40) from 12345678 (08 81
 * 21 43 65 87), PID 7F (USIM data download), DCS F6 (class 2, 8-bit), SCTS 2025-01-02
 * 03:04:05 UTC (EXAMPLE_TIME, semi-octets), IEI 70: a command packet. */
static void *make_sms_deliver(void)
{
	static const uint8_t head[] = {0x40, 0x08, 0x81, 0x21, 0x43, 0x65, 0x87, 0x7f,
				       0xf6, 0x52, 0x10, 0x20, 0x30, 0x40, 0x50, 0x00};
	uint8_t pkt[128], tpdu[164];
	size_t pn = ota_packet(pkt, command_header, sizeof command_header,
			       "<AES-CBC of: CNTR, PCNTR, CC and the RFM script>");
	M2M_SMS_DELIVER *d = M2M_SMS_DELIVER_new();
	set_digits(&d->imsi, EXAMPLE_IMSI);
	set_octets(d->tpdu, tpdu, sms_tpdu(tpdu, head, sizeof head, 0x70, pkt, pn));
	return d;
}

/* The card's PoR in the SMS-DELIVER-REPORT for RP-ACK: TP-UDHI (40), TP-PI 07 (PID, DCS and UDL
 * follow), PID 7F, DCS F6, IEI 71: a response packet. */
static void *make_sms_report(void)
{
	static const uint8_t head[] = {0x40, 0x07, 0x7f, 0xf6};
	uint8_t pkt[64], tpdu[164];
	size_t pn = ota_packet(pkt, por_header, sizeof por_header, "<AES-CBC of PoR>");
	M2M_SMS_REPORT *r = M2M_SMS_REPORT_new();
	r->tpdu = octets(tpdu, sms_tpdu(tpdu, head, sizeof head, 0x71, pkt, pn));
	return r;
}

static void *make_port_request(void)
{
	M2M_PORT_REQUEST *r = M2M_PORT_REQUEST_new();
	M2M_PORT_DEVICE *d = M2M_PORT_DEVICE_new();
	set_octets(r->port_id, example_port_id, sizeof example_port_id);
	placeholder(r->authorisation, "<SignedData over PortAuthorisation, by the subscriber>");
	set_digits(&d->iccid, EXAMPLE_ICCID);
	set_digits(&d->new_imsi, EXAMPLE_NEW_IMSI);
	if (!sk_M2M_PORT_DEVICE_push(r->devices, d))
		die("out of memory");
	placeholder(r->certificate, "<certificate of mno-b>");
	return r;
}

static void *make_port_response(void)
{
	M2M_PORT_RESPONSE *r = M2M_PORT_RESPONSE_new();
	set_octets(r->port_id, example_port_id, sizeof example_port_id);
	r->accepted = 1;
	return r;
}

static void *make_port_transfer(void)
{
	M2M_PORT_TRANSFER *t = M2M_PORT_TRANSFER_new();
	set_octets(t->port_id, example_port_id, sizeof example_port_id);
	placeholder(t->package, "<AuthEnvelopedData to mno-b of SignedData over PortCredentials, by mno-a>");
	return t;
}

static void *make_port_transfer_ack(void)
{
	M2M_PORT_TRANSFER_ACK *a = M2M_PORT_TRANSFER_ACK_new();
	set_octets(a->port_id, example_port_id, sizeof example_port_id);
	a->provisioned = 1;
	return a;
}

static void *make_port_complete(void)
{
	M2M_PORT_COMPLETE *c = M2M_PORT_COMPLETE_new();
	set_octets(c->port_id, example_port_id, sizeof example_port_id);
	set_digits(&c->iccid, EXAMPLE_ICCID);
	set_digits(&c->new_imsi, EXAMPLE_NEW_IMSI);
	return c;
}

static void *make_port_complete_ack(void)
{
	M2M_PORT_COMPLETE_ACK *a = M2M_PORT_COMPLETE_ACK_new();
	set_octets(a->port_id, example_port_id, sizeof example_port_id);
	set_digits(&a->iccid, EXAMPLE_ICCID);
	placeholder(a->receipt, "<SignedData over DeletionReceipt, by mno-a>");
	return a;
}

/* ---- Alternative 3b ---- */

/*
 * The device of scenario 3b: uicc-5 of mno-a (IMSI EXAMPLE_IMSI_5) in m2me-5 with tre-5, moved to
 * mno-b, which writes its own IMSI, K, OPc and OTA keyset into the card through the TRE. The
 * signed and enveloped CMS objects are placeholders saying what they stand for, as in 1a. The
 * changeId is the one the change transaction of 1a (changeRequest .. changeConsent) assigned.
 */
#define EXAMPLE_ICCID_5 "8900101000000000050"
#define EXAMPLE_IMSI_5 "001010000000005"
#define EXAMPLE_NEW_IMSI_5 "001020000000105"  /* allocated by mno-b */

/* The DRF's signed wake-up, routed by A's IMSI: drf -> mno-a -> mno-v -> m2me-5 -> tre-5. */
static void *make_tre_trigger(void)
{
	M2M_TRE_TRIGGER *t = M2M_TRE_TRIGGER_new();
	set_digits(&t->imsi, EXAMPLE_IMSI_5);
	placeholder(t->trigger->cms, "<SignedData over TreActivate, by drf>");
	return t;
}

static void *make_uicc_change_register(void)
{
	return signed_object("<SignedData over UiccChangeRegistration, by tre-5>");
}

static void *make_uicc_credential_order(void)
{
	/* the card's GET CHALLENGE answer, read by tre-5 (16 random bytes in a real run) */
	static const uint8_t card_nonce[16] = {0x3f, 0xa2, 0x81, 0x5c, 0x0e, 0x97, 0xd4, 0x6b,
					       0x28, 0xf1, 0x73, 0xc6, 0x19, 0x5a, 0xbe, 0x04};
	M2M_UICC_CREDENTIAL_ORDER *o = M2M_UICC_CREDENTIAL_ORDER_new();
	set_octets(o->change_id, example_change_id, sizeof example_change_id);
	set_text(o->tre, "tre-5");
	set_digits(&o->iccid, EXAMPLE_ICCID_5);
	placeholder(o->card_certificate, "<certificate of uicc-5, profile uicc>");
	set_octets(o->card_nonce, card_nonce, sizeof card_nonce);
	placeholder(o->ticket, "<SignedData over RegistrationTicket, by drf>");
	return o;
}

/* uiccCredentialPackage (mno-b -> drf) and uiccCredentialDelivery (drf -> tre-5): the same body. */
static void *make_uicc_credential_package(void)
{
	M2M_UICC_CREDENTIAL_PACKAGE *p = M2M_UICC_CREDENTIAL_PACKAGE_new();
	set_octets(p->change_id, example_change_id, sizeof example_change_id);
	set_text(p->sho, "mno-b");
	set_digits(&p->imsi, EXAMPLE_NEW_IMSI_5);
	placeholder(p->package, "<AuthEnvelopedData to uicc-5 around SignedData over UiccCredential, by mno-b>");
	return p;
}

static void *make_uicc_change_complete(void)
{
	return signed_object("<SignedData over UiccChangeResult, by tre-5>");
}

static void *make_uicc_release(void)
{
	M2M_UICC_RELEASE *r = M2M_UICC_RELEASE_new();
	set_octets(r->change_id, example_change_id, sizeof example_change_id);
	set_digits(&r->iccid, EXAMPLE_ICCID_5);
	set_digits(&r->imsi, EXAMPLE_IMSI_5);
	return r;
}

typedef struct example {
	int type;
	const char *sender, *recipient;
	int is_reply;  /* a reply has the sequence number 7, a request 42 */
	void *(*make)(void);
} example;

/* Between the entities of the default topology (testbed/topology.conf) that exchange the message. */
#define REQUEST(from, to) from, to, 0
#define REPLY(from, to) from, to, 1

static const example examples[] = {
	{M2M_MSG_ERROR, REPLY("tre-1", "mno-a"), make_error},
	{M2M_MSG_HEALTH_REQUEST, REQUEST("mno-a", "tre-1"), make_null},
	{M2M_MSG_HEALTH_RESPONSE, REPLY("tre-1", "mno-a"), make_health_response},
	{M2M_MSG_PING, REQUEST("mno-a", "tre-1"), make_ping},
	{M2M_MSG_PONG, REPLY("tre-1", "mno-a"), make_ping},
	{M2M_MSG_PING_PEERS_REQUEST, REQUEST("mno-a", "tre-1"), make_ping_peers_request},
	{M2M_MSG_PING_PEERS_RESPONSE, REPLY("tre-1", "mno-a"), make_ping_peers_response},
	{M2M_MSG_APDU_COMMAND, REQUEST("m2me-1", "uicc-1"), make_apdu_command},
	{M2M_MSG_APDU_RESPONSE, REPLY("uicc-1", "m2me-1"), make_apdu_response},
	{M2M_MSG_CARD_RESET, REQUEST("m2me-1", "uicc-1"), make_null},
	{M2M_MSG_CARD_ATR, REPLY("uicc-1", "m2me-1"), make_card_atr},
	{M2M_MSG_ATTACH_REQUEST, REQUEST("m2me-1", "mno-v"), make_attach_request},
	{M2M_MSG_AUTH_CHALLENGE, REPLY("mno-v", "m2me-1"), make_auth_challenge},
	{M2M_MSG_AUTH_RESPONSE, REQUEST("m2me-1", "mno-v"), make_auth_response},
	{M2M_MSG_AUTH_FAILURE, REQUEST("m2me-1", "mno-v"), make_auth_failure},
	{M2M_MSG_ATTACH_ACCEPT, REPLY("mno-v", "m2me-1"), make_attach_accept},
	{M2M_MSG_DETACH_REQUEST, REQUEST("m2me-1", "mno-v"), make_detach_request},
	{M2M_MSG_DETACH_ACCEPT, REPLY("mno-v", "m2me-1"), make_null},
	{M2M_MSG_PROTECTED_DATA, REQUEST("m2me-1", "mno-v"), make_protected_data},
	{M2M_MSG_PROTECTED_DATA_ECHO, REPLY("mno-v", "m2me-1"), make_protected_data_echo},
	{M2M_MSG_AUTH_INFO_REQUEST, REQUEST("mno-v", "mno-a"), make_auth_info_request},
	{M2M_MSG_AUTH_INFO_RESPONSE, REPLY("mno-a", "mno-v"), make_auth_info_response},
	{M2M_MSG_UPDATE_LOCATION, REQUEST("mno-v", "mno-a"), make_update_location},
	{M2M_MSG_UPDATE_LOCATION_ACK, REPLY("mno-a", "mno-v"), make_subscription_profile},
	{M2M_MSG_PURGE, REQUEST("mno-v", "mno-a"), make_purge},
	{M2M_MSG_PURGE_ACK, REPLY("mno-a", "mno-v"), make_null},
	{M2M_MSG_CANCEL_LOCATION, REQUEST("mno-a", "mno-v"), make_cancel_location},
	{M2M_MSG_CANCEL_LOCATION_ACK, REPLY("mno-v", "mno-a"), make_null},
	{M2M_MSG_DEVICE_CONTROL, REQUEST("testbed", "m2me-1"), make_device_control},
	{M2M_MSG_DEVICE_STATUS, REPLY("m2me-1", "testbed"), make_device_status},
	{M2M_MSG_ENROL_REQUEST, REQUEST("tre-1", "certauth"), make_enrol_request},
	{M2M_MSG_ENROL_RESPONSE, REPLY("certauth", "tre-1"), make_enrol_response},
	{M2M_MSG_CRL_REQUEST, REQUEST("mno-a", "certauth"), make_null},
	{M2M_MSG_CRL_RESPONSE, REPLY("certauth", "mno-a"), make_crl_response},
	{M2M_MSG_PLATFORM_TYPE_REQUEST, REQUEST("tre-1", "certauth"), make_platform_type_request},
	{M2M_MSG_PLATFORM_TYPE_RESPONSE, REPLY("certauth", "tre-1"), make_platform_type_response},
	{M2M_MSG_VALIDATION_REQUEST, REQUEST("mno-a", "certauth"), make_validation_request},
	{M2M_MSG_VALIDATION_RESPONSE, REPLY("certauth", "mno-a"), make_validation_response},
	{M2M_MSG_ATTESTATION_CHALLENGE, REQUEST("certauth", "tre-1"), make_attestation_challenge},
	{M2M_MSG_ATTESTATION_EVIDENCE, REPLY("tre-1", "certauth"), make_attestation_evidence},
	{M2M_MSG_TAMPER_REPORT, REQUEST("tre-1", "certauth"), make_tamper_report},
	{M2M_MSG_TAMPER_ACK, REPLY("certauth", "tre-1"), make_tamper_ack},
	{M2M_MSG_VALIDATION_STATUS_REQUEST, REQUEST("mno-a", "certauth"), make_validation_status_request},
	{M2M_MSG_VALIDATION_STATUS, REPLY("certauth", "mno-a"), make_validation_status},
	{M2M_MSG_TRE_CONTROL, REQUEST("testbed", "tre-1"), make_tre_control},
	{M2M_MSG_TRE_STATUS, REPLY("tre-1", "testbed"), make_tre_status},
	{M2M_MSG_RELAY_REQUEST, REQUEST("m2me-3", "mno-v"), make_relay_request},
	{M2M_MSG_RELAY_RESPONSE, REPLY("mno-v", "m2me-3"), make_relay_response},
	{M2M_MSG_DISCOVERY_REQUEST, REQUEST("mno-v", "drf"), make_discovery_request},
	{M2M_MSG_DISCOVERY_RESPONSE, REPLY("drf", "mno-v"), make_discovery_response},
	{M2M_MSG_MCIM_REQUEST, REQUEST("mno-v", "mno-a"), make_mcim_request},
	{M2M_MSG_MCIM_PACKAGE, REPLY("mno-a", "mno-v"), make_mcim_package},
	{M2M_MSG_INSTALL_RESULT, REQUEST("mno-v", "mno-a"), make_install_result},
	{M2M_MSG_INSTALL_ACK, REPLY("mno-a", "mno-v"), make_install_ack},
	{M2M_MSG_REGISTRATION_REQUEST, REQUEST("mno-a", "drf"), make_registration_request},
	{M2M_MSG_REGISTRATION_RESPONSE, REPLY("drf", "mno-a"), make_registration_response},
	{M2M_MSG_PROVISIONED, REQUEST("mno-a", "drf"), make_provisioned},
	{M2M_MSG_PROVISIONED_ACK, REPLY("drf", "mno-a"), make_null},
	{M2M_MSG_PCID_ASSIGN_REQUEST, REQUEST("testbed", "drf"), make_pcid_assign_request},
	{M2M_MSG_PCID_ASSIGN_RESPONSE, REPLY("drf", "testbed"), make_pcid_assign_response},
	{M2M_MSG_TRE_CREDENTIAL_REQUEST, REQUEST("m2me-3", "tre-3"), make_null},
	{M2M_MSG_TRE_CREDENTIAL, REPLY("tre-3", "m2me-3"), make_tre_credential},
	{M2M_MSG_TRE_AKA_REQUEST, REQUEST("m2me-3", "tre-3"), make_tre_aka_request},
	{M2M_MSG_TRE_AKA_RESPONSE, REPLY("tre-3", "m2me-3"), make_tre_aka_response},
	{M2M_MSG_TRE_PROVISION, REQUEST("m2me-3", "tre-3"), make_tre_provision},
	{M2M_MSG_TRE_PROVISION_NEXT, REPLY("tre-3", "m2me-3"), make_tre_provision_next},
	{M2M_MSG_MCIM_COMMAND, REQUEST("mno-a", "tre-3"), make_mcim_command},
	{M2M_MSG_MCIM_RECEIPT, REPLY("tre-3", "mno-a"), make_mcim_receipt},
	{M2M_MSG_CHANGE_REQUEST, REQUEST("mno-b", "drf"), make_change_request},
	{M2M_MSG_CHANGE_RESPONSE, REPLY("drf", "mno-b"), make_change_response},
	{M2M_MSG_CHANGE_NOTIFY, REQUEST("drf", "mno-a"), make_change_notify},
	{M2M_MSG_CHANGE_CONSENT, REPLY("mno-a", "drf"), make_change_consent},
	{M2M_MSG_CHANGE_COMPLETE, REQUEST("mno-v", "drf"), make_change_complete},
	{M2M_MSG_CHANGE_COMPLETE_ACK, REPLY("drf", "mno-v"), make_change_ack},
	{M2M_MSG_CHANGE_RELEASE, REQUEST("drf", "mno-a"), make_change_release},
	{M2M_MSG_CHANGE_RELEASE_ACK, REPLY("mno-a", "drf"), make_change_ack},
	{M2M_MSG_TRE_ATTACHED, REQUEST("m2me-3", "tre-3"), make_tre_attached},
	/* the visited operator forwards the home operator's smsDeliver to the device attached with
	 * its IMSI, unchanged, and the device's smsReport back */
	{M2M_MSG_SMS_DELIVER, REQUEST("mno-a", "mno-v"), make_sms_deliver},
	{M2M_MSG_SMS_DELIVER, REQUEST("mno-v", "m2me-1"), make_sms_deliver},
	{M2M_MSG_SMS_REPORT, REPLY("mno-v", "mno-a"), make_sms_report},
	{M2M_MSG_PORT_REQUEST, REQUEST("mno-b", "mno-a"), make_port_request},
	{M2M_MSG_PORT_RESPONSE, REPLY("mno-a", "mno-b"), make_port_response},
	{M2M_MSG_PORT_TRANSFER, REQUEST("mno-a", "mno-b"), make_port_transfer},
	{M2M_MSG_PORT_TRANSFER_ACK, REPLY("mno-b", "mno-a"), make_port_transfer_ack},
	{M2M_MSG_PORT_COMPLETE, REQUEST("mno-b", "mno-a"), make_port_complete},
	{M2M_MSG_PORT_COMPLETE_ACK, REPLY("mno-a", "mno-b"), make_port_complete_ack},
	/* each hop forwards the DRF's treTrigger unchanged and answers its sender with treTriggerAck
	 * once the next hop (at the end, the TRE) acknowledged it */
	{M2M_MSG_TRE_TRIGGER, REQUEST("drf", "mno-a"), make_tre_trigger},
	{M2M_MSG_TRE_TRIGGER, REQUEST("mno-a", "mno-v"), make_tre_trigger},
	{M2M_MSG_TRE_TRIGGER, REQUEST("mno-v", "m2me-5"), make_tre_trigger},
	{M2M_MSG_TRE_TRIGGER, REQUEST("m2me-5", "tre-5"), make_tre_trigger},
	{M2M_MSG_TRE_TRIGGER_ACK, REPLY("tre-5", "m2me-5"), make_change_ack},
	{M2M_MSG_TRE_TRIGGER_ACK, REPLY("m2me-5", "mno-v"), make_change_ack},
	{M2M_MSG_TRE_TRIGGER_ACK, REPLY("mno-v", "mno-a"), make_change_ack},
	{M2M_MSG_TRE_TRIGGER_ACK, REPLY("mno-a", "drf"), make_change_ack},
	/* carried by m2me-5's relay; shown end to end */
	{M2M_MSG_UICC_CHANGE_REGISTER, REQUEST("tre-5", "drf"), make_uicc_change_register},
	{M2M_MSG_UICC_CREDENTIAL_DELIVERY, REPLY("drf", "tre-5"), make_uicc_credential_package},
	{M2M_MSG_UICC_CREDENTIAL_ORDER, REQUEST("drf", "mno-b"), make_uicc_credential_order},
	{M2M_MSG_UICC_CREDENTIAL_PACKAGE, REPLY("mno-b", "drf"), make_uicc_credential_package},
	{M2M_MSG_UICC_CHANGE_COMPLETE, REQUEST("tre-5", "drf"), make_uicc_change_complete},
	{M2M_MSG_UICC_CHANGE_COMPLETE_ACK, REPLY("drf", "tre-5"), make_change_ack},
	{M2M_MSG_UICC_RELEASE, REQUEST("drf", "mno-a"), make_uicc_release},
	{M2M_MSG_UICC_RELEASE_ACK, REPLY("mno-a", "drf"), make_change_ack},
};


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

static void print_summary(const char *label, int type, const void *body)
{
	char *summary = m2m_body_summary(type, body);
	printf("# %s: %s\n", label, summary ? summary : "");
	free(summary);
}

/* The copy of the message a tap publishes and the trace line made of it, for the types with
 * SECRET fields only. */
static int print_redacted(const unsigned char *der, size_t len)
{
	unsigned char *red = NULL;
	size_t rlen;
	int r = m2m_redact(der, len, &red, &rlen);
	m2m_envelope env;
	if (r == 1 && m2m_decode(red, rlen, &env) == M2M_OK) {
		printf("# redacted: ");
		print_hex(red, rlen);
		printf("\n");
		print_summary("redacted summary", env.type, env.body);
		m2m_envelope_clear(&env);
	} else if (r == 1) {
		fprintf(stderr, "the redacted copy does not decode\n");
		r = -1;
	}
	OPENSSL_free(red);
	return r < 0;
}

/* Prints one example (and writes its files into dir, when given); nth counts the examples of
 * its type from 0. 0 or 1. */
static int emit(const char *dir, const m2m_msgdef *def, const example *x, int nth)
{
	m2m_envelope env = {.version = M2M_WIRE_VERSION, .type = def->type, .seq = x->is_reply ? 7 : 42};
	memcpy(env.txid, example_txid, M2M_TXID_LEN);
	snprintf(env.sender, sizeof env.sender, "%s", x->sender);
	snprintf(env.recipient, sizeof env.recipient, "%s", x->recipient);
	void *body = x->make();
	unsigned char *der = NULL;
	size_t len = 0;
	int rc = 0;
	m2m_reason r = m2m_encode(&env, body, &der, &len);
	if (r != M2M_OK) {
		fprintf(stderr, "%s: encode: %s\n", def->name, m2m_reason_name(r));
		rc = 1;
	} else {
		printf("%d %s ", def->type, def->name);
		print_hex(der, len);
		printf("\n");
		print_summary("summary", def->type, body);
		rc |= print_redacted(der, len);
		if (dir) {
			char name[64];
			if (nth)
				snprintf(name, sizeof name, "%02d-%s-%d.der", def->type, def->name, nth + 1);
			else
				snprintf(name, sizeof name, "%02d-%s.der", def->type, def->name);
			rc |= write_file(dir, name, der, len) ? 1 : 0;
			if (!nth)
				rc |= write_malformed(dir, def->type, der, len) ? 1 : 0;
		}
	}
	OPENSSL_free(der);
	ASN1_item_free(body, def->item());
	return rc;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : NULL;
	if (argc > 2 || (dir && dir[0] == '-')) {  /* an option, not a directory (--help) */
		fprintf(stderr, "usage: m2m-wire-examples [DIR]\n");
		return 2;
	}
	if (dir && mkdir(dir, 0777) && errno != EEXIST) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		return 1;
	}
	int rc = 0;
	for (int t = 0; t <= MAX_TYPE; t++) {
		const m2m_msgdef *def = m2m_msgdef_find(t);
		if (!def)
			continue;
		int nth = 0;
		for (size_t i = 0; i < sizeof examples / sizeof examples[0]; i++)
			if (examples[i].type == t)
				rc |= emit(dir, def, &examples[i], nth++);
		if (!nth) {
			fprintf(stderr, "no example for message type %d (%s)\n", t, def->name);
			rc = 1;
		}
	}
	return rc;
}
