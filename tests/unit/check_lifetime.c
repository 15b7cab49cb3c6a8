/*
 * punchd/lifetime: the keep-alive interval learned from which gaps a path
 * survived, against a fake NAT with a 10 s, 30 s and 120 s UDP timeout.
 */
#include <math.h>
#include <stdio.h>

#include "punchd/lifetime.h"
#include "fakenat.h"
#include "suites.h"

#define PEER		0x0a000002u
#define DETECT		3.0	/* punchd/health.h: dead 3 s after */

struct idle_run {
	unsigned	deaths, late_deaths, probes;
	double		outage, interval;
};

/*
 * An idle direct path for `secs`: keep-alives at the learned interval.
 * The binding is alive when the keep-alive goes out if the NAT has seen
 * outbound traffic within its timeout; else the path dies, is noticed
 * DETECT s later and punched again. With `probe`, explicit probes of the
 * suggested gap run (out of band) after each death.
 */
static void
idle_run(double timeout, double secs, int probe, struct idle_run *r)
{
	struct fakenat	 n;
	struct lifetime	 l;
	double		 t = 0, last = 0, gap, g;
	uint16_t	 ext;

	fakenat_init(&n, FAKENAT_MAP_EI, FAKENAT_ALLOC_PRESERVE, 1, timeout, 9);
	lifetime_init(&l);
	ext = fakenat_out(&n, 0, 7777, PEER, 7777);
	*r = (struct idle_run){ 0 };
	while (t < secs) {
		t = last + lifetime_interval(&l);
		gap = t - last;
		if (fakenat_in(&n, t, PEER, 7777, ext) == 7777) {
			lifetime_survived(&l, gap);
			fakenat_out(&n, t, 7777, PEER, 7777);
			last = t;
			continue;
		}
		r->deaths++;
		if (t > 60)
			r->late_deaths++;
		ck_assert_int_eq(lifetime_died(&l, gap), 1);
		while (probe && (g = lifetime_next_probe(&l)) > 0) {
			/* a fresh binding left idle g s: alive iff g < timeout */
			lifetime_probe(&l, g, g < timeout);
			r->probes++;
			ck_assert_uint_lt(r->probes, 20);
		}
		r->outage += DETECT;
		last = t + DETECT;	/* punched again */
		ext = fakenat_out(&n, last, 7777, PEER, 7777);
	}
	r->interval = lifetime_interval(&l);
	fakenat_free(&n);
	fprintf(stderr, "lifetime: NAT timeout %3.0f s%s: %u deaths (%u after "
	    "the first minute), %.0f s outage, %u probes, interval %.2f s\n",
	    timeout, probe ? " with probes" : "", r->deaths, r->late_deaths,
	    r->outage, r->probes, r->interval);
}

/*
 * What punchd does on an idle path (link.c): each keep-alive leaves the
 * gap lifetime_next_gap() says, the NAT forgets after `timeout`; a
 * keep-alive after a fatal gap is answered only after the peer, told when
 * it was due, reopened its side a second later (no path death), which
 * counts as died. Returns the deaths after `quiet_after` s.
 */
static unsigned
gap_run(double timeout, double secs, double quiet_after, unsigned *deaths,
    double *interval)
{
	struct fakenat	 n;
	struct lifetime	 l;
	double		 t = 0, last = 0, gap;
	unsigned	 late = 0;
	uint16_t	 ext;

	fakenat_init(&n, FAKENAT_MAP_EI, FAKENAT_ALLOC_PRESERVE, 1, timeout, 9);
	lifetime_init(&l);
	ext = fakenat_out(&n, 0, 7777, PEER, 7777);
	*deaths = 0;
	while (t < secs) {
		gap = lifetime_next_gap(&l);
		ck_assert(gap >= LIFETIME_FLOOR && gap <= LIFETIME_CEILING);
		t = last + gap;
		if (fakenat_in(&n, t, PEER, 7777, ext) == 7777) {
			lifetime_survived(&l, gap);
			fakenat_out(&n, t, 7777, PEER, 7777);
			last = t;
			continue;
		}
		(*deaths)++;
		if (t > quiet_after)
			late++;
		lifetime_died(&l, gap);
		last = t + 1;	/* the follower's probe */
		ext = fakenat_out(&n, last, 7777, PEER, 7777);
	}
	*interval = lifetime_interval(&l);
	fakenat_free(&n);
	fprintf(stderr, "lifetime: NAT timeout %3.0f s, keep-alives probing "
	    "the gap: %u fatal gaps (%u after %.0f s), interval %.2f s\n",
	    timeout, *deaths, late, quiet_after, *interval);
	return late;
}

