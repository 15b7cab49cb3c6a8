#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "punchd/meshaddr.h"
#include "check_meshaddr.h"
#include "suites.h"

static const uint8_t mesh_a[MESHADDR_MESH_ID_LEN] = "mesh-id-aaaaaaa";
static const uint8_t mesh_b[MESHADDR_MESH_ID_LEN] = "mesh-id-bbbbbbb";

void
id_of(uint64_t v, uint8_t id[MESHADDR_NODE_ID_LEN])
{
	int	i;

	for (i = 7; i >= 0; i--, v >>= 8)
		id[i] = v & 0xff;
}

void
meshaddr_test_clashing(uint8_t a[MESHADDR_NODE_ID_LEN],
    uint8_t b[MESHADDR_NODE_ID_LEN])
{
	static uint32_t		 seen[1u << 22];	/* home -> i + 1 */
	uint64_t		 i;
	uint32_t		 h, j = 0;

	memset(seen, 0, sizeof(seen));
	for (i = 1; i < 100000 && j == 0; i++) {
		id_of(i, a);
		h = meshaddr_v4_home(a) & 0x3fffff;
		if (seen[h] != 0)
			j = seen[h];
		else
			seen[h] = (uint32_t)i;
	}
	ck_assert_uint_ne(j, 0);
	id_of(j, a);			/* the smaller id */
	id_of(i - 1, b);
	ck_assert_uint_eq(meshaddr_v4_home(a), meshaddr_v4_home(b));
	ck_assert(memcmp(a, b, MESHADDR_NODE_ID_LEN) < 0);
}

START_TEST(test_v6)
{
	uint8_t	p1[16], p2[16], p3[16], a[16], id[8];
	int	i;

	meshaddr_v6_prefix(mesh_a, p1);
	meshaddr_v6_prefix(mesh_a, p2);
	meshaddr_v6_prefix(mesh_b, p3);
	ck_assert_int_eq(p1[0], 0xfd);
	ck_assert_mem_eq(p1, p2, 16);
	ck_assert(memcmp(p1, p3, 6) != 0);	/* the global id differs */
	for (i = 6; i < 16; i++)		/* subnet 0, low half 0 */
		ck_assert_int_eq(p1[i], 0);
	id_of(0x0102030405060708ull, id);
	meshaddr_v6(mesh_a, id, a);
	ck_assert_mem_eq(a, p1, 8);
	ck_assert_mem_eq(a + 8, id, 8);
}
END_TEST

START_TEST(test_v4_home_next)
{
	uint8_t		id[8];
	uint32_t	v;
	uint64_t	i;

	for (i = 1; i < 2000; i++) {
		id_of(i * 0x9e3779b97f4a7c15ull, id);
		v = meshaddr_v4_home(id);
		ck_assert_uint_eq(v & 0xffc00000u, MESHADDR_V4_NET);
		ck_assert_uint_ne(v & 0xff, 0);
		ck_assert_uint_ne(v & 0xff, 0xff);
		ck_assert_uint_eq(meshaddr_v4_home(id), v);
	}
	ck_assert_uint_eq(meshaddr_v4_next(0x64400001u), 0x64400002u);
	ck_assert_uint_eq(meshaddr_v4_next(0x644000feu), 0x64400101u);
	/* 100.127.255.254 wraps to 100.64.0.1 */
	ck_assert_uint_eq(meshaddr_v4_next(0x647ffffeu), 0x64400001u);
}
END_TEST

/* Two ids whose homes clash: the smaller keeps it, the other probes on. */
START_TEST(test_clash)
{
	struct meshaddr_table	 t = { 0 };
	uint8_t			 ids[2][8], a[8], b[8];
	const struct meshaddr_member *ma, *mb;

	meshaddr_test_clashing(a, b);
	/* given in either order, the answer is the same */
	memcpy(ids[0], b, 8);
	memcpy(ids[1], a, 8);
	ck_assert_int_eq(meshaddr_table_build(&t, mesh_a,
	    (const uint8_t (*)[8])ids, 2), 0);
	ma = meshaddr_by_node(&t, a);
	mb = meshaddr_by_node(&t, b);
	ck_assert_ptr_nonnull(ma);
	ck_assert_ptr_nonnull(mb);
	ck_assert_uint_eq(ma->v4, meshaddr_v4_home(a));
	ck_assert_uint_eq(mb->v4, meshaddr_v4_next(meshaddr_v4_home(b)));
	memcpy(ids[0], a, 8);
	memcpy(ids[1], b, 8);
	ck_assert_int_eq(meshaddr_table_build(&t, mesh_a,
	    (const uint8_t (*)[8])ids, 2), 0);
	ck_assert_uint_eq(meshaddr_by_node(&t, a)->v4, meshaddr_v4_home(a));
	ck_assert_uint_eq(meshaddr_by_node(&t, b)->v4,
	    meshaddr_v4_next(meshaddr_v4_home(b)));
	meshaddr_table_free(&t);
}
END_TEST

