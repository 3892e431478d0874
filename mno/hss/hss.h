/*
 * The home operator's HSS/AuC: subscriber records (K and OPc sealed at rest), authentication
 * vectors and re-synchronisation for visited operators, the location of each IMSI, the
 * subscription profile, and an audit trail. Entry points used by mno/main.c.
 */
#ifndef MNO_HSS_H
#define MNO_HSS_H

#include "context.h"

/* The HSS tables, part of migration 1 of the mno schema; the contract locks, of migration 2; the
 * cards' owners and the records awaiting their first attach (Alternative 3a), of migration 4. */
extern const char HSS_SCHEMA_V1[];
extern const char HSS_SCHEMA_V2[];
extern const char HSS_SCHEMA_V3[];

/* Reads the home settings of the `mno` group (group may be NULL) into ctx->hss. */
void hss_configure(m2m_daemon *d, m2m_conf *c, config_setting_t *group, mno_context *ctx);
int hss_start(m2m_daemon *d, mno_context *ctx);
void hss_dispatch(m2m_daemon *d, mno_context *ctx, m2m_request *req);
void hss_stop(mno_context *ctx);

#endif
