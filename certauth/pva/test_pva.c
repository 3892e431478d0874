/*
 * The PVA's decision, table-driven: evidence built here, signed with keys and certificates of a
 * test agency (lib/pki), appraised by pva_appraise_signed exactly as a TRE's answer is, against
 * the certified platform type. One row per (case, mode); each says what the result and the
 * reasons must be. Then the verdict: its signature checked by `openssl cms -verify`, and the
 * relying party's check (lib/pki/verdict.h).
 */
#include "test_pva_common.h"
#include "pki/verdict.h"

#include "crypto/crypto.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define AUTO M2M_MODE_AUTONOMOUS
#define SEMI M2M_MODE_SEMI_AUTONOMOUS
#define REMOTE M2M_MODE_REMOTE

/* ---- what a case changes ------------------------------------------------------------------------- */

/* One component is not the certified image, as each mode shows it. */
static void modify_component(pva_evidence *e)
{
	e->secure_boot = 0;
	e->verdicts[2].matches = 0;
	test_component_digest(2, " with a backdoor", e->quote.log[2].digest);
	test_seal_quote(&e->quote);  /* an honest TRE: the log replays */
}

/* A component the agency never certified, measured and logged honestly. */
static void unknown_component(pva_evidence *e)
{
	pva_log_entry *l = &e->quote.log[e->quote.nlog++];
	l->reg = 2;
	snprintf(l->component, sizeof l->component, "diagnostics");
	test_component_digest(0, " diagnostics", l->digest);
	test_seal_quote(&e->quote);
}

/* The registers were quoted before one more measurement was logged. */
static void log_after_quote(pva_evidence *e)
{
	e->quote.registers[1][0] ^= 0x01;
}

static void case_opened(pva_evidence *e)
{
	e->tamper = PVA_TAMPER_BIT(M2M_TAMPER_CASE_OPENED);
}

static void modified_and_opened(pva_evidence *e)
{
	modify_component(e);
	case_opened(e);
}

static void old_nonce(pva_evidence *e)
{
	e->nonce[0] ^= 0xff;
}

static void names_other_tre(pva_evidence *e)
{
	snprintf(e->tre, sizeof e->tre, "tre-2");
}

static void other_mode(pva_evidence *e)
{
	e->mode = e->mode == REMOTE ? AUTO : REMOTE;
}

static void part_missing(pva_evidence *e)
{
	e->has_verdicts = 0;
	e->has_quote = 0;
}

static void nonce_used(pva_challenge *c)
{
	c->used = 1;
}

static void nonce_expired(pva_challenge *c)
{
	c->expires = time(NULL) - 1;
}

static void wants_level_5(pva_challenge *c)
{
	c->min_assurance = 5;
}

/* ---- the table ------------------------------------------------------------------------------------- */

typedef struct appraisal_case {
	const char *name;
	m2m_validation_mode mode;
	test_signer signer;                /* who signs the evidence */
	int ask_tre1;                      /* the PVA asked tre-1 (not the signer's name) */
	void (*evidence)(pva_evidence *);  /* NULL: honest evidence */
	void (*challenge)(pva_challenge *);
	int corrupt_cms;                   /* a signature byte changed in transit */
	pva_unknown_policy unknown;
	m2m_verdict_result result;
	m2m_reason reasons[3];             /* expected, in order; 0 ends */
} appraisal_case;

#define ROW(name, mode, ...) {name, mode, __VA_ARGS__}
#define EACH_MODE(name, ...) ROW(name, AUTO, __VA_ARGS__), ROW(name, SEMI, __VA_ARGS__), ROW(name, REMOTE, __VA_ARGS__)
#define OK_ M2M_VERDICT_OK
#define FAIL_ M2M_VERDICT_FAIL
#define FAIL_POLICY PVA_UNKNOWN_FAIL
#define QUARANTINE_POLICY PVA_UNKNOWN_QUARANTINE

