/*
 * The MCIM package (brief §2.1 step 9, T-1a-3): the Mcim's DER is signed by the DPF's identity
 * (CMS SignedData: origin and integrity, checkable by the TRE against the agency's root) and the
 * SignedData encrypted to the certificate that signed the order (CMS AuthEnvelopedData,
 * AES-256-GCM, ECDH to the TRE's key): only that TRE can open it, nobody on the way can read or
 * change it. The package is stored with the order before the reply leaves, so a retry of the
 * order gets the same bytes; a newer order of the same TRE withdraws the older package.
 *
 * With export_dir, the package and the certificates to open and check it are also written out
 * (<mcimId>.cms, <tre>.pem, dpf.pem) for `openssl cms -decrypt` / `openssl cms -verify`.
 */
#include "dpf/dpf_impl.h"

#include "crypto/crypto.h"
#include "log/log.h"
#include "store/store.h"

#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- export ----------------------------------------------------------------------------------- */

static int write_file(const char *path, const uint8_t *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	int rc = !f || fwrite(data, 1, len, f) != len;
	if (f && fclose(f))
		rc = 1;
	return rc ? -1 : 0;
}

/* The DPF's certificate, then its chain (issuing CA first). */
static int write_own_chain(dpf_context *dpf, const char *path)
{
	STACK_OF(X509) *chain = m2m_identity_chain(dpf->id);
	FILE *f = fopen(path, "w");
	int rc = !f || !PEM_write_X509(f, m2m_identity_cert(dpf->id));
	for (int i = 0; !rc && i < sk_X509_num(chain); i++)
		rc = !PEM_write_X509(f, sk_X509_value(chain, i));
	if (f && fclose(f))
		rc = 1;
	return rc ? -1 : 0;
}

/* Entity ids name files here: one that could leave the directory is not exported. */
static int safe_name(const char *name)
{
	return name[0] && name[0] != '.' && !strchr(name, '/');
}

static void export_package(dpf_context *dpf, const dpf_order *o, X509 *tre_cert)
{
	const char *dir = dpf->settings.export_dir;
	char path[PATH_MAX + 96], id_hex[2 * DPF_MCIM_ID_LEN + 1];
	int rc = -1;
	m2m_hex(o->mcim_id, sizeof o->mcim_id, id_hex);
	if (safe_name(o->tre)) {
		snprintf(path, sizeof path, "%s/%s.cms", dir, id_hex);
		rc = write_file(path, o->package, o->package_len);
		snprintf(path, sizeof path, "%s/%s.pem", dir, o->tre);
		rc = rc || m2m_pki_cert_write_pem(tre_cert, path);
		snprintf(path, sizeof path, "%s/dpf.pem", dir);
		rc = rc || write_own_chain(dpf, path);
	}
	if (rc)
		m2m_warn("the package of MCIM %s could not be exported to %s", id_hex, dir);
}

/* ---- the package ------------------------------------------------------------------------------ */

int dpf_seal_item(dpf_context *dpf, const ASN1_ITEM *item, const void *value, X509 *recipient, uint8_t **out,
		  size_t *outlen)
{
	uint8_t *der = NULL, *sd = NULL, *pkg = NULL;
	size_t sdlen = 0, pkglen = 0;
	int derlen = ASN1_item_i2d((const ASN1_VALUE *)value, &der, item);
	int rc = derlen <= 0 || m2m_identity_sign(dpf->id, der, (size_t)derlen, &sd, &sdlen) ||
		 m2m_cms_encrypt(recipient, sd, sdlen, &pkg, &pkglen);
	*out = NULL;
	if (!rc && (*out = malloc(pkglen)) != NULL) {
		memcpy(*out, pkg, pkglen);
		*outlen = pkglen;
	}
	if (der)
		OPENSSL_clear_free(der, (size_t)derlen);
	OPENSSL_clear_free(sd, sdlen);
	OPENSSL_free(pkg);
	return *out ? 0 : -1;
}

/* Signed, then encrypted to the TRE: o->package. */
static m2m_reason seal_mcim(dpf_context *dpf, const M2M_MCIM *m, X509 *tre_cert, dpf_order *o)
{
	return dpf_seal_item(dpf, ASN1_ITEM_rptr(M2M_MCIM), m, tre_cert, &o->package, &o->package_len) ? M2M_R_INTERNAL
													  : M2M_OK;
}

