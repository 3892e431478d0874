/*
 * treControl: the testbed's hands on the device's hardware (tamper simulation). Only the
 * configured controller may use it.
 *   status           treStatus
 *   boot             a power cycle: re-measure every component, secure boot, tamper check;
 *                    every unacknowledged tamper report is sent again
 *   modifyComponent  rewrites a component's file (an attacker flashing it): nothing is measured
 *                    until the next boot, as on a real device
 *   openCase         the case switch: latches caseOpened, reacts and reports at once
 * Every action answers treStatus.
 */
#include "tre.h"

#include "log/log.h"

#include <stdio.h>
#include <string.h>

enum { F_COMPONENT = 1, F_CONTENT = 2 };

static const struct action_def {
	const char *name;  /* the ASN.1 identifier */
	int fields;        /* the optional fields it must carry; the others must be absent */
} actions[] = {
	[M2M_TRE_CTL_STATUS] = {"status", 0},
	[M2M_TRE_CTL_BOOT] = {"boot", 0},
	[M2M_TRE_CTL_MODIFY_COMPONENT] = {"modifyComponent", F_COMPONENT | F_CONTENT},
	[M2M_TRE_CTL_OPEN_CASE] = {"openCase", 0},
};
#define NACTIONS ((long)(sizeof actions / sizeof actions[0]))

/* ---- treStatus -------------------------------------------------------------------------- */

M2M_TRE_STATUS *tre_status_body(tre *t)
{
	M2M_TRE_STATUS *s = M2M_TRE_STATUS_new();
	m2m_set_str(s->tre, t->entity);
	s->booted = t->boot.booted ? 0xff : 0;
	s->secure_boot_ok = t->boot.booted && t->boot.secure_boot_ok ? 0xff : 0;
	ASN1_BIT_STRING_free(s->tamper);
	s->tamper = tre_tamper_bits(tre_tamper_flags(t));
	s->pending_reports = (uint64_t)tre_tamper_pending(t);
	s->enrolled = tre_enrolled(t) ? 0xff : 0;
	int state = tre_provision_state_now(t);
	if (state >= 0 && (s->provisioning = ASN1_ENUMERATED_new()))
		ASN1_ENUMERATED_set(s->provisioning, state);
	return s;
}

static void reply_status(tre *t, m2m_request *req)
{
	M2M_TRE_STATUS *s = tre_status_body(t);
	m2m_reply(t->node, req, M2M_MSG_TRE_STATUS, s);
	M2M_TRE_STATUS_free(s);
}

/* ---- checks ----------------------------------------------------------------------------- */

static m2m_reason check_fields(const M2M_TRE_CONTROL *c, long action, char *why, size_t len)
{
	int present = (c->component ? F_COMPONENT : 0) | (c->content ? F_CONTENT : 0);
	int wanted = actions[action].fields;
	if (present & ~wanted)
		return snprintf(why, len, "%s carries no %s", actions[action].name,
				present & ~wanted & F_COMPONENT ? "component" : "content"), M2M_R_BAD_BODY;
	if (wanted & ~present)
		return snprintf(why, len, "%s needs a %s", actions[action].name,
				wanted & ~present & F_COMPONENT ? "component" : "content"), M2M_R_BAD_BODY;
	return M2M_OK;
}

static m2m_reason check_control(const tre *t, const m2m_request *req, long *action, char *why, size_t len)
{
	const M2M_TRE_CONTROL *c = req->env.body;
	*action = ASN1_ENUMERATED_get(c->action);
	if (strcmp(req->env.sender, t->s.controller))
		return snprintf(why, len, "only %s may control this TRE, not %s", t->s.controller, req->env.sender),
		       M2M_R_NOT_AUTHORISED;
	if (*action < 0 || *action >= NACTIONS)
		return snprintf(why, len, "action %ld is not one of status, boot, modifyComponent, openCase", *action),
		       M2M_R_BAD_BODY;
	return check_fields(c, *action, why, len);
}

/* ---- actions ---------------------------------------------------------------------------- */

static void boot(tre *t, m2m_request *req)
{
	if (!t->have_refs) {
		m2m_refuse(t->node, req, M2M_R_WRONG_STATE, "no certified reference values yet (platform type %s %s)",
			   t->s.model, t->s.version);
		return;
	}
	if (tre_boot(t)) {
		m2m_refuse(t->node, req, M2M_R_INTERNAL, "the boot could not be recorded");
		return;
	}
	tre_tamper_retry_now(t);
	reply_status(t, req);
}

/* Written beside the file and renamed over it: a reader (a boot) never sees half a component. */
static int write_component(const char *path, const unsigned char *data, size_t len)
{
	char tmp[TRE_PATH_MAX + 8];
	snprintf(tmp, sizeof tmp, "%s.new", path);
	FILE *f = fopen(tmp, "wb");
	int ok = f && fwrite(data, 1, len, f) == len;
	ok = f && !fclose(f) && ok;
	if (ok && rename(tmp, path) == 0)
		return 0;
	remove(tmp);
	return -1;
}

static void modify_component(tre *t, m2m_request *req)
{
	const M2M_TRE_CONTROL *c = req->env.body;
	char name[TRE_NAME_MAX + 1];
	int len = ASN1_STRING_length(c->content);
	int i = m2m_str(c->component, name, sizeof name) ? -1 : tre_component_index(&t->s, name);
	if (i < 0) {
		m2m_refuse(t->node, req, M2M_R_NOT_FOUND, "no component of that name is measured by this TRE");
	} else if (len < 1 || len > TRE_CONTENT_MAX) {
		m2m_refuse(t->node, req, M2M_R_BAD_BODY, "content has %d bytes (1..%d)", len, TRE_CONTENT_MAX);
	} else if (write_component(t->s.components[i].file, ASN1_STRING_get0_data(c->content), (size_t)len)) {
		m2m_refuse(t->node, req, M2M_R_INTERNAL, "%s could not be written", name);
	} else {
		m2m_warn("component %s rewritten (%d bytes): measured at the next boot", name, len);
		reply_status(t, req);
	}
}

static void open_case(tre *t, m2m_request *req)
{
	if (tre_tamper_open_case(t))
		m2m_refuse(t->node, req, M2M_R_INTERNAL, "the opening could not be recorded");
	else
		reply_status(t, req);
}

void tre_control(tre *t, m2m_request *req)
{
	char why[200];
	long action = 0;
	m2m_reason r = check_control(t, req, &action, why, sizeof why);
	if (r) {
		m2m_refuse(t->node, req, r, "%s", why);
		return;
	}
	switch (action) {
	case M2M_TRE_CTL_BOOT:
		boot(t, req);
		break;
	case M2M_TRE_CTL_MODIFY_COMPONENT:
		modify_component(t, req);
		break;
	case M2M_TRE_CTL_OPEN_CASE:
		open_case(t, req);
		break;
	default:
		reply_status(t, req);
	}
}