static const appraisal_case cases[] = {
	EACH_MODE("good platform", SIGNER_TRE1, 0, NULL, NULL, 0, FAIL_POLICY, OK_, {0}),
	EACH_MODE("modified component", SIGNER_TRE1, 0, modify_component, NULL, 0, FAIL_POLICY, FAIL_,
		  {M2M_R_COMPONENT_MODIFIED}),
	ROW("unknown digest, policy fail", REMOTE, SIGNER_TRE1, 0, unknown_component, NULL, 0, FAIL_POLICY, FAIL_,
	    {M2M_R_UNKNOWN_DIGEST}),
	ROW("unknown digest, policy quarantine", REMOTE, SIGNER_TRE1, 0, unknown_component, NULL, 0, QUARANTINE_POLICY,
	    M2M_VERDICT_QUARANTINE, {M2M_R_UNKNOWN_DIGEST}),
	ROW("unknown and modified: quarantine does not cover it", REMOTE, SIGNER_TRE1, 0, modify_component, NULL, 0,
	    QUARANTINE_POLICY, FAIL_, {M2M_R_COMPONENT_MODIFIED}),
	EACH_MODE("replayed nonce: another one", SIGNER_TRE1, 0, old_nonce, NULL, 0, FAIL_POLICY, FAIL_,
		  {M2M_R_NONCE_REPLAYED}),
	EACH_MODE("replayed nonce: used already", SIGNER_TRE1, 0, NULL, nonce_used, 0, FAIL_POLICY, FAIL_,
		  {M2M_R_NONCE_REPLAYED}),
	EACH_MODE("replayed nonce: expired", SIGNER_TRE1, 0, NULL, nonce_expired, 0, FAIL_POLICY, FAIL_,
		  {M2M_R_NONCE_REPLAYED}),
	EACH_MODE("bad signature: changed in transit", SIGNER_TRE1, 0, NULL, NULL, 1, FAIL_POLICY, FAIL_,
		  {M2M_R_BAD_SIGNATURE}),
	EACH_MODE("bad signature: another TRE's key", SIGNER_TRE2, 1, names_other_tre, NULL, 0, FAIL_POLICY, FAIL_,
		  {M2M_R_BAD_SIGNATURE}),
	EACH_MODE("bad signature: names another TRE", SIGNER_TRE1, 0, names_other_tre, NULL, 0, FAIL_POLICY, FAIL_,
		  {M2M_R_BAD_SIGNATURE}),
	EACH_MODE("bad signature: not a TRE certificate", SIGNER_OPERATOR, 0, NULL, NULL, 0, FAIL_POLICY, FAIL_,
		  {M2M_R_BAD_SIGNATURE}),
	EACH_MODE("bad chain: another root", SIGNER_FOREIGN, 0, NULL, NULL, 0, FAIL_POLICY, FAIL_, {M2M_R_BAD_CHAIN}),
	ROW("log does not match its quote", REMOTE, SIGNER_TRE1, 0, log_after_quote, NULL, 0, FAIL_POLICY, FAIL_,
	    {M2M_R_LOG_MISMATCH}),
	EACH_MODE("revoked TRE certificate", SIGNER_REVOKED, 0, NULL, NULL, 0, FAIL_POLICY, FAIL_,
		  {M2M_R_CERTIFICATE_REVOKED}),
	EACH_MODE("revoked model", SIGNER_WEAK, 0, NULL, NULL, 0, FAIL_POLICY, FAIL_, {M2M_R_MODEL_REVOKED}),
	EACH_MODE("revoked model, certificate revoked with it", SIGNER_WEAK_REVOKED, 0, NULL, NULL, 0, FAIL_POLICY, FAIL_,
		  {M2M_R_MODEL_REVOKED}),
	EACH_MODE("expired certificate", SIGNER_EXPIRED, 0, NULL, NULL, 0, FAIL_POLICY, FAIL_,
		  {M2M_R_CERTIFICATE_EXPIRED}),
	EACH_MODE("tamper flag set", SIGNER_TRE1, 0, case_opened, NULL, 0, FAIL_POLICY, FAIL_, {M2M_R_TAMPER_DETECTED}),
	EACH_MODE("assurance level too low", SIGNER_TRE1, 0, NULL, wants_level_5, 0, FAIL_POLICY, FAIL_,
		  {M2M_R_ASSURANCE_TOO_LOW}),
	EACH_MODE("every finding is reported", SIGNER_TRE1, 0, modified_and_opened, wants_level_5, 0, FAIL_POLICY, FAIL_,
		  {M2M_R_ASSURANCE_TOO_LOW, M2M_R_TAMPER_DETECTED, M2M_R_COMPONENT_MODIFIED}),
	EACH_MODE("evidence of another mode", SIGNER_TRE1, 0, other_mode, NULL, 0, FAIL_POLICY, FAIL_, {M2M_R_BAD_BODY}),
	ROW("semi-autonomous evidence without verdicts", SEMI, SIGNER_TRE1, 0, part_missing, NULL, 0, FAIL_POLICY, FAIL_,
	    {M2M_R_BAD_BODY}),
	ROW("remote evidence without a quote", REMOTE, SIGNER_TRE1, 0, part_missing, NULL, 0, FAIL_POLICY, FAIL_,
	    {M2M_R_BAD_BODY}),
};

