/*
 * The tre group of the configuration file (main.c shows a complete one). Everything a TRE is
 * given at manufacture: its storage key, its platform (model, version, assurance level), the
 * agency it enrols with and the secret that authorises it, the agency's root certificate, the
 * components it measures, who may challenge and control it, where tamper reports go and how it
 * reacts to tampering; for Alternative 1a its M2ME and the M2ME's IMEI, the registration
 * operator, the factory's PCID file, and how long a change of subscription waits for the attach
 * with the new MCIM.
 */
#include "tre.h"

#include "crypto/crypto.h"

#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>

static const char *const setting_names[] = {
	"storage_key_file", "agency", "enrolment_secret_file", "root_certificate", "model", "version",
	"assurance_level", "pva", "controller", "report_to", "tamper_reaction", "components", "m2me", "m2me_id", "drf",
	"pcid_file", "switch_seconds", "trigger_window", NULL};

/* ---- small readers ------------------------------------------------------------------------ */

static config_setting_t *member_of(m2m_conf *c, config_setting_t *group, const char *name)
{
	return config_setting_get_member(group ? group : config_root_setting(&c->cfg), name);
}

/* A string of 1..max characters into out. */
static void read_text(m2m_conf *c, config_setting_t *group, const char *name, int required, const char *dflt,
		      char *out, size_t max)
{
	const char *v = m2m_conf_str(c, group, name, dflt, required);
	if (!v)
		return;
	if (!v[0] || strlen(v) > max)
		m2m_conf_fail(c, member_of(c, group, name), "must be 1..%zu characters", max);
	else
		snprintf(out, max + 1, "%s", v);
}

/* The enrolment secret: a file of 32..128 hex digits. The message names the file, never its content. */
static void read_secret(m2m_conf *c, config_setting_t *group, tre_settings *s)
{
	const char *path = m2m_conf_str(c, group, "enrolment_secret_file", NULL, 1);
	if (!path)
		return;
	config_setting_t *at = member_of(c, group, "enrolment_secret_file");
	char hex[2 * TRE_SECRET_MAX + 8] = "";
	FILE *f = fopen(path, "r");
	long n = -1;
	if (f && fgets(hex, sizeof hex, f)) {
		hex[strcspn(hex, "\r\n")] = 0;
		n = m2m_unhex_var(hex, s->enrolment_secret, sizeof s->enrolment_secret);
	}
	if (!f)
		m2m_conf_fail(c, at, "cannot read %s", path);
	else if (n < TRE_SECRET_MIN)
		m2m_conf_fail(c, at, "%s does not hold %d..%d hex digits", path, 2 * TRE_SECRET_MIN,
			      2 * TRE_SECRET_MAX);
	else
		s->enrolment_secret_len = (size_t)n;
	if (f)
		fclose(f);
	m2m_wipe(hex, sizeof hex);
}

/* PEM or DER: the agency hands out its root in either form. */
static X509 *load_certificate(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
	if (!x) {
		rewind(f);
		x = d2i_X509_fp(f, NULL);
	}
	fclose(f);
	return x;
}

static void read_root(m2m_conf *c, config_setting_t *group, X509 **root)
{
	const char *path = m2m_conf_str(c, group, "root_certificate", NULL, 1);
	if (!path)
		return;
	X509 *x = load_certificate(path);
	if (!x)
		m2m_conf_fail(c, member_of(c, group, "root_certificate"), "%s does not hold a certificate (PEM or DER)",
			      path);
	X509_free(*root);
	*root = x;
}

/* ---- lists -------------------------------------------------------------------------------- */

static void read_component(m2m_conf *c, config_setting_t *g, tre_settings *s, int i)
{
	static const char *const names[] = {"name", "file", "register", NULL};
	tre_component *k = &s->components[i];
	if (!config_setting_is_group(g)) {
		m2m_conf_fail(c, g, "each component is a group { name, file, register }");
		return;
	}
	m2m_conf_only(c, g, names);
	read_text(c, g, "name", 1, NULL, k->name, TRE_NAME_MAX);
	read_text(c, g, "file", 1, NULL, k->file, TRE_PATH_MAX);
	k->reg = (int)m2m_conf_int(c, g, "register", 0, 0, TRE_REGISTERS - 1, 1);
	for (int j = 0; j < i && !c->failed; j++)
		if (!strcmp(s->components[j].name, k->name))
			m2m_conf_fail(c, g, "component %s is listed twice", k->name);
}

/* Measured in the order listed: the order of the boot chain (boot ROM first). */
static void read_components(m2m_conf *c, config_setting_t *group, tre_settings *s)
{
	config_setting_t *list = m2m_conf_list(c, group, "components", 1);
	int count = list ? config_setting_length(list) : 0;
	if (list && (count < 1 || count > TRE_MAX_COMPONENTS)) {
		m2m_conf_fail(c, list, "must list 1..%d components", TRE_MAX_COMPONENTS);
		return;
	}
	for (int i = 0; i < count && !c->failed; i++)
		read_component(c, config_setting_get_elem(list, (unsigned)i), s, i);
	s->ncomponents = c->failed ? 0 : count;
}

