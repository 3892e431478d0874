/*
 * Unit tests of the TRE engine, without transport: the register rule and log replay against
 * values computed here with OpenSSL's one-shot SHA256 (and one fixed vector), measured and
 * secure boot, the three evidence forms and their signature, tamper flags, reactions and the
 * reports kept until acknowledged, enrolment and platform type acceptance, sealed keys.
 * test_tre_daemon.c runs the tre process against a fake agency and PVA.
 */
#include "test_fixture.h"

#include "crypto/crypto.h"

#include <criterion/criterion.h>
#include <openssl/core_names.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

/* R = SHA-256(R || SHA-256(content)), written out independently of measure.c. */
static void expect_extend(uint8_t reg[32], const char *content)
{
	uint8_t buf[64];
	memcpy(buf, reg, 32);
	SHA256((const unsigned char *)content, strlen(content), buf + 32);
	SHA256(buf, sizeof buf, reg);
}

static void hex32(const char *hex, uint8_t out[32])
{
	cr_assert_eq(m2m_unhex(hex, out, 32), 0);
}

/* ---- registers and log -------------------------------------------------------------------- */

Test(measure, fixed_vector)
{
	/* SHA-256("abc"), then R0 from zero, then extended with SHA-256("") */
	uint8_t d_abc[32], d_empty[32], r1[32], r2[32];
	hex32("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", d_abc);
	hex32("589f9ffed4c477966bfb8d41f37895b08c69047df8f911d6f3b57fbe08faee8d", r1);
	hex32("ef6a5fdbba9e14e07fa74d23b7ae639d146ce41635cf3fe44315988c4cbd0caf", r2);
	tre_sha256("", 0, d_empty);
	tre_measurements m;
	tre_measurements_reset(&m);
	cr_assert_eq(tre_extend(&m, 3, "abc", d_abc), 0);
	cr_assert_arr_eq(m.reg[3], r1, 32);
	cr_assert_eq(tre_extend(&m, 3, "empty", d_empty), 0);
	cr_assert_arr_eq(m.reg[3], r2, 32);
	uint8_t zero[32] = {0};
	for (int r = 0; r < TRE_REGISTERS; r++)
		if (r != 3)
			cr_assert_arr_eq(m.reg[r], zero, 32, "register %d untouched", r);
}

Test(measure, extend_and_replay)
{
	const char *parts[] = {"first", "second", "third", "fourth"};
	const int regs[] = {0, 2, 0, 7};
	tre_measurements m;
	uint8_t expect[TRE_REGISTERS][32] = {{0}};
	tre_measurements_reset(&m);
	for (int i = 0; i < 4; i++) {
		uint8_t d[32];
		SHA256((const unsigned char *)parts[i], strlen(parts[i]), d);
		cr_assert_eq(tre_extend(&m, regs[i], parts[i], d), 0);
		expect_extend(expect[regs[i]], parts[i]);
	}
	cr_assert_eq(m.nlog, 4);
	cr_assert_arr_eq(m.reg, expect, sizeof expect);
	cr_assert_str_eq(m.log[1].component, "second");
	cr_assert_eq(m.log[3].reg, 7);
	uint8_t replayed[TRE_REGISTERS][32];
	cr_assert_eq(tre_replay(m.log, m.nlog, replayed), 0);
	cr_assert_arr_eq(replayed, expect, sizeof expect);
	/* the order matters: swapping two entries of one register changes it */
	tre_log_entry swapped[4];
	memcpy(swapped, m.log, sizeof swapped);
	swapped[0] = m.log[2];
	swapped[2] = m.log[0];
	cr_assert_eq(tre_replay(swapped, 4, replayed), 0);
	cr_assert_arr_neq(replayed[0], expect[0], 32);
}

Test(measure, refuses_bad_register_and_full_log)
{
	tre_measurements m;
	uint8_t d[32] = {1};
	tre_measurements_reset(&m);
	cr_assert_eq(tre_extend(&m, TRE_REGISTERS, "x", d), -1);
	cr_assert_eq(tre_extend(&m, -1, "x", d), -1);
	cr_assert_eq(m.nlog, 0);
	for (int i = 0; i < TRE_MAX_LOG; i++)
		cr_assert_eq(tre_extend(&m, 0, "x", d), 0);
	uint8_t before[32];
	memcpy(before, m.reg[0], 32);
	cr_assert_eq(tre_extend(&m, 0, "x", d), -1);
	cr_assert_arr_eq(m.reg[0], before, 32, "a refused extension changes nothing");
}