/* A newer order replaces the TRE's packages not installed yet: their records go. */
static m2m_reason withdraw_older(dpf_context *dpf, const dpf_order *o)
{
	int n = 0;
	dpf_order_ref *refs = dpf_order_refs(dpf->db, o->tre, DPF_PACKAGED, &n);
	m2m_reason r = n < 0 ? M2M_R_INTERNAL : M2M_OK;
	for (int i = 0; i < n && r == M2M_OK; i++)
		r = dpf_order_withdraw(dpf, &refs[i], "a newer order of the TRE is packaged");
	free(refs);
	return r;
}

/* What package_steps works on. */
typedef struct order_sealing {
	dpf_order *o;
	X509 *tre_cert;
} order_sealing;

static m2m_reason package_steps(dpf_context *dpf, void *arg, char *why, size_t len)
{
	dpf_order *o = ((order_sealing *)arg)->o;
	M2M_MCIM *m = NULL;
	m2m_reason r = dpf_mcim_make(dpf, o, &m, why, len);
	if (r == M2M_OK && (r = seal_mcim(dpf, m, ((order_sealing *)arg)->tre_cert, o)) != M2M_OK)
		snprintf(why, len, "the MCIM of %s cannot be signed and encrypted", o->tre);
	if (r == M2M_OK && (r = withdraw_older(dpf, o)) != M2M_OK)
		snprintf(why, len, "the earlier packages of %s cannot be withdrawn", o->tre);
	if (r == M2M_OK && dpf_order_packaged(dpf->db, o)) {
		r = M2M_R_INTERNAL;
		snprintf(why, len, "the package of %s cannot be stored", o->tre);
	}
	dpf_mcim_free(m);
	return r;
}

m2m_reason dpf_all_or_nothing(dpf_context *dpf, dpf_steps_cb steps, void *arg, char *why, size_t len)
{
	if (!m2m_identity_ready(dpf->id) || m2m_store_exec(dpf->db, "SAVEPOINT dpf_steps")) {
		snprintf(why, len, "the DPF cannot package yet (not enrolled, or its database is busy)");
		return M2M_R_INTERNAL;
	}
	/* the verdict's step does not roll back on a refusal: a failure undoes its own writes */
	m2m_reason r = steps(dpf, arg, why, len);
	if (r != M2M_OK)
		sqlite3_exec(dpf->db, "ROLLBACK TO dpf_steps", NULL, NULL, NULL);
	if (m2m_store_exec(dpf->db, "RELEASE dpf_steps") && r == M2M_OK) {
		r = M2M_R_INTERNAL;
		snprintf(why, len, "what was made cannot be stored");
	}
	return r;
}

m2m_reason dpf_package_order(dpf_context *dpf, dpf_order *o, char *why, size_t len)
{
	order_sealing sealing = {o, m2m_pki_cert_from_der(o->tre_cert, o->tre_cert_len)};
	m2m_reason r = M2M_R_INTERNAL;
	if (!sealing.tre_cert)
		snprintf(why, len, "the certificate of %s cannot be read", o->tre);
	else
		r = dpf_all_or_nothing(dpf, package_steps, &sealing, why, len);
	if (r == M2M_OK) {
		char id_hex[2 * DPF_MCIM_ID_LEN + 1];
		m2m_hex(o->mcim_id, sizeof o->mcim_id, id_hex);
		m2m_info("MCIM %s (IMSI %s) packaged for %s", id_hex, o->imsi, o->tre);
		o->state = DPF_PACKAGED;
		if (dpf->settings.export_dir[0])
			export_package(dpf, o, sealing.tre_cert);
	}
	X509_free(sealing.tre_cert);
	return r;
}

void dpf_package_reply(dpf_context *dpf, m2m_request *req, const dpf_order *o)
{
	M2M_MCIM_PACKAGE *p = M2M_MCIM_PACKAGE_new();
	if (!p || !ASN1_OCTET_STRING_set(p->mcim_id, o->mcim_id, DPF_MCIM_ID_LEN) ||
	    !ASN1_OCTET_STRING_set(p->package, o->package, (int)o->package_len))
		m2m_refuse(dpf->node, req, M2M_R_INTERNAL, "the package of %s cannot be encoded", o->tre);
	else
		m2m_reply(dpf->node, req, M2M_MSG_MCIM_PACKAGE, p);
	M2M_MCIM_PACKAGE_free(p);
}
