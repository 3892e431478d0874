/*
 * The fake TRE of the m2me tests: treCredential (its PCID, or once provisioned its MCIM), AKA
 * with that credential over the USIM functions of lib/aka (RES, CK, IK; AUTS; macFailure), and
 * the provisioning machine of docs/alt1a.md reduced to its shape: discovering -> ordering ->
 * confirming -> done, each step a SignedObject to relay, each answer checked byte for byte
 * against what the fake network sends, an ErrorReport answer ending in failed. With a change
 * open (docs/alt1a-change.md) the order goes to mno-b and confirming leads to switching: MCIM B
 * is named until treAttached says how its attach went (attached: B committed, completing with
 * changeComplete to relay; failed: back to A, failed with that reason). No signature is made or
 * checked here: that is the real TRE's (tre/), tested there.
 */
#include "m2me_harness.h"

#include <criterion/criterion.h>
#include <string.h>

static const uint8_t mcim_id[16] = {0x4d, 0x43, 0x49, 0x4d};

static int signed_der(const char *label, unsigned char **der)
{
	M2M_SIGNED_OBJECT *so = M2M_SIGNED_OBJECT_new();
	ASN1_OCTET_STRING_set(so->cms, (const unsigned char *)label, (int)strlen(label));
	int len = i2d_M2M_SIGNED_OBJECT(so, der);
	M2M_SIGNED_OBJECT_free(so);
	return len;
}

int fake_step_answer(int step_type, int *answer_type, unsigned char **der)
{
	if (step_type == M2M_MSG_DISCOVERY_REQUEST) {
		*answer_type = M2M_MSG_DISCOVERY_RESPONSE;
		return signed_der("ticket", der);
	}
	if (step_type == M2M_MSG_MCIM_REQUEST) {
		M2M_MCIM_PACKAGE *p = M2M_MCIM_PACKAGE_new();
		ASN1_OCTET_STRING_set(p->mcim_id, mcim_id, sizeof mcim_id);
		ASN1_OCTET_STRING_set(p->package, (const unsigned char *)"encrypted", 9);
		*answer_type = M2M_MSG_MCIM_PACKAGE;
		int len = i2d_M2M_MCIM_PACKAGE(p, der);
		M2M_MCIM_PACKAGE_free(p);
		return len;
	}
	if (step_type == M2M_MSG_CHANGE_COMPLETE) {
		M2M_CHANGE_ACK *a = M2M_CHANGE_ACK_new();
		ASN1_OCTET_STRING_set(a->change_id, mcim_id, sizeof mcim_id);
		*answer_type = M2M_MSG_CHANGE_COMPLETE_ACK;
		int len = i2d_M2M_CHANGE_ACK(a, der);
		M2M_CHANGE_ACK_free(a);
		return len;
	}
	M2M_INSTALL_ACK *a = M2M_INSTALL_ACK_new();
	ASN1_OCTET_STRING_set(a->mcim_id, mcim_id, sizeof mcim_id);
	*answer_type = M2M_MSG_INSTALL_ACK;
	int len = i2d_M2M_INSTALL_ACK(a, der);
	M2M_INSTALL_ACK_free(a);
	return len;
}

/* ---- the credential and AKA ------------------------------------------------------------------ */

/* B while switching (until the M2ME reports) and once committed, else A, else the PCID. */
static const char *current_imsi(void)
{
	if (fake_tre.empty)
		return NULL;
	if (fake_tre.state == M2M_PROV_SWITCHING || fake_tre.changed)
		return TRE_MCIM_B;
	return fake_tre.provisioned ? TRE_MCIM : TRE_PCID;
}

static void reply_credential(m2m_node *n, m2m_request *req)
{
	M2M_TRE_CREDENTIAL *c = M2M_TRE_CREDENTIAL_new();
	const char *imsi = current_imsi();
	ASN1_ENUMERATED_set(c->kind, !imsi ? M2M_CREDENTIAL_NONE
				     : strcmp(imsi, TRE_PCID) ? M2M_CREDENTIAL_MCIM : M2M_CREDENTIAL_PCID);
	if (imsi)
		m2m_set_digits(&c->imsi, imsi);
	m2m_reply(n, req, M2M_MSG_TRE_CREDENTIAL, c);
	M2M_TRE_CREDENTIAL_free(c);
}

static void tre_credential(m2m_node *n, m2m_request *req)
{
	fake_tre.credentials++;
	reply_credential(n, req);
}

void fake_tre_deadline(void)
{
	cr_assert_eq(fake_tre.state, M2M_PROV_SWITCHING, "no switch under way");
	fake_tre.state = M2M_PROV_FAILED;
	fake_tre.reason = M2M_R_TIMEOUT;
}

/* The change commits or rolls back on the report of the attach with B; any report is answered
 * with what to attach with now. */
