/*
 * One line per event on stderr:
 *   2026-11-23T05:41:07.120Z INFO  mno-a tx=3f2a9c01 type=healthRequest peer=testbed text...
 * Never pass key material: callers log identifiers and reason codes, not values.
 */
#ifndef M2M_LOG_H
#define M2M_LOG_H

#include <stdint.h>

typedef enum m2m_log_level { M2M_LOG_DEBUG, M2M_LOG_INFO, M2M_LOG_WARN, M2M_LOG_ERROR } m2m_log_level;

void m2m_log_init(const char *entity, m2m_log_level min);
int m2m_log_level_parse(const char *name, m2m_log_level *out);  /* "debug"... -> 0, else -1 */

/* txid may be NULL; type may be NULL. */
void m2m_log_event(m2m_log_level lvl, const uint8_t *txid, const char *type, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define m2m_debug(...) m2m_log_event(M2M_LOG_DEBUG, NULL, NULL, __VA_ARGS__)
#define m2m_info(...) m2m_log_event(M2M_LOG_INFO, NULL, NULL, __VA_ARGS__)
#define m2m_warn(...) m2m_log_event(M2M_LOG_WARN, NULL, NULL, __VA_ARGS__)
#define m2m_error(...) m2m_log_event(M2M_LOG_ERROR, NULL, NULL, __VA_ARGS__)

#endif
