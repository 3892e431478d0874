/*
 * UiccCredential, the content of Alternative 3b's key blob (docs/alt3b.md, "The key blob"),
 * defined here until it joins docs/protocol.asn1 and lib/wire:
 *
 *   UiccCredential ::= SEQUENCE {
 *       iccid      NumericString (SIZE (18..20)),  -- the card it is for
 *       cardNonce  OCTET STRING (SIZE (16)),       -- the card's outstanding GET CHALLENGE
 *       changeId   OCTET STRING (SIZE (16)),       -- the registration operator's change
 *       imsi       NumericString (SIZE (6..15)),
 *       k          OCTET STRING (SIZE (16)),
 *       opc        OCTET STRING (SIZE (16)),
 *       otaKvn     INTEGER (1..15),                -- the new operator's OTA keyset (AES)
 *       otaKic     OCTET STRING (SIZE (16 | 24 | 32)),
 *       otaKid     OCTET STRING (SIZE (16 | 24 | 32)),
 *       otaDek     OCTET STRING (SIZE (0 | 16 | 24 | 32)),  -- empty: no DEK, no PUT KEY
 *       sqnStart   INTEGER (0..281474976710655) }  -- the new HSS's SQN_HE at the start
 *
 * The blob: a CMS SignedData by the new operator's operatorFunction certificate over the DER of
 * a UiccCredential, inside a CMS AuthEnvelopedData to the card's certificate (lib/pki
 * m2m_cms_sign, m2m_cms_encrypt), sent to the card in a STORE DATA chain.
 */
#ifndef UICC_CREDENTIAL_H
#define UICC_CREDENTIAL_H

#include <openssl/asn1.h>
#include <stdint.h>

typedef struct {
	ASN1_STRING *iccid;
	ASN1_OCTET_STRING *card_nonce;
	ASN1_OCTET_STRING *change_id;
	ASN1_STRING *imsi;
	ASN1_OCTET_STRING *k;
	ASN1_OCTET_STRING *opc;
	uint64_t ota_kvn;
	ASN1_OCTET_STRING *ota_kic;
	ASN1_OCTET_STRING *ota_kid;
	ASN1_OCTET_STRING *ota_dek;
	uint64_t sqn_start;
} UICC_CREDENTIAL;
DECLARE_ASN1_FUNCTIONS(UICC_CREDENTIAL)

/* Wipes K, OPc and the OTA keys, then frees (NULL: nothing). */
void uicc_credential_free(UICC_CREDENTIAL *v);

#endif
