/*
 * punchd/health: failover in seconds while data flows, the cheap
 * keep-alive when idle, recovery, and one-way flows, on a fake clock and a
 * fake path (RTT 30 ms, up or down by the test's schedule).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "punchd/health.h"
#include "suites.h"

#define STEP	0.005
#define RTT	0.030
#define QMAX	256

struct fpath {
	struct health	h;
	double		down_from, down_to;	/* the path drops all between */
	double		drop_probe_at;		/* one probe lost, -1 none */
	double		replies[QMAX];		/* arrival times of answers */
	int		nrep;
	double		data_every;		/* we send data, 0 idle */
	int		peer_sends;		/* the peer sends data back */
	double		next_data;
	double		doubt_at, dead_at, recovered_at;
	unsigned	keepalives, probes;
};

static int
fpath_up(const struct fpath *p, double t)
{
	return !(t >= p->down_from && t < p->down_to);
}

static void
fpath_expect(struct fpath *p, double t)
{
	/* an answer arrives if both legs cross while the path is up */
	if (fpath_up(p, t) && fpath_up(p, t + RTT) && p->nrep < QMAX)
		p->replies[p->nrep++] = t + RTT;
}

static void
fpath_run(struct fpath *p, double from, double to)
{
	double	t, next = from;
	int	i, f;

	for (t = from; t < to; t += STEP) {
		for (i = 0; i < p->nrep; i++)
			if (p->replies[i] <= t) {
				f = health_heard(&p->h, t);
				if ((f & HEALTH_F_RECOVERED) &&
				    p->h.state == HEALTH_UP &&
				    p->recovered_at < 0 && p->dead_at >= 0)
					p->recovered_at = t;
				p->replies[i--] = p->replies[--p->nrep];
			}
		if (p->data_every > 0 && t >= p->next_data) {
			health_sent(&p->h, t);
			if (p->peer_sends)
				fpath_expect(p, t);
			p->next_data = t + p->data_every;
			next = t;
		}
		if (t < next)
			continue;
		f = health_tick(&p->h, t, &next);
		if ((f & HEALTH_F_DOUBT) && p->doubt_at < 0)
			p->doubt_at = t;
		if ((f & HEALTH_F_DEAD) && p->dead_at < 0)
			p->dead_at = t;
		if (f & (HEALTH_F_PROBE | HEALTH_F_KEEPALIVE)) {
			health_probed(&p->h, t);
			if (f & HEALTH_F_KEEPALIVE)
				p->keepalives++;
			else
				p->probes++;
			if (p->drop_probe_at >= 0 && t >= p->drop_probe_at)
				p->drop_probe_at = -1;	/* this one is lost */
			else
				fpath_expect(p, t);
			next = t;	/* look again at once */
		}
	}
}

static void
fpath_init(struct fpath *p, double interval)
{
	memset(p, 0, sizeof(*p));
	health_init(&p->h, 0, interval);
	health_set_rtt(&p->h, RTT);
	p->down_from = p->down_to = 1e9;
	p->drop_probe_at = -1;
	p->doubt_at = p->dead_at = p->recovered_at = -1;
}

START_TEST(test_failover_while_flowing)
{
	static struct fpath p;

	/* 20 datagrams/s both ways; all UDP dropped from 10 s to 20 s */
	fpath_init(&p, 25);
	p.data_every = 0.05;
	p.peer_sends = 1;
	p.down_from = 10;
	p.down_to = 20;
	fpath_run(&p, 0, 30);
	fprintf(stderr, "health: path cut at 10.00 s (last reply 9.98 s): "
	    "probe, in doubt at %.2f s, dead at %.2f s after %u probes; "
	    "back at 20 s, recovered at %.2f s\n", p.doubt_at, p.dead_at,
	    (unsigned)p.h.probes, p.recovered_at);
	/* doubt 1 s + RTO after the last reply, dead by 3 s after it */
	ck_assert(p.doubt_at >= 10.9 && p.doubt_at <= 11.6);
	ck_assert(p.dead_at >= 12.5 && p.dead_at <= 10.0 + 3.0 + STEP);
	/* the dead path is probed every 2 s: back within 2 s of its return */
	ck_assert(p.recovered_at >= 20 && p.recovered_at <= 22.1);
	ck_assert_int_eq(p.h.state, HEALTH_UP);
	ck_assert_uint_eq(p.h.deaths, 1);
	/* while flowing and healthy, no keep-alive: the data is one */
	ck_assert_uint_eq(p.keepalives, 0);
}
END_TEST