static void agency_up(void)
{
	test_agency_init();
}

static void agency_down(void)
{
	test_agency_free();
}

TestSuite(appraisal, .init = agency_up, .fini = agency_down);

static void issue_challenge(const appraisal_case *k, pva_challenge *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->tre, sizeof c->tre, "%.*s", M2M_ENTITY_MAX, k->ask_tre1 ? ta.ids[SIGNER_TRE1].name : ta.ids[k->signer].name);
	snprintf(c->relying_party, sizeof c->relying_party, "mno-a");
	m2m_random(c->nonce, sizeof c->nonce);
	c->mode = k->mode;
	c->min_assurance = 2;
	c->expires = time(NULL) + 60;
	if (k->challenge)
		k->challenge(c);
}

/* The last byte of the DER is the end of the ECDSA signature's s. */
static void corrupt(M2M_SIGNED_OBJECT *so)
{
	int n = ASN1_STRING_length(so->cms);
	unsigned char *d = OPENSSL_memdup(ASN1_STRING_get0_data(so->cms), (size_t)n);
	cr_assert_not_null(d);
	d[n - 1] ^= 0x01;
	cr_assert(ASN1_OCTET_STRING_set(so->cms, d, n));
	OPENSSL_free(d);
}

static void appraise_case(const appraisal_case *k, pva_outcome *out)
{
	pva_challenge c;
	pva_evidence e;
	issue_challenge(k, &c);
	/* the honest TRE answers with what it was asked */
	test_good_evidence(ta.ids[k->signer].name, c.nonce, k->mode, &e);
	if (k->evidence)
		k->evidence(&e);
	M2M_SIGNED_OBJECT *so = test_sign_evidence(&e, k->signer);
	if (k->corrupt_cms)
		corrupt(so);
	pva_appraisal a = {.trust = ta.ctx.trust, .agency = &ta.agency, .unknown = k->unknown, .now = time(NULL)};
	cr_assert_eq(pva_appraise_signed(&a, so, &c, out), M2M_OK, "%s: the PVA could not appraise", k->name);
	M2M_SIGNED_OBJECT_free(so);
}

static const char *name_of(m2m_reason r)
{
	const char *n = m2m_reason_name(r);
	return n ? n : "?";
}

#define NCASES (sizeof cases / sizeof cases[0])

/* Criterion hands each run a copy of its parameter in another address space, where the table's
 * pointers (names, functions) mean nothing: the parameter is the row's index. */
ParameterizedTestParameters(appraisal, table)
{
	static int rows[NCASES];
	for (size_t i = 0; i < NCASES; i++)
		rows[i] = (int)i;
	return cr_make_param_array(int, rows, NCASES);
}

