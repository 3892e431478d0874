/*
 * The subscribers of Alternative 3a (TR 33.812 5.4.1, docs/alt3a.md): the M2M service providers
 * that own this operator's cards and may authorise moving them to another operator. The staff
 * register a subscriber with the certificate its authorisations are signed with (`mno-admin
 * subscriber register ID CERT.pem`: pinned, it may be self-signed) and assign cards to it
 * (`subscriber assign ID ICCID...`). A port (mno/port) checks a PortAuthorisation against the
 * registered certificate of the owner of every card it names. Every change is audited; the audit
 * rows of a subscriber itself are kept under "subscriber:ID" in the IMSI column.
 */
#ifndef MNO_HSS_OWNER_H
#define MNO_HSS_OWNER_H

#include "hss/provision.h"

#include <openssl/x509.h>

#define HSS_OWNER_MAX 64  /* PortAuthorisation.subscriber: UTF8String (SIZE (1..64)) */

/* 1..64 characters of letters, digits and . _ - @ : a name staff and files can carry. */
int hss_owner_id_valid(const char *id);

/* Registers id with the certificate in the PEM file (an ECDSA P-256 key, valid now), or replaces
 * the certificate of a registered id. One audited transaction. */
hss_outcome hss_owner_register(sqlite3 *db, const char *id, const char *cert_pem, const char *actor, char *err,
			       size_t len);
/* The n cards (ICCIDs of records not deleted) become id's, all or none. One audited transaction. */
hss_outcome hss_owner_assign(sqlite3 *db, const char *id, char *const *iccids, int n, const char *actor, char *err,
			     size_t len);
/* The subscriber's certificate (subject, validity, SHA-256 fingerprint) and its cards. */
hss_outcome hss_owner_show(sqlite3 *db, const char *id, FILE *out, char *err, size_t len);

/* Inside the caller's transaction. The owner of a card: 0, 1 when it has none, -1 on error. */
int hss_owner_of(sqlite3 *db, const char *iccid, char owner[HSS_OWNER_MAX + 1]);
/* The registered certificate of id (free it): 0, 1 when id is not registered, -1 on error. */
int hss_owner_certificate(sqlite3 *db, const char *id, X509 **cert);
/* The card is no longer this operator's (ported away): its owner is forgotten. 0 or -1. */
int hss_owner_release(sqlite3 *db, const char *iccid);

#endif
