/*
 * What the card's tests share: a card made from an image in a temporary directory, APDUs
 * written as hex, and searches of the database files for secrets in clear. Criterion asserts
 * inside: a helper that fails, fails the test that called it.
 */
#ifndef UICC_CARD_FIXTURE_H
#define UICC_CARD_FIXTURE_H

#include "card.h"

#include <stddef.h>
#include <stdint.h>

/* TS 35.208 test set 1 for K and OPc. */
#define K_HEX "465b5ce8b199b49faa5f0a2ee238a6bc"
#define OPC_HEX "cd63cb71954a9f4e48a5994e37a02baf"
#define ADM_HEX "a1b2c3d4e5f60718"
/* An image as the personalisation tool writes it; extra: more settings of card, each a line. */
#define IMAGE_WITH(iccid, imsi, mnc, extra)                                                                 \
	"# written by the personalisation tool\n"                                                           \
	"card = {\n  iccid = \"" iccid "\";\n  imsi = \"" imsi "\";\n  mnc_length = " mnc ";\n"            \
	"  k = \"" K_HEX "\";\n  opc = \"" OPC_HEX "\";\n  adm = \"" ADM_HEX "\";\n" extra "};\n"
#define IMAGE(iccid, imsi, mnc) IMAGE_WITH(iccid, imsi, mnc, "")
#define CARD_IMAGE IMAGE("89860012345678901234", "001010123456789", "2")

extern const uint8_t K[16], OPC[16], ADM[8], STORAGE_KEY[32];

typedef struct card_fixture {
	char dir[64], db_path[128], image[128];
	sqlite3 *db;
	uicc_card card;
} card_fixture;
extern card_fixture t;

typedef struct rapdu {
	uint8_t data[UICC_RESPONSE_MAX];
	size_t len;
	uint16_t sw;
} rapdu;

/* Hex with optional spaces into out; its length. */
size_t unhex(const char *s, uint8_t *out, size_t max);
void write_text(const char *path, const char *text);

/* A fresh temporary directory for t (no card yet); fixture_teardown removes it. */
void fixture_dir(void);
void fixture_teardown(void);
void open_db(void);
/* Opens the card of t.db_path, making it from image_text when the database has none. */
int open_card_from(const char *image_text, int *imported);
void open_card(const char *image_text);
void close_card(void);

rapdu transmit_raw(const uint8_t *apdu, size_t len);
/* Sends the APDU written in hex and asserts its status word (and no data unless 9000). */
rapdu expect(const char *hex, uint16_t sw);
void expect_data(const rapdu *r, const char *hex);
void expect_read(const char *select, const char *read, const char *content);

/* The one text value a query of t.db gives (NULL: ""). */
void db_text(const char *sql, char *out, size_t len);
/* Everything the card keeps in its database, as text, to show that a refusal changed nothing. */
void db_dump(char *out, size_t len);
/* Asserts that the file at path (if any) does not hold the len bytes of secret. */
void expect_absent(const char *path, const uint8_t *secret, size_t len, const char *what);

#endif
