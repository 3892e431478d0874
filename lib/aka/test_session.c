/* User-data protection: both ends agree, and any change of key, direction, counter or session fails. */
#include "aka/session.h"

#include <criterion/criterion.h>
#include <string.h>

static const uint8_t ck[16] = {0xb4, 0x0b, 0xa9, 0xa3, 0xc5, 0x8b, 0x2a, 0x05,
			       0xbb, 0xf0, 0xd9, 0x87, 0xb2, 0x1b, 0xf8, 0xcb};
static const uint8_t ik[16] = {0xf7, 0x69, 0xbc, 0xd7, 0x51, 0x04, 0x46, 0x04,
			       0x12, 0x76, 0x72, 0x71, 0x1c, 0x6d, 0x34, 0x41};
static const uint8_t sid[8] = {1, 2, 3, 4, 5, 6, 7, 8};
static const uint8_t msg[] = "meter reading 42";

Test(session, both_ends_derive_the_same_key_and_round_trip)
{
	uint8_t k1[32], k2[32], sealed[sizeof msg + 16], out[sizeof msg];
	cr_assert_eq(m2m_session_key(ck, ik, sid, k1), 0);
	cr_assert_eq(m2m_session_key(ck, ik, sid, k2), 0);
	cr_assert_eq(memcmp(k1, k2, 32), 0);
	cr_assert_eq(m2m_session_seal(k1, sid, M2M_UPLINK, 7, msg, sizeof msg, sealed), 0);
	cr_assert_eq(m2m_session_open(k2, sid, M2M_UPLINK, 7, sealed, sizeof sealed, out), 0);
	cr_assert_eq(memcmp(out, msg, sizeof msg), 0);
}

Test(session, key_depends_on_ck_ik_and_session)
{
	uint8_t k[32], other[32], ck2[16], sid2[8];
	m2m_session_key(ck, ik, sid, k);
	memcpy(ck2, ck, 16);
	ck2[0] ^= 1;
	m2m_session_key(ck2, ik, sid, other);
	cr_assert_neq(memcmp(k, other, 32), 0);
	m2m_session_key(ck, ck2, sid, other);
	cr_assert_neq(memcmp(k, other, 32), 0, "IK takes part");
	memcpy(sid2, sid, 8);
	sid2[7] ^= 1;
	m2m_session_key(ck, ik, sid2, other);
	cr_assert_neq(memcmp(k, other, 32), 0);
}

Test(session, wrong_direction_counter_session_or_tamper_fails)
{
	uint8_t k[32], sealed[sizeof msg + 16], out[sizeof msg], sid2[8];
	m2m_session_key(ck, ik, sid, k);
	m2m_session_seal(k, sid, M2M_UPLINK, 7, msg, sizeof msg, sealed);
	cr_assert_eq(m2m_session_open(k, sid, M2M_DOWNLINK, 7, sealed, sizeof sealed, out), -1, "reflected");
	cr_assert_eq(m2m_session_open(k, sid, M2M_UPLINK, 8, sealed, sizeof sealed, out), -1, "counter");
	memcpy(sid2, sid, 8);
	sid2[0] ^= 1;
	cr_assert_eq(m2m_session_open(k, sid2, M2M_UPLINK, 7, sealed, sizeof sealed, out), -1, "session");
	sealed[3] ^= 0x10;
	cr_assert_eq(m2m_session_open(k, sid, M2M_UPLINK, 7, sealed, sizeof sealed, out), -1, "tampered");
	cr_assert_eq(m2m_session_open(k, sid, M2M_UPLINK, 7, sealed, 15, out), -1, "too short");
}
