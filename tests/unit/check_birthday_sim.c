/*
 * Birthday and predicted-range probing against two fake NATs (fakenat.h),
 * over fixed seeds: the success rates and costs of issue 13's targets.
 * One-way delay 20 ms; both sides start within +-0.2 s of each other (the
 * relay's signalling). A run succeeds when both sides have received an
 * authenticated packet on the winning socket pair (PUNCH one way, its
 * ACK the other), as punchd's handshake needs.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "punchd/birthday.h"
#include "punchd/natpredict.h"
#include "stund/alloc.h"
#include "fakenat.h"
#include "suites.h"

#define SIM_OWD		0.020
#define SIM_END		12.0
#define HARD_ADDR	0xc6336401u	/* 198.51.100.1 */
#define EASY_ADDR	0xc6336402u
#define STUN_ADDR	0xcb00710au	/* 203.0.113.10 */
#define MAIN_PORT	7777
#define XPORT_BASE	40000
#define SIM_QMAX	4096
#define SIM_NEVER	1e9

#define MODE_BIRTHDAY	1	/* hard side: planner with extra sockets */
#define MODE_PREDICT	2	/* hard side: ordinary punching every 0.2 s */
#define MODE_SEQSEQ	3	/* both sides probe a predicted list */

struct pkt {
	double		at;
	int		to_hard, ack;
	uint32_t	src;
	uint16_t	sport, dport;
};

struct sim {
	int		 mode;
	double		 now;
	struct fakenat	 hn, en;
	struct birthday	 hard, easy;		/* SEQSEQ: both EASY */
	uint16_t	 easy_ext;
	struct pkt	 q[SIM_QMAX];
	size_t		 nq;
	double		 hard_won, easy_won, next_punch;
	unsigned	 punches, over_rate;
	uint8_t		 closed[BIRTHDAY_MAX_SOCKETS];
};

static void
sim_queue(struct sim *s, int to_hard, uint32_t src, uint16_t sport,
    uint16_t dport, int ack)
{
	if (s->nq == SIM_QMAX)
		return;		/* a full wire drops, as any would */
	s->q[s->nq++] = (struct pkt){ s->now + SIM_OWD, to_hard, ack, src,
	    sport, dport };
}

static void
sim_check_rate(struct sim *s, struct birthday *b)
{
	if (b->sent + 1 > floor((s->now - b->start) * b->cfg.pps + 1e-6) + 1 ||
	    b->sent + 1 > b->cfg.budget)
		s->over_rate++;
}

static void
sim_hard_to(struct sim *s, uint16_t in_port, uint16_t dport, int ack)
{
	uint16_t ext = fakenat_out(&s->hn, s->now, in_port, EASY_ADDR, dport);

	sim_queue(s, 0, HARD_ADDR, ext, dport, ack);
}

static void
sim_hard_from(struct sim *s, uint16_t in_port, int ack)
{
	sim_hard_to(s, in_port, s->easy_ext, ack);
}

/* SEQSEQ: the hard side probes from its one socket, like the easy side */
static void
sim_hard_probe(void *arg, int sock, uint16_t port)
{
	struct sim *s = arg;

	(void)sock;
	sim_check_rate(s, &s->hard);
	sim_hard_to(s, MAIN_PORT, port, 0);
}

static int
sim_open(void *arg, int sock)
{
	(void)arg;
	(void)sock;
	return 0;
}

static void
sim_hard_send(void *arg, int sock, uint16_t port)
{
	struct sim *s = arg;

	(void)port;
	sim_check_rate(s, &s->hard);
	sim_hard_from(s, XPORT_BASE + sock, 0);
}

static void
sim_close(void *arg, int sock)
{
	((struct sim *)arg)->closed[sock] = 1;
}

static void
sim_easy_send(void *arg, int sock, uint16_t port)
{
	struct sim	*s = arg;
	uint16_t	 ext;

	(void)sock;
	sim_check_rate(s, &s->easy);
	ext = fakenat_out(&s->en, s->now, MAIN_PORT, HARD_ADDR, port);
	sim_queue(s, 1, EASY_ADDR, ext, port, 0);
}

