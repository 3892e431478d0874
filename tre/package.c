/*
 * The MCIM package and its install (docs/alt1a.md steps 6 and 7; brief §2.1 step 10: "the TRE
 * verifies Cert_DPF -> Root_CA, the MAC, freshness and that SHO_ID matches reg_ticket, then
 * decrypts and installs into an isolated slot").
 *
 * mcimPackage {mcimId, package}: package is a CMS AuthEnvelopedData to the TRE's certified key
 * around a CMS SignedData by the SHO's DPF over Mcim. Two kinds of failure:
 *  - the package is not authentic or not an answer to this order: it does not open with our key
 *    (T-1a-3), its signer is not the ticket's SHO (profile operatorFunction, CN = sho: T-1a-1,
 *    T-1a-10), its certificate is revoked or does not chain, or it carries another nonce than
 *    this order's (a replay, T-1a-4). It is refused and changes nothing: whoever relayed it
 *    can neither replay an old package nor end the procedure, and the genuine one still installs.
 *  - an authentic answer to this order whose content cannot be installed (another TRE or owner
 *    named inside, sizes, an IMSI held already): the TRE installs nothing and tells the DPF in a
 *    signed InstallResult {refused, reason}, so that the HSS record is never activated.
 */
#include "tre.h"

#include "crypto/crypto.h"
#include "log/log.h"
#include "wire/read.h"

#include <stdio.h>
#include <string.h>

void tre_mcim_free(M2M_MCIM *m)
{
	if (!m)
		return;
	ASN1_OCTET_STRING *secrets[] = {m->k, m->opc};
	for (int i = 0; i < 2; i++)
		if (secrets[i] && secrets[i]->data)
			OPENSSL_cleanse(secrets[i]->data, (size_t)secrets[i]->length);
	M2M_MCIM_free(m);
}

/* ---- opening ------------------------------------------------------------------------------ */

/* Decrypted content is the SignedData, with K and OPc inside: wiped once verified. */
static m2m_reason open_envelope(tre *t, const M2M_MCIM_PACKAGE *pkg, M2M_SIGNED_OBJECT *so, char *why, size_t len)
{
	uint8_t *content = NULL;
	size_t clen = 0;
	m2m_reason r = tre_keystore_decrypt(t, ASN1_STRING_get0_data(pkg->package), (size_t)ASN1_STRING_length(pkg->package),
					    &content, &clen);
	if (r)
		return snprintf(why, len, "the package does not open with this TRE's key: %s", m2m_reason_name(r)), r;
	if (clen > 65536 || !ASN1_OCTET_STRING_set(so->cms, content, (int)clen))
		r = M2M_R_BAD_BODY, snprintf(why, len, "the package's content is too large");
	OPENSSL_clear_free(content, clen);
	return r;
}

static m2m_reason check_nonce(const M2M_MCIM *m, const tre_provision_state *p, char *why, size_t len)
{
	if (ASN1_STRING_length(m->nonce) != TRE_NONCE_LEN ||
	    m2m_ct_compare(ASN1_STRING_get0_data(m->nonce), p->nonce2, TRE_NONCE_LEN))
		return snprintf(why, len, "the MCIM carries another order's nonce: a replayed package"), M2M_R_NONCE_REPLAYED;
	return M2M_OK;
}

m2m_reason tre_package_open(tre *t, const M2M_MCIM_PACKAGE *pkg, const tre_provision_state *p, M2M_MCIM **mcim,
			    char *why, size_t len)
{
	if (ASN1_STRING_length(pkg->mcim_id) != TRE_MCIM_ID_LEN)
		return snprintf(why, len, "mcimId must be %d bytes", TRE_MCIM_ID_LEN), M2M_R_BAD_BODY;
	M2M_SIGNED_OBJECT *so = M2M_SIGNED_OBJECT_new();
	void *value = NULL;
	tre_signer signer;
	m2m_reason r = open_envelope(t, pkg, so, why, len);
	if (r == M2M_OK && (r = tre_verify_signed(t, so, ASN1_ITEM_rptr(M2M_MCIM), "the MCIM", &value, &signer, why, len)) ==
				   M2M_OK &&
	    (r = tre_signer_check(&signer, M2M_PROFILE_OPERATOR_FUNCTION, p->sho, M2M_R_BAD_SIGNATURE, M2M_R_WRONG_SHO,
				  "the MCIM", why, len)) == M2M_OK)
		r = check_nonce(value, p, why, len);
	OPENSSL_cleanse(so->cms->data, (size_t)so->cms->length);
	M2M_SIGNED_OBJECT_free(so);
	if (r)
		tre_mcim_free(value);
	else
		*mcim = value;
	return r;
}

/* ---- installing ----------------------------------------------------------------------------- */

