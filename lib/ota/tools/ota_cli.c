/*
 * m2m-ota: SCP80 packets by hand, for plugtest participants (OTA servers and cards of others).
 *
 *   m2m-ota command --spi 0619 --kic 22 --kic-key HEX --kid 22 --kid-key HEX --tar b00011
 *           --counter N [--dek-key HEX] [--sms ORIGINATOR [--scts HEX]] (APDU-HEX ... | --script FILE)
 *   m2m-ota open-command [--kic-key HEX] [--kid-key HEX] PACKET-HEX
 *   m2m-ota open-response --spi HEX [--kic 22 --kic-key HEX] [--kid 22 --kid-key HEX] PACKET-HEX
 *   m2m-ota response --spi HEX [--kic ... --kid ...] --tar HEX --counter N --status N
 *           [--unprotected] [DATA-HEX]
 *
 * All of the work is lib/ota's; this file reads arguments and prints fields. Keys are never
 * printed. Exit status: 0 done, 1 well formed but not verified, 2 bad usage or malformed input.
 */
#include "crypto/crypto.h"
#include "ota/rfm.h"
#include "ota/scp80.h"
#include "ota/sms.h"

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PROG "m2m-ota"
#define EXIT_UNVERIFIED 1
#define EXIT_USAGE 2

enum { O_SPI, O_KIC, O_KIC_KEY, O_KID, O_KID_KEY, O_DEK_KEY, O_TAR, O_COUNTER, O_SMS, O_SCTS, O_SCRIPT,
       O_STATUS, O_UNPROTECTED, O_HELP, O_COUNT };

static const struct option long_opts[] = {
	{"spi", required_argument, NULL, O_SPI},         {"kic", required_argument, NULL, O_KIC},
	{"kic-key", required_argument, NULL, O_KIC_KEY}, {"kid", required_argument, NULL, O_KID},
	{"kid-key", required_argument, NULL, O_KID_KEY}, {"dek-key", required_argument, NULL, O_DEK_KEY},
	{"tar", required_argument, NULL, O_TAR},         {"counter", required_argument, NULL, O_COUNTER},
	{"sms", required_argument, NULL, O_SMS},         {"scts", required_argument, NULL, O_SCTS},
	{"script", required_argument, NULL, O_SCRIPT},   {"status", required_argument, NULL, O_STATUS},
	{"unprotected", no_argument, NULL, O_UNPROTECTED}, {"help", no_argument, NULL, O_HELP},
	{NULL, 0, NULL, 0},
};

typedef struct args {
	const char *v[O_COUNT];
	char **rest;  /* the positional arguments after the options */
	int nrest;
} args;

typedef struct subcommand {
	const char *name;
	unsigned opts;  /* the options it reads: any other is refused, not ignored */
	int (*run)(const args *a);
} subcommand;

#define BIT(o) (1u << (o))
#define KEY_OPTS (BIT(O_KIC) | BIT(O_KIC_KEY) | BIT(O_KID) | BIT(O_KID_KEY))

/* "m2m-ota: why" on stderr (warnx prefixes the program's name), then the usage exit status. */
#define usage_error(...) (warnx(__VA_ARGS__), EXIT_USAGE)

static void usage(FILE *out)
{
	fputs("usage: " PROG " command --spi HEX --kic HEX --kic-key HEX --kid HEX --kid-key HEX --tar HEX\n"
	      "                --counter N [--dek-key HEX] [--sms ORIGINATOR [--scts HEX]]\n"
	      "                (APDU-HEX ... | --script FILE)\n"
	      "       " PROG " open-command [--kic-key HEX] [--kid-key HEX] PACKET-HEX\n"
	      "       " PROG " open-response --spi HEX [--kic HEX --kic-key HEX] [--kid HEX --kid-key HEX]\n"
	      "                PACKET-HEX\n"
	      "       " PROG " response --spi HEX [--kic ... --kid ...] --tar HEX --counter N --status N\n"
	      "                [--unprotected] [DATA-HEX]\n"
	      "SCP80 secured packets (ETSI TS 102 225, 3GPP TS 31.115) from CPL/RPL on, in hex.\n"
	      "  --spi 4 hex digits; --kic, --kid one byte: key version (high nibble) and algorithm\n"
	      "  (5 3DES 2 keys, 9 3DES 3 keys, 2 AES; KID 5 with an RC is CRC-32); keys in hex.\n"
	      "  --script FILE  one APDU per line in hex ('#' starts a comment); a line\n"
	      "      put-key KVN KIC-KEY KID-KEY DEK-KEY  adds a PUT KEY of a new keyset (the\n"
	      "      algorithms of --kic/--kid) wrapped under --dek-key, replacing this keyset.\n"
	      "  --sms ORIGINATOR  also prints each SMS-DELIVER TPDU (--scts: 14 hex digits, else now)\n"
	      "  open-response accepts the PoR with or without its user data header 02 71 00.\n"
	      "Exit status: 0 done, 1 well formed but the checksum does not verify, 2 bad usage.\n",
	      out);
}

