/*
 * The fake TRE of the m2me tests: treCredential (its PCID, or once provisioned its MCIM), AKA
 * with that credential over the USIM functions of lib/aka (RES, CK, IK; AUTS; macFailure), and
 * the provisioning machine of docs/alt1a.md reduced to its shape: discovering -> ordering ->
 * confirming -> done, each step a SignedObject to relay, each answer checked byte for byte
 * against what the fake network sends, an ErrorReport answer ending in failed. With a change
 * open (docs/alt1a-change.md) the order goes to mno-b and confirming leads to switching: MCIM B
 * is named until treAttached says how its attach went (attached: B committed, completing with
 * changeComplete to relay; failed: back to A, failed with that reason). An acknowledged treTrigger
 * opens a change of the card (Alternative 3b): a program of card steps and steps (fake_op) that
 * reads the ICCID, the certificate and a challenge, registers, loads the package and switches,
 * then completes and commits on treAttached {B, attached}, or rolls back, follows the card back
 * to A, completes rolledBack and fails. No signature is made or checked here: that is the real
 * TRE's (tre/), tested there.
 */
#include "m2me_harness.h"

#include <criterion/criterion.h>
#include <string.h>

static const uint8_t mcim_id[16] = {0x4d, 0x43, 0x49, 0x4d};

