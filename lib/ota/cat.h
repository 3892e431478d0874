/*
 * The proactive UICC (TS 102 223, TS 31.111) as far as the change of IMSI needs it: the card
 * announces a pending command with status word 91XX, the ME fetches it (FETCH, 80 12 00 00 XX),
 * performs it and reports with TERMINAL RESPONSE (80 14 00 00). The ME tells the card what it
 * supports at power-on with TERMINAL PROFILE (80 10 00 00).
 */
#ifndef M2M_OTA_CAT_H
#define M2M_OTA_CAT_H

#include <stddef.h>
#include <stdint.h>

enum { M2M_CAT_CMD_REFRESH = 0x01 };

/* REFRESH command qualifiers (TS 102 223 §8.6). */
enum {
	M2M_CAT_REFRESH_INIT_FULL_FCN = 0x00,  /* NAA initialisation and full file change notification */
	M2M_CAT_REFRESH_FCN = 0x01,            /* file change notification */
	M2M_CAT_REFRESH_INIT_FCN = 0x02,       /* NAA initialisation and file change notification */
	M2M_CAT_REFRESH_INIT = 0x03,           /* NAA initialisation */
	M2M_CAT_REFRESH_UICC_RESET = 0x04,
};

/* General results (TS 102 223 §8.12). */
enum {
	M2M_CAT_RESULT_OK = 0x00,
	M2M_CAT_RESULT_OK_ADDITIONAL_EFS_READ = 0x03,
	M2M_CAT_RESULT_UNABLE_NOW = 0x20,          /* terminal currently unable to process */
	M2M_CAT_RESULT_BEYOND_CAPABILITIES = 0x30,
};

#define M2M_CAT_FILES_MAX 64

/* A proactive command: command details (tag 81), device identities (82), file list (92). */
typedef struct m2m_cat_command {
	uint8_t number, type, qualifier;
	uint8_t files[M2M_CAT_FILES_MAX];  /* the file list's value: count, then full paths */
	size_t files_len;                  /* 0: no file list */
} m2m_cat_command;

/* D0 {81 03 number type qualifier, 82 02 81 82, [92 files]}. Parse accepts the tags with or
 * without the comprehension-required bit (01/81, 02/82, 12/92) and skips unknown ones. */
int m2m_cat_command_build(const m2m_cat_command *c, uint8_t *out, size_t cap, size_t *out_len);
int m2m_cat_command_parse(const uint8_t *in, size_t len, m2m_cat_command *c);

/* {81 03 (the command's details), 82 02 82 81, 83 01 result}. */
int m2m_cat_terminal_response_build(const m2m_cat_command *c, uint8_t result, uint8_t *out, size_t cap,
				    size_t *out_len);
int m2m_cat_terminal_response_parse(const uint8_t *in, size_t len, m2m_cat_command *c, uint8_t *result);

/* Whether a TERMINAL PROFILE announces a facility (TS 102 223 §5.2): byte 1.., bit 1..8. */
int m2m_cat_profile_has(const uint8_t *profile, size_t len, int byte, int bit);
#define M2M_CAT_PROFILE_SMS_PP_DOWNLOAD 1, 2
#define M2M_CAT_PROFILE_REFRESH 3, 8
/*
 * The profile this project's M2ME sends (03 01 80): profile download and SMS-PP data download
 * (byte 1), command result (byte 2 b1), REFRESH (byte 3 b8). FETCH has no bit of its own.
 */
extern const uint8_t m2m_cat_me_profile[];
extern const size_t m2m_cat_me_profile_len;

#endif
