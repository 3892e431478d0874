/*
 * libconfig with errors a person can act on. Getters never abort: the first problem is kept in
 * conf->error as "FILE:LINE: SETTING.PATH: what is wrong", later getters return their default,
 * and the caller checks conf->failed once at the end (a daemon then exits with status 2).
 */
#ifndef M2M_CONF_H
#define M2M_CONF_H

#include <libconfig.h>
#include <stddef.h>
#include <stdint.h>

typedef struct m2m_conf {
	config_t cfg;
	char file[256];
	char error[768];
	int failed;
} m2m_conf;

/* 0 on success; -1 with conf->error set ("FILE:LINE: syntax error ..." or "FILE: cannot read"). */
int m2m_conf_load(m2m_conf *c, const char *path);
void m2m_conf_free(m2m_conf *c);

/* Records an error located at setting `at` (or the file when NULL), unless one is recorded. */
void m2m_conf_fail(m2m_conf *c, const config_setting_t *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* parent NULL means the root group. A missing required setting is an error naming
 * PARENT.NAME and the parent's line; a missing optional one yields the default. */
config_setting_t *m2m_conf_group(m2m_conf *c, config_setting_t *parent, const char *name, int required);
config_setting_t *m2m_conf_list(m2m_conf *c, config_setting_t *parent, const char *name, int required);
const char *m2m_conf_str(m2m_conf *c, config_setting_t *parent, const char *name, const char *dflt,
			 int required);
long long m2m_conf_int(m2m_conf *c, config_setting_t *parent, const char *name, long long dflt,
		       long long min, long long max, int required);
int m2m_conf_bool(m2m_conf *c, config_setting_t *parent, const char *name, int dflt, int required);
/* Index of the value in choices (NULL-terminated), or dflt. */
int m2m_conf_enum(m2m_conf *c, config_setting_t *parent, const char *name, const char *const *choices,
		  int dflt, int required);
/* Exactly len bytes given as 2*len hex digits. Returns 0 when set, 1 when absent and optional, -1 on error. */
int m2m_conf_hex(m2m_conf *c, config_setting_t *parent, const char *name, uint8_t *out, size_t len,
		 int required);

/* A file named by setting `name` that holds exactly 2*len hex digits (a trailing newline is
 * tolerated): a daemon's storage key. The message names the file, never its content. 0 or -1. */
int m2m_conf_key_file(m2m_conf *c, config_setting_t *parent, const char *name, uint8_t *key, size_t len);
/* The same for a secret of min..max bytes: its length, or -1. */
long m2m_conf_secret_file(m2m_conf *c, config_setting_t *parent, const char *name, uint8_t *out, size_t min,
			  size_t max);

/* Every member of group must be one of names (NULL-terminated): catches misspelt settings. */
void m2m_conf_only(m2m_conf *c, const config_setting_t *group, const char *const *names);

/* "transport.peers.[2].endpoint" for a setting, into buf. */
const char *m2m_conf_path(const config_setting_t *s, char *buf, size_t len);

#endif
