/*
 * The change of subscription in the TRE engine, without transport (docs/tre.md, "Change of
 * subscription"; docs/alt1a-change.md): the test plays SHO A (mno-a, owner of the active MCIM
 * A), the DRF, SHO B (mno-b) and the M2ME. The TRE holds no PCID here, so that the invariant
 * checked after every step means something: exactly one MCIM active at every instant.
 */
#include "test_fixture.h"

#include "crypto/crypto.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SQN0 (UINT64_C(5) << M2M_SQN_IND_BITS_DEFAULT)
#define SHO_A FX_OPERATOR
#define SHO_B "mno-b"
#define IMSI_A FX_MCIM_IMSI
#define IMSI_B "001020000000077"

static fx_tre fx;
static fx_party drf, dpf_a, dpf_b;
static const uint8_t id_a[16] = {0xa1, 1}, id_b[16] = {0xb2, 2}, id_b2[16] = {0xb2, 3};
static const uint8_t change[16] = {0xc4, 0xa7, 0x6e, 1}, other_change[16] = {0xc4, 0xa7, 0x6e, 2};

/* ---- set-up --------------------------------------------------------------------------------- */

static void setup(void)
{
	fx_tre_open(&fx, M2M_TAMPER_REFUSED, 1);
	fx_boot(&fx);
	fx_party_make(&fx.agency, &drf, FX_DRF, M2M_PROFILE_REGISTRATION);
	fx_party_make(&fx.agency, &dpf_a, SHO_A, M2M_PROFILE_OPERATOR_FUNCTION);
	fx_party_make(&fx.agency, &dpf_b, SHO_B, M2M_PROFILE_OPERATOR_FUNCTION);
	fx_accept_crl(&fx, 1, NULL, 0);
	tre_credential a = {.version = 1};
	memcpy(a.mcim_id, id_a, 16);
	snprintf(a.owner, sizeof a.owner, SHO_A);
	snprintf(a.imsi, sizeof a.imsi, IMSI_A);
	cr_assert_eq(tre_mcim_install(&fx.t, &a, fx_mcim_k, fx_mcim_opc, SQN0, 1), 0);
	cr_assert_eq(a.state, M2M_MCIM_ACTIVE);
}

static void teardown(void)
{
	fx_party_free(&drf);
	fx_party_free(&dpf_a);
	fx_party_free(&dpf_b);
	fx_tre_close(&fx);
}

/* ---- what is checked at every step ---------------------------------------------------------- */

static int mcim_state(const uint8_t id[16], const char *owner)
{
	tre_credential m;
	int rc = tre_mcim_find(&fx.t, id, owner, &m);
	if (rc == M2M_R_NOT_FOUND)
		return M2M_MCIM_DELETED;
	cr_assert_eq(rc, 0);
	return (int)m.state;
}

/* At most one MCIM active, and a usable credential: with no PCID, exactly one active MCIM. */
static void invariant(void)
{
	cr_assert_eq(tre_count(fx.t.db, "SELECT COUNT(*) FROM tre_mcim WHERE state = 1"), 1, "exactly one MCIM active");
	tre_credential c;
	tre_credential_current(&fx.t, &c);
	cr_assert_neq(c.kind, M2M_CREDENTIAL_NONE, "a credential to attach with");
}

static void expect_credential(const char *imsi, const char *owner)
{
	M2M_TRE_CREDENTIAL *c = fx_credential(&fx, M2M_CREDENTIAL_MCIM, imsi);
	char text[64];
	cr_assert_eq(m2m_str(c->owner, text, sizeof text), 0);
	cr_assert_str_eq(text, owner);
	M2M_TRE_CREDENTIAL_free(c);
}

static void expect_state(M2M_TRE_PROVISION_NEXT *next, int state, long reason)
{
	cr_assert_eq(ASN1_ENUMERATED_get(next->state), state);
	cr_assert_null(next->step);
	if (reason)
		cr_assert_eq(ASN1_ENUMERATED_get(next->reason), reason, "reason %ld", ASN1_ENUMERATED_get(next->reason));
	else
		cr_assert_null(next->reason);
	M2M_TRE_PROVISION_NEXT_free(next);
}

static int changes_open(void)
{
	return tre_count(fx.t.db, "SELECT COUNT(*) FROM tre_change");
}

/* ---- SHO A's commands ----------------------------------------------------------------------- */

