/* The shared test fixture of the card (card_fixture.h). */
#include "card_fixture.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const uint8_t K[16] = {0x46, 0x5b, 0x5c, 0xe8, 0xb1, 0x99, 0xb4, 0x9f, 0xaa, 0x5f, 0x0a, 0x2e, 0xe2, 0x38, 0xa6, 0xbc};
const uint8_t OPC[16] = {0xcd, 0x63, 0xcb, 0x71, 0x95, 0x4a, 0x9f, 0x4e,
			 0x48, 0xa5, 0x99, 0x4e, 0x37, 0xa0, 0x2b, 0xaf};
const uint8_t ADM[8] = {0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x07, 0x18};
const uint8_t STORAGE_KEY[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
				 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

card_fixture t;

size_t unhex(const char *s, uint8_t *out, size_t max)
{
	size_t n = 0;
	unsigned v;
	int used;
	while (*s) {
		if (*s == ' ') {
			s++;
			continue;
		}
		cr_assert(n < max && sscanf(s, "%2x%n", &v, &used) == 1 && used == 2, "bad hex in test: %s", s);
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

void open_db(void)
{
	char err[256] = "";
	t.db = m2m_store_open(t.db_path, &uicc_schema, err, sizeof err);
	cr_assert_not_null(t.db, "%s", err);
}

int open_card_from(const char *image_text, int *imported)
{
	uicc_image img;
	m2m_conf ic;
	write_text(t.image, image_text);
	int rc = uicc_image_read(&ic, t.image, &img);
	cr_assert_eq(rc, 0, "%s", ic.error);
	m2m_conf_free(&ic);
	open_db();
	rc = uicc_card_open(&t.card, t.db, STORAGE_KEY, &img, imported);
	uicc_image_wipe(&img);
	return rc;
}

void open_card(const char *image_text)
{
	int imported;
	cr_assert_eq(open_card_from(image_text, &imported), 0);
}

void close_card(void)
{
	uicc_card_close(&t.card);
	m2m_store_close(t.db);
	t.db = NULL;
}

void fixture_dir(void)
{
	snprintf(t.dir, sizeof t.dir, "/tmp/uicctestXXXXXX");
	cr_assert_not_null(mkdtemp(t.dir));
	snprintf(t.db_path, sizeof t.db_path, "%s/card.db", t.dir);
	snprintf(t.image, sizeof t.image, "%s/card.image", t.dir);
}

void fixture_teardown(void)
{
	char cmd[128];
	if (t.db)
		close_card();
	snprintf(cmd, sizeof cmd, "rm -rf %s", t.dir);
	cr_assert_eq(system(cmd), 0);
}

rapdu transmit_raw(const uint8_t *apdu, size_t len)
{
	rapdu r;
	memset(&r, 0xEE, sizeof r);
	r.sw = uicc_apdu(&t.card, apdu, len, r.data, &r.len);
	return r;
}

rapdu expect(const char *hex, uint16_t sw)
{
	uint8_t apdu[300];
	rapdu r = transmit_raw(apdu, unhex(hex, apdu, sizeof apdu));
	cr_assert_eq(r.sw, sw, "%s: SW %04X, expected %04X", hex, r.sw, sw);
	if (sw != 0x9000)
		cr_assert_eq(r.len, 0, "%s: data with SW %04X", hex, sw);
	return r;
}

void expect_data(const rapdu *r, const char *hex)
{
	uint8_t want[300];
	size_t n = unhex(hex, want, sizeof want);
	cr_assert_eq(r->len, n, "%zu bytes, expected %zu", r->len, n);
	cr_assert_arr_eq(r->data, want, n);
}

void expect_read(const char *select, const char *read, const char *content)
{
	expect(select, 0x9000);
	rapdu r = expect(read, 0x9000);
	expect_data(&r, content);
}

void db_text(const char *sql, char *out, size_t len)
{
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_prepare_v2(t.db, sql, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(t.db));
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	const char *v = (const char *)sqlite3_column_text(st, 0);
	snprintf(out, len, "%s", v ? v : "");
	sqlite3_finalize(st);
}

void db_dump(char *out, size_t len)
{
	db_text("SELECT (SELECT group_concat(name || hex(content)) FROM uicc_file) || '|' ||"
		" (SELECT hex(sqn) || adm_tries || current_df || ifnull(current_ef, '-') ||"
		" app_active || adm_verified || hex(profile) || ifnull(hex(proactive), '-') ||"
		" proactive_number || proactive_fetched FROM uicc_state) || '|' ||"
		" ifnull((SELECT group_concat(kvn || kic_alg || kid_alg || hex(sealed)) FROM uicc_ota_keyset), '') || '|' ||"
		" ifnull((SELECT group_concat(hex(tar) || application || kvn || msl || counter) FROM uicc_ota_tar), '')"
		" || '|' || ifnull((SELECT hex(segments) FROM uicc_sms_segments), '')",
		out, len);
}

void expect_absent(const char *path, const uint8_t *secret, size_t len, const char *what)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return;  /* no WAL left */
	static uint8_t buf[4 << 20];  /* one test at a time per process */
	size_t n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	cr_assert_lt(n, sizeof buf);
	cr_assert_null(memmem(buf, n, secret, len), "%s in clear in %s", what, path);
}

