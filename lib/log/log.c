#include "log/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static char log_entity[64] = "-";
static m2m_log_level log_min = M2M_LOG_INFO;
static const char *const level_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

void m2m_log_init(const char *entity, m2m_log_level min)
{
	snprintf(log_entity, sizeof log_entity, "%s", entity);
	log_min = min;
}

int m2m_log_level_parse(const char *name, m2m_log_level *out)
{
	for (int i = 0; i < 4; i++)
		if (!strcasecmp(name, level_names[i])) {
			*out = (m2m_log_level)i;
			return 0;
		}
	return -1;
}

void m2m_log_event(m2m_log_level lvl, const uint8_t *txid, const char *type, const char *fmt, ...)
{
	if (lvl < log_min)
		return;
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	char when[32], tx[12] = "-";
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	if (txid)
		snprintf(tx, sizeof tx, "%02x%02x%02x%02x", txid[0], txid[1], txid[2], txid[3]);
	char text[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	/* one fprintf per line so that concurrent writers to one file never interleave a line */
	fprintf(stderr, "%s.%03ldZ %-5s %s tx=%s type=%s %s\n", when, ts.tv_nsec / 1000000,
		level_names[lvl], log_entity, tx, type ? type : "-", text);
}
