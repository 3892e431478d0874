/*
 * The TRE's side of Alternative 3b (docs/alt3b.md; TR 33.812 5.4, brief §2.5): once the DRF's
 * trigger opened a change (trigger.c), treProvision runs this procedure instead of 1a's. The TRE
 * reads the card's identity and a challenge through its M2ME, registers the change with the DRF
 * (signed), loads B's package into the card's shadow slot, switches, and reports the attach that
 * follows; it never sees K, which travels encrypted for the card's key. Each phase is one card
 * APDU (TreProvisionNext.card), one relayed step (TreProvisionNext.step) or a wait for
 * treAttached; the phase, what the card said and the step or APDU to send are persisted (table
 * tre_uicc_procedure with tre_provision) before the TreProvisionNext leaves.
 *
 *   uiccRegistering  SELECT EF_ICCID, READ BINARY (ICCID), GET DATA from offset 0 until the
 *                    certificate's DER length is read, GET CHALLENGE (cardNonce), then the step
 *                    uiccChangeRegister {changeId, tre, iccid, cardCertificate, cardNonce,
 *                    triggerNonce} signed by the TRE, to the DRF
 *                    + uiccCredentialDelivery for the change: sho, IMSI B, package kept
 *   uiccLoading      STORE DATA blocks of 240 bytes (P2 the block, P1 80 on the last), SWITCH
 *   uiccSwitching    no step, no APDU: the M2ME follows REFRESH and attaches
 *                    + treAttached attached with IMSI B                        -> uiccCompleting
 *                    + treAttached failed, or with another IMSI: ROLLBACK (P1 00), then no step
 *                      until treAttached attached (A's IMSI)                   -> uiccCompleting
 *   uiccCompleting   the step uiccChangeComplete {changeId, tre, iccid, imsi, switched or
 *                    rolledBack} signed by the TRE, to the DRF; its ack: switched -> COMMIT ->
 *                    done (the change closed); rolledBack -> failed (the change stays open)
 *
 * Failures (a refusal relayed back, an answer of the wrong type, a status word not expected) end
 * in failed with a reason; the change stays open and the next treProvision {} starts again from
 * the ICCID with a new challenge. treProvision {} repeats the current step, except that a STORE
 * DATA chain restarts at block 0. A step whose answer was lost is repeated: SWITCH, ROLLBACK and
 * COMMIT then answer 6985 (nothing to do), and the TRE reads EF_IMSI to learn where the card is;
 * it does the same before starting again while the card may hold B's credentials (SWITCH sent,
 * neither ROLLBACK nor COMMIT confirmed), so that a card on B resumes the completion and is never
 * loaded again. A malformed answer or one for another change is refused and changes nothing.
 */
#include "tre.h"

#include "aka/ef_imsi.h"
#include "log/log.h"
#include "wire/read.h"

#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SW_OK = 0x9000, SW_NOT_CERTIFIED = 0x6A88, SW_NOTHING_TO_DO = 0x6985 };

static const char *const phase_names[] = {
	"over", "SELECT EF_ICCID", "READ BINARY EF_ICCID", "GET DATA", "GET CHALLENGE", "uiccChangeRegister",
	"STORE DATA", "SWITCH", "switched", "ROLLBACK", "rolled back", "uiccChangeComplete", "COMMIT",
	"SELECT ADF.USIM", "SELECT EF_IMSI", "READ BINARY EF_IMSI",
};

int tre_uicc_state(int state)
{
	return state >= M2M_PROV_UICC_REGISTERING && state <= M2M_PROV_UICC_COMPLETING;
}

/* A probe is reported in the state of the step that was unsure. */
static m2m_provision_state state_of(const tre_uicc_procedure *u)
{
	tre_uicc_phase ph = u->phase >= TRE_UICC_PROBE_ADF ? u->probe : u->phase;
	return ph <= TRE_UICC_REGISTER	   ? M2M_PROV_UICC_REGISTERING
	       : ph <= TRE_UICC_SWITCH	   ? M2M_PROV_UICC_LOADING
	       : ph <= TRE_UICC_ROLLED_BACK ? M2M_PROV_UICC_SWITCHING
					    : M2M_PROV_UICC_COMPLETING;
}

