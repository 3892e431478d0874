/*
 * MILENAGE against every TS 35.208 set, the GSM conversions, and AKA end to end: AUTN, MAC and
 * sync failures, AUTS and re-synchronisation, the IND array, and persistence of SQN states.
 */
#include "aka/aka.h"
#include "aka/aka_testdata.h"
#include "aka/auth_info.h"
#include "aka/gsm.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <string.h>

#define CSV AKA_TESTDATA_DIR "/milenage_ts35208.csv"
#define MAX_SETS 64

typedef struct vec {
	int set;
	uint8_t k[16], rand[16], sqn[6], amf[2], op[16], opc[16];
	uint8_t f1[8], f1star[8], f2[8], f5[6], f3[16], f4[16], f5star[6];
} vec;

static int unhex(const char *s, size_t slen, uint8_t *out, size_t n)
{
	if (slen != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (sscanf(s + 2 * i, "%2hhx", &out[i]) != 1)
			return -1;
	return 0;
}

/* One CSV row: set,K,RAND,SQN,AMF,OP,OPc,f1,f1*,f2,f5,f3,f4,f5* (column order of the file). */
static int parse_row(char *line, vec *v)
{
	struct { uint8_t *p; size_t n; } cols[] = {
		{v->k, 16}, {v->rand, 16}, {v->sqn, 6}, {v->amf, 2}, {v->op, 16}, {v->opc, 16},
		{v->f1, 8}, {v->f1star, 8}, {v->f2, 8}, {v->f5, 6}, {v->f3, 16}, {v->f4, 16},
		{v->f5star, 6}};
	char *save, *tok = strtok_r(line, ",\r\n", &save);
	if (!tok || sscanf(tok, "%d", &v->set) != 1)
		return -1;
	for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++) {
		tok = strtok_r(NULL, ",\r\n", &save);
		if (!tok || unhex(tok, strlen(tok), cols[c].p, cols[c].n) != 0)
			return -1;
	}
	return strtok_r(NULL, ",\r\n", &save) ? -1 : 0;
}

/* Every data row, or 0 if the file is missing or any row is malformed. */
static size_t load_sets(vec *out, size_t max)
{
	char line[512];
	size_t n = 0;
	FILE *f = fopen(CSV, "r");
	if (!f)
		return 0;
	int ok = fgets(line, sizeof line, f) != NULL; /* header */
	while (ok && n < max && fgets(line, sizeof line, f))
		ok = parse_row(line, &out[n++]) == 0;
	fclose(f);
	return ok ? n : 0;
}

ParameterizedTestParameters(milenage, ts35208)
{
	vec *sets = cr_malloc(MAX_SETS * sizeof *sets);
	size_t n = load_sets(sets, MAX_SETS);
	return cr_make_param_array(vec, sets, n);
}

ParameterizedTest(vec *v, milenage, ts35208)
{
	uint8_t opc[16], mac_a[8], mac_s[8], res[8], ck[16], ik[16], ak[6], ak_star[6];
	m2m_milenage m;
	cr_assert_eq(m2m_milenage_opc(v->k, v->op, opc), 0);
	cr_expect_arr_eq(opc, v->opc, 16, "set %d: OPc", v->set);
	cr_assert_eq(m2m_milenage_init(&m, v->k, v->opc), 0);
	cr_assert_eq(m2m_milenage_f1(&m, v->rand, v->sqn, v->amf, mac_a), 0);
	cr_assert_eq(m2m_milenage_f1star(&m, v->rand, v->sqn, v->amf, mac_s), 0);
	cr_assert_eq(m2m_milenage_f2345(&m, v->rand, res, ck, ik, ak), 0);
	cr_assert_eq(m2m_milenage_f5star(&m, v->rand, ak_star), 0);
	m2m_milenage_clear(&m);
	cr_expect_arr_eq(mac_a, v->f1, 8, "set %d: f1", v->set);
	cr_expect_arr_eq(mac_s, v->f1star, 8, "set %d: f1*", v->set);
	cr_expect_arr_eq(res, v->f2, 8, "set %d: f2", v->set);
	cr_expect_arr_eq(ck, v->f3, 16, "set %d: f3", v->set);
	cr_expect_arr_eq(ik, v->f4, 16, "set %d: f4", v->set);
	cr_expect_arr_eq(ak, v->f5, 6, "set %d: f5", v->set);
	cr_expect_arr_eq(ak_star, v->f5star, 6, "set %d: f5*", v->set);
}

