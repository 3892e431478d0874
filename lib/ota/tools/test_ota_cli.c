/*
 * m2m-ota run as a process (the binary named by M2M_OTA): its encodings equal lib/ota's and
 * osmocom pySim's vectors (tests/unittests/test_ota.py), and bad input exits 2.
 */
#include "crypto/crypto.h"
#include "ota/scp80.h"
#include "ota/sms.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define KIC_DES "300102030405060708090a0b0c0d0e0f"
#define KID_DES "301102030405060708090a0b0c0d0e0f"
#define KIC_AES "200102030405060708090a0b0c0d0e0f"
#define KID_AES "201102030405060708090a0b0c0d0e0f"
#define CMD_0619 "00201506193535b00011ae733256918d050b87c94fbfe12e4dc402f262c41cf67f2f"
#define POR_0619 "027100001c12b000118bb989492c632529326a2f4681feb37c825bc9021c9f6d0b"

typedef struct result {
	int rc;
	char out[16384], err[4096];
} result;

static void slurp(FILE *f, char *buf, size_t cap)
{
	rewind(f);
	size_t n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* Runs m2m-ota with args; stdout and stderr are kept apart. */
static result *run_tool(const char **args)
{
	static result r;
	const char *bin = getenv("M2M_OTA");
	cr_assert(bin, "M2M_OTA names the m2m-ota binary (meson test sets it)");
	char *argv[32];
	int argc = 0;
	argv[argc++] = (char *)bin;
	for (; *args; args++)
		argv[argc++] = (char *)*args;
	argv[argc] = NULL;
	FILE *out = tmpfile(), *err = tmpfile();
	cr_assert(out && err);
	fflush(NULL);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		dup2(fileno(out), 1);
		dup2(fileno(err), 2);
		execv(bin, argv);
		_exit(127);
	}
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status), "m2m-ota died: status %d", status);
	r.rc = WEXITSTATUS(status);
	slurp(out, r.out, sizeof r.out);
	slurp(err, r.err, sizeof r.err);
	return &r;
}

#define RUN(...) run_tool((const char *[]){__VA_ARGS__, NULL})

/* The value of the line "label: value", or "". */
static const char *value_of(const char *out, const char *label, char *buf, size_t size)
{
	size_t n = strlen(label);
	for (const char *line = out; line && *line; line = strchr(line, '\n'), line += !!line) {
		if (strncmp(line, label, n) != 0 || strncmp(line + n, ": ", 2) != 0)
			continue;
		size_t len = strcspn(line + n + 2, "\n");
		snprintf(buf, size, "%.*s", (int)(len < size ? len : size - 1), line + n + 2);
		return buf;
	}
	return "";
}

static void expect_line(const result *r, const char *label, const char *want)
{
	char buf[1024];
	cr_expect_str_eq(value_of(r->out, label, buf, sizeof buf), want, "%s (stdout: %s)", label, r->out);
}

/* Every "label", "value" pair of a NULL-ended list. */
static void expect_lines(const result *r, const char *const *pairs)
{
	for (; pairs[0]; pairs += 2)
		expect_line(r, pairs[0], pairs[1]);
}

#define LINES(...) ((const char *const[]){__VA_ARGS__, NULL})

static void expect_usage_error(const result *r, const char *why)
{
	cr_expect_eq(r->rc, 2, "%s: exit %d, stderr %s", why, r->rc, r->err);
	cr_expect_neq(r->err[0], '\0', "%s: a message on stderr", why);
}

Test(ota_cli, command_equals_the_vector)
{
	result *r = RUN("command", "--spi", "0619", "--kic", "35", "--kic-key", KIC_DES, "--kid", "35", "--kid-key",
			KID_DES, "--tar", "b00011", "--counter", "0", "00a40004023f00");
	cr_assert_eq(r->rc, 0, "%s", r->err);
	expect_line(r, "packet", CMD_0619);
	cr_expect_null(strstr(r->out, KIC_DES), "keys are never printed");
}

Test(ota_cli, command_aes_with_equals_syntax)
{
	result *r = RUN("command", "--spi=0619", "--kic=22", "--kic-key=" KIC_AES, "--kid=22", "--kid-key=" KID_AES,
			"--tar=b00011", "--counter=0", "00a40004023f00");
	cr_assert_eq(r->rc, 0, "%s", r->err);
	expect_line(r, "packet",
		    "00281506192222b00011e87cceebb2d93083011ce294f93fc4d8de80da1abae8c37ca3e72ec4432e5058");
}

