/*
 * stund/alloc: port allocation classified from mappings of one socket
 * towards several servers; hostile input.
 */
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "stund/alloc.h"
#include "suites.h"

/* observation i: server 203.0.113.(10+srv):3478, mapped 198.51.100.1:port */
static void
obs4(struct alloc_obs *o, double when, int srv, uint16_t local,
    uint16_t mapped)
{
	struct sockaddr_in *s = (struct sockaddr_in *)&o->server;
	struct sockaddr_in *m = (struct sockaddr_in *)&o->mapped;

	memset(o, 0, sizeof(*o));
	o->when = when;
	o->local_port = local;
	s->sin_family = m->sin_family = AF_INET;
	inet_pton(AF_INET, "203.0.113.10", &s->sin_addr);
	s->sin_addr.s_addr = htonl(ntohl(s->sin_addr.s_addr) + srv);
	s->sin_port = htons(3478);
	inet_pton(AF_INET, "198.51.100.1", &m->sin_addr);
	m->sin_port = htons(mapped);
}

static struct alloc_result
classify(const uint16_t *ports, int n, uint16_t local)
{
	struct alloc_obs	o[ALLOC_MAX_OBS];
	struct alloc_result	r;
	int			i;

	for (i = 0; i < n; i++)
		obs4(&o[i], i, i, local, ports[i]);
	ck_assert_int_eq(alloc_analyse(o, n, &r), 0);
	return r;
}

START_TEST(test_constant_and_preserving)
{
	uint16_t		same[] = { 7777, 7777, 7777 };
	uint16_t		other[] = { 31000, 31000, 31000, 31000 };
	struct alloc_result	r;

	r = classify(same, 3, 7777);
	ck_assert_int_eq(r.pattern, ALLOC_PRESERVING);
	ck_assert(r.confidence > 0.74 && r.confidence < 0.76);
	r = classify(other, 4, 7777);
	ck_assert_int_eq(r.pattern, ALLOC_CONSTANT);
	ck_assert_uint_eq(r.last_port, 31000);
	ck_assert(r.confidence > 0.79 && r.confidence < 0.81);
	/* one destination: preserving if it kept the port, else unknown */
	r = classify(same, 1, 7777);
	ck_assert_int_eq(r.pattern, ALLOC_PRESERVING);
	r = classify(other, 1, 7777);
	ck_assert_int_eq(r.pattern, ALLOC_UNKNOWN);
	ck_assert_str_eq(alloc_term(ALLOC_PRESERVING), "port-preserving");
	ck_assert_str_eq(alloc_term(99), "unknown");
}
END_TEST

START_TEST(test_sequential)
{
	uint16_t		clean[] = { 40000, 40001, 40002, 40003, 40004 };
	uint16_t		loaded[] = { 40000, 40003, 40004, 40009 };
	uint16_t		down[] = { 50000, 49998, 49996 };
	uint16_t		wrap[] = { 65533, 65535, 1 };
	uint16_t		outlier[] = { 40000, 40001, 52000, 52001, 52002 };
	struct alloc_result	r;

	r = classify(clean, 5, 7777);
	ck_assert_int_eq(r.pattern, ALLOC_SEQUENTIAL);
	ck_assert_int_eq(r.delta, 1);
	ck_assert_int_eq(r.jitter, 0);
	ck_assert(r.rate == 0);
	ck_assert(r.confidence > 0.83 && r.confidence < 0.84);
	ck_assert_uint_eq(r.last_port, 40004);
	ck_assert_ptr_nonnull(strstr(r.why, "delta +1"));
	/* other hosts in between: delta the smallest step, the rest a rate */
	r = classify(loaded, 4, 7777);
	ck_assert_int_eq(r.pattern, ALLOC_SEQUENTIAL);
	ck_assert_int_eq(r.delta, 1);
	ck_assert_int_eq(r.jitter, 4);
	ck_assert(r.rate > 1.99 && r.rate < 2.01);	/* (2+0+4) / 3 s */
	r = classify(down, 3, 7777);
	ck_assert_int_eq(r.pattern, ALLOC_SEQUENTIAL);
	ck_assert_int_eq(r.delta, -2);
	/* across the top of the 16-bit range: 65535 -> 1 is a step of +2 */
	r = classify(wrap, 3, 7777);
	ck_assert_int_eq(r.pattern, ALLOC_SEQUENTIAL);
	ck_assert_int_eq(r.delta, 2);
	/* one big jump in four steps: still sequential, less confident */
	r = classify(outlier, 5, 7777);
	ck_assert_int_eq(r.pattern, ALLOC_SEQUENTIAL);
	ck_assert(r.confidence > 0.66 && r.confidence < 0.67);
}
END_TEST

