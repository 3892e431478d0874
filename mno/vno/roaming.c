/*
 * Routing an IMSI to its home operator by the roaming table. An IMSI starts with MCC || MNC, and
 * the MNC has 2 or 3 digits (TS 23.003 2.2): a visited network cannot tell which from the IMSI
 * alone, so the agreement with the longest PLMN that prefixes the IMSI wins ("001012" before
 * "00101").
 */
#include "vno/vno_impl.h"

#include <string.h>

const vno_roaming *vno_roaming_find(const vno_settings *s, const char *imsi)
{
	const vno_roaming *best = NULL;
	size_t best_len = 0;
	for (int i = 0; i < s->nroaming; i++) {
		size_t n = strlen(s->roaming[i].plmn);
		if (n > best_len && n < strlen(imsi) && !strncmp(imsi, s->roaming[i].plmn, n)) {
			best = &s->roaming[i];
			best_len = n;
		}
	}
	return best;
}

const char *vno_roaming_home(const vno_settings *s, const char *imsi)
{
	const vno_roaming *r = vno_roaming_find(s, imsi);
	return r ? r->home : NULL;
}

int vno_serves(const vno_settings *s, const char *home, const char *imsi)
{
	const char *h = vno_roaming_home(s, imsi);
	return h && !strcmp(h, home);
}