static int card_phase(tre_uicc_phase ph)
{
	return ph != TRE_UICC_OVER && ph != TRE_UICC_REGISTER && ph != TRE_UICC_SWITCHED && ph != TRE_UICC_ROLLED_BACK &&
	       ph != TRE_UICC_COMPLETE;
}

/* ---- the relayed steps, signed by the TRE ----------------------------------------------------- */

static int register_der(tre *t, const tre_uicc_procedure *u, const tre_uicc_change *c, uint8_t **der, size_t *len)
{
	M2M_UICC_CHANGE_REGISTRATION *r = M2M_UICC_CHANGE_REGISTRATION_new();
	int rc = !r || !ASN1_OCTET_STRING_set(r->change_id, u->change_id, TRE_CHANGE_ID_LEN) ||
			 m2m_set_str(r->tre, t->entity) || m2m_set_digits(&r->iccid, u->iccid) ||
			 !ASN1_OCTET_STRING_set(r->card_certificate, u->certificate, (int)u->certificate_len) ||
			 !ASN1_OCTET_STRING_set(r->card_nonce, u->card_nonce, TRE_CARD_NONCE_LEN) ||
			 !ASN1_OCTET_STRING_set(r->trigger_nonce, c->nonce, TRE_TRIGGER_NONCE_LEN)
		 ? -1
		 : tre_signed_der(t, ASN1_ITEM_rptr(M2M_UICC_CHANGE_REGISTRATION), r, der, len);
	M2M_UICC_CHANGE_REGISTRATION_free(r);
	return rc;
}

/* The trigger's nonce of the change as stored now: a new trigger for it replaced the nonce. */
static int register_step(tre *t, tre_provision_state *p, const tre_uicc_procedure *u)
{
	tre_uicc_change c;
	uint8_t *body = NULL;
	size_t len = 0;
	if (tre_uicc_change_load(t, u->change_id, &c) || register_der(t, u, &c, &body, &len))
		return -1;
	return tre_provision_step(p, c.drf, M2M_MSG_UICC_CHANGE_REGISTER, body, len);
}

static int complete_der(tre *t, const tre_uicc_procedure *u, uint8_t **der, size_t *len)
{
	M2M_UICC_CHANGE_RESULT *r = M2M_UICC_CHANGE_RESULT_new();
	int rc = !r || !ASN1_OCTET_STRING_set(r->change_id, u->change_id, TRE_CHANGE_ID_LEN) ||
			 m2m_set_str(r->tre, t->entity) || m2m_set_digits(&r->iccid, u->iccid) ||
			 m2m_set_digits(&r->imsi, u->attached) || !ASN1_ENUMERATED_set(r->result, u->result)
		 ? -1
		 : tre_signed_der(t, ASN1_ITEM_rptr(M2M_UICC_CHANGE_RESULT), r, der, len);
	M2M_UICC_CHANGE_RESULT_free(r);
	return rc;
}

static int complete_step(tre *t, tre_provision_state *p, const tre_uicc_procedure *u)
{
	uint8_t *body = NULL;
	size_t len = 0;
	return complete_der(t, u, &body, &len) ? -1
					       : tre_provision_step(p, t->s.drf, M2M_MSG_UICC_CHANGE_COMPLETE, body, len);
}

/* ---- moving between phases -------------------------------------------------------------------- */

/* The phase's state, and its step or APDU, in p (saved by the caller with u). 0 or -1. */
static int enter(tre *t, tre_provision_state *p, tre_uicc_procedure *u, tre_uicc_phase phase)
{
	u->phase = phase;
	if (phase == TRE_UICC_SWITCH)
		u->card_switched = 1;  /* from now on the card may be on B, whatever answer comes back */
	p->state = state_of(u);
	p->reason = M2M_OK;
	tre_provision_no_step(p);
	if (phase == TRE_UICC_REGISTER)
		return register_step(t, p, u);
	if (phase == TRE_UICC_COMPLETE)
		return complete_step(t, p, u);
	if (!card_phase(phase))
		return 0;
	tre_apdu a;
	return tre_uicc_apdu(u, &a) || tre_provision_card(p, a.b, a.len);
}

