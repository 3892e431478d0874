/*
 * import: subscribers from a CSV file in one transaction, all or none.
 *
 *   imsi,k,opc,amf,apns,cs,imei_lock
 *   001010000000002,<32 hex>,<32 hex>,8000,m2m.meter;m2m.backup,0,356938035643809
 *
 * k and opc are both given (active) or both empty (pending, for a card personalised later);
 * empty amf, apns and imei_lock take the defaults of `add`; cs is 1/0, yes/no, true/false or
 * empty (no). Fields are not quoted. The first bad row stops the import and is named by line.
 */
#include "hss/provision.h"

#include "crypto/crypto.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define HEADER "imsi,k,opc,amf,apns,cs,imei_lock"
#define FIELDS 7
#define LINE_MAX_LEN 4096

enum { F_IMSI, F_K, F_OPC, F_AMF, F_APNS, F_CS, F_IMEI_LOCK };

static const char *or_null(const char *field)
{
	return field[0] ? field : NULL;
}

static int parse_cs(const char *v, int *out)
{
	static const char *const yes[] = {"1", "yes", "true", NULL}, *const no[] = {"", "0", "no", "false", NULL};
	for (int i = 0; yes[i] || no[i]; i++) {
		if (yes[i] && !strcasecmp(v, yes[i])) {
			*out = 1;
			return 0;
		}
		if (no[i] && !strcasecmp(v, no[i])) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

/* Splits the ';'-separated APN list in place. */
static int split_apns(char *list, hss_order *o, char *err, size_t len)
{
	o->napns = 0;
	if (!list[0])
		return 0;
	for (char *save = NULL, *apn = strtok_r(list, ";", &save); apn; apn = strtok_r(NULL, ";", &save)) {
		if (o->napns == HSS_APNS_MAX) {
			snprintf(err, len, "more than %d APNs", HSS_APNS_MAX);
			return -1;
		}
		o->apns[o->napns++] = apn;
	}
	return 0;
}

/* Splits a row in place into exactly FIELDS comma-separated fields; 0 or -1. */
static int split_fields(char *line, char *field[FIELDS])
{
	int n = 0;
	field[n++] = line;
	for (char *p = line; (p = strchr(p, ','));) {
		if (n == FIELDS)
			return -1;
		*p++ = 0;
		field[n++] = p;
	}
	return n == FIELDS ? 0 : -1;
}

/* A row (without its line end) into an order whose strings point into line. 0, or -1 with err. */
static int parse_row(char *line, hss_order *o, char *err, size_t len)
{
	char *field[FIELDS];
	if (strchr(line, '"')) {
		snprintf(err, len, "quoted fields are not supported");
		return -1;
	}
	if (split_fields(line, field)) {
		snprintf(err, len, "%d fields expected (%s)", FIELDS, HEADER);
		return -1;
	}
	memset(o, 0, sizeof *o);
	o->imsi = field[F_IMSI];
	o->k = or_null(field[F_K]);
	o->opc = or_null(field[F_OPC]);
	o->amf = or_null(field[F_AMF]);
	o->imei_lock = or_null(field[F_IMEI_LOCK]);
	if (parse_cs(field[F_CS], &o->cs_allowed)) {
		snprintf(err, len, "cs must be 1, 0, yes, no, true, false or empty");
		return -1;
	}
	return split_apns(field[F_APNS], o, err, len);
}

static hss_outcome import_row(sqlite3 *db, const hss_settings *s, char *line, const char *path, int lineno,
			      const char *actor, char *err, size_t len)
{
	hss_order o;
	hss_subscriber rec;
	char why[256], how[PATH_MAX + 32];
	hss_outcome r = parse_row(line, &o, why, sizeof why) ? HSS_FAILED : hss_order_record(s, &o, &rec, why, sizeof why);
	if (r == HSS_DONE) {
		snprintf(how, sizeof how, "imported from %s line %d", path, lineno);
		r = hss_create(db, s->storage_key, &rec, actor, "import", how, why, sizeof why);
		hss_subscriber_wipe(&rec);
	}
	if (r != HSS_DONE)
		snprintf(err, len, "%s:%d: %s (nothing imported)", path, lineno, why);
	return r == HSS_DONE ? HSS_DONE : HSS_FAILED;
}

/* Reads every row; stops at the first bad one. */
static hss_outcome import_rows(sqlite3 *db, const hss_settings *s, FILE *f, const char *path, const char *actor,
			       int *imported, char *err, size_t len)
{
	char line[LINE_MAX_LEN];
	hss_outcome r = HSS_DONE;
	int lineno = 0;
	while (r == HSS_DONE && fgets(line, sizeof line, f)) {
		lineno++;
		size_t n = strlen(line);
		if (n == sizeof line - 1 && line[n - 1] != '\n') {
			snprintf(err, len, "%s:%d: line too long (nothing imported)", path, lineno);
			r = HSS_FAILED;
			break;
		}
		line[strcspn(line, "\r\n")] = 0;
		if (lineno == 1 && strcmp(line, HEADER)) {
			snprintf(err, len, "%s:1: the header must be %s (nothing imported)", path, HEADER);
			r = HSS_FAILED;
		} else if (lineno > 1 && line[0]) {
			r = import_row(db, s, line, path, lineno, actor, err, len);
			*imported += r == HSS_DONE;
		}
	}
	if (r == HSS_DONE && lineno == 0) {
		snprintf(err, len, "%s: empty (the header %s is expected)", path, HEADER);
		r = HSS_FAILED;
	}
	m2m_wipe(line, sizeof line);
	return r;
}

hss_outcome hss_import(sqlite3 *db, const hss_settings *s, const char *path, const char *actor, int *imported,
		       char *err, size_t len)
{
	char buffer[BUFSIZ];  /* stdio's copy of the file holds keys: ours, to wipe after use */
	int count = 0;
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, len, "cannot read %s", path);
		return HSS_FAILED;
	}
	setvbuf(f, buffer, _IOFBF, sizeof buffer);
	hss_outcome r = hss_begin(db, err, len);
	if (r == HSS_DONE)
		r = hss_end(db, import_rows(db, s, f, path, actor, &count, err, len), err, len);
	fclose(f);
	m2m_wipe(buffer, sizeof buffer);
	if (imported)
		*imported = r == HSS_DONE ? count : 0;
	return r;
}
