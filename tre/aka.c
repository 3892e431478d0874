/*
 * AKA inside the TRE (brief §2.1 step 4: "The TRE runs Milenage with K_pc and checks MAC and
 * SQN. It returns {RES, CK, IK} or {AUTS} (resync) or MAC_FAIL"; step 11 the same with the
 * MCIM's K). treAkaRequest {imsi, rand, autn} from the TRE's M2ME names the credential: the PCID
 * or the active MCIM (and, while a change of subscription switches, the new MCIM). The USIM side
 * is lib/aka's, as the software UICC runs it for AUTHENTICATE (uicc/auth.c): the MAC first, then
 * the SQN freshness; the SQN state moves only on success and is persisted with the step. K and
 * OPc are opened from the sealed slot for the computation and wiped after it: they never leave
 * the TRE.
 *
 *   success                 treAkaResponse {res, ck, ik}
 *   synchronisation failure treAkaResponse {auts}
 *   MAC failure             refused macFailure (a false network: no keys, no state change)
 */
#include "tre.h"

#include "crypto/crypto.h"
#include "log/log.h"
#include "wire/read.h"

#include <stdio.h>
#include <string.h>

typedef struct aka_input {
	char imsi[TRE_IMSI_MAX + 1];
	uint8_t rand[16], autn[16];
} aka_input;

static m2m_reason read_request(const M2M_TRE_AKA_REQUEST *q, aka_input *in, char *why, size_t len)
{
	if (m2m_digits(q->imsi, in->imsi, sizeof in->imsi, TRE_IMSI_MIN, TRE_IMSI_MAX))
		return snprintf(why, len, "imsi must be %d..%d digits", TRE_IMSI_MIN, TRE_IMSI_MAX), M2M_R_BAD_BODY;
	if (m2m_read_octets(q->rand, in->rand, sizeof in->rand) || m2m_read_octets(q->autn, in->autn, sizeof in->autn))
		return snprintf(why, len, "rand and autn must be 16 bytes each"), M2M_R_BAD_BODY;
	return M2M_OK;
}

/* The credential for the IMSI, when it may authenticate now. */
static m2m_reason choose(tre *t, const char *imsi, tre_credential *c, char *why, size_t len)
{
	if (!tre_credentials_allowed(t))
		return tre_withheld(t, why, len);
	int rc = tre_credential_for(t, imsi, c);
	if (rc < 0)
		return snprintf(why, len, "the credentials could not be read"), M2M_R_INTERNAL;
	if (rc)
		return snprintf(why, len, "%s is not the IMSI of the PCID, the active MCIM or one being switched to", imsi), M2M_R_NOT_FOUND;
	if (c->kind == M2M_CREDENTIAL_PCID && !tre_pcid_valid(c))
		return snprintf(why, len, "the PCID %s expired at %lld", imsi, (long long)c->valid_until), M2M_R_PCID_EXPIRED;
	return M2M_OK;
}

/* Milenage keyed from the slot; the opened keys are wiped at once. */
static int key_milenage(tre *t, const tre_credential *c, m2m_milenage *m)
{
	uint8_t secret[2 * TRE_AKA_KEY_LEN];
	long n = tre_slot_get(t, c->slot, secret, sizeof secret);
	int rc = n == (long)sizeof secret ? m2m_milenage_init(m, secret, secret + TRE_AKA_KEY_LEN) : -1;
	m2m_wipe(secret, sizeof secret);
	return rc;
}

static M2M_TRE_AKA_RESPONSE *answer(m2m_aka_status s, const m2m_aka_usim_result *r)
{
	M2M_TRE_AKA_RESPONSE *a = M2M_TRE_AKA_RESPONSE_new();
	ASN1_OCTET_STRING **fields[] = {&a->res, &a->ck, &a->ik, &a->auts};
	const uint8_t *values[] = {r->res, r->ck, r->ik, r->auts};
	const int lens[] = {sizeof r->res, sizeof r->ck, sizeof r->ik, sizeof r->auts};
	for (int i = 0; i < 4; i++)
		if ((s == M2M_AKA_OK) == (i < 3)) {
			*fields[i] = ASN1_OCTET_STRING_new();
			ASN1_OCTET_STRING_set(*fields[i], values[i], lens[i]);
		}
	return a;
}

/* Runs the USIM side; the SQN state is saved only when it moved (success). */
static m2m_reason authenticate(tre *t, const tre_credential *c, const aka_input *in, M2M_TRE_AKA_RESPONSE **resp,
			       char *why, size_t len)
{
	m2m_milenage m;
	m2m_sqn_usim u;
	if (tre_sqn_load(t, c->slot, &u) || key_milenage(t, c, &m))
		return snprintf(why, len, "the credential %s could not be opened", c->imsi), M2M_R_INTERNAL;
	m2m_aka_usim_result r;
	m2m_aka_status s = m2m_aka_usim_authenticate(&m, &u, in->rand, in->autn, &r);
	m2m_milenage_clear(&m);
	m2m_reason rc = M2M_OK;
	if (s == M2M_AKA_MAC_FAILURE)
		rc = M2M_R_MAC_FAILURE, snprintf(why, len, "AUTN's MAC does not verify with %s: not its network", c->imsi);
	else if (s == M2M_AKA_ERROR || (s == M2M_AKA_OK && tre_sqn_save(t, c->slot, &u)))
		rc = M2M_R_INTERNAL, snprintf(why, len, "AKA could not be run");
	else
		*resp = answer(s, &r);
	m2m_wipe(&r, sizeof r);
	return rc;
}

m2m_reason tre_aka_run(tre *t, const M2M_TRE_AKA_REQUEST *q, M2M_TRE_AKA_RESPONSE **resp, char *why, size_t len)
{
	aka_input in;
	tre_credential c;
	m2m_reason r = read_request(q, &in, why, len);
	if (r == M2M_OK)
		r = choose(t, in.imsi, &c, why, len);
	return r == M2M_OK ? authenticate(t, &c, &in, resp, why, len) : r;
}

/* CK and IK are in the reply only: a trace copy of it has them zeroed (lib/wire redaction). */
static void wipe_keys(M2M_TRE_AKA_RESPONSE *a)
{
	ASN1_OCTET_STRING *keys[] = {a->ck, a->ik};
	for (int i = 0; i < 2; i++)
		if (keys[i])
			OPENSSL_cleanse(keys[i]->data, (size_t)keys[i]->length);
}

void tre_aka(tre *t, m2m_request *req)
{
	if (tre_refuse_unless_m2me(t, req))
		return;
	char why[200];
	M2M_TRE_AKA_RESPONSE *a = NULL;
	m2m_reason r = tre_aka_run(t, req->env.body, &a, why, sizeof why);
	if (r) {
		m2m_refuse(t->node, req, r, "%s", why);
		return;
	}
	m2m_log_event(M2M_LOG_INFO, req->env.txid, "treAkaRequest", "AKA for %s: %s", req->env.sender,
		      a->auts ? "synchronisation failure (AUTS)" : "success");
	m2m_reply(t->node, req, M2M_MSG_TRE_AKA_RESPONSE, a);
	wipe_keys(a);
	M2M_TRE_AKA_RESPONSE_free(a);
}
