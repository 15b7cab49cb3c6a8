/*
 * punchd/birthday and punchd/natpredict: the planner's bounds (rate,
 * budget, window, give-up, crossing) and, against the fake NAT, the
 * success rates the issue asks for, over fixed seeds:
 *   symmetric with random ports vs port-restricted: >= 90 % within 10 s
 *   sequential vs port-restricted, predicted range:  >= 95 % within 3 s
 *   symmetric-random on both sides: no crossing, traffic bounded
 * The figures are printed (stderr) on every run.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "punchd/birthday.h"
#include "punchd/natpredict.h"
#include "stund/alloc.h"
#include "fakenat.h"
#include "suites.h"

/* --- the planner alone: a recording fake socket ------------------------ */

struct rec {
	struct birthday	*b;
	double		 now;
	unsigned	 opens, sends, closes, fail_open;
	int		 rate_ok;
	int		 closed[BIRTHDAY_MAX_SOCKETS];
	uint16_t	 ports[4096];
};

static int
rec_open(void *arg, int sock)
{
	struct rec *r = arg;

	r->opens++;
	return (r->fail_open && sock % 2) ? -1 : 0;
}

static void
rec_send(void *arg, int sock, uint16_t port)
{
	struct rec	*r = arg;
	struct birthday	*b = r->b;

	(void)sock;
	if (r->sends < 4096)
		r->ports[r->sends] = port;
	r->sends++;
	/* never ahead of pps: one at start, then one per 1/pps */
	if (b->sent + 1 > floor((r->now - b->start) * b->cfg.pps + 1e-6) + 1)
		r->rate_ok = 0;
}

static void
rec_close(void *arg, int sock)
{
	struct rec *r = arg;

	r->closes++;
	r->closed[sock]++;
}

/* run the planner's own timer until it ends or until `until` */
static void
rec_run(struct rec *r, double step, double until)
{
	double next = r->now;

	while (r->now < until) {
		if (r->now >= next && (next = birthday_tick(r->b, r->now)) < 0)
			return;
		r->now += step;
	}
}

static void
rec_start(struct rec *r, struct birthday *b, const struct birthday_cfg *cfg)
{
	struct birthday_cb cb = { rec_open, rec_send, rec_close, r };

	memset(r, 0, sizeof(*r));
	r->b = b;
	r->rate_ok = 1;
	ck_assert_int_eq(birthday_start(b, cfg, &cb, 0, 42), 0);
}

START_TEST(test_easy_budget_and_give_up)
{
	static struct birthday	b;
	static struct rec	r;
	static uint8_t		seen[65536];
	struct birthday_cfg	cfg;
	unsigned		i, j;

	birthday_defaults(&cfg, BDAY_EASY);
	rec_start(&r, &b, &cfg);
	/* a timer late by up to 0.1 s keeps the same bounds */
	rec_run(&r, 0.1, 30);
	ck_assert_int_eq(b.state, BDAY_FAILED);
	ck_assert(r.rate_ok);
	ck_assert_uint_le(r.sends, cfg.budget);
	ck_assert_uint_eq(r.sends, b.sent);
	/* 205/s for 10 s would be 2050: the budget ends it first */
	ck_assert_uint_eq(r.sends, cfg.budget);
	/* gave up one grace period after its last probe, not at 30 s */
	ck_assert(b.end <= b.last_send + BIRTHDAY_GRACE + 0.1 + 1e-9);
	ck_assert(b.last_send < cfg.window);
	ck_assert_ptr_nonnull(strstr(b.reason, "birthday probing sent 2048 "
	    "probes in"));
	ck_assert_ptr_nonnull(strstr(b.reason, "no crossing"));
	/* distinct ports, none below 1024 (one assertion: check's cost a
	 * pipe write each) */
	memset(seen, 0, sizeof(seen));
	for (i = 0, j = 0; i < r.sends; i++) {
		if (r.ports[i] < 1024 || seen[r.ports[i]]++)
			j++;
	}
	ck_assert_uint_eq(j, 0);
	/* after the end: no tick sends, no input wins */
	ck_assert(birthday_tick(&b, 40) < 0);
	ck_assert_int_eq(birthday_input(&b, 40, -1, 5000), 0);
	ck_assert_uint_eq(r.sends, cfg.budget);
}
END_TEST

