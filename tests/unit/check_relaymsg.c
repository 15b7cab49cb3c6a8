/*
 * proto/relaymsg.c: what travels inside a relay session. The first-byte
 * split between DATA (proto/packet.h packets), CONTROL and SIGNAL, the
 * CONTROL layout byte for byte, SIGNAL round trips and hostile input.
 */
#include <math.h>
#include <string.h>

#include <msgpack.h>

#include "proto/packet.h"
#include "proto/relaymsg.h"
#include "suites.h"

START_TEST(test_kinds)
{
	uint8_t b[2] = { 0, 0 };
	int	i;

	ck_assert_int_eq(relaymsg_kind(b, 0), RELAYMSG_KIND_EMPTY);
	/* STUN (0-3), punch packets (0x61..0x67) and everything below
	 * 0xF0 are DATA, forwarded untouched */
	for (i = 0; i < 0xF0; i++) {
		b[0] = (uint8_t)i;
		ck_assert_int_eq(relaymsg_kind(b, 1), RELAYMSG_KIND_DATA);
	}
	b[0] = PACKET_MAGIC | PACKET_VERSION;
	ck_assert_int_eq(relaymsg_kind(b, 2), RELAYMSG_KIND_DATA);
	b[0] = 0xF0;
	ck_assert_int_eq(relaymsg_kind(b, 2), RELAYMSG_KIND_CONTROL);
	b[0] = 0xF1;
	ck_assert_int_eq(relaymsg_kind(b, 2), RELAYMSG_KIND_SIGNAL);
	b[0] = 0xFF;
	ck_assert_int_eq(relaymsg_kind(b, 2), RELAYMSG_KIND_RESERVED);
}
END_TEST

START_TEST(test_control)
{
	struct relaymsg_control	c = { RELAYMSG_JOINED, 0, 0x01020304, 2, 8 }, d;
	uint8_t			buf[RELAYMSG_CONTROL_LEN + 4];
	static const uint8_t	want[] = { 0xF0, 1, 2, 0, 1, 2, 3, 4, 0, 2, 0,
				    8 };

	ck_assert_uint_eq(relaymsg_control_write(buf, 11, &c), 0);
	ck_assert_uint_eq(relaymsg_control_write(buf, sizeof(buf), &c), 12);
	ck_assert_mem_eq(buf, want, sizeof(want));
	ck_assert_int_eq(relaymsg_control_read(buf, 12, &d), 0);
	ck_assert_uint_eq(d.event, RELAYMSG_JOINED);
	ck_assert_uint_eq(d.client_id, 0x01020304);
	ck_assert_uint_eq(d.count, 2);
	ck_assert_uint_eq(d.max, 8);
	/* later versions may append: still readable */
	ck_assert_int_eq(relaymsg_control_read(buf, 16, &d), 0);
	ck_assert_int_eq(relaymsg_control_read(buf, 11, &d), -1);
	buf[1] = 0;
	ck_assert_int_eq(relaymsg_control_read(buf, 12, &d), -1);
	buf[1] = 1;
	buf[0] = 0xF1;
	ck_assert_int_eq(relaymsg_control_read(buf, 12, &d), -1);
	ck_assert_str_eq(relaymsg_event_str(RELAYMSG_LEFT), "left");
	ck_assert_str_eq(relaymsg_event_str(99), "unknown");
}
END_TEST

/* a SIGNAL with three candidates: host, srflx over IPv6, relay */
static void
signal_example(struct relaymsg_signal *s)
{
	memset(s, 0, sizeof(*s));
	strcpy(s->type, "candidates");
	strcpy(s->from, "node-a1b2");
	s->ts = 1700000000123ULL;
	s->ncands = 3;
	strcpy(s->cands[0].kind, "host");
	strcpy(s->cands[0].addr, "192.168.1.2:7777");
	s->cands[0].prio = 126;
	strcpy(s->cands[1].kind, "srflx");
	strcpy(s->cands[1].addr, "[2001:db8::1]:40000");
	s->cands[1].prio = 100;
	strcpy(s->cands[2].kind, "relay");
	strcpy(s->cands[2].addr, "203.0.113.9:8080");
	s->cands[2].prio = 0;
}

/* a "nat" map with every field set */
static void
nat_example(struct relaymsg_nat *n)
{
	strcpy(n->mapping, "address-and-port-dependent");
	strcpy(n->filtering, "endpoint-independent");
	strcpy(n->alloc, "sequential");
	n->delta = -2;
	n->jitter = 3;
	n->last_port = 40007;
	n->age_ms = 1234;
	n->rate = 0.5;
	n->confidence = 0.83;
}