const uint8_t fake_package[FAKE_PACKAGE_LEN] = {0x30, 0x82, 0x01, 0x28, 0xC1, 0xF3, 0xE8, 0x7A, 0x11, 0x5C};

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
	if (step_type == M2M_MSG_UICC_CHANGE_REGISTER) {
		M2M_UICC_CREDENTIAL_PACKAGE *p = M2M_UICC_CREDENTIAL_PACKAGE_new();
		ASN1_OCTET_STRING_set(p->change_id, fake_change_id, sizeof fake_change_id);
		m2m_set_str(p->sho, "mno-b");
		m2m_set_digits(&p->imsi, CARD_B_IMSI);
		ASN1_OCTET_STRING_set(p->package, fake_package, sizeof fake_package);
		*answer_type = M2M_MSG_UICC_CREDENTIAL_DELIVERY;
		int len = i2d_M2M_UICC_CREDENTIAL_PACKAGE(p, der);
		M2M_UICC_CREDENTIAL_PACKAGE_free(p);
		return len;
	}
	if (step_type == M2M_MSG_CHANGE_COMPLETE || step_type == M2M_MSG_UICC_CHANGE_COMPLETE) {
		M2M_CHANGE_ACK *a = M2M_CHANGE_ACK_new();
		ASN1_OCTET_STRING_set(a->change_id, mcim_id, sizeof mcim_id);
		*answer_type = step_type == M2M_MSG_CHANGE_COMPLETE ? M2M_MSG_CHANGE_COMPLETE_ACK
								    : M2M_MSG_UICC_CHANGE_COMPLETE_ACK;
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

static const struct fake_op *uicc_op(void);
static void uicc_attached(void);

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
	const struct fake_op *op = fake_tre.uicc_change ? uicc_op() : NULL;
	if (op && op->kind == FAKE_OP_FOLLOW)
		uicc_attached();
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

/* ---- Alternative 3b: the change of the card --------------------------------------------------------- */

static struct fake_op *add_op(int state, int kind)
{
	cr_assert_lt(fake_tre.nops, (int)(sizeof fake_tre.ops / sizeof fake_tre.ops[0]));
	struct fake_op *op = &fake_tre.ops[fake_tre.nops++];
	*op = (struct fake_op){.state = state, .kind = kind};
	return op;
}

static void add_card(int state, const uint8_t *apdu, size_t len)
{
	struct fake_op *op = add_op(state, FAKE_OP_CARD);
	memcpy(op->apdu, apdu, len);
	op->len = len;
}

static void add_step(int state, int type)
{
	add_op(state, FAKE_OP_STEP)->type = type;
}

/* The registration: the ICCID from the MF, the certificate in two reads, a challenge. */
static void uicc_begin(void)
{
	static const uint8_t select_mf[] = {0x00, 0xA4, 0x00, 0x0C, 0x02, 0x3F, 0x00};
	static const uint8_t select_iccid[] = {0x00, 0xA4, 0x00, 0x0C, 0x02, 0x2F, 0xE2};
	static const uint8_t read_iccid[] = {0x00, 0xB0, 0x00, 0x00, 0x0A};
	static const uint8_t get_data_0[] = {0x80, 0xCA, 0x00, 0x00, 0x00};
	static const uint8_t get_data_1[] = {0x80, 0xCA, 0x01, 0x00, 0x00};
	static const uint8_t challenge[] = {0x80, 0x84, 0x00, 0x00, 0x10};
	const int r = M2M_PROV_UICC_REGISTERING;
	fake_tre.nops = fake_tre.upc = 0;
	fake_tre.rolled_back = 0;
	fake_tre.uicc_reason = M2M_OK;
	if (fake_tre.forbidden_len)
		add_card(r, fake_tre.forbidden, fake_tre.forbidden_len);
	add_card(r, select_mf, sizeof select_mf);
	add_card(r, select_iccid, sizeof select_iccid);
	add_card(r, read_iccid, sizeof read_iccid);
	add_card(r, get_data_0, sizeof get_data_0);
	add_card(r, get_data_1, sizeof get_data_1);
	add_card(r, challenge, sizeof challenge);
	add_step(r, M2M_MSG_UICC_CHANGE_REGISTER);
	fake_tre.state = r;
}

/* The delivery: the package in STORE DATA blocks of 240 bytes, then SWITCH and the device's turn. */
static void uicc_load(const uint8_t *package, size_t len)
{
	static const uint8_t switch_apdu[] = {0x80, 0x38, 0x00, 0x00};
	const int l = M2M_PROV_UICC_LOADING;
	for (size_t at = 0, block = 0; at < len; at += 240, block++) {
		size_t n = len - at < 240 ? len - at : 240;
		uint8_t apdu[5 + 240] = {0x80, 0xE2, at + n == len ? 0x80 : 0x00, (uint8_t)block, (uint8_t)n};
		memcpy(apdu + 5, package + at, n);
		add_card(l, apdu, 5 + n);
	}
	add_card(l, switch_apdu, sizeof switch_apdu);
	add_op(M2M_PROV_UICC_SWITCHING, FAKE_OP_FOLLOW);
}

static const struct fake_op *uicc_op(void)
{
	return fake_tre.upc < fake_tre.nops ? &fake_tre.ops[fake_tre.upc] : NULL;
}

static void uicc_advance(void);

/* treAttached after the card switched: B attached completes and commits, anything else rolls back
 * and follows the card back to A, then completes rolledBack and fails with the attach's reason. */
static void uicc_attached(void)
{
	static const uint8_t commit[] = {0x80, 0x3A, 0x00, 0x00};
	static const uint8_t rollback[] = {0x80, 0x3C, 0x00, 0x00};
	const int c = M2M_PROV_UICC_COMPLETING;
	if (!fake_tre.rolled_back && !fake_tre.told_failed && !strcmp(fake_tre.told_imsi, CARD_B_IMSI)) {
		add_step(c, M2M_MSG_UICC_CHANGE_COMPLETE);
		add_card(c, commit, sizeof commit);
	} else if (!fake_tre.rolled_back) {
		fake_tre.rolled_back = 1;
		fake_tre.uicc_reason = fake_tre.told_failed ? fake_tre.told_reason : M2M_R_NOT_ATTACHED;
		add_card(M2M_PROV_UICC_SWITCHING, rollback, sizeof rollback);
		add_op(M2M_PROV_UICC_SWITCHING, FAKE_OP_FOLLOW);
		add_step(c, M2M_MSG_UICC_CHANGE_COMPLETE);
	}
	uicc_advance();
}

/* The end of the program: done, or failed with the reason; the change is closed. */
static void uicc_end(m2m_reason reason)
{
	fake_tre.upc = fake_tre.nops;
	fake_tre.state = reason ? M2M_PROV_FAILED : M2M_PROV_DONE;
	fake_tre.reason = reason;
	fake_tre.uicc_change = 0;
	fake_tre.uicc_done++;
}

static void uicc_advance(void)
{
	fake_tre.upc++;
	const struct fake_op *op = uicc_op();
	if (op)
		fake_tre.state = op->state;
	else
		uicc_end(fake_tre.uicc_reason);
}

static void reply_uicc(m2m_node *n, m2m_request *req)
{
	M2M_TRE_PROVISION_NEXT *next = M2M_TRE_PROVISION_NEXT_new();
	const struct fake_op *op = uicc_op();
	ASN1_ENUMERATED_set(next->state, fake_tre.state);
	if (op && op->kind == FAKE_OP_CARD) {
		next->card = M2M_APDU_COMMAND_new();
		ASN1_OCTET_STRING_set(next->card->apdu, op->apdu, (int)op->len);
	} else if (op && op->kind == FAKE_OP_STEP) {
		unsigned char *der = NULL;
		int len = signed_der(op->type == M2M_MSG_UICC_CHANGE_REGISTER ? "registration" : "result", &der);
		next->step = M2M_RELAY_STEP_new();
		m2m_set_str(next->step->destination, "drf");
		next->step->message_type = op->type;
		ASN1_OCTET_STRING_set(next->step->body, der, len);
		OPENSSL_free(der);
	} else if (!op && fake_tre.state == M2M_PROV_FAILED) {
		next->reason = ASN1_ENUMERATED_new();
		ASN1_ENUMERATED_set(next->reason, fake_tre.reason);
	}
	m2m_reply(n, req, M2M_MSG_TRE_PROVISION_NEXT, next);
	M2M_TRE_PROVISION_NEXT_free(next);
}

/* What each card answer tells the TRE; a status word it does not expect fails the change. */
static void uicc_card_answer(const struct fake_op *op, const M2M_APDU_RESPONSE *r)
{
	const uint8_t *d = ASN1_STRING_get0_data(r->data);
	int len = ASN1_STRING_length(r->data);
	uint16_t sw = (uint16_t)r->status_word;
	size_t used = strlen(fake_tre.card_log);
	snprintf(fake_tre.card_log + used, sizeof fake_tre.card_log - used, "%02X:%04X ", op->apdu[1], sw);
	if (op->apdu[1] == 0xB0 && len == 10)
		memcpy(fake_tre.iccid_read, d, 10);
	if (op->apdu[1] == 0xCA)
		fake_tre.cert_read += (size_t)len;
	if (op->apdu[1] == 0x84)
		fake_tre.challenge_len = len;
	if (sw != 0x9000 && sw >> 8 != 0x91)
		uicc_end(M2M_R_CARD_ERROR);
	else
		uicc_advance();
}

static void uicc_relayed(m2m_node *n, m2m_request *req, const struct fake_op *op, const M2M_RELAY_RESPONSE *r)
{
	unsigned char *der = NULL;
	int type, len = fake_step_answer(op->type, &type, &der);
	int same = r->message_type == type && ASN1_STRING_length(r->body) == len &&
		   !memcmp(ASN1_STRING_get0_data(r->body), der, (size_t)len);
	OPENSSL_free(der);
	if (!same) {
		m2m_refuse(n, req, M2M_R_UNEXPECTED_MESSAGE, "not the answer to the current step");
		return;
	}
	if (type == M2M_MSG_UICC_CREDENTIAL_DELIVERY)
		uicc_load(fake_package, sizeof fake_package);
	uicc_advance();
	reply_uicc(n, req);
}

static void uicc_provision(m2m_node *n, m2m_request *req, const M2M_TRE_PROVISION *q)
{
	const struct fake_op *op = uicc_op();
	if (q->card && op && op->kind == FAKE_OP_CARD) {
		fake_tre.answers++;
		uicc_card_answer(op, q->card);
	} else if (q->answer && op && op->kind == FAKE_OP_STEP) {
		fake_tre.answers++;
		uicc_relayed(n, req, op, q->answer);
		return;
	} else if (q->card || q->answer) {
		m2m_refuse(n, req, M2M_R_UNEXPECTED_MESSAGE, "not the answer to the current step");
		return;
	} else if (!op) {  /* a change the trigger opened, nothing under way */
		uicc_begin();
	} else {
		fake_tre.repeats++;  /* the current step again */
	}
	reply_uicc(n, req);
}

static void tre_provision(m2m_node *n, m2m_request *req)
{
	const M2M_TRE_PROVISION *q = req->env.body;
	fake_tre.provisions++;
	if (fake_tre.uicc_change) {
		uicc_provision(n, req, q);
		return;
	}
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
	fake_tre.uicc_change = 1;
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
