/* Helpers shared by test_vno.c and test_vno_procedures.c (test_vno_common.h). */
#include "test_vno_common.h"

#include "crypto/crypto.h"

#include <criterion/criterion.h>
#include <stdio.h>

/* TS 35.208 test set 1. */
static const char *const K_HEX = "465b5ce8b199b49faa5f0a2ee238a6bc";
static const char *const OPC_HEX = "cd63cb71954a9f4e48a5994e37a02baf";

uint8_t test_storage_key[32];
const uint8_t test_amf[2] = {0x80, 0x00};

void test_milenage(m2m_milenage *m)
{
	uint8_t k[16], opc[16];
	cr_assert_eq(m2m_unhex(K_HEX, k, sizeof k), 0);
	cr_assert_eq(m2m_unhex(OPC_HEX, opc, sizeof opc), 0);
	cr_assert_eq(m2m_milenage_init(m, k, opc), 0);
}

static char migration[8192];
static const char *const migrations[] = {migration};
static const m2m_schema schema = {migrations, 1};

sqlite3 *test_open_db(void)
{
	char err[256] = "";
	snprintf(migration, sizeof migration, "%s%s", M2M_NODE_SCHEMA, VNO_SCHEMA_V1);
	sqlite3 *db = m2m_store_open(":memory:", &schema, err, sizeof err);
	cr_assert_not_null(db, "%s", err);
	for (size_t i = 0; i < sizeof test_storage_key; i++)
		test_storage_key[i] = (uint8_t)(0xA0 + i);
	return db;
}

M2M_SUBSCRIPTION_PROFILE *test_profile(const char *apn, const char *lock)
{
	M2M_SUBSCRIPTION_PROFILE *p = M2M_SUBSCRIPTION_PROFILE_new();
	ASN1_UTF8STRING *s = ASN1_UTF8STRING_new();
	m2m_set_str(s, apn);
	sk_ASN1_UTF8STRING_push(p->allowed_apns, s);
	p->cs_allowed = 0;
	if (lock)
		m2m_set_digits(&p->imei_lock, lock);
	return p;
}