START_TEST(test_signal_roundtrip)
{
	struct relaymsg_signal	s, d;
	uint8_t			buf[2048];
	size_t			n;

	signal_example(&s);
	n = relaymsg_signal_write(buf, sizeof(buf), &s);
	ck_assert_uint_gt(n, 1);
	ck_assert_uint_eq(buf[0], RELAYMSG_SIGNAL);
	ck_assert_int_eq(relaymsg_kind(buf, n), RELAYMSG_KIND_SIGNAL);
	ck_assert_int_eq(relaymsg_signal_read(buf, n, &d), 0);
	ck_assert_str_eq(d.type, "candidates");
	ck_assert_str_eq(d.from, "node-a1b2");
	ck_assert_uint_eq(d.ts, s.ts);
	ck_assert_uint_eq(d.ncands, 3);
	ck_assert_str_eq(d.cands[1].addr, "[2001:db8::1]:40000");
	ck_assert_str_eq(d.cands[2].kind, "relay");
	ck_assert_uint_eq(d.cands[0].prio, 126);
	/* too small a buffer */
	ck_assert_uint_eq(relaymsg_signal_write(buf, 10, &s), 0);
	/* truncated or with trailing bytes: refused */
	ck_assert_int_eq(relaymsg_signal_read(buf, n - 1, &d), -1);
	ck_assert_int_eq(relaymsg_signal_read(buf, n + 1, &d), -1);
	/* a "punch" without candidates */
	s.ncands = 0;
	strcpy(s.type, "punch");
	n = relaymsg_signal_write(buf, sizeof(buf), &s);
	ck_assert_int_eq(relaymsg_signal_read(buf, n, &d), 0);
	ck_assert_str_eq(d.type, "punch");
	ck_assert_uint_eq(d.ncands, 0);
}
END_TEST

/*
 * The bytes on the wire, fixed: a frame with candidates and "nat", and
 * the smallest one. Recorded from the encoder before it counted its maps
 * itself (hand-written sizes); any change here breaks older peers.
 */
