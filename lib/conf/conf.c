/* libconfig with located, first-error-wins reporting (conf.h). */
#include "conf/conf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"

int m2m_conf_load(m2m_conf *c, const char *path)
{
	memset(c, 0, sizeof *c);
	snprintf(c->file, sizeof c->file, "%s", path);
	config_init(&c->cfg);
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(c->error, sizeof c->error, "%s: cannot read", path);
		c->failed = 1;
		return -1;
	}
	int ok = config_read(&c->cfg, f);
	fclose(f);
	if (ok != CONFIG_TRUE) {
		snprintf(c->error, sizeof c->error, "%s:%d: syntax error: %s", path, config_error_line(&c->cfg),
			 config_error_text(&c->cfg));
		c->failed = 1;
		return -1;
	}
	return 0;
}

void m2m_conf_free(m2m_conf *c)
{
	config_destroy(&c->cfg);
}

const char *m2m_conf_path(const config_setting_t *s, char *buf, size_t len)
{
	const config_setting_t *parent = s ? config_setting_parent(s) : NULL;
	char here[96];
	if (!parent) {
		snprintf(buf, len, "%s", "");
		return buf;
	}
	if (config_setting_name(s))
		snprintf(here, sizeof here, "%s", config_setting_name(s));
	else
		snprintf(here, sizeof here, "[%d]", config_setting_index(s));
	m2m_conf_path(parent, buf, len);
	size_t used = strlen(buf);
	snprintf(buf + used, len - used, "%s%s", used ? "." : "", here);
	return buf;
}

/* The first line at or above s that libconfig knows (the root group has none). */
static int line_of(const config_setting_t *s)
{
	for (; s; s = config_setting_parent(s))
		if (config_setting_source_line(s))
			return (int)config_setting_source_line(s);
	return 0;
}

static void fail_at(m2m_conf *c, const config_setting_t *at, const char *name, const char *fmt, va_list ap)
{
	char path[160], what[256];
	if (c->failed)
		return;
	c->failed = 1;
	m2m_conf_path(at, path, sizeof path);
	if (name)
		snprintf(path + strlen(path), sizeof path - strlen(path), "%s%s", path[0] ? "." : "", name);
	vsnprintf(what, sizeof what, fmt, ap);
	int line = line_of(at);
	if (line)
		snprintf(c->error, sizeof c->error, "%s:%d: %s: %s", c->file, line, path, what);
	else
		snprintf(c->error, sizeof c->error, "%s: %s: %s", c->file, path[0] ? path : "(top level)", what);
}

void m2m_conf_fail(m2m_conf *c, const config_setting_t *at, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fail_at(c, at, NULL, fmt, ap);
	va_end(ap);
}

/* An error about the member `name` of parent, which may be missing and so has no line itself. */
static void fail_member(m2m_conf *c, const config_setting_t *parent, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void fail_member(m2m_conf *c, const config_setting_t *parent, const char *name, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fail_at(c, parent, name, fmt, ap);
	va_end(ap);
}

/* The member, or NULL after reporting it missing (required) or when its parent is absent. */
static config_setting_t *member(m2m_conf *c, config_setting_t **parent, const char *name, int required)
{
	if (!*parent)
		*parent = config_root_setting(&c->cfg);
	config_setting_t *s = config_setting_get_member(*parent, name);
	if (!s && required)
		fail_member(c, *parent, name, "missing (required)");
	return s;
}

static config_setting_t *typed(m2m_conf *c, config_setting_t *parent, const char *name, int required,
			       int type, const char *what)
{
	config_setting_t *s = member(c, &parent, name, required);
	if (s && config_setting_type(s) != type) {
		m2m_conf_fail(c, s, "must be %s", what);
		return NULL;
	}
	return s;
}

config_setting_t *m2m_conf_group(m2m_conf *c, config_setting_t *parent, const char *name, int required)
{
	return typed(c, parent, name, required, CONFIG_TYPE_GROUP, "a group { ... }");
}

config_setting_t *m2m_conf_list(m2m_conf *c, config_setting_t *parent, const char *name, int required)
{
	return typed(c, parent, name, required, CONFIG_TYPE_LIST, "a list ( ... )");
}

const char *m2m_conf_str(m2m_conf *c, config_setting_t *parent, const char *name, const char *dflt,
			 int required)
{
	config_setting_t *s = typed(c, parent, name, required, CONFIG_TYPE_STRING, "a string in double quotes");
	return s ? config_setting_get_string(s) : dflt;
}

long long m2m_conf_int(m2m_conf *c, config_setting_t *parent, const char *name, long long dflt,
		       long long min, long long max, int required)
{
	config_setting_t *s = member(c, &parent, name, required);
	if (!s)
		return dflt;
	int t = config_setting_type(s);
	if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
		m2m_conf_fail(c, s, "must be an integer");
		return dflt;
	}
	long long v = config_setting_get_int64(s);
	if (v < min || v > max) {
		m2m_conf_fail(c, s, "%lld is out of range [%lld, %lld]", v, min, max);
		return dflt;
	}
	return v;
}

