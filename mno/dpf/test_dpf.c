/*
 * The DPF's MCIM download over the wire (docs/dpf.md), in the world of test_dpf_world.h: orders,
 * validation, packages, installs, refusals that change nothing, tamper reports, signed commands
 * and the settings.
 */
#include "test_dpf_world.h"

#include "dpf/command.h"

#include "crypto/crypto.h"
#include "store/store.h"
#include "wire/read.h"

#include <criterion/criterion.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(dpf, .init = world_setup, .fini = world_teardown, .timeout = 180);

/* An order the DPF must refuse with reason, its database unchanged. */
static void expect_refused(const uint8_t nonce[32], ASN1_OCTET_STRING *ticket_der, m2m_reason reason, const char *text)
{
	char *before = dpf_state();
	ta_answer a = order_with(nonce, ticket_der);
	cr_assert_eq(a.type, M2M_MSG_ERROR, "not refused: %d", a.type);
	cr_assert_eq(a.reason, reason, "reason %s (%s), not %s", m2m_reason_name(a.reason), a.text, m2m_reason_name(reason));
	cr_assert(strstr(a.text, text), "%s", a.text);
	char *after = dpf_state();
	cr_assert_str_eq(after, before, "a refusal changed the DPF's state");
	free(before);
	free(after);
}

/* ---- the procedure ------------------------------------------------------------------------------- */

Test(dpf, good_order_gets_a_package_only_the_tre_opens)
{
	start_world(TA_AGENCY);
	packaged p;
	order_packaged(&p);
	M2M_MCIM *m = p.mcim;
	char owner[64], tre[64];
	m2m_str(m->owner, owner, sizeof owner);
	m2m_str(m->tre, tre, sizeof tre);
	cr_assert_str_eq(owner, MNO);
	cr_assert_str_eq(tre, TRE);
	cr_assert_str_eq(p.imsi, IMSI_FIRST, "the first IMSI of the range");
	cr_assert_eq(m->version, 1);
	cr_assert_eq(ASN1_STRING_length(m->nonce), 32);
	cr_assert_arr_eq(ASN1_STRING_get0_data(m->nonce), p.nonce, 32, "the MCIM carries the order's nonce");
	cr_assert_arr_eq(ASN1_STRING_get0_data(m->mcim_id), ASN1_STRING_get0_data(p.package->mcim_id), 16);
	cr_assert_eq(ASN1_STRING_length(m->k), 16);
	cr_assert_eq(ASN1_STRING_length(m->opc), 16);
	cr_assert_arr_eq(ASN1_STRING_get0_data(m->amf), "\x80\x00", 2);
	cr_assert_eq(m->sqn, 0);
	cr_assert_eq(sk_ASN1_UTF8STRING_num(m->profile->allowed_apns), 1);
	cr_assert_eq(m->profile->cs_allowed, 0);
	cr_assert_null(m->profile->imei_lock);
	/* the HSS record: pending, K and OPc sealed (not in clear anywhere in the row) */
	cr_assert_str_eq(subscriber_state(IMSI_FIRST), "pending");
	char k_hex[33];
	m2m_hex(ASN1_STRING_get0_data(m->k), 16, k_hex);
	cr_assert_eq(query_int("mno-a.db", "SELECT count(*) FROM hss_subscriber WHERE instr(hex(k_opc_sealed), upper('%s'))"
				   " OR instr(hex(sqn), upper('%s'))", k_hex, k_hex), 0, "K in clear");
	cr_assert_eq(query_int("mno-a.db", "SELECT length(k_opc_sealed) FROM hss_subscriber WHERE imsi = '" IMSI_FIRST "'"),
		     32 + M2M_SEAL_OVERHEAD);
	cr_assert_eq(query_int("mno-a.db", "SELECT count(*) FROM dpf_order WHERE state = 'packaged'"), 1);
	packaged_free(&p);
}

