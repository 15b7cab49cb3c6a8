#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/mpack.h"
#include "suites.h"

/* Pack with the helpers, then unpack into *u (caller destroys). */
static const msgpack_object *
sample(msgpack_sbuffer *sb, msgpack_unpacked *u)
{
	msgpack_packer	pk;
	size_t		off = 0;

	msgpack_sbuffer_init(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 11);
	mpack_kv_str(&pk, "name", "stund");
	mpack_kv_str(&pk, "none", NULL);
	mpack_kv_int(&pk, "neg", -42);
	mpack_kv_uint(&pk, "big", UINT64_MAX);
	mpack_kv_uint(&pk, "port", 7777);
	mpack_kv_bool(&pk, "ok", 1);
	mpack_kv_double(&pk, "rtt", 1.5);
	mpack_kv_bin(&pk, "data", "\x00\x01\xff", 3);
	mpack_key(&pk, "list");
	msgpack_pack_array(&pk, 2);
	mpack_pack_str(&pk, "a");
	msgpack_pack_int(&pk, 2);
	mpack_kv_str(&pk, "nul", "");
	/* overwrite the last str with one carrying an embedded NUL */
	sb->size -= 1;
	msgpack_pack_str(&pk, 3);
	msgpack_pack_str_body(&pk, "a\0b", 3);
	mpack_kv_double(&pk, "nan", NAN);
	msgpack_unpacked_init(u);
	ck_assert_int_eq(msgpack_unpack_next(u, sb->data, sb->size, &off),
	    MSGPACK_UNPACK_SUCCESS);
	ck_assert_uint_eq(off, sb->size);
	return &u->data;
}

START_TEST(test_getters)
{
	msgpack_sbuffer		 sb;
	msgpack_unpacked	 u;
	const msgpack_object	*o = sample(&sb, &u);
	char			 buf[16], tiny[3];
	const char		*data;
	size_t			 len;
	int64_t			 i = 99;
	int			 b = 7;

	ck_assert_ptr_nonnull(mpack_get(o, "name"));
	ck_assert_ptr_null(mpack_get(o, "nam"));
	ck_assert_ptr_null(mpack_get(mpack_get(o, "name"), "x"));
	ck_assert(mpack_str_eq(mpack_get(o, "name"), "stund"));
	ck_assert(!mpack_str_eq(mpack_get(o, "name"), "stun"));
	ck_assert(!mpack_str_eq(mpack_get(o, "port"), "7777"));

	ck_assert_int_eq(mpack_get_str(o, "name", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "stund");
	ck_assert_int_eq(mpack_get_str(o, "name", tiny, sizeof(tiny)), -1);
	ck_assert_int_eq(mpack_get_str(o, "absent", buf, sizeof(buf)), 1);
	ck_assert_int_eq(mpack_get_str(o, "none", buf, sizeof(buf)), 1);
	ck_assert_int_eq(mpack_get_str(o, "port", buf, sizeof(buf)), -1);
	ck_assert_int_eq(mpack_get_str(o, "nul", buf, sizeof(buf)), -1);

	ck_assert_int_eq(mpack_get_int(o, "port", &i), 0);
	ck_assert_int_eq(i, 7777);
	ck_assert_int_eq(mpack_get_int(o, "neg", &i), 0);
	ck_assert_int_eq(i, -42);
	ck_assert_int_eq(mpack_get_int(o, "big", &i), -1);
	ck_assert_int_eq(mpack_get_int(o, "rtt", &i), -1);
	ck_assert_int_eq(mpack_get_int(o, "absent", &i), 1);
	ck_assert_int_eq(i, -42);	/* untouched */

	ck_assert_int_eq(mpack_get_bool(o, "ok", &b), 0);
	ck_assert_int_eq(b, 1);
	ck_assert_int_eq(mpack_get_bool(o, "port", &b), -1);
	ck_assert_int_eq(mpack_get_bool(o, "absent", &b), 1);

	ck_assert_int_eq(mpack_get_bin(o, "data", &data, &len), 0);
	ck_assert_uint_eq(len, 3);
	ck_assert_int_eq(memcmp(data, "\x00\x01\xff", 3), 0);
	ck_assert_int_eq(mpack_get_bin(o, "name", &data, &len), 0);
	ck_assert_uint_eq(len, 5);
	ck_assert_int_eq(mpack_get_bin(o, "list", &data, &len), -1);

	ck_assert_int_eq(mpack_str_copy(mpack_get(o, "name"), buf,
	    sizeof(buf)), 0);
	ck_assert_int_eq(mpack_str_copy(mpack_get(o, "port"), buf,
	    sizeof(buf)), -1);
	ck_assert_int_eq(mpack_str_copy(NULL, buf, sizeof(buf)), -1);
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
}
END_TEST

START_TEST(test_json)
{
	msgpack_sbuffer		 sb;
	msgpack_unpacked	 u;
	const msgpack_object	*o = sample(&sb, &u);
	json_t			*j, *l;

	j = mpack_to_json(o);
	ck_assert_ptr_nonnull(j);
	ck_assert(json_is_object(j));
	ck_assert_str_eq(json_string_value(json_object_get(j, "name")),
	    "stund");
	ck_assert(json_is_null(json_object_get(j, "none")));
	ck_assert_int_eq(json_integer_value(json_object_get(j, "neg")), -42);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "port")), 7777);
	ck_assert(json_is_real(json_object_get(j, "big")));
	ck_assert(json_is_true(json_object_get(j, "ok")));
	ck_assert(json_is_real(json_object_get(j, "rtt")));
	ck_assert_double_eq(json_real_value(json_object_get(j, "rtt")), 1.5);
	ck_assert_str_eq(json_string_value(json_object_get(j, "data")),
	    "AAH/");
	ck_assert(json_is_null(json_object_get(j, "nan")));
	l = json_object_get(j, "list");
	ck_assert(json_is_array(l));
	ck_assert_uint_eq(json_array_size(l), 2);
	ck_assert_str_eq(json_string_value(json_array_get(l, 0)), "a");
	ck_assert_int_eq(json_integer_value(json_array_get(l, 1)), 2);
	ck_assert_uint_eq(json_string_length(json_object_get(j, "nul")), 3);
	json_decref(j);
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
}
END_TEST

