/*
 * ATTACKER BEHAVIOUR, for the attack scenarios of Alternative 2 only (docs/alt2.md, `testbed run
 * attack-...`). An honest visited network never runs this code: it is selected by the setting
 * attack = "false-network" | "replay", and the daemon says so at start. It shows what mutual
 * authentication (TS 33.102 6.3) denies a network that is not the card's operator's partner.
 *
 * false-network: a false base station with no roaming link and no K answers attachRequest itself,
 *   with a random RAND and an AUTN made under a random K and OPc. The USIM computes XMAC-A with
 *   its own K, finds MAC-A wrong and answers 98 62 (TS 31.102 7.1.2.1): the device reports
 *   macFailure and the false network never gets RES, CK or IK.
 *
 * replay: a rogue network with a roaming link relays attaches to the home operator honestly, but
 *   keeps the last challenge it relayed per IMSI and answers the next attach of that IMSI by
 *   replaying that RAND/AUTN instead of asking for a vector. The USIM has already accepted its
 *   SQN (TS 33.102 Annex C) and answers DC with AUTS, never RES, CK, IK; the rogue has no XRES for
 *   it either. On the sync failure it replays again rather than forward AUTS (a fresh vector from
 *   the home operator is not the attack), and the second sync failure ends the attach with
 *   synchFailure. A replayed challenge is used once: the next attach is relayed honestly again.
 */
#include "vno/vno_impl.h"

#include "crypto/crypto.h"
#include "log/log.h"

#include <string.h>
#include <time.h>

/* ---- false-network ------------------------------------------------------------------------------- */

int vno_rogue_false_vector(vno_vector *out)
{
	/* the attacker's guess at the card's secrets: random, so MAC-A is wrong but for 2^-64 */
	uint8_t k[16], opc[16], rand[16], sqn_bytes[6];
	static const uint8_t amf[2] = {0x80, 0x00};
	m2m_milenage m;
	m2m_aka_av av;
	m2m_random(k, sizeof k);
	m2m_random(opc, sizeof opc);
	m2m_random(rand, sizeof rand);
	m2m_random(sqn_bytes, sizeof sqn_bytes);
	memset(out, 0, sizeof *out);
	int rc = m2m_milenage_init(&m, k, opc);
	if (!rc) {
		rc = m2m_aka_av_build(&m, rand, m2m_sqn_unpack(sqn_bytes), amf, &av);
		m2m_milenage_clear(&m);
	}
	if (!rc) {
		memcpy(out->rand, av.rand, sizeof out->rand);
		memcpy(out->autn, av.autn, sizeof out->autn);
		memcpy(out->xres, av.xres, sizeof av.xres);
		out->xres_len = sizeof av.xres;
		memcpy(out->ck, av.ck, sizeof out->ck);
		memcpy(out->ik, av.ik, sizeof out->ik);
	}
	m2m_wipe(&av, sizeof av);
	m2m_wipe(k, sizeof k);
	m2m_wipe(opc, sizeof opc);
	return rc ? -1 : 0;
}

/* ---- replay: the challenges kept -------------------------------------------------------------- */

int vno_rogue_keep_challenge(sqlite3 *db, const char *imsi, const uint8_t rand[16], const uint8_t autn[16])
{
	sqlite3_stmt *st = m2m_store_prepare(db,
		"INSERT OR REPLACE INTO vno_replay_challenge (imsi, rand, autn, captured) VALUES (?, ?, ?, ?)");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, imsi, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 2, rand, 16, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 3, autn, 16, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
	return m2m_store_run(db, st);
}

int vno_rogue_take_challenge(sqlite3 *db, const char *imsi, vno_vector *out)
{
	memset(out, 0, sizeof *out);  /* no XRES, CK, IK: the rogue never had them for a replay */
	sqlite3_stmt *st = m2m_store_prepare(db, "SELECT rand, autn FROM vno_replay_challenge WHERE imsi = ?");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, imsi, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st), found = 0;
	if (rc == SQLITE_ROW)
		found = m2m_store_column_blob(st, 0, out->rand, sizeof out->rand) ||
				m2m_store_column_blob(st, 1, out->autn, sizeof out->autn)
			? -1
			: 1;
	else if (rc != SQLITE_DONE)
		found = -1;
	sqlite3_finalize(st);
	if (found != 1)
		return found;
	st = m2m_store_prepare(db, "DELETE FROM vno_replay_challenge WHERE imsi = ?");
	if (st)
		sqlite3_bind_text(st, 1, imsi, -1, SQLITE_TRANSIENT);
	return m2m_store_run(db, st) ? -1 : 1;
}

/* ---- the attacker's turns in the attach ----------------------------------------------------------- */

/* A challenge of the attacker's own making to the device (no home operator asked). */
static void challenge(vno_context *v, m2m_request *req, vno_attach *a, vno_attach_event event)
{
	a->has_vector = 1;
	m2m_warn("ATTACKER (%s): %s challenge to %s for IMSI %s", vno_attack_name(v->settings.attack),
		 a->origin == VNO_FROM_REPLAY ? "replaying an old" : "a false", a->device, a->imsi);
	vno_send_challenge(v, req, a, event);
}

int vno_rogue_attach(vno_context *v, m2m_request *req, vno_attach *a)
{
	int kept;
	switch (v->settings.attack) {
	case VNO_ATTACK_FALSE_NETWORK:
		a->origin = VNO_FROM_FALSE_NETWORK;
		a->home[0] = 0;  /* it has no roaming link: no home operator ever hears of this attach */
		if (vno_rogue_false_vector(&a->vector))
			m2m_refuse(v->node, req, M2M_R_INTERNAL, "no challenge could be made");
		else
			challenge(v, req, a, VNO_EV_VECTOR);
		return 1;
	case VNO_ATTACK_REPLAY:
		kept = a->home[0] ? vno_rogue_take_challenge(v->db, a->imsi, &a->vector) : 0;
		if (kept < 0)
			m2m_refuse(v->node, req, M2M_R_INTERNAL, "the kept challenges cannot be read");
		else if (kept) {
			a->origin = VNO_FROM_REPLAY;
			challenge(v, req, a, VNO_EV_VECTOR);
		}
		return kept != 0;
	case VNO_ATTACK_NONE:
		break;
	}
	return 0;
}

int vno_rogue_synch_failure(vno_context *v, m2m_request *req, vno_attach *a)
{
	if (a->origin == VNO_FROM_HOME)
		return 0;
	if (vno_attach_advance(v, a, VNO_EV_SYNCH_FAILURE)) {
		m2m_refuse(v->node, req, M2M_R_INTERNAL, "the attach cannot be stored");
		return 1;
	}
	/* the replay rogue replays the same RAND/AUTN again; the false network makes a new one */
	if (a->origin == VNO_FROM_FALSE_NETWORK && vno_rogue_false_vector(&a->vector)) {
		m2m_refuse(v->node, req, M2M_R_INTERNAL, "no challenge could be made");
		return 1;
	}
	challenge(v, req, a, VNO_EV_VECTOR);
	return 1;
}

void vno_rogue_relayed(vno_context *v, const vno_attach *a)
{
	if (v->settings.attack != VNO_ATTACK_REPLAY || a->origin != VNO_FROM_HOME)
		return;
	if (vno_rogue_keep_challenge(v->db, a->imsi, a->vector.rand, a->vector.autn))
		m2m_error("ATTACKER (replay): the relayed challenge could not be kept");
	else
		m2m_warn("ATTACKER (replay): kept the challenge relayed for IMSI %s, to replay it next time", a->imsi);
}