Test(measure, digest_of_file)
{
	char dir[64];
	fx_tempdir(dir);
	fx_write(dir, "c.bin", "component", 9);
	char path[128];
	snprintf(path, sizeof path, "%s/c.bin", dir);
	uint8_t got[32], want[32];
	cr_assert_eq(tre_digest_file(path, got), 0);
	SHA256((const unsigned char *)"component", 9, want);
	cr_assert_arr_eq(got, want, 32);
	snprintf(path, sizeof path, "%s/absent.bin", dir);
	cr_assert_eq(tre_digest_file(path, got), -1);
	snprintf(path, sizeof path, "rm -rf %s", dir);
	cr_assert_eq(system(path), 0);
}

/* ---- boot --------------------------------------------------------------------------------- */

static fx_tre fx;

static void open_refuse(void)
{
	fx_tre_open(&fx, M2M_TAMPER_REFUSED, 1);
}

static void open_zeroise(void)
{
	fx_tre_open(&fx, M2M_TAMPER_ZEROISED, 1);
}

static void close_fx(void)
{
	fx_tre_close(&fx);
}

static void modify(int i, const char *content)
{
	char name[64];
	snprintf(name, sizeof name, "%s.bin", fx_component_names[i]);
	fx_write(fx.dir, name, content, strlen(content));
}

Test(boot, measures_in_order, .init = open_refuse, .fini = close_fx)
{
	fx_boot(&fx);
	uint8_t expect[TRE_REGISTERS][32] = {{0}};
	for (int i = 0; i < FX_COMPONENTS; i++)
		expect_extend(expect[fx_component_register[i]], fx_component_content[i]);
	const tre_boot_state *b = &fx.t.boot;
	cr_assert(b->booted);
	cr_assert(b->secure_boot_ok);
	cr_assert_arr_eq(b->m.reg, expect, sizeof expect);
	cr_assert_eq(b->m.nlog, FX_COMPONENTS);
	for (int i = 0; i < FX_COMPONENTS; i++) {
		uint8_t d[32];
		SHA256((const unsigned char *)fx_component_content[i], strlen(fx_component_content[i]), d);
		cr_assert_str_eq(b->m.log[i].component, fx_component_names[i]);
		cr_assert_eq(b->m.log[i].reg, fx_component_register[i]);
		cr_assert_arr_eq(b->m.log[i].digest, d, 32);
		cr_assert_eq(b->match[i], TRE_MATCHES);
	}
	cr_assert(tre_credentials_allowed(&fx.t));
	cr_assert_eq(tre_tamper_flags(&fx.t), 0);
	cr_assert_eq(tre_tamper_pending(&fx.t), 0);
}

Test(boot, needs_reference_values)
{
	fx_tre_open(&fx, M2M_TAMPER_REFUSED, 0);
	cr_assert_eq(tre_boot(&fx.t), -1);
	cr_assert_not(fx.t.boot.booted);
	cr_assert_not(tre_credentials_allowed(&fx.t));
	fx_tre_close(&fx);
}

Test(boot, detects_modified_component, .init = open_refuse, .fini = close_fx)
{
	fx_boot(&fx);
	modify(1, "tre code with a back door");
	cr_assert(fx.t.boot.secure_boot_ok, "nothing is measured before the next boot");
	fx_boot(&fx);
	cr_assert_not(fx.t.boot.secure_boot_ok);
	cr_assert_eq(fx.t.boot.match[0], TRE_MATCHES);
	cr_assert_eq(fx.t.boot.match[1], TRE_MODIFIED);
	cr_assert_eq(fx.t.boot.match[2], TRE_MATCHES);
	cr_assert_eq(tre_tamper_flags(&fx.t), TRE_TAMPER_BIT(M2M_TAMPER_COMPONENT_MODIFIED));
	cr_assert_not(tre_credentials_allowed(&fx.t));
	cr_assert_eq(tre_tamper_pending(&fx.t), 1);
	/* still modified at the next boot: the same finding is not reported again */
	fx_boot(&fx);
	cr_assert_eq(tre_tamper_pending(&fx.t), 1);
	/* restored: secure boot passes and the flag clears (the report stays until acknowledged) */
	modify(1, fx_component_content[1]);
	fx_boot(&fx);
	cr_assert(fx.t.boot.secure_boot_ok);
	cr_assert_eq(tre_tamper_flags(&fx.t), 0);
	cr_assert(tre_credentials_allowed(&fx.t));
	cr_assert_eq(tre_tamper_pending(&fx.t), 1);
	/* modified again: a new finding, a new report */
	modify(1, "another back door");
	fx_boot(&fx);
	cr_assert_eq(tre_tamper_pending(&fx.t), 2);
}

