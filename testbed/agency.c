/*
 * What `up` generates for the certification agency (certauth: CA and PVA) and its TREs, which
 * must agree with each other before either starts: each TRE's enrolment secret (in the TRE's
 * keys/ID.enrol and in its agency's enrolment list), the agency's root certificate (written by
 * the agency at its start, read by its TREs), the components each TRE measures (files in
 * RUNDIR/ID.components/ whose genuine content the agency certifies, certify.c), and who may
 * ask the PVA for validations. docs/testbed.md lists the settings.
 */
#include "testbed.h"

#include "crypto/crypto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SECRET_LEN 32  /* an enrolment secret: 32 random bytes (the agency takes 16 to 64) */

/* The boot chain of docs/tre.md: boot ROM and TRE code in register 0, then one register each. */
const tb_component tb_components[] = {
	{"boot-rom", 0}, {"tre-code", 0}, {"os", 1}, {"modem-fw", 2}, {"comm-stack", 3}, {NULL, 0},
};

void tb_tre_platform(const tb_entity *e, tb_platform *p)
{
	p->model = tb_entity_setting(e, "model", "");
	p->version = tb_entity_setting(e, "version", "");
	p->assurance = tb_entity_int(e, "assurance_level", 0);
}

void tb_component_content(const tb_platform *p, const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s %s %s\n", p->model, name, p->version);
}

int tb_root_path(char *out, size_t len, const char *rundir, const char *agency)
{
	return tb_path(out, len, rundir, agency, ".root.pem");
}

static int components_dir(char *out, size_t len, const char *rundir, const char *tre)
{
	return tb_path(out, len, rundir, tre, ".components");
}

/* ---- files ------------------------------------------------------------------------------------ */

static int secret_path(char *out, size_t len, const char *rundir, const char *tre)
{
	char dir[PATH_MAX];
	return tb_path(dir, sizeof dir, rundir, "keys", "") || tb_path(out, len, dir, tre, ".enrol");
}

/* 64 hex digits, no newline, readable only by us: the TRE reads it, and its agency's group
 * lists the same secret. */
static int write_secret(const char *rundir, const char *tre)
{
	char path[PATH_MAX], hex[2 * SECRET_LEN + 1];
	uint8_t secret[SECRET_LEN];
	if (secret_path(path, sizeof path, rundir, tre))
		return -1;
	m2m_random(secret, sizeof secret);
	m2m_hex(secret, sizeof secret, hex);
	int rc = tb_write_file(path, hex, 0600);
	m2m_wipe(secret, sizeof secret);
	m2m_wipe(hex, sizeof hex);
	return rc;
}