/* ---- argument values ---- */

static int hex_byte(const args *a, int o, const char *name, uint8_t *out)
{
	if (!a->v[o] || m2m_unhex(a->v[o], out, 1) != 0)
		return usage_error("--%s: expected one byte in hex, got '%s'", name, a->v[o] ? a->v[o] : "");
	return 0;
}

static int hex_exact(const char *s, const char *what, uint8_t *out, size_t n)
{
	if (!s || m2m_unhex(s, out, n) != 0)
		return usage_error("%s: expected %zu hex digits, got '%s'", what, 2 * n, s ? s : "");
	return 0;
}

/* Any even number of hex digits up to max bytes: the count, or -1 after saying why. */
static long hex_var(const char *s, const char *what, uint8_t *out, size_t max)
{
	long n = m2m_unhex_var(s, out, max);
	if (n < 0)
		warnx("%s: expected an even number of hex digits (at most %zu bytes), got '%s'", what, 2 * max, s);
	return n;
}

static int number(const char *s, const char *what, uint64_t max, uint64_t *v)
{
	char *end;
	errno = 0;
	*v = s && s[0] >= '0' && s[0] <= '9' ? strtoull(s, &end, 0) : 0;
	if (!s || !(s[0] >= '0' && s[0] <= '9') || errno || *end || *v > max)
		return usage_error("%s: expected a number up to %llu, got '%s'", what, (unsigned long long)max,
				   s ? s : "");
	return 0;
}

static int spi_arg(const args *a, m2m_ota_spi *spi)
{
	uint8_t raw[2];
	if (hex_exact(a->v[O_SPI], "--spi", raw, 2) != 0)
		return EXIT_USAGE;
	if (m2m_ota_spi_decode(raw, spi) != 0)
		return usage_error("--spi %s: reserved bits or PoR mode set", a->v[O_SPI]);
	return 0;
}

/* One key: the algorithm from the KIc/KID byte, the bytes from the key option. */
static int key_arg(const char *hex, uint8_t key_byte, const char *name, int is_kid, m2m_ota_key *k)
{
	long n = hex ? m2m_unhex_var(hex, k->key, sizeof k->key) : -1;
	k->alg = key_byte & 15;
	k->len = n > 0 ? (size_t)n : 0;
	if (n <= 0 || m2m_ota_key_valid(k, is_kid) != 0)
		return usage_error("--%s-key: %s needs a key of its length (3DES 2 keys: 16 bytes, 3 keys: 24, "
				   "AES: 16, 24 or 32), got '%s'",
				   name, m2m_ota_alg_name(key_byte, is_kid, M2M_OTA_CHECK_CC), hex ? hex : "(none)");
	return 0;
}

/*
 * The keyset a protection (check, ciphered) needs: the key version and algorithms from the
 * KIc/KID bytes, the keys from the options (a key given but not needed is read too). One
 * keyset has one version: a packet whose KIc and KID differ in it is refused by the library.
 */
