/*
 * The old SHO's side of a change of subscription (docs/alt1a-change.md, docs/dpf.md), in the world
 * of test_dpf_world.h. The real TRE first gets an MCIM of mno-a by running its own provisioning,
 * the test carrying each step as its M2ME (and answering the discovery as the DRF); then the
 * test, as the DRF, notifies the change and releases it, and watches the DPF drive the real TRE
 * with its signed commands: reprovision, then delete. The TRE is stopped (SIGSTOP) and the mno
 * restarted between steps to check that the commands are retried until answered and that a
 * restart resumes them; a refusal is checked to change nothing.
 */
#include "test_dpf_world.h"

#include "crypto/crypto.h"
#include "store/store.h"
#include "wire/read.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHO_B "mno-b"

TestSuite(change, .init = world_setup, .fini = world_teardown, .timeout = 300);

/* ---- the TRE's own provisioning, the test as its M2ME -------------------------------------------- */

static M2M_RELAY_RESPONSE *relay_response(int type, const void *body)
{
	M2M_RELAY_RESPONSE *r = M2M_RELAY_RESPONSE_new();
	unsigned char *der = NULL;
	int len = ASN1_item_i2d(body, &der, m2m_msgdef_find(type)->item());
	cr_assert(len > 0);
	r->message_type = type;
	ASN1_OCTET_STRING_set(r->body, der, len);
	OPENSSL_free(der);
	return r;
}

/* The discovery, answered as the DRF: a ticket naming mno-a, for the request's nonce. */
static M2M_RELAY_RESPONSE *discovered(const ASN1_OCTET_STRING *body)
{
	M2M_SIGNED_OBJECT *so = NULL;
	M2M_DISCOVERY_REQUEST *d = NULL;
	X509 *signer = NULL;
	uint8_t nonce[32];
	cr_assert_eq(m2m_decode_body(M2M_MSG_DISCOVERY_REQUEST, ASN1_STRING_get0_data(body), (size_t)ASN1_STRING_length(body),
				     (void **)&so), M2M_OK);
	cr_assert_eq(m2m_cms_verify_item(w.trust, so, ASN1_ITEM_rptr(M2M_DISCOVERY_REQUEST), (void **)&d, &signer), M2M_OK);
	cr_assert_eq(m2m_read_octets(d->nonce, nonce, sizeof nonce), 0);
	M2M_SIGNED_OBJECT *t = M2M_SIGNED_OBJECT_new();
	ASN1_OCTET_STRING_free(t->cms);
	t->cms = ticket_for(TRE, MNO, nonce, NULL, 600, BY_DRF);
	M2M_RELAY_RESPONSE *r = relay_response(M2M_MSG_DISCOVERY_RESPONSE, t);
	M2M_SIGNED_OBJECT_free(t);
	M2M_SIGNED_OBJECT_free(so);
	M2M_DISCOVERY_REQUEST_free(d);
	X509_free(signer);
	return r;
}

/* One step the TRE names, carried to its destination through the visited operator. */
static M2M_RELAY_RESPONSE *carry(const M2M_RELAY_STEP *step)
{
	char dest[64];
	void *body = NULL;
	int type = step->message_type;
	if (type == M2M_MSG_DISCOVERY_REQUEST)
		return discovered(step->body);
	cr_assert_eq(m2m_str(step->destination, dest, sizeof dest), 0);
	cr_assert_eq(m2m_decode_body(type, ASN1_STRING_get0_data(step->body), (size_t)ASN1_STRING_length(step->body), &body),
		     M2M_OK);
	ta_answer a = ta_call(w.vno, dest, type, body);
	ASN1_item_free(body, m2m_msgdef_find(type)->item());
	cr_assert_neq(a.type, M2M_MSG_ERROR, "%s refused %s: %s %s (see %s)", dest, m2m_msgtype_name(type),
		      m2m_reason_name(a.reason), a.text, w.dir);
	M2M_RELAY_RESPONSE *r = relay_response(a.type, a.body);
	ta_answer_free(&a);
	return r;
}

