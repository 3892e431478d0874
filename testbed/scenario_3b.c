/*
 * 3b: Alternative 3b of TR 33.812 (clause 5.4, brief §2.5, docs/alt3b.md): the new operator
 * re-credentials the device's UICC through its TRE. m2me-5 works on operator A's card uicc-5 and
 * has a TRE, tre-5, registered with A at the DRF with the subscriber's key. The subscriber
 * authorises the move to B; the DRF refuses an authorisation signed by another key and, while A
 * holds a contract lock, A's refusal. With the lock lifted A consents, naming the IMSI of the card;
 * the DRF wakes the TRE with a trigger it signs, which only A can route (A -> visited network ->
 * M2ME -> TRE). The TRE reads the card's certificate and a challenge and registers the change with
 * the DRF; B has the TRE validated afresh by the PVA, makes IMSI, K, OPc and OTA keys, records them
 * pending and sends them encrypted to the card's own key; the TRE loads them into the card's
 * shadow slot, the card switches, the device attaches with B's IMSI, the TRE tells the DRF and
 * commits, and only then does A deactivate its IMSI. K A knew does not answer B's challenge.
 */
#include "testbed.h"

#include "aka/aka.h"
#include "crypto/crypto.h"
#include "wire/read.h"
#include "wire/wire.h"

#include <openssl/cms.h>
#include <openssl/objects.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEVICE "m2me-5"
#define TRE "tre-5"
#define CARD "uicc-5"
#define NETWORK "mno-v"
#define FROM "mno-a"
#define TO "mno-b"
#define CHANGE_MS 60000  /* trigger to commit: the PVA's validation dominates */

static const tb_change change = {DEVICE, TRE, FROM, TO};

static const char *drf(const tb_session *s)
{
	return tb_registration_operator(s->topology);
}

/* The device works on A's card: IMSI A into imsi_a. */
static int on_a(tb_session *s, char imsi_a[16])
{
	if (tb_device_power_on(s, DEVICE, CARD) || tb_device_attach(s, DEVICE, NETWORK))
		return -1;
	snprintf(imsi_a, 16, "%s", tb_card_imsi(s, CARD));
	return tb_device_send(s, DEVICE, "meter 0501: 3.2 m3 on operator A");
}

static int consented(tb_session *s, EVP_PKEY *subscriber, const char *imsi_a, uint64_t since)
{
	uint8_t id[16];
	char why[300] = "", consent[40];
	tb_step(s, "the subscriber authorises the move of %s to %s: the DRF answers a changeId", DEVICE, TO);
	if (tb_change_request(s, subscriber, &change, id, why, sizeof why) != M2M_OK)
		return tb_step_fail(s, "%s", why);
	tb_step_ok(s);
	snprintf(consent, sizeof consent, "imsi=%s", imsi_a);
	const tb_msg flow[] = {
		{drf(s), FROM, "changeNotify", NULL},
		{FROM, drf(s), "changeConsent", consent},
	};
	return tb_expect_flow(s, "A consents, naming the IMSI of the device's card", flow, 2, since);
}

/* The device's status until it is attached with an IMSI of B's PLMN (imsi_b), or the deadline. */
static int wait_on_b(tb_session *s, char imsi_b[16])
{
	const char *plmn = tb_plmn_of(s->topology, TO);
	tb_control status = {.action = M2M_DEV_STATUS};
	tb_device_status st = {0};
	char why[300] = "";
	tb_step(s, "the DRF wakes %s through A; the TRE re-credentials the card; the device attaches with B (at most %d s)",
		TRE, CHANGE_MS / 1000);
	for (uint64_t until = tb_now_us() + CHANGE_MS * 1000ull; tb_now_us() < until;) {
		if (tb_device(s, DEVICE, &status, &st, why, sizeof why) == M2M_OK && st.attached_to[0] &&
		    !strncmp(st.imsi, plmn, strlen(plmn))) {
			snprintf(imsi_b, 16, "%s", st.imsi);
			printf("(IMSI %s) ", imsi_b);
			return tb_step_ok(s);
		}
		nanosleep(&(struct timespec){.tv_nsec = TB_RETRY_PAUSE_MS * 1000000L}, NULL);
	}
	return tb_step_fail(s, "the device still says IMSI %s attached to %s%s%s", st.imsi[0] ? st.imsi : "none",
			    st.attached_to[0] ? st.attached_to : "nothing", why[0] ? ": " : "", why);
}

