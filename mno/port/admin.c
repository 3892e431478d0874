/* mno-admin `port ...` and `subscriber ...`: see admin.h. */
#include "port/admin.h"

#include "crypto/crypto.h"
#include "hss/owner.h"
#include "port/port_impl.h"

#include <stdio.h>
#include <string.h>

#define ACTOR "admin"

static int usage_error(char *err, size_t len, const char *text)
{
	snprintf(err, len, "%s", text);
	return 2;
}

/* port start --from OPERATOR --authorisation FILE.der, in any order. */
static int start(sqlite3 *db, const hss_settings *hs, const port_settings *ps, const char *entity, int argc,
		 char **argv, char *err, size_t len)
{
	const char *from = NULL, *file = NULL;
	for (int i = 0; i + 1 < argc; i += 2) {
		const char **slot = !strcmp(argv[i], "--from") ? &from : !strcmp(argv[i], "--authorisation") ? &file : NULL;
		if (!slot || *slot)
			return usage_error(err, len, "port start takes --from OPERATOR and --authorisation FILE.der, once each");
		*slot = argv[i + 1];
	}
	if (argc % 2 || !from || !file)
		return usage_error(err, len, "port start takes --from OPERATOR and --authorisation FILE.der");
	if (!ps) {
		snprintf(err, len, "this operator has no port group");
		return 1;
	}
	uint8_t id[PORT_ID_LEN];
	char hex[2 * PORT_ID_LEN + 1];
	int rc = (int)port_start_in(db, hs, ps, entity, from, file, id, err, len);
	if (rc == HSS_DONE) {
		m2m_hex(id, PORT_ID_LEN, hex);
		printf("%s\n", hex);
	}
	return rc;
}

int port_admin(sqlite3 *db, const hss_settings *hs, const port_settings *ps, const char *entity, int argc,
	       char **argv, char *err, size_t len)
{
	if (argc >= 1 && !strcmp(argv[0], "start"))
		return start(db, hs, ps, entity, argc - 1, argv + 1, err, len);
	if (argc == 2 && !strcmp(argv[0], "status"))
		return (int)port_status(db, argv[1], stdout, err, len);
	if (argc == 1 && !strcmp(argv[0], "list"))
		return (int)port_list(db, stdout, err, len);
	return usage_error(err, len, "port takes start --from OPERATOR --authorisation FILE.der, status PORTID or list");
}

int port_admin_subscriber(sqlite3 *db, int argc, char **argv, char *err, size_t len)
{
	hss_outcome r;
	if (argc == 3 && !strcmp(argv[0], "register")) {
		r = hss_owner_register(db, argv[1], argv[2], ACTOR, err, len);
		if (r == HSS_DONE)
			printf("subscriber %s registered with %s\n", argv[1], argv[2]);
	} else if (argc >= 3 && !strcmp(argv[0], "assign")) {
		r = hss_owner_assign(db, argv[1], argv + 2, argc - 2, ACTOR, err, len);
		if (r == HSS_DONE)
			printf("%d card(s) owned by subscriber %s\n", argc - 2, argv[1]);
	} else if (argc == 2 && !strcmp(argv[0], "show"))
		r = hss_owner_show(db, argv[1], stdout, err, len);
	else
		return usage_error(err, len, "subscriber takes register ID CERT.pem, assign ID ICCID... or show ID");
	return (int)r;
}
