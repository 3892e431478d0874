/*
 * The OTA server inside the home mno daemon: its context, the jobs' rows as the server sees them,
 * the calls in flight, and the files that share them: keyset_store.c (keysets, sealing),
 * job_store.c (jobs), rotation.c (PUT KEY rotations), delivery.c (SMS-DELIVERs to the serving
 * network and the PoR of the last one), server.c (the tick: which job goes out, and what its
 * answer does to it).
 *
 * One job is one state machine (table ota_job):
 *
 *   queued --(tick: card reachable, counter + 1 stored, then sent)--> sent
 *   sent --(protected PoR OK)--> done          (a rotation's pending keys become the card's)
 *   sent --(PoR with an error status, or an unprotected PoR)--> failed (otaRefused)
 *   sent --(notAttached, timeout, no PoR, a PoR that does not verify)--> queued, later, new counter
 *   queued --(no IMSI, no location, no route)--> queued, later
 *   queued or sent --(max_attempts reached, or the card's jobs cancelled)--> failed
 *   sent --(restart)--> queued
 */
#ifndef MNO_OTA_IMPL_H
#define MNO_OTA_IMPL_H

#include "ota/ota.h"
#include "ota/settings.h"

#include "crypto/crypto.h"
#include "ota/sms.h"

#define OTA_ACTOR "ota"

/* ---- keysets (keyset_store.c) ------------------------------------------------------------------ */

/* A keyset as sealed: kvn, then per key (KIc, KID, DEK) alg, length, key. */
#define OTA_KEYS_BLOB_MAX (1 + 3 * (2 + M2M_OTA_KEY_MAX))
#define OTA_KEYS_SEALED_MAX (OTA_KEYS_BLOB_MAX + M2M_SEAL_OVERHEAD)

/* Seals ks under key with aad into out (OTA_KEYS_SEALED_MAX): its length, or 0 on failure. */
size_t ota_keys_seal(const uint8_t key[32], const void *aad, size_t aadlen, const m2m_ota_keyset *ks,
		     uint8_t out[OTA_KEYS_SEALED_MAX]);
/* 0, or -1 when it does not open (another key, another row) or is damaged; ks wiped then. */
int ota_keys_open(const uint8_t key[32], const void *aad, size_t aadlen, const uint8_t *sealed, size_t len,
		  m2m_ota_keyset *ks);
/* The counter of a keyset after a packet went out under it: 0 or -1. */
int ota_keyset_set_counter(sqlite3 *db, const char *iccid, const uint8_t tar[3], uint64_t counter);
/* The card's keysets of version kvn take new keys (a rotation done), counters kept: 0 or -1. */
int ota_keyset_replace_kvn(sqlite3 *db, const uint8_t storage_key[32], const char *iccid, uint8_t kvn,
			   const m2m_ota_keyset *keys);

/* ---- jobs as the server sees them (job_store.c) ------------------------------------------------ */

typedef enum ota_job_kind { OTA_KIND_SCRIPT, OTA_KIND_ROTATE } ota_job_kind;
/* Which keys the next packet of a job goes under. */
typedef enum ota_keys_from { OTA_KEYS_CARD, OTA_KEYS_PENDING, OTA_KEYS_EXPLICIT } ota_keys_from;

typedef struct ota_job_row {
	ota_job job;
	ota_job_kind kind;
	ota_keys_from keys;
	uint64_t explicit_counter;
	uint8_t script[OTA_SCRIPT_MAX];  /* kind script */
	size_t script_len;
} ota_job_row;

int ota_job_row_get(sqlite3 *db, int64_t id, ota_job_row *out);
/* The explicit keys sealed in a job's row: 0, or -1. */
int ota_job_explicit_keys(sqlite3 *db, const uint8_t storage_key[32], int64_t id, m2m_ota_keyset *ks);
/* Inserts a job row (script NULL for a rotation): 0 with *id, or -1. */
int ota_job_insert(sqlite3 *db, const char *iccid, const uint8_t tar[3], ota_job_kind kind, const uint8_t *script,
		   size_t len, const char *purpose, int64_t *id);

/*
 * The next job to send at now: queued and due, the oldest of its card that has not ended, its
 * card with no job sent: 0 with *id and its card's ICCID, 1 when there is none, -1 on error. Jobs
 * whose card is in skip (n of them: cards already tried this tick) are passed over.
 */
int ota_job_next(sqlite3 *db, int64_t now, char (*skip)[OTA_ICCID_MAX + 1], size_t n, int64_t *id,
		 char iccid[OTA_ICCID_MAX + 1]);
/* queued -> sent with the counter of the packet (attempts + 1): 0 or -1. */
int ota_job_mark_sent(sqlite3 *db, int64_t id, uint64_t counter);
/* -> queued, due at `due`, with why; counts an attempt when count_attempt (a job that could not
 * even be sent counts too: the bound is on tries). 0 or -1. */
