#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "suites.h"

struct tcfg {
	char	name[8];
	int	port;
	int	enabled;
	int	interval;
	char	mesh[16];
};

static const struct config_opt topts[] = {
	{ "stund", "name", CONFIG_STR, offsetof(struct tcfg, name),
	    sizeof(((struct tcfg *)0)->name), 0, 0, "a name" },
	{ "stund", "port", CONFIG_INT, offsetof(struct tcfg, port), 0,
	    1, 65535, "a port" },
	{ "stund", "enabled", CONFIG_BOOL, offsetof(struct tcfg, enabled), 0,
	    0, 0, "a switch" },
	{ "stund", "interval", CONFIG_MS, offsetof(struct tcfg, interval), 0,
	    10, 3600000, "a duration" },
	{ "mesh", "name", CONFIG_STR, offsetof(struct tcfg, mesh),
	    sizeof(((struct tcfg *)0)->mesh), 0, 0, "mesh name" },
};
static const char *const tsections[] = { "stund", "mesh", NULL };
static const struct config_table ttable = {
	topts, sizeof(topts) / sizeof(topts[0]), tsections
};

static char tpath[64];

static void
write_conf(const char *text)
{
	FILE	*f;
	int	 fd;

	snprintf(tpath, sizeof(tpath), "/tmp/check_config.XXXXXX");
	fd = mkstemp(tpath);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static int
load(const char *text, struct tcfg *c, char *err, size_t errlen)
{
	int r;

	write_conf(text);
	r = config_load(&ttable, c, tpath, 0, err, errlen);
	unlink(tpath);
	return r;
}

START_TEST(test_load_ok)
{
	struct tcfg	c = { "def", 1, 0, 100, "" };
	char		err[256] = "";

	ck_assert_int_eq(load("; comment\n[stund]\nname = srv\nport=3478\n"
	    "enabled = yes\ninterval = 250ms\n\n[punchd]\nwhatever = 1\n"
	    "[mesh]\nname = home\n", &c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.name, "srv");
	ck_assert_int_eq(c.port, 3478);
	ck_assert_int_eq(c.enabled, 1);
	ck_assert_int_eq(c.interval, 250);
	ck_assert_str_eq(c.mesh, "home");
}
END_TEST

START_TEST(test_unknown_key_line)
{
	struct tcfg	c = { "def", 1, 0, 100, "" };
	char		err[256] = "";

	ck_assert_int_eq(load("[stund]\nport = 1\n\nprot = 2\n", &c, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, ":4:") != NULL, "no line number: %s", err);
	ck_assert_msg(strstr(err, "prot") != NULL, "no key: %s", err);
	ck_assert_msg(strstr(err, tpath) != NULL, "no path: %s", err);
}
END_TEST

START_TEST(test_bad_values)
{
	struct tcfg	c = { "def", 1, 0, 100, "" };
	char		err[256];

	ck_assert_int_eq(load("[stund]\nport = 70000\n", &c, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, ":2:"));
	ck_assert_int_eq(load("[stund]\nport = 12x\n", &c, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(load("[stund]\nport =\n", &c, err, sizeof(err)), -1);
	ck_assert_int_eq(load("[stund]\nenabled = maybe\n", &c, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(load("[stund]\ninterval = 5x\n", &c, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(load("[stund]\ninterval = 1ms\n", &c, err,
	    sizeof(err)), -1);	/* under min */
	ck_assert_int_eq(load("[stund]\nname = waytoolongname\n", &c, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(load("[stund]\nthis line has no equals\n", &c, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, ":2:"));
	/* nothing was half-applied from the failing lines */
	ck_assert_int_eq(c.port, 1);
	ck_assert_str_eq(c.name, "def");
}
END_TEST

START_TEST(test_durations)
{
	long v;
	int b;

	ck_assert_int_eq(config_parse_ms("250ms", &v), 0);
	ck_assert_int_eq(v, 250);
	ck_assert_int_eq(config_parse_ms("2s", &v), 0);
	ck_assert_int_eq(v, 2000);
	ck_assert_int_eq(config_parse_ms("3", &v), 0);
	ck_assert_int_eq(v, 3000);
	ck_assert_int_eq(config_parse_ms("1m", &v), 0);
	ck_assert_int_eq(v, 60000);
	ck_assert_int_eq(config_parse_ms("1.5s", &v), 0);
	ck_assert_int_eq(v, 1500);
	ck_assert_int_eq(config_parse_ms("-1s", &v), -1);
	ck_assert_int_eq(config_parse_ms("", &v), -1);
	ck_assert_int_eq(config_parse_ms("10 parsecs", &v), -1);
	ck_assert_int_eq(config_parse_ms("999999999h", &v), -1);
	ck_assert_int_eq(config_parse_bool("on", &b), 0);
	ck_assert_int_eq(b, 1);
	ck_assert_int_eq(config_parse_bool("FALSE", &b), 0);
	ck_assert_int_eq(b, 0);
	ck_assert_int_eq(config_parse_bool("2", &b), -1);
}
END_TEST

START_TEST(test_overrides)
{
	struct tcfg	c = { "def", 1, 0, 100, "" };
	char		err[256];

	ck_assert_int_eq(config_set_arg(&ttable, &c, "stund.port=9", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(c.port, 9);
	/* a plain key belongs to the first section */
	ck_assert_int_eq(config_set_arg(&ttable, &c, "interval=2s", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(c.interval, 2000);
	ck_assert_int_eq(config_set_arg(&ttable, &c, "mesh.name=x=y", err,
	    sizeof(err)), 0);
	ck_assert_str_eq(c.mesh, "x=y");
	ck_assert_int_eq(config_set_arg(&ttable, &c, "stund.port", err,
	    sizeof(err)), -1);
	ck_assert_int_eq(config_set_arg(&ttable, &c, "stund.nope=1", err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "nope"));
	ck_assert_int_eq(config_set_arg(&ttable, &c, "stund.port=0", err,
	    sizeof(err)), -1);
	ck_assert_int_eq(c.port, 9);
}
END_TEST

START_TEST(test_missing_file)
{
	struct tcfg	c = { "def", 1, 0, 100, "" };
	char		err[256] = "";

	ck_assert_int_eq(config_load(&ttable, &c, "/nonexistent/x.conf", 1,
	    err, sizeof(err)), 0);
	ck_assert_str_eq(c.name, "def");
	ck_assert_int_eq(config_load(&ttable, &c, "/nonexistent/x.conf", 0,
	    err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/x.conf"));
}
END_TEST

Suite *
config_suite(void)
{
	Suite	*s = suite_create("config");
	TCase	*tc = tcase_create("config");

	tcase_add_test(tc, test_load_ok);
	tcase_add_test(tc, test_unknown_key_line);
	tcase_add_test(tc, test_bad_values);
	tcase_add_test(tc, test_durations);
	tcase_add_test(tc, test_overrides);
	tcase_add_test(tc, test_missing_file);
	suite_add_tcase(s, tc);
	return s;
}
