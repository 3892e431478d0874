/*
 * The credential blob of Alternative 3b (credential.h; docs/alt3b.md, "The key blob"), checked
 * as the TRE checks an MCIM package (tre/package.c), in this order, each with its own status
 * word so that the TRE can tell the registration operator what went wrong:
 *   - it opens with the card's key (6988: made for another card, or altered on the way, T-3b-2);
 *   - the SignedData inside verifies and its signer's certificate chains to the agency's root,
 *     is valid and not revoked, of profile operatorFunction (6982: T-3b-1, someone else's blob);
 *   - its content is DER of a UiccCredential within the sizes (6A80, also for a blob that is no
 *     CMS at all);
 *   - it names this card's ICCID (6A88) and carries the card's outstanding challenge (6984:
 *     stale or replayed, T-3b-1).
 * Only then are its credentials the shadow slot's, and the challenge is used up. A refused blob
 * changes nothing (apdu.c undoes the command).
 */
#include "commands.h"
#include "credential.h"

#include "crypto/crypto.h"
#include "log/log.h"
#include "wire/read.h"

#include <limits.h>
#include <openssl/asn1t.h>
#include <string.h>

#define ICCID_MIN 18
#define ICCID_MAX 20
#define OTA_ALG_AES 0x2  /* the KIc/KID algorithm nibble (TS 102 225): the blob's keys are AES */

ASN1_SEQUENCE(UICC_CREDENTIAL) = {
	ASN1_SIMPLE(UICC_CREDENTIAL, iccid, M2M_NUMERICSTRING),
	ASN1_SIMPLE(UICC_CREDENTIAL, card_nonce, ASN1_OCTET_STRING),
	ASN1_SIMPLE(UICC_CREDENTIAL, change_id, ASN1_OCTET_STRING),
	ASN1_SIMPLE(UICC_CREDENTIAL, imsi, M2M_NUMERICSTRING),
	ASN1_SIMPLE(UICC_CREDENTIAL, k, ASN1_OCTET_STRING),
	ASN1_SIMPLE(UICC_CREDENTIAL, opc, ASN1_OCTET_STRING),
	ASN1_EMBED(UICC_CREDENTIAL, ota_kvn, UINT64),
	ASN1_SIMPLE(UICC_CREDENTIAL, ota_kic, ASN1_OCTET_STRING),
	ASN1_SIMPLE(UICC_CREDENTIAL, ota_kid, ASN1_OCTET_STRING),
	ASN1_SIMPLE(UICC_CREDENTIAL, ota_dek, ASN1_OCTET_STRING),
	ASN1_EMBED(UICC_CREDENTIAL, sqn_start, UINT64),
} ASN1_SEQUENCE_END(UICC_CREDENTIAL)
IMPLEMENT_ASN1_FUNCTIONS(UICC_CREDENTIAL)

void uicc_credential_free(UICC_CREDENTIAL *v)
{
	if (!v)
		return;
	ASN1_OCTET_STRING *secrets[] = {v->k, v->opc, v->ota_kic, v->ota_kid, v->ota_dek};
	for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
		if (secrets[i] && secrets[i]->data)
			OPENSSL_cleanse(secrets[i]->data, (size_t)secrets[i]->length);
	UICC_CREDENTIAL_free(v);
}

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