/* Genuine content each boot: a component a scenario modified in an earlier run is restored. */
static int write_components(const char *rundir, const tb_entity *e)
{
	char dir[PATH_MAX], path[PATH_MAX], content[256];
	tb_platform p;
	tb_tre_platform(e, &p);
	if (components_dir(dir, sizeof dir, rundir, e->id))
		return -1;
	if (mkdir(dir, 0755) && errno != EEXIST) {
		fprintf(stderr, "testbed: cannot create %s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (const tb_component *k = tb_components; k->name; k++) {
		tb_component_content(&p, k->name, content, sizeof content);
		if (tb_path(path, sizeof path, dir, k->name, "") || tb_write_file(path, content, 0644))
			return -1;
	}
	return 0;
}

const char *tb_enrolment_profile(const tb_topology *t, const tb_entity *e)
{
	if (!strcmp(e->role, "tre"))
		return "tre";
	if (!strcmp(e->role, "drf"))
		return "registration";
	if (!strcmp(e->role, "mno") && e->settings && config_setting_get_member(e->settings, "dpf"))
		return "operatorFunction";
	if (!strcmp(e->role, "uicc") && tb_agency_of(t, (int)(e - t->entities)) >= 0)
		return "uicc";
	return NULL;
}

int tb_agency_files(const char *rundir, const tb_topology *t)
{
	for (int i = 0; i < t->nentities; i++) {
		const tb_entity *e = &t->entities[i];
		if (tb_enrolment_profile(t, e) && write_secret(rundir, e->id))
			return -1;
		if (!strcmp(e->role, "tre") && write_components(rundir, e))
			return -1;
	}
	return 0;
}

/* ---- the agency's group ----------------------------------------------------------------------- */

/* { id; profile; secret_file = the entity's own file }: agency and entity read one file. */
static int add_enrolment(config_setting_t *list, const char *rundir, const tb_topology *t, const tb_entity *e)
{
	char path[PATH_MAX];
	if (secret_path(path, sizeof path, rundir, e->id))
		return -1;
	config_setting_t *entry = config_setting_add(list, NULL, CONFIG_TYPE_GROUP);
	tb_conf_add_str(entry, "id", e->id);
	tb_conf_add_str(entry, "profile", tb_enrolment_profile(t, e));
	tb_conf_add_str(entry, "secret_file", path);
	return 0;
}

/* Who may ask the PVA: the testbed itself (the relying party of the validate scenario), and the
 * home operators and the registration operator among the agency's peers. */
static int relying_party(const tb_entity *peer)
{
	return !strcmp(peer->role, "drf") ||
	       (!strcmp(peer->role, "mno") && !strcmp(tb_entity_setting(peer, "mode", ""), "home"));
}

static void add_pva(config_setting_t *g, const tb_topology *t, const tb_entity *agency)
{
	config_setting_t *pva = config_setting_add(g, "pva", CONFIG_TYPE_GROUP);
	config_setting_t *list = config_setting_add(pva, "relying_parties", CONFIG_TYPE_LIST);
	config_setting_set_string(config_setting_add(list, NULL, CONFIG_TYPE_STRING), TB_SELF);
	for (int k = 0; k < agency->npeers; k++)
		if (relying_party(&t->entities[agency->peers[k]]))
			config_setting_set_string(config_setting_add(list, NULL, CONFIG_TYPE_STRING),
						  t->entities[agency->peers[k]].id);
}

static int agency_settings(config_setting_t *g, const char *rundir, const tb_topology *t, const tb_entity *e)
{
	char root[PATH_MAX];
	int self = (int)(e - t->entities);
	if (tb_root_path(root, sizeof root, rundir, e->id))
		return -1;
	tb_conf_add_str(g, "root_certificate", root);
	config_setting_t *list = NULL;
	for (int i = 0; i < t->nentities; i++) {
		if (!tb_enrolment_profile(t, &t->entities[i]) || tb_agency_of(t, i) != self)
			continue;
		if (!list)
			list = config_setting_add(g, "enrolment", CONFIG_TYPE_LIST);
		if (add_enrolment(list, rundir, t, &t->entities[i]))
			return -1;
	}
	add_pva(g, t, e);
	return 0;
}

/* ---- a TRE's group ---------------------------------------------------------------------------- */

static int add_components(config_setting_t *g, const char *dir)
{
	char path[PATH_MAX];
	config_setting_t *list = config_setting_add(g, "components", CONFIG_TYPE_LIST);
	for (const tb_component *k = tb_components; k->name; k++) {
		if (tb_path(path, sizeof path, dir, k->name, ""))
			return -1;
		config_setting_t *c = config_setting_add(list, NULL, CONFIG_TYPE_GROUP);
		tb_conf_add_str(c, "name", k->name);
		tb_conf_add_str(c, "file", path);
		tb_conf_add_int(c, "register", k->reg);
	}
	return 0;
}

/* What every enrolling entity is told of its agency, into g: the agency, its enrolment secret
 * and the root. */
static int enrolment_settings(config_setting_t *g, const char *rundir, const tb_topology *t, const tb_entity *e)
{
	char path[PATH_MAX];
	int agency = tb_agency_of(t, (int)(e - t->entities));
	if (agency < 0) {
		fprintf(stderr, "testbed: %s enrols with an agency but is linked to no certauth entity\n", e->id);
		return -1;
	}
	tb_conf_add_str(g, "agency", t->entities[agency].id);
	if (secret_path(path, sizeof path, rundir, e->id))
		return -1;
	tb_conf_add_str(g, "enrolment_secret_file", path);
	if (tb_root_path(path, sizeof path, rundir, t->entities[agency].id))
		return -1;
	tb_conf_add_str(g, "root_certificate", path);
	return 0;
}

/* That, and the PVA (the agency hosts it): the network functions and the TREs validate. */
static int identity_settings(config_setting_t *g, const char *rundir, const tb_topology *t, const tb_entity *e)
{
	if (enrolment_settings(g, rundir, t, e))
		return -1;
	tb_conf_add_str(g, "pva", t->entities[tb_agency_of(t, (int)(e - t->entities))].id);
	return 0;
}

/* The M2ME a TRE is linked with: the device it sits in; -1 when none. */
static int device_of(const tb_topology *t, const tb_entity *tre)
{
	for (int i = 0; i < tre->npeers; i++)
		if (!strcmp(t->entities[tre->peers[i]].role, "m2me"))
			return tre->peers[i];
	return -1;
}

/* Alternative 1a: the DRF it discovers its operator with, its M2ME (the only entity it serves
 * credentials to) and that device's IMEI (M2ME_ID), and the factory's PCID file. */
static int tre_device_settings(config_setting_t *g, const char *rundir, const tb_topology *t, const tb_entity *e)
{
	char dir[PATH_MAX], path[PATH_MAX];
	const char *drf = tb_registration_operator(t);
	int m2me = device_of(t, e);
	if (drf)
		tb_conf_add_str(g, "drf", drf);
	if (m2me >= 0) {
		tb_conf_add_str(g, "m2me", t->entities[m2me].id);
		tb_conf_add_str(g, "m2me_id", tb_entity_setting(&t->entities[m2me], "imei", ""));
	}
	if (tb_path(dir, sizeof dir, rundir, "keys", "") || tb_path(path, sizeof path, dir, e->id, ".pcid"))
		return -1;
	tb_conf_add_str(g, "pcid_file", path);
	return 0;
}

/* The agency is its PVA too, and the one its tamper reports go to (the PVA answers tamperAck;
 * the operators do not serve tamperReport). */
static int tre_settings(config_setting_t *g, const char *rundir, const tb_topology *t, const tb_entity *e)
{
	char path[PATH_MAX];
	if (identity_settings(g, rundir, t, e) || tre_device_settings(g, rundir, t, e))
		return -1;
	const char *agency = t->entities[tb_agency_of(t, (int)(e - t->entities))].id;
	config_setting_t *to = config_setting_add(g, "report_to", CONFIG_TYPE_LIST);
	config_setting_set_string(config_setting_add(to, NULL, CONFIG_TYPE_STRING), agency);
	if (!config_setting_get_member(g, "tamper_reaction"))
		tb_conf_add_str(g, "tamper_reaction", "refuse");
	return components_dir(path, sizeof path, rundir, e->id) ? -1 : add_components(g, path);
}

/* The registration operator: its identity, and the testbed as the supplier that asks for PCIDs
 * at `up` (m2m-manufacture) and the subscriber's portal that registers devices (scenario 1a). */
static int drf_settings(config_setting_t *g, const char *rundir, const tb_topology *t, const tb_entity *e)
{
	if (identity_settings(g, rundir, t, e))
		return -1;
	static const char *const lists[] = {"suppliers", "registrars"};
	for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
		config_setting_t *l = config_setting_add(g, lists[i], CONFIG_TYPE_LIST);
		config_setting_set_string(config_setting_add(l, NULL, CONFIG_TYPE_STRING), TB_SELF);
	}
	return 0;
}

