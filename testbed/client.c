/*
 * The tool's own node on the transport: the client "testbed", configured by RUNDIR/testbed.conf
 * like any daemon but binding nothing, and calls that wait for their answer. A reply's body
 * is copied out of the callback because the node frees the envelope when the callback returns.
 */
#include "testbed.h"

#include "crypto/crypto.h"
#include "daemon/daemon.h"

#include <openssl/asn1t.h>
#include <stdio.h>
#include <string.h>

m2m_node *tb_client_open(const char *rundir, int quick_ms)
{
	char path[PATH_MAX], err[256] = "";
	if (tb_path(path, sizeof path, rundir, TB_SELF, ".conf"))
		return NULL;
	m2m_node_conf nc;
	if (m2m_client_conf(path, &nc, err, sizeof err)) {
		fprintf(stderr, "testbed: %s\n", err);
		return NULL;
	}
	if (quick_ms > 0) {
		nc.timeout_ms = quick_ms;
		nc.retries = 0;
	}
	m2m_node *n = m2m_node_new(&nc, NULL, err, sizeof err);
	m2m_wipe(nc.secret_key, sizeof nc.secret_key);
	if (!n)
		fprintf(stderr, "testbed: %s: %s\n", path, err);
	return n;
}

static void on_reply(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
	tb_reply *r = arg;
	r->done = 1;
	r->type = resp ? resp->type : -1;
	r->reason = reason;
	if (!resp || !resp->body)
		return;
	r->body = ASN1_item_dup(m2m_msgdef_find(resp->type)->item(), resp->body);
	if (resp->type == M2M_MSG_ERROR) {
		const M2M_ERROR_REPORT *er = resp->body;
		r->reason = (m2m_reason)ASN1_ENUMERATED_get(er->reason);
		if (m2m_str(er->text, r->text, sizeof r->text))
			snprintf(r->text, sizeof r->text, "(unprintable)");
	}
}

int tb_call_start(m2m_node *n, const char *peer, int type, const void *body, tb_reply *r)
{
	memset(r, 0, sizeof *r);
	if (m2m_call(n, peer, type, body, on_reply, r) == 0)
		return 0;
	r->done = 1;
	r->type = -1;
	r->reason = M2M_R_UNKNOWN_PEER;
	return -1;
}

/* Every call ends by itself (answer, or timeout after its retries), so this terminates. */
void tb_call_wait(m2m_node *n, tb_reply *replies, int count)
{
	for (int i = 0; i < count; i++)
		while (!replies[i].done)
			m2m_node_poll(n, 100);
}

int tb_call(m2m_node *n, const char *peer, int type, const void *body, tb_reply *r)
{
	int rc = tb_call_start(n, peer, type, body, r);
	tb_call_wait(n, r, 1);
	return rc;
}

void tb_reply_clear(tb_reply *r)
{
	if (r->body)
		ASN1_item_free(r->body, m2m_msgdef_find(r->type)->item());
	r->body = NULL;
}

void tb_reply_problem(const tb_reply *r, int want, char *out, size_t len)
{
	const char *reason = m2m_reason_name(r->reason);
	if (r->type == want)
		snprintf(out, len, "%s", "");
	else if (r->type < 0)
		snprintf(out, len, "no answer (%s)", reason ? reason : "?");
	else if (r->type == M2M_MSG_ERROR)
		snprintf(out, len, "refused: %s (%s)", reason ? reason : "?", r->text);
	else
		snprintf(out, len, "unexpected %s", m2m_msgtype_name(r->type));
}

int tb_health_start(m2m_node *n, const char *peer, tb_reply *r)
{
	ASN1_NULL *nothing = ASN1_NULL_new();
	int rc = tb_call_start(n, peer, M2M_MSG_HEALTH_REQUEST, nothing, r);
	ASN1_NULL_free(nothing);
	return rc;
}
