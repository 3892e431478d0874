/*
 * deviceControl provision: the TRE's provisioning (docs/alt1a.md steps 4 to 8; TR 33.812 §5.1,
 * brief §2.1 steps 2, 4 and 11), and a change of subscription (docs/alt1a-change.md steps 3 to
 * 5), carried over the device's session. The TRE decides every step; the device is its pipe to
 * the network:
 *
 *   (attach)   not attached: attach with what the TRE names (its PCID: a walled garden; its
 *              active MCIM: an operational session, which may relay to any peer)
 *   ASKING     treProvision{answer?} sent to the TRE             -> treProvisionNext
 *   RELAYING   relayRequest{session, step} sent to the network   -> relayResponse, the answer
 *              handed to the TRE in the next treProvision
 *   SWITCHING  the TRE is done: attach with the MCIM it now names (switch.c), the end
 *   CHANGING   the TRE is switching: detach, attach with the new MCIM, tell the TRE (switch.c);
 *              then ASKING again (completing: changeComplete relayed over the new session)
 *   CARDING    3b: the TRE's card step is with the UICC; its answer goes back in the next
 *              treProvision (uicc_change.c)
 *   FOLLOWING  3b, uiccSwitching: the card's REFRESH, the re-attach with the IMSI it presents,
 *              treAttached (uicc_change.c); then ASKING again
 *
 * Alternative 3b (docs/alt3b.md) runs over the card's operational session: the TRE re-credentials
 * the card, and done ends the procedure there (no credential of the TRE to attach with). It is
 * started by the device itself once it passed the TRE's treTriggerAck back (trigger.c): the row
 * is stored marked unattended before the ack leaves, and m2me_provision_tick starts it when the
 * device is powered and idle (after the procedure in progress, after an OTA to settle, after a
 * restart), with nobody waiting: its end is logged, its result is the deviceStatus that follows.
 *
 * The procedure ends with deviceStatus (imsi: the MCIM's) or with the reason the TRE, the
 * network or the destination gave. Its progress is stored at every phase (table provision) and
 * dropped at the end. A provision after a restart resumes from it: the TRE keeps its own state
 * and repeats its current step when asked without an answer, so the step that was in flight is
 * relayed again (its destinations answer a repeated step as they answered the first).
 */
#include "device.h"

#include "log/log.h"

#include <stdio.h>
#include <string.h>

/* A TRE that never ends would hold the device: discovery, order and install are three steps,
 * a change adds changeComplete. */
#define MAX_RELAYS 16

static void ask(m2me_device *dev, const M2M_RELAY_RESPONSE *answer, const m2me_rapdu *card);

/* The end: the row goes, in the step that answers the deviceControl. */
void m2me_provision_finish(m2me_device *dev, m2m_reason reason, const char *text)
{
	if (m2me_store_forget_provision(dev) && !reason) {
		reason = M2M_R_INTERNAL;
		text = "the end of the provisioning could not be stored";
	}
	m2me_control_finish(dev, reason, text);
}

int m2me_provision_enter(m2me_device *dev, m2me_provision_phase phase)
{
	m2me_provision_run *p = &dev->proc.provision;
	p->phase = phase;
	if (m2me_store_save_provision(dev, p) == 0)
		return 0;
	m2me_control_fail(dev, M2M_R_INTERNAL, "the provisioning's progress could not be stored");
	return -1;
}

void m2me_provision_continue(m2me_device *dev)
{
	ask(dev, NULL, NULL);
}

void m2me_provision_card_answer(m2me_device *dev, const m2me_rapdu *r)
{
	ask(dev, NULL, r);
}

/* ---- relaying a step ----------------------------------------------------------------------------- */

static void on_relayed(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
	m2me_device *dev = arg;
	const char *network = dev->state.session.network;
	if (!resp || resp->type != M2M_MSG_RELAY_RESPONSE) {
		char text[256];
		m2m_reason r = m2m_call_reason(resp, reason);
		m2m_call_failure(network, resp, reason, text, sizeof text);
		if (r == M2M_R_NOT_ATTACHED)  /* the network closed the session: a new attach is needed */
			m2me_forget_session(dev);
		m2me_provision_finish(dev, r, text);
		return;
	}
	const M2M_RELAY_RESPONSE *answer = resp->body;
	m2m_info("provision: %s answered %s", dev->proc.provision.last_destination,
		 m2m_msgtype_name(answer->message_type) ? m2m_msgtype_name(answer->message_type) : "?");
	ask(dev, answer, NULL);
}