static void
sim_deliver(struct sim *s, const struct pkt *p)
{
	int in;

	if (p->to_hard) {
		in = fakenat_in(&s->hn, s->now, p->src, p->sport, p->dport);
		if (in < 0)
			return;
		if (s->mode == MODE_BIRTHDAY) {
			if (in < XPORT_BASE || s->closed[in - XPORT_BASE])
				return;
			birthday_input(&s->hard, s->now, in - XPORT_BASE, 0);
			if (s->hard.winner_sock != in - XPORT_BASE)
				return;
		}
		if (s->mode == MODE_SEQSEQ) {
			birthday_input(&s->hard, s->now, -1, p->sport);
			if (s->hard.winner_port != p->sport)
				return;
		}
		if (s->hard_won < 0)
			s->hard_won = s->now;
		if (!p->ack)
			sim_hard_to(s, (uint16_t)in, p->sport, 1);
		return;
	}
	in = fakenat_in(&s->en, s->now, p->src, p->sport, p->dport);
	if (in < 0)
		return;
	birthday_input(&s->easy, s->now, -1, p->sport);
	if (s->easy.winner_port != p->sport)
		return;
	if (s->easy_won < 0)
		s->easy_won = s->now;
	if (!p->ack)
		sim_queue(s, 1, EASY_ADDR, fakenat_out(&s->en, s->now,
		    MAIN_PORT, HARD_ADDR, p->sport), p->sport, 1);
}

/* deliver everything due by now (order among equal times does not matter) */
static double
sim_wire(struct sim *s)
{
	double	next = SIM_NEVER;
	size_t	i = 0;

	while (i < s->nq) {
		if (s->q[i].at <= s->now) {
			struct pkt p = s->q[i];

			s->q[i] = s->q[--s->nq];
			sim_deliver(s, &p);
			continue;
		}
		if (s->q[i].at < next)
			next = s->q[i].at;
		i++;
	}
	return next;
}

/*
 * One run from t = 0 (the signal) to both sides done. Returns the time
 * the pair went direct, or -1.
 */
static double
sim_run2(struct sim *s, const struct birthday_cfg *ecfg,
    const struct birthday_cfg *seqcfg, uint64_t seed)
{
	struct birthday_cfg	hcfg;
	struct birthday_cb	hcb = { sim_open, sim_hard_send, sim_close, s };
	struct birthday_cb	scb = { NULL, sim_hard_probe, NULL, s };
	struct birthday_cb	ecb = { NULL, sim_easy_send, NULL, s };
	double			hnext = SIM_NEVER, enext, wnext, skew;
	uint64_t		rng = seed ^ 0x5eed;

	skew = 0.4 * fakenat_uniform(&rng) - 0.2;
	s->hard_won = s->easy_won = -1;
	s->now = skew > 0 ? 0 : -skew;
	ck_assert_int_eq(birthday_start(&s->easy, ecfg, &ecb, s->now, seed), 0);
	enext = s->now;
	if (s->mode == MODE_BIRTHDAY) {
		birthday_defaults(&hcfg, BDAY_HARD);
		ck_assert_int_eq(birthday_start(&s->hard, &hcfg, &hcb,
		    skew > 0 ? skew : 0, seed + 1), 0);
		hnext = s->hard.start;
	} else if (s->mode == MODE_SEQSEQ) {
		ck_assert_int_eq(birthday_start(&s->hard, seqcfg, &scb,
		    skew > 0 ? skew : 0, seed + 1), 0);
		hnext = s->hard.start;
	} else
		s->next_punch = skew > 0 ? skew : 0;
	for (;;) {
		wnext = sim_wire(s);
		if (s->now >= enext && enext < SIM_NEVER &&
		    (enext = birthday_tick(&s->easy, s->now)) < 0)
			enext = SIM_NEVER;
		if (s->now >= hnext && hnext < SIM_NEVER &&
		    (hnext = birthday_tick(&s->hard, s->now)) < 0)
			hnext = SIM_NEVER;
		if (s->mode == MODE_PREDICT && s->now >= s->next_punch &&
		    s->hard_won < 0) {
			sim_hard_from(s, MAIN_PORT, 0);
			s->punches++;
			s->next_punch += 0.2;
		}
		if (s->hard_won >= 0 && s->easy_won >= 0)
			return fmax(s->hard_won, s->easy_won);
		s->now = fmin(fmin(enext, hnext), wnext);
		if (s->mode == MODE_PREDICT && s->hard_won < 0)
			s->now = fmin(s->now, s->next_punch);
		if (s->now > SIM_END)
			return -1;
	}
}

