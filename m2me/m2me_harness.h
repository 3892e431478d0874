/*
 * The world the m2me daemon tests run it in: a temporary directory with CURVE keys, a storage
 * key and its configuration file; the m2me process; a test client "testbed" sending
 * deviceControl; a card "uicc-t" (an in-process fake UICC, or the real uicc daemon), a TRE
 * "tre-t" (an in-process fake of its PCID, MCIM and provisioning) and a fake visited network
 * "mno-v" that runs the network side of AKA with the card's or the TRE's keys and answers the
 * relayed provisioning steps as the DRF and the DPF would.
 */
#ifndef M2ME_HARNESS_H
#define M2ME_HARNESS_H

#include "device.h"

#include "aka/aka.h"
#include "daemon/test_agency.h"

#include <sys/types.h>

#define DEVICE_IMEI "356938035643809"
#define CARD_IMSI "001010000000001"
#define CARD_ICCID "8900101000000000019"
/* The IMSI operator B allocated, which an OTA of Alternative 3a writes on the card, and its EF_IMSI. */
#define NEW_IMSI "001020000000005"
extern const uint8_t new_ef_imsi[M2ME_EF_IMSI_LEN];
/* TS 35.208 test set 1 */
#define CARD_K "465b5ce8b199b49faa5f0a2ee238a6bc"
#define CARD_OPC "cd63cb71954a9f4e48a5994e37a02baf"
/* The TRE's credentials: its PCID (the registration operator's 00109) and the MCIM it installs. */
#define TRE_PCID "001090000000001"
#define PCID_K "000102030405060708090a0b0c0d0e0f"
#define PCID_OPC "0f0e0d0c0b0a09080706050403020100"
#define TRE_MCIM "001010000000077"
#define MCIM_K "8899aabbccddeeff0011223344556677"
#define MCIM_OPC "7766554433221100ffeeddccbbaa9988"
/* The MCIM of SHO B that a change of subscription installs (docs/alt1a-change.md). */
#define TRE_MCIM_B "001020000000042"
#define MCIM_B_K "0123456789abcdeffedcba9876543210"
#define MCIM_B_OPC "00112233445566778899aabbccddeeff"

/* Alternative 3b: what operator B makes for the card (its IMSI, K, OPc), loaded into the card's
 * shadow slot by the STORE DATA chain and active after SWITCH. */
#define CARD_B_IMSI "001020000000009"
#define CARD_B_K "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
#define CARD_B_OPC "b0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
/* The card's certificate as GET DATA reads it (DER header 30 82 01 28: 300 bytes), and the
 * package of uiccCredentialDelivery, ciphertext for the card, as the STORE DATA chain carries it. */
#define FAKE_CERT_LEN 300
#define FAKE_PACKAGE_LEN 300
extern const uint8_t fake_package[FAKE_PACKAGE_LEN];

/* One deviceControl: the action and the optional fields it carries (NULL: absent). */
typedef struct ctl {
	int action;
	const char *card, *imei, *network, *apn, *data;
} ctl;

/* Its answer: deviceStatus (type M2M_MSG_DEVICE_STATUS) or an ErrorReport; type -1: none. */
typedef struct answer {
	int done;
	int type;
	m2m_reason reason;
	char text[256];
	int powered;
	char imei[17], card[M2M_ENTITY_MAX + 1], iccid[21], imsi[16], attached_to[M2M_ENTITY_MAX + 1];
	uint8_t echo[M2ME_DATA_MAX];
	size_t echo_len;
} answer;

typedef enum fake_card_fault {
	CARD_FINE,
	CARD_GARBLED_AUTH,   /* AUTHENTICATE answers 9000 with a DB that does not parse */
	CARD_AUTH_REFUSED,   /* AUTHENTICATE answers 69 82 */
	CARD_BAD_IMSI,       /* EF_IMSI holds a non-BCD digit */
	CARD_SHORT_AD,       /* EF_AD has only its first 3 bytes: no MNC length */
} fake_card_fault;

