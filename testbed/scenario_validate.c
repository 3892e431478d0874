/*
 * validate: platform validation (brief §3) with the testbed as the relying party. The tool asks
 * the PVA (inside certauth) validationRequest; the PVA challenges the TRE (attestationChallenge,
 * a fresh nonce and the mode), the TRE answers with evidence it signed (attestationEvidence), and
 * the PVA answers the tool with a verdict it signed (validationResponse), which the tool checks
 * against the agency's root before it believes it (validation.c).
 *
 * tre-1 (m2me-1's TRE) is genuine: ok in the three modes; asked for more assurance than its
 * model was certified for, it fails assuranceTooLow. tre-2 (m2me-2's TRE) is tampered with: a
 * component is rewritten and the device rebooted, so each mode fails componentModified (the
 * TRE's own secure boot, its per-component verdicts, or the PVA's comparison of the quoted log);
 * then its case is opened, a latch: the TRE reports it to the PVA (tamperReport, acknowledged by
 * tamperAck) and every validation fails tamperDetected, even after the component is restored.
 *
 * Run again, the scenario finds tre-2's case already open (a latch cannot be closed): the
 * refusals are the same, only the case opening is no new event and makes no new report. The
 * component is restored at the end, so each run rewrites it anew and sees that report again.
 */
#include "testbed.h"

#include <stdio.h>

#define GENUINE "tre-1"
#define TAMPERED "tre-2"
#define COMPONENT "os"
#define MIN_ASSURANCE 3

static const unsigned CASE = TB_TAMPER(M2M_TAMPER_CASE_OPENED), MODIFIED = TB_TAMPER(M2M_TAMPER_COMPONENT_MODIFIED);

static const char *agency_of(const tb_session *s, const char *tre)
{
	int i = tb_entity_index(s->topology, tre), a = i < 0 ? -1 : tb_agency_of(s->topology, i);
	return a < 0 ? "?" : s->topology->entities[a].id;
}

/* The exchange of one validation, as the trace shows it. */
static int expect_validation(tb_session *s, const char *tre, uint64_t since)
{
	const char *pva = agency_of(s, tre);
	const tb_msg flow[] = {
		{TB_SELF, pva, "validationRequest", NULL},
		{pva, tre, "attestationChallenge", NULL},
		{tre, pva, "attestationEvidence", NULL},
		{pva, TB_SELF, "validationResponse", NULL},
	};
	char what[160];
	snprintf(what, sizeof what, "the validation of %s: the PVA's challenge and %s's signed evidence", tre, tre);
	return tb_expect_flow(s, what, flow, 4, since);
}

static int expect_report(tb_session *s, const char *tre, const char *event, uint64_t since)
{
	const char *pva = agency_of(s, tre);
	const tb_msg flow[] = {{tre, pva, "tamperReport", NULL}, {pva, tre, "tamperAck", NULL}};
	char what[160];
	snprintf(what, sizeof what, "%s reporting %s to the PVA, which acknowledges it", tre, event);
	return tb_expect_flow(s, what, flow, 2, since);
}

static int genuine(tb_session *s)
{
	static const tb_tre_want clean = {1, 0, CASE | MODIFIED};
	tb_platform p;
	tb_tre_platform(&s->topology->entities[tb_entity_index(s->topology, GENUINE)], &p);
	uint64_t since = tb_now_us();
	if (tb_tre_ok(s, GENUINE, M2M_TRE_CTL_STATUS, NULL, NULL, &clean, NULL, "%s is booted, untouched", GENUINE))
		return -1;
	for (int mode = M2M_MODE_AUTONOMOUS; mode <= M2M_MODE_REMOTE; mode++)
		if (tb_validation_expect(s, GENUINE, mode, MIN_ASSURANCE, NULL, 0, "%s passes %s validation", GENUINE,
					 tb_mode_name(mode)))
			return -1;
	if (expect_validation(s, GENUINE, since))
		return -1;
	if (p.assurance >= 7)  /* nothing can be asked above the highest level */
		return 0;
	static const m2m_reason too_low[] = {M2M_R_ASSURANCE_TOO_LOW};
	return tb_validation_expect(s, GENUINE, M2M_MODE_AUTONOMOUS, p.assurance + 1, too_low, 1,
				    "%s %s is certified at assurance %d: more is refused", p.model, p.version, p.assurance);
}

