/*
 * The credential blob of Alternative 3b (a UiccCredential of lib/wire; docs/uicc.md,
 * "Re-credentialing by the new operator"), checked as the TRE checks an MCIM package (tre/package.c), in this order, each
 * with its own status word so that the TRE can tell the registration operator what went wrong:
 *   - it opens with the card's key (6988: made for another card, or altered on the way, T-3b-2);
 *   - the SignedData inside verifies and its signer's certificate chains to the agency's root,
 *     is valid and not revoked, of profile operatorFunction (6982: T-3b-1, someone else's blob);
 *   - its content is DER of a UiccCredential within the sizes, with an AES OTA keyset for this
 *     card's RFM TAR (6A80, also for a blob that is no CMS at all);
 *   - its sho is the signer's CN (6982): the card itself checks that the credentials come from
 *     the operator they name, not from another certified operator;
 *   - it names this card's ICCID (6A88) and carries the card's outstanding challenge (6984:
 *     stale or replayed, T-3b-1).
 * Only then are its credentials the shadow slot's, and the challenge is used up. A refused blob
 * changes nothing (apdu.c undoes the command).
 */
#include "commands.h"

#include "crypto/crypto.h"
#include "log/log.h"
#include "wire/read.h"

#include <limits.h>
#include <string.h>

#define ICCID_MIN 18
#define ICCID_MAX 20
/* The KIc/KID algorithm nibble of AES (lib/ota/scp80.h, TS 102 225 §5.1.3): the only one the
 * card takes a new operator's keyset in, as lib/ota's 3DES is there for older keysets only. */
#define OTA_ALG_AES 0x2

static uint16_t refused(uint16_t sw, const char *why)
{
	m2m_info("STORE DATA: the credential blob is refused (%04X): %s", sw, why);
	return sw;
}

/* ---- opening and verifying ------------------------------------------------------------------ */

/* The AuthEnvelopedData, opened with the card's key, gives the SignedData (K inside). */
static uint16_t open_envelope(uicc_card *c, const uint8_t *blob, size_t len, M2M_SIGNED_OBJECT *so)
{
	uint8_t *content = NULL;
	size_t clen = 0;
	m2m_reason r = c->id.decrypt(c->id.key, blob, len, &content, &clen);
	if (r == M2M_OK && (clen > INT_MAX || !ASN1_OCTET_STRING_set(so->cms, content, (int)clen)))
		r = M2M_R_INTERNAL;
	if (content)
		OPENSSL_clear_free(content, clen);
	if (r == M2M_R_MALFORMED)
		return refused(SW_WRONG_DATA, "it is not a CMS AuthEnvelopedData");
	if (r == M2M_R_BAD_SIGNATURE)
		return refused(SW_PROTECTION_INCORRECT, "it does not open with this card's key (another card's, or altered)");
	return r == M2M_OK ? SW_OK : refused(SW_TECHNICAL_PROBLEM, "it could not be opened");
}

/* The SignedData (strict DER of a UiccCredential): by an operatorFunction certificate chained to
 * the agency's root, whose CN goes to signer for the sho check. */
static uint16_t verify_signed(uicc_card *c, const M2M_SIGNED_OBJECT *so, M2M_UICC_CREDENTIAL **out,
			      char signer_cn[M2M_ENTITY_MAX + 1])
{
	void *value = NULL;
	X509 *signer = NULL;
	m2m_reason r = m2m_cms_verify_item(c->id.trust, so, ASN1_ITEM_rptr(M2M_UICC_CREDENTIAL), &value, &signer);
	int by_operator = r == M2M_OK && m2m_pki_cert_profile(signer) == M2M_PROFILE_OPERATOR_FUNCTION &&
			  m2m_pki_cert_cn(signer, signer_cn, M2M_ENTITY_MAX + 1) == 0;
	X509_free(signer);
	if (by_operator) {
		*out = value;
		return SW_OK;
	}
	m2m_uicc_credential_free(value);
	if (r == M2M_OK)
		return refused(SW_SECURITY_NOT_SATISFIED, "its signer is not an operator function");
	if (r == M2M_R_MALFORMED || r == M2M_R_BAD_BODY)
		return refused(SW_WRONG_DATA, "it holds no SignedData over the DER of a UiccCredential");
	if (r == M2M_R_INTERNAL)
		return refused(SW_TECHNICAL_PROBLEM, "its signature could not be checked");
	m2m_info("the credential blob's signature: %s", m2m_reason_name(r));
	return refused(SW_SECURITY_NOT_SATISFIED, "its signature or its signer's chain to the agency's root does not verify");
}

