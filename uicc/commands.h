/*
 * The command handlers behind uicc_apdu. apdu.c has already checked the class byte, the
 * instruction, and that the APDU's shape (ISO 7816-3 §12.1 cases 1-4) is one the command
 * takes; a handler checks P1, P2 and the data, works on card->st, and returns the status word.
 * apdu.c keeps or undoes what it changed according to that status word.
 */
#ifndef UICC_COMMANDS_H
#define UICC_COMMANDS_H

#include "card.h"

/* Status words (ISO 7816-4 §5.1.3, TS 102 221 §10.2.1, TS 31.102 §7.3). */
enum {
	SW_OK = 0x9000,
	SW_VERIFY_FAILED = 0x63C0,          /* | attempts left */
	SW_WRONG_LENGTH = 0x6700,
	SW_INCOMPATIBLE_FILE = 0x6981,      /* command incompatible with the file structure */
	SW_SECURITY_NOT_SATISFIED = 0x6982,
	SW_AUTH_METHOD_BLOCKED = 0x6983,
	SW_CONDITIONS_NOT_SATISFIED = 0x6985,
	SW_NO_EF_SELECTED = 0x6986,
	SW_WRONG_DATA = 0x6A80,             /* incorrect parameters in the data field */
	SW_FILE_NOT_FOUND = 0x6A82,
	SW_RECORD_NOT_FOUND = 0x6A83,
	SW_WRONG_P1P2 = 0x6A86,
	SW_KEY_NOT_FOUND = 0x6A88,          /* referenced data not found */
	SW_WRONG_OFFSET = 0x6B00,
	SW_WRONG_LE = 0x6C00,               /* | the length to ask for */
	SW_INS_NOT_SUPPORTED = 0x6D00,
	SW_CLA_NOT_SUPPORTED = 0x6E00,
	SW_TECHNICAL_PROBLEM = 0x6F00,
	SW_AUTH_MAC_FAILURE = 0x9862,       /* TS 31.102 §7.3: authentication error, incorrect MAC */
};

/* One command APDU, split as ISO 7816-4 §5.1 defines it (short lengths only). */
typedef struct uicc_command {
	uint8_t cla, ins, p1, p2;
	const uint8_t *data;
	size_t lc;    /* Nc: 0 when there is no data field */
	int has_le;
	size_t ne;    /* Ne: Le, with 00 meaning 256; 0 without Le */
} uicc_command;

/* Writes up to UICC_RESPONSE_MAX bytes into out and sets *out_len; returns the status word. */
typedef uint16_t (*uicc_handler)(uicc_card *c, const uicc_command *cmd, uint8_t *out, size_t *out_len);

/* files.c */
uint16_t uicc_cmd_select(uicc_card *c, const uicc_command *cmd, uint8_t *out, size_t *out_len);
uint16_t uicc_cmd_status(uicc_card *c, const uicc_command *cmd, uint8_t *out, size_t *out_len);
uint16_t uicc_cmd_read_binary(uicc_card *c, const uicc_command *cmd, uint8_t *out, size_t *out_len);
uint16_t uicc_cmd_update_binary(uicc_card *c, const uicc_command *cmd, uint8_t *out, size_t *out_len);
uint16_t uicc_cmd_read_record(uicc_card *c, const uicc_command *cmd, uint8_t *out, size_t *out_len);
/* verify.c */
uint16_t uicc_cmd_verify(uicc_card *c, const uicc_command *cmd, uint8_t *out, size_t *out_len);
/* Whether the security status lets the current command update a file with access ac. */
int uicc_access_granted(const uicc_card *c, uicc_access ac);
/* auth.c */
uint16_t uicc_cmd_authenticate(uicc_card *c, const uicc_command *cmd, uint8_t *out, size_t *out_len);

#endif
