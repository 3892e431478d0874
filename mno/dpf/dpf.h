/*
 * The home operator's DPF (MCIM download and provisioning function, TR 33.812 5.1.3.4.3;
 * docs/alt1a.md steps 5 to 7, docs/dpf.md): it takes a TRE's signed order with the DRF's ticket,
 * has the TRE validated by the PVA, generates the MCIM with a pending HSS record, packages it for
 * that TRE alone, activates the record on the TRE's signed install result and tells the DRF.
 * Entry points used by mno/main.c; it runs only when the `mno` group has a `dpf` group.
 */
#ifndef MNO_DPF_H
#define MNO_DPF_H

#include "context.h"

/* The DPF tables and the identity's, part of migration 1 of the mno schema; the changes of
 * subscription, of migration 2. */
extern const char DPF_SCHEMA_V1[];
extern const char DPF_SCHEMA_V2[];
/* Migration 5: Alternative 3b, SHO A's side (uicc_consent.c, uicc_release.c) and SHO B's
 * (uicc_order.c) */
extern const char DPF_SCHEMA_UICC_A[];
extern const char DPF_SCHEMA_UICC_B[];

/* Reads the `dpf` member of the mno group, if any, into ctx->dpf (after hss_configure). */
void dpf_configure(m2m_daemon *d, m2m_conf *c, config_setting_t *group, mno_context *ctx);
int dpf_start(m2m_daemon *d, mno_context *ctx);
/* Whether a request of this type is the DPF's: mcimRequest, installResult, tamperReport,
 * changeNotify, changeRelease. */
int dpf_serves(int type);
void dpf_dispatch(m2m_daemon *d, mno_context *ctx, m2m_request *req);
void dpf_tick(m2m_daemon *d, mno_context *ctx);
void dpf_stop(mno_context *ctx);

#endif
