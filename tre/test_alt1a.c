/*
 * Alternative 1a in the TRE engine, without transport (docs/tre.md, "PCID, MCIMs, provisioning,
 * commands"): the PCID's one-time import and the credential the M2ME is told to use; AKA with
 * the PCID and with an MCIM against lib/aka's home-network side (success, MAC failure,
 * resynchronisation); the provisioning sequence with the test playing the DRF and the DPF, each
 * refusal leaving the state as it was; the owner's commands and their receipts.
 * test_tre_daemon.c runs the same over the wire.
 */
#include "test_fixture.h"

#include "crypto/crypto.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SQN0 (UINT64_C(5) << M2M_SQN_IND_BITS_DEFAULT)  /* the HSS's highest SQN at packaging */

static fx_tre fx;
static fx_party drf, dpf, dpf_b;  /* the registration operator, the SHO mno-a, another operator mno-b */

/* ---- set-up --------------------------------------------------------------------------------- */

static void accept_crl(uint64_t number, const uint64_t *revoked, size_t n)
{
	fx_accept_crl(&fx, number, revoked, n);
}

/* Through the file, as the daemon does at start. */
static void import_pcid(int64_t valid_until)
{
	tre_pcid p;
	char why[200];
	fx_pcid(&p, valid_until);
	fx_write_pcid(fx.dir, "tre.pcid", &p);
	snprintf(fx.t.s.pcid_file, sizeof fx.t.s.pcid_file, "%s/tre.pcid", fx.dir);
	cr_assert_eq(tre_pcid_file_read(fx.t.s.pcid_file, &fx.t.s.pcid, why, sizeof why), 0, "%s", why);
	cr_assert_eq(tre_pcid_import(&fx.t), 0);
}

static void parties(void)
{
	fx_tre_open(&fx, M2M_TAMPER_REFUSED, 1);
	fx_boot(&fx);
	fx_party_make(&fx.agency, &drf, FX_DRF, M2M_PROFILE_REGISTRATION);
	fx_party_make(&fx.agency, &dpf, FX_OPERATOR, M2M_PROFILE_OPERATOR_FUNCTION);
	fx_party_make(&fx.agency, &dpf_b, "mno-b", M2M_PROFILE_OPERATOR_FUNCTION);
}

static void setup(void)
{
	parties();
	import_pcid(time(NULL) + 3600);
	accept_crl(1, NULL, 0);
}

static void teardown(void)
{
	fx_party_free(&drf);
	fx_party_free(&dpf);
	fx_party_free(&dpf_b);
	fx_tre_close(&fx);
}

/* ---- the PCID ------------------------------------------------------------------------------- */

static M2M_TRE_CREDENTIAL *credential(int kind, const char *imsi)
{
	return fx_credential(&fx, kind, imsi);
}

TestSuite(pcid, .init = setup, .fini = teardown);