/*
 * A large random membership: addresses unique, and each member's address is
 * the first on its probe path not taken by a member with a smaller id.
 */
START_TEST(test_many)
{
	enum { N = 20000 };
	struct meshaddr_table	 t = { 0 }, t2 = { 0 };
	uint8_t			(*ids)[8] = calloc(N, 8);
	const struct meshaddr_member *m, *o;
	uint32_t		 v;
	size_t			 i, probes = 0;
	uint8_t			 a4[4];

	ck_assert_ptr_nonnull(ids);
	for (i = 0; i < N; i++)
		id_of((i + 1) * 0xd1b54a32d192ed03ull, ids[i]);
	ck_assert_int_eq(meshaddr_table_build(&t, mesh_a,
	    (const uint8_t (*)[8])ids, N), 0);
	ck_assert_uint_eq(t.n, N);
	for (i = 1; i < N; i++)
		ck_assert_uint_lt(t.m[t.by_v4[i - 1]].v4, t.m[t.by_v4[i]].v4);
	for (i = 0; i < N; i++) {
		m = &t.m[i];
		for (v = meshaddr_v4_home(m->node_id); v != m->v4;
		    v = meshaddr_v4_next(v), probes++) {
			a4[0] = v >> 24; a4[1] = v >> 16;
			a4[2] = v >> 8; a4[3] = v;
			o = meshaddr_by_addr(&t, 4, a4);
			ck_assert_ptr_nonnull(o);
			ck_assert(memcmp(o->node_id, m->node_id, 8) < 0);
		}
	}
	ck_assert_uint_gt(probes, 0);	/* 20000 members do clash */
	/* reversed input order, same table */
	for (i = 0; i < N / 2; i++) {
		uint8_t tmp[8];

		memcpy(tmp, ids[i], 8);
		memcpy(ids[i], ids[N - 1 - i], 8);
		memcpy(ids[N - 1 - i], tmp, 8);
	}
	ck_assert_int_eq(meshaddr_table_build(&t2, mesh_a,
	    (const uint8_t (*)[8])ids, N), 0);
	ck_assert_mem_eq(t.m, t2.m, N * sizeof(*t.m));
	meshaddr_table_free(&t);
	meshaddr_table_free(&t2);
	free(ids);
}
END_TEST

START_TEST(test_build_refuses)
{
	struct meshaddr_table	t = { 0 };
	uint8_t			ids[3][8];

	ck_assert_int_eq(meshaddr_table_build(&t, mesh_a, NULL, 0), -1);
	id_of(5, ids[0]);
	id_of(7, ids[1]);
	id_of(5, ids[2]);
	ck_assert_int_eq(meshaddr_table_build(&t, mesh_a,
	    (const uint8_t (*)[8])ids, 3), -1);	/* duplicate */
	ck_assert_int_eq(t.n, 0);
	id_of(0, ids[2]);
	ck_assert_int_eq(meshaddr_table_build(&t, mesh_a,
	    (const uint8_t (*)[8])ids, 3), -1);	/* id 0 */
	id_of(9, ids[2]);
	ck_assert_int_eq(meshaddr_table_build(&t, mesh_a,
	    (const uint8_t (*)[8])ids, 3), 0);
	/* a failed rebuild leaves the table as it was */
	id_of(7, ids[2]);
	ck_assert_int_eq(meshaddr_table_build(&t, mesh_a,
	    (const uint8_t (*)[8])ids, 3), -1);
	ck_assert_int_eq(t.n, 3);
	meshaddr_table_free(&t);
	meshaddr_table_free(&t);	/* twice is harmless */
}
END_TEST

static size_t
ip4(uint8_t *p, uint32_t src, uint32_t dst)
{
	memset(p, 0, 28);
	p[0] = 0x45;
	p[3] = 28;
	p[9] = 1;
	src = htonl(src);
	dst = htonl(dst);
	memcpy(p + 12, &src, 4);
	memcpy(p + 16, &dst, 4);
	return 28;
}

static size_t
ip6(uint8_t *p, const uint8_t *src, const uint8_t *dst)
{
	memset(p, 0, 48);
	p[0] = 0x60;
	p[5] = 8;
	p[6] = 58;
	memcpy(p + 8, src, 16);
	memcpy(p + 24, dst, 16);
	return 48;
}

