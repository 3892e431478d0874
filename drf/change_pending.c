/*
 * What the DRF still has to tell the old SHO of a change (docs/alt1a-change.md, "Crash safety"):
 * changeNotify while the change is `notifying`, changeRelease while it is `complete`. The state
 * is in the database; what is kept here, in memory only, is whether a call is in flight, when the
 * next may go after one that got no usable answer, and which of the new SHO's requests wait on a
 * notify. After a restart the tick finds the changes due in the database and calls again; the new
 * SHO, whose request was lost with the process, asks again.
 */
#include "drf.h"

#include "log/log.h"

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
		rc = made && !m2m_call(p->d->node, to, type, body, cb, p) ? 0 : -1;
		p->in_flight = rc == 0;
	}
	ASN1_item_free(body, m2m_msgdef_find(type)->item());
	return rc;
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
	int rc = c.state == DRF_CHANGE_NOTIFYING ? drf_change_notify(d, p, &c) : drf_change_release(d, p, &c);
	if (rc)
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
}