Test(dpf, exported_package_opens_with_the_openssl_command_line)
{
	start_world(TA_AGENCY);
	packaged p;
	order_packaged(&p);
	char id_hex[33], keyfile[128];
	m2m_hex(ASN1_STRING_get0_data(p.package->mcim_id), 16, id_hex);
	path_of(keyfile, sizeof keyfile, "tre-1.key.pem");
	FILE *f = fopen(keyfile, "w");
	cr_assert(f && PEM_write_PrivateKey(f, w.tre_key, NULL, NULL, 0, NULL, NULL));
	fclose(f);
	cr_assert_eq(ta_run("cd %s && openssl cms -decrypt -inform DER -binary -in export/%s.cms -recip export/" TRE ".pem"
			    " -inkey tre-1.key.pem -out inner.der 2>openssl.err"
			    " && openssl cms -verify -inform DER -binary -in inner.der -CAfile root.pem -out mcim.der"
			    " 2>>openssl.err && openssl asn1parse -inform DER -in mcim.der >mcim.txt", w.dir, id_hex), 0,
		     "see %s/openssl.err", w.dir);
	cr_assert_eq(ta_run("grep -q ':" TRE "' %s/mcim.txt && grep -q -- '-----BEGIN CERTIFICATE' %s/export/dpf.pem", w.dir,
			    w.dir), 0);
	packaged_free(&p);
}

Test(dpf, retried_order_gets_the_same_bytes)
{
	start_world(TA_AGENCY);
	packaged p;
	order_packaged(&p);
	char *before = dpf_state();
	/* the same McimOrder again (the reply was lost on the way back): a new envelope, a new
	 * ticket even, the same TRE and nonce */
	ta_answer a = order_with(p.nonce, ticket(TRE, MNO, 600, BY_DRF));
	cr_assert_eq(a.type, M2M_MSG_MCIM_PACKAGE);
	const M2M_MCIM_PACKAGE *again = a.body;
	cr_assert_eq(ASN1_STRING_cmp(again->package, p.package->package), 0, "another package");
	cr_assert_eq(ASN1_STRING_cmp(again->mcim_id, p.package->mcim_id), 0);
	char *after = dpf_state();
	cr_assert_str_eq(after, before);
	free(before);
	free(after);
	ta_answer_free(&a);
	/* a new order (another nonce) withdraws the pending one and gets the next IMSI */
	packaged q;
	order_packaged(&q);
	cr_assert_str_eq(q.imsi, "001010000100002");
	cr_assert_str_eq(subscriber_state(IMSI_FIRST), "deleted");
	cr_assert_str_eq(subscriber_state(q.imsi), "pending");
	cr_assert_eq(query_int("mno-a.db", "SELECT count(*) FROM dpf_order WHERE state = 'withdrawn'"), 1);
	/* the withdrawn one cannot be installed */
	ta_answer r = relay(M2M_MSG_INSTALL_RESULT, install_result(ASN1_STRING_get0_data(p.package->mcim_id), p.nonce,
							     M2M_INSTALLED, BY_TRE));
	cr_assert_eq(r.reason, M2M_R_WRONG_STATE, "%s", r.text);
	packaged_free(&p);
	packaged_free(&q);
}

static int validating(void)
{
	return query_int("mno-a.db", "SELECT count(*) FROM dpf_order WHERE state = 'validating'") == 1;
}

static void ignore_answer(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
}

