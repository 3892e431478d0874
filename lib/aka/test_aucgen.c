/* m2m-auc-gen run in-process: TS 35.208 test set 1, the AUTS modes, and refusal of bad input. */
#include "aka/aucgen_cli.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define K "465b5ce8b199b49faa5f0a2ee238a6bc"
#define OP "cdc202d5123e20f62b6d676ac72cb318"
#define OPC "cd63cb71954a9f4e48a5994e37a02baf"
#define RAND "23553cbe9637a89d218ae64dae47bf35"

typedef struct result {
	int rc;
	char *out, *err;
	size_t out_len, err_len;
} result;

static result run_tool(const char **args)
{
	char *argv[32];
	int argc = 0;
	result r;
	argv[argc++] = (char *)"m2m-auc-gen";
	for (; *args; args++)
		argv[argc++] = (char *)*args;
	argv[argc] = NULL;
	FILE *out = open_memstream(&r.out, &r.out_len), *err = open_memstream(&r.err, &r.err_len);
	cr_assert(out && err);
	r.rc = m2m_aucgen_main(argc, argv, out, err);
	fclose(out);
	fclose(err);
	return r;
}

#define RUN(...) run_tool((const char *[]){__VA_ARGS__, NULL})

static void result_free(result *r)
{
	free(r->out);
	free(r->err);
}

/* The hex value on the line "LABEL: value", or "" if there is none. */
static const char *value_of(const char *out, const char *label, char *buf, size_t size)
{
	size_t n = strlen(label);
	for (const char *line = out; line && *line; line = strchr(line, '\n'), line += !!line) {
		if (strncmp(line, label, n) != 0 || line[n] != ':')
			continue;
		line += n + 1;
		line += strspn(line, " ");
		size_t len = strcspn(line, "\n");
		snprintf(buf, size, "%.*s", (int)(len < size ? len : size - 1), line);
		return buf;
	}
	return "";
}

static void expect_value(const result *r, const char *label, const char *want)
{
	char buf[80];
	cr_expect_str_eq(value_of(r->out, label, buf, sizeof buf), want, "%s", label);
}

/* TS 35.208 set 1; AUTN = (SQN xor AK) || AMF || MAC-A, SRES and Kc by c2 and c3. */
static void expect_set1(const result *r)
{
	cr_assert_eq(r->rc, 0, "stderr: %s", r->err);
	expect_value(r, "RAND", RAND);
	expect_value(r, "SQN", "ff9bb4d0b607");
	expect_value(r, "AMF", "b9b9");
	expect_value(r, "OPc", OPC);
	expect_value(r, "MAC-A", "4a9ffac354dfafb3");
	expect_value(r, "MAC-S", "01cfaf9ec4e871e9");
	expect_value(r, "RES", "a54211d5e3ba50bf");
	expect_value(r, "CK", "b40ba9a3c58b2a05bbf0d987b21bf8cb");
	expect_value(r, "IK", "f769bcd751044604127672711c6d3441");
	expect_value(r, "AK", "aa689c648370");
	expect_value(r, "AK*", "451e8beca43b");
	expect_value(r, "AUTN", "55f328b43577b9b94a9ffac354dfafb3");
	expect_value(r, "SRES", "46f8416a");
	expect_value(r, "Kc", "eae4be823af9a08b");
	cr_expect_eq(r->err_len, 0);
}

Test(aucgen, set1_with_op)
{
	result r = RUN("--k", K, "--op", OP, "--amf", "b9b9", "--sqn", "0xff9bb4d0b607", "--rand", RAND);
	expect_set1(&r);
	result_free(&r);
}

Test(aucgen, set1_with_opc_decimal_sqn_and_equals_syntax)
{
	result r = RUN("--k=" K, "--opc=" OPC, "--amf=B9B9", "--sqn=281044218590727", "--rand", RAND);
	expect_set1(&r);
	result_free(&r);
}

Test(aucgen, defaults_random_rand_amf_8000_sqn_0)
{
	char a[80], b[80];
	result r1 = RUN("--k", K, "--opc", OPC), r2 = RUN("--k", K, "--opc", OPC);
	cr_assert_eq(r1.rc, 0);
	cr_assert_eq(r2.rc, 0);
	expect_value(&r1, "AMF", "8000");
	expect_value(&r1, "SQN", "000000000000");
	cr_expect_eq(strlen(value_of(r1.out, "RAND", a, sizeof a)), 32);
	cr_expect_str_neq(a, value_of(r2.out, "RAND", b, sizeof b), "RAND is drawn per run");
	result_free(&r1);
	result_free(&r2);
}

