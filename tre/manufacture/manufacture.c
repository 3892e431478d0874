/*
 * m2m-manufacture: the equipment supplier's step that gives each TRE its provisional
 * connectivity identity (TR 33.812 5.1, brief §2.1 preconditions: "PCID (IMSI-format, from the
 * RO's range) + provisional key K_pc (+ OPc_pc), and the PCID validity period").
 *
 * The supplier asks the registration operator's ICF for one PCID per TRE (pcidAssignRequest, as
 * a supplier the ICF knows) and writes what comes back into DIR/TRE.pcid, readable only by its
 * owner: the file is the factory's injection port into the TRE (its pcid_file setting), which
 * the TRE seals into its own store and deletes. The rest of the factory step is the TRE's own
 * at its first power-on (key pair generated inside it and certified by the agency with the
 * enrolment authorisation the supplier gave it); docs/alt1a.md lists every part.
 *
 * Exit status: 0 done, 1 refused or unanswered (nothing written), 2 bad usage or configuration.
 */
#include "crypto/crypto.h"
#include "daemon/daemon.h"
#include "wire/read.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_TRES 1000  /* PcidAssignRequest.tres */
#define KEY_LEN 16

static const char usage_text[] =
	"usage: m2m-manufacture -c CLIENT.conf --icf ENTITY --out DIR TRE...\n"
	"       m2m-manufacture -c CLIENT.conf --icf ENTITY --out DIR --batch FILE\n"
	"  Obtains one PCID with its provisional key per TRE from the registration operator's\n"
	"  ICF (pcidAssignRequest) and writes DIR/TRE.pcid (mode 0600) for the TRE's pcid_file.\n"
	"  CLIENT.conf: the supplier's transport settings (entity, secret key, peers), as a daemon's.\n"
	"  --batch FILE: one TRE id per line (a fleet; at most 1000).\n"
	"Exit status: 0 done, 1 refused or unanswered (nothing written), 2 bad usage or configuration.\n";

typedef struct options {
	const char *config, *icf, *out, *batch;
	int ntres;
	char tres[MAX_TRES][M2M_ENTITY_MAX + 1];
} options;

static int usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "m2m-manufacture: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n%s", usage_text);
	return 2;
}

static int add_tre(options *o, const char *id)
{
	size_t len = strlen(id);
	if (!len || len > M2M_ENTITY_MAX || strchr(id, '/'))
		return usage("bad TRE id '%s'", id);
	if (o->ntres == MAX_TRES)
		return usage("more than 1000 TREs (%s)", "split the batch");
	snprintf(o->tres[o->ntres++], M2M_ENTITY_MAX + 1, "%s", id);
	return 0;
}

static int read_batch(options *o)
{
	FILE *f = fopen(o->batch, "r");
	if (!f)
		return usage("cannot read %s", o->batch);
	char line[256];
	int rc = 0;
	while (!rc && fgets(line, sizeof line, f)) {
		line[strcspn(line, " \t\r\n#")] = 0;
		if (line[0])
			rc = add_tre(o, line);
	}
	fclose(f);
	return rc;
}

static int parse(int argc, char **argv, options *o)
{
	static const struct option longs[] = {{"icf", required_argument, NULL, 'i'}, {"out", required_argument, NULL, 'o'},
					      {"batch", required_argument, NULL, 'b'}, {"help", no_argument, NULL, 'h'},
					      {NULL, 0, NULL, 0}};
	for (int c; (c = getopt_long(argc, argv, "c:", longs, NULL)) != -1;) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'i': o->icf = optarg; break;
		case 'o': o->out = optarg; break;
		case 'b': o->batch = optarg; break;
		case 'h': fputs(usage_text, stdout); exit(0);
		default: return usage("unknown option%s", "");
		}
	}
	if (!o->config || !o->icf || !o->out)
		return usage("-c, --icf and --out are required%s", "");
	if (o->batch && optind < argc)
		return usage("give TREs or --batch, not both (%s)", argv[optind]);
	for (int i = optind; i < argc; i++)
		if (add_tre(o, argv[i]))
			return 2;
	if (o->batch && read_batch(o))
		return 2;
	return o->ntres ? 0 : usage("no TRE given%s", "");
}

