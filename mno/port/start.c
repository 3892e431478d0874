/*
 * `mno-admin port start --from A --authorisation FILE.der` at the new operator B (docs/alt3a.md
 * step 2): the subscriber handed B its signed PortAuthorisation. B reads what it asks for (the
 * signature is A's to check: B does not know the subscriber's certificate), allocates one new
 * IMSI per card from its port range as a pending HSS record without keys (so that no other port
 * or subscription takes it), and stores the port requesting with its cards requested; the
 * daemon's tick then sends portRequest. One transaction: all of it, or nothing when a card is
 * already in a port or a card of B, or the range has too few IMSIs left.
 */
#include "port/port_impl.h"

#include "crypto/crypto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AUTHORISATION_MAX (1024 * 1024)  /* PortRequest.authorisation */

/* The whole file (malloc'd): 0, or -1 with err. */
static int read_file(const char *path, uint8_t **data, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = f ? malloc(AUTHORISATION_MAX + 1) : NULL;
	size_t n = buf ? fread(buf, 1, AUTHORISATION_MAX + 1, f) : 0;
	int bad = !f || !buf || ferror(f) || n < 1 || n > AUTHORISATION_MAX;
	if (bad)
		snprintf(err, errlen, "%s: %s", path, !f ? strerror(errno) : "not a file of 1 octet to 1 MiB");
	if (f)
		fclose(f);
	if (bad) {
		free(buf);
		return -1;
	}
	*data = buf;
	*len = n;
	return 0;
}

/* What the authorisation asks for is a move from `from` to this operator. */
static hss_outcome for_us(const port_authorised *a, const char *entity, const char *from, char *err, size_t len)
{
	if (!strcmp(a->from, from) && !strcmp(a->to, entity))
		return HSS_DONE;
	snprintf(err, len, "the authorisation moves cards from %s to %s, not from %s to %s", a->from, a->to, from, entity);
	return HSS_BAD_INPUT;
}

/* The card is new to this operator and in no port of it. */
static hss_outcome card_free(sqlite3 *db, const char *iccid, char *err, size_t len)
{
	char imsi[HSS_IMSI_MAX + 1];
	int busy = port_device_busy(db, iccid), ours = busy ? 1 : hss_imsi_of_iccid(db, iccid, imsi);
	if (busy < 0 || ours < 0)
		return hss_db_failed(db, err, len);
	if (busy)
		snprintf(err, len, "card ICCID %s is already in a port", iccid);
	else if (ours == 0)
		snprintf(err, len, "card ICCID %s is already a card of this operator (IMSI %s)", iccid, imsi);
	return busy || ours == 0 ? HSS_FAILED : HSS_DONE;
}

/* The next IMSI of the range as a pending record of the card, without keys. */
static hss_outcome allocate(sqlite3 *db, const hss_settings *hs, const port_settings *ps, const char *iccid,
			    const char *detail, port_device *d, char *err, size_t len)
{
	hss_subscriber rec;
	int rc = hss_imsi_first_free(db, ps->imsi_first, ps->imsi_count, d->new_imsi);
	if (rc) {
		if (rc > 0)
			snprintf(err, len, "the port range from %s (%ld IMSIs) has too few left", ps->imsi_first,
				 ps->imsi_count);
		return rc < 0 ? hss_db_failed(db, err, len) : HSS_FAILED;
	}
	hss_subscriber_init(&rec, d->new_imsi);
	rec.state = HSS_PENDING;
	snprintf(rec.iccid, sizeof rec.iccid, "%s", iccid);
	snprintf(rec.profile.apns[rec.profile.napns++], sizeof rec.profile.apns[0], "%s", HSS_DEFAULT_APN);
	snprintf(d->iccid, sizeof d->iccid, "%s", iccid);
	d->state = DEV_REQUESTED;
	return hss_create(db, hs->storage_key, &rec, PORT_ACTOR, "portIn", detail, err, len);
}

