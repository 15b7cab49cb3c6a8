/*
 * proto/packet: round trips, every way a packet can be wrong (tampered at
 * each byte, truncated at each length, wrong key, replayed, garbage), and
 * the replay window against a brute-force model.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>

#include "proto/packet.h"
#include "suites.h"

static const uint8_t mesh_secret[PACKET_MESH_SECRET_LEN] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};
static const uint8_t node_a[PACKET_NODEID_LEN] =
	{ 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8 };
static const uint8_t node_b[PACKET_NODEID_LEN] =
	{ 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8 };

/* deterministic, so a failure reproduces */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void
key_of(uint8_t key[PACKET_KEY_LEN], uint64_t epoch)
{
	ck_assert_int_eq(packet_key_derive(key, mesh_secret, epoch), 0);
}

static void
hdr_init(struct packet_hdr *h, uint8_t type, uint64_t seq)
{
	memset(h, 0, sizeof(*h));
	h->version = PACKET_VERSION;
	h->type = type;
	h->key_id = 0;
	memcpy(h->sender, node_a, PACKET_NODEID_LEN);
	h->seq = seq;
}

/* A 36-byte KEEPALIVE pinned to bytes: catches accidental format changes
 * (header layout, nonce construction, KDF context). */
START_TEST(test_known_answer)
{
	static const uint8_t want[PACKET_OVERHEAD] = {
		0x61, 0x04, 0x00, 0x07,
		0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a,
		/* tag */
		0xac, 0x3b, 0x03, 0x0c, 0x44, 0x79, 0xe6, 0x67,
		0xc4, 0x8a, 0x8b, 0xfb, 0xe8, 0x1b, 0xf0, 0x75,
	};
	uint8_t key[PACKET_KEY_LEN], buf[64];
	struct packet_hdr h;

	key_of(key, 7);
	hdr_init(&h, PACKET_KEEPALIVE, 42);
	h.key_id = 7;
	ck_assert_int_eq(packet_encode(buf, sizeof(buf), &h, NULL, 0, key), 36);
	ck_assert_mem_eq(buf, want, sizeof(want));
}
END_TEST

START_TEST(test_roundtrip_every_type)
{
	uint8_t key[PACKET_KEY_LEN], buf[256], pl[128];
	const uint8_t *out;
	struct packet_hdr h, g;
	size_t olen;
	int type, len;
	ssize_t n;

	key_of(key, 1);
	for (type = 1; type <= PACKET_TYPE_MAX; type++) {
		memset(pl, 0, sizeof(pl));
		switch (type) {
		case PACKET_PUNCH:
		case PACKET_PUNCH_ACK:
		case PACKET_PUNCH_CONFIRM: {
			struct packet_punch p = { .local_cand = 3,
			    .remote_cand = 9, .ts = 1000, .echo = 7,
			    .pflags = PACKET_PF_NOMINATE };
			len = packet_punch_encode(pl, sizeof(pl), &p);
			ck_assert_int_eq(len, 64);
			break;
		}
		case PACKET_KEEPALIVE:
		case PACKET_KEEPALIVE_ACK:
			len = 0;
			break;
		case PACKET_PING:
		case PACKET_PONG: {
			struct packet_ping p = { .id = 5, .ts = 99 };
			len = packet_ping_encode(pl, sizeof(pl), &p);
			ck_assert_int_eq(len, 12);
			break;
		}
		default:
			len = 100;
			memset(pl, 0x5a, len);
		}
		hdr_init(&h, type, 1000 + type);
		h.flags = PACKET_F_SESSION;
		h.key_id = 1;
		n = packet_encode(buf, sizeof(buf), &h, pl, len, key);
		ck_assert_int_eq(n, len + PACKET_OVERHEAD);
		ck_assert_int_eq(buf[0], 0x61);
		ck_assert(packet_is_ours(buf, n));
		ck_assert_int_eq(packet_decode(buf, n, key, &g, &out, &olen), 0);
		ck_assert_int_eq(g.version, PACKET_VERSION);
		ck_assert_int_eq(g.type, type);
		ck_assert_int_eq(g.flags, PACKET_F_SESSION);
		ck_assert_int_eq(g.key_id, 1);
		ck_assert_mem_eq(g.sender, node_a, PACKET_NODEID_LEN);
		ck_assert_uint_eq(g.seq, 1000 + type);
		ck_assert_uint_eq(olen, len);
		if (len > 0)
			ck_assert_mem_eq(out, pl, len);
		ck_assert_str_ne(packet_type_str(type), "UNKNOWN");
	}
	ck_assert_str_eq(packet_type_str(0), "UNKNOWN");
	ck_assert_str_eq(packet_type_str(200), "UNKNOWN");
}
END_TEST