int m2m_conf_bool(m2m_conf *c, config_setting_t *parent, const char *name, int dflt, int required)
{
	config_setting_t *s = typed(c, parent, name, required, CONFIG_TYPE_BOOL, "true or false");
	return s ? config_setting_get_bool(s) : dflt;
}

int m2m_conf_enum(m2m_conf *c, config_setting_t *parent, const char *name, const char *const *choices,
		  int dflt, int required)
{
	config_setting_t *s = typed(c, parent, name, required, CONFIG_TYPE_STRING, "a string in double quotes");
	if (!s)
		return dflt;
	const char *v = config_setting_get_string(s);
	char list[200] = "";
	for (int i = 0; choices[i]; i++) {
		if (!strcmp(v, choices[i]))
			return i;
		snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", choices[i]);
	}
	m2m_conf_fail(c, s, "\"%s\" is not one of: %s", v, list);
	return dflt;
}

int m2m_conf_hex(m2m_conf *c, config_setting_t *parent, const char *name, uint8_t *out, size_t len,
		 int required)
{
	config_setting_t *p = parent ? parent : config_root_setting(&c->cfg);
	int present = config_setting_get_member(p, name) != NULL;
	config_setting_t *s = typed(c, parent, name, required, CONFIG_TYPE_STRING, "a string of hex digits");
	if (!s)
		return present || required ? -1 : 1;
	/* the value may be a key: the message names the setting, never its content */
	if (m2m_unhex(config_setting_get_string(s), out, len) != 0) {
		m2m_conf_fail(c, s, "must be exactly %zu hex digits", 2 * len);
		return -1;
	}
	return 0;
}

void m2m_conf_only(m2m_conf *c, const config_setting_t *group, const char *const *names)
{
	if (!group || !config_setting_is_group(group))
		return;
	for (int i = 0; i < config_setting_length(group); i++) {
		config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
		int known = 0;
		for (int k = 0; names[k] && !known; k++)
			known = !strcmp(names[k], config_setting_name(s));
		if (!known)
			m2m_conf_fail(c, s, "unknown setting (misspelt?)");
	}
}

long m2m_conf_secret_file(m2m_conf *c, config_setting_t *parent, const char *name, uint8_t *out, size_t min,
			  size_t max)
{
	const char *path = m2m_conf_str(c, parent, name, NULL, 1);
	if (!path)
		return -1;
	config_setting_t *at = config_setting_get_member(parent ? parent : config_root_setting(&c->cfg), name);
	char hex[260] = "";
	long n = -1;
	FILE *f = fopen(path, "r");
	if (!f || !fgets(hex, sizeof hex, f))
		m2m_conf_fail(c, at, "cannot read %s", path);
	else if (hex[strcspn(hex, "\r\n")] = 0, (n = m2m_unhex_var(hex, out, max)) < (long)min)
		m2m_conf_fail(c, at, min == max ? "%s does not hold %zu hex digits" : "%s does not hold %zu to %zu bytes in hex",
			      path, min == max ? 2 * min : min, max);
	if (f)
		fclose(f);
	m2m_wipe(hex, sizeof hex);
	return n >= (long)min ? n : -1;
}

int m2m_conf_key_file(m2m_conf *c, config_setting_t *parent, const char *name, uint8_t *key, size_t len)
{
	return m2m_conf_secret_file(c, parent, name, key, len, len) == (long)len ? 0 : -1;
}