/* A home operator's DPF: its identity, the DRF whose tickets it honours, and where it exports
 * each MCIM package with the certificates that check it (docs/alt1a.md). */
static int dpf_settings(config_setting_t *g, const char *rundir, const tb_topology *t, const tb_entity *e)
{
	char path[PATH_MAX];
	config_setting_t *dpf = config_setting_get_member(g, "dpf");
	const char *drf = tb_registration_operator(t);
	if (!dpf || identity_settings(dpf, rundir, t, e) || tb_path(path, sizeof path, rundir, "mcim-export", ""))
		return -1;
	if (mkdir(path, 0755) && errno != EEXIST) {
		fprintf(stderr, "testbed: cannot create %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (drf)
		tb_conf_add_str(dpf, "drf", drf);
	tb_conf_add_str(dpf, "export_dir", path);
	return 0;
}

int tb_agency_settings(config_setting_t *g, const char *rundir, const tb_topology *t, const tb_entity *e)
{
	const char *profile = tb_enrolment_profile(t, e);
	if (!strcmp(e->role, "certauth"))
		return agency_settings(g, rundir, t, e);
	if (!strcmp(e->role, "tre"))
		return tre_settings(g, rundir, t, e);
	if (!strcmp(e->role, "drf"))
		return drf_settings(g, rundir, t, e);
	if (!strcmp(e->role, "uicc"))
		return profile ? enrolment_settings(g, rundir, t, e) : 0;
	return profile ? dpf_settings(g, rundir, t, e) : 0;
}
