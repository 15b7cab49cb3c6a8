/*
 * Pinned IPv4 addresses in meshaddr_table_build_pinned (punchd/meshaddr.h):
 * pins claim first, a newcomer never moves a pinned member, the answer does
 * not depend on the order of the list, two equal pins resolve by node id.
 */
#include <stdlib.h>
#include <string.h>

#include "punchd/meshaddr.h"
#include "check_meshaddr.h"
#include "suites.h"

static const uint8_t mesh_a[MESHADDR_MESH_ID_LEN] = "mesh-id-aaaaaaa";

/* b was alone and pinned its home; a (smaller id, same home) joins later:
 * b keeps its address, a probes on. Same in either order. */
START_TEST(test_pin_newcomer)
{
	struct meshaddr_table	 t = { 0 };
	uint8_t			 a[8], b[8], ids[2][8];
	uint32_t		 pins[2], home;
	int			 k;

	meshaddr_test_clashing(a, b);
	home = meshaddr_v4_home(b);
	for (k = 0; k < 2; k++) {
		memcpy(ids[k], b, 8);
		pins[k] = home;
		memcpy(ids[1 - k], a, 8);
		pins[1 - k] = 0;
		ck_assert_int_eq(meshaddr_table_build_pinned(&t, mesh_a,
		    (const uint8_t (*)[8])ids, pins, 2), 0);
		ck_assert_uint_eq(meshaddr_by_node(&t, b)->v4, home);
		ck_assert_uint_eq(meshaddr_by_node(&t, b)->pin, home);
		ck_assert_uint_eq(meshaddr_by_node(&t, a)->v4,
		    meshaddr_v4_next(home));
		ck_assert_uint_eq(meshaddr_by_node(&t, a)->pin, 0);
	}
	/* without the pin, the rule of old: a, the smaller id, takes it */
	ck_assert_int_eq(meshaddr_table_build(&t, mesh_a,
	    (const uint8_t (*)[8])ids, 2), 0);
	ck_assert_uint_eq(meshaddr_by_node(&t, a)->v4, home);
	meshaddr_table_free(&t);
}
END_TEST

/*
 * 20000 members pinned at the addresses a first build gave them, then 10000
 * newcomers unpinned: nobody of the first 20000 moves, all addresses stay
 * unique, and the reversed list gives the same table.
 */
START_TEST(test_pin_many_joins)
{
	enum { OLD = 20000, N = 30000 };
	struct meshaddr_table	 t = { 0 }, t2 = { 0 };
	uint8_t			(*ids)[8] = calloc(N, 8), tmp[8];
	uint32_t		*pins = calloc(N, sizeof(*pins)), p;
	size_t			 i, moved = 0;

	ck_assert_ptr_nonnull(ids);
	ck_assert_ptr_nonnull(pins);
	/* ids spread over the space so newcomers fall between old ones */
	for (i = 0; i < N; i++)
		id_of((i + 1) * 0x9e3779b97f4a7c15ull, ids[i]);
	ck_assert_int_eq(meshaddr_table_build(&t, mesh_a,
	    (const uint8_t (*)[8])ids, OLD), 0);
	for (i = 0; i < OLD; i++)
		pins[i] = meshaddr_by_node(&t, ids[i])->v4;
	/* the same with everyone unpinned moves some (the reason for pins) */
	ck_assert_int_eq(meshaddr_table_build(&t2, mesh_a,
	    (const uint8_t (*)[8])ids, N), 0);
	for (i = 0; i < OLD; i++)
		moved += meshaddr_by_node(&t2, ids[i])->v4 != pins[i];
	ck_assert_uint_gt(moved, 0);
	ck_assert_int_eq(meshaddr_table_build_pinned(&t, mesh_a,
	    (const uint8_t (*)[8])ids, pins, N), 0);
	for (i = 0; i < OLD; i++)
		ck_assert_uint_eq(meshaddr_by_node(&t, ids[i])->v4, pins[i]);
	for (i = 1; i < N; i++)
		ck_assert_uint_lt(t.m[t.by_v4[i - 1]].v4, t.m[t.by_v4[i]].v4);
	for (i = 0; i < N / 2; i++) {
		memcpy(tmp, ids[i], 8);
		memcpy(ids[i], ids[N - 1 - i], 8);
		memcpy(ids[N - 1 - i], tmp, 8);
		p = pins[i];
		pins[i] = pins[N - 1 - i];
		pins[N - 1 - i] = p;
	}
	ck_assert_int_eq(meshaddr_table_build_pinned(&t2, mesh_a,
	    (const uint8_t (*)[8])ids, pins, N), 0);
	ck_assert_mem_eq(t.m, t2.m, N * sizeof(*t.m));
	meshaddr_table_free(&t);
	meshaddr_table_free(&t2);
	free(ids);
	free(pins);
}
END_TEST

