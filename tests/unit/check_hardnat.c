/*
 * punchd/hardnat_behav: a side's NAT behaviour as birthday_strategy sees
 * it, on the wire and back, and the freshest port of a sequential
 * allocator.
 */
#include <string.h>

#include "punchd/birthday.h"
#include "punchd/hardnat.h"
#include "proto/relaymsg.h"
#include "fakenode.h"
#include "suites.h"

#define SECRET	\
	"7e0c0ffee6d0c0ffee6d0c0ffee6d0c0ffee6d0c0ffee6d0c0ffee6d0c0ffee1"

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

/*
 * punchd's core with a fake net (fakenode.h): B meets A's candidates and
 * NAT behaviour as a relay SIGNAL would bring them. A's signalled
 * server-reflexive port (40005) is dead and A's socket sits at 40007, two
 * allocations further: only B's probes of A's predicted ports can reach
 * it, and the check they start completes as an ordinary one.
 */
static struct relaymsg_signal
signal_of(const char *mapping, const char *alloc, int delta, uint16_t last,
    int srflx_port)
{
	struct relaymsg_signal	s;

	memset(&s, 0, sizeof(s));
	strcpy(s.type, "candidates");
	s.ncands = 1;
	strcpy(s.cands[0].kind, "srflx");
	snprintf(s.cands[0].addr, sizeof(s.cands[0].addr), "127.0.0.1:%d",
	    srflx_port);
	s.has_nat = 1;
	strcpy(s.nat.mapping, mapping);
	strcpy(s.nat.filtering, "address-and-port-dependent");
	strcpy(s.nat.alloc, alloc);
	s.nat.delta = delta;
	s.nat.last_port = last;
	s.nat.confidence = 0.8;
	return s;
}

/* p met its peer on a relay: its candidates and its NAT's behaviour */
static void
meet(struct peer *p, const struct relaymsg_signal *sig)
{
	struct sockaddr_storage	cand;
	enum punch_cand_type	type = CAND_SRFLX;

	memset(&cand, 0, sizeof(cand));
	ck_assert_int_eq(netaddr_parse(sig->cands[0].addr, 0, &cand), 0);
	p->pd->hooks.relay_nat(p, sig);
	p->pd->hooks.relay_cands(p, &cand, &type, 1);
}

static int
is_direct(void *arg)
{
	return ((struct peer *)arg)->state == PEER_DIRECT;
}

START_TEST(test_predicted_in_punchd)
{
	struct fake_node	*a, *b;
	struct relaymsg_signal	 sig;
	struct peer		*p;
	const char		*r;

	a = fakenode_new(40007, SECRET);
	b = fakenode_new(17302, SECRET);
	b->pd.nat_ours = behav("endpoint-independent", "port-preserving", 0,
	    17302);
	p = peer_create(&b->pd, a->pd.node_idstr);
	ck_assert_ptr_nonnull(p);
	sig = signal_of("address-and-port-dependent", "sequential", 1, 40005,
	    40005);
	meet(p, &sig);
	ck_assert_str_eq(hardnat_strategy_why(p), "one side maps per "
	    "destination with sequential ports: the other probes the "
	    "predicted range");
	ck_assert(fakenet_run(is_direct, p, 3));
	ck_assert_uint_eq(netaddr_port((struct sockaddr *)&p->endpoint),
	    40007);
	/* the run ends at its next tick: the result for `why` */
	fakenet_run(NULL, NULL, 0.1);
	r = hardnat_result(p);
	ck_assert_ptr_nonnull(r);
	ck_assert_msg(strstr(r, "predicted-range probing crossed at port "
	    "40007 after 2 probes") != NULL, "%s", r);
	ck_assert_uint_eq(hardnat_probes(p), 2);
	ck_assert_ptr_null(hardnat_hopeless(p));
	fakenet_free();
}
END_TEST

/* random ports on both sides: nothing probed, the pair hopeless */
START_TEST(test_hopeless_in_punchd)
{
	struct fake_node	*a, *b;
	struct relaymsg_signal	 sig;
	struct peer		*p;
	const char		*h;

	a = fakenode_new(17311, SECRET);
	b = fakenode_new(17312, SECRET);
	b->pd.nat_ours = behav("address-and-port-dependent", "random", 0,
	    31000);
	a->cut = 1;
	p = peer_create(&b->pd, a->pd.node_idstr);
	sig = signal_of("address-and-port-dependent", "random", 0, 52000,
	    52000);
	meet(p, &sig);
	fakenet_run(NULL, NULL, 0.5);
	h = hardnat_hopeless(p);
	ck_assert_ptr_nonnull(h);
	ck_assert_str_eq(h, "both sides map per destination, one with random "
	    "ports: no port can be guessed");
	ck_assert_uint_eq(hardnat_probes(p), 0);
	ck_assert_int_eq(p->pair_fd, -1);
	/* with hard-NAT traversal off, a signal is not even kept */
	b->pd.cfg.hardnat = 0;
	p = peer_create(&b->pd, "other");
	meet(p, &sig);
	ck_assert_ptr_null(hardnat_theirs(p));
	fakenet_free();
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
	tc = tcase_create("punchd");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_predicted_in_punchd);
	tcase_add_test(tc, test_hopeless_in_punchd);
	suite_add_tcase(s, tc);
	return s;
}
