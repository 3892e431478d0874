/*
 * The three forms of evidence (brief §3, the validation modes table; the InterDigital abstract:
 * "autonomous, semi-autonomous, and remote validation"). Every form names the TRE, echoes the
 * nonce, states the mode, and carries the tamper flags and the secure boot result:
 *   autonomous      that is all: the TRE compared locally, the network trusts its certification;
 *   semiAutonomous  plus the TRE's verdict per component against its local reference values;
 *   remote          plus the registers and the whole measurement log, for the PVA to replay and
 *                   compare itself.
 */
#include "tre.h"

ASN1_BIT_STRING *tre_tamper_bits(unsigned flags)
{
	ASN1_BIT_STRING *b = ASN1_BIT_STRING_new();
	for (int bit = M2M_TAMPER_CASE_OPENED; bit <= M2M_TAMPER_COMPONENT_MODIFIED; bit++)
		if (flags & TRE_TAMPER_BIT(bit))
			ASN1_BIT_STRING_set_bit(b, bit, 1);
	return b;
}

static STACK_OF(M2M_COMPONENT_VERDICT) *verdicts(const tre *t)
{
	STACK_OF(M2M_COMPONENT_VERDICT) *sk = sk_M2M_COMPONENT_VERDICT_new_null();
	for (int i = 0; i < t->s.ncomponents; i++) {
		M2M_COMPONENT_VERDICT *v = M2M_COMPONENT_VERDICT_new();
		m2m_set_str(v->component, t->s.components[i].name);
		v->matches = t->boot.match[i] == TRE_MATCHES ? 0xff : 0;
		sk_M2M_COMPONENT_VERDICT_push(sk, v);
	}
	return sk;
}

static M2M_MEASUREMENT_LOG_ENTRY *log_entry(const tre_log_entry *e)
{
	M2M_MEASUREMENT_LOG_ENTRY *m = M2M_MEASUREMENT_LOG_ENTRY_new();
	m->register_ = (uint64_t)e->reg;
	m2m_set_str(m->component, e->component);
	ASN1_OCTET_STRING_set(m->digest, e->digest, TRE_DIGEST_LEN);
	return m;
}

/* Every register, used or not: the log must replay to all of them, so that a verifier also
 * sees that nothing was measured into the others. */
static M2M_QUOTE *quote(const tre *t)
{
	const tre_measurements *m = &t->boot.m;
	M2M_QUOTE *q = M2M_QUOTE_new();
	for (int r = 0; r < TRE_REGISTERS; r++) {
		ASN1_OCTET_STRING *s = ASN1_OCTET_STRING_new();
		ASN1_OCTET_STRING_set(s, m->reg[r], TRE_DIGEST_LEN);
		sk_ASN1_OCTET_STRING_push(q->registers, s);
	}
	for (int i = 0; i < m->nlog; i++)
		sk_M2M_MEASUREMENT_LOG_ENTRY_push(q->log, log_entry(&m->log[i]));
	return q;
}

M2M_EVIDENCE *tre_evidence_build(const tre *t, const uint8_t nonce[TRE_NONCE_LEN], m2m_validation_mode mode)
{
	M2M_EVIDENCE *e = M2M_EVIDENCE_new();
	m2m_set_str(e->tre, t->entity);
	ASN1_OCTET_STRING_set(e->nonce, nonce, TRE_NONCE_LEN);
	ASN1_ENUMERATED_set(e->mode, mode);
	ASN1_BIT_STRING_free(e->tamper);
	e->tamper = tre_tamper_bits(tre_tamper_flags(t));
	e->secure_boot = t->boot.secure_boot_ok ? 0xff : 0;
	if (mode == M2M_MODE_SEMI_AUTONOMOUS)
		e->verdicts = verdicts(t);
	else if (mode == M2M_MODE_REMOTE)
		e->quote = quote(t);
	return e;
}
