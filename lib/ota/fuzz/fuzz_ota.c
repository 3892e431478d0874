/*
 * libFuzzer target for everything lib/ota reads from the air or from the card: command and
 * response packets, SMS-DELIVERs and their reassembly, the ENVELOPE, the PoR user data, the
 * SMS-DELIVER-REPORT, compact scripts, PUT KEY data and proactive commands. Nothing may crash or
 * read out of bounds (ASan, UBSan), and a command packet that opens must survive a rebuild:
 * the same SPI, TAR, counter and data open again to the same content.
 */
#include "ota/cat.h"
#include "ota/rfm.h"
#include "ota/scp80.h"
#include "ota/sms.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The keyset a packet's KIc/KID bytes name, with fixed keys of the right length. */
static m2m_ota_keyset keyset_for(uint8_t kic, uint8_t kid)
{
	static const size_t lens[16] = {[0x2] = 16, [0x5] = 16, [0x9] = 24};
	m2m_ota_keyset ks = {.kvn = (uint8_t)(kic >> 4), .kic = {.alg = kic & 15, .len = lens[kic & 15]},
			     .kid = {.alg = kid & 15, .len = lens[kid & 15]}, .dek = {.alg = 0x2, .len = 16}};
	memset(ks.kic.key, 0x11, sizeof ks.kic.key);
	memset(ks.kid.key, 0x22, sizeof ks.kid.key);
	memset(ks.dek.key, 0x33, sizeof ks.dek.key);
	return ks;
}

static void command(const uint8_t *data, size_t size)
{
	static uint8_t buf[M2M_OTA_PACKET_MAX], again[M2M_OTA_PACKET_MAX], buf2[M2M_OTA_PACKET_MAX];
	m2m_ota_header h;
	m2m_ota_command c, c2;
	size_t n;
	char err[128];
	if (m2m_ota_command_header(data, size, &h) != M2M_OTA_POR_OK)
		return;
	m2m_ota_keyset ks = keyset_for(h.kic, h.kid);
	if (m2m_ota_command_open(data, size, &ks, &c, buf, sizeof buf) != M2M_OTA_POR_OK)
		return;
	if (m2m_ota_command_build(&c, &ks, again, sizeof again, &n, err, sizeof err) != 0 ||
	    m2m_ota_command_open(again, n, &ks, &c2, buf2, sizeof buf2) != M2M_OTA_POR_OK || c2.len != c.len ||
	    c2.counter != c.counter || memcmp(c2.data, c.data, c.len) != 0)
		abort();
}

static void response(const uint8_t *data, size_t size)
{
	static uint8_t buf[M2M_OTA_PACKET_MAX];
	m2m_ota_spi spi;
	m2m_ota_response r;
	int unprotected;
	char err[128];
	if (size < 4 || m2m_ota_spi_decode(data, &spi) != 0)
		return;
	m2m_ota_keyset ks = keyset_for(data[2], data[3]);
	m2m_ota_response_open(data + 4, size - 4, &spi, &ks, &r, &unprotected, buf, sizeof buf, err, sizeof err);
}

static void sms(const uint8_t *data, size_t size)
{
	static m2m_sms_concat c;
	static uint8_t out[M2M_SMS_CONCAT_MAX * M2M_SMS_UD_MAX];
	m2m_sms_deliver d;
	const uint8_t *p;
	size_t n;
	char err[128];
	if (m2m_sms_deliver_parse(data, size, &d, err, sizeof err) == 0 && m2m_sms_concat_add(&c, &d) == 1)
		m2m_sms_concat_take(&c, out, sizeof out);
	m2m_sms_pp_download_parse(data, size, &p, &n);
	m2m_sms_por_ud_parse(data, size, &p, &n);
	m2m_sms_report_parse(data, size, &p, &n);
}

static void card_side(const uint8_t *data, size_t size)
{
	m2m_rfm_apdu a;
	m2m_cat_command c;
	m2m_ota_keyset next, ks = keyset_for(0x12, 0x12);
	uint8_t result, executed;
	uint16_t sw;
	const uint8_t *rest;
	size_t off = 0, n;
	char err[128];
	while (m2m_rfm_script_next(data, size, &off, &a) == 1)
		;
	m2m_rfm_response_parse(data, size, &executed, &sw, &rest, &n);
	m2m_rfm_put_key_parse(data, size, &ks.dek, &next, err, sizeof err);
	m2m_cat_command_parse(data, size, &c);
	m2m_cat_terminal_response_parse(data, size, &c, &result);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > M2M_OTA_PACKET_MAX)
		return 0;
	command(data, size);
	response(data, size);
	sms(data, size);
	card_side(data, size);
	return 0;
}
