/*
 * The fake NAT the path-logic tests run against (fakenat.h), and its own
 * checks: a NAT that misbehaves would make every simulation figure wrong.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fakenat.h"
#include "suites.h"

#define FAKENAT_PERMCAP	(1 << 15)	/* > 2 x the largest probe budget */

double
fakenat_uniform(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return (z >> 11) * (1.0 / 9007199254740992.0);
}

int
fakenat_init(struct fakenat *n, int mapping, int alloc, uint32_t ext_addr,
    double timeout, uint64_t seed)
{
	memset(n, 0, sizeof(*n));
	n->mapping = mapping;
	n->alloc = alloc;
	n->ext_addr = ext_addr;
	n->timeout = timeout;
	n->rng = seed;
	n->next_seq = 1024 + (uint16_t)(fakenat_uniform(&n->rng) * 60000);
	n->by_ext = calloc(65536, sizeof(*n->by_ext));
	n->permcap = FAKENAT_PERMCAP;
	n->perm = calloc(n->permcap, sizeof(*n->perm));
	return n->by_ext && n->perm ? 0 : -1;
}

void
fakenat_free(struct fakenat *n)
{
	free(n->maps);
	free(n->by_ext);
	free(n->perm);
	memset(n, 0, sizeof(*n));
}

static struct fakenat_map *
fakenat_live(struct fakenat *n, double now, uint16_t ext)
{
	int32_t i = n->by_ext[ext];

	if (i == 0)
		return NULL;
	if (now - n->maps[i - 1].last >= n->timeout) {
		n->by_ext[ext] = 0;	/* expired: the port is free again */
		return NULL;
	}
	return &n->maps[i - 1];
}

static uint64_t
fakenat_key(uint16_t ext, uint32_t src, uint16_t sport)
{
	return (uint64_t)ext << 48 | (uint64_t)src << 16 | sport;
}

/* 1 when present; adds it when add */
static int
fakenat_perm(struct fakenat *n, uint64_t key, int add)
{
	size_t i = (key * 0x9e3779b97f4a7c15ULL) >> 49;	/* 15 bits */

	for (;; i = (i + 1) % n->permcap) {
		if (n->perm[i] == key)
			return 1;
		if (n->perm[i] == 0) {
			if (add && n->nperm + 1 < n->permcap) {
				n->perm[i] = key;
				n->nperm++;
			}
			return 0;
		}
	}
}

/* other hosts' allocations since the last one of ours: Poisson(load) */
static void
fakenat_others(struct fakenat *n, double now)
{
	double t = n->load_last;

	if (n->load <= 0 || now <= t) {
		n->load_last = now;
		return;
	}
	for (;;) {
		t += -log(1 - fakenat_uniform(&n->rng)) / n->load;
		if (t > now)
			break;
		n->next_seq = n->next_seq >= 65535 ? 1024 : n->next_seq + 1;
		n->others++;
	}
	n->load_last = now;
}

static uint16_t
fakenat_alloc(struct fakenat *n, double now, uint16_t in_port)
{
	uint16_t p;

	if (n->alloc == FAKENAT_ALLOC_PRESERVE && !fakenat_live(n, now, in_port))
		return in_port;
	if (n->alloc == FAKENAT_ALLOC_SEQ) {
		fakenat_others(n, now);
		do
			n->next_seq = n->next_seq >= 65535 ? 1024 :
			    n->next_seq + 1;
		while (fakenat_live(n, now, n->next_seq));
		return n->next_seq;
	}
	do
		p = 1024 + (uint16_t)(fakenat_uniform(&n->rng) * 64512);
	while (fakenat_live(n, now, p));
	return p;
}

uint16_t
fakenat_out(struct fakenat *n, double now, uint16_t in_port, uint32_t dst,
    uint16_t dport)
{
	struct fakenat_map	*m = NULL;
	size_t			 i;

	for (i = 0; i < n->nmaps; i++) {
		struct fakenat_map *c = &n->maps[i];

		if (c->in_port != in_port || n->by_ext[c->ext] != (int32_t)i + 1)
			continue;
		if (n->mapping == FAKENAT_MAP_APD &&
		    (c->dst != dst || c->dport != dport))
			continue;
		if (fakenat_live(n, now, c->ext)) {
			m = c;
			break;
		}
	}
	if (m == NULL) {
		if (n->nmaps == n->cap) {
			n->cap = n->cap ? 2 * n->cap : 64;
			n->maps = realloc(n->maps, n->cap * sizeof(*n->maps));
			if (n->maps == NULL)
				abort();
		}
		m = &n->maps[n->nmaps];
		m->in_port = in_port;
		m->dst = dst;
		m->dport = dport;
		m->ext = fakenat_alloc(n, now, in_port);
		n->by_ext[m->ext] = (int32_t)++n->nmaps;
		n->allocs++;
	}
	m->last = now;
	fakenat_perm(n, fakenat_key(m->ext, dst, dport), 1);
	return m->ext;
}

