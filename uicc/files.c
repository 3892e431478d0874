/*
 * The file commands of TS 102 221 §11.1: SELECT, STATUS, READ BINARY, UPDATE BINARY and
 * READ RECORD.
 */
#include "commands.h"

#include <string.h>

enum {
	SELECT_BY_FID = 0x00,      /* P1: MF, DF or EF by file identifier */
	SELECT_BY_DF_NAME = 0x04,  /* P1: an application by its AID */
	SELECT_BY_PATH = 0x08,     /* P1: path from the MF */
	RETURN_FCP = 0x04,         /* P2 of SELECT */
	NO_DATA = 0x0C,            /* P2 of SELECT and STATUS */
	STATUS_FCP = 0x00,         /* P2 of STATUS: the FCP of the current DF */
	STATUS_DF_NAME = 0x01,     /* P2 of STATUS: the AID of the current application */
	READ_RECORD_ABSOLUTE = 0x04,
	SFI_IN_P1 = 0x80,          /* READ/UPDATE BINARY: P1 b8 set, b5-b1 a short file identifier */
};

static void make_current(uicc_session *s, int index)
{
	if (uicc_fs_is_ef(index)) {
		s->ef = index;
		s->df = uicc_file_at(index)->parent;
	} else {
		s->df = index;
		s->ef = -1;
	}
}

static uint16_t select_target(const uicc_card *c, const uicc_command *cmd, int *index)
{
	const uicc_session *s = &c->st.s;
	switch (cmd->p1) {
	case SELECT_BY_FID:
		if (cmd->lc != 2)
			return SW_WRONG_LENGTH;
		*index = uicc_fs_by_fid(s->df, (uint16_t)(cmd->data[0] << 8 | cmd->data[1]), s->app_active);
		break;
	case SELECT_BY_DF_NAME:
		if (cmd->lc > UICC_AID_LEN)
			return SW_WRONG_LENGTH;
		*index = uicc_fs_by_aid(cmd->data, cmd->lc);
		break;
	case SELECT_BY_PATH:
		if (cmd->lc % 2)
			return SW_WRONG_LENGTH;
		*index = uicc_fs_by_path(cmd->data, cmd->lc, s->app_active);
		break;
	default:
		return SW_WRONG_P1P2;
	}
	return *index < 0 ? SW_FILE_NOT_FOUND : SW_OK;
}

uint16_t uicc_cmd_select(uicc_card *c, const uicc_command *cmd, uint8_t *out, size_t *out_len)
{
	int index = -1;
	if (cmd->p2 != RETURN_FCP && cmd->p2 != NO_DATA)
		return SW_WRONG_P1P2;
	uint16_t sw = select_target(c, cmd, &index);
	if (sw != SW_OK)
		return sw;
	make_current(&c->st.s, index);
	/* selecting the application by its AID is what activates it (TS 102 221 §8.5.2) */
	if (cmd->p1 == SELECT_BY_DF_NAME)
		c->st.s.app_active = 1;
	if (cmd->p2 == RETURN_FCP)
		*out_len = uicc_fs_fcp(index, out);
	return SW_OK;
}

/* P1 (00, 01, 02) only tells the card what the terminal is doing with the application. */
uint16_t uicc_cmd_status(uicc_card *c, const uicc_command *cmd, uint8_t *out, size_t *out_len)
{
	if (cmd->p1 > 0x02)
		return SW_WRONG_P1P2;
	switch (cmd->p2) {
	case STATUS_FCP:
		*out_len = uicc_fs_fcp(c->st.s.df, out);
		return SW_OK;
	case STATUS_DF_NAME:
		if (!c->st.s.app_active)
			return SW_CONDITIONS_NOT_SATISFIED;
		out[0] = 0x84;
		out[1] = UICC_AID_LEN;
		memcpy(out + 2, uicc_usim_aid, UICC_AID_LEN);
		*out_len = 2 + UICC_AID_LEN;
		return SW_OK;
	case NO_DATA:
		return SW_OK;
	default:
		return SW_WRONG_P1P2;
	}
}

/* The EF a command acts on: the one named by a short file identifier, which then becomes the
 * current EF (TS 102 221 §11.1.3), or else the current EF. */