/* ---- the content ----------------------------------------------------------------------------- */

/* What the card checks of a UiccCredential besides taking its credentials. */
typedef struct blob_addressee {
	char iccid[ICCID_MAX + 1];
	char sho[M2M_ENTITY_MAX + 1];
	uint8_t nonce[UICC_CHALLENGE_LEN];
} blob_addressee;

/* An AES key of the keyset, of a length AES takes (16, 24, 32). */
static int read_key(const ASN1_OCTET_STRING *s, int for_kid, m2m_ota_key *k)
{
	int n = ASN1_STRING_length(s);
	memset(k, 0, sizeof *k);
	if (n <= 0 || n > M2M_OTA_KEY_MAX)
		return -1;
	k->alg = OTA_ALG_AES;
	k->len = (size_t)n;
	memcpy(k->key, ASN1_STRING_get0_data(s), k->len);
	return m2m_ota_key_valid(k, for_kid) ? -1 : 0;
}

/* B's keyset into ks; NULL, or why it does not fit this card. The card keeps its own TARs (they
 * are its applications' addresses): the keyset's tar must be the one its USIM's RFM answers. */
static const char *read_keyset(const uicc_card *c, const M2M_OTA_KEYSET *w, m2m_ota_keyset *ks)
{
	const uicc_tar *rfm = &c->st.ota.tar[UICC_OTA_RFM];
	uint8_t tar[M2M_OTA_TAR_LEN];
	if (w->kvn < 1 || w->kvn > UICC_KVN_MAX || w->counter > M2M_OTA_CNTR_MAX)
		return "its OTA keyset's version or counter is out of range";
	if (w->kic_alg != OTA_ALG_AES || w->kid_alg != OTA_ALG_AES)
		return "its OTA keyset is not AES";
	ks->kvn = (uint8_t)w->kvn;
	if (read_key(w->kic, 0, &ks->kic) || read_key(w->kid, 1, &ks->kid) || read_key(w->dek, 0, &ks->dek))
		return "its OTA keyset has a key of a length AES does not take";
	if (m2m_read_octets(w->tar, tar, sizeof tar) || !rfm->present || memcmp(tar, rfm->tar, sizeof tar))
		return "its OTA keyset is for a TAR that is not this card's RFM TAR";
	return NULL;
}

/* The fields within their sizes: the credentials into s, what is to be checked into to; NULL, or
 * why not. */
static const char *read_fields(const uicc_card *c, const M2M_UICC_CREDENTIAL *v, blob_addressee *to, uicc_slot *s)
{
	char imsi[M2M_IMSI_MAX + 1];
	m2m_ota_keyset ks = {0};
	const char *why = NULL;
	if (m2m_digits(v->iccid, to->iccid, sizeof to->iccid, ICCID_MIN, ICCID_MAX) ||
	    m2m_read_name(v->sho, to->sho, M2M_ENTITY_MAX) ||
	    m2m_digits(v->imsi, imsi, sizeof imsi, M2M_IMSI_MIN, M2M_IMSI_MAX) || m2m_ef_imsi_encode(imsi, s->ef_imsi) ||
	    m2m_read_octets(v->card_nonce, to->nonce, UICC_CHALLENGE_LEN) ||
	    m2m_read_octets(v->change_id, s->change_id, UICC_CHANGE_ID_LEN) ||
	    m2m_read_octets(v->k, s->k, UICC_AKA_KEY_LEN) || m2m_read_octets(v->opc, s->opc, UICC_AKA_KEY_LEN) ||
	    v->sqn_start > M2M_SQN_MAX)
		why = "its UiccCredential has a field out of its size or range";
	else
		why = read_keyset(c, v->ota, &ks);
	if (!why)
		s->keyset[ks.kvn] = ks;
	m2m_wipe(&ks, sizeof ks);
	return why;
}

