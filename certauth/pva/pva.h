/*
 * The platform validation authority (brief §3), run inside the certification agency's process:
 * certauth/main.c calls these, and hands it every request of the types it serves.
 */
#ifndef CERTAUTH_PVA_H
#define CERTAUTH_PVA_H

#include "conf/conf.h"
#include "daemon/daemon.h"

/* Reads the `pva` group inside the `certauth` group (certauth.pva; NULL when absent); problems go
 * to c (m2m_conf_fail). Called from certauth's configure, before the agency starts. */
void pva_configure(m2m_daemon *d, m2m_conf *c, config_setting_t *group);
/* After the agency's own start (ca_get works); 0 or -1. */
int pva_start(m2m_daemon *d);
/* 1 for the message types pva_dispatch answers (validationRequest, tamperReport,
 * validationStatusRequest), 0 otherwise. */
int pva_serves(int type);
void pva_dispatch(m2m_daemon *d, m2m_request *req);
void pva_stop(m2m_daemon *d);

/* The PVA's tables: part of certauth's migration 1. */
extern const char PVA_SCHEMA_V1[];

#endif
