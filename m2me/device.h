/*
 * The M2ME (M2M Equipment): a device with a card slot holding the operator's UICC, or a TRE
 * holding its PCID and MCIMs (Alternative 1a, docs/alt1a.md). The testbed plays the person
 * holding it (deviceControl: power, card slot, IMEI, attach, data, provision); the device reads
 * its card at power-on, attaches through a visited network with UMTS AKA run on the card or in
 * the TRE, carries user data protected under keys from CK and IK (docs/alt2.md), and carries
 * the TRE's provisioning steps over its session (provision.c).
 *
 * One procedure runs at a time. A deviceControl's owns the deferred request and ends with
 * m2me_control_finish, which answers deviceStatus or refuses with the reason the card or the
 * network gave. The network's smsDeliver runs as a procedure too (sms.c), answered with
 * smsReport, and so does the proactive session it may open on the card (refresh.c), which
 * answers nobody. Every response callback runs inside a step (lib/net/node.h), so a procedure
 * persists its result and then answers, in that order, within one database transaction.
 */
#ifndef M2ME_DEVICE_H
#define M2ME_DEVICE_H

#include "card.h"

#include "aka/session.h"
#include "daemon/daemon.h"
#include "ota/cat.h"

#include <time.h>

#define M2ME_IMEI_LEN 15
#define M2ME_APN_MAX 100
#define M2ME_DATA_MAX 1024
#define M2ME_COUNTER_MAX UINT64_C(4294967295)  /* ProtectedData.counter */

typedef struct m2me_device m2me_device;

/* The m2me group of the configuration file. */
typedef struct m2me_settings {
	char imei[M2ME_IMEI_LEN + 1];        /* the device's IMEI until setImei changes it */
	char network[M2M_ENTITY_MAX + 1];    /* the visited operator attach uses by default */
	char apn[M2ME_APN_MAX + 1];          /* the APN attach asks for by default */
	char card[M2M_ENTITY_MAX + 1];       /* the uicc in the slot at first boot; "" none */
	char tre[M2M_ENTITY_MAX + 1];        /* the device's TRE (Alternative 1a); "" none */
	char provisioning_apn[M2ME_APN_MAX + 1];  /* the APN an attach with a PCID asks for */
	uint8_t storage_key[32];             /* seals the session key in the database */
} m2me_settings;

/* What the device read from its card at power-on. */
typedef struct m2me_card_info {
	char iccid[M2M_ICCID_MAX + 1];
	char imsi[M2ME_IMSI_MAX + 1];
	int mnc_length;
} m2me_card_info;

/* The protected session an accepted attach opened. */
typedef struct m2me_session {
	char network[M2M_ENTITY_MAX + 1];
	char apn[M2ME_APN_MAX + 1];
	char imsi[M2ME_IMSI_MAX + 1];  /* the credential it was opened with (the card's, a PCID, an MCIM) */
	int via_tre;                   /* the TRE ran its AKA */
	uint8_t id[M2M_SESSION_ID_LEN];
	uint8_t key[32];      /* m2m_session_key(CK, IK, id); sealed in the database */
	uint64_t uplink;      /* the last uplink counter used */
} m2me_session;

/* The device's persisted state (device_store.c). */
typedef struct m2me_state {
	int powered;
	char card[M2M_ENTITY_MAX + 1];  /* the uicc entity in the slot; "" empty */
	char imei[M2ME_IMEI_LEN + 1];
	int card_read;                  /* info holds what powerOn read */
	m2me_card_info info;
	int attached;
	m2me_session session;
} m2me_state;

/* A card answer: response data and status word (for cardReset, the ATR and 0x9000). */
typedef struct m2me_rapdu {
	uint8_t data[256];
	size_t len;
	uint16_t sw;
} m2me_rapdu;

/* r is NULL when the card did not answer; reason and text then say why. */
typedef void (*m2me_rapdu_fn)(m2me_device *dev, const m2me_rapdu *r, m2m_reason reason, const char *text);
/* The end of a sub-procedure (card reading, attach, detach): M2M_OK or the reason it failed. */
typedef void (*m2me_done_fn)(m2me_device *dev, m2m_reason reason, const char *text);
typedef void (*m2me_read_fn)(m2me_device *dev, const m2me_card_info *info, m2m_reason reason,
			     const char *text);

