/*
 * treTrigger{imsi, trigger} of Alternative 3b (docs/alt3b.md): the registration operator's signed
 * wake-up for the device's TRE, routed by the IMSI's home operator through the visited network
 * the device is attached through. The device takes it as it takes an SMS (downlink.c: only from
 * the network of the session, only for its IMSI, not while another procedure runs) and hands it
 * unchanged to its TRE, which alone checks the signature and the nonce (T-3b-3):
 *
 *   no TRE             notFound
 *   the TRE's answer   treTriggerAck back as it came; its refusal with its reason, its silence
 *                      with the transport's (timeout)
 *
 * The device is busy while the TRE holds the trigger, so that no deviceControl switches the
 * credential under it. The TRE persists the change before it answers; the device, before it
 * passes the ack on, stores that its provisioning is due (unattended), which it then starts by
 * itself once idle (provision.c), also after a restart. A refusal stores nothing.
 */
#include "device.h"

#include "crypto/crypto.h"
#include "log/log.h"

#include <stdio.h>

static void end(m2me_device *dev)
{
	m2m_wipe(&dev->proc, sizeof dev->proc);
}

static void on_ack(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
	m2me_device *dev = arg;
	m2m_request *req = dev->proc.req;
	char text[300];
	if (resp && resp->type == M2M_MSG_TRE_TRIGGER_ACK && m2me_store_schedule_provision(dev)) {
		m2m_refuse(dev->node, req, M2M_R_INTERNAL, "the provisioning the trigger asks for could not be stored");
	} else if (resp && resp->type == M2M_MSG_TRE_TRIGGER_ACK) {
		m2m_info("treTrigger: %s acknowledged; treTriggerAck to %s; the provisioning starts once the device is"
			 " idle", dev->settings.tre, req->env.sender);
		m2m_reply(dev->node, req, M2M_MSG_TRE_TRIGGER_ACK, resp->body);
		dev->provision_due = 1;
	} else {
		m2m_call_failure(dev->settings.tre, resp, reason, text, sizeof text);
		m2m_warn("treTrigger refused: %s", text);
		m2m_refuse(dev->node, req, m2m_call_reason(resp, reason), "%s", text);
	}
	end(dev);
}

void m2me_tre_trigger(m2me_device *dev, m2m_request *req)
{
	const M2M_TRE_TRIGGER *q = req->env.body;
	char imsi[M2ME_IMSI_MAX + 1], why[200];
	if (m2m_digits(q->imsi, imsi, sizeof imsi, 6, M2ME_IMSI_MAX) || ASN1_STRING_length(q->trigger->cms) < 1) {
		m2m_refuse(dev->node, req, M2M_R_BAD_BODY, "imsi must be 6 to 15 digits and the trigger not empty");
		return;
	}
	m2m_reason r = m2me_downlink_admit(dev, req->env.sender, imsi, NULL, why, sizeof why);
	if (r) {
		m2m_refuse(dev->node, req, r, "%s", why);
		return;
	}
	if (!dev->settings.tre[0]) {
		m2m_refuse(dev->node, req, M2M_R_NOT_FOUND, "the device has no TRE to take the trigger");
		return;
	}
	dev->proc = (m2me_procedure){.active = 1, .kind = M2ME_PROC_TRIGGER, .req = req};
	if (m2m_call(dev->node, dev->settings.tre, M2M_MSG_TRE_TRIGGER, q, on_ack, dev)) {
		end(dev);
		m2m_refuse(dev->node, req, M2M_R_UNKNOWN_PEER, "%s is not a configured peer", dev->settings.tre);
		return;
	}
	m2m_info("treTrigger from %s for IMSI %s handed to %s", req->env.sender, imsi, dev->settings.tre);
	m2m_defer(dev->node, req);
}
