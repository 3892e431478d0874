/*
 * The downlink relay of a home operator's smsDeliver and treTrigger to the device attached with
 * its IMSI, through the VNO's real dispatch (test_vno_world.h): the device gets the message as
 * the home sent it and its smsReport / treTriggerAck goes back; only the IMSI's home may send,
 * only to an open operational session (not attached, a PCID's walled garden); the device's
 * refusal and its silence are passed on; bad bodies are refused; nothing is stored.
 */
#include "test_vno_world.h"

#include <criterion/criterion.h>
#include <string.h>

TestSuite(sms, .init = world_setup, .fini = world_teardown, .timeout = 60);

static const uint8_t tpdu[] = {0x40, 0x04, 0x81, 0x10, 0x32, 0x7F, 0xF6, 0x42, 0x10, 0x10,
			       0x21, 0x43, 0x65, 0x00, 0x03, 0x02, 0x70, 0x00};

static outcome sms_to(int from, const char *imsi, const uint8_t *t, size_t len)
{
	M2M_SMS_DELIVER *q = M2M_SMS_DELIVER_new();
	m2m_set_digits(&q->imsi, imsi);
	ASN1_OCTET_STRING_set(q->tpdu, t, (int)len);
	outcome o = ask(from, M2M_MSG_SMS_DELIVER, q);
	M2M_SMS_DELIVER_free(q);
	return o;
}

static outcome sms(int from, const char *imsi)
{
	return sms_to(from, imsi, tpdu, sizeof tpdu);
}

