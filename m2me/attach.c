/*
 * The attach procedure (TS 33.102 §6.3 carried in this protocol, docs/alt2-rules.md):
 *
 *   NAMING          treCredentialRequest sent to the TRE       -> the IMSI to attach with
 *   REQUESTED       attachRequest{imsi, imei, apn} sent        -> authChallenge
 *   AUTHENTICATING  AKA asked of the holder (card or TRE)      -> RES, AUTS or MAC failure
 *   RESPONDED       authResponse{res} sent                     -> attachAccept
 *   SYNCH_REPORTED  authFailure{synchFailure, auts}            -> a new authChallenge
 *   MAC_REPORTED    authFailure{macFailure}                    -> the network ends the attach
 *
 * The credential: the card's, when one was read at power-on; otherwise the one the TRE names
 * (docs/alt1a.md): its PCID, which asks for the provisioning APN (the visited operator only
 * opens a walled garden for it), or its active MCIM, with the APN asked for. Both holders run
 * AKA behind one interface (m2me_aka_start_fn), so the rest of the procedure is the same.
 *
 * Any ErrorReport ends the attach with the network's reason. CK and IK stay in the procedure
 * only until the session key is derived from them.
 *
 * An attach with a credential of the TRE ends by telling the TRE how it went (treAttached
 * {imsi, attached | failed + reason}), success or failure: in a change of subscription the TRE
 * commits the new MCIM, or returns to the old one, on it (docs/alt1a-change.md step 5). The
 * TRE's answer names what to attach with next; the caller finds it in the run (told, next).
 * A TRE that does not answer it does not change how the attach ended.
 */
#include "device.h"

#include "crypto/crypto.h"
#include "log/log.h"

#include <stdio.h>
#include <string.h>

enum { NAMING, REQUESTED, AUTHENTICATING, RESPONDED, SYNCH_REPORTED, MAC_REPORTED };

/* The network ends an attach after its second synchronisation failure; a network that kept
 * challenging would otherwise hold the device forever. */
#define MAX_CHALLENGES 3

static void on_network_answer(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg);

static void to_network(m2me_device *dev, int type, const void *body, int next_phase)
{
	m2me_attach_run *run = &dev->proc.attach;
	if (m2m_call(dev->node, run->network, type, body, on_network_answer, dev)) {
		m2me_fail(dev, run->done, M2M_R_UNKNOWN_PEER, "%s is not a configured peer", run->network);
		return;
	}
	run->phase = next_phase;
}

static void send_auth_response(m2me_device *dev, const m2me_auth_result *res)
{
	m2me_attach_run *run = &dev->proc.attach;
	memcpy(run->ck, res->ck, sizeof run->ck);
	memcpy(run->ik, res->ik, sizeof run->ik);
	M2M_AUTH_RESPONSE *a = M2M_AUTH_RESPONSE_new();
	ASN1_OCTET_STRING_set(a->attach_id, run->attach_id, sizeof run->attach_id);
	ASN1_OCTET_STRING_set(a->res, res->res, (int)res->res_len);
	to_network(dev, M2M_MSG_AUTH_RESPONSE, a, RESPONDED);
	M2M_AUTH_RESPONSE_free(a);
}

/* auts NULL: macFailure. */
static void send_auth_failure(m2me_device *dev, const uint8_t *auts)
{
	m2me_attach_run *run = &dev->proc.attach;
	M2M_AUTH_FAILURE *f = M2M_AUTH_FAILURE_new();
	ASN1_OCTET_STRING_set(f->attach_id, run->attach_id, sizeof run->attach_id);
	ASN1_ENUMERATED_set(f->cause, auts ? M2M_AUTH_SYNCH_FAILURE : M2M_AUTH_MAC_FAILURE);
	if (auts) {
		f->auts = ASN1_OCTET_STRING_new();
		ASN1_OCTET_STRING_set(f->auts, auts, 14);
	}
	to_network(dev, M2M_MSG_AUTH_FAILURE, f, auts ? SYNCH_REPORTED : MAC_REPORTED);
	M2M_AUTH_FAILURE_free(f);
}

static void on_aka(m2me_device *dev, m2me_auth_outcome outcome, const m2me_auth_result *res, m2m_reason reason,
		   const char *text)
{
	m2me_attach_run *run = &dev->proc.attach;
	if (reason) {
		run->done(dev, reason, text);
		return;
	}
	switch (outcome) {
	case M2ME_AUTH_SUCCESS:
		m2m_info("attach: %s accepted the challenge; authResponse to %s", run->holder, run->network);
		send_auth_response(dev, res);
		break;
	case M2ME_AUTH_SYNCH_FAILURE:
		m2m_info("attach: %s found the sequence number stale; re-synchronisation via %s", run->holder,
			 run->network);
		send_auth_failure(dev, res->auts);
		break;
	case M2ME_AUTH_MAC_FAILURE:
		m2m_warn("attach: %s found the MAC of AUTN wrong: %s is not our home network's", run->holder,
			 run->network);
		send_auth_failure(dev, NULL);
		break;
	case M2ME_AUTH_GARBLED:
		m2me_fail(dev, run->done, M2M_R_INTERNAL, "%s gave no usable answer", run->holder);
		break;
	}
}