START_TEST(test_idle_keepalive_only)
{
	static struct fpath p;

	fpath_init(&p, 25);
	fpath_run(&p, 0, 101);
	/* at 25, 50, 75, 100 s: nothing else */
	ck_assert_uint_eq(p.keepalives, 4);
	ck_assert_uint_eq(p.probes, 0);
	ck_assert(p.doubt_at < 0 && p.dead_at < 0);
}
END_TEST

START_TEST(test_missed_keepalive_retried_at_once)
{
	static struct fpath p;

	fpath_init(&p, 25);
	p.drop_probe_at = 24;		/* the 25 s keep-alive is lost */
	fpath_run(&p, 0, 40);
	/* retried after the RTO (0.5 s), not at the next 25 s slot */
	ck_assert(p.doubt_at >= 25.5 && p.doubt_at <= 25.5 + 2 * STEP);
	ck_assert_uint_eq(p.probes, 1);
	ck_assert(p.dead_at < 0);
	ck_assert_int_eq(p.h.state, HEALTH_UP);
	ck_assert_uint_eq(p.h.recoveries, 1);
}
END_TEST

START_TEST(test_idle_path_that_died)
{
	static struct fpath p;

	/* idle, and cut at 5 s: found at the 25 s keep-alive, dead 2 s on */
	fpath_init(&p, 25);
	p.down_from = 5;
	p.down_to = 100;
	fpath_run(&p, 0, 40);
	ck_assert(p.dead_at >= 27 - STEP && p.dead_at <= 27 + 2 * STEP);
	/* data sent on a path silent for 1 s is probed at once */
	fpath_init(&p, 25);
	p.down_from = 5;
	p.down_to = 100;
	fpath_run(&p, 0, 10);
	p.data_every = 0.05;
	p.next_data = 10;
	fpath_run(&p, 10, 20);
	ck_assert(p.dead_at >= 12 - STEP && p.dead_at <= 12 + 2 * STEP);
	/* probes stop HEALTH_DEAD_PROBING s after death (the re-punch's job) */
	fpath_run(&p, 20, 80);
	ck_assert_uint_le(p.probes, 5 + HEALTH_DEAD_PROBING /
	    HEALTH_DEAD_PROBE_EVERY + 1);
}
END_TEST

START_TEST(test_one_way_flow)
{
	static struct fpath p;

	/* we send 20/s, the peer only answers probes: never in doubt, one
	 * probe per second */
	fpath_init(&p, 25);
	p.data_every = 0.05;
	fpath_run(&p, 0, 60);
	ck_assert(p.doubt_at < 0 && p.dead_at < 0);
	ck_assert_uint_ge(p.probes, 55);
	ck_assert_uint_le(p.probes, 61);
}
END_TEST

START_TEST(test_bad_input)
{
	struct health	h;
	double		next;

	health_init(&h, 0, 25);
	health_set_interval(&h, NAN);
	health_set_interval(&h, -1);
	health_set_rtt(&h, NAN);
	ck_assert(h.interval == 25);
	ck_assert(h.rto == HEALTH_RTO_MIN);
	health_set_rtt(&h, 1.5);
	ck_assert(h.rto == 3.0);
	ck_assert_int_eq(health_tick(&h, 1, &next), 0);
	ck_assert(next == 25);
	ck_assert_str_eq(health_state_name(HEALTH_DOUBT), "in doubt");
	ck_assert_str_eq(health_state_name(7), "unknown");
}
END_TEST

Suite *
health_suite(void)
{
	Suite	*s = suite_create("health");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_failover_while_flowing);
	tcase_add_test(tc, test_idle_keepalive_only);
	tcase_add_test(tc, test_missed_keepalive_retried_at_once);
	tcase_add_test(tc, test_idle_path_that_died);
	tcase_add_test(tc, test_one_way_flow);
	tcase_add_test(tc, test_bad_input);
	suite_add_tcase(s, tc);
	return s;
}