static int changed(tb_session *s, char imsi_b[16], uint64_t since)
{
	if (wait_on_b(s, imsi_b))
		return -1;
	const tb_msg flow[] = {
		{drf(s), FROM, "treTrigger", NULL},
		{FROM, NETWORK, "treTrigger", NULL},
		{NETWORK, DEVICE, "treTrigger", NULL},
		{DEVICE, TRE, "treTrigger", NULL},
		{TRE, DEVICE, "treTriggerAck", NULL},
		{DEVICE, CARD, "apduCommand", NULL},
		{NETWORK, drf(s), "uiccChangeRegister", NULL},
		{drf(s), TO, "uiccCredentialOrder", NULL},
		{TO, "certauth", "validationRequest", "tre=" TRE},
		{TO, drf(s), "uiccCredentialPackage", NULL},
		{drf(s), NETWORK, "uiccCredentialDelivery", NULL},
		{DEVICE, NETWORK, "attachRequest", "imsi=00102"},
		{NETWORK, TO, "authInfoRequest", "imsi=00102"},
		{DEVICE, TRE, "treAttached", "imsi=00102"},
		{NETWORK, drf(s), "uiccChangeComplete", NULL},
		{drf(s), FROM, "uiccRelease", NULL},
		{FROM, drf(s), "uiccReleaseAck", NULL},
	};
	return tb_expect_flow(s, "trigger signed by the DRF, card certificate and challenge, registration, fresh "
				 "validation by B, B's blob to the card, switch and attach with B, then A's release",
			      flow, (int)(sizeof flow / sizeof flow[0]), since);
}

/* ---- T-3b-2: what crossed the M2ME-UICC interface ------------------------------------------ */

#define BLOCKS_MAX 64
#define HEX_MAX (2 * 300 + 1024)

/* The STORE DATA chain by block number: the M2ME's and the card's report of a block (the trace
 * holds whichever end saw it, a restarted daemon's tap may miss some) fill the same slot, and a
 * chain sent again after a restart overwrites it. */
typedef struct blob {
	uint8_t block[BLOCKS_MAX][255];
	uint8_t len[BLOCKS_MAX];
	int last;  /* the number of the block with P1 80, or -1 */
	uint8_t data[BLOCKS_MAX * 255];
	size_t size;
} blob;

/* One STORE DATA command to the card (the trace's DER of the envelope) into b. */
static void store_data(blob *b, const char *hex)
{
	uint8_t der[HEX_MAX / 2];
	long n = m2m_unhex_var(hex, der, sizeof der);
	m2m_envelope env = {0};
	if (n <= 0 || m2m_decode(der, (size_t)n, &env) != M2M_OK || env.type != M2M_MSG_APDU_COMMAND) {
		m2m_envelope_clear(&env);
		return;
	}
	const ASN1_OCTET_STRING *a = ((const M2M_APDU_COMMAND *)env.body)->apdu;
	const uint8_t *apdu = ASN1_STRING_get0_data(a);
	size_t len = (size_t)ASN1_STRING_length(a);
	if (len > 5 && apdu[0] == 0x80 && apdu[1] == 0xe2 && (size_t)apdu[4] + 5 == len && apdu[3] < BLOCKS_MAX) {
		memcpy(b->block[apdu[3]], apdu + 5, apdu[4]);
		b->len[apdu[3]] = apdu[4];
		if (apdu[2] == 0x80)
			b->last = apdu[3];
	}
	m2m_envelope_clear(&env);
}

/* The blocks 0 to last in order into b->data: 0, or -1 when the chain has no end or a gap. */
static int reassemble(blob *b)
{
	b->size = 0;
	for (int i = 0; i <= b->last; i++) {
		if (!b->len[i])
			return -1;
		memcpy(b->data + b->size, b->block[i], b->len[i]);
		b->size += b->len[i];
	}
	return b->last < 0 ? -1 : 0;
}