static void tre_attached(m2m_node *n, m2m_request *req)
{
	const M2M_TRE_ATTACHED *q = req->env.body;
	if (fake_tre.refuse_told) {
		m2m_refuse(n, req, fake_tre.refuse_told, "treAttached is not served");
		return;
	}
	if (fake_tre.late && fake_tre.state == M2M_PROV_SWITCHING)
		fake_tre_deadline();
	fake_tre.told++;
	cr_assert_eq(m2m_digits(q->imsi, fake_tre.told_imsi, sizeof fake_tre.told_imsi, 6, 15), 0);
	fake_tre.told_failed = ASN1_ENUMERATED_get(q->result) == M2M_ATTACH_FAILED;
	cr_assert_eq(fake_tre.told_failed, q->reason != NULL, "a reason exactly when failed");
	fake_tre.told_reason = q->reason ? (m2m_reason)ASN1_ENUMERATED_get(q->reason) : M2M_OK;
	size_t used = strlen(fake_tre.told_log);
	snprintf(fake_tre.told_log + used, sizeof fake_tre.told_log - used, "%s%.3s%c", used ? " " : "",
		 fake_tre.told_imsi + 12, fake_tre.told_failed ? '-' : '+');
	if (fake_tre.state == M2M_PROV_SWITCHING && !strcmp(fake_tre.told_imsi, TRE_MCIM_B)) {
		fake_tre.changed = !fake_tre.told_failed;
		fake_tre.state = fake_tre.told_failed ? M2M_PROV_FAILED : M2M_PROV_COMPLETING;
		fake_tre.reason = fake_tre.told_reason;
	}
	reply_credential(n, req);
}

static void tre_aka(m2m_node *n, m2m_request *req)
{
	const M2M_TRE_AKA_REQUEST *q = req->env.body;
	fake_tre.akas++;
	m2m_digits(q->imsi, fake_tre.aka_imsi, sizeof fake_tre.aka_imsi, 6, 15);
	const char *imsi = current_imsi();
	if (!imsi || strcmp(imsi, fake_tre.aka_imsi)) {
		m2m_refuse(n, req, M2M_R_NOT_FOUND, "no credential for IMSI %s", fake_tre.aka_imsi);
		return;
	}
	int pcid = !strcmp(imsi, TRE_PCID), b = !strcmp(imsi, TRE_MCIM_B);
	m2m_aka_usim_result r;
	m2m_aka_status st = m2m_aka_usim_authenticate(pcid ? &fake_tre.pcid : b ? &fake_tre.mcim_b : &fake_tre.mcim,
						      pcid ? &fake_tre.sqn_pcid : b ? &fake_tre.sqn_mcim_b : &fake_tre.sqn_mcim,
						      ASN1_STRING_get0_data(q->rand), ASN1_STRING_get0_data(q->autn), &r);
	if (st == M2M_AKA_MAC_FAILURE) {
		m2m_refuse(n, req, M2M_R_MAC_FAILURE, "AUTN was not made with this credential's K");
		return;
	}
	cr_assert(st == M2M_AKA_OK || st == M2M_AKA_SYNC_FAILURE);
	M2M_TRE_AKA_RESPONSE *a = M2M_TRE_AKA_RESPONSE_new();
	ASN1_OCTET_STRING **fields[] = {&a->res, &a->ck, &a->ik, &a->auts};
	const uint8_t *values[] = {r.res, r.ck, r.ik, r.auts};
	const int lens[] = {8, 16, 16, 14};
	for (int i = st == M2M_AKA_OK ? 0 : 3; i < (st == M2M_AKA_OK ? 3 : 4); i++) {
		*fields[i] = ASN1_OCTET_STRING_new();
		ASN1_OCTET_STRING_set(*fields[i], values[i], lens[i]);
	}
	m2m_reply(n, req, M2M_MSG_TRE_AKA_RESPONSE, a);
	M2M_TRE_AKA_RESPONSE_free(a);
}

/* ---- provisioning -------------------------------------------------------------------------------- */

/* The step of each state that has one (its answer: fake_step_answer); "sho" is mno-a, or
 * mno-b in a change. */
static const struct {
	const char *destination, *label;
	int type;
} steps[] = {
	[M2M_PROV_DISCOVERING] = {"drf", "discovery", M2M_MSG_DISCOVERY_REQUEST},
	[M2M_PROV_ORDERING] = {"sho", "order", M2M_MSG_MCIM_REQUEST},
	[M2M_PROV_CONFIRMING] = {"sho", "installed", M2M_MSG_INSTALL_RESULT},
	[M2M_PROV_COMPLETING] = {"drf", "changed", M2M_MSG_CHANGE_COMPLETE},
};

static int with_step(int s)
{
	return (s >= M2M_PROV_DISCOVERING && s <= M2M_PROV_CONFIRMING) || s == M2M_PROV_COMPLETING;
}