START_TEST(test_gap_probing)
{
	unsigned	deaths;
	double		iv;

	/* 10 s NATs: the first gap, 12.5 s, dies; 6.25 and 9.4 s live:
	 * the bracket is within a third, every 6.25 s, all within the
	 * first 30 s (13.5 + 6.25 + 9.4), then 5 minutes of nothing lost */
	ck_assert_uint_eq(gap_run(10, 362, 30, &deaths, &iv), 0);
	ck_assert_uint_eq(deaths, 1);
	ck_assert(iv > LIFETIME_FLOOR && iv <= 6.25);
	/* 20 s: 12.5 lives, 25 dies, 18.75 lives: every 12.5 s */
	ck_assert_uint_eq(gap_run(20, 600, 60, &deaths, &iv), 0);
	ck_assert_uint_eq(deaths, 1);
	ck_assert(iv == 12.5);
	/* 30 s and longer: the ceiling, never a probe */
	ck_assert_uint_eq(gap_run(30, 600, 0, &deaths, &iv), 0);
	ck_assert_uint_eq(deaths, 0);
	ck_assert(iv == LIFETIME_CEILING);
	/* shorter than the floor allows: the floor, and the gap stays */
	gap_run(6, 300, 300, &deaths, &iv);
	ck_assert(iv == LIFETIME_FLOOR);
}
END_TEST

START_TEST(test_next_gap)
{
	struct lifetime l;

	lifetime_init(&l);
	/* nothing known: half the ceiling first, then the ceiling */
	ck_assert(lifetime_next_gap(&l) == LIFETIME_FIRST);
	lifetime_survived(&l, LIFETIME_FIRST);
	ck_assert(lifetime_next_gap(&l) == LIFETIME_CEILING);
	lifetime_init(&l);
	lifetime_died(&l, 12.5);
	/* 6.25 s not yet seen surviving: no probe above it */
	ck_assert(lifetime_next_gap(&l) == 6.25);
	lifetime_survived(&l, 6.2);
	ck_assert(fabs(lifetime_next_gap(&l) - 9.35) < 1e-9);
	/* or after a second fatal gap */
	lifetime_init(&l);
	lifetime_died(&l, 25);
	ck_assert(lifetime_next_gap(&l) == 12.5);
	lifetime_died(&l, 12.5);
	ck_assert(fabs(lifetime_next_gap(&l) - 8.75) < 1e-9);
	/* a tiny gap survived (a keep-alive right after another) is no
	 * lower bound worth probing from */
	lifetime_survived(&l, 0.01);
	ck_assert(fabs(lifetime_next_gap(&l) - 8.75) < 1e-9);
	lifetime_init(&l);
	lifetime_died(&l, 12.5);
	lifetime_survived(&l, 6.2);
	ck_assert(fabs(lifetime_next_gap(&l) - 9.35) < 1e-9);
	lifetime_survived(&l, 9.35);
	/* bracket 9.35 .. 12.5 is within a third: the interval */
	ck_assert(fabs(lifetime_next_gap(&l) - 6.25) < 1e-9);
	/* a looser one goes on: 7 .. 12.5, then 9.75 */
	lifetime_init(&l);
	lifetime_died(&l, 12.5);
	lifetime_survived(&l, 7);
	ck_assert(fabs(lifetime_next_gap(&l) - 9.75) < 1e-9);
	lifetime_died(&l, 9.75);
	/* 7 .. 9.75 is tight: half the fatal gap */
	ck_assert(fabs(lifetime_next_gap(&l) - 5.0) < 1e-9);
}
END_TEST