ParameterizedTest(int *row, appraisal, table)
{
	static const char *const modes[] = {"autonomous", "semiAutonomous", "remote"};
	const appraisal_case *k = &cases[*row];
	pva_outcome out;
	int want = 0;
	while (want < 3 && k->reasons[want])
		want++;
	appraise_case(k, &out);
	cr_expect_eq(out.result, k->result, "%s (%s): %s, expected %s", k->name, modes[k->mode], pva_result_name(out.result),
		     pva_result_name(k->result));
	cr_expect_eq(out.nreasons, want, "%s (%s): %d reason(s), expected %d (first: %s)", k->name, modes[k->mode],
		     out.nreasons, want, out.nreasons ? name_of(out.reasons[0]) : "none");
	for (int i = 0; i < want && i < out.nreasons; i++)
		cr_expect_eq(out.reasons[i], k->reasons[i], "%s (%s): reason %d is %s, expected %s", k->name, modes[k->mode],
			     i, name_of(out.reasons[i]), name_of(k->reasons[i]));
}

/* Not even a SignedData: nothing in it can be believed. */
Test(appraisal, garbage_is_a_bad_signature)
{
	pva_challenge c;
	pva_outcome out;
	appraisal_case k = {.name = "garbage", .mode = REMOTE, .signer = SIGNER_TRE1};
	issue_challenge(&k, &c);
	M2M_SIGNED_OBJECT *so = M2M_SIGNED_OBJECT_new();
	ASN1_OCTET_STRING_set(so->cms, (const unsigned char *)"\x30\x03\x02\x01\x01", 5);
	pva_appraisal a = {.trust = ta.ctx.trust, .agency = &ta.agency, .now = time(NULL)};
	cr_assert_eq(pva_appraise_signed(&a, so, &c, &out), M2M_OK);
	cr_expect_eq(out.result, M2M_VERDICT_FAIL);
	cr_expect_eq(out.nreasons, 1);
	cr_expect_eq(out.reasons[0], M2M_R_BAD_SIGNATURE);
	M2M_SIGNED_OBJECT_free(so);
}

/* ---- evidence a valid TRE certificate signs, but that breaks the module -------------------------- */

static void nine_registers(M2M_EVIDENCE *w)
{
	ASN1_OCTET_STRING *r = ASN1_OCTET_STRING_new();
	ASN1_OCTET_STRING_set(r, (const unsigned char *)"0123456789abcdef0123456789abcdef", 32);
	sk_ASN1_OCTET_STRING_push(w->quote->registers, r);
	for (int i = sk_ASN1_OCTET_STRING_num(w->quote->registers); i < 9; i++)
		sk_ASN1_OCTET_STRING_push(w->quote->registers, ASN1_OCTET_STRING_dup(r));
}

static void register_200(M2M_EVIDENCE *w)
{
	sk_M2M_MEASUREMENT_LOG_ENTRY_value(w->quote->log, 0)->register_ = 200;
}

static void short_digest(M2M_EVIDENCE *w)
{
	ASN1_OCTET_STRING_set(sk_M2M_MEASUREMENT_LOG_ENTRY_value(w->quote->log, 1)->digest, (const unsigned char *)"x", 1);
}

static void long_component(M2M_EVIDENCE *w)
{
	char name[100];
	memset(name, 'c', sizeof name - 1);
	name[sizeof name - 1] = 0;
	m2m_set_str(sk_M2M_MEASUREMENT_LOG_ENTRY_value(w->quote->log, 2)->component, name);
}

static void empty_log(M2M_EVIDENCE *w)
{
	while (sk_M2M_MEASUREMENT_LOG_ENTRY_num(w->quote->log))
		M2M_MEASUREMENT_LOG_ENTRY_free(sk_M2M_MEASUREMENT_LOG_ENTRY_pop(w->quote->log));
}

static void short_nonce(M2M_EVIDENCE *w)
{
	ASN1_OCTET_STRING_set(w->nonce, (const unsigned char *)"short", 5);
}

