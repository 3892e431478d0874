/*
 * The old SHO's commands to the TRE during a change of subscription (docs/alt1a-change.md steps 2
 * and 6; TR O4: only the MCIM's owner manages it in the TRE). The TRE is called directly (a peer
 * of this operator); each command is signed by the DPF's identity (command.c) and stored with
 * the change in the step that decided it (consent.c: reprovision with the changeId; release.c:
 * delete), then sent from the tick, and again every RETRY_S, as the same bytes, until the TRE
 * answers it, also across a restart of this daemon.
 *
 *   reprovision: a receipt signed by the TRE for that command -> triggered;
 *   delete:      a receipt signed by the TRE saying the MCIM is deleted -> the receipt is kept,
 *                the HSS record deleted (audited) -> deleted.
 *
 * A lost receipt: the same command is sent again, byte for byte, and the TRE answers the very
 * same command with the receipt it kept for it (tre/commands.c), without doing anything twice. So
 * the change only ever moves on with a receipt signed by the TRE; any refusal or no answer proves
 * nothing, and the command goes again.
 */
#include "dpf/command.h"
#include "dpf/dpf_impl.h"

#include "crypto/crypto.h"
#include "hss/provision.h"
#include "log/log.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RETRY_S 3

/* ---- the command ------------------------------------------------------------------------------ */

static m2m_mcim_action action_of(const dpf_change *c)
{
	return c->state == DPF_CONSENTED ? M2M_MCIM_REPROVISION : M2M_MCIM_DELETE;
}

/* c's command with action, as dpf_command_sign makes it and dpf_receipt_check compares it with a
 * receipt (the nonce, c's pending one, is drawn anew by dpf_command_sign). */
static void command_of(const dpf_change *c, m2m_mcim_action action, dpf_command *cmd)
{
	memset(cmd, 0, sizeof *cmd);
	memcpy(cmd->mcim_id, c->mcim_id, sizeof cmd->mcim_id);
	snprintf(cmd->tre, sizeof cmd->tre, "%s", c->tre);
	cmd->action = action;
	memcpy(cmd->nonce, c->nonce, sizeof cmd->nonce);
}

int dpf_change_arm(dpf_context *dpf, dpf_change *c, m2m_mcim_action action)
{
	dpf_command cmd;
	command_of(c, action, &cmd);
	cmd.change_id = action == M2M_MCIM_REPROVISION ? c->change_id : NULL;  /* the TRE records the change */
	M2M_SIGNED_OBJECT *so = M2M_SIGNED_OBJECT_new();
	int rc = so && !dpf_command_sign(dpf->id, dpf->entity, &cmd, so) ? 0 : -1;
	uint8_t *der = rc ? NULL : malloc((size_t)ASN1_STRING_length(so->cms));
	if (der) {
		memcpy(der, ASN1_STRING_get0_data(so->cms), (size_t)ASN1_STRING_length(so->cms));
		free(c->command);
		c->command = der;
		c->command_len = (size_t)ASN1_STRING_length(so->cms);
		memcpy(c->nonce, cmd.nonce, sizeof c->nonce);
		dpf->command_due = 0;  /* the next tick sends it */
	}
	M2M_SIGNED_OBJECT_free(so);
	return der ? 0 : -1;
}

/* ---- the answer ------------------------------------------------------------------------------- */

typedef enum outcome { NOT_YET, RECEIPT } outcome;

/* What the TRE's answer to c's command proves; *state is the MCIM's after a receipt. */
static outcome judge(dpf_context *dpf, const dpf_change *c, const m2m_envelope *resp, m2m_reason reason,
		     m2m_mcim_state *state, char *why, size_t len)
{
	dpf_command cmd;
	command_of(c, action_of(c), &cmd);
	if (resp && resp->type == M2M_MSG_MCIM_RECEIPT) {
		m2m_reason r = dpf_receipt_check(m2m_identity_trust(dpf->id), resp->body, &cmd, state, why, len);
		if (r == M2M_OK && (cmd.action != M2M_MCIM_DELETE || *state == M2M_MCIM_DELETED))
			return RECEIPT;
		if (r == M2M_OK)
			snprintf(why, len, "the receipt of the delete says the MCIM is not deleted");
		return NOT_YET;
	}
	m2m_call_failure(c->tre, resp, reason, why, len);
	return NOT_YET;
}

/* released -> deleted: the receipt kept, the subscriber record deleted, all or nothing (a
 * callback's step is not rolled back for us). */
static int delete_steps(dpf_context *dpf, const dpf_change *c, const uint8_t *receipt, size_t receipt_len)
{
	char id_hex[2 * DPF_CHANGE_ID_LEN + 1], err[256];
	hss_subscriber s;
	m2m_hex(c->change_id, sizeof c->change_id, id_hex);
	int rc = hss_subscriber_load(dpf->db, NULL, c->imsi, &s);
	if (rc < 0 || dpf_change_deleted(dpf->db, c->change_id, receipt, receipt_len) ||
	    (rc == 0 && s.state != HSS_DELETED &&
	     hss_change_in(dpf->db, c->imsi, HSS_CHANGE_DELETE, DPF_ACTOR, err, sizeof err) != HSS_DONE))
		return -1;
	return hss_audit(dpf->db, DPF_ACTOR, c->imsi, "change", "change %s to %s: MCIM deleted in %s, its signed"
			 " receipt kept (%zu octets)", id_hex, c->to_sho, c->tre, receipt_len);
}