/* A command signed by signer, with the change's id when given; on M2M_OK the receipt is checked
 * (signed by the TRE, this command's) and its state returned in *state; a refusal changed
 * nothing. */
static m2m_reason command(const fx_party *signer, const uint8_t id[16], const char *owner, int action,
			  const uint8_t *change_id, int *state)
{
	uint8_t nonce[16];
	m2m_random(nonce, sizeof nonce);
	M2M_SIGNED_OBJECT *so = fx_signed_command(&fx.agency, signer, id, owner, FX_ENTITY, action, nonce, change_id);
	M2M_SIGNED_OBJECT *out = M2M_SIGNED_OBJECT_new();
	char why[256] = "";
	char *before = fx_snapshot(&fx);
	m2m_reason r = tre_command_run(&fx.t, so, out, why, sizeof why);
	if (r == M2M_OK) {
		M2M_MCIM_RECEIPT *rc = fx_verify(&fx.agency, out, ASN1_ITEM_rptr(M2M_MCIM_RECEIPT), FX_ENTITY);
		cr_assert_eq(ASN1_ENUMERATED_get(rc->action), action);
		cr_assert_arr_eq(ASN1_STRING_get0_data(rc->nonce), nonce, 16);
		*state = (int)ASN1_ENUMERATED_get(rc->state);
		M2M_MCIM_RECEIPT_free(rc);
	} else {
		cr_assert(why[0]);
		char *after = fx_snapshot(&fx);
		cr_assert_str_eq(after, before, "a refused command changed nothing (%s)", why);
		free(after);
	}
	free(before);
	M2M_SIGNED_OBJECT_free(out);
	M2M_SIGNED_OBJECT_free(so);
	return r;
}

static void reprovision(const uint8_t change_id[16])
{
	int state = -1;
	m2m_reason r = command(&dpf_a, id_a, SHO_A, M2M_MCIM_REPROVISION, change_id, &state);
	cr_assert_eq(r, M2M_OK, "reprovision refused: %s", m2m_reason_name(r));
	cr_assert_eq(state, M2M_MCIM_ACTIVE, "the receipt: A still active");
}

static m2m_reason command_refused(const fx_party *signer, const uint8_t id[16], const char *owner, int action,
				  const uint8_t *change_id)
{
	int state = -1;
	return command(signer, id, owner, action, change_id, &state);
}

/* ---- the procedure: the test relays for the M2ME -------------------------------------------- */

/* treProvision {}: the discovery, with the change's id; its nonce returned. */
static void discover(const uint8_t change_id[16], uint8_t nonce[32])
{
	M2M_SIGNED_OBJECT *so = fx_step_of(fx_provision_ok(&fx, NULL), M2M_PROV_DISCOVERING, FX_DRF, M2M_MSG_DISCOVERY_REQUEST);
	M2M_DISCOVERY_REQUEST *d = fx_verify(&fx.agency, so, ASN1_ITEM_rptr(M2M_DISCOVERY_REQUEST), FX_ENTITY);
	memcpy(nonce, ASN1_STRING_get0_data(d->nonce), 32);
	if (change_id) {
		cr_assert_not_null(d->change_id, "a change's discovery names it");
		cr_assert_eq(ASN1_STRING_length(d->change_id), 16);
		cr_assert_arr_eq(ASN1_STRING_get0_data(d->change_id), change_id, 16);
	} else {
		cr_assert_null(d->change_id);
	}
	M2M_DISCOVERY_REQUEST_free(d);
	M2M_SIGNED_OBJECT_free(so);
}

/* The DRF's ticket naming SHO B, for the change given (NULL: none). */
static M2M_RELAY_RESPONSE *ticket(const uint8_t nonce[32], const uint8_t *change_id)
{
	M2M_REGISTRATION_TICKET *k = fx_ticket(FX_ENTITY, FX_IMEI, SHO_B, nonce, 600);
	if (change_id) {
		k->change_id = ASN1_OCTET_STRING_new();
		ASN1_OCTET_STRING_set(k->change_id, change_id, 16);
	}
	M2M_SIGNED_OBJECT *so = fx_sign(&fx.agency, &drf, ASN1_ITEM_rptr(M2M_REGISTRATION_TICKET), k);
	M2M_RELAY_RESPONSE *r = fx_relayed(M2M_MSG_DISCOVERY_RESPONSE, so);
	M2M_SIGNED_OBJECT_free(so);
	M2M_REGISTRATION_TICKET_free(k);
	return r;
}