/* ---- the request ---------------------------------------------------------------------------- */

typedef struct answer {
	int done;
	m2m_reason reason;
	char text[256];
	M2M_PCID_ASSIGN_RESPONSE *pcids;
} answer;

static void on_answer(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
	answer *a = arg;
	a->done = 1;
	a->reason = reason != M2M_OK ? reason : M2M_R_UNEXPECTED_MESSAGE;
	if (resp && resp->type == M2M_MSG_PCID_ASSIGN_RESPONSE) {
		a->pcids = ASN1_item_dup(ASN1_ITEM_rptr(M2M_PCID_ASSIGN_RESPONSE), resp->body);
		a->reason = a->pcids ? M2M_OK : M2M_R_INTERNAL;
	} else if (resp && resp->type == M2M_MSG_ERROR) {
		const M2M_ERROR_REPORT *e = resp->body;
		a->reason = (m2m_reason)ASN1_ENUMERATED_get(e->reason);
		if (m2m_str(e->text, a->text, sizeof a->text))
			a->text[0] = 0;
	}
}

static m2m_node *open_node(const char *path)
{
	m2m_node_conf nc;
	char err[256] = "";
	if (m2m_client_conf(path, &nc, err, sizeof err)) {
		fprintf(stderr, "m2m-manufacture: %s\n", err);
		return NULL;
	}
	m2m_node *n = m2m_node_new(&nc, NULL, err, sizeof err);
	m2m_wipe(nc.secret_key, sizeof nc.secret_key);
	if (!n)
		fprintf(stderr, "m2m-manufacture: %s: %s\n", path, err);
	return n;
}

static int ask(m2m_node *n, const options *o, answer *a)
{
	M2M_PCID_ASSIGN_REQUEST *q = M2M_PCID_ASSIGN_REQUEST_new();
	for (int i = 0; q && i < o->ntres; i++) {
		ASN1_UTF8STRING *s = ASN1_UTF8STRING_new();
		if (!s || m2m_set_str(s, o->tres[i]) || !sk_ASN1_UTF8STRING_push(q->tres, s)) {
			ASN1_UTF8STRING_free(s);
			M2M_PCID_ASSIGN_REQUEST_free(q);
			q = NULL;
		}
	}
	int rc = q ? m2m_call(n, o->icf, M2M_MSG_PCID_ASSIGN_REQUEST, q, on_answer, a) : -1;
	M2M_PCID_ASSIGN_REQUEST_free(q);
	if (rc) {
		fprintf(stderr, "m2m-manufacture: cannot call %s (not a peer in %s?)\n", o->icf, o->config);
		return 2;
	}
	while (!a->done)
		m2m_node_poll(n, 100);
	if (a->reason == M2M_OK)
		return 0;
	fprintf(stderr, "m2m-manufacture: %s refused: %s%s%s\n", o->icf, m2m_reason_name(a->reason) ? m2m_reason_name(a->reason) : "?",
		a->text[0] ? ": " : "", a->text);
	return 1;
}

/* ---- the answer ----------------------------------------------------------------------------- */

/* One credential, checked: for a TRE asked, a 15-digit PCID, 16-octet keys, a validity. */
typedef struct pcid {
	char tre[M2M_ENTITY_MAX + 1], imsi[16];
	uint8_t k[KEY_LEN], opc[KEY_LEN];
	int64_t valid_until;
} pcid;

static int read_credential(const M2M_PCID_CREDENTIAL *c, pcid *p)
{
	return m2m_read_name(c->tre, p->tre, M2M_ENTITY_MAX) || m2m_digits(c->pcid, p->imsi, sizeof p->imsi, 15, 15) ||
			       m2m_read_octets(c->k, p->k, KEY_LEN) || m2m_read_octets(c->opc, p->opc, KEY_LEN) ||
			       m2m_read_time(c->valid_until, &p->valid_until)
		       ? -1
		       : 0;
}

static int asked(const options *o, const char *tre)
{
	for (int i = 0; i < o->ntres; i++)
		if (!strcmp(o->tres[i], tre))
			return 1;
	return 0;
}