static int finish_delete(dpf_context *dpf, const dpf_change *c, const M2M_SIGNED_OBJECT *receipt)
{
	if (m2m_store_exec(dpf->db, "SAVEPOINT dpf_change_delete"))
		return -1;
	int rc = delete_steps(dpf, c, ASN1_STRING_get0_data(receipt->cms), (size_t)ASN1_STRING_length(receipt->cms));
	if (rc)
		sqlite3_exec(dpf->db, "ROLLBACK TO dpf_change_delete", NULL, NULL, NULL);
	return m2m_store_exec(dpf->db, "RELEASE dpf_change_delete") || rc ? -1 : 0;
}

/* The TRE carried c's command out (its receipt in resp): the change moves on. */
static int carried_out(dpf_context *dpf, dpf_change *c, const m2m_envelope *resp)
{
	if (c->state == DPF_RELEASED)
		return finish_delete(dpf, c, resp->body);
	free(c->command);
	c->command = NULL;
	c->state = DPF_TRIGGERED;
	return dpf_change_update(dpf->db, c);
}

/* The TRE's answer, in a step of its own. An answer to a command no longer pending (the change
 * moved on meanwhile) is ignored. */
static void answered(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
	dpf_flight *x = arg;
	dpf_context *dpf = x->dpf;
	uint8_t change_id[DPF_CHANGE_ID_LEN], nonce[DPF_NONCE_LEN];
	char why[300] = "", id_hex[2 * DPF_CHANGE_ID_LEN + 1];
	memcpy(change_id, x->key, sizeof change_id);
	memcpy(nonce, x->nonce, sizeof nonce);
	dpf_flight_end(&dpf->commands, x);
	dpf_change c;
	if (dpf_change_find(dpf->db, change_id, &c) || !c.command || memcmp(c.nonce, nonce, sizeof nonce)) {
		dpf_change_clear(&c);
		return;
	}
	m2m_hex(change_id, sizeof change_id, id_hex);
	const char *action = action_of(&c) == M2M_MCIM_DELETE ? "delete" : "reprovision";
	m2m_mcim_state state = M2M_MCIM_ACTIVE;
	outcome o = judge(dpf, &c, resp, reason, &state, why, sizeof why);
	if (o == NOT_YET || carried_out(dpf, &c, resp)) {
		m2m_warn("change %s: %s not carried out by %s yet: %s; again in %ds", id_hex, action, c.tre,
			 why[0] ? why : "it cannot be recorded", RETRY_S);
		dpf->command_due = (int64_t)time(NULL) + RETRY_S;
	} else
		m2m_info("change %s: %s carried out by %s (signed receipt)", id_hex, action, c.tre);
	dpf_change_clear(&c);
}

/* ---- sending ---------------------------------------------------------------------------------- */

static void send_command(dpf_context *dpf, sqlite3_stmt *st)
{
	uint8_t change_id[DPF_CHANGE_ID_LEN];
	char tre[M2M_ENTITY_MAX + 1];
	m2m_store_column_text(st, 1, tre, sizeof tre);
	if (m2m_store_column_blob(st, 0, change_id, sizeof change_id) || dpf_flying(dpf->commands, change_id))
		return;
	M2M_SIGNED_OBJECT *so = M2M_SIGNED_OBJECT_new();
	dpf_flight *x = so && ASN1_OCTET_STRING_set(so->cms, sqlite3_column_blob(st, 3), sqlite3_column_bytes(st, 3))
				? dpf_flight_add(&dpf->commands, dpf, change_id)
				: NULL;
	if (x && !m2m_store_column_blob(st, 2, x->nonce, sizeof x->nonce) &&
	    !m2m_call(dpf->node, tre, M2M_MSG_MCIM_COMMAND, so, answered, x))
		x = NULL;
	if (x) {
		m2m_warn("the mcimCommand for %s cannot be sent (is it a peer with an endpoint?); again in %ds", tre, RETRY_S);
		dpf_flight_end(&dpf->commands, x);
	}
	M2M_SIGNED_OBJECT_free(so);
}

void dpf_change_tick(dpf_context *dpf)
{
	if (!dpf_due(&dpf->command_due, RETRY_S))
		return;
	sqlite3_stmt *st = m2m_store_prepare(dpf->db, "SELECT change_id, tre, nonce, command FROM dpf_change"
						      " WHERE command IS NOT NULL");
	while (st && sqlite3_step(st) == SQLITE_ROW)
		send_command(dpf, st);
	sqlite3_finalize(st);
}