/* The ticket accepted: the order to SHO B, whose nonce2 is returned. */
static void order(M2M_RELAY_RESPONSE *t, uint8_t nonce2[32])
{
	M2M_SIGNED_OBJECT *so = fx_step_of(fx_provision_ok(&fx, t), M2M_PROV_ORDERING, SHO_B, M2M_MSG_MCIM_REQUEST);
	M2M_MCIM_ORDER *o = fx_verify(&fx.agency, so, ASN1_ITEM_rptr(M2M_MCIM_ORDER), FX_ENTITY);
	memcpy(nonce2, ASN1_STRING_get0_data(o->nonce), 32);
	M2M_MCIM_ORDER_free(o);
	M2M_SIGNED_OBJECT_free(so);
}

/* SHO B's package of MCIM id (IMSI_B), answered with a signed InstallResult {installed}. */
static void install_b(const uint8_t id[16], const uint8_t nonce2[32])
{
	M2M_MCIM *m = fx_mcim(id, SHO_B, FX_ENTITY, nonce2, IMSI_B, SQN0);
	M2M_MCIM_PACKAGE *pkg = fx_package(&fx.agency, &dpf_b, m, fx.t.cert);
	M2M_SIGNED_OBJECT *so = fx_step_of(fx_provision_ok(&fx, fx_relayed(M2M_MSG_MCIM_PACKAGE, pkg)),
					   M2M_PROV_CONFIRMING, SHO_B, M2M_MSG_INSTALL_RESULT);
	M2M_INSTALL_RESULT *ir = fx_verify(&fx.agency, so, ASN1_ITEM_rptr(M2M_INSTALL_RESULT), FX_ENTITY);
	cr_assert_eq(ASN1_ENUMERATED_get(ir->status), M2M_INSTALLED, "reason %ld",
		     ir->reason ? ASN1_ENUMERATED_get(ir->reason) : 0L);
	M2M_INSTALL_RESULT_free(ir);
	M2M_SIGNED_OBJECT_free(so);
	M2M_MCIM_PACKAGE_free(pkg);
	M2M_MCIM_free(m);
}

/* From the open change to switching towards B (MCIM id): make before break at every step. */
static void to_switching(const uint8_t id[16])
{
	uint8_t nonce[32], nonce2[32];
	discover(change, nonce);
	invariant();
	order(ticket(nonce, change), nonce2);
	install_b(id, nonce2);
	cr_assert_eq(mcim_state(id, SHO_B), M2M_MCIM_INSTALLED, "B installed, not active");
	cr_assert_eq(mcim_state(id_a, SHO_A), M2M_MCIM_ACTIVE, "A still active");
	expect_credential(IMSI_A, SHO_A);
	invariant();
	int64_t before = (int64_t)time(NULL);
	expect_state(fx_provision_ok(&fx, fx_relayed_ack(id)), M2M_PROV_SWITCHING, 0);
	tre_provision_state p;
	cr_assert_eq(tre_provision_load(&fx.t, &p), 0);
	cr_assert(p.deadline >= before + fx.t.s.switch_seconds && p.deadline <= time(NULL) + fx.t.s.switch_seconds,
		  "the deadline is now + switch_seconds");
	tre_provision_free(&p);
	expect_credential(IMSI_B, SHO_B);
	invariant();
}

/* treAttached {imsi, result, reason (0: none)}. */
static M2M_TRE_ATTACHED *report(const char *imsi, long result, long reason)
{
	M2M_TRE_ATTACHED *q = M2M_TRE_ATTACHED_new();
	m2m_set_digits(&q->imsi, imsi);
	ASN1_ENUMERATED_set(q->result, result);
	if (reason) {
		q->reason = ASN1_ENUMERATED_new();
		ASN1_ENUMERATED_set(q->reason, reason);
	}
	return q;
}

