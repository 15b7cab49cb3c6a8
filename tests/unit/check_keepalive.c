/*
 * punchd/keepalive and punchd/path: consecutive failure counting (warning,
 * death, recovery, late answers) and the path statistics fed by probes.
 */
#include <math.h>
#include <string.h>

#include "punchd/keepalive.h"
#include "punchd/path.h"
#include "suites.h"

START_TEST(test_answered)
{
	struct keepalive	k;
	double			rtt = -1;
	int			i, f;

	keepalive_init(&k, 25, 3, 5, 1);
	for (i = 0; i < 100; i++) {
		f = keepalive_tick(&k, i * 25.0);
		ck_assert_int_eq(f, KA_SEND);
		keepalive_sent(&k, i * 25.0);
		ck_assert_int_eq(keepalive_ack(&k, i * 25.0 + 0.02, &rtt),
		    KA_RTT);
		ck_assert(fabs(rtt - 0.02) < 1e-9);
	}
	ck_assert_int_eq(k.failures, 0);
	ck_assert_uint_eq(k.sent, 100);
	ck_assert_uint_eq(k.acked, 100);
}
END_TEST

START_TEST(test_warn_then_dead)
{
	struct keepalive	k;
	int			i, f, warned = 0;

	keepalive_init(&k, 1, 3, 5, 1);
	/* first tick: nothing outstanding yet */
	ck_assert_int_eq(keepalive_tick(&k, 0), KA_SEND);
	keepalive_sent(&k, 0);
	for (i = 1; i <= 5; i++) {
		f = keepalive_tick(&k, i);
		ck_assert(f & KA_MISSED);
		ck_assert_int_eq(k.failures, i);
		if (f & KA_WARN) {
			ck_assert_int_eq(i, 3);
			warned++;
		}
		if (i < 5) {
			ck_assert(f & KA_SEND);
			ck_assert(!(f & KA_DEAD));
			keepalive_sent(&k, i);
		} else {
			/* dead: nothing more is sent */
			ck_assert(f & KA_DEAD);
			ck_assert(!(f & KA_SEND));
		}
	}
	ck_assert_int_eq(warned, 1);
	ck_assert_uint_eq(k.missed, 5);
}
END_TEST

START_TEST(test_recover_resets)
{
	struct keepalive	k;
	double			rtt = -1;
	int			i;

	keepalive_init(&k, 1, 3, 5, 1);
	keepalive_tick(&k, 0);
	keepalive_sent(&k, 0);
	for (i = 1; i <= 4; i++) {
		keepalive_tick(&k, i);
		keepalive_sent(&k, i);
	}
	ck_assert_int_eq(k.failures, 4);
	/* an answer after misses: back to zero and says so, but no RTT:
	 * it may answer an earlier KEEPALIVE */
	ck_assert_int_eq(keepalive_ack(&k, 4.1, &rtt), KA_RECOVERED);
	ck_assert(rtt == -1);
	ck_assert_int_eq(k.failures, 0);
	/* a duplicate answer is late */
	ck_assert_int_eq(keepalive_ack(&k, 4.2, &rtt), -1);
	/* failures must be consecutive: one miss, then fine */
	ck_assert_int_eq(keepalive_tick(&k, 5), KA_SEND);
	keepalive_sent(&k, 5);
	ck_assert(keepalive_tick(&k, 6) & KA_MISSED);
	keepalive_sent(&k, 6);
	ck_assert_int_eq(keepalive_ack(&k, 6.01, &rtt), 0);
	ck_assert_int_eq(k.failures, 0);
	/* and the next clean one is a sample again */
	keepalive_tick(&k, 7);
	keepalive_sent(&k, 7);
	ck_assert_int_eq(keepalive_ack(&k, 7.03, &rtt), KA_RTT);
	ck_assert(fabs(rtt - 0.03) < 1e-9);
}
END_TEST

START_TEST(test_dead_after_one)
{
	struct keepalive	k;

	keepalive_init(&k, 1, 1, 1, 1);
	keepalive_tick(&k, 0);
	keepalive_sent(&k, 0);
	ck_assert_int_eq(keepalive_tick(&k, 1), KA_MISSED | KA_WARN | KA_DEAD);
}
END_TEST

/* The follower is quiet while it hears the leader, and speaks up after
 * KA_QUIET intervals of silence. */
