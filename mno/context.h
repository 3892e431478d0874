/*
 * The state of one operator process. An mno runs as a home operator (its network functions in
 * mno/hss: HSS/AuC, later the DPF and the OTA server) or as a visited operator (mno/vno: the
 * access network devices attach through), never both: the mode picks the dispatch function.
 */
#ifndef MNO_CONTEXT_H
#define MNO_CONTEXT_H

#include "daemon/daemon.h"

typedef enum mno_mode { MNO_HOME, MNO_VISITED } mno_mode;

typedef struct hss_context hss_context;
typedef struct vno_context vno_context;

typedef struct mno_context {
	mno_mode mode;
	hss_context *hss;  /* home mode */
	vno_context *vno;  /* visited mode */
} mno_context;

#endif