Test(pcid, imported_sealed_and_its_file_deleted)
{
	cr_assert_neq(access(fx.t.s.pcid_file, F_OK), 0, "the factory's file is deleted");
	tre_credential c;
	cr_assert_eq(tre_pcid_held(&fx.t, &c), 0);
	cr_assert_str_eq(c.imsi, FX_PCID);
	cr_assert_str_eq(c.owner, FX_DRF, "the registration operator owns it");
	M2M_TRE_CREDENTIAL_free(credential(M2M_CREDENTIAL_PCID, FX_PCID));
	sqlite3_exec(fx.t.db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	cr_assert_not(fx_file_holds(fx.dbpath, fx_pcid_k, 16), "K_pc is sealed");
	cr_assert_not(fx_file_holds(fx.dbpath, fx_pcid_opc, 16), "OPc_pc is sealed");
	/* a file given again while a PCID is held is deleted, not imported */
	int64_t until = c.valid_until;
	import_pcid(time(NULL) + 99999);
	cr_assert_neq(access(fx.t.s.pcid_file, F_OK), 0);
	cr_assert_eq(tre_pcid_held(&fx.t, &c), 0);
	cr_assert_eq(c.valid_until, until);
	/* kept over a power cycle */
	fx_tre_reopen(&fx, fx.storage_key);
	fx_boot(&fx);
	M2M_TRE_CREDENTIAL_free(credential(M2M_CREDENTIAL_PCID, FX_PCID));
}

/* The supplier's tool may run after the TRE's first power-on: the tick finds the file. */
Test(pcid, a_file_that_appears_later_is_imported_by_the_tick)
{
	teardown();  /* a TRE fresh from the factory, without the PCID the suite's setup imported */
	parties();
	tre_credential c;
	snprintf(fx.t.s.pcid_file, sizeof fx.t.s.pcid_file, "%s/late.pcid", fx.dir);
	tre_pcid_poll(&fx.t);
	cr_assert_eq(tre_pcid_held(&fx.t, &c), 1, "no file yet: no PCID");
	char bad[PATH_MAX];
	snprintf(bad, sizeof bad, "%s/late.pcid", fx.dir);
	FILE *f = fopen(bad, "w");
	cr_assert(f && fputs("pcid = 12\n", f) >= 0 && !fclose(f));
	tre_pcid_poll(&fx.t);
	cr_assert_eq(tre_pcid_held(&fx.t, &c), 1, "a malformed file is not imported");
	cr_assert_eq(access(fx.t.s.pcid_file, F_OK), 0, "and stays for the supplier to see");
	tre_pcid p;
	fx_pcid(&p, time(NULL) + 3600);
	fx_write_pcid(fx.dir, "late.pcid", &p);
	tre_pcid_poll(&fx.t);
	cr_assert_eq(tre_pcid_held(&fx.t, &c), 0);
	cr_assert_str_eq(c.imsi, FX_PCID);
	cr_assert_neq(access(fx.t.s.pcid_file, F_OK), 0, "imported, then deleted");
}

Test(pcid, malformed_files_refused)
{
	static const char *const bad[] = {
		"pcid = 001090000000001\nk = 000102030405060708090a0b0c0d0e0f\nopc = 000102030405060708090a0b0c0d0e0f\n",
		"pcid = 0010900000000012\nk = 000102030405060708090a0b0c0d0e0f\nopc = 000102030405060708090a0b0c0d0e0f\n"
		"valid_until = 2000000000\n",
		"pcid = 001090000000001\nk = 000102030405060708090a0b0c0d0e\nopc = 000102030405060708090a0b0c0d0e0f\n"
		"valid_until = 2000000000\n",
		"pcid = 001090000000001\nk = 000102030405060708090a0b0c0d0e0f\nopc = 000102030405060708090a0b0c0d0e0f\n"
		"valid_until = soon\n",
		"pcid = 001090000000001\nk = 000102030405060708090a0b0c0d0e0f\nopc = 000102030405060708090a0b0c0d0e0f\n"
		"valid_until = 2000000000\nk = 000102030405060708090a0b0c0d0e0f\n",
		"pcid = 001090000000001\nkey = 000102030405060708090a0b0c0d0e0f\nopc = 000102030405060708090a0b0c0d0e0f\n"
		"valid_until = 2000000000\n",
		"just text\n",
	};
	char path[128], why[200];
	tre_pcid p;
	snprintf(path, sizeof path, "%s/bad.pcid", fx.dir);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		fx_write(fx.dir, "bad.pcid", bad[i], strlen(bad[i]));
		why[0] = 0;
		cr_assert_eq(tre_pcid_file_read(path, &p, why, sizeof why), -1, "file %zu", i);
		cr_assert(why[0], "file %zu: a reason", i);
		cr_assert_null(strstr(why, "0001020304"), "the message shows no key: %s", why);
		cr_assert_not(p.present);
	}
	cr_assert_eq(tre_pcid_file_read("/nonexistent/tre.pcid", &p, why, sizeof why), 1, "no file: nothing to import");
}

Test(pcid, no_credential_when_withheld_or_expired)
{
	cr_assert_eq(tre_tamper_open_case(&fx.t), 0);
	M2M_TRE_CREDENTIAL_free(credential(M2M_CREDENTIAL_NONE, NULL));
	teardown();
	parties();
	import_pcid(time(NULL) - 1);
	M2M_TRE_CREDENTIAL_free(credential(M2M_CREDENTIAL_NONE, NULL));
}

/* ---- AKA ------------------------------------------------------------------------------------ */

static m2m_reason aka(const char *imsi, const m2m_aka_av *av, M2M_TRE_AKA_RESPONSE **resp)
{
	M2M_TRE_AKA_REQUEST *q = M2M_TRE_AKA_REQUEST_new();
	m2m_set_digits(&q->imsi, imsi);
	ASN1_OCTET_STRING_set(q->rand, av->rand, 16);
	ASN1_OCTET_STRING_set(q->autn, av->autn, 16);
	char why[200] = "";
	*resp = NULL;
	m2m_reason r = tre_aka_run(&fx.t, q, resp, why, sizeof why);
	M2M_TRE_AKA_REQUEST_free(q);
	cr_assert(r == M2M_OK || why[0], "a refusal says why");
	return r;
}

static void expect_keys(const char *imsi, const m2m_aka_av *av)
{
	M2M_TRE_AKA_RESPONSE *a = NULL;
	cr_assert_eq(aka(imsi, av, &a), M2M_OK);
	cr_assert_null(a->auts);
	cr_assert_eq(ASN1_STRING_length(a->res), 8);
	cr_assert_arr_eq(ASN1_STRING_get0_data(a->res), av->xres, 8, "RES = XRES");
	cr_assert_arr_eq(ASN1_STRING_get0_data(a->ck), av->ck, 16);
	cr_assert_arr_eq(ASN1_STRING_get0_data(a->ik), av->ik, 16);
	M2M_TRE_AKA_RESPONSE_free(a);
}