static void reply_next(m2m_node *n, m2m_request *req)
{
	M2M_TRE_PROVISION_NEXT *next = M2M_TRE_PROVISION_NEXT_new();
	int s = fake_tre.state;
	ASN1_ENUMERATED_set(next->state, s);
	if (with_step(s)) {
		unsigned char *der = NULL;
		int len = signed_der(steps[s].label, &der);
		const char *to = steps[s].destination;
		next->step = M2M_RELAY_STEP_new();
		m2m_set_str(next->step->destination, strcmp(to, "sho") ? to : fake_tre.change ? "mno-b" : "mno-a");
		next->step->message_type = steps[s].type;
		ASN1_OCTET_STRING_set(next->step->body, der, len);
		OPENSSL_free(der);
	}
	if (s == M2M_PROV_FAILED) {
		next->reason = ASN1_ENUMERATED_new();
		ASN1_ENUMERATED_set(next->reason, fake_tre.reason);
	}
	m2m_reply(n, req, M2M_MSG_TRE_PROVISION_NEXT, next);
	M2M_TRE_PROVISION_NEXT_free(next);
}

/* 1 when r is exactly what the fake network answers the current step with. */
static int expected_answer(const M2M_RELAY_RESPONSE *r)
{
	unsigned char *der = NULL;
	int type, len = fake_step_answer(steps[fake_tre.state].type, &type, &der);
	int same = r->message_type == type && ASN1_STRING_length(r->body) == len &&
		   !memcmp(ASN1_STRING_get0_data(r->body), der, (size_t)len);
	OPENSSL_free(der);
	return same;
}

static void take_answer(m2m_node *n, m2m_request *req, const M2M_RELAY_RESPONSE *r)
{
	fake_tre.answers++;
	int s = fake_tre.state;
	if (r->message_type == M2M_MSG_ERROR && with_step(s)) {
		const unsigned char *p = ASN1_STRING_get0_data(r->body);
		M2M_ERROR_REPORT *er = d2i_M2M_ERROR_REPORT(NULL, &p, ASN1_STRING_length(r->body));
		cr_assert_not_null(er, "the relayed ErrorReport does not decode");
		fake_tre.reason = (m2m_reason)ASN1_ENUMERATED_get(er->reason);
		M2M_ERROR_REPORT_free(er);
		fake_tre.state = M2M_PROV_FAILED;
	} else if (with_step(s) && expected_answer(r)) {
		/* a change switches after the install ack, and is done after the DRF's ack */
		fake_tre.state = s == M2M_PROV_COMPLETING ? M2M_PROV_DONE
				 : s == M2M_PROV_CONFIRMING && fake_tre.change ? M2M_PROV_SWITCHING : s + 1;
		fake_tre.switched += fake_tre.state == M2M_PROV_SWITCHING;
		fake_tre.provisioned |= fake_tre.state == M2M_PROV_DONE;
		fake_tre.change &= fake_tre.state != M2M_PROV_DONE;
	} else {
		m2m_refuse(n, req, M2M_R_UNEXPECTED_MESSAGE, "not the answer to the current step");
		return;
	}
	reply_next(n, req);
}

static void tre_provision(m2m_node *n, m2m_request *req)
{
	const M2M_TRE_PROVISION *q = req->env.body;
	fake_tre.provisions++;
	if (q->answer) {
		take_answer(n, req, q->answer);
		return;
	}
	if (fake_tre.state == M2M_PROV_IDLE || fake_tre.state == M2M_PROV_FAILED) {
		if (!current_imsi()) {
			m2m_refuse(n, req, M2M_R_WRONG_STATE, "no credential to provision with");
			return;
		}
		fake_tre.state = M2M_PROV_DISCOVERING;
	} else {
		fake_tre.repeats++;  /* the current step again, as after a restart of the M2ME */
	}
	reply_next(n, req);
}

/* ---- treTrigger (Alternative 3b): kept as it came, acknowledged, refused or held ---------------- */

const uint8_t fake_change_id[16] = {0xC4, 0xA2, 0x07, 0x3B};

static void tre_trigger(m2m_node *n, m2m_request *req)
{
	const M2M_TRE_TRIGGER *q = req->env.body;
	fake_tre.triggers++;
	fake_tre.trigger_len = (size_t)ASN1_STRING_length(q->trigger->cms);
	if (fake_tre.trigger_len <= sizeof fake_tre.trigger)
		memcpy(fake_tre.trigger, ASN1_STRING_get0_data(q->trigger->cms), fake_tre.trigger_len);
	if (fake_tre.hold_trigger) {
		m2m_defer(n, req);  /* freed with the node */
		return;
	}
	if (fake_tre.refuse_trigger) {
		m2m_refuse(n, req, fake_tre.refuse_trigger, "the trigger is stale");
		return;
	}
	ta_reply_change_ack(n, req, M2M_MSG_TRE_TRIGGER_ACK, fake_change_id);
}

void fake_tre_serve(m2m_node *n, m2m_request *req, void *arg)
{
	switch (req->env.type) {
	case M2M_MSG_TRE_CREDENTIAL_REQUEST:
		tre_credential(n, req);
		break;
	case M2M_MSG_TRE_AKA_REQUEST:
		tre_aka(n, req);
		break;
	case M2M_MSG_TRE_PROVISION:
		tre_provision(n, req);
		break;
	case M2M_MSG_TRE_ATTACHED:
		tre_attached(n, req);
		break;
	case M2M_MSG_TRE_TRIGGER:
		tre_trigger(n, req);
		break;
	default:
		m2m_refuse(n, req, M2M_R_UNEXPECTED_MESSAGE, "a TRE");
	}
}