/* The library's own encoding of a long command and its SMS-DELIVERs. */
Test(ota_cli, command_with_script_and_sms_equals_the_library)
{
	char path[] = "/tmp/test_ota_cli_XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	FILE *f = fdopen(fd, "w");
	uint8_t data[400];
	size_t n = 0;
	fputs("# select MF, then EF IMSI\n00a40004023f00\n  00a4000402 6f07 # not hex: refused\n", f);
	fclose(f);
	result *r = RUN("command", "--spi", "1621", "--kic", "22", "--kic-key", KIC_AES, "--kid", "22", "--kid-key",
			KID_AES, "--tar", "b00010", "--counter", "7", "--script", path);
	expect_usage_error(r, "a blank inside an APDU");
	cr_expect(strstr(r->err, "line 3"), "%s", r->err);

	f = fopen(path, "w");
	fputs("# select MF, then a long UPDATE BINARY\n00a40004023f00\n\n", f);
	cr_assert_eq(m2m_unhex("00a40004023f00", data, 7), 0);
	n = 7;
	uint8_t update[5 + 200] = {0x00, 0xD6, 0x00, 0x00, 200};
	for (int i = 0; i < 200; i++)
		update[5 + i] = (uint8_t)i;
	char hex[2 * sizeof update + 1];
	m2m_hex(update, sizeof update, hex);
	fprintf(f, "%s   # 200 bytes\n", hex);
	fclose(f);
	memcpy(data + n, update, sizeof update);
	n += sizeof update;

	r = RUN("command", "--spi", "1621", "--kic", "22", "--kic-key", KIC_AES, "--kid", "22", "--kid-key", KID_AES,
		"--tar", "b00010", "--counter", "7", "--script", path, "--sms", "+4912345", "--scts", "42602111450040");
	unlink(path);
	cr_assert_eq(r->rc, 0, "%s", r->err);

	m2m_ota_keyset ks = {.kvn = 2, .kic = {.alg = 2, .len = 16}, .kid = {.alg = 2, .len = 16}};
	cr_assert_eq(m2m_unhex(KIC_AES, ks.kic.key, 16), 0);
	cr_assert_eq(m2m_unhex(KID_AES, ks.kid.key, 16), 0);
	m2m_ota_command c = {.tar = {0xB0, 0x00, 0x10}, .counter = 7, .data = data, .len = n};
	uint8_t spi[2] = {0x16, 0x21}, pkt[M2M_OTA_PACKET_MAX];
	cr_assert_eq(m2m_ota_spi_decode(spi, &c.spi), 0);
	size_t len;
	char err[128], want[2 * M2M_OTA_PACKET_MAX + 1];
	cr_assert_eq(m2m_ota_command_build(&c, &ks, pkt, sizeof pkt, &len, err, sizeof err), 0, "%s", err);
	m2m_hex(pkt, len, want);
	expect_line(r, "packet", want);

	static uint8_t tpdus[M2M_SMS_CONCAT_MAX][M2M_SMS_TPDU_MAX];
	size_t lens[M2M_SMS_CONCAT_MAX], count;
	uint8_t scts[7] = {0x42, 0x60, 0x21, 0x11, 0x45, 0x00, 0x40};
	cr_assert_eq(m2m_sms_deliver_build(pkt, len, "+4912345", scts, 7, tpdus, lens, M2M_SMS_CONCAT_MAX, &count, err,
					   sizeof err),
		     0);
	cr_assert_eq(count, 2);
	for (size_t i = 0; i < count; i++) {
		char label[64];
		snprintf(label, sizeof label, "SMS-DELIVER %zu/2", i + 1);
		m2m_hex(tpdus[i], lens[i], want);
		expect_line(r, label, want);
	}
}

