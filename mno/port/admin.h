/*
 * mno-admin's `port` and `subscriber` commands (Alternative 3a, docs/alt3a.md), run on the
 * operator's database like every other command of the tool (mno/hss/admin.c calls these).
 * Each returns mno-admin's exit status: 0 done, 1 failed, 2 bad usage; err says why.
 */
#ifndef MNO_PORT_ADMIN_H
#define MNO_PORT_ADMIN_H

#include "hss/settings.h"
#include "port/settings.h"

#include <sqlite3.h>
#include <stddef.h>

#define PORT_ADMIN_USAGE                                                                                   \
	"  subscriber register ID CERT.pem   a subscriber (M2M service provider) with the certificate of\n"  \
	"                      its authorisations (pinned; ECDSA P-256); again: a new certificate\n"            \
	"  subscriber assign ID ICCID...     the cards (of this operator) the subscriber owns\n"               \
	"  subscriber show ID  its certificate and its cards\n"                                               \
	"  port start --from OPERATOR --authorisation FILE.der\n"                                            \
	"                      as the new operator: a port of the cards the subscriber's signed\n"           \
	"                      PortAuthorisation names, with new IMSIs; prints the port id\n"                \
	"  port status PORTID  a port's state and how many of its cards are in each state; up to 50\n"      \
	"                      cards, one line each: ICCID OLD -> NEW IMSI, state, OTA job\n"              \
	"  port list           every port, one per line\n"

/* port start|status|list. ps NULL: the operator has no port group. */
int port_admin(sqlite3 *db, const hss_settings *hs, const port_settings *ps, const char *entity, int argc,
	       char **argv, char *err, size_t len);
/* subscriber register|assign|show. */
int port_admin_subscriber(sqlite3 *db, int argc, char **argv, char *err, size_t len);

#endif
