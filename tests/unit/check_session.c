/*
 * relayd/session.c: the session table. Join/leave, per-session and total
 * limits, isolation between sessions, freeing on the last leave, growth
 * past many sessions. (relayd/iplimit.c: check_iplimit.c.)
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "relayd/relayd.h"
#include "relayd/session.h"
#include "suites.h"

START_TEST(test_join_leave)
{
	struct session_table	*t;
	struct session_member	 a = { .id = 1 }, b = { .id = 2 }, c = { .id = 3 };
	struct session		*s;

	ck_assert_int_ne(sodium_init(), -1);
	ck_assert_ptr_nonnull(t = session_table_new());
	ck_assert_ptr_null(session_find(t, "x"));
	ck_assert_int_eq(session_join(t, "x", &a, 2, 10, 1.0), 0);
	ck_assert_int_eq(session_join(t, "x", &b, 2, 10, 2.0), 0);
	ck_assert_ptr_nonnull(s = session_find(t, "x"));
	ck_assert_ptr_eq(a.sess, s);
	ck_assert_ptr_eq(b.sess, s);
	ck_assert_uint_eq(s->nmembers, 2);
	ck_assert_str_eq(s->id, "x");
	/* full */
	ck_assert_int_eq(session_join(t, "x", &c, 2, 10, 3.0), SESSION_EFULL);
	ck_assert_ptr_null(c.sess);
	/* order kept: a then b */
	ck_assert_ptr_eq(TAILQ_FIRST(&s->members), &a);
	ck_assert_uint_eq(session_leave(t, &a), 1);
	ck_assert_ptr_null(a.sess);
	ck_assert_ptr_eq(TAILQ_FIRST(&s->members), &b);
	ck_assert_int_eq(session_join(t, "x", &c, 2, 10, 3.0), 0);
	ck_assert_uint_eq(session_leave(t, &b), 1);
	ck_assert_uint_eq(session_leave(t, &c), 0);
	/* the last leave frees it */
	ck_assert_ptr_null(session_find(t, "x"));
	ck_assert_uint_eq(session_count(t), 0);
	/* leaving twice is harmless */
	ck_assert_uint_eq(session_leave(t, &c), 0);
	session_table_free(t);
}
END_TEST

START_TEST(test_isolation_and_limits)
{
	struct session_table	*t = session_table_new();
	struct session_member	 m[4];

	memset(m, 0, sizeof(m));
	ck_assert_int_eq(session_join(t, "a", &m[0], 8, 2, 0), 0);
	ck_assert_int_eq(session_join(t, "b", &m[1], 8, 2, 0), 0);
	ck_assert_ptr_ne(m[0].sess, m[1].sess);
	ck_assert_uint_eq(m[0].sess->nmembers, 1);
	/* a third session is over max_sessions; joining an existing is not */
	ck_assert_int_eq(session_join(t, "c", &m[2], 8, 2, 0), SESSION_ETOOMANY);
	ck_assert_int_eq(session_join(t, "a", &m[2], 8, 2, 0), 0);
	ck_assert_uint_eq(session_count(t), 2);
	/* similar ids are different sessions */
	ck_assert_ptr_null(session_find(t, "A"));
	ck_assert_ptr_null(session_find(t, "a "));
	session_leave(t, &m[1]);
	ck_assert_int_eq(session_join(t, "c", &m[3], 8, 2, 0), 0);
	ck_assert_int_eq(session_join(t, "d", &m[1], 0, 100, 0), SESSION_EFULL);
	session_leave(t, &m[0]);
	session_leave(t, &m[2]);
	session_leave(t, &m[3]);
	ck_assert_uint_eq(session_count(t), 0);
	session_table_free(t);
}
END_TEST

static void
count_cb(struct session *s, void *arg)
{
	*(unsigned *)arg += s->nmembers;
}

START_TEST(test_many)
{
	struct session_table	*t = session_table_new();
	static struct session_member m[5000];
	char			 id[32];
	unsigned		 i, n = 0;

	for (i = 0; i < 5000; i++) {
		snprintf(id, sizeof(id), "s%u", i / 2);
		ck_assert_int_eq(session_join(t, id, &m[i], 2, 100000, 0), 0);
	}
	ck_assert_uint_eq(session_count(t), 2500);
	for (i = 0; i < 5000; i += 2)
		ck_assert_ptr_eq(m[i].sess, m[i + 1].sess);
	ck_assert_ptr_eq(session_find(t, "s1234"), m[2468].sess);
	session_foreach(t, count_cb, &n);
	ck_assert_uint_eq(n, 5000);
	for (i = 0; i < 5000; i++)
		session_leave(t, &m[i]);
	ck_assert_uint_eq(session_count(t), 0);
	ck_assert_ptr_null(session_find(t, "s0"));
	session_table_free(t);
}
END_TEST

Suite *
session_suite(void)
{
	Suite	*s = suite_create("session");
	TCase	*tc = tcase_create("table");

	tcase_add_test(tc, test_join_leave);
	tcase_add_test(tc, test_isolation_and_limits);
	tcase_add_test(tc, test_many);
	suite_add_tcase(s, tc);
	return s;
}
