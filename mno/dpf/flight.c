/*
 * Calls the DPF has in flight from its tick (the provisioned notices of notify.c, the MCIM
 * commands of change_command.c), keyed by the 16-octet id of what they are about: the tick
 * sends again only what is not in flight, and the answer's callback takes its entry off.
 */
#include "dpf/dpf_impl.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

dpf_flight *dpf_flight_add(dpf_flight **list, dpf_context *dpf, const uint8_t key[DPF_KEY_LEN])
{
	dpf_flight *x = calloc(1, sizeof *x);
	if (!x)
		return NULL;
	x->dpf = dpf;
	memcpy(x->key, key, DPF_KEY_LEN);
	x->next = *list;
	*list = x;
	return x;
}

int dpf_flying(const dpf_flight *list, const uint8_t key[DPF_KEY_LEN])
{
	for (const dpf_flight *x = list; x; x = x->next)
		if (!memcmp(x->key, key, DPF_KEY_LEN))
			return 1;
	return 0;
}

void dpf_flight_end(dpf_flight **list, dpf_flight *x)
{
	for (dpf_flight **p = list; *p; p = &(*p)->next)
		if (*p == x) {
			*p = x->next;
			break;
		}
	free(x);
}

int dpf_due(int64_t *due, int retry_s)
{
	int64_t now = (int64_t)time(NULL);
	if (now < *due)
		return 0;
	*due = now + retry_s;
	return 1;
}

void dpf_flights_free(dpf_flight **list)
{
	while (*list)
		dpf_flight_end(list, *list);
}