static const uint8_t signal_full[] = {
	0xf1, 0x85, 0xa4, 0x74, 0x79, 0x70, 0x65, 0xaa, 0x63, 0x61, 0x6e, 0x64,
	0x69, 0x64, 0x61, 0x74, 0x65, 0x73, 0xa4, 0x66, 0x72, 0x6f, 0x6d, 0xa9,
	0x6e, 0x6f, 0x64, 0x65, 0x2d, 0x61, 0x31, 0x62, 0x32, 0xa2, 0x74, 0x73,
	0xcf, 0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x7b, 0xaa, 0x63, 0x61,
	0x6e, 0x64, 0x69, 0x64, 0x61, 0x74, 0x65, 0x73, 0x93, 0x83, 0xa4, 0x6b,
	0x69, 0x6e, 0x64, 0xa4, 0x68, 0x6f, 0x73, 0x74, 0xa4, 0x61, 0x64, 0x64,
	0x72, 0xb0, 0x31, 0x39, 0x32, 0x2e, 0x31, 0x36, 0x38, 0x2e, 0x31, 0x2e,
	0x32, 0x3a, 0x37, 0x37, 0x37, 0x37, 0xa4, 0x70, 0x72, 0x69, 0x6f, 0x7e,
	0x83, 0xa4, 0x6b, 0x69, 0x6e, 0x64, 0xa5, 0x73, 0x72, 0x66, 0x6c, 0x78,
	0xa4, 0x61, 0x64, 0x64, 0x72, 0xb3, 0x5b, 0x32, 0x30, 0x30, 0x31, 0x3a,
	0x64, 0x62, 0x38, 0x3a, 0x3a, 0x31, 0x5d, 0x3a, 0x34, 0x30, 0x30, 0x30,
	0x30, 0xa4, 0x70, 0x72, 0x69, 0x6f, 0x64, 0x83, 0xa4, 0x6b, 0x69, 0x6e,
	0x64, 0xa5, 0x72, 0x65, 0x6c, 0x61, 0x79, 0xa4, 0x61, 0x64, 0x64, 0x72,
	0xb0, 0x32, 0x30, 0x33, 0x2e, 0x30, 0x2e, 0x31, 0x31, 0x33, 0x2e, 0x39,
	0x3a, 0x38, 0x30, 0x38, 0x30, 0xa4, 0x70, 0x72, 0x69, 0x6f, 0xce, 0x00,
	0x01, 0x11, 0x70, 0xa3, 0x6e, 0x61, 0x74, 0x89, 0xa7, 0x6d, 0x61, 0x70,
	0x70, 0x69, 0x6e, 0x67, 0xba, 0x61, 0x64, 0x64, 0x72, 0x65, 0x73, 0x73,
	0x2d, 0x61, 0x6e, 0x64, 0x2d, 0x70, 0x6f, 0x72, 0x74, 0x2d, 0x64, 0x65,
	0x70, 0x65, 0x6e, 0x64, 0x65, 0x6e, 0x74, 0xa9, 0x66, 0x69, 0x6c, 0x74,
	0x65, 0x72, 0x69, 0x6e, 0x67, 0xb4, 0x65, 0x6e, 0x64, 0x70, 0x6f, 0x69,
	0x6e, 0x74, 0x2d, 0x69, 0x6e, 0x64, 0x65, 0x70, 0x65, 0x6e, 0x64, 0x65,
	0x6e, 0x74, 0xa5, 0x61, 0x6c, 0x6c, 0x6f, 0x63, 0xaa, 0x73, 0x65, 0x71,
	0x75, 0x65, 0x6e, 0x74, 0x69, 0x61, 0x6c, 0xa5, 0x64, 0x65, 0x6c, 0x74,
	0x61, 0xfe, 0xa6, 0x6a, 0x69, 0x74, 0x74, 0x65, 0x72, 0xcd, 0x01, 0x2c,
	0xa9, 0x6c, 0x61, 0x73, 0x74, 0x5f, 0x70, 0x6f, 0x72, 0x74, 0xcd, 0x9c,
	0x47, 0xa6, 0x61, 0x67, 0x65, 0x5f, 0x6d, 0x73, 0xcd, 0x04, 0xd2, 0xa4,
	0x72, 0x61, 0x74, 0x65, 0xcb, 0x3f, 0xe0, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0xaa, 0x63, 0x6f, 0x6e, 0x66, 0x69, 0x64, 0x65, 0x6e, 0x63, 0x65,
	0xcb, 0x3f, 0xea, 0x8f, 0x5c, 0x28, 0xf5, 0xc2, 0x8f,
};

static const uint8_t signal_short[] = {
	0xf1, 0x83, 0xa4, 0x74, 0x79, 0x70, 0x65, 0xa5, 0x70, 0x75, 0x6e, 0x63,
	0x68, 0xa4, 0x66, 0x72, 0x6f, 0x6d, 0xa9, 0x6e, 0x6f, 0x64, 0x65, 0x2d,
	0x61, 0x31, 0x62, 0x32, 0xa2, 0x74, 0x73, 0x00,
};

START_TEST(test_signal_bytes)
{
	struct relaymsg_signal	s;
	uint8_t			buf[2048];
	size_t			n;

	signal_example(&s);
	s.cands[2].prio = 70000;	/* 32 bits on the wire */
	s.has_nat = 1;
	nat_example(&s.nat);
	s.nat.jitter = 300;		/* 16 bits */
	n = relaymsg_signal_write(buf, sizeof(buf), &s);
	ck_assert_uint_eq(n, sizeof(signal_full));
	ck_assert_mem_eq(buf, signal_full, sizeof(signal_full));
	/* one byte short of room: nothing written */
	ck_assert_uint_eq(relaymsg_signal_write(buf, sizeof(signal_full) - 1,
	    &s), 0);
	s.has_nat = 0;
	s.ncands = 0;
	s.ts = 0;
	strcpy(s.type, "punch");
	n = relaymsg_signal_write(buf, sizeof(buf), &s);
	ck_assert_uint_eq(n, sizeof(signal_short));
	ck_assert_mem_eq(buf, signal_short, sizeof(signal_short));
}
END_TEST

/* 0xF1 + whatever one msgpack object packs into */
static size_t
pack_signal(uint8_t *buf, size_t len, void (*fn)(msgpack_packer *))
{
	msgpack_sbuffer	sb;
	msgpack_packer	pk;
	size_t		n;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	fn(&pk);
	buf[0] = RELAYMSG_SIGNAL;
	n = sb.size + 1 <= len ? sb.size + 1 : 0;
	if (n)
		memcpy(buf + 1, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	return n;
}

static void
str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str(pk, strlen(s));
	msgpack_pack_str_body(pk, s, strlen(s));
}