/* Reading the card at power-on, or again at a REFRESH (power.c). */
typedef struct m2me_card_read {
	int step;
	int le_retried;          /* one repeat with the Le the card asked for (6Cxx) */
	uint8_t le;
	uint8_t ef_imsi[M2ME_EF_IMSI_LEN];
	uint8_t ef_ad[M2ME_EF_AD_READ_LEN];
	uint8_t ef_iccid[M2M_EF_ICCID_LEN];
	size_t ef_len[3];
	int initialise;          /* after a reset: the reading ends with TERMINAL PROFILE */
	m2me_card_info info;     /* decoded, while TERMINAL PROFILE is with the card */
	uint8_t proactive;       /* TERMINAL PROFILE answered 91XX: XX, else 0 */
	m2me_read_fn done;
} m2me_card_read;

/*
 * AKA on the holder of the credential an attach uses, one interface for both: the card's
 * AUTHENTICATE (card_link.c) and the TRE's treAkaRequest (tre_link.c). The answer: reason M2M_OK
 * and outcome SUCCESS (res holds RES, CK, IK), SYNCH_FAILURE (res holds AUTS) or MAC_FAILURE;
 * any other reason says why the holder gave none (text). res is wiped after the call.
 */
typedef void (*m2me_aka_fn)(m2me_device *dev, m2me_auth_outcome outcome, const m2me_auth_result *res,
			    m2m_reason reason, const char *text);
/* 0, or -1 when the holder cannot be asked (done is then not called). */
typedef int (*m2me_aka_start_fn)(m2me_device *dev, const char *imsi, const uint8_t rand[16], const uint8_t autn[16],
				 m2me_aka_fn done);

/* What the TRE names to attach with (treCredential, also its answer to treAttached). */
typedef struct m2me_credential {
	m2m_credential_kind kind;  /* pcid or mcim */
	char imsi[M2ME_IMSI_MAX + 1];
} m2me_credential;
typedef void (*m2me_credential_fn)(m2me_device *dev, const m2me_credential *c, m2m_reason reason,
				   const char *text);

/* One attach procedure (attach.c). CK and IK live here between the holder and attachAccept. */
typedef struct m2me_attach_run {
	int phase;
	char network[M2M_ENTITY_MAX + 1];
	char apn[M2ME_APN_MAX + 1];
	char imsi[M2ME_IMSI_MAX + 1];       /* what the attach is for */
	char holder[M2M_ENTITY_MAX + 1];    /* the card or the TRE that runs its AKA */
	int via_tre;
	m2me_aka_start_fn aka;
	m2me_done_fn done;
	uint8_t attach_id[8];
	int challenges;
	uint8_t ck[16];
	uint8_t ik[16];
	/* An attach with a credential the TRE named ends by telling the TRE (treAttached): */
	m2me_done_fn then;           /* the caller's done, once the TRE answered */
	m2m_reason result;           /* how the attach ended ... */
	char result_text[256];
	m2m_reason told;             /* M2M_OK when the TRE answered, else why it did not */
	m2me_credential next;        /* ... and its answer: what to attach with next */
} m2me_attach_run;

/* Where the TRE's provisioning stands (treProvisionNext: step and card valid during the callback
 * only). At most one of step and card. */
typedef struct m2me_next {
	m2m_provision_state state;
	const M2M_RELAY_STEP *step;    /* what to relay; NULL when none */
	const M2M_APDU_COMMAND *card;  /* 3b: an APDU for the device's UICC; NULL when none */
	m2m_reason reason;             /* failed: why */
} m2me_next;
typedef void (*m2me_next_fn)(m2me_device *dev, const m2me_next *next, m2m_reason reason, const char *text);