START_TEST(test_random)
{
	uint16_t		ports[] = { 12345, 60001, 33333, 2049, 45000 };
	struct alloc_result	r;

	r = classify(ports, 5, 7777);
	ck_assert_int_eq(r.pattern, ALLOC_RANDOM);
	ck_assert_int_eq(r.delta, 0);
	ck_assert(r.confidence > 0.83);
	ck_assert_ptr_nonnull(strstr(r.why, "random ports"));
}
END_TEST

START_TEST(test_order_and_repeats)
{
	struct alloc_obs	o[6];
	struct alloc_result	r;

	/* given out of order; server 1 asked twice (same mapping reused) */
	obs4(&o[0], 3, 3, 7777, 20003);
	obs4(&o[1], 1, 1, 7777, 20001);
	obs4(&o[2], 2, 2, 7777, 20002);
	obs4(&o[3], 0, 0, 7777, 20000);
	obs4(&o[4], 4, 1, 7777, 20001);
	obs4(&o[5], 5, 4, 7777, 20004);
	ck_assert_int_eq(alloc_analyse(o, 6, &r), 0);
	ck_assert_int_eq(r.pattern, ALLOC_SEQUENTIAL);
	ck_assert_int_eq(r.nalloc, 5);
	ck_assert_int_eq(r.delta, 1);
	ck_assert_int_eq(r.jitter, 0);
	ck_assert_uint_eq(r.last_port, 20004);
	ck_assert(r.last_when == 5);
	/* a second external address (an address pool): said */
	((struct sockaddr_in *)&o[5].mapped)->sin_addr.s_addr ^= htonl(1);
	ck_assert_int_eq(alloc_analyse(o, 6, &r), 0);
	ck_assert(r.addr_varies);
	ck_assert_ptr_nonnull(strstr(r.why, "external address varies"));
}
END_TEST

START_TEST(test_hostile)
{
	struct alloc_obs	o[ALLOC_MAX_OBS + 1];
	struct alloc_result	r;
	int			i;

	ck_assert_int_eq(alloc_analyse(NULL, 3, &r), -1);
	ck_assert_int_eq(r.pattern, ALLOC_UNKNOWN);
	ck_assert_int_eq(alloc_analyse(o, 0, &r), -1);
	for (i = 0; i <= ALLOC_MAX_OBS; i++)
		obs4(&o[i], i, i, 7777, 7777);
	ck_assert_int_eq(alloc_analyse(o, ALLOC_MAX_OBS + 1, &r), -1);
	ck_assert_ptr_nonnull(strstr(r.why, "observations"));
	/* a missing address, mixed families */
	o[1].mapped.ss_family = AF_UNSPEC;
	ck_assert_int_eq(alloc_analyse(o, 3, &r), -1);
	o[1].mapped.ss_family = AF_INET6;
	ck_assert_int_eq(alloc_analyse(o, 3, &r), -1);
	ck_assert_ptr_nonnull(strstr(r.why, "observation 1"));
	memset(o, 0xff, sizeof(o));
	ck_assert_int_eq(alloc_analyse(o, 4, &r), -1);
}
END_TEST

Suite *
alloc_suite(void)
{
	Suite	*s = suite_create("alloc");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_constant_and_preserving);
	tcase_add_test(tc, test_sequential);
	tcase_add_test(tc, test_random);
	tcase_add_test(tc, test_order_and_repeats);
	tcase_add_test(tc, test_hostile);
	suite_add_tcase(s, tc);
	return s;
}
