/*
 * personalise: what the operator's card personalisation centre does. Random K, OPc, ADM and a
 * first OTA keyset (kvn 1; AES-128 KIc and KID, TS 102 225; a DEK for PUT KEY) are written to the
 * card image, read once by the uicc daemon at its first start:
 *
 *   card = { iccid = "8900101000000000017"; imsi = "001010000000001"; mnc_length = 2;
 *            k = "<32 hex>"; opc = "<32 hex>"; adm = "<16 hex>";
 *            ota_tar = "b00010"; ota_kic = "<32 hex>"; ota_kid = "<32 hex>";
 *            ota_kvn = 1; ota_dek = "<32 hex>"; ota_msl = "16"; };
 *
 * The keyset serves the two TARs the card has: B00010 of the USIM's RFM range (TS 31.116) and
 * 000000, the issuer security domain (PUT KEY); MSL 16 asks for CC, ciphering and a higher
 * counter. The active subscriber record and the OTA server's keysets (counters 0) are stored, and
 * the image written, all or nothing: the rows are written inside a transaction, the image is then
 * created (mode 0600, never over an existing file), and the transaction commits only if the image
 * exists; if the commit fails, the image is removed.
 */
#include "hss/provision.h"
#include "ota/ota.h"

#include "crypto/crypto.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ---- the image ------------------------------------------------------------------------------ */

static int write_all(int fd, const char *text, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, text, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		text += w;
		n -= (size_t)w;
	}
	return 0;
}

/* MSL of both TARs (TS 102 226 §8.2.1.3.2.1, coded like SPI1): CC, ciphering, counter higher. */
#define OTA_MSL "16"

static int image_text(const hss_subscriber *rec, const m2m_ota_keyset *ota, int mnc_length, char *text, size_t len)
{
	char k[33], opc[33], adm[2 * HSS_ADM_LEN + 1], tar[7], kic[33], kid[33], dek[2 * M2M_OTA_KEY_MAX + 1];
	m2m_hex(rec->k, sizeof rec->k, k);
	m2m_hex(rec->opc, sizeof rec->opc, opc);
	m2m_hex(rec->adm, sizeof rec->adm, adm);
	m2m_hex(rec->ota_tar, sizeof rec->ota_tar, tar);
	m2m_hex(rec->ota_kic, sizeof rec->ota_kic, kic);
	m2m_hex(rec->ota_kid, sizeof rec->ota_kid, kid);
	m2m_hex(ota->dek.key, ota->dek.len, dek);
	int n = snprintf(text, len,
			 "# UICC image written by mno-admin personalise: secret, read once by the uicc.\n"
			 "card = { iccid = \"%s\"; imsi = \"%s\"; mnc_length = %d;\n"
			 "         k = \"%s\"; opc = \"%s\"; adm = \"%s\";\n"
			 "         ota_tar = \"%s\"; ota_kic = \"%s\"; ota_kid = \"%s\";\n"
			 "         ota_kvn = %d; ota_dek = \"%s\"; ota_msl = \"" OTA_MSL "\"; };\n",
			 rec->iccid, rec->imsi, mnc_length, k, opc, adm, tar, kic, kid, ota->kvn, dek);
	m2m_wipe(k, sizeof k);
	m2m_wipe(opc, sizeof opc);
	m2m_wipe(adm, sizeof adm);
	m2m_wipe(kic, sizeof kic);
	m2m_wipe(kid, sizeof kid);
	m2m_wipe(dek, sizeof dek);
	return n > 0 && (size_t)n < len ? n : -1;
}

/* Written under a temporary name in the same directory and linked into place, so the image
 * appears complete or not at all, and link() refuses to replace an existing file. */
static hss_outcome write_image(const char *path, const hss_subscriber *rec, const m2m_ota_keyset *ota,
			       int mnc_length, char *err, size_t len)
{
	char tmp[PATH_MAX], text[640];
	if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int)sizeof tmp) {
		snprintf(err, len, "%s: path too long", path);
		return HSS_FAILED;
	}
	int fd = mkstemp(tmp);  /* mode 0600 */
	if (fd < 0) {
		snprintf(err, len, "cannot write the card image %s: %s", path, strerror(errno));
		return HSS_FAILED;
	}
	int n = image_text(rec, ota, mnc_length, text, sizeof text);
	int rc = n < 0 || write_all(fd, text, (size_t)n) || fsync(fd);
	rc = close(fd) || rc;
	m2m_wipe(text, sizeof text);
	int saved = errno;
	if (!rc && link(tmp, path)) {
		saved = errno;
		rc = 1;
	}
	unlink(tmp);
	if (rc) {
		snprintf(err, len, "cannot write the card image %s: %s", path,
			 saved == EEXIST ? "it exists (an image is never overwritten)" : strerror(saved));
		return HSS_FAILED;
	}
	return HSS_DONE;
}

/* ---- the record ------------------------------------------------------------------------------ */

static hss_outcome iccid_unused(sqlite3 *db, const char *iccid, char *err, size_t len)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT imsi FROM hss_subscriber WHERE iccid = ? AND state <> 'deleted'", -1, &st,
			       NULL) != SQLITE_OK) {
		snprintf(err, len, "database: %s", sqlite3_errmsg(db));
		return HSS_FAILED;
	}
	sqlite3_bind_text(st, 1, iccid, -1, SQLITE_STATIC);
	hss_outcome r = HSS_DONE;
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(err, len, "ICCID %s is already the card of IMSI %s", iccid, (const char *)sqlite3_column_text(st, 0));
		r = HSS_FAILED;
	}
	sqlite3_finalize(st);
	return r;
}

