/*
 * The receiving entity of TS 102 225 §5.1 for one command packet: the TAR names the application
 * (unknown: PoR 09), the KIc/KID key version the keyset (06), the packet is deciphered and its
 * checksum checked (01, 05, 06), the SPI must meet the TAR's minimum security level (0A,
 * TS 102 226 §8.2.1.3.2.1) and the counter the TAR's (02, 03, 04). Only then is anything changed:
 * the counter is stored and the script runs. The PoR is protected with the packet's keyset as
 * its SPI asks, except for the statuses found before the packet was authenticated, whose PoR
 * goes without checksum or ciphering (the card cannot prove anything with keys it may not share
 * with the sender). A packet without a cryptographic checksum is never authenticated: its
 * refusal is not signed either, so that nobody gets the card's CC over content of their choice.
 */
#include "commands.h"

#include "crypto/crypto.h"
#include "log/log.h"
#include "ota/rfm.h"

#include <string.h>

/* CPL CHL SPI KIc KID TAR CNTR PCNTR: what m2m_ota_command_header needs to read a header at all. */
#define HEADER_LEN 16

typedef struct packet {
	m2m_ota_header h;
	uicc_tar *tar;
	m2m_ota_keyset ks;       /* a copy: PUT KEY may replace the card's */
	int opened;              /* deciphered, its checksum (if any) verified: the counter is known */
	int authenticated;       /* opened, and that checksum was a CC */
	m2m_ota_command cmd;
	uint8_t script[M2M_OTA_PACKET_MAX];
	uint8_t response[UICC_RESPONSE_MAX];  /* the compact response data of the script */
	size_t response_len;
} packet;

static m2m_ota_status find_tar(uicc_card *c, packet *p)
{
	for (int app = 0; app < UICC_OTA_APPS; app++) {
		uicc_tar *t = &c->st.ota.tar[app];
		if (t->present && !memcmp(t->tar, p->h.tar, M2M_OTA_TAR_LEN)) {
			p->tar = t;
			return M2M_OTA_POR_OK;
		}
	}
	return M2M_OTA_TAR_UNKNOWN;
}

/* The key version of KIc (ciphering) or KID (checksum) must be the TAR's own keyset; a packet
 * that uses no key is judged by the MSL. */
static m2m_ota_status find_keyset(uicc_card *c, packet *p)
{
	uint8_t kvn = p->tar->kvn;
	if (p->h.spi.ciphered)
		kvn = p->h.kic >> 4;
	else if (p->h.spi.check == M2M_OTA_CHECK_CC)
		kvn = p->h.kid >> 4;
	if (kvn != p->tar->kvn || !c->st.ota.keyset[kvn].kvn)
		return M2M_OTA_SECURITY_ERROR;
	p->ks = c->st.ota.keyset[kvn];
	return M2M_OTA_POR_OK;
}

static m2m_ota_status authenticate(uicc_card *c, const uint8_t *pkt, size_t len, packet *p)
{
	m2m_ota_status st = find_tar(c, p);
	if (st == M2M_OTA_POR_OK)
		st = find_keyset(c, p);
	if (st == M2M_OTA_POR_OK)
		st = m2m_ota_command_open(pkt, len, &p->ks, &p->cmd, p->script, sizeof p->script);
	p->opened = st == M2M_OTA_POR_OK;
	p->authenticated = p->opened && p->h.spi.check == M2M_OTA_CHECK_CC;
	if (st == M2M_OTA_POR_OK && !m2m_ota_spi_meets(&p->h.spi, p->tar->msl))
		st = M2M_OTA_INSUFFICIENT_SECURITY;
	if (st == M2M_OTA_POR_OK)
		st = m2m_ota_counter_check(p->h.spi.counter, p->tar->counter, p->cmd.counter);
	return st;
}

/* The counter first (TS 102 225 §5.1.1: the packet is accepted), then the application. -1 only
 * when the card itself fails (the ENVELOPE is then undone as a whole). */
static int execute(uicc_card *c, packet *p)
{
	if (p->h.spi.counter == M2M_OTA_COUNTER_HIGHER || p->h.spi.counter == M2M_OTA_COUNTER_ONE_HIGHER)
		p->tar->counter = p->cmd.counter;
	if (p->tar == &c->st.ota.tar[UICC_OTA_ISD])
		return uicc_script_run(c, uicc_isd_command, &p->ks, p->cmd.data, p->cmd.len, p->response,
				       sizeof p->response, &p->response_len);
	return uicc_rfm_run(c, p->cmd.data, p->cmd.len, p->response, sizeof p->response, &p->response_len);
}

/* The ENVELOPE's answer: 02 71 00 and the PoR, when the SPI asks for one. */
static uint16_t answer(packet *p, m2m_ota_status st, uint8_t *out, size_t *out_len)
{
	m2m_ota_por_mode mode = p->h.spi.por;
	if (mode != M2M_OTA_POR_ALWAYS && !(mode == M2M_OTA_POR_ON_ERROR && st != M2M_OTA_POR_OK))
		return SW_OK;
	m2m_ota_response r = {.counter = p->opened ? p->cmd.counter : 0, .status = st,
			      .data = p->response, .len = st == M2M_OTA_POR_OK ? p->response_len : 0};
	const m2m_ota_keyset *ks = st == M2M_OTA_POR_OK || p->authenticated ? &p->ks : NULL;
	memcpy(r.tar, p->h.tar, M2M_OTA_TAR_LEN);
	uint8_t por[UICC_RESPONSE_MAX];
	size_t por_len;
	char err[128];
	if (m2m_ota_response_build(&r, &p->h.spi, ks, por, sizeof por - 3, &por_len, err, sizeof err) ||
	    m2m_sms_por_ud_build(por, por_len, out, UICC_RESPONSE_MAX, out_len)) {
		m2m_error("the PoR could not be built: %s", err);
		return SW_TECHNICAL_PROBLEM;
	}
	return SW_OK;
}

/* TARs and statuses only: the script and its data may hold anything. */
static void log_packet(const packet *p, m2m_ota_status st)
{
	uint8_t executed;
	uint16_t sw;
	const uint8_t *data;
	size_t data_len;
	if (st != M2M_OTA_POR_OK)
		m2m_info("secured packet for TAR %02X%02X%02X refused: %s (%02X)", p->h.tar[0], p->h.tar[1], p->h.tar[2],
			 m2m_ota_status_name(st), st);
	else if (m2m_rfm_response_parse(p->response, p->response_len, &executed, &sw, &data, &data_len) == 0)
		m2m_info("secured packet for TAR %02X%02X%02X: %u command(s) run, last SW %04X", p->h.tar[0],
			 p->h.tar[1], p->h.tar[2], executed, sw);
}

uint16_t uicc_secured_packet(uicc_card *c, const uint8_t *pkt, size_t len, uint8_t *out, size_t *out_len)
{
	packet p = {0};
	m2m_ota_status st = m2m_ota_command_header(pkt, len, &p.h);
	/* a header whose SPI reads can still be answered (06); less than that is no packet */
	if (st != M2M_OTA_POR_OK && (len < HEADER_LEN || m2m_ota_spi_decode(p.h.spi_raw, &p.h.spi)))
		return SW_WRONG_DATA;
	if (st == M2M_OTA_POR_OK)
		st = authenticate(c, pkt, len, &p);
	uint16_t sw = SW_TECHNICAL_PROBLEM;
	if (st != M2M_OTA_POR_OK || execute(c, &p) == 0) {
		log_packet(&p, st);
		sw = answer(&p, st, out, out_len);
	}
	m2m_wipe(&p, sizeof p);
	return sw;
}
