/*
 * common/rendezvous.c: the order is a pure function of the session and the
 * set of URLs (not their order in the list), the weights are the ones any
 * implementation of the documented hash computes, sessions spread evenly,
 * and removing or adding a relay moves only the sessions it held or takes
 * (measured over 10,000 session names and printed).
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "common/rendezvous.h"
#include "suites.h"

#define NSESS	10000

static const char *relays[] = {
	"wss://relay-a.example.org/",
	"wss://relay-b.example.org/",
	"wss://relay-c.example.org/",
	"wss://relay-d.example.org/",
	"wss://relay-e.example.org/",
};
#define NRELAYS	(sizeof(relays) / sizeof(relays[0]))

static void
setup(void)
{
	ck_assert_int_ne(sodium_init(), -1);
}

static void
sess(char *buf, size_t len, int i)
{
	snprintf(buf, len, "s%05d-%08x", i, (unsigned)(i * 2654435761u));
}

START_TEST(t_weight_vector)
{
	unsigned char	 h[16];
	const char	*key = "atmosphere relay rendezvous v1";
	const char	*msg = "wss://relay-a.example.org/\nmysession";
	uint64_t	 w = 0;
	int		 i;

	/* the documented construction, computed the one-shot way */
	crypto_generichash(h, sizeof(h), (const unsigned char *)msg,
	    strlen(msg), (const unsigned char *)key, strlen(key));
	for (i = 0; i < 8; i++)
		w = w << 8 | h[i];
	ck_assert_uint_eq(rendezvous_weight("mysession", relays[0]), w);
	ck_assert_uint_ne(rendezvous_weight("mysession", relays[1]), w);
	ck_assert_uint_ne(rendezvous_weight("mysession2", relays[0]), w);
}
END_TEST

START_TEST(t_stable)
{
	const char	*rev[NRELAYS];
	size_t		 a[NRELAYS], b[NRELAYS], c[NRELAYS], i;
	char		 s[32];
	int		 k;

	for (i = 0; i < NRELAYS; i++)
		rev[i] = relays[NRELAYS - 1 - i];
	for (k = 0; k < 200; k++) {
		sess(s, sizeof(s), k);
		ck_assert_int_eq(rendezvous_order(s, relays, NRELAYS, a), 0);
		ck_assert_int_eq(rendezvous_order(s, relays, NRELAYS, b), 0);
		ck_assert_int_eq(rendezvous_order(s, rev, NRELAYS, c), 0);
		for (i = 0; i < NRELAYS; i++) {
			ck_assert_uint_eq(a[i], b[i]);
			/* the same URL whatever the list order */
			ck_assert_str_eq(relays[a[i]], rev[c[i]]);
			/* heaviest first */
			if (i > 0)
				ck_assert_uint_ge(rendezvous_weight(s,
				    relays[a[i - 1]]),
				    rendezvous_weight(s, relays[a[i]]));
		}
	}
	/* every index once */
	sess(s, sizeof(s), 7);
	rendezvous_order(s, relays, NRELAYS, a);
	for (i = 0; i < NRELAYS; i++) {
		size_t seen = 0, j;
		for (j = 0; j < NRELAYS; j++)
			seen += a[j] == i;
		ck_assert_uint_eq(seen, 1);
	}
	ck_assert_int_eq(rendezvous_order(s, relays, 0, a), 0);
	ck_assert_int_eq(rendezvous_order(s, relays, RENDEZVOUS_MAX + 1, a),
	    -1);
}
END_TEST

START_TEST(t_duplicates)
{
	const char	*dup[3] = { "ws://r/", "ws://q/", "ws://r/" };
	size_t		 o[3], ir = 9, i;
	char		 s[32];
	int		 k;

	/* equal URLs weigh the same and stay in list order, adjacent */
	for (k = 0; k < 50; k++) {
		sess(s, sizeof(s), k);
		rendezvous_order(s, dup, 3, o);
		for (i = 0; i < 3; i++)
			if (o[i] == 0)
				ir = i;
		ck_assert_uint_lt(ir, 2);
		ck_assert_uint_eq(o[ir + 1], 2);
	}
}
END_TEST

/* first choice of each session with the full list and with relay `gone`
 * left out: only the sessions that were on it move, each to its old second
 * choice; the others keep their relay. */
START_TEST(t_minimal_movement)
{
	static size_t	 first[NSESS], second[NSESS];
	const char	*less[NRELAYS];
	size_t		 o[NRELAYS], on[NRELAYS] = { 0 }, i, gone, moved, kept;
	char		 s[32];
	int		 k;

	for (k = 0; k < NSESS; k++) {
		sess(s, sizeof(s), k);
		rendezvous_order(s, relays, NRELAYS, o);
		first[k] = o[0];
		second[k] = o[1];
		on[o[0]]++;
	}
	printf("rendezvous: %d sessions over %zu relays:", NSESS, NRELAYS);
	for (i = 0; i < NRELAYS; i++) {
		printf(" %zu", on[i]);
		/* even: 2000 each expected, sd ~40 */
		ck_assert_uint_gt(on[i], NSESS / NRELAYS * 85 / 100);
		ck_assert_uint_lt(on[i], NSESS / NRELAYS * 115 / 100);
	}
	printf("\n");
	for (gone = 0; gone < NRELAYS; gone++) {
		size_t m = 0;
		for (i = 0; i < NRELAYS; i++)
			if (i != gone)
				less[m++] = relays[i];
		moved = kept = 0;
		for (k = 0; k < NSESS; k++) {
			sess(s, sizeof(s), k);
			rendezvous_order(s, less, NRELAYS - 1, o);
			if (strcmp(less[o[0]], relays[first[k]]) == 0) {
				kept++;
				continue;
			}
			moved++;
			ck_assert_uint_eq(first[k], gone);
			ck_assert_str_eq(less[o[0]], relays[second[k]]);
		}
		printf("rendezvous: relay %zu removed: %zu of %d sessions moved "
		    "(it held %zu), %zu kept their relay\n", gone, moved, NSESS,
		    on[gone], kept);
		ck_assert_uint_eq(moved, on[gone]);
	}
}
END_TEST

/* adding a sixth relay: the sessions that move all move to it */
START_TEST(t_add_relay)
{
	const char	*more[NRELAYS + 1];
	size_t		 o[NRELAYS + 1], i, moved = 0;
	char		 s[32];
	int		 k;

	for (i = 0; i < NRELAYS; i++)
		more[i] = relays[i];
	more[NRELAYS] = "wss://relay-f.example.org/";
	for (k = 0; k < NSESS; k++) {
		size_t before[NRELAYS];
		sess(s, sizeof(s), k);
		rendezvous_order(s, relays, NRELAYS, before);
		rendezvous_order(s, more, NRELAYS + 1, o);
		if (o[0] == before[0])
			continue;
		ck_assert_uint_eq(o[0], NRELAYS);
		moved++;
	}
	printf("rendezvous: a 6th relay added: %zu of %d sessions moved to "
	    "it\n", moved, NSESS);
	ck_assert_uint_gt(moved, NSESS / 6 * 85 / 100);
	ck_assert_uint_lt(moved, NSESS / 6 * 115 / 100);
}
END_TEST

Suite *
rendezvous_suite(void)
{
	Suite	*s = suite_create("rendezvous");
	TCase	*tc = tcase_create("rendezvous");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, t_weight_vector);
	tcase_add_test(tc, t_stable);
	tcase_add_test(tc, t_duplicates);
	tcase_add_test(tc, t_minimal_movement);
	tcase_add_test(tc, t_add_relay);
	suite_add_tcase(s, tc);
	return s;
}