static m2m_reason go(tre *t, tre_provision_state *p, tre_uicc_procedure *u, tre_uicc_phase phase, char *why, size_t len)
{
	if (enter(t, p, u, phase))
		return snprintf(why, len, "the step %s could not be made", phase_names[phase]), M2M_R_INTERNAL;
	return M2M_OK;
}

/* failed, the change back at its start (tre_uicc_start decides where the next attempt begins). */
static m2m_reason fail(tre_provision_state *p, tre_uicc_procedure *u, m2m_reason reason, const char *what)
{
	m2m_warn("uicc change: failed while %s: %s (%s)", phase_names[u->phase], what, m2m_reason_name(reason));
	u->phase = TRE_UICC_OVER;
	tre_provision_fail(p, reason);
	return M2M_OK;
}

static m2m_reason card_refused(tre_provision_state *p, tre_uicc_procedure *u, unsigned sw)
{
	char what[64];
	snprintf(what, sizeof what, "the card answered %04X", sw);
	return fail(p, u, M2M_R_CARD_ERROR, what);
}

/* Registers the change from its start: a new ICCID read, certificate and challenge. */
static m2m_reason fresh(tre *t, tre_provision_state *p, tre_uicc_procedure *u, const uint8_t change_id[TRE_CHANGE_ID_LEN],
			char *why, size_t len)
{
	uint8_t id[TRE_CHANGE_ID_LEN];
	memcpy(id, change_id, sizeof id);
	tre_uicc_procedure_free(u);
	memcpy(u->change_id, id, sizeof id);
	return go(t, p, u, TRE_UICC_SELECT_ICCID, why, len);
}

static m2m_reason done(tre *t, tre_provision_state *p, tre_uicc_procedure *u, char *why, size_t len)
{
	if (tre_uicc_change_close(t, u->change_id))
		return snprintf(why, len, "the change could not be closed"), M2M_R_INTERNAL;
	u->phase = TRE_UICC_OVER;
	u->card_switched = 0;
	p->state = M2M_PROV_DONE;
	tre_provision_no_step(p);
	m2m_info("uicc change: done; the card %s holds only the credentials of %s (IMSI %s)", u->iccid, u->sho, u->imsi);
	return M2M_OK;
}

/* ---- the card's answers ----------------------------------------------------------------------- */

typedef struct card_answer {
	const uint8_t *data;
	size_t len;
	unsigned sw;
} card_answer;

static m2m_reason on_iccid(tre *t, tre_provision_state *p, tre_uicc_procedure *u, const card_answer *a, char *why,
			   size_t len)
{
	if (a->sw != SW_OK)
		return card_refused(p, u, a->sw);
	if (m2m_ef_iccid_decode(a->data, a->len, u->iccid))
		return fail(p, u, M2M_R_CARD_ERROR, "EF_ICCID is not 10 bytes of swapped BCD");
	free(u->certificate);
	u->certificate = NULL;
	u->certificate_len = 0;
	return go(t, p, u, TRE_UICC_GET_CERTIFICATE, why, len);
}

/* The whole certificate is a DER X.509 certificate and nothing more. */
static int certificate_ok(const tre_uicc_procedure *u)
{
	const unsigned char *q = u->certificate;
	X509 *x = d2i_X509(NULL, &q, (long)u->certificate_len);
	int ok = x && q == u->certificate + u->certificate_len;
	X509_free(x);
	return ok;
}

static m2m_reason on_certificate(tre *t, tre_provision_state *p, tre_uicc_procedure *u, const card_answer *a,
				 char *why, size_t len)
{
	if (a->sw == SW_NOT_CERTIFIED)
		return fail(p, u, M2M_R_NOT_FOUND, "the card has no certificate (6A88)");
	if (a->sw != SW_OK || !a->len)
		return card_refused(p, u, a->sw);
	if (u->certificate_len + a->len > TRE_CARD_CERT_MAX)
		return fail(p, u, M2M_R_CARD_ERROR, "the card's certificate exceeds 4096 bytes");
	uint8_t *grown = realloc(u->certificate, u->certificate_len + a->len);
	if (!grown)
		return snprintf(why, len, "out of memory"), M2M_R_INTERNAL;
	memcpy(grown + u->certificate_len, a->data, a->len);
	u->certificate = grown;
	u->certificate_len += a->len;
	long whole = tre_der_length(u->certificate, u->certificate_len);
	if (whole < 0 || (whole > 0 && u->certificate_len > (size_t)whole))
		return fail(p, u, M2M_R_CARD_ERROR, "the card's certificate is not one DER SEQUENCE");
	if (whole == 0 || u->certificate_len < (size_t)whole)
		return go(t, p, u, TRE_UICC_GET_CERTIFICATE, why, len);  /* the next read, from where this one ended */
	if (!certificate_ok(u))
		return fail(p, u, M2M_R_CARD_ERROR, "the card's certificate is not DER X.509");
	return go(t, p, u, TRE_UICC_GET_CHALLENGE, why, len);
}