int ota_job_requeue(sqlite3 *db, int64_t id, int64_t due, int count_attempt, const char *why);
/* Which keys the next packet uses: 0 or -1. */
int ota_job_set_keys(sqlite3 *db, int64_t id, ota_keys_from keys);
/* The end of a job (done or failed) with what its PoR said (por NULL: none); the explicit keys
 * are erased. 0 or -1. */
typedef struct ota_por_result {
	int status;        /* m2m_ota_status */
	int executed;
	uint16_t sw;
	const uint8_t *data;
	size_t len;
} ota_por_result;
int ota_job_end(sqlite3 *db, int64_t id, ota_job_state state, const ota_por_result *por, m2m_reason reason,
		const char *why);
/* Every sent job back to queued, due now (the start of the daemon): the number, or -1. */
int ota_job_requeue_sent(sqlite3 *db);

/* ---- rotations (rotation.c) -------------------------------------------------------------------- */

/* The pending keys of the card's rotation: 0, 1 when none, -1 on error. */
int ota_rotation_pending(sqlite3 *db, const uint8_t storage_key[32], const char *iccid, int64_t *job_id,
			 m2m_ota_keyset *keys);
/* The PUT KEY script of a rotation job sent under `under` (the DEK that wraps the new keys). */
int ota_rotation_script(const m2m_ota_keyset *under, const m2m_ota_keyset *next, uint8_t *out, size_t cap,
			size_t *len, char *err, size_t errlen);
/* The rotation ended: done (the pending keys become the card's) or not (they are dropped). */
int ota_rotation_end(sqlite3 *db, const uint8_t storage_key[32], const char *iccid, int done);

/* ---- the server (server.c) and its calls (delivery.c) -------------------------------------------- */

typedef struct ota_flight ota_flight;

struct ota_context {
	ota_settings settings;
	uint8_t storage_key[32];  /* the HSS's: keysets are sealed like K and OPc */
	m2m_node *node;           /* NULL until started */
	sqlite3 *db;
	ota_flight *flights;
	int nflights;
};

/* A context for the tests and the daemon: settings and the storage key copied. */
ota_context *ota_context_new(const ota_settings *s, const uint8_t storage_key[32]);
void ota_context_free(ota_context *o);
/* ota_start's work once node and db are set: the jobs left sent go back to queued (their packet
 * may or may not have reached the card: a new one, with a new counter, will). Their number, or -1. */
int ota_server_resume(ota_context *o);
/* ota_tick without the daemon. */
void ota_serve_tick(ota_context *o);

/* What the serving network's answers to a job's packet came to. */
typedef enum ota_answer_kind {
	OTA_ANSWER_POR,     /* a PoR that opened: por, unprotected */
	OTA_ANSWER_NONE,    /* no usable answer: retry (why) */
} ota_answer_kind;

typedef struct ota_answer {
	ota_answer_kind kind;
	int unprotected;
	int under_pending;  /* the PoR opened only under the rotation's pending keys */
	ota_por_result por;
	uint8_t buf[M2M_OTA_PACKET_MAX];
	m2m_reason reason;  /* NONE: the transport's or the network's */
	char why[200];
} ota_answer;

/* One job's packet on its way: the SMS-DELIVERs, sent one after the other, the last one's report
 * carrying the PoR. Holds the keys it went under until the PoR is read (wiped then). */
struct ota_flight {
	ota_context *ota;
	int64_t job_id;
	char iccid[OTA_ICCID_MAX + 1];
	char imsi[16];
	char network[M2M_ENTITY_MAX + 1];
	uint8_t tar[3];
	uint64_t counter;
	m2m_ota_spi spi;
	m2m_ota_keyset keys;
	int has_pending;           /* a rotation: its pending keys, tried on a PoR that does not open */
	m2m_ota_keyset pending;
	uint8_t tpdus[M2M_SMS_CONCAT_MAX][M2M_SMS_TPDU_MAX];
	size_t lens[M2M_SMS_CONCAT_MAX];
	size_t count, next;
	struct ota_flight *next_flight;
};

/* The security every job's packet asks for: CC, ciphering, counter higher, PoR always, with CC
 * and ciphered, in the SMS-DELIVER-REPORT. */
void ota_spi(m2m_ota_spi *spi);
/* Builds the packet and its SMS-DELIVERs into f (counter, keys, tar set): 0, or -1 with err. */
int ota_delivery_build(ota_context *o, ota_flight *f, const uint8_t *script, size_t len, char *err, size_t errlen);
/* Sends f's next SMS-DELIVER: 0, or -1 (no route to the network). */
int ota_delivery_send(ota_flight *f);
/* The job back to queued with a growing delay, or FAILED with reason once max_attempts is
 * reached (a rotation's pending keys dropped then); count_attempt for a job that was not sent. */
void ota_job_retry(ota_context *o, const ota_job_row *r, int count_attempt, m2m_reason reason, const char *why);
/* What a flight's answer does to its job (outcome.c), inside the caller's transaction; f is taken
 * off the context's flights and freed. */
void ota_job_answered(ota_flight *f, ota_answer *a);
void ota_flight_free(ota_flight *f);

#endif