static void mode_7(M2M_EVIDENCE *w)
{
	ASN1_ENUMERATED_set(w->mode, 7);
}

static void nul_in_name(M2M_EVIDENCE *w)
{
	ASN1_STRING_set(w->tre, "tre-1\0x", 7);
}

Test(appraisal, evidence_breaking_the_module_is_bad_body)
{
	static void (*const breaks[])(M2M_EVIDENCE *) = {nine_registers, register_200, short_digest, long_component,
							 empty_log,      short_nonce,  mode_7,       nul_in_name};
	for (size_t i = 0; i < sizeof breaks / sizeof breaks[0]; i++) {
		appraisal_case k = {.name = "broken", .mode = REMOTE, .signer = SIGNER_TRE1};
		pva_challenge c;
		pva_evidence e;
		pva_outcome out;
		issue_challenge(&k, &c);
		test_good_evidence("tre-1", c.nonce, REMOTE, &e);
		M2M_EVIDENCE *w = test_evidence_wire(&e);
		breaks[i](w);
		M2M_SIGNED_OBJECT *so = test_sign_evidence_wire(w, SIGNER_TRE1);
		pva_appraisal a = {.trust = ta.ctx.trust, .agency = &ta.agency, .now = time(NULL)};
		cr_assert_eq(pva_appraise_signed(&a, so, &c, &out), M2M_OK);
		cr_expect_eq(out.result, M2M_VERDICT_FAIL, "break %zu", i);
		cr_expect_eq(out.nreasons, 1, "break %zu", i);
		cr_expect_eq(out.reasons[0], M2M_R_BAD_BODY, "break %zu: %s", i, name_of(out.reasons[0]));
		M2M_SIGNED_OBJECT_free(so);
		M2M_EVIDENCE_free(w);
	}
}

/* ---- log replay, directly ---------------------------------------------------------------------------- */

Test(replay, registers_follow_the_tcg_extend)
{
	pva_evidence e;
	uint8_t nonce[PVA_NONCE_LEN] = {0};
	test_good_evidence("tre-1", nonce, REMOTE, &e);
	cr_expect(pva_log_replays(&e.quote));
	/* an entry for a register the quote does not cover */
	e.quote.log[0].reg = 5;
	cr_expect_not(pva_log_replays(&e.quote));
	e.quote.log[0].reg = 0;
	/* the order of entries within a register matters */
	pva_log_entry first = e.quote.log[0];
	e.quote.log[0] = e.quote.log[1];
	e.quote.log[1] = first;
	cr_expect_not(pva_log_replays(&e.quote));
}

/* R0 = SHA-256(0^32 || SHA-256("a")), the value OpenSSL's command line gives:
 *   (head -c 32 /dev/zero; printf a | openssl dgst -sha256 -binary) | openssl dgst -sha256 */
Test(replay, one_extend_matches_a_known_value)
{
	pva_quote q = {.nregisters = 1, .nlog = 1};
	cr_assert_eq(EVP_Digest("a", 1, q.log[0].digest, NULL, EVP_sha256(), NULL), 1);
	snprintf(q.log[0].component, sizeof q.log[0].component, "a");
	cr_assert_eq(m2m_unhex("8c374a53782642f7514d087d26a3e733f1b806009a03e04a43b288ef2fa9f9c0", q.registers[0],
			       PVA_DIGEST_LEN), 0);
	cr_expect(pva_log_replays(&q));
	q.registers[0][31] ^= 1;
	cr_expect_not(pva_log_replays(&q));
}

/* ---- the verdict ------------------------------------------------------------------------------------- */

TestSuite(verdict, .init = agency_up, .fini = agency_down);

#define VALIDATED_AT 1900000000  /* 2030-03-17: any fixed time within the certificates' life */

