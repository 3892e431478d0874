/*
 * 3a: Alternative 3a of TR 33.812 (clause 5.4.1, docs/alt3a.md): the change of operator of a
 * device whose UICC stays in it. m2me-4 works on operator A's card uicc-4. Its subscriber (the
 * owner of the card, registered at A with its certificate at `up`) signs the authorisation to
 * move the card to operator B; B allocates a new IMSI and asks A (portRequest). A refuses an
 * authorisation signed by another key, and a card under its contract lock, changing nothing.
 * Accepted, A hands B the card's IMSI-to-be, K, OPc, SQN and OTA keys (portTransfer, signed by A
 * and encrypted to B), B makes the new IMSI's record pending, and only then does A rewrite
 * EF_IMSI over the air (SCP80 in an SMS-PP relayed by the visited network). The card asks the
 * device to refresh, the device detaches and attaches with the new IMSI, B's first AKA works
 * without re-synchronisation, B tells A (portComplete) and A deletes its record and keys with a
 * signed receipt. B then rotates the OTA keys: a packet under the keys A knew is refused by the
 * card, one under B's new keys works.
 */
#include "testbed.h"

#include "crypto/crypto.h"
#include "pki/pki.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEVICE "m2me-4"
#define CARD "uicc-4"
#define NETWORK "mno-v"
#define FROM "mno-a"
#define TO "mno-b"
#define REFUSED_MS 10000
#define PORT_MS 30000
#define OTA_MS 20000
/* a harmless script for the OTA probes: SELECT EF_IMSI, READ BINARY of its 9 bytes */
#define PROBE_SELECT "00a40004026f07"
#define PROBE_READ "00b0000009"

static const char *const port_refused[] = {"refused", NULL};
static const char *const port_done[] = {"completed", "refused", NULL};

static const char *iccid(const tb_session *s)
{
	const tb_card *k = tb_card_of(s->topology, CARD);
	return k ? k->iccid : "";
}

/* The subscriber's signed authorisation for this card into RUNDIR/port/NAME.der (a forger's with signer). */
static int authorisation(tb_session *s, const char *name, EVP_PKEY *signer, char *path, size_t len)
{
	const char *cards[] = {iccid(s)};
	return tb_port_path(path, len, s->rundir, name, ".der") ||
	       tb_port_authorise(s->rundir, signer, FROM, TO, cards, 1, path);
}

/* A port the subscriber's authorisation asks for, started at B and refused by A with want. */
static int refused(tb_session *s, const char *name, EVP_PKEY *signer, const char *const *want, const char *what,
		   char id[TB_PORT_ID_HEX + 1])
{
	char path[PATH_MAX], why[600] = "";
	tb_step(s, "%s: B starts the port (mno-admin port start), A refuses it %s%s%s", what, want[0],
		want[1] ? " or " : "", want[1] ? want[1] : "");
	if (authorisation(s, name, signer, path, sizeof path))
		return tb_step_fail(s, "cannot write the authorisation %s", path);
	if (tb_port_start(s, TO, FROM, path, id, why, sizeof why))
		return tb_step_fail(s, "%s", why);
	tb_buf status = {0};
	int state = tb_port_wait(s, TO, id, port_refused, REFUSED_MS, &status);
	int named = 0;
	for (int i = 0; want[i]; i++)
		named |= status.data && strstr(status.data, want[i]) != NULL;
	tb_show_output(status.data);
	tb_buf_free(&status);
	if (state < 0)
		return tb_step_fail(s, "B's port %s is not refused after %d s", id, REFUSED_MS / 1000);
	if (!named)
		return tb_step_fail(s, "B's port %s is refused, but not %s", id, want[0]);
	return tb_step_ok(s);
}

/* Nothing changed at A or in the device by the refused port id. */
static int unchanged(tb_session *s, const char *id)
{
	char port[64];
	snprintf(port, sizeof port, "portId=%s", id);
	const tb_msg transfer = {FROM, TO, "portTransfer", port};
	if (tb_expect_none(s, "no portTransfer of the refused port", &transfer, 0) ||
	    tb_subscriber_expect(s, CARD, "active", NULL))
		return -1;
	tb_device_status st;
	tb_control look = {.action = M2M_DEV_STATUS};
	if (tb_device_ok(s, DEVICE, &look, &st, "%s still works with IMSI A", DEVICE))
		return -1;
	if (strcmp(st.imsi, tb_card_imsi(s, CARD)) || strcmp(st.attached_to, NETWORK))
		return tb_step_fail(s, "it says IMSI %s attached to %s", st.imsi, st.attached_to);
	return 0;
}

