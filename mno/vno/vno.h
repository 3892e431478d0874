/*
 * The visited operator's access network: attach (routing by MCC/MNC to the home operator, or
 * of a PCID to the registration operator's ICF; challenge, RES check, re-synchronisation,
 * profile enforcement), location reporting to the home operator, detach, protected user data,
 * and the relay of a device's messages to network functions (walled garden for a PCID). Entry
 * points used by mno/main.c.
 */
#ifndef MNO_VNO_H
#define MNO_VNO_H

#include "context.h"

/* The VNO tables, part of migration 1 of the mno schema. */
extern const char VNO_SCHEMA_V1[];

void vno_configure(m2m_daemon *d, m2m_conf *c, config_setting_t *group, mno_context *ctx);
int vno_start(m2m_daemon *d, mno_context *ctx);
void vno_dispatch(m2m_daemon *d, mno_context *ctx, m2m_request *req);
void vno_stop(mno_context *ctx);

#endif