/* A synchronisation failure whose AUTS the home network opens to sqn_ms. */
static void expect_resync(const char *imsi, const m2m_aka_av *av, const uint8_t k[16], const uint8_t opc[16],
			  uint64_t sqn_ms)
{
	M2M_TRE_AKA_RESPONSE *a = NULL;
	cr_assert_eq(aka(imsi, av, &a), M2M_OK);
	cr_assert_null(a->res);
	cr_assert_null(a->ck);
	cr_assert_eq(ASN1_STRING_length(a->auts), 14);
	m2m_milenage m;
	uint64_t got = 0;
	cr_assert_eq(m2m_milenage_init(&m, k, opc), 0);
	cr_assert_eq(m2m_aka_auts_open(&m, av->rand, ASN1_STRING_get0_data(a->auts), &got), M2M_AKA_OK);
	cr_assert_eq(got, sqn_ms);
	m2m_milenage_clear(&m);
	M2M_TRE_AKA_RESPONSE_free(a);
}

TestSuite(aka, .init = setup, .fini = teardown);

Test(aka, with_the_pcid_and_resynchronisation)
{
	uint64_t sqn = UINT64_C(1) << M2M_SQN_IND_BITS_DEFAULT;
	m2m_aka_av av = fx_vector(fx_pcid_k, fx_pcid_opc, sqn);
	expect_keys(FX_PCID, &av);
	/* the same challenge again is a replay: AUTS reports the SQN accepted, persisted */
	fx_tre_reopen(&fx, fx.storage_key);
	fx_boot(&fx);
	expect_resync(FX_PCID, &av, fx_pcid_k, fx_pcid_opc, sqn);
	m2m_aka_av next = fx_vector(fx_pcid_k, fx_pcid_opc, sqn + (UINT64_C(1) << M2M_SQN_IND_BITS_DEFAULT));
	expect_keys(FX_PCID, &next);
}

Test(aka, mac_failure_changes_nothing)
{
	m2m_aka_av av = fx_vector(fx_pcid_k, fx_pcid_opc, UINT64_C(1) << M2M_SQN_IND_BITS_DEFAULT);
	m2m_aka_av forged = av;
	forged.autn[15] ^= 1;
	M2M_TRE_AKA_RESPONSE *a = NULL;
	cr_assert_eq(aka(FX_PCID, &forged, &a), M2M_R_MAC_FAILURE);
	cr_assert_null(a);
	/* a false network (other keys) likewise */
	m2m_aka_av other = fx_vector(fx_mcim_k, fx_mcim_opc, UINT64_C(1) << M2M_SQN_IND_BITS_DEFAULT);
	cr_assert_eq(aka(FX_PCID, &other, &a), M2M_R_MAC_FAILURE);
	expect_keys(FX_PCID, &av);  /* the SQN state did not move */
}

Test(aka, refused_precisely)
{
	m2m_aka_av av = fx_vector(fx_pcid_k, fx_pcid_opc, UINT64_C(1) << M2M_SQN_IND_BITS_DEFAULT);
	M2M_TRE_AKA_RESPONSE *a = NULL;
	cr_assert_eq(aka(FX_MCIM_IMSI, &av, &a), M2M_R_NOT_FOUND);
	M2M_TRE_AKA_REQUEST *q = M2M_TRE_AKA_REQUEST_new();
	m2m_set_digits(&q->imsi, FX_PCID);
	ASN1_OCTET_STRING_set(q->rand, av.rand, 15);
	ASN1_OCTET_STRING_set(q->autn, av.autn, 16);
	char why[200];
	cr_assert_eq(tre_aka_run(&fx.t, q, &a, why, sizeof why), M2M_R_BAD_BODY);
	M2M_TRE_AKA_REQUEST_free(q);
	cr_assert_eq(tre_tamper_open_case(&fx.t), 0);
	cr_assert_eq(aka(FX_PCID, &av, &a), M2M_R_TAMPER_DETECTED, "credentials withheld");
	teardown();
	parties();
	import_pcid(time(NULL) - 1);
	cr_assert_eq(aka(FX_PCID, &av, &a), M2M_R_PCID_EXPIRED);
}

/* ---- provisioning: the test plays the M2ME, the DRF and the DPF ------------------------------ */

static char *snapshot(void)
{
	return fx_snapshot(&fx);
}

static m2m_reason provision(M2M_RELAY_RESPONSE *answer, M2M_TRE_PROVISION_NEXT **next)
{
	return fx_provision(&fx, answer, next);
}

static M2M_TRE_PROVISION_NEXT *provision_ok(M2M_RELAY_RESPONSE *answer)
{
	return fx_provision_ok(&fx, answer);
}

static void provision_refused(M2M_RELAY_RESPONSE *answer, m2m_reason expect, const char *what)
{
	fx_provision_refused(&fx, answer, expect, what);
}

static M2M_SIGNED_OBJECT *step_of(M2M_TRE_PROVISION_NEXT *next, int state, const char *destination, int type)
{
	return fx_step_of(next, state, destination, type);
}

