/*
 * Records that await their first attach (Alternative 3a, docs/alt3a.md): the new operator's
 * record of a card ported in. It is allocated pending without keys when the port starts, takes
 * the card's K, OPc and the old operator's SQN_HE from the transfer, and is served from then on
 * (unlike any other pending record: the card already holds that K), so that the device, once its
 * IMSI is rewritten, attaches at once; its first successful attach (updateLocation) activates it.
 * The old operator keeps its own record active meanwhile (make before break).
 */
#ifndef MNO_HSS_FIRST_ATTACH_H
#define MNO_HSS_FIRST_ATTACH_H

#include "hss/provision.h"

/* Inside the caller's transaction: the pending record of imsi, without keys, takes K, OPc and
 * SQN_HE = sqn (m2m_sqn_he_init's counter: the first vector is then newer than any the card has
 * seen, so the first AKA needs no re-synchronisation) and awaits its first attach; audited with
 * origin (the old operator). HSS_DONE, or HSS_FAILED with err. */
hss_outcome hss_first_attach_await(sqlite3 *db, const uint8_t key[32], const char *imsi, const uint8_t k[16],
				   const uint8_t opc[16], uint64_t sqn, const char *origin, const char *actor, char *err,
				   size_t len);
/* 1 when imsi awaits its first attach, 0 when not, -1 on a database error. */
int hss_first_attach_awaited(sqlite3 *db, const char *imsi);
/* Its first successful attach: the record becomes active (audited) and is no longer awaited. */
hss_outcome hss_first_attach_done(sqlite3 *db, const char *imsi, const char *actor, char *err, size_t len);

#endif