/* T-3a: a forged authorisation, and A's contract lock; neither changes anything. */
static int refusals(tb_session *s)
{
	static const char *const forged[] = {"notAuthorised", "badSignature", NULL};
	static const char *const locked[] = {"contractLocked", NULL};
	const char *imsi_a = tb_card_imsi(s, CARD);
	const char *lock[] = {"lock", imsi_a, "--days", "30", NULL}, *unlock[] = {"unlock", imsi_a, NULL};
	char id[TB_PORT_ID_HEX + 1];
	EVP_PKEY *other = m2m_pki_keygen();
	int rc = !other || refused(s, "3a-forged", other, forged, "an authorisation signed by another key than the "
								  "subscriber's, in its name", id);
	EVP_PKEY_free(other);
	if (rc || unchanged(s, id) ||
	    tb_admin_step(s, FROM, lock, "operator A puts IMSI A under a 30-day contract lock (mno-admin lock)"))
		return -1;
	rc = refused(s, "3a-locked", NULL, locked, "the subscriber's own authorisation, under A's lock", id) ||
	     unchanged(s, id);
	return tb_admin_step(s, FROM, unlock, "operator A lifts the lock (mno-admin unlock)") || rc ? -1 : 0;
}

/* The device on A: powered on with the card, attached through the visited network, sending data. */
static int on_a(tb_session *s)
{
	return tb_device_power_on(s, DEVICE, CARD) || tb_device_attach(s, DEVICE, NETWORK) ||
	       tb_device_send(s, DEVICE, "meter 0404: 12.5 m3 on operator A");
}

/* The new IMSI B allocated for the card, as B's port status says (before anything moved). */
static int allocated(tb_session *s, const char *id, char imsi_b[16])
{
	tb_port_card c;
	tb_step(s, "B's port status names the card with the new IMSI it allocated (mno-admin port status %s)", id);
	if (tb_port_card_of(s, TO, id, iccid(s), &c))
		return tb_step_fail(s, "B's port %s has no line for card ICCID %s", id, iccid(s));
	snprintf(imsi_b, 16, "%s", c.new_imsi);
	printf("(IMSI %s, %s) ", c.new_imsi, c.state);
	return tb_step_ok(s);
}

/* Polls the device until it is attached with the IMSI B allocated: it moves by itself. */
static int device_moved(tb_session *s, const char *imsi_b)
{
	tb_step(s, "the card asks %s to refresh: it detaches and attaches with the new IMSI %s of %s", DEVICE, imsi_b, TO);
	tb_control look = {.action = M2M_DEV_STATUS};
	uint64_t until = tb_now_us() + PORT_MS * 1000u;
	tb_device_status st = {0};
	char why[300] = "";
	while (tb_now_us() < until) {
		if (!tb_device(s, DEVICE, &look, &st, why, sizeof why) && !strcmp(st.imsi, imsi_b) &&
		    !strcmp(st.attached_to, NETWORK)) {
			printf("(IMSI %s, attached to %s) ", st.imsi, st.attached_to);
			return tb_step_ok(s);
		}
		struct timespec ts = {0, 200 * 1000000L};
		nanosleep(&ts, NULL);
	}
	return tb_step_fail(s, "after %d s it says IMSI %s attached to %s%s%s", PORT_MS / 1000, st.imsi[0] ? st.imsi : "none",
			    st.attached_to[0] ? st.attached_to : "nothing", why[0] ? "; " : "", why);
}

static int port_completed(tb_session *s, const char *id)
{
	tb_step(s, "B's port %s ends completed (mno-admin port status)", id);
	tb_buf status = {0};
	int state = tb_port_wait(s, TO, id, port_done, PORT_MS, &status);
	tb_show_output(status.data);
	tb_buf_free(&status);
	if (state != 0)
		return tb_step_fail(s, "the port is %s", state < 0 ? "not over in time" : "refused");
	return tb_step_ok(s);
}

/* The port id's messages (a batch port may run beside it: each message is this port's, or the
 * device's). */