/* A fail verdict about tre-1 for mno-a, signed as ctx's PVA. */
static M2M_SIGNED_OBJECT *sample_verdict(const ca_context *ctx)
{
	pva_record r = {.tre = "tre-1", .relying_party = "mno-a", .mode = REMOTE, .result = M2M_VERDICT_FAIL,
			.validated_at = VALIDATED_AT, .valid_until = VALIDATED_AT + 600};
	pva_outcome o = {.result = M2M_VERDICT_FAIL, .nreasons = 2,
			 .reasons = {M2M_R_TAMPER_DETECTED, M2M_R_COMPONENT_MODIFIED}};
	memset(r.nonce, 0x5a, sizeof r.nonce);
	M2M_SIGNED_OBJECT *so = M2M_SIGNED_OBJECT_new();
	cr_assert_eq(pva_verdict_sign(ctx, &r, &o, so), 0);
	return so;
}

static m2m_reason check(const M2M_SIGNED_OBJECT *so, const char *tre, const char *rp, int64_t now,
			m2m_verdict_info *info)
{
	return m2m_verdict_check(ta.ctx.trust, ASN1_STRING_get0_data(so->cms), (size_t)ASN1_STRING_length(so->cms), tre,
				 rp, (time_t)now, info);
}

static void write_file(const char *path, const unsigned char *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	fclose(f);
}

/* openssl cms -verify on the DER in dir/v.der against the root in dir/root.pem: its exit status. */
static int openssl_verify(const char *dir)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd,
		 "openssl cms -verify -inform DER -binary -CAfile %s/root.pem -in %s/v.der -out %s/content.der"
		 " 2>%s/err >/dev/null",
		 dir, dir, dir, dir);
	return system(cmd);
}

Test(verdict, openssl_cms_verifies_the_signature)
{
	char dir[64], path[128];
	snprintf(dir, sizeof dir, "/tmp/pvaverdictXXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/root.pem", dir);
	cr_assert_eq(m2m_pki_cert_write_pem(ta.root, path), 0);
	M2M_SIGNED_OBJECT *so = sample_verdict(&ta.ctx);
	snprintf(path, sizeof path, "%s/v.der", dir);
	write_file(path, ASN1_STRING_get0_data(so->cms), (size_t)ASN1_STRING_length(so->cms));
	cr_expect_eq(openssl_verify(dir), 0, "openssl cms -verify refused the verdict");

	/* what openssl extracted is the Verdict the PVA signed */
	snprintf(path, sizeof path, "%s/content.der", dir);
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f);
	unsigned char buf[1024];
	size_t n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	const unsigned char *p = buf;
	M2M_VERDICT *v = d2i_M2M_VERDICT(NULL, &p, (long)n);
	cr_assert_not_null(v);
	char tre[M2M_ENTITY_MAX + 1];
	cr_expect_eq(pva_read_entity(v->tre, tre), 0);
	cr_expect_str_eq(tre, "tre-1");
	cr_expect_eq(ASN1_ENUMERATED_get(v->result), M2M_VERDICT_FAIL);
	cr_expect_eq(sk_ASN1_ENUMERATED_num(v->reasons), 2);
	M2M_VERDICT_free(v);

	/* and a changed byte is caught by openssl too */
	corrupt(so);
	snprintf(path, sizeof path, "%s/v.der", dir);
	write_file(path, ASN1_STRING_get0_data(so->cms), (size_t)ASN1_STRING_length(so->cms));
	cr_expect_neq(openssl_verify(dir), 0, "openssl cms -verify accepted a changed verdict");
	M2M_SIGNED_OBJECT_free(so);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	cr_expect_eq(system(cmd), 0);
}

Test(verdict, the_relying_party_accepts_it_while_valid)
{
	M2M_SIGNED_OBJECT *so = sample_verdict(&ta.ctx);
	m2m_verdict_info info;
	m2m_trust_set_time(ta.ctx.trust, 0);
	cr_assert_eq(check(so, "tre-1", "mno-a", VALIDATED_AT + 600, &info), M2M_OK);
	cr_expect_eq(info.result, M2M_VERDICT_FAIL);
	cr_expect_eq(info.mode, REMOTE);
	cr_expect_eq(info.validated_at, VALIDATED_AT);
	cr_expect_eq(info.valid_until, VALIDATED_AT + 600);
	cr_assert_eq(info.nreasons, 2);
	cr_expect_eq(info.reasons[0], M2M_R_TAMPER_DETECTED);
	cr_expect_eq(info.reasons[1], M2M_R_COMPONENT_MODIFIED);
	M2M_SIGNED_OBJECT_free(so);
}

