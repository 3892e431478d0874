/* The file tree and how files are found in it (fs.h). */
#include "fs.h"

#include <string.h>

/* TS 101 220 Annex E: RID A000000087 (3GPP), application code 1002 (USIM), then the country
 * code FF FF, the application provider FF FF 89 and provider data 07 09 00 00. */
const uint8_t uicc_usim_aid[UICC_AID_LEN] = {0xA0, 0x00, 0x00, 0x00, 0x87, 0x10, 0x02, 0xFF,
					     0xFF, 0xFF, 0xFF, 0x89, 0x07, 0x09, 0x00, 0x00};

/* Sizes and short file identifiers: TS 102 221 §13.1-13.2 (EF_DIR, EF_ICCID) and TS 31.102
 * §4.2 (EF_IMSI 4.2.2, EF_KEYS 4.2.4, EF_LOCI 4.2.17, EF_AD 4.2.18, EF_PSLOCI 4.2.23). EF_AD is
 * 3 + X bytes; X = 1 holds the MNC length, the only extra byte a terminal needs. */
static const uicc_file files[UICC_FILE_COUNT] = {
	[UICC_MF] = {"MF", UICC_FID_MF, 0, UICC_DF, -1, 0, 0, UICC_ADM},
	[UICC_EF_ICCID] = {"EF_ICCID", 0x2FE2, 0x02, UICC_EF_TRANSPARENT, UICC_MF, 10, 0, UICC_ADM},
	[UICC_EF_DIR] = {"EF_DIR", 0x2F00, 0x1E, UICC_EF_LINEAR_FIXED, UICC_MF, 32, 32, UICC_ADM},
	[UICC_ADF_USIM] = {"ADF.USIM", 0, 0, UICC_DF, UICC_MF, 0, 0, UICC_ADM},
	[UICC_EF_IMSI] = {"EF_IMSI", 0x6F07, 0x07, UICC_EF_TRANSPARENT, UICC_ADF_USIM, 9, 0, UICC_ADM},
	[UICC_EF_KEYS] = {"EF_KEYS", 0x6F08, 0x08, UICC_EF_TRANSPARENT, UICC_ADF_USIM, 33, 0, UICC_ALWAYS},
	[UICC_EF_AD] = {"EF_AD", 0x6FAD, 0x03, UICC_EF_TRANSPARENT, UICC_ADF_USIM, 4, 0, UICC_ADM},
	[UICC_EF_LOCI] = {"EF_LOCI", 0x6F7E, 0x0B, UICC_EF_TRANSPARENT, UICC_ADF_USIM, 11, 0, UICC_ALWAYS},
	[UICC_EF_PSLOCI] = {"EF_PSLOCI", 0x6F73, 0x0C, UICC_EF_TRANSPARENT, UICC_ADF_USIM, 14, 0, UICC_ALWAYS},
};

const uicc_file *uicc_file_at(int index)
{
	return index >= 0 && index < UICC_FILE_COUNT ? &files[index] : NULL;
}

int uicc_fs_is_ef(int index)
{
	return index >= 0 && index < UICC_FILE_COUNT && files[index].type != UICC_DF;
}

int uicc_fs_by_name(const char *name)
{
	for (int i = 0; i < UICC_FILE_COUNT; i++)
		if (!strcmp(files[i].name, name))
			return i;
	return -1;
}

static int child(int df, uint16_t fid)
{
	for (int i = 0; i < UICC_FILE_COUNT; i++)
		if (files[i].parent == df && files[i].fid == fid && fid)
			return i;
	return -1;
}

/* TS 102 221 §8.4.1: from the current DF a file identifier reaches the MF, the current ADF
 * (7FFF), the current DF's children, its parent, and the DFs beside it. */
int uicc_fs_by_fid(int df, uint16_t fid, int app_active)
{
	if (fid == UICC_FID_MF)
		return UICC_MF;
	if (fid == UICC_FID_CURRENT_ADF)
		return app_active ? UICC_ADF_USIM : -1;
	int parent = files[df].parent;
	for (int i = 0; i < UICC_FILE_COUNT; i++) {
		if (files[i].fid != fid || !fid)
			continue;
		if (files[i].parent == df || i == parent ||
		    (files[i].type == UICC_DF && parent >= 0 && files[i].parent == parent))
			return i;
	}
	return -1;
}

/* Each identifier must name a child of the file before it; the first may be 7FFF. */
int uicc_fs_by_path(const uint8_t *path, size_t len, int app_active)
{
	int at = UICC_MF;
	if (len == 0 || len % 2)
		return -1;
	for (size_t k = 0; k < len; k += 2) {
		uint16_t fid = (uint16_t)(path[k] << 8 | path[k + 1]);
		if (files[at].type != UICC_DF)
			return -1;
		if (k == 0 && fid == UICC_FID_CURRENT_ADF)
			at = app_active ? UICC_ADF_USIM : -1;
		else
			at = child(at, fid);
		if (at < 0)
			return -1;
	}
	return at;
}