static int keyset_arg(const args *a, uint8_t kic, uint8_t kid, m2m_ota_check check, int ciphered,
		      m2m_ota_keyset *ks)
{
	memset(ks, 0, sizeof *ks);
	ks->kvn = (uint8_t)((ciphered ? kic : kid) >> 4);
	ks->kic.alg = kic & 15;
	ks->kid.alg = kid & 15;
	if ((ciphered || a->v[O_KIC_KEY]) && key_arg(a->v[O_KIC_KEY], kic, "kic", 0, &ks->kic) != 0)
		return EXIT_USAGE;
	if ((check == M2M_OTA_CHECK_CC || a->v[O_KID_KEY]) && key_arg(a->v[O_KID_KEY], kid, "kid", 1, &ks->kid) != 0)
		return EXIT_USAGE;
	return 0;
}

/* --kic and --kid as bytes of one key version; when one is absent, that version and no algorithm. */
static int key_bytes_arg(const args *a, uint8_t *kic, uint8_t *kid)
{
	*kic = *kid = 0;
	if (a->v[O_KIC] && hex_byte(a, O_KIC, "kic", kic) != 0)
		return EXIT_USAGE;
	if (a->v[O_KID] && hex_byte(a, O_KID, "kid", kid) != 0)
		return EXIT_USAGE;
	if (!a->v[O_KIC])
		*kic = *kid & 0xF0;
	if (!a->v[O_KID])
		*kid = *kic & 0xF0;
	if (*kic >> 4 != *kid >> 4)
		return usage_error("--kic and --kid name different key versions (%x, %x)", *kic >> 4, *kid >> 4);
	return 0;
}

/* ---- printing ---- */

static void put_hex(const char *label, const uint8_t *b, size_t n)
{
	printf("%s: ", label);
	for (size_t i = 0; i < n; i++)
		printf("%02x", b[i]);
	putchar('\n');
}

static const char *check_name(m2m_ota_check c)
{
	static const char *const names[] = {"none", "redundancy check (RC)", "cryptographic checksum (CC)",
					    "digital signature (DS)"};
	return names[c & 3];
}

static void print_spi(const uint8_t raw[2], const m2m_ota_spi *spi)
{
	static const char *const counters[] = {"no counter", "counter available, not checked",
					       "process if higher than the card's", "process if one higher"};
	static const char *const pors[] = {"none", "always", "on error only"};
	put_hex("SPI", raw, 2);
	printf("SPI checksum: %s\n", check_name(spi->check));
	printf("SPI ciphering: %s\n", spi->ciphered ? "yes" : "no");
	printf("SPI counter: %s\n", counters[spi->counter & 3]);
	printf("SPI PoR: %s\n", pors[spi->por % 3]);
	printf("SPI PoR checksum: %s\n", check_name(spi->por_check));
	printf("SPI PoR ciphering: %s\n", spi->por_ciphered ? "yes" : "no");
	printf("SPI PoR by: %s\n", spi->por_in_submit ? "SMS-SUBMIT" : "SMS-DELIVER-REPORT");
}

static void print_key_byte(const char *label, uint8_t b, int is_kid, m2m_ota_check check)
{
	printf("%s: %02x (%s, key version %d)\n", label, b, m2m_ota_alg_name(b, is_kid, check), b >> 4);
}

static void print_counter(uint64_t v)
{
	printf("CNTR: %010llx (%llu)\n", (unsigned long long)v, (unsigned long long)v);
}

/* The APDUs of a compact script, or a note that the data is not one. */
static void print_script(const uint8_t *data, size_t len)
{
	size_t off = 0;
	m2m_rfm_apdu a;
	int r, i = 0;
	while ((r = m2m_rfm_script_next(data, len, &off, &a)) == 1) {
		char label[16];
		snprintf(label, sizeof label, "APDU %d", ++i);
		put_hex(label, a.raw, a.raw_len);
	}
	if (r < 0)
		printf("script: not a compact script from byte %zu on\n", off);
}

/* ---- command ---- */