/* treProvision {answer} (consumed): the TRE's next step. It may refuse to start until it holds
 * the agency's current CRL: asked again then. */
static M2M_TRE_PROVISION_NEXT *tre_next(M2M_RELAY_RESPONSE *answer)
{
	M2M_TRE_PROVISION *p = M2M_TRE_PROVISION_new();
	p->answer = answer;
	ta_answer a = {0};
	for (int i = 0; i < 20; i++) {
		a = ta_call(w.m2me, TRE, M2M_MSG_TRE_PROVISION, p);
		if (a.type != M2M_MSG_ERROR || a.reason != M2M_R_WRONG_STATE || answer)
			break;
		pump(500);
	}
	M2M_TRE_PROVISION_free(p);
	cr_assert_eq(a.type, M2M_MSG_TRE_PROVISION_NEXT, "treProvision refused: %s %s (see %s/tre-1.log)",
		     m2m_reason_name(a.reason), a.text, w.dir);
	return a.body;
}

static int installed(void)
{
	return query_int("mno-a.db", "SELECT count(*) FROM dpf_order WHERE state = 'installed'") == 1;
}

/* The TRE runs its provisioning to the end: it holds an active MCIM of mno-a, whose id is
 * returned in mcim_id and IMSI in imsi. */
static void provision_tre(uint8_t mcim_id[16], char imsi[16])
{
	M2M_RELAY_RESPONSE *answer = NULL;
	int state = -1;
	for (int i = 0; i < 8 && state != M2M_PROV_DONE; i++) {
		M2M_TRE_PROVISION_NEXT *next = tre_next(answer);
		state = (int)ASN1_ENUMERATED_get(next->state);
		cr_assert(state == M2M_PROV_DONE || next->step, "the TRE's provisioning stopped in state %d (see %s/tre-1.log)",
			  state, w.dir);
		answer = state == M2M_PROV_DONE ? NULL : carry(next->step);
		M2M_TRE_PROVISION_NEXT_free(next);
	}
	cr_assert_eq(state, M2M_PROV_DONE);
	cr_assert(wait_for(installed, 10));
	sqlite3 *db = open_readonly("mno-a.db");
	sqlite3_stmt *st = NULL;
	cr_assert_eq(sqlite3_prepare_v2(db, "SELECT mcim_id, imsi FROM dpf_order WHERE state = 'installed'", -1, &st, NULL),
		     SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_eq(m2m_store_column_blob(st, 0, mcim_id, 16), 0);
	m2m_store_column_text(st, 1, imsi, 16);
	sqlite3_finalize(st);
	sqlite3_close(db);
	cr_assert_str_eq(subscriber_state(imsi), "active");
}

/* ---- the DRF's side ------------------------------------------------------------------------------ */

static ta_answer notify_from(m2m_node *from, const uint8_t change_id[16], const char *tre, const char *to_sho)
{
	M2M_CHANGE_NOTIFY *n = M2M_CHANGE_NOTIFY_new();
	ASN1_OCTET_STRING_set(n->change_id, change_id, 16);
	m2m_set_str(n->tre, tre);
	m2m_set_digits(&n->m2me, IMEI);
	m2m_set_str(n->to_sho, to_sho);
	ta_answer a = ta_call(from, MNO, M2M_MSG_CHANGE_NOTIFY, n);
	M2M_CHANGE_NOTIFY_free(n);
	return a;
}

/* changeNotify from the DRF, consented: the MCIM the change replaces must be mcim_id. */
static void consented(const uint8_t change_id[16], const uint8_t mcim_id[16])
{
	ta_answer a = notify_from(w.drf, change_id, TRE, SHO_B);
	cr_assert_eq(a.type, M2M_MSG_CHANGE_CONSENT, "refused: %s %s", m2m_reason_name(a.reason), a.text);
	const M2M_CHANGE_CONSENT *c = a.body;
	cr_assert_arr_eq(ASN1_STRING_get0_data(c->change_id), change_id, 16);
	cr_assert_arr_eq(ASN1_STRING_get0_data(c->mcim_id), mcim_id, 16);
	ta_answer_free(&a);
}

static ta_answer release_from(m2m_node *from, const uint8_t change_id[16], const uint8_t mcim_id[16])
{
	M2M_CHANGE_RELEASE *r = M2M_CHANGE_RELEASE_new();
	ASN1_OCTET_STRING_set(r->change_id, change_id, 16);
	m2m_set_str(r->tre, TRE);
	ASN1_OCTET_STRING_set(r->mcim_id, mcim_id, 16);
	ta_answer a = ta_call(from, MNO, M2M_MSG_CHANGE_RELEASE, r);
	M2M_CHANGE_RELEASE_free(r);
	return a;
}

static void released(const uint8_t change_id[16], const uint8_t mcim_id[16])
{
	ta_answer a = release_from(w.drf, change_id, mcim_id);
	cr_assert_eq(a.type, M2M_MSG_CHANGE_RELEASE_ACK, "refused: %s %s", m2m_reason_name(a.reason), a.text);
	cr_assert_arr_eq(ASN1_STRING_get0_data(((M2M_CHANGE_ACK *)a.body)->change_id), change_id, 16);
	ta_answer_free(&a);
}

/* A request the DPF must refuse with reason, its database unchanged. */
static void expect_refusal(ta_answer a, m2m_reason reason, const char *before)
{
	cr_assert_eq(a.type, M2M_MSG_ERROR, "not refused: %d", a.type);
	cr_assert_eq(a.reason, reason, "reason %s (%s), not %s", m2m_reason_name(a.reason), a.text, m2m_reason_name(reason));
	char *after = dpf_state();
	cr_assert_str_eq(after, before, "a refusal changed the DPF's state");
	free(after);
}

/* ---- where the change stands -------------------------------------------------------------------- */

static char change_hex[33];

static const char *change_state(void)
{
	static char state[16];
	sqlite3 *db = open_readonly("mno-a.db");
	sqlite3_stmt *st = NULL;
	cr_assert_eq(sqlite3_prepare_v2(db, "SELECT state FROM dpf_change WHERE hex(change_id) = upper(?)", -1, &st, NULL),
		     SQLITE_OK);
	sqlite3_bind_text(st, 1, change_hex, -1, SQLITE_STATIC);
	snprintf(state, sizeof state, "%s", sqlite3_step(st) == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : "none");
	sqlite3_finalize(st);
	sqlite3_close(db);
	return state;
}

static int triggered(void)
{
	return !strcmp(change_state(), "triggered");
}

static int deleted(void)
{
	return !strcmp(change_state(), "deleted");
}

static void new_change(uint8_t change_id[16])
{
	m2m_random(change_id, 16);
	m2m_hex(change_id, 16, change_hex);
}

/* The TRE stops answering (its requests queue up) and comes back. */
static void tre_freeze(int frozen)
{
	cr_assert_eq(kill(w.tre_pid, frozen ? SIGSTOP : SIGCONT), 0);
}

static void restart_mno(void)
{
	cr_assert_eq(ta_stop(w.mno_pid), 0, "see %s/mno-a.log", w.dir);
	start_mno(TA_AGENCY);
	cr_assert(wait_for(dpf_enrolled, 10));
}

/* mno-admin show IMSI: its output (free it). */
static char *admin_show(const char *imsi)
{
	char bin[512], path[128];
	cr_assert_eq(ta_run("%s -c %s/mno-a.conf show %s >%s/show.out 2>&1",
			    ta_binary("MNO_ADMIN", "mno/hss/mno-admin", bin, sizeof bin), w.dir, imsi, w.dir), 0,
		     "see %s/show.out", w.dir);
	path_of(path, sizeof path, "show.out");
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f);
	char *text = calloc(1, 16384);
	fread(text, 1, 16383, f);
	fclose(f);
	return text;
}