/* treAttached from the M2ME: the credential it is told to use now, checked to be now_imsi's. */
static void attached(const char *imsi, int result, long reason, const char *now_imsi)
{
	M2M_TRE_ATTACHED *q = report(imsi, result, reason);
	M2M_TRE_CREDENTIAL *c = NULL;
	char why[200] = "";
	m2m_reason r = tre_attached_run(&fx.t, q, &c, why, sizeof why);
	cr_assert_eq(r, M2M_OK, "treAttached refused: %s", why);
	char digits[16];
	cr_assert_eq(m2m_digits(c->imsi, digits, sizeof digits, 6, 15), 0);
	cr_assert_str_eq(digits, now_imsi);
	M2M_TRE_CREDENTIAL_free(c);
	M2M_TRE_ATTACHED_free(q);
	invariant();
}

/* The changeComplete step: signed by the TRE, for the DRF, naming the change, SHO B and id. */
static uint8_t *complete_step(M2M_TRE_PROVISION_NEXT *next, const uint8_t id[16], size_t *len)
{
	*len = 0;
	uint8_t *der = fx_der(ASN1_ITEM_rptr(M2M_RELAY_STEP), next->step, len);
	M2M_SIGNED_OBJECT *so = fx_step_of(next, M2M_PROV_COMPLETING, FX_DRF, M2M_MSG_CHANGE_COMPLETE);
	M2M_CHANGE_COMPLETE *cc = fx_verify(&fx.agency, so, ASN1_ITEM_rptr(M2M_CHANGE_COMPLETE), FX_ENTITY);
	char text[64];
	cr_assert_arr_eq(ASN1_STRING_get0_data(cc->change_id), change, 16);
	cr_assert_eq(m2m_str(cc->tre, text, sizeof text), 0);
	cr_assert_str_eq(text, FX_ENTITY);
	cr_assert_eq(m2m_str(cc->sho, text, sizeof text), 0);
	cr_assert_str_eq(text, SHO_B);
	cr_assert_arr_eq(ASN1_STRING_get0_data(cc->mcim_id), id, 16);
	M2M_CHANGE_COMPLETE_free(cc);
	M2M_SIGNED_OBJECT_free(so);
	return der;
}

static M2M_RELAY_RESPONSE *change_ack(const uint8_t change_id[16])
{
	M2M_CHANGE_ACK *a = M2M_CHANGE_ACK_new();
	ASN1_OCTET_STRING_set(a->change_id, change_id, 16);
	M2M_RELAY_RESPONSE *r = fx_relayed(M2M_MSG_CHANGE_COMPLETE_ACK, a);
	M2M_CHANGE_ACK_free(a);
	return r;
}

static void expect_aka(const char *imsi, uint64_t sqn)
{
	m2m_aka_av av = fx_vector(fx_mcim_k, fx_mcim_opc, sqn);
	M2M_TRE_AKA_REQUEST *q = M2M_TRE_AKA_REQUEST_new();
	m2m_set_digits(&q->imsi, imsi);
	ASN1_OCTET_STRING_set(q->rand, av.rand, 16);
	ASN1_OCTET_STRING_set(q->autn, av.autn, 16);
	M2M_TRE_AKA_RESPONSE *a = NULL;
	char why[200] = "";
	cr_assert_eq(tre_aka_run(&fx.t, q, &a, why, sizeof why), M2M_OK, "AKA with %s: %s", imsi, why);
	cr_assert_arr_eq(ASN1_STRING_get0_data(a->res), av.xres, 8);
	M2M_TRE_AKA_RESPONSE_free(a);
	M2M_TRE_AKA_REQUEST_free(q);
}

TestSuite(change, .init = setup, .fini = teardown);

/* ---- opening a change ----------------------------------------------------------------------- */

