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

	keepalive_init(&k, 25, 3, 5);
	for (i = 0; i < 100; i++) {
		f = keepalive_tick(&k, i * 25.0);
		ck_assert_int_eq(f, KA_SEND);
		keepalive_sent(&k, 1000 + i, i * 25.0);
		ck_assert_int_eq(keepalive_ack(&k, 1000 + i, i * 25.0 + 0.02,
		    &rtt), 0);
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

	keepalive_init(&k, 1, 3, 5);
	/* first tick: nothing outstanding yet */
	ck_assert_int_eq(keepalive_tick(&k, 0), KA_SEND);
	keepalive_sent(&k, 1, 0);
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
			keepalive_sent(&k, 1 + i, i);
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
	double			rtt;
	int			i;

	keepalive_init(&k, 1, 3, 5);
	keepalive_tick(&k, 0);
	keepalive_sent(&k, 10, 0);
	for (i = 1; i <= 4; i++) {
		keepalive_tick(&k, i);
		keepalive_sent(&k, 10 + i, i);
	}
	ck_assert_int_eq(k.failures, 4);
	/* an answer to an older KEEPALIVE counts for nothing */
	ck_assert_int_eq(keepalive_ack(&k, 12, 4.1, &rtt), -1);
	ck_assert_int_eq(k.failures, 4);
	/* the outstanding one's answer: back to zero, and it says so */
	ck_assert_int_eq(keepalive_ack(&k, 14, 4.1, &rtt), KA_RECOVERED);
	ck_assert_int_eq(k.failures, 0);
	/* a duplicate answer is late */
	ck_assert_int_eq(keepalive_ack(&k, 14, 4.2, &rtt), -1);
	/* failures must be consecutive: one miss, then fine */
	ck_assert_int_eq(keepalive_tick(&k, 5), KA_SEND);
	keepalive_sent(&k, 20, 5);
	ck_assert(keepalive_tick(&k, 6) & KA_MISSED);
	keepalive_sent(&k, 21, 6);
	ck_assert_int_eq(keepalive_ack(&k, 21, 6.01, &rtt), 0);
	ck_assert_int_eq(k.failures, 0);
}
END_TEST

START_TEST(test_low_bits)
{
	struct keepalive	k;
	double			rtt;

	/* the ACK carries the low 32 bits of a 64-bit sequence number */
	keepalive_init(&k, 1, 3, 5);
	keepalive_tick(&k, 0);
	keepalive_sent(&k, (0x6543ULL << 32) | 0x1234, 0);
	ck_assert_int_eq(keepalive_ack(&k, 0x1235, 0.1, &rtt), -1);
	ck_assert_int_eq(keepalive_ack(&k, 0x1234, 0.1, &rtt), 0);
}
END_TEST

START_TEST(test_dead_after_one)
{
	struct keepalive	k;

	keepalive_init(&k, 1, 1, 1);
	keepalive_tick(&k, 0);
	keepalive_sent(&k, 1, 0);
	ck_assert_int_eq(keepalive_tick(&k, 1), KA_MISSED | KA_WARN | KA_DEAD);
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

Suite *
keepalive_suite(void)
{
	Suite	*s = suite_create("keepalive");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_answered);
	tcase_add_test(tc, test_warn_then_dead);
	tcase_add_test(tc, test_recover_resets);
	tcase_add_test(tc, test_low_bits);
	tcase_add_test(tc, test_dead_after_one);
	tcase_add_test(tc, test_path_stats);
	suite_add_tcase(s, tc);
	return s;
}
