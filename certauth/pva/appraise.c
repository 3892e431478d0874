/*
 * The decision of appraise.h: the gate checks (trust, identity, freshness, mode) that end the
 * appraisal at the first failure, then the findings (assurance, tamper, the mode's own check)
 * that are all collected, and the result the findings add up to.
 */
#include "appraise.h"

#include "crypto/crypto.h"

#include <string.h>

static void add_reason(pva_outcome *out, m2m_reason r)
{
	for (int i = 0; i < out->nreasons; i++)
		if (out->reasons[i] == r)
			return;
	if (out->nreasons < PVA_MAX_REASONS)
		out->reasons[out->nreasons++] = r;
}

void pva_outcome_fail(pva_outcome *out, m2m_reason why)
{
	memset(out, 0, sizeof *out);
	out->result = M2M_VERDICT_FAIL;
	add_reason(out, why);
}

/* ---- the gates: evidence that fails one of them says nothing else worth believing ---------- */

/* The evidence must come from the TRE that was asked, signed under its own certificate: a valid
 * signature by another TRE is evidence about that other TRE. */
static m2m_reason identity(const pva_inputs *in)
{
	const char *asked = in->challenge->tre;
	if (!in->signer || strcmp(in->signer, asked) || strcmp(in->evidence->tre, asked))
		return M2M_R_BAD_SIGNATURE;
	return M2M_OK;
}

/* Freshness rests on the nonce alone: the one issued for this challenge, never appraised
 * before, answered before it expired. */
static m2m_reason freshness(const pva_inputs *in)
{
	const pva_challenge *c = in->challenge;
	if (m2m_ct_compare(in->evidence->nonce, c->nonce, PVA_NONCE_LEN) || c->used || in->now > c->expires)
		return M2M_R_NONCE_REPLAYED;
	return M2M_OK;
}

/* Evidence of another mode answers another question; without its mode's part it answers none. */
static m2m_reason mode_shape(const pva_inputs *in)
{
	const pva_evidence *e = in->evidence;
	if (e->mode != in->challenge->mode)
		return M2M_R_BAD_BODY;
	if (e->mode == M2M_MODE_SEMI_AUTONOMOUS && !e->has_verdicts)
		return M2M_R_BAD_BODY;
	if (e->mode == M2M_MODE_REMOTE && !e->has_quote)
		return M2M_R_BAD_BODY;
	return M2M_OK;
}

static m2m_reason gates(const pva_inputs *in)
{
	if (in->trust != M2M_OK)
		return in->trust;
	m2m_reason r = identity(in);
	if (r == M2M_OK)
		r = freshness(in);
	if (r == M2M_OK)
		r = mode_shape(in);
	return r;
}

/* ---- the findings ---------------------------------------------------------------------------- */

/* The TRE compared each component itself: any mismatch is a modified component. */
static void semi_autonomous(const pva_evidence *e, pva_outcome *out)
{
	for (int i = 0; i < e->nverdicts; i++)
		if (!e->verdicts[i].matches)
			add_reason(out, M2M_R_COMPONENT_MODIFIED);
}

/* The PVA compares: a log that does not replay to the signed registers cannot be read entry by
 * entry, so the references are only consulted for a log that does. */
static void remote(const pva_inputs *in, pva_outcome *out)
{
	const pva_quote *q = &in->evidence->quote;
	if (!pva_log_replays(q)) {
		add_reason(out, M2M_R_LOG_MISMATCH);
		return;
	}
	for (int i = 0; i < q->nlog; i++) {
		const pva_reference *ref = pva_reference_find(in->refs, q->log[i].component);
		if (!ref)
			add_reason(out, M2M_R_UNKNOWN_DIGEST);
		else if (memcmp(ref->digest, q->log[i].digest, PVA_DIGEST_LEN))
			add_reason(out, M2M_R_COMPONENT_MODIFIED);
	}
}

static void findings(const pva_inputs *in, pva_outcome *out)
{
	const pva_evidence *e = in->evidence;
	if (in->platform->assurance < in->challenge->min_assurance)
		add_reason(out, M2M_R_ASSURANCE_TOO_LOW);
	if (e->tamper)
		add_reason(out, M2M_R_TAMPER_DETECTED);
	switch (e->mode) {
	case M2M_MODE_AUTONOMOUS:
		/* all the TRE tells is whether its secure boot passed */
		if (!e->secure_boot)
			add_reason(out, M2M_R_COMPONENT_MODIFIED);
		break;
	case M2M_MODE_SEMI_AUTONOMOUS:
		semi_autonomous(e, out);
		break;
	case M2M_MODE_REMOTE:
		remote(in, out);
		break;
	}
}

/* Quarantine is for a platform whose only fault is a component the agency has not certified yet
 * (a remediation path), and only when the policy says so; anything else fails. */
static m2m_verdict_result result_of(const pva_outcome *out, pva_unknown_policy unknown)
{
	if (out->nreasons == 0)
		return M2M_VERDICT_OK;
	if (unknown == PVA_UNKNOWN_QUARANTINE && out->nreasons == 1 && out->reasons[0] == M2M_R_UNKNOWN_DIGEST)
		return M2M_VERDICT_QUARANTINE;
	return M2M_VERDICT_FAIL;
}

void pva_appraise(const pva_inputs *in, pva_outcome *out)
{
	m2m_reason stop = gates(in);
	if (stop != M2M_OK) {
		pva_outcome_fail(out, stop);
		return;
	}
	memset(out, 0, sizeof *out);
	findings(in, out);
	out->result = result_of(out, in->unknown);
}

const char *pva_result_name(m2m_verdict_result r)
{
	static const char *const names[] = {"ok", "quarantine", "fail", "never"};
	return (unsigned)r < sizeof names / sizeof names[0] ? names[r] : "?";
}