static double
sim_run(struct sim *s, const struct birthday_cfg *ecfg, uint64_t seed)
{
	return sim_run2(s, ecfg, NULL, seed);
}

struct tally {
	unsigned	runs, ok, ok3, probes, hardpkts, maxprobes, maxhard;
	unsigned	over, misclassified;
	double		tsum;
};

static void
tally_add(struct tally *t, const struct sim *s, double won)
{
	unsigned hp = s->mode != MODE_PREDICT ? s->hard.sent + s->punches :
	    s->punches;

	t->runs++;
	if (won >= 0 && won <= 10) {
		t->ok++;
		t->tsum += won;
	}
	if (won >= 0 && won <= 3)
		t->ok3++;
	t->probes += s->easy.sent;
	t->hardpkts += hp;
	if (s->easy.sent > t->maxprobes)
		t->maxprobes = s->easy.sent;
	if (hp > t->maxhard)
		t->maxhard = hp;
	t->over += s->over_rate;
}

static void
tally_print(const char *what, const struct tally *t)
{
	fprintf(stderr, "birthday sim: %s: %u/%u direct within 10 s "
	    "(%.1f %%), %u within 3 s (%.1f %%), mean %.2f s; easy side "
	    "%.0f probes/run (max %u), hard side %.0f packets/run (max %u)"
	    "; %u runs not seen as sequential\n",
	    what, t->ok, t->runs, 100.0 * t->ok / t->runs, t->ok3,
	    100.0 * t->ok3 / t->runs, t->ok ? t->tsum / t->ok : 0,
	    (double)t->probes / t->runs, t->maxprobes,
	    (double)t->hardpkts / t->runs, t->maxhard, t->misclassified);
}

static struct sim sim;	/* large: keep it off the stack */

static void
sim_nats(struct sim *s, int hard_alloc, int easy_mapping, uint64_t seed)
{
	memset(s, 0, sizeof(*s));
	fakenat_init(&s->hn, FAKENAT_MAP_APD, hard_alloc, HARD_ADDR, 30, seed);
	fakenat_init(&s->en, easy_mapping, easy_mapping == FAKENAT_MAP_EI ?
	    FAKENAT_ALLOC_PRESERVE : FAKENAT_ALLOC_RANDOM, EASY_ADDR, 30,
	    seed * 7 + 3);
	/* the easy side's endpoint as its STUN server saw it */
	s->easy_ext = fakenat_out(&s->en, -5, MAIN_PORT, STUN_ADDR, 3478);
}

START_TEST(test_sim_random_vs_port_restricted)
{
	struct birthday_cfg	cfg;
	struct tally		t = { 0 };
	uint64_t		seed;

	birthday_defaults(&cfg, BDAY_EASY);
	for (seed = 1; seed <= 200; seed++) {
		sim_nats(&sim, FAKENAT_ALLOC_RANDOM, FAKENAT_MAP_EI, seed);
		sim.mode = MODE_BIRTHDAY;
		tally_add(&t, &sim, sim_run(&sim, &cfg, seed));
		ck_assert_uint_le(sim.easy.sent, cfg.budget);
		ck_assert_uint_le(sim.hard.sent, sim.hard.cfg.budget);
		/* the winner kept, every other extra socket closed */
		if (sim.hard.state == BDAY_WON)
			ck_assert_uint_eq(sim.hard.opened, 0);
		fakenat_free(&sim.hn);
		fakenat_free(&sim.en);
	}
	tally_print("symmetric-random vs port-restricted", &t);
	ck_assert_uint_eq(t.over, 0);
	/* issue 13: >= 90 % within 10 s; exp(-256 x 2048 / 64512) leaves
	 * 0.03 % to chance, so 90 % is a wide margin */
	ck_assert_uint_ge(t.ok * 100, 90 * t.runs);
}
END_TEST

/* n Binding requests from one socket behind nat (external address addr),
 * `gap` s apart, the last at `last` */
static void
sim_observe_nat(struct fakenat *nat, uint32_t addr, double last, double gap,
    struct alloc_obs *o, int n)
{
	struct sockaddr_in	*sv, *mp;
	int			 i;

