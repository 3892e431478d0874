/*
 * The m2me daemon in a change of subscription (docs/alt1a-change.md step 5), against the fake
 * TRE and the fake network of m2me_harness.h: a device attached with MCIM A whose TRE holds an
 * open change runs provision over A's session; when the TRE says switching it detaches from A,
 * attaches with B and tells the TRE (treAttached), relays the completing step over B's session
 * and ends on B. A failed attach with B is told, the device goes back to A and the action ends
 * with the reason; a TRE already back on A sends it back too; a kill during the switch resumes
 * on A or on B, never on neither.
 */
#include "m2me_harness.h"

#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

TestSuite(change, .init = world_setup, .fini = world_teardown, .timeout = 120);

/* A device attached with MCIM A whose TRE has obeyed A's reprovision command. */
static void on_a_with_a_change_open(void)
{
	world_use_tre();
	fake_tre.provisioned = 1;
	world_start_m2me();
	answer a = act(M2M_DEV_POWER_ON);
	assert_status(&a, 1, "", "");
	a = act(M2M_DEV_ATTACH);
	assert_status(&a, 1, TRE_MCIM, "mno-v");
	fake_tre.change = 1;
}

static void expect_on(const char *imsi)
{
	answer a = act(M2M_DEV_STATUS);
	assert_status(&a, 1, imsi, "mno-v");
	a = control((ctl){.action = M2M_DEV_SEND_DATA, .data = "metering"});
	assert_status(&a, 1, imsi, "mno-v");
	cr_assert_str_eq(fake_net.imsi, imsi, "the network's session is another's");
	cr_assert(fake_net.session_open);
}

static int phase_is(const char *phase)
{
	char stored[16] = "";
	world_query("SELECT phase FROM provision", stored, sizeof stored);
	return !strcmp(stored, phase);
}

/* The provision is held open at the switch: the TRE says switching, the device has stored the
 * phase and sent its detach, which the network has not answered. */
static void provision_until_the_switch(answer *held)
{
	control_start((ctl){.action = M2M_DEV_PROVISION}, held);
	world_poll_until(&fake_tre.switched, 1);
	for (time_t end = time(NULL) + 10; !phase_is("changing") && time(NULL) < end;)
		world_step(0);
	cr_assert(phase_is("changing"), "the switch was not stored");
	cr_assert_eq(fake_tre.state, M2M_PROV_SWITCHING);
}

Test(change, switching_and_completing_end_attached_with_b)
{
	on_a_with_a_change_open();
	answer a = act(M2M_DEV_PROVISION);
	assert_status(&a, 1, TRE_MCIM_B, "mno-v");
	cr_assert_eq(fake_net.relays, 4, "discovery, order, install result, change complete");
	assert_relayed(0, "drf", M2M_MSG_DISCOVERY_REQUEST, TRE_MCIM);
	assert_relayed(1, "mno-b", M2M_MSG_MCIM_REQUEST, TRE_MCIM);
	assert_relayed(2, "mno-b", M2M_MSG_INSTALL_RESULT, TRE_MCIM);
	assert_relayed(3, "drf", M2M_MSG_CHANGE_COMPLETE, TRE_MCIM_B);
	cr_assert_str_eq(fake_tre.told_log, "077+ 042+", "the attach with A, then the one with B");
	cr_assert_eq(fake_tre.state, M2M_PROV_DONE);
	cr_assert(fake_tre.changed);
	cr_assert_eq(fake_net.detaches, 1, "A's session was not detached");
	cr_assert_eq(fake_net.attaches, 2);
	cr_assert_str_eq(fake_tre.aka_imsi, TRE_MCIM_B);
	expect_on(TRE_MCIM_B);
	world_stop_m2me();
	cr_assert_eq(world_rows("provision"), 0, "the finished change left its row");
}

Test(change, a_failed_attach_with_b_goes_back_to_a_and_ends_with_its_reason)
{
	on_a_with_a_change_open();
	snprintf(fake_net.refuse_imsi, sizeof fake_net.refuse_imsi, "%s", TRE_MCIM_B);
	answer a = act(M2M_DEV_PROVISION);
	assert_refused(&a, M2M_R_ROAMING_NOT_ALLOWED);
	cr_assert(strstr(a.text, TRE_MCIM_B), "%s", a.text);
	cr_assert_str_eq(fake_tre.told_log, "077+ 042- 077+", "B's failure told, then A's attach");
	cr_assert_eq(fake_tre.state, M2M_PROV_FAILED);
	cr_assert_eq(fake_tre.reason, M2M_R_ROAMING_NOT_ALLOWED, "the TRE was told another reason");
	cr_assert_not(fake_tre.changed);
	cr_assert_eq(fake_net.relays, 3, "nothing relayed after the switch");
	expect_on(TRE_MCIM);
	cr_assert_eq(world_rows("provision"), 0);
	/* the change stays open: once B can attach, the next provision completes it */
	fake_net.refuse_imsi[0] = 0;
	a = act(M2M_DEV_PROVISION);
	assert_status(&a, 1, TRE_MCIM_B, "mno-v");
	cr_assert(fake_tre.changed);
	world_stop_m2me();
}