static void
p_array(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 1);
	msgpack_pack_nil(pk);
}

static void
p_no_from(msgpack_packer *pk)
{
	msgpack_pack_map(pk, 1);
	str(pk, "type");
	str(pk, "candidates");
}

static void
p_int_from(msgpack_packer *pk)
{
	msgpack_pack_map(pk, 2);
	str(pk, "type");
	str(pk, "candidates");
	str(pk, "from");
	msgpack_pack_int(pk, 5);
}

static void
p_many_cands(msgpack_packer *pk)
{
	int i;

	msgpack_pack_map(pk, 3);
	str(pk, "type");
	str(pk, "candidates");
	str(pk, "from");
	str(pk, "n");
	str(pk, "candidates");
	msgpack_pack_array(pk, RELAYMSG_MAX_CANDS + 1);
	for (i = 0; i <= RELAYMSG_MAX_CANDS; i++) {
		msgpack_pack_map(pk, 2);
		str(pk, "kind");
		str(pk, "host");
		str(pk, "addr");
		str(pk, "10.0.0.1:1");
	}
}

static void
p_long_type(msgpack_packer *pk)
{
	msgpack_pack_map(pk, 2);
	str(pk, "type");
	str(pk, "a-type-name-longer-than-sixteen");
	str(pk, "from");
	str(pk, "n");
}

static void
p_unknown_keys(msgpack_packer *pk)
{
	msgpack_pack_map(pk, 3);
	str(pk, "future");
	msgpack_pack_array(pk, 0);
	str(pk, "type");
	str(pk, "candidates");
	str(pk, "from");
	str(pk, "n");
}

START_TEST(test_signal_hostile)
{
	struct relaymsg_signal	d;
	uint8_t			buf[4096] = { 0 };
	size_t			n;

	ck_assert_int_eq(relaymsg_signal_read(buf, 0, &d), -1);
	buf[0] = RELAYMSG_SIGNAL;
	ck_assert_int_eq(relaymsg_signal_read(buf, 1, &d), -1);
	buf[1] = 0xc1;	/* never used in msgpack */
	ck_assert_int_eq(relaymsg_signal_read(buf, 2, &d), -1);
	n = pack_signal(buf, sizeof(buf), p_array);
	ck_assert_int_eq(relaymsg_signal_read(buf, n, &d), -1);
	n = pack_signal(buf, sizeof(buf), p_no_from);
	ck_assert_int_eq(relaymsg_signal_read(buf, n, &d), -1);
	n = pack_signal(buf, sizeof(buf), p_int_from);
	ck_assert_int_eq(relaymsg_signal_read(buf, n, &d), -1);
	n = pack_signal(buf, sizeof(buf), p_many_cands);
	ck_assert_int_eq(relaymsg_signal_read(buf, n, &d), -1);
	n = pack_signal(buf, sizeof(buf), p_long_type);
	ck_assert_int_eq(relaymsg_signal_read(buf, n, &d), -1);
	n = pack_signal(buf, sizeof(buf), p_unknown_keys);
	ck_assert_int_eq(relaymsg_signal_read(buf, n, &d), 0);
	ck_assert_str_eq(d.from, "n");
	/* a CONTROL frame is not a SIGNAL */
	buf[0] = RELAYMSG_CONTROL;
	ck_assert_int_eq(relaymsg_signal_read(buf, n, &d), -1);
}
END_TEST

/* the sender's NAT behaviour: round trip, old frames, hostile values */
START_TEST(test_signal_nat)
{
	struct relaymsg_signal	s, d;
	uint8_t			buf[2048];
	size_t			n;

	memset(&s, 0, sizeof(s));
	strcpy(s.type, "candidates");
	strcpy(s.from, "n");
	s.has_nat = 1;
	nat_example(&s.nat);
	n = relaymsg_signal_write(buf, sizeof(buf), &s);
	ck_assert_uint_gt(n, 1);
	ck_assert_int_eq(relaymsg_signal_read(buf, n, &d), 0);
	ck_assert_int_eq(d.has_nat, 1);
	ck_assert_str_eq(d.nat.mapping, "address-and-port-dependent");
	ck_assert_str_eq(d.nat.filtering, "endpoint-independent");
	ck_assert_str_eq(d.nat.alloc, "sequential");
	ck_assert_int_eq(d.nat.delta, -2);
	ck_assert_int_eq(d.nat.jitter, 3);
	ck_assert_uint_eq(d.nat.last_port, 40007);
	ck_assert_uint_eq(d.nat.age_ms, 1234);
	ck_assert_double_eq_tol(d.nat.rate, 0.5, 1e-9);
	ck_assert_double_eq_tol(d.nat.confidence, 0.83, 1e-9);
	/* without it (a sender from before): has_nat 0 */
	s.has_nat = 0;
	n = relaymsg_signal_write(buf, sizeof(buf), &s);
	ck_assert_int_eq(relaymsg_signal_read(buf, n, &d), 0);
	ck_assert_int_eq(d.has_nat, 0);
}
END_TEST

