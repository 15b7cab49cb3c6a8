/*
 * punchd/pathsel: the cost order (LAN over hairpin, IPv6 over IPv4, relay
 * over a lossy direct path), hysteresis against flapping, and failover.
 * punchd/upgrade is checked in check_upgrade.c.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "punchd/pathsel.h"
#include "fakenat.h"
#include "suites.h"

/* call choose every 0.1 s from `from` to `to`; returns the switch time */
static double
run_until_switch(struct pathsel *ps, double from, double to)
{
	unsigned	n = ps->switches;
	double		t;

	for (t = from; t < to; t += 0.1) {
		pathsel_choose(ps, t);
		if (ps->switches != n)
			return t;
	}
	return -1;
}

START_TEST(test_lan_replaces_hairpin)
{
	struct pathsel	ps;
	int		hp, lan;
	double		t;

	pathsel_init(&ps);
	hp = pathsel_add(&ps, PATH_KIND_HAIRPIN, 4);
	lan = pathsel_add(&ps, PATH_KIND_LAN, 4);
	pathsel_measure(&ps, hp, 0.0005, 0, 5);
	pathsel_up(&ps, hp, 0);
	ck_assert_int_eq(pathsel_choose(&ps, 0), hp);
	ck_assert_ptr_nonnull(strstr(ps.reason, "first path"));
	/* the LAN pair completes later; its RTT samples come a second on */
	pathsel_up(&ps, lan, 3);
	pathsel_measure(&ps, lan, 0.0003, 0, 1);
	ck_assert(run_until_switch(&ps, 3, 4) < 0);
	pathsel_measure(&ps, lan, 0.0003, 0, 5);
	t = run_until_switch(&ps, 4, 30);
	/* cheaper from 4 s, held 2 s; the dwell since the first choice at
	 * 0 s ends at 10 s */
	ck_assert(t >= 10 - 1e-9 && t < 10.2);
	ck_assert_int_eq(ps.current, lan);
	ck_assert_ptr_nonnull(strstr(ps.reason, "hairpin/4"));
	ck_assert_ptr_nonnull(strstr(ps.reason, "-> LAN/4"));
}
END_TEST

START_TEST(test_ipv6_policy)
{
	struct pathsel	ps;
	int		v4, v6;

	pathsel_init(&ps);
	v4 = pathsel_add(&ps, PATH_KIND_DIRECT, 4);
	v6 = pathsel_add(&ps, PATH_KIND_DIRECT, 6);
	pathsel_measure(&ps, v4, 0.030, 0, 5);
	pathsel_up(&ps, v4, 0);
	ck_assert_int_eq(pathsel_choose(&ps, 0), v4);
	/* IPv6 at the same RTT wins later */
	pathsel_measure(&ps, v6, 0.030, 0, 5);
	pathsel_up(&ps, v6, 1);
	ck_assert(run_until_switch(&ps, 1, 30) > 0);
	ck_assert_int_eq(ps.current, v6);
	/* 5 ms slower IPv6 is kept ... */
	pathsel_measure(&ps, v6, 0.035, 0, 10);
	ck_assert(run_until_switch(&ps, 30, 60) < 0);
	/* ... 20 ms slower is not */
	pathsel_measure(&ps, v6, 0.050, 0, 10);
	ck_assert(run_until_switch(&ps, 60, 90) > 0);
	ck_assert_int_eq(ps.current, v4);
}
END_TEST

START_TEST(test_dead_path_fails_over_at_once)
{
	struct pathsel	ps;
	int		d, r;

	pathsel_init(&ps);
	r = pathsel_add(&ps, PATH_KIND_RELAY, 0);
	d = pathsel_add(&ps, PATH_KIND_DIRECT, 4);
	pathsel_measure(&ps, r, 0.080, 0, 10);
	pathsel_measure(&ps, d, 0.020, 0, 10);
	pathsel_up(&ps, r, 0);
	pathsel_up(&ps, d, 0);
	ck_assert_int_eq(pathsel_choose(&ps, 0), d);
	/* dead: the relay at once, whatever the dwell */
	pathsel_down(&ps, d, 1);
	ck_assert_int_eq(pathsel_choose(&ps, 1), r);
	ck_assert_ptr_nonnull(strstr(ps.reason, "current path dead"));
	/* back at 2 s: held down 10 s, then cheaper for 2 s */
	pathsel_up(&ps, d, 2);
	ck_assert(fabs(run_until_switch(&ps, 2, 30) - 14) < 0.25);
	ck_assert_int_eq(ps.current, d);
	/* nothing alive: none */
	pathsel_down(&ps, d, 20);
	pathsel_remove(&ps, r);
	ck_assert_int_eq(pathsel_choose(&ps, 20), -1);
}
END_TEST

/*
 * A direct path (30 ms) that loses 50 % from 30 s to 400 s, and dies now
 * and then meanwhile (health's verdict under such loss), against a 60 ms
 * relay. Loss is measured as punchd/path.h does, over the last 64 probes,
 * one per second. Once clean, the path is back after its hold-down (which
 * its many deaths have grown to the 5-minute maximum).
 */
