/*
 * SHO B's credentials for a device's UICC (docs/alt3b.md "The key blob", contract step 9), made
 * in the step of the PVA's answer, once it is a fresh OK about the ordering TRE (validate.c):
 *
 *   once per change: the next IMSI of the DPF's range that was never used (as 1a's MCIMs), a
 *   subscriber record pending with the card's ICCID, random K and OPc, SQN_HE at sqnStart, served
 *   until its first attach activates it (hss/first_attach.h: the device attaches with it as soon
 *   as the card switched, before anyone confirms); the card's OTA keyset (kvn 1, AES KIc, KID and
 *   DEK random, counter 0) in the OTA server for the card's RFM TAR B00010 and the ISD's TAR, as
 *   the card itself keeps it for both (docs/uicc.md, the shadow slot);
 *
 *   per card challenge: the blob, a CMS SignedData by the operator's identity over the DER of
 *   UiccCredential {iccid, cardNonce, changeId, sho, imsi, k, opc, ota, sqnStart} inside a CMS
 *   AuthEnvelopedData to the card's certificate (dpf_seal_item, as the MCIM package): only that
 *   card opens it, and it carries the challenge the card issued, so it is good once.
 *
 * K, OPc and the OTA keys are read back from their sealed stores for each blob and wiped after;
 * they are never logged. A verdict other than a fresh OK, or a failure, leaves nothing.
 */
#include "dpf/dpf_impl.h"

#include "crypto/crypto.h"
#include "hss/first_attach.h"
#include "hss/hss_impl.h"
#include "log/log.h"
#include "ota/ota.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#define OTA_ALG_AES 0x2  /* the KIc/KID nibble of AES (lib/ota/scp80.h, TS 102 225 §5.1.3.1) */
#define OTA_KEY_LEN 16
#define OTA_KVN 1

typedef struct uicc_work {
	dpf_uicc_creds o;
	dpf_uicc_package p;
	char change_hex[2 * DPF_CHANGE_ID_LEN + 1];
} uicc_work;

/* ---- the change's credentials, once ----------------------------------------------------------- */

static hss_outcome pending_record(dpf_context *dpf, const uicc_work *x, char *why, size_t len)
{
	hss_subscriber rec;
	char detail[160], origin[M2M_ENTITY_MAX + 16];
	hss_subscriber_init(&rec, x->o.imsi);
	rec.state = HSS_PENDING;
	rec.profile = dpf->settings.profile;
	snprintf(rec.iccid, sizeof rec.iccid, "%s", x->o.iccid);
	snprintf(detail, sizeof detail, "3b change %s: card ICCID %s of %s", x->change_hex, x->o.iccid, x->o.tre);
	snprintf(origin, sizeof origin, "%s (3b change)", dpf->entity);
	m2m_random(rec.k, sizeof rec.k);
	m2m_random(rec.opc, sizeof rec.opc);
	hss_outcome r = hss_create(dpf->db, dpf->hss->settings.storage_key, &rec, DPF_ACTOR, "uiccCredential", detail, why,
				   len);
	if (r == HSS_DONE)
		r = hss_first_attach_await(dpf->db, dpf->hss->settings.storage_key, x->o.imsi, rec.k, rec.opc, x->o.sqn_start,
					   origin, DPF_ACTOR, why, len);
	hss_subscriber_wipe(&rec);
	return r;
}

static void random_key(m2m_ota_key *k)
{
	k->alg = OTA_ALG_AES;
	k->len = OTA_KEY_LEN;
	m2m_random(k->key, OTA_KEY_LEN);
}

/* The card's keyset after the switch, at the OTA server (the card's old operator's keys are not
 * B's to know: B's start at counter 0 on both of the card's TARs). */
static int ota_keys(dpf_context *dpf, const uicc_work *x)
{
	m2m_ota_keyset ks = {.kvn = OTA_KVN};
	random_key(&ks.kic);
	random_key(&ks.kid);
	random_key(&ks.dek);
	int rc = ota_keyset_delete_card(dpf->db, x->o.iccid) ||
		 ota_keyset_personalise(dpf->db, dpf->hss->settings.storage_key, x->o.iccid, &ks);
	m2m_wipe(&ks, sizeof ks);
	return rc ? -1 : 0;
}