Test(change, a_tre_past_its_deadline_sends_the_device_back_to_a)
{
	on_a_with_a_change_open();
	fake_tre.late = 1;
	answer a = act(M2M_DEV_PROVISION);
	assert_refused(&a, M2M_R_TIMEOUT);
	cr_assert(strstr(a.text, "went back"), "%s", a.text);
	cr_assert_str_eq(fake_tre.told_log, "077+ 042+ 077+");
	cr_assert_not(fake_tre.changed);
	expect_on(TRE_MCIM);
	world_stop_m2me();
}

Test(change, a_tre_that_is_not_told_ends_the_change)
{
	on_a_with_a_change_open();
	fake_tre.refuse_told = M2M_R_UNEXPECTED_MESSAGE;
	answer a = act(M2M_DEV_PROVISION);
	assert_refused(&a, M2M_R_UNEXPECTED_MESSAGE);
	cr_assert(strstr(a.text, "not told"), "%s", a.text);
	cr_assert_eq(fake_tre.state, M2M_PROV_SWITCHING, "the TRE's deadline decides");
	cr_assert_eq(fake_net.relays, 3, "changeComplete relayed without the TRE's commit");
	world_stop_m2me();
}

Test(change, a_kill_during_the_switch_resumes_and_ends_on_b)
{
	on_a_with_a_change_open();
	answer held;
	provision_until_the_switch(&held);
	world_kill_m2me();
	world_start_m2me();
	/* the testbed's retry of the same deviceControl reaches the new process, which resumes */
	world_poll(&held, 1);
	assert_status(&held, 1, TRE_MCIM_B, "mno-v");
	cr_assert_eq(fake_tre.state, M2M_PROV_DONE);
	cr_assert(fake_tre.changed);
	cr_assert(strstr(fake_tre.told_log, "042+"), "%s", fake_tre.told_log);
	cr_assert_eq(fake_net.relays, 4);
	assert_relayed(3, "drf", M2M_MSG_CHANGE_COMPLETE, TRE_MCIM_B);
	expect_on(TRE_MCIM_B);
	world_stop_m2me();
	cr_assert_eq(world_rows("provision"), 0);
}

Test(change, a_kill_during_the_switch_past_the_deadline_ends_on_a)
{
	on_a_with_a_change_open();
	answer held;
	provision_until_the_switch(&held);
	world_kill_m2me();
	fake_tre_deadline();  /* the device stayed away longer than the TRE waits */
	world_start_m2me();
	world_poll(&held, 1);
	assert_refused(&held, M2M_R_TIMEOUT);
	cr_assert_not(fake_tre.changed);
	cr_assert_str_eq(fake_tre.told_log, "077+ 077+", "%s", fake_tre.told_log);
	expect_on(TRE_MCIM);
	world_stop_m2me();
	cr_assert_eq(world_rows("provision"), 0);
}

/* Migration 2 keeps what a device of the first schema was doing (the phase, the steps). */
Test(change, a_database_of_the_first_schema_keeps_its_provisioning)
{
	char path[128];
	snprintf(path, sizeof path, "%s/m2me.db", world_dir);
	sqlite3 *db;
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db,
				  M2M_NODE_SCHEMA M2ME_SCHEMA_V1
				  "INSERT INTO device (id, powered, imei) VALUES (1, 1, '" DEVICE_IMEI "');"
				  "INSERT INTO provision VALUES (1, 'relaying', 2, 62, 'mno-a', 1, 2);"
				  "PRAGMA user_version = 1;",
				  NULL, NULL, NULL),
		     SQLITE_OK, "%s", sqlite3_errmsg(db));
	sqlite3_close(db);
	world_use_tre();
	world_start_m2me();
	answer a = act(M2M_DEV_STATUS);
	assert_status(&a, 1, "", "");
	char row[128];
	cr_assert(world_query("SELECT phase || ',' || steps || ',' || last_destination || ',' || ifnull(from_imsi, '-')"
			      " || ',' || failure FROM provision", row, sizeof row));
	cr_assert_str_eq(row, "relaying,2,mno-a,-,0");
	world_stop_m2me();
}