Test(change, reprovision_only_from_the_owner_of_the_active_mcim)
{
	cr_assert_eq(command_refused(&dpf_b, id_a, SHO_A, M2M_MCIM_REPROVISION, change), M2M_R_NOT_OWNER,
		     "signed by another operator than the owner named");
	cr_assert_eq(command_refused(&dpf_b, id_a, SHO_B, M2M_MCIM_REPROVISION, change), M2M_R_NOT_OWNER,
		     "another operator's MCIM");
	cr_assert_eq(command_refused(&dpf_a, id_a, SHO_A, M2M_MCIM_REPROVISION, NULL), M2M_R_BAD_BODY, "no changeId");
	int state = -1;
	cr_assert_eq(command(&dpf_a, id_a, SHO_A, M2M_MCIM_DEACTIVATE, NULL, &state), M2M_OK);
	cr_assert_eq(command_refused(&dpf_a, id_a, SHO_A, M2M_MCIM_REPROVISION, change), M2M_R_WRONG_STATE,
		     "only the active MCIM's owner starts a change");
	cr_assert_eq(command(&dpf_a, id_a, SHO_A, M2M_MCIM_ACTIVATE, NULL, &state), M2M_OK);
	cr_assert_eq(changes_open(), 0);
	reprovision(other_change);
	cr_assert_eq(changes_open(), 1);
	expect_credential(IMSI_A, SHO_A);
	reprovision(other_change);  /* again, its receipt lost: the same change */
	reprovision(change);        /* another one replaces it while it is not under way */
	uint8_t nonce[32];
	discover(change, nonce);
	cr_assert_eq(command_refused(&dpf_a, id_a, SHO_A, M2M_MCIM_REPROVISION, other_change), M2M_R_WRONG_STATE,
		     "another change while this one is under way");
	cr_assert_eq(command_refused(&dpf_a, id_a, SHO_A, M2M_MCIM_DEACTIVATE, NULL), M2M_R_WRONG_STATE,
		     "the MCIM to fall back on stays active");
	cr_assert_eq(command_refused(&dpf_a, id_a, SHO_A, M2M_MCIM_DELETE, NULL), M2M_R_WRONG_STATE);
	invariant();
}

Test(change, a_ticket_without_or_with_another_change_id_is_refused)
{
	/* an initial discovery (no change open) takes no change's ticket */
	uint8_t nonce[32], nonce2[32];
	discover(NULL, nonce);
	fx_provision_refused(&fx, ticket(nonce, change), M2M_R_BAD_BODY, "a change's ticket for an initial discovery");
	expect_state(fx_provision_ok(&fx, fx_relayed_refusal(M2M_R_NOT_REGISTERED)), M2M_PROV_FAILED, M2M_R_NOT_REGISTERED);
	reprovision(change);
	discover(change, nonce);
	fx_provision_refused(&fx, ticket(nonce, NULL), M2M_R_NONCE_REPLAYED, "no changeId");
	fx_provision_refused(&fx, ticket(nonce, other_change), M2M_R_NONCE_REPLAYED, "another changeId");
	order(ticket(nonce, change), nonce2);
}

/* ---- the switch ----------------------------------------------------------------------------- */

Test(change, a_change_to_b_switches_completes_and_closes)
{
	reprovision(change);
	to_switching(id_b);
	/* AKA with B (the attach) and with A (a roll-back attach) */
	expect_aka(IMSI_B, SQN0 + (UINT64_C(1) << M2M_SQN_IND_BITS_DEFAULT));
	expect_aka(IMSI_A, SQN0 + (UINT64_C(1) << M2M_SQN_IND_BITS_DEFAULT));
	cr_assert_eq(command_refused(&dpf_b, id_b, SHO_B, M2M_MCIM_ACTIVATE, NULL), M2M_R_WRONG_STATE,
		     "the MCIM being switched to is left alone");
	fx_provision_refused(&fx, change_ack(change), M2M_R_UNEXPECTED_MESSAGE, "nothing awaited while switching");
	attached(IMSI_A, M2M_ATTACH_OK, 0, IMSI_B);  /* still on A: nothing changes */
	cr_assert_eq(tre_provision_state_now(&fx.t), M2M_PROV_SWITCHING);
	attached(IMSI_B, M2M_ATTACH_OK, 0, IMSI_B);
	cr_assert_eq(mcim_state(id_b, SHO_B), M2M_MCIM_ACTIVE, "B active");
	cr_assert_eq(mcim_state(id_a, SHO_A), M2M_MCIM_INACTIVE, "A inactive");
	size_t n1 = 0, n2 = 0;
	uint8_t *first = complete_step(fx_provision_ok(&fx, NULL), id_b, &n1);
	uint8_t *again = complete_step(fx_provision_ok(&fx, NULL), id_b, &n2);
	cr_assert(n1 == n2 && !memcmp(first, again, n1), "asked again: the same changeComplete");
	OPENSSL_free(first);
	OPENSSL_free(again);
	cr_assert_eq(command_refused(&dpf_a, id_a, SHO_A, M2M_MCIM_ACTIVATE, NULL), M2M_R_WRONG_STATE,
		     "the replaced MCIM is not activated again");
	fx_provision_refused(&fx, change_ack(other_change), M2M_R_BAD_BODY, "an acknowledgement of another change");
	expect_state(fx_provision_ok(&fx, change_ack(change)), M2M_PROV_DONE, 0);
	cr_assert_eq(changes_open(), 0, "the change is closed");
	expect_state(fx_provision_ok(&fx, NULL), M2M_PROV_DONE, 0);
	expect_credential(IMSI_B, SHO_B);
	/* A's delete (after the DRF's changeRelease): zeroised; a delete again finds nothing */
	int state = -1;
	cr_assert_eq(command(&dpf_a, id_a, SHO_A, M2M_MCIM_DELETE, NULL, &state), M2M_OK);
	cr_assert_eq(state, M2M_MCIM_DELETED);
	cr_assert_eq(command_refused(&dpf_a, id_a, SHO_A, M2M_MCIM_DELETE, NULL), M2M_R_NOT_FOUND);
	invariant();
}