/* The provisioning procedure (provision.c) and its row in the database. */
typedef enum m2me_provision_phase {
	M2ME_PROV_ASKING,
	M2ME_PROV_RELAYING,
	M2ME_PROV_SWITCHING,  /* the TRE is done: attach with the MCIM it names, then the end */
	M2ME_PROV_CHANGING,   /* the TRE is switching (a change): attach with the new MCIM, tell it */
	M2ME_PROV_CARDING,    /* 3b: a card step of the TRE is with the UICC (uicc_change.c) */
	M2ME_PROV_FOLLOWING,  /* 3b: the card switched: its REFRESH, the re-attach, treAttached */
} m2me_provision_phase;
#define M2ME_PROV_PHASES 6
extern const char *const m2me_provision_phases[];  /* their names in the database */
typedef struct m2me_provision_run {
	m2me_provision_phase phase;
	int steps;        /* relayed since the provisioning started (persisted) */
	int relays;       /* relayed by this procedure: bounded */
	int last_type;    /* the last step relayed */
	char last_destination[M2M_ENTITY_MAX + 1];
	char network[M2M_ENTITY_MAX + 1];
	char apn[M2ME_APN_MAX + 1];  /* of the operational attach at the end */
	/* changing (persisted): the IMSI of the session the change started on ("" none), and why
	 * the attach with the new MCIM failed (M2M_OK: it has not), the action's end once back */
	char from_imsi[M2ME_IMSI_MAX + 1];
	m2m_reason failure;
	char failure_text[256];      /* not persisted: a resumed procedure says less */
	m2me_credential target;      /* the credential being attached with (switch.c) */
	m2me_done_fn then;           /* ... and what follows the attach */
	/* Alternative 3b (uicc_change.c); uicc and unattended persisted */
	int uicc;                    /* the TRE re-credentials the card: done ends on the card's session */
	int unattended;              /* started by the TRE's trigger: nobody waits for the end */
	int card_steps;              /* card steps passed by this procedure: bounded */
	int follows;                 /* switches followed by this procedure: bounded */
	uint8_t card_pending;        /* the last card answer was 91XX: XX, the REFRESH to fetch */
} m2me_provision_run;

/*
 * The OTA on the card (sms.c, refresh.c) and its row in the database (table ota), stored from
 * the moment an ENVELOPE leaves until the device is settled on what the card presents:
 *
 *   ENVELOPING    the SMS-PP download is with the card          -> its answer, 9000 or 91XX
 *   FETCHING      91XX: FETCH, perform, TERMINAL RESPONSE       -> 9000 (settle) or 91XX again
 *   READING       a REFRESH: the card's files read again (after a reset for qualifier 04)
 *   REATTACHING   the card presents another IMSI: detach, attach with it on the same network
 *                 and APN (network, apn and from_imsi stored)
 *
 * A restart finds the row and does what a terminal does after losing a proactive session:
 * reset the card, read it, and re-attach if its IMSI is no longer the session's.
 */
typedef enum m2me_ota_phase {
	M2ME_OTA_ENVELOPING,
	M2ME_OTA_FETCHING,
	M2ME_OTA_READING,
	M2ME_OTA_REATTACHING,
} m2me_ota_phase;
#define M2ME_OTA_PHASES 4
extern const char *const m2me_ota_phases[];  /* their names in the database */
typedef struct m2me_ota_run {
	m2me_ota_phase phase;
	char network[M2M_ENTITY_MAX + 1];  /* the session's when it started: where to attach again */
	char apn[M2ME_APN_MAX + 1];
	char from_imsi[M2ME_IMSI_MAX + 1];
	int attach_due;           /* stored REATTACHING: the detach may have happened, attach anyway */
	uint8_t pending;          /* 91XX: the length of the proactive command to fetch */
	int commands;             /* fetched in this proactive session: bounded */
	m2m_cat_command command;  /* the one being performed */
	int have_info;            /* info: what the REFRESH (or the restart) read */
	m2me_card_info info;
	/* a procedure that goes on once the card is settled (3b, m2me_refresh_follow): */
	int reset_due;            /* the card is reset and read after its proactive session */
	m2me_done_fn then;        /* called instead of ending: the re-attach's reason, or ... */
	int interrupted;          /* ... the card broke off (then's reason is cardError) */
} m2me_ota_run;

/* What the procedure in progress answers: a deviceControl, an smsDeliver, a treTrigger (while
 * the TRE holds it), or nobody (a refresh; the provisioning the TRE's trigger started). */
typedef enum m2me_proc_kind {
	M2ME_PROC_CONTROL, M2ME_PROC_SMS, M2ME_PROC_REFRESH, M2ME_PROC_TRIGGER, M2ME_PROC_UNATTENDED
} m2me_proc_kind;

