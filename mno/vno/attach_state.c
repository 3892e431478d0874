/*
 * The attach state machine of the visited operator (TS 33.102 6.3 carried in this protocol):
 *
 *   awaitingVectors --vector--------------> challenged      (authChallenge to the device)
 *   challenged --RES ok-------------------> locating        (updateLocation to the home)
 *   challenged --sync failure, 1st--------> resynchronising (authInfoRequest with resync)
 *   resynchronising --vector--------------> challenged      (a new authChallenge, same attachId)
 *   locating --profile ok-----------------> accepted        (session, attachAccept)
 *   locating --profile refused------------> purging         (purge, then the refusal)
 *   purging --purged----------------------> failed
 *   challenged --RES wrong | MAC failure | 2nd sync failure--> failed
 *   any state waiting on the home --home refused | abandoned--> failed
 *
 * Everything else is refused wrongState. The table is the whole rule: the handlers only ask it.
 */
#include "vno/vno_impl.h"

#include <string.h>

#define NONE (-1)

static const signed char next_state[VNO_ATTACH_STATES][VNO_ATTACH_EVENTS] = {
	[VNO_AWAITING_VECTORS] = {
		[VNO_EV_VECTOR] = VNO_CHALLENGED, [VNO_EV_HOME_REFUSED] = VNO_FAILED,
		[VNO_EV_RES_OK] = NONE, [VNO_EV_RES_MISMATCH] = NONE, [VNO_EV_SYNCH_FAILURE] = NONE,
		[VNO_EV_MAC_FAILURE] = NONE, [VNO_EV_PROFILE_OK] = NONE, [VNO_EV_PROFILE_REFUSED] = NONE,
		[VNO_EV_PURGED] = NONE, [VNO_EV_ABANDONED] = VNO_FAILED,
	},
	[VNO_CHALLENGED] = {
		[VNO_EV_VECTOR] = NONE, [VNO_EV_HOME_REFUSED] = NONE,
		[VNO_EV_RES_OK] = VNO_LOCATING, [VNO_EV_RES_MISMATCH] = VNO_FAILED,
		[VNO_EV_SYNCH_FAILURE] = VNO_RESYNCHRONISING, /* VNO_FAILED once resyncs are used up */
		[VNO_EV_MAC_FAILURE] = VNO_FAILED, [VNO_EV_PROFILE_OK] = NONE, [VNO_EV_PROFILE_REFUSED] = NONE,
		[VNO_EV_PURGED] = NONE,
		/* the device's next message needs no in-memory state: a challenged attach survives */
		[VNO_EV_ABANDONED] = NONE,
	},
	[VNO_RESYNCHRONISING] = {
		[VNO_EV_VECTOR] = VNO_CHALLENGED, [VNO_EV_HOME_REFUSED] = VNO_FAILED,
		[VNO_EV_RES_OK] = NONE, [VNO_EV_RES_MISMATCH] = NONE, [VNO_EV_SYNCH_FAILURE] = NONE,
		[VNO_EV_MAC_FAILURE] = NONE, [VNO_EV_PROFILE_OK] = NONE, [VNO_EV_PROFILE_REFUSED] = NONE,
		[VNO_EV_PURGED] = NONE, [VNO_EV_ABANDONED] = VNO_FAILED,
	},
	[VNO_LOCATING] = {
		[VNO_EV_VECTOR] = NONE, [VNO_EV_HOME_REFUSED] = VNO_FAILED,
		[VNO_EV_RES_OK] = NONE, [VNO_EV_RES_MISMATCH] = NONE, [VNO_EV_SYNCH_FAILURE] = NONE,
		[VNO_EV_MAC_FAILURE] = NONE, [VNO_EV_PROFILE_OK] = VNO_ACCEPTED,
		[VNO_EV_PROFILE_REFUSED] = VNO_PURGING, [VNO_EV_PURGED] = NONE, [VNO_EV_ABANDONED] = VNO_FAILED,
	},
	[VNO_PURGING] = {
		[VNO_EV_VECTOR] = NONE, [VNO_EV_HOME_REFUSED] = NONE,
		[VNO_EV_RES_OK] = NONE, [VNO_EV_RES_MISMATCH] = NONE, [VNO_EV_SYNCH_FAILURE] = NONE,
		[VNO_EV_MAC_FAILURE] = NONE, [VNO_EV_PROFILE_OK] = NONE, [VNO_EV_PROFILE_REFUSED] = NONE,
		[VNO_EV_PURGED] = VNO_FAILED, [VNO_EV_ABANDONED] = VNO_FAILED,
	},
	/* final states take no event */
	[VNO_ACCEPTED] = {NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE},
	[VNO_FAILED] = {NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE},
};

int vno_attach_next(vno_attach_state state, vno_attach_event event, int resyncs)
{
	if ((unsigned)state >= VNO_ATTACH_STATES || (unsigned)event >= VNO_ATTACH_EVENTS)
		return NONE;
	int next = next_state[state][event];
	/* a second sync failure in one attach ends it (synchFailure): no endless resync loop */
	if (next == VNO_RESYNCHRONISING && resyncs >= VNO_MAX_RESYNCS)
		next = VNO_FAILED;
	return next;
}

static const char *const state_names[VNO_ATTACH_STATES] = {
	[VNO_AWAITING_VECTORS] = "awaitingVectors", [VNO_CHALLENGED] = "challenged",
	[VNO_RESYNCHRONISING] = "resynchronising",  [VNO_LOCATING] = "locating",
	[VNO_PURGING] = "purging",                  [VNO_ACCEPTED] = "accepted",
	[VNO_FAILED] = "failed",
};

const char *vno_attach_state_name(vno_attach_state s)
{
	return (unsigned)s < VNO_ATTACH_STATES ? state_names[s] : "?";
}

int vno_attach_state_parse(const char *name)
{
	for (int i = 0; i < VNO_ATTACH_STATES; i++)
		if (!strcmp(state_names[i], name))
			return i;
	return NONE;
}