Test(boot, unreadable_component_is_modified, .init = open_refuse, .fini = close_fx)
{
	char path[128];
	snprintf(path, sizeof path, "%s/os.bin", fx.dir);
	cr_assert_eq(remove(path), 0);
	fx_boot(&fx);
	cr_assert_eq(fx.t.boot.match[2], TRE_MODIFIED);
	uint8_t empty[32];
	SHA256((const unsigned char *)"", 0, empty);
	cr_assert_arr_eq(fx.t.boot.m.log[2].digest, empty, 32, "measured as empty content");
	cr_assert_not(fx.t.boot.secure_boot_ok);
}

Test(boot, uncertified_component_fails_secure_boot_without_tamper)
{
	fx_tre_open(&fx, M2M_TAMPER_REFUSED, 1);
	char why[300];
	M2M_SIGNED_OBJECT *so = fx_platform_type(&fx.agency, FX_MODEL, FX_VERSION, 2, fx.agency.agency_key, fx.agency.agency);
	cr_assert_eq(tre_platform_accept(&fx.t, so->cms->data, (size_t)so->cms->length, why, sizeof why), M2M_OK, "%s", why);
	M2M_SIGNED_OBJECT_free(so);
	fx_boot(&fx);
	cr_assert_eq(fx.t.boot.match[2], TRE_UNCERTIFIED);
	cr_assert_not(fx.t.boot.secure_boot_ok);
	cr_assert_not(tre_credentials_allowed(&fx.t));
	cr_assert_eq(tre_tamper_flags(&fx.t), 0, "no reference value is no evidence of tampering");
	cr_assert_eq(tre_tamper_pending(&fx.t), 0);
	fx_tre_close(&fx);
}

/* ---- evidence ----------------------------------------------------------------------------- */

/* DER of an Evidence, checked to decode back to the same bytes (strict DER). */
static unsigned char *evidence_der(M2M_EVIDENCE *e, int *len)
{
	unsigned char *der = NULL;
	*len = i2d_M2M_EVIDENCE(e, &der);
	cr_assert_gt(*len, 0, "the evidence encodes");
	const unsigned char *p = der;
	M2M_EVIDENCE *back = d2i_M2M_EVIDENCE(NULL, &p, *len);
	cr_assert_not_null(back);
	cr_assert_eq(p, der + *len);
	unsigned char *again = NULL;
	int n = i2d_M2M_EVIDENCE(back, &again);
	cr_assert_eq(n, *len);
	cr_assert_arr_eq(again, der, (size_t)n, "canonical DER");
	OPENSSL_free(again);
	M2M_EVIDENCE_free(back);
	return der;
}

static void check_common(const M2M_EVIDENCE *e, const uint8_t nonce[32], m2m_validation_mode mode, int secure)
{
	char name[64];
	cr_assert_eq(m2m_str(e->tre, name, sizeof name), 0);
	cr_assert_str_eq(name, FX_ENTITY);
	cr_assert_eq(ASN1_STRING_length(e->nonce), 32);
	cr_assert_arr_eq(ASN1_STRING_get0_data(e->nonce), nonce, 32, "the nonce is echoed");
	cr_assert_eq(ASN1_ENUMERATED_get(e->mode), mode);
	cr_assert_eq(e->secure_boot != 0, secure);
}

Test(evidence, autonomous, .init = open_refuse, .fini = close_fx)
{
	fx_boot(&fx);
	uint8_t nonce[32];
	m2m_random(nonce, sizeof nonce);
	M2M_EVIDENCE *e = tre_evidence_build(&fx.t, nonce, M2M_MODE_AUTONOMOUS);
	check_common(e, nonce, M2M_MODE_AUTONOMOUS, 1);
	cr_assert_null(e->verdicts);
	cr_assert_null(e->quote);
	cr_assert_eq(ASN1_BIT_STRING_get_bit(e->tamper, M2M_TAMPER_CASE_OPENED), 0);
	int len;
	OPENSSL_free(evidence_der(e, &len));
	M2M_EVIDENCE_free(e);
}