/* The DRF may get A's delete going before the M2ME relays its acknowledgement back. */
Test(change, the_old_mcim_may_be_deleted_while_completing)
{
	reprovision(change);
	to_switching(id_b);
	attached(IMSI_B, M2M_ATTACH_OK, 0, IMSI_B);
	int state = -1;
	cr_assert_eq(command(&dpf_a, id_a, SHO_A, M2M_MCIM_DELETE, NULL, &state), M2M_OK);
	cr_assert_eq(mcim_state(id_a, SHO_A), M2M_MCIM_DELETED);
	expect_state(fx_provision_ok(&fx, change_ack(change)), M2M_PROV_DONE, 0);
	invariant();
}

static void expect_failed(m2m_reason reason)
{
	tre_provision_state p;
	cr_assert_eq(tre_provision_load(&fx.t, &p), 0);
	cr_assert_eq(p.state, M2M_PROV_FAILED);
	cr_assert_eq(p.reason, reason, "reason %s", m2m_reason_name(p.reason));
	tre_provision_free(&p);
	cr_assert_eq(changes_open(), 1, "the change stays open");
}

Test(change, a_failed_attach_rolls_back_and_the_change_runs_again)
{
	reprovision(change);
	to_switching(id_b);
	attached(IMSI_B, M2M_ATTACH_FAILED, M2M_R_AUTHENTICATION_FAILED, IMSI_A);
	cr_assert_eq(mcim_state(id_a, SHO_A), M2M_MCIM_ACTIVE, "back to A");
	cr_assert_eq(mcim_state(id_b, SHO_B), M2M_MCIM_INACTIVE, "B inactive");
	expect_credential(IMSI_A, SHO_A);
	expect_failed(M2M_R_AUTHENTICATION_FAILED);
	attached(IMSI_A, M2M_ATTACH_OK, 0, IMSI_A);  /* the M2ME back on A: nothing changes */
	/* treProvision {} again: the same change from its discovery; SHO B's new package (a new MCIM,
	 * the same IMSI) replaces the MCIM of the failed attempt */
	to_switching(id_b2);
	cr_assert_eq(mcim_state(id_b, SHO_B), M2M_MCIM_DELETED, "the failed attempt's MCIM is replaced");
	attached(IMSI_B, M2M_ATTACH_OK, 0, IMSI_B);
	cr_assert_eq(mcim_state(id_b2, SHO_B), M2M_MCIM_ACTIVE);
	cr_assert_eq(mcim_state(id_a, SHO_A), M2M_MCIM_INACTIVE);
	size_t n = 0;
	OPENSSL_free(complete_step(fx_provision_ok(&fx, NULL), id_b2, &n));
}

Test(change, a_switch_past_its_deadline_rolls_back)
{
	fx.t.s.switch_seconds = 1;
	reprovision(change);
	to_switching(id_b);
	tre_tick(&fx.t);
	cr_assert_eq(tre_provision_state_now(&fx.t), M2M_PROV_SWITCHING, "not yet");
	sleep(2);
	tre_tick(&fx.t);
	expect_failed(M2M_R_TIMEOUT);
	cr_assert_eq(mcim_state(id_a, SHO_A), M2M_MCIM_ACTIVE);
	cr_assert_eq(mcim_state(id_b, SHO_B), M2M_MCIM_INACTIVE);
	expect_credential(IMSI_A, SHO_A);
	invariant();
}

