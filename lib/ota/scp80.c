/*
 * SCP80 command and response packets (scp80.h): their layout, padding, checksum and ciphering.
 *
 * What the checksum covers (TS 102 225 §5.1, TS 31.115 §4; settled by osmocom pySim's vectors of
 * real cards, see test_scp80.c): for a command packet, CPL, CHL, SPI, KIc, KID, TAR, CNTR, PCNTR
 * and the secured data with its padding, not the SMS user data header; for a response packet,
 * the header 02 71 00 (UDHL, response packet identifier IEI 71, its length 0) and then RPL, RHL,
 * TAR, CNTR, PCNTR, status and the data with its padding. The checksum field itself is left out.
 */
#include "ota/scp80.h"

#include "crypto/crypto.h"
#include "ota/scp80_crypto.h"

#include <stdio.h>
#include <string.h>

#define CMD_CLEAR 10      /* CPL(2) CHL SPI(2) KIc KID TAR(3): never ciphered */
#define CMD_SUM_AT 16     /* ... CNTR(5) PCNTR: where the checksum starts */
#define CMD_CHL_BASE 13   /* CHL without the checksum: SPI KIc KID TAR CNTR PCNTR */
#define RSP_CLEAR 6       /* RPL(2) RHL TAR(3) */
#define RSP_SUM_AT 13     /* ... CNTR(5) PCNTR status */
#define RSP_RHL_BASE 10   /* RHL without the checksum: TAR CNTR PCNTR status */

static const uint8_t por_udh[] = {0x02, 0x71, 0x00};

/* How a packet is laid out around its checksum: shared by commands and responses. */
typedef struct layout {
	const char *what;
	const uint8_t *prefix;  /* checksummed before the packet, not part of it */
	size_t prefix_len;
	size_t clear;           /* bytes before the ciphered part */
	size_t pcntr_at;
	size_t sum_at;          /* where the checksum sits */
	uint8_t hl_base;        /* CHL/RHL without the checksum */
} layout;

static const layout cmd_layout = {"command", NULL, 0, CMD_CLEAR, 15, CMD_SUM_AT, CMD_CHL_BASE};
static const layout rsp_layout = {"response", por_udh, sizeof por_udh, RSP_CLEAR, 11, RSP_SUM_AT, RSP_RHL_BASE};

/* The sizes of a packet to build. */
typedef struct frame {
	m2m_ota_check check;
	int ciphered;
	size_t sum, pcntr, total;
} frame;

