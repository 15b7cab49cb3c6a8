/*
 * proto/join_ext.c: the optional mesh IPv4 field of JOIN_WELCOME and
 * ANNOUNCE. Round trips; an encoding without the field is a prefix of the
 * one with it (older decoders stop before it); hostile fields (cut short,
 * wrong length, twice, an address outside 100.64.0.0/10 or .0/.255) are
 * refused with their own error; unknown field types are skipped; random
 * tails never crash.
 */
#include <string.h>
#include <sys/socket.h>

#include <sodium.h>

#include "proto/join.h"
#include "suites.h"

#define V4	0x64412345u	/* 100.65.35.69 */

static int
ext_welcome(uint8_t *buf, size_t cap, uint32_t v4)
{
	struct join_welcome w;

	memset(&w, 0, sizeof(w));
	memset(w.txid, 3, sizeof(w.txid));
	memset(w.sealed, 7, sizeof(w.sealed));
	strcpy(w.mesh_name, "home");
	w.v4 = v4;
	return join_welcome_encode(buf, cap, &w);
}

static int
ext_announce(uint8_t *buf, size_t cap, uint32_t v4, uint8_t flags)
{
	struct join_announce a;

	memset(&a, 0, sizeof(a));
	memset(a.id, 1, JOIN_ID_LEN);
	memset(a.pk, 5, JOIN_PK_LEN);
	strcpy(a.name, "carol");
	a.flags = flags;
	a.v4 = v4;
	return join_announce_encode(buf, cap, &a);
}

START_TEST(test_ext_welcome)
{
	struct join_welcome	d;
	uint8_t			old[512], buf[512];
	int			n0, n;

	n0 = ext_welcome(old, sizeof(old), 0);
	n = ext_welcome(buf, sizeof(buf), V4);
	ck_assert_int_eq(n, n0 + 6);
	ck_assert_mem_eq(buf, old, n0);		/* older decoders: the same */
	ck_assert_int_eq(join_welcome_decode(buf, n, &d), 0);
	ck_assert_uint_eq(d.v4, V4);
	ck_assert_str_eq(d.mesh_name, "home");
	ck_assert_int_eq(join_welcome_decode(old, n0, &d), 0);
	ck_assert_uint_eq(d.v4, 0);			/* none: not pinned */
	/* the encoder refuses what a decoder would refuse */
	ck_assert_int_eq(ext_welcome(buf, sizeof(buf), 0x0a000001u), -1);
	ck_assert_int_eq(ext_welcome(buf, n0 + 5, V4), -1);	/* no room */
}
END_TEST

START_TEST(test_ext_announce)
{
	struct sockaddr_storage	c[JOIN_MAX_CANDS];
	struct join_announce	d;
	uint8_t			old[512], buf[512];
	int			n0, n;

	d.cands = c;
	n0 = ext_announce(old, sizeof(old), 0, 0);
	n = ext_announce(buf, sizeof(buf), V4, 0);
	/* the flags byte (0) goes first, so older decoders read flags 0 */
	ck_assert_int_eq(n, n0 + 1 + 6);
	ck_assert_mem_eq(buf, old, n0);
	ck_assert_uint_eq(buf[n0], 0);
	ck_assert_int_eq(join_announce_decode(buf, n, &d), 0);
	ck_assert_uint_eq(d.v4, V4);
	ck_assert_uint_eq(d.flags, 0);
	ck_assert_str_eq(d.name, "carol");
	n = ext_announce(buf, sizeof(buf), V4, JOIN_F_RELAY_ONLY);
	ck_assert_int_eq(join_announce_decode(buf, n, &d), 0);
	ck_assert_uint_eq(d.v4, V4);
	ck_assert_uint_eq(d.flags, JOIN_F_RELAY_ONLY);
	ck_assert_int_eq(join_announce_decode(old, n0, &d), 0);
	ck_assert_uint_eq(d.v4, 0);
	ck_assert_int_eq(ext_announce(buf, sizeof(buf), 0x64400000u, 0), -1);
}
END_TEST

/* welcome + a hand-made tail of fields: the decoder's result */
static int
ext_tail(const uint8_t *tail, size_t tlen, uint32_t *v4)
{
	struct join_welcome	d;
	uint8_t			buf[512];
	int			n, r;

	n = ext_welcome(buf, sizeof(buf), 0);
	memcpy(buf + n, tail, tlen);
	r = join_welcome_decode(buf, n + tlen, &d);
	*v4 = d.v4;
	return r;
}

