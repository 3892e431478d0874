/*
 * The TRE's secrets and identity (brief §1: it "alone holds private keys, PCID credentials and
 * MCIMs (encrypted at rest)"; TR 33.812 4.3.1: "secure storage of secrets").
 *
 * The attestation key pair (P-256) is generated here on first start and never leaves this
 * file: it is stored as PKCS#8 sealed under the storage key (m2m_seal, associated data its row
 * name), held in memory as an EVP_PKEY, and used only to sign (the CSR, evidence, reports, the
 * Alternative 1a objects) and to open the MCIM packages encrypted to its certificate.
 * Credential slots are sealed the same way, released only while tre_credentials_allowed, and
 * zeroised by deleting their rows with SQLite's secure_delete on (tre.c), which overwrites the
 * freed content.
 */
#include "tre.h"

#include "crypto/crypto.h"
#include "log/log.h"
#include "pki/pki.h"

#include <stdlib.h>
#include <string.h>

#define KEY_ROW "attestation"

/* ---- sealed rows -------------------------------------------------------------------------- */

static int seal_into(tre *t, const char *aad, const uint8_t *in, size_t len, uint8_t **out, size_t *outlen)
{
	*outlen = len + M2M_SEAL_OVERHEAD;
	*out = malloc(*outlen);
	if (*out && !m2m_seal(t->s.storage_key, aad, strlen(aad), in, len, *out))
		return 0;
	free(*out);
	*out = NULL;
	return -1;
}

/* Opens a sealed column into a fresh buffer (free with clear_free); -1 when it does not open. */
static int unseal_column(tre *t, const char *aad, sqlite3_stmt *st, int col, uint8_t **out, size_t *len)
{
	int n = sqlite3_column_bytes(st, col);
	if (n <= M2M_SEAL_OVERHEAD)
		return -1;
	*len = (size_t)n - M2M_SEAL_OVERHEAD;
	*out = malloc(*len);
	if (*out && !m2m_unseal(t->s.storage_key, aad, strlen(aad), sqlite3_column_blob(st, col), (size_t)n, *out))
		return 0;
	free(*out);
	*out = NULL;
	return -1;
}

static void clear_free(uint8_t *p, size_t len)
{
	if (p)
		m2m_wipe(p, len);
	free(p);
}

/* ---- the attestation key ------------------------------------------------------------------ */

static int store_key(tre *t, EVP_PKEY *key)
{
	uint8_t *der = NULL, *sealed = NULL;
	size_t len = 0, slen = 0;
	int rc = m2m_pki_key_der(key, &der, &len) || seal_into(t, KEY_ROW, der, len, &sealed, &slen);
	OPENSSL_clear_free(der, len);
	if (rc)
		return -1;
	rc = m2m_store_put_blob(t->db, "INSERT INTO tre_key (name, sealed) VALUES (?1, ?2)", KEY_ROW, sealed, slen);
	free(sealed);  /* sealed: nothing to wipe */
	return rc;
}

/* 1 when there is no key yet, 0 loaded, -1 when the stored one does not open. */
static int load_key(tre *t)
{
	sqlite3_stmt *st = m2m_store_prepare(t->db, "SELECT sealed FROM tre_key WHERE name = '" KEY_ROW "'");
	int rc = st ? 1 : -1;
	if (st && sqlite3_step(st) == SQLITE_ROW) {
		uint8_t *der = NULL;
		size_t len = 0;
		rc = unseal_column(t, KEY_ROW, st, 0, &der, &len);
		t->key = rc ? NULL : m2m_pki_key_from_der(der, len);
		rc = t->key ? 0 : -1;
		clear_free(der, len);
	}
	sqlite3_finalize(st);
	if (rc < 0)
		m2m_error("the attestation key does not open with this storage key");
	return rc;
}

static int make_key(tre *t)
{
	EVP_PKEY *key = m2m_pki_keygen();
	if (!key || store_key(t, key)) {
		EVP_PKEY_free(key);
		return -1;
	}
	t->key = key;
	m2m_info("attestation key pair generated (P-256), stored sealed");
	return 0;
}

/* ---- the certificate chain ---------------------------------------------------------------- */

static int load_chain(tre *t)
{
	sqlite3_stmt *st = m2m_store_prepare(t->db, "SELECT position, der FROM tre_certificate ORDER BY position");
	int bad = !st;
	while (!bad && sqlite3_step(st) == SQLITE_ROW) {
		X509 *x = m2m_pki_cert_from_der(sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1));
		bad = !x;
		if (x && sqlite3_column_int(st, 0) == 0 && !t->cert)
			t->cert = x;
		else if (x)
			sk_X509_push(t->chain, x);
	}
	sqlite3_finalize(st);
	if (bad)
		m2m_error("a stored certificate is not DER");
	return bad ? -1 : 0;
}

