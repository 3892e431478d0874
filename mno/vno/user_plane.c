/*
 * User data after an accepted attach: what stands in for the radio layer's ciphering and
 * integrity (docs/alt2.md, requirement R12). protectedData{sessionId, counter, sealed} is opened
 * uplink under the session key, and the same plaintext goes back sealed downlink under the same
 * counter in protectedDataEcho: an echo the device can open proves both ends derived the same key
 * from CK and IK.
 *
 * A session a PCID opened carries no user data at all (walledGarden): a PCID gives access to
 * provisioning only, never operational service (TR 33.812 T-1a-7, docs/alt1a.md step 3).
 *
 * The uplink counter must rise strictly per session (else replayed): it is part of the GCM nonce,
 * so a repeated counter would also repeat a nonce. It only moves on data whose tag verified, so
 * forged messages cannot burn counters.
 */
#include "vno/vno_impl.h"

#include "crypto/crypto.h"
#include "log/log.h"

#include <string.h>

#define COUNTER_MAX UINT64_C(4294967295)   /* ProtectedData.counter */
#define SEALED_MAX (1024 + M2M_SESSION_TAG_LEN)

m2m_reason vno_uplink_admit(const vno_session *s, const char *sender, uint64_t counter)
{
	m2m_reason r = vno_session_usable(s, sender);
	if (r != M2M_OK)
		return r;
	if (s->pcid)
		return M2M_R_WALLED_GARDEN;
	if (s->last_uplink >= 0 && counter <= (uint64_t)s->last_uplink)
		return M2M_R_REPLAYED;
	return M2M_OK;
}

m2m_reason vno_uplink_echo(const vno_session *s, uint64_t counter, const uint8_t *sealed, size_t sealed_len,
			   uint8_t *echo)
{
	uint8_t plain[SEALED_MAX];
	if (sealed_len < M2M_SESSION_TAG_LEN || sealed_len > SEALED_MAX)
		return M2M_R_BAD_BODY;
	size_t len = sealed_len - M2M_SESSION_TAG_LEN;
	if (m2m_session_open(s->key, s->id, M2M_UPLINK, counter, sealed, sealed_len, plain))
		return M2M_R_AUTHENTICATION_FAILED;
	int rc = m2m_session_seal(s->key, s->id, M2M_DOWNLINK, counter, plain, len, echo);
	m2m_wipe(plain, sizeof plain);
	return rc ? M2M_R_INTERNAL : M2M_OK;
}

static const char *refusal_text(m2m_reason r)
{
	switch (r) {
	case M2M_R_WALLED_GARDEN:
		return "a PCID session carries no user data: it only reaches provisioning (relayRequest)";
	case M2M_R_REPLAYED:
		return "the counter is not above the last one accepted";
	case M2M_R_AUTHENTICATION_FAILED:
		return "the data does not open under the session key";
	case M2M_R_BAD_BODY:
		return "sealed must be 16 to 1040 octets";
	default:
		return vno_session_refusal(r);
	}
}

static void echo(vno_context *v, m2m_request *req, const vno_session *s, uint64_t counter, const uint8_t *out,
		 size_t len)
{
	M2M_PROTECTED_DATA *e = M2M_PROTECTED_DATA_new();
	ASN1_OCTET_STRING_set(e->session_id, s->id, sizeof s->id);
	e->counter = counter;
	ASN1_OCTET_STRING_set(e->sealed, out, (int)len);
	m2m_reply(v->node, req, M2M_MSG_PROTECTED_DATA_ECHO, e);
	M2M_PROTECTED_DATA_free(e);
}

void vno_protected_data(vno_context *v, m2m_request *req)
{
	const M2M_PROTECTED_DATA *q = req->env.body;
	uint8_t id[M2M_SESSION_ID_LEN], out[SEALED_MAX];
	if (m2m_read_octets(q->session_id, id, sizeof id) || q->counter > COUNTER_MAX) {
		m2m_refuse(v->node, req, M2M_R_BAD_BODY, "sessionId must be 8 octets and counter at most %llu",
			   (unsigned long long)COUNTER_MAX);
		return;
	}
	vno_session s;
	int rc = vno_session_load(v->db, v->settings.storage_key, id, &s);
	if (rc) {
		m2m_refuse(v->node, req, rc > 0 ? M2M_R_NOT_FOUND : M2M_R_INTERNAL,
			   rc > 0 ? "no such session" : "the session cannot be read");
		return;
	}
	size_t len = (size_t)ASN1_STRING_length(q->sealed);
	m2m_reason r = vno_uplink_admit(&s, req->env.sender, q->counter);
	if (r == M2M_OK)
		r = vno_uplink_echo(&s, q->counter, ASN1_STRING_get0_data(q->sealed), len, out);
	if (r == M2M_OK && vno_session_set_uplink(v->db, id, q->counter))
		r = M2M_R_INTERNAL;
	if (r == M2M_OK)
		echo(v, req, &s, q->counter, out, len);
	else
		m2m_refuse(v->node, req, r, "%s", refusal_text(r));
	m2m_wipe(out, sizeof out);
	vno_session_wipe(&s);
}