/* Guards the parameterised test above against silently running on zero rows. */
Test(milenage, csv_has_all_sets)
{
	static vec sets[MAX_SETS];
	size_t n = load_sets(sets, MAX_SETS);
	cr_assert_eq(n, 20, "read %zu sets from %s", n, CSV);
	for (size_t i = 0; i < n; i++)
		cr_expect_eq(sets[i].set, (int)i + 1);
}

Test(milenage, init_op_equals_init_with_opc)
{
	static vec sets[MAX_SETS];
	cr_assert_eq(load_sets(sets, MAX_SETS), 20);
	m2m_milenage m;
	cr_assert_eq(m2m_milenage_init_op(&m, sets[3].k, sets[3].op), 0);
	cr_expect_arr_eq(m.opc, sets[3].opc, 16);
	m2m_milenage_clear(&m);
	cr_expect_null(m.aes);
}

/* c2 and c3 of TS 33.102 §6.8.1.2, with the expected values derived here by plain xor. */
Test(gsm, c2_c3_every_set)
{
	static vec sets[MAX_SETS];
	size_t n = load_sets(sets, MAX_SETS);
	cr_assert_eq(n, 20);
	for (size_t s = 0; s < n; s++) {
		const vec *v = &sets[s];
		uint8_t sres[4], kc[8], want_sres[4], want_kc[8];
		for (int i = 0; i < 4; i++)
			want_sres[i] = v->f2[i] ^ v->f2[i + 4];
		for (int i = 0; i < 8; i++)
			want_kc[i] = v->f3[i] ^ v->f3[i + 8] ^ v->f4[i] ^ v->f4[i + 8];
		cr_assert_eq(m2m_gsm_c2(v->f2, 8, sres), 0);
		m2m_gsm_c3(v->f3, v->f4, kc);
		cr_expect_arr_eq(sres, want_sres, 4, "set %d: SRES", v->set);
		cr_expect_arr_eq(kc, want_kc, 8, "set %d: Kc", v->set);
	}
}

/* The published GSM values for test set 1 (TS 55.205 / TS 35.208 set 1 inputs). */
Test(gsm, set1_published_sres_kc)
{
	static vec sets[MAX_SETS];
	static const uint8_t sres_want[4] = {0x46, 0xf8, 0x41, 0x6a};
	static const uint8_t kc_want[8] = {0xea, 0xe4, 0xbe, 0x82, 0x3a, 0xf9, 0xa0, 0x8b};
	uint8_t res[8], ck[16], ik[16], ak[6], sres[4], kc[8];
	m2m_milenage m;
	cr_assert_eq(load_sets(sets, MAX_SETS), 20);
	cr_assert_eq(m2m_milenage_init(&m, sets[0].k, sets[0].opc), 0);
	cr_assert_eq(m2m_milenage_f2345(&m, sets[0].rand, res, ck, ik, ak), 0);
	m2m_milenage_clear(&m);
	cr_assert_eq(m2m_gsm_c2(res, 8, sres), 0);
	m2m_gsm_c3(ck, ik, kc);
	cr_expect_arr_eq(sres, sres_want, 4);
	cr_expect_arr_eq(kc, kc_want, 8);
}

Test(gsm, c2_other_res_lengths)
{
	static const uint8_t res16[16] = {1, 2, 3, 4, 0x10, 0x20, 0x30, 0x40,
					  0x11, 0x22, 0x33, 0x44, 0xf0, 0x0f, 0xff, 0};
	uint8_t sres[4];
	cr_assert_eq(m2m_gsm_c2(res16, 4, sres), 0);
	cr_expect_arr_eq(sres, res16, 4, "a 32-bit RES is its own SRES");
	cr_assert_eq(m2m_gsm_c2(res16, 16, sres), 0);
	cr_expect_arr_eq(sres, ((uint8_t[]){1 ^ 0x10 ^ 0x11 ^ 0xf0, 2 ^ 0x20 ^ 0x22 ^ 0x0f,
					    3 ^ 0x30 ^ 0x33 ^ 0xff, 4 ^ 0x40 ^ 0x44 ^ 0}), 4);
	cr_assert_eq(m2m_gsm_c2(res16, 5, sres), 0);
	cr_expect_arr_eq(sres, ((uint8_t[]){1 ^ 0x10, 2, 3, 4}), 4, "zero padding");
	cr_expect_eq(m2m_gsm_c2(res16, 3, sres), -1);
	cr_expect_eq(m2m_gsm_c2(res16, 17, sres), -1);
}

