/*
 * Certification at `up`, after the configurations are written and before any daemon starts:
 * each TRE's agency certifies the TRE's platform type with
 *
 *   certauth-admin -c RUNDIR/AGENCY.conf platform add --model M --version V --assurance N
 *                  --component NAME=SHA256HEX ...
 *
 * the reference values being the digests of the genuine component files `up` wrote (agency.c),
 * as a certification lab would measure a vendor's platform. The TRE then enrols as that platform
 * and fetches the platform type at its first start: it must be certified by then.
 */
#include "testbed.h"

#include "crypto/crypto.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

#define MAX_ARGS 32
#define COMPONENT_ARG_MAX 160  /* NAME=64 hex digits */

int tb_certify_check(const tb_topology *t)
{
	char bin[PATH_MAX];
	for (int i = 0; i < t->nentities; i++)
		if (!strcmp(t->entities[i].role, "tre"))
			return tb_build_binary(TB_CERTAUTH_ADMIN, bin, sizeof bin);
	return 0;
}

/* Whether an earlier TRE of the same agency has the same model and version: one type for both. */
static int certified_before(const tb_topology *t, int tre)
{
	tb_platform p, q;
	tb_tre_platform(&t->entities[tre], &p);
	for (int i = 0; i < tre; i++) {
		if (strcmp(t->entities[i].role, "tre") || tb_agency_of(t, i) != tb_agency_of(t, tre))
			continue;
		tb_tre_platform(&t->entities[i], &q);
		if (!strcmp(p.model, q.model) && !strcmp(p.version, q.version))
			return 1;
	}
	return 0;
}

/* "NAME=SHA256HEX" of the genuine content of each component. */
static int component_args(const tb_platform *p, char (*out)[COMPONENT_ARG_MAX], int max)
{
	char content[256], hex[2 * SHA256_DIGEST_LENGTH + 1];
	uint8_t digest[SHA256_DIGEST_LENGTH];
	int n = 0;
	for (const tb_component *k = tb_components; k->name && n < max; k++, n++) {
		tb_component_content(p, k->name, content, sizeof content);
		SHA256((const uint8_t *)content, strlen(content), digest);
		m2m_hex(digest, sizeof digest, hex);
		snprintf(out[n], COMPONENT_ARG_MAX, "%s=%s", k->name, hex);
	}
	return n;
}

static int platform_add(const char *rundir, const char *agency, const tb_platform *p)
{
	char level[8], components[MAX_ARGS / 2][COMPONENT_ARG_MAX];
	const char *args[MAX_ARGS] = {"platform", "add", "--model", p->model, "--version", p->version, "--assurance", level};
	int n = 8, count = component_args(p, components, (MAX_ARGS - n - 1) / 2);
	snprintf(level, sizeof level, "%d", p->assurance);
	for (int i = 0; i < count; i++) {
		args[n++] = "--component";
		args[n++] = components[i];
	}
	args[n] = NULL;
	tb_buf err = {0};
	int rc = tb_tool(TB_CERTAUTH_ADMIN, rundir, agency, args, NULL, &err);
	char how[64];
	if (rc != 0)
		fprintf(stderr, "testbed: %s could not certify %s %s: certauth-admin %s\n%s", agency, p->model, p->version,
			tb_tool_status(rc, how, sizeof how), err.data ? err.data : "");
	else
		printf("certified    %s %s (assurance %d, %d components) at %s\n", p->model, p->version, p->assurance, count,
		       agency);
	tb_buf_free(&err);
	return rc ? -1 : 0;
}

int tb_certify(const char *rundir, const tb_topology *t)
{
	for (int i = 0; i < t->nentities; i++) {
		tb_platform p;
		if (strcmp(t->entities[i].role, "tre") || certified_before(t, i))
			continue;
		tb_tre_platform(&t->entities[i], &p);
		if (platform_add(rundir, t->entities[tb_agency_of(t, i)].id, &p))
			return -1;
	}
	return 0;
}