/* The procedure in progress: the request it answers and each procedure's working state. */
typedef struct m2me_procedure {
	int active;
	m2me_proc_kind kind;
	m2m_request *req;                 /* NULL for a refresh */
	m2m_device_action action;
	m2me_card_read read;
	m2me_attach_run attach;
	m2me_provision_run provision;
	m2me_ota_run ota;
	m2me_done_fn detach_done;
	uint64_t counter;                 /* sendData: the uplink counter of the data in flight */
	uint8_t data[M2ME_DATA_MAX];      /* sendData: what was sent, then what came back */
	size_t data_len;
	int has_echo;
} m2me_procedure;

struct m2me_device {
	m2me_settings settings;
	m2m_node *node;
	sqlite3 *db;
	m2me_state state;
	m2me_procedure proc;
	m2me_rapdu_fn card_answer;  /* where the pending card command's answer goes */
	/* where the pending AKA's, and the pending TRE request's, answer goes */
	m2me_aka_fn aka_answer;
	m2me_credential_fn credential_answer;
	m2me_next_fn next_answer;
	/* an OTA the device must settle (a restart, a card that stopped answering): when to try */
	int ota_recover;
	int ota_attempts;
	time_t ota_retry_at;
	/* a provisioning the TRE's trigger asked for is stored: it starts once the device is idle */
	int provision_due;
};

/* Migration 1 of the m2me's database, after M2M_NODE_SCHEMA. */
#define M2ME_SCHEMA_V1                                                                          \
	"CREATE TABLE device (id INTEGER PRIMARY KEY CHECK (id = 1),"                            \
	" powered INTEGER NOT NULL CHECK (powered IN (0, 1)),"                                   \
	" card TEXT,"                                   /* the uicc entity in the slot */        \
	" imei TEXT NOT NULL,"                                                                   \
	" iccid TEXT, imsi TEXT, mnc_length INTEGER);"  /* as read at powerOn */                 \
	"CREATE TABLE session (id INTEGER PRIMARY KEY CHECK (id = 1),"                           \
	" network TEXT NOT NULL, apn TEXT NOT NULL,"                                             \
	" session_id BLOB NOT NULL CHECK (length(session_id) = 8),"                              \
	" sealed_key BLOB NOT NULL,"                    /* m2m_seal, aad = session_id */         \
	" uplink INTEGER NOT NULL,"                                                              \
	" imsi TEXT NOT NULL,"                          /* the credential it was opened with */  \
	" holder TEXT NOT NULL CHECK (holder IN ('card', 'tre')));"                              \
	"CREATE TABLE provision (id INTEGER PRIMARY KEY CHECK (id = 1),"                         \
	" phase TEXT NOT NULL CHECK (phase IN ('asking', 'relaying', 'switching')),"             \
	" steps INTEGER NOT NULL CHECK (steps >= 0),"                                            \
	" last_type INTEGER, last_destination TEXT,"                                             \
	" started INTEGER NOT NULL, changed INTEGER NOT NULL);"

/* Migration 2: the change of subscription (docs/alt1a-change.md). The provisioning gains the
 * phase changing, the IMSI the change started from and the reason its switch failed; SQLite
 * cannot alter a CHECK, so the table is rebuilt with what it holds. */
#define M2ME_SCHEMA_V2                                                                          \
	"CREATE TABLE provision_v2 (id INTEGER PRIMARY KEY CHECK (id = 1),"                      \
	" phase TEXT NOT NULL CHECK (phase IN ('asking', 'relaying', 'switching', 'changing')),"  \
	" steps INTEGER NOT NULL CHECK (steps >= 0),"                                            \
	" last_type INTEGER, last_destination TEXT,"                                             \
	" from_imsi TEXT,"                              /* changing: the session's before */     \
	" failure INTEGER NOT NULL DEFAULT 0 CHECK (failure >= 0),"  /* changing: its reason */  \
	" started INTEGER NOT NULL, changed INTEGER NOT NULL);"                                  \
	"INSERT INTO provision_v2 (id, phase, steps, last_type, last_destination, started, changed)" \
	" SELECT id, phase, steps, last_type, last_destination, started, changed FROM provision;" \
	"DROP TABLE provision;"                                                                  \
	"ALTER TABLE provision_v2 RENAME TO provision;"

