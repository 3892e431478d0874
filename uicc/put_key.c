/*
 * The issuer security domain (TAR 000000) takes one command in a script: PUT KEY
 * (GlobalPlatform Card Specification 2.2 §11.8), bringing a whole SCP80 keyset wrapped under the
 * DEK of the keyset the packet came under. P1 names the version it replaces (0: a new one),
 * P2 81 (key identifier 1 and those after it). A replaced keyset is gone at once: the TARs that
 * used it use the new one, their counters unchanged, and the PoR of this very packet is still
 * protected with the keys it came under (secured_packet.c keeps a copy).
 */
#include "commands.h"

#include "crypto/crypto.h"
#include "log/log.h"
#include "ota/rfm.h"

#define CLA_GP 0x80
#define INS_PUT_KEY 0xD8
#define P2_SEVERAL_KEYS 0x81

static void install(uicc_ota *o, uint8_t replaces, const m2m_ota_keyset *next)
{
	if (replaces) {
		m2m_wipe(&o->keyset[replaces], sizeof o->keyset[replaces]);
		for (int app = 0; app < UICC_OTA_APPS; app++)
			if (o->tar[app].present && o->tar[app].kvn == replaces)
				o->tar[app].kvn = next->kvn;
	}
	o->keyset[next->kvn] = *next;
}

/* A new key version may not overwrite another keyset than the one it replaces (6A80); the one
 * it replaces must exist (6A88). Without a DEK nothing can be unwrapped (6985). */
uint16_t uicc_isd_command(uicc_card *c, const m2m_ota_keyset *ks, const uicc_command *cmd, unsigned shape,
			  uint8_t *out, size_t *out_len)
{
	uicc_ota *o = &c->st.ota;
	m2m_ota_keyset next;
	char err[128];
	if (cmd->ins != INS_PUT_KEY)
		return SW_INS_NOT_SUPPORTED;
	if (cmd->cla != CLA_GP)
		return SW_CLA_NOT_SUPPORTED;
	if (shape != UICC_CASE_3)
		return SW_WRONG_LENGTH;
	if (cmd->p1 > UICC_KVN_MAX || cmd->p2 != P2_SEVERAL_KEYS)
		return SW_WRONG_P1P2;
	if (cmd->p1 && !o->keyset[cmd->p1].kvn)
		return SW_KEY_NOT_FOUND;
	if (!ks->dek.len)
		return SW_CONDITIONS_NOT_SATISFIED;
	if (m2m_rfm_put_key_parse(cmd->data, cmd->lc, &ks->dek, &next, err, sizeof err)) {
		m2m_info("%s (6A80)", err);
		return SW_WRONG_DATA;
	}
	uint16_t sw = SW_WRONG_DATA;
	if (next.kvn == cmd->p1 || !o->keyset[next.kvn].kvn) {
		install(o, cmd->p1, &next);
		if (cmd->p1)
			m2m_info("PUT KEY: keyset %u replaces keyset %u (KIc alg %X, KID alg %X)", next.kvn, cmd->p1,
				 next.kic.alg, next.kid.alg);
		else
			m2m_info("PUT KEY: keyset %u added (KIc alg %X, KID alg %X)", next.kvn, next.kic.alg,
				 next.kid.alg);
		sw = SW_OK;
	}
	m2m_wipe(&next, sizeof next);
	return sw;
}