static m2m_reason on_challenge(tre *t, tre_provision_state *p, tre_uicc_procedure *u, const card_answer *a, char *why,
			       size_t len)
{
	if (a->sw != SW_OK)
		return card_refused(p, u, a->sw);
	if (a->len != TRE_CARD_NONCE_LEN)
		return fail(p, u, M2M_R_CARD_ERROR, "the card's challenge is not 16 bytes");
	memcpy(u->card_nonce, a->data, TRE_CARD_NONCE_LEN);
	m2m_info("uicc change: card %s read (certificate %zu bytes, challenge taken); registering with %s", u->iccid,
		 u->certificate_len, t->s.drf);
	return go(t, p, u, TRE_UICC_REGISTER, why, len);
}

static m2m_reason on_block(tre *t, tre_provision_state *p, tre_uicc_procedure *u, const card_answer *a, char *why,
			   size_t len)
{
	if (a->sw != SW_OK) {
		const char *text;
		m2m_reason reason = tre_store_data_refusal(a->sw, &text);
		char what[160];
		snprintf(what, sizeof what, "STORE DATA block %d refused with %04X: %s", u->block, a->sw, text);
		return fail(p, u, reason, what);
	}
	if ((size_t)(u->block + 1) * TRE_STORE_BLOCK < u->package_len) {
		u->block++;
		return go(t, p, u, TRE_UICC_STORE, why, len);
	}
	m2m_info("uicc change: the package of %s is loaded (%d blocks); switching", u->sho, u->block + 1);
	return go(t, p, u, TRE_UICC_SWITCH, why, len);
}

/* SWITCH, ROLLBACK, COMMIT: done, nothing to do (6985: the answer before was lost; EF_IMSI tells
 * where the card is), or refused. */
static m2m_reason on_slot(tre *t, tre_provision_state *p, tre_uicc_procedure *u, const card_answer *a, char *why,
			  size_t len)
{
	if (a->sw == SW_NOTHING_TO_DO) {
		u->probe = u->phase;
		return go(t, p, u, TRE_UICC_PROBE_ADF, why, len);
	}
	if (!tre_sw_ok(a->sw))
		return card_refused(p, u, a->sw);
	if (u->phase == TRE_UICC_COMMIT)
		return done(t, p, u, why, len);
	if (u->phase == TRE_UICC_ROLLBACK)
		u->card_switched = 0;
	m2m_info("uicc change: the card %s; the M2ME follows its REFRESH and attaches",
		 u->phase == TRE_UICC_SWITCH ? "switched to the new credentials" : "rolled back to the old credentials");
	return go(t, p, u, u->phase == TRE_UICC_SWITCH ? TRE_UICC_SWITCHED : TRE_UICC_ROLLED_BACK, why, len);
}