START_TEST(test_sizes)
{
	uint8_t key[PACKET_KEY_LEN], buf[256], pl[64];
	struct packet_punch p;
	struct packet_ping pg = { 1, 2 };
	struct packet_hdr h;

	memset(&p, 0, sizeof(p));
	key_of(key, 0);
	hdr_init(&h, PACKET_KEEPALIVE, 1);
	/* 36 + 20 (IPv4) + 8 (UDP) = 64: the punchd issue's target, for the
	 * KEEPALIVE and for its ACK alike */
	ck_assert_int_eq(packet_encode(buf, sizeof(buf), &h, NULL, 0, key), 36);
	h.type = PACKET_KEEPALIVE_ACK;
	ck_assert_int_eq(packet_encode(buf, sizeof(buf), &h, NULL, 0, key), 36);
	h.type = PACKET_PUNCH;
	ck_assert_int_eq(packet_encode(buf, sizeof(buf), &h, pl,
	    packet_punch_encode(pl, sizeof(pl), &p), key), 100);
	h.type = PACKET_PING;
	ck_assert_int_eq(packet_encode(buf, sizeof(buf), &h, pl,
	    packet_ping_encode(pl, sizeof(pl), &pg), key), 48);
}
END_TEST

START_TEST(test_in_place)
{
	uint8_t key[PACKET_KEY_LEN], buf[128];
	const uint8_t *out;
	struct packet_hdr h, g;
	size_t olen;

	key_of(key, 0);
	hdr_init(&h, PACKET_DATA, 5);
	memcpy(buf + PACKET_HDR_LEN, "hello, mesh", 11);
	ck_assert_int_eq(packet_encode(buf, sizeof(buf), &h,
	    buf + PACKET_HDR_LEN, 11, key), 11 + PACKET_OVERHEAD);
	/* encrypted: the plaintext is gone from the wire */
	ck_assert(memcmp(buf + PACKET_HDR_LEN, "hello, mesh", 11) != 0);
	ck_assert_int_eq(packet_decode(buf, 11 + PACKET_OVERHEAD, key, &g, &out,
	    &olen), 0);
	ck_assert_uint_eq(olen, 11);
	ck_assert_mem_eq(out, "hello, mesh", 11);
	/* overlapping but not in place: refused */
	ck_assert_int_eq(packet_encode(buf, sizeof(buf), &h, buf + 1, 11, key), -1);
}
END_TEST

START_TEST(test_encode_errors)
{
	uint8_t key[PACKET_KEY_LEN], buf[128], pl[8] = { 0 };
	struct packet_hdr h;

	key_of(key, 0);
	hdr_init(&h, PACKET_DATA, 1);
	ck_assert_int_eq(packet_encode(buf, 8 + PACKET_OVERHEAD - 1, &h, pl, 8,
	    key), -1);
	ck_assert_int_eq(packet_encode(buf, 8 + PACKET_OVERHEAD, &h, pl, 8,
	    key), 8 + PACKET_OVERHEAD);
	ck_assert_int_eq(packet_encode(buf, sizeof(buf), &h, NULL, 8, key), -1);
	h.type = 0;
	ck_assert_int_eq(packet_encode(buf, sizeof(buf), &h, pl, 8, key), -1);
	h.type = PACKET_TYPE_MAX + 1;
	ck_assert_int_eq(packet_encode(buf, sizeof(buf), &h, pl, 8, key), -1);
	h.type = PACKET_DATA;
	h.version = 2;
	ck_assert_int_eq(packet_encode(buf, sizeof(buf), &h, pl, 8, key), -1);
	ck_assert_int_eq(packet_punch_encode(buf, 63, NULL), -1);
	ck_assert_int_eq(packet_ping_encode(buf, 11, NULL), -1);
}
END_TEST

