/*
 * Calls to a home operator on behalf of a device request (and, for the relay, to any peer): the
 * request is deferred (the node keeps it) until the answer, or its absence, arrives; the answer
 * runs in its own step, where the procedure stores its new state and then answers the device.
 *
 * Only what the answer cannot find in the database is kept here: which request waits, and the id
 * of the record (attach or session) it is about. The procedure reloads the record and checks
 * its state, so an answer never acts on a record that moved on meanwhile.
 */
#include "vno/vno_impl.h"

#include "log/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct vno_pending {
	vno_context *v;
	m2m_request *req;
	uint8_t id[VNO_ATTACH_ID_LEN];
	vno_home_fn fn;
	vno_pending *next;
};

static void unlink_pending(vno_context *v, vno_pending *p)
{
	for (vno_pending **q = &v->pending; *q; q = &(*q)->next)
		if (*q == p) {
			*q = p->next;
			return;
		}
}

static void answered(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
	vno_pending *p = arg;
	vno_context *v = p->v;
	unlink_pending(v, p);
	p->fn(v, p->req, p->id, resp, reason);
	free(p);
}

int vno_home_call(vno_context *v, const char *home, int type, const void *body, m2m_request *req,
		  const uint8_t id[VNO_ATTACH_ID_LEN], vno_home_fn fn)
{
	vno_pending *p = calloc(1, sizeof *p);
	if (!p)
		return -1;
	p->v = v;
	p->req = req;
	memcpy(p->id, id, sizeof p->id);
	p->fn = fn;
	if (m2m_call(v->node, home, type, body, answered, p)) {
		free(p);
		return -1;
	}
	p->next = v->pending;
	v->pending = p;
	return 0;
}

M2M_PURGE *vno_purge_message(vno_context *v, const char *imsi)
{
	M2M_PURGE *p = M2M_PURGE_new();
	m2m_set_digits(&p->imsi, imsi);
	m2m_set_str(p->serving_network, v->entity);
	return p;
}

/* The node frees the deferred requests and open calls itself; only our own records go here. */
void vno_pending_free_all(vno_context *v)
{
	while (v->pending) {
		vno_pending *p = v->pending;
		v->pending = p->next;
		free(p);
	}
}