static int store_cert(tre *t, int position, X509 *x)
{
	uint8_t *der = NULL;
	size_t len = 0;
	if (m2m_pki_cert_der(x, &der, &len))
		return -1;
	sqlite3_stmt *st = m2m_store_prepare(t->db, "INSERT OR REPLACE INTO tre_certificate (position, der) VALUES (?1, ?2)");
	if (st) {
		sqlite3_bind_int(st, 1, position);
		sqlite3_bind_blob(st, 2, der, (int)len, SQLITE_TRANSIENT);
	}
	OPENSSL_free(der);
	return m2m_store_run(t->db, st);
}

int tre_keystore_save_chain(tre *t, X509 *cert, STACK_OF(X509) *chain)
{
	int rc = m2m_store_run(t->db, m2m_store_prepare(t->db, "DELETE FROM tre_certificate")) || store_cert(t, 0, cert);
	for (int i = 0; i < sk_X509_num(chain) && !rc; i++)
		rc = store_cert(t, i + 1, sk_X509_value(chain, i));
	if (rc)
		return -1;
	X509_up_ref(cert);
	STACK_OF(X509) *copy = X509_chain_up_ref(chain);
	X509_free(t->cert);
	sk_X509_pop_free(t->chain, X509_free);
	t->cert = cert;
	t->chain = copy;
	return 0;
}

/* ---- open, close, use --------------------------------------------------------------------- */

int tre_keystore_open(tre *t)
{
	t->chain = sk_X509_new_null();
	int rc = load_key(t);
	if (rc == 1)
		rc = make_key(t);
	return rc || load_chain(t) ? -1 : 0;
}

void tre_keystore_close(tre *t)
{
	EVP_PKEY_free(t->key);
	X509_free(t->cert);
	sk_X509_pop_free(t->chain, X509_free);
	t->key = NULL;
	t->cert = NULL;
	t->chain = NULL;
}

int tre_enrolled(const tre *t)
{
	return t->cert != NULL;
}

int tre_keystore_csr(tre *t, unsigned char **der, size_t *len)
{
	return m2m_pki_csr(t->key, t->entity, der, len);
}

int tre_keystore_owns(const tre *t, X509 *cert)
{
	return EVP_PKEY_eq(X509_get0_pubkey(cert), t->key) == 1;
}

int tre_keystore_sign(tre *t, const unsigned char *content, size_t len, unsigned char **cms, size_t *cmslen)
{
	if (!t->cert)
		return -1;
	return m2m_cms_sign(t->key, t->cert, t->chain, content, len, cms, cmslen);
}

int tre_keystore_sign_item(tre *t, const ASN1_ITEM *item, const void *value, M2M_SIGNED_OBJECT *so)
{
	if (!t->cert)
		return -1;
	return m2m_cms_sign_item(t->key, t->cert, t->chain, item, value, so);
}

/* The package was encrypted to the certified key: only this TRE opens it (T-1a-3). */
m2m_reason tre_keystore_decrypt(tre *t, const uint8_t *der, size_t len, uint8_t **content, size_t *clen)
{
	if (!t->cert)
		return M2M_R_WRONG_STATE;
	return m2m_cms_decrypt(t->key, t->cert, der, len, content, clen);
}

/* ---- credential slots --------------------------------------------------------------------- */

int tre_slot_put(tre *t, const char *slot, const char *owner, const uint8_t *secret, size_t len)
{
	uint8_t *sealed = NULL;
	size_t slen = 0;
	if (seal_into(t, slot, secret, len, &sealed, &slen))
		return -1;
	sqlite3_stmt *st = m2m_store_prepare(t->db, "INSERT INTO tre_slot (slot, owner, sealed) VALUES (?1, ?2, ?3)");
	if (st) {
		sqlite3_bind_text(st, 1, slot, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, owner, -1, SQLITE_TRANSIENT);
		sqlite3_bind_blob(st, 3, sealed, (int)slen, SQLITE_TRANSIENT);
	}
	free(sealed);
	return m2m_store_run(t->db, st);
}

long tre_slot_get(tre *t, const char *slot, uint8_t *out, size_t max)
{
	if (!tre_credentials_allowed(t))
		return -1;
	sqlite3_stmt *st = m2m_store_prepare(t->db, "SELECT sealed FROM tre_slot WHERE slot = ?1");
	long n = -1;
	if (st) {
		sqlite3_bind_text(st, 1, slot, -1, SQLITE_TRANSIENT);
		uint8_t *plain = NULL;
		size_t len = 0;
		if (sqlite3_step(st) == SQLITE_ROW && !unseal_column(t, slot, st, 0, &plain, &len) && len <= max) {
			memcpy(out, plain, len);
			n = (long)len;
		}
		clear_free(plain, len);
	}
	sqlite3_finalize(st);
	return n;
}

int tre_slot_count(tre *t)
{
	return tre_count(t->db, "SELECT COUNT(*) FROM tre_slot");
}

int tre_slots_wipe(tre *t)
{
	return m2m_store_run(t->db, m2m_store_prepare(t->db, "DELETE FROM tre_slot"));
}
