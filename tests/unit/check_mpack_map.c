/*
 * common/mpack_map.c: a map's size is the number of entries packed into
 * it, nested maps and arrays included as one value each.
 */
#include <string.h>

#include <msgpack.h>

#include "common/mpack.h"
#include "common/mpack_map.h"
#include "suites.h"

START_TEST(test_counted)
{
	msgpack_sbuffer		 sb;
	msgpack_packer		 out;
	msgpack_unpacked	 u;
	struct mpack_map	 m, inner, empty;
	msgpack_packer		*p, *ip;
	const msgpack_object	*o;
	int64_t			 v;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&out, &sb, msgpack_sbuffer_write);
	p = mpack_map_begin(&m, &out);
	mpack_kv_str(p, "a", "x");
	mpack_kv_str(p, "nil", NULL);
	mpack_key(p, "inner");
	ip = mpack_map_begin(&inner, p);
	mpack_kv_int(ip, "one", 1);
	mpack_key(ip, "list");
	msgpack_pack_array(ip, 2);
	msgpack_pack_int(ip, 7);
	msgpack_pack_int(ip, 8);
	mpack_map_end(&inner);
	mpack_key(p, "empty");
	mpack_map_begin(&empty, p);
	mpack_map_end(&empty);
	mpack_kv_int(p, "last", 42);
	mpack_map_end(&m);

	msgpack_unpacked_init(&u);
	ck_assert_int_eq(msgpack_unpack_next(&u, sb.data, sb.size, NULL),
	    MSGPACK_UNPACK_SUCCESS);
	ck_assert_int_eq(u.data.type, MSGPACK_OBJECT_MAP);
	ck_assert_uint_eq(u.data.via.map.size, 5);
	ck_assert_ptr_nonnull(o = mpack_get(&u.data, "inner"));
	ck_assert_uint_eq(o->via.map.size, 2);
	ck_assert_int_eq(mpack_get_int(o, "one", &v), 0);
	ck_assert_int_eq(v, 1);
	ck_assert_ptr_nonnull(o = mpack_get(&u.data, "empty"));
	ck_assert_int_eq(o->type, MSGPACK_OBJECT_MAP);
	ck_assert_uint_eq(o->via.map.size, 0);
	ck_assert_int_eq(mpack_get_int(&u.data, "last", &v), 0);
	ck_assert_int_eq(v, 42);
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
}
END_TEST

Suite *
mpack_map_suite(void)
{
	Suite *s = suite_create("mpack_map");
	TCase *tc = tcase_create("counted maps");

	tcase_add_test(tc, test_counted);
	suite_add_tcase(s, tc);
	return s;
}