static int port_flows(tb_session *s, const char *id, uint64_t since)
{
	char port[64], imsi_a[32];
	snprintf(port, sizeof port, "portId=%s", id);
	snprintf(imsi_a, sizeof imsi_a, "imsi=%s", tb_card_imsi(s, CARD));
	const tb_msg flow[] = {
		{TO, FROM, "portRequest", port},
		{FROM, TO, "portResponse", port},
		{FROM, TO, "portTransfer", port},
		{TO, FROM, "portTransferAck", port},
		{FROM, NETWORK, "smsDeliver", imsi_a},
		{NETWORK, DEVICE, "smsDeliver", imsi_a},
		{DEVICE, CARD, "apduCommand", "apdu=80c2"}, /* ENVELOPE (SMS-PP download) */
		{DEVICE, NETWORK, "smsReport", NULL},
		{DEVICE, NETWORK, "detachRequest", NULL},
		{DEVICE, NETWORK, "attachRequest", "imsi=00102"},
		{NETWORK, TO, "authInfoRequest", "imsi=00102"},
		{TO, FROM, "portComplete", port},
		{FROM, TO, "portCompleteAck", port},
	};
	/* B completes as soon as the attach's updateLocation activated the record: its portComplete
	 * may go before or after mno-v's attachAccept */
	const tb_msg attach[] = {
		{NETWORK, TO, "authInfoRequest", "imsi=00102"},
		{NETWORK, DEVICE, "attachAccept", NULL},
	};
	const tb_msg report[] = {
		{NETWORK, DEVICE, "smsDeliver", imsi_a},
		{NETWORK, FROM, "smsReport", NULL}, /* the PoR back to A's OTA server */
	};
	const tb_msg resync = {DEVICE, NETWORK, "authFailure", NULL};
	return tb_expect_flow(s, "the request, A's transfer before any change to the card, the OTA rewrite relayed by "
				 "the visited network, the refresh, the attach with B, the completion",
			      flow, (int)(sizeof flow / sizeof flow[0]), since) ||
	       tb_expect_flow(s, "the attach with B accepted", attach, 2, since) ||
	       tb_expect_flow(s, "the card's proof of receipt going back to A", report, 2, since) ||
	       tb_expect_none(s, "no authFailure: B's first AKA needs no re-synchronisation (A handed over its SQN)",
			      &resync, since);
}

static int ported(tb_session *s, char id[TB_PORT_ID_HEX + 1], char imsi_b[16])
{
	static const char *const deletion[] = {"K, OPc and OTA keys erased", "deletion receipt signed", NULL};
	char path[PATH_MAX], why[600] = "";
	uint64_t since = tb_now_us();
	tb_step(s, "the subscriber authorises the move of %s (ICCID %s) from %s to %s; B starts the port", CARD, iccid(s),
		FROM, TO);
	if (authorisation(s, "3a", NULL, path, sizeof path))
		return tb_step_fail(s, "cannot write the authorisation %s", path);
	if (tb_port_start(s, TO, FROM, path, id, why, sizeof why) || tb_port_note(s->rundir, CARD, id))
		return tb_step_fail(s, "%s", why[0] ? why : "cannot note the port's id");
	tb_step_ok(s);
	return allocated(s, id, imsi_b) || device_moved(s, imsi_b) || port_completed(s, id) || port_flows(s, id, since) ||
	       tb_record_expect(s, FROM, tb_card_imsi(s, CARD), "deleted", deletion) ||
	       tb_record_expect(s, TO, imsi_b, "active", NULL) ||
	       tb_device_send(s, DEVICE, "meter 0404: 12.7 m3 on operator B");
}

/* ---- B's key rotation, and the keys A knew -------------------------------------------------- */

/* An OTA command at B whose output must name the PoR status want, with exit status rc_want (a job
 * the card refused ends failed: 1). */
static int ota_step(tb_session *s, const char *const *args, int rc_want, const char *want)
{
	tb_buf out = {0}, err = {0};
	int rc = tb_admin(s->rundir, TO, args, &out, &err);
	int ok = rc == rc_want && strstr(out.data, want);
	if (ok)
		tb_step_ok(s);
	else
		tb_step_fail(s, "mno-admin ota %s exited with %d, not %d, or does not say \"%s\":\n%s%s", args[1], rc, rc_want,
			     want, out.data, err.data);
	tb_show_output(out.data);
	tb_buf_free(&out);
	tb_buf_free(&err);
	return ok ? 0 : -1;
}