Test(evidence, semi_autonomous_lists_each_component, .init = open_refuse, .fini = close_fx)
{
	modify(2, "patched os");
	fx_boot(&fx);
	uint8_t nonce[32];
	m2m_random(nonce, sizeof nonce);
	M2M_EVIDENCE *e = tre_evidence_build(&fx.t, nonce, M2M_MODE_SEMI_AUTONOMOUS);
	check_common(e, nonce, M2M_MODE_SEMI_AUTONOMOUS, 0);
	cr_assert_null(e->quote);
	cr_assert_eq(sk_M2M_COMPONENT_VERDICT_num(e->verdicts), FX_COMPONENTS);
	for (int i = 0; i < FX_COMPONENTS; i++) {
		const M2M_COMPONENT_VERDICT *v = sk_M2M_COMPONENT_VERDICT_value(e->verdicts, i);
		char name[64];
		cr_assert_eq(m2m_str(v->component, name, sizeof name), 0);
		cr_assert_str_eq(name, fx_component_names[i]);
		cr_assert_eq(v->matches != 0, i != 2, "%s", name);
	}
	cr_assert_eq(ASN1_BIT_STRING_get_bit(e->tamper, M2M_TAMPER_COMPONENT_MODIFIED), 1);
	int len;
	OPENSSL_free(evidence_der(e, &len));
	M2M_EVIDENCE_free(e);
}

Test(evidence, remote_quotes_registers_and_log, .init = open_refuse, .fini = close_fx)
{
	fx_boot(&fx);
	uint8_t nonce[32];
	m2m_random(nonce, sizeof nonce);
	M2M_EVIDENCE *e = tre_evidence_build(&fx.t, nonce, M2M_MODE_REMOTE);
	check_common(e, nonce, M2M_MODE_REMOTE, 1);
	cr_assert_null(e->verdicts);
	cr_assert_not_null(e->quote);
	cr_assert_eq(sk_ASN1_OCTET_STRING_num(e->quote->registers), TRE_REGISTERS);
	cr_assert_eq(sk_M2M_MEASUREMENT_LOG_ENTRY_num(e->quote->log), FX_COMPONENTS);
	/* a verifier's replay of the quoted log gives the quoted registers */
	uint8_t regs[TRE_REGISTERS][32] = {{0}};
	for (int i = 0; i < FX_COMPONENTS; i++) {
		const M2M_MEASUREMENT_LOG_ENTRY *l = sk_M2M_MEASUREMENT_LOG_ENTRY_value(e->quote->log, i);
		uint8_t buf[64];
		cr_assert_lt(l->register_, TRE_REGISTERS);
		cr_assert_eq(ASN1_STRING_length(l->digest), 32);
		memcpy(buf, regs[l->register_], 32);
		memcpy(buf + 32, ASN1_STRING_get0_data(l->digest), 32);
		SHA256(buf, 64, regs[l->register_]);
	}
	for (int r = 0; r < TRE_REGISTERS; r++) {
		const ASN1_OCTET_STRING *q = sk_ASN1_OCTET_STRING_value(e->quote->registers, r);
		cr_assert_eq(ASN1_STRING_length(q), 32);
		cr_assert_arr_eq(ASN1_STRING_get0_data(q), regs[r], 32, "register %d", r);
	}
	int len;
	OPENSSL_free(evidence_der(e, &len));
	M2M_EVIDENCE_free(e);
}

Test(evidence, signature_verifies_against_the_root, .init = open_refuse, .fini = close_fx)
{
	fx_boot(&fx);
	uint8_t nonce[32];
	m2m_random(nonce, sizeof nonce);
	for (int mode = M2M_MODE_AUTONOMOUS; mode <= M2M_MODE_REMOTE; mode++) {
		M2M_EVIDENCE *e = tre_evidence_build(&fx.t, nonce, (m2m_validation_mode)mode);
		int len;
		unsigned char *der = evidence_der(e, &len), *cms = NULL;
		size_t cmslen = 0, clen = 0;
		cr_assert_eq(tre_keystore_sign(&fx.t, der, (size_t)len, &cms, &cmslen), 0);
		m2m_trust *trust = fx_trust(&fx.agency);
		uint8_t *content = NULL;
		X509 *signer = NULL;
		cr_assert_eq(m2m_cms_verify(trust, cms, cmslen, &content, &clen, &signer), M2M_OK, "mode %d", mode);
		cr_assert_eq(clen, (size_t)len);
		cr_assert_arr_eq(content, der, clen);
		char cn[64];
		cr_assert_eq(m2m_pki_cert_cn(signer, cn, sizeof cn), 0);
		cr_assert_str_eq(cn, FX_ENTITY);
		cr_assert_eq(m2m_pki_cert_profile(signer), M2M_PROFILE_TRE);
		cr_assert_eq(m2m_trust_add_intermediate(trust, fx.agency.ca), 0);
		cr_assert_eq(m2m_pki_verify_tre(trust, signer, NULL), M2M_OK, "a tre certificate with its platform");
		/* a flipped byte of the evidence (the nonce) is caught */
		unsigned char *at = memmem(cms, cmslen, nonce, sizeof nonce);
		cr_assert_not_null(at);
		*at ^= 1;
		cr_assert_neq(m2m_cms_verify(trust, cms, cmslen, NULL, NULL, NULL), M2M_OK);
		X509_free(signer);
		OPENSSL_free(content);
		m2m_trust_free(trust);
		OPENSSL_free(cms);
		OPENSSL_free(der);
		M2M_EVIDENCE_free(e);
	}
}