Test(dpf, an_order_validating_across_a_restart_is_validated_again)
{
	w.verdict = V_SILENT;
	start_world(FAKE_PVA);
	uint8_t nonce[32];
	m2m_random(nonce, sizeof nonce);
	M2M_SIGNED_OBJECT *so = order(nonce, ticket(TRE, MNO, 600, BY_DRF));
	cr_assert_eq(m2m_call(w.vno, MNO, M2M_MSG_MCIM_REQUEST, so, ignore_answer, NULL), 0);
	cr_assert(wait_for(validating, 10), "the order was not recorded before the PVA was asked");
	/* the DPF stops while the PVA has not answered; it comes back asking the real PVA */
	cr_assert_eq(ta_stop(w.mno_pid), 0, "see %s/mno-a.log", w.dir);
	start_mno(TA_AGENCY);
	cr_assert(wait_for(dpf_enrolled, 10));
	ta_answer a = ta_call(w.vno, MNO, M2M_MSG_MCIM_REQUEST, so);
	cr_assert_eq(a.type, M2M_MSG_MCIM_PACKAGE, "%s %s", m2m_reason_name(a.reason), a.text);
	cr_assert_eq(query_int("mno-a.db", "SELECT count(*) FROM dpf_order"), 1, "the same order, packaged");
	/* and a packaged order survives a restart: the same bytes again */
	cr_assert_eq(ta_stop(w.mno_pid), 0);
	start_mno(TA_AGENCY);
	ta_answer b = ta_call(w.vno, MNO, M2M_MSG_MCIM_REQUEST, so);
	cr_assert_eq(b.type, M2M_MSG_MCIM_PACKAGE, "%s %s", m2m_reason_name(b.reason), b.text);
	cr_assert_eq(ASN1_STRING_cmp(((M2M_MCIM_PACKAGE *)b.body)->package, ((M2M_MCIM_PACKAGE *)a.body)->package), 0);
	ta_answer_free(&a);
	ta_answer_free(&b);
	M2M_SIGNED_OBJECT_free(so);
}

Test(dpf, install_activates_and_tells_the_drf)
{
	start_world(TA_AGENCY);
	w.refuse_provisioned = 1;  /* the DRF's first answer is lost: the DPF tries again */
	packaged p;
	order_packaged(&p);
	const uint8_t *mcim_id = ASN1_STRING_get0_data(p.package->mcim_id);
	install(&p, M2M_INSTALLED);
	cr_assert_str_eq(subscriber_state(IMSI_FIRST), "active");
	cr_assert_eq(query_int("mno-a.db", "SELECT count(*) FROM dpf_order WHERE state = 'installed'"), 1);
	cr_assert(wait_for(provisioned_once, 20), "no provisioned reached the DRF");
	cr_assert_arr_eq(w.provisioned_id, mcim_id, 16);
	cr_assert(wait_for(provisioned_acknowledged, 10));
	/* the install result again (its ack was lost): the same ack, nothing changes */
	char *before = dpf_state();
	install(&p, M2M_INSTALLED);
	char *after = dpf_state();
	cr_assert_str_eq(after, before);
	pump(200);
	cr_assert_eq(w.provisioned, 1, "provisioned twice");
	free(before);
	free(after);
	packaged_free(&p);
}

Test(dpf, refused_install_deletes_the_pending_record)
{
	start_world(TA_AGENCY);
	packaged p;
	order_packaged(&p);
	install(&p, M2M_INSTALL_REFUSED);
	cr_assert_str_eq(subscriber_state(IMSI_FIRST), "deleted");
	cr_assert_eq(query_int("mno-a.db", "SELECT count(*) FROM hss_subscriber WHERE k_opc_sealed IS NOT NULL"), 0);
	cr_assert_eq(query_int("mno-a.db", "SELECT count(*) FROM dpf_order WHERE state = 'refused'"), 1);
	pump(300);
	cr_assert_eq(w.provisioned, 0);
	packaged_free(&p);
}

Test(dpf, install_results_that_do_not_match_are_refused)
{
	start_world(TA_AGENCY);
	packaged p;
	order_packaged(&p);
	const uint8_t *mcim_id = ASN1_STRING_get0_data(p.package->mcim_id);
	uint8_t other[32];
	m2m_random(other, sizeof other);
	char *before = dpf_state();
	struct {
		M2M_SIGNED_OBJECT *so;
		m2m_reason reason;
	} cases[] = {
		{install_result(mcim_id, other, M2M_INSTALLED, BY_TRE), M2M_R_NONCE_REPLAYED},
		{install_result(other, p.nonce, M2M_INSTALLED, BY_TRE), M2M_R_NOT_FOUND},
		{install_result(mcim_id, p.nonce, M2M_INSTALLED, BY_DRF), M2M_R_BAD_SIGNATURE},
		{install_result(mcim_id, p.nonce, M2M_INSTALLED, BY_TRE), M2M_R_BAD_SIGNATURE},
	};
	/* the last one's signature is damaged on the way */
	M2M_SIGNED_OBJECT *damaged = cases[3].so;
	damaged->cms->data[damaged->cms->length - 10] ^= 0x01;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ta_answer a = relay(M2M_MSG_INSTALL_RESULT, cases[i].so);
		cr_assert_eq(a.type, M2M_MSG_ERROR, "case %zu accepted", i);
		cr_assert_eq(a.reason, cases[i].reason, "case %zu: %s (%s)", i, m2m_reason_name(a.reason), a.text);
	}
	char *after = dpf_state();
	cr_assert_str_eq(after, before, "a refusal changed the DPF's state");
	cr_assert_str_eq(subscriber_state(IMSI_FIRST), "pending");
	free(before);
	free(after);
	packaged_free(&p);
}