/* The deletion receipt the DPF kept: a CMS the TRE signed, about mcim_id, state deleted. */
static void check_kept_receipt(const uint8_t mcim_id[16])
{
	sqlite3 *db = open_readonly("mno-a.db");
	sqlite3_stmt *st = NULL;
	cr_assert_eq(sqlite3_prepare_v2(db, "SELECT receipt FROM dpf_change WHERE hex(change_id) = upper(?)", -1, &st, NULL),
		     SQLITE_OK);
	sqlite3_bind_text(st, 1, change_hex, -1, SQLITE_STATIC);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_eq(sqlite3_column_type(st, 0), SQLITE_BLOB, "no receipt kept");
	M2M_SIGNED_OBJECT so = {.cms = ASN1_OCTET_STRING_new()};
	ASN1_OCTET_STRING_set(so.cms, sqlite3_column_blob(st, 0), sqlite3_column_bytes(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	M2M_MCIM_RECEIPT *r = NULL;
	X509 *signer = NULL;
	char cn[64];
	cr_assert_eq(m2m_cms_verify_item(w.trust, &so, ASN1_ITEM_rptr(M2M_MCIM_RECEIPT), (void **)&r, &signer), M2M_OK);
	cr_assert_eq(m2m_pki_cert_cn(signer, cn, sizeof cn), 0);
	cr_assert_str_eq(cn, TRE, "the receipt is the TRE's");
	cr_assert_arr_eq(ASN1_STRING_get0_data(r->mcim_id), mcim_id, 16);
	cr_assert_eq(ASN1_ENUMERATED_get(r->action), M2M_MCIM_DELETE);
	cr_assert_eq(ASN1_ENUMERATED_get(r->state), M2M_MCIM_DELETED);
	M2M_MCIM_RECEIPT_free(r);
	X509_free(signer);
	ASN1_OCTET_STRING_free(so.cms);
}

/* ---- the change ------------------------------------------------------------------------------------ */

Test(change, consent_reprovision_release_delete_across_restarts)
{
	start_world(TA_AGENCY);
	uint8_t mcim_id[16], change_id[16];
	char imsi[16];
	provision_tre(mcim_id, imsi);
	new_change(change_id);
	/* the TRE does not answer for a while: the consent is given and the reprovision waits */
	tre_freeze(1);
	consented(change_id, mcim_id);
	cr_assert_str_eq(change_state(), "consented");
	cr_assert_eq(query_int("mno-a.db", "SELECT count(*) FROM hss_audit WHERE imsi = '%s' AND action = 'change'", imsi), 1);
	char *before = dpf_state();
	consented(change_id, mcim_id);  /* the DRF asks again (its answer was lost): the same consent */
	char *after = dpf_state();
	cr_assert_str_eq(after, before, "a repeated notify changed the DPF's state");
	free(before);
	free(after);
	/* the mno restarts meanwhile: it resumes, and the reprovision reaches the TRE once it answers */
	restart_mno();
	pump(1000);
	cr_assert_str_eq(change_state(), "consented");
	tre_freeze(0);
	cr_assert(wait_for(triggered, 40), "the reprovision was not carried out: %s (see %s/mno-a.log)", change_state(), w.dir);
	cr_assert_str_eq(subscriber_state(imsi), "active", "the MCIM stays until the change completes");
	/* the change completed at the DRF: the MCIM goes */
	released(change_id, mcim_id);
	cr_assert(wait_for(deleted, 40), "the delete was not carried out: %s (see %s/mno-a.log)", change_state(), w.dir);
	cr_assert_str_eq(subscriber_state(imsi), "deleted");
	cr_assert_eq(query_int("mno-a.db", "SELECT count(*) FROM hss_subscriber WHERE k_opc_sealed IS NOT NULL"), 0);
	check_kept_receipt(mcim_id);
	char *text = admin_show(imsi);
	cr_assert_not_null(strstr(text, "to " SHO_B ", deleted; the TRE's signed deletion receipt is kept"), "%s", text);
	cr_assert_not_null(strstr(text, "dpf delete"), "%s", text);
	free(text);
	/* the release again (its ack was lost): the same ack, nothing changes */
	before = dpf_state();
	released(change_id, mcim_id);
	consented(change_id, mcim_id);
	after = dpf_state();
	cr_assert_str_eq(after, before);
	free(before);
	free(after);
	/* the MCIM is gone from the TRE: another change of it finds nothing */
	uint8_t other[16];
	m2m_random(other, sizeof other);
	before = dpf_state();
	expect_refusal(notify_from(w.drf, other, TRE, SHO_B), M2M_R_NOT_FOUND, before);
	free(before);
}

Test(change, a_delete_whose_receipt_was_lost_gets_the_same_receipt_again)
{
	start_world(TA_AGENCY);
	uint8_t mcim_id[16], change_id[16];
	char imsi[16];
	provision_tre(mcim_id, imsi);
	new_change(change_id);
	consented(change_id, mcim_id);
	cr_assert(wait_for(triggered, 40), "the reprovision was not carried out: %s (see %s/mno-a.log)", change_state(), w.dir);
	cr_assert_eq(ta_run("grep -q 'reprovision carried out by " TRE " (signed receipt)' %s/mno-a.log", w.dir), 0,
		     "the TRE's receipt of the reprovision was not accepted: see %s/mno-a.log", w.dir);
	/* the delete is recorded while the TRE does not answer, then the mno stops */
	tre_freeze(1);
	released(change_id, mcim_id);
	cr_assert_str_eq(change_state(), "released");
	cr_assert_eq(ta_stop(w.mno_pid), 0, "see %s/mno-a.log", w.dir);
	tre_freeze(0);
	pump(2000);  /* what the mno had sent before it stopped may reach the TRE meanwhile */
	/* the TRE carries the stored command out, but its receipt never reaches the DPF */
	sqlite3 *db = open_readonly("mno-a.db");
	sqlite3_stmt *st = NULL;
	cr_assert_eq(sqlite3_prepare_v2(db, "SELECT command FROM dpf_change", -1, &st, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	M2M_SIGNED_OBJECT *so = M2M_SIGNED_OBJECT_new();
	ASN1_OCTET_STRING_set(so->cms, sqlite3_column_blob(st, 0), sqlite3_column_bytes(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	ta_answer a = ta_call(w.ctl, TRE, M2M_MSG_MCIM_COMMAND, so);
	cr_assert(a.type == M2M_MSG_MCIM_RECEIPT, "%d %s %s", a.type, m2m_reason_name(a.reason), a.text);
	ta_answer_free(&a);
	M2M_SIGNED_OBJECT_free(so);
	/* back, the DPF sends it again: the TRE answers that very command with the receipt it kept */
	start_mno(TA_AGENCY);
	cr_assert(wait_for(deleted, 40), "the delete was not confirmed: %s (see %s/mno-a.log)", change_state(), w.dir);
	cr_assert_str_eq(subscriber_state(imsi), "deleted");
	cr_assert_eq(query_int("mno-a.db", "SELECT count(*) FROM dpf_change WHERE receipt IS NOT NULL"), 1,
		     "the deletion is backed by the TRE's signed receipt");
}

/* ---- refusals ---------------------------------------------------------------------------------------- */

static int change_row(void)
{
	return query_int("mno-a.db", "SELECT count(*) FROM dpf_change") == 1;
}

Test(change, refusals_and_the_contract_lock_change_nothing)
{
	start_world(TA_AGENCY);
	/* an MCIM of mno-a installed in tre-1, as far as the DPF knows (the test signs as the TRE) */
	packaged p;
	order_packaged(&p);
	install(&p, M2M_INSTALLED);
	const uint8_t *mcim_id = ASN1_STRING_get0_data(p.package->mcim_id);
	uint8_t change_id[16], short_id[5] = {1, 2, 3, 4, 5};
	new_change(change_id);
	char *before = dpf_state();
	expect_refusal(notify_from(w.vno, change_id, TRE, SHO_B), M2M_R_NOT_AUTHORISED, before);
	expect_refusal(notify_from(w.drf, change_id, "tre-2", SHO_B), M2M_R_NOT_FOUND, before);
	expect_refusal(notify_from(w.drf, change_id, TRE, MNO), M2M_R_WRONG_SHO, before);
	M2M_CHANGE_NOTIFY *n = M2M_CHANGE_NOTIFY_new();
	ASN1_OCTET_STRING_set(n->change_id, short_id, sizeof short_id);
	m2m_set_str(n->tre, TRE);
	m2m_set_digits(&n->m2me, IMEI);
	m2m_set_str(n->to_sho, SHO_B);
	expect_refusal(ta_call(w.drf, MNO, M2M_MSG_CHANGE_NOTIFY, n), M2M_R_BAD_BODY, before);
	M2M_CHANGE_NOTIFY_free(n);
	expect_refusal(release_from(w.drf, change_id, mcim_id), M2M_R_NOT_FOUND, before);
	free(before);
	/* a contract lock: the change is refused until it is lifted */
	char bin[512];
	const char *admin = ta_binary("MNO_ADMIN", "mno/hss/mno-admin", bin, sizeof bin);
	cr_assert_eq(ta_run("%s -c %s/mno-a.conf lock %s --days 30 >/dev/null", admin, w.dir, p.imsi), 0);
	before = dpf_state();
	ta_answer a = notify_from(w.drf, change_id, TRE, SHO_B);
	cr_assert(strstr(a.text, "contract lock until"), "%s", a.text);
	expect_refusal(a, M2M_R_CONTRACT_LOCKED, before);
	free(before);
	cr_assert_eq(ta_run("%s -c %s/mno-a.conf unlock %s >/dev/null", admin, w.dir, p.imsi), 0);
	consented(change_id, mcim_id);
	cr_assert(wait_for(change_row, 5));
	/* once consented: another change of the same MCIM, this change for another TRE, releases
	 * naming another MCIM or coming from elsewhere */
	uint8_t other[16];
	m2m_random(other, sizeof other);
	before = dpf_state();
	expect_refusal(notify_from(w.drf, other, TRE, SHO_B), M2M_R_WRONG_STATE, before);
	expect_refusal(notify_from(w.drf, change_id, "tre-2", SHO_B), M2M_R_WRONG_STATE, before);
	expect_refusal(release_from(w.drf, change_id, other), M2M_R_NOT_FOUND, before);
	expect_refusal(release_from(w.vno, change_id, mcim_id), M2M_R_NOT_AUTHORISED, before);
	free(before);
	/* this TRE does not hold that MCIM (the test installed it in its name): its notFound proves
	 * nothing, the reprovision stays pending and is sent again */
	pump(8000);
	cr_assert_str_eq(change_state(), "consented");
	cr_assert_str_eq(subscriber_state(p.imsi), "active");
	packaged_free(&p);
}

/* ---- the new SHO's side ------------------------------------------------------------------------------ */

Test(change, a_ticket_of_a_change_is_an_order_validated_afresh)
{
	start_world(TA_AGENCY);
	uint8_t change_id[16], nonce[32];
	new_change(change_id);
	m2m_random(nonce, sizeof nonce);
	ta_answer a = order_with(nonce, ticket_for(TRE, MNO, NULL, change_id, 600, BY_DRF));
	cr_assert_eq(a.type, M2M_MSG_MCIM_PACKAGE, "refused: %s %s", m2m_reason_name(a.reason), a.text);
	M2M_MCIM *m = open_package(a.body);
	cr_assert_arr_eq(ASN1_STRING_get0_data(m->nonce), nonce, 32);
	M2M_MCIM_free(m);
	ta_answer_free(&a);
	/* the OS is flashed: the PVA's earlier OK is not reused, the next order is refused */
	a = control(M2M_TRE_CTL_MODIFY_COMPONENT, "os", "rootkit");
	ta_answer_free(&a);
	a = control(M2M_TRE_CTL_BOOT, NULL, NULL);
	ta_answer_free(&a);
	pump(500);
	m2m_random(nonce, sizeof nonce);
	char *before = dpf_state();
	a = order_with(nonce, ticket_for(TRE, MNO, NULL, change_id, 600, BY_DRF));
	cr_assert(strstr(a.text, "componentModified"), "%s", a.text);
	expect_refusal(a, M2M_R_NOT_VALIDATED, before);
	free(before);
}