START_TEST(test_follower_quiet)
{
	struct keepalive	k;
	double			rtt;
	int			i;

	keepalive_init(&k, 1, 3, 5, 0);
	/* nothing heard yet: the first tick sends */
	ck_assert_int_eq(keepalive_tick(&k, 0), KA_SEND);
	keepalive_sent(&k, 0);
	ck_assert_int_eq(keepalive_ack(&k, 0.01, &rtt), KA_RTT);
	/* the leader's KEEPALIVE every second, our ticks half-way between:
	 * 100 intervals, not one KEEPALIVE from us */
	for (i = 0; i < 100; i++) {
		keepalive_heard(&k, i + 0.02, 0);
		ck_assert_int_eq(keepalive_tick(&k, i + 0.5), 0);
	}
	ck_assert_uint_eq(k.sent, 1);
	ck_assert_uint_eq(k.received, 100);
	/* ticks just before and after the leader's, with timer jitter */
	keepalive_heard(&k, 100.0, 0);
	ck_assert_int_eq(keepalive_tick(&k, 101.2), 0);
	/* the leader goes silent: after 1.5 intervals we send and count */
	ck_assert_int_eq(keepalive_tick(&k, 101.6), KA_SEND);
	keepalive_sent(&k, 101.6);
	ck_assert_int_eq(keepalive_tick(&k, 102.6), KA_MISSED | KA_SEND);
	keepalive_sent(&k, 102.6);
	ck_assert_int_eq(k.failures, 1);
	/* even if the leader is heard again, we probe until answered */
	keepalive_heard(&k, 103.0, 0);
	ck_assert_int_eq(keepalive_tick(&k, 103.6), KA_MISSED | KA_SEND);
	keepalive_sent(&k, 103.6);
	ck_assert_int_eq(keepalive_ack(&k, 103.61, &rtt), 0);
	keepalive_heard(&k, 104.0, 0);
	ck_assert_int_eq(keepalive_tick(&k, 104.6), 0);
}
END_TEST

/* A leader whose KEEPALIVEs go unanswered says so, and the follower then
 * probes for itself: a path broken from the follower to the leader is
 * seen dead on both sides. */
START_TEST(test_follower_told)
{
	struct keepalive	k;
	int			i, f = 0;

	keepalive_init(&k, 1, 3, 5, 0);
	keepalive_heard(&k, 0, 0);
	ck_assert_int_eq(keepalive_tick(&k, 0.5), 0);
	for (i = 1; i <= 8 && !(f & KA_DEAD); i++) {
		keepalive_heard(&k, i, 1);	/* PACKET_F_KA_MISSED */
		f = keepalive_tick(&k, i + 0.5);
		if (f & KA_SEND)
			keepalive_sent(&k, i + 0.5);
	}
	ck_assert(f & KA_DEAD);
	ck_assert_int_eq(k.failures, 5);
	/* first send at 1.5 (silence since 0), dead five ticks later */
	ck_assert_int_eq(i - 1, 6);
}
END_TEST

START_TEST(test_path_stats)
{
	struct path_stats	ps;
	int			i;

	path_init(&ps);
	ck_assert(path_loss(&ps) == 0);
	path_rtt(&ps, 0.100);
	ck_assert(fabs(ps.srtt - 0.100) < 1e-12);
	ck_assert(fabs(ps.rtt_min - 0.100) < 1e-12);
	ck_assert(ps.jitter == 0);
	/* RFC 6298: srtt += (r - srtt) / 8 */
	path_rtt(&ps, 0.180);
	ck_assert(fabs(ps.srtt - 0.110) < 1e-12);
	/* RFC 3550: jitter += (|D| - jitter) / 16 */
	ck_assert(fabs(ps.jitter - 0.080 / 16) < 1e-12);
	path_rtt(&ps, 0.050);
	ck_assert(fabs(ps.rtt_min - 0.050) < 1e-12);
	/* loss over the window: 1 in 4 */
	path_lost(&ps);
	ck_assert(fabs(path_loss(&ps) - 0.25) < 1e-12);
	/* the window forgets: 64 good probes later, no loss */
	for (i = 0; i < PATH_LOSS_WINDOW; i++)
		path_rtt(&ps, 0.05);
	ck_assert(path_loss(&ps) == 0);
	ck_assert_uint_eq(ps.lost, 1);
	for (i = 0; i < PATH_LOSS_WINDOW; i++)
		path_lost(&ps);
	ck_assert(path_loss(&ps) == 1);
	/* a negative sample (clock step) is clamped, not trusted */
	path_rtt(&ps, -1);
	ck_assert(ps.rtt_min == 0);
}
END_TEST

