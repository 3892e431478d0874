/*
 * The DRF's treTrigger of Alternative 3b in the TRE engine, without transport (docs/alt3b.md):
 * a TreActivate signed by the configured DRF (profile registration), for this TRE, issued within
 * the window, with a fresh nonce opens the change (changeId, DRF, nonce persisted, the nonce used
 * for good) and is acknowledged with its changeId; each refusal (badSignature, notAuthorised,
 * wrongRecipient, outOfWindow, replayed, badBody, wrongState without a CRL) stores nothing.
 */
#include "test_fixture.h"

#include "crypto/crypto.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

static fx_tre fx;
static fx_party drf, other_drf, operator_drf;  /* the configured DRF, another DRF, the DRF's name as an operator */

static const uint8_t change_a[16] = {0xC4, 0xA2, 1};
static const uint8_t change_b[16] = {0xC4, 0xA2, 2};

static void parties(void)
{
	fx_tre_open(&fx, M2M_TAMPER_REFUSED, 1);
	fx_boot(&fx);
	fx_party_make(&fx.agency, &drf, FX_DRF, M2M_PROFILE_REGISTRATION);
	fx_party_make(&fx.agency, &other_drf, "drf-x", M2M_PROFILE_REGISTRATION);
	fx_party_make(&fx.agency, &operator_drf, FX_DRF, M2M_PROFILE_OPERATOR_FUNCTION);
}

static void setup(void)
{
	parties();
	fx_accept_crl(&fx, 1, NULL, 0);
}

static void teardown(void)
{
	fx_party_free(&drf);
	fx_party_free(&other_drf);
	fx_party_free(&operator_drf);
	fx_tre_close(&fx);
}

TestSuite(trigger, .init = setup, .fini = teardown);

/* A treTrigger over TreActivate {change_id (id_len bytes), tre_id, drf_id, nonce, now + offset}
 * signed by signer, certified by ag. */
static M2M_TRE_TRIGGER *trigger_by(const fx_agency *ag, const fx_party *signer, const uint8_t change_id[16], int id_len,
				   const char *tre_id, const char *drf_id, const uint8_t nonce[16], long offset)
{
	M2M_TRE_ACTIVATE *a = M2M_TRE_ACTIVATE_new();
	ASN1_OCTET_STRING_set(a->change_id, change_id, id_len);
	m2m_set_str(a->tre, tre_id);
	m2m_set_str(a->drf, drf_id);
	ASN1_OCTET_STRING_set(a->nonce, nonce, 16);
	ASN1_GENERALIZEDTIME_set(a->issued_at, time(NULL) + offset);
	M2M_TRE_TRIGGER *q = M2M_TRE_TRIGGER_new();
	m2m_set_digits(&q->imsi, FX_MCIM_IMSI);
	M2M_SIGNED_OBJECT_free(q->trigger);
	q->trigger = fx_sign(ag, signer, ASN1_ITEM_rptr(M2M_TRE_ACTIVATE), a);
	M2M_TRE_ACTIVATE_free(a);
	return q;
}

static M2M_TRE_TRIGGER *trigger_of(const fx_party *signer, const uint8_t change_id[16], const char *tre_id,
				   const char *drf_id, const uint8_t nonce[16], long offset)
{
	return trigger_by(&fx.agency, signer, change_id, 16, tre_id, drf_id, nonce, offset);
}

/* What a refusal must leave as it was: the nonces used and the changes opened. */
static char *stored(void)
{
	sqlite3_stmt *st = m2m_store_prepare(
		fx.t.db, "SELECT ifnull((SELECT group_concat(hex(nonce), ',') FROM tre_trigger_nonce), '') || '/' ||"
			 " ifnull((SELECT group_concat(hex(change_id) || drf || hex(nonce), ',') FROM tre_uicc_change), '')");
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	char *s = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return s;
}

