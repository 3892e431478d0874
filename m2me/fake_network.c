/*
 * The fake visited network of the m2me tests: the network side of attach with the K and OPc of
 * the IMSI (the card's, the TRE's PCID or its MCIM: vectors, RES against XRES,
 * re-synchronisation with AUTS, the session key), user data echoed under the session key,
 * detach, and relayRequest answered as the DRF and the DPF answer the TRE's provisioning steps.
 * Its mode makes it misbehave as an attacker would.
 */
#include "m2me_harness.h"

#include "crypto/crypto.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

static void send_challenge(m2m_node *n, m2m_request *req)
{
	M2M_AUTH_CHALLENGE *ch = M2M_AUTH_CHALLENGE_new();
	ASN1_OCTET_STRING_set(ch->attach_id, fake_net.attach_id, 8);
	ASN1_OCTET_STRING_set(ch->rand, fake_net.current.rand, 16);
	ASN1_OCTET_STRING_set(ch->autn, fake_net.current.autn, 16);
	m2m_reply(n, req, M2M_MSG_AUTH_CHALLENGE, ch);
	M2M_AUTH_CHALLENGE_free(ch);
}

static void fresh_vector(void)
{
	cr_assert_eq(m2m_aka_av_generate(fake_net.key_m, fake_net.key_he, (const uint8_t[2]){0x80, 0x00}, &fake_net.current),
		     0);
}

/* The network's copy of the keys of imsi (the home operator's, or the ICF's for the PCID). */
static void keys_of(const char *imsi)
{
	int pcid = !strcmp(imsi, TRE_PCID), mcim = !strcmp(imsi, TRE_MCIM), mcim_b = !strcmp(imsi, TRE_MCIM_B);
	int card_b = !strcmp(imsi, CARD_B_IMSI);
	fake_net.key_m = pcid ? &fake_net.m_pcid : mcim ? &fake_net.m_mcim : mcim_b ? &fake_net.m_mcim_b
		       : card_b ? &fake_net.m_card_b : &fake_net.m;
	fake_net.key_he = pcid ? &fake_net.he_pcid : mcim ? &fake_net.he_mcim : mcim_b ? &fake_net.he_mcim_b
			: card_b ? &fake_net.he_card_b : &fake_net.he;
}

static void false_vector(void)
{
	uint8_t k[16], opc[16], r[16];
	m2m_random(k, 16);
	m2m_random(opc, 16);
	m2m_random(r, 16);
	m2m_milenage m;
	cr_assert_eq(m2m_milenage_init(&m, k, opc), 0);
	cr_assert_eq(m2m_aka_av_build(&m, r, 1 << 5, (const uint8_t[2]){0x80, 0x00}, &fake_net.current), 0);
	m2m_milenage_clear(&m);
}

static void net_attach(m2m_node *n, m2m_request *req)
{
	const M2M_ATTACH_REQUEST *q = req->env.body;
	fake_net.attaches++;
	m2m_digits(q->imsi, fake_net.imsi, sizeof fake_net.imsi, 6, 15);
	m2m_digits(q->imei, fake_net.imei, sizeof fake_net.imei, 14, 16);
	m2m_str(q->apn, fake_net.apn, sizeof fake_net.apn);
	keys_of(fake_net.imsi);
	if (fake_net.mode == NET_REFUSE) {
		m2m_refuse(n, req, M2M_R_IMEI_NOT_ALLOWED, "the subscription is locked to another IMEI");
		return;
	}
	if (!strcmp(fake_net.imsi, fake_net.refuse_imsi)) {
		m2m_refuse(n, req, M2M_R_ROAMING_NOT_ALLOWED, "no roaming agreement for IMSI %s", fake_net.imsi);
		return;
	}
	m2m_random(fake_net.attach_id, 8);
	fake_net.synch_failures = 0;
	if (fake_net.mode == NET_FALSE)
		false_vector();
	else if ((fake_net.mode == NET_STALE_FIRST || fake_net.mode == NET_ALWAYS_STALE) && fake_net.have_last)
		fake_net.current = fake_net.last;
	else
		fresh_vector();
	send_challenge(n, req);
}