static void
p_nat_pre(msgpack_packer *pk)
{
	msgpack_pack_map(pk, 3);
	str(pk, "type");
	str(pk, "candidates");
	str(pk, "from");
	str(pk, "n");
	str(pk, "nat");
}

static void
p_nat_port(msgpack_packer *pk)
{
	p_nat_pre(pk);
	msgpack_pack_map(pk, 1);
	str(pk, "last_port");
	msgpack_pack_uint32(pk, 70000);
}

static void
p_nat_conf(msgpack_packer *pk)
{
	p_nat_pre(pk);
	msgpack_pack_map(pk, 1);
	str(pk, "confidence");
	msgpack_pack_double(pk, NAN);
}

static void
p_nat_type(msgpack_packer *pk)
{
	p_nat_pre(pk);
	msgpack_pack_map(pk, 1);
	str(pk, "alloc");
	msgpack_pack_int(pk, 3);
}

static void
p_nat_array(msgpack_packer *pk)
{
	p_nat_pre(pk);
	msgpack_pack_array(pk, 0);
}

static void
p_nat_future(msgpack_packer *pk)
{
	p_nat_pre(pk);
	msgpack_pack_map(pk, 2);
	str(pk, "future");
	msgpack_pack_array(pk, 0);
	str(pk, "alloc");
	str(pk, "random");
}

START_TEST(test_signal_nat_hostile)
{
	struct relaymsg_signal	d;
	uint8_t			buf[4096] = { 0 };
	size_t			n;

	n = pack_signal(buf, sizeof(buf), p_nat_port);
	ck_assert_int_eq(relaymsg_signal_read(buf, n, &d), -1);
	n = pack_signal(buf, sizeof(buf), p_nat_conf);
	ck_assert_int_eq(relaymsg_signal_read(buf, n, &d), -1);
	n = pack_signal(buf, sizeof(buf), p_nat_type);
	ck_assert_int_eq(relaymsg_signal_read(buf, n, &d), -1);
	n = pack_signal(buf, sizeof(buf), p_nat_array);
	ck_assert_int_eq(relaymsg_signal_read(buf, n, &d), -1);
	/* unknown keys inside are ignored, missing ones read "unknown" */
	n = pack_signal(buf, sizeof(buf), p_nat_future);
	ck_assert_int_eq(relaymsg_signal_read(buf, n, &d), 0);
	ck_assert_int_eq(d.has_nat, 1);
	ck_assert_str_eq(d.nat.alloc, "random");
	ck_assert_str_eq(d.nat.mapping, "unknown");
}
END_TEST

/* what p_nat_one packs: "nat" holding key, an integer (u64 or i64) or a
 * double as t says */
static struct {
	const char	*key;
	char		 t;
	uint64_t	 u;
	int64_t		 i;
	double		 d;
} nat_val;

static void
p_nat_one(msgpack_packer *pk)
{
	p_nat_pre(pk);
	msgpack_pack_map(pk, 1);
	str(pk, nat_val.key);
	if (nat_val.t == 'u')
		msgpack_pack_uint64(pk, nat_val.u);
	else if (nat_val.t == 'i')
		msgpack_pack_int64(pk, nat_val.i);
	else
		msgpack_pack_double(pk, nat_val.d);
}

static size_t
nat_one(uint8_t *buf, size_t len, const char *key, char t, uint64_t u,
    int64_t i, double d)
{
	nat_val.key = key;
	nat_val.t = t;
	nat_val.u = u;
	nat_val.i = i;
	nat_val.d = d;
	return pack_signal(buf, len, p_nat_one);
}

