/*
 * common/startup.c: the daemons' shared flags, their own flags from a
 * table, the first load, the socket path, the exit statuses and reload.
 * Each test runs in its own process (check's fork mode), so getopt and the
 * exit() of a usage error start clean.
 */
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"
#include "common/startup.h"
#include "suites.h"

struct scfg {
	int	port;
	int	on;
	int	ms;
	char	socket[64];
};

#define S(k, t, f, mn, mx, ...) \
	{ .section = "demo", .key = k, .type = t, \
	  .offset = offsetof(struct scfg, f), \
	  .size = sizeof(((struct scfg *)0)->f), .min = mn, .max = mx, \
	  .help = "Help.", __VA_ARGS__ }

static const struct config_opt sopts[] = {
	S("port", CONFIG_INT, port, 0, 65535, .flags = CONFIG_RESTART),
	S("on", CONFIG_BOOL, on, 0, 1),
	S("interval", CONFIG_MS, ms, 10, 60000),
	S("socket", CONFIG_STR, socket, 0, 0, .flags = CONFIG_RESTART),
};
static const char *const ssections[] = { "demo", NULL };

static void
sdefaults(void *arg)
{
	struct scfg *c = arg;

	memset(c, 0, sizeof(*c));
	c->port = 7;
	c->ms = 1000;
}

static const struct config_table stable = {
	.opts = sopts,
	.nopts = sizeof(sopts) / sizeof(sopts[0]),
	.sections = ssections,
	.size = sizeof(struct scfg),
	.defaults = sdefaults,
};

static const char *token;

static const struct startup_flag sflags[] = {
	{ "port", 'p', "PORT", "port", NULL, NULL, "the port" },
	{ "enable", 0, NULL, "on", "yes", NULL, "switch it on" },
	{ "token", 0, "T", NULL, NULL, &token, "hand T to main" },
};

static const struct startup_prog sprog = {
	.name = "demo",
	.about = "A daemon for the tests.",
	.example = "demo.port=1",
	.table = &stable,
	.flags = sflags,
	.nflags = sizeof(sflags) / sizeof(sflags[0]),
};

static char	spath[64];

static void
swrite(const char *text)
{
	FILE *f;

	ck_assert_ptr_nonnull(f = fopen(spath, "w"));
	fputs(text, f);
	fclose(f);
}

static void
sargs(struct startup *st, int argc, char **argv)
{
	optind = 0;	/* getopt from the start */
	startup_args(st, &sprog, argc, argv);
}

static void
teardown(void)
{
	unlink(spath);
}

static void
setup(void)
{
	int fd;

	snprintf(spath, sizeof(spath), "/tmp/check_startup.XXXXXX");
	ck_assert_int_ge(fd = mkstemp(spath), 0);
	close(fd);
	/* the tests of usage errors end in exit(), where check runs no
	 * teardown: the file goes then too */
	atexit(teardown);
}

START_TEST(test_flags)
{
	struct startup	 st;
	struct scfg	 c;
	char		*argv[] = { "demo", "-f", spath, "-o",
	    "demo.interval=2s", "-p", "99", "--enable", "--token", "tok", "-s", "/run/x.sock",
	    "-n", "-q", NULL };

	swrite("[demo]\nport = 5\ninterval = 50ms\n[other]\nkey = 1\n");
	sargs(&st, 14, argv);
	ck_assert_str_eq(st.cfgpath, spath);
	ck_assert_int_eq(st.optional, 0);
	ck_assert_int_eq(st.check, 1);
	/* every key-setting flag is an override, in command-line order */
	ck_assert_int_eq(st.noverrides, 4);
	ck_assert_str_eq(st.overrides[0], "demo.interval=2s");
	ck_assert_str_eq(st.overrides[1], "demo.port=99");
	ck_assert_str_eq(st.overrides[2], "demo.on=yes");
	ck_assert_str_eq(st.overrides[3], "demo.socket=/run/x.sock");
	ck_assert_str_eq(token, "tok");
	/* the overrides win over the file, the file over the defaults */
	startup_config(&st, &c);
	ck_assert_int_eq(c.port, 99);
	ck_assert_int_eq(c.on, 1);
	ck_assert_int_eq(c.ms, 2000);
	ck_assert_str_eq(c.socket, "/run/x.sock");
	startup_fini(&st);
	ck_assert_int_eq(st.noverrides, 0);
}
END_TEST

START_TEST(test_no_file)
{
	struct startup	 st;
	struct scfg	 c;
	char		*argv[] = { "demo", NULL };

	setenv("ATMOSPHERE_CONFIG", "/nonexistent/atmosphere.conf", 1);
	sargs(&st, 1, argv);
	ck_assert_int_eq(st.optional, 1);
	ck_assert_str_eq(st.cfgpath, "/nonexistent/atmosphere.conf");
	startup_config(&st, &c);	/* absent and not given: defaults */
	ck_assert_int_eq(c.port, 7);
	ck_assert_int_eq(c.ms, 1000);
}
END_TEST

