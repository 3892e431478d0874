/*
 * The MCIM owner's commands (docs/alt1a.md, "MCIM life cycle in the TRE"; TR O4; brief T-1a-9:
 * "a DELETE_MCIM not signed by the owner is refused by the TRE"; T-1a-12, isolation):
 *   mcimCommand  SignedObject over McimCommand {mcimId, owner, tre, action, nonce}
 *   mcimReceipt  SignedObject over McimReceipt {mcimId, tre, action, nonce, state}, by the TRE
 * It may come from anyone, over any path: its authority is its signature. It is obeyed only when
 * the signer's certificate chains to the root and is not revoked (a current CRL is held or
 * fetched first), is an operator function's, and names (CN) the command's owner, who must be
 * the MCIM's owner (notOwner otherwise); when it is for this TRE; and when its nonce was never
 * used (nonceReplayed): every nonce obeyed is kept, with the digest of the command and the
 * receipt. The very same command again (its owner retrying after a lost receipt) is answered
 * with the same signed receipt and changes nothing: the owner always ends with a signed proof.
 *   activate    the MCIM becomes the active one (the one active before becomes inactive)
 *   deactivate  it becomes inactive
 *   delete      it is zeroised: slot, row and SQN state deleted, the pages overwritten (a delete
 *               of an MCIM deleted already: notFound, which its owner takes as done)
 *   reprovision {changeId}: the owner of the ACTIVE MCIM lets a change of subscription start
 *               (docs/alt1a-change.md); the change is recorded (change.c), the MCIM unchanged
 * While a change is under way, commands that would take away the MCIM to fall back on, or touch
 * the one being switched to, are refused wrongState (change.c).
 */
#include "tre.h"

#include "log/log.h"
#include "wire/read.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NONCE_MIN 16
#define NONCE_MAX 32

static const char *const action_names[] = {"activate", "deactivate", "delete", "reprovision"};

typedef struct command {
	uint8_t mcim_id[TRE_MCIM_ID_LEN];
	char owner[M2M_ENTITY_MAX + 1];
	int action;
	uint8_t nonce[NONCE_MAX];
	size_t nonce_len;
	int has_change;
	uint8_t change_id[TRE_CHANGE_ID_LEN];  /* reprovision */
} command;

/* ---- checks ------------------------------------------------------------------------------- */

static m2m_reason read_command(const tre *t, const M2M_MCIM_COMMAND *m, command *c, char *why, size_t len)
{
	char tre_id[M2M_ENTITY_MAX + 1];
	int n = ASN1_STRING_length(m->nonce);
	if (m2m_read_octets(m->mcim_id, c->mcim_id, TRE_MCIM_ID_LEN) || m2m_read_name(m->owner, c->owner, M2M_ENTITY_MAX) ||
	    m2m_read_enum(m->action, M2M_MCIM_REPROVISION, &c->action) || n < NONCE_MIN || n > NONCE_MAX ||
	    m2m_read_name(m->tre, tre_id, M2M_ENTITY_MAX))
		return snprintf(why, len, "the command needs mcimId (16 bytes), owner, tre, action (0..3), nonce (16..32 bytes)"),
		       M2M_R_BAD_BODY;
	memcpy(c->nonce, ASN1_STRING_get0_data(m->nonce), (size_t)n);
	c->nonce_len = (size_t)n;
	c->has_change = m->change_id != NULL;
	if (c->has_change && m2m_read_octets(m->change_id, c->change_id, TRE_CHANGE_ID_LEN))
		return snprintf(why, len, "changeId must be %d bytes", TRE_CHANGE_ID_LEN), M2M_R_BAD_BODY;
	if (c->action == M2M_MCIM_REPROVISION && !c->has_change)
		return snprintf(why, len, "reprovision needs the changeId of the change it lets start"), M2M_R_BAD_BODY;
	if (strcmp(tre_id, t->entity))
		return snprintf(why, len, "the command is for %s, not this TRE", tre_id), M2M_R_NOT_AUTHORISED;
	return M2M_OK;
}

