/* How results and reasons are written in the PVA's tables (challenge_store.c, record.c, tamper_store.c). */
#include "pva_impl.h"

#include "log/log.h"

#include <stdio.h>
#include <string.h>

/* "ok" ... "fail" back to the result; -1 for anything else (a database edited by hand). */
int pva_result_parse(const char *name)
{
	for (int r = M2M_VERDICT_OK; r <= M2M_VERDICT_FAIL; r++)
		if (!strcmp(name, pva_result_name((m2m_verdict_result)r)))
			return r;
	return -1;
}

/* Reasons as "64,65": readable in sqlite3, and stable because the values are wire values. */
void pva_reasons_text(const pva_outcome *o, char *out, size_t len)
{
	size_t used = 0;
	out[0] = 0;
	for (int i = 0; i < o->nreasons && used < len; i++)
		used += (size_t)snprintf(out + used, len - used, "%s%d", i ? "," : "", (int)o->reasons[i]);
}
