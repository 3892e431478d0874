/*
 * What mno-admin prints of the ports: `port list`, one port per line, and `port status PORTID`:
 *
 *   port:       <32 hex>
 *   side:       in (from mno-a)            or: out (to mno-b)
 *   subscriber: acme
 *   state:      provisioned
 *   reason:     notOwner: ...              (refused or failed only)
 *   devices:    2000
 *   provisioned: 1998
 *   attached:   1
 *   completed:  1
 *   card: 8900102000000000041 001010000000041 -> 001020000200001 completed job=7
 *
 * one line per card state that has cards, then, for a port of up to PORT_STATUS_CARDS cards, one
 * line per card: ICCID, old IMSI ("-" at B before the transfer) -> new IMSI, its state and its OTA
 * job when it has one (at A the rewrite, at B the key rotation). Never keys: the tables hold none.
 */
#include "port/port_impl.h"

#include "crypto/crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PORT_STATUS_CARDS 50  /* a larger port is shown by its counts only */

static hss_outcome read_id(const char *hex, uint8_t id[PORT_ID_LEN], char *err, size_t len)
{
	if (hex && strlen(hex) == 2 * PORT_ID_LEN && !m2m_unhex(hex, id, PORT_ID_LEN))
		return HSS_DONE;
	snprintf(err, len, "%s: a port id is 32 hex digits", hex ? hex : "(none)");
	return HSS_BAD_INPUT;
}

static void print_port(FILE *out, const port_row *p, const long counts[PORT_DEVICE_STATES])
{
	char hex[2 * PORT_ID_LEN + 1];
	m2m_hex(p->id, PORT_ID_LEN, hex);
	fprintf(out, "port:       %s\nside:       %s (%s %s)\nsubscriber: %s\nstate:      %s\n", hex,
		port_side_name(p->side), p->side == PORT_IN ? "from" : "to", p->peer, p->subscriber,
		port_state_name(p->state));
	if (p->state == PORT_REFUSED || p->state == PORT_FAILED)
		fprintf(out, "reason:     %s: %s\n", m2m_reason_name((m2m_reason)p->reason), p->why);
	fprintf(out, "devices:    %ld\n", p->devices);
	for (int s = 0; s < PORT_DEVICE_STATES; s++)
		if (counts[s])
			fprintf(out, "%s: %ld\n", port_device_state_name((port_device_state)s), counts[s]);
}

/* One line per card of a small port: 0, or -1 on a database error. */
static int print_cards(sqlite3 *db, FILE *out, const port_row *p)
{
	int n = 0;
	if (p->devices > PORT_STATUS_CARDS)
		return 0;
	port_device *list = port_devices(db, p->id, -1, &n);
	for (int i = 0; i < n; i++) {
		const port_device *d = &list[i];
		fprintf(out, "card: %s %s -> %s %s", d->iccid, d->old_imsi[0] ? d->old_imsi : "-", d->new_imsi,
			port_device_state_name(d->state));
		if (d->job_id)
			fprintf(out, " job=%lld", (long long)d->job_id);
		fputc('\n', out);
	}
	free(list);
	return n < 0 ? -1 : 0;
}

hss_outcome port_status(sqlite3 *db, const char *id_hex, FILE *out, char *err, size_t len)
{
	uint8_t id[PORT_ID_LEN];
	port_row p;
	long counts[PORT_DEVICE_STATES];
	hss_outcome r = read_id(id_hex, id, err, len);
	if (r != HSS_DONE)
		return r;
	int rc = port_find(db, id, &p);
	if (rc == 0 && port_device_counts(db, id, counts))
		rc = -1;
	if (rc == 0) {
		print_port(out, &p, counts);
		rc = print_cards(db, out, &p);
	} else if (rc > 0)
		snprintf(err, len, "no port %s", id_hex);
	port_row_clear(&p);
	return rc < 0 ? hss_db_failed(db, err, len) : rc ? HSS_FAILED : HSS_DONE;
}

hss_outcome port_list(sqlite3 *db, FILE *out, char *err, size_t len)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT lower(hex(port_id)), side, peer, state, devices, subscriber FROM port_port"
				   " ORDER BY created", -1, &st, NULL) != SQLITE_OK)
		return hss_db_failed(db, err, len);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fprintf(out, "%s %-3s %s %-12s devices=%lld subscriber=%s\n", (const char *)sqlite3_column_text(st, 0),
			(const char *)sqlite3_column_text(st, 1), (const char *)sqlite3_column_text(st, 2),
			(const char *)sqlite3_column_text(st, 3), (long long)sqlite3_column_int64(st, 4),
			(const char *)sqlite3_column_text(st, 5));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? HSS_DONE : hss_db_failed(db, err, len);
}