/* The SignedData: by an operatorFunction certificate chained to the agency's root. */
static uint16_t verify_signed(uicc_card *c, const M2M_SIGNED_OBJECT *so, UICC_CREDENTIAL **out)
{
	void *value = NULL;
	X509 *signer = NULL;
	m2m_reason r = m2m_cms_verify_item(c->id.trust, so, ASN1_ITEM_rptr(UICC_CREDENTIAL), &value, &signer);
	int by_operator = r == M2M_OK && m2m_pki_cert_profile(signer) == M2M_PROFILE_OPERATOR_FUNCTION;
	X509_free(signer);
	if (by_operator) {
		*out = value;
		return SW_OK;
	}
	uicc_credential_free(value);
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

/* An AES key of the blob (an empty DEK when optional: no PUT KEY for that keyset). */
static int read_key(const ASN1_OCTET_STRING *s, int for_kid, int optional, m2m_ota_key *k)
{
	int n = ASN1_STRING_length(s);
	memset(k, 0, sizeof *k);
	if (optional && n == 0)
		return 0;
	if (n <= 0 || n > M2M_OTA_KEY_MAX)
		return -1;
	k->alg = OTA_ALG_AES;
	k->len = (size_t)n;
	memcpy(k->key, ASN1_STRING_get0_data(s), k->len);
	return m2m_ota_key_valid(k, for_kid) ? -1 : 0;
}

static int read_keyset(const UICC_CREDENTIAL *v, m2m_ota_keyset *ks)
{
	if (v->ota_kvn < 1 || v->ota_kvn > UICC_KVN_MAX)
		return -1;
	ks->kvn = (uint8_t)v->ota_kvn;
	return read_key(v->ota_kic, 0, 0, &ks->kic) || read_key(v->ota_kid, 1, 0, &ks->kid) ||
			       read_key(v->ota_dek, 0, 1, &ks->dek)
		       ? -1
		       : 0;
}

/* The fields within their sizes: the credentials into s, the ICCID and nonce to be checked. */
static int read_fields(const UICC_CREDENTIAL *v, char iccid[ICCID_MAX + 1], uint8_t nonce[UICC_CHALLENGE_LEN],
		       uicc_slot *s)
{
	char imsi[M2M_IMSI_MAX + 1];
	m2m_ota_keyset ks = {0};
	int bad = m2m_digits(v->iccid, iccid, ICCID_MAX + 1, ICCID_MIN, ICCID_MAX) ||
		  m2m_digits(v->imsi, imsi, sizeof imsi, M2M_IMSI_MIN, M2M_IMSI_MAX) ||
		  m2m_ef_imsi_encode(imsi, s->ef_imsi) || m2m_read_octets(v->card_nonce, nonce, UICC_CHALLENGE_LEN) ||
		  m2m_read_octets(v->change_id, s->change_id, UICC_CHANGE_ID_LEN) ||
		  m2m_read_octets(v->k, s->k, UICC_AKA_KEY_LEN) || m2m_read_octets(v->opc, s->opc, UICC_AKA_KEY_LEN) ||
		  v->sqn_start > M2M_SQN_MAX || read_keyset(v, &ks);
	if (!bad)
		s->keyset[ks.kvn] = ks;
	m2m_wipe(&ks, sizeof ks);
	return bad ? -1 : 0;
}

/* The new credentials' SQN array starts at sqnStart: every entry SEQ(sqnStart), so that the new
 * HSS's first vector (SEQ + 1, m2m_sqn_he_init at sqnStart) is fresh whatever its IND. The TARs
 * stay the card's (its USIM's RFM TAR, the ISD's), on the new keyset, their counters at zero. */
static void start_slot(const uicc_state *st, uint64_t sqn_start, uint8_t kvn, uicc_slot *s)
{
	s->sqn = st->sqn;
	for (uint32_t i = 0; i < M2M_SQN_ARRAY_MAX; i++)
		s->sqn.seq_ms[i] = i < (UINT32_C(1) << s->sqn.p.ind_bits) ? sqn_start >> s->sqn.p.ind_bits : 0;
	for (int app = 0; app < UICC_OTA_APPS; app++)
		if (st->ota.tar[app].present) {
			s->tar[app] = st->ota.tar[app];
			s->tar[app].kvn = kvn;
			s->tar[app].counter = 0;
		}
	s->state = UICC_SLOT_LOADED;
}

/* This card's ICCID, and its outstanding challenge (then used up). */
static uint16_t check_addressee(uicc_card *c, const char *iccid, const uint8_t nonce[UICC_CHALLENGE_LEN])
{
	uint8_t ef[UICC_ICCID_LEN];
	uicc_iccid_encode(iccid, ef);
	if (memcmp(ef, c->st.ef[UICC_EF_ICCID], sizeof ef))
		return refused(SW_KEY_NOT_FOUND, "it names another card's ICCID");
	if (uicc_challenge_use(c, nonce) != SW_OK)
		return refused(SW_REFERENCE_NOT_USABLE, "it carries another nonce than the card's challenge (stale or replayed)");
	return SW_OK;
}

uint16_t uicc_credential_install(uicc_card *c, const uint8_t *blob, size_t len)
{
	M2M_SIGNED_OBJECT *so = M2M_SIGNED_OBJECT_new();
	UICC_CREDENTIAL *v = NULL;
	static const uicc_slot empty;
	uicc_slot s = empty;
	char iccid[ICCID_MAX + 1], change[2 * UICC_CHANGE_ID_LEN + 1];
	uint8_t nonce[UICC_CHALLENGE_LEN];
	uint16_t sw = so ? open_envelope(c, blob, len, so) : SW_TECHNICAL_PROBLEM;
	if (sw == SW_OK)
		sw = verify_signed(c, so, &v);
	if (sw == SW_OK && read_fields(v, iccid, nonce, &s))
		sw = refused(SW_WRONG_DATA, "its UiccCredential has a field out of its size or range");
	if (sw == SW_OK)
		sw = check_addressee(c, iccid, nonce);
	if (sw == SW_OK) {
		start_slot(&c->st, v->sqn_start, (uint8_t)v->ota_kvn, &s);
		c->st.shadow = s;
		m2m_hex(s.change_id, sizeof s.change_id, change);
		m2m_info("STORE DATA: the credentials of change %s are in the shadow slot (OTA keyset %u)", change,
			 (unsigned)v->ota_kvn);
	}
	if (so && so->cms->data)
		OPENSSL_cleanse(so->cms->data, (size_t)so->cms->length);
	M2M_SIGNED_OBJECT_free(so);
	uicc_credential_free(v);
	m2m_wipe(&s, sizeof s);
	return sw;
}