static int octets(const ASN1_OCTET_STRING *s, size_t len)
{
	return s && ASN1_STRING_length(s) == (int)len;
}

static void on_challenge(m2me_device *dev, const M2M_AUTH_CHALLENGE *ch)
{
	m2me_attach_run *run = &dev->proc.attach;
	if (!octets(ch->attach_id, 8) || !octets(ch->rand, 16) || !octets(ch->autn, 16)) {
		m2me_fail(dev, run->done, M2M_R_BAD_BODY, "%s sent a malformed authChallenge", run->network);
		return;
	}
	/* after a re-synchronisation the network continues the same attach */
	if (run->challenges && memcmp(run->attach_id, ASN1_STRING_get0_data(ch->attach_id), 8)) {
		m2me_fail(dev, run->done, M2M_R_UNEXPECTED_MESSAGE, "%s sent a challenge for another attach",
			  run->network);
		return;
	}
	if (++run->challenges > MAX_CHALLENGES) {
		m2me_fail(dev, run->done, M2M_R_SYNCH_FAILURE, "%s sent %d challenges in one attach", run->network,
			  run->challenges);
		return;
	}
	memcpy(run->attach_id, ASN1_STRING_get0_data(ch->attach_id), 8);
	if (run->aka(dev, run->imsi, ASN1_STRING_get0_data(ch->rand), ASN1_STRING_get0_data(ch->autn), on_aka)) {
		m2me_fail(dev, run->done, M2M_R_UNKNOWN_PEER, "%s is not a configured peer", run->holder);
		return;
	}
	run->phase = AUTHENTICATING;
}

static void on_accept(m2me_device *dev, const M2M_ATTACH_ACCEPT *acc)
{
	m2me_attach_run *run = &dev->proc.attach;
	m2me_session s = {0};
	if (!octets(acc->session_id, M2M_SESSION_ID_LEN) || m2m_str(acc->apn, s.apn, sizeof s.apn) || !s.apn[0]) {
		m2me_fail(dev, run->done, M2M_R_BAD_BODY, "%s sent a malformed attachAccept", run->network);
		return;
	}
	snprintf(s.network, sizeof s.network, "%s", run->network);
	snprintf(s.imsi, sizeof s.imsi, "%s", run->imsi);
	s.via_tre = run->via_tre;
	memcpy(s.id, ASN1_STRING_get0_data(acc->session_id), sizeof s.id);
	if (m2m_session_key(run->ck, run->ik, s.id, s.key) || m2me_store_save_session(dev, &s)) {
		m2m_wipe(&s, sizeof s);
		m2me_fail(dev, run->done, M2M_R_INTERNAL, "the session could not be opened");
		return;
	}
	dev->state.attached = 1;
	dev->state.session = s;
	m2m_wipe(&s, sizeof s);
	m2m_wipe(run->ck, sizeof run->ck);
	m2m_wipe(run->ik, sizeof run->ik);
	m2m_info("attached to %s with IMSI %s (%s), APN %s", run->network, run->imsi, run->holder,
		 dev->state.session.apn);
	run->done(dev, M2M_OK, NULL);
}

/* The network's answer to the MAC failure report: the attach is over whatever it says. */
static void after_mac_failure(m2me_device *dev, const m2m_envelope *resp, m2m_reason reason)
{
	m2me_attach_run *run = &dev->proc.attach;
	char text[256];
	m2m_call_failure(run->network, resp, reason, text, sizeof text);
	m2me_fail(dev, run->done, M2M_R_MAC_FAILURE, "%s refused AUTN (MAC failure): not from our home network (%s)",
		  run->holder, text);
}

static void on_network_answer(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
	m2me_device *dev = arg;
	m2me_attach_run *run = &dev->proc.attach;
	int type = resp ? resp->type : -1;
	if (run->phase == MAC_REPORTED)
		after_mac_failure(dev, resp, reason);
	else if (type == M2M_MSG_AUTH_CHALLENGE && (run->phase == REQUESTED || run->phase == SYNCH_REPORTED))
		on_challenge(dev, resp->body);
	else if (type == M2M_MSG_ATTACH_ACCEPT && run->phase == RESPONDED)
		on_accept(dev, resp->body);
	else {
		char text[256];
		run->done(dev, m2m_call_reason(resp, reason), m2m_call_failure(run->network, resp, reason, text, sizeof text));
	}
}

