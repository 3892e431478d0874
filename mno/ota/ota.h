/*
 * The home operator's OTA server (TS 102 225 / TS 31.115 SCP80 over SMS-PP): the OTA keysets of
 * every card it personalised, per ICCID and TAR (keys sealed with the storage key), and jobs: one
 * compact script (TS 102 226) to one TAR of one card, sent as secured packets in SMS-DELIVERs
 * through the card's serving network until a proof of receipt (PoR) answers it. Alternative 3a
 * (TR 33.812 §5.4.1) rewrites the IMSI with such jobs; key rotation uses PUT KEY on the issuer
 * security domain. Every function works inside the caller's transaction unless it says otherwise.
 */
#ifndef MNO_OTA_H
#define MNO_OTA_H

#include "context.h"
#include "ota/scp80.h"

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

/* The TARs every card has: the USIM's remote file management, and the issuer security domain
 * (PUT KEY). */
#define OTA_TAR_USIM_RFM ((const uint8_t[3]){0xB0, 0x00, 0x10})
#define OTA_TAR_ISD ((const uint8_t[3]){0x00, 0x00, 0x00})
#define OTA_ICCID_MAX 20
#define OTA_SCRIPT_MAX 255

/* The OTA tables, a migration of the mno schema (mno/schema.c). */
extern const char OTA_SCHEMA[];

typedef struct ota_card_keyset {
	uint8_t tar[3];
	m2m_ota_keyset keys;
	uint64_t counter;  /* the last CNTR sent under this keyset */
} ota_card_keyset;

/* Keysets per card (ICCID) and TAR, keys sealed with the storage key (aad = iccid||tar).
 * put creates or replaces; list: 0 with *n of them (TAR order), -1 on error. */
int ota_keyset_put(sqlite3 *db, const uint8_t storage_key[32], const char *iccid, const ota_card_keyset *k);
int ota_keyset_list(sqlite3 *db, const uint8_t storage_key[32], const char *iccid, ota_card_keyset *out, size_t max,
		    size_t *n);
/* One keyset: 0, 1 when the card has none for that TAR, -1 on error. */
int ota_keyset_get(sqlite3 *db, const uint8_t storage_key[32], const char *iccid, const uint8_t tar[3],
		   ota_card_keyset *out);
int ota_keyset_delete_card(sqlite3 *db, const char *iccid); /* all of a card's keysets */
/* The keysets of personalisation: the same keys (kvn 1, AES-128 KIc and KID, algorithm nibble 0x2
 * for both as TS 102 225 §5.1.3.1 codes AES-CBC and AES-CMAC, a DEK) on the USIM RFM TAR and the ISD
 * TAR, counters 0. 0 or -1. */
int ota_keyset_personalise(sqlite3 *db, const uint8_t storage_key[32], const char *iccid,
			   const m2m_ota_keyset *keys);

/*
 * A job: one compact script to one TAR of one card, sent until a PoR answers it. All in the
 * caller's transaction; the server sends queued jobs from its tick. purpose: free text that
 * tells the owner what the job is for ("port:<hex id>", "rotate", "admin").
 */
typedef enum ota_job_state { OTA_JOB_QUEUED, OTA_JOB_SENT, OTA_JOB_DONE, OTA_JOB_FAILED } ota_job_state;
typedef struct ota_job {
	int64_t id;
	char iccid[21];
	uint8_t tar[3];
	ota_job_state state;
	int por_status;  /* m2m_ota_status of the PoR; -1 before one */
	int executed;    /* commands the card executed, from the PoR's response data */
	uint16_t last_sw;
	uint8_t data[256]; /* the last command's response data */
	size_t data_len;
	int attempts;
	char purpose[64];
	char last_error[128];
	int reason;      /* m2m_reason of a FAILED job: otaRefused for a PoR with an error status */
	uint64_t counter; /* the CNTR of the last packet sent; 0 before one */
} ota_job;

const char *ota_job_state_name(ota_job_state s); /* "queued", "sent", "done", "failed" */

int ota_job_queue(sqlite3 *db, const char *iccid, const uint8_t tar[3], const uint8_t *script, size_t len,
		  const char *purpose, int64_t *id);
/* 0, 1 when there is no such job, -1 on error. */
int ota_job_get(sqlite3 *db, int64_t id, ota_job *out);
/* The card's jobs not ended yet (queued or sent) become FAILED with why (a card taken away by a
 * port): 0 or -1. A PoR that still arrives for one of them is ignored. */
int ota_job_cancel_card(sqlite3 *db, const char *iccid, const char *why);

/*
 * A job sent under keys given by the caller instead of the card's keysets (mno-admin `ota raw`:
 * an engineer's probe, e.g. that a card refuses the keys it had before a rotation). The keys are
 * sealed in the job's row (aad = "ota-job:<id>"), erased when the job ends. counter 0: the card
 * keyset's next counter, which it uses up like any job (so that later jobs stay higher); else that
 * counter, and the card's keysets are left as they are.
 */
int ota_job_queue_raw(sqlite3 *db, const uint8_t storage_key[32], const char *iccid, const uint8_t tar[3],
		      const m2m_ota_keyset *keys, uint64_t counter, const uint8_t *script, size_t len,
		      const char *purpose, int64_t *id);

/*
 * Key rotation: queues a PUT KEY job on the ISD TAR (000000) replacing the card's kvn with fresh
 * random keys of the same kvn, wrapped under the current DEK and sent under the current keyset.
 * The new keys are kept as "pending" (sealed) and become the card's keysets (both TARs, counters
 * kept) only when a protected PoR says OK. 0 with *id, -1 with err (no keyset, a rotation already
 * pending).
 */
int ota_rotate_queue(sqlite3 *db, const uint8_t storage_key[32], const char *iccid, int64_t *id, char *err,
		     size_t errlen);

/* mno-admin `ota SUBCOMMAND ARGS` (mno/ota/admin.c): 0 done, 1 failed, 2 bad usage; err says why. */
int ota_admin(sqlite3 *db, const uint8_t storage_key[32], int argc, char **argv, char *err, size_t len);
#define OTA_ADMIN_USAGE                                                                                   \
	"  ota send ICCID TAR [--wait S] APDU-HEX...\n"                                                      \
	"                      queues a script (the APDUs joined) to the card's TAR; prints the job\n"       \
	"  ota show JOB        state, PoR status, commands executed, last SW, data\n"                        \
	"  ota rotate ICCID    new OTA keys for the card by PUT KEY (they replace kvn 1 once it says OK)\n" \
	"  ota keysets ICCID   the card's keysets: TAR, kvn, algorithms, counter (never keys)\n"            \
	"  ota raw ICCID --kic-key HEX --kid-key HEX [--kvn N] [--counter N] [--tar HEX] [--wait S]\n"      \
	"        APDU-HEX...   one packet under the AES keys given (TAR b00010 unless --tar), sent by\n"     \
	"                      the daemon; waits (60 s unless --wait) and prints the PoR status\n"

/* --- the server in the home mno daemon (mno/ota/server.c) --- */
typedef struct ota_context ota_context;

/* Reads the `ota` group of the home `mno` group (optional: the address, retry policy). */
void ota_configure(m2m_daemon *d, m2m_conf *c, config_setting_t *group, mno_context *ctx);
/* Jobs left SENT by a previous run go back to QUEUED. */
int ota_start(m2m_daemon *d, mno_context *ctx);
/* Sends the due jobs (one at a time: the PoR is the reply of the last segment's call). */
void ota_tick(m2m_daemon *d, mno_context *ctx);
void ota_stop(mno_context *ctx);

#endif