/* Runs q (taken); on M2M_OK checks the change it opened. */
static m2m_reason run(M2M_TRE_TRIGGER *q, const uint8_t change_id[16], const char *what)
{
	char why[256] = "";
	tre_uicc_change c;
	char *before = stored();
	m2m_reason r = tre_trigger_run(&fx.t, q, &c, why, sizeof why);
	if (r == M2M_OK) {
		cr_assert_arr_eq(c.change_id, change_id, 16);
		cr_assert_str_eq(c.drf, FX_DRF);
	} else {
		cr_assert(why[0], "%s: a refusal says why", what);
		char *after = stored();
		cr_assert_str_eq(after, before, "%s: a refused trigger stored something", what);
		free(after);
	}
	free(before);
	M2M_TRE_TRIGGER_free(q);
	return r;
}

static void refused(M2M_TRE_TRIGGER *q, m2m_reason want, const char *what)
{
	m2m_reason r = run(q, change_a, what);
	cr_assert_eq(r, want, "%s: %s, expected %s", what, m2m_reason_name(r), m2m_reason_name(want));
}

static void fresh(uint8_t nonce[16])
{
	m2m_random(nonce, 16);
}

Test(trigger, the_drf_s_trigger_opens_the_change)
{
	uint8_t nonce[16];
	fresh(nonce);
	cr_assert_eq(run(trigger_of(&drf, change_a, FX_ENTITY, FX_DRF, nonce, 0), change_a, "the DRF's trigger"), M2M_OK);
	tre_uicc_change c;
	cr_assert_eq(tre_uicc_change_load(&fx.t, change_a, &c), 0, "the change is persisted");
	cr_assert_str_eq(c.drf, FX_DRF);
	cr_assert_arr_eq(c.nonce, nonce, 16, "the nonce is kept for the registration");
	cr_assert_eq(tre_uicc_change_load(&fx.t, change_b, &c), 1);
	cr_assert_eq(tre_count(fx.t.db, "SELECT COUNT(*) FROM tre_trigger_nonce"), 1);
}

Test(trigger, a_nonce_is_accepted_once_even_after_a_restart)
{
	uint8_t nonce[16];
	fresh(nonce);
	cr_assert_eq(run(trigger_of(&drf, change_a, FX_ENTITY, FX_DRF, nonce, 0), change_a, "the first"), M2M_OK);
	refused(trigger_of(&drf, change_a, FX_ENTITY, FX_DRF, nonce, 0), M2M_R_REPLAYED, "the same trigger again");
	refused(trigger_of(&drf, change_b, FX_ENTITY, FX_DRF, nonce, 0), M2M_R_REPLAYED, "its nonce for another change");
	fx_tre_reopen(&fx, fx.storage_key);
	fx_boot(&fx);
	fx_accept_crl(&fx, 2, NULL, 0);
	refused(trigger_of(&drf, change_a, FX_ENTITY, FX_DRF, nonce, 0), M2M_R_REPLAYED, "replayed after a restart");
	/* the DRF's new trigger for the same change, with a fresh nonce, is the one the change keeps */
	uint8_t again[16];
	fresh(again);
	cr_assert_eq(run(trigger_of(&drf, change_a, FX_ENTITY, FX_DRF, again, 0), change_a, "a fresh nonce"), M2M_OK);
	tre_uicc_change c;
	cr_assert_eq(tre_uicc_change_load(&fx.t, change_a, &c), 0);
	cr_assert_arr_eq(c.nonce, again, 16);
	cr_assert_eq(tre_count(fx.t.db, "SELECT COUNT(*) FROM tre_uicc_change"), 1);
}

Test(trigger, only_the_configured_drf_may_trigger)
{
	uint8_t nonce[16];
	fresh(nonce);
	refused(trigger_of(&other_drf, change_a, FX_ENTITY, "drf-x", nonce, 0), M2M_R_NOT_AUTHORISED,
		"another registration operator");
	refused(trigger_of(&other_drf, change_a, FX_ENTITY, FX_DRF, nonce, 0), M2M_R_NOT_AUTHORISED,
		"another registration operator naming ours");
	refused(trigger_of(&operator_drf, change_a, FX_ENTITY, FX_DRF, nonce, 0), M2M_R_NOT_AUTHORISED,
		"our DRF's name on an operator certificate");
	refused(trigger_of(&drf, change_a, FX_ENTITY, "drf-x", nonce, 0), M2M_R_NOT_AUTHORISED,
		"our DRF's signature over another DRF's name");
	/* none of them used the nonce */
	cr_assert_eq(run(trigger_of(&drf, change_a, FX_ENTITY, FX_DRF, nonce, 0), change_a, "then ours"), M2M_OK);
}

