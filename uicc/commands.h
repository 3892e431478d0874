/*
 * The command handlers behind uicc_apdu. apdu.c has already checked the class byte, the
 * instruction, and that the APDU's shape (ISO 7816-3 §12.1 cases 1-4) is one the command
 * takes; a handler checks P1, P2 and the data, works on card->st, and returns the status word.
 * apdu.c keeps or undoes what it changed according to that status word. The same handlers run
 * the commands of a remote file management script (rfm.c), through uicc_script_command.
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
	SW_REFERENCE_NOT_USABLE = 0x6984,   /* reference data not usable: a used-up or stale nonce */
	SW_CONDITIONS_NOT_SATISFIED = 0x6985,
	SW_NO_EF_SELECTED = 0x6986,
	SW_PROTECTION_INCORRECT = 0x6988,   /* incorrect secure messaging data objects: does not decrypt */
	SW_WRONG_DATA = 0x6A80,             /* incorrect parameters in the data field */
	SW_FILE_NOT_FOUND = 0x6A82,
	SW_RECORD_NOT_FOUND = 0x6A83,
	SW_NOT_ENOUGH_MEMORY = 0x6A84,
	SW_WRONG_P1P2 = 0x6A86,
	SW_KEY_NOT_FOUND = 0x6A88,          /* referenced data not found */
	SW_WRONG_OFFSET = 0x6B00,
	SW_WRONG_LE = 0x6C00,               /* | the length to ask for */
	SW_INS_NOT_SUPPORTED = 0x6D00,
	SW_CLA_NOT_SUPPORTED = 0x6E00,
	SW_TECHNICAL_PROBLEM = 0x6F00,
	SW_PROACTIVE_PENDING = 0x9100,      /* | its length: TS 102 221 §10.2.1.1, normal ending */
	SW_AUTH_MAC_FAILURE = 0x9862,       /* TS 31.102 §7.3: authentication error, incorrect MAC */
};

/* The shapes of ISO 7816-3 §12.1.3, as bits so that a command can accept several. */
enum { UICC_CASE_1 = 1, UICC_CASE_2 = 2, UICC_CASE_3 = 4, UICC_CASE_4 = 8 };

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

/* apdu.c: one command of a script, with the checks uicc_apdu makes of its class, instruction
 * and shape; undone in c->st when refused (see uicc_apdu), never persisted here. */
uint16_t uicc_script_command(uicc_card *c, const uicc_command *cmd, unsigned shape, uint8_t *out, size_t *out_len);

/* files.c */
/* size bytes of src from offset, as READ BINARY gives a file's: 6B00 at or past the end, Le 00
 * what there is (256 at most), another Le past the end 6CXX. */
uint16_t uicc_read_bytes(const uint8_t *src, size_t size, size_t offset, size_t ne, uint8_t *out, size_t *out_len);
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

/* envelope.c: ENVELOPE (SMS-PP download, TS 31.111 §7.1.1.2) */
uint16_t uicc_cmd_envelope(uicc_card *c, const uicc_command *cmd, uint8_t *out, size_t *out_len);
/* secured_packet.c: a reassembled command packet (TS 102 225 §5.1) for its TAR's application;
 * writes the user data of the answer (02 71 00 and the PoR) into out, nothing without a PoR. */
uint16_t uicc_secured_packet(uicc_card *c, const uint8_t *pkt, size_t len, uint8_t *out, size_t *out_len);

/* script.c: a compact script (TS 102 226 §5.1.1), each command handed to step, run up to the
 * first that fails; out gets the compact response data (§5.1.2). 0, or -1 when it cannot. */
typedef uint16_t (*uicc_script_step)(uicc_card *c, const m2m_ota_keyset *ks, const uicc_command *cmd,
				     unsigned shape, uint8_t *out, size_t *out_len);
int uicc_script_run(uicc_card *c, uicc_script_step step, const m2m_ota_keyset *ks, const uint8_t *script,
		    size_t len, uint8_t *out, size_t cap, size_t *out_len);
/* rfm.c: the USIM's remote file management (TS 31.116) */
int uicc_rfm_run(uicc_card *c, const uint8_t *script, size_t len, uint8_t *out, size_t cap, size_t *out_len);
/* put_key.c: the issuer security domain's one command, PUT KEY (GlobalPlatform 2.2 §11.8) */
uint16_t uicc_isd_command(uicc_card *c, const m2m_ota_keyset *ks, const uicc_command *cmd, unsigned shape,
			  uint8_t *out, size_t *out_len);

/* proactive.c: TERMINAL PROFILE, FETCH, TERMINAL RESPONSE (TS 102 221 §10.1.1, TS 102 223) */
uint16_t uicc_cmd_terminal_profile(uicc_card *c, const uicc_command *cmd, uint8_t *out, size_t *out_len);
uint16_t uicc_cmd_fetch(uicc_card *c, const uicc_command *cmd, uint8_t *out, size_t *out_len);
uint16_t uicc_cmd_terminal_response(uicc_card *c, const uicc_command *cmd, uint8_t *out, size_t *out_len);
/* Queues REFRESH "NAA initialisation and file change notification" of EF_IMSI, if the terminal
 * announced REFRESH in its profile; 0 queued, 1 not announced, -1 it could not be built. */
int uicc_toolkit_refresh_imsi(uicc_card *c);
/* The status word that ends a command: 91XX instead of 9000 while a command waits for FETCH. */
uint16_t uicc_toolkit_sw(const uicc_card *c, uint16_t sw);

/* ---- Alternative 3b (docs/uicc.md, "Re-credentialing by the new operator") --------------- */
/* identity.c: GET DATA, the card's certificate from the offset in P1 P2 */
uint16_t uicc_cmd_get_data(uicc_card *c, const uicc_command *cmd, uint8_t *out, size_t *out_len);
/* Whether the card has an identity to use: a certificate, a trust store and its key. */
int uicc_identity_usable(const uicc_card *c);
/* challenge.c: GET CHALLENGE; a credential blob must carry the outstanding nonce, once */
uint16_t uicc_cmd_get_challenge(uicc_card *c, const uicc_command *cmd, uint8_t *out, size_t *out_len);
/* SW_OK and the challenge used up when nonce is the outstanding one; else 6984, nothing changed. */
uint16_t uicc_challenge_use(uicc_card *c, const uint8_t nonce[UICC_CHALLENGE_LEN]);
/* store_data.c: STORE DATA, a chain of blocks making one credential blob */
uint16_t uicc_cmd_store_data(uicc_card *c, const uicc_command *cmd, uint8_t *out, size_t *out_len);
/* credential.c: opens and checks a whole blob; on SW_OK its credentials are the loaded shadow
 * and the challenge is used up. The refusals' status words are in docs/uicc.md. */
uint16_t uicc_credential_install(uicc_card *c, const uint8_t *blob, size_t len);
/* shadow.c: SWITCH, COMMIT, ROLLBACK */
uint16_t uicc_cmd_switch(uicc_card *c, const uicc_command *cmd, uint8_t *out, size_t *out_len);
uint16_t uicc_cmd_commit(uicc_card *c, const uicc_command *cmd, uint8_t *out, size_t *out_len);
uint16_t uicc_cmd_rollback(uicc_card *c, const uicc_command *cmd, uint8_t *out, size_t *out_len);

#endif