/* EF_IMSI read after probe: whether the card holds B's IMSI decides. */
static m2m_reason on_card_imsi(tre *t, tre_provision_state *p, tre_uicc_procedure *u, const char *imsi, char *why,
			       size_t len)
{
	int on_b = !strcmp(imsi, u->imsi);
	m2m_info("uicc change: after %s the card holds %s IMSI", phase_names[u->probe], on_b ? "the new" : "the old");
	switch (u->probe) {
	case TRE_UICC_SWITCH:
		if (on_b)
			return go(t, p, u, TRE_UICC_SWITCHED, why, len);
		u->card_switched = 0;
		return fail(p, u, M2M_R_CARD_ERROR, "SWITCH answered 6985 and the card holds the old IMSI");
	case TRE_UICC_ROLLBACK:
		if (on_b)
			return fail(p, u, M2M_R_CARD_ERROR, "ROLLBACK answered 6985 and the card holds the new IMSI");
		u->card_switched = 0;
		return go(t, p, u, TRE_UICC_ROLLED_BACK, why, len);
	case TRE_UICC_COMMIT:
		return on_b ? done(t, p, u, why, len)
			    : fail(p, u, M2M_R_CARD_ERROR, "COMMIT answered 6985 and the card holds the old IMSI");
	default:  /* resuming (tre_uicc_start) */
		if (!on_b)
			return fresh(t, p, u, u->change_id, why, len);
		return go(t, p, u, u->result == M2M_UICC_SWITCHED ? TRE_UICC_COMPLETE : TRE_UICC_SWITCHED, why, len);
	}
}

static m2m_reason on_probe(tre *t, tre_provision_state *p, tre_uicc_procedure *u, const card_answer *a, char *why,
			   size_t len)
{
	char imsi[M2M_IMSI_MAX + 1];
	if (a->sw != SW_OK)
		return card_refused(p, u, a->sw);
	if (u->phase != TRE_UICC_PROBE_READ)
		return go(t, p, u, u->phase + 1, why, len);
	if (m2m_ef_imsi_decode(a->data, a->len, imsi))
		return fail(p, u, M2M_R_CARD_ERROR, "EF_IMSI does not decode");
	return on_card_imsi(t, p, u, imsi, why, len);
}

static m2m_reason on_card(tre *t, tre_provision_state *p, tre_uicc_procedure *u, const M2M_APDU_RESPONSE *r, char *why,
			  size_t len)
{
	if (r->status_word > 0xFFFF)
		return snprintf(why, len, "the status word is two bytes"), M2M_R_BAD_BODY;
	card_answer a = {ASN1_STRING_get0_data(r->data), (size_t)ASN1_STRING_length(r->data), (unsigned)r->status_word};
	switch (u->phase) {
	case TRE_UICC_SELECT_ICCID:
		return a.sw == SW_OK ? go(t, p, u, TRE_UICC_READ_ICCID, why, len) : card_refused(p, u, a.sw);
	case TRE_UICC_READ_ICCID: return on_iccid(t, p, u, &a, why, len);
	case TRE_UICC_GET_CERTIFICATE: return on_certificate(t, p, u, &a, why, len);
	case TRE_UICC_GET_CHALLENGE: return on_challenge(t, p, u, &a, why, len);
	case TRE_UICC_STORE: return on_block(t, p, u, &a, why, len);
	case TRE_UICC_SWITCH:
	case TRE_UICC_ROLLBACK:
	case TRE_UICC_COMMIT: return on_slot(t, p, u, &a, why, len);
	case TRE_UICC_PROBE_ADF:
	case TRE_UICC_PROBE_EF:
	case TRE_UICC_PROBE_READ: return on_probe(t, p, u, &a, why, len);
	default: return fail(p, u, M2M_R_UNEXPECTED_MESSAGE, "a card answer while no card step was asked");
	}
}

/* ---- the relayed answers ---------------------------------------------------------------------- */

static int same_change(const ASN1_OCTET_STRING *id, const tre_uicc_procedure *u)
{
	return ASN1_STRING_length(id) == TRE_CHANGE_ID_LEN &&
	       !memcmp(ASN1_STRING_get0_data(id), u->change_id, TRE_CHANGE_ID_LEN);
}

/* B's package for the card: kept as it came (the TRE cannot open it); the SHO it names is
 * reported, since the trigger did not say who the new operator is. */