/* Every TRE asked gets exactly one credential, or nothing is written. */
static pcid *check_answer(const options *o, const M2M_PCID_ASSIGN_RESPONSE *r)
{
	if (sk_M2M_PCID_CREDENTIAL_num(r) != o->ntres) {
		fprintf(stderr, "m2m-manufacture: %d credentials for %d TREs\n", sk_M2M_PCID_CREDENTIAL_num(r), o->ntres);
		return NULL;
	}
	pcid *p = calloc((size_t)o->ntres, sizeof *p);
	for (int i = 0; p && i < o->ntres; i++) {
		int dup = 0;
		for (int j = 0; j < i; j++)
			dup |= !strcmp(p[j].tre, p[i].tre);
		if (read_credential(sk_M2M_PCID_CREDENTIAL_value(r, i), &p[i]) || !asked(o, p[i].tre) || dup) {
			fprintf(stderr, "m2m-manufacture: credential %d is malformed, unasked for or repeated\n", i + 1);
			m2m_wipe(p, (size_t)o->ntres * sizeof *p);
			free(p);
			return NULL;
		}
	}
	return p;
}

/* Written whole under a temporary name, then renamed: a TRE never reads half a file. */
static int write_pcid(const char *dir, const pcid *p)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8], k[2 * KEY_LEN + 1], opc[2 * KEY_LEN + 1];
	if (snprintf(path, sizeof path, "%s/%s.pcid", dir, p->tre) >= (int)sizeof path)
		return -1;
	snprintf(tmp, sizeof tmp, "%s.new", path);
	unlink(tmp);
	FILE *f = fopen(tmp, "wx");
	if (!f || fchmod(fileno(f), 0600)) {
		fprintf(stderr, "m2m-manufacture: cannot write %s: %s\n", tmp, strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	m2m_hex(p->k, KEY_LEN, k);
	m2m_hex(p->opc, KEY_LEN, opc);
	int bad = fprintf(f, "pcid = %s\nk = %s\nopc = %s\nvalid_until = %lld\n", p->imsi, k, opc,
			  (long long)p->valid_until) < 0;
	m2m_wipe(k, sizeof k);
	m2m_wipe(opc, sizeof opc);
	bad |= fclose(f) != 0;
	if (bad || rename(tmp, path)) {
		fprintf(stderr, "m2m-manufacture: cannot write %s: %s\n", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

static int write_all(const options *o, const pcid *p)
{
	for (int i = 0; i < o->ntres; i++) {
		if (write_pcid(o->out, &p[i]))
			return 1;
		char until[32];
		time_t t = (time_t)p[i].valid_until;
		strftime(until, sizeof until, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
		printf("%s: PCID %s, valid until %s, in %s/%s.pcid\n", p[i].tre, p[i].imsi, until, o->out, p[i].tre);
	}
	return 0;
}

/* The keys crossed in this message body: they leave memory wiped. */
static void free_answer(M2M_PCID_ASSIGN_RESPONSE *r)
{
	for (int i = 0; i < sk_M2M_PCID_CREDENTIAL_num(r); i++) {
		M2M_PCID_CREDENTIAL *c = sk_M2M_PCID_CREDENTIAL_value(r, i);
		OPENSSL_cleanse(c->k->data, (size_t)c->k->length);
		OPENSSL_cleanse(c->opc->data, (size_t)c->opc->length);
	}
	M2M_PCID_ASSIGN_RESPONSE_free(r);
}

int main(int argc, char **argv)
{
	options *o = calloc(1, sizeof *o);
	int rc = o ? parse(argc, argv, o) : 1;
	m2m_node *n = rc ? NULL : open_node(o->config);
	answer a = {0};
	if (!rc && !n)
		rc = 2;
	if (!rc)
		rc = ask(n, o, &a);
	pcid *p = rc ? NULL : check_answer(o, a.pcids);
	if (!rc)
		rc = p ? write_all(o, p) : 1;
	if (p)
		m2m_wipe(p, (size_t)o->ntres * sizeof *p);
	free(p);
	free_answer(a.pcids);
	m2m_node_free(n);
	free(o);
	return rc;
}
