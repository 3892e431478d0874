/* Configuration: every error path gives "FILE:LINE: SETTING: problem"; the first error wins. */
#include "conf/conf.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char file[64];
static m2m_conf conf;

static void load(const char *text)
{
	snprintf(file, sizeof file, "/tmp/m2mconfXXXXXX");
	int fd = mkstemp(file);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	m2m_conf_load(&conf, file);
}

static void teardown(void)
{
	m2m_conf_free(&conf);
	unlink(file);
}

TestSuite(conf, .fini = teardown);

/* The error must be exactly FILE:LINE: rest. */
static void expect_error(int line, const char *rest)
{
	char want[1024];
	snprintf(want, sizeof want, "%s:%d: %s", file, line, rest);
	cr_assert(conf.failed, "no error recorded");
	cr_assert_str_eq(conf.error, want);
}

Test(conf, syntax_error_names_the_line)
{
	load("entity = \"a\";\ntransport = { bind = ; };\n");
	cr_assert(conf.failed);
	char want[128];
	snprintf(want, sizeof want, "%s:2: syntax error", file);
	cr_assert(!strncmp(conf.error, want, strlen(want)), "%s", conf.error);
}

Test(conf, unreadable_file)
{
	cr_assert_eq(m2m_conf_load(&conf, "/nonexistent/x.conf"), -1);
	cr_assert_str_eq(conf.error, "/nonexistent/x.conf: cannot read");
	snprintf(file, sizeof file, "/nonexistent/x.conf");
}

Test(conf, missing_required_names_the_parent_line)
{
	load("entity = \"a\";\ntransport = {\n  tap = \"x\";\n};\n");
	config_setting_t *t = m2m_conf_group(&conf, NULL, "transport", 1);
	cr_assert_not_null(t);
	cr_assert_null(m2m_conf_str(&conf, t, "bind", NULL, 1));
	expect_error(2, "transport.bind: missing (required)");
}

Test(conf, missing_required_at_top_level)
{
	load("log_level = \"info\";\n");
	cr_assert_null(m2m_conf_str(&conf, NULL, "entity", NULL, 1));
	cr_assert(conf.failed);
	char want[128];
	snprintf(want, sizeof want, "%s: entity: missing (required)", file);
	cr_assert_str_eq(conf.error, want);
}

Test(conf, optional_missing_gives_default_and_no_error)
{
	load("a = 1;\n");
	cr_assert_str_eq(m2m_conf_str(&conf, NULL, "x", "dflt", 0), "dflt");
	cr_assert_eq(m2m_conf_int(&conf, NULL, "y", 7, 0, 10, 0), 7);
	cr_assert_eq(m2m_conf_bool(&conf, NULL, "z", 1, 0), 1);
	uint8_t k[4];
	cr_assert_eq(m2m_conf_hex(&conf, NULL, "k", k, 4, 0), 1);
	cr_assert_null(m2m_conf_group(&conf, NULL, "g", 0));
	cr_assert(!conf.failed);
}

Test(conf, wrong_types)
{
	load("s = 5;\n");
	m2m_conf_str(&conf, NULL, "s", NULL, 1);
	expect_error(1, "s: must be a string in double quotes");
}

Test(conf, integer_type_and_range)
{
	load("n = \"5\";\n");
	m2m_conf_int(&conf, NULL, "n", 0, 0, 10, 1);
	expect_error(1, "n: must be an integer");
	m2m_conf_free(&conf);
	unlink(file);
	load("x = 1;\nt = { timeout_ms = 0; };\n");
	config_setting_t *t = m2m_conf_group(&conf, NULL, "t", 1);
	cr_assert_eq(m2m_conf_int(&conf, t, "timeout_ms", 1000, 1, 600000, 0), 1000);
	expect_error(2, "t.timeout_ms: 0 is out of range [1, 600000]");
}

Test(conf, bool_group_list)
{
	load("b = 1;\ng = 2;\nl = 3;\n");
	m2m_conf_bool(&conf, NULL, "b", 0, 1);
	expect_error(1, "b: must be true or false");
	conf.failed = 0;
	m2m_conf_group(&conf, NULL, "g", 1);
	expect_error(2, "g: must be a group { ... }");
	conf.failed = 0;
	m2m_conf_list(&conf, NULL, "l", 1);
	expect_error(3, "l: must be a list ( ... )");
}

Test(conf, enum_lists_the_choices)
{
	load("\nmno = { mode = \"roaming\"; };\n");
	static const char *const modes[] = {"home", "visited", NULL};
	config_setting_t *g = m2m_conf_group(&conf, NULL, "mno", 1);
	cr_assert_eq(m2m_conf_enum(&conf, g, "mode", modes, -1, 1), -1);
	expect_error(2, "mno.mode: \"roaming\" is not one of: home, visited");
}

Test(conf, hex_never_echoes_the_value)
{
	load("k = \"000102030405060708090a0b0c0d0e0f0\";\n");
	uint8_t k[16];
	cr_assert_eq(m2m_conf_hex(&conf, NULL, "k", k, 16, 1), -1);
	expect_error(1, "k: must be exactly 32 hex digits");
	cr_assert_null(strstr(conf.error, "0001020304"));
}

Test(conf, hex_good)
{
	load("k = \"000102030405060708090A0b0c0d0e0f\";\n");
	uint8_t k[16];
	cr_assert_eq(m2m_conf_hex(&conf, NULL, "k", k, 16, 1), 0);
	cr_assert_eq(k[10], 0x0a);
	cr_assert(!conf.failed);
}

Test(conf, unknown_setting_is_named_with_list_index)
{
	load("peers = (\n  { id = \"a\"; },\n  { id = \"b\";\n    endpiont = \"ipc://x\"; }\n);\n");
	static const char *const names[] = {"id", "endpoint", "public_key", NULL};
	config_setting_t *peers = m2m_conf_list(&conf, NULL, "peers", 1);
	for (int i = 0; i < config_setting_length(peers); i++)
		m2m_conf_only(&conf, config_setting_get_elem(peers, (unsigned)i), names);
	expect_error(4, "peers.[1].endpiont: unknown setting (misspelt?)");
}

Test(conf, first_error_wins)
{
	load("a = 1;\nb = 2;\n");
	m2m_conf_str(&conf, NULL, "a", NULL, 1);
	m2m_conf_str(&conf, NULL, "b", NULL, 1);
	expect_error(1, "a: must be a string in double quotes");
}

Test(conf, path_of_nested_settings)
{
	load("t = { peers = ( { id = \"x\"; } ); };\n");
	char buf[64];
	config_setting_t *s = config_lookup(&conf.cfg, "t.peers.[0].id");
	cr_assert_not_null(s);
	cr_assert_str_eq(m2m_conf_path(s, buf, sizeof buf), "t.peers.[0].id");
}