	for (i = 0; i < n; i++) {
		double when = last - gap * (n - 1 - i);

		memset(&o[i], 0, sizeof(o[i]));
		o[i].when = when;
		o[i].local_port = MAIN_PORT;
		sv = (struct sockaddr_in *)&o[i].server;
		mp = (struct sockaddr_in *)&o[i].mapped;
		sv->sin_family = mp->sin_family = AF_INET;
		sv->sin_addr.s_addr = htonl(STUN_ADDR + i);
		sv->sin_port = htons(3478);
		mp->sin_addr.s_addr = htonl(addr);
		mp->sin_port = htons(fakenat_out(nat, when, MAIN_PORT,
		    STUN_ADDR + i, 3478));
	}
}

/* the hard side's NAT, 1 s apart, the last 2 s before the punch */
static void
sim_observe(struct sim *s, struct alloc_obs *o, int n)
{
	sim_observe_nat(&s->hn, HARD_ADDR, -2.0, 1.0, o, n);
}

/* sequential vs port-restricted at `load` other allocations per second */
static void
sim_sequential(double load, struct tally *t)
{
	static uint16_t		ports[NATPREDICT_MAX];
	struct birthday_cfg	cfg;
	struct alloc_obs	obs[3];
	struct alloc_result	ar;
	struct natpredict	np;
	uint64_t		seed;

	for (seed = 1; seed <= 200; seed++) {
		sim_nats(&sim, FAKENAT_ALLOC_SEQ, FAKENAT_MAP_EI, seed);
		sim.hn.load = load;
		sim.hn.load_last = -10;
		sim.mode = MODE_PREDICT;
		sim_observe(&sim, obs, 3);
		ck_assert_int_eq(alloc_analyse(obs, 3, &ar), 0);
		birthday_defaults(&cfg, BDAY_EASY);
		if (ar.pattern == ALLOC_SEQUENTIAL) {
			/* the punch opens the mapping about 2 s after the
			 * last observation, as the first new destination */
			np = (struct natpredict){ ar.last_port, ar.delta,
			    ar.jitter, ar.rate * 2.0, 1 };
			cfg.nports = natpredict_ports(&np, ports,
			    NATPREDICT_MAX);
			cfg.ports = ports;
		} else {
			/* as punchd would: a NAT that does not look
			 * sequential gets the birthday technique */
			t->misclassified++;
			sim.mode = MODE_BIRTHDAY;
		}
		tally_add(t, &sim, sim_run(&sim, &cfg, seed));
		ck_assert_uint_le(sim.easy.sent, cfg.budget);
		fakenat_free(&sim.hn);
		fakenat_free(&sim.en);
	}
}

/*
 * One scenario at 0, 1, 5 and 20 other allocations per second, printed;
 * issue 13's >= 95 % within 3 s asserted for a household's load (<= 5/s).
 */
static void
sim_loads(void (*scenario)(double, struct tally *), const char *what)
{
	static const double	loads[] = { 0, 1, 5, 20 };
	struct tally		t;
	char			line[96];
	size_t			i;

	for (i = 0; i < 4; i++) {
		memset(&t, 0, sizeof(t));
		scenario(loads[i], &t);
		snprintf(line, sizeof(line), "%s, %.0f others/s", what,
		    loads[i]);
		tally_print(line, &t);
		ck_assert_uint_eq(t.over, 0);
		if (loads[i] <= 5)
			ck_assert_uint_ge(t.ok3 * 100, 95 * t.runs);
	}
}

START_TEST(test_sim_sequential_vs_port_restricted)
{
	sim_loads(sim_sequential, "sequential vs port-restricted, predicted "
	    "range");
}
END_TEST

/*
 * Sequential on both sides at `load` others/s on each NAT: each side's
 * four Binding requests (RFC 5780's three mapping tests and the fourth
 * address:port of the server) 50 ms apart, back to back as stund sends
 * them; the signal 1 s later; then the stride scheme of
 * natpredict_stride(). Fewer or slower observations misjudge the delta
 * under load (steps 2 and 2 read as delta 2), and the strides miss.
 */
