/*
 * The card: a UICC holding one USIM application (TS 102 221, TS 31.102), driven one command
 * APDU at a time (ISO 7816-4), with its state in its own SQLite database. docs/uicc.md lists the
 * file tree, the commands and their status words. Its operator reaches it over the air: secured
 * packets (TS 102 225) in SMS-PP downloads, for remote file management (TS 102 226, TS 31.116)
 * and PUT KEY; the card then asks the terminal for a REFRESH (TS 102 223).
 *
 * The engine (uicc_apdu, uicc_reset) needs no transport, so that the tests drive exactly the
 * code the daemon runs. K, OPc, the ADM key and the OTA keysets live only in the card: no
 * command reads them and the database holds them sealed under the storage key.
 */
#ifndef UICC_CARD_H
#define UICC_CARD_H

#include "aka/aka.h"
#include "aka/ef_imsi.h"
#include "conf/conf.h"
#include "ota/scp80.h"
#include "ota/sms.h"
#include "pki/pki.h"
#include "store/store.h"
#include "fs.h"

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#define UICC_APDU_MAX 261     /* CLA INS P1 P2 Lc 255 bytes Le: the longest short APDU */
#define UICC_RESPONSE_MAX 256 /* the most a short Le can ask for */
#define UICC_ATR_MAX 33
#define UICC_ADM_LEN 8
/* Attempts at the ADM key before it blocks. TS 102 221 leaves the number to the issuer; a
 * blocked ADM cannot be unblocked (no UNBLOCK for ADM), as on issued cards. */
#define UICC_ADM_TRIES 10

/* What a power cycle forgets (TS 102 221 §8.4, §9.5): selection and security status. It is
 * still persisted after each command, so that a retried request answered from the node's
 * window and the commands after it see the same card even across a daemon restart. */
typedef struct uicc_session {
	int df;            /* current DF: UICC_MF or UICC_ADF_USIM */
	int ef;            /* current EF, or -1 */
	int app_active;    /* ADF.USIM selected by its AID since the last reset */
	int adm_verified;  /* VERIFY of the ADM key succeeded since the last reset */
} uicc_session;

/* ---- over the air (TS 102 225, TS 102 226) ---------------------------------------------- */

#define UICC_KVN_MAX 15          /* key version numbers 1..15: b5-b8 of KIc and KID */
#define UICC_MSL_DEFAULT 0x16    /* CC, ciphering, counter higher (coded like SPI1) */

/* The applications a secured packet can address, by the TAR the card gives each. */
typedef enum uicc_ota_app {
	UICC_OTA_RFM,   /* remote file management of the USIM (TS 31.116: TARs B00000..B0FFFF) */
	UICC_OTA_ISD,   /* the issuer security domain, TAR 000000: PUT KEY (GlobalPlatform) */
	UICC_OTA_APPS
} uicc_ota_app;

typedef struct uicc_tar {
	int present;
	uint8_t tar[M2M_OTA_TAR_LEN];
	uint8_t kvn;       /* the keyset its packets must use */
	uint8_t msl;       /* minimum security level, coded like SPI1 (TS 102 226 §8.2.1.3.2.1) */
	uint64_t counter;  /* the highest CNTR accepted (TS 102 225 §5.1.1) */
} uicc_tar;

typedef struct uicc_ota {
	m2m_ota_keyset keyset[UICC_KVN_MAX + 1];  /* by kvn; .kvn 0: no such keyset; [0] unused */
	uicc_tar tar[UICC_OTA_APPS];
	m2m_sms_concat sms;                       /* the segments of a concatenated packet so far */
} uicc_ota;

/* ---- the proactive side (TS 102 223) ----------------------------------------------------- */

#define UICC_PROFILE_MAX 64     /* the TERMINAL PROFILE bytes kept: more than this card reads */
#define UICC_PROACTIVE_MAX 128  /* a REFRESH with its file list needs 24 */

typedef struct uicc_toolkit {
	uint8_t profile[UICC_PROFILE_MAX];  /* the TERMINAL PROFILE since the last reset */
	size_t profile_len;
	uint8_t command[UICC_PROACTIVE_MAX];  /* the pending proactive command; 0 bytes: none */
	size_t command_len;
	uint8_t number;   /* the pending (or last) command's number, 1..254 */
	int fetched;      /* FETCH gave it: 91XX is no longer due, TERMINAL RESPONSE is */
} uicc_toolkit;

/* ---- Alternative 3b: the card's identity and its shadow slot (docs/uicc.md) ------------- */

#define UICC_AKA_KEY_LEN 16    /* K and OPc */
#define UICC_ICCID_LEN 10      /* EF_ICCID: up to 20 digits in swapped BCD */
#define UICC_CHALLENGE_LEN 16  /* GET CHALLENGE's nonce, which a credential blob must carry */
#define UICC_CHANGE_ID_LEN 16
#define UICC_BLOB_MAX 8192     /* a STORE DATA chain; a credential blob is about 2 KB */