Test(verdict, the_relying_party_refuses_a_stale_verdict)
{
	M2M_SIGNED_OBJECT *so = sample_verdict(&ta.ctx);
	cr_expect_eq(check(so, "tre-1", "mno-a", VALIDATED_AT + 601, NULL), M2M_R_STALE_VERDICT);
	M2M_SIGNED_OBJECT_free(so);
}

Test(verdict, the_relying_party_refuses_a_verdict_for_another_tre_or_party)
{
	M2M_SIGNED_OBJECT *so = sample_verdict(&ta.ctx);
	cr_expect_eq(check(so, "tre-2", "mno-a", VALIDATED_AT, NULL), M2M_R_STALE_VERDICT);
	cr_expect_eq(check(so, "tre-1", "mno-b", VALIDATED_AT, NULL), M2M_R_STALE_VERDICT);
	cr_expect_eq(check(so, "tre-", "mno-a", VALIDATED_AT, NULL), M2M_R_STALE_VERDICT);
	M2M_SIGNED_OBJECT_free(so);
}

Test(verdict, the_relying_party_refuses_a_verdict_the_pva_did_not_sign)
{
	M2M_SIGNED_OBJECT *so = sample_verdict(&ta.ctx);
	corrupt(so);
	cr_expect_eq(check(so, "tre-1", "mno-a", VALIDATED_AT, NULL), M2M_R_BAD_SIGNATURE);
	M2M_SIGNED_OBJECT_free(so);
	/* a TRE's valid certificate does not speak for the PVA */
	ca_context forger = ta.ctx;
	forger.pva_key = ta.ids[SIGNER_TRE1].key;
	forger.pva_cert = ta.ids[SIGNER_TRE1].cert;
	so = sample_verdict(&forger);
	cr_expect_eq(check(so, "tre-1", "mno-a", VALIDATED_AT, NULL), M2M_R_BAD_SIGNATURE);
	M2M_SIGNED_OBJECT_free(so);
	/* nor is anything that is not a signed Verdict */
	cr_expect_eq(m2m_verdict_check(ta.ctx.trust, (const uint8_t *)"\x30\x00", 2, "tre-1", "mno-a", VALIDATED_AT, NULL),
		     M2M_R_BAD_SIGNATURE);
}

/* ---- the nonce store ----------------------------------------------------------------------------------- */

Test(nonces, a_nonce_is_spent_once_and_for_good)
{
	sqlite3 *db = test_open_db();
	pva_challenge c = {.tre = "tre-1", .relying_party = "mno-a", .mode = REMOTE, .min_assurance = 2, .expires = 100};
	pva_challenge back;
	pva_outcome ok = {.result = M2M_VERDICT_OK};
	m2m_random(c.nonce, sizeof c.nonce);
	cr_assert_eq(pva_challenge_issue(db, &c, "mno-a", 40), 0);
	cr_assert_eq(pva_challenge_issue(db, &c, "mno-a", 40), -1, "a nonce is issued once");
	cr_assert_eq(pva_challenge_load(db, c.nonce, &back), 0);
	cr_expect_not(back.used);
	cr_expect_str_eq(back.tre, "tre-1");
	cr_expect_str_eq(back.relying_party, "mno-a");
	cr_expect_eq(back.expires, 100);
	cr_assert_eq(pva_challenge_spend(db, c.nonce, &ok), 0);
	cr_assert_eq(pva_challenge_load(db, c.nonce, &back), 0);
	cr_expect(back.used);
	/* nothing brings it back: neither abandoning it nor a restart */
	cr_assert_eq(pva_challenge_abandon(db, c.nonce), 0);
	cr_assert_eq(pva_challenge_abandon_all(db), 0);
	cr_assert_eq(pva_challenge_load(db, c.nonce, &back), 0);
	cr_expect(back.used);
	c.nonce[0] ^= 1;
	cr_expect_eq(pva_challenge_load(db, c.nonce, &back), 1, "never issued");
	m2m_store_close(db);
}