Test(evidence, tamper_flags, .init = open_refuse, .fini = close_fx)
{
	fx_boot(&fx);
	cr_assert_eq(tre_tamper_open_case(&fx.t), 0);
	modify(0, "evil boot rom");
	fx_boot(&fx);
	uint8_t nonce[32] = {7};
	M2M_EVIDENCE *e = tre_evidence_build(&fx.t, nonce, M2M_MODE_AUTONOMOUS);
	cr_assert_eq(ASN1_BIT_STRING_get_bit(e->tamper, M2M_TAMPER_CASE_OPENED), 1);
	cr_assert_eq(ASN1_BIT_STRING_get_bit(e->tamper, M2M_TAMPER_COMPONENT_MODIFIED), 1);
	int len;
	unsigned char *der = evidence_der(e, &len);
	/* TamperFlags: BIT STRING, 2 bits used, both set: 03 02 06 c0 */
	static const unsigned char both[] = {0x03, 0x02, 0x06, 0xc0};
	cr_assert(fx_contains(der, (size_t)len, both, sizeof both));
	OPENSSL_free(der);
	M2M_EVIDENCE_free(e);
}

/* ---- tamper ------------------------------------------------------------------------------- */

static M2M_TAMPER_REPORT *first_report(uint8_t id[16], const char *recipient)
{
	sqlite3_stmt *st = m2m_store_prepare(fx.t.db, "SELECT report_id FROM tre_delivery WHERE recipient = ?1");
	sqlite3_bind_text(st, 1, recipient, -1, SQLITE_STATIC);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "a delivery to %s", recipient);
	memcpy(id, sqlite3_column_blob(st, 0), 16);
	sqlite3_finalize(st);
	unsigned char *der = NULL;
	size_t len = 0;
	cr_assert_eq(tre_tamper_report_der(&fx.t, id, &der, &len), 0);
	const unsigned char *p = der;
	M2M_TAMPER_REPORT *r = d2i_M2M_TAMPER_REPORT(NULL, &p, (long)len);
	cr_assert_not_null(r);
	OPENSSL_free(der);
	return r;
}

Test(tamper, open_case_latches_and_reports, .init = open_refuse, .fini = close_fx)
{
	fx_boot(&fx);
	cr_assert_eq(tre_tamper_open_case(&fx.t), 0);
	cr_assert_eq(tre_tamper_flags(&fx.t), TRE_TAMPER_BIT(M2M_TAMPER_CASE_OPENED));
	cr_assert_not(tre_credentials_allowed(&fx.t), "refuse: credentials withheld");
	cr_assert_eq(tre_tamper_pending(&fx.t), 1);
	cr_assert_eq(tre_tamper_open_case(&fx.t), 0);
	cr_assert_eq(tre_tamper_pending(&fx.t), 1, "opening an open case is no new event");
	uint8_t id[16];
	M2M_TAMPER_REPORT *r = first_report(id, FX_AGENCY);
	char text[64];
	cr_assert_eq(ASN1_ENUMERATED_get(r->event), M2M_TAMPER_CASE_OPENED);
	cr_assert_eq(ASN1_ENUMERATED_get(r->reaction), M2M_TAMPER_REFUSED);
	cr_assert_eq(m2m_str(r->tre, text, sizeof text), 0);
	cr_assert_str_eq(text, FX_ENTITY);
	cr_assert_eq(ASN1_STRING_length(r->component), 0);
	M2M_TAMPER_REPORT_free(r);
	/* the latch survives a power cycle, and so does the boot's verdict on it */
	fx_tre_reopen(&fx, fx.storage_key);
	fx_boot(&fx);
	cr_assert_eq(tre_tamper_flags(&fx.t), TRE_TAMPER_BIT(M2M_TAMPER_CASE_OPENED));
	cr_assert_not(tre_credentials_allowed(&fx.t));
}