/* What the Mcim says, within the module's sizes, for this TRE and the ticket's SHO. */
static m2m_reason read_mcim(const tre *t, const M2M_MCIM *m, const tre_provision_state *p, tre_credential *c,
			    char *why, size_t len)
{
	char name[M2M_ENTITY_MAX + 1];
	if (m2m_read_octets(m->mcim_id, c->mcim_id, TRE_MCIM_ID_LEN) || memcmp(c->mcim_id, p->mcim_id, TRE_MCIM_ID_LEN))
		return snprintf(why, len, "the MCIM's id is not the package's"), M2M_R_BAD_BODY;
	if (m2m_read_name(m->tre, name, M2M_ENTITY_MAX) || strcmp(name, t->entity))
		return snprintf(why, len, "the MCIM is for another TRE"), M2M_R_NOT_AUTHORISED;
	if (m2m_read_name(m->owner, c->owner, M2M_ENTITY_MAX) || strcmp(c->owner, p->sho))
		return snprintf(why, len, "the MCIM's owner is not %s, the SHO of the ticket", p->sho), M2M_R_WRONG_SHO;
	if (m2m_digits(m->imsi, c->imsi, sizeof c->imsi, TRE_IMSI_MIN, TRE_IMSI_MAX))
		return snprintf(why, len, "the MCIM's imsi must be %d..%d digits", TRE_IMSI_MIN, TRE_IMSI_MAX), M2M_R_BAD_BODY;
	if (m->version < 1 || m->version > 255 || m->sqn > M2M_SQN_MAX)
		return snprintf(why, len, "the MCIM's version (1..255) or sqn (48 bits) is out of range"), M2M_R_BAD_BODY;
	if (ASN1_STRING_length(m->k) != TRE_AKA_KEY_LEN || ASN1_STRING_length(m->opc) != TRE_AKA_KEY_LEN ||
	    ASN1_STRING_length(m->amf) != 2)
		return snprintf(why, len, "the MCIM's k and opc must be 16 bytes, amf 2"), M2M_R_BAD_BODY;
	c->version = (int)m->version;
	return M2M_OK;
}

/* The checks and the install; in a change the new MCIM waits, installed, for the switch (the old
 * one stays active: make before break), and replaces the one of a failed attempt of its SHO. */
static m2m_reason install(tre *t, const M2M_MCIM *mcim, const tre_provision_state *p, tre_credential *c, char *why,
			  size_t len)
{
	m2m_reason r = read_mcim(t, mcim, p, c, why, len);
	if (r)
		return r;
	if (p->has_change && tre_change_supersede(t, c->owner))
		return snprintf(why, len, "the MCIM of the failed attempt could not be replaced"), M2M_R_INTERNAL;
	if (tre_imsi_held(t, c->imsi))
		return snprintf(why, len, "an MCIM or the PCID has the IMSI %s already", c->imsi), M2M_R_BAD_BODY;
	if (tre_mcim_find(t, c->mcim_id, c->owner, &(tre_credential){0}) != M2M_R_NOT_FOUND)
		return snprintf(why, len, "this MCIM is installed already"), M2M_R_BAD_BODY;
	if (tre_mcim_install(t, c, ASN1_STRING_get0_data(mcim->k), ASN1_STRING_get0_data(mcim->opc), mcim->sqn,
			     !p->has_change))
		return snprintf(why, len, "the MCIM could not be stored"), M2M_R_INTERNAL;
	return M2M_OK;
}

/* All or nothing: a refused package replaces nothing either. */
m2m_reason tre_package_install(tre *t, const M2M_MCIM *mcim, const tre_provision_state *p, char *why, size_t len)
{
	tre_credential c = {0};
	if (tre_savepoint(t->db))
		return snprintf(why, len, "no transaction"), M2M_R_INTERNAL;
	m2m_reason r = install(t, mcim, p, &c, why, len);
	if (tre_release(t->db, r != M2M_OK) && r == M2M_OK)
		r = M2M_R_INTERNAL, snprintf(why, len, "the MCIM could not be stored");
	if (r == M2M_OK)
		m2m_info("MCIM of %s installed (IMSI %s, version %d) in slot %s: %s", c.owner, c.imsi, c.version, c.slot,
			 c.state == M2M_MCIM_ACTIVE ? "active" : "installed, another is active or a switch awaits it");
	return r;
}

int tre_install_result_der(tre *t, const tre_provision_state *p, uint8_t **der, size_t *len)
{
	M2M_INSTALL_RESULT *ir = M2M_INSTALL_RESULT_new();
	int rc = !ir || !ASN1_OCTET_STRING_set(ir->mcim_id, p->mcim_id, TRE_MCIM_ID_LEN) || m2m_set_str(ir->tre, t->entity) ||
		 !ASN1_OCTET_STRING_set(ir->nonce, p->nonce2, TRE_NONCE_LEN) ||
		 !ASN1_ENUMERATED_set(ir->status, p->refusal ? M2M_INSTALL_REFUSED : M2M_INSTALLED);
	if (!rc && p->refusal) {
		ir->reason = ASN1_ENUMERATED_new();
		rc = !ir->reason || !ASN1_ENUMERATED_set(ir->reason, p->refusal);
	}
	if (!rc)
		rc = tre_signed_der(t, ASN1_ITEM_rptr(M2M_INSTALL_RESULT), ir, der, len);
	M2M_INSTALL_RESULT_free(ir);
	return rc;
}