/* "data 08..." as `ota show` prints the response data of READ BINARY of EF_IMSI holding imsi (15
 * digits): the length 08, the first digit over the parity nibble 9, then BCD digits low nibble
 * first (TS 31.102 §4.2.2). */
static void ef_imsi_data(const char *imsi, char out[32])
{
	int n = snprintf(out, 32, "data 08%c9", imsi[0]);
	for (int i = 1; i + 1 < 15; i += 2)
		n += snprintf(out + n, (size_t)(32 - n), "%c%c", imsi[i + 1], imsi[i]);
}

/* 0 when the output of an OTA command at B names want; nothing shown. */
static int ota_quiet(tb_session *s, const char *const *args, const char *want)
{
	tb_buf out = {0}, err = {0};
	tb_admin(s->rundir, TO, args, &out, &err);
	int found = strstr(out.data, want) != NULL;
	tb_buf_free(&out);
	tb_buf_free(&err);
	return found ? 0 : -1;
}

/* The job of B's key rotation, which B queued when the port completed: B's port status names it
 * on the card's line. */
static int rotation_job(tb_session *s, const char *id, char job[24])
{
	tb_port_card c;
	if (tb_port_card_of(s, TO, id, iccid(s), &c) || strcmp(c.state, "completed") || !c.job[0])
		return -1;
	snprintf(job, 24, "%s", c.job);
	return 0;
}

static int rotated(tb_session *s, const char *id, const char *imsi_b)
{
	static const char *const names[] = {"ota_kic", "ota_kid"};
	char keys[2][65], job[24] = "";
	const char *card = iccid(s);
	tb_step(s, "B queued the rotation of the card's OTA keys (PUT KEY on TAR 000000) as the port completed");
	if (rotation_job(s, id, job))
		return tb_step_fail(s, "%s's port status names no OTA key rotation job for card ICCID %s", TO, card);
	printf("(job %s) ", job);
	tb_step_ok(s);
	const char *show[] = {"ota", "show", job, NULL};
	tb_step(s, "the rotation's PoR says OK (mno-admin ota show %s)", job);
	uint64_t until = tb_now_us() + OTA_MS * 1000u;
	while (ota_quiet(s, show, "state done") && tb_now_us() < until)
		tb_retry_note("rotation", "not done yet");
	if (ota_step(s, show, 0, "PoR status PoR OK"))
		return -1;
	if (tb_card_image_values(s->rundir, CARD, names, keys, 2)) {
		tb_step(s, "the OTA keys of %s's image, which A knew", CARD);
		return tb_step_fail(s, "cannot read them");
	}
	const char *old[] = {"ota", "raw", card, "--kic-key", keys[0], "--kid-key", keys[1], "--wait", "20",
			     PROBE_SELECT, PROBE_READ, NULL};
	tb_step(s, "a packet under the OTA keys A knew (mno-admin ota raw at B) is refused by the card");
	int rc = ota_step(s, old, 1, "PoR status RC/CC/DS failed");
	m2m_wipe(keys, sizeof keys);
	const char *fresh[] = {"ota", "send", card, "b00010", "--wait", "20", PROBE_SELECT, PROBE_READ, NULL};
	char data[32];
	ef_imsi_data(imsi_b, data);
	tb_step(s, "a packet under B's new keys (mno-admin ota send) is executed: PoR OK, EF_IMSI read back holds IMSI %s",
		imsi_b);
	return ota_step(s, fresh, 0, data) || rc ? -1 : 0;
}

int tb_scenario_3a(tb_session *s)
{
	static const tb_fit fits[] = {{DEVICE, CARD}};
	char id[TB_PORT_ID_HEX + 1], imsi_b[16];
	if (tb_known_state(s, fits, 1) || on_a(s) || refusals(s) || ported(s, id, imsi_b) || rotated(s, id, imsi_b))
		return -1;
	printf("outcome: %s moved from %s to %s with its card in place: A rewrote EF_IMSI over the air after handing "
	       "B the card's keys, the device works with IMSI %s of B, A deleted its record, and the OTA keys A knew "
	       "no longer open the card\n",
	       DEVICE, FROM, TO, imsi_b);
	return 0;
}