Test(tamper, reports_kept_until_every_recipient_acknowledges, .init = open_refuse, .fini = close_fx)
{
	fx_boot(&fx);
	modify(2, "rootkit");
	fx_boot(&fx);
	uint8_t id[16];
	M2M_TAMPER_REPORT *r = first_report(id, FX_AGENCY);
	char text[64];
	cr_assert_eq(ASN1_ENUMERATED_get(r->event), M2M_TAMPER_COMPONENT_MODIFIED);
	cr_assert_eq(m2m_str(r->component, text, sizeof text), 0);
	cr_assert_str_eq(text, "os");
	M2M_TAMPER_REPORT_free(r);
	/* persisted: a power cycle keeps it */
	fx_tre_reopen(&fx, fx.storage_key);
	cr_assert_eq(tre_tamper_pending(&fx.t), 1);
	cr_assert_eq(tre_tamper_acknowledge(&fx.t, id, FX_AGENCY), 0);
	cr_assert_eq(tre_tamper_pending(&fx.t), 1, "the operator has not acknowledged it yet");
	uint8_t other[16] = {0};
	cr_assert_eq(tre_tamper_acknowledge(&fx.t, other, FX_OPERATOR), 0);
	cr_assert_eq(tre_tamper_pending(&fx.t), 1, "an ack for another report changes nothing");
	cr_assert_eq(tre_tamper_acknowledge(&fx.t, id, FX_OPERATOR), 0);
	cr_assert_eq(tre_tamper_pending(&fx.t), 0);
	/* the report itself stays on record */
	unsigned char *der = NULL;
	size_t len = 0;
	cr_assert_eq(tre_tamper_report_der(&fx.t, id, &der, &len), 0);
	OPENSSL_free(der);
}

Test(tamper, report_signature_verifies, .init = open_refuse, .fini = close_fx)
{
	fx_boot(&fx);
	cr_assert_eq(tre_tamper_open_case(&fx.t), 0);
	uint8_t id[16];
	M2M_TAMPER_REPORT_free(first_report(id, FX_OPERATOR));
	unsigned char *der = NULL, *cms = NULL;
	size_t len = 0, cmslen = 0;
	cr_assert_eq(tre_tamper_report_der(&fx.t, id, &der, &len), 0);
	cr_assert_eq(tre_keystore_sign(&fx.t, der, len, &cms, &cmslen), 0);
	M2M_SIGNED_OBJECT *so = M2M_SIGNED_OBJECT_new();
	ASN1_OCTET_STRING_set(so->cms, cms, (int)cmslen);
	m2m_trust *trust = fx_trust(&fx.agency);
	void *value = NULL;
	X509 *signer = NULL;
	cr_assert_eq(m2m_cms_verify_item(trust, so, ASN1_ITEM_rptr(M2M_TAMPER_REPORT), &value, &signer), M2M_OK);
	cr_assert_arr_eq(ASN1_STRING_get0_data(((M2M_TAMPER_REPORT *)value)->report_id), id, 16);
	M2M_TAMPER_REPORT_free(value);
	X509_free(signer);
	m2m_trust_free(trust);
	M2M_SIGNED_OBJECT_free(so);
	OPENSSL_free(cms);
	OPENSSL_free(der);
}

Test(tamper, refuse_withholds_credentials, .init = open_refuse, .fini = close_fx)
{
	fx_boot(&fx);
	const uint8_t secret[] = "pcid credential";
	uint8_t out[64];
	cr_assert_eq(tre_slot_put(&fx.t, "pcid", FX_OPERATOR, secret, sizeof secret), 0);
	cr_assert_eq(tre_slot_get(&fx.t, "pcid", out, sizeof out), (long)sizeof secret);
	cr_assert_arr_eq(out, secret, sizeof secret);
	modify(0, "evil");
	fx_boot(&fx);
	cr_assert_eq(tre_slot_get(&fx.t, "pcid", out, sizeof out), -1, "withheld");
	cr_assert_eq(tre_slot_count(&fx.t), 1, "refuse keeps the slot");
	modify(0, fx_component_content[0]);
	fx_boot(&fx);
	cr_assert_eq(tre_slot_get(&fx.t, "pcid", out, sizeof out), (long)sizeof secret, "released again");
}