int
fakenat_in(struct fakenat *n, double now, uint32_t src, uint16_t sport,
    uint16_t ext)
{
	struct fakenat_map *m = fakenat_live(n, now, ext);

	/* inbound does not refresh: real NATs may not (NATLAB-NOTES) */
	if (m == NULL || !fakenat_perm(n, fakenat_key(ext, src, sport), 0))
		return -1;
	return m->in_port;
}

/* --- the fake NAT's own checks ---------------------------------------- */

START_TEST(test_eim_preserves_and_filters)
{
	struct fakenat n;

	ck_assert_int_eq(fakenat_init(&n, FAKENAT_MAP_EI,
	    FAKENAT_ALLOC_PRESERVE, 1, 30, 1), 0);
	ck_assert_uint_eq(fakenat_out(&n, 0, 7777, 10, 3478), 7777);
	ck_assert_uint_eq(fakenat_out(&n, 1, 7777, 11, 3478), 7777);
	/* answers from where we sent pass, strangers and other ports not */
	ck_assert_int_eq(fakenat_in(&n, 2, 10, 3478, 7777), 7777);
	ck_assert_int_eq(fakenat_in(&n, 2, 10, 3479, 7777), -1);
	ck_assert_int_eq(fakenat_in(&n, 2, 12, 3478, 7777), -1);
	ck_assert_int_eq(fakenat_in(&n, 2, 10, 3478, 7778), -1);
	/* the binding times out 30 s after the last outbound */
	ck_assert_int_eq(fakenat_in(&n, 30.9, 10, 3478, 7777), 7777);
	ck_assert_int_eq(fakenat_in(&n, 31.0, 10, 3478, 7777), -1);
	fakenat_free(&n);
}
END_TEST

START_TEST(test_apd_random_per_destination)
{
	struct fakenat	n;
	uint16_t	a, b;

	fakenat_init(&n, FAKENAT_MAP_APD, FAKENAT_ALLOC_RANDOM, 1, 30, 2);
	a = fakenat_out(&n, 0, 7777, 10, 3478);
	b = fakenat_out(&n, 0, 7777, 11, 3478);
	ck_assert_uint_ne(a, b);
	ck_assert_uint_eq(fakenat_out(&n, 1, 7777, 10, 3478), a);
	/* b's mapping is for 11 only */
	ck_assert_int_eq(fakenat_in(&n, 1, 10, 3478, b), -1);
	ck_assert_int_eq(fakenat_in(&n, 1, 11, 3478, b), 7777);
	fakenat_free(&n);
}
END_TEST

START_TEST(test_sequential_with_load)
{
	struct fakenat	n;
	uint16_t	p[4];
	int		i;

	fakenat_init(&n, FAKENAT_MAP_APD, FAKENAT_ALLOC_SEQ, 1, 30, 3);
	for (i = 0; i < 4; i++)
		p[i] = fakenat_out(&n, i, 7777, 10 + i, 3478);
	for (i = 1; i < 4; i++)
		ck_assert_uint_eq(p[i], p[i - 1] + 1);
	n.load = 5;
	p[0] = fakenat_out(&n, 100, 7777, 20, 3478);
	/* 96 s at 5/s: about 480 others in between */
	ck_assert_uint_gt(n.others, 380);
	ck_assert_uint_lt(n.others, 580);
	ck_assert_uint_eq((uint16_t)(p[0] - p[3]), n.others + 1);
	fakenat_free(&n);
}
END_TEST

Suite *
fakenat_suite(void)
{
	Suite	*s = suite_create("fakenat");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_eim_preserves_and_filters);
	tcase_add_test(tc, test_apd_random_per_destination);
	tcase_add_test(tc, test_sequential_with_load);
	suite_add_tcase(s, tc);
	return s;
}
