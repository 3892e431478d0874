/*
 * SCP80 secured packets (ETSI TS 102 225; the SMS-PP profile of 3GPP TS 31.115): the command
 * packet an OTA server sends to an application of the card, named by its TAR, and the response
 * packet (proof of receipt, PoR) the card returns.
 *
 *   command:  CPL(2) CHL(1) SPI(2) KIc(1) KID(1) TAR(3) | CNTR(5) PCNTR(1) RC/CC/DS(n) data padding
 *   response: RPL(2) RHL(1) TAR(3) | CNTR(5) PCNTR(1) status(1) RC/CC/DS(n) data padding
 *
 * Everything after "|" is ciphered when the SPI asks for it. The checksum is a 3DES CBC-MAC or an
 * AES-CMAC (8 bytes), or a CRC-32 redundancy check (4 bytes). All primitives come from OpenSSL.
 * Packets are bytes from CPL (RPL) on; the SMS user data header around them is sms.h's.
 *
 * The checksum covers the whole packet but itself, data padding included; a response packet's
 * also covers the SMS user data header 02 71 00 that precedes it (TS 31.115; real cards' PoRs
 * agree), a command packet's does not: this library adds that header to the computation itself.
 * Padding (zeros, counted by PCNTR) is added only when the packet is ciphered; a CC over a clear
 * packet pads its input internally and adds nothing to the packet.
 */
#ifndef M2M_OTA_SCP80_H
#define M2M_OTA_SCP80_H

#include <stddef.h>
#include <stdint.h>

#define M2M_OTA_TAR_LEN 3
#define M2M_OTA_CNTR_LEN 5
#define M2M_OTA_CNTR_MAX UINT64_C(0xFFFFFFFFFF)   /* 40 bits; reached = blocked */
#define M2M_OTA_KEY_MAX 32
#define M2M_OTA_PACKET_MAX 4096                    /* the longest packet we build or accept */

/* SPI first byte, b1-b2 (TS 102 225 §5.1.1), also the PoR's checksum (second byte, b3-b4). */
typedef enum m2m_ota_check {
	M2M_OTA_CHECK_NONE = 0,
	M2M_OTA_CHECK_RC = 1,  /* redundancy check: CRC-32 (KID b1-b2 = 01, b3-b4 = 01: M2M_OTA_KID_CRC32) */
	M2M_OTA_CHECK_CC = 2,  /* cryptographic checksum */
	M2M_OTA_CHECK_DS = 3,  /* digital signature: not supported, refused */
} m2m_ota_check;

/* SPI first byte, b4-b5. */
typedef enum m2m_ota_counter_mode {
	M2M_OTA_COUNTER_NONE = 0,
	M2M_OTA_COUNTER_AVAILABLE = 1,   /* counter present, not checked */
	M2M_OTA_COUNTER_HIGHER = 2,      /* processed only if higher than the card's */
	M2M_OTA_COUNTER_ONE_HIGHER = 3,  /* processed only if exactly one higher */
} m2m_ota_counter_mode;

/* SPI second byte, b1-b2. */
typedef enum m2m_ota_por_mode {
	M2M_OTA_POR_NONE = 0,
	M2M_OTA_POR_ALWAYS = 1,
	M2M_OTA_POR_ON_ERROR = 2,
} m2m_ota_por_mode;

typedef struct m2m_ota_spi {
	m2m_ota_check check;
	int ciphered;
	m2m_ota_counter_mode counter;
	m2m_ota_por_mode por;
	m2m_ota_check por_check;
	int por_ciphered;
	int por_in_submit;  /* b6 of the second byte: PoR by SMS-SUBMIT, else SMS-DELIVER-REPORT */
} m2m_ota_spi;

void m2m_ota_spi_encode(const m2m_ota_spi *spi, uint8_t out[2]);
/* -1 for reserved values (SPI1 b6-b8 or SPI2 b7-b8 set, PoR mode 11). */
int m2m_ota_spi_decode(const uint8_t in[2], m2m_ota_spi *spi);

/*
 * Whether a packet's SPI meets a TAR's minimum security level (TS 102 226 §8.2.1.3.2.1: the MSL
 * byte is coded like SPI1: checksum b1-b2, ciphering b3, counter b4-b5).
 */
int m2m_ota_spi_meets(const m2m_ota_spi *spi, uint8_t msl);

/*
 * A key of a keyset: `alg` is the low nibble of the KIc or KID byte (b1-b4; the key index is
 * b5-b8, the keyset's version). Supported: 0x5 3DES 2 keys (16-byte key), 0x9 3DES 3 keys
 * (24 bytes), 0x2 AES (16, 24 or 32 bytes): AES-CBC as KIc, AES-CMAC as KID (TS 102 225
 * §5.1.3.1: b1-b2 = 10, b3-b4 = 00; the vectors' KID bytes are 22). With an SPI asking for a
 * redundancy check the KID byte's nibble means another thing: 0x5 is CRC-32 (no key), the only
 * RC supported. Single DES (0x1, 0xD) and "known implicitly" (0x0) are refused.
 */
#define M2M_OTA_KID_CRC32 0x5
typedef struct m2m_ota_key {
	uint8_t alg;
	uint8_t key[M2M_OTA_KEY_MAX];
	size_t len;
} m2m_ota_key;