static void put_be(uint8_t *out, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		out[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static uint64_t get_be(const uint8_t *in, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | in[i];
	return v;
}

/* The checksum's length for an SPI check, or -1 (digital signatures are not supported). */
static int sum_len(m2m_ota_check check)
{
	static const int lens[] = {0, M2M_OTA_RC_LEN, M2M_OTA_CC_LEN, -1};
	return lens[check & 3];
}

static size_t padding(size_t n, size_t block)
{
	return block > 1 ? (block - n % block) % block : 0;
}

void m2m_ota_spi_encode(const m2m_ota_spi *spi, uint8_t out[2])
{
	out[0] = (uint8_t)((spi->check & 3) | (spi->ciphered ? 0x04 : 0) | (spi->counter & 3) << 3);
	out[1] = (uint8_t)((spi->por & 3) | (spi->por_check & 3) << 2 | (spi->por_ciphered ? 0x10 : 0) |
			   (spi->por_in_submit ? 0x20 : 0));
}

int m2m_ota_spi_decode(const uint8_t in[2], m2m_ota_spi *spi)
{
	if ((in[0] & 0xE0) || (in[1] & 0xC0) || (in[1] & 3) == 3)
		return -1;
	spi->check = (m2m_ota_check)(in[0] & 3);
	spi->ciphered = !!(in[0] & 0x04);
	spi->counter = (m2m_ota_counter_mode)(in[0] >> 3 & 3);
	spi->por = (m2m_ota_por_mode)(in[1] & 3);
	spi->por_check = (m2m_ota_check)(in[1] >> 2 & 3);
	spi->por_ciphered = !!(in[1] & 0x10);
	spi->por_in_submit = !!(in[1] & 0x20);
	return 0;
}

/* RC < CC < DS and "higher" < "one higher" rank as their codes do: stricter is larger. */
int m2m_ota_spi_meets(const m2m_ota_spi *spi, uint8_t msl)
{
	return (int)spi->check >= (msl & 3) && (spi->ciphered || !(msl & 0x04)) &&
	       (int)spi->counter >= (msl >> 3 & 3);
}

int m2m_ota_key_valid(const m2m_ota_key *k, int for_kid)
{
	switch (k->alg) {
	case 0x5:
		return k->len == 16 ? 0 : -1;
	case 0x9:
		return k->len == 24 ? 0 : -1;
	case 0x2:  /* KIc AES-CBC, KID AES-CMAC: the same code in both bytes */
		return k->len == 16 || k->len == 24 || k->len == 32 ? 0 : -1;
	default:   /* 0: known implicitly, 1 and D: single DES, others reserved */
		return -1;
	}
}

const char *m2m_ota_alg_name(uint8_t key_byte, int is_kid, m2m_ota_check check)
{
	static const char *const cipher[16] = {
		[0x0] = "known implicitly (not supported)", [0x1] = "DES-CBC (not supported)", [0x2] = "AES-CBC",
		[0x5] = "3DES-CBC, 2 keys", [0x9] = "3DES-CBC, 3 keys",
	};
	static const char *const cc[16] = {
		[0x0] = "known implicitly (not supported)", [0x1] = "DES CBC-MAC (not supported)", [0x2] = "AES-CMAC",
		[0x5] = "3DES CBC-MAC, 2 keys", [0x9] = "3DES CBC-MAC, 3 keys", [0xD] = "DES-ECB (not supported)",
	};
	static const char *const rc[16] = {
		[0x0] = "known implicitly (not supported)", [0x1] = "CRC-16 (not supported)", [0x5] = "CRC-32",
	};
	const char *const *table = !is_kid ? cipher : check == M2M_OTA_CHECK_RC ? rc : cc;
	const char *name = table[key_byte & 15];
	return name ? name : "reserved (not supported)";
}

const char *m2m_ota_status_name(int status)
{
	static const char *const names[] = {
		"PoR OK", "RC/CC/DS failed", "CNTR low", "CNTR high", "CNTR blocked", "ciphering error",
		"unidentified security error", "insufficient memory", "more time needed", "TAR unknown",
		"insufficient security level", "response data in SMS-SUBMIT", "response data in USSD",
	};
	return status >= 0 && status < (int)(sizeof names / sizeof *names) ? names[status] : "reserved";
}

/* The checksum over prefix || pkt without the checksum field (len bytes at l->sum_at). */
static int checksum(m2m_ota_check check, const m2m_ota_key *kid, const layout *l, const uint8_t *pkt,
		    size_t total, size_t len, uint8_t out[M2M_OTA_CC_LEN])
{
	uint8_t in[8 + M2M_OTA_PACKET_MAX];
	size_t n = l->prefix_len + total - len;
	if (total > M2M_OTA_PACKET_MAX || total < l->sum_at + len)
		return -1;
	if (l->prefix_len)
		memcpy(in, l->prefix, l->prefix_len);
	memcpy(in + l->prefix_len, pkt, l->sum_at);
	memcpy(in + l->prefix_len + l->sum_at, pkt + l->sum_at + len, total - l->sum_at - len);
	if (check == M2M_OTA_CHECK_RC) {
		m2m_ota_crc32(in, n, out);
		return 0;
	}
	return m2m_ota_cc(kid, in, n, out);
}

/* Writes the checksum into a packet laid out in clear, then ciphers it as asked. */
static int seal(uint8_t *pkt, size_t total, const layout *l, m2m_ota_check check, int ciphered,
		const m2m_ota_keyset *ks)
{
	int n = sum_len(check);
	uint8_t sum[M2M_OTA_CC_LEN];
	if (n < 0 || (n > 0 && checksum(check, ks ? &ks->kid : NULL, l, pkt, total, (size_t)n, sum) != 0))
		return -1;
	memcpy(pkt + l->sum_at, sum, (size_t)n);
	m2m_wipe(sum, sizeof sum);
	return ciphered ? m2m_ota_cipher(&ks->kic, 0, 1, pkt + l->clear, total - l->clear, pkt + l->clear) : 0;
}

/* Deciphers a packet in place and checks its checksum: the status a card answers. */
static m2m_ota_status unseal(uint8_t *pkt, size_t total, const layout *l, m2m_ota_check check, int ciphered,
			     const m2m_ota_keyset *ks)
{
	int n = sum_len(check);
	uint8_t sum[M2M_OTA_CC_LEN];
	if (ciphered && ((total - l->clear) % m2m_ota_block_size(ks->kic.alg) != 0 ||
			 m2m_ota_cipher(&ks->kic, 0, 0, pkt + l->clear, total - l->clear, pkt + l->clear) != 0))
		return M2M_OTA_CIPHERING_ERROR;
	if (n <= 0)
		return M2M_OTA_POR_OK;
	if (checksum(check, ks ? &ks->kid : NULL, l, pkt, total, (size_t)n, sum) != 0)
		return M2M_OTA_SECURITY_ERROR;
	return m2m_ct_compare(sum, pkt + l->sum_at, (size_t)n) == 0 ? M2M_OTA_POR_OK : M2M_OTA_CHECK_FAILED;
}

/* Whether ks has the keys an SPI's check and ciphering need: NULL, or what is missing. */
static const char *keys_missing(m2m_ota_check check, int ciphered, const m2m_ota_keyset *ks)
{
	if (sum_len(check) < 0)
		return "digital signatures (DS) are not supported";
	if (check == M2M_OTA_CHECK_CC && (!ks || m2m_ota_key_valid(&ks->kid, 1) != 0))
		return "the cryptographic checksum needs a 3DES or AES KID key";
	if (ciphered && (!ks || m2m_ota_key_valid(&ks->kic, 0) != 0))
		return "ciphering needs a 3DES or AES KIc key";
	return NULL;
}

/* KIc and KID bytes: key version in b5-b8, algorithm in b1-b4 (CRC-32 for a redundancy check). */
static void key_bytes(const m2m_ota_spi *spi, const m2m_ota_keyset *ks, uint8_t *kic, uint8_t *kid)
{
	uint8_t kvn = ks ? (uint8_t)(ks->kvn << 4) : 0;
	*kic = ks ? (uint8_t)(kvn | (ks->kic.alg & 15)) : 0;
	*kid = spi->check == M2M_OTA_CHECK_RC ? (uint8_t)(kvn | M2M_OTA_KID_CRC32)
					      : ks ? (uint8_t)(kvn | (ks->kid.alg & 15)) : 0;
}

/*
 * Plans a packet of l's layout around len bytes of data: its checksum, padding and length.
 * 0, or -1 with err (keys missing for the protection, too long for cap).
 */
static int frame_plan(const layout *l, m2m_ota_check check, int ciphered, const m2m_ota_keyset *ks, size_t len,
		      size_t cap, frame *f, char *err, size_t errlen)
{
	const char *missing = keys_missing(check, ciphered, ks);
	if (missing) {
		snprintf(err, errlen, "%s", missing);
		return -1;
	}
	f->check = check;
	f->ciphered = ciphered;
	f->sum = (size_t)sum_len(check);
	f->pcntr = padding(l->sum_at - l->clear + f->sum + len, ciphered ? m2m_ota_block_size(ks->kic.alg) : 1);
	f->total = l->sum_at + f->sum + len + f->pcntr;
	if (len > M2M_OTA_PACKET_MAX || f->total > M2M_OTA_PACKET_MAX || f->total > cap) {
		snprintf(err, errlen, "the %s needs %zu bytes, more than %zu", l->what, l->sum_at + f->sum + len,
			 cap < M2M_OTA_PACKET_MAX ? cap : M2M_OTA_PACKET_MAX);
		return -1;
	}
	return 0;
}

/* Writes the lengths, PCNTR, data and padding around the fields the caller wrote, then protects it. */
static int frame_finish(uint8_t *out, const layout *l, const frame *f, const m2m_ota_keyset *ks, const uint8_t *data,
			size_t len, char *err, size_t errlen)
{
	put_be(out, f->total - 2, 2);
	out[2] = (uint8_t)(l->hl_base + f->sum);
	out[l->pcntr_at] = (uint8_t)f->pcntr;
	if (len)
		memcpy(out + l->sum_at + f->sum, data, len);
	memset(out + l->sum_at + f->sum + len, 0, f->pcntr);
	if (seal(out, f->total, l, f->check, f->ciphered, ks) != 0) {
		snprintf(err, errlen, "OpenSSL failed to protect the %s", l->what);
		return -1;
	}
	return 0;
}

int m2m_ota_command_build(const m2m_ota_command *c, const m2m_ota_keyset *ks, uint8_t *out, size_t cap,
			  size_t *len, char *err, size_t errlen)
{
	frame f;
	if (c->counter > M2M_OTA_CNTR_MAX) {
		snprintf(err, errlen, "the counter has 40 bits");
		return -1;
	}
	if (frame_plan(&cmd_layout, c->spi.check, c->spi.ciphered, ks, c->len, cap, &f, err, errlen) != 0)
		return -1;
	m2m_ota_spi_encode(&c->spi, out + 3);
	key_bytes(&c->spi, ks, out + 5, out + 6);
	memcpy(out + 7, c->tar, M2M_OTA_TAR_LEN);
	put_be(out + 10, c->counter, M2M_OTA_CNTR_LEN);
	if (frame_finish(out, &cmd_layout, &f, ks, c->data, c->len, err, errlen) != 0)
		return -1;
	*len = f.total;
	return 0;
}

m2m_ota_status m2m_ota_command_header(const uint8_t *pkt, size_t len, m2m_ota_header *h)
{
	if (len < CMD_SUM_AT || len > M2M_OTA_PACKET_MAX)
		return M2M_OTA_SECURITY_ERROR;
	h->cpl = (uint16_t)get_be(pkt, 2);
	h->chl = pkt[2];
	memcpy(h->spi_raw, pkt + 3, 2);
	h->kic = pkt[5];
	h->kid = pkt[6];
	memcpy(h->tar, pkt + 7, M2M_OTA_TAR_LEN);
	/* CPL counts what follows it; CHL from SPI to the end of the checksum. */
	if (h->cpl != len - 2 || h->chl < CMD_CHL_BASE || (size_t)h->chl + 3 > len ||
	    m2m_ota_spi_decode(h->spi_raw, &h->spi) != 0)
		return M2M_OTA_SECURITY_ERROR;
	return M2M_OTA_POR_OK;
}

/* Whether the header's KIc/KID name the keyset's version and algorithms, as far as the SPI uses them. */
static int keys_match(const m2m_ota_header *h, const m2m_ota_keyset *ks)
{
	if (h->spi.ciphered && h->kic != (uint8_t)(ks->kvn << 4 | ks->kic.alg))
		return 0;
	if (h->spi.check == M2M_OTA_CHECK_CC && h->kid != (uint8_t)(ks->kvn << 4 | ks->kid.alg))
		return 0;
	/* A redundancy check other than CRC-32 (CRC-16, proprietary) is not supported. */
	return h->spi.check != M2M_OTA_CHECK_RC || (h->kid & 15) == M2M_OTA_KID_CRC32;
}

m2m_ota_status m2m_ota_command_open(const uint8_t *pkt, size_t len, const m2m_ota_keyset *ks, m2m_ota_command *c,
				    uint8_t *buf, size_t cap)
{
	m2m_ota_header h;
	m2m_ota_status st = m2m_ota_command_header(pkt, len, &h);
	if (st != M2M_OTA_POR_OK)
		return st;
	int sum = sum_len(h.spi.check);
	if (sum < 0 || h.chl != CMD_CHL_BASE + sum || keys_missing(h.spi.check, h.spi.ciphered, ks) ||
	    !keys_match(&h, ks))
		return M2M_OTA_SECURITY_ERROR;
	uint8_t clear[M2M_OTA_PACKET_MAX];
	memcpy(clear, pkt, len);
	st = unseal(clear, len, &cmd_layout, h.spi.check, h.spi.ciphered, ks);
	size_t data_len = len - CMD_SUM_AT - (size_t)sum, pcntr = clear[15];
	if (st == M2M_OTA_POR_OK && pcntr > data_len)
		st = h.spi.ciphered ? M2M_OTA_CIPHERING_ERROR : M2M_OTA_SECURITY_ERROR;
	if (st == M2M_OTA_POR_OK && data_len - pcntr > cap)
		st = M2M_OTA_NO_MEMORY;
	if (st == M2M_OTA_POR_OK) {
		c->spi = h.spi;
		memcpy(c->tar, h.tar, M2M_OTA_TAR_LEN);
		c->counter = get_be(clear + 10, M2M_OTA_CNTR_LEN);
		c->pcntr = (uint8_t)pcntr;
		c->len = data_len - pcntr;
		if (c->len)
			memcpy(buf, clear + CMD_SUM_AT + sum, c->len);
		c->data = buf;
	}
	m2m_wipe(clear, len);
	return st;
}

m2m_ota_status m2m_ota_counter_check(m2m_ota_counter_mode mode, uint64_t card, uint64_t got)
{
	if (mode != M2M_OTA_COUNTER_HIGHER && mode != M2M_OTA_COUNTER_ONE_HIGHER)
		return M2M_OTA_POR_OK;
	/* 40 bits do not wrap: a counter at its maximum admits no further packet. */
	if (card >= M2M_OTA_CNTR_MAX)
		return M2M_OTA_CNTR_BLOCKED;
	if (got <= card)
		return M2M_OTA_CNTR_LOW;
	if (got > M2M_OTA_CNTR_MAX || (mode == M2M_OTA_COUNTER_ONE_HIGHER && got != card + 1))
		return M2M_OTA_CNTR_HIGH;
	return M2M_OTA_POR_OK;
}

int m2m_ota_response_build(const m2m_ota_response *r, const m2m_ota_spi *spi, const m2m_ota_keyset *ks,
			   uint8_t *out, size_t cap, size_t *len, char *err, size_t errlen)
{
	frame f;
	/* Without a keyset: the unprotected PoR to a packet the card could not authenticate. */
	if (frame_plan(&rsp_layout, ks ? spi->por_check : M2M_OTA_CHECK_NONE, ks ? spi->por_ciphered : 0, ks, r->len,
		       cap, &f, err, errlen) != 0)
		return -1;
	memcpy(out + 3, r->tar, M2M_OTA_TAR_LEN);
	put_be(out + 6, r->counter, M2M_OTA_CNTR_LEN);
	out[12] = (uint8_t)r->status;
	if (frame_finish(out, &rsp_layout, &f, ks, r->data, r->len, err, errlen) != 0)
		return -1;
	*len = f.total;
	return 0;
}

/*
 * Whether a PoR is the unprotected one a card sends for a packet it could not authenticate: its
 * RHL has no room for the checksum asked for, or, when only ciphering was asked, what follows
 * the TAR is no whole number of cipher blocks.
 */
static int looks_unprotected(const m2m_ota_spi *spi, const m2m_ota_keyset *ks, uint8_t rhl, size_t len)
{
	if (spi->por_check != M2M_OTA_CHECK_NONE)
		return rhl == RSP_RHL_BASE;
	if (spi->por_ciphered && ks) {
		size_t block = m2m_ota_block_size(ks->kic.alg);
		return block && (len - RSP_CLEAR) % block != 0;
	}
	return 0;
}

int m2m_ota_response_open(const uint8_t *pkt, size_t len, const m2m_ota_spi *spi, const m2m_ota_keyset *ks,
			  m2m_ota_response *r, int *unprotected, uint8_t *buf, size_t cap, char *err, size_t errlen)
{
	if (len < RSP_SUM_AT || len > M2M_OTA_PACKET_MAX || get_be(pkt, 2) != len - 2 || pkt[2] < RSP_RHL_BASE ||
	    (size_t)pkt[2] + 3 > len) {
		snprintf(err, errlen, "malformed response packet (RPL, RHL and length disagree)");
		return -1;
	}
	*unprotected = looks_unprotected(spi, ks, pkt[2], len);
	m2m_ota_check check = *unprotected ? M2M_OTA_CHECK_NONE : spi->por_check;
	int ciphered = *unprotected ? 0 : spi->por_ciphered;
	int sum = sum_len(check);
	const char *missing = keys_missing(check, ciphered, ks);
	if (missing || pkt[2] != RSP_RHL_BASE + sum) {
		snprintf(err, errlen, "%s", missing ? missing : "RHL does not fit the checksum the SPI asks for");
		return -1;
	}
	uint8_t clear[M2M_OTA_PACKET_MAX];
	memcpy(clear, pkt, len);
	m2m_ota_status st = unseal(clear, len, &rsp_layout, check, ciphered, ks);
	size_t data_len = len - RSP_SUM_AT - (size_t)sum, pcntr = clear[11];
	const char *why = st == M2M_OTA_CHECK_FAILED ? "the response's checksum does not verify"
			  : st != M2M_OTA_POR_OK     ? "the response cannot be deciphered"
			  : pcntr > data_len         ? "PCNTR is larger than the response data"
			  : data_len - pcntr > cap   ? "the response data does not fit the buffer"
			  : *unprotected && clear[12] == M2M_OTA_POR_OK
				  ? "an unprotected response claims success"
				  : NULL;
	if (!why) {
		memcpy(r->tar, clear + 3, M2M_OTA_TAR_LEN);
		r->counter = get_be(clear + 6, M2M_OTA_CNTR_LEN);
		r->pcntr = (uint8_t)pcntr;
		r->status = (m2m_ota_status)clear[12];
		r->len = data_len - pcntr;
		if (r->len)
			memcpy(buf, clear + RSP_SUM_AT + sum, r->len);
		r->data = buf;
	} else {
		snprintf(err, errlen, "%s", why);
	}
	m2m_wipe(clear, len);
	return why ? -1 : 0;
}