START_TEST(test_lossy_direct_does_not_flap)
{
	struct pathsel	ps;
	uint64_t	rng = 77;
	int		d, r, hist[64] = { 0 }, h = 0, i, lost;
	double		t, back = -1, on_relay = 0, n = 0, direct_at = -1;
	unsigned	sw60 = 0, deaths = 0;

	pathsel_init(&ps);
	r = pathsel_add(&ps, PATH_KIND_RELAY, 0);
	d = pathsel_add(&ps, PATH_KIND_DIRECT, 4);
	pathsel_measure(&ps, r, 0.060, 0, 64);
	pathsel_up(&ps, r, 0);
	pathsel_up(&ps, d, 0);
	for (t = 0; t < 800; t += 0.1) {
		int	tick = fmod(t + 1e-9, 1.0) < 0.05;
		int	lossy = t >= 30 && t < 400;

		if (tick) {
			hist[h++ % 64] = lossy && fakenat_uniform(&rng) < 0.5;
			for (lost = 0, i = 0; i < 64; i++)
				lost += hist[i];
			pathsel_measure(&ps, d, 0.030, lost / 64.0,
			    h < 64 ? (unsigned)h : 64);
			if (lossy && ps.c[d].alive &&
			    fakenat_uniform(&rng) < 0.05) {
				pathsel_down(&ps, d, t);
				deaths++;
				back = t + 2 + 3 * fakenat_uniform(&rng);
			}
		}
		if (!ps.c[d].alive && back >= 0 && t >= back)
			pathsel_up(&ps, d, t);
		i = (int)ps.switches;
		pathsel_choose(&ps, t);
		if (t >= 400 && direct_at < 0 && ps.current == d)
			direct_at = t;
		if (t >= 60 && t < 400) {
			sw60 += ps.switches - (unsigned)i;
			on_relay += ps.current == r;
			n++;
		}
	}
	fprintf(stderr, "pathsel: 50 %% loss on direct 30-400 s, %u deaths: "
	    "relay %.1f %% of 60-400 s, %u switches there, %u in all; "
	    "direct again at %.0f s\n", deaths, 100 * on_relay / n, sw60,
	    ps.switches, direct_at);
	ck_assert_uint_gt(deaths, 5);
	ck_assert(on_relay / n >= 0.99);
	ck_assert_uint_le(sw60, 1);
	ck_assert_int_eq(ps.current, d);
	ck_assert(direct_at > 400 && direct_at < 400 + 5 + PATHSEL_HOLDDOWN_MAX +
	    PATHSEL_HOLD + 1);
	ck_assert_uint_le(ps.switches, 10);
}
END_TEST

/* A path that worked a while and was cut is not flapping: its deaths do
 * not add up (PATHSEL_STABLE); one that dies soon after each return does. */
START_TEST(test_stable_death_forgiven)
{
	struct pathsel	ps;
	int		d, r;

	pathsel_init(&ps);
	r = pathsel_add(&ps, PATH_KIND_RELAY, 0);
	d = pathsel_add(&ps, PATH_KIND_DIRECT, 4);
	pathsel_up(&ps, r, 0);
	pathsel_up(&ps, d, 0);
	pathsel_down(&ps, d, 2);	/* 2 s up: the first of a series */
	ck_assert_uint_eq(ps.c[d].deaths, 1);
	pathsel_up(&ps, d, 3);
	pathsel_down(&ps, d, 5);	/* 2 s up again: flapping */
	ck_assert_uint_eq(ps.c[d].deaths, 2);
	ck_assert(ps.c[d].holddown == 2 * PATHSEL_HOLDDOWN);
	pathsel_up(&ps, d, 6);
	pathsel_down(&ps, d, 6 + PATHSEL_STABLE);	/* worked a while */
	ck_assert_uint_eq(ps.c[d].deaths, 1);
	ck_assert(ps.c[d].holddown == PATHSEL_HOLDDOWN);
	/* alone (the relay gone too): its deaths do not add up */
	pathsel_down(&ps, r, 20);
	pathsel_up(&ps, d, 21);
	pathsel_down(&ps, d, 22);
	pathsel_up(&ps, d, 23);
	pathsel_down(&ps, d, 24);
	ck_assert_uint_eq(ps.c[d].deaths, 1);
}
END_TEST

START_TEST(test_bad_input)
{
	struct pathsel	ps;
	int		i, d;

	pathsel_init(&ps);
	ck_assert_int_eq(pathsel_add(&ps, 9, 4), -1);
	ck_assert_int_eq(pathsel_add(&ps, PATH_KIND_DIRECT, 5), -1);
	for (i = 0; i < PATHSEL_MAX; i++)
		ck_assert_int_ge(pathsel_add(&ps, PATH_KIND_DIRECT, 6), 0);
	ck_assert_int_eq(pathsel_add(&ps, PATH_KIND_DIRECT, 6), -1);
	d = 3;
	pathsel_measure(&ps, d, 0.01, 0.1, 5);
	pathsel_measure(&ps, d, NAN, 0, 5);
	pathsel_measure(&ps, d, 0.01, 1.5, 5);
	pathsel_measure(&ps, d, 0.01, NAN, 5);
	pathsel_measure(&ps, d, -1, 0, 5);
	ck_assert(ps.c[d].srtt == 0.01 && ps.c[d].loss == 0.1);
	pathsel_measure(&ps, -1, 0, 0, 0);
	pathsel_measure(&ps, PATHSEL_MAX, 0, 0, 0);
	pathsel_up(&ps, 99, 0);
	pathsel_down(&ps, -5, 0);
	pathsel_remove(&ps, 42);
	ck_assert_int_eq(pathsel_choose(&ps, 0), -1);
	ck_assert_str_eq(pathsel_kind_name(PATH_KIND_HAIRPIN), "hairpin");
	ck_assert_str_eq(pathsel_kind_name(-1), "unknown");
}
END_TEST

Suite *
pathsel_suite(void)
{
	Suite	*s = suite_create("pathsel");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_lan_replaces_hairpin);
	tcase_add_test(tc, test_ipv6_policy);
	tcase_add_test(tc, test_dead_path_fails_over_at_once);
	tcase_add_test(tc, test_lossy_direct_does_not_flap);
	tcase_add_test(tc, test_stable_death_forgiven);
	tcase_add_test(tc, test_bad_input);
	suite_add_tcase(s, tc);
	return s;
}