/* ---- AKA ---------------------------------------------------------------------------------- */

static const uint8_t amf_8000[2] = {0x80, 0x00};

static int params_eq(const m2m_sqn_params *a, const m2m_sqn_params *b)
{
	return a->ind_bits == b->ind_bits && a->delta == b->delta && a->age_limit == b->age_limit;
}

/* Field by field: struct padding makes memcmp of whole states meaningless. */
static int usim_eq(const m2m_sqn_usim *a, const m2m_sqn_usim *b)
{
	return params_eq(&a->p, &b->p) && memcmp(a->seq_ms, b->seq_ms, sizeof a->seq_ms) == 0;
}

static int he_eq(const m2m_sqn_he *a, const m2m_sqn_he *b)
{
	return params_eq(&a->p, &b->p) && a->seq_he == b->seq_he && a->ind_he == b->ind_he;
}

typedef struct fixture {
	m2m_milenage m;
	m2m_sqn_he he;
	m2m_sqn_usim usim;
} fixture;

static fixture fx;

/* Test set 1's K and OPc, default SQN parameters, both counters at zero. */
static void setup(void)
{
	static vec sets[MAX_SETS];
	cr_assert_eq(load_sets(sets, MAX_SETS), 20);
	cr_assert_eq(m2m_milenage_init(&fx.m, sets[0].k, sets[0].opc), 0);
	cr_assert_eq(m2m_sqn_he_init(&fx.he, NULL, 0), 0);
	cr_assert_eq(m2m_sqn_usim_init(&fx.usim, NULL), 0);
}

static void teardown(void)
{
	m2m_milenage_clear(&fx.m);
}

static m2m_aka_av next_av(void)
{
	m2m_aka_av av;
	cr_assert_eq(m2m_aka_av_generate(&fx.m, &fx.he, amf_8000, &av), 0);
	return av;
}

static m2m_aka_status present(const m2m_aka_av *av, m2m_aka_usim_result *r)
{
	return m2m_aka_usim_authenticate(&fx.m, &fx.usim, av->rand, av->autn, r);
}

static m2m_aka_av av_with_sqn(uint64_t sqn)
{
	m2m_aka_av av;
	uint8_t rand[16] = {0x5a};
	rand[15] = (uint8_t)sqn;
	cr_assert_eq(m2m_aka_av_build(&fx.m, rand, sqn, amf_8000, &av), 0);
	return av;
}

static uint64_t auts_sqn(const m2m_aka_av *av, const m2m_aka_usim_result *r)
{
	uint64_t sqn_ms = 0;
	cr_assert_eq(m2m_aka_auts_open(&fx.m, av->rand, r->auts, &sqn_ms), M2M_AKA_OK);
	return sqn_ms;
}

TestSuite(aka, .init = setup, .fini = teardown);

Test(aka, autn_layout_set1)
{
	static vec sets[MAX_SETS];
	m2m_aka_av av;
	uint8_t want[16];
	cr_assert_eq(load_sets(sets, MAX_SETS), 20);
	const vec *v = &sets[0];
	cr_assert_eq(m2m_aka_av_build(&fx.m, v->rand, m2m_sqn_unpack(v->sqn), v->amf, &av), 0);
	for (int i = 0; i < 6; i++)
		want[i] = v->sqn[i] ^ v->f5[i];
	memcpy(want + 6, v->amf, 2);
	memcpy(want + 8, v->f1, 8);
	cr_expect_arr_eq(av.autn, want, 16, "AUTN = (SQN xor AK) || AMF || MAC-A");
	cr_expect_arr_eq(av.xres, v->f2, 8);
	cr_expect_arr_eq(av.ck, v->f3, 16);
	cr_expect_arr_eq(av.ik, v->f4, 16);
	cr_expect_eq(m2m_aka_av_build(&fx.m, v->rand, M2M_SQN_MAX + 1, v->amf, &av), -1);
}

Test(aka, round_trip)
{
	m2m_aka_usim_result r;
	for (int i = 0; i < 40; i++) {
		m2m_aka_av av = next_av();
		cr_assert_eq(present(&av, &r), M2M_AKA_OK, "vector %d", i);
		cr_expect_arr_eq(r.res, av.xres, 8);
		cr_expect_arr_eq(r.ck, av.ck, 16);
		cr_expect_arr_eq(r.ik, av.ik, 16);
	}
	cr_expect_eq(m2m_sqn_usim_highest(&fx.usim), (UINT64_C(40) << 5) | 7);
}