/* The keys a packet uses: KIc ciphers, KID checks, DEK wraps keys sent by PUT KEY (rfm.h). */
typedef struct m2m_ota_keyset {
	uint8_t kvn;  /* key version number, 1..15: b5-b8 of KIc and KID */
	m2m_ota_key kic, kid, dek;
} m2m_ota_keyset;

/* 0 when alg/len form a key this library uses for ciphering (kic) or checking (kid). */
int m2m_ota_key_valid(const m2m_ota_key *k, int for_kid);

/*
 * The algorithm a KIc byte (is_kid 0) or KID byte names, in words, for logs and tools: the KID
 * byte is read as the SPI's check says (RC: CRC; else a CC). "(not supported)" marks the rest.
 */
const char *m2m_ota_alg_name(uint8_t key_byte, int is_kid, m2m_ota_check check);

/* Response status codes (TS 102 225 §5.1.2, table 5.5). */
typedef enum m2m_ota_status {
	M2M_OTA_POR_OK = 0x00,
	M2M_OTA_CHECK_FAILED = 0x01,         /* RC/CC/DS failed */
	M2M_OTA_CNTR_LOW = 0x02,
	M2M_OTA_CNTR_HIGH = 0x03,
	M2M_OTA_CNTR_BLOCKED = 0x04,
	M2M_OTA_CIPHERING_ERROR = 0x05,
	M2M_OTA_SECURITY_ERROR = 0x06,       /* unidentified security error */
	M2M_OTA_NO_MEMORY = 0x07,
	M2M_OTA_MORE_TIME = 0x08,
	M2M_OTA_TAR_UNKNOWN = 0x09,
	M2M_OTA_INSUFFICIENT_SECURITY = 0x0A,
	M2M_OTA_RESPONSE_IN_SUBMIT = 0x0B,
	M2M_OTA_RESPONSE_ELSEWHERE = 0x0C,
} m2m_ota_status;
const char *m2m_ota_status_name(int status);   /* "PoR OK", "CNTR low", ...; "reserved" */

/* The clear part of a command packet: enough to find the TAR's keyset. */
typedef struct m2m_ota_header {
	uint16_t cpl;
	uint8_t chl;
	uint8_t spi_raw[2];
	m2m_ota_spi spi;
	uint8_t kic, kid;
	uint8_t tar[M2M_OTA_TAR_LEN];
} m2m_ota_header;

/* A command packet's content, to build or as opened. */
typedef struct m2m_ota_command {
	m2m_ota_spi spi;
	uint8_t tar[M2M_OTA_TAR_LEN];
	uint64_t counter;        /* CNTR */
	uint8_t pcntr;           /* opened: padding counter read */
	const uint8_t *data;     /* secured data: the application's commands (rfm.h) */
	size_t len;
} m2m_ota_command;

/*
 * Builds a command packet (from CPL on) into out; KIc and KID bytes come from ks (kvn and the
 * algorithms); a keyset is needed only for what the SPI asks. 0, or -1 with err.
 */
int m2m_ota_command_build(const m2m_ota_command *c, const m2m_ota_keyset *ks, uint8_t *out, size_t cap,
			  size_t *len, char *err, size_t errlen);

/* Reads the clear header. M2M_OTA_POR_OK, or the status a card answers (malformed: SECURITY_ERROR). */
m2m_ota_status m2m_ota_command_header(const uint8_t *pkt, size_t len, m2m_ota_header *h);

/*
 * Deciphers and checks a command packet with the keyset its header names. On M2M_OTA_POR_OK, c
 * holds the counter and the secured data, copied into buf (cap bytes). The counter is NOT
 * compared here: that is the receiver's state (m2m_ota_counter_check).
 */
m2m_ota_status m2m_ota_command_open(const uint8_t *pkt, size_t len, const m2m_ota_keyset *ks, m2m_ota_command *c,
				    uint8_t *buf, size_t cap);

/* The receiver's replay check: card = its stored counter, got = the packet's. */
m2m_ota_status m2m_ota_counter_check(m2m_ota_counter_mode mode, uint64_t card, uint64_t got);

/* A response packet (PoR), to build or as opened. */
typedef struct m2m_ota_response {
	uint8_t tar[M2M_OTA_TAR_LEN];
	uint64_t counter;       /* the command's CNTR, echoed */
	uint8_t pcntr;
	m2m_ota_status status;
	const uint8_t *data;    /* additional response data (rfm.h: the commands' results) */
	size_t len;
} m2m_ota_response;

/*
 * Builds the PoR to a command whose SPI was spi, protected as the SPI's second byte asks (the
 * keyset of the command), or unprotected when ks is NULL: the card answers a packet it could not
 * authenticate (unknown TAR, checksum failed, ciphering error) without checksum or ciphering.
 */
int m2m_ota_response_build(const m2m_ota_response *r, const m2m_ota_spi *spi, const m2m_ota_keyset *ks,
			   uint8_t *out, size_t cap, size_t *len, char *err, size_t errlen);

/*
 * Opens a PoR to a command sent with spi and ks. It first tries the protection the SPI asked
 * for and, when the packet's length shows an unprotected PoR, reads that (then *unprotected = 1:
 * only a status, which the sender must not trust for success). 0, or -1 with err (a PoR whose
 * checksum does not verify is -1).
 */
int m2m_ota_response_open(const uint8_t *pkt, size_t len, const m2m_ota_spi *spi, const m2m_ota_keyset *ks,
			  m2m_ota_response *r, int *unprotected, uint8_t *buf, size_t cap, char *err, size_t errlen);

#endif
