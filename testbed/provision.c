/*
 * Provisioning at `up`, after the configurations are written and before any daemon starts:
 * each card's home operator personalises it with `mno-admin personalise` (random K, OPc and ADM
 * written to the card image RUNDIR/keys/ID.card and, in the same step, the subscriber record
 * into the operator's database), as an operator's card personalisation centre would. A clone
 * gets a byte-for-byte copy of its original's image: what an attacker who read the card out holds.
 */
#include "testbed.h"

#include "conf/conf.h"
#include "crypto/crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ARGS 32

static int image_path(char *out, size_t len, const char *rundir, const tb_topology *t, const tb_card *k)
{
	char dir[PATH_MAX];
	return tb_path(dir, sizeof dir, rundir, "keys", "") || tb_path(out, len, dir, t->entities[k->entity].id, ".card");
}

/* mno-admin personalise with the card's identities and subscription. */
static int personalise(const char *rundir, const tb_topology *t, const tb_card *k)
{
	char image[PATH_MAX];
	const char *args[MAX_ARGS];
	int n = 0;
	if (image_path(image, sizeof image, rundir, t, k))
		return -1;
	unlink(image);  /* the image of an earlier run belongs to subscribers that no longer exist */
	args[n++] = "personalise";
	args[n++] = "--iccid";
	args[n++] = k->iccid;
	args[n++] = "--imsi";
	args[n++] = k->imsi;
	args[n++] = "--out";
	args[n++] = image;
	if (k->imei_lock[0]) {
		args[n++] = "--imei-lock";
		args[n++] = k->imei_lock;
	}
	for (int i = 0; i < k->napns; i++) {
		args[n++] = "--apn";
		args[n++] = k->apns[i];
	}
	if (k->cs)
		args[n++] = "--cs";
	args[n] = NULL;
	tb_buf err = {0};
	const char *op = t->entities[k->home].id;
	int rc = tb_admin(rundir, op, args, NULL, &err);
	if (rc != 0) {
		char how[64];
		fprintf(stderr, "testbed: %s could not personalise %s (IMSI %s): mno-admin %s\n%s", op,
			t->entities[k->entity].id, k->imsi, tb_tool_status(rc, how, sizeof how), err.data ? err.data : "");
	} else {
		printf("personalised %-8s IMSI %s at %s\n", t->entities[k->entity].id, k->imsi, op);
	}
	tb_buf_free(&err);
	return rc ? -1 : 0;
}

/* The clone's image is the original's, copied with the same secrecy (0600). */
static int clone_image(const char *rundir, const tb_topology *t, const tb_card *k)
{
	char from[PATH_MAX], to[PATH_MAX];
	const tb_card *o = tb_card_origin(t, k);
	if (image_path(from, sizeof from, rundir, t, o) || image_path(to, sizeof to, rundir, t, k))
		return -1;
	size_t len;
	char *image = tb_read_file(from, 0, &len);
	int rc = !image || strlen(image) != len ? -1 : tb_write_file(to, image, 0600);
	if (!image)
		fprintf(stderr, "testbed: cannot read the image of %s to clone it\n", t->entities[o->entity].id);
	else if (!rc)
		printf("cloned       %-8s from %s (the same image)\n", t->entities[k->entity].id, t->entities[o->entity].id);
	if (image)
		m2m_wipe(image, len);
	free(image);
	return rc;
}

/* One mno-admin command at op, its failure reported with the tool's own words. */
static int admin_step(const char *rundir, const char *op, const char *const *args, const char *what)
{
	tb_buf err = {0};
	int rc = tb_admin(rundir, op, args, NULL, &err);
	if (rc != 0) {
		char how[64];
		fprintf(stderr, "testbed: %s could not %s: mno-admin %s %s %s\n%s", op, what, args[0], args[1],
			tb_tool_status(rc, how, sizeof how), err.data ? err.data : "");
	}
	tb_buf_free(&err);
	return rc ? -1 : 0;
}

/* `subscriber assign` of the subscriber's cards at op, from card *next on, as many as one command
 * line takes; *assigned counts them. */
static int assign_some(const char *rundir, const tb_topology *t, int op, int *next, int *assigned)
{
	const char *args[MAX_ARGS];
	int n = 0;
	args[n++] = "subscriber";
	args[n++] = "assign";
	args[n++] = t->subscriber;
	for (; *next < t->ncards && n < MAX_ARGS - 1; ++*next)
		if (t->cards[*next].subscriber && t->cards[*next].home == op)
			args[n++] = t->cards[*next].iccid;
	args[n] = NULL;
	*assigned += n - 3;
	return n == 3 ? 0 : admin_step(rundir, t->entities[op].id, args, "assign its cards to the subscriber");
}

/* Alternative 3a: the operator knows the subscriber who owns its cards by the certificate it
 * registers, and checks a port authorisation against it (`mno-admin subscriber register`, then
 * `subscriber assign` with the ICCIDs the subscriber owns there). */
static int register_owner(const char *rundir, const tb_topology *t, int op)
{
	char cert[PATH_MAX];
	const char *id = t->entities[op].id;
	if (tb_subscriber_cert_path(cert, sizeof cert, rundir))
		return -1;
	const char *reg[] = {"subscriber", "register", t->subscriber, cert, NULL};
	if (admin_step(rundir, id, reg, "register the subscriber"))
		return -1;
	int next = 0, assigned = 0;
	while (next < t->ncards)
		if (assign_some(rundir, t, op, &next, &assigned))
			return -1;
	printf("registered   %s at %s, the owner of %d card%s\n", t->subscriber, id, assigned, assigned == 1 ? "" : "s");
	return 0;
}

static int owns_cards_at(const tb_topology *t, int op)
{
	for (int i = 0; i < t->ncards; i++)
		if (t->cards[i].subscriber && t->cards[i].home == op)
			return 1;
	return 0;
}

int tb_provision(const char *rundir, const tb_topology *t)
{
	/* originals first: a clone copies an image that must exist */
	for (int i = 0; i < t->ncards; i++)
		if (t->cards[i].clone_of < 0 && personalise(rundir, t, &t->cards[i]))
			return -1;
	for (int i = 0; i < t->ncards; i++)
		if (t->cards[i].clone_of >= 0 && clone_image(rundir, t, &t->cards[i]))
			return -1;
	for (int op = 0; op < t->nentities; op++)
		if (owns_cards_at(t, op) && register_owner(rundir, t, op))
			return -1;
	return 0;
}

int tb_card_image_values(const char *rundir, const char *card, const char *const *names, char (*out)[65], int n)
{
	char dir[PATH_MAX], path[PATH_MAX];
	m2m_conf c;
	if (tb_path(dir, sizeof dir, rundir, "keys", "") || tb_path(path, sizeof path, dir, card, ".card"))
		return -1;
	if (m2m_conf_load(&c, path)) {
		m2m_conf_free(&c);
		return -1;
	}
	config_setting_t *g = m2m_conf_group(&c, NULL, "card", 1);
	for (int i = 0; i < n; i++)
		snprintf(out[i], 65, "%s", m2m_conf_str(&c, g, names[i], "", 1));
	int rc = c.failed ? -1 : 0;
	m2m_conf_free(&c);
	return rc;
}
