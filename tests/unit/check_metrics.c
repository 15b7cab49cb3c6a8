/*
 * relayd/metrics.c: the counter table is whole (every key and family
 * once, the rows of a family together) and /metrics is written from it:
 * each row's family and label carry that row's field, with HELP and TYPE
 * once per family.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "relayd/relayd.h"
#include "suites.h"

START_TEST(test_table_whole)
{
	size_t i, j;

	ck_assert_uint_gt(metrics_ncounters, 10);
	for (i = 0; i < metrics_ncounters; i++) {
		const struct metrics_counter *a = &metrics_counters[i];

		ck_assert_ptr_nonnull(a->family);
		ck_assert_ptr_nonnull(a->help);
		ck_assert(strncmp(a->family, "relayd_", 7) == 0);
		ck_assert_str_eq(a->family + strlen(a->family) - 6, "_total");
		ck_assert_uint_eq(a->off % sizeof(uint64_t), 0);
		ck_assert_uint_lt(a->off, sizeof(struct relayd_stats));
		for (j = i + 1; j < metrics_ncounters; j++) {
			const struct metrics_counter *b = &metrics_counters[j];

			ck_assert_uint_ne(a->off, b->off);
			if (a->key != NULL && b->key != NULL)
				ck_assert_str_ne(a->key, b->key);
			/* a family's rows follow each other, labelled apart */
			if (strcmp(a->family, b->family) == 0) {
				ck_assert_uint_eq(j, i + 1);
				ck_assert_ptr_nonnull(a->reason);
				ck_assert_ptr_nonnull(b->reason);
				ck_assert_str_ne(a->reason, b->reason);
				ck_assert_str_eq(a->help, b->help);
				break;
			}
		}
	}
}
END_TEST

START_TEST(test_prometheus_from_table)
{
	struct relayd	 rd;
	char		*text, line[256];
	size_t		 len, i;

	ck_assert_int_ne(sodium_init(), -1);
	memset(&rd, 0, sizeof(rd));
	ck_assert_ptr_nonnull(rd.loop = ev_loop_new(EVFLAG_AUTO));
	rd.dctx.loop = rd.loop;
	relayd_conf_defaults(&rd.conf);
	ck_assert_ptr_nonnull(rd.sessions = session_table_new());
	ck_assert_ptr_nonnull(rd.ips = iplimit_new(&rd, connio_update));
	/* every field a different value: a row reading the wrong one shows */
	for (i = 0; i < metrics_ncounters; i++)
		*(uint64_t *)(void *)((char *)&rd.st + metrics_counters[i].off) =
		    1000 + i;
	ck_assert_ptr_nonnull(text = metrics_prometheus(&rd, &len));
	ck_assert_uint_eq(strlen(text), len);
	for (i = 0; i < metrics_ncounters; i++) {
		const struct metrics_counter *m = &metrics_counters[i];

		if (m->reason != NULL)
			snprintf(line, sizeof(line), "\n%s{reason=\"%s\"} %zu\n",
			    m->family, m->reason, 1000 + i);
		else
			snprintf(line, sizeof(line), "\n%s %zu\n", m->family,
			    1000 + i);
		ck_assert_msg(strstr(text, line) != NULL, "missing: %s", line);
		snprintf(line, sizeof(line), "# TYPE %s counter\n", m->family);
		ck_assert_ptr_nonnull(strstr(text, line));
		/* once per family */
		ck_assert_ptr_null(strstr(strstr(text, line) + 1, line));
		snprintf(line, sizeof(line), "# HELP %s %s\n", m->family,
		    m->help);
		ck_assert_ptr_nonnull(strstr(text, line));
	}
	free(text);
	iplimit_free(rd.ips);
	session_table_free(rd.sessions);
	ev_loop_destroy(rd.loop);
}
END_TEST

Suite *
metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("relayd counters");

	tcase_add_test(tc, test_table_whole);
	tcase_add_test(tc, test_prometheus_from_table);
	suite_add_tcase(s, tc);
	return s;
}