Test(ota_cli, command_put_key_in_a_script)
{
	char path[] = "/tmp/test_ota_cli_XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	FILE *f = fdopen(fd, "w");
	fputs("put-key 3 " KID_AES " " KIC_AES " 000102030405060708090a0b0c0d0e0f\n", f);
	fclose(f);
	result *r = RUN("command", "--spi", "1621", "--kic", "22", "--kic-key", KIC_AES, "--kid", "22", "--kid-key",
			KID_AES, "--tar", "000000", "--counter", "1", "--script", path);
	expect_usage_error(r, "put-key without --dek-key");
	r = RUN("command", "--spi", "1621", "--kic", "22", "--kic-key", KIC_AES, "--kid", "22", "--kid-key", KID_AES,
		"--dek-key", "0f0e0d0c0b0a09080706050403020100", "--tar", "000000", "--counter", "1", "--script", path);
	cr_assert_eq(r->rc, 0, "%s", r->err);
	char pkt[2 * M2M_OTA_PACKET_MAX + 1];
	value_of(r->out, "packet", pkt, sizeof pkt);
	/* Open it again: its one APDU is the PUT KEY 80 D8 02 81 with Lc 3 x 23 + 1 = 70. */
	r = RUN("open-command", "--kic-key", KIC_AES, "--kid-key", KID_AES, pkt);
	unlink(path);
	cr_assert_eq(r->rc, 0, "%s", r->err);
	char apdu[512];
	cr_expect_eq(strncmp(value_of(r->out, "APDU 1", apdu, sizeof apdu), "80d8028146" "03" "88", 14), 0, "%s",
		     apdu);
	cr_expect_null(strstr(r->out, KID_AES), "keys are never printed");
}

Test(ota_cli, open_command_prints_every_field)
{
	result *r = RUN("open-command", "--kic-key", KIC_DES, "--kid-key", KID_DES, CMD_0619);
	cr_assert_eq(r->rc, 0, "%s", r->err);
	expect_lines(r, LINES("CPL", "32", "CHL", "21", "SPI", "0619", "SPI checksum", "cryptographic checksum (CC)",
			      "SPI ciphering", "yes", "SPI counter", "no counter", "SPI PoR", "always",
			      "SPI PoR checksum", "cryptographic checksum (CC)", "SPI PoR ciphering", "yes",
			      "SPI PoR by", "SMS-DELIVER-REPORT", "KIc", "35 (3DES-CBC, 2 keys, key version 3)",
			      "KID", "35 (3DES CBC-MAC, 2 keys, key version 3)", "TAR", "b00011", "CNTR",
			      "0000000000 (0)", "PCNTR", "3", "checksum", "verified", "APDU 1", "00a40004023f00"));
	cr_expect_null(strstr(r->out, KIC_DES));
	cr_expect_null(strstr(r->out, KID_DES));
}

Test(ota_cli, open_command_that_does_not_verify)
{
	result *r = RUN("open-command", "--kic-key", KIC_DES, "--kid-key", KIC_DES, CMD_0619);
	cr_expect_eq(r->rc, 1, "wrong KID key: %s", r->err);
	cr_expect(strstr(r->err, "checksum"), "%s", r->err);
	r = RUN("open-command", "--kic-key", KIC_DES, "--kid-key", KID_DES,
		"00201506193535b00011ae733256918d050b87c94fbfe12e4dc402f262c41cf67f2e");
	cr_expect_eq(r->rc, 1, "last byte altered: %s", r->err);
}

Test(ota_cli, open_response_with_and_without_the_header)
{
	const char *spi = "0619";
	result *r = RUN("open-response", "--spi", spi, "--kic", "35", "--kic-key", KIC_DES, "--kid", "35", "--kid-key",
			KID_DES, POR_0619);
	cr_assert_eq(r->rc, 0, "%s", r->err);
	expect_lines(r, LINES("RPL", "28", "RHL", "18", "TAR", "b00011", "CNTR", "0000000000 (0)", "PCNTR", "6",
			      "status", "00 (PoR OK)", "checksum", "verified", "commands executed", "1", "last SW",
			      "6132", "data", "016132"));
	r = RUN("open-response", "--spi", spi, "--kic", "35", "--kic-key", KIC_DES, "--kid", "35", "--kid-key",
		KID_DES, POR_0619 + 6);
	cr_assert_eq(r->rc, 0, "%s", r->err);
	expect_line(r, "last SW", "6132");
	r = RUN("open-response", "--spi", "0601", "027100000e0ab0001100000000000000016132");
	cr_assert_eq(r->rc, 0, "no keys needed: %s", r->err);
	expect_line(r, "checksum", "none");
}

Test(ota_cli, open_response_that_does_not_verify)
{
	/* pySim's CC-only PoR with "01 command executed" made "02". */
	result *r = RUN("open-response", "--spi", "0609", "--kid", "35", "--kid-key", "12110C78E678C25408233076AA033615",
			"027100001612b000110000000000000055f47118381175fb02612f");
	cr_expect_eq(r->rc, 1, "%s", r->err);
	r = RUN("open-response", "--spi", "0609", "--kid", "35", "--kid-key", "12110C78E678C25408233076AA033615",
		"027100001612b000110000000000000055f47118381175fb01612f");
	cr_expect_eq(r->rc, 0, "the unaltered one: %s", r->err);
}

