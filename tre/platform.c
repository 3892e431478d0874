/*
 * The TRE's local copy of the reference values (brief §3: "The TRE holds a local copy (for
 * autonomous/semi-autonomous validation)"): the platform type the agency certified for this
 * TRE's model and version, fetched once (platformTypeRequest -> SignedObject over PlatformType)
 * and kept as the agency signed it. It is accepted only when the signature chains to the root
 * this TRE was given, the signer is the agency itself (a TRE's certificate chains to the same
 * root, and must not be able to certify reference values), and it is for this model and version.
 * The stored copy is verified again at every start: a database edited behind the TRE's back
 * loses its reference values rather than feeding secure boot false ones.
 */
#include "tre.h"

#include "log/log.h"
#include "pki/pki.h"

#include <stdio.h>
#include <string.h>

/* ---- verifying ---------------------------------------------------------------------------- */

static m2m_reason check_signer(const tre *t, X509 *signer, char *why, size_t len)
{
	char cn[64] = "";
	if (m2m_pki_cert_cn(signer, cn, sizeof cn) || strcmp(cn, t->s.agency))
		return snprintf(why, len, "signed by %s, not by the agency %s", cn, t->s.agency), M2M_R_NOT_AUTHORISED;
	return M2M_OK;
}

static m2m_reason check_type(const tre *t, const tre_references *r, char *why, size_t len)
{
	if (strcmp(r->model, t->s.model) || strcmp(r->version, t->s.version))
		return snprintf(why, len, "the platform type is %s %s, not %s %s", r->model, r->version, t->s.model,
				t->s.version), M2M_R_BAD_BODY;
	for (int i = 0; i < t->s.ncomponents; i++)
		if (!tre_reference_find(r, t->s.components[i].name))
			m2m_warn("the platform type certifies no value for %s: secure boot cannot pass", t->s.components[i].name);
	return M2M_OK;
}

/* Verifies a SignedObject's CMS into *out; M2M_OK or the reason with why. */
static m2m_reason verify(tre *t, const unsigned char *cms, size_t len, tre_references *out, char *why, size_t whylen)
{
	m2m_trust *trust = tre_trust_new(t, NULL);
	M2M_SIGNED_OBJECT *so = M2M_SIGNED_OBJECT_new();
	void *value = NULL;
	X509 *signer = NULL;
	m2m_reason rc = M2M_R_INTERNAL;
	if (trust && so && ASN1_OCTET_STRING_set(so->cms, cms, (int)len))
		rc = m2m_cms_verify_item(trust, so, ASN1_ITEM_rptr(M2M_PLATFORM_TYPE), &value, &signer);
	if (rc)
		snprintf(why, whylen, "the signed platform type is not accepted: %s", m2m_reason_name(rc));
	else if ((rc = check_signer(t, signer, why, whylen)) == M2M_OK)
		rc = tre_references_read(value, out, why, whylen) ? M2M_R_BAD_BODY : check_type(t, out, why, whylen);
	M2M_PLATFORM_TYPE_free(value);
	X509_free(signer);
	M2M_SIGNED_OBJECT_free(so);
	m2m_trust_free(trust);
	return rc;
}

/* ---- storing ------------------------------------------------------------------------------ */

static int store(tre *t, const unsigned char *cms, size_t len)
{
	sqlite3_stmt *st = m2m_store_prepare(t->db, "INSERT OR REPLACE INTO tre_platform (id, cms) VALUES (1, ?1)");
	if (st)
		sqlite3_bind_blob(st, 1, cms, (int)len, SQLITE_TRANSIENT);
	return m2m_store_run(t->db, st);
}

m2m_reason tre_platform_accept(tre *t, const unsigned char *cms, size_t len, char *why, size_t whylen)
{
	tre_references refs;
	m2m_reason rc = verify(t, cms, len, &refs, why, whylen);
	if (rc)
		return rc;
	if (store(t, cms, len))
		return snprintf(why, whylen, "the platform type could not be stored"), M2M_R_INTERNAL;
	t->refs = refs;
	t->have_refs = 1;
	return M2M_OK;
}

int tre_platform_load(tre *t)
{
	sqlite3_stmt *st = m2m_store_prepare(t->db, "SELECT cms FROM tre_platform WHERE id = 1");
	if (!st)
		return -1;
	char why[300];
	if (sqlite3_step(st) == SQLITE_ROW) {
		tre_references refs;
		if (verify(t, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), &refs, why, sizeof why))
			m2m_warn("the stored platform type is not accepted any more (%s): fetching it again", why);
		else
			t->refs = refs, t->have_refs = 1;
	}
	sqlite3_finalize(st);
	return 0;
}

/* ---- fetching ----------------------------------------------------------------------------- */

/* The first reference values are what the first boot waits for. */
static void first_boot(tre *t)
{
	if (!t->boot.booted && tre_boot(t))
		m2m_error("the first boot could not be recorded");
}

static void on_platform(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
	tre *t = arg;
	char why[300];
	m2m_reason r = M2M_R_UNEXPECTED_MESSAGE;
	const M2M_SIGNED_OBJECT *so = resp && resp->type == M2M_MSG_PLATFORM_TYPE_RESPONSE ? resp->body : NULL;
	if (so)
		r = tre_platform_accept(t, ASN1_STRING_get0_data(so->cms), (size_t)ASN1_STRING_length(so->cms), why, sizeof why);
	else
		m2m_call_failure(t->s.agency, resp, reason, why, sizeof why);
	if (r == M2M_OK) {
		t->platform.in_flight = 0;
		m2m_info("reference values of %s %s kept: %d components, assurance level %d", t->refs.model, t->refs.version,
			 t->refs.count, t->refs.assurance);
		first_boot(t);
	} else {
		m2m_warn("platform type not fetched: %s; retrying", why);
		tre_retry_later(&t->platform, !resp);
	}
	tre_tick(t);
}

void tre_platform_resume(tre *t)
{
	if (t->have_refs || t->platform.in_flight || !tre_retry_due(&t->platform))
		return;
	M2M_PLATFORM_TYPE_REQUEST *q = M2M_PLATFORM_TYPE_REQUEST_new();
	m2m_set_str(q->model, t->s.model);
	m2m_set_str(q->version, t->s.version);
	t->platform.in_flight = !m2m_call(t->node, t->s.agency, M2M_MSG_PLATFORM_TYPE_REQUEST, q, on_platform, t);
	if (!t->platform.in_flight)
		tre_retry_later(&t->platform, 0);
	M2M_PLATFORM_TYPE_REQUEST_free(q);
}