START_TEST(test_ten_seconds)
{
	struct idle_run r;

	/* 25 s dies, 12.5 s dies, 6.25 s lives: then 5 minutes and more
	 * without a loss */
	idle_run(10, 600, 0, &r);
	ck_assert_uint_eq(r.late_deaths, 0);
	ck_assert_uint_le(r.deaths, 2);
	ck_assert(r.interval < 10 * 2.0 / 3);
	ck_assert(r.interval >= LIFETIME_FLOOR);
	/* probes find it with one death only */
	idle_run(10, 600, 1, &r);
	ck_assert_uint_eq(r.deaths, 1);
	ck_assert(r.interval == LIFETIME_FLOOR);
}
END_TEST

START_TEST(test_long_timeouts_keep_the_ceiling)
{
	struct idle_run r;

	idle_run(30, 600, 0, &r);
	ck_assert_uint_eq(r.deaths, 0);
	ck_assert(r.interval == LIFETIME_CEILING);
	idle_run(120, 600, 1, &r);
	ck_assert_uint_eq(r.deaths, 0);
	ck_assert_uint_eq(r.probes, 0);
	ck_assert(r.interval == LIFETIME_CEILING);
}
END_TEST

START_TEST(test_evidence)
{
	struct lifetime l;

	lifetime_init(&l);
	ck_assert(lifetime_interval(&l) == LIFETIME_CEILING);
	ck_assert(lifetime_next_probe(&l) == 0);
	lifetime_survived(&l, 25);
	/* a death after a shorter gap than one survived: not the timer
	 * (a NAT reboot, a rebinding): no change */
	ck_assert_int_eq(lifetime_died(&l, 20), 0);
	ck_assert_uint_eq(l.ignored, 1);
	ck_assert(lifetime_interval(&l) == LIFETIME_CEILING);
	/* a longer gap that died: half of it */
	ck_assert_int_eq(lifetime_died(&l, 40), 1);
	ck_assert(fabs(lifetime_interval(&l) - 20) < 1e-9);
	ck_assert(fabs(lifetime_next_probe(&l) - 32.5) < 1e-9);
	lifetime_init(&l);
	ck_assert_int_eq(lifetime_died(&l, 16), 1);
	ck_assert(fabs(lifetime_interval(&l) - 8) < 1e-9);
	ck_assert(fabs(lifetime_next_probe(&l) - 10.5) < 1e-9);
	/* it then outlives the gap thought fatal: bound forgotten */
	lifetime_survived(&l, 17);
	ck_assert(lifetime_interval(&l) == LIFETIME_CEILING);
	/* a death below the floor keeps the floor */
	lifetime_init(&l);
	lifetime_died(&l, 3);
	ck_assert(lifetime_interval(&l) == LIFETIME_FLOOR);
	ck_assert(lifetime_next_probe(&l) == 0);
	/* garbage gaps change nothing */
	lifetime_init(&l);
	ck_assert_int_eq(lifetime_died(&l, NAN), 0);
	ck_assert_int_eq(lifetime_died(&l, -1), 0);
	ck_assert_int_eq(lifetime_died(&l, INFINITY), 0);
	lifetime_survived(&l, NAN);
	lifetime_probe(&l, -5, 0);
	ck_assert(lifetime_interval(&l) == LIFETIME_CEILING);
	ck_assert(l.survived == 0 && l.died == 0);
	/* a new network forgets */
	lifetime_died(&l, 12);
	lifetime_reset(&l);
	ck_assert(lifetime_interval(&l) == LIFETIME_CEILING);
}
END_TEST

Suite *
lifetime_suite(void)
{
	Suite	*s = suite_create("lifetime");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_ten_seconds);
	tcase_add_test(tc, test_long_timeouts_keep_the_ceiling);
	tcase_add_test(tc, test_evidence);
	tcase_add_test(tc, test_gap_probing);
	tcase_add_test(tc, test_next_gap);
	suite_add_tcase(s, tc);
	return s;
}
