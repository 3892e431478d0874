/*
 * The testbed's hands on a TRE (docs/tre.md, "treControl"): the device's power switch (boot), an
 * attacker flashing a component (modifyComponent) and the case switch (openCase), each answered
 * by treStatus. `up` uses status to know a TRE booted; scenarios build their steps from these.
 */
#include "testbed.h"

#include <stdio.h>
#include <string.h>

static const char *const action_names[] = {"status", "boot", "modifyComponent", "openCase"};

static M2M_TRE_CONTROL *control_body(int action, const char *component, const char *content)
{
	M2M_TRE_CONTROL *b = M2M_TRE_CONTROL_new();
	ASN1_ENUMERATED_set(b->action, action);
	if (component) {
		b->component = ASN1_UTF8STRING_new();
		m2m_set_str(b->component, component);
	}
	if (content) {
		b->content = ASN1_OCTET_STRING_new();
		ASN1_OCTET_STRING_set(b->content, (const unsigned char *)content, (int)strlen(content));
	}
	return b;
}

static void read_status(const M2M_TRE_STATUS *b, tb_tre_status *st)
{
	memset(st, 0, sizeof *st);
	st->booted = b->booted != 0;
	st->secure_boot_ok = b->secure_boot_ok != 0;
	for (int e = M2M_TAMPER_CASE_OPENED; e <= M2M_TAMPER_COMPONENT_MODIFIED; e++)
		if (ASN1_BIT_STRING_get_bit(b->tamper, e))
			st->tamper |= TB_TAMPER(e);
	st->pending = (long)b->pending_reports;
	st->enrolled = b->enrolled != 0;
	st->provisioning = b->provisioning ? (int)ASN1_ENUMERATED_get(b->provisioning) : -1;
}

m2m_reason tb_tre(m2m_node *n, const char *tre, int action, const char *component, const char *content,
		  tb_tre_status *st, char *why, size_t len)
{
	M2M_TRE_CONTROL *body = control_body(action, component, content);
	tb_reply r;
	tb_call(n, tre, M2M_MSG_TRE_CONTROL, body, &r);
	M2M_TRE_CONTROL_free(body);
	tb_reply_problem(&r, M2M_MSG_TRE_STATUS, why, len);
	m2m_reason rc = M2M_OK;
	if (why[0])
		rc = r.reason != M2M_OK ? r.reason : M2M_R_UNEXPECTED_MESSAGE;
	else
		read_status(r.body, st);
	tb_reply_clear(&r);
	return rc;
}

const char *tb_provision_state_name(int state)
{
	/* ProvisionState (docs/protocol.asn1) */
	static const char *const names[] = {"idle", "discovering", "ordering", "confirming", "done", "failed",
					    "switching", "completing", "uiccRegistering", "uiccLoading",
					    "uiccSwitching", "uiccCompleting"};
	return state >= 0 && state < (int)(sizeof names / sizeof names[0]) ? names[state] : "none";
}

/* "booted, secure boot failed, tamper: caseOpened componentModified, 1 report pending[, procedure
 * done]" */
static void describe(const tb_tre_status *st, char *out, size_t len)
{
	snprintf(out, len, "%s, secure boot %s, tamper:%s%s%s, %ld report%s pending%s%s", st->booted ? "booted" : "not booted",
		 st->secure_boot_ok ? "ok" : "failed", st->tamper & TB_TAMPER(M2M_TAMPER_CASE_OPENED) ? " caseOpened" : "",
		 st->tamper & TB_TAMPER(M2M_TAMPER_COMPONENT_MODIFIED) ? " componentModified" : "", st->tamper ? "" : " none",
		 st->pending, st->pending == 1 ? "" : "s", st->provisioning >= 0 ? ", procedure " : "",
		 st->provisioning >= 0 ? tb_provision_state_name(st->provisioning) : "");
}

static int as_wanted(const tb_tre_status *st, const tb_tre_want *want)
{
	if (!want)
		return 1;
	int boot_ok = want->secure_boot < 0 || (st->booted && st->secure_boot_ok == want->secure_boot);
	return boot_ok && (st->tamper & want->set) == want->set && !(st->tamper & want->clear);
}

int tb_tre_ok(tb_session *s, const char *tre, int action, const char *component, const char *content,
	      const tb_tre_want *want, tb_tre_status *st, const char *fmt, ...)
{
	char text[512], why[300], seen[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	tb_step(s, "%s: treControl %s%s%s to %s", text, action_names[action], component ? " " : "", component ? component : "",
		tre);
	tb_tre_status mine;
	if (!st)
		st = &mine;
	if (tb_tre(s->node, tre, action, component, content, st, why, sizeof why))
		return tb_step_fail(s, "%s answered %s, expected treStatus", tre, why);
	describe(st, seen, sizeof seen);
	if (!as_wanted(st, want))
		return tb_step_fail(s, "%s says %s", tre, seen);
	printf("(%s) ", seen);
	return tb_step_ok(s);
}
