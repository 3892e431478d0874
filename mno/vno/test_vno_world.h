/*
 * The in-process world of the VNO's procedure tests (test_vno_procedures.c, test_vno_relay.c):
 * the VNO's real dispatch (vno_serve) on a real node, and every other party a node of its own
 * over ipc:// with CurveZMQ. Two devices, whose card is a USIM state (TS 35.208 test set 1);
 * two home operators and a registration operator, each a fake HSS over one real AuC, which also
 * answer the provisioning steps a TRE relays (a DRF's discovery, a DPF's order and install) with
 * bodies of their own; one device answers the SMS relayed to it. No daemon runs.
 */
#ifndef MNO_VNO_TEST_VNO_WORLD_H
#define MNO_VNO_TEST_VNO_WORLD_H

#include "test_vno_common.h"

#define IMSI_A "001010000000001"
#define IMSI_B "001020000000001"
#define PCID "001090000000001"   /* routed to the registration operator's ICF (pcid = true) */
#define IMEI_1 "356938035643809"
#define IMEI_2 "490154203237518"
#define APN "m2m.meter"
#define BODY_MAX 512

/* mno-a and mno-b serve 00101 and 00102; drf serves the PCIDs of 00109. The walled garden is
 * { drf, mno-a }: mno-b is callable, but not from a PCID session. The VNO can call m2me-1 (it
 * answers smsDeliver), not m2me-2. */
enum { VNO, HOME_A, HOME_B, DEV_1, DEV_2, DRF, PARTIES };
extern const char *const ids[PARTIES];

/* What a party other than the VNO received last (its sender and the DER of its body). */
typedef struct received {
	int count, type;
	char sender[M2M_ENTITY_MAX + 1];
	uint8_t body[BODY_MAX];
	size_t body_len;
} received;

typedef struct fixture {
	char dir[64];
	char pub[PARTIES][M2M_KEY_Z85], sec[PARTIES][M2M_KEY_Z85];
	m2m_node *node[PARTIES];
	vno_context *v;
	/* the card in the devices, and the AuC of every home */
	m2m_milenage card, auc;
	m2m_sqn_usim usim;
	m2m_sqn_he he;
	/* what the homes do and saw */
	int silent;              /* defer every request for ever: the VNO's call times out */
	m2m_reason refusal;      /* refuse authInfoRequest with it when set */
	m2m_reason refuse_relayed;  /* refuse discoveryRequest, mcimRequest, installResult with it */
	const char *imei_lock;   /* in the profile, when set */
	int auth_infos, resyncs, locations, purges;
	received got[PARTIES];
	/* what the device m2me-1 (the one the VNO can call) answers smsDeliver and treTrigger with */
	m2m_reason device_refusal;  /* refuses it with this when set */
	int device_silent;          /* never answers */
} fixture;

/* The report TPDU the device m2me-1 answers smsDeliver with. */
extern const uint8_t device_report[8];
/* The changeId of the treTriggerAck it answers treTrigger with. */
extern const uint8_t device_change_id[16];

extern fixture fx;

void world_setup(void);
void world_teardown(void);

/* A party's call to mno-v and its answer. */
typedef struct outcome {
	int done;
	int type;            /* of the answer; -1 when none came */
	m2m_reason reason;   /* an ErrorReport's, or the transport's */
	char text[256];      /* an ErrorReport's */
	uint8_t attach_id[8], rand[16], autn[16], session_id[8];
	uint64_t counter;
	uint8_t sealed[64];
	size_t sealed_len;
	int relayed_type;    /* relayResponse */
	uint8_t relayed[BODY_MAX];
	size_t relayed_len;
	int has_report;      /* smsReport: its tpdu, when present; treTriggerAck: its changeId */
	uint8_t report[BODY_MAX];
	size_t report_len;
} outcome;

/* from sends a request to mno-v and every node runs until it is answered. */
outcome ask(int from, int type, const void *body);
void expect_refused(const outcome *o, m2m_reason want, const char *what);

/* ---- the device's messages ---- */
outcome attach_request(int dev, const char *imsi, const char *imei, const char *apn);
outcome auth_response(int dev, const uint8_t attach_id[8], const uint8_t *res, int len);
/* auts NULL: macFailure. */
outcome auth_failure(int dev, const uint8_t attach_id[8], const uint8_t *auts);
/* attachRequest for IMSI_A: its challenge. */
outcome challenged(int dev, const char *imei, const char *apn);
/* The card answers a challenge: RES, CK, IK in r. */
void card(const outcome *ch, m2m_aka_usim_result *r);
/* A whole attach of dev with imsi: the session id and the device's session key. */
void attached_as(int dev, const char *imsi, uint8_t session_id[8], uint8_t key[32]);
void attached(int dev, uint8_t session_id[8], uint8_t key[32]);
outcome send_data(int dev, const uint8_t session_id[8], const uint8_t key[32], uint64_t counter, const char *text);
outcome detach(int dev, const uint8_t session_id[8]);
/* The state and reason of the one attach record of the test. */
void expect_attach(const char *state, m2m_reason reason);

#endif