/* Migration 3: the OTA on the card (sms.c, refresh.c; see m2me_ota_phase). */
#define M2ME_SCHEMA_V3                                                                          \
	"CREATE TABLE ota (id INTEGER PRIMARY KEY CHECK (id = 1),"                               \
	" phase TEXT NOT NULL CHECK (phase IN ('enveloping', 'fetching', 'reading', 'reattaching')),"  \
	" network TEXT, apn TEXT, from_imsi TEXT,"      /* the session's when it started */      \
	" started INTEGER NOT NULL, changed INTEGER NOT NULL);"

/* Migration 4: Alternative 3b. The provisioning gains the phases carding and following, whether
 * it re-credentials the card (uicc) and whether the TRE's trigger started it (unattended: the
 * device starts it by itself, also after a restart); the table is rebuilt as in migration 2. */
#define M2ME_SCHEMA_V4                                                                          \
	"CREATE TABLE provision_v4 (id INTEGER PRIMARY KEY CHECK (id = 1),"                      \
	" phase TEXT NOT NULL CHECK (phase IN ('asking', 'relaying', 'switching', 'changing',"   \
	" 'carding', 'following')),"                                                             \
	" steps INTEGER NOT NULL CHECK (steps >= 0),"                                            \
	" last_type INTEGER, last_destination TEXT,"                                             \
	" from_imsi TEXT,"                                                                       \
	" failure INTEGER NOT NULL DEFAULT 0 CHECK (failure >= 0),"                              \
	" uicc INTEGER NOT NULL DEFAULT 0 CHECK (uicc IN (0, 1)),"                               \
	" unattended INTEGER NOT NULL DEFAULT 0 CHECK (unattended IN (0, 1)),"                   \
	" started INTEGER NOT NULL, changed INTEGER NOT NULL);"                                  \
	"INSERT INTO provision_v4 (id, phase, steps, last_type, last_destination, from_imsi, failure, started," \
	" changed) SELECT id, phase, steps, last_type, last_destination, from_imsi, failure, started, changed"  \
	" FROM provision;"                                                                       \
	"DROP TABLE provision;"                                                                  \
	"ALTER TABLE provision_v4 RENAME TO provision;"

/* imei.c: 15 digits whose last is the Luhn check digit of the first 14 (TS 23.003 Annex B). */
int m2me_imei_valid(const char *imei);