/*
 * The card's identity, lent by whoever runs the card before each command: the daemon lends
 * its m2m_identity (lib/daemon/identity: a P-256 key generated in the card at first start, kept
 * sealed in its database, certified by the agency with profile uicc), a test a key and a
 * certificate of its own. The private key stays with the lender: the card only asks it to open
 * a CMS AuthEnvelopedData.
 */
typedef struct uicc_identity {
	X509 *cert;        /* the card's certificate; NULL: not certified (yet) */
	m2m_trust *trust;  /* the agency's root (its issuing CA, CRL): operators are checked against it */
	/* m2m_cms_decrypt with the card's key: its reasons */
	m2m_reason (*decrypt)(void *key, const uint8_t *der, size_t len, uint8_t **content, size_t *clen);
	void *key;
} uicc_identity;

typedef enum uicc_slot_state {
	UICC_SLOT_EMPTY,
	UICC_SLOT_LOADED,    /* a new operator's credentials, verified, wait for SWITCH */
	UICC_SLOT_SWITCHED,  /* the previous credentials, kept for ROLLBACK until COMMIT */
} uicc_slot_state;

/* A set of network credentials besides the active one: what SWITCH and ROLLBACK exchange. */
typedef struct uicc_slot {
	uicc_slot_state state;
	uint8_t change_id[UICC_CHANGE_ID_LEN];  /* the change the new credentials came with */
	uint8_t ef_imsi[M2M_EF_IMSI_LEN];
	uint8_t k[UICC_AKA_KEY_LEN], opc[UICC_AKA_KEY_LEN];
	m2m_sqn_usim sqn;
	m2m_ota_keyset keyset[UICC_KVN_MAX + 1];  /* by kvn, as in uicc_ota */
	uicc_tar tar[UICC_OTA_APPS];
} uicc_slot;

typedef struct uicc_challenge {
	int issued;  /* nonce is outstanding: the next credential blob must carry it */
	uint8_t nonce[UICC_CHALLENGE_LEN];
} uicc_challenge;

/* The blocks of a STORE DATA chain received so far. */
typedef struct uicc_chain {
	int next;    /* the block number expected next; 0: no chain under way */
	size_t len;
	uint8_t data[UICC_BLOB_MAX];
} uicc_chain;

/* Everything a command may change: compared before and after each command to know what to
 * persist, and restored when the command is refused. */
typedef struct uicc_state {
	uint8_t ef[UICC_FILE_COUNT][UICC_EF_MAX];  /* contents, by file index (DFs unused) */
	m2m_sqn_usim sqn;                           /* TS 33.102 Annex C array of SEQ_MS */
	int adm_tries;                              /* attempts left at the ADM key */
	uicc_session s;
	uicc_ota ota;                               /* keysets are secrets: wipe copies */
	uicc_toolkit cat;
	uint8_t k[UICC_AKA_KEY_LEN], opc[UICC_AKA_KEY_LEN];  /* the active ones: milenage is keyed with them */
	uicc_slot shadow;                           /* secrets too */
	uicc_challenge challenge;
	uicc_chain chain;                           /* holds K of a blob only encrypted */
} uicc_state;

typedef struct uicc_card {
	sqlite3 *db;              /* not owned */
	uint8_t storage_key[32];  /* seals a keyset PUT KEY brings, and the shadow slot */
	m2m_milenage milenage;    /* keyed with st.k and st.opc */
	uint8_t adm[UICC_ADM_LEN];
	int keyed;                /* milenage holds a cipher context */
	uicc_identity id;         /* lent (uicc_card_lend_identity); zero: the card has none */
	uicc_state st;
} uicc_card;

/* The card image, the contract with the operator's personalisation tool (docs/uicc.md):
 *   card = { iccid = "..."; imsi = "..."; mnc_length = 2; k = "32 hex"; opc = "32 hex"; adm = "16 hex";
 *            ota_tar = "6 hex"; ota_kic = "hex"; ota_kid = "hex";          (the OTA keyset, optional)
 *            ota_kvn = 1; ota_dek = "hex"; ota_msl = "16"; ota_kic_alg = 2; ota_kid_alg = 2; }; */
typedef struct uicc_image {
	char iccid[21];  /* 18..20 digits */
	char imsi[16];   /* 6..15 digits */
	int mnc_length;  /* 2 or 3 */
	uint8_t k[16], opc[16], adm[UICC_ADM_LEN];
	int has_ota;     /* the first OTA keyset, for the USIM's RFM TAR and the ISD's */
	uint8_t ota_tar[M2M_OTA_TAR_LEN];
	uint8_t ota_msl;
	m2m_ota_keyset ota;  /* dek.len 0: no DEK, so no PUT KEY */
} uicc_image;

/* ---- image.c ---------------------------------------------------------------------------- */
/* Reads and checks an image with its own m2m_conf; 0, or -1 with img_conf->error set
 * ("FILE:LINE: card.imsi: ..."). The caller frees img_conf. */
int uicc_image_read(m2m_conf *img_conf, const char *path, uicc_image *out);
/* The state of a new card made from img: encoded EF_ICCID, EF_IMSI, EF_AD, the rest as
 * formatted, SQN array zero, all ADM attempts left, nothing selected; the image's keyset on the
 * RFM TAR and on the ISD's TAR 000000, counters zero. */
