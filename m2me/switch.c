/*
 * The device's turn in the TRE's provisioning (provision.c): the TRE keeps the credentials and
 * says which one to use (treCredential); the device detaches and attaches with it, and every
 * such attach tells the TRE how it went (treAttached, attach.c), whose answer names what to
 * attach with next.
 *
 * settle: the TRE is done (the first MCIM, docs/alt1a.md step 8). Attached with what it names
 *   already (the end of a change), nothing to do; else detach (the PCID session) and attach with
 *   it [TR step 11]. Then the end.
 * change: the TRE is switching (docs/alt1a-change.md step 5): detach from MCIM A, attach with B.
 *   - attached, and the TRE's answer names B: it committed; the loop goes on (completing: the
 *     changeComplete it signed is relayed over B's session);
 *   - the attach with B failed: the TRE, told so, returns to A and names it; the device attaches
 *     with A and the action ends with the reason B failed [D: the device is never left on
 *     neither when A is still usable];
 *   - attached, but the TRE names another credential (its switch deadline passed first and it
 *     went back on its own): back to that one, the action ends with timeout.
 *
 * The phase (switching, changing), the IMSI the change started from and the failure are stored
 * before the detach. After a restart the phase resumes by asking the TRE again what to attach
 * with; the session the device remembers may have been detached already, so it detaches and
 * attaches again, which also tells the TRE again.
 */
#include "device.h"

#include "log/log.h"

#include <stdio.h>
#include <string.h>

static int attached_with(const m2me_device *dev, const char *imsi)
{
	const m2me_state *st = &dev->state;
	return st->attached && st->session.via_tre && !strcmp(st->session.imsi, imsi);
}

/* ---- detach, then attach with the credential named -------------------------------------------- */

static void attach_target(m2me_device *dev)
{
	m2me_provision_run *p = &dev->proc.provision;
	m2me_attach_named(dev, p->network, p->apn, &p->target, p->then);
}

static void after_detach(m2me_device *dev, m2m_reason reason, const char *text)
{
	/* the session is forgotten whatever the network said: the attach goes ahead */
	if (reason)
		m2m_warn("provision: the detach failed (%s: %s)", m2me_reason_name(reason), text);
	attach_target(dev);
}

static void reattach(m2me_device *dev, const m2me_credential *c, m2me_done_fn then)
{
	m2me_provision_run *p = &dev->proc.provision;
	p->target = *c;
	p->then = then;
	if (dev->state.attached)
		m2me_detach(dev, after_detach);
	else
		attach_target(dev);
}

/* ---- settle: the TRE is done --------------------------------------------------------------------- */

static void settled(m2me_device *dev, m2m_reason reason, const char *text)
{
	if (!reason)
		m2m_info("provision: done, attached with the MCIM %s", dev->state.session.imsi);
	m2me_provision_finish(dev, reason, text);
}

static void settle_with(m2me_device *dev, const m2me_credential *c, m2m_reason reason, const char *text)
{
	if (reason) {
		m2me_provision_finish(dev, reason, text);
		return;
	}
	if (attached_with(dev, c->imsi)) {
		settled(dev, M2M_OK, NULL);
		return;
	}
	if (m2me_provision_enter(dev, M2ME_PROV_SWITCHING))
		return;
	m2m_info("provision: the TRE is done; detach, then attach with IMSI %s", c->imsi);
	reattach(dev, c, settled);
}

void m2me_switch_settle(m2me_device *dev)
{
	if (m2me_tre_credential(dev, settle_with))
		m2me_fail(dev, m2me_provision_finish, M2M_R_UNKNOWN_PEER, "%s is not a configured peer", dev->settings.tre);
}

/* ---- change: the TRE is switching ---------------------------------------------------------------- */

static void changed(m2me_device *dev, m2m_reason reason, const char *text);

/* The change failed: back to the credential the TRE names now, then the end with the failure. */
static void go_back(m2me_device *dev, const m2me_credential *c, m2m_reason failure, const char *text)
{
	m2me_provision_run *p = &dev->proc.provision;
	p->failure = failure;
	snprintf(p->failure_text, sizeof p->failure_text, "%s", text);
	if (m2me_provision_enter(dev, M2ME_PROV_CHANGING))
		return;
	m2m_warn("provision: the change failed (%s: %s); back to IMSI %s", m2me_reason_name(failure), text, c->imsi);
	reattach(dev, c, changed);
}

