/*
 * The card's identity for Alternative 3b (docs/alt3b.md, "The card has an identity"): a P-256
 * key made in the card, certified by the agency with profile uicc, and the agency's root the
 * card checks operators against. The daemon lends its m2m_identity, which keeps the key sealed
 * in the card's database; the card reads the certificate out with a proprietary GET DATA, so
 * that the TRE can hand it to the registration operator and the new operator encrypts to it.
 */
#include "commands.h"

#include <openssl/crypto.h>

#define OFFSET_HIGH_MASK 0x7F  /* P1 b7-b1: as READ BINARY's offset, 15 bits */

void uicc_card_lend_identity(uicc_card *c, const uicc_identity *id)
{
	static const uicc_identity none;
	c->id = id ? *id : none;
}

int uicc_identity_usable(const uicc_card *c)
{
	return c->id.cert && c->id.trust && c->id.decrypt;
}

/* 80 CA P1 P2 Le: the DER certificate from offset P1 (b7-b1) || P2, as READ BINARY reads a file
 * (a certificate is longer than one answer: the reader goes on at offset + 256 until 6B00, or
 * reads the length from its first bytes). 6A88 while the card is not certified. */
uint16_t uicc_cmd_get_data(uicc_card *c, const uicc_command *cmd, uint8_t *out, size_t *out_len)
{
	if (cmd->p1 & ~OFFSET_HIGH_MASK)
		return SW_WRONG_P1P2;
	if (!c->id.cert)
		return SW_KEY_NOT_FOUND;
	uint8_t *der = NULL;
	size_t len = 0;
	if (m2m_pki_cert_der(c->id.cert, &der, &len))
		return SW_TECHNICAL_PROBLEM;
	uint16_t sw = uicc_read_bytes(der, len, (size_t)(cmd->p1 << 8 | cmd->p2), cmd->ne, out, out_len);
	OPENSSL_free(der);
	return sw;
}
