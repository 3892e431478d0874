/*
 * The subscriber record of the HSS/AuC and its store: identity, K and OPc (sealed at rest), AMF,
 * the AuC's SQN state, the state of the subscription, its profile, the card it was put on, the
 * current location, and the audit trail every change writes. Shared by the daemon and mno-admin;
 * every function works inside the caller's transaction.
 */
#ifndef MNO_HSS_SUBSCRIBER_H
#define MNO_HSS_SUBSCRIBER_H

#include "aka/sqn.h"
#include "wire/wire.h"

#include <sqlite3.h>
#include <stdint.h>

#define HSS_IMSI_MAX 15
#define HSS_IMEI_MAX 16
#define HSS_ICCID_MAX 20
#define HSS_APN_MAX 100
#define HSS_APNS_MAX 16
#define HSS_ADM_LEN 8
#define HSS_DEFAULT_APN "m2m.meter"
/* AMF of a record made without one: the separation bit set, as TS 33.401 6.1.1 requires of
 * vectors usable in E-UTRAN, and the rest zero. */
#define HSS_DEFAULT_AMF ((const uint8_t[2]){0x80, 0x00})

typedef enum hss_state {
	HSS_PENDING,    /* the IMSI is allocated, no card has been made: no K/OPc yet */
	HSS_ACTIVE,
	HSS_SUSPENDED,  /* by the operator's staff, or by clone detection */
	HSS_DELETED,    /* kept for the audit trail; its keys are erased */
} hss_state;

typedef struct hss_profile {
	int napns;
	char apns[HSS_APNS_MAX][HSS_APN_MAX + 1];
	int cs_allowed;
	char imei_lock[HSS_IMEI_MAX + 1];  /* "" when the subscription is not locked to a device */
} hss_profile;

typedef struct hss_location {
	char network[M2M_ENTITY_MAX + 1];  /* the serving network's entity */
	char imei[HSS_IMEI_MAX + 1];
	int64_t since;
} hss_location;

typedef struct hss_subscriber {
	char imsi[HSS_IMSI_MAX + 1];
	hss_state state;
	int has_keys;  /* K and OPc are set (unsealed when loaded with a key) */
	uint8_t k[16], opc[16];
	int has_adm;  /* the card's keys: ADM and the OTA keyset, sealed together */
	uint8_t adm[HSS_ADM_LEN];
	/* The card's first OTA keyset (TS 102 225) as personalised: TAR, KIc and KID (AES-128). The
	 * OTA server's keysets (mno/ota, with the DEK and the counters) are the current ones: a key
	 * rotation changes those, not these. */
	uint8_t ota_tar[3], ota_kic[16], ota_kid[16];
	char iccid[HSS_ICCID_MAX + 1];  /* "" until personalised */
	uint8_t amf[2];
	m2m_sqn_he sqn;
	hss_profile profile;
	int64_t created, changed;
} hss_subscriber;

const char *hss_state_name(hss_state s);

/* Syntax of the identities (TS 23.003): IMSI 6..15 digits, IMEI 14..16 (IMEISV), ICCID 18..20. */
int hss_imsi_valid(const char *imsi);
int hss_imei_valid(const char *imei);
int hss_iccid_valid(const char *iccid);
/* Whether two IMEIs (or IMEISVs) name one device: the same TAC and serial number, the first 14
 * digits (TS 23.003 6.2); the check digit and the software version do not identify it. */
int hss_imei_same_device(const char *a, const char *b);
/* 1..100 printable characters without separators (',' and ';' separate APNs in a CSV row). */
int hss_apn_valid(const char *apn);

/* A new active-to-be record: defaults (AMF, SQN_HE = 0, profile without APNs) for imsi. */
void hss_subscriber_init(hss_subscriber *s, const char *imsi);
void hss_subscriber_wipe(hss_subscriber *s);

/* Loads a record: 0, 1 when there is none, -1 on a database error or a sealed value that does
 * not open. key NULL leaves K, OPc and ADM sealed (enough for list and show). */
int hss_subscriber_load(sqlite3 *db, const uint8_t key[32], const char *imsi, hss_subscriber *s);
/* Creates or replaces the record (and its APN list); 0 or -1. */
int hss_subscriber_store(sqlite3 *db, const uint8_t key[32], const hss_subscriber *s);
/* The lowest IMSI of the range first .. first + count - 1 (numbers of first's length) that no
 * record has ever used, deleted ones included, so that an IMSI is never handed out twice: 0 with
 * it in out, 1 when the range is used up, -1 on a database error. */
int hss_imsi_first_free(sqlite3 *db, const char *first, long count, char out[HSS_IMSI_MAX + 1]);
/* State change; leaving a usable state (deleted) also erases the sealed keys. 0 or -1. */
int hss_subscriber_set_state(sqlite3 *db, const char *imsi, hss_state state);
/* The AuC's SQN after vectors or a re-synchronisation; 0 or -1. */
int hss_subscriber_set_sqn(sqlite3 *db, const char *imsi, const m2m_sqn_he *sqn);

/* The IMSI whose card is iccid (a record not deleted: the OTA server addresses a card by it):
 * 0, 1 when there is none, -1 on error. */
int hss_imsi_of_iccid(sqlite3 *db, const char *iccid, char imsi[HSS_IMSI_MAX + 1]);

/* The current location: 0, 1 when the IMSI is attached nowhere, -1 on error. */
int hss_location_get(sqlite3 *db, const char *imsi, hss_location *loc);
int hss_location_set(sqlite3 *db, const char *imsi, const hss_location *loc);
int hss_location_clear(sqlite3 *db, const char *imsi);
/* The active subscribers attached with the device imei (hss_imei_same_device: its IMEISV may
 * differ), the latest attach first: at most max IMSIs into out; how many, or -1 on error.
 * Alternative 3b finds the UICC of the device a change of subscription names this way. */
int hss_imsis_at_device(sqlite3 *db, const char *imei, char (*out)[HSS_IMSI_MAX + 1], int max);

/* t as 2026-01-31T12:00:00Z, into buf (32 octets are enough); returns buf. */
const char *hss_utc(int64_t t, char *buf, size_t len);

/* One audit entry (time now); 0 or -1. Never pass key material in detail. */
int hss_audit(sqlite3 *db, const char *actor, const char *imsi, const char *action, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

#endif