static hss_outcome store_port(sqlite3 *db, const hss_settings *hs, const port_settings *ps, port_row *p,
			      const port_authorised *a, char *err, size_t len)
{
	char id_hex[2 * PORT_ID_LEN + 1], detail[160];
	m2m_hex(p->id, PORT_ID_LEN, id_hex);
	snprintf(detail, sizeof detail, "allocated for a card ported from %s (port %s)", p->peer, id_hex);
	hss_outcome r = port_insert(db, p) ? hss_db_failed(db, err, len) : HSS_DONE;
	for (int i = 0; i < a->n && r == HSS_DONE; i++) {
		port_device d;
		memset(&d, 0, sizeof d);
		r = card_free(db, a->iccids[i], err, len);
		if (r == HSS_DONE)
			r = allocate(db, hs, ps, a->iccids[i], detail, &d, err, len);
		if (r == HSS_DONE && port_device_insert(db, p->id, &d))
			r = hss_db_failed(db, err, len);
	}
	return r;
}

hss_outcome port_start_in(sqlite3 *db, const hss_settings *hs, const port_settings *ps, const char *entity,
			  const char *from, const char *authorisation_file, uint8_t id[PORT_ID_LEN], char *err,
			  size_t len)
{
	port_authorised a;
	port_row p = {.side = PORT_IN, .state = PORT_REQUESTING};
	if (!ps->imsi_first[0]) {
		snprintf(err, len, "this operator has no port range (port = { imsi_first; imsi_count; })");
		return HSS_FAILED;
	}
	if (!from || !from[0] || strlen(from) > M2M_ENTITY_MAX || !strcmp(from, entity)) {
		snprintf(err, len, "--from names the old operator, another entity than %s", entity);
		return HSS_BAD_INPUT;
	}
	if (read_file(authorisation_file, &p.authorisation, &p.authorisation_len, err, len))
		return HSS_BAD_INPUT;
	hss_outcome r = port_authorisation_read(p.authorisation, p.authorisation_len, NULL, &a, err, len) == M2M_OK
				? for_us(&a, entity, from, err, len)
				: HSS_BAD_INPUT;
	if (r == HSS_DONE && a.n > PORT_CARDS_MAX) {
		snprintf(err, len, "the authorisation names %d cards, a port takes %d at most (its transfer must fit in one"
			 " message): ask the subscriber for several", a.n, PORT_CARDS_MAX);
		r = HSS_BAD_INPUT;
	}
	if (r == HSS_DONE) {
		m2m_random(p.id, PORT_ID_LEN);
		snprintf(p.peer, sizeof p.peer, "%s", from);
		snprintf(p.subscriber, sizeof p.subscriber, "%s", a.subscriber);
		p.devices = a.n;
		r = hss_begin(db, err, len);
	}
	if (r == HSS_DONE)
		r = hss_end(db, store_port(db, hs, ps, &p, &a, err, len), err, len);
	if (r == HSS_DONE)
		memcpy(id, p.id, PORT_ID_LEN);
	port_authorised_clear(&a);
	port_row_clear(&p);
	return r;
}

int port_release_imsis(sqlite3 *db, const uint8_t id[PORT_ID_LEN], const char *why)
{
	int n = 0;
	char err[256];
	port_device *list = port_devices(db, id, DEV_REQUESTED, &n);
	int rc = n < 0 ? -1 : 0;
	for (int i = 0; i < n && !rc; i++)
		rc = hss_change_in(db, list[i].new_imsi, HSS_CHANGE_DELETE, PORT_ACTOR, err, sizeof err) != HSS_DONE ||
		     hss_audit(db, PORT_ACTOR, list[i].new_imsi, "portIn", "card ICCID %s not ported: %s", list[i].iccid, why) ||
		     port_device_set(db, id, list[i].iccid, DEV_REFUSED, 0);
	free(list);
	return rc ? -1 : 0;
}
