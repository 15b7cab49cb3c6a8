#include <string.h>

#include "proto/methods.h"
#include "suites.h"

START_TEST(test_find)
{
	const struct proto_method *m;

	m = proto_method_find("stund", "status.get");
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(m->daemon, "*");
	ck_assert_ptr_nonnull(proto_method_find("stund", "stun.discover"));
	ck_assert_ptr_null(proto_method_find("relayd", "stun.discover"));
	ck_assert_ptr_null(proto_method_find("stund", "no.such"));
}
END_TEST

START_TEST(test_names_unique_and_shaped)
{
	size_t i, j;

	for (i = 0; i < proto_nmethods; i++) {
		const char *n = proto_methods[i].name;

		/* noun.verb */
		ck_assert_ptr_nonnull(strchr(n, '.'));
		ck_assert_uint_lt(strlen(n), 64);
		for (j = i + 1; j < proto_nmethods; j++)
			ck_assert_msg(strcmp(n, proto_methods[j].name) != 0 ||
			    (strcmp(proto_methods[i].daemon,
			    proto_methods[j].daemon) != 0 &&
			    strcmp(proto_methods[i].daemon, "*") != 0 &&
			    strcmp(proto_methods[j].daemon, "*") != 0),
			    "duplicate method %s", n);
	}
}
END_TEST

Suite *
methods_suite(void)
{
	Suite *s = suite_create("methods");
	TCase *tc = tcase_create("table");

	tcase_add_test(tc, test_find);
	tcase_add_test(tc, test_names_unique_and_shaped);
	suite_add_tcase(s, tc);
	return s;
}