START_TEST(test_hard_sockets_and_crossing)
{
	static struct birthday	b;
	static struct rec	r;
	struct birthday_cfg	cfg;
	int			i;

	birthday_defaults(&cfg, BDAY_HARD);
	rec_start(&r, &b, &cfg);
	rec_run(&r, 0.001, 3.0);
	ck_assert_int_eq(b.state, BDAY_RUNNING);
	ck_assert(r.rate_ok);
	/* 256 sockets opened in the first 2 s, each re-sending since */
	ck_assert_uint_eq(r.opens, 256);
	ck_assert_uint_le(r.sends, 3.0 * cfg.pps + 1);
	ck_assert_uint_ge(r.sends, 3.0 * cfg.pps - 1);
	/* input on a socket never opened does not count */
	ck_assert_int_eq(birthday_input(&b, 3.0, 300, 0), 0);
	ck_assert_int_eq(birthday_input(&b, 3.0, -1, 0), 0);
	/* a crossing on socket 77: it wins, every other one is closed */
	ck_assert_int_eq(birthday_input(&b, 3.0, 77, 0), 1);
	ck_assert_int_eq(b.state, BDAY_WON);
	ck_assert_int_eq(b.winner_sock, 77);
	ck_assert_uint_eq(r.closes, 255);
	for (i = 0; i < 256; i++)
		ck_assert_int_eq(r.closed[i], i == 77 ? 0 : 1);
	ck_assert_ptr_nonnull(strstr(b.reason, "socket 77 of 256 crossed"));
	/* nothing after the win */
	i = (int)r.sends;
	ck_assert(birthday_tick(&b, 3.5) < 0);
	ck_assert_uint_eq(r.sends, (unsigned)i);
}
END_TEST

START_TEST(test_hard_gives_up_and_closes)
{
	static struct birthday	b;
	static struct rec	r;
	struct birthday_cfg	cfg;

	birthday_defaults(&cfg, BDAY_HARD);
	cfg.sockets = 64;
	cfg.budget = 200;
	rec_start(&r, &b, &cfg);
	r.fail_open = 1;	/* every odd socket fails to open */
	rec_run(&r, 0.01, 60);
	ck_assert_int_eq(b.state, BDAY_FAILED);
	ck_assert(r.rate_ok);
	ck_assert_uint_eq(b.sent, 200);
	/* only the sockets that opened send, and are closed */
	ck_assert_uint_eq(r.sends, 100);
	ck_assert_uint_eq(r.closes, 32);
	/* the hard side holds its sockets to the end of the window */
	ck_assert(b.end >= cfg.window + BIRTHDAY_GRACE - 1e-9);
	ck_assert(b.end <= cfg.window + BIRTHDAY_GRACE + 0.011);
	ck_assert_ptr_nonnull(strstr(b.reason, "no probe crossed"));
	ck_assert_ptr_nonnull(strstr(b.reason, "failed to open"));
}
END_TEST

START_TEST(test_unbounded_refused)
{
	static struct birthday	b;
	struct birthday_cfg	cfg;
	struct birthday_cb	cb = { rec_open, rec_send, rec_close, NULL };

	birthday_defaults(&cfg, BDAY_EASY);
	cfg.budget = 0;
	ck_assert_int_eq(birthday_start(&b, &cfg, &cb, 0, 1), -1);
	birthday_defaults(&cfg, BDAY_EASY);
	cfg.pps = 0;
	ck_assert_int_eq(birthday_start(&b, &cfg, &cb, 0, 1), -1);
	birthday_defaults(&cfg, BDAY_EASY);
	cfg.window = NAN;
	ck_assert_int_eq(birthday_start(&b, &cfg, &cb, 0, 1), -1);
	birthday_defaults(&cfg, BDAY_HARD);
	cfg.sockets = BIRTHDAY_MAX_SOCKETS + 1;
	ck_assert_int_eq(birthday_start(&b, &cfg, &cb, 0, 1), -1);
	ck_assert_int_eq(b.state, BDAY_FAILED);
	ck_assert(birthday_tick(&b, 1) < 0);
	ck_assert_int_eq(birthday_input(&b, 1, 0, 0), 0);
}
END_TEST

START_TEST(test_strategy)
{
	const char	*why;
	int		 role;

	ck_assert_int_eq(birthday_strategy(BDAY_SIDE_EASY, BDAY_SIDE_EASY,
	    &role, &why), BDAY_DIRECT);
	ck_assert_int_eq(birthday_strategy(BDAY_SIDE_EASY, BDAY_SIDE_RANDOM,
	    &role, &why), BDAY_BIRTHDAY);
	ck_assert_int_eq(role, BDAY_EASY);
	ck_assert_int_eq(birthday_strategy(BDAY_SIDE_RANDOM, BDAY_SIDE_EASY,
	    &role, &why), BDAY_BIRTHDAY);
	ck_assert_int_eq(role, BDAY_HARD);
	ck_assert_int_eq(birthday_strategy(BDAY_SIDE_SEQ, BDAY_SIDE_EASY,
	    &role, &why), BDAY_PREDICT);
	ck_assert_int_eq(role, BDAY_NONE);
	ck_assert_int_eq(birthday_strategy(BDAY_SIDE_EASY, BDAY_SIDE_SEQ,
	    &role, &why), BDAY_PREDICT);
	ck_assert_int_eq(role, BDAY_EASY);
	ck_assert_int_eq(birthday_strategy(BDAY_SIDE_RANDOM, BDAY_SIDE_RANDOM,
	    &role, &why), BDAY_RELAY);
	ck_assert_ptr_nonnull(strstr(why, "random ports"));
	ck_assert_int_eq(birthday_strategy(BDAY_SIDE_SEQ, BDAY_SIDE_SEQ,
	    &role, &why), BDAY_PREDICT);
	ck_assert_int_eq(role, BDAY_EASY);
	ck_assert_ptr_nonnull(strstr(why, "strides 1 and 2"));
	ck_assert_int_eq(birthday_strategy(BDAY_SIDE_SEQ, BDAY_SIDE_RANDOM,
	    &role, &why), BDAY_RELAY);
	ck_assert_int_eq(birthday_strategy(0, BDAY_SIDE_EASY, &role, &why),
	    BDAY_DIRECT);
}
END_TEST