typedef struct fake_card_state {
	fake_card_fault fault;
	int resets, commands, authenticates;
	m2m_milenage m;
	m2m_sqn_usim sqn;
	int in_adf;    /* ADF.USIM is the current application */
	uint16_t ef;   /* the selected EF, 0 none */
	uint8_t ef_imsi[M2ME_EF_IMSI_LEN];  /* EF_IMSI as it is now (CARD_IMSI at first) */
	/* the toolkit (test_m2me_ota.c): TERMINAL PROFILE, ENVELOPE, FETCH, TERMINAL RESPONSE */
	int profiles;
	int refresh_announced;      /* the last TERMINAL PROFILE announced REFRESH */
	int envelopes, fetches, responses;
	uint8_t envelope[M2ME_APDU_MAX];  /* the last ENVELOPE APDU */
	size_t envelope_len;
	uint8_t por[64];            /* what an ENVELOPE answers (the response packet's user data) */
	size_t por_len;
	uint16_t envelope_sw;       /* an ENVELOPE answers this status word (and no data) when set */
	int hold_envelope, hold_fetch;  /* that command is never answered */
	const uint8_t *ota_ef_imsi; /* an ENVELOPE writes it into EF_IMSI ... */
	int refresh_qualifier;      /* ... and, if REFRESH was announced, queues REFRESH with it */
	int refresh_on_profile;     /* TERMINAL PROFILE queues REFRESH with refresh_qualifier */
	uint8_t proactive[64];      /* the proactive command pending (D0 ...), until TERMINAL RESPONSE */
	size_t proactive_len;
	uint8_t response[M2ME_APDU_MAX];  /* the last TERMINAL RESPONSE APDU */
	size_t response_len;
	/* Alternative 3b: the certificate, the challenge, the STORE DATA chain into the shadow slot
	 * (B's EF_IMSI and keys after it), SWITCH, COMMIT, ROLLBACK */
	uint8_t cert[FAKE_CERT_LEN];
	uint8_t challenge[16];
	uint8_t stored[1024];       /* the chain as received */
	size_t stored_len;
	int blocks;                 /* of the chain under way */
	int loaded;                 /* the chain is whole: the shadow slot holds B */
	int switched;               /* SWITCH done, not committed or rolled back */
	int on_b;                   /* B's credentials are the active ones */
	int commits, rollbacks;
	uint8_t ef_imsi_shadow[M2ME_EF_IMSI_LEN];  /* the slot's EF_IMSI (B's at first) */
	m2m_milenage m_b;
	m2m_sqn_usim sqn_b;
	int hold_ins;               /* a command of this INS (class 80) is never answered, once */
	char ins_log[1024];          /* every command as "CLA/INS " (e.g. "80E2 00B0 ") */
} fake_card_state;

/* Queues a proactive command for the card's next answer (91XX). */
void fake_card_queue(uint8_t type, uint8_t qualifier);

typedef enum fake_net_mode {
	NET_NORMAL,        /* fresh vectors; a synchronisation failure is resolved with the AUTS */
	NET_STALE_FIRST,   /* the first challenge of an attach replays the last one used */
	NET_ALWAYS_STALE,  /* ... and it is sent again after the synchronisation failure */
	NET_FALSE,         /* AUTN made with a random K: the card answers 98 62 */
	NET_REFUSE,        /* attachRequest is refused with imeiNotAllowed */
} fake_net_mode;

typedef struct fake_net_state {
	fake_net_mode mode;
	m2m_milenage m;
	m2m_sqn_he he;
	uint8_t attach_id[8];
	m2m_aka_av current, last;  /* the challenge in flight, the last one answered */
	int have_last;
	int synch_failures, mac_failures, attaches, detaches, resyncs;
	char imsi[16], imei[17], apn[M2ME_APN_MAX + 1];
	int session_open;
	uint8_t session_id[8], key[32];
	uint64_t last_uplink;
	/* the TRE's credentials, and the keys of the attach in progress */
	m2m_milenage m_pcid, m_mcim, m_mcim_b, m_card_b;
	m2m_sqn_he he_pcid, he_mcim, he_mcim_b, he_card_b;
	char refuse_imsi[16];     /* attachRequest for this IMSI is refused with roamingNotAllowed */
	m2m_milenage *key_m;
	m2m_sqn_he *key_he;
	/* relayRequest: what was relayed where, and how it is answered */
	int relays;
	char relayed_to[8][M2M_ENTITY_MAX + 1];
	int relayed_type[8];
	char relayed_on[8][16];   /* the IMSI of the session it was relayed over */
	m2m_reason refuse_relay;  /* the visited network refuses relayRequest with it */
	m2m_reason relay_error;   /* the DRF refuses the discoveryRequest with it */
} fake_net_state;