static void
sim_seqseq(double load, struct tally *t)
{
	static uint16_t		la[NATPREDICT_MAX], lb[NATPREDICT_MAX];
	struct birthday_cfg	ca, cb;
	struct alloc_obs	oa[4], ob[4];
	struct alloc_result	ra, rb;
	struct natpredict	np;
	uint64_t		seed;

	for (seed = 1; seed <= 200; seed++) {
		sim_nats(&sim, FAKENAT_ALLOC_SEQ, FAKENAT_MAP_EI, seed);
		fakenat_free(&sim.en);
		fakenat_init(&sim.en, FAKENAT_MAP_APD, FAKENAT_ALLOC_SEQ,
		    EASY_ADDR, 30, seed * 7 + 3);
		sim.hn.load = sim.en.load = load;
		sim.hn.load_last = sim.en.load_last = -10;
		sim.mode = MODE_SEQSEQ;
		sim_observe_nat(&sim.en, EASY_ADDR, -1.0, 0.05, oa, 4);
		sim_observe_nat(&sim.hn, HARD_ADDR, -1.0, 0.05, ob, 4);
		ck_assert_int_eq(alloc_analyse(oa, 4, &ra), 0);
		ck_assert_int_eq(alloc_analyse(ob, 4, &rb), 0);
		if (ra.pattern != ALLOC_SEQUENTIAL ||
		    rb.pattern != ALLOC_SEQUENTIAL) {
			t->misclassified++;	/* punchd: relay */
			t->runs++;
			fakenat_free(&sim.hn);
			fakenat_free(&sim.en);
			continue;
		}
		/* "easy" (A, smaller node id) stride 1 over B's ports,
		 * "hard" (B) stride 2 over A's */
		birthday_defaults(&ca, BDAY_EASY);
		birthday_defaults(&cb, BDAY_EASY);
		np = (struct natpredict){ rb.last_port, rb.delta, 0, 0, 1 };
		ca.nports = natpredict_stride(&np, 1, la, 64);
		ca.ports = la;
		np = (struct natpredict){ ra.last_port, ra.delta, 0, 0, 1 };
		cb.nports = natpredict_stride(&np, 2, lb, 64);
		cb.ports = lb;
		tally_add(t, &sim, sim_run2(&sim, &ca, &cb, seed));
		ck_assert_uint_le(sim.easy.sent, ca.budget);
		ck_assert_uint_le(sim.hard.sent, cb.budget);
		fakenat_free(&sim.hn);
		fakenat_free(&sim.en);
	}
}

START_TEST(test_sim_sequential_both_sides)
{
	sim_loads(sim_seqseq, "sequential vs sequential (each), strides 1/2");
}
END_TEST

START_TEST(test_sim_random_both_sides)
{
	struct birthday_cfg	cfg;
	struct tally		t = { 0 };
	uint64_t		seed;

	birthday_defaults(&cfg, BDAY_EASY);
	for (seed = 1; seed <= 20; seed++) {
		sim_nats(&sim, FAKENAT_ALLOC_RANDOM, FAKENAT_MAP_APD, seed);
		sim.mode = MODE_BIRTHDAY;
		tally_add(&t, &sim, sim_run(&sim, &cfg, seed));
		/* gave up, said why, and stayed inside its budget */
		ck_assert_int_eq(sim.easy.state, BDAY_FAILED);
		ck_assert_int_eq(sim.hard.state, BDAY_FAILED);
		ck_assert_ptr_nonnull(strstr(sim.easy.reason, "no crossing"));
		ck_assert_uint_le(sim.easy.sent, cfg.budget);
		ck_assert_uint_le(sim.hard.sent, sim.hard.cfg.budget);
		fakenat_free(&sim.hn);
		fakenat_free(&sim.en);
	}
	tally_print("symmetric-random on both sides (punchd would not try: "
	    "birthday_strategy says relay)", &t);
	ck_assert_uint_eq(t.ok, 0);
	ck_assert_uint_eq(t.over, 0);
}
END_TEST

void	birthday_sim_tcases(Suite *s);

void
birthday_sim_tcases(Suite *s)
{
	TCase *tc = tcase_create("simulation");

	/* some seconds under ASan; check's default is 4 s */
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_sim_random_vs_port_restricted);
	tcase_add_test(tc, test_sim_sequential_vs_port_restricted);
	tcase_add_test(tc, test_sim_sequential_both_sides);
	tcase_add_test(tc, test_sim_random_both_sides);
	suite_add_tcase(s, tc);
}