Test(tamper, zeroise_wipes_slots_and_reports_to_the_owner, .init = open_zeroise, .fini = close_fx)
{
	fx_boot(&fx);
	tre_credential m = {.version = 1};
	memset(m.mcim_id, 7, sizeof m.mcim_id);
	snprintf(m.owner, sizeof m.owner, "mno-b");
	snprintf(m.imsi, sizeof m.imsi, FX_MCIM_IMSI);
	cr_assert_eq(tre_mcim_install(&fx.t, &m, fx_mcim_k, fx_mcim_opc, 0, 1), 0);
	cr_assert_eq(m.state, M2M_MCIM_ACTIVE, "the first MCIM is active at once");
	cr_assert_eq(tre_tamper_open_case(&fx.t), 0);
	cr_assert_eq(tre_slot_count(&fx.t), 0);
	cr_assert_eq(tre_mcim_count(&fx.t), 0, "the MCIM's row goes with its slot");
	uint8_t id[16];
	M2M_TAMPER_REPORT *r = first_report(id, "mno-b");
	cr_assert_eq(ASN1_ENUMERATED_get(r->reaction), M2M_TAMPER_ZEROISED);
	M2M_TAMPER_REPORT_free(r);
	/* nothing of the wiped MCIM is left in the database file, not even its IMSI */
	sqlite3_exec(fx.t.db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	cr_assert_not(fx_file_holds(fx.dbpath, FX_MCIM_IMSI, strlen(FX_MCIM_IMSI)));
}

/* ---- keys --------------------------------------------------------------------------------- */

static void private_scalar(EVP_PKEY *key, uint8_t out[32])
{
	BIGNUM *d = NULL;
	cr_assert_eq(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, &d), 1);
	cr_assert_eq(BN_bn2binpad(d, out, 32), 32);
	BN_clear_free(d);
}

