/*
 * proto/e2e.c: the end-to-end session handshake and key schedule, two sides
 * in memory. Handshake keys agree and differ per direction; ephemeral
 * secrets are wiped; tampered, replayed, truncated, cross-session and
 * forged-handshake packets are refused; reordering within the window is
 * accepted once; a captured packet does not open with the mesh key nor
 * with anything public; rekeying keeps the previous key for the grace
 * period only, then wipes it; packet-count and timer rekeys; crossing
 * INITs resolve to one session; an old INIT replayed under the mesh key
 * does not change the keys.
 */
#include <string.h>

#include <sodium.h>

#include "proto/e2e.h"
#include "proto/packet.h"
#include "suites.h"

struct side {
	uint8_t		id[PACKET_NODEID_LEN];
	uint8_t		pk[E2E_PK_LEN];
	uint8_t		sk[E2E_SK_LEN];
	struct e2e_peer	e;
};

static struct e2e_params par;
static struct side A, B, C;

static void
mkside(struct side *s, uint8_t first)
{
	memset(s, 0, sizeof(*s));
	memset(s->id, 0x10 + first, sizeof(s->id));
	s->id[0] = first;
	crypto_sign_keypair(s->pk, s->sk);
}

/* a and b know each other's node keys */
static void
pair(struct side *a, struct side *b)
{
	ck_assert_int_eq(e2e_peer_init(&a->e, &par, a->id, a->pk, a->sk,
	    b->id, b->pk), 0);
	ck_assert_int_eq(e2e_peer_init(&b->e, &par, b->id, b->pk, b->sk,
	    a->id, a->pk), 0);
}

static void
setup(void)
{
	ck_assert_int_ne(sodium_init(), -1);
	e2e_params_default(&par);
	par.rekey_interval = 10;
	par.grace = 2;
	par.retx = 1;
	mkside(&A, 1);
	mkside(&B, 2);
	mkside(&C, 3);
	pair(&A, &B);
}

/* i starts, r answers, i completes */
static void
handshake(struct side *i, struct side *r, double now)
{
	uint8_t	init[E2E_MSG_LEN], resp[E2E_MSG_LEN], t = 0;

	ck_assert_int_eq(e2e_start(&i->e, now, init), E2E_MSG_LEN);
	ck_assert_int_eq(e2e_input(&r->e, PACKET_E2E_INIT, init, sizeof(init),
	    now, 0, resp, &t), E2E_OUT_REPLY | E2E_OUT_NEWKEY);
	ck_assert_int_eq(t, PACKET_E2E_RESP);
	ck_assert_int_eq(e2e_input(&i->e, PACKET_E2E_RESP, resp, sizeof(resp),
	    now, 0, NULL, &t), E2E_OUT_NEWKEY);
}

static size_t
seal(struct side *s, uint8_t *buf, size_t cap, const char *msg)
{
	struct packet_hdr	h;
	ssize_t			n;

	memset(&h, 0, sizeof(h));
	h.type = PACKET_DATA;
	memcpy(h.sender, s->id, PACKET_NODEID_LEN);
	n = e2e_encrypt(&s->e, buf, cap, &h, (const uint8_t *)msg,
	    strlen(msg));
	ck_assert_int_eq(n, (ssize_t)(strlen(msg) + PACKET_OVERHEAD));
	ck_assert(h.flags & PACKET_F_SESSION);
	return (size_t)n;
}

/* decrypt a copy: 0 and the text matches, or the error */
static int
open_copy(struct side *s, const uint8_t *pkt, size_t len, double now,
    const char *want)
{
	uint8_t			 buf[2048];
	struct packet_hdr	 h;
	const uint8_t		*pl;
	size_t			 plen;
	int			 r;

	memcpy(buf, pkt, len);
	r = e2e_decrypt(&s->e, buf, len, now, &h, &pl, &plen);
	if (r == 0 && want != NULL) {
		ck_assert_uint_eq(plen, strlen(want));
		ck_assert(memcmp(pl, want, plen) == 0);
	}
	return r;
}

