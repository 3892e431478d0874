/*
 * The reference values the agency certified for a platform type (PlatformType, the eContent
 * of platformTypeResponse): the TRE's local copy for secure boot and semi-autonomous validation
 * (brief §3, "Reference values"). Read into plain C once its signature has been checked, with
 * the module's SIZE constraints the templates do not check.
 */
#include "tre.h"

#include <stdio.h>
#include <string.h>

static int copy_name(const ASN1_STRING *s, char *out, size_t max)
{
	return m2m_str(s, out, max + 1) || !out[0] ? -1 : 0;
}

static int copy_reference(const M2M_REFERENCE_METRIC *m, tre_reference *out, char *why, size_t whylen)
{
	if (copy_name(m->component, out->component, TRE_NAME_MAX))
		return snprintf(why, whylen, "a reference names no component (1..%d characters)", TRE_NAME_MAX), -1;
	if (ASN1_STRING_length(m->digest) != TRE_DIGEST_LEN)
		return snprintf(why, whylen, "the reference digest of %s is not %d bytes", out->component,
				TRE_DIGEST_LEN), -1;
	memcpy(out->digest, ASN1_STRING_get0_data(m->digest), TRE_DIGEST_LEN);
	return 0;
}

static int copy_references(const M2M_PLATFORM_TYPE *p, tre_references *out, char *why, size_t whylen)
{
	int n = sk_M2M_REFERENCE_METRIC_num(p->references);
	if (n < 1 || n > TRE_MAX_COMPONENTS)
		return snprintf(why, whylen, "%d references (1..%d allowed)", n, TRE_MAX_COMPONENTS), -1;
	for (int i = 0; i < n; i++) {
		if (copy_reference(sk_M2M_REFERENCE_METRIC_value(p->references, i), &out->ref[i], why, whylen))
			return -1;
		out->count = i;  /* tre_reference_find over the ones before */
		if (tre_reference_find(out, out->ref[i].component))
			return snprintf(why, whylen, "%s has two reference values", out->ref[i].component), -1;
	}
	out->count = n;
	return 0;
}

int tre_references_read(const M2M_PLATFORM_TYPE *pt, tre_references *out, char *why, size_t whylen)
{
	memset(out, 0, sizeof *out);
	if (copy_name(pt->model, out->model, TRE_NAME_MAX) || copy_name(pt->version, out->version, TRE_VERSION_MAX))
		return snprintf(why, whylen, "the model or version is empty or too long"), -1;
	if (pt->assurance_level < 1 || pt->assurance_level > 7)
		return snprintf(why, whylen, "assurance level %llu is not 1..7", (unsigned long long)pt->assurance_level), -1;
	out->assurance = (int)pt->assurance_level;
	return copy_references(pt, out, why, whylen);
}

const tre_reference *tre_reference_find(const tre_references *r, const char *component)
{
	for (int i = 0; i < r->count; i++)
		if (!strcmp(r->ref[i].component, component))
			return &r->ref[i];
	return NULL;
}