/* The fake TRE: a PCID, and once provisioned an active MCIM; its provisioning machine, and the
 * change of subscription to MCIM B (switching until told attached, then completing). */
typedef struct fake_tre_state {
	int empty;             /* holds no credential: treCredential{none} */
	int provisioned;       /* the MCIM is installed and active: named instead of the PCID */
	int change;            /* a change is open (reprovision received): the procedure installs B */
	int changed;           /* B is active (committed on treAttached{B, attached}) */
	int switched;          /* times the procedure entered switching */
	int state;             /* m2m_provision_state */
	m2m_reason reason;     /* failed: why */
	m2m_milenage pcid, mcim, mcim_b;
	m2m_sqn_usim sqn_pcid, sqn_mcim, sqn_mcim_b;
	int credentials, akas, provisions, repeats, answers;
	char aka_imsi[M2ME_IMSI_MAX + 1];  /* the IMSI of the last treAkaRequest */
	/* treAttached: how many, the last one, and the whole sequence ("A+ B- A+": IMSI tail, result) */
	int told;
	m2m_reason refuse_told;  /* refuses treAttached with it (a TRE that does not know it) */
	int late;                /* the switch deadline passes just before the report of B arrives */
	char told_imsi[M2ME_IMSI_MAX + 1];
	int told_failed;
	m2m_reason told_reason;
	char told_log[128];
	/* treTrigger (Alternative 3b): how many, the last one's signed object, and the answer */
	int triggers;
	uint8_t trigger[64];
	size_t trigger_len;
	m2m_reason refuse_trigger;  /* refuses it with this when set */
	int hold_trigger;           /* never answers it */
	/* Alternative 3b: an acknowledged trigger opens a change of the card; the next treProvision
	 * runs its program (card steps, uiccChangeRegister, the STORE DATA chain, SWITCH, then on
	 * treAttached uiccChangeComplete and COMMIT, or ROLLBACK and the way back to failed) */
	int uicc_change;
	int upc, nops;              /* the operation the TRE is at, of nops */
	struct fake_op {
		int state, kind;        /* FAKE_OP_CARD, FAKE_OP_STEP, FAKE_OP_FOLLOW */
		uint8_t apdu[M2ME_APDU_MAX];
		size_t len;
		int type;               /* a step's message type */
	} ops[64];
	m2m_reason uicc_reason;     /* the end: M2M_OK done, else failed with it */
	int rolled_back;
	uint8_t forbidden[64];      /* when set: the first card step instead of SELECT MF */
	size_t forbidden_len;
	char card_log[1024];        /* each card answer: "INS:SW " */
	uint8_t iccid_read[10];
	size_t cert_read;           /* bytes of the certificate read */
	int challenge_len;
	int uicc_done;              /* changes ended (done or failed) */
} fake_tre_state;
enum { FAKE_OP_CARD, FAKE_OP_STEP, FAKE_OP_FOLLOW };

/* The changeId of the fake TRE's treTriggerAck. */
extern const uint8_t fake_change_id[16];

/* The fake TRE's switch deadline passes: from switching back to MCIM A, failed with timeout. */
void fake_tre_deadline(void);

/* What the DRF and the DPF answer a step of step_type: *answer_type and the DER of its body
 * (*der OpenSSL's), which the fake TRE expects back byte for byte. Its length. */
int fake_step_answer(int step_type, int *answer_type, unsigned char **der);

/* fake_uicc.c and fake_network.c: the dispatch functions of their nodes. */
void fake_card_serve(m2m_node *n, m2m_request *req, void *arg);
void fake_net_serve(m2m_node *n, m2m_request *req, void *arg);
void fake_tre_serve(m2m_node *n, m2m_request *req, void *arg);