static int
all_zero(const void *p, size_t n)
{
	const uint8_t	*b = p;
	size_t		 i;

	for (i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

START_TEST(test_handshake_keys)
{
	handshake(&A, &B, 100);
	ck_assert(e2e_ready(&A.e));
	ck_assert(e2e_ready(&B.e));
	ck_assert_uint_ne(A.e.cur.id, 0);
	ck_assert_uint_eq(A.e.cur.id, B.e.cur.id);
	ck_assert(memcmp(A.e.cur.tx, B.e.cur.rx, PACKET_KEY_LEN) == 0);
	ck_assert(memcmp(A.e.cur.rx, B.e.cur.tx, PACKET_KEY_LEN) == 0);
	ck_assert(memcmp(A.e.cur.tx, A.e.cur.rx, PACKET_KEY_LEN) != 0);
	ck_assert_uint_eq(A.e.epoch, 1);
	ck_assert_uint_eq(B.e.epoch, 1);
	/* forward secrecy: the ephemeral secret is gone */
	ck_assert(!A.e.pending);
	ck_assert(all_zero(A.e.eph_sk, sizeof(A.e.eph_sk)));
	/* a second handshake gives other keys */
	{
		uint8_t	old[PACKET_KEY_LEN];

		memcpy(old, A.e.cur.tx, sizeof(old));
		handshake(&B, &A, 101);
		ck_assert(memcmp(old, A.e.cur.tx, PACKET_KEY_LEN) != 0);
		ck_assert(memcmp(A.e.cur.tx, B.e.cur.rx, PACKET_KEY_LEN) == 0);
		ck_assert_uint_eq(A.e.epoch, 2);
	}
}
END_TEST

START_TEST(test_roundtrip_and_rejects)
{
	uint8_t	p1[256], p2[256], p3[256], bad[256];
	size_t	n1, n2, n3;

	handshake(&A, &B, 100);
	n1 = seal(&A, p1, sizeof(p1), "one");
	n2 = seal(&A, p2, sizeof(p2), "two");
	n3 = seal(&A, p3, sizeof(p3), "three");
	/* reordered: 3, 1, 2, each accepted once */
	ck_assert_int_eq(open_copy(&B, p3, n3, 100, "three"), 0);
	ck_assert_int_eq(open_copy(&B, p1, n1, 100, "one"), 0);
	ck_assert_int_eq(open_copy(&B, p2, n2, 100, "two"), 0);
	/* replayed */
	ck_assert_int_eq(open_copy(&B, p1, n1, 100, NULL), PACKET_ERR_REPLAY);
	ck_assert_int_eq(open_copy(&B, p3, n3, 100, NULL), PACKET_ERR_REPLAY);
	/* tampered: payload, tag, header (seq, key id), each refused */
	n1 = seal(&A, p1, sizeof(p1), "four");
	memcpy(bad, p1, n1);
	bad[PACKET_HDR_LEN] ^= 1;
	ck_assert_int_eq(open_copy(&B, bad, n1, 100, NULL), PACKET_ERR_AUTH);
	memcpy(bad, p1, n1);
	bad[n1 - 1] ^= 0x80;
	ck_assert_int_eq(open_copy(&B, bad, n1, 100, NULL), PACKET_ERR_AUTH);
	memcpy(bad, p1, n1);
	bad[19] ^= 1;			/* sequence number */
	ck_assert_int_eq(open_copy(&B, bad, n1, 100, NULL), PACKET_ERR_AUTH);
	memcpy(bad, p1, n1);
	bad[1] = PACKET_PING;		/* type */
	ck_assert_int_eq(open_copy(&B, bad, n1, 100, NULL), PACKET_ERR_AUTH);
	memcpy(bad, p1, n1);
	bad[3] ^= 0x40;			/* key id: no such key */
	ck_assert_int_eq(open_copy(&B, bad, n1, 100, NULL), E2E_ERR_NOKEY);
	memcpy(bad, p1, n1);
	bad[2] &= ~PACKET_F_SESSION;	/* not a session packet */
	ck_assert_int_eq(open_copy(&B, bad, n1, 100, NULL), E2E_ERR_NOKEY);
	/* truncated: one byte short, and shorter than a header */
	ck_assert_int_eq(open_copy(&B, p1, n1 - 1, 100, NULL), PACKET_ERR_AUTH);
	ck_assert_int_eq(open_copy(&B, p1, PACKET_OVERHEAD - 1, 100, NULL),
	    PACKET_ERR_SHORT);
	/* the failures did not move the window: the real one still opens */
	ck_assert_int_eq(open_copy(&B, p1, n1, 100, "four"), 0);
	/* our own packet reflected back to us does not open (per-direction
	 * keys) */
	n1 = seal(&A, p1, sizeof(p1), "five");
	ck_assert_int_eq(open_copy(&A, p1, n1, 100, NULL), PACKET_ERR_AUTH);
	/* the other direction works */
	n1 = seal(&B, p1, sizeof(p1), "back");
	ck_assert_int_eq(open_copy(&A, p1, n1, 100, "back"), 0);
}
END_TEST

START_TEST(test_reorder_window)
{
	static uint8_t	pk[1100][64];
	size_t		n[1100];
	int		i;

	handshake(&A, &B, 100);
	for (i = 0; i < 1100; i++)
		n[i] = seal(&A, pk[i], sizeof(pk[i]), "x");
	/* newest first: within the window each opens once, beyond it is
	 * too old */
	for (i = 1099; i >= 0; i--) {
		int r = open_copy(&B, pk[i], n[i], 100, "x");

		if (1099 - i < PACKET_REPLAY_WINDOW)
			ck_assert_int_eq(r, 0);
		else
			ck_assert_int_eq(r, PACKET_ERR_OLD);
	}
	for (i = 1099; i > 1099 - 100; i--)
		ck_assert_int_eq(open_copy(&B, pk[i], n[i], 100, NULL),
		    PACKET_ERR_REPLAY);
}
END_TEST

START_TEST(test_cross_session)
{
	uint8_t	p[256];
	size_t	n;

	/* A-B and C-B sessions, with the same key id on purpose */
	handshake(&A, &B, 100);
	ck_assert_int_eq(e2e_peer_init(&C.e, &par, C.id, C.pk, C.sk, A.id,
	    A.pk), 0);
	{
		struct side A2 = A;

		ck_assert_int_eq(e2e_peer_init(&A2.e, &par, A.id, A.pk, A.sk,
		    C.id, C.pk), 0);
		handshake(&A2, &C, 100);
		ck_assert_uint_eq(A2.e.cur.id, B.e.cur.id);
		/* A's packet to C, same sender, same key id and sequence as
		 * the first one to B would have: B refuses it */
		n = seal(&A2, p, sizeof(p), "for C");
		ck_assert_int_eq(open_copy(&B, p, n, 100, NULL),
		    PACKET_ERR_AUTH);
		ck_assert_int_eq(open_copy(&C, p, n, 100, "for C"), 0);
		e2e_peer_wipe(&A2.e);
	}
	/* and an old session's packet after a rekey and the grace period */
	n = seal(&A, p, sizeof(p), "old");
	handshake(&A, &B, 101);
	handshake(&A, &B, 102);
	ck_assert_int_eq(open_copy(&B, p, n, 102, NULL), E2E_ERR_NOKEY);
}
END_TEST

/*
 * What a relay records: the handshake (INIT, RESP in the clear once the
 * mesh key layer is removed: assume the relay holds the mesh secret) and
 * the DATA packets. Neither the mesh key of any epoch nor anything built
 * from the public handshake values opens a DATA packet; and the ephemeral
 * secrets that would are wiped on both sides.
 */
START_TEST(test_relay_capture)
{
	uint8_t			 init[E2E_MSG_LEN], resp[E2E_MSG_LEN], t;
	uint8_t			 secret[PACKET_MESH_SECRET_LEN];
	uint8_t			 key[PACKET_KEY_LEN], cap[256], buf[256];
	struct packet_hdr	 h;
	const uint8_t		*pl;
	size_t			 n, plen;
	uint64_t		 ep;

	randombytes_buf(secret, sizeof(secret));
	ck_assert_int_eq(e2e_start(&A.e, 100, init), E2E_MSG_LEN);
	ck_assert_int_gt(e2e_input(&B.e, PACKET_E2E_INIT, init, sizeof(init),
	    100, 0, resp, &t), 0);
	ck_assert_int_gt(e2e_input(&A.e, PACKET_E2E_RESP, resp, sizeof(resp),
	    100, 0, NULL, &t), 0);
	n = seal(&A, cap, sizeof(cap), "attack at dawn");
	/* the plaintext is not in the captured bytes */
	ck_assert(memmem(cap, n, "attack", 6) == NULL);
	/* the mesh key, every epoch the key id byte could name */
	for (ep = 0; ep < 256; ep++) {
		ck_assert_int_eq(packet_key_derive(key, secret, ep), 0);
		memcpy(buf, cap, n);
		ck_assert_int_eq(packet_decode(buf, n, key, &h, &pl, &plen),
		    PACKET_ERR_AUTH);
	}
	/* keys from public values only: the ephemeral public keys, the
	 * node public keys, hashed the way the session keys are */
	{
		const uint8_t *pubs[] = { init + 2, resp + 34, A.pk, B.pk };
		size_t i;

		for (i = 0; i < 4; i++) {
			crypto_generichash(key, sizeof(key), pubs[i], 32,
			    NULL, 0);
			memcpy(buf, cap, n);
			ck_assert_int_eq(packet_decode(buf, n, key, &h, &pl,
			    &plen), PACKET_ERR_AUTH);
			memcpy(buf, cap, n);
			ck_assert_int_eq(packet_decode(buf, n, pubs[i], &h,
			    &pl, &plen), PACKET_ERR_AUTH);
		}
	}
	/* the node secret keys (stolen later) are not the session keys, and
	 * with the ephemeral secrets wiped there is nothing left to redo
	 * the X25519 with */
	memcpy(buf, cap, n);
	ck_assert_int_eq(packet_decode(buf, n, A.sk, &h, &pl, &plen),
	    PACKET_ERR_AUTH);
	ck_assert(all_zero(A.e.eph_sk, sizeof(A.e.eph_sk)));
	/* B kept no ephemeral secret: its RESP cache holds public values */
	ck_assert(memcmp(B.e.resp_msg + 34, resp + 34, 32) == 0);
	/* only the session key opens it */
	ck_assert_int_eq(open_copy(&B, cap, n, 100, "attack at dawn"), 0);
}
END_TEST

START_TEST(test_rekey_grace)
{
	uint8_t	p[256], q[256];
	size_t	n, m;
	uint8_t	old_id;

	handshake(&A, &B, 100);
	ck_assert_int_eq(e2e_tick(&A.e, 105), 0);
	ck_assert_int_eq(e2e_tick(&A.e, 110), E2E_TICK_REKEY);
	old_id = A.e.cur.id;
	n = seal(&A, p, sizeof(p), "in flight");	/* before the rekey */
	m = seal(&B, q, sizeof(q), "in flight back");
	handshake(&A, &B, 110);
	ck_assert_uint_ne(A.e.cur.id, old_id);
	ck_assert(A.e.prev.valid && A.e.prev.id == old_id);
	ck_assert_int_eq(e2e_tick(&A.e, 110.5), 0);	/* fresh key */
	/* within the grace period the in-flight packets open, once */
	ck_assert_int_eq(open_copy(&B, p, n, 111, "in flight"), 0);
	ck_assert_int_eq(open_copy(&B, p, n, 111, NULL), PACKET_ERR_REPLAY);
	/* after it the old key is refused even before the tick wipes it */
	ck_assert_int_eq(open_copy(&A, q, m, 112.5, NULL), E2E_ERR_NOKEY);
	e2e_tick(&A.e, 112.5);
	ck_assert(!A.e.prev.valid);
	ck_assert(all_zero(&A.e.prev, sizeof(A.e.prev)));
	/* the new key works both ways */
	n = seal(&A, p, sizeof(p), "new");
	ck_assert_int_eq(open_copy(&B, p, n, 112.5, "new"), 0);
	m = seal(&B, q, sizeof(q), "new back");
	ck_assert_int_eq(open_copy(&A, q, m, 112.5, "new back"), 0);
	ck_assert_uint_eq(A.e.epoch, 2);
}
END_TEST

START_TEST(test_rekey_packets_and_limit)
{
	uint8_t			buf[128];
	struct packet_hdr	h;
	int			i;

	A.e.par.rekey_packets = 5;
	handshake(&A, &B, 100);
	for (i = 0; i < 3; i++)
		seal(&A, buf, sizeof(buf), "p");
	ck_assert_int_eq(e2e_tick(&A.e, 100), 0);
	seal(&A, buf, sizeof(buf), "p");	/* tx_seq is now 5 */
	ck_assert_int_eq(e2e_tick(&A.e, 100), E2E_TICK_REKEY);
	/* never past the hard limit, whatever the config */
	A.e.cur.tx_seq = E2E_SEQ_LIMIT;
	memset(&h, 0, sizeof(h));
	h.type = PACKET_DATA;
	ck_assert_int_eq(e2e_encrypt(&A.e, buf, sizeof(buf), &h, NULL, 0), -1);
	ck_assert(!e2e_ready(&A.e));
	handshake(&A, &B, 100);
	ck_assert(e2e_ready(&A.e));
	ck_assert_uint_eq(A.e.cur.tx_seq, 1);
}
END_TEST

START_TEST(test_forged_handshake)
{
	uint8_t	init[E2E_MSG_LEN], resp[E2E_MSG_LEN], bad[E2E_MSG_LEN], t;
	struct side M;

	/* tampered INIT: ephemeral key swapped */
	ck_assert_int_eq(e2e_start(&A.e, 100, init), E2E_MSG_LEN);
	memcpy(bad, init, sizeof(bad));
	bad[5] ^= 1;
	ck_assert_int_eq(e2e_input(&B.e, PACKET_E2E_INIT, bad, sizeof(bad),
	    100, 1, resp, &t), E2E_ERR_SIG);
	/* key id changed */
	memcpy(bad, init, sizeof(bad));
	bad[0] ^= 0x20;
	ck_assert_int_eq(e2e_input(&B.e, PACKET_E2E_INIT, bad, sizeof(bad),
	    100, 1, resp, &t), E2E_ERR_SIG);
	/* truncated */
	ck_assert_int_eq(e2e_input(&B.e, PACKET_E2E_INIT, init,
	    sizeof(init) - 1, 100, 1, resp, &t), PACKET_ERR_PAYLOAD);
	/* M (holds the mesh secret, has its own node key) claims to be A */
	mkside(&M, 9);
	memcpy(M.id, A.id, sizeof(M.id));
	ck_assert_int_eq(e2e_peer_init(&M.e, &par, M.id, M.pk, M.sk, B.id,
	    B.pk), 0);
	ck_assert_int_eq(e2e_start(&M.e, 100, bad), E2E_MSG_LEN);
	ck_assert_int_eq(e2e_input(&B.e, PACKET_E2E_INIT, bad, sizeof(bad),
	    100, 1, resp, &t), E2E_ERR_SIG);
	ck_assert(!e2e_ready(&B.e));
	/* a responder that does not know the key and may not learn it */
	{
		struct e2e_peer	u;

		ck_assert_int_eq(e2e_peer_init(&u, &par, B.id, B.pk, B.sk,
		    A.id, NULL), 0);
		ck_assert_int_eq(e2e_input(&u, PACKET_E2E_INIT, init,
		    sizeof(init), 100, 0, resp, &t), E2E_ERR_NOPK);
		/* allowed to learn: it does, from a correctly signed INIT */
		ck_assert_int_eq(e2e_input(&u, PACKET_E2E_INIT, init,
		    sizeof(init), 100, 1, resp, &t),
		    E2E_OUT_REPLY | E2E_OUT_NEWKEY);
		ck_assert(u.learned_pk);
		ck_assert(memcmp(u.peer_pk, A.pk, E2E_PK_LEN) == 0);
		e2e_peer_wipe(&u);
	}
	/* the real INIT is answered */
	ck_assert_int_eq(e2e_input(&B.e, PACKET_E2E_INIT, init, sizeof(init),
	    100, 1, resp, &t), E2E_OUT_REPLY | E2E_OUT_NEWKEY);
	/* a RESP signed by someone else: refused, A still waits */
	{
		uint8_t m[64], sig[E2E_SIG_LEN];

		memcpy(bad, resp, sizeof(bad));
		memcpy(m, "atm-e2e-resp-v1", 15);
		memcpy(m + 15, B.id, 8);
		memcpy(m + 23, A.id, 8);
		m[31] = bad[0];
		memcpy(m + 32, bad + 2, 32);
		/* 15 + 8 + 8 + 1 + 32 + 32 + 8 = 104 bytes: the real shape */
		{
			uint8_t mm[104];

			memcpy(mm, m, 64);
			memcpy(mm + 64, bad + 34, 32);
			memcpy(mm + 96, bad + 66, 8);
			crypto_sign_detached(sig, NULL, mm, sizeof(mm), M.sk);
		}
		memcpy(bad + 74, sig, sizeof(sig));
		ck_assert_int_eq(e2e_input(&A.e, PACKET_E2E_RESP, bad,
		    sizeof(bad), 100, 0, NULL, &t), E2E_ERR_SIG);
		ck_assert(A.e.pending);
	}
	/* the real RESP completes it; a replay of it is stale */
	ck_assert_int_eq(e2e_input(&A.e, PACKET_E2E_RESP, resp, sizeof(resp),
	    100, 0, NULL, &t), E2E_OUT_NEWKEY);
	ck_assert_int_eq(e2e_input(&A.e, PACKET_E2E_RESP, resp, sizeof(resp),
	    100, 0, NULL, &t), E2E_ERR_STATE);
	ck_assert_uint_eq(A.e.epoch, 1);
	ck_assert(memcmp(A.e.cur.tx, B.e.cur.rx, PACKET_KEY_LEN) == 0);
	/* the INIT's timestamp is signed */
	memcpy(bad, init, sizeof(bad));
	bad[73] ^= 1;
	ck_assert_int_eq(e2e_input(&B.e, PACKET_E2E_INIT, bad, sizeof(bad),
	    100, 1, resp, &t), E2E_ERR_SIG);
	e2e_peer_wipe(&M.e);
}
END_TEST

/*
 * Someone holding the mesh key wraps an old, genuinely signed INIT in a
 * fresh mesh-key packet: the responder must not switch to keys nobody else
 * has.
 */
START_TEST(test_old_init_replayed)
{
	uint8_t	i1[E2E_MSG_LEN], i2[E2E_MSG_LEN], r[E2E_MSG_LEN], t;
	uint8_t	tx[PACKET_KEY_LEN], p[128];
	size_t	n;

	ck_assert_int_eq(e2e_start(&A.e, 100, i1), E2E_MSG_LEN);
	ck_assert_int_gt(e2e_input(&B.e, PACKET_E2E_INIT, i1, sizeof(i1), 100,
	    0, r, &t), 0);
	ck_assert_int_gt(e2e_input(&A.e, PACKET_E2E_RESP, r, sizeof(r), 100,
	    0, NULL, &t), 0);
	ck_assert_int_eq(e2e_start(&A.e, 110, i2), E2E_MSG_LEN);
	ck_assert_int_gt(e2e_input(&B.e, PACKET_E2E_INIT, i2, sizeof(i2), 110,
	    0, r, &t), 0);
	ck_assert_int_gt(e2e_input(&A.e, PACKET_E2E_RESP, r, sizeof(r), 110,
	    0, NULL, &t), 0);
	memcpy(tx, B.e.cur.tx, sizeof(tx));
	ck_assert_int_eq(e2e_input(&B.e, PACKET_E2E_INIT, i1, sizeof(i1), 111,
	    0, r, &t), E2E_ERR_STATE);
	ck_assert(memcmp(tx, B.e.cur.tx, sizeof(tx)) == 0);
	ck_assert_uint_eq(B.e.epoch, 2);
	n = seal(&B, p, sizeof(p), "still fine");
	ck_assert_int_eq(open_copy(&A, p, n, 111, "still fine"), 0);
	/* the current INIT again is a resend: the same RESP, same keys */
	ck_assert_int_eq(e2e_input(&B.e, PACKET_E2E_INIT, i2, sizeof(i2), 111,
	    0, r, &t), E2E_OUT_REPLY);
	ck_assert(memcmp(tx, B.e.cur.tx, sizeof(tx)) == 0);
}
END_TEST

START_TEST(test_resend_and_crossing)
{
	uint8_t	ia[E2E_MSG_LEN], ib[E2E_MSG_LEN], ia2[E2E_MSG_LEN];
	uint8_t	r1[E2E_MSG_LEN], r2[E2E_MSG_LEN], t;
	int	r;

	/* both start at once; A has the smaller id and wins */
	ck_assert_int_lt(memcmp(A.id, B.id, PACKET_NODEID_LEN), 0);
	ck_assert_int_eq(e2e_start(&A.e, 100, ia), E2E_MSG_LEN);
	ck_assert_int_eq(e2e_start(&B.e, 100, ib), E2E_MSG_LEN);
	ck_assert_int_eq(e2e_input(&A.e, PACKET_E2E_INIT, ib, sizeof(ib), 100,
	    0, r1, &t), 0);			/* ignored */
	ck_assert(A.e.pending);
	r = e2e_input(&B.e, PACKET_E2E_INIT, ia, sizeof(ia), 100, 0, r1, &t);
	ck_assert_int_eq(r, E2E_OUT_REPLY | E2E_OUT_NEWKEY);
	ck_assert(!B.e.pending);
	ck_assert(all_zero(B.e.eph_sk, sizeof(B.e.eph_sk)));
	/* RESP lost: A resends the same INIT, B answers the same RESP
	 * without a new key */
	ck_assert_int_eq(e2e_tick(&A.e, 100.5), 0);
	ck_assert_int_eq(e2e_tick(&A.e, 101), E2E_TICK_RETX);
	ck_assert_int_eq(e2e_start(&A.e, 101, ia2), E2E_MSG_LEN);
	ck_assert(memcmp(ia, ia2, sizeof(ia)) == 0);
	ck_assert_int_eq(e2e_input(&B.e, PACKET_E2E_INIT, ia2, sizeof(ia2),
	    101, 0, r2, &t), E2E_OUT_REPLY);
	ck_assert(memcmp(r1, r2, sizeof(r1)) == 0);
	ck_assert_uint_eq(B.e.epoch, 1);
	ck_assert_int_eq(e2e_input(&A.e, PACKET_E2E_RESP, r2, sizeof(r2), 101,
	    0, NULL, &t), E2E_OUT_NEWKEY);
	ck_assert(memcmp(A.e.cur.tx, B.e.cur.rx, PACKET_KEY_LEN) == 0);
	ck_assert(memcmp(A.e.cur.rx, B.e.cur.tx, PACKET_KEY_LEN) == 0);
	/* gives up after max_tries, wiping the ephemeral secret */
	ck_assert_int_eq(e2e_start(&A.e, 200, ia), E2E_MSG_LEN);
	for (r = 1; r < par.max_tries; r++)
		ck_assert_int_eq(e2e_start(&A.e, 200 + r, ia2), E2E_MSG_LEN);
	ck_assert_int_eq(e2e_tick(&A.e, 200 + r + 1), 0);
	ck_assert(!A.e.pending);
	ck_assert(all_zero(A.e.eph_sk, sizeof(A.e.eph_sk)));
}
END_TEST

static void
teardown(void)
{
	e2e_peer_wipe(&A.e);
	e2e_peer_wipe(&B.e);
	e2e_peer_wipe(&C.e);
}

Suite *
e2e_suite(void)
{
	Suite	*s = suite_create("e2e");
	TCase	*tc = tcase_create("e2e");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_handshake_keys);
	tcase_add_test(tc, test_roundtrip_and_rejects);
	tcase_add_test(tc, test_reorder_window);
	tcase_add_test(tc, test_cross_session);
	tcase_add_test(tc, test_relay_capture);
	tcase_add_test(tc, test_rekey_grace);
	tcase_add_test(tc, test_rekey_packets_and_limit);
	tcase_add_test(tc, test_forged_handshake);
	tcase_add_test(tc, test_old_init_replayed);
	tcase_add_test(tc, test_resend_and_crossing);
	suite_add_tcase(s, tc);
	return s;
}