static size_t
make_punch(uint8_t *buf, size_t cap, const uint8_t key[PACKET_KEY_LEN])
{
	struct packet_punch p;
	struct packet_hdr h;
	uint8_t pl[PACKET_PUNCH_LEN];
	ssize_t n;

	memset(&p, 0, sizeof(p));
	memset(p.txid, 0x77, sizeof(p.txid));
	p.local_cand = 1;
	p.remote_cand = 2;
	p.ts = 123456;
	hdr_init(&h, PACKET_PUNCH, 77);
	packet_punch_encode(pl, sizeof(pl), &p);
	n = packet_encode(buf, cap, &h, pl, sizeof(pl), key);
	ck_assert_int_gt(n, 0);
	return (size_t)n;
}

START_TEST(test_tamper_every_byte)
{
	uint8_t key[PACKET_KEY_LEN], orig[128], buf[128];
	const uint8_t *out;
	struct packet_hdr g;
	size_t n, i, olen;
	int bit, r;

	key_of(key, 0);
	n = make_punch(orig, sizeof(orig), key);
	for (i = 0; i < n; i++) {
		for (bit = 0; bit < 8; bit++) {
			memcpy(buf, orig, n);
			buf[i] ^= 1 << bit;
			r = packet_decode(buf, n, key, &g, &out, &olen);
			ck_assert_msg(r < 0, "flip byte %zu bit %d accepted", i, bit);
			/* the header is parsed before crypto; past it only the
			 * authenticator can notice */
			if (i >= 4)
				ck_assert_int_eq(r, PACKET_ERR_AUTH);
		}
	}
	memcpy(buf, orig, n);
	ck_assert_int_eq(packet_decode(buf, n, key, &g, &out, &olen), 0);
}
END_TEST

START_TEST(test_truncated_every_length)
{
	uint8_t key[PACKET_KEY_LEN], orig[128], buf[128];
	const uint8_t *out;
	struct packet_hdr g;
	size_t n, len, olen;
	int r;

	key_of(key, 0);
	n = make_punch(orig, sizeof(orig), key);
	for (len = 0; len < n; len++) {
		memcpy(buf, orig, n);
		r = packet_decode(buf, len, key, &g, &out, &olen);
		ck_assert_int_eq(r, len < PACKET_OVERHEAD ? PACKET_ERR_SHORT :
		    PACKET_ERR_AUTH);
	}
	/* one byte too many is just as wrong */
	memcpy(buf, orig, n);
	buf[n] = 0;
	ck_assert_int_eq(packet_decode(buf, n + 1, key, &g, &out, &olen),
	    PACKET_ERR_AUTH);
}
END_TEST

START_TEST(test_wrong_key)
{
	uint8_t key[PACKET_KEY_LEN], other[PACKET_KEY_LEN], next[PACKET_KEY_LEN];
	uint8_t secret2[PACKET_MESH_SECRET_LEN], orig[128], buf[128];
	const uint8_t *out;
	struct packet_hdr g;
	size_t n, olen;

	key_of(key, 0);
	key_of(next, 1);
	memcpy(secret2, mesh_secret, sizeof(secret2));
	secret2[31] ^= 1;
	ck_assert_int_eq(packet_key_derive(other, secret2, 0), 0);
	ck_assert(memcmp(key, other, PACKET_KEY_LEN) != 0);
	ck_assert(memcmp(key, next, PACKET_KEY_LEN) != 0);

	n = make_punch(orig, sizeof(orig), key);
	memcpy(buf, orig, n);
	ck_assert_int_eq(packet_decode(buf, n, other, &g, &out, &olen),
	    PACKET_ERR_AUTH);	/* another mesh */
	memcpy(buf, orig, n);
	ck_assert_int_eq(packet_decode(buf, n, next, &g, &out, &olen),
	    PACKET_ERR_AUTH);	/* another epoch */
	memcpy(buf, orig, n);
	ck_assert_int_eq(packet_decode(buf, n, key, &g, &out, &olen), 0);
}
END_TEST

