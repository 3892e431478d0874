/*
 * ZAP (ZeroMQ RFC 27) handler: admits a CurveZMQ client only when its public key belongs to a
 * configured peer, and names that peer as the connection's User-Id, so that every message
 * received can be checked against the sender it claims.
 */
#ifndef M2M_NET_ZAP_H
#define M2M_NET_ZAP_H

#include "net/node.h"

#define M2M_ZAP_ENDPOINT "inproc://zeromq.zap.01"

/* Answers one pending ZAP request on the bound REP socket; returns 1 if refused, 0 if admitted. */
int m2m_zap_answer(void *zap, const m2m_node_conf *conf);

#endif