/* command lines that end in a usage or configuration error: exit 2 */
static const char *const bad_usage[][6] = {
	{ "demo", "--nope" },
	{ "demo", "-v", "extra" },
	{ "demo", "--help-config=html" },
	{ "demo", "-f", "/nonexistent/x.conf" },	/* given: must exist */
	{ "demo", "-o", "demo.port=x" },
	{ "demo", "-o", "demo.nokey=1" },
	{ "demo", "-o", "noequals" },
};

START_TEST(test_exit_config)
{
	struct startup	 st;
	struct scfg	 c;
	char		*argv[6] = { NULL };
	int		 argc;

	for (argc = 0; bad_usage[_i][argc] != NULL; argc++)
		argv[argc] = (char *)bad_usage[_i][argc];
	ck_assert_ptr_nonnull(freopen("/dev/null", "w", stderr));
	setenv("ATMOSPHERE_CONFIG", "/nonexistent/atmosphere.conf", 1);
	sargs(&st, argc, argv);
	startup_config(&st, &c);
	ck_abort_msg("case %d returned instead of exiting", _i);
}
END_TEST

START_TEST(test_help)
{
	struct startup	 st;
	char		*argv[] = { "demo", "--help", NULL };

	ck_assert_ptr_nonnull(freopen("/dev/null", "w", stdout));
	sargs(&st, 2, argv);
	ck_abort_msg("returned instead of exiting");
}
END_TEST

START_TEST(test_reload)
{
	struct startup	 st;
	struct scfg	 run, next;
	char		*argv[] = { "demo", "-f", spath, "-o", "demo.on=yes",
	    NULL };

	swrite("[demo]\nport = 5\ninterval = 50ms\n");
	sargs(&st, 5, argv);
	startup_config(&st, &run);
	ck_assert_int_eq(run.ms, 50);

	/* a bad file: refused, next untouched */
	memset(&next, 0xa5, sizeof(next));
	swrite("[demo]\ninterval = forever\n");
	ck_assert_int_eq(startup_reload(&st, &next, &run), -1);
	ck_assert_int_eq(next.port, (int)0xa5a5a5a5);

	/* taken: the new interval, port kept (restart), -o applied again */
	swrite("[demo]\nport = 6\ninterval = 75ms\non = no\n");
	ck_assert_int_eq(startup_reload(&st, &next, &run), 0);
	ck_assert_int_eq(next.ms, 75);
	ck_assert_int_eq(next.port, 5);
	ck_assert_int_eq(next.on, 1);
	startup_fini(&st);
}
END_TEST

START_TEST(test_socket)
{
	struct startup	 st;
	struct scfg	 c;
	struct stat	 sb;
	char		 dir[64], want[128], buf[128];
	char		*argv[] = { "demo", NULL };

	sargs(&st, 1, argv);
	memset(&c, 0, sizeof(c));
	strlcpy(c.socket, "/some/where.sock", sizeof(c.socket));
	ck_assert_int_eq(startup_socket(&st, &c, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/some/where.sock");
	ck_assert_int_eq(startup_socket(&st, &c, buf, 8), -1);	/* too long */

	/* the default: $RUNTIME_DIRECTORY/demo.sock, the directory made */
	snprintf(dir, sizeof(dir), "/tmp/check_startup.%d", (int)getpid());
	snprintf(want, sizeof(want), "%s/run/demo.sock", dir);
	strlcat(dir, "/run", sizeof(dir));
	setenv("RUNTIME_DIRECTORY", dir, 1);
	c.socket[0] = '\0';
	ck_assert_int_eq(startup_socket(&st, &c, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, want);
	ck_assert_int_eq(stat(dir, &sb), 0);
	ck_assert(S_ISDIR(sb.st_mode));
	rmdir(dir);
	*strrchr(dir, '/') = '\0';
	rmdir(dir);
}
END_TEST

Suite *
startup_suite(void)
{
	Suite	*s = suite_create("startup");
	TCase	*tc = tcase_create("startup");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_flags);
	tcase_add_test(tc, test_no_file);
	tcase_add_loop_exit_test(tc, test_exit_config, STARTUP_EXIT_CONFIG, 0,
	    sizeof(bad_usage) / sizeof(bad_usage[0]));
	tcase_add_exit_test(tc, test_help, STARTUP_EXIT_OK);
	tcase_add_test(tc, test_reload);
	tcase_add_test(tc, test_socket);
	suite_add_tcase(s, tc);
	return s;
}