START_TEST(test_nonce_distinct)
{
	uint8_t key[PACKET_KEY_LEN], a[64], b[64], pl[8] = "samesame";
	struct packet_hdr h;

	key_of(key, 0);
	hdr_init(&h, PACKET_DATA, 1);
	packet_encode(a, sizeof(a), &h, pl, 8, key);
	h.seq = 2;
	packet_encode(b, sizeof(b), &h, pl, 8, key);
	ck_assert(memcmp(a + PACKET_HDR_LEN, b + PACKET_HDR_LEN, 8) != 0);
	/* same sequence, other sender: still another keystream */
	h.seq = 1;
	memcpy(h.sender, node_b, PACKET_NODEID_LEN);
	packet_encode(b, sizeof(b), &h, pl, 8, key);
	ck_assert(memcmp(a + PACKET_HDR_LEN, b + PACKET_HDR_LEN, 8) != 0);
	ck_assert_uint_eq(packet_seq_start(1767225600) >> 32, 1767225600);
	ck_assert_uint_gt(packet_seq_start(1767225601),
	    packet_seq_start(1767225600) + 0xffffffffULL);
}
END_TEST

START_TEST(test_peek_and_first_byte)
{
	uint8_t key[PACKET_KEY_LEN], buf[128];
	struct packet_hdr g;
	size_t n;
	int b;

	/* no RFC 7983 range, no relay frame byte */
	for (b = 0; b < 256; b++) {
		uint8_t c = b;
		int ours = packet_is_ours(&c, 1);

		if (ours) {
			ck_assert(b >= 80 && b <= 127);
			ck_assert(b < 0xF0);
		}
		ck_assert_int_eq(ours, b >= 0x60 && b <= 0x67);
	}
	ck_assert(!packet_is_ours(buf, 0));

	key_of(key, 0);
	n = make_punch(buf, sizeof(buf), key);
	ck_assert_int_eq(packet_peek(buf, n, &g), 0);
	ck_assert_int_eq(g.type, PACKET_PUNCH);
	ck_assert_mem_eq(g.sender, node_a, PACKET_NODEID_LEN);
	ck_assert_uint_eq(g.seq, 77);

	buf[0] = 0x62;		/* version 2 */
	ck_assert_int_eq(packet_peek(buf, n, &g), PACKET_ERR_VERSION);
	buf[0] = 0x60;		/* version 0 */
	ck_assert_int_eq(packet_peek(buf, n, &g), PACKET_ERR_VERSION);
	buf[0] = 0x61;
	buf[1] = 0;
	ck_assert_int_eq(packet_peek(buf, n, &g), PACKET_ERR_TYPE);
	buf[1] = PACKET_TYPE_MAX + 1;
	ck_assert_int_eq(packet_peek(buf, n, &g), PACKET_ERR_TYPE);
	buf[1] = 0xff;
	ck_assert_int_eq(packet_peek(buf, n, &g), PACKET_ERR_TYPE);
	/* a STUN binding request */
	memcpy(buf, "\x00\x01\x00\x00\x21\x12\xa4\x42", 8);
	ck_assert_int_eq(packet_peek(buf, 20, &g), PACKET_ERR_MAGIC);
	ck_assert_int_eq(packet_peek(buf, 0, &g), PACKET_ERR_SHORT);
	/* a relay CONTROL frame */
	buf[0] = 0xF0;
	ck_assert_int_eq(packet_peek(buf, 40, &g), PACKET_ERR_MAGIC);
}
END_TEST

START_TEST(test_strerror)
{
	int e;

	for (e = PACKET_ERR_PAYLOAD; e <= 0; e++)
		ck_assert_str_ne(packet_strerror(e), "unknown packet error");
	ck_assert_str_eq(packet_strerror(-100), "unknown packet error");
}
END_TEST

START_TEST(test_garbage)
{
	static uint8_t buf[4096];
	uint8_t key[PACKET_KEY_LEN];
	const uint8_t *out;
	struct packet_hdr g;
	size_t len, i, olen;
	int iter;

	key_of(key, 0);
	for (iter = 0; iter < 20000; iter++) {
		len = rng() % (iter < 10000 ? 128 : sizeof(buf));
		for (i = 0; i < len; i++)
			buf[i] = rng();
		/* half of them look like ours, to reach the crypto */
		if (len > 0 && (iter & 1)) {
			buf[0] = 0x61;
			if (len > 1)
				buf[1] = 1 + rng() % PACKET_TYPE_MAX;
		}
		ck_assert_int_lt(packet_decode(buf, len, key, &g, &out, &olen), 0);
	}
}
END_TEST