Test(aka, mac_failure_on_every_flipped_autn_bit)
{
	m2m_aka_usim_result r;
	m2m_aka_av av = next_av();
	m2m_sqn_usim before = fx.usim;
	for (int bit = 0; bit < 128; bit++) {
		m2m_aka_av bad = av;
		bad.autn[bit / 8] ^= (uint8_t)(0x80 >> bit % 8);
		cr_expect_eq(present(&bad, &r), M2M_AKA_MAC_FAILURE, "bit %d", bit);
		cr_expect_arr_eq(r.res, (uint8_t[8]){0}, 8, "nothing released on MAC failure");
	}
	av.rand[0] ^= 1;
	cr_expect_eq(present(&av, &r), M2M_AKA_MAC_FAILURE, "AUTN under another RAND");
	cr_expect(usim_eq(&fx.usim, &before), "a MAC failure leaves SQN state alone");
}

Test(aka, replay_gives_sync_failure)
{
	m2m_aka_usim_result r;
	m2m_aka_av av = next_av();
	cr_assert_eq(present(&av, &r), M2M_AKA_OK);
	cr_assert_eq(present(&av, &r), M2M_AKA_SYNC_FAILURE);
	cr_expect_arr_eq(r.res, (uint8_t[8]){0}, 8, "no RES on sync failure");
	cr_expect_arr_eq(r.ck, (uint8_t[16]){0}, 16, "no CK on sync failure");
	uint8_t plain[6];
	m2m_sqn_pack(m2m_sqn_usim_highest(&fx.usim), plain);
	cr_expect_eq(auts_sqn(&av, &r), m2m_sqn_usim_highest(&fx.usim));
	cr_expect_arr_neq(r.auts, plain, 6, "SQN_MS travels concealed by AK*");
}

Test(aka, freshness_limit_delta)
{
	m2m_aka_usim_result r;
	uint64_t too_far = (M2M_SQN_DELTA_DEFAULT + 1) << 5, at_limit = M2M_SQN_DELTA_DEFAULT << 5;
	m2m_aka_av far = av_with_sqn(too_far), edge = av_with_sqn(at_limit);
	cr_expect_eq(present(&far, &r), M2M_AKA_SYNC_FAILURE, "SEQ - SEQ_MS > delta");
	cr_expect_eq(auts_sqn(&far, &r), 0, "a new USIM reports SQN_MS = 0");
	cr_expect_eq(present(&edge, &r), M2M_AKA_OK, "SEQ - SEQ_MS = delta");
}

Test(aka, age_limit_l)
{
	m2m_aka_usim_result r;
	m2m_aka_av newest = av_with_sqn(2000 << 5 | 1);
	m2m_aka_av too_old = av_with_sqn((2000 - M2M_SQN_AGE_LIMIT_DEFAULT) << 5 | 2);
	m2m_aka_av old_enough = av_with_sqn((2001 - M2M_SQN_AGE_LIMIT_DEFAULT) << 5 | 3);
	cr_assert_eq(present(&newest, &r), M2M_AKA_OK);
	cr_expect_eq(present(&too_old, &r), M2M_AKA_SYNC_FAILURE, "SEQ_MS - SEQ = L");
	cr_expect_eq(present(&old_enough, &r), M2M_AKA_OK, "SEQ_MS - SEQ = L - 1, unused IND");
}

Test(aka, ind_array_out_of_order)
{
	m2m_aka_usim_result r;
	m2m_aka_av batch[33];
	for (int i = 0; i < 33; i++)
		batch[i] = next_av();
	/* batch[0] and batch[32] share IND 0; the others each have their own. */
	static const int order[] = {4, 2, 32, 3, 1};
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
		cr_expect_eq(present(&batch[order[i]], &r), M2M_AKA_OK, "vector %d", order[i]);
	cr_expect_eq(present(&batch[0], &r), M2M_AKA_SYNC_FAILURE, "older SEQ in the same IND");
	cr_expect_eq(present(&batch[2], &r), M2M_AKA_SYNC_FAILURE, "replay");
	cr_expect_eq(present(&batch[31], &r), M2M_AKA_OK, "older SEQ in an unused IND");
}

