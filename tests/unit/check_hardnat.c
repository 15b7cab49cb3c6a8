/*
 * punchd/hardnat_behav: a side's NAT behaviour as birthday_strategy sees
 * it, on the wire and back, and the freshest port of a sequential
 * allocator.
 */
#include <string.h>

#include "punchd/birthday.h"
#include "punchd/hardnat.h"
#include "proto/relaymsg.h"
#include "suites.h"

static struct hardnat_behav
behav(const char *mapping, const char *alloc, int delta, uint16_t last)
{
	struct hardnat_behav b;

	memset(&b, 0, sizeof(b));
	b.known = 1;
	strcpy(b.mapping, mapping);
	strcpy(b.filtering, "address-and-port-dependent");
	strcpy(b.alloc, alloc);
	b.delta = delta;
	b.last_port = last;
	return b;
}

START_TEST(test_side)
{
	struct hardnat_behav	b;
	const char		*apd = "address-and-port-dependent";

	memset(&b, 0, sizeof(b));
	ck_assert_int_eq(hardnat_behav_side(&b), BDAY_SIDE_EASY);
	b = behav("endpoint-independent", "random", 0, 0);
	ck_assert_int_eq(hardnat_behav_side(&b), BDAY_SIDE_EASY);
	b = behav(apd, "sequential", 1, 40000);
	ck_assert_int_eq(hardnat_behav_side(&b), BDAY_SIDE_SEQ);
	b = behav("address-dependent", "sequential", -2, 40000);
	ck_assert_int_eq(hardnat_behav_side(&b), BDAY_SIDE_SEQ);
	/* sequential with delta 0 is nonsense: nothing to predict */
	b = behav(apd, "sequential", 0, 40000);
	ck_assert_int_eq(hardnat_behav_side(&b), BDAY_SIDE_RANDOM);
	b = behav(apd, "random", 0, 0);
	ck_assert_int_eq(hardnat_behav_side(&b), BDAY_SIDE_RANDOM);
	b = behav(apd, "unknown", 0, 0);
	ck_assert_int_eq(hardnat_behav_side(&b), BDAY_SIDE_RANDOM);
	b = behav(apd, "port-preserving", 0, 0);
	ck_assert_int_eq(hardnat_behav_side(&b), BDAY_SIDE_EASY);
	/* a word from a future peer: ordinary punching */
	b = behav("something-new", "sequential", 1, 0);
	ck_assert_int_eq(hardnat_behav_side(&b), BDAY_SIDE_EASY);
}
END_TEST

START_TEST(test_wire)
{
	struct hardnat_behav	a, b;
	struct relaymsg_nat	w;
	char			s[200];

	a = behav("address-and-port-dependent", "sequential", 1, 40005);
	a.seen_at = 100;
	a.rate = 0.5;
	a.confidence = 0.8;
	hardnat_behav_to_wire(&a, 102.5, &w);
	ck_assert_uint_eq(w.age_ms, 2500);
	ck_assert_uint_eq(w.last_port, 40005);
	/* the peer's clock is another: ages, not times */
	hardnat_behav_from_wire(&b, &w, 5000);
	ck_assert(b.known);
	ck_assert_double_eq_tol(b.seen_at, 4997.5, 1e-6);
	ck_assert_str_eq(b.alloc, "sequential");
	ck_assert_int_eq(b.delta, 1);
	ck_assert_double_eq_tol(b.rate, 0.5, 1e-9);
	hardnat_behav_str(&b, s, sizeof(s));
	ck_assert_str_eq(s, "mapping address-and-port-dependent, filtering "
	    "address-and-port-dependent, sequential ports (delta +1, last "
	    "40005, confidence 0.80)");
	/* a clock that went back: age 0, never negative */
	hardnat_behav_to_wire(&a, 50, &w);
	ck_assert_uint_eq(w.age_ms, 0);
	memset(&b, 0, sizeof(b));
	hardnat_behav_str(&b, s, sizeof(s));
	ck_assert_str_eq(s, "unknown");
}
END_TEST

START_TEST(test_freshest)
{
	struct hardnat_behav b;

	b = behav("address-and-port-dependent", "sequential", 1, 40005);
	/* our socket's mapping was made after stund's: it is fresher */
	ck_assert_uint_eq(hardnat_behav_freshest(&b, 40009), 40009);
	/* before: stund's */
	ck_assert_uint_eq(hardnat_behav_freshest(&b, 40002), 40005);
	ck_assert_uint_eq(hardnat_behav_freshest(&b, 40005), 40005);
	/* a downward allocator, across the wrap */
	b = behav("address-and-port-dependent", "sequential", -1, 1030);
	ck_assert_uint_eq(hardnat_behav_freshest(&b, 65530), 65530);
	ck_assert_uint_eq(hardnat_behav_freshest(&b, 1031), 1030);
	/* far away is another story (a NAT reboot): stund's */
	b = behav("address-and-port-dependent", "sequential", 1, 40005);
	ck_assert_uint_eq(hardnat_behav_freshest(&b, 50000), 40005);
	/* not sequential: stund's port, whatever ours */
	b = behav("endpoint-independent", "port-preserving", 0, 7777);
	ck_assert_uint_eq(hardnat_behav_freshest(&b, 7778), 7777);
}
END_TEST

Suite *
hardnat_suite(void)
{
	Suite	*s = suite_create("hardnat");
	TCase	*tc = tcase_create("hardnat");

	tcase_add_test(tc, test_side);
	tcase_add_test(tc, test_wire);
	tcase_add_test(tc, test_freshest);
	suite_add_tcase(s, tc);
	return s;
}
