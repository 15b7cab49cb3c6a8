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

#define T(sec, k, t, f, mn, mx, h, ...) \
	{ .section = sec, .key = k, .type = t, \
	  .offset = offsetof(struct tcfg, f), \
	  .size = sizeof(((struct tcfg *)0)->f), .min = mn, .max = mx, \
	  .help = h, __VA_ARGS__ }

static const struct config_opt topts[] = {
	T("stund", "name", CONFIG_STR, name, 0, 0, "A name. .dotted.",
	    .arg = "word"),
	T("stund", "port", CONFIG_INT, port, 1, 65535, "A port.",
	    .flags = CONFIG_RESTART),
	T("stund", "enabled", CONFIG_BOOL, enabled, 0, 1, "A switch."),
	T("stund", "interval", CONFIG_MS, interval, 10, 3600000, "A duration.",
	    .dflt = "a tenth of a second"),
	T("mesh", "name", CONFIG_STR, mesh, 0, 0, "Mesh name.",
	    .flags = CONFIG_RESTART),
};
static const char *const tsections[] = { "stund", "relayd", "mesh", NULL };

static void
tdefaults(void *arg)
{
	struct tcfg *c = arg;

	memset(c, 0, sizeof(*c));
	strlcpy(c->name, "def", sizeof(c->name));
	c->port = 1;
	c->interval = 100;
}

/* a cross-key check: enabled needs a port above 1 */
static int
tfinish(void *arg, char *err, size_t errlen)
{
	struct tcfg *c = arg;

	if (c->enabled && c->port < 2) {
		snprintf(err, errlen, "enabled needs a port");
		return -1;
	}
	return 0;
}

static const struct config_table ttable = {
	.opts = topts,
	.nopts = sizeof(topts) / sizeof(topts[0]),
	.sections = tsections,
	.size = sizeof(struct tcfg),
	.defaults = tdefaults,
	.finish = tfinish,
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

START_TEST(test_read)
{
	struct tcfg	 c = { "old", 5, 0, 100, "" };
	char		 err[256] = "";
	char		*ov[] = { "stund.port=9", "enabled=yes" };
	char		*bad[] = { "stund.port=9", "stund.port=nine" };
	char		*off[] = { "stund.port=1", "enabled=yes" };

	write_conf("[stund]\nname = file\nport = 3\n");
	/* defaults, then the file, then the overrides in order */
	ck_assert_int_eq(config_read(&ttable, &c, tpath, 0, ov, 2, err,
	    sizeof(err)), 0);
	ck_assert_str_eq(c.name, "file");
	ck_assert_int_eq(c.port, 9);
	ck_assert_int_eq(c.enabled, 1);
	ck_assert_int_eq(c.interval, 100);	/* the default */
	/* a bad override: refused, nothing written */
	ck_assert_int_eq(config_read(&ttable, &c, tpath, 0, bad, 2, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "nine"));
	ck_assert_int_eq(c.port, 9);
	/* the cross-key check fails: refused, nothing written */
	ck_assert_int_eq(config_read(&ttable, &c, tpath, 0, off, 2, err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, "enabled needs a port");
	ck_assert_int_eq(c.port, 9);
	ck_assert_str_eq(c.name, "file");
	unlink(tpath);
	/* no file, optional: the defaults */
	ck_assert_int_eq(config_read(&ttable, &c, "/nonexistent/x.conf", 1,
	    NULL, 0, err, sizeof(err)), 0);
	ck_assert_str_eq(c.name, "def");
	ck_assert_int_eq(config_read(&ttable, &c, "/nonexistent/x.conf", 0,
	    NULL, 0, err, sizeof(err)), -1);
}
END_TEST

START_TEST(test_keep)
{
	struct tcfg	run = { "a", 7, 0, 100, "home" };
	struct tcfg	next = { "b", 8, 1, 200, "work" };

	/* port and mesh.name are read at start-up: back to the running ones */
	ck_assert_int_eq(config_keep(&ttable, &next, &run, "x.conf"), 2);
	ck_assert_int_eq(next.port, 7);
	ck_assert_str_eq(next.mesh, "home");
	ck_assert_str_eq(next.name, "b");
	ck_assert_int_eq(next.interval, 200);
	ck_assert_int_eq(config_keep(&ttable, &next, &run, "x.conf"), 0);
}
END_TEST

START_TEST(test_format)
{
	struct tcfg	c = { "", 80, 1, 250, "" };
	char		buf[64];
	static const struct { int ms; const char *s; } d[] = {
		{ 0, "0" }, { 250, "250ms" }, { 1500, "1500ms" },
		{ 2000, "2s" },
		{ 60000, "1m" }, { 90000, "90s" }, { 1800000, "30m" },
		{ 3600000, "1h" }, { 86400000, "24h" },
	};
	size_t		i;

	config_format(&topts[0], &c, buf, sizeof(buf));
	ck_assert_str_eq(buf, "");
	config_format(&topts[1], &c, buf, sizeof(buf));
	ck_assert_str_eq(buf, "80");
	config_format(&topts[2], &c, buf, sizeof(buf));
	ck_assert_str_eq(buf, "yes");
	for (i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		c.interval = d[i].ms;
		config_format(&topts[3], &c, buf, sizeof(buf));
		ck_assert_str_eq(buf, d[i].s);
	}
}
END_TEST

/* what fn prints to stdout, in buf */
static void
capture(void (*fn)(const struct config_table *), char *buf, size_t len)
{
	FILE	*f = tmpfile();
	int	 saved, n;

	ck_assert_ptr_nonnull(f);
	fflush(stdout);
	saved = dup(1);
	dup2(fileno(f), 1);
	fn(&ttable);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	rewind(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

START_TEST(test_doc)
{
	char buf[4096];

	capture(config_print_mdoc, buf, sizeof(buf));
	ck_assert_msg(strstr(buf, ".Sh [stund]\n.Bl -tag -width Ds\n"
	    ".It Ic name Ns = Ns Ar word\nA name.\n\\&.dotted.\n"
	    "Default: def.\n") != NULL, "%s", buf);
	ck_assert_msg(strstr(buf, ".It Ic port Ns = Ns Ar n\nA port.\n"
	    "Range: 1 to 65535.\nDefault: 1.\nRead at start-up (restart).\n")
	    != NULL, "%s", buf);
	ck_assert_msg(strstr(buf, "Range: 10ms to 1h.\nDefault: 100ms (a "
	    "tenth of a second).\n") != NULL, "%s", buf);
	/* [relayd] has no key in this table: no section for it */
	ck_assert_ptr_null(strstr(buf, "[relayd]"));
	ck_assert_msg(strstr(buf, ".El\n.Sh [mesh]\n") != NULL, "%s", buf);
	ck_assert_msg(strstr(buf, "Default: empty.\nRead at start-up") != NULL,
	    "%s", buf);

	capture(config_print_keys, buf, sizeof(buf));
	ck_assert_msg(strstr(buf, "  [stund] port = n\n      A port. Range: 1 "
	    "to 65535. Default: 1. Read at start-up (restart).\n") != NULL,
	    "%s", buf);
	ck_assert_msg(strstr(buf, "  [mesh] name = string\n") != NULL, "%s",
	    buf);
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
	tcase_add_test(tc, test_read);
	tcase_add_test(tc, test_keep);
	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_doc);
	suite_add_tcase(s, tc);
	return s;
}
