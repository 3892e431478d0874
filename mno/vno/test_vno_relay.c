/*
 * The PCID attach and the relay through the VNO's real dispatch (test_vno_world.h): a PCID is
 * routed to the registration operator's ICF and opens a walled-garden session, which carries
 * the TRE's provisioning steps to the walled garden and nothing else (no other destination, no
 * other message type, no user data); an operational session relays to any peer but operator
 * signalling; Alternative 3b's uiccChangeRegister and uiccChangeComplete reach the DRF from an
 * operational session and not from a PCID's; the answer (an ErrorReport too) comes back as
 * relayResponse; bad sessions, bad bodies and a silent destination are refused.
 */
#include "test_vno_world.h"

#include <criterion/criterion.h>
#include <string.h>

TestSuite(relay, .init = world_setup, .fini = world_teardown, .timeout = 60);

typedef struct body {
	int type;
	uint8_t der[BODY_MAX];
	size_t len;
} body;

static body signed_object(int type, const char *cms)
{
	body b = {.type = type};
	M2M_SIGNED_OBJECT *so = M2M_SIGNED_OBJECT_new();
	ASN1_OCTET_STRING_set(so->cms, (const unsigned char *)cms, (int)strlen(cms));
	unsigned char *der = NULL;
	int n = i2d_M2M_SIGNED_OBJECT(so, &der);
	cr_assert(n > 0 && n <= BODY_MAX);
	memcpy(b.der, der, (size_t)n);
	b.len = (size_t)n;
	OPENSSL_free(der);
	M2M_SIGNED_OBJECT_free(so);
	return b;
}

static body raw(int type, const char *bytes, size_t len)
{
	body b = {.type = type, .len = len};
	memcpy(b.der, bytes, len);
	return b;
}

static outcome relay(int dev, const uint8_t session_id[8], const char *destination, const body *b)
{
	M2M_RELAY_REQUEST *q = M2M_RELAY_REQUEST_new();
	ASN1_OCTET_STRING_set(q->session_id, session_id, 8);
	m2m_set_str(q->step->destination, destination);
	q->step->message_type = b->type;
	ASN1_OCTET_STRING_set(q->step->body, b->der, (int)b->len);
	outcome o = ask(dev, M2M_MSG_RELAY_REQUEST, q);
	M2M_RELAY_REQUEST_free(q);
	return o;
}

static void expect_relayed(const outcome *o, int type, const char *what)
{
	cr_assert_eq(o->type, M2M_MSG_RELAY_RESPONSE, "%s: answered %d (%s: %s)", what, o->type,
		     m2m_reason_name(o->reason), o->text);
	cr_assert_eq(o->relayed_type, type, "%s: relayed %s", what, m2m_msgtype_name(o->relayed_type));
}

/* The destination got exactly the body the device sent, from the visited operator. */
static void expect_delivered(int who, const body *b)
{
	const received *g = &fx.got[who];
	cr_assert_eq(g->type, b->type, "%s got %s", ids[who], m2m_msgtype_name(g->type));
	cr_assert_str_eq(g->sender, "mno-v");
	cr_assert_eq(g->body_len, b->len);
	cr_assert_eq(memcmp(g->body, b->der, b->len), 0, "the body changed on the way");
}

/* A package made by the fake destination says who made it. */
static void expect_package_of(const ASN1_OCTET_STRING *package, const char *who)
{
	cr_assert_eq(ASN1_STRING_length(package), (int)strlen(who));
	cr_assert_eq(memcmp(ASN1_STRING_get0_data(package), who, strlen(who)), 0, "not %s's package", who);
}

/* A step relayed to destination (party who) and answered with answer_type. */
static outcome step_relayed(int dev, const uint8_t sid[8], int who, int type, const char *label, int answer_type)
{
	body b = signed_object(type, label);
	outcome o = relay(dev, sid, ids[who], &b);
	expect_relayed(&o, answer_type, m2m_msgtype_name(type));
	expect_delivered(who, &b);
	return o;
}

