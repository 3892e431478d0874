/*
 * The state of one operator process. An mno runs as a home operator (its network functions:
 * mno/hss the HSS/AuC, mno/dpf the DPF, later the OTA server) or as a visited operator (mno/vno:
 * the access network devices attach through), never both: the mode picks the dispatch function.
 */
#ifndef MNO_CONTEXT_H
#define MNO_CONTEXT_H

#include "daemon/daemon.h"
#include "daemon/identity.h"

typedef enum mno_mode { MNO_HOME, MNO_VISITED } mno_mode;

typedef struct hss_context hss_context;
typedef struct dpf_context dpf_context;
typedef struct vno_context vno_context;
typedef struct ota_context ota_context;
typedef struct port_context port_context;

typedef struct mno_context {
	mno_mode mode;
	hss_context *hss;  /* home mode */
	dpf_context *dpf;  /* home mode with a `dpf` group (Alternative 1a) */
	vno_context *vno;  /* visited mode */
	ota_context *ota;  /* home mode: the OTA server (SCP80 over SMS-PP) */
	port_context *port;  /* home mode with a `port` group (Alternative 3a) */
	/* The operator's signing identity (an operatorFunction certificate of the agency), shared by
	 * the DPF and the ports; its settings are the dpf group's, or else the port group's. */
	m2m_identity_settings *identity;  /* NULL: the operator needs none */
	m2m_identity *id;
} mno_context;

#endif