static void relay(m2me_device *dev, const M2M_RELAY_STEP *step)
{
	m2me_provision_run *p = &dev->proc.provision;
	if (++p->relays > MAX_RELAYS) {
		m2me_control_fail(dev, M2M_R_WRONG_STATE, "the TRE asked for more than %d steps", MAX_RELAYS);
		return;
	}
	p->steps++;
	p->last_type = step->message_type;
	if (m2m_str(step->destination, p->last_destination, sizeof p->last_destination))
		p->last_destination[0] = 0;  /* the network refuses it by name; we only log it */
	if (m2me_provision_enter(dev, M2ME_PROV_RELAYING))
		return;
	const m2me_session *s = &dev->state.session;
	M2M_RELAY_REQUEST *q = M2M_RELAY_REQUEST_new();
	ASN1_OCTET_STRING_set(q->session_id, s->id, M2M_SESSION_ID_LEN);
	M2M_RELAY_STEP_free(q->step);
	q->step = ASN1_item_dup(ASN1_ITEM_rptr(M2M_RELAY_STEP), step);
	int rc = q->step ? m2m_call(dev->node, s->network, M2M_MSG_RELAY_REQUEST, q, on_relayed, dev) : -1;
	M2M_RELAY_REQUEST_free(q);
	if (rc) {
		m2me_control_fail(dev, M2M_R_UNKNOWN_PEER, "%s is not a configured peer", s->network);
		return;
	}
	m2m_info("provision: step %d, %s to %s relayed through %s", p->steps,
		 m2m_msgtype_name(p->last_type) ? m2m_msgtype_name(p->last_type) : "?", p->last_destination, s->network);
}

/* ---- asking the TRE ------------------------------------------------------------------------------ */

static int uicc_state(m2m_provision_state s)
{
	return s >= M2M_PROV_UICC_REGISTERING && s <= M2M_PROV_UICC_COMPLETING;
}

/* 3b is done: the card holds the credential the device is attached with, nothing to switch to. */
static void uicc_done(m2me_device *dev)
{
	const m2me_state *st = &dev->state;
	m2m_info("provision: the card's re-credentialing is done; IMSI %s%s%s", st->card_read ? st->info.imsi : "?",
		 st->attached ? " through " : ", not attached", st->attached ? st->session.network : "");
	m2me_provision_finish(dev, M2M_OK, NULL);
}

static void on_next(m2me_device *dev, const m2me_next *next, m2m_reason reason, const char *text)
{
	if (reason) {
		m2me_provision_finish(dev, reason, text);
		return;
	}
	dev->proc.provision.uicc |= uicc_state(next->state);  /* stored with the next phase */
	if (next->card)
		m2me_uicc_card_step(dev, next->card);
	else if (next->state == M2M_PROV_UICC_SWITCHING)
		m2me_uicc_follow(dev);
	else if (next->state == M2M_PROV_DONE && dev->proc.provision.uicc)
		uicc_done(dev);
	else if (next->state == M2M_PROV_DONE)
		m2me_switch_settle(dev);
	else if (next->state == M2M_PROV_SWITCHING)
		m2me_switch_change(dev);
	else if (next->state == M2M_PROV_FAILED)
		m2me_fail(dev, m2me_provision_finish, next->reason ? next->reason : M2M_R_INTERNAL,
			  "the TRE's provisioning failed: %s", m2me_reason_name(next->reason));
	else
		relay(dev, next->step);
}

static void ask(m2me_device *dev, const M2M_RELAY_RESPONSE *answer, const m2me_rapdu *card)
{
	if (m2me_provision_enter(dev, M2ME_PROV_ASKING))
		return;
	if (m2me_tre_provision(dev, answer, card, on_next))
		m2me_control_fail(dev, M2M_R_UNKNOWN_PEER, "%s is not a configured peer", dev->settings.tre);
}