Test(aka, resync_when_usim_is_ahead)
{
	m2m_aka_usim_result r;
	/* e.g. the AuC was restored from an old backup; beyond L, so no IND entry saves it */
	m2m_aka_av ahead = av_with_sqn(5000 << 5 | 9);
	cr_assert_eq(present(&ahead, &r), M2M_AKA_OK);
	m2m_aka_av av = next_av();
	cr_assert_eq(present(&av, &r), M2M_AKA_SYNC_FAILURE);
	cr_assert_eq(m2m_aka_he_resync(&fx.m, &fx.he, av.rand, r.auts), M2M_AKA_OK);
	cr_expect_eq(fx.he.seq_he, 5000);
	av = next_av();
	cr_expect_eq(present(&av, &r), M2M_AKA_OK, "the vector after resync is accepted");
}

Test(aka, resync_when_he_is_beyond_delta)
{
	m2m_aka_usim_result r;
	cr_assert_eq(m2m_sqn_he_init(&fx.he, NULL, (M2M_SQN_DELTA_DEFAULT + 10) << 5), 0);
	m2m_aka_av av = next_av();
	cr_assert_eq(present(&av, &r), M2M_AKA_SYNC_FAILURE);
	cr_assert_eq(m2m_aka_he_resync(&fx.m, &fx.he, av.rand, r.auts), M2M_AKA_OK);
	cr_expect_eq(fx.he.seq_he, 0, "SQN_HE reset to SQN_MS");
	av = next_av();
	cr_expect_eq(present(&av, &r), M2M_AKA_OK);
}

Test(aka, resync_after_replay_keeps_counter)
{
	m2m_aka_usim_result r;
	m2m_aka_av old = next_av();
	cr_assert_eq(present(&old, &r), M2M_AKA_OK);
	for (int i = 0; i < 3; i++)
		next_av();
	cr_assert_eq(present(&old, &r), M2M_AKA_SYNC_FAILURE);
	cr_assert_eq(m2m_aka_he_resync(&fx.m, &fx.he, old.rand, r.auts), M2M_AKA_OK);
	cr_expect_eq(fx.he.seq_he, 4, "a counter already ahead is not moved back");
	m2m_aka_av av = next_av();
	cr_expect_eq(present(&av, &r), M2M_AKA_OK);
}

Test(aka, tampered_auts_fails_mac_s)
{
	m2m_aka_usim_result r;
	uint64_t sqn_ms;
	m2m_aka_av av = next_av();
	cr_assert_eq(present(&av, &r), M2M_AKA_OK);
	cr_assert_eq(present(&av, &r), M2M_AKA_SYNC_FAILURE);
	m2m_sqn_he before = fx.he;
	for (int bit = 0; bit < 112; bit++) {
		uint8_t bad[14];
		memcpy(bad, r.auts, 14);
		bad[bit / 8] ^= (uint8_t)(0x80 >> bit % 8);
		cr_expect_eq(m2m_aka_he_resync(&fx.m, &fx.he, av.rand, bad), M2M_AKA_MAC_FAILURE,
			     "bit %d", bit);
	}
	av.rand[3] ^= 0x40;
	cr_expect_eq(m2m_aka_auts_open(&fx.m, av.rand, r.auts, &sqn_ms), M2M_AKA_MAC_FAILURE,
		     "AUTS checked under another RAND");
	cr_expect(he_eq(&fx.he, &before), "a bad AUTS leaves SQN_HE alone");
}

Test(aka, auts_round_trip)
{
	static const uint64_t values[] = {0, 1, 0x123456789abc, M2M_SQN_MAX};
	uint8_t rand[16] = {1, 2, 3}, auts[14];
	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
		uint64_t got = ~UINT64_C(0);
		cr_assert_eq(m2m_aka_auts_build(&fx.m, rand, values[i], auts), 0);
		cr_expect_eq(m2m_aka_auts_open(&fx.m, rand, auts, &got), M2M_AKA_OK);
		cr_expect_eq(got, values[i]);
	}
	cr_expect_eq(m2m_aka_auts_build(&fx.m, rand, M2M_SQN_MAX + 1, auts), -1);
}

/* ---- the AuC's answer (auth_info.h) --------------------------------------------------------- */

static int same_octets(const ASN1_OCTET_STRING *s, const uint8_t *want, int len)
{
	return ASN1_STRING_length(s) == len && !memcmp(ASN1_STRING_get0_data(s), want, (size_t)len);
}