/* A script line "put-key KVN KIC KID DEK": the PUT KEY replacing ks, wrapped under ks's DEK. 0 or 2. */
static int put_key_line(char *line, const m2m_ota_keyset *ks, uint8_t *out, size_t cap, size_t *len)
{
	char *kvn = strtok(line + 7, " \t"), *kic = strtok(NULL, " \t"), *kid = strtok(NULL, " \t"),
	     *dek = strtok(NULL, " \t");
	m2m_ota_keyset next = {0};
	uint64_t v;
	char err[160];
	if (!ks->dek.len)
		return usage_error("put-key in the script needs --dek-key");
	if (!dek || strtok(NULL, " \t"))
		return usage_error("put-key: expected 'put-key KVN KIC-KEY KID-KEY DEK-KEY'");
	int rc = number(kvn, "put-key KVN", 15, &v);
	next.kvn = (uint8_t)v;
	rc = rc ? rc : key_arg(kic, ks->kic.alg, "put-key kic", 0, &next.kic);
	rc = rc ? rc : key_arg(kid, ks->kid.alg, "put-key kid", 1, &next.kid);
	rc = rc ? rc : key_arg(dek, ks->kic.alg, "put-key dek", 0, &next.dek);
	if (!rc && cap < M2M_RFM_PUT_KEY_MAX)
		rc = usage_error("put-key: the script is too long");
	if (!rc && m2m_rfm_put_key_build(&ks->dek, ks->kvn, &next, out, cap, len, err, sizeof err) != 0)
		rc = usage_error("put-key: %s", err);
	m2m_wipe(&next, sizeof next);
	return rc;
}

/* The line without its comment and the blanks around it. */
static char *trim(char *line)
{
	line[strcspn(line, "#\r\n")] = '\0';
	line += strspn(line, " \t");
	size_t n = strlen(line);
	while (n && (line[n - 1] == ' ' || line[n - 1] == '\t'))
		line[--n] = '\0';
	return line;
}

/* One script line: an APDU in hex or a put-key. Appends at out[*n]; 0 or 2. */
static int script_line(char *s, const m2m_ota_keyset *ks, uint8_t *out, size_t cap, size_t *n)
{
	size_t got = 0;
	if (strncmp(s, "put-key", 7) == 0) {
		if (put_key_line(s, ks, out + *n, cap - *n, &got) != 0)
			return EXIT_USAGE;
	} else {
		long r = m2m_unhex_var(s, out + *n, cap - *n);
		if (r < 0)
			return usage_error("not an APDU in hex (or the script is too long): '%s'", s);
		got = (size_t)r;
	}
	*n += got;
	return 0;
}

/* Reads the script file: APDUs in hex, one a line, '#' comments. Its length, or -1. */
static long read_script(const char *path, const m2m_ota_keyset *ks, uint8_t *out, size_t cap)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	size_t n = 0;
	int rc = 0, no = 0;
	if (!f) {
		warnx("--script %s: %s", path, strerror(errno));
		return -1;
	}
	while (!rc && fgets(line, sizeof line, f)) {
		char *s = trim(line);
		no++;
		if (*s && (rc = script_line(s, ks, out, cap, &n)) != 0)
			fprintf(stderr, PROG ": (in --script %s, line %d)\n", path, no);
	}
	fclose(f);
	return rc ? -1 : (long)n;
}

static long command_data(const args *a, const m2m_ota_keyset *ks, uint8_t *out, size_t cap)
{
	if (a->v[O_SCRIPT] ? a->nrest != 0 : a->nrest == 0) {
		warnx("command needs APDUs in hex or --script FILE (not both)");
		return -1;
	}
	if (a->v[O_SCRIPT])
		return read_script(a->v[O_SCRIPT], ks, out, cap);
	size_t n = 0;
	for (int i = 0; i < a->nrest; i++) {
		long got = hex_var(a->rest[i], "APDU", out + n, cap - n);
		if (got < 0)
			return -1;
		n += (size_t)got;
	}
	return (long)n;
}

/* TP-SCTS (TS 23.040 §9.2.3.11): --scts, or now in UTC, each octet's digits swapped. */
static int scts_arg(const args *a, uint8_t scts[7])
{
	if (a->v[O_SCTS])
		return hex_exact(a->v[O_SCTS], "--scts", scts, 7);
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	int v[7] = {tm.tm_year % 100, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, 0};
	for (int i = 0; i < 7; i++)
		scts[i] = (uint8_t)((v[i] % 10) << 4 | v[i] / 10);
	return 0;
}