START_TEST(test_ext_hostile)
{
	static const struct {
		uint8_t	tail[16];
		size_t	len;
		int	want;
		uint32_t v4;
	} c[] = {
		{ { 1, 4, 100, 65, 35, 69 }, 6, 0, V4 },
		{ { 9, 2, 0xaa, 0xbb, 1, 4, 100, 65, 35, 69 }, 10, 0, V4 },
		{ { 9, 0 }, 2, 0, 0 },				/* unknown */
		{ { 1 }, 1, JOIN_E_TRUNC, 0 },			/* type only */
		{ { 1, 4, 100, 65, 35 }, 5, JOIN_E_TRUNC, 0 },
		{ { 9, 200, 1 }, 3, JOIN_E_TRUNC, 0 },
		{ { 1, 3, 100, 65, 35 }, 5, JOIN_E_LEN, 0 },
		{ { 1, 5, 100, 65, 35, 69, 0 }, 7, JOIN_E_LEN, 0 },
		{ { 1, 0 }, 2, JOIN_E_LEN, 0 },
		{ { 1, 4, 100, 65, 35, 69, 1, 4, 100, 65, 35, 70 }, 12,
		    JOIN_E_DUP, 0 },
		{ { 1, 4, 10, 0, 0, 1 }, 6, JOIN_E_V4, 0 },
		{ { 1, 4, 100, 128, 0, 1 }, 6, JOIN_E_V4, 0 },
		{ { 1, 4, 100, 63, 255, 254 }, 6, JOIN_E_V4, 0 },
		{ { 1, 4, 100, 65, 35, 0 }, 6, JOIN_E_V4, 0 },
		{ { 1, 4, 100, 65, 35, 255 }, 6, JOIN_E_V4, 0 },
		{ { 1, 4, 0, 0, 0, 0 }, 6, JOIN_E_V4, 0 },
	};
	uint32_t	v4;
	size_t		i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		ck_assert_msg(ext_tail(c[i].tail, c[i].len, &v4) == c[i].want,
		    "case %zu", i);
		ck_assert_uint_eq(v4, c[i].v4);
	}
	ck_assert_str_eq(join_strerror(JOIN_E_V4), "mesh IPv4 address "
	    "outside 100.64.0.0/10 or ending in .0/.255");
	ck_assert_str_eq(join_strerror(JOIN_E_DUP),
	    "mesh IPv4 field given twice");
	ck_assert_str_eq(join_strerror(JOIN_E_LEN),
	    "mesh IPv4 field: length is not 4");
	ck_assert_str_eq(join_strerror(JOIN_E_TRUNC),
	    "optional field cut short");
}
END_TEST

/* random tails on both payloads: a result, never a crash; a v4 read is
 * always a valid one */
START_TEST(test_ext_random)
{
	struct sockaddr_storage	c[JOIN_MAX_CANDS];
	struct join_announce	a;
	uint8_t			buf[512];
	uint32_t		v4;
	int			i, n, r;
	size_t			tl;

	a.cands = c;
	for (i = 0; i < 20000; i++) {
		tl = randombytes_uniform(24);
		randombytes_buf(buf, tl);
		if (i % 3 == 0)
			buf[0] = JOIN_EXT_V4;
		r = ext_tail(buf, tl, &v4);
		ck_assert(r == 0 || (r <= JOIN_E_TRUNC && r >= JOIN_E_V4));
		ck_assert(v4 == 0 || join_v4_valid(v4));
		n = ext_announce(buf, sizeof(buf), 0, 0);
		randombytes_buf(buf + n, tl);
		r = join_announce_decode(buf, n + tl, &a);
		ck_assert(r <= 0 && r >= JOIN_E_V4);
		ck_assert(a.v4 == 0 || join_v4_valid(a.v4));
	}
}
END_TEST

Suite *
join_ext_suite(void)
{
	Suite	*s = suite_create("join_ext");
	TCase	*tc = tcase_create("join_ext");

	tcase_add_test(tc, test_ext_welcome);
	tcase_add_test(tc, test_ext_announce);
	tcase_add_test(tc, test_ext_hostile);
	tcase_add_test(tc, test_ext_random);
	suite_add_tcase(s, tc);
	return s;
}