Test(aka, auth_info_response_carries_vectors_the_usim_accepts)
{
	m2m_aka_vector v[3];
	m2m_aka_usim_result r;
	cr_assert_eq(m2m_aka_vectors(&fx.m, &fx.he, amf_8000, 3, v), 0);
	cr_expect_eq(fx.he.seq_he, 3, "SQN_HE moved past the three vectors");
	M2M_AUTH_INFO_RESPONSE *resp = m2m_aka_auth_info_response(v, 3);
	cr_assert_eq(sk_M2M_AUTH_VECTOR_num(resp), 3);
	for (int i = 0; i < 3; i++) {
		const M2M_AUTH_VECTOR *w = sk_M2M_AUTH_VECTOR_value(resp, i);
		uint8_t kc[8];
		m2m_gsm_c3(v[i].av.ck, v[i].av.ik, kc);
		cr_expect_arr_eq(v[i].kc, kc, 8, "Kc = c3(CK, IK)");
		cr_assert(same_octets(w->rand, v[i].av.rand, 16) && same_octets(w->autn, v[i].av.autn, 16) &&
			  same_octets(w->xres, v[i].av.xres, 8) && same_octets(w->ck, v[i].av.ck, 16) &&
			  same_octets(w->ik, v[i].av.ik, 16) && same_octets(w->kc, v[i].kc, 8), "vector %d as generated", i);
		cr_assert_eq(m2m_aka_usim_authenticate(&fx.m, &fx.usim, ASN1_STRING_get0_data(w->rand),
						       ASN1_STRING_get0_data(w->autn), &r), M2M_AKA_OK, "vector %d", i);
		cr_expect(same_octets(w->xres, r.res, 8));
	}
	m2m_aka_auth_info_response_free(resp);
}

Test(aka, no_vectors_once_sqn_is_exhausted)
{
	m2m_aka_vector v[2], zero[2];
	memset(zero, 0, sizeof zero);
	cr_assert_eq(m2m_sqn_he_init(&fx.he, NULL, M2M_SQN_MAX), 0);
	cr_expect_eq(m2m_aka_vectors(&fx.m, &fx.he, amf_8000, 2, v), -1);
	cr_expect_arr_eq(v, zero, sizeof v, "what was made before the failure is wiped");
}

/* ---- SQN state ------------------------------------------------------------------------------ */

Test(sqn, usim_blob_round_trip)
{
	m2m_sqn_usim u, back;
	static uint8_t blob[M2M_SQN_USIM_BLOB_LEN], blob2[M2M_SQN_USIM_BLOB_LEN];
	m2m_sqn_params p = {.ind_bits = 6, .delta = 1000, .age_limit = 77};
	cr_assert_eq(m2m_sqn_usim_init(&u, &p), 0);
	for (uint64_t seq = 1; seq < 100; seq++)
		cr_assert_eq(m2m_sqn_usim_accept(&u, seq << 6 | (seq * 7 % 64)), 0);
	m2m_sqn_usim_serialise(&u, blob);
	memset(&back, 0xa5, sizeof back);
	cr_assert_eq(m2m_sqn_usim_deserialise(&back, blob), 0);
	cr_expect(usim_eq(&back, &u));
	m2m_sqn_usim_serialise(&back, blob2);
	cr_expect_arr_eq(blob, blob2, sizeof blob);
	cr_expect_eq(m2m_sqn_usim_accept(&back, 99 << 6 | (99 * 7 % 64)), -1, "replay still refused");
}

Test(sqn, usim_blob_rejects_corruption)
{
	m2m_sqn_usim u, target;
	static uint8_t blob[M2M_SQN_USIM_BLOB_LEN];
	cr_assert_eq(m2m_sqn_usim_init(&u, NULL), 0);
	cr_assert_eq(m2m_sqn_usim_accept(&u, 5 << 5 | 4), 0);
	m2m_sqn_usim_serialise(&u, blob);
	memset(&target, 0x3c, sizeof target);
	m2m_sqn_usim before = target;
	static const struct { size_t off; uint8_t val; } bad[] = {
		{0, 'H'},                  /* an AuC blob */
		{1, 2},                    /* unknown version */
		{2, M2M_SQN_IND_BITS_MAX + 1},
		{3, 0xff},                 /* delta wider than SEQ */
		{19, 0x80},                /* SEQ_MS(0) wider than 43 bits */
		{19 + 6 * 32 + 5, 1},      /* an entry beyond a = 32 */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		uint8_t saved = blob[bad[i].off];
		blob[bad[i].off] = bad[i].val;
		cr_expect_eq(m2m_sqn_usim_deserialise(&target, blob), -1, "case %zu", i);
		blob[bad[i].off] = saved;
	}
	cr_expect(usim_eq(&target, &before), "a rejected blob changes nothing");
}