/* ---- refused orders --------------------------------------------------------------------------------- */

Test(dpf, orders_with_bad_tickets_are_refused)
{
	start_world(TA_AGENCY);
	uint8_t nonce[32];
	m2m_random(nonce, sizeof nonce);
	expect_refused(nonce, ticket(TRE, MNO, 600, BY_TRE), M2M_R_BAD_SIGNATURE, "not by the registration operator");
	expect_refused(nonce, ticket(TRE, MNO, 600, BY_OTHER_FUNCTION), M2M_R_BAD_SIGNATURE, "not by the registration");
	expect_refused(nonce, ticket(TRE, "mno-b", 600, BY_DRF), M2M_R_WRONG_SHO, "another operator");
	expect_refused(nonce, ticket(TRE, MNO, -10, BY_DRF), M2M_R_WRONG_STATE, "ticket expired");
	expect_refused(nonce, ticket("tre-2", MNO, 600, BY_DRF), M2M_R_NOT_AUTHORISED, "another TRE");
	cr_assert_eq(orders(), 0, "%lld orders", orders());
	cr_assert_eq(query_int("mno-a.db", "SELECT count(*) FROM hss_subscriber"), 0);
	/* the same nonce with a good ticket is then fine */
	ta_answer a = order_with(nonce, ticket(TRE, MNO, 600, BY_DRF));
	cr_assert_eq(a.type, M2M_MSG_MCIM_PACKAGE, "%s", a.text);
	ta_answer_free(&a);
}

Test(dpf, order_signed_by_a_revoked_tre_or_model_is_refused)
{
	start_world(TA_AGENCY);
	uint64_t serial = 0;
	cr_assert_eq(m2m_pki_cert_serial(w.tre_cert, &serial), 0);
	cr_assert_eq(ta_agency_admin(&w.agency, "revoke --serial %llu", (unsigned long long)serial), 0);
	pump(3000);  /* the DPF fetches the CRL every second */
	uint8_t nonce[32];
	m2m_random(nonce, sizeof nonce);
	expect_refused(nonce, ticket(TRE, MNO, 600, BY_DRF), M2M_R_CERTIFICATE_REVOKED, "order refused");
	/* its model withdrawn too: that is the finding that matters (every TRE of it is weak) */
	cr_assert_eq(ta_agency_admin(&w.agency, "revoke --model " MODEL), 0);
	pump(3000);
	expect_refused(nonce, ticket(TRE, MNO, 600, BY_DRF), M2M_R_MODEL_REVOKED, "order refused");
	cr_assert_eq(orders(), 0, "%lld orders", orders());
}

Test(dpf, a_tre_the_pva_fails_gets_nothing)
{
	start_world(TA_AGENCY);
	/* an attacker flashes the OS; the next boot measures it, and the PVA sees it in the quote */
	ta_answer a = control(M2M_TRE_CTL_MODIFY_COMPONENT, "os", "rootkit");
	ta_answer_free(&a);
	a = control(M2M_TRE_CTL_BOOT, NULL, NULL);
	ta_answer_free(&a);
	pump(500);  /* the TRE's tamper report reaches the DPF too: nothing to suspend yet */
	uint8_t nonce[32];
	m2m_random(nonce, sizeof nonce);
	expect_refused(nonce, ticket(TRE, MNO, 600, BY_DRF), M2M_R_NOT_VALIDATED, "componentModified");
	cr_assert_eq(orders(), 0, "%lld orders", orders());
	cr_assert_eq(query_int("mno-a.db", "SELECT count(*) FROM hss_subscriber"), 0);
}