/* Checked on every request too: an attach with B reported after the deadline commits nothing. */
Test(change, an_attach_reported_after_the_deadline_commits_nothing)
{
	reprovision(change);
	to_switching(id_b);
	cr_assert_eq(m2m_store_exec(fx.t.db, "UPDATE tre_provision SET deadline = deadline - 3600"), 0);
	attached(IMSI_B, M2M_ATTACH_OK, 0, IMSI_A);
	expect_failed(M2M_R_TIMEOUT);
	cr_assert_eq(mcim_state(id_a, SHO_A), M2M_MCIM_ACTIVE);
}

Test(change, a_refusal_of_the_drf_while_completing_is_resumed_without_a_new_discovery)
{
	reprovision(change);
	to_switching(id_b);
	attached(IMSI_B, M2M_ATTACH_OK, 0, IMSI_B);
	expect_state(fx_provision_ok(&fx, fx_relayed_refusal(M2M_R_INTERNAL)), M2M_PROV_FAILED, M2M_R_INTERNAL);
	cr_assert_eq(mcim_state(id_b, SHO_B), M2M_MCIM_ACTIVE, "the switch stays committed");
	expect_credential(IMSI_B, SHO_B);
	size_t n = 0;
	OPENSSL_free(complete_step(fx_provision_ok(&fx, NULL), id_b, &n));
	expect_state(fx_provision_ok(&fx, change_ack(change)), M2M_PROV_DONE, 0);
	invariant();
}

/* ---- power cycles --------------------------------------------------------------------------- */

Test(change, resumes_after_a_power_cycle_in_switching_and_completing)
{
	reprovision(change);
	to_switching(id_b);
	char *before = fx_snapshot(&fx);
	fx_tre_reopen(&fx, fx.storage_key);
	fx_boot(&fx);
	tre_tick(&fx.t);
	char *after = fx_snapshot(&fx);
	cr_assert_str_eq(after, before, "switching, with its deadline, as it was");
	free(before);
	free(after);
	expect_credential(IMSI_B, SHO_B);
	attached(IMSI_B, M2M_ATTACH_OK, 0, IMSI_B);
	size_t n1 = 0, n2 = 0;
	uint8_t *first = complete_step(fx_provision_ok(&fx, NULL), id_b, &n1);
	fx_tre_reopen(&fx, fx.storage_key);
	fx_boot(&fx);
	uint8_t *again = complete_step(fx_provision_ok(&fx, NULL), id_b, &n2);
	cr_assert(n1 == n2 && !memcmp(first, again, n1), "the same changeComplete after the power cycle");
	OPENSSL_free(first);
	OPENSSL_free(again);
	invariant();
	expect_state(fx_provision_ok(&fx, change_ack(change)), M2M_PROV_DONE, 0);
}

/* ---- treAttached refusals ------------------------------------------------------------------- */

/* A refusal changes nothing. */
static m2m_reason attached_raw(const char *imsi, long result, long reason)
{
	M2M_TRE_ATTACHED *q = report(imsi, result, reason);
	M2M_TRE_CREDENTIAL *c = NULL;
	char why[200] = "";
	char *before = fx_snapshot(&fx);
	m2m_reason r = tre_attached_run(&fx.t, q, &c, why, sizeof why);
	char *after = fx_snapshot(&fx);
	cr_assert(r == M2M_OK || why[0]);
	cr_assert(r == M2M_OK || !strcmp(before, after), "a refusal changed nothing");
	free(before);
	free(after);
	M2M_TRE_CREDENTIAL_free(c);
	M2M_TRE_ATTACHED_free(q);
	return r;
}

Test(change, a_malformed_attach_report_is_refused)
{
	reprovision(change);
	to_switching(id_b);
	cr_assert_eq(attached_raw("00102", M2M_ATTACH_FAILED, 0), M2M_R_BAD_BODY, "5 digits");
	cr_assert_eq(attached_raw(IMSI_B, 2, 0), M2M_R_BAD_BODY, "result 2");
	cr_assert_eq(attached_raw(IMSI_B, M2M_ATTACH_FAILED, 12345), M2M_R_BAD_BODY, "an unknown reason");
	cr_assert_eq(tre_provision_state_now(&fx.t), M2M_PROV_SWITCHING);
	cr_assert_eq(attached_raw(IMSI_B, M2M_ATTACH_FAILED, 0), M2M_OK);
	expect_failed(M2M_R_NOT_ATTACHED);
}