/* Back on the credential the change started from (or the TRE went back to): the end. */
static void end_back(m2me_device *dev)
{
	const m2me_provision_run *p = &dev->proc.provision;
	if (p->failure_text[0])
		m2me_provision_finish(dev, p->failure, p->failure_text);
	else  /* resumed after a restart: the first text is gone, the reason was stored */
		m2me_fail(dev, m2me_provision_finish, p->failure, "the change of subscription failed (%s): back on IMSI %s",
			  m2me_reason_name(p->failure), dev->state.session.imsi);
}

/* The attach with B failed; the TRE was told and named where to go back to. */
static void switch_failed(m2me_device *dev, m2m_reason reason, const char *text)
{
	const m2me_attach_run *run = &dev->proc.attach;
	const m2me_provision_run *p = &dev->proc.provision;
	if (p->failure)  /* the way back failed too: the TRE keeps A, a later attach will use it */
		m2me_fail(dev, m2me_provision_finish, p->failure, "%s; the attach back with IMSI %s failed as well (%s)",
			  p->failure_text[0] ? p->failure_text : m2me_reason_name(p->failure), run->imsi, text);
	else if (run->told || !strcmp(run->next.imsi, run->imsi))
		m2me_provision_finish(dev, reason, text);  /* nothing else to go back to */
	else
		go_back(dev, &run->next, reason, text);
}

/* After each attach of the change: the one with B, or the one back. */
static void changed(m2me_device *dev, m2m_reason reason, const char *text)
{
	const m2me_attach_run *run = &dev->proc.attach;
	m2me_provision_run *p = &dev->proc.provision;
	if (reason) {
		switch_failed(dev, reason, text);
		return;
	}
	/* without the TRE's answer it neither committed nor knows: its deadline will decide */
	if (run->told) {
		m2me_fail(dev, m2me_provision_finish, run->told, "attached with IMSI %s, but %s was not told so", run->imsi,
			  run->holder);
		return;
	}
	if (strcmp(run->next.imsi, run->imsi) && !p->failure) {
		char why[256];
		snprintf(why, sizeof why, "%s went back to IMSI %s before the attach with IMSI %s was reported: the change"
			 " did not complete", run->holder, run->next.imsi, run->imsi);
		go_back(dev, &run->next, M2M_R_TIMEOUT, why);
		return;
	}
	if (!p->failure && p->from_imsi[0] && !strcmp(run->imsi, p->from_imsi)) {
		/* resumed after a restart, the TRE already back where the change started */
		p->failure = M2M_R_TIMEOUT;
		snprintf(p->failure_text, sizeof p->failure_text, "%s went back to IMSI %s: the change did not complete",
			 run->holder, run->imsi);
	}
	if (p->failure) {
		end_back(dev);
		return;
	}
	m2m_info("provision: attached with the new MCIM %s; the TRE completes the change", run->imsi);
	m2me_provision_continue(dev);
}

static void change_with(m2me_device *dev, const m2me_credential *c, m2m_reason reason, const char *text)
{
	m2me_provision_run *p = &dev->proc.provision;
	if (reason) {
		m2me_provision_finish(dev, reason, text);
		return;
	}
	int resumed = p->phase == M2ME_PROV_CHANGING;
	if (!resumed) {
		/* a fresh switch: where it starts, to recognise a way back that ends there */
		const m2me_session *s = &dev->state.session;
		snprintf(p->from_imsi, sizeof p->from_imsi, "%s", dev->state.attached && strcmp(s->imsi, c->imsi) ? s->imsi : "");
		p->failure = M2M_OK;
		p->failure_text[0] = 0;
		if (m2me_provision_enter(dev, M2ME_PROV_CHANGING))
			return;
	}
	m2m_info("provision: %s; detach, then attach with IMSI %s",
		 resumed ? "the switch resumes" : "the TRE is switching", c->imsi);
	reattach(dev, c, changed);
}

void m2me_switch_change(m2me_device *dev)
{
	if (m2me_tre_credential(dev, change_with))
		m2me_fail(dev, m2me_provision_finish, M2M_R_UNKNOWN_PEER, "%s is not a configured peer", dev->settings.tre);
}
