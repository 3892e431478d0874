/*
 * What the DRF still has to tell the old SHO of a change (docs/alt1a-change.md, "Crash safety"):
 * changeNotify while the change is `notifying`, changeRelease while it is `complete`; in
 * Alternative 3b (docs/alt3b.md) also treTrigger to SHO A while `triggering`, uiccCredentialOrder
 * to SHO B while `ordering` and uiccRelease to A while `completed`. The state
 * is in the database; what is kept here, in memory only, is whether a call is in flight, when the
 * next may go after one that got no usable answer, and which of the new SHO's requests wait on a
 * notify. After a restart the tick finds the changes due in the database and calls again; the new
 * SHO, whose request was lost with the process, asks again.
 */
#include "drf.h"

#include "log/log.h"
#include "wire/read.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DUE_PER_TICK 64

drf_pending *drf_pending_get(drf *d, const uint8_t id[DRF_ID_LEN])
{
	drf_pending *p = d->pending;
	while (p && memcmp(p->id, id, DRF_ID_LEN))
		p = p->next;
	if (p || !(p = calloc(1, sizeof *p)))
		return p;
	p->d = d;
	memcpy(p->id, id, DRF_ID_LEN);
	p->next = d->pending;
	d->pending = p;
	return p;
}

int drf_pending_call(drf_pending *p, const char *to, int type, void *body, int made, m2m_response_cb cb)
{
	int rc = 0;
	if (!p->in_flight) {
		snprintf(p->to, sizeof p->to, "%s", to);
		rc = made && !m2m_call(p->d->node, to, type, body, cb, p) ? 0 : -1;
		p->in_flight = rc == 0;
	}
	ASN1_item_free(body, m2m_msgdef_find(type)->item());
	return rc;
}

int drf_acked(const m2m_envelope *resp, int type, const uint8_t id[DRF_ID_LEN])
{
	uint8_t got[DRF_ID_LEN];
	return resp && resp->type == type && !m2m_read_octets(((const M2M_CHANGE_ACK *)resp->body)->change_id, got, sizeof got) &&
	       !memcmp(got, id, DRF_ID_LEN);
}

int drf_pending_acked(drf_pending *p, const m2m_envelope *resp, m2m_reason reason, const drf_ack_step *s, drf_change *c)
{
	drf *d = p->d;
	char why[300] = "";
	if (drf_change_load(d, p->id, c) || c->state != s->from) {
		drf_pending_done(p);
		return 0;
	}
	int acked = drf_acked(resp, s->ack_type, p->id);
	c->state = s->to;
	if (!acked || drf_change_save(d, c, time(NULL))) {
		m2m_warn("%s of TRE %s by %s not done: %s; again in %ds", s->what, c->tre, p->to,
			 acked ? "it cannot be stored" : m2m_call_failure(p->to, resp, reason, why, sizeof why),
			 d->s.change_retry_seconds);
		drf_pending_retry_later(p);
		return 0;
	}
	drf_pending_done(p);
	return 1;
}

void drf_pending_retry_later(drf_pending *p)
{
	p->in_flight = 0;
	p->next_at = (int64_t)time(NULL) + p->d->s.change_retry_seconds;
}

static void pending_free(drf_pending *p)
{
	drf_waiters_clear(&p->waiting);
	free(p);
}

void drf_pending_done(drf_pending *p)
{
	for (drf_pending **at = &p->d->pending; *at; at = &(*at)->next)
		if (*at == p) {
			*at = p->next;
			break;
		}
	pending_free(p);
}

void drf_pending_free(drf *d)
{
	while (d->pending) {
		drf_pending *p = d->pending;
		d->pending = p->next;
		pending_free(p);
	}
}

/* One change due: its call, unless one is in flight or the pause is not over. */
static void resume(drf *d, const uint8_t id[DRF_ID_LEN], int64_t now)
{
	drf_change c;
	drf_pending *p = drf_pending_get(d, id);
	if (!p || p->in_flight || now < p->next_at || drf_change_load(d, id, &c))
		return;
	int rc;
	switch (c.state) {
	case DRF_CHANGE_NOTIFYING:
		rc = drf_change_notify(d, p, &c);
		break;
	case DRF_CHANGE_COMPLETE:
		rc = drf_change_release(d, p, &c);
		break;
	case DRF_CHANGE_TRIGGERING:
		rc = drf_uicc_trigger(d, p, &c);
		break;
	case DRF_CHANGE_ORDERING:
		rc = drf_uicc_order(d, p, &c);
		break;
	case DRF_CHANGE_COMPLETED:
		rc = drf_uicc_release(d, p, &c);
		break;
	default:
		rc = 0;
	}
	if (rc)
		drf_pending_retry_later(p);
}

/* A 3b change the device has left waiting: triggered again, its state kept. */
static void wake(drf *d, const uint8_t id[DRF_ID_LEN], int64_t now)
{
	drf_change c;
	drf_pending *p = drf_pending_get(d, id);
	if (!p || p->in_flight || now < p->next_at || drf_change_load(d, id, &c))
		return;
	if ((c.state == DRF_CHANGE_TRIGGERED || c.state == DRF_CHANGE_DELIVERED) && drf_uicc_wake(d, p, &c))
		drf_pending_retry_later(p);
}

void drf_change_tick(drf *d, int64_t now)
{
	uint8_t ids[DUE_PER_TICK][DRF_ID_LEN];
	int n = drf_change_due(d, ids, DUE_PER_TICK);
	if (n < 0)
		m2m_warn("the changes of subscription due cannot be read");
	for (int i = 0; i < n; i++)
		resume(d, ids[i], now);
	n = drf_change_waiting(d, now - d->s.uicc_wake_seconds, ids, DUE_PER_TICK);
	for (int i = 0; i < n; i++)
		wake(d, ids[i], now);
}