static m2m_reason on_delivery(tre *t, tre_provision_state *p, tre_uicc_procedure *u, const M2M_UICC_CREDENTIAL_PACKAGE *d,
			      char *why, size_t len)
{
	if (!same_change(d->change_id, u))
		return snprintf(why, len, "the delivery is for another change"), M2M_R_BAD_BODY;
	if (m2m_read_name(d->sho, u->sho, M2M_ENTITY_MAX) ||
	    m2m_digits(d->imsi, u->imsi, sizeof u->imsi, TRE_IMSI_MIN, TRE_IMSI_MAX))
		return snprintf(why, len, "the delivery needs sho and an IMSI of %d..%d digits", TRE_IMSI_MIN, TRE_IMSI_MAX),
		       M2M_R_BAD_BODY;
	size_t n = (size_t)ASN1_STRING_length(d->package);
	if (n > TRE_UICC_PACKAGE_MAX)
		return fail(p, u, M2M_R_BAD_BODY, "the package is larger than the card's 8192 bytes");
	free(u->package);
	u->package = malloc(n);
	if (!u->package)
		return snprintf(why, len, "out of memory"), M2M_R_INTERNAL;
	memcpy(u->package, ASN1_STRING_get0_data(d->package), n);
	u->package_len = n;
	u->block = 0;
	m2m_info("uicc change: delivery of %s for IMSI %s (%zu bytes of ciphertext); loading the card", u->sho, u->imsi, n);
	return go(t, p, u, TRE_UICC_STORE, why, len);
}

static m2m_reason on_complete_ack(tre *t, tre_provision_state *p, tre_uicc_procedure *u, const M2M_CHANGE_ACK *a,
				  char *why, size_t len)
{
	if (!same_change(a->change_id, u))
		return snprintf(why, len, "the acknowledgement is for another change"), M2M_R_BAD_BODY;
	if (u->result == M2M_UICC_SWITCHED)
		return go(t, p, u, TRE_UICC_COMMIT, why, len);
	return fail(p, u, u->attach_reason ? u->attach_reason : M2M_R_NOT_ATTACHED,
		    "no attach with the new credentials; the card is back on the old ones, the change open again");
}

static m2m_reason on_relayed(tre *t, tre_provision_state *p, tre_uicc_procedure *u, const M2M_RELAY_RESPONSE *a,
			     char *why, size_t len)
{
	int type = a->message_type;
	int wanted = u->phase == TRE_UICC_REGISTER   ? M2M_MSG_UICC_CREDENTIAL_DELIVERY
		     : u->phase == TRE_UICC_COMPLETE ? M2M_MSG_UICC_CHANGE_COMPLETE_ACK
						     : -1;
	if (wanted < 0 || (type != wanted && type != M2M_MSG_ERROR))
		return fail(p, u, M2M_R_UNEXPECTED_MESSAGE, "a relayed answer not awaited");
	void *body = tre_body_decode(type, ASN1_STRING_get0_data(a->body), (size_t)ASN1_STRING_length(a->body));
	if (!body)
		return snprintf(why, len, "the answer is not the DER of a %s", m2m_msgtype_name(type)), M2M_R_BAD_BODY;
	m2m_reason r;
	if (type == M2M_MSG_ERROR) {
		long reason = ASN1_ENUMERATED_get(((M2M_ERROR_REPORT *)body)->reason);
		r = reason <= 0 || !m2m_reason_name((m2m_reason)reason)
			    ? (snprintf(why, len, "the error carries no known reason"), M2M_R_BAD_BODY)
			    : fail(p, u, (m2m_reason)reason, "the DRF refused the step");
	} else if (type == M2M_MSG_UICC_CREDENTIAL_DELIVERY)
		r = on_delivery(t, p, u, body, why, len);
	else
		r = on_complete_ack(t, p, u, body, why, len);
	ASN1_item_free(body, m2m_msgdef_find(type)->item());
	return r;
}

/* ---- treProvision ----------------------------------------------------------------------------- */

m2m_reason tre_uicc_start(tre *t, tre_provision_state *p, const tre_uicc_change *c, char *why, size_t len)
{
	if (!tre_enrolled(t))
		return snprintf(why, len, "not enrolled: nothing to sign the registration with"), M2M_R_WRONG_STATE;
	if (!tre_credentials_allowed(t))
		return tre_withheld(t, why, len);
	tre_uicc_procedure u;
	int rc = tre_uicc_procedure_load(t, &u);
	m2m_reason r = M2M_R_INTERNAL;
	tre_provision_free(p);
	if (rc < 0)
		snprintf(why, len, "the procedure could not be read");
	else if (rc == 0 && u.card_switched) {
		/* the card may hold B's credentials: it must not be loaded again before we know */
		u.probe = TRE_UICC_SWITCHED;
		r = go(t, p, &u, TRE_UICC_PROBE_ADF, why, len);
	} else
		r = fresh(t, p, &u, c->change_id, why, len);
	if (r == M2M_OK && tre_uicc_procedure_save(t, &u))
		r = M2M_R_INTERNAL, snprintf(why, len, "the procedure could not be stored");
	if (r == M2M_OK)
		m2m_info("uicc change: %s", u.phase == TRE_UICC_PROBE_ADF ? "resuming: reading where the card is"
									  : "registering the change: reading the card");
	tre_uicc_procedure_free(&u);
	return r;
}