/* treProvision {}: the discovery, whose nonce is returned. */
static void start(uint8_t nonce[32])
{
	M2M_SIGNED_OBJECT *so = step_of(provision_ok(NULL), M2M_PROV_DISCOVERING, FX_DRF, M2M_MSG_DISCOVERY_REQUEST);
	M2M_DISCOVERY_REQUEST *d = fx_verify(&fx.agency, so, ASN1_ITEM_rptr(M2M_DISCOVERY_REQUEST), FX_ENTITY);
	char text[64];
	cr_assert_eq(m2m_str(d->tre, text, sizeof text), 0);
	cr_assert_str_eq(text, FX_ENTITY);
	cr_assert_eq(m2m_digits(d->m2me, text, sizeof text, 15, 15), 0);
	cr_assert_str_eq(text, FX_IMEI);
	cr_assert_eq(ASN1_STRING_length(d->nonce), 32);
	memcpy(nonce, ASN1_STRING_get0_data(d->nonce), 32);
	cr_assert_null(d->change_id);
	M2M_DISCOVERY_REQUEST_free(d);
	M2M_SIGNED_OBJECT_free(so);
}

/* The ticket accepted: the order to the SHO's DPF, whose nonce2 is returned. */
static void order(const uint8_t nonce[32], uint8_t nonce2[32])
{
	M2M_SIGNED_OBJECT *so = step_of(provision_ok(fx_relayed_ticket(&fx.agency, &drf, FX_ENTITY, FX_OPERATOR, nonce, 600)),
					M2M_PROV_ORDERING, FX_OPERATOR, M2M_MSG_MCIM_REQUEST);
	M2M_MCIM_ORDER *o = fx_verify(&fx.agency, so, ASN1_ITEM_rptr(M2M_MCIM_ORDER), FX_ENTITY);
	/* the DRF's ticket, unchanged: the DPF checks it */
	M2M_SIGNED_OBJECT *t = M2M_SIGNED_OBJECT_new();
	ASN1_STRING_set(t->cms, o->ticket->data, o->ticket->length);
	M2M_REGISTRATION_TICKET *k = fx_verify(&fx.agency, t, ASN1_ITEM_rptr(M2M_REGISTRATION_TICKET), FX_DRF);
	cr_assert_arr_eq(ASN1_STRING_get0_data(k->nonce), nonce, 32);
	cr_assert_eq(ASN1_STRING_length(o->nonce), 32);
	memcpy(nonce2, ASN1_STRING_get0_data(o->nonce), 32);
	cr_assert_arr_neq(nonce2, nonce, 32, "a fresh nonce");
	M2M_REGISTRATION_TICKET_free(k);
	M2M_SIGNED_OBJECT_free(t);
	M2M_MCIM_ORDER_free(o);
	M2M_SIGNED_OBJECT_free(so);
}

