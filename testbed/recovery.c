/*
 * What the recovery scenarios share (1a-recover, 3a-recover): after an interruption, typically a
 * daemon killed and restarted (`testbed crash`), nothing is reset. A device is taken as it was
 * left and kept powered on and attached, every refusal or silence shown and retried after a
 * pause, and the last step says where it ended: attached with an IMSI of operator A or of
 * operator B, its session proven by protected data echoed back, printed as "(on A: IMSI ...)" or
 * "(on B: IMSI ...)" for the crash tests to read.
 */
#include "testbed.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LAST_WORD_MS 5000  /* the last step may look this long even when the rest took all the time */

void tb_retry_note(const char *what, const char *why)
{
	printf("\n  %s: %s; again in %d ms", what, why, TB_RETRY_PAUSE_MS);
	fflush(stdout);
	usleep(TB_RETRY_PAUSE_MS * 1000);
}

int tb_device_ready_round(tb_session *s, const char *device, const char *network, char imsi[16])
{
	tb_device_status st;
	tb_control look = {.action = M2M_DEV_STATUS}, on = {.action = M2M_DEV_POWER_ON},
		   attach = {.action = M2M_DEV_ATTACH, .network = network};
	char why[300];
	if (tb_device(s, device, &look, &st, why, sizeof why)) {
		tb_retry_note("status", why);
		return 0;
	}
	if (st.powered && st.attached_to[0]) {
		snprintf(imsi, 16, "%s", st.imsi);
		return 1;
	}
	const tb_control *c = st.powered ? &attach : &on;
	if (tb_device(s, device, c, &st, why, sizeof why))
		tb_retry_note(st.powered ? "attach" : "powerOn", why);
	return 0;
}

int tb_device_echoes(tb_session *s, const char *device, const char *text, char imsi[16], char *why, size_t len)
{
	tb_control c = {.action = M2M_DEV_SEND_DATA, .data = (const uint8_t *)text, .len = strlen(text)};
	tb_device_status st;
	if (tb_device(s, device, &c, &st, why, len))
		return 0;
	if (st.echo_len != c.len || memcmp(st.echo, text, c.len)) {
		snprintf(why, len, "the echo is not what the device sent");
		return 0;
	}
	snprintf(imsi, 16, "%s", st.imsi);
	return 1;
}

const char *tb_plmn_of(const tb_topology *t, const char *sho)
{
	int i = tb_entity_index(t, sho);
	return i < 0 ? "" : tb_entity_setting(&t->entities[i], "plmn", "");
}

int tb_recovered_where(tb_session *s, const tb_where *w, uint64_t *deadline_us, char imsi[16])
{
	const char *a = tb_plmn_of(s->topology, w->sho_a), *b = tb_plmn_of(s->topology, w->sho_b);
	tb_step(s, "where %s ended: attached with an IMSI of A (%s, %s) or of B (%s, %s), protected data echoed",
		w->device, w->sho_a, a, w->sho_b, b);
	uint64_t last_word = tb_now_us() + LAST_WORD_MS * 1000u;
	if (*deadline_us < last_word)
		*deadline_us = last_word;
	char why[300] = "";
	while (!tb_device_ready_round(s, w->device, w->network, imsi) ||
	       !tb_device_echoes(s, w->device, w->text, imsi, why, sizeof why)) {
		if (tb_now_us() >= *deadline_us)
			return tb_step_fail(s, "on neither A nor B: %s has no working session%s%s", w->device,
					    why[0] ? ": " : "", why);
		if (why[0])
			tb_retry_note("sendData", why);
		why[0] = 0;
	}
	int on_a = a[0] && !strncmp(imsi, a, strlen(a)), on_b = b[0] && !strncmp(imsi, b, strlen(b));
	if (!on_a && !on_b)
		return tb_step_fail(s, "on neither A nor B: %s works with IMSI %s", w->device, imsi);
	printf("\n  (on %s: IMSI %s of %s, through %s) ", on_a ? "A" : "B", imsi, on_a ? w->sho_a : w->sho_b, w->network);
	return on_a ? 'A' : 'B';
}