Test(trigger, a_forged_or_tampered_trigger_has_a_bad_signature)
{
	uint8_t nonce[16];
	fresh(nonce);
	M2M_TRE_TRIGGER *q = trigger_of(&drf, change_a, FX_ENTITY, FX_DRF, nonce, 0);
	/* one byte of the signed content changed (the nonce's last byte, inside the eContent) */
	unsigned char *der = q->trigger->cms->data;
	int n = q->trigger->cms->length, at = -1;
	for (int i = 0; at < 0 && i + 16 <= n; i++)
		if (!memcmp(der + i, nonce, 16))
			at = i;
	cr_assert_geq(at, 0, "the nonce is in the CMS");
	der[at + 15] ^= 1;
	refused(q, M2M_R_BAD_SIGNATURE, "a tampered trigger");
	fx_agency forger;
	fx_party fake;
	fx_agency_make(&forger);
	fx_party_make(&forger, &fake, FX_DRF, M2M_PROFILE_REGISTRATION);
	refused(trigger_by(&forger, &fake, change_a, 16, FX_ENTITY, FX_DRF, nonce, 0), M2M_R_BAD_CHAIN,
		"a DRF certified by another agency");
	fx_party_free(&fake);
	fx_agency_free(&forger);
	q = M2M_TRE_TRIGGER_new();
	m2m_set_digits(&q->imsi, FX_MCIM_IMSI);
	ASN1_OCTET_STRING_set(q->trigger->cms, (const unsigned char *)"not a CMS", 9);
	m2m_reason r = run(q, change_a, "garbage");
	cr_assert_eq(r, M2M_R_MALFORMED, "garbage: %s", m2m_reason_name(r));
}

Test(trigger, a_trigger_for_another_tre)
{
	uint8_t nonce[16];
	fresh(nonce);
	refused(trigger_of(&drf, change_a, "tre-other", FX_DRF, nonce, 0), M2M_R_WRONG_RECIPIENT, "another TRE");
}

Test(trigger, issued_at_within_the_window)
{
	uint8_t nonce[16];
	fresh(nonce);
	refused(trigger_of(&drf, change_a, FX_ENTITY, FX_DRF, nonce, -620), M2M_R_OUT_OF_WINDOW, "620 s old");
	refused(trigger_of(&drf, change_a, FX_ENTITY, FX_DRF, nonce, 620), M2M_R_OUT_OF_WINDOW, "620 s ahead");
	fx.t.s.trigger_window = 60;
	refused(trigger_of(&drf, change_a, FX_ENTITY, FX_DRF, nonce, -90), M2M_R_OUT_OF_WINDOW, "90 s old, window 60 s");
	fx.t.s.trigger_window = 600;
	cr_assert_eq(run(trigger_of(&drf, change_a, FX_ENTITY, FX_DRF, nonce, -500), change_a, "500 s old"), M2M_OK);
}

Test(trigger, a_malformed_activation)
{
	uint8_t nonce[16];
	fresh(nonce);
	refused(trigger_by(&fx.agency, &drf, change_a, 8, FX_ENTITY, FX_DRF, nonce, 0), M2M_R_BAD_BODY,
		"a changeId of 8 bytes");
}

TestSuite(trigger_no_crl, .init = parties, .fini = teardown);

Test(trigger_no_crl, without_a_current_crl_revocation_cannot_be_checked)
{
	uint8_t nonce[16];
	fresh(nonce);
	refused(trigger_of(&drf, change_a, FX_ENTITY, FX_DRF, nonce, 0), M2M_R_WRONG_STATE, "no CRL held");
}