START_TEST(test_route_and_check)
{
	struct meshaddr_table	 t = { 0 };
	uint8_t			 ids[3][8], p[64], bad6[16];
	const struct meshaddr_member *a, *b, *c;
	size_t			 n;

	id_of(0x1111, ids[0]);
	id_of(0x2222, ids[1]);
	id_of(0x3333, ids[2]);
	ck_assert_int_eq(meshaddr_table_build(&t, mesh_a,
	    (const uint8_t (*)[8])ids, 3), 0);
	a = meshaddr_by_node(&t, ids[0]);
	b = meshaddr_by_node(&t, ids[1]);
	c = meshaddr_by_node(&t, ids[2]);

	/* out: by destination */
	n = ip4(p, a->v4, b->v4);
	ck_assert_ptr_eq(meshaddr_route_out(&t, p, n), b);
	n = ip4(p, a->v4, 0x64400000u);		/* the network address */
	ck_assert_ptr_null(meshaddr_route_out(&t, p, n));
	n = ip4(p, a->v4, 0x0a000001u);		/* off the mesh */
	ck_assert_ptr_null(meshaddr_route_out(&t, p, n));
	n = ip6(p, a->v6, c->v6);
	ck_assert_ptr_eq(meshaddr_route_out(&t, p, n), c);
	memset(bad6, 0, 16);
	bad6[0] = 0xff; bad6[1] = 0x02; bad6[15] = 1;	/* ff02::1 */
	n = ip6(p, a->v6, bad6);
	ck_assert_ptr_null(meshaddr_route_out(&t, p, n));
	memcpy(bad6, c->v6, 16);
	bad6[3] ^= 1;				/* another mesh's prefix */
	n = ip6(p, a->v6, bad6);
	ck_assert_ptr_null(meshaddr_route_out(&t, p, n));
	ck_assert_ptr_null(meshaddr_route_out(&t, p, 39));	/* short */
	p[0] = 0x50;
	ck_assert_ptr_null(meshaddr_route_out(&t, p, n));	/* version */
	ck_assert_ptr_null(meshaddr_route_out(&t, p, 0));

	/* in: from a to b */
	n = ip4(p, a->v4, b->v4);
	ck_assert_int_eq(meshaddr_check_in(&t, a->node_id, b, p, n),
	    MESHADDR_OK);
	ck_assert_int_eq(meshaddr_check_in(&t, c->node_id, b, p, n),
	    MESHADDR_ERR_SRC);		/* c claims a's address */
	ck_assert_int_eq(meshaddr_check_in(&t, a->node_id, c, p, n),
	    MESHADDR_ERR_DST);
	id_of(0x4444, bad6);
	ck_assert_int_eq(meshaddr_check_in(&t, bad6, b, p, n),
	    MESHADDR_ERR_SENDER);
	n = ip4(p, 0x0a000001u, b->v4);	/* forged outside source */
	ck_assert_int_eq(meshaddr_check_in(&t, a->node_id, b, p, n),
	    MESHADDR_ERR_SRC);
	n = ip4(p, a->v4, b->v4);
	ck_assert_int_eq(meshaddr_check_in(&t, a->node_id, b, p, 19),
	    MESHADDR_ERR_SHORT);
	p[0] = 0x44;			/* IHL 4 */
	ck_assert_int_eq(meshaddr_check_in(&t, a->node_id, b, p, n),
	    MESHADDR_ERR_SHORT);
	p[0] = 0x4f;			/* IHL 15 = 60 bytes > 28 */
	ck_assert_int_eq(meshaddr_check_in(&t, a->node_id, b, p, n),
	    MESHADDR_ERR_SHORT);
	p[0] = 0x00;
	ck_assert_int_eq(meshaddr_check_in(&t, a->node_id, b, p, n),
	    MESHADDR_ERR_VERSION);
	n = ip6(p, a->v6, b->v6);
	ck_assert_int_eq(meshaddr_check_in(&t, a->node_id, b, p, n),
	    MESHADDR_OK);
	ck_assert_int_eq(meshaddr_check_in(&t, c->node_id, b, p, n),
	    MESHADDR_ERR_SRC);
	ck_assert_int_eq(meshaddr_check_in(&t, a->node_id, a, p, n),
	    MESHADDR_ERR_DST);
	ck_assert_int_eq(meshaddr_check_in(&t, a->node_id, b, p, 39),
	    MESHADDR_ERR_SHORT);
	ck_assert_str_eq(meshaddr_strerror(MESHADDR_ERR_SRC),
	    "inner source is not the sender's");
	meshaddr_table_free(&t);
}
END_TEST

Suite *
meshaddr_suite(void)
{
	Suite *s = suite_create("meshaddr");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_v6);
	tcase_add_test(tc, test_v4_home_next);
	tcase_add_test(tc, test_clash);
	tcase_add_test(tc, test_many);
	tcase_add_test(tc, test_build_refuses);
	tcase_add_test(tc, test_route_and_check);
	suite_add_tcase(s, tc);
	return s;
}