/* Default: the PVA only (an operator is added once it owns a credential slot). A list ( ... )
 * or an array [ ... ] of entity ids. */
static void read_report_to(m2m_conf *c, config_setting_t *group, tre_settings *s)
{
	config_setting_t *list = config_setting_get_member(group, "report_to");
	if (!list) {
		s->nreport_to = 1;
		snprintf(s->report_to[0], sizeof s->report_to[0], "%s", s->pva);
		m2m_conf_check_peer(c, group, s->pva, 1);
		return;
	}
	int count = config_setting_is_list(list) || config_setting_is_array(list) ? config_setting_length(list) : -1;
	if (count < 1 || count > TRE_MAX_RECIPIENTS) {
		m2m_conf_fail(c, list, "must list 1..%d entity ids (\"certauth\", ...)", TRE_MAX_RECIPIENTS);
		return;
	}
	for (int i = 0; i < count && !c->failed; i++) {
		config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
		const char *id = config_setting_get_string(e);
		if (!id || !id[0] || strlen(id) > M2M_ENTITY_MAX) {
			m2m_conf_fail(c, e, "must be an entity id in double quotes");
			break;
		}
		m2m_conf_check_peer(c, e, id, 1);
		snprintf(s->report_to[i], sizeof s->report_to[i], "%s", id);
		s->nreport_to = i + 1;
	}
}

/* ---- Alternative 1a ----------------------------------------------------------------------- */

/* The M2ME (a peer: it calls the TRE) and its IMEI; both optional: without them the TRE serves
 * no M2ME (credentials, AKA, provisioning are refused). */
static void read_m2me(m2m_conf *c, config_setting_t *group, tre_settings *s)
{
	if (config_setting_get_member(group, "m2me"))
		m2m_conf_peer(c, group, "m2me", NULL, 0, s->m2me);
	const char *imei = m2m_conf_str(c, group, "m2me_id", NULL, 0);
	if (imei && (strlen(imei) != TRE_IMEI_LEN || strspn(imei, "0123456789") != TRE_IMEI_LEN))
		m2m_conf_fail(c, member_of(c, group, "m2me_id"), "must be the M2ME's IMEI: %d digits", TRE_IMEI_LEN);
	else if (imei)
		snprintf(s->m2me_id, sizeof s->m2me_id, "%s", imei);
}

/* The factory's PCID file: read now, so that a malformed one is refused like a bad setting;
 * imported at start (pcid.c). An absent file is an imported one. */
static void read_pcid_file(m2m_conf *c, config_setting_t *group, tre_settings *s)
{
	if (!config_setting_get_member(group, "pcid_file"))
		return;
	read_text(c, group, "pcid_file", 1, NULL, s->pcid_file, TRE_PATH_MAX);
	char why[200];
	if (!c->failed && tre_pcid_file_read(s->pcid_file, &s->pcid, why, sizeof why) < 0)
		m2m_conf_fail(c, member_of(c, group, "pcid_file"), "%s: %s", s->pcid_file, why);
}

/* ---- the group ---------------------------------------------------------------------------- */

void tre_settings_read(m2m_conf *c, config_setting_t *group, tre_settings *s, X509 **root)
{
	static const char *const reactions[] = {"refuse", "zeroise", NULL};
	if (!group) {
		m2m_conf_fail(c, NULL, "tre: missing (a TRE needs storage_key_file, agency, enrolment_secret_file, "
				       "root_certificate, model, version, assurance_level, pva, components)");
		return;
	}
	m2m_conf_only(c, group, setting_names);
	m2m_conf_key_file(c, group, "storage_key_file", s->storage_key, sizeof s->storage_key);
	m2m_conf_peer(c, group, "agency", NULL, 1, s->agency);
	read_secret(c, group, s);
	read_root(c, group, root);
	read_text(c, group, "model", 1, NULL, s->model, TRE_NAME_MAX);
	read_text(c, group, "version", 1, NULL, s->version, TRE_VERSION_MAX);
	s->assurance = (int)m2m_conf_int(c, group, "assurance_level", 1, 1, 7, 1);
	m2m_conf_peer(c, group, "pva", NULL, 0, s->pva);
	m2m_conf_peer(c, group, "controller", "testbed", 0, s->controller);
	if (!c->failed)
		read_report_to(c, group, s);
	s->reaction = (m2m_tamper_reaction)m2m_conf_enum(c, group, "tamper_reaction", reactions, M2M_TAMPER_REFUSED, 0);
	read_components(c, group, s);
	read_m2me(c, group, s);
	read_text(c, group, "drf", 0, "drf", s->drf, M2M_ENTITY_MAX);
	read_pcid_file(c, group, s);
	s->switch_seconds = (int)m2m_conf_int(c, group, "switch_seconds", 30, 1, 3600, 0);
	s->trigger_window = (int)m2m_conf_int(c, group, "trigger_window", 600, 10, 86400, 0);
}

int tre_component_index(const tre_settings *s, const char *name)
{
	for (int i = 0; i < s->ncomponents; i++)
		if (!strcmp(s->components[i].name, name))
			return i;
	return -1;
}