extern fake_card_state fake_card;
extern fake_net_state fake_net;
extern fake_tre_state fake_tre;
extern char world_dir[64];

void world_setup(void);
void world_teardown(void);
/* The uicc daemon's binary when it is a real one (it accepts a card image), else NULL. */
const char *world_real_uicc(void);
/* Before world_start_m2me: the card is the real uicc daemon, started now, not the fake. */
void world_start_uicc(const char *binary);
/* An m2me of our own, in this process, with the m2me's keys and the card as its only peer:
 * for driving the device's procedures without the daemon. */
m2me_device *world_device_in_process(void);
void world_device_poll(m2me_device *dev, const int *done);
/* Before world_start_m2me: the device has the TRE "tre-t" and no card (Alternative 1a). */
void world_use_tre(void);
/* Before world_start_m2me: the device has the card uicc-t and the TRE tre-t (Alternative 3b). */
void world_use_card_and_tre(void);
/* Starts (or restarts) the m2me process; the first call writes its configuration. */
void world_start_m2me(void);
/* SIGTERM, then checks a clean exit (status 0). */
void world_stop_m2me(void);
/* SIGKILL: a crash, nothing flushed or closed. */
void world_kill_m2me(void);
answer control(ctl c);
/* smsDeliver{imsi, tpdu} to the m2me, from the network (mno-v) or, from_network 0, the testbed;
 * the answer lands in *a while the test polls the world. */
void sms_start(int from_network, const char *imsi, const uint8_t *tpdu, size_t len, ta_answer *a);
/* Starts the device, powers it on and attaches it with its card's IMSI through mno-v. */
void world_powered_and_attached(void);
/* The smsDeliver's or treTrigger's answer is the refusal want (what: the case, for the message). */
void expect_refused(ta_answer *a, m2m_reason want, const char *what);
/* The checks both downlink messages pass (m2me/downlink.c), each sent with send(from_network,
 * imsi): refused notAttached before the attach, for another IMSI than the session's, and from
 * another entity than the network. Starts the device, powers it on and attaches it on the way. */
void world_downlink_refusals(ta_answer (*send)(int from_network, const char *imsi));
/* While an SMS or a trigger holds the device: another message sent with send is refused
 * wrongState ("busy"), and so is a detach, its text naming the holder; the status is unchanged. */
void world_busy_refusals(ta_answer (*send)(int from_network, const char *imsi), const char *holder);
/* treTrigger{imsi, trigger: cms} to the m2me, as sms_start. */
void trigger_start(int from_network, const char *imsi, const uint8_t *cms, size_t len, ta_answer *a);
answer act(int action);  /* control with no field */
/* The answer is deviceStatus with these values ("" for an absent field). */
void assert_status(const answer *a, int powered, const char *imsi, const char *attached_to);
/* The answer is the refusal want. */
void assert_refused(const answer *a, m2m_reason want);
/* The i-th relayRequest the fake network served went to destination, of type, over the session
 * of imsi (NULL: any). */
void assert_relayed(int i, const char *destination, int type, const char *imsi);
/* The rows of a table of the m2me's database. */
int world_rows(const char *table);
/* Runs the world until the m2me has no provisioning stored (at most 20 s). */
void world_until_no_provision(void);
/* The same in two halves, to hold a procedure open: net 0 leaves the network unanswered. */
void control_start(ctl c, answer *a);
void world_poll(answer *a, int net);
/* Runs the world until *flag is set (at most 20 s); net 0 leaves the network unanswered. */
void world_poll_until(const int *flag, int net);
/* One round of it. */
void world_step(int net);
/* The m2me's configuration with one substitution, checked by `m2me --check-config`: its exit status. */
int world_check_config(const char *find, const char *replace);
int world_exists(const char *name);
/* The first column of the first row of sql on the m2me's database (running or not) into out:
 * 1, or 0 when there is no row. */
int world_query(const char *sql, char *out, size_t len);
/* The bytes of a file of the world ("m2me.log"), malloc'd; *len its size. */
char *world_read(const char *name, size_t *len);
/* 1 when secret (at most 32 bytes), raw or in hex of either case, occurs in buf. */
int world_leaks(const char *buf, size_t len, const uint8_t *secret, size_t slen);

#endif