Test(sqn, he_blob_round_trip)
{
	m2m_sqn_he h, back;
	uint8_t blob[M2M_SQN_HE_BLOB_LEN];
	uint64_t sqn, next_before, next_after;
	cr_assert_eq(m2m_sqn_he_init(&h, NULL, 0x1234), 0);
	for (int i = 0; i < 7; i++)
		cr_assert_eq(m2m_sqn_he_next(&h, &sqn), 0);
	m2m_sqn_he_serialise(&h, blob);
	memset(&back, 0, sizeof back);
	cr_assert_eq(m2m_sqn_he_deserialise(&back, blob), 0);
	cr_expect(he_eq(&back, &h));
	cr_assert_eq(m2m_sqn_he_next(&h, &next_before), 0);
	cr_assert_eq(m2m_sqn_he_next(&back, &next_after), 0);
	cr_expect_eq(next_after, next_before, "a restored AuC continues where it stopped");
	blob[25] = 32;
	cr_expect_eq(m2m_sqn_he_deserialise(&back, blob), -1, "IND_HE beyond a");
	blob[25] = 0;
	blob[0] = 'U';
	cr_expect_eq(m2m_sqn_he_deserialise(&back, blob), -1, "a USIM blob");
}

Test(sqn, he_allocation)
{
	m2m_sqn_he h;
	uint64_t sqn;
	cr_assert_eq(m2m_sqn_he_init(&h, NULL, 3 << 5 | 30), 0);
	cr_assert_eq(m2m_sqn_he_next(&h, &sqn), 0);
	cr_expect_eq(sqn, 4 << 5 | 30);
	cr_assert_eq(m2m_sqn_he_next(&h, &sqn), 0);
	cr_expect_eq(sqn, 5 << 5 | 31);
	cr_assert_eq(m2m_sqn_he_next(&h, &sqn), 0);
	cr_expect_eq(sqn, 6 << 5 | 0, "IND cycles through the a = 32 entries");
	cr_assert_eq(m2m_sqn_he_init(&h, NULL, M2M_SQN_MAX - 31), 0);
	cr_expect_eq(m2m_sqn_he_next(&h, &sqn), -1, "SEQ exhausted");
	cr_expect_eq(m2m_sqn_he_init(&h, NULL, M2M_SQN_MAX + 1), -1);
}

Test(sqn, params)
{
	m2m_sqn_usim u;
	m2m_sqn_he h;
	uint64_t sqn;
	m2m_sqn_params p;
	m2m_sqn_params_default(&p);
	cr_expect_eq(p.ind_bits, 5);
	cr_expect_eq(p.delta, UINT64_C(1) << 28);
	p.ind_bits = M2M_SQN_IND_BITS_MAX + 1;
	cr_expect_eq(m2m_sqn_usim_init(&u, &p), -1);
	m2m_sqn_params_default(&p);
	p.delta = 0;
	cr_expect_eq(m2m_sqn_he_init(&h, &p, 0), -1);
	/* a = 1: IND is empty and SQN a plain counter. */
	p = (m2m_sqn_params){.ind_bits = 0, .delta = 10, .age_limit = 0};
	cr_assert_eq(m2m_sqn_usim_init(&u, &p), 0);
	cr_assert_eq(m2m_sqn_he_init(&h, &p, 0), 0);
	cr_assert_eq(m2m_sqn_he_next(&h, &sqn), 0);
	cr_expect_eq(sqn, 1);
	cr_expect_eq(m2m_sqn_usim_accept(&u, 1), 0);
	cr_expect_eq(m2m_sqn_usim_accept(&u, 1), -1);
	cr_expect_eq(m2m_sqn_usim_accept(&u, 12), -1, "more than delta ahead");
	cr_expect_eq(m2m_sqn_usim_accept(&u, 11), 0);
	cr_expect_eq(m2m_sqn_usim_highest(&u), 11);
}