static int print_sms(const args *a, const uint8_t *pkt, size_t len, uint64_t counter)
{
	static uint8_t tpdus[M2M_SMS_CONCAT_MAX][M2M_SMS_TPDU_MAX];
	size_t lens[M2M_SMS_CONCAT_MAX], count;
	uint8_t scts[7];
	char err[160];
	if (scts_arg(a, scts) != 0)
		return EXIT_USAGE;
	/* The concatenation reference follows the counter, so that each packet gets another. */
	if (m2m_sms_deliver_build(pkt, len, a->v[O_SMS], scts, (uint8_t)counter, tpdus, lens, M2M_SMS_CONCAT_MAX,
				  &count, err, sizeof err) != 0)
		return usage_error("--sms: %s", err);
	for (size_t i = 0; i < count; i++) {
		char label[64];
		snprintf(label, sizeof label, "SMS-DELIVER %zu/%zu", i + 1, count);
		put_hex(label, tpdus[i], lens[i]);
	}
	return 0;
}

static int run_command(const args *a)
{
	m2m_ota_command c = {0};
	m2m_ota_keyset ks;
	uint8_t kic, kid, data[M2M_OTA_PACKET_MAX], pkt[M2M_OTA_PACKET_MAX];
	size_t n;
	char err[160];
	int rc = spi_arg(a, &c.spi);
	rc = rc ? rc : key_bytes_arg(a, &kic, &kid);
	rc = rc ? rc : keyset_arg(a, kic, kid, c.spi.check, c.spi.ciphered, &ks);
	rc = rc ? rc : hex_exact(a->v[O_TAR], "--tar", c.tar, M2M_OTA_TAR_LEN);
	rc = rc ? rc : number(a->v[O_COUNTER], "--counter", M2M_OTA_CNTR_MAX, &c.counter);
	if (!rc && a->v[O_DEK_KEY])
		rc = key_arg(a->v[O_DEK_KEY], kic, "dek", 0, &ks.dek);
	long len = rc ? -1 : command_data(a, &ks, data, sizeof data);
	if (rc || len < 0)
		return EXIT_USAGE;
	c.data = data;
	c.len = (size_t)len;
	if (m2m_ota_command_build(&c, &ks, pkt, sizeof pkt, &n, err, sizeof err) != 0)
		return usage_error("%s", err);
	m2m_wipe(&ks, sizeof ks);
	put_hex("packet", pkt, n);
	return a->v[O_SMS] ? print_sms(a, pkt, n, c.counter) : 0;
}

/* ---- open-command ---- */

static int status_exit(m2m_ota_status st)
{
	return st == M2M_OTA_POR_OK ? 0
	       : st == M2M_OTA_CHECK_FAILED || st == M2M_OTA_CIPHERING_ERROR ? EXIT_UNVERIFIED
									       : EXIT_USAGE;
}

static void print_header(const m2m_ota_header *h)
{
	printf("CPL: %u\nCHL: %u\n", h->cpl, h->chl);
	print_spi(h->spi_raw, &h->spi);
	print_key_byte("KIc", h->kic, 0, h->spi.check);
	print_key_byte("KID", h->kid, 1, h->spi.check);
	put_hex("TAR", h->tar, M2M_OTA_TAR_LEN);
}

static int run_open_command(const args *a)
{
	static uint8_t pkt[M2M_OTA_PACKET_MAX], data[M2M_OTA_PACKET_MAX];
	m2m_ota_header h;
	m2m_ota_keyset ks;
	m2m_ota_command c;
	if (a->nrest != 1)
		return usage_error("open-command needs one PACKET-HEX");
	long n = hex_var(a->rest[0], "PACKET-HEX", pkt, sizeof pkt);
	if (n < 0)
		return EXIT_USAGE;
	if (m2m_ota_command_header(pkt, (size_t)n, &h) != M2M_OTA_POR_OK)
		return usage_error("malformed command packet: CPL, CHL, SPI and length disagree");
	print_header(&h);
	if (keyset_arg(a, h.kic, h.kid, h.spi.check, h.spi.ciphered, &ks) != 0)
		return EXIT_USAGE;
	m2m_ota_status st = m2m_ota_command_open(pkt, (size_t)n, &ks, &c, data, sizeof data);
	m2m_wipe(&ks, sizeof ks);
	if (st != M2M_OTA_POR_OK) {
		const char *why = st == M2M_OTA_CHECK_FAILED	  ? "the checksum does not verify (wrong KID key?)"
				  : st == M2M_OTA_CIPHERING_ERROR ? "it cannot be deciphered (wrong KIc key?)"
								  : "the card would refuse it";
		fprintf(stderr, PROG ": %s: status %02x (%s)\n", why, st, m2m_ota_status_name(st));
		return status_exit(st);
	}
	print_counter(c.counter);
	printf("PCNTR: %u\n", c.pcntr);
	printf("checksum: %s\n", h.spi.check == M2M_OTA_CHECK_NONE ? "none" : "verified");
	put_hex("data", c.data, c.len);
	print_script(c.data, c.len);
	return 0;
}

