/*
 * Platform validation with the testbed as the relying party (brief §3): the tool asks the TRE's
 * agency, whose PVA lists "testbed" among its relying_parties, validationRequest {tre, mode,
 * minAssurance}; the PVA challenges the TRE and answers with a verdict it signed. The tool
 * believes a verdict only after the check any relying party makes (lib/pki/verdict.h): a CMS
 * SignedData over a Verdict, signed under a pva certificate that chains to the agency's root
 * (RUNDIR/AGENCY.root.pem), about the TRE it asked, addressed to the testbed, and still valid.
 */
#include "testbed.h"

#include "pki/verdict.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const mode_names[] = {"autonomous", "semiAutonomous", "remote"};

const char *tb_mode_name(int mode)
{
	return mode >= 0 && mode <= M2M_MODE_REMOTE ? mode_names[mode] : "?";
}

/* The agency's root, from the file it wrote at its start. */
static m2m_trust *agency_trust(const char *rundir, const char *agency)
{
	char path[PATH_MAX];
	X509 *root = tb_root_path(path, sizeof path, rundir, agency) ? NULL : m2m_pki_cert_read_pem(path);
	m2m_trust *t = root ? m2m_trust_new(root) : NULL;
	X509_free(root);
	return t;
}

static m2m_reason check_verdict(const tb_reply *r, const char *rundir, const char *agency, const char *tre,
				tb_verdict *v, char *why, size_t len)
{
	const M2M_SIGNED_OBJECT *so = r->body;
	m2m_trust *trust = agency_trust(rundir, agency);
	m2m_verdict_info info;
	m2m_reason rc = trust ? m2m_verdict_check(trust, ASN1_STRING_get0_data(so->cms), (size_t)ASN1_STRING_length(so->cms),
						  tre, TB_SELF, time(NULL), &info)
			      : M2M_R_INTERNAL;
	m2m_trust_free(trust);
	if (!trust) {
		snprintf(why, len, "cannot read %s's root certificate", agency);
	} else if (rc != M2M_OK) {
		const char *name = m2m_reason_name(rc);
		snprintf(why, len, "the verdict does not pass the relying party's check: %s", name ? name : "?");
	} else {
		memset(v, 0, sizeof *v);
		v->result = info.result;
		v->mode = info.mode;
		v->nreasons = info.nreasons < TB_VERDICT_MAX_REASONS ? info.nreasons : TB_VERDICT_MAX_REASONS;
		memcpy(v->reasons, info.reasons, (size_t)v->nreasons * sizeof v->reasons[0]);
	}
	return rc;
}

m2m_reason tb_validate(m2m_node *n, const tb_topology *t, const char *rundir, const char *tre, int mode,
		       int min_assurance, tb_verdict *v, char *why, size_t len)
{
	int i = tb_entity_index(t, tre), a = i < 0 ? -1 : tb_agency_of(t, i);
	if (a < 0) {
		snprintf(why, len, "%s is not a TRE of the topology with an agency", tre);
		return M2M_R_UNKNOWN_PEER;
	}
	const char *agency = t->entities[a].id;
	M2M_VALIDATION_REQUEST *q = M2M_VALIDATION_REQUEST_new();
	m2m_set_str(q->tre, tre);
	ASN1_ENUMERATED_set(q->mode, mode);
	q->min_assurance = (uint64_t)min_assurance;
	tb_reply r;
	tb_call(n, agency, M2M_MSG_VALIDATION_REQUEST, q, &r);
	M2M_VALIDATION_REQUEST_free(q);
	tb_reply_problem(&r, M2M_MSG_VALIDATION_RESPONSE, why, len);
	m2m_reason rc = why[0] ? (r.reason != M2M_OK ? r.reason : M2M_R_UNEXPECTED_MESSAGE)
			       : check_verdict(&r, rundir, agency, tre, v, why, len);
	tb_reply_clear(&r);
	return rc;
}

/* ---- a step ------------------------------------------------------------------------------------ */

static int has_reason(const tb_verdict *v, m2m_reason r)
{
	for (int i = 0; i < v->nreasons; i++)
		if (v->reasons[i] == r)
			return 1;
	return 0;
}

/* "fail (componentModified, tamperDetected)" */
static void describe(const tb_verdict *v, char *out, size_t len)
{
	static const char *const results[] = {"ok", "quarantine", "fail"};
	size_t used = (size_t)snprintf(out, len, "%s", v->result >= 0 && v->result <= 2 ? results[v->result] : "?");
	for (int i = 0; i < v->nreasons && used < len; i++) {
		const char *name = m2m_reason_name(v->reasons[i]);
		used += (size_t)snprintf(out + used, len - used, "%s%s", i ? ", " : " (", name ? name : "?");
	}
	if (v->nreasons && used < len)
		snprintf(out + used, len - used, ")");
}

/* Why the verdict is not the one wanted; "" when it is. */
static void judge(const tb_verdict *v, int mode, const m2m_reason *want, int nwant, char *why, size_t len)
{
	int found = 0;
	size_t used = 0;
	for (int i = 0; i < nwant; i++)
		found |= has_reason(v, want[i]);
	why[0] = 0;
	if (v->mode != mode) {
		snprintf(why, len, "the verdict is for mode %s", tb_mode_name(v->mode));
	} else if (!nwant && (v->result != M2M_VERDICT_OK || v->nreasons)) {
		snprintf(why, len, "expected ok");
	} else if (nwant && (v->result != M2M_VERDICT_FAIL || !found)) {
		used = (size_t)snprintf(why, len, "expected fail with");
		for (int i = 0; i < nwant && used < len; i++)
			used += (size_t)snprintf(why + used, len - used, "%s%s", i ? " or " : " ", m2m_reason_name(want[i]));
	}
}

int tb_validation_expect(tb_session *s, const char *tre, int mode, int min_assurance, const m2m_reason *want,
			 int nwant, const char *fmt, ...)
{
	char text[512], why[300], seen[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	tb_step(s, "%s: the testbed, as relying party, asks validationRequest {%s, %s, minAssurance %d}", text, tre,
		tb_mode_name(mode), min_assurance);
	tb_verdict v;
	if (tb_validate(s->node, s->topology, s->rundir, tre, mode, min_assurance, &v, why, sizeof why))
		return tb_step_fail(s, "no verdict: %s", why);
	describe(&v, seen, sizeof seen);
	judge(&v, mode, want, nwant, why, sizeof why);
	if (why[0])
		return tb_step_fail(s, "the PVA's signed verdict says %s; %s", seen, why);
	printf("(signed verdict: %s) ", seen);
	return tb_step_ok(s);
}