static int same_attach(const ASN1_OCTET_STRING *id)
{
	return ASN1_STRING_length(id) == 8 && !memcmp(ASN1_STRING_get0_data(id), fake_net.attach_id, 8);
}

static void net_auth_response(m2m_node *n, m2m_request *req)
{
	const M2M_AUTH_RESPONSE *r = req->env.body;
	if (!same_attach(r->attach_id) || ASN1_STRING_length(r->res) != 8 ||
	    m2m_ct_compare(ASN1_STRING_get0_data(r->res), fake_net.current.xres, 8)) {
		m2m_refuse(n, req, M2M_R_AUTHENTICATION_FAILED, "RES does not match XRES");
		return;
	}
	fake_net.last = fake_net.current;
	fake_net.have_last = 1;
	m2m_random(fake_net.session_id, 8);
	cr_assert_eq(m2m_session_key(fake_net.current.ck, fake_net.current.ik, fake_net.session_id, fake_net.key), 0);
	fake_net.session_open = 1;
	fake_net.last_uplink = 0;
	M2M_ATTACH_ACCEPT *acc = M2M_ATTACH_ACCEPT_new();
	ASN1_OCTET_STRING_set(acc->session_id, fake_net.session_id, 8);
	m2m_set_str(acc->apn, fake_net.apn);
	m2m_reply(n, req, M2M_MSG_ATTACH_ACCEPT, acc);
	M2M_ATTACH_ACCEPT_free(acc);
}

static void net_auth_failure(m2m_node *n, m2m_request *req)
{
	const M2M_AUTH_FAILURE *f = req->env.body;
	if (!same_attach(f->attach_id)) {
		m2m_refuse(n, req, M2M_R_NOT_FOUND, "no such attach");
		return;
	}
	if (ASN1_ENUMERATED_get(f->cause) == M2M_AUTH_MAC_FAILURE) {
		fake_net.mac_failures++;
		m2m_refuse(n, req, M2M_R_MAC_FAILURE, "the card refused the network");
		return;
	}
	if (!f->auts || ASN1_STRING_length(f->auts) != 14 || ++fake_net.synch_failures > 1) {
		m2m_refuse(n, req, M2M_R_SYNCH_FAILURE, "still out of sequence");
		return;
	}
	if (fake_net.mode != NET_ALWAYS_STALE) {
		cr_assert_eq(m2m_aka_he_resync(fake_net.key_m, fake_net.key_he, fake_net.current.rand,
					       ASN1_STRING_get0_data(f->auts)), M2M_AKA_OK, "MAC-S of the AUTS is wrong");
		fake_net.resyncs++;
		fresh_vector();
	}
	send_challenge(n, req);
}

static int same_session(const ASN1_OCTET_STRING *id)
{
	return fake_net.session_open && ASN1_STRING_length(id) == 8 &&
	       !memcmp(ASN1_STRING_get0_data(id), fake_net.session_id, 8);
}

static void net_protected_data(m2m_node *n, m2m_request *req)
{
	const M2M_PROTECTED_DATA *d = req->env.body;
	if (!same_session(d->session_id)) {
		m2m_refuse(n, req, M2M_R_NOT_ATTACHED, "no such session");
		return;
	}
	if (d->counter <= fake_net.last_uplink) {
		m2m_refuse(n, req, M2M_R_REPLAYED, "counter %llu not above %llu", (unsigned long long)d->counter,
			   (unsigned long long)fake_net.last_uplink);
		return;
	}
	size_t len = (size_t)ASN1_STRING_length(d->sealed);
	uint8_t plain[M2ME_DATA_MAX], sealed[M2ME_DATA_MAX + 16];
	if (len < 17 || len > sizeof sealed ||
	    m2m_session_open(fake_net.key, fake_net.session_id, M2M_UPLINK, d->counter, ASN1_STRING_get0_data(d->sealed),
			     len, plain)) {
		m2m_refuse(n, req, M2M_R_BAD_SIGNATURE, "does not open");
		return;
	}
	fake_net.last_uplink = d->counter;
	cr_assert_eq(m2m_session_seal(fake_net.key, fake_net.session_id, M2M_DOWNLINK, d->counter, plain, len - 16, sealed), 0);
	M2M_PROTECTED_DATA *e = M2M_PROTECTED_DATA_new();
	ASN1_OCTET_STRING_set(e->session_id, fake_net.session_id, 8);
	e->counter = d->counter;
	ASN1_OCTET_STRING_set(e->sealed, sealed, (int)len);
	m2m_reply(n, req, M2M_MSG_PROTECTED_DATA_ECHO, e);
	M2M_PROTECTED_DATA_free(e);
}