static int column(const char *sql)
{
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_prepare_v2(fx.v->db, sql, -1, &st, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "%s: no row", sql);
	int v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void pcid_session(int dev, uint8_t sid[8])
{
	uint8_t key[32];
	attached_as(dev, PCID, sid, key);
}

Test(relay, a_pcid_attaches_through_the_icf_into_a_walled_garden)
{
	uint8_t sid[8];
	pcid_session(DEV_1, sid);
	cr_assert_eq(fx.got[DRF].count, 2, "authInfoRequest and updateLocation go to the ICF");
	cr_assert_eq(fx.got[DRF].type, M2M_MSG_UPDATE_LOCATION);
	cr_assert_eq(fx.got[HOME_A].count + fx.got[HOME_B].count, 0, "a home operator was asked about a PCID");
	cr_assert_eq(column("SELECT pcid FROM vno_attach"), 1, "the attach is not marked as a PCID's");
	cr_assert_eq(column("SELECT pcid FROM vno_session"), 1, "the session is not marked as a PCID's");
	uint8_t op[8], key[32];
	attached(DEV_2, op, key);
	cr_assert_eq(column("SELECT count(*) FROM vno_session WHERE pcid = 0 AND imsi = '" IMSI_A "'"), 1);
}

Test(relay, the_provisioning_steps_reach_the_drf_and_the_dpf)
{
	uint8_t sid[8];
	pcid_session(DEV_1, sid);
	body discovery = signed_object(M2M_MSG_DISCOVERY_REQUEST, "discovery by the TRE");
	outcome o = relay(DEV_1, sid, "drf", &discovery);
	expect_relayed(&o, M2M_MSG_DISCOVERY_RESPONSE, "discoveryRequest");
	expect_delivered(DRF, &discovery);
	body ticket = signed_object(M2M_MSG_DISCOVERY_RESPONSE, "ticket");
	cr_assert_eq(o.relayed_len, ticket.len);
	cr_assert_eq(memcmp(o.relayed, ticket.der, ticket.len), 0, "the ticket changed on the way back");

	o = step_relayed(DEV_1, sid, HOME_A, M2M_MSG_MCIM_REQUEST, "order", M2M_MSG_MCIM_PACKAGE);
	M2M_MCIM_PACKAGE *p = d2i_M2M_MCIM_PACKAGE(NULL, &(const unsigned char *){o.relayed}, (long)o.relayed_len);
	cr_assert_not_null(p);
	expect_package_of(p->package, "mno-a");
	M2M_MCIM_PACKAGE_free(p);
	step_relayed(DEV_1, sid, HOME_A, M2M_MSG_INSTALL_RESULT, "installed", M2M_MSG_INSTALL_ACK);
}

Test(relay, the_walled_garden_keeps_a_pcid_to_its_destinations_and_steps)
{
	uint8_t sid[8];
	pcid_session(DEV_1, sid);
	int drf_calls = fx.got[DRF].count;
	body discovery = signed_object(M2M_MSG_DISCOVERY_REQUEST, "discovery");
	outcome o = relay(DEV_1, sid, "mno-b", &discovery);
	expect_refused(&o, M2M_R_WALLED_GARDEN, "a destination outside the walled garden");
	cr_assert(strstr(o.text, "may reach only drf, mno-a"), "%s", o.text);
	o = relay(DEV_1, sid, "nobody", &discovery);
	expect_refused(&o, M2M_R_WALLED_GARDEN, "an unknown destination from a PCID session");
	body ping = raw(M2M_MSG_PING, "\x30\x06\x04\x04ping", 8);
	o = relay(DEV_1, sid, "drf", &ping);
	expect_refused(&o, M2M_R_WALLED_GARDEN, "a ping to the DRF");
	body vectors = raw(M2M_MSG_AUTH_INFO_REQUEST, "\x30\x00", 2);
	o = relay(DEV_1, sid, "drf", &vectors);
	expect_refused(&o, M2M_R_WALLED_GARDEN, "operator signalling from a PCID session");
	/* 3b's steps to the DRF go over the card's operational session, never a PCID's */
	body reg = signed_object(M2M_MSG_UICC_CHANGE_REGISTER, "registration by the TRE");
	o = relay(DEV_1, sid, "drf", &reg);
	expect_refused(&o, M2M_R_WALLED_GARDEN, "uiccChangeRegister from a PCID session");
	body result = signed_object(M2M_MSG_UICC_CHANGE_COMPLETE, "switched");
	o = relay(DEV_1, sid, "drf", &result);
	expect_refused(&o, M2M_R_WALLED_GARDEN, "uiccChangeComplete from a PCID session");
	cr_assert_eq(fx.got[HOME_B].count, 0, "mno-b was reached");
	cr_assert_eq(fx.got[DRF].count, drf_calls, "the DRF was reached");
	/* the refusals closed nothing: the next step still goes through */
	o = relay(DEV_1, sid, "drf", &discovery);
	expect_relayed(&o, M2M_MSG_DISCOVERY_RESPONSE, "discoveryRequest after the refusals");
}

Test(relay, a_pcid_session_carries_no_user_data)
{
	uint8_t sid[8], key[32];
	attached_as(DEV_1, PCID, sid, key);
	outcome o = send_data(DEV_1, sid, key, 1, "meter 0042");
	expect_refused(&o, M2M_R_WALLED_GARDEN, "protectedData on a PCID session");
	cr_assert_eq(column("SELECT last_uplink FROM vno_session"), -1, "the refused data moved the counter");
}

Test(relay, an_operational_session_reaches_any_peer_but_not_operator_signalling)
{
	uint8_t sid[8], key[32];
	attached(DEV_1, sid, key);
	body ping = raw(M2M_MSG_PING, "\x30\x06\x04\x04ping", 8);
	outcome o = relay(DEV_1, sid, "mno-b", &ping);
	expect_relayed(&o, M2M_MSG_PONG, "a ping to mno-b");
	expect_delivered(HOME_B, &ping);
	cr_assert_eq(o.relayed_len, ping.len);
	cr_assert_eq(memcmp(o.relayed, ping.der, ping.len), 0);
	body discovery = signed_object(M2M_MSG_DISCOVERY_REQUEST, "discovery over an MCIM");
	o = relay(DEV_1, sid, "drf", &discovery);
	expect_relayed(&o, M2M_MSG_DISCOVERY_RESPONSE, "discoveryRequest over an operational session");
	o = relay(DEV_1, sid, "nobody", &ping);
	expect_refused(&o, M2M_R_UNKNOWN_PEER, "a destination that is not a peer");
	o = relay(DEV_1, sid, "m2me-2", &ping);
	expect_refused(&o, M2M_R_UNKNOWN_PEER, "a peer without an endpoint");

	M2M_AUTH_INFO_REQUEST *q = M2M_AUTH_INFO_REQUEST_new();
	m2m_set_digits(&q->imsi, IMSI_B);
	m2m_set_str(q->serving_network, "mno-v");
	q->num_vectors = 1;
	body vectors = {.type = M2M_MSG_AUTH_INFO_REQUEST};
	unsigned char *der = NULL;
	vectors.len = (size_t)i2d_M2M_AUTH_INFO_REQUEST(q, &der);
	memcpy(vectors.der, der, vectors.len);
	OPENSSL_free(der);
	M2M_AUTH_INFO_REQUEST_free(q);
	int asked = fx.auth_infos;
	o = relay(DEV_1, sid, "mno-b", &vectors);
	expect_refused(&o, M2M_R_NOT_AUTHORISED, "authInfoRequest in the visited operator's name");
	cr_assert_eq(fx.auth_infos, asked, "a home operator gave vectors to a device");
}

/* Alternative 3b: the TRE's signed steps to the DRF over the session of the card's IMSI. */
Test(relay, the_card_s_change_steps_reach_the_drf_from_an_operational_session)
{
	uint8_t sid[8], key[32];
	attached(DEV_1, sid, key);
	outcome o = step_relayed(DEV_1, sid, DRF, M2M_MSG_UICC_CHANGE_REGISTER, "registration by the TRE",
				 M2M_MSG_UICC_CREDENTIAL_DELIVERY);
	M2M_UICC_CREDENTIAL_PACKAGE *p =
		d2i_M2M_UICC_CREDENTIAL_PACKAGE(NULL, &(const unsigned char *){o.relayed}, (long)o.relayed_len);
	cr_assert_not_null(p, "the delivery did not come back as it left the DRF");
	expect_package_of(p->package, "drf");
	M2M_UICC_CREDENTIAL_PACKAGE_free(p);
	step_relayed(DEV_1, sid, DRF, M2M_MSG_UICC_CHANGE_COMPLETE, "switched", M2M_MSG_UICC_CHANGE_COMPLETE_ACK);
	/* what operators say to each other in 3b stays theirs */
	int drf_calls = fx.got[DRF].count;
	static const int operators[] = {M2M_MSG_TRE_TRIGGER, M2M_MSG_UICC_CREDENTIAL_ORDER, M2M_MSG_UICC_RELEASE};
	for (size_t i = 0; i < sizeof operators / sizeof operators[0]; i++) {
		body b = raw(operators[i], "\x30\x00", 2);
		o = relay(DEV_1, sid, "drf", &b);
		expect_refused(&o, M2M_R_NOT_AUTHORISED, m2m_msgtype_name(operators[i]));
	}
	cr_assert_eq(fx.got[DRF].count, drf_calls, "operator signalling reached the DRF");
}

Test(relay, an_error_answer_is_relayed_as_error)
{
	uint8_t sid[8];
	pcid_session(DEV_1, sid);
	fx.refuse_relayed = M2M_R_NOT_REGISTERED;
	body discovery = signed_object(M2M_MSG_DISCOVERY_REQUEST, "discovery");
	outcome o = relay(DEV_1, sid, "drf", &discovery);
	expect_relayed(&o, M2M_MSG_ERROR, "a refused discoveryRequest");
	M2M_ERROR_REPORT *er = d2i_M2M_ERROR_REPORT(NULL, &(const unsigned char *){o.relayed}, (long)o.relayed_len);
	cr_assert_not_null(er, "the body is not an ErrorReport");
	cr_assert_eq(ASN1_ENUMERATED_get(er->reason), M2M_R_NOT_REGISTERED);
	char text[128];
	cr_assert_eq(m2m_str(er->text, text, sizeof text), 0);
	cr_assert(strstr(text, "drf refuses"), "%s", text);
	M2M_ERROR_REPORT_free(er);
}

Test(relay, only_the_device_of_an_open_session_relays)
{
	uint8_t sid[8], unknown[8] = {9, 9, 9, 9, 9, 9, 9, 9};
	pcid_session(DEV_1, sid);
	body discovery = signed_object(M2M_MSG_DISCOVERY_REQUEST, "discovery");
	outcome o = relay(DEV_1, unknown, "drf", &discovery);
	expect_refused(&o, M2M_R_NOT_FOUND, "an unknown session");
	o = relay(DEV_2, sid, "drf", &discovery);
	expect_refused(&o, M2M_R_NOT_AUTHORISED, "another device's session");
	cr_assert_eq(fx.got[DRF].type, M2M_MSG_UPDATE_LOCATION, "the DRF was reached");
	outcome d = detach(DEV_1, sid);
	cr_assert_eq(d.type, M2M_MSG_DETACH_ACCEPT, "detach of a PCID session: %s", m2m_reason_name(d.reason));
	cr_assert_eq(fx.got[DRF].type, M2M_MSG_PURGE, "the ICF was not told");
	o = relay(DEV_1, sid, "drf", &discovery);
	expect_refused(&o, M2M_R_NOT_ATTACHED, "a closed session");
}

Test(relay, bodies_are_decoded_strictly_as_their_type)
{
	uint8_t sid[8];
	pcid_session(DEV_1, sid);
	int drf_calls = fx.got[DRF].count;
	body b = raw(M2M_MSG_DISCOVERY_REQUEST, "\x04\x01x", 3);  /* an OCTET STRING, not a SignedObject */
	outcome o = relay(DEV_1, sid, "drf", &b);
	expect_refused(&o, M2M_R_BAD_BODY, "a body of another type");
	b = raw(M2M_MSG_DISCOVERY_REQUEST, "\x30\x81\x03\x04\x01x", 6);  /* a long-form length */
	o = relay(DEV_1, sid, "drf", &b);
	expect_refused(&o, M2M_R_NOT_DER, "a body in BER");
	b = raw(M2M_MSG_DISCOVERY_REQUEST, "\x30\x03\x04\x01x\x00", 6);
	o = relay(DEV_1, sid, "drf", &b);
	expect_refused(&o, M2M_R_BAD_BODY, "a body with trailing data");
	b = raw(999, "\x30\x00", 2);
	o = relay(DEV_1, sid, "drf", &b);
	expect_refused(&o, M2M_R_BAD_BODY, "a messageType the module does not define");
	b = raw(M2M_MSG_DISCOVERY_REQUEST, "", 0);
	o = relay(DEV_1, sid, "drf", &b);
	expect_refused(&o, M2M_R_BAD_BODY, "an empty body");
	b = signed_object(M2M_MSG_DISCOVERY_REQUEST, "discovery");
	o = relay(DEV_1, sid, "", &b);
	expect_refused(&o, M2M_R_BAD_BODY, "an empty destination");
	cr_assert_eq(fx.got[DRF].count, drf_calls, "a bad body was forwarded");
}

Test(relay, a_silent_destination_is_a_timeout)
{
	uint8_t sid[8];
	pcid_session(DEV_1, sid);
	fx.silent = 1;
	body discovery = signed_object(M2M_MSG_DISCOVERY_REQUEST, "discovery");
	outcome o = relay(DEV_1, sid, "drf", &discovery);
	expect_refused(&o, M2M_R_TIMEOUT, "a destination that does not answer");
	cr_assert(strstr(o.text, "drf"), "%s", o.text);
}