Test(keys, private_key_is_sealed, .init = open_refuse, .fini = close_fx)
{
	uint8_t d[32];
	private_scalar(fx.t.key, d);
	uint8_t *pkcs8 = NULL;
	size_t len = 0;
	cr_assert_eq(m2m_pki_key_der(fx.t.key, &pkcs8, &len), 0);
	char wal[160];
	snprintf(wal, sizeof wal, "%s-wal", fx.dbpath);
	for (int pass = 0; pass < 2; pass++) {  /* in the WAL, then checkpointed into the file */
		cr_assert_not(fx_file_holds(fx.dbpath, d, sizeof d), "the database holds the private scalar");
		cr_assert_not(fx_file_holds(wal, d, sizeof d), "the WAL holds the private scalar");
		cr_assert_not(fx_file_holds(fx.dbpath, pkcs8, len));
		cr_assert_not(fx_file_holds(wal, pkcs8, len));
		sqlite3_exec(fx.t.db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	}
	OPENSSL_clear_free(pkcs8, len);
	/* the same key comes back after a power cycle */
	EVP_PKEY *before = fx.t.key;
	EVP_PKEY_up_ref(before);
	fx_tre_reopen(&fx, fx.storage_key);
	cr_assert_eq(EVP_PKEY_eq(before, fx.t.key), 1);
	cr_assert(tre_enrolled(&fx.t), "the certificate is kept");
	cr_assert(fx.t.have_refs, "the platform type is kept and verifies again");
	EVP_PKEY_free(before);
}

Test(keys, wrong_storage_key_does_not_open, .init = open_refuse, .fini = close_fx)
{
	uint8_t other[32];
	m2m_random(other, sizeof other);
	fx_tre_reopen(&fx, other);  /* asserts that tre_open fails */
	cr_assert_null(fx.t.key);
}

/* ---- enrolment and platform type ---------------------------------------------------------- */

static M2M_TRE_PLATFORM *platform(const char *model, const char *version, int level)
{
	M2M_TRE_PLATFORM *p = M2M_TRE_PLATFORM_new();
	m2m_set_str(p->model, model);
	m2m_set_str(p->version, version);
	p->assurance_level = (uint64_t)level;
	return p;
}

/* An enrolResponse for csr with the platform given, checked by tre_enrol_accept. */
static m2m_reason enrol_with(fx_agency *a, const uint8_t *csr, size_t len, M2M_TRE_PLATFORM *p)
{
	char why[300];
	X509 *cert = fx_issue_tre(a, csr, len, p);
	M2M_ENROL_RESPONSE *r = fx_enrol_response(a, cert);
	m2m_reason rc = tre_enrol_accept(&fx.t, r, why, sizeof why);
	M2M_ENROL_RESPONSE_free(r);
	X509_free(cert);
	M2M_TRE_PLATFORM_free(p);
	return rc;
}

Test(enrol, keeps_only_a_certificate_for_itself)
{
	fx_tre_open(&fx, M2M_TAMPER_REFUSED, 0);
	cr_assert_not(tre_enrolled(&fx.t));
	unsigned char *csr = NULL;
	size_t len = 0;
	/* another key */
	EVP_PKEY *other = m2m_pki_keygen();
	cr_assert_eq(m2m_pki_csr(other, FX_ENTITY, &csr, &len), 0);
	cr_assert_eq(enrol_with(&fx.agency, csr, len, platform(FX_MODEL, FX_VERSION, FX_LEVEL)), M2M_R_BAD_BODY);
	OPENSSL_free(csr);
	EVP_PKEY_free(other);
	cr_assert_eq(tre_keystore_csr(&fx.t, &csr, &len), 0);
	/* another platform */
	cr_assert_eq(enrol_with(&fx.agency, csr, len, platform(FX_MODEL, "2.0", FX_LEVEL)), M2M_R_BAD_BODY);
	cr_assert_eq(enrol_with(&fx.agency, csr, len, platform(FX_MODEL, FX_VERSION, 2)), M2M_R_BAD_BODY);
	/* another agency */
	fx_agency forger;
	fx_agency_make(&forger);
	cr_assert_eq(enrol_with(&forger, csr, len, platform(FX_MODEL, FX_VERSION, FX_LEVEL)), M2M_R_BAD_CHAIN);
	fx_agency_free(&forger);
	cr_assert_not(tre_enrolled(&fx.t), "nothing was kept");
	cr_assert_eq(enrol_with(&fx.agency, csr, len, platform(FX_MODEL, FX_VERSION, FX_LEVEL)), M2M_OK);
	cr_assert(tre_enrolled(&fx.t));
	OPENSSL_free(csr);
	fx_tre_close(&fx);
}

Test(platform, only_the_agency_certifies_reference_values)
{
	fx_tre_open(&fx, M2M_TAMPER_REFUSED, 0);
	char why[300];
	/* a TRE's own certificate chains to the same root: it must not certify reference values */
	unsigned char *csr = NULL;
	size_t len = 0;
	EVP_PKEY *rogue_key = m2m_pki_keygen();
	cr_assert_eq(m2m_pki_csr(rogue_key, "tre-rogue", &csr, &len), 0);
	M2M_TRE_PLATFORM *p = platform(FX_MODEL, FX_VERSION, FX_LEVEL);
	X509 *rogue = fx_issue_tre(&fx.agency, csr, len, p);
	M2M_SIGNED_OBJECT *so = fx_platform_type(&fx.agency, FX_MODEL, FX_VERSION, FX_COMPONENTS, rogue_key, rogue);
	cr_assert_eq(tre_platform_accept(&fx.t, so->cms->data, (size_t)so->cms->length, why, sizeof why),
		     M2M_R_NOT_AUTHORISED, "%s", why);
	M2M_SIGNED_OBJECT_free(so);
	/* another model */
	so = fx_platform_type(&fx.agency, "other-tre", FX_VERSION, FX_COMPONENTS, fx.agency.agency_key, fx.agency.agency);
	cr_assert_eq(tre_platform_accept(&fx.t, so->cms->data, (size_t)so->cms->length, why, sizeof why), M2M_R_BAD_BODY);
	M2M_SIGNED_OBJECT_free(so);
	/* a flipped byte */
	so = fx_platform_type(&fx.agency, FX_MODEL, FX_VERSION, FX_COMPONENTS, fx.agency.agency_key, fx.agency.agency);
	so->cms->data[so->cms->length - 10] ^= 1;
	cr_assert_neq(tre_platform_accept(&fx.t, so->cms->data, (size_t)so->cms->length, why, sizeof why), M2M_OK);
	cr_assert_not(fx.t.have_refs);
	M2M_SIGNED_OBJECT_free(so);
	M2M_TRE_PLATFORM_free(p);
	X509_free(rogue);
	EVP_PKEY_free(rogue_key);
	OPENSSL_free(csr);
	fx_tre_close(&fx);
}

Test(platform, a_stored_copy_that_does_not_verify_is_dropped, .init = open_refuse, .fini = close_fx)
{
	cr_assert(fx.t.have_refs);
	sqlite3_stmt *st = m2m_store_prepare(fx.t.db, "SELECT cms FROM tre_platform");
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	int n = sqlite3_column_bytes(st, 0);
	uint8_t *cms = malloc((size_t)n);
	memcpy(cms, sqlite3_column_blob(st, 0), (size_t)n);
	sqlite3_finalize(st);
	cms[n - 1] ^= 1;  /* the signature's last byte */
	st = m2m_store_prepare(fx.t.db, "UPDATE tre_platform SET cms = ?1");
	sqlite3_bind_blob(st, 1, cms, n, SQLITE_STATIC);
	cr_assert_eq(m2m_store_run(fx.t.db, st), 0);
	free(cms);
	fx_tre_reopen(&fx, fx.storage_key);
	cr_assert_not(fx.t.have_refs, "fetched again rather than trusted");
}