/* ---- the action ---------------------------------------------------------------------------------- */

static void after_first_attach(m2me_device *dev, m2m_reason reason, const char *text)
{
	if (reason)
		m2me_control_finish(dev, reason, text);
	else
		ask(dev, NULL, NULL);
}

/* What a restart interrupted: 0 when nothing was under way. */
static int resume(m2me_device *dev)
{
	m2me_provision_run *p = &dev->proc.provision;
	m2me_provision_run stored;
	int found = m2me_store_load_provision(dev, &stored);
	if (found <= 0)
		return found;
	p->phase = stored.phase;
	p->steps = stored.steps;
	p->last_type = stored.last_type;
	snprintf(p->last_destination, sizeof p->last_destination, "%s", stored.last_destination);
	snprintf(p->from_imsi, sizeof p->from_imsi, "%s", stored.from_imsi);
	p->failure = stored.failure;
	p->uicc = stored.uicc;
	p->unattended = stored.unattended;
	m2m_info("provision: resuming at %s after %d step(s)", m2me_provision_phases[p->phase], p->steps);
	return 1;
}

void m2me_provision(m2me_device *dev, const char *network, const char *apn)
{
	const m2me_state *st = &dev->state;
	m2me_provision_run *p = &dev->proc.provision;
	snprintf(p->network, sizeof p->network, "%s", network);
	snprintf(p->apn, sizeof p->apn, "%s", apn);
	if (!dev->settings.tre[0]) {
		m2me_control_finish(dev, M2M_R_NO_CARD, "the device has no TRE to provision (setting m2me.tre)");
		return;
	}
	if (!st->powered) {
		m2me_control_finish(dev, M2M_R_WRONG_STATE, "powered off");
		return;
	}
	/* attached with the card: the TRE's provisioning runs over that session (3b re-credentials the
	 * card; 1a's steps reach the DRF from an operational session as well) */
	int resumed = resume(dev);
	if (resumed < 0)
		m2me_control_finish(dev, M2M_R_INTERNAL, "the provisioning's progress cannot be read");
	else if (resumed && p->phase == M2ME_PROV_SWITCHING)
		m2me_switch_settle(dev);
	else if (resumed && p->phase == M2ME_PROV_CHANGING)
		m2me_switch_change(dev);
	else if (!st->attached)
		m2me_attach(dev, network, apn, after_first_attach);
	else
		ask(dev, NULL, NULL);
}

/* ---- started by the TRE's trigger ----------------------------------------------------------------- */

void m2me_provision_tick(m2me_device *dev)
{
	if (!dev->provision_due || dev->proc.active || dev->ota_recover || !dev->state.powered)
		return;
	dev->proc = (m2me_procedure){.active = 1, .kind = M2ME_PROC_UNATTENDED, .action = M2M_DEV_PROVISION};
	dev->proc.provision.unattended = 1;
	m2m_info("provision: started by the TRE's trigger, nobody waits for its end");
	const m2me_session *s = &dev->state.session;
	int attached = dev->state.attached;
	m2me_provision(dev, attached ? s->network : dev->settings.network, attached ? s->apn : dev->settings.apn);
}

void m2me_provision_unattended_end(m2me_device *dev, m2m_reason reason, const char *text)
{
	const m2me_state *st = &dev->state;
	if (dev->proc.kind == M2ME_PROC_UNATTENDED && reason)
		m2m_warn("provision (started by the TRE's trigger) failed: %s: %s", m2me_reason_name(reason), text ? text : "");
	else if (dev->proc.kind == M2ME_PROC_UNATTENDED)
		m2m_info("provision (started by the TRE's trigger) done: IMSI %s, %s%s", st->attached ? st->session.imsi : "-",
			 st->attached ? "attached through " : "not attached", st->attached ? st->session.network : "");
	if (!dev->provision_due)
		return;
	dev->provision_due = 0;
	if (m2me_store_unschedule_provision(dev))
		m2m_error("the end of the unattended provisioning could not be stored");
}