/* 0: the nonce is fresh; 1: used, and *receipt (malloc'd) is the receipt of this very command
 * when digest is the one kept with it, else NULL; -1: the database failed. */
static int nonce_used(tre *t, const command *c, const uint8_t digest[32], uint8_t **receipt, size_t *len)
{
	*receipt = NULL;
	sqlite3_stmt *st = m2m_store_prepare(t->db, "SELECT command, receipt FROM tre_command_nonce WHERE nonce = ?1");
	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, c->nonce, (int)c->nonce_len, SQLITE_TRANSIENT);
	int used = sqlite3_step(st) == SQLITE_ROW;
	if (used && sqlite3_column_bytes(st, 0) == 32 && !memcmp(sqlite3_column_blob(st, 0), digest, 32) &&
	    sqlite3_column_bytes(st, 1) > 0) {
		*len = (size_t)sqlite3_column_bytes(st, 1);
		*receipt = malloc(*len);
		if (*receipt)
			memcpy(*receipt, sqlite3_column_blob(st, 1), *len);
	}
	sqlite3_finalize(st);
	return used;
}

static int keep_nonce(tre *t, const command *c, const uint8_t digest[32], const M2M_SIGNED_OBJECT *receipt)
{
	sqlite3_stmt *st = m2m_store_prepare(
		t->db, "INSERT INTO tre_command_nonce (nonce, used, command, receipt) VALUES (?1, ?2, ?3, ?4)");
	if (st) {
		sqlite3_bind_blob(st, 1, c->nonce, (int)c->nonce_len, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
		sqlite3_bind_blob(st, 3, digest, 32, SQLITE_TRANSIENT);
		sqlite3_bind_blob(st, 4, receipt->cms->data, receipt->cms->length, SQLITE_TRANSIENT);
	}
	return m2m_store_run(t->db, st);
}

/* The command, authentic and for an MCIM of its signer, whose nonce is fresh; or the receipt
 * (*again, M2M_OK) of this very command, obeyed before. */
static m2m_reason accept(tre *t, const M2M_SIGNED_OBJECT *so, const uint8_t digest[32], command *c, tre_credential *m,
			 M2M_SIGNED_OBJECT *again, char *why, size_t len)
{
	void *value = NULL;
	tre_signer signer;
	uint8_t *kept = NULL;
	size_t kept_len = 0;
	int used = 0;
	m2m_reason r = tre_verify_signed(t, so, ASN1_ITEM_rptr(M2M_MCIM_COMMAND), "the command", &value, &signer, why, len);
	if (r == M2M_OK && (r = read_command(t, value, c, why, len)) == M2M_OK &&
	    (r = tre_signer_check(&signer, M2M_PROFILE_OPERATOR_FUNCTION, c->owner, M2M_R_NOT_OWNER, M2M_R_NOT_OWNER,
				  "the command", why, len)) == M2M_OK &&
	    (used = nonce_used(t, c, digest, &kept, &kept_len)) != 0)
		r = used < 0 ? M2M_R_INTERNAL : M2M_R_NONCE_REPLAYED,
		snprintf(why, len, "this command's nonce was used already");
	M2M_MCIM_COMMAND_free(value);
	if (kept) {
		int copied = ASN1_OCTET_STRING_set(again->cms, kept, (int)kept_len);
		free(kept);
		return copied ? M2M_OK : M2M_R_INTERNAL;
	}
	if (r)
		return r;
	int found = tre_mcim_find(t, c->mcim_id, c->owner, m);
	if (found == M2M_R_NOT_FOUND)
		return snprintf(why, len, "no such MCIM in this TRE"), M2M_R_NOT_FOUND;
	if (found == M2M_R_NOT_OWNER)
		return snprintf(why, len, "the MCIM is not %s's", c->owner), M2M_R_NOT_OWNER;
	return found ? (snprintf(why, len, "the MCIMs could not be read"), M2M_R_INTERNAL) : M2M_OK;
}

/* ---- obeying ------------------------------------------------------------------------------ */

/* A refusal of what a change of subscription in the TRE forbids, or the change opened. */
static m2m_reason respect_change(tre *t, const command *c, const tre_credential *m, char *why, size_t len)
{
	m2m_reason r = tre_change_guard(t, c->action, m, why, len);
	if (r == M2M_OK && c->action == M2M_MCIM_REPROVISION)
		r = tre_change_begin(t, c->change_id, m, why, len);
	return r;
}

static int apply(tre *t, const command *c, tre_credential *m)
{
	if (c->action == M2M_MCIM_REPROVISION)
		return 0;  /* the MCIM stays active: the change opened is the effect */
	if (c->action == M2M_MCIM_DELETE) {
		m->state = M2M_MCIM_DELETED;
		return tre_mcim_delete(t, m);
	}
	return tre_mcim_set_state(t, m, c->action == M2M_MCIM_ACTIVATE ? M2M_MCIM_ACTIVE : M2M_MCIM_INACTIVE);
}

static int sign_receipt(tre *t, const command *c, const tre_credential *m, M2M_SIGNED_OBJECT *so)
{
	M2M_MCIM_RECEIPT *r = M2M_MCIM_RECEIPT_new();
	int rc = !r || !ASN1_OCTET_STRING_set(r->mcim_id, c->mcim_id, TRE_MCIM_ID_LEN) || m2m_set_str(r->tre, t->entity) ||
			 !ASN1_ENUMERATED_set(r->action, c->action) ||
			 !ASN1_OCTET_STRING_set(r->nonce, c->nonce, (int)c->nonce_len) || !ASN1_ENUMERATED_set(r->state, m->state)
		 ? -1
		 : tre_keystore_sign_item(t, ASN1_ITEM_rptr(M2M_MCIM_RECEIPT), r, so);
	M2M_MCIM_RECEIPT_free(r);
	return rc;
}

static m2m_reason obey(tre *t, const M2M_SIGNED_OBJECT *so, M2M_SIGNED_OBJECT *receipt, char *why, size_t len)
{
	command c;
	tre_credential m;
	uint8_t digest[32];
	SHA256(ASN1_STRING_get0_data(so->cms), (size_t)ASN1_STRING_length(so->cms), digest);
	m2m_reason r = accept(t, so, digest, &c, &m, receipt, why, len);
	if (r == M2M_OK && ASN1_STRING_length(receipt->cms) > 0) {
		m2m_info("the same command again: its receipt again");
		return M2M_OK;
	}
	if (r == M2M_OK)
		r = respect_change(t, &c, &m, why, len);
	if (r)
		return r;
	if (apply(t, &c, &m) || sign_receipt(t, &c, &m, receipt) || keep_nonce(t, &c, digest, receipt))
		return snprintf(why, len, "the command could not be carried out"), M2M_R_INTERNAL;
	m2m_info("MCIM of %s in slot %s: %s", c.owner, m.slot, action_names[c.action]);
	return M2M_OK;
}

/* All or nothing: a refusal changes no MCIM and uses no nonce. */
m2m_reason tre_command_run(tre *t, const M2M_SIGNED_OBJECT *so, M2M_SIGNED_OBJECT *receipt, char *why, size_t len)
{
	if (tre_savepoint(t->db))
		return snprintf(why, len, "no transaction"), M2M_R_INTERNAL;
	m2m_reason r = obey(t, so, receipt, why, len);
	if (tre_release(t->db, r != M2M_OK) && r == M2M_OK)
		r = M2M_R_INTERNAL, snprintf(why, len, "the command could not be stored");
	return r;
}

static void answer(tre *t, m2m_request *req)
{
	char why[256];
	M2M_SIGNED_OBJECT *receipt = M2M_SIGNED_OBJECT_new();
	m2m_reason r = tre_command_run(t, req->env.body, receipt, why, sizeof why);
	m2m_answer(t->node, req, r, M2M_MSG_MCIM_RECEIPT, receipt, why);
	M2M_SIGNED_OBJECT_free(receipt);
}

void tre_mcim_command(tre *t, m2m_request *req)
{
	tre_with_crl(t, req, 0, answer);
}
