/* m2m-auc-gen: argument handling and the three modes (vector, --auts, --make-auts). */
#include "aka/aucgen_cli.h"

#include "aka/aka.h"
#include "aka/gsm.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define PROG "m2m-auc-gen"
#define OPENSSL_FAILED PROG ": MILENAGE computation failed (OpenSSL)\n"

enum { O_K, O_OP, O_OPC, O_AMF, O_SQN, O_RAND, O_AUTS, O_SQN_MS, O_COUNT };
static const char *const opt_names[O_COUNT] = {"k", "op", "opc", "amf", "sqn", "rand", "auts",
					       "sqn-ms"};

typedef enum { MODE_VECTOR, MODE_AUTS, MODE_MAKE_AUTS } mode;
/* The options each mode reads; any other is refused rather than silently ignored. */
#define BIT(o) (1u << (o))
static const unsigned mode_opts[] = {
	[MODE_VECTOR] = BIT(O_K) | BIT(O_OP) | BIT(O_OPC) | BIT(O_AMF) | BIT(O_SQN) | BIT(O_RAND),
	[MODE_AUTS] = BIT(O_K) | BIT(O_OP) | BIT(O_OPC) | BIT(O_RAND) | BIT(O_AUTS),
	[MODE_MAKE_AUTS] = BIT(O_K) | BIT(O_OP) | BIT(O_OPC) | BIT(O_RAND) | BIT(O_SQN_MS),
};
static const char *const mode_names[] = {"vector generation", "--auts", "--make-auts"};

typedef struct args {
	const char *v[O_COUNT];
	int make_auts, help;
} args;

typedef struct inputs {
	mode md;
	uint8_t k[16], op_or_opc[16], amf[2], rand[16], auts[14];
	uint64_t sqn, sqn_ms;
} inputs;