Test(dpf, verdicts_not_about_this_tre_for_this_operator_are_refused)
{
	start_world(FAKE_PVA);
	w.relay = w.pva;
	verdict_kind kinds[] = {V_OTHER_TRE, V_OTHER_PARTY, V_EXPIRED};
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		w.verdict = kinds[i];
		uint8_t nonce[32];
		m2m_random(nonce, sizeof nonce);
		expect_refused(nonce, ticket(TRE, MNO, 600, BY_DRF), M2M_R_STALE_VERDICT, "not a fresh one");
	}
	cr_assert_eq(orders(), 0, "%lld orders", orders());
}

/* ---- tampering and commands -------------------------------------------------------------------------- */

static int suspended(void)
{
	return !strcmp(subscriber_state(IMSI_FIRST), "suspended");
}

Test(dpf, tamper_report_suspends_the_tres_mcim)
{
	start_world(TA_AGENCY);
	packaged p;
	order_packaged(&p);
	install(&p, M2M_INSTALLED);
	cr_assert_str_eq(subscriber_state(IMSI_FIRST), "active");
	ta_answer a = control(M2M_TRE_CTL_OPEN_CASE, NULL, NULL);
	ta_answer_free(&a);
	cr_assert(wait_for(suspended, 20), "the MCIM's record is %s", subscriber_state(IMSI_FIRST));
	cr_assert_eq(query_int("mno-a.db", "SELECT suspended FROM dpf_tamper"), 1);
	packaged_free(&p);
}

Test(dpf, commands_are_signed_by_the_owner_and_receipts_checked)
{
	start_world(TA_AGENCY);
	/* the DPF's own identity, opened from its database with its storage key (read only) */
	uint8_t storage_key[32];
	read_hex_file("mno-a.storage", storage_key, sizeof storage_key);
	sqlite3 *db = open_readonly("mno-a.db");
	m2m_identity_settings s = {.profile = M2M_PROFILE_OPERATOR_FUNCTION};
	snprintf(s.agency, sizeof s.agency, TA_AGENCY);
	s.root = m2m_pki_cert_read_pem(w.agency.root);
	m2m_identity *id = m2m_identity_open(db, storage_key, MNO, &s);
	cr_assert(m2m_identity_ready(id));
	dpf_command cmd = {.action = M2M_MCIM_DEACTIVATE};
	m2m_random(cmd.mcim_id, sizeof cmd.mcim_id);
	snprintf(cmd.tre, sizeof cmd.tre, TRE);
	M2M_SIGNED_OBJECT *so = M2M_SIGNED_OBJECT_new();
	cr_assert_eq(dpf_command_sign(id, MNO, &cmd, so), 0);
	/* what the TRE checks: the owner's operatorFunction certificate, the fields */
	M2M_MCIM_COMMAND *got = NULL;
	X509 *signer = NULL;
	cr_assert_eq(m2m_cms_verify_item(w.trust, so, ASN1_ITEM_rptr(M2M_MCIM_COMMAND), (void **)&got, &signer), M2M_OK);
	char cn[64];
	cr_assert_eq(m2m_pki_cert_cn(signer, cn, sizeof cn), 0);
	cr_assert_str_eq(cn, MNO);
	cr_assert_eq(m2m_pki_cert_profile(signer), M2M_PROFILE_OPERATOR_FUNCTION);
	cr_assert_eq(ASN1_ENUMERATED_get(got->action), M2M_MCIM_DEACTIVATE);
	cr_assert_arr_eq(ASN1_STRING_get0_data(got->nonce), cmd.nonce, 32);
	/* the TRE's receipt */
	M2M_MCIM_RECEIPT *r = M2M_MCIM_RECEIPT_new();
	ASN1_OCTET_STRING_set(r->mcim_id, cmd.mcim_id, 16);
	m2m_set_str(r->tre, TRE);
	ASN1_ENUMERATED_set(r->action, M2M_MCIM_DEACTIVATE);
	ASN1_OCTET_STRING_set(r->nonce, cmd.nonce, 32);
	ASN1_ENUMERATED_set(r->state, M2M_MCIM_INACTIVE);
	M2M_SIGNED_OBJECT *receipt = M2M_SIGNED_OBJECT_new(), *forged = M2M_SIGNED_OBJECT_new();
	sign_as(BY_TRE, ASN1_ITEM_rptr(M2M_MCIM_RECEIPT), r, receipt);
	sign_as(BY_DRF, ASN1_ITEM_rptr(M2M_MCIM_RECEIPT), r, forged);
	m2m_mcim_state state = M2M_MCIM_ACTIVE;
	char why[256];
	cr_assert_eq(dpf_receipt_check(w.trust, receipt, &cmd, &state, why, sizeof why), M2M_OK, "%s", why);
	cr_assert_eq(state, M2M_MCIM_INACTIVE);
	cr_assert_eq(dpf_receipt_check(w.trust, forged, &cmd, &state, why, sizeof why), M2M_R_BAD_SIGNATURE);
	dpf_command other = cmd;
	other.nonce[0] ^= 1;
	cr_assert_eq(dpf_receipt_check(w.trust, receipt, &other, &state, why, sizeof why), M2M_R_NONCE_REPLAYED);
	other = cmd;
	other.action = M2M_MCIM_DELETE;
	cr_assert_eq(dpf_receipt_check(w.trust, receipt, &other, &state, why, sizeof why), M2M_R_BAD_BODY);
	M2M_MCIM_RECEIPT_free(r);
	M2M_SIGNED_OBJECT_free(receipt);
	M2M_SIGNED_OBJECT_free(forged);
	M2M_MCIM_COMMAND_free(got);
	X509_free(signer);
	M2M_SIGNED_OBJECT_free(so);
	m2m_identity_free(id);
	m2m_identity_settings_clear(&s);
	sqlite3_close(db);
}