START_TEST(test_predict_list)
{
	struct natpredict	np = { 40000, 1, 2, 0, 1 };
	uint16_t		p[NATPREDICT_MAX + 8];
	size_t			n, i, j;

	n = natpredict_ports(&np, p, 8);
	ck_assert_uint_eq(n, 8);
	/* expected, then forward and (within jitter 2) behind */
	ck_assert_uint_eq(p[0], 40001);
	ck_assert_uint_eq(p[1], 40002);
	ck_assert_uint_eq(p[2], 40000);
	ck_assert_uint_eq(p[3], 40003);
	ck_assert_uint_eq(p[4], 39999);
	ck_assert_uint_eq(p[5], 40004);
	ck_assert_uint_eq(p[6], 40005);
	/* drift and steps move the centre; behind it down to last + 1 */
	np.jitter = 0;
	np.drift = 3.4;
	np.steps = 2;
	n = natpredict_ports(&np, p, 12);
	ck_assert_uint_eq(p[0], 40005);
	ck_assert_uint_eq(p[1], 40006);
	ck_assert_uint_eq(p[2], 40004);
	ck_assert_uint_eq(p[8], 40001);
	ck_assert_uint_eq(p[9], 40010);
	ck_assert_uint_eq(p[10], 40011);
	/* a negative delta counts down */
	np.delta = -2;
	np.drift = 0;
	n = natpredict_ports(&np, p, 3);
	ck_assert_uint_eq(p[0], 39996);
	ck_assert_uint_eq(p[1], 39995);
	ck_assert_uint_eq(p[2], 39997);
	/* wraps inside 1024-65535; bounded; distinct */
	np = (struct natpredict){ 65534, 1, 4, 0, 1 };
	n = natpredict_ports(&np, p, NATPREDICT_MAX + 8);
	ck_assert_uint_eq(n, NATPREDICT_MAX);
	ck_assert_uint_eq(p[0], 65535);
	ck_assert_uint_eq(p[1], 1024);
	for (i = 0; i < n; i++) {
		ck_assert_uint_ge(p[i], 1024);
		for (j = 0; j < i; j++)
			ck_assert_uint_ne(p[i], p[j]);
	}
	/* both sides sequential: stride 1 from last + delta, stride 2 over
	 * the odd offsets */
	np = (struct natpredict){ 40000, 1, 0, 0, 1 };
	ck_assert_uint_eq(natpredict_stride(&np, 1, p, 3), 3);
	ck_assert_uint_eq(p[0], 40001);
	ck_assert_uint_eq(p[2], 40003);
	ck_assert_uint_eq(natpredict_stride(&np, 2, p, 3), 3);
	ck_assert_uint_eq(p[0], 40001);
	ck_assert_uint_eq(p[1], 40003);
	ck_assert_uint_eq(p[2], 40005);
	np.delta = -2;
	ck_assert_uint_eq(natpredict_stride(&np, 2, p, 2), 2);
	ck_assert_uint_eq(p[1], 39994);
	ck_assert_uint_eq(natpredict_stride(&np, 3, p, 2), 0);
	ck_assert_uint_eq(natpredict_stride(&np, 1, p, 1000), NATPREDICT_MAX);
	/* nonsense in, nothing out */
	np.delta = 0;
	ck_assert_uint_eq(natpredict_ports(&np, p, 8), 0);
	np = (struct natpredict){ 5000, 1, 0, NAN, 1 };
	ck_assert_uint_eq(natpredict_ports(&np, p, 8), 0);
	np = (struct natpredict){ 5000, 1, -1, 0, 1 };
	ck_assert_uint_eq(natpredict_ports(&np, p, 8), 0);
	np = (struct natpredict){ 5000, 1, 0, 0, 0 };
	ck_assert_uint_eq(natpredict_ports(&np, p, 8), 0);
}
END_TEST

/* the simulations live in check_birthday_sim.c */
void	birthday_sim_tcases(Suite *s);

Suite *
birthday_suite(void)
{
	Suite	*s = suite_create("birthday");
	TCase	*tc = tcase_create("planner");

	tcase_add_test(tc, test_easy_budget_and_give_up);
	tcase_add_test(tc, test_hard_sockets_and_crossing);
	tcase_add_test(tc, test_hard_gives_up_and_closes);
	tcase_add_test(tc, test_unbounded_refused);
	tcase_add_test(tc, test_strategy);
	tcase_add_test(tc, test_predict_list);
	suite_add_tcase(s, tc);
	birthday_sim_tcases(s);
	return s;
}