static int fail(FILE *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(FILE *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs(PROG ": ", err);
	vfprintf(err, fmt, ap);
	fputc('\n', err);
	va_end(ap);
	return 2;
}

static void usage(FILE *out)
{
	fputs("usage: " PROG " --k HEX (--op HEX | --opc HEX) [--amf HEX] [--sqn N] [--rand HEX]\n"
	      "       " PROG " --k HEX (--op HEX | --opc HEX) --rand HEX --auts HEX\n"
	      "       " PROG " --k HEX (--op HEX | --opc HEX) --rand HEX --make-auts --sqn-ms N\n"
	      "Computes MILENAGE (TS 35.206) and a UMTS AKA vector (TS 33.102 6.3) and prints\n"
	      "RAND, SQN, AMF, OPc, MAC-A, MAC-S, RES, CK, IK, AK, AK*, AUTN, SRES, Kc.\n"
	      "  --k, --op, --opc, --rand  32 hex digits; RAND is random when omitted\n"
	      "  --amf   4 hex digits, default 8000 (the separation bit that TS 33.401 requires\n"
	      "          for E-UTRAN set, so vectors also serve EPS)\n"
	      "  --sqn   48-bit SQN, decimal or 0x-prefixed hex, default 0\n"
	      "  --auts  28 hex digits: checks MAC-S and prints SQN_MS (exit 1 if MAC-S fails)\n"
	      "  --make-auts --sqn-ms N  prints the AUTS a USIM sends for SQN_MS = N\n"
	      "Exit status: 0 ok, 1 MAC-S failure, 2 bad usage.\n",
	      out);
}

static int parse_hex(const char *s, uint8_t *out, size_t n)
{
	if (strlen(s) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = OPENSSL_hexchar2int((unsigned char)s[2 * i]);
		int lo = OPENSSL_hexchar2int((unsigned char)s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* Decimal, or hex after 0x; digits only (strtoull alone would take signs and spaces). */
static int parse_sqn(const char *s, uint64_t *v)
{
	int hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	const char *digits = hex ? s + 2 : s;
	char *end;
	if (!(hex ? OPENSSL_hexchar2int((unsigned char)digits[0]) >= 0 :
		    digits[0] >= '0' && digits[0] <= '9'))
		return -1;
	errno = 0;
	*v = strtoull(digits, &end, hex ? 16 : 10);
	return errno || *end || *v > M2M_SQN_MAX ? -1 : 0;
}

/* The option an argument "--name" or "--name=value" names, or -1. */
static int find_option(const char *arg, const char *eq)
{
	size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
	if (strncmp(arg, "--", 2) != 0)
		return -1;
	for (int o = 0; o < O_COUNT; o++)
		if (strlen(opt_names[o]) == len - 2 && strncmp(opt_names[o], arg + 2, len - 2) == 0)
			return o;
	return -1;
}

/* Takes "--name value" and "--name=value". */
static int parse_args(int argc, char **argv, args *a, FILE *err)
{
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *eq = strchr(arg, '=');
		if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
			a->help = 1;
			continue;
		}
		if (!strcmp(arg, "--make-auts")) {
			a->make_auts = 1;
			continue;
		}
		int o = find_option(arg, eq);
		if (o < 0)
			return fail(err, "unknown option '%s' (see --help)", arg);
		if (a->v[o])
			return fail(err, "--%s given twice", opt_names[o]);
		if (!eq && i + 1 >= argc)
			return fail(err, "--%s needs a value", opt_names[o]);
		a->v[o] = eq ? eq + 1 : argv[++i];
	}
	return 0;
}

static int check_mode(const args *a, inputs *in, FILE *err)
{
	if (a->make_auts && a->v[O_AUTS])
		return fail(err, "--auts and --make-auts exclude each other");
	in->md = a->v[O_AUTS] ? MODE_AUTS : a->make_auts ? MODE_MAKE_AUTS : MODE_VECTOR;
	for (int o = 0; o < O_COUNT; o++)
		if (a->v[o] && !(mode_opts[in->md] & BIT(o)))
			return fail(err, "--%s is not used in %s mode", opt_names[o], mode_names[in->md]);
	if (!a->v[O_K])
		return fail(err, "missing --k");
	if (!a->v[O_OP] == !a->v[O_OPC])
		return fail(err, a->v[O_OP] ? "give --op or --opc, not both" : "missing --op or --opc");
	if (in->md != MODE_VECTOR && !a->v[O_RAND])
		return fail(err, "%s needs the --rand of the failed challenge", mode_names[in->md]);
	if (in->md == MODE_MAKE_AUTS && !a->v[O_SQN_MS])
		return fail(err, "--make-auts needs --sqn-ms");
	return 0;
}

static int hex_arg(const args *a, int o, uint8_t *out, size_t n, FILE *err)
{
	if (a->v[o] && parse_hex(a->v[o], out, n) != 0)
		return fail(err, "--%s: expected %zu hex digits, got '%s'", opt_names[o], 2 * n, a->v[o]);
	return 0;
}

static int num_arg(const args *a, int o, uint64_t *out, FILE *err)
{
	if (a->v[o] && parse_sqn(a->v[o], out) != 0)
		return fail(err, "--%s: expected a 48-bit number (decimal or 0x hex), got '%s'",
			    opt_names[o], a->v[o]);
	return 0;
}

static int load_inputs(const args *a, inputs *in, FILE *err)
{
	int rc = check_mode(a, in, err);
	rc = rc ? rc : hex_arg(a, O_K, in->k, 16, err);
	rc = rc ? rc : hex_arg(a, a->v[O_OP] ? O_OP : O_OPC, in->op_or_opc, 16, err);
	rc = rc ? rc : hex_arg(a, O_AMF, in->amf, 2, err);
	rc = rc ? rc : hex_arg(a, O_RAND, in->rand, 16, err);
	rc = rc ? rc : hex_arg(a, O_AUTS, in->auts, 14, err);
	rc = rc ? rc : num_arg(a, O_SQN, &in->sqn, err);
	return rc ? rc : num_arg(a, O_SQN_MS, &in->sqn_ms, err);
}

static void put(FILE *out, const char *label, const uint8_t *b, size_t n)
{
	fprintf(out, "%-8s", label);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%02x", b[i]);
	fputc('\n', out);
}

typedef struct vector_out {
	uint8_t sqn[6], mac_a[8], mac_s[8], res[8], ck[16], ik[16], ak[6], ak_star[6], sres[4], kc[8];
	m2m_aka_av av;
} vector_out;

static int compute_vector(m2m_milenage *m, const inputs *in, vector_out *v)
{
	m2m_sqn_pack(in->sqn, v->sqn);
	if (m2m_milenage_f1(m, in->rand, v->sqn, in->amf, v->mac_a) != 0 ||
	    m2m_milenage_f1star(m, in->rand, v->sqn, in->amf, v->mac_s) != 0 ||
	    m2m_milenage_f2345(m, in->rand, v->res, v->ck, v->ik, v->ak) != 0 ||
	    m2m_milenage_f5star(m, in->rand, v->ak_star) != 0 ||
	    m2m_aka_av_build(m, in->rand, in->sqn, in->amf, &v->av) != 0)
		return -1;
	m2m_gsm_c2(v->res, sizeof v->res, v->sres);
	m2m_gsm_c3(v->ck, v->ik, v->kc);
	return 0;
}

static int run_vector(m2m_milenage *m, const inputs *in, FILE *out, FILE *err)
{
	vector_out v;
	if (compute_vector(m, in, &v) != 0) {
		fputs(OPENSSL_FAILED, err);
		return 1;
	}
	put(out, "RAND:", in->rand, 16);
	put(out, "SQN:", v.sqn, 6);
	put(out, "AMF:", in->amf, 2);
	put(out, "OPc:", m->opc, 16);
	put(out, "MAC-A:", v.mac_a, 8);
	put(out, "MAC-S:", v.mac_s, 8);
	put(out, "RES:", v.res, 8);
	put(out, "CK:", v.ck, 16);
	put(out, "IK:", v.ik, 16);
	put(out, "AK:", v.ak, 6);
	put(out, "AK*:", v.ak_star, 6);
	put(out, "AUTN:", v.av.autn, 16);
	put(out, "SRES:", v.sres, 4);
	put(out, "Kc:", v.kc, 8);
	return 0;
}

static int run_auts(m2m_milenage *m, const inputs *in, FILE *out, FILE *err)
{
	uint64_t sqn_ms;
	uint8_t b[6];
	m2m_aka_status s = m2m_aka_auts_open(m, in->rand, in->auts, &sqn_ms);
	if (s != M2M_AKA_OK) {
		fputs(s == M2M_AKA_MAC_FAILURE ? PROG ": MAC-S of AUTS does not verify\n" : OPENSSL_FAILED,
		      err);
		return 1;
	}
	m2m_sqn_pack(sqn_ms, b);
	put(out, "SQN_MS:", b, 6);
	return 0;
}

static int run_make_auts(m2m_milenage *m, const inputs *in, FILE *out, FILE *err)
{
	uint8_t auts[14];
	if (m2m_aka_auts_build(m, in->rand, in->sqn_ms, auts) != 0) {
		fputs(OPENSSL_FAILED, err);
		return 1;
	}
	put(out, "AUTS:", auts, 14);
	return 0;
}

static int run(const args *a, inputs *in, FILE *out, FILE *err)
{
	m2m_milenage m;
	int rc;
	if ((a->v[O_OP] ? m2m_milenage_init_op(&m, in->k, in->op_or_opc) :
			  m2m_milenage_init(&m, in->k, in->op_or_opc)) != 0) {
		fputs(PROG ": cannot set up AES-128 (OpenSSL)\n", err);
		return 1;
	}
	switch (in->md) {
	case MODE_AUTS:
		rc = run_auts(&m, in, out, err);
		break;
	case MODE_MAKE_AUTS:
		rc = run_make_auts(&m, in, out, err);
		break;
	default:
		rc = run_vector(&m, in, out, err);
	}
	m2m_milenage_clear(&m);
	return rc;
}

int m2m_aucgen_main(int argc, char **argv, FILE *out, FILE *err)
{
	args a = {0};
	/* AMF 8000 by default: see usage(). */
	inputs in = {.amf = {0x80, 0x00}};
	int rc = parse_args(argc, argv, &a, err);
	if (rc == 0 && a.help) {
		usage(out);
		return 0;
	}
	rc = rc ? rc : load_inputs(&a, &in, err);
	if (rc == 0 && in.md == MODE_VECTOR && !a.v[O_RAND] && RAND_bytes(in.rand, 16) != 1) {
		fputs(PROG ": no RAND: the OpenSSL DRBG failed\n", err);
		rc = 1;
	}
	rc = rc ? rc : run(&a, &in, out, err);
	OPENSSL_cleanse(&in, sizeof in);
	return rc;
}