static const uint8_t mcim_id[16] = {0x4d, 0x43, 0x49, 0x4d, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

static M2M_RELAY_RESPONSE *package(const fx_party *signer, const char *owner, const uint8_t nonce2[32], X509 *to)
{
	return fx_relayed_package(&fx.agency, signer, mcim_id, owner, nonce2, SQN0, to);
}

/* The package answered: the InstallResult the TRE signed. */
static M2M_INSTALL_RESULT *install_result(M2M_RELAY_RESPONSE *answer, const uint8_t nonce2[32])
{
	M2M_SIGNED_OBJECT *so = step_of(provision_ok(answer), M2M_PROV_CONFIRMING, FX_OPERATOR, M2M_MSG_INSTALL_RESULT);
	M2M_INSTALL_RESULT *ir = fx_verify(&fx.agency, so, ASN1_ITEM_rptr(M2M_INSTALL_RESULT), FX_ENTITY);
	cr_assert_arr_eq(ASN1_STRING_get0_data(ir->mcim_id), mcim_id, 16);
	cr_assert_arr_eq(ASN1_STRING_get0_data(ir->nonce), nonce2, 32);
	M2M_SIGNED_OBJECT_free(so);
	return ir;
}

static void expect_state(M2M_TRE_PROVISION_NEXT *next, int state, long reason)
{
	cr_assert_eq(ASN1_ENUMERATED_get(next->state), state);
	cr_assert_null(next->step, "no step when done or failed");
	if (reason)
		cr_assert_eq(ASN1_ENUMERATED_get(next->reason), reason);
	else
		cr_assert_null(next->reason);
	M2M_TRE_PROVISION_NEXT_free(next);
}

static uint8_t *step_der(size_t *len)
{
	M2M_TRE_PROVISION_NEXT *next = provision_ok(NULL);
	uint8_t *der = fx_der(ASN1_ITEM_rptr(M2M_RELAY_STEP), next->step, len);
	M2M_TRE_PROVISION_NEXT_free(next);
	return der;
}

TestSuite(provision, .init = setup, .fini = teardown);

Test(provision, installs_and_confirms_an_mcim)
{
	uint8_t nonce[32], nonce2[32];
	start(nonce);
	/* asked again: the same step, byte for byte, also after a power cycle */
	size_t n1 = 0, n2 = 0;
	uint8_t *first = step_der(&n1);
	fx_tre_reopen(&fx, fx.storage_key);
	fx_boot(&fx);
	uint8_t *again = step_der(&n2);
	cr_assert_eq(n1, n2);
	cr_assert_arr_eq(first, again, n1);
	OPENSSL_free(first);
	OPENSSL_free(again);
	order(nonce, nonce2);
	M2M_INSTALL_RESULT *ir = install_result(package(&dpf, FX_OPERATOR, nonce2, fx.t.cert), nonce2);
	cr_assert_eq(ASN1_ENUMERATED_get(ir->status), M2M_INSTALLED);
	cr_assert_null(ir->reason);
	M2M_INSTALL_RESULT_free(ir);
	cr_assert_eq(tre_mcim_count(&fx.t), 1);
	expect_state(provision_ok(fx_relayed_ack(mcim_id)), M2M_PROV_DONE, 0);
	expect_state(provision_ok(NULL), M2M_PROV_DONE, 0);
	/* the M2ME now attaches with the MCIM, and AKA runs with its K */
	M2M_TRE_CREDENTIAL *c = credential(M2M_CREDENTIAL_MCIM, FX_MCIM_IMSI);
	cr_assert_arr_eq(ASN1_STRING_get0_data(c->mcim_id), mcim_id, 16);
	char owner[64];
	cr_assert_eq(m2m_str(c->owner, owner, sizeof owner), 0);
	cr_assert_str_eq(owner, FX_OPERATOR);
	M2M_TRE_CREDENTIAL_free(c);
	m2m_aka_av av = fx_vector(fx_mcim_k, fx_mcim_opc, SQN0 + (UINT64_C(1) << M2M_SQN_IND_BITS_DEFAULT));
	expect_keys(FX_MCIM_IMSI, &av);
	sqlite3_exec(fx.t.db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	cr_assert_not(fx_file_holds(fx.dbpath, fx_mcim_k, 16), "the MCIM's K is sealed");
}

Test(provision, a_ticket_not_for_this_discovery_is_refused)
{
	uint8_t nonce[32], other[32];
	start(nonce);
	m2m_random(other, sizeof other);
	fx_party rogue;
	fx_party_make(&fx.agency, &rogue, "drf-rogue", M2M_PROFILE_REGISTRATION);
	fx_agency forger;
	fx_agency_make(&forger);
	fx_party forged;
	fx_party_make(&forger, &forged, FX_DRF, M2M_PROFILE_REGISTRATION);
	provision_refused(fx_relayed_ticket(&fx.agency, &dpf, FX_ENTITY, FX_OPERATOR, nonce, 600), M2M_R_BAD_SIGNATURE, "signed by a DPF");
	provision_refused(fx_relayed_ticket(&fx.agency, &rogue, FX_ENTITY, FX_OPERATOR, nonce, 600), M2M_R_BAD_SIGNATURE, "another DRF");
	provision_refused(fx_relayed_ticket(&fx.agency, &forged, FX_ENTITY, FX_OPERATOR, nonce, 600), M2M_R_BAD_CHAIN, "another agency");
	provision_refused(fx_relayed_ticket(&fx.agency, &drf, "tre-other", FX_OPERATOR, nonce, 600), M2M_R_NOT_AUTHORISED, "another TRE");
	provision_refused(fx_relayed_ticket(&fx.agency, &drf, FX_ENTITY, FX_OPERATOR, other, 600), M2M_R_NONCE_REPLAYED, "another nonce");
	provision_refused(fx_relayed_ticket(&fx.agency, &drf, FX_ENTITY, FX_OPERATOR, nonce, -1), M2M_R_STALE_VERDICT, "expired");
	provision_refused(fx_relayed_ack(mcim_id), M2M_R_UNEXPECTED_MESSAGE, "an installAck while discovering");
	M2M_RELAY_RESPONSE *junk = fx_relayed_ticket(&fx.agency, &drf, FX_ENTITY, FX_OPERATOR, nonce, 600);
	ASN1_OCTET_STRING_set(junk->body, (const unsigned char *)"\x30\x03\x04\x01", 4);
	provision_refused(junk, M2M_R_BAD_BODY, "not DER of a SignedObject");
	fx_party_free(&forged);
	fx_agency_free(&forger);
	fx_party_free(&rogue);
	uint8_t nonce2[32];
	order(nonce, nonce2);  /* the genuine ticket is still accepted */
}

Test(provision, a_package_not_for_this_order_is_refused)
{
	uint8_t nonce[32], nonce2[32], old[32];
	start(nonce);
	order(nonce, nonce2);
	m2m_random(old, sizeof old);
	provision_refused(package(&dpf_b, "mno-b", nonce2, fx.t.cert), M2M_R_WRONG_SHO, "not the ticket's SHO");
	provision_refused(package(&drf, FX_DRF, nonce2, fx.t.cert), M2M_R_BAD_SIGNATURE, "not an operator function");
	provision_refused(package(&dpf, FX_OPERATOR, old, fx.t.cert), M2M_R_NONCE_REPLAYED, "a replayed package");
	provision_refused(package(&dpf, FX_OPERATOR, nonce2, dpf_b.cert), M2M_R_BAD_SIGNATURE, "for another key");
	provision_refused(fx_relayed_ticket(&fx.agency, &drf, FX_ENTITY, FX_OPERATOR, nonce, 600), M2M_R_UNEXPECTED_MESSAGE,
			  "a ticket while ordering");
	cr_assert_eq(tre_mcim_count(&fx.t), 0, "nothing installed");
	M2M_INSTALL_RESULT *ir = install_result(package(&dpf, FX_OPERATOR, nonce2, fx.t.cert), nonce2);
	cr_assert_eq(ASN1_ENUMERATED_get(ir->status), M2M_INSTALLED, "the genuine package still installs");
	M2M_INSTALL_RESULT_free(ir);
	/* the same package again, once installed: another order's now */
	provision_refused(package(&dpf, FX_OPERATOR, nonce2, fx.t.cert), M2M_R_UNEXPECTED_MESSAGE, "twice");
}

Test(provision, a_package_of_a_revoked_dpf_is_refused)
{
	uint8_t nonce[32], nonce2[32];
	start(nonce);
	order(nonce, nonce2);
	accept_crl(2, &dpf.serial, 1);
	provision_refused(package(&dpf, FX_OPERATOR, nonce2, fx.t.cert), M2M_R_CERTIFICATE_REVOKED, "revoked");
	cr_assert_eq(tre_mcim_count(&fx.t), 0);
	char why[300];
	size_t len = 0;
	uint8_t *older = fx_crl(&fx.agency, 1, NULL, 0, &len);
	cr_assert_eq(tre_crl_accept(&fx.t, older, len, why, sizeof why), M2M_R_REPLAYED, "an older CRL cannot un-revoke");
	OPENSSL_free(older);
}

Test(provision, an_authentic_package_that_cannot_be_installed_is_refused_to_the_dpf)
{
	uint8_t nonce[32], nonce2[32];
	start(nonce);
	order(nonce, nonce2);
	/* the SHO signed it, for this order, but names another owner */
	M2M_INSTALL_RESULT *ir = install_result(package(&dpf, "mno-b", nonce2, fx.t.cert), nonce2);
	cr_assert_eq(ASN1_ENUMERATED_get(ir->status), M2M_INSTALL_REFUSED);
	cr_assert_not_null(ir->reason);
	cr_assert_eq(ASN1_ENUMERATED_get(ir->reason), M2M_R_WRONG_SHO);
	M2M_INSTALL_RESULT_free(ir);
	cr_assert_eq(tre_mcim_count(&fx.t), 0, "nothing installed");
	uint8_t other[16] = {0};
	provision_refused(fx_relayed_ack(other), M2M_R_BAD_BODY, "an acknowledgement for another MCIM");
	expect_state(provision_ok(fx_relayed_ack(mcim_id)), M2M_PROV_FAILED, M2M_R_WRONG_SHO);
	M2M_TRE_CREDENTIAL_free(credential(M2M_CREDENTIAL_PCID, FX_PCID));
}

Test(provision, a_refusal_relayed_fails_it_and_it_starts_again)
{
	uint8_t nonce[32], again[32];
	start(nonce);
	expect_state(provision_ok(fx_relayed_refusal(M2M_R_NOT_REGISTERED)), M2M_PROV_FAILED, M2M_R_NOT_REGISTERED);
	provision_refused(fx_relayed_refusal(M2M_R_NOT_REGISTERED), M2M_R_UNEXPECTED_MESSAGE, "an answer when failed");
	/* failed: {} starts anew, with a new nonce */
	start(again);
	cr_assert_arr_neq(again, nonce, 32);
}

Test(provision, needs_a_credential_and_a_current_crl)
{
	M2M_TRE_PROVISION_NEXT *next = NULL;
	cr_assert_eq(tre_tamper_open_case(&fx.t), 0);
	cr_assert_eq(provision(NULL, &next), M2M_R_TAMPER_DETECTED);
	teardown();
	parties();
	accept_crl(1, NULL, 0);
	cr_assert_eq(provision(NULL, &next), M2M_R_WRONG_STATE, "no PCID, no MCIM");
	teardown();
	parties();
	import_pcid(time(NULL) + 3600);
	cr_assert_eq(provision(NULL, &next), M2M_R_WRONG_STATE, "no CRL");
	char *s = snapshot();
	cr_assert_eq(s[0], '0', "still idle: %s", s);
	free(s);
}

/* ---- the owner's commands ------------------------------------------------------------------- */

static const uint8_t id_a[16] = {0xa1, 1}, id_b[16] = {0xb2, 2};

static void install(const uint8_t id[16], const char *owner, const char *imsi)
{
	tre_credential m = {.version = 1};
	memcpy(m.mcim_id, id, 16);
	snprintf(m.owner, sizeof m.owner, "%s", owner);
	snprintf(m.imsi, sizeof m.imsi, "%s", imsi);
	cr_assert_eq(tre_mcim_install(&fx.t, &m, fx_mcim_k, fx_mcim_opc, SQN0, 1), 0);
}

static void commands_setup(void)
{
	setup();
	install(id_a, FX_OPERATOR, FX_MCIM_IMSI);
}

/* The command signed by signer; on M2M_OK the receipt, checked against the command. */
static m2m_reason command(const fx_party *signer, const uint8_t id[16], const char *owner, const char *tre_id,
			  int action, const uint8_t nonce[16], M2M_MCIM_RECEIPT **receipt)
{
	M2M_SIGNED_OBJECT *so = fx_signed_command(&fx.agency, signer, id, owner, tre_id, action, nonce, NULL);
	M2M_SIGNED_OBJECT *out = M2M_SIGNED_OBJECT_new();
	char why[256] = "";
	char *before = snapshot();
	m2m_reason r = tre_command_run(&fx.t, so, out, why, sizeof why);
	if (r == M2M_OK) {
		M2M_MCIM_RECEIPT *rc = fx_verify(&fx.agency, out, ASN1_ITEM_rptr(M2M_MCIM_RECEIPT), FX_ENTITY);
		cr_assert_arr_eq(ASN1_STRING_get0_data(rc->mcim_id), id, 16);
		cr_assert_arr_eq(ASN1_STRING_get0_data(rc->nonce), nonce, 16);
		cr_assert_eq(ASN1_ENUMERATED_get(rc->action), action);
		*receipt = rc;
	} else {
		cr_assert(why[0]);
		char *after = snapshot();
		cr_assert_str_eq(after, before, "a refused command changed nothing");
		free(after);
	}
	free(before);
	M2M_SIGNED_OBJECT_free(out);
	M2M_SIGNED_OBJECT_free(so);
	return r;
}

static void obeyed(const fx_party *signer, const uint8_t id[16], const char *owner, int action, int state)
{
	uint8_t nonce[16];
	m2m_random(nonce, sizeof nonce);
	M2M_MCIM_RECEIPT *r = NULL;
	m2m_reason rc = command(signer, id, owner, FX_ENTITY, action, nonce, &r);
	cr_assert_eq(rc, M2M_OK, "refused: %s", m2m_reason_name(rc));
	cr_assert_eq(ASN1_ENUMERATED_get(r->state), state);
	M2M_MCIM_RECEIPT_free(r);
}

static m2m_reason refused(const fx_party *signer, const uint8_t id[16], const char *owner, const char *tre_id)
{
	uint8_t nonce[16];
	m2m_random(nonce, sizeof nonce);
	M2M_MCIM_RECEIPT *r = NULL;
	return command(signer, id, owner, tre_id, M2M_MCIM_DEACTIVATE, nonce, &r);
}

TestSuite(commands, .init = commands_setup, .fini = teardown);

Test(commands, the_owner_deactivates_and_activates)
{
	M2M_TRE_CREDENTIAL_free(credential(M2M_CREDENTIAL_MCIM, FX_MCIM_IMSI));
	obeyed(&dpf, id_a, FX_OPERATOR, M2M_MCIM_DEACTIVATE, M2M_MCIM_INACTIVE);
	M2M_TRE_CREDENTIAL_free(credential(M2M_CREDENTIAL_PCID, FX_PCID));
	obeyed(&dpf, id_a, FX_OPERATOR, M2M_MCIM_ACTIVATE, M2M_MCIM_ACTIVE);
	M2M_TRE_CREDENTIAL_free(credential(M2M_CREDENTIAL_MCIM, FX_MCIM_IMSI));
}

Test(commands, only_the_owner_is_obeyed)
{
	install(id_b, "mno-b", "001020000000042");
	cr_assert_eq(refused(&dpf_b, id_a, FX_OPERATOR, FX_ENTITY), M2M_R_NOT_OWNER, "signed by another than it names");
	cr_assert_eq(refused(&dpf_b, id_a, "mno-b", FX_ENTITY), M2M_R_NOT_OWNER, "another operator's MCIM");
	cr_assert_eq(refused(&dpf, id_b, FX_OPERATOR, FX_ENTITY), M2M_R_NOT_OWNER, "and the other way round");
	fx_party rogue;
	fx_party_make(&fx.agency, &rogue, FX_OPERATOR, M2M_PROFILE_REGISTRATION);
	cr_assert_eq(refused(&rogue, id_a, FX_OPERATOR, FX_ENTITY), M2M_R_NOT_OWNER, "not an operator function");
	fx_party_free(&rogue);
	cr_assert_eq(refused(&dpf, id_a, FX_OPERATOR, "tre-other"), M2M_R_NOT_AUTHORISED, "for another TRE");
	uint8_t unknown[16] = {0xee};
	cr_assert_eq(refused(&dpf, unknown, FX_OPERATOR, FX_ENTITY), M2M_R_NOT_FOUND);
	accept_crl(2, &dpf.serial, 1);
	cr_assert_eq(refused(&dpf, id_a, FX_OPERATOR, FX_ENTITY), M2M_R_CERTIFICATE_REVOKED);
	/* isolation: B's owner activating B makes A inactive, and A stays A's */
	obeyed(&dpf_b, id_b, "mno-b", M2M_MCIM_ACTIVATE, M2M_MCIM_ACTIVE);
	tre_credential a;
	cr_assert_eq(tre_mcim_find(&fx.t, id_a, FX_OPERATOR, &a), 0);
	cr_assert_eq(a.state, M2M_MCIM_INACTIVE);
	cr_assert_eq(tre_mcim_find(&fx.t, id_a, "mno-b", &a), M2M_R_NOT_OWNER);
}

Test(commands, a_nonce_is_single_use)
{
	uint8_t nonce[16];
	m2m_random(nonce, sizeof nonce);
	M2M_MCIM_RECEIPT *r = NULL;
	cr_assert_eq(command(&dpf, id_a, FX_OPERATOR, FX_ENTITY, M2M_MCIM_DEACTIVATE, nonce, &r), M2M_OK);
	M2M_MCIM_RECEIPT_free(r);
	cr_assert_eq(command(&dpf, id_a, FX_OPERATOR, FX_ENTITY, M2M_MCIM_ACTIVATE, nonce, &r), M2M_R_NONCE_REPLAYED);
	fx_tre_reopen(&fx, fx.storage_key);
	cr_assert_eq(command(&dpf, id_a, FX_OPERATOR, FX_ENTITY, M2M_MCIM_DELETE, nonce, &r), M2M_R_NONCE_REPLAYED,
		     "kept over a power cycle");
}

/* The owner retrying after a lost receipt sends the very same command: it gets the very same
 * signed receipt, and nothing is done twice. */
Test(commands, the_same_command_again_gets_the_same_receipt)
{
	uint8_t nonce[16];
	m2m_random(nonce, sizeof nonce);
	M2M_SIGNED_OBJECT *so = fx_signed_command(&fx.agency, &dpf, id_a, FX_OPERATOR, FX_ENTITY, M2M_MCIM_DELETE, nonce, NULL);
	M2M_SIGNED_OBJECT *first = M2M_SIGNED_OBJECT_new(), *second = M2M_SIGNED_OBJECT_new();
	char why[256] = "";
	cr_assert_eq(tre_command_run(&fx.t, so, first, why, sizeof why), M2M_OK, "%s", why);
	char *before = snapshot();
	fx_tre_reopen(&fx, fx.storage_key);
	cr_assert_eq(tre_command_run(&fx.t, so, second, why, sizeof why), M2M_OK, "%s", why);
	char *after = snapshot();
	cr_assert_str_eq(after, before, "nothing done twice");
	cr_assert_eq(ASN1_STRING_cmp(first->cms, second->cms), 0, "the receipt kept, byte for byte");
	M2M_MCIM_RECEIPT *rc = fx_verify(&fx.agency, second, ASN1_ITEM_rptr(M2M_MCIM_RECEIPT), FX_ENTITY);
	cr_assert_eq(ASN1_ENUMERATED_get(rc->state), M2M_MCIM_DELETED, "a receipt of the deletion");
	M2M_MCIM_RECEIPT_free(rc);
	free(before);
	free(after);
	M2M_SIGNED_OBJECT_free(first);
	M2M_SIGNED_OBJECT_free(second);
	M2M_SIGNED_OBJECT_free(so);
}

Test(commands, delete_zeroises_the_mcim)
{
	int slots = tre_slot_count(&fx.t);
	obeyed(&dpf, id_a, FX_OPERATOR, M2M_MCIM_DELETE, M2M_MCIM_DELETED);
	cr_assert_eq(tre_slot_count(&fx.t), slots - 1, "the slot is gone");
	cr_assert_eq(tre_mcim_count(&fx.t), 0);
	sqlite3_stmt *st = m2m_store_prepare(fx.t.db, "SELECT COUNT(*) FROM tre_sqn WHERE slot LIKE 'mcim:%'");
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_eq(sqlite3_column_int(st, 0), 0, "its SQN state too");
	sqlite3_finalize(st);
	m2m_aka_av av = fx_vector(fx_mcim_k, fx_mcim_opc, SQN0 + (UINT64_C(1) << M2M_SQN_IND_BITS_DEFAULT));
	M2M_TRE_AKA_RESPONSE *a = NULL;
	cr_assert_eq(aka(FX_MCIM_IMSI, &av, &a), M2M_R_NOT_FOUND);
	M2M_TRE_CREDENTIAL_free(credential(M2M_CREDENTIAL_PCID, FX_PCID));
	cr_assert_eq(refused(&dpf, id_a, FX_OPERATOR, FX_ENTITY), M2M_R_NOT_FOUND, "gone");
	sqlite3_exec(fx.t.db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	cr_assert_not(fx_file_holds(fx.dbpath, FX_MCIM_IMSI, strlen(FX_MCIM_IMSI)), "its row is overwritten");
}