int uicc_fs_by_aid(const uint8_t *aid, size_t len)
{
	if (len < UICC_AID_MIN || len > UICC_AID_LEN || memcmp(aid, uicc_usim_aid, len))
		return -1;
	return UICC_ADF_USIM;
}

int uicc_fs_by_sfi(int df, uint8_t sfi)
{
	for (int i = 0; i < UICC_FILE_COUNT; i++)
		if (files[i].parent == df && files[i].sfi == sfi && sfi && files[i].type != UICC_DF)
			return i;
	return -1;
}

/* ---- FCP template (TS 102 221 §11.1.1.3) ------------------------------------------------ */

static size_t tlv(uint8_t *out, uint8_t tag, const uint8_t *value, size_t len)
{
	out[0] = tag;
	out[1] = (uint8_t)len;
	memcpy(out + 2, value, len);
	return 2 + len;
}

/* Tag 82: file descriptor byte (78 DF, 41 transparent EF, 42 linear fixed EF, all shareable),
 * data coding byte 21, and for a record file the record length and number of records. */
static size_t descriptor(const uicc_file *f, uint8_t *out)
{
	uint8_t d[5] = {0x78, 0x21};
	size_t n = 2;
	if (f->type == UICC_EF_TRANSPARENT)
		d[0] = 0x41;
	if (f->type == UICC_EF_LINEAR_FIXED) {
		d[0] = 0x42;
		d[2] = 0;
		d[3] = f->record_len;
		d[4] = (uint8_t)(f->size / f->record_len);
		n = 5;
	}
	return tlv(out, 0x82, d, n);
}

/* 82 descriptor, 83 file identifier (84 DF name for the ADF, which has none of its own),
 * 8A life cycle status 05 (operational, activated), 80 file size for an EF. The security
 * attributes and the PIN status template are left out: docs/uicc.md says why. */
size_t uicc_fs_fcp(int index, uint8_t *out)
{
	const uicc_file *f = &files[index];
	static const uint8_t activated = 0x05;
	uint8_t *p = out + 2;
	p += descriptor(f, p);
	if (index == UICC_ADF_USIM)
		p += tlv(p, 0x84, uicc_usim_aid, UICC_AID_LEN);
	else
		p += tlv(p, 0x83, (const uint8_t[]){(uint8_t)(f->fid >> 8), (uint8_t)f->fid}, 2);
	p += tlv(p, 0x8A, &activated, 1);
	if (f->type != UICC_DF)
		p += tlv(p, 0x80, (const uint8_t[]){(uint8_t)(f->size >> 8), (uint8_t)f->size}, 2);
	out[0] = 0x62;
	out[1] = (uint8_t)(p - out - 2);
	return (size_t)(p - out);
}

/* ---- a freshly formatted card ----------------------------------------------------------- */

/* EF_DIR record 1 (TS 102 221 §13.1): application template 61 { 4F AID, 50 label }. */
static void format_dir(uint8_t *record)
{
	static const char label[] = "USIM";
	size_t n = 0;
	record[n++] = 0x61;
	record[n++] = 2 + UICC_AID_LEN + 2 + (uint8_t)strlen(label);
	n += tlv(record + n, 0x4F, uicc_usim_aid, UICC_AID_LEN);
	tlv(record + n, 0x50, (const uint8_t *)label, strlen(label));
}

/* 'FF' is the erased state of every byte; the rest are the values TS 31.102 gives a terminal
 * that has not yet registered: no key set (KSI 07, §4.2.4), location and routing area "not
 * updated" (status 01) with the LAC FFFE that marks a deleted LAI (TS 24.008 §10.5.1.3). */
void uicc_fs_format(uint8_t ef[UICC_FILE_COUNT][UICC_EF_MAX])
{
	memset(ef, 0xFF, (size_t)UICC_FILE_COUNT * UICC_EF_MAX);
	format_dir(ef[UICC_EF_DIR]);
	ef[UICC_EF_KEYS][0] = 0x07;
	memcpy(ef[UICC_EF_AD], (const uint8_t[]){0x00, 0x00, 0x00, 0x02}, 4);  /* normal operation */
	ef[UICC_EF_LOCI][8] = 0xFE;
	ef[UICC_EF_LOCI][10] = 0x01;
	ef[UICC_EF_PSLOCI][11] = 0xFE;
	ef[UICC_EF_PSLOCI][13] = 0x01;
}