static m2m_reason make_credentials(dpf_context *dpf, uicc_work *x, char *why, size_t len)
{
	int rc = hss_imsi_first_free(dpf->db, dpf->settings.imsi_first, dpf->settings.imsi_count, x->o.imsi);
	if (rc) {
		snprintf(why, len, rc > 0 ? "the IMSI range of %ld from %s is used up" : "no IMSI can be allocated",
			 dpf->settings.imsi_count, dpf->settings.imsi_first);
		return rc > 0 ? M2M_R_POOL_EXHAUSTED : M2M_R_INTERNAL;
	}
	x->o.sqn_start = 0;  /* a new K: the card's SQN array and the AuC start together */
	if (pending_record(dpf, x, why, len) != HSS_DONE)
		return M2M_R_INTERNAL;
	if (ota_keys(dpf, x) || dpf_uicc_order_made(dpf->db, &x->o)) {
		snprintf(why, len, "the credentials of change %s cannot be stored", x->change_hex);
		return M2M_R_INTERNAL;
	}
	m2m_info("3b change %s: IMSI %s pending for card %s of %s", x->change_hex, x->o.imsi, x->o.iccid, x->o.tre);
	return M2M_OK;
}

/* ---- the blob ---------------------------------------------------------------------------------- */

static int set_key(ASN1_OCTET_STRING *s, const m2m_ota_key *k)
{
	return !ASN1_OCTET_STRING_set(s, k->key, (int)k->len);
}

static int set_keyset(M2M_OTA_KEYSET *w, const ota_card_keyset *ks)
{
	w->kvn = ks->keys.kvn;
	w->kic_alg = ks->keys.kic.alg;
	w->kid_alg = ks->keys.kid.alg;
	w->counter = ks->counter;
	return set_key(w->kic, &ks->keys.kic) || set_key(w->kid, &ks->keys.kid) || set_key(w->dek, &ks->keys.dek) ||
	       !ASN1_OCTET_STRING_set(w->tar, ks->tar, 3);
}

static int set_fields(dpf_context *dpf, const uicc_work *x, const hss_subscriber *rec, const ota_card_keyset *ks,
		      M2M_UICC_CREDENTIAL *v)
{
	v->sqn_start = x->o.sqn_start;
	return m2m_set_digits(&v->iccid, x->o.iccid) || !ASN1_OCTET_STRING_set(v->card_nonce, x->p.card_nonce, DPF_CARD_NONCE_LEN) ||
	       !ASN1_OCTET_STRING_set(v->change_id, x->o.change_id, DPF_CHANGE_ID_LEN) || m2m_set_str(v->sho, dpf->entity) ||
	       m2m_set_digits(&v->imsi, x->o.imsi) || !ASN1_OCTET_STRING_set(v->k, rec->k, sizeof rec->k) ||
	       !ASN1_OCTET_STRING_set(v->opc, rec->opc, sizeof rec->opc) || set_keyset(v->ota, ks);
}

/* The UiccCredential from the sealed stores, signed and encrypted to the card: x->p.package. */
static int seal_credential(dpf_context *dpf, uicc_work *x, X509 *card)
{
	const uint8_t *key = dpf->hss->settings.storage_key;
	hss_subscriber rec;
	ota_card_keyset ks;
	M2M_UICC_CREDENTIAL *v = M2M_UICC_CREDENTIAL_new();
	memset(&ks, 0, sizeof ks);
	int rc = !v || hss_subscriber_load(dpf->db, key, x->o.imsi, &rec) != 0;
	rc = rc || !rec.has_keys || ota_keyset_get(dpf->db, key, x->o.iccid, OTA_TAR_USIM_RFM, &ks) != 0 ||
	     set_fields(dpf, x, &rec, &ks, v) ||
	     dpf_seal_item(dpf, ASN1_ITEM_rptr(M2M_UICC_CREDENTIAL), v, card, &x->p.package, &x->p.package_len);
	hss_subscriber_wipe(&rec);
	m2m_wipe(&ks, sizeof ks);
	m2m_uicc_credential_free(v);
	return rc ? -1 : 0;
}

/* What the blob is made of: the change's row, the package's, the card's certificate. */
typedef struct uicc_sealing {
	uicc_work *x;
	X509 *card;
} uicc_sealing;

