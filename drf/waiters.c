/*
 * Requests that wait on a call of the DRF's own (the PVA's verdict for the gate, the old SHO's
 * answer for a change): deferred, listed with what they wait on, and answered when it comes. The
 * list lives in memory only: after a restart the requesters ask again.
 */
#include "drf.h"

#include <stdlib.h>

int drf_wait(drf *d, drf_waiter **list, m2m_request *req)
{
	drf_waiter *w = calloc(1, sizeof *w);
	if (!w)
		return -1;
	w->req = req;
	w->next = *list;
	*list = w;
	m2m_defer(d->node, req);
	return 0;
}

void drf_waiters_clear(drf_waiter **list)
{
	while (*list) {
		drf_waiter *w = *list;
		*list = w->next;
		free(w);
	}
}