START_TEST(test_64k)
{
	static uint8_t buf[65536 + 64], pl[PACKET_MAX_PAYLOAD];
	uint8_t key[PACKET_KEY_LEN];
	const uint8_t *out;
	struct packet_hdr h, g;
	size_t olen, i;
	ssize_t n;

	key_of(key, 0);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = rng();
	buf[0] = 0x61;
	buf[1] = PACKET_DATA;
	ck_assert_int_eq(packet_decode(buf, 65536, key, &g, &out, &olen),
	    PACKET_ERR_LENGTH);
	ck_assert_int_eq(packet_decode(buf, PACKET_MAX_LEN, key, &g, &out, &olen),
	    PACKET_ERR_AUTH);

	/* the largest legal packet round-trips; one byte more is refused */
	memset(pl, 0xab, sizeof(pl));
	hdr_init(&h, PACKET_DATA, 9);
	n = packet_encode(buf, sizeof(buf), &h, pl, sizeof(pl), key);
	ck_assert_int_eq(n, PACKET_MAX_LEN);
	ck_assert_int_eq(packet_decode(buf, n, key, &g, &out, &olen), 0);
	ck_assert_uint_eq(olen, PACKET_MAX_PAYLOAD);
	ck_assert_mem_eq(out, pl, sizeof(pl));
	ck_assert_int_eq(packet_encode(buf, sizeof(buf), &h, pl,
	    PACKET_MAX_PAYLOAD + 1, key), -1);
}
END_TEST

START_TEST(test_replay_basic)
{
	struct packet_replay w;

	/* per-peer memory budget (punchd: < 4 KiB per peer) */
	ck_assert_uint_eq(sizeof(w), 144);
	packet_replay_reset(&w);
	ck_assert_int_eq(packet_replay_check(&w, 0), 0);
	ck_assert_int_eq(packet_replay_check_and_update(&w, 0), 0);
	ck_assert_int_eq(packet_replay_check_and_update(&w, 0), PACKET_ERR_REPLAY);
	ck_assert_int_eq(packet_replay_check_and_update(&w, 1), 0);
	ck_assert_int_eq(packet_replay_check_and_update(&w, 1), PACKET_ERR_REPLAY);

	/* reordered within the window: each accepted once */
	ck_assert_int_eq(packet_replay_check_and_update(&w, 10), 0);
	ck_assert_int_eq(packet_replay_check_and_update(&w, 5), 0);
	ck_assert_int_eq(packet_replay_check_and_update(&w, 7), 0);
	ck_assert_int_eq(packet_replay_check(&w, 5), PACKET_ERR_REPLAY);
	ck_assert_int_eq(packet_replay_check_and_update(&w, 5), PACKET_ERR_REPLAY);
	ck_assert_int_eq(packet_replay_check_and_update(&w, 7), PACKET_ERR_REPLAY);
	ck_assert_int_eq(packet_replay_check_and_update(&w, 6), 0);

	/* far ahead: everything before the window is too old */
	ck_assert_int_eq(packet_replay_check_and_update(&w, 100000), 0);
	ck_assert_int_eq(packet_replay_check_and_update(&w, 9), PACKET_ERR_OLD);
	ck_assert_int_eq(packet_replay_check_and_update(&w,
	    100000 - PACKET_REPLAY_WINDOW), PACKET_ERR_OLD);
	ck_assert_int_eq(packet_replay_check_and_update(&w,
	    100000 - PACKET_REPLAY_WINDOW + 1), 0);
	ck_assert_int_eq(packet_replay_check_and_update(&w, 99999), 0);
	ck_assert_int_eq(packet_replay_check_and_update(&w, 99999),
	    PACKET_ERR_REPLAY);

	/* a time-based start and the top of the range */
	packet_replay_reset(&w);
	ck_assert_int_eq(packet_replay_check_and_update(&w,
	    packet_seq_start(1767225600)), 0);
	ck_assert_int_eq(packet_replay_check_and_update(&w, UINT64_MAX), 0);
	ck_assert_int_eq(packet_replay_check_and_update(&w, UINT64_MAX),
	    PACKET_ERR_REPLAY);
	ck_assert_int_eq(packet_replay_check_and_update(&w, UINT64_MAX - 1), 0);
	ck_assert_int_eq(packet_replay_check_and_update(&w,
	    packet_seq_start(1767225600)), PACKET_ERR_OLD);
}
END_TEST

/* Against a model: a sequence is accepted iff not seen before and within
 * WINDOW of the highest accepted so far (the ring may keep more, never
 * less: the model allows both answers past WINDOW up to BITS). */
