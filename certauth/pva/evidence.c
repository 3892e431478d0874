/*
 * Evidence from the wire into the plain values pva_appraise reads. The templates do not check
 * the module's SIZE and range constraints, so every one the appraisal relies on is checked
 * here: evidence that breaks one is badBody, never a value cut short or read out of bounds.
 */
#include "pva_impl.h"

#include <string.h>

int pva_read_mode(const ASN1_ENUMERATED *e, m2m_validation_mode *out)
{
	int v = 0;
	if (m2m_read_enum(e, M2M_MODE_REMOTE, &v))
		return -1;
	*out = (m2m_validation_mode)v;
	return 0;
}

/* TamperFlags: the named bits only; a bit the module does not name is tampering we cannot
 * interpret, and is counted as tampering rather than ignored. */
static unsigned read_tamper(const ASN1_BIT_STRING *b)
{
	unsigned flags = 0;
	for (int i = 0; b && i < ASN1_STRING_length(b) * 8; i++)
		if (ASN1_BIT_STRING_get_bit(b, i))
			flags |= i <= M2M_TAMPER_COMPONENT_MODIFIED ? PVA_TAMPER_BIT(i) : PVA_TAMPER_BIT(31);
	return flags;
}

static int read_verdicts(const STACK_OF(M2M_COMPONENT_VERDICT) *sk, pva_evidence *out)
{
	int n = sk_M2M_COMPONENT_VERDICT_num(sk);
	if (n < 1 || n > PVA_MAX_VERDICTS)
		return -1;
	for (int i = 0; i < n; i++) {
		const M2M_COMPONENT_VERDICT *v = sk_M2M_COMPONENT_VERDICT_value(sk, i);
		if (m2m_read_name(v->component, out->verdicts[i].component, PVA_COMPONENT_MAX))
			return -1;
		out->verdicts[i].matches = v->matches > 0;
	}
	out->has_verdicts = 1;
	out->nverdicts = n;
	return 0;
}

static int read_log_entry(const M2M_MEASUREMENT_LOG_ENTRY *w, pva_log_entry *out)
{
	if (w->register_ >= PVA_MAX_REGISTERS)
		return -1;
	out->reg = (int)w->register_;
	if (m2m_read_name(w->component, out->component, PVA_COMPONENT_MAX))
		return -1;
	return m2m_read_octets(w->digest, out->digest, PVA_DIGEST_LEN);
}

static int read_quote(const M2M_QUOTE *w, pva_quote *out)
{
	int nr = sk_ASN1_OCTET_STRING_num(w->registers), nl = sk_M2M_MEASUREMENT_LOG_ENTRY_num(w->log);
	if (nr < 1 || nr > PVA_MAX_REGISTERS || nl < 1 || nl > PVA_MAX_LOG)
		return -1;
	for (int i = 0; i < nr; i++)
		if (m2m_read_octets(sk_ASN1_OCTET_STRING_value(w->registers, i), out->registers[i], PVA_DIGEST_LEN))
			return -1;
	for (int i = 0; i < nl; i++)
		if (read_log_entry(sk_M2M_MEASUREMENT_LOG_ENTRY_value(w->log, i), &out->log[i]))
			return -1;
	out->nregisters = nr;
	out->nlog = nl;
	return 0;
}

m2m_reason pva_evidence_from_wire(const M2M_EVIDENCE *w, pva_evidence *out)
{
	memset(out, 0, sizeof *out);
	if (m2m_read_name(w->tre, out->tre, M2M_ENTITY_MAX) || m2m_read_octets(w->nonce, out->nonce, PVA_NONCE_LEN) ||
	    pva_read_mode(w->mode, &out->mode))
		return M2M_R_BAD_BODY;
	out->tamper = read_tamper(w->tamper);
	out->secure_boot = w->secure_boot > 0;
	if (w->verdicts && read_verdicts(w->verdicts, out))
		return M2M_R_BAD_BODY;
	if (w->quote) {
		if (read_quote(w->quote, &out->quote))
			return M2M_R_BAD_BODY;
		out->has_quote = 1;
	}
	return M2M_OK;
}

int pva_read_entity(const ASN1_STRING *s, char buf[M2M_ENTITY_MAX + 1])
{
	return m2m_read_name(s, buf, M2M_ENTITY_MAX);
}