/* The operator that signed is the one the blob names; this card's ICCID; its outstanding
 * challenge (then used up). */
static uint16_t check_addressee(uicc_card *c, const char *signer_cn, const blob_addressee *to)
{
	uint8_t ef[UICC_ICCID_LEN];
	if (strcmp(signer_cn, to->sho))
		return refused(SW_SECURITY_NOT_SATISFIED, "its sho is not the operator that signed it");
	uicc_iccid_encode(to->iccid, ef);
	if (memcmp(ef, c->st.ef[UICC_EF_ICCID], sizeof ef))
		return refused(SW_KEY_NOT_FOUND, "it names another card's ICCID");
	if (uicc_challenge_use(c, to->nonce) != SW_OK)
		return refused(SW_REFERENCE_NOT_USABLE, "it carries another nonce than the card's challenge (stale or replayed)");
	return SW_OK;
}

/* The new credentials' SQN array starts at sqnStart: every entry SEQ(sqnStart), so that the new
 * HSS's first vector (SEQ + 1, m2m_sqn_he_init at sqnStart) is fresh whatever its IND. The TARs
 * stay the card's (its USIM's RFM TAR, the ISD's), on the new keyset, their counters at the
 * keyset's: B's first packet must count above it. */
static void load_slot(uicc_card *c, const M2M_UICC_CREDENTIAL *v, const char *sho, uicc_slot *s)
{
	const uicc_state *st = &c->st;
	char change[2 * UICC_CHANGE_ID_LEN + 1];
	s->sqn = st->sqn;
	for (uint32_t i = 0; i < M2M_SQN_ARRAY_MAX; i++)
		s->sqn.seq_ms[i] = i < (UINT32_C(1) << s->sqn.p.ind_bits) ? v->sqn_start >> s->sqn.p.ind_bits : 0;
	for (int app = 0; app < UICC_OTA_APPS; app++)
		if (st->ota.tar[app].present) {
			s->tar[app] = st->ota.tar[app];
			s->tar[app].kvn = (uint8_t)v->ota->kvn;
			s->tar[app].counter = v->ota->counter;
		}
	s->state = UICC_SLOT_LOADED;
	c->st.shadow = *s;
	m2m_hex(s->change_id, sizeof s->change_id, change);
	m2m_info("STORE DATA: the credentials of change %s from %s are in the shadow slot (OTA keyset %u)", change, sho,
		 (unsigned)v->ota->kvn);
}

uint16_t uicc_credential_install(uicc_card *c, const uint8_t *blob, size_t len)
{
	M2M_SIGNED_OBJECT *so = M2M_SIGNED_OBJECT_new();
	M2M_UICC_CREDENTIAL *v = NULL;
	static const uicc_slot empty;
	uicc_slot s = empty;
	blob_addressee to;
	char signer[M2M_ENTITY_MAX + 1] = "";
	const char *why = NULL;
	uint16_t sw = so ? open_envelope(c, blob, len, so) : SW_TECHNICAL_PROBLEM;
	if (sw == SW_OK)
		sw = verify_signed(c, so, &v, signer);
	if (sw == SW_OK && (why = read_fields(c, v, &to, &s)))
		sw = refused(SW_WRONG_DATA, why);
	if (sw == SW_OK)
		sw = check_addressee(c, signer, &to);
	if (sw == SW_OK)
		load_slot(c, v, to.sho, &s);
	if (so && so->cms->data)
		OPENSSL_cleanse(so->cms->data, (size_t)so->cms->length);
	M2M_SIGNED_OBJECT_free(so);
	m2m_uicc_credential_free(v);
	m2m_wipe(&s, sizeof s);
	return sw;
}