/* each number's type and bounds, at and beyond the edges */
START_TEST(test_signal_nat_bounds)
{
	struct relaymsg_signal	d;
	uint8_t			buf[256];
	size_t			n;

	n = nat_one(buf, sizeof(buf), "delta", 'i', 0, -65535, 0);
	ck_assert_int_eq(relaymsg_signal_read(buf, n, &d), 0);
	ck_assert_int_eq(d.nat.delta, -65535);
	n = nat_one(buf, sizeof(buf), "delta", 'i', 0, -65536, 0);
	ck_assert_int_eq(relaymsg_signal_read(buf, n, &d), -1);
	n = nat_one(buf, sizeof(buf), "delta", 'u', 65536, 0, 0);
	ck_assert_int_eq(relaymsg_signal_read(buf, n, &d), -1);
	n = nat_one(buf, sizeof(buf), "delta", 'd', 0, 0, 2.0);
	ck_assert_int_eq(relaymsg_signal_read(buf, n, &d), -1);
	n = nat_one(buf, sizeof(buf), "jitter", 'i', 0, -1, 0);
	ck_assert_int_eq(relaymsg_signal_read(buf, n, &d), -1);
	n = nat_one(buf, sizeof(buf), "jitter", 'u', 65535, 0, 0);
	ck_assert_int_eq(relaymsg_signal_read(buf, n, &d), 0);
	ck_assert_int_eq(d.nat.jitter, 65535);
	n = nat_one(buf, sizeof(buf), "last_port", 'u', 65535, 0, 0);
	ck_assert_int_eq(relaymsg_signal_read(buf, n, &d), 0);
	ck_assert_uint_eq(d.nat.last_port, 65535);
	n = nat_one(buf, sizeof(buf), "age_ms", 'u', UINT32_MAX, 0, 0);
	ck_assert_int_eq(relaymsg_signal_read(buf, n, &d), 0);
	ck_assert_uint_eq(d.nat.age_ms, UINT32_MAX);
	n = nat_one(buf, sizeof(buf), "age_ms", 'u', UINT32_MAX + 1ULL, 0, 0);
	ck_assert_int_eq(relaymsg_signal_read(buf, n, &d), -1);
	n = nat_one(buf, sizeof(buf), "age_ms", 'u', UINT64_MAX, 0, 0);
	ck_assert_int_eq(relaymsg_signal_read(buf, n, &d), -1);
	/* rate and confidence: an integer or a float, never negative */
	n = nat_one(buf, sizeof(buf), "rate", 'u', 65536, 0, 0);
	ck_assert_int_eq(relaymsg_signal_read(buf, n, &d), 0);
	ck_assert_double_eq(d.nat.rate, 65536);
	n = nat_one(buf, sizeof(buf), "rate", 'd', 0, 0, 65536.5);
	ck_assert_int_eq(relaymsg_signal_read(buf, n, &d), -1);
	n = nat_one(buf, sizeof(buf), "rate", 'i', 0, -1, 0);
	ck_assert_int_eq(relaymsg_signal_read(buf, n, &d), -1);
	n = nat_one(buf, sizeof(buf), "rate", 'd', 0, 0, INFINITY);
	ck_assert_int_eq(relaymsg_signal_read(buf, n, &d), -1);
	n = nat_one(buf, sizeof(buf), "confidence", 'u', 1, 0, 0);
	ck_assert_int_eq(relaymsg_signal_read(buf, n, &d), 0);
	ck_assert_double_eq(d.nat.confidence, 1);
	n = nat_one(buf, sizeof(buf), "confidence", 'd', 0, 0, -0.1);
	ck_assert_int_eq(relaymsg_signal_read(buf, n, &d), -1);
	n = nat_one(buf, sizeof(buf), "confidence", 'd', 0, 0, 1.01);
	ck_assert_int_eq(relaymsg_signal_read(buf, n, &d), -1);
	/* a refused frame leaves nothing behind */
	ck_assert_int_eq(d.has_nat, 0);
	ck_assert_str_eq(d.nat.mapping, "");
}
END_TEST

Suite *
relaymsg_suite(void)
{
	Suite	*s = suite_create("relaymsg");
	TCase	*tc = tcase_create("relaymsg");

	tcase_add_test(tc, test_kinds);
	tcase_add_test(tc, test_control);
	tcase_add_test(tc, test_signal_roundtrip);
	tcase_add_test(tc, test_signal_bytes);
	tcase_add_test(tc, test_signal_hostile);
	tcase_add_test(tc, test_signal_nat);
	tcase_add_test(tc, test_signal_nat_hostile);
	tcase_add_test(tc, test_signal_nat_bounds);
	suite_add_tcase(s, tc);
	return s;
}