/* ---- open-response ---- */

/* The PoR with or without its user data header 02 71 00: the packet from RPL on. */
static int strip_por_udh(const uint8_t *in, size_t len, const uint8_t **pkt, size_t *plen)
{
	*pkt = in;
	*plen = len;
	if (len >= 5 && in[0] == 0x02 && in[1] == 0x71 && in[2] == 0x00 &&
	    (size_t)(in[3] << 8 | in[4]) == len - 5)
		return m2m_sms_por_ud_parse(in, len, pkt, plen);
	return 0;
}

static void print_response(const m2m_ota_response *r, const uint8_t *pkt, size_t len, int unprotected,
			   const m2m_ota_spi *spi)
{
	uint8_t executed;
	uint16_t sw;
	const uint8_t *rest;
	size_t rest_len;
	printf("RPL: %u\nRHL: %u\n", pkt[0] << 8 | pkt[1], pkt[2]);
	put_hex("TAR", r->tar, M2M_OTA_TAR_LEN);
	print_counter(r->counter);
	printf("PCNTR: %u\n", r->pcntr);
	printf("status: %02x (%s)\n", r->status, m2m_ota_status_name(r->status));
	printf("checksum: %s\n", unprotected ? "none (unprotected PoR: do not trust it for success)"
				 : spi->por_check == M2M_OTA_CHECK_NONE ? "none"
									  : "verified");
	if (r->len && m2m_rfm_response_parse(r->data, r->len, &executed, &sw, &rest, &rest_len) == 0) {
		printf("commands executed: %u\nlast SW: %04x\n", executed, sw);
		put_hex("last response data", rest, rest_len);
	}
	put_hex("data", r->data, r->len);
}

static int run_open_response(const args *a)
{
	static uint8_t in[M2M_OTA_PACKET_MAX + 3], data[M2M_OTA_PACKET_MAX];
	m2m_ota_spi spi;
	m2m_ota_keyset ks;
	m2m_ota_response r;
	uint8_t kic, kid;
	const uint8_t *pkt;
	size_t len;
	int unprotected;
	char err[160];
	int rc = a->nrest != 1 ? usage_error("open-response needs one PACKET-HEX") : spi_arg(a, &spi);
	rc = rc ? rc : key_bytes_arg(a, &kic, &kid);
	rc = rc ? rc : keyset_arg(a, kic, kid, spi.por_check, spi.por_ciphered, &ks);
	long n = rc ? -1 : hex_var(a->rest[0], "PACKET-HEX", in, sizeof in);
	if (rc || n < 0)
		return EXIT_USAGE;
	if (strip_por_udh(in, (size_t)n, &pkt, &len) != 0 || len < 13 || (size_t)(pkt[0] << 8 | pkt[1]) != len - 2 ||
	    pkt[2] < 10 || pkt[2] + 3u > len)
		return usage_error("malformed response packet: RPL, RHL and length disagree");
	if (m2m_ota_response_open(pkt, len, &spi, &ks, &r, &unprotected, data, sizeof data, err, sizeof err) != 0) {
		m2m_wipe(&ks, sizeof ks);
		fprintf(stderr, PROG ": the response does not verify: %s\n", err);
		return EXIT_UNVERIFIED;
	}
	m2m_wipe(&ks, sizeof ks);
	print_response(&r, pkt, len, unprotected, &spi);
	return 0;
}

/* ---- response ---- */