/* Keys that are not strings, text that is not UTF-8, ext. */
START_TEST(test_json_odd)
{
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	msgpack_unpacked	 u;
	json_t			*j;
	size_t			 off = 0;
	char			*s;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 6);
	msgpack_pack_int(&pk, 5);
	mpack_pack_str(&pk, "five");
	msgpack_pack_true(&pk);
	msgpack_pack_int(&pk, 1);
	msgpack_pack_nil(&pk);
	msgpack_pack_int(&pk, 2);
	msgpack_pack_array(&pk, 1);
	msgpack_pack_int(&pk, 3);
	msgpack_pack_int(&pk, 3);
	mpack_pack_str(&pk, "bad");
	msgpack_pack_str(&pk, 4);
	msgpack_pack_str_body(&pk, "a\xff\xc3z", 4);
	mpack_pack_str(&pk, "ext");
	msgpack_pack_ext(&pk, 1, 7);
	msgpack_pack_ext_body(&pk, "x", 1);
	msgpack_unpacked_init(&u);
	ck_assert_int_eq(msgpack_unpack_next(&u, sb.data, sb.size, &off),
	    MSGPACK_UNPACK_SUCCESS);
	j = mpack_to_json(&u.data);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(json_string_value(json_object_get(j, "5")), "five");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "true")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "null")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "(array)")), 3);
	ck_assert_str_eq(json_string_value(json_object_get(j, "bad")),
	    "a\xef\xbf\xbd\xef\xbf\xbdz");
	ck_assert_int_eq(json_integer_value(json_object_get(
	    json_object_get(j, "ext"), "ext_type")), 7);
	/* and the whole thing serializes */
	s = json_dumps(j, JSON_COMPACT);
	ck_assert_ptr_nonnull(s);
	free(s);
	json_decref(j);
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
}
END_TEST

/* Map keys that are maps, 30 levels deep: written out they would double
 * per level (fuzz/crashes-fixed/ipc-mpack-to-json-nested-keys). */
START_TEST(test_json_nested_keys)
{
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	msgpack_unpacked	 u;
	json_t			*j;
	size_t			 off = 0;
	char			*s;
	int			 i;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	for (i = 0; i < 30; i++)
		msgpack_pack_map(&pk, 1);	/* a map whose key is... */
	mpack_pack_str(&pk, "k\"\\");	/* ...innermost: {"k\"\\": 1} */
	msgpack_pack_int(&pk, 1);
	for (i = 1; i < 30; i++)
		msgpack_pack_int(&pk, i);	/* each level's value */
	msgpack_unpacked_init(&u);
	ck_assert_int_eq(msgpack_unpack_next(&u, sb.data, sb.size, &off),
	    MSGPACK_UNPACK_SUCCESS);
	j = mpack_to_json(&u.data);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "(map)")), 29);
	s = json_dumps(j, JSON_COMPACT);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "{\"(map)\":29}");
	free(s);
	json_decref(j);
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
}
END_TEST

Suite *
mpack_suite(void)
{
	Suite	*s = suite_create("mpack");
	TCase	*tc = tcase_create("mpack");

	tcase_add_test(tc, test_getters);
	tcase_add_test(tc, test_json);
	tcase_add_test(tc, test_json_odd);
	tcase_add_test(tc, test_json_nested_keys);
	suite_add_tcase(s, tc);
	return s;
}
