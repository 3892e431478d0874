/*
 * testbed bench-validate SECONDS: validations per second by the PVA, through a running testbed.
 * For SECONDS in each mode the testbed, as relying party, keeps IN_FLIGHT validationRequests for
 * the topology's first TRE open at its agency; each is the whole procedure of the validate
 * scenario (challenge, the TRE's signed evidence, appraisal, the PVA's signed verdict) through
 * real processes and CurveZMQ links. Then, for comparison with the signatures each validation
 * costs, OpenSSL's raw ECDSA P-256 sign and verify (of a SHA-256 digest, as `openssl speed
 * ecdsap256` does) are timed in this process for SECONDS each. Prints figures only: a benchmark,
 * never a pass/fail test (docs/benchmarks.md).
 */
#include "testbed.h"

#include "pki/pki.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define IN_FLIGHT 4      /* enough to keep the PVA and the TRE busy while one reply travels */
#define ECDSA_BATCH 64   /* operations between two looks at the clock */
#define BENCH_ASSURANCE 1

typedef struct bench {
	m2m_node *node;
	const char *agency, *tre;
	int mode;
	long validations, failures;
} bench;

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void request(bench *b, tb_reply *r)
{
	M2M_VALIDATION_REQUEST *q = M2M_VALIDATION_REQUEST_new();
	m2m_set_str(q->tre, b->tre);
	ASN1_ENUMERATED_set(q->mode, b->mode);
	q->min_assurance = BENCH_ASSURANCE;
	tb_call_start(b->node, b->agency, M2M_MSG_VALIDATION_REQUEST, q, r);
	M2M_VALIDATION_REQUEST_free(q);
}

/* One answer in: counted (a signed verdict is a validation, whatever it says), and the next
 * request started while the clock runs. 1 when a new request is in flight. */
static int next(bench *b, tb_reply *r, int running)
{
	if (r->type == M2M_MSG_VALIDATION_RESPONSE)
		b->validations++;
	else
		b->failures++;
	tb_reply_clear(r);
	if (running)
		request(b, r);
	return running;
}

/* The validations per second of one mode. */
static double run_mode(bench *b, double seconds)
{
	tb_reply r[IN_FLIGHT];
	int busy[IN_FLIGHT];
	double t0 = now_s(), end = t0 + seconds;
	b->validations = 0;
	for (int i = 0; i < IN_FLIGHT; i++) {
		request(b, &r[i]);
		busy[i] = 1;
	}
	for (int left = IN_FLIGHT; left;) {
		m2m_node_poll(b->node, 20);
		left = 0;
		for (int i = 0; i < IN_FLIGHT; i++) {
			if (busy[i] && r[i].done)
				busy[i] = next(b, &r[i], now_s() < end);
			left += busy[i];
		}
	}
	return (double)b->validations / (now_s() - t0);
}

/* ---- raw ECDSA P-256 ---------------------------------------------------------------------------- */

/* Signs (or verifies sig over) digest for seconds; operations per second, or -1 on an error. */
static double ecdsa_rate(EVP_PKEY *key, int sign, const uint8_t *digest, const uint8_t *sig, size_t siglen,
			 double seconds)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
	uint8_t out[128];
	long done = 0;
	int ok = ctx && (sign ? EVP_PKEY_sign_init(ctx) : EVP_PKEY_verify_init(ctx)) == 1;
	double t0 = now_s(), end = t0 + seconds;
	while (ok && now_s() < end)
		for (int i = 0; ok && i < ECDSA_BATCH; i++, done++) {
			size_t n = sizeof out;
			ok = sign ? EVP_PKEY_sign(ctx, out, &n, digest, 32) == 1 : EVP_PKEY_verify(ctx, sig, siglen, digest, 32) == 1;
		}
	EVP_PKEY_CTX_free(ctx);
	return ok ? (double)done / (now_s() - t0) : -1;
}

static int ecdsa(double seconds)
{
	uint8_t digest[32], sig[128];
	size_t siglen = sizeof sig;
	EVP_PKEY *key = m2m_pki_keygen();
	EVP_PKEY_CTX *ctx = key ? EVP_PKEY_CTX_new(key, NULL) : NULL;
	memset(digest, 0x5a, sizeof digest);
	int ok = ctx && EVP_PKEY_sign_init(ctx) == 1 && EVP_PKEY_sign(ctx, sig, &siglen, digest, sizeof digest) == 1;
	EVP_PKEY_CTX_free(ctx);
	double sign = ok ? ecdsa_rate(key, 1, digest, NULL, 0, seconds) : -1;
	double verify = ok ? ecdsa_rate(key, 0, digest, sig, siglen, seconds) : -1;
	EVP_PKEY_free(key);
	if (sign < 0 || verify < 0) {
		fprintf(stderr, "testbed: OpenSSL could not sign or verify with ECDSA P-256\n");
		return -1;
	}
	printf("ecdsa_sign_per_second %.0f\necdsa_verify_per_second %.0f\n", sign, verify);
	return 0;
}

/* ---- the command -------------------------------------------------------------------------------- */

static int first_tre(const tb_topology *t)
{
	for (int i = 0; i < t->nentities; i++)
		if (!strcmp(t->entities[i].role, "tre"))
			return i;
	return -1;
}

static int validations(const tb_topology *t, m2m_node *n, double seconds)
{
	int i = first_tre(t);
	if (i < 0) {
		fprintf(stderr, "testbed: the topology has no TRE to validate\n");
		return -1;
	}
	bench b = {.node = n, .tre = t->entities[i].id, .agency = t->entities[tb_agency_of(t, i)].id};
	long failures = 0;
	printf("tre %s\npva %s\nin_flight %d\nseconds_per_mode %.2f\n", b.tre, b.agency, IN_FLIGHT, seconds);
	for (b.mode = M2M_MODE_AUTONOMOUS; b.mode <= M2M_MODE_REMOTE; b.mode++) {
		b.failures = 0;
		printf("%s %.1f\n", tb_mode_name(b.mode), run_mode(&b, seconds));
		failures += b.failures;
	}
	printf("failed_validations %ld\n", failures);
	return 0;
}

int tb_cmd_bench_validate(tb_opts *o, int argc, char **argv)
{
	double seconds = atof(argv[1]);
	if (seconds <= 0) {
		fprintf(stderr, "testbed: bench-validate takes a number of seconds\n");
		return 2;
	}
	if (tb_rundir_resolve(o, 0))
		return 1;
	tb_topology *t = tb_rundir_topology(o->rundir, 0);
	m2m_node *n = t ? tb_client_open(o->rundir, 0) : NULL;
	int rc = n && validations(t, n, seconds) == 0 && ecdsa(seconds) == 0 ? 0 : 1;
	m2m_node_free(n);
	tb_topology_free(t);
	return rc;
}