Test(aucgen, make_auts_then_auts)
{
	char auts[80];
	result made = RUN("--k", K, "--op", OP, "--rand", RAND, "--make-auts", "--sqn-ms", "12345");
	cr_assert_eq(made.rc, 0, "stderr: %s", made.err);
	cr_assert_eq(strlen(value_of(made.out, "AUTS", auts, sizeof auts)), 28);
	result back = RUN("--k", K, "--opc", OPC, "--rand", RAND, "--auts", auts);
	cr_assert_eq(back.rc, 0, "stderr: %s", back.err);
	expect_value(&back, "SQN_MS", "000000003039");
	auts[27] = auts[27] == '0' ? '1' : '0';
	result bad = RUN("--k", K, "--opc", OPC, "--rand", RAND, "--auts", auts);
	cr_expect_eq(bad.rc, 1);
	cr_expect_str_eq(bad.out, "");
	cr_expect_str_eq(bad.err, "m2m-auc-gen: MAC-S of AUTS does not verify\n");
	result_free(&made);
	result_free(&back);
	result_free(&bad);
}

Test(aucgen, help)
{
	result r = RUN("--help");
	cr_expect_eq(r.rc, 0);
	cr_expect(strstr(r.out, "usage: m2m-auc-gen") != NULL);
	result_free(&r);
}

/* Each must fail with status 2, one line on stderr and nothing on stdout. */
static void expect_usage_error(result r, const char *what)
{
	cr_expect_eq(r.rc, 2, "%s: status %d", what, r.rc);
	cr_expect_str_eq(r.out, "", "%s", what);
	cr_expect(r.err_len > 0 && strchr(r.err, '\n') == r.err + r.err_len - 1,
		  "%s: not one line: '%s'", what, r.err);
	result_free(&r);
}

Test(aucgen, bad_input)
{
	expect_usage_error(RUN("--op", OP), "missing --k");
	expect_usage_error(RUN("--k", K), "neither --op nor --opc");
	expect_usage_error(RUN("--k", K, "--op", OP, "--opc", OPC), "both --op and --opc");
	expect_usage_error(RUN("--k", "465b5ce8", "--op", OP), "short K");
	expect_usage_error(RUN("--k", K "00", "--op", OP), "long K");
	expect_usage_error(RUN("--k", "x65b5ce8b199b49faa5f0a2ee238a6bc", "--op", OP), "non-hex K");
	expect_usage_error(RUN("--k", K, "--op", OP, "--amf", "800"), "short AMF");
	expect_usage_error(RUN("--k", K, "--op", OP, "--rand", "23"), "short RAND");
	expect_usage_error(RUN("--k", K, "--op", OP, "--sqn", "281474976710656"), "SQN of 49 bits");
	expect_usage_error(RUN("--k", K, "--op", OP, "--sqn", "-1"), "negative SQN");
	expect_usage_error(RUN("--k", K, "--op", OP, "--sqn", "12x"), "trailing junk");
	expect_usage_error(RUN("--k", K, "--op", OP, "--sqn", "0x"), "empty hex SQN");
	expect_usage_error(RUN("--k", K, "--op", OP, "--sqn"), "missing value");
	expect_usage_error(RUN("--k", K, "--op", OP, "--key", K), "unknown option");
	expect_usage_error(RUN("--k", K, "--k", K, "--op", OP), "option twice");
	expect_usage_error(RUN("--k", K, "--op", OP, "--auts", "00"), "--auts without --rand");
	expect_usage_error(RUN("--k", K, "--op", OP, "--rand", RAND, "--make-auts"), "no --sqn-ms");
	expect_usage_error(RUN("--k", K, "--op", OP, "--rand", RAND, "--auts",
			       "0000000000000000000000000000", "--make-auts", "--sqn-ms", "1"),
			   "both AUTS modes");
	expect_usage_error(RUN("--k", K, "--op", OP, "--rand", RAND, "--sqn", "1", "--auts",
			       "0000000000000000000000000000"),
			   "--sqn with --auts");
	expect_usage_error(RUN("--k", K, "--op", OP, "--rand", RAND, "--auts", "0011"), "short AUTS");
}