void uicc_image_state(const uicc_image *img, uicc_state *st);
void uicc_image_wipe(uicc_image *img);
/* EF_ICCID's content for 18..20 digits (TS 102 221 §13.2: swapped BCD, 'F' filling). */
void uicc_iccid_encode(const char *iccid, uint8_t out[UICC_ICCID_LEN]);

/* ---- card_store.c ----------------------------------------------------------------------- */
extern const m2m_schema uicc_schema;
/* 0 loaded, 1 the database holds no card yet, -1 on failure (logged): a partial card, a
 * storage key that does not open the key store, a file the tree does not know. Uses
 * c->storage_key. */
int uicc_store_load(uicc_card *c);
/* Writes a new card made from img (files, state, sealed K, OPc, ADM and OTA keyset); 0 or -1. */
int uicc_store_create(sqlite3 *db, const uint8_t storage_key[32], const uicc_image *img);
/* Every write of the card is made inside a savepoint (nested in the node's step transaction
 * when there is one); release undoes its writes first when failed, and returns failed ? -1 : 0. */
int uicc_store_savepoint(sqlite3 *db);
int uicc_store_release(sqlite3 *db, int failed);
/* Persists what differs between before and after, all or nothing; 0 or -1. */
int uicc_store_save(sqlite3 *db, const uint8_t storage_key[32], const uicc_state *before,
		    const uicc_state *after);

/* ---- ota_store.c: keysets (sealed), TARs and the segments of a packet ------------------- */
/* Writes what differs, inside the caller's savepoint; 0 or -1 (logged). */
int uicc_ota_save(sqlite3 *db, const uint8_t storage_key[32], const uicc_ota *before, const uicc_ota *after);
/* Reads them, after converting the single sealed 'OTA' key row of earlier cards; 0 or -1. */
int uicc_ota_load(sqlite3 *db, const uint8_t storage_key[32], uicc_ota *out);

/* ---- shadow_store.c: the shadow slot (sealed), the challenge, a STORE DATA chain -------- */
/* Writes what differs, inside the caller's savepoint; 0 or -1 (logged). */
int uicc_shadow_save(sqlite3 *db, const uint8_t storage_key[32], const uicc_state *before, const uicc_state *after);
/* Reads them into st (a card made before issue 7 has none); 0 or -1. */
int uicc_shadow_load(sqlite3 *db, const uint8_t storage_key[32], uicc_state *st);
/* The keys of a keyset as ota_store.c seals them (alg, length, key zero-padded, for KIc, KID,
 * DEK), and back (-1 when a length does not fit). */
#define UICC_KEYSET_BYTES (3 * (2 + M2M_OTA_KEY_MAX))
void uicc_keyset_pack(const m2m_ota_keyset *ks, uint8_t out[UICC_KEYSET_BYTES]);
int uicc_keyset_unpack(const uint8_t in[UICC_KEYSET_BYTES], uint8_t kvn, m2m_ota_keyset *ks);

/* ---- identity.c ---------------------------------------------------------------------------- */
/* The identity the next commands use (copied; *id's certificate, trust and key must outlive
 * them). NULL: none, so GET DATA, GET CHALLENGE and STORE DATA are refused. */
void uicc_card_lend_identity(uicc_card *c, const uicc_identity *id);

/* ---- card.c ----------------------------------------------------------------------------- */
/* Loads the card from db; an empty database is first made from img (NULL: refuse an empty
 * one). *imported says which happened. 0, or -1 (logged). */
int uicc_card_open(uicc_card *c, sqlite3 *db, const uint8_t storage_key[32], const uicc_image *img,
		   int *imported);
/* Wipes the keys and the state; the database stays open (it belongs to the caller). */
void uicc_card_close(uicc_card *c);
/* Ends a command that started from the state *before: keep 1 persists what changed since,
 * keep 0 restores *before. -1 when the changes could not be persisted (the card is then back at
 * *before). *before is wiped: EF_KEYS may hold CK and IK. */
int uicc_card_settle(uicc_card *c, uicc_state *before, int keep);
/* A power cycle: writes the ATR into atr (UICC_ATR_MAX) and returns its length, or -1 when the
 * reset state could not be persisted (then nothing changed). The terminal profile, a pending
 * proactive command and the segments of a packet are forgotten with the session. */
int uicc_reset(uicc_card *c, uint8_t *atr);

/* ---- apdu.c ----------------------------------------------------------------------------- */
/* Runs one command APDU: writes the response data into resp (UICC_RESPONSE_MAX bytes) and
 * returns the status word, 91XX instead of 9000 while a proactive command waits to be fetched.
 * A command whose status word is neither 9000 nor 63CX changes nothing; otherwise its changes
 * are persisted before it returns (6F00 if that fails). */
uint16_t uicc_apdu(uicc_card *c, const uint8_t *apdu, size_t len, uint8_t *resp, size_t *resp_len);
/* "READ BINARY" for an INS byte, for logs; "unknown" when the card has no such command. */
const char *uicc_ins_name(uint8_t ins);

#endif