/* The leader's schedule in its KEEPALIVE, and the follower's deadline. */
START_TEST(test_hint)
{
	struct keepalive	k;
	uint8_t			b[KA_HINT_LEN], z[KA_HINT_LEN] = { 0 };
	double			iv, next;

	keepalive_hint_pack(b, 5.47, 9.375);
	ck_assert_int_eq(keepalive_hint_parse(b, sizeof(b), &iv, &next), 0);
	ck_assert(fabs(iv - 5.47) < 1e-9 && fabs(next - 9.375) < 1e-9);
	/* an empty KEEPALIVE (an older peer), short, zero, too long */
	ck_assert_int_eq(keepalive_hint_parse(NULL, 0, &iv, &next), -1);
	ck_assert_int_eq(keepalive_hint_parse(b, 7, &iv, &next), -1);
	ck_assert_int_eq(keepalive_hint_parse(z, sizeof(z), &iv, &next), -1);
	memset(b, 0xff, sizeof(b));
	ck_assert_int_eq(keepalive_hint_parse(b, sizeof(b), &iv, &next), -1);
	/* packing clamps what it cannot say */
	keepalive_hint_pack(b, 1e9, 2);
	ck_assert_int_eq(keepalive_hint_parse(b, sizeof(b), &iv, &next), 0);
	ck_assert(iv == KA_HINT_MAX);

	/* a follower at 25 s, nothing heard from the leader yet: an
	 * interval and a second after the last packet */
	keepalive_init(&k, 25, 3, 5, 0);
	ck_assert(fabs(keepalive_expect(&k, 50) - 76) < 1e-9);
	keepalive_expect_missed(&k, 80);	/* no schedule: nothing */
	ck_assert(k.expect_at < 0);
	/* the leader keeps alive every 5.5 s: taken, the next one is due
	 * 5.5 s after this one, probe a second after that */
	ck_assert_int_eq(keepalive_hint(&k, 100, 5.5, 5.5), 1);
	ck_assert(k.interval == 5.5 && k.own == 25);
	ck_assert(fabs(keepalive_expect(&k, 100) - 106.5) < 1e-9);
	ck_assert_int_eq(keepalive_hint(&k, 105.5, 5.5, 5.5), 0);
	/* the next gap is a lifetime probe: expected later */
	ck_assert_int_eq(keepalive_hint(&k, 111, 5.5, 9.375), 0);
	ck_assert(fabs(keepalive_expect(&k, 111) - 121.375) < 1e-9);
	/* it did not come: probe, then expect the slot after it */
	keepalive_expect_missed(&k, 121.4);
	ck_assert(fabs(keepalive_expect(&k, 111) - 126.875) < 1e-9);
	/* our own interval is still capped by the leader's, and back to
	 * ours when the leader's is longer */
	keepalive_set_interval(&k, 30);
	ck_assert(k.interval == 5.5);
	ck_assert_int_eq(keepalive_hint(&k, 130, 40, 40), 1);
	ck_assert(k.interval == 30);
	/* a gap longer than the interval announced (a lifetime probe): the
	 * follower does not speak up before the one due is overdue, or its
	 * own KEEPALIVE would keep the binding the probe tests */
	keepalive_init(&k, 25, 3, 5, 0);
	keepalive_heard(&k, 200, 0);
	keepalive_hint(&k, 200, 6.3, 10.6);
	ck_assert_int_eq(keepalive_tick(&k, 210), 0);	/* 1.5 x 6.3 ago */
	ck_assert_int_eq(keepalive_tick(&k, 211.5), 0);
	ck_assert_int_eq(keepalive_tick(&k, 211.7), KA_SEND);
	/* but when the leader says its last one went unanswered, at once */
	keepalive_init(&k, 25, 3, 5, 0);
	keepalive_heard(&k, 200, 0);
	keepalive_hint(&k, 200, 6.3, 10.6);
	keepalive_heard(&k, 201, 1);
	ck_assert_int_eq(keepalive_tick(&k, 209.5), KA_SEND);
	keepalive_set_interval(&k, 30);
	keepalive_hint(&k, 220, 40, 40);
	/* garbage changes nothing */
	ck_assert_int_eq(keepalive_hint(&k, 131, NAN, 5), 0);
	ck_assert_int_eq(keepalive_hint(&k, 131, 5, -1), 0);
	ck_assert(k.interval == 30 && k.lead_iv == 40);
	/* the leader takes no schedule and expects nothing */
	keepalive_init(&k, 25, 3, 5, 1);
	ck_assert_int_eq(keepalive_hint(&k, 1, 5, 5), 0);
	ck_assert(k.interval == 25);
	ck_assert(isinf(keepalive_expect(&k, 1)));
	keepalive_set_interval(&k, 12.5);
	ck_assert(k.interval == 12.5);
}
END_TEST

Suite *
keepalive_suite(void)
{
	Suite	*s = suite_create("keepalive");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_answered);
	tcase_add_test(tc, test_warn_then_dead);
	tcase_add_test(tc, test_recover_resets);
	tcase_add_test(tc, test_follower_quiet);
	tcase_add_test(tc, test_follower_told);
	tcase_add_test(tc, test_dead_after_one);
	tcase_add_test(tc, test_path_stats);
	tcase_add_test(tc, test_hint);
	suite_add_tcase(s, tc);
	return s;
}