/* A rewritten component, measured at the next boot: every mode sees it. */
static int modified(tb_session *s, const tb_tre_status *before)
{
	static const tb_tre_want any = {-1, 0, 0}, failed = {0, MODIFIED, 0};
	static const m2m_reason found[] = {M2M_R_COMPONENT_MODIFIED, M2M_R_UNKNOWN_DIGEST};
	uint64_t since = tb_now_us();
	if (tb_tre_ok(s, TAMPERED, M2M_TRE_CTL_MODIFY_COMPONENT, COMPONENT, "rootkit " COMPONENT, &any, NULL,
		      "an attacker flashes another %s into %s", COMPONENT, TAMPERED) ||
	    tb_tre_ok(s, TAMPERED, M2M_TRE_CTL_BOOT, NULL, NULL, &failed, NULL,
		      "%s reboots: the measurement of %s differs from its certified value", TAMPERED, COMPONENT))
		return -1;
	/* a component found modified at the boot before is no new finding, and makes no new report */
	if (!(before->tamper & MODIFIED) && expect_report(s, TAMPERED, "componentModified", since))
		return -1;
	for (int mode = M2M_MODE_AUTONOMOUS; mode <= M2M_MODE_REMOTE; mode++)
		if (tb_validation_expect(s, TAMPERED, mode, MIN_ASSURANCE, found, mode == M2M_MODE_REMOTE ? 2 : 1,
					 "%s fails %s validation", TAMPERED, tb_mode_name(mode)))
			return -1;
	return 0;
}

static int case_opened(tb_session *s, const tb_tre_status *before)
{
	static const tb_tre_want opened = {-1, CASE, 0};
	static const m2m_reason tampered[] = {M2M_R_TAMPER_DETECTED};
	uint64_t since = tb_now_us();
	if (tb_tre_ok(s, TAMPERED, M2M_TRE_CTL_OPEN_CASE, NULL, NULL, &opened, NULL, "%s's case is opened", TAMPERED))
		return -1;
	if (before->tamper & CASE)
		printf("note: %s's case was opened by an earlier run (a latch): no new report is made\n", TAMPERED);
	else if (expect_report(s, TAMPERED, "caseOpened", since))
		return -1;
	return tb_validation_expect(s, TAMPERED, M2M_MODE_AUTONOMOUS, MIN_ASSURANCE, tampered, 1,
				    "%s, opened, fails validation", TAMPERED);
}

/* The genuine component back: the component flag clears, the case stays open. */
static int restore(tb_session *s)
{
	static const tb_tre_want any = {-1, 0, 0}, latched = {1, CASE, MODIFIED};
	static const m2m_reason tampered[] = {M2M_R_TAMPER_DETECTED};
	char genuine[256];
	tb_platform p;
	tb_tre_platform(&s->topology->entities[tb_entity_index(s->topology, TAMPERED)], &p);
	tb_component_content(&p, COMPONENT, genuine, sizeof genuine);
	return tb_tre_ok(s, TAMPERED, M2M_TRE_CTL_MODIFY_COMPONENT, COMPONENT, genuine, &any, NULL,
			 "the genuine %s is flashed back into %s", COMPONENT, TAMPERED) ||
	       tb_tre_ok(s, TAMPERED, M2M_TRE_CTL_BOOT, NULL, NULL, &latched, NULL,
			 "%s reboots: secure boot passes, the opened case is still flagged", TAMPERED) ||
	       tb_validation_expect(s, TAMPERED, M2M_MODE_REMOTE, MIN_ASSURANCE, tampered, 1,
				    "%s still fails validation once its case was opened", TAMPERED);
}

int tb_scenario_validate(tb_session *s)
{
	tb_tre_status before;
	if (genuine(s) || tb_tre_ok(s, TAMPERED, M2M_TRE_CTL_STATUS, NULL, NULL, NULL, &before,
				    "%s before the attack (an earlier run may have opened its case)", TAMPERED) ||
	    modified(s, &before) || case_opened(s, &before) || restore(s))
		return -1;
	printf("outcome: %s passed validation in the three modes; %s, modified, failed each (componentModified), and "
	       "once opened fails tamperDetected; its tamper reports reached the PVA\n",
	       GENUINE, TAMPERED);
	return 0;
}
