/*
 * The card's file tree (TS 102 221 §8, §13; TS 31.102 §4.2) and the rules by which a command
 * finds a file: by file identifier from the current DF (TS 102 221 §8.4.1), by path from the
 * MF, by application identifier (full or partial, §8.5), or by short file identifier.
 */
#ifndef UICC_FS_H
#define UICC_FS_H

#include <stddef.h>
#include <stdint.h>

/* Files by index; the order is the tree's, each file after its parent. */
enum uicc_file_index {
	UICC_MF,
	UICC_EF_ICCID,
	UICC_EF_DIR,
	UICC_ADF_USIM,
	UICC_EF_IMSI,
	UICC_EF_KEYS,
	UICC_EF_AD,
	UICC_EF_LOCI,
	UICC_EF_PSLOCI,
	UICC_FILE_COUNT
};

#define UICC_EF_MAX 64          /* the largest EF of the tree, rounded up */
#define UICC_FID_MF 0x3F00
#define UICC_FID_CURRENT_ADF 0x7FFF  /* TS 102 221 §8.3: the ADF of the active application */
#define UICC_AID_LEN 16
#define UICC_AID_MIN 5               /* a partial AID holds at least the RID (TS 101 220 §4) */

typedef enum uicc_file_type {
	UICC_DF,                   /* the MF or an ADF */
	UICC_EF_TRANSPARENT,
	UICC_EF_LINEAR_FIXED,
} uicc_file_type;

/* Who may update a file. Reading is always allowed (see docs/uicc.md on PIN). */
typedef enum uicc_access { UICC_ALWAYS, UICC_ADM } uicc_access;

typedef struct uicc_file {
	const char *name;      /* "EF_IMSI": also its key in the database */
	uint16_t fid;          /* 0 for the ADF, which is selected by AID or 7FFF */
	uint8_t sfi;           /* short file identifier, 0 if none */
	uicc_file_type type;
	int parent;            /* index, -1 for the MF */
	uint16_t size;         /* bytes; for a linear fixed EF record_len * records */
	uint8_t record_len;
	uicc_access update;
} uicc_file;

extern const uint8_t uicc_usim_aid[UICC_AID_LEN];

const uicc_file *uicc_file_at(int index);
/* Index of the file called name, or -1. */
int uicc_fs_by_name(const char *name);
/* Index found by fid from the current DF df, or -1; 7FFF only when app_active. */
int uicc_fs_by_fid(int df, uint16_t fid, int app_active);
/* Index found by a path from the MF (the MF's own identifier left out), or -1. */
int uicc_fs_by_path(const uint8_t *path, size_t len, int app_active);
/* The ADF whose AID begins with the len bytes of aid, or -1. */
int uicc_fs_by_aid(const uint8_t *aid, size_t len);
/* The EF of the current DF with that short file identifier, or -1. */
int uicc_fs_by_sfi(int df, uint8_t sfi);
int uicc_fs_is_ef(int index);

/* The FCP template (tag 62) SELECT returns with P2 = 04; returns its length (< 64). */
size_t uicc_fs_fcp(int index, uint8_t *out);
/* The content every EF has on a newly formatted card (before personalisation). */
void uicc_fs_format(uint8_t ef[UICC_FILE_COUNT][UICC_EF_MAX]);

#endif