Test(ota_cli, response_builds_the_cards_por)
{
	result *r = RUN("response", "--spi", "0619", "--kic", "35", "--kic-key", KIC_DES, "--kid", "35", "--kid-key",
			KID_DES, "--tar", "b00011", "--counter", "0", "--status", "0", "016132");
	cr_assert_eq(r->rc, 0, "%s", r->err);
	expect_line(r, "user data", POR_0619);
	r = RUN("response", "--spi", "0619", "--tar", "b00011", "--counter", "0", "--status", "9", "--unprotected");
	cr_assert_eq(r->rc, 0, "%s", r->err);
	expect_line(r, "packet", "000b0ab0001100000000000009");  /* RPL 11, RHL 10, CNTR, PCNTR 0, status 09 */
}

Test(ota_cli, bad_usage_exits_2)
{
	expect_usage_error(RUN("frobnicate"), "unknown subcommand");
	expect_usage_error(RUN("command", "--spi", "06", "--tar", "b00011", "--counter", "0", "00"), "short SPI");
	expect_usage_error(RUN("command", "--spi", "0619", "--kic", "35", "--kic-key", "zz", "--kid", "35",
			       "--kid-key", KID_DES, "--tar", "b00011", "--counter", "0", "00"),
			   "bad hex key");
	expect_usage_error(RUN("command", "--spi", "0619", "--kic", "31", "--kic-key", "0001020304050607", "--kid",
			       "31", "--kid-key", "0001020304050607", "--tar", "b00011", "--counter", "0", "00"),
			   "single DES");
	expect_usage_error(RUN("command", "--spi", "0619", "--kic", "39", "--kic-key", KIC_DES, "--kid", "35",
			       "--kid-key", KID_DES, "--tar", "b00011", "--counter", "0", "00"),
			   "3DES 3 keys with a 16-byte key");
	expect_usage_error(RUN("command", "--spi", "0000", "--tar", "b00011", "--counter", "0x10000000000", "00"),
			   "counter beyond 40 bits");
	expect_usage_error(RUN("command", "--spi", "0000", "--tar", "b00011", "--counter", "-1", "00"), "negative");
	expect_usage_error(RUN("command", "--spi", "0000", "--tar", "b00011", "--counter", "0"), "no APDU");
	expect_usage_error(RUN("command", "--spi", "0000", "--tar", "b00011", "--counter", "0", "abc"), "odd hex");
	expect_usage_error(RUN("command", "--spi", "0003", "--tar", "b00011", "--counter", "0", "00"), "reserved SPI");
	expect_usage_error(RUN("command", "--spi", "0000", "--tar", "b00011", "--counter", "0", "--status", "1", "00"),
			   "option of another subcommand");
	expect_usage_error(RUN("command", "--spi", "0000", "--spi", "0000", "--tar", "b00011", "--counter", "0", "00"),
			   "twice");
	expect_usage_error(RUN("command", "--spi", "0000", "--tar", "b00011", "--counter", "0", "--sms", "x1", "00"),
			   "bad originator");
	expect_usage_error(RUN("command", "--bogus"), "unknown option");
	expect_usage_error(RUN("command", "--spi"), "missing value");
	expect_usage_error(RUN("open-command", "--kic-key", KIC_DES, "--kid-key", KID_DES, "0020150619"),
			   "truncated packet");
	expect_usage_error(RUN("open-command", CMD_0619), "keys missing");
	expect_usage_error(RUN("open-command", "--kic-key", KIC_DES, "--kid-key", KID_DES, CMD_0619 "00"),
			   "CPL disagrees");
	expect_usage_error(RUN("open-response", "--spi", "0619", "--kic", "35", "--kic-key", KIC_DES, "--kid", "35",
			       "--kid-key", KID_DES, "027100001c12"),
			   "truncated PoR");
	expect_usage_error(RUN("open-response", "--spi", "0619", "--kic", "35", "--kic-key", KIC_DES, "--kid", "45",
			       "--kid-key", KID_DES, POR_0619),
			   "two key versions");
	cr_expect_eq(RUN("--help")->rc, 0);
	cr_expect_eq(RUN("command", "--help")->rc, 0);
	cr_expect_eq(RUN(NULL)->rc, 2, "no arguments");
}
