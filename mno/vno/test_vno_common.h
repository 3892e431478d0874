/* What the VNO's two test files share: a card's keys, a database with the VNO's tables, and a
 * subscription profile as a home operator sends it. */
#ifndef MNO_VNO_TEST_VNO_COMMON_H
#define MNO_VNO_TEST_VNO_COMMON_H

#include "vno/vno_impl.h"

extern uint8_t test_storage_key[32];
extern const uint8_t test_amf[2];

/* MILENAGE keyed with the K and OPc of TS 35.208 test set 1: the card's, and its AuC's. */
void test_milenage(m2m_milenage *m);
/* The VNO's tables (with the node's) in a fresh in-memory database; fills test_storage_key. */
sqlite3 *test_open_db(void);
/* allowedApns = { apn }, no CS, imeiLock = lock when not NULL. */
M2M_SUBSCRIPTION_PROFILE *test_profile(const char *apn, const char *lock);

#endif