/* Asked again without an answer: the step as it was, a STORE DATA chain from its first block. */
static m2m_reason again(tre *t, tre_provision_state *p, tre_uicc_procedure *u, char *why, size_t len)
{
	if (u->phase != TRE_UICC_STORE || u->block == 0)
		return M2M_OK;
	u->block = 0;
	return go(t, p, u, TRE_UICC_STORE, why, len);
}

m2m_reason tre_uicc_next(tre *t, const M2M_TRE_PROVISION *q, tre_provision_state *p, char *why, size_t len)
{
	tre_uicc_procedure u;
	m2m_reason r;
	if (tre_uicc_procedure_load(t, &u))
		r = M2M_R_INTERNAL, snprintf(why, len, "the procedure could not be read");
	else if (q->answer && q->card)
		r = M2M_R_BAD_BODY, snprintf(why, len, "a card answer and a relayed answer at once");
	else if (q->card)
		r = on_card(t, p, &u, q->card, why, len);
	else if (q->answer)
		r = on_relayed(t, p, &u, q->answer, why, len);
	else
		r = again(t, p, &u, why, len);
	if (r == M2M_OK && tre_uicc_procedure_save(t, &u))
		r = M2M_R_INTERNAL, snprintf(why, len, "the procedure could not be stored");
	tre_uicc_procedure_free(&u);
	return r;
}

/* ---- treAttached -------------------------------------------------------------------------------- */

/* What an attach report does: -1 none (nothing changes), else the phase to enter. */
static int after_attach(tre_uicc_procedure *u, const char *imsi, int failed, m2m_reason reason)
{
	int on_b = !failed && !strcmp(imsi, u->imsi);
	if (u->phase == TRE_UICC_SWITCHED && on_b) {
		u->result = M2M_UICC_SWITCHED;
		snprintf(u->attached, sizeof u->attached, "%s", imsi);
		return TRE_UICC_COMPLETE;
	}
	if (u->phase == TRE_UICC_SWITCHED) {
		u->attach_reason = failed ? reason : M2M_R_NOT_ATTACHED;
		return TRE_UICC_ROLLBACK;
	}
	if (u->phase == TRE_UICC_ROLLED_BACK && !failed && !on_b) {
		u->result = M2M_UICC_ROLLED_BACK;
		snprintf(u->attached, sizeof u->attached, "%s", imsi);
		return TRE_UICC_COMPLETE;
	}
	return -1;  /* the card is rolled back and the attach with A failed: the M2ME tries again */
}

int tre_uicc_attached(tre *t, const char *imsi, int failed, m2m_reason reason)
{
	tre_provision_state p;
	tre_uicc_procedure u = {0};
	int rc = tre_provision_load(t, &p) ? -1 : tre_uicc_procedure_load(t, &u);
	if (rc == 0 && p.state == M2M_PROV_UICC_SWITCHING) {
		int phase = after_attach(&u, imsi, failed, reason);
		if (phase >= 0) {
			m2m_info("uicc change: attach %s with IMSI %s: %s", failed ? "failed" : "made", imsi,
				 phase == TRE_UICC_ROLLBACK ? "rolling the card back" : "telling the DRF");
			rc = enter(t, &p, &u, (tre_uicc_phase)phase) || tre_uicc_procedure_save(t, &u) ||
					     tre_provision_save(t, &p)
				     ? -1
				     : 0;
		}
	}
	tre_uicc_procedure_free(&u);
	tre_provision_free(&p);
	return rc < 0 ? -1 : 0;
}