static int gives_profile(const hss_order *o)
{
	return o->napns > 0 || o->cs_allowed || o->imei_lock;
}

/* A pending IMSI (allocated by `add` without keys) gets its card; otherwise a new subscriber.
 * A pending record with keys is an MCIM the DPF made (mno/dpf): it is not the staff's. */
static hss_outcome store_card(sqlite3 *db, const hss_settings *s, const hss_order *o, hss_subscriber *rec,
			      const char *actor, char *err, size_t len)
{
	hss_subscriber old;
	char detail[64];
	snprintf(detail, sizeof detail, "card ICCID %s", rec->iccid);
	int rc = hss_subscriber_load(db, NULL, rec->imsi, &old);
	if (rc != 0 || old.state != HSS_PENDING)
		return hss_create(db, s->storage_key, rec, actor, "personalise", detail, err, len);
	if (old.has_keys) {
		snprintf(err, len, "IMSI %s is an MCIM on its way to its TRE, not a card to make", rec->imsi);
		return HSS_FAILED;
	}
	if (!gives_profile(o))
		rec->profile = old.profile;
	if (!o->amf)
		memcpy(rec->amf, old.amf, sizeof rec->amf);
	if (hss_subscriber_store(db, s->storage_key, rec) ||
	    hss_audit(db, actor, rec->imsi, "personalise", "%s; pending -> active", detail)) {
		snprintf(err, len, "database: %s", sqlite3_errmsg(db));
		return HSS_FAILED;
	}
	return HSS_DONE;
}

/* kvn 1: KIc AES-CBC and KID AES-CMAC (the record's; both algorithm nibbles 0010, TS 102 225
 * §5.1.3.1: AES, in CBC mode for KIc and CMAC mode for KID) and a random DEK. */
static void first_ota_keyset(hss_subscriber *rec, m2m_ota_keyset *ota)
{
	memcpy(rec->ota_tar, OTA_TAR_USIM_RFM, 3);
	m2m_random(rec->ota_kic, sizeof rec->ota_kic);
	m2m_random(rec->ota_kid, sizeof rec->ota_kid);
	*ota = (m2m_ota_keyset){.kvn = 1, .kic = {.alg = 0x2, .len = 16}, .kid = {.alg = 0x2, .len = 16},
				.dek = {.alg = 0x2, .len = 16}};
	memcpy(ota->kic.key, rec->ota_kic, 16);
	memcpy(ota->kid.key, rec->ota_kid, 16);
	m2m_random(ota->dek.key, 16);
}

/* The OTA server's keysets of the card: its two TARs, counters 0. A card made again with the
 * ICCID of a deleted one starts afresh. */
static hss_outcome store_ota_keysets(sqlite3 *db, const hss_settings *s, const char *iccid,
				     const m2m_ota_keyset *ota, char *err, size_t len)
{
	if (ota_keyset_delete_card(db, iccid) || ota_keyset_personalise(db, s->storage_key, iccid, ota))
		return hss_db_failed(db, err, len);
	return HSS_DONE;
}

hss_outcome hss_personalise(sqlite3 *db, const hss_settings *s, const char *iccid, const hss_order *o,
			    const char *image, const char *actor, char *err, size_t len)
{
	hss_subscriber rec;
	m2m_ota_keyset ota;
	if (!hss_iccid_valid(iccid)) {
		snprintf(err, len, "%s: an ICCID is 18 to 20 digits", iccid ? iccid : "(none)");
		return HSS_BAD_INPUT;
	}
	if (o->k || o->opc || !image || !image[0]) {
		snprintf(err, len, "personalise needs --out IMAGE and makes K and OPc itself");
		return HSS_BAD_INPUT;
	}
	hss_outcome r = hss_order_record(s, o, &rec, err, len);
	if (r != HSS_DONE)
		return r;
	snprintf(rec.iccid, sizeof rec.iccid, "%s", iccid);
	m2m_random(rec.k, sizeof rec.k);
	m2m_random(rec.opc, sizeof rec.opc);
	m2m_random(rec.adm, sizeof rec.adm);
	first_ota_keyset(&rec, &ota);
	rec.has_keys = rec.has_adm = 1;
	rec.state = HSS_ACTIVE;
	r = hss_begin(db, err, len);
	if (r == HSS_DONE) {
		r = iccid_unused(db, iccid, err, len);
		if (r == HSS_DONE)
			r = store_card(db, s, o, &rec, actor, err, len);
		if (r == HSS_DONE)
			r = store_ota_keysets(db, s, iccid, &ota, err, len);
		if (r == HSS_DONE)
			r = write_image(image, &rec, &ota, s->mnc_length, err, len);
		int written = r == HSS_DONE;
		r = hss_end(db, r, err, len);
		if (written && r != HSS_DONE)
			unlink(image);  /* no record: the card must not exist either */
	}
	hss_subscriber_wipe(&rec);
	m2m_wipe(&ota, sizeof ota);
	return r;
}