static int run_response(const args *a)
{
	static uint8_t data[M2M_OTA_PACKET_MAX], pkt[M2M_OTA_PACKET_MAX + 3];
	m2m_ota_response r = {0};
	m2m_ota_spi spi;
	m2m_ota_keyset ks = {0};
	uint8_t kic, kid;
	uint64_t status;
	size_t n, ud_len;
	char err[160];
	int rc = a->nrest > 1 ? usage_error("response takes at most one DATA-HEX") : spi_arg(a, &spi);
	rc = rc ? rc : key_bytes_arg(a, &kic, &kid);
	/* An unprotected PoR (the answer to a packet the card could not authenticate) needs no key. */
	if (!rc && !a->v[O_UNPROTECTED])
		rc = keyset_arg(a, kic, kid, spi.por_check, spi.por_ciphered, &ks);
	rc = rc ? rc : hex_exact(a->v[O_TAR], "--tar", r.tar, M2M_OTA_TAR_LEN);
	rc = rc ? rc : number(a->v[O_COUNTER], "--counter", M2M_OTA_CNTR_MAX, &r.counter);
	rc = rc ? rc : number(a->v[O_STATUS], "--status", 255, &status);
	long len = rc ? -1 : a->nrest ? hex_var(a->rest[0], "DATA-HEX", data, sizeof data) : 0;
	if (rc || len < 0)
		return EXIT_USAGE;
	r.status = (m2m_ota_status)status;
	r.data = data;
	r.len = (size_t)len;
	rc = m2m_ota_response_build(&r, &spi, a->v[O_UNPROTECTED] ? NULL : &ks, pkt, M2M_OTA_PACKET_MAX, &n, err,
				    sizeof err);
	m2m_wipe(&ks, sizeof ks);
	if (rc != 0)
		return usage_error("%s", err);
	put_hex("packet", pkt, n);
	if (m2m_sms_por_ud_build(pkt, n, pkt, sizeof pkt, &ud_len) == 0)
		put_hex("user data", pkt, ud_len);
	return 0;
}

/* ---- main ---- */

static const subcommand subcommands[] = {
	{"command", KEY_OPTS | BIT(O_SPI) | BIT(O_DEK_KEY) | BIT(O_TAR) | BIT(O_COUNTER) | BIT(O_SMS) |
			    BIT(O_SCTS) | BIT(O_SCRIPT),
	 run_command},
	{"open-command", BIT(O_KIC_KEY) | BIT(O_KID_KEY), run_open_command},
	{"open-response", KEY_OPTS | BIT(O_SPI), run_open_response},
	{"response", KEY_OPTS | BIT(O_SPI) | BIT(O_TAR) | BIT(O_COUNTER) | BIT(O_STATUS) | BIT(O_UNPROTECTED),
	 run_response},
};

static int parse_args(int argc, char **argv, const subcommand *sc, args *a)
{
	int o;
	opterr = 0;
	/* Options and positional arguments may mix (GNU getopt permutes); long_opts[o] is option o. */
	while ((o = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
		if (o == 'h')
			o = O_HELP;
		if (o == '?' || o == ':')
			return usage_error("%s '%s' (see --help)", o == ':' ? "missing value for" : "unknown option",
					   argv[optind - 1]);
		if (o != O_HELP && !(sc->opts & BIT(o)))
			return usage_error("--%s is not used by %s", long_opts[o].name, sc->name);
		if (a->v[o])
			return usage_error("--%s given twice", long_opts[o].name);
		a->v[o] = optarg ? optarg : "1";
	}
	a->rest = argv + optind;
	a->nrest = argc - optind;
	return 0;
}

int main(int argc, char **argv)
{
	args a = {0};
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	for (size_t i = 0; i < sizeof subcommands / sizeof *subcommands; i++) {
		if (strcmp(argv[1], subcommands[i].name) != 0)
			continue;
		int rc = parse_args(argc - 1, argv + 1, &subcommands[i], &a);
		if (rc || a.v[O_HELP]) {
			usage(rc ? stderr : stdout);
			return rc;
		}
		return subcommands[i].run(&a);
	}
	return usage_error("unknown subcommand '%s' (command, open-command, open-response, response)", argv[1]);
}
