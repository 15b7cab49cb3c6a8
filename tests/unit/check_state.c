/*
 * common/state.c: atomic state files. Round trip, mode 0600 (also over a
 * file that was more open), replace, no temporary file left, a file larger
 * than the buffer, missing files and directories, remove.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/state.h"
#include "suites.h"

static char dir[64];

static void
setup(void)
{
	strcpy(dir, "/tmp/check_state.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_roundtrip)
{
	char		buf[64], path[128];
	struct stat	st;

	ck_assert_int_eq(state_write(dir, "f", "hello\n", 6), 0);
	ck_assert_int_eq(state_read(dir, "f", buf, sizeof(buf)), 6);
	ck_assert_str_eq(buf, "hello\n");
	snprintf(path, sizeof(path), "%s/f", dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	/* replaced whole, never appended */
	ck_assert_int_eq(state_write(dir, "f", "ab", 2), 0);
	ck_assert_int_eq(state_read(dir, "f", buf, sizeof(buf)), 2);
	ck_assert_str_eq(buf, "ab");
	/* no temporary left behind */
	snprintf(path, sizeof(path), "%s/f.tmp", dir);
	ck_assert_int_eq(access(path, F_OK), -1);
	/* empty file */
	ck_assert_int_eq(state_write(dir, "e", "", 0), 0);
	ck_assert_int_eq(state_read(dir, "e", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "");
}
END_TEST

START_TEST(test_mode_over_open_file)
{
	char		path[128];
	struct stat	st;
	FILE		*f;

	/* a stale temp file with a wide mode must not leak it */
	snprintf(path, sizeof(path), "%s/k.tmp", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fclose(f);
	ck_assert_int_eq(chmod(path, 0644), 0);
	ck_assert_int_eq(state_write(dir, "k", "secret", 6), 0);
	snprintf(path, sizeof(path), "%s/k", dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
}
END_TEST

START_TEST(test_errors)
{
	char	buf[8], big[100];

	/* missing file */
	errno = 0;
	ck_assert_int_eq(state_read(dir, "nope", buf, sizeof(buf)), -1);
	ck_assert_int_eq(errno, ENOENT);
	/* missing directory: the write fails and says so */
	ck_assert_int_eq(state_write("/nonexistent/dir", "f", "x", 1), -1);
	ck_assert_int_eq(errno, ENOENT);
	/* larger than the buffer */
	memset(big, 'x', sizeof(big));
	ck_assert_int_eq(state_write(dir, "big", big, sizeof(big)), 0);
	errno = 0;
	ck_assert_int_eq(state_read(dir, "big", buf, sizeof(buf)), -1);
	ck_assert_int_eq(errno, EFBIG);
	/* exactly cap - 1 fits */
	ck_assert_int_eq(state_write(dir, "seven", big, 7), 0);
	ck_assert_int_eq(state_read(dir, "seven", buf, sizeof(buf)), 7);
	/* remove, twice */
	ck_assert_int_eq(state_remove(dir, "seven"), 0);
	ck_assert_int_eq(state_remove(dir, "seven"), 0);
	ck_assert_int_eq(state_read(dir, "seven", buf, sizeof(buf)), -1);
}
END_TEST

Suite *
state_suite(void)
{
	Suite	*s = suite_create("state");
	TCase	*tc = tcase_create("state");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_mode_over_open_file);
	tcase_add_test(tc, test_errors);
	suite_add_tcase(s, tc);
	return s;
}