/* attachRequest for run->imsi, asking for run->apn. */
static void request(m2me_device *dev)
{
	m2me_attach_run *run = &dev->proc.attach;
	const char *apn = run->apn;
	M2M_ATTACH_REQUEST *q = M2M_ATTACH_REQUEST_new();
	m2m_set_digits(&q->imsi, run->imsi);
	m2m_set_digits(&q->imei, dev->state.imei);
	m2m_set_str(q->apn, apn);
	m2m_info("attach: IMSI %s (%s), IMEI %s, APN %s through %s", run->imsi, run->holder, dev->state.imei, apn,
		 run->network);
	to_network(dev, M2M_MSG_ATTACH_REQUEST, q, REQUESTED);
	M2M_ATTACH_REQUEST_free(q);
}

/* ---- telling the TRE ------------------------------------------------------------------------- */

static void on_told(m2me_device *dev, const m2me_credential *c, m2m_reason reason, const char *text)
{
	m2me_attach_run *run = &dev->proc.attach;
	run->told = reason;
	if (c && !reason)
		run->next = *c;
	else
		m2m_warn("attach: %s was not told how the attach ended (%s: %s)", run->holder, m2me_reason_name(reason),
			 text);
	run->then(dev, run->result, run->result ? run->result_text : NULL);
}

/* The end of an attach with a TRE credential: done only once the TRE has been told. */
static void tell_the_tre(m2me_device *dev, m2m_reason reason, const char *text)
{
	m2me_attach_run *run = &dev->proc.attach;
	run->result = reason;
	snprintf(run->result_text, sizeof run->result_text, "%s", text ? text : "");
	m2m_info("attach: telling %s that the attach with IMSI %s %s%s", run->holder, run->imsi,
		 reason ? "failed: " : "succeeded", reason ? m2me_reason_name(reason) : "");
	if (m2me_tre_attached(dev, run->imsi, reason, on_told))
		on_told(dev, NULL, M2M_R_UNKNOWN_PEER, "the TRE cannot be called");
}

/* ---- starting ------------------------------------------------------------------------------------ */

/* The attach with what the TRE named: a PCID reaches provisioning only. */
static void with_credential(m2me_device *dev, const m2me_credential *c)
{
	m2me_attach_run *run = &dev->proc.attach;
	snprintf(run->imsi, sizeof run->imsi, "%s", c->imsi);
	m2m_info("%s names its %s %s", run->holder, c->kind == M2M_CREDENTIAL_PCID ? "PCID" : "MCIM", c->imsi);
	if (c->kind == M2M_CREDENTIAL_PCID)
		snprintf(run->apn, sizeof run->apn, "%s", dev->settings.provisioning_apn);
	run->done = tell_the_tre;
	request(dev);
}

static void on_credential(m2me_device *dev, const m2me_credential *c, m2m_reason reason, const char *text)
{
	if (reason)
		dev->proc.attach.done(dev, reason, text);
	else
		with_credential(dev, c);
}

/* 0 when an attach may start now (the run set up for it), else done was called. */
static int begin(m2me_device *dev, const char *network, const char *apn, int tre_only, m2me_done_fn done)
{
	const m2me_state *st = &dev->state;
	m2me_attach_run *run = &dev->proc.attach;
	*run = (m2me_attach_run){.done = done, .then = done};
	if (!st->powered) {
		done(dev, M2M_R_WRONG_STATE, "powered off");
		return -1;
	}
	if (st->attached) {
		m2me_fail(dev, done, M2M_R_WRONG_STATE, "already attached to %s: detach first", st->session.network);
		return -1;
	}
	if (!dev->settings.tre[0] && (tre_only || !st->card_read)) {
		done(dev, M2M_R_NO_CARD, tre_only ? "the device has no TRE"
						  : "no card was read at power-on and the device has no TRE");
		return -1;
	}
	snprintf(run->network, sizeof run->network, "%s", network);
	snprintf(run->apn, sizeof run->apn, "%s", apn);
	if (st->card_read && !tre_only) {
		snprintf(run->imsi, sizeof run->imsi, "%s", st->info.imsi);
		snprintf(run->holder, sizeof run->holder, "%s", st->card);
		run->aka = m2me_card_aka;
	} else {
		snprintf(run->holder, sizeof run->holder, "%s", dev->settings.tre);
		run->aka = m2me_tre_aka;
		run->via_tre = 1;
	}
	return 0;
}

void m2me_attach(m2me_device *dev, const char *network, const char *apn, m2me_done_fn done)
{
	if (begin(dev, network, apn, 0, done))
		return;
	m2me_attach_run *run = &dev->proc.attach;
	if (!run->via_tre) {
		request(dev);
		return;
	}
	run->phase = NAMING;
	if (m2me_tre_credential(dev, on_credential))
		m2me_fail(dev, done, M2M_R_UNKNOWN_PEER, "%s is not a configured peer", run->holder);
}

void m2me_attach_named(m2me_device *dev, const char *network, const char *apn, const m2me_credential *c,
		       m2me_done_fn done)
{
	m2me_credential named = *c;  /* c may live in the run that begin() resets */
	if (begin(dev, network, apn, 1, done) == 0)
		with_credential(dev, &named);
}