START_TEST(test_replay_model)
{
	enum { SPAN = 1 << 20 };
	static uint8_t seen[SPAN];
	struct packet_replay w;
	uint64_t top = 0, seq;
	int any = 0, iter, r, accepted = 0;

	packet_replay_reset(&w);
	memset(seen, 0, sizeof(seen));
	for (iter = 0; iter < 200000; iter++) {
		/* mostly near the top, sometimes behind, sometimes a jump */
		uint64_t base = any ? top : 0;
		uint64_t back = rng() % (PACKET_REPLAY_BITS + 200);

		if (rng() % 16 == 0)
			seq = base + 1 + rng() % 300;
		else
			seq = base >= back ? base - back : rng() % 8;
		if (seq >= SPAN)
			break;
		r = packet_replay_check_and_update(&w, seq);
		if (seen[seq]) {
			ck_assert_msg(r != 0, "seq %llu accepted twice",
			    (unsigned long long)seq);
		} else if (!any || seq > top || top - seq < PACKET_REPLAY_WINDOW) {
			ck_assert_msg(r == 0, "seq %llu (top %llu) refused: %d",
			    (unsigned long long)seq, (unsigned long long)top, r);
		} else {
			ck_assert_int_eq(r, PACKET_ERR_OLD);
		}
		if (r == 0) {
			seen[seq] = 1;
			accepted++;
			if (!any || seq > top)
				top = seq;
			any = 1;
		}
	}
	ck_assert_int_gt(accepted, 1000);
}
END_TEST

START_TEST(test_punch_payload)
{
	struct packet_punch p, q;
	struct sockaddr_storage ss;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	struct sockaddr_un_stub { sa_family_t f; char path[8]; } un = { AF_UNIX, "" };
	uint8_t buf[PACKET_PUNCH_LEN + 8];
	int i;

	memset(&p, 0, sizeof(p));
	for (i = 0; i < PACKET_TXID_LEN; i++)
		p.txid[i] = i * 17;
	p.local_cand = 0xdeadbeef;
	p.remote_cand = 0x01020304;
	p.ts = 0x1112131415161718ULL;
	p.echo = 0x2122232425262728ULL;
	p.pflags = PACKET_PF_NOMINATE | PACKET_PF_CONTROLLING;
	memcpy(p.dest, "\x01\x02\x03\x04\x05\x06\x07\x08", PACKET_NODEID_LEN);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(7777);
	inet_pton(AF_INET, "203.0.113.7", &sin.sin_addr);
	ck_assert_int_eq(packet_punch_set_addr(&p, (struct sockaddr *)&sin), 0);
	ck_assert_int_eq(p.family, PACKET_AF_INET);
	ck_assert_int_eq(packet_punch_encode(buf, sizeof(buf), &p), 64);
	memset(&q, 0xee, sizeof(q));
	ck_assert_int_eq(packet_punch_decode(buf, 64, &q), 0);
	ck_assert_mem_eq(q.dest, p.dest, PACKET_NODEID_LEN);
	ck_assert_mem_eq(q.txid, p.txid, PACKET_TXID_LEN);
	ck_assert_uint_eq(q.local_cand, p.local_cand);
	ck_assert_uint_eq(q.remote_cand, p.remote_cand);
	ck_assert_uint_eq(q.ts, p.ts);
	ck_assert_uint_eq(q.echo, p.echo);
	ck_assert_uint_eq(q.pflags, p.pflags);
	ck_assert_int_eq(packet_punch_get_addr(&q, &ss), 0);
	ck_assert_int_eq(ss.ss_family, AF_INET);
	ck_assert_mem_eq(&((struct sockaddr_in *)&ss)->sin_addr, &sin.sin_addr, 4);
	ck_assert_int_eq(((struct sockaddr_in *)&ss)->sin_port, htons(7777));
	/* trailing bytes (a later version's fields) are ignored */
	ck_assert_int_eq(packet_punch_decode(buf, sizeof(buf), &q), 0);
	ck_assert_int_eq(packet_punch_decode(buf, 63, &q), PACKET_ERR_PAYLOAD);

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(40000);
	inet_pton(AF_INET6, "2001:db8::42", &sin6.sin6_addr);
	ck_assert_int_eq(packet_punch_set_addr(&p, (struct sockaddr *)&sin6), 0);
	packet_punch_encode(buf, sizeof(buf), &p);
	ck_assert_int_eq(packet_punch_decode(buf, 64, &q), 0);
	ck_assert_int_eq(packet_punch_get_addr(&q, &ss), 0);
	ck_assert_int_eq(ss.ss_family, AF_INET6);
	ck_assert_mem_eq(&((struct sockaddr_in6 *)&ss)->sin6_addr,
	    &sin6.sin6_addr, 16);
	ck_assert_int_eq(((struct sockaddr_in6 *)&ss)->sin6_port, htons(40000));

	ck_assert_int_eq(packet_punch_set_addr(&p, (struct sockaddr *)&un), -1);
	ck_assert_int_eq(p.family, PACKET_AF_NONE);
	ck_assert_int_eq(packet_punch_get_addr(&p, &ss), -1);
	packet_punch_encode(buf, sizeof(buf), &p);
	buf[37] = 3;		/* no such family */
	ck_assert_int_eq(packet_punch_decode(buf, 64, &q), PACKET_ERR_PAYLOAD);
}
END_TEST