/* Credentials (once) and blob. */
static m2m_reason package_steps(dpf_context *dpf, void *arg, char *why, size_t len)
{
	uicc_work *x = ((uicc_sealing *)arg)->x;
	m2m_reason r = x->o.imsi[0] ? M2M_OK : make_credentials(dpf, x, why, len);
	if (r == M2M_OK && seal_credential(dpf, x, ((uicc_sealing *)arg)->card)) {
		r = M2M_R_INTERNAL;
		snprintf(why, len, "the credentials of change %s cannot be signed and encrypted", x->change_hex);
	}
	if (r == M2M_OK && dpf_uicc_package_packaged(dpf->db, &x->p)) {
		r = M2M_R_INTERNAL;
		snprintf(why, len, "the blob of change %s cannot be stored", x->change_hex);
	}
	return r;
}

static m2m_reason package(dpf_context *dpf, uicc_work *x, char *why, size_t len)
{
	uicc_sealing sealing = {x, m2m_pki_cert_from_der(x->p.card_cert, x->p.card_cert_len)};
	m2m_reason r = M2M_R_INTERNAL;
	if (!sealing.card)
		snprintf(why, len, "the card certificate of change %s cannot be read", x->change_hex);
	else
		r = dpf_all_or_nothing(dpf, package_steps, &sealing, why, len);
	if (r == M2M_OK)
		x->p.state = DPF_UICC_PACKAGED;
	X509_free(sealing.card);
	return r;
}

/* ---- the verdict and the answers ------------------------------------------------------------------ */

void dpf_uicc_package_reply(dpf_context *dpf, m2m_request *req, const dpf_uicc_creds *o, const dpf_uicc_package *p)
{
	M2M_UICC_CREDENTIAL_PACKAGE *a = M2M_UICC_CREDENTIAL_PACKAGE_new();
	if (!a || !ASN1_OCTET_STRING_set(a->change_id, o->change_id, DPF_CHANGE_ID_LEN) || m2m_set_str(a->sho, dpf->entity) ||
	    m2m_set_digits(&a->imsi, o->imsi) || !ASN1_OCTET_STRING_set(a->package, p->package, (int)p->package_len))
		m2m_refuse(dpf->node, req, M2M_R_INTERNAL, "the credential package of %s cannot be encoded", o->tre);
	else
		m2m_reply(dpf->node, req, M2M_MSG_UICC_CREDENTIAL_PACKAGE, a);
	M2M_UICC_CREDENTIAL_PACKAGE_free(a);
}

/* What a refused verdict leaves: nothing (the order may come again once the cause is gone). */
static void forget(dpf_context *dpf, const uicc_work *x)
{
	if (dpf_uicc_package_delete(dpf->db, x->p.id) || dpf_uicc_order_forget(dpf->db, x->p.change_id))
		m2m_error("the refused credential order of change %s cannot be deleted", x->change_hex);
}

static int load(dpf_context *dpf, int64_t id, uicc_work *x)
{
	memset(x, 0, sizeof *x);
	int rc = dpf_uicc_package_by_id(dpf->db, id, &x->p);
	if (rc == 0)
		m2m_hex(x->p.change_id, DPF_CHANGE_ID_LEN, x->change_hex);
	return rc || x->p.state != DPF_UICC_VALIDATING || dpf_uicc_order_find(dpf->db, x->p.change_id, &x->o) ? -1 : 0;
}

static void uicc_decided(dpf_context *dpf, int64_t id, m2m_reason verdict, const char *verdict_why, m2m_request **reqs,
			 int nreqs)
{
	uicc_work x;
	char why[256];
	int known = load(dpf, id, &x) == 0;
	m2m_reason r = known ? verdict : M2M_R_INTERNAL;
	snprintf(why, sizeof why, "%s", known ? verdict_why : "the credential order awaiting this verdict is no longer recorded");
	if (r == M2M_OK)
		r = package(dpf, &x, why, sizeof why);
	if (r != M2M_OK && known)
		forget(dpf, &x);
	if (r != M2M_OK)
		m2m_warn("credential order of change %s refused: %s", x.change_hex[0] ? x.change_hex : "?", why);
	for (int i = 0; i < nreqs; i++)
		if (r == M2M_OK)
			dpf_uicc_package_reply(dpf, reqs[i], &x.o, &x.p);
		else
			m2m_refuse_recorded(dpf->node, reqs[i], r, "%s", why);
	dpf_uicc_package_clear(&x.p);
}

void dpf_uicc_validate(dpf_context *dpf, m2m_request *req, const dpf_uicc_creds *o, const dpf_uicc_package *p)
{
	dpf_validate_tre(dpf, req, o->tre, p->id, uicc_decided);
}