/* The STORE DATA chain sent to the card since since_us, reassembled from the trace. */
static int card_blob(tb_session *s, uint64_t since_us, blob *b)
{
	char path[PATH_MAX], type[40], to[M2M_ENTITY_MAX + 1];
	static char hex[HEX_MAX];
	size_t len;
	uint64_t t;
	if (tb_path(path, sizeof path, s->rundir, "trace", ".jsonl"))
		return -1;
	char *trace = tb_read_file(path, 0, &len);
	memset(b, 0, sizeof *b);
	b->last = -1;
	for (char *line = trace, *end; line && *line; line = end + 1) {
		if (!(end = strchr(line, '\n')))
			break;
		*end = 0;
		if (!tb_json_u64(line, "time", &t) && t >= since_us && !tb_json_str(line, "type", type, sizeof type) &&
		    !strcmp(type, "apduCommand") && !tb_json_str(line, "to", to, sizeof to) && !strcmp(to, CARD) &&
		    !tb_json_str(line, "der", hex, sizeof hex))
			store_data(b, hex);
	}
	free(trace);
	return trace ? reassemble(b) : -1;
}

/* Only ciphertext: the chain is one CMS AuthEnvelopedData (to the card's key), nothing in clear. */
static int ciphertext_only(tb_session *s, uint64_t since_us)
{
	static blob b;
	tb_step(s, "the STORE DATA chain in the trace of the M2ME-UICC interface is a CMS AuthEnvelopedData: no K in clear");
	if (card_blob(s, since_us, &b))
		return tb_step_fail(s, "the trace holds no complete STORE DATA chain to %s", CARD);
	const uint8_t *p = b.data;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)b.size);
	int nid = cms ? OBJ_obj2nid(CMS_get0_type(cms)) : NID_undef;
	CMS_ContentInfo_free(cms);
	if (nid != NID_id_smime_ct_authEnvelopedData || p != b.data + b.size)
		return tb_step_fail(s, "the %zu bytes in %d blocks are not one AuthEnvelopedData", b.size, b.last + 1);
	printf("(%zu bytes in %d blocks) ", b.size, b.last + 1);
	return tb_step_ok(s);
}

/* RAND and AUTN of one vector for imsi from its home op, the testbed asking as a serving network. */
static int challenge_of(tb_session *s, const char *op, const char *imsi, uint8_t rand[16], uint8_t autn[16], char *why,
			size_t len)
{
	M2M_AUTH_INFO_REQUEST *q = M2M_AUTH_INFO_REQUEST_new();
	tb_reply r = {0};
	int bad = !q || m2m_set_digits(&q->imsi, imsi) || m2m_set_str(q->serving_network, TB_SELF);
	if (q)
		q->num_vectors = 1;
	int rc = bad ? -1 : tb_call(s->node, op, M2M_MSG_AUTH_INFO_REQUEST, q, &r);
	M2M_AUTH_INFO_REQUEST_free(q);
	const M2M_AUTH_INFO_RESPONSE *a = r.type == M2M_MSG_AUTH_INFO_RESPONSE ? r.body : NULL;
	const M2M_AUTH_VECTOR *av = a && sk_M2M_AUTH_VECTOR_num(a) > 0 ? sk_M2M_AUTH_VECTOR_value(a, 0) : NULL;
	if (rc || !av || m2m_read_octets(av->rand, rand, 16) || m2m_read_octets(av->autn, autn, 16)) {
		tb_reply_problem(&r, M2M_MSG_AUTH_INFO_RESPONSE, why, len);
		rc = -1;
	}
	tb_reply_clear(&r);
	return rc ? -1 : 0;
}