/* The rows of the VNO's tables, to see that a refusal or a relay stored nothing. */
static int rows(void)
{
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_prepare_v2(fx.v->db,
					"SELECT (SELECT count(*) FROM vno_attach) + (SELECT count(*) FROM vno_session)"
					" + (SELECT count(*) FROM vno_session WHERE state = 'open')",
					-1, &st, NULL),
		     SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	int n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* o is the answer of type carrying what the device answered (want: the report TPDU or the
 * changeId), and the device m2me-1 got one message, of type sent, from the visited operator:
 * what it got. */
static const received *expect_relayed(const outcome *o, int type, const uint8_t *want, size_t len, int sent)
{
	cr_assert_eq(o->type, type, "answered %d (%s: %s)", o->type, m2m_reason_name(o->reason), o->text);
	cr_assert(o->has_report, "the device's answer was lost");
	cr_assert_eq(o->report_len, len);
	cr_assert_eq(memcmp(o->report, want, len), 0, "the device's answer changed on the way");
	const received *g = &fx.got[DEV_1];
	cr_assert_eq(g->count, 1);
	cr_assert_eq(g->type, sent);
	cr_assert_str_eq(g->sender, "mno-v");
	return g;
}

/* What the device got carries want, byte for byte. */
static void expect_octets(const ASN1_STRING *got, const uint8_t *want, size_t len, const char *what)
{
	cr_assert_eq(ASN1_STRING_length(got), (int)len, "%s", what);
	cr_assert_eq(memcmp(ASN1_STRING_get0_data(got), want, len), 0, "%s", what);
}

/* m2me-1 attached with IMSI_A (its session in sid, key): the rows of the tables then. */
static int attached_here(uint8_t sid[8], uint8_t key[32])
{
	attached(DEV_1, sid, key);
	return rows();
}

Test(sms, the_home_reaches_the_attached_device_and_gets_its_report)
{
	uint8_t sid[8], key[32];
	int before = attached_here(sid, key);
	outcome o = sms(HOME_A, IMSI_A);
	const received *g = expect_relayed(&o, M2M_MSG_SMS_REPORT, device_report, sizeof device_report,
					   M2M_MSG_SMS_DELIVER);
	/* the device got the home's smsDeliver, byte for byte */
	M2M_SMS_DELIVER *got = d2i_M2M_SMS_DELIVER(NULL, &(const unsigned char *){g->body}, (long)g->body_len);
	cr_assert_not_null(got);
	expect_octets(got->tpdu, tpdu, sizeof tpdu, "the TPDU changed on the way");
	char imsi[16];
	cr_assert_eq(m2m_digits(got->imsi, imsi, sizeof imsi, 6, 15), 0);
	cr_assert_str_eq(imsi, IMSI_A);
	M2M_SMS_DELIVER_free(got);
	cr_assert_eq(rows(), before, "the relay stored something");
	/* the session is untouched: data still flows */
	outcome e = send_data(DEV_1, sid, key, 1, "after the SMS");
	cr_assert_eq(e.type, M2M_MSG_PROTECTED_DATA_ECHO);
}

Test(sms, only_the_imsi_s_home_may_send)
{
	uint8_t sid[8], key[32];
	attached(DEV_1, sid, key);
	int before = rows();
	outcome o = sms(HOME_B, IMSI_A);
	expect_refused(&o, M2M_R_NOT_AUTHORISED, "mno-b for an IMSI of mno-a");
	cr_assert(strstr(o.text, "mno-b"), "%s", o.text);
	o = sms(DRF, IMSI_A);
	expect_refused(&o, M2M_R_NOT_AUTHORISED, "the registration operator for an IMSI of mno-a");
	o = sms(DEV_2, IMSI_A);
	expect_refused(&o, M2M_R_NOT_AUTHORISED, "a device");
	cr_assert_eq(fx.got[DEV_1].count, 0, "the device was reached");
	cr_assert_eq(rows(), before);
}

Test(sms, no_attached_device_no_sms)
{
	outcome o = sms(HOME_A, IMSI_A);
	expect_refused(&o, M2M_R_NOT_ATTACHED, "an IMSI never attached");
	uint8_t sid[8], key[32];
	attached(DEV_1, sid, key);
	outcome d = detach(DEV_1, sid);
	cr_assert_eq(d.type, M2M_MSG_DETACH_ACCEPT);
	o = sms(HOME_A, IMSI_A);
	expect_refused(&o, M2M_R_NOT_ATTACHED, "an IMSI detached");
	cr_assert_eq(fx.got[DEV_1].count, 0, "the device was reached");
}

/* dev attached with imsi; its home's SMS is refused want, the text naming mention. */
static void refused_after_attach(int dev, const char *imsi, int home, m2m_reason want, const char *mention,
				 const char *what)
{
	uint8_t sid[8], key[32];
	attached_as(dev, imsi, sid, key);
	outcome o = sms(home, imsi);
	expect_refused(&o, want, what);
	cr_assert(strstr(o.text, mention), "%s", o.text);
}

Test(sms, a_pcid_session_gets_no_sms)
{
	refused_after_attach(DEV_1, PCID, DRF, M2M_R_WALLED_GARDEN, "walled", "an SMS to a PCID's walled garden");
	cr_assert_eq(fx.got[DEV_1].count, 0, "the device was reached");
}

Test(sms, the_device_s_refusal_and_silence_are_passed_on)
{
	uint8_t sid[8], key[32];
	attached(DEV_1, sid, key);
	fx.device_refusal = M2M_R_WRONG_STATE;
	outcome o = sms(HOME_A, IMSI_A);
	expect_refused(&o, M2M_R_WRONG_STATE, "a busy device");
	cr_assert(strstr(o.text, "m2me-1") && strstr(o.text, "busy"), "%s", o.text);
	fx.device_refusal = M2M_R_CARD_ERROR;
	o = sms(HOME_A, IMSI_A);
	expect_refused(&o, M2M_R_CARD_ERROR, "a card error");
	fx.device_refusal = M2M_OK;
	fx.device_silent = 1;
	o = sms(HOME_A, IMSI_A);
	expect_refused(&o, M2M_R_TIMEOUT, "a silent device");
	cr_assert(strstr(o.text, "m2me-1"), "%s", o.text);
	cr_assert_eq(fx.got[DEV_1].count, 3);
}

Test(sms, a_device_the_network_cannot_call)
{
	refused_after_attach(DEV_2, IMSI_B, HOME_B, M2M_R_UNREACHABLE, "m2me-2", "a device without an endpoint");
}

Test(sms, malformed_bodies)
{
	uint8_t sid[8], key[32];
	attached(DEV_1, sid, key);
	outcome o = sms(HOME_A, "12345");
	expect_refused(&o, M2M_R_BAD_BODY, "a 5-digit IMSI");
	o = sms_to(HOME_A, IMSI_A, tpdu, 0);
	expect_refused(&o, M2M_R_BAD_BODY, "an empty TPDU");
	uint8_t big[165] = {0};
	o = sms_to(HOME_A, IMSI_A, big, sizeof big);
	expect_refused(&o, M2M_R_BAD_BODY, "a TPDU of 165 octets");
	cr_assert_eq(fx.got[DEV_1].count, 0, "a bad body was relayed");
}

/* ---- treTrigger (Alternative 3b): the same relay ---------------------------------------------- */

/* A treTrigger whose signed object is opaque to the VNO: any DER octets do. */
static const uint8_t signed_trigger[] = {0x30, 0x03, 0x02, 0x01, 0x07};

static outcome trigger(int from, const char *imsi)
{
	M2M_TRE_TRIGGER *q = M2M_TRE_TRIGGER_new();
	m2m_set_digits(&q->imsi, imsi);
	ASN1_OCTET_STRING_set(q->trigger->cms, signed_trigger, sizeof signed_trigger);
	outcome o = ask(from, M2M_MSG_TRE_TRIGGER, q);
	M2M_TRE_TRIGGER_free(q);
	return o;
}

Test(sms, a_tre_trigger_reaches_the_attached_device_and_its_ack_comes_back)
{
	uint8_t sid[8], key[32];
	int before = attached_here(sid, key);
	outcome o = trigger(HOME_A, IMSI_A);
	const received *g = expect_relayed(&o, M2M_MSG_TRE_TRIGGER_ACK, device_change_id, sizeof device_change_id,
					   M2M_MSG_TRE_TRIGGER);
	M2M_TRE_TRIGGER *got = d2i_M2M_TRE_TRIGGER(NULL, &(const unsigned char *){g->body}, (long)g->body_len);
	cr_assert_not_null(got);
	expect_octets(got->trigger->cms, signed_trigger, sizeof signed_trigger, "the signed trigger changed on the way");
	M2M_TRE_TRIGGER_free(got);
	cr_assert_eq(rows(), before, "the relay stored something");
}

Test(sms, a_tre_trigger_is_refused_as_an_sms_is)
{
	outcome o = trigger(HOME_A, IMSI_A);
	expect_refused(&o, M2M_R_NOT_ATTACHED, "a trigger for an IMSI never attached");
	o = trigger(HOME_A, "12345");
	expect_refused(&o, M2M_R_BAD_BODY, "a 5-digit IMSI");
	uint8_t sid[8], key[32];
	attached(DEV_1, sid, key);
	o = trigger(HOME_B, IMSI_A);
	expect_refused(&o, M2M_R_NOT_AUTHORISED, "mno-b for an IMSI of mno-a");
	o = trigger(DRF, IMSI_A);
	expect_refused(&o, M2M_R_NOT_AUTHORISED, "the registration operator itself: only A routes it");
	fx.device_refusal = M2M_R_WRONG_STATE;
	o = trigger(HOME_A, IMSI_A);
	expect_refused(&o, M2M_R_WRONG_STATE, "a busy device");
	cr_assert_eq(fx.got[DEV_1].count, 1);
}

Test(sms, a_pcid_session_gets_no_tre_trigger)
{
	uint8_t sid[8], key[32];
	attached_as(DEV_1, PCID, sid, key);
	outcome o = trigger(DRF, PCID);
	expect_refused(&o, M2M_R_WALLED_GARDEN, "a trigger to a PCID's walled garden");
	cr_assert(strstr(o.text, "treTrigger"), "%s", o.text);
	cr_assert_eq(fx.got[DEV_1].count, 0, "the device was reached");
}