START_TEST(test_small_payloads)
{
	struct packet_ping p = { 0xcafef00d, 0x0102030405060708ULL }, q;
	uint8_t buf[32];

	ck_assert_int_eq(packet_ping_encode(buf, sizeof(buf), &p), 12);
	ck_assert_int_eq(packet_ping_decode(buf, 12, &q), 0);
	ck_assert_uint_eq(q.id, p.id);
	ck_assert_uint_eq(q.ts, p.ts);
	/* PMTU padding after the fixed part is allowed */
	ck_assert_int_eq(packet_ping_decode(buf, 32, &q), 0);
	ck_assert_int_eq(packet_ping_decode(buf, 11, &q), PACKET_ERR_PAYLOAD);
}
END_TEST

/* The flow punchd will run: derive, peek for the key, decode, then replay. */
START_TEST(test_receive_flow)
{
	uint8_t key[PACKET_KEY_LEN], pkts[5][64], buf[64];
	size_t lens[5];
	const uint8_t *out;
	struct packet_replay w;
	struct packet_hdr h, g;
	size_t olen;
	int i;

	key_of(key, 3);
	for (i = 0; i < 5; i++) {
		hdr_init(&h, PACKET_KEEPALIVE, packet_seq_start(1000) + i);
		h.key_id = 3;
		lens[i] = packet_encode(pkts[i], sizeof(pkts[i]), &h, NULL, 0, key);
	}
	packet_replay_reset(&w);
	/* arrival order 0 2 1 4 3, then all five again */
	static const int order[] = { 0, 2, 1, 4, 3, 0, 1, 2, 3, 4 };
	for (i = 0; i < 10; i++) {
		int k = order[i];

		memcpy(buf, pkts[k], lens[k]);
		ck_assert_int_eq(packet_peek(buf, lens[k], &g), 0);
		ck_assert_int_eq(g.key_id, 3);
		ck_assert_int_eq(packet_decode(buf, lens[k], key, &g, &out,
		    &olen), 0);
		ck_assert_int_eq(packet_replay_check_and_update(&w, g.seq),
		    i < 5 ? 0 : PACKET_ERR_REPLAY);
	}
}
END_TEST

Suite *
packet_suite(void)
{
	Suite *s = suite_create("packet");
	TCase *tc = tcase_create("codec");
	TCase *tr = tcase_create("replay");

	tcase_add_test(tc, test_known_answer);
	tcase_add_test(tc, test_roundtrip_every_type);
	tcase_add_test(tc, test_sizes);
	tcase_add_test(tc, test_in_place);
	tcase_add_test(tc, test_encode_errors);
	tcase_add_test(tc, test_tamper_every_byte);
	tcase_add_test(tc, test_truncated_every_length);
	tcase_add_test(tc, test_wrong_key);
	tcase_add_test(tc, test_nonce_distinct);
	tcase_add_test(tc, test_peek_and_first_byte);
	tcase_add_test(tc, test_strerror);
	tcase_add_test(tc, test_garbage);
	tcase_add_test(tc, test_64k);
	tcase_add_test(tc, test_punch_payload);
	tcase_add_test(tc, test_small_payloads);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tcase_add_test(tr, test_replay_basic);
	tcase_add_test(tr, test_replay_model);
	tcase_add_test(tr, test_receive_flow);
	tcase_set_timeout(tr, 60);
	suite_add_tcase(s, tr);
	return s;
}