/* T-3b-2: A knew the card's K; it does not answer B's challenge for IMSI B (MAC failure). */
static int old_k_refused(tb_session *s, const char *imsi_b)
{
	static const char *const names[] = {"k", "opc"};
	char hex[2][65], why[300] = "";
	uint8_t k[16], opc[16], rand[16], autn[16];
	m2m_milenage m;
	m2m_sqn_usim usim = {0};
	m2m_aka_usim_result res;
	tb_step(s, "K and OPc that A personalised %s with, against a challenge of B for IMSI %s: MAC failure", CARD,
		imsi_b);
	int rc = tb_card_image_values(s->rundir, CARD, names, hex, 2) || m2m_unhex(hex[0], k, 16) ||
		 m2m_unhex(hex[1], opc, 16) || m2m_milenage_init(&m, k, opc);
	m2m_wipe(hex, sizeof hex);
	m2m_wipe(k, sizeof k);
	m2m_wipe(opc, sizeof opc);
	if (rc)
		return tb_step_fail(s, "cannot read the keys of %s's image", CARD);
	if (challenge_of(s, TO, imsi_b, rand, autn, why, sizeof why)) {
		m2m_milenage_clear(&m);
		return tb_step_fail(s, "no vector from %s: %s", TO, why);
	}
	m2m_aka_status st = m2m_aka_usim_authenticate(&m, &usim, rand, autn, &res);
	m2m_milenage_clear(&m);
	m2m_wipe(&res, sizeof res);
	if (st != M2M_AKA_MAC_FAILURE)
		return tb_step_fail(s, "the old keys gave status %d, not a MAC failure", (int)st);
	return tb_step_ok(s);
}

/* The TRE's own account (treStatus): its 3b procedure ended done, COMMIT sent (it follows the
 * DRF's ack, while the DRF releases A: a moment is allowed). */
static int tre_done(tb_session *s)
{
	tb_tre_status st = {.provisioning = -1};
	char why[300] = "";
	tb_step(s, "%s committed the card to B's credentials: its procedure says done (treStatus)", TRE);
	for (uint64_t until = tb_now_us() + 5000000u; tb_now_us() < until;) {
		if (tb_tre(s->node, TRE, M2M_TRE_CTL_STATUS, NULL, NULL, &st, why, sizeof why) == M2M_OK &&
		    st.provisioning == M2M_PROV_DONE)
			return tb_step_ok(s);
		nanosleep(&(struct timespec){.tv_nsec = 100 * 1000000L}, NULL);
	}
	return tb_step_fail(s, "%s's procedure is %s%s%s", TRE, tb_provision_state_name(st.provisioning), why[0] ? ": " : "",
			    why);
}

/* A's record of IMSI A after the release, and the device's data on B. */
static int released(tb_session *s, const char *imsi_a, const char *imsi_b)
{
	static const char *const words[] = {"IMSI deactivated", "K, OPc and its OTA keysets here erased", NULL};
	return tb_record_expect(s, FROM, imsi_a, "deleted", words) ||
	       tb_record_expect(s, TO, imsi_b, "active", NULL) || old_k_refused(s, imsi_b) ||
	       tb_device_send(s, DEVICE, "meter 0502: 3.3 m3 on operator B");
}

int tb_scenario_3b(tb_session *s)
{
	static const tb_fit fits[] = {{DEVICE, CARD}};
	char imsi_a[16], imsi_b[16];
	if (tb_known_state(s, fits, 1) || on_a(s, imsi_a) || tb_register_device(s, DEVICE, TRE, FROM))
		return -1;
	EVP_PKEY *subscriber = tb_subscriber_key(s->rundir);
	int rc = !subscriber || tb_change_refusals(s, subscriber, &change, imsi_a) ||
		 consented(s, subscriber, imsi_a, tb_now_us());
	EVP_PKEY_free(subscriber);
	uint64_t since = tb_now_us();
	if (rc || changed(s, imsi_b, since) || ciphertext_only(s, since) || tre_done(s) || released(s, imsi_a, imsi_b))
		return -1;
	printf("outcome: %s moved from %s to %s with its card in place: %s's new IMSI, K, OPc and OTA keys reached the "
	       "card encrypted to the card's own key through %s; the card switched, the device attached with %s, and "
	       "only then did %s deactivate IMSI %s\n",
	       DEVICE, FROM, TO, TO, TRE, imsi_b, FROM, imsi_a);
	return 0;
}