static void net_detach(m2m_node *n, m2m_request *req)
{
	const M2M_DETACH_REQUEST *q = req->env.body;
	if (!same_session(q->session_id)) {
		m2m_refuse(n, req, M2M_R_NOT_ATTACHED, "no such session");
		return;
	}
	fake_net.session_open = 0;
	fake_net.detaches++;
	ASN1_NULL *nothing = ASN1_NULL_new();
	m2m_reply(n, req, M2M_MSG_DETACH_ACCEPT, nothing);
	ASN1_NULL_free(nothing);
}

/* ---- the relay: the DRF's and the DPF's answers to the TRE's steps ---------------------------------- */

static void reply_relayed(m2m_node *n, m2m_request *req, int type, const unsigned char *der, int len)
{
	M2M_RELAY_RESPONSE *r = M2M_RELAY_RESPONSE_new();
	r->message_type = type;
	ASN1_OCTET_STRING_set(r->body, der, len);
	m2m_reply(n, req, M2M_MSG_RELAY_RESPONSE, r);
	M2M_RELAY_RESPONSE_free(r);
}

/* The DRF's ErrorReport, relayed as the visited operator relays one. */
static void reply_relayed_error(m2m_node *n, m2m_request *req, m2m_reason reason)
{
	M2M_ERROR_REPORT *er = M2M_ERROR_REPORT_new();
	ASN1_ENUMERATED_set(er->reason, reason);
	m2m_set_str(er->text, "drf: this TRE has no registration");
	unsigned char *der = NULL;
	int len = i2d_M2M_ERROR_REPORT(er, &der);
	reply_relayed(n, req, M2M_MSG_ERROR, der, len);
	OPENSSL_free(der);
	M2M_ERROR_REPORT_free(er);
}

static void net_relay(m2m_node *n, m2m_request *req)
{
	const M2M_RELAY_REQUEST *q = req->env.body;
	if (!same_session(q->session_id)) {
		m2m_refuse(n, req, M2M_R_NOT_ATTACHED, "no such session");
		return;
	}
	if (fake_net.refuse_relay) {
		m2m_refuse(n, req, fake_net.refuse_relay, "a PCID session may reach only the walled garden");
		return;
	}
	int i = fake_net.relays++ % 8, type = q->step->message_type;
	m2m_str(q->step->destination, fake_net.relayed_to[i], sizeof fake_net.relayed_to[i]);
	fake_net.relayed_type[i] = type;
	snprintf(fake_net.relayed_on[i], sizeof fake_net.relayed_on[i], "%s", fake_net.imsi);
	if (type == M2M_MSG_DISCOVERY_REQUEST && fake_net.relay_error) {
		reply_relayed_error(n, req, fake_net.relay_error);
		return;
	}
	unsigned char *der = NULL;
	int answer_type, len = fake_step_answer(type, &answer_type, &der);
	reply_relayed(n, req, answer_type, der, len);
	OPENSSL_free(der);
}

void fake_net_serve(m2m_node *n, m2m_request *req, void *arg)
{
	switch (req->env.type) {
	case M2M_MSG_ATTACH_REQUEST:
		net_attach(n, req);
		break;
	case M2M_MSG_AUTH_RESPONSE:
		net_auth_response(n, req);
		break;
	case M2M_MSG_AUTH_FAILURE:
		net_auth_failure(n, req);
		break;
	case M2M_MSG_PROTECTED_DATA:
		net_protected_data(n, req);
		break;
	case M2M_MSG_DETACH_REQUEST:
		net_detach(n, req);
		break;
	case M2M_MSG_RELAY_REQUEST:
		net_relay(n, req);
		break;
	default:
		m2m_refuse(n, req, M2M_R_UNEXPECTED_MESSAGE, "a network");
	}
}

