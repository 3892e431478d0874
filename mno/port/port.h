/*
 * Alternative 3a between operators (TR 33.812 5.4.1, brief §2.4, docs/alt3a.md): a subscriber's
 * cards move from the old operator A to the new operator B, the IMSI rewritten over the air by A
 * and the card's K, OPc and OTA keys handed to B. The same code is both ends: as B it takes cards
 * in (`mno-admin port start`, then portRequest, the transfer, portComplete), as A it gives them
 * away (portRequest checked, the credentials transferred, EF_IMSI rewritten, the card deleted with
 * a signed receipt). Entry points used by mno/main.c; it runs only when the home `mno` group has a
 * `port` group.
 */
#ifndef MNO_PORT_H
#define MNO_PORT_H

#include "context.h"

/* The ports' tables, part of migration 4 of the mno schema. */
extern const char PORT_SCHEMA[];

/* Reads the `port` member of the mno group, if any, into ctx->port (after hss_configure and
 * dpf_configure: without a DPF the port group carries the operator's identity settings). */
void port_configure(m2m_daemon *d, m2m_conf *c, config_setting_t *group, mno_context *ctx);
/* After the identity is open (ctx->id). */
int port_start(m2m_daemon *d, mno_context *ctx);
/* Whether a request of this type is the port's: portRequest, portTransfer, portComplete. */
int port_serves(int type);
void port_dispatch(m2m_daemon *d, mno_context *ctx, m2m_request *req);
void port_tick(m2m_daemon *d, mno_context *ctx);
void port_stop(mno_context *ctx);

#endif