static uint16_t target_ef(uicc_card *c, int by_sfi, uint8_t sfi, uicc_file_type type, int *index)
{
	uicc_session *s = &c->st.s;
	if (by_sfi) {
		*index = uicc_fs_by_sfi(s->df, sfi);
		if (*index < 0)
			return SW_FILE_NOT_FOUND;
		s->ef = *index;
	} else if (s->ef < 0) {
		return SW_NO_EF_SELECTED;
	} else {
		*index = s->ef;
	}
	return uicc_file_at(*index)->type == type ? SW_OK : SW_INCOMPATIBLE_FILE;
}

/* P1 b8 clear: the offset is P1 b7-b1 || P2; set: an SFI in P1 b5-b1 (b7-b6 zero), offset P2. */
static uint16_t binary_target(uicc_card *c, const uicc_command *cmd, int *index, size_t *offset)
{
	int by_sfi = (cmd->p1 & SFI_IN_P1) != 0;
	if (by_sfi && (cmd->p1 & 0x60))
		return SW_WRONG_P1P2;
	*offset = by_sfi ? cmd->p2 : (size_t)(cmd->p1 << 8 | cmd->p2);
	return target_ef(c, by_sfi, cmd->p1 & 0x1F, UICC_EF_TRANSPARENT, index);
}

/* Le = 00 reads what there is from the offset (at most 256 bytes); any other Le past the end
 * is answered 6CXX with the length that can be read (ISO 7816-3 §10.3.4). */
uint16_t uicc_read_bytes(const uint8_t *src, size_t size, size_t offset, size_t ne, uint8_t *out, size_t *out_len)
{
	if (offset >= size)
		return SW_WRONG_OFFSET;
	size_t n = ne;
	if (n > size - offset) {
		if (n != 256)
			return (uint16_t)(SW_WRONG_LE | (size - offset));
		n = size - offset;
	}
	memcpy(out, src + offset, n);
	*out_len = n;
	return SW_OK;
}

uint16_t uicc_cmd_read_binary(uicc_card *c, const uicc_command *cmd, uint8_t *out, size_t *out_len)
{
	int index;
	size_t offset;
	uint16_t sw = binary_target(c, cmd, &index, &offset);
	if (sw != SW_OK)
		return sw;
	return uicc_read_bytes(c->st.ef[index], uicc_file_at(index)->size, offset, cmd->ne, out, out_len);
}

uint16_t uicc_cmd_update_binary(uicc_card *c, const uicc_command *cmd, uint8_t *out, size_t *out_len)
{
	int index;
	size_t offset;
	uint16_t sw = binary_target(c, cmd, &index, &offset);
	if (sw != SW_OK)
		return sw;
	const uicc_file *f = uicc_file_at(index);
	if (!uicc_access_granted(c, f->update))
		return SW_SECURITY_NOT_SATISFIED;
	if (offset >= f->size)
		return SW_WRONG_OFFSET;
	if (cmd->lc > f->size - offset)
		return SW_WRONG_LENGTH;
	memcpy(c->st.ef[index] + offset, cmd->data, cmd->lc);
	return SW_OK;
}

/* Absolute mode only (P2 b3-b1 = 100), P1 the record number; P2 b8-b4 an SFI or 0 for the
 * current EF. Le is the record length or 00 (TS 102 221 §11.1.5). */
uint16_t uicc_cmd_read_record(uicc_card *c, const uicc_command *cmd, uint8_t *out, size_t *out_len)
{
	int index;
	if ((cmd->p2 & 0x07) != READ_RECORD_ABSOLUTE)
		return SW_WRONG_P1P2;
	uint8_t sfi = cmd->p2 >> 3;
	uint16_t sw = target_ef(c, sfi != 0, sfi, UICC_EF_LINEAR_FIXED, &index);
	if (sw != SW_OK)
		return sw;
	const uicc_file *f = uicc_file_at(index);
	if (cmd->p1 == 0 || cmd->p1 > f->size / f->record_len)
		return SW_RECORD_NOT_FOUND;
	if (cmd->ne != 256 && cmd->ne != f->record_len)
		return (uint16_t)(SW_WRONG_LE | f->record_len);
	memcpy(out, c->st.ef[index] + (size_t)(cmd->p1 - 1) * f->record_len, f->record_len);
	*out_len = f->record_len;
	return SW_OK;
}
