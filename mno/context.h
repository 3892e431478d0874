/* The state of one operator process. */
#ifndef MNO_CONTEXT_H
#define MNO_CONTEXT_H

#include "daemon/daemon.h"

typedef enum mno_mode { MNO_HOME, MNO_VISITED } mno_mode;

typedef struct mno_context {
	mno_mode mode;
} mno_context;

#endif