/* ---- settings ------------------------------------------------------------------------------------------ */

/* mno --check-config on a dpf group ending with extra, pva as given: the exit status; the message
 * is in check.err. */
static int check_config(const char *pva, const char *extra)
{
	char bin[512];
	write_mno_conf(pva, extra);
	return ta_run("%s -c %s/mno-a.conf --check-config >%s/check.err 2>&1",
		      ta_binary("MNO_BINARY", "mno/mno", bin, sizeof bin), w.dir, w.dir);
}

static int check_said(const char *text)
{
	return ta_run("grep -q -- '%s' %s/check.err", text, w.dir) == 0;
}

Test(dpf, settings_are_checked)
{
	start_agency();
	const char *range = "imsi_first = \"" IMSI_FIRST "\"; imsi_count = 10;";
	cr_assert_eq(check_config(TA_AGENCY, range), 0, "a good group refused: see %s/check.err", w.dir);
	struct {
		const char *pva, *extra, *said;
	} bad[] = {
		{TA_AGENCY, "imsi_first = \"001020000000001\"; imsi_count = 10;", "plmn 00101"},
		{TA_AGENCY, "imsi_first = \"001019999999999\"; imsi_count = 2;", "outside the 15-digit IMSIs"},
		{TA_AGENCY, "imsi_first = \"" IMSI_FIRST "\";", "imsi_count"},
		{TA_AGENCY, "imsi_first = \"" IMSI_FIRST "\"; imsi_count = 10; imsi_last = \"1\";", "imsi_last"},
		{TA_AGENCY, "imsi_first = \"" IMSI_FIRST "\"; imsi_count = 10; apns = [ \"a b\" ];", "an APN is"},
		{TA_AGENCY, "imsi_first = \"" IMSI_FIRST "\"; imsi_count = 10; export_dir = \"/nonexistent\";",
		 "not a directory"},
		{"nobody", "imsi_first = \"" IMSI_FIRST "\"; imsi_count = 10;", "not in peers"},
		{VNO, "imsi_first = \"" IMSI_FIRST "\"; imsi_count = 10;", "without an endpoint"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cr_assert_eq(check_config(bad[i].pva, bad[i].extra), 2, "case %zu accepted", i);
		cr_assert(check_said(bad[i].said), "case %zu: see %s/check.err", i, w.dir);
	}
}
