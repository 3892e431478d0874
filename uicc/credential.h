/*
 * UiccCredential (docs/protocol.asn1, "Alternative 3b"; M2M_UICC_CREDENTIAL in lib/wire), the
 * content of the new operator's credential blob: a CMS SignedData by SHO B's operatorFunction
 * certificate over its DER, inside a CMS AuthEnvelopedData to the card's certificate (lib/pki
 * m2m_cms_sign, m2m_cms_encrypt), sent to the card in a STORE DATA chain. credential.c checks it
 * (uicc_credential_install, commands.h); docs/uicc.md maps its fields onto the card.
 */
#ifndef UICC_CREDENTIAL_H
#define UICC_CREDENTIAL_H

#include "wire/messages.h"

/* Wipes K, OPc and the OTA keyset's KIc, KID and DEK of a decoded value, then frees it (NULL:
 * nothing): they are secrets even in the card's memory. */
void uicc_credential_free(M2M_UICC_CREDENTIAL *v);

#endif