/* control.c */
void m2me_control(m2me_device *dev, m2m_request *req);
/* Ends the procedure: deviceStatus when reason is M2M_OK, else the refusal with text. */
void m2me_control_finish(m2me_device *dev, m2m_reason reason, const char *text);
void m2me_control_fail(m2me_device *dev, m2m_reason reason, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Formats the text and ends a sub-procedure with done(dev, reason, text). */
void m2me_fail(m2me_device *dev, m2me_done_fn done, m2m_reason reason, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The ASN.1 name of a reason, also for one this build does not know. */
const char *m2me_reason_name(m2m_reason r);
/* What the procedure in progress is, for a refusal's "busy: ... in progress". */
const char *m2me_procedure_name(const m2me_procedure *p);

/* card_link.c: one command at a time to the uicc in the slot; -1 if it cannot be sent. */
int m2me_card_transmit(m2me_device *dev, const uint8_t *apdu, size_t len, m2me_rapdu_fn answer);
int m2me_card_reset(m2me_device *dev, m2me_rapdu_fn answer);
/* AUTHENTICATE in the 3G context (m2me_aka_start_fn; the card knows its one IMSI). */
int m2me_card_aka(m2me_device *dev, const char *imsi, const uint8_t rand[16], const uint8_t autn[16],
		  m2me_aka_fn done);

/* tre_link.c: one request at a time to the TRE of the settings; -1 if it cannot be sent.
 * treCredentialRequest (kind none: notFound), treAkaRequest (m2me_aka_start_fn), treProvision
 * with the last relayResponse as its answer (NULL: start, or repeat the current step). */
int m2me_tre_credential(m2me_device *dev, m2me_credential_fn done);
int m2me_tre_aka(m2me_device *dev, const char *imsi, const uint8_t rand[16], const uint8_t autn[16],
		 m2me_aka_fn done);
int m2me_tre_provision(m2me_device *dev, const M2M_RELAY_RESPONSE *answer, const m2me_rapdu *card,
		       m2me_next_fn done);
/* treAttached{imsi, attached (reason M2M_OK) | failed + reason}, answered with treCredential (a
 * credential of kind none: done gets it with reason notFound). */
int m2me_tre_attached(m2me_device *dev, const char *imsi, m2m_reason reason, m2me_credential_fn done);

/* power.c */
void m2me_power_on(m2me_device *dev);
void m2me_power_off(m2me_device *dev);
void m2me_insert_card(m2me_device *dev, const char *card);
void m2me_remove_card(m2me_device *dev);
/* Resets the card, reads ADF.USIM's EF_IMSI and EF_AD and the MF's EF_ICCID, and sends TERMINAL
 * PROFILE (m2m_cat_me_profile): the terminal's part of the UICC's initialisation. A card that
 * refuses the profile is read all the same (it has no toolkit); its 91XX is in proc.read.proactive. */
void m2me_card_read_start(m2me_device *dev, m2me_read_fn done);
/* The same files read again without a reset or profile (a REFRESH with NAA initialisation). */
void m2me_card_read_files(m2me_device *dev, m2me_read_fn done);

/* attach.c: with the card when one was read at power-on, else with what the TRE names (a PCID
 * attaches with the provisioning APN); ends with done. An attach with a TRE credential, named
 * by the TRE or given (m2me_attach_named: the TRE's last answer), ends by telling the TRE how it
 * went (treAttached); done then finds the TRE's answer in dev->proc.attach (told, next). */
void m2me_attach(m2me_device *dev, const char *network, const char *apn, m2me_done_fn done);
void m2me_attach_named(m2me_device *dev, const char *network, const char *apn, const m2me_credential *c,
		       m2me_done_fn done);

/* provision.c: the TRE's provisioning over the session (attached first if need be), then the
 * attach with the MCIM; resumes what a restart interrupted. Ends the deviceControl. */
void m2me_provision(m2me_device *dev, const char *network, const char *apn);
/* For switch.c: the end (the row dropped, the deviceControl answered); the phase stored (0, or
 * -1 with the action ended); the loop continued by asking the TRE where it stands. */
void m2me_provision_finish(m2me_device *dev, m2m_reason reason, const char *text);
int m2me_provision_enter(m2me_device *dev, m2me_provision_phase phase);
void m2me_provision_continue(m2me_device *dev);
/* For uicc_change.c: the TRE asked again with the card's answer to its card step. */
void m2me_provision_card_answer(m2me_device *dev, const m2me_rapdu *r);
/* The provisioning the TRE's trigger asked for (stored: m2me_store_schedule_provision) starts
 * when the device is powered and idle, with nobody waiting: its end is logged. */
void m2me_provision_tick(m2me_device *dev);
/* The end of an unattended provisioning (control.c): logged, no longer due. */
void m2me_provision_unattended_end(m2me_device *dev, m2m_reason reason, const char *text);

/* uicc_change.c, Alternative 3b: a card step of the TRE passes to the UICC only if it is one of
 * the commands the re-credentialing uses (m2me_card_step_allowed), else the procedure ends
 * notAuthorised; its answer (data, SW) goes back to the TRE. The TRE's uiccSwitching: the
 * card's REFRESH (refresh.c), the re-attach with the IMSI it presents, treAttached, ask again. */
int m2me_card_step_allowed(const uint8_t *apdu, size_t len);
void m2me_uicc_card_step(m2me_device *dev, const M2M_APDU_COMMAND *c);
void m2me_uicc_follow(m2me_device *dev);

/* switch.c: the TRE is done (first MCIM): attach with what it names unless attached with it,
 * then the end. The TRE is switching (a change): detach, attach with the new MCIM it names, tell
 * it; on success the loop continues, on failure the device goes back to what the TRE names
 * then and the action ends with the failure. Both resume their phase after a restart. */
void m2me_switch_settle(m2me_device *dev);
void m2me_switch_change(m2me_device *dev);

/* downlink.c: whether the device takes a message for imsi from sender, its network: M2M_OK, or
 * the reason with why: notAttached (not attached through sender, or not with imsi), wrongState
 * (busy); with card_use (what the card would do, for the text) also noCard (no card, or the
 * session is the TRE's credential). */
m2m_reason m2me_downlink_admit(const m2me_device *dev, const char *sender, const char *imsi, const char *card_use,
			       char *why, size_t len);

/* trigger.c: treTrigger from the network the device is attached through, for its session's IMSI
 * (m2me_downlink_admit), handed to the TRE (none: notFound); its treTriggerAck, refusal or
 * silence goes back. */
void m2me_tre_trigger(m2me_device *dev, m2m_request *req);

/* sms.c: smsDeliver from the network the device is attached through, for its session's IMSI:
 * ENVELOPE (SMS-PP download) to the card, its answer back in smsReport; a 91XX answer starts
 * the refresh once the report is on its way. */
void m2me_sms_deliver(m2me_device *dev, m2m_request *req);

/* refresh.c: the proactive session the card opened with 91XX (pending: XX). begin stores it
 * (phase fetching; 0, or -1) in the procedure in progress; fetch makes it the procedure and
 * runs it: FETCH, REFRESH (or "beyond capabilities"), TERMINAL RESPONSE, and at the end the
 * detach and attach when the card presents another IMSI than the session's. start: both, for a
 * device with no procedure in progress. */
int m2me_refresh_begin(m2me_device *dev, uint8_t pending);
void m2me_refresh_fetch(m2me_device *dev);
void m2me_refresh_start(m2me_device *dev, uint8_t pending);
/* For a procedure that goes on once the card is settled (3b's switch): the pending REFRESH
 * (pending 0: none) fetched and performed, then a reset and the reading, then the device on the
 * card's IMSI through network and apn (detach and attach when it changed, attach when not
 * attached); then(dev, reason, text) at the end with the attach's result, or with cardError
 * and proc.ota.interrupted set when the card broke off (the tick settles it later). */
void m2me_refresh_follow(m2me_device *dev, const char *network, const char *apn, uint8_t pending,
			 m2me_done_fn then);
/* At start: whether an OTA is to be settled (a stored row, or a session whose IMSI is not the
 * card's): 0, or -1 when the row cannot be read. tick: settles it once no procedure runs: reset,
 * read, re-attach (retried). */
int m2me_ota_check(m2me_device *dev);
/* The OTA in progress broke off (a silent card, a row that cannot be stored): the procedure ends,
 * its row stays, and the tick settles it later. */
void m2me_ota_interrupted(m2me_device *dev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void m2me_ota_tick(m2me_device *dev);

/* user_data.c */
void m2me_send_data(m2me_device *dev, const uint8_t *data, size_t len);

/* detach.c: ends the session with the network; the session is forgotten whatever the answer.
 * m2me_forget_session: the device forgets it at once (the network no longer knows it). */
void m2me_detach(m2me_device *dev, m2me_done_fn done);
void m2me_forget_session(m2me_device *dev);

/* device_store.c: each returns 0, or -1 with the failure logged. The callers adopt a new
 * state in memory only once it is stored. */
int m2me_store_load(m2me_device *dev);
int m2me_store_save_device(m2me_device *dev, const m2me_state *st);
int m2me_store_save_session(m2me_device *dev, const m2me_session *s);
int m2me_store_save_uplink(m2me_device *dev, uint64_t uplink);
int m2me_store_forget_session(m2me_device *dev);
/* The provisioning's progress: load gives 1 (found), 0 (none) or -1. */
int m2me_store_save_provision(m2me_device *dev, const m2me_provision_run *p);
int m2me_store_load_provision(m2me_device *dev, m2me_provision_run *p);
int m2me_store_forget_provision(m2me_device *dev);
/* The TRE's trigger asks for a provisioning: a row marked unattended (phase asking if new). */
int m2me_store_schedule_provision(m2me_device *dev);
/* The unattended provisioning ended: a row left is for a deviceControl provision to resume. */
int m2me_store_unschedule_provision(m2me_device *dev);

/* The OTA's row; load gives 1 (found: phase, network, apn, from_imsi), 0 or -1. */
int m2me_store_save_ota(m2me_device *dev, const m2me_ota_run *o);
int m2me_store_load_ota(m2me_device *dev, m2me_ota_run *o);
int m2me_store_forget_ota(m2me_device *dev);

#endif