/* ---- settings ---------------------------------------------------------------------------------------- */

/* Reads text as a whole configuration file: the error ("" when none) into err. */
static void read_settings(const char *pva_group, pva_settings *s, char *err, size_t len)
{
	char path[64];
	snprintf(path, sizeof path, "/tmp/pvaconfXXXXXX");
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	FILE *f = fdopen(fd, "w");
	fprintf(f, "entity = \"certauth\";\ntransport = { };\n"
		   "peers = ( { id = \"mno-a\"; public_key = \"%s\"; },\n"
		   "          { id = \"drf\"; public_key = \"%s\"; } );\n"
		   "certauth = {\n%s\n};\n",
		"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7", "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7", pva_group);
	fclose(f);
	m2m_conf c;
	m2m_node_conf nc;
	cr_assert_eq(m2m_conf_load(&c, path), 0, "%s", c.error);
	m2m_conf_node(&c, &nc);
	c.failed = 0;  /* the transport's own problems (no key file) are not this test's */
	c.error[0] = 0;
	config_setting_t *group = config_lookup(&c.cfg, "certauth.pva");
	pva_settings_read(&c, group, &nc, s);
	snprintf(err, len, "%s", c.failed ? c.error : "");
	m2m_conf_free(&c);
	unlink(path);
}

Test(settings, defaults_when_the_group_is_absent)
{
	pva_settings s;
	char err[768];
	read_settings("", &s, err, sizeof err);
	cr_assert_str_empty(err);
	cr_expect_not(s.restricted);
	cr_expect(pva_may_ask(&s, "anyone"));
	cr_expect_eq(s.verdict_validity_s, 600);
	cr_expect_eq(s.unknown, PVA_UNKNOWN_FAIL);
	cr_expect_eq(s.nonce_lifetime_s, 60);
}

Test(settings, every_setting)
{
	pva_settings s;
	char err[768];
	read_settings("pva = { relying_parties = (\"mno-a\", \"drf\"); verdict_validity_s = 120;"
		      " unknown_digest = \"quarantine\"; nonce_lifetime_s = 10; };",
		      &s, err, sizeof err);
	cr_assert_str_empty(err);
	cr_expect(pva_may_ask(&s, "drf"));
	cr_expect_not(pva_may_ask(&s, "mno-b"));
	cr_expect_eq(s.verdict_validity_s, 120);
	cr_expect_eq(s.unknown, PVA_UNKNOWN_QUARANTINE);
	cr_expect_eq(s.nonce_lifetime_s, 10);
}

Test(settings, mistakes_are_located)
{
	static const struct {
		const char *group, *error;
	} bad[] = {
		{"pva = { relying_party = (\"mno-a\"); };", "certauth.pva.relying_party: unknown setting"},
		{"pva = { relying_parties = (\"mno-b\"); };", "certauth.pva.relying_parties.[0]: mno-b is not a configured peer"},
		{"pva = { relying_parties = (\"drf\", \"drf\"); };", "certauth.pva.relying_parties.[1]: drf is listed twice"},
		{"pva = { unknown_digest = \"ignore\"; };", "certauth.pva.unknown_digest"},
		{"pva = { verdict_validity_s = 0; };", "certauth.pva.verdict_validity_s: 0 is out of range"},
		{"pva = \"on\";", "certauth.pva: must be a group"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		pva_settings s;
		char err[768];
		read_settings(bad[i].group, &s, err, sizeof err);
		cr_expect_not_null(strstr(err, bad[i].error), "%s: got \"%s\"", bad[i].group, err);
	}
}