/* Two members pinned to the same address (admitted at once by two
 * inviters): the smaller id keeps it, the other probes from its home and
 * its lost pin shows; either order. */
START_TEST(test_pin_clash)
{
	static const int		 order[2][3] = { { 0, 1, 2 },
					     { 2, 1, 0 } };
	struct meshaddr_table		 t = { 0 };
	const struct meshaddr_member	*ma, *mb, *mc;
	uint8_t				 a[8], b[8], c[8], ids[3][8];
	uint32_t			 pins[3], v = 0x64412345u;
	const uint8_t			*who[3] = { a, b, c };
	int				 k, i;

	id_of(0x0100, a);	/* pinned, the smaller id */
	id_of(0x5000, b);	/* pinned to the same address */
	id_of(0x9000, c);	/* unpinned */
	for (k = 0; k < 2; k++) {
		for (i = 0; i < 3; i++) {
			memcpy(ids[i], who[order[k][i]], 8);
			pins[i] = order[k][i] == 2 ? 0 : v;
		}
		ck_assert_int_eq(meshaddr_table_build_pinned(&t, mesh_a,
		    (const uint8_t (*)[8])ids, pins, 3), 0);
		ma = meshaddr_by_node(&t, a);
		mb = meshaddr_by_node(&t, b);
		mc = meshaddr_by_node(&t, c);
		ck_assert_uint_eq(ma->v4, v);
		ck_assert_uint_eq(ma->pin, v);
		ck_assert_uint_eq(mb->pin, v);		/* lost: shows */
		ck_assert_uint_eq(mb->v4, meshaddr_v4_home(b));
		ck_assert_uint_eq(mc->v4, meshaddr_v4_home(c));
		ck_assert_uint_eq(mc->pin, 0);
	}
	meshaddr_table_free(&t);
}
END_TEST

/* A pin that cannot be an address is refused; the table stays. */
START_TEST(test_pin_refused)
{
	static const uint32_t	 bad[] = { 0x0a000001u, 0x64400000u,
	    0x644001ffu, 0x64800001u, 0x643fffffu, 0xffffffffu };
	struct meshaddr_table	 t = { 0 };
	uint8_t			 ids[2][8];
	uint32_t		 pins[2] = { 0x64400001u, 0x647ffffeu };
	size_t			 i;

	id_of(1, ids[0]);
	id_of(2, ids[1]);
	ck_assert_int_eq(meshaddr_table_build_pinned(&t, mesh_a,
	    (const uint8_t (*)[8])ids, pins, 2), 0);
	ck_assert_uint_eq(meshaddr_by_node(&t, ids[0])->v4, 0x64400001u);
	ck_assert_uint_eq(meshaddr_by_node(&t, ids[1])->v4, 0x647ffffeu);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert(!meshaddr_v4_valid(bad[i]));
		pins[1] = bad[i];
		ck_assert_int_eq(meshaddr_table_build_pinned(&t, mesh_a,
		    (const uint8_t (*)[8])ids, pins, 2), -1);
		ck_assert_uint_eq(t.n, 2);
		ck_assert_uint_eq(meshaddr_by_node(&t, ids[1])->v4,
		    0x647ffffeu);
	}
	meshaddr_table_free(&t);
}
END_TEST

Suite *
meshaddr_pin_suite(void)
{
	Suite *s = suite_create("meshaddr_pin");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_pin_newcomer);
	tcase_add_test(tc, test_pin_many_joins);
	tcase_add_test(tc, test_pin_clash);
	tcase_add_test(tc, test_pin_refused);
	suite_add_tcase(s, tc);
	return s;
}
