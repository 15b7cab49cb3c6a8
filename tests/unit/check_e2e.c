/*
 * proto/e2e.c: the end-to-end session handshake and key schedule, two sides
 * in memory. Handshake keys agree and differ per direction; ephemeral
 * secrets are wiped; tampered, replayed, truncated, cross-session and
 * forged-handshake packets are refused; reordering within the window is
 * accepted once; a captured packet does not open with the mesh key nor
 * with anything public; rekeying keeps the previous key for the grace
 * period only, then wipes it; packet-count and timer rekeys; crossing
 * INITs resolve to one session; an old INIT replayed under the mesh key
 * does not change the keys. Key confirmation: a lost RESP (first session
 * and rekey) costs no packet of the responder's, which switches only once
 * the initiator has used the new key; confirmations are resent and given
 * up; no rekey starts while one is outstanding; a crossing INIT delivered
 * late does not disturb the session that won.
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

static size_t seal(struct side *, uint8_t *, size_t, const char *);
static int open_copy(struct side *, const uint8_t *, size_t, double,
    const char *);

/* i starts, r answers, i completes (the keys of both directions agree) */
static void
exchange(struct side *i, struct side *r, double now)
{
	uint8_t	init[E2E_MSG_LEN], resp[E2E_MSG_LEN], t = 0;

	ck_assert_int_eq(e2e_start(&i->e, now, init), E2E_MSG_LEN);
	ck_assert_int_eq(e2e_input(&r->e, PACKET_E2E_INIT, init, sizeof(init),
	    now, 0, resp, &t), E2E_OUT_REPLY);
	ck_assert_int_eq(t, PACKET_E2E_RESP);
	ck_assert(r->e.next.valid);
	ck_assert_int_eq(e2e_input(&i->e, PACKET_E2E_RESP, resp, sizeof(resp),
	    now, 0, NULL, &t), E2E_OUT_NEWKEY | E2E_OUT_CONFIRM);
	ck_assert(i->e.confirm);
	ck_assert_uint_eq(i->e.cur.id, r->e.next.id);
	ck_assert(memcmp(i->e.cur.tx, r->e.next.rx, PACKET_KEY_LEN) == 0);
	ck_assert(memcmp(i->e.cur.rx, r->e.next.tx, PACKET_KEY_LEN) == 0);
}

/* What punchd's PING and PONG after the RESP do: r switches on i's
 * packet under the new key, i stops waiting on r's answer under it. */
static void
confirm(struct side *i, struct side *r, double now)
{
	uint8_t		p[128];
	size_t		n;
	uint64_t	ep = r->e.epoch;
	uint8_t		id = i->e.cur.id;

	n = seal(i, p, sizeof(p), "ping");
	ck_assert_int_eq(open_copy(r, p, n, now, "ping"), 0);
	ck_assert_uint_eq(r->e.epoch, ep + 1);
	ck_assert(!r->e.next.valid);
	ck_assert_uint_eq(r->e.cur.id, id);
	n = seal(r, p, sizeof(p), "pong");
	ck_assert_int_eq(open_copy(i, p, n, now, "pong"), 0);
	ck_assert(!i->e.confirm);
	ck_assert(!e2e_busy(&i->e) && !e2e_busy(&r->e));
}

static void
handshake(struct side *i, struct side *r, double now)
{
	exchange(i, r, now);
	confirm(i, r, now);
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
	bad[18] ^= 1;			/* sequence number (+256: unseen) */
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
	handshake(&A, &B, 100);			/* sends one (tx_seq 2) */
	for (i = 0; i < 2; i++)
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
	exchange(&A, &B, 100);
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
		    sizeof(init), 100, 1, resp, &t), E2E_OUT_REPLY);
		ck_assert(u.learned_pk);
		ck_assert(memcmp(u.peer_pk, A.pk, E2E_PK_LEN) == 0);
		e2e_peer_wipe(&u);
	}
	/* the real INIT is answered */
	ck_assert_int_eq(e2e_input(&B.e, PACKET_E2E_INIT, init, sizeof(init),
	    100, 1, resp, &t), E2E_OUT_REPLY);
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
	    100, 0, NULL, &t), E2E_OUT_NEWKEY | E2E_OUT_CONFIRM);
	ck_assert_int_eq(e2e_input(&A.e, PACKET_E2E_RESP, resp, sizeof(resp),
	    100, 0, NULL, &t), E2E_ERR_STATE);
	ck_assert_uint_eq(A.e.epoch, 1);
	ck_assert(memcmp(A.e.cur.tx, B.e.next.rx, PACKET_KEY_LEN) == 0);
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
	/* no second handshake while the first is not confirmed */
	ck_assert_int_eq(e2e_start(&A.e, 101, i2), E2E_ERR_STATE);
	confirm(&A, &B, 100);
	ck_assert_int_eq(e2e_start(&A.e, 110, i2), E2E_MSG_LEN);
	ck_assert_int_gt(e2e_input(&B.e, PACKET_E2E_INIT, i2, sizeof(i2), 110,
	    0, r, &t), 0);
	ck_assert_int_gt(e2e_input(&A.e, PACKET_E2E_RESP, r, sizeof(r), 110,
	    0, NULL, &t), 0);
	confirm(&A, &B, 110);
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
	ck_assert_int_eq(r, E2E_OUT_REPLY);
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
	ck_assert_uint_eq(B.e.epoch, 0);	/* not in use before A's packet */
	ck_assert_int_eq(e2e_input(&A.e, PACKET_E2E_RESP, r2, sizeof(r2), 101,
	    0, NULL, &t), E2E_OUT_NEWKEY | E2E_OUT_CONFIRM);
	ck_assert(memcmp(A.e.cur.tx, B.e.next.rx, PACKET_KEY_LEN) == 0);
	ck_assert(memcmp(A.e.cur.rx, B.e.next.tx, PACKET_KEY_LEN) == 0);
	confirm(&A, &B, 101);
	ck_assert_uint_eq(B.e.epoch, 1);
	/* gives up after max_tries, wiping the ephemeral secret */
	ck_assert_int_eq(e2e_start(&A.e, 200, ia), E2E_MSG_LEN);
	for (r = 1; r < par.max_tries; r++)
		ck_assert_int_eq(e2e_start(&A.e, 200 + r, ia2), E2E_MSG_LEN);
	ck_assert_int_eq(e2e_tick(&A.e, 200 + r + 1), 0);
	ck_assert(!A.e.pending);
	ck_assert(all_zero(A.e.eph_sk, sizeof(A.e.eph_sk)));
}
END_TEST

/*
 * The gap key confirmation closes: B answers A's rekey INIT, the RESP is
 * lost. B keeps sending under the key A has; A resends the INIT, gets the
 * RESP, switches; its confirmation is lost too, for longer than the grace
 * period; the resent one arrives and B switches. Every packet B sent along
 * the way opens at A, and B's first packet under the new key is sent
 * after the confirmation.
 */
START_TEST(test_lost_resp_rekey)
{
	uint8_t	init[E2E_MSG_LEN], init2[E2E_MSG_LEN], resp[E2E_MSG_LEN];
	uint8_t	resp2[E2E_MSG_LEN], t, pk[8][128], c[128];
	size_t	n[8], cn;
	uint8_t	old_id, new_id;
	int	i, nb = 0;

	handshake(&A, &B, 100);
	old_id = A.e.cur.id;
	ck_assert_int_eq(e2e_tick(&A.e, 110), E2E_TICK_REKEY);
	ck_assert_int_eq(e2e_start(&A.e, 110, init), E2E_MSG_LEN);
	ck_assert_int_eq(e2e_input(&B.e, PACKET_E2E_INIT, init, sizeof(init),
	    110, 0, resp, &t), E2E_OUT_REPLY);	/* resp: lost */
	new_id = B.e.next.id;
	ck_assert_uint_ne(new_id, old_id);
	/* B: the new key opens packets, the old one is still what it sends
	 * with, and it starts nothing of its own meanwhile */
	ck_assert(e2e_ready(&B.e) && e2e_busy(&B.e));
	ck_assert_uint_eq(B.e.cur.id, old_id);
	ck_assert_int_eq(e2e_tick(&B.e, 110.5) & E2E_TICK_REKEY, 0);
	n[nb] = seal(&B, pk[nb], sizeof(pk[nb]), "b0");
	nb++;
	ck_assert_uint_eq(pk[0][3], old_id);	/* the header's key id */
	/* A resends the same INIT, B answers the same RESP, no new key */
	ck_assert_int_eq(e2e_tick(&A.e, 111), E2E_TICK_RETX);
	ck_assert_int_eq(e2e_start(&A.e, 111, init2), E2E_MSG_LEN);
	ck_assert(memcmp(init, init2, sizeof(init)) == 0);
	ck_assert_int_eq(e2e_input(&B.e, PACKET_E2E_INIT, init2,
	    sizeof(init2), 111, 0, resp2, &t), E2E_OUT_REPLY);
	ck_assert(memcmp(resp, resp2, sizeof(resp)) == 0);
	ck_assert_uint_eq(B.e.next.id, new_id);
	n[nb] = seal(&B, pk[nb], sizeof(pk[nb]), "b1");
	nb++;
	ck_assert_int_eq(e2e_input(&A.e, PACKET_E2E_RESP, resp2, sizeof(resp2),
	    111.2, 0, NULL, &t), E2E_OUT_NEWKEY | E2E_OUT_CONFIRM);
	ck_assert_uint_eq(A.e.cur.id, new_id);
	/* A's confirmation (a PING under the new key): lost */
	cn = seal(&A, c, sizeof(c), "confirm");
	(void)cn;
	n[nb] = seal(&B, pk[nb], sizeof(pk[nb]), "b2");
	nb++;
	/* A resends it every retx; the previous key stays open past its
	 * grace period (111.2 + 2) while B may still use it */
	ck_assert_int_eq(e2e_tick(&A.e, 111.5), 0);
	ck_assert_int_eq(e2e_tick(&A.e, 112.2), E2E_TICK_CONFIRM);
	seal(&A, c, sizeof(c), "confirm again");	/* lost too */
	ck_assert_int_eq(e2e_tick(&A.e, 113.2), E2E_TICK_CONFIRM);
	ck_assert_int_eq(e2e_tick(&A.e, 113.5), 0);
	ck_assert(A.e.prev.valid && A.e.prev.id == old_id);
	n[nb] = seal(&B, pk[nb], sizeof(pk[nb]), "b3");
	nb++;
	for (i = 0; i < nb; i++) {
		char want[4] = { 'b', (char)('0' + i), 0, 0 };

		ck_assert_uint_eq(pk[i][3], old_id);
		ck_assert_int_eq(open_copy(&A, pk[i], n[i], 113.7, want), 0);
	}
	/* the third one arrives: B switches, its next packet is under the
	 * new key and A's wait ends */
	cn = seal(&A, c, sizeof(c), "confirm");
	n[nb] = seal(&B, pk[nb], sizeof(pk[nb]), "b4");	/* in flight */
	nb++;
	ck_assert_int_eq(open_copy(&B, c, cn, 113.8, "confirm"), 0);
	ck_assert(!B.e.next.valid);
	ck_assert_uint_eq(B.e.cur.id, new_id);
	ck_assert_uint_eq(B.e.prev.id, old_id);
	ck_assert_uint_eq(B.e.epoch, 2);
	n[nb] = seal(&B, pk[nb], sizeof(pk[nb]), "b5");
	ck_assert_uint_eq(pk[nb][3], new_id);
	nb++;
	ck_assert_int_eq(open_copy(&A, pk[5], n[5], 113.9, "b5"), 0);
	ck_assert(!A.e.confirm);
	/* B's last packet under the old key was in flight: the grace period
	 * now runs from the switch */
	ck_assert_int_eq(open_copy(&A, pk[4], n[4], 115.5, "b4"), 0);
	ck_assert_int_eq(e2e_tick(&A.e, 116), 0);
	ck_assert(!A.e.prev.valid);
	ck_assert_uint_eq(A.e.handshakes_failed, 0);
	ck_assert_uint_eq(A.e.rx_nokey, 0);
	ck_assert_uint_eq(A.e.rx_auth, 0);
}
END_TEST

/*
 * The first session: the responder has no key to keep sending with, so it
 * sends nothing under a session key (punchd queues DATA, as the initiator
 * does while it waits) until the initiator's packet confirms the key.
 */
START_TEST(test_lost_resp_first)
{
	uint8_t			init[E2E_MSG_LEN], resp[E2E_MSG_LEN], t;
	uint8_t			p[128];
	struct packet_hdr	h;
	size_t			n;

	ck_assert_int_eq(e2e_start(&A.e, 100, init), E2E_MSG_LEN);
	ck_assert_int_eq(e2e_input(&B.e, PACKET_E2E_INIT, init, sizeof(init),
	    100, 0, resp, &t), E2E_OUT_REPLY);	/* lost */
	ck_assert(!e2e_ready(&B.e));
	ck_assert(e2e_busy(&B.e));
	memset(&h, 0, sizeof(h));
	h.type = PACKET_DATA;
	ck_assert_int_eq(e2e_encrypt(&B.e, p, sizeof(p), &h, NULL, 0), -1);
	/* B neither rekeys nor starts its own handshake meanwhile */
	ck_assert_int_eq(e2e_tick(&B.e, 100.5), 0);
	ck_assert_int_eq(e2e_start(&B.e, 100.5, init), E2E_ERR_STATE);
	ck_assert_int_eq(e2e_tick(&A.e, 101), E2E_TICK_RETX);
	ck_assert_int_eq(e2e_start(&A.e, 101, init), E2E_MSG_LEN);
	ck_assert_int_eq(e2e_input(&B.e, PACKET_E2E_INIT, init, sizeof(init),
	    101, 0, resp, &t), E2E_OUT_REPLY);
	ck_assert_int_eq(e2e_input(&A.e, PACKET_E2E_RESP, resp, sizeof(resp),
	    101, 0, NULL, &t), E2E_OUT_NEWKEY | E2E_OUT_CONFIRM);
	ck_assert(e2e_ready(&A.e));
	ck_assert(!e2e_ready(&B.e));
	ck_assert_uint_eq(B.e.epoch, 0);
	/* a packet under a key B does not have does not confirm anything */
	n = seal(&A, p, sizeof(p), "confirm");
	p[3] ^= 0x80;
	ck_assert_int_eq(open_copy(&B, p, n, 101, NULL), E2E_ERR_NOKEY);
	p[3] ^= 0x80;
	p[n - 1] ^= 1;				/* forged: refused */
	ck_assert_int_eq(open_copy(&B, p, n, 101, NULL), PACKET_ERR_AUTH);
	ck_assert(!e2e_ready(&B.e));
	p[n - 1] ^= 1;
	ck_assert_int_eq(open_copy(&B, p, n, 101, "confirm"), 0);
	ck_assert(e2e_ready(&B.e));
	ck_assert_uint_eq(B.e.epoch, 1);
	ck_assert(!B.e.prev.valid);
	n = seal(&B, p, sizeof(p), "pong");
	ck_assert_int_eq(open_copy(&A, p, n, 101, "pong"), 0);
	ck_assert(!e2e_busy(&A.e) && !e2e_busy(&B.e));
}
END_TEST

/*
 * Confirmations that never arrive: resent max_tries times, then given up
 * (counted), and the previous key then goes with its grace period. The
 * responder gives its next key up once the initiator could not have
 * confirmed it any more, and may then start a handshake itself.
 */
START_TEST(test_confirm_give_up)
{
	uint8_t	init[E2E_MSG_LEN];
	double	now = 110;
	int	k = 0;

	handshake(&A, &B, 100);
	exchange(&A, &B, 110);
	/* no rekey while waiting, even with a key past its lifetime */
	ck_assert_int_eq(e2e_start(&A.e, 110, init), E2E_ERR_STATE);
	while (A.e.confirm) {
		int r;

		now += par.retx;
		r = e2e_tick(&A.e, now);
		if (A.e.confirm)
			ck_assert_int_eq(r & E2E_TICK_REKEY, 0);
		else	/* given up: the key is past its lifetime */
			ck_assert_int_eq(r, E2E_TICK_REKEY);
		if (r & E2E_TICK_CONFIRM)
			k++;
		ck_assert_int_lt(k, par.max_tries);
	}
	ck_assert_int_eq(k, par.max_tries - 1);	/* + the one at the RESP */
	ck_assert_uint_eq(A.e.handshakes_failed, 1);
	ck_assert(A.e.prev.valid);		/* still in its grace period */
	e2e_tick(&A.e, now + par.grace);
	ck_assert(!A.e.prev.valid);
	/* B: the next key goes after (2 max_tries + 1) retx */
	ck_assert_int_eq(e2e_tick(&B.e, 110 + 2 * par.max_tries * par.retx),
	    0);
	ck_assert(B.e.next.valid);
	ck_assert_int_eq(e2e_tick(&B.e, 110 + (2 * par.max_tries + 1) *
	    par.retx), E2E_TICK_REKEY);
	ck_assert(!B.e.next.valid);
	ck_assert(all_zero(&B.e.next, sizeof(B.e.next)));
	ck_assert_uint_eq(B.e.handshakes_failed, 1);
	/* and a handshake of B's own puts both back on one key */
	exchange(&B, &A, 200);
	confirm(&B, &A, 200);
}
END_TEST

/*
 * A responder whose next key was never confirmed (the initiator gave up
 * on its INIT) takes the initiator's next INIT instead.
 */
START_TEST(test_next_replaced)
{
	uint8_t	i1[E2E_MSG_LEN], i2[E2E_MSG_LEN], r1[E2E_MSG_LEN], t;
	uint8_t	r2[E2E_MSG_LEN], rx[PACKET_KEY_LEN];
	int	k;

	ck_assert_int_eq(e2e_start(&A.e, 100, i1), E2E_MSG_LEN);
	ck_assert_int_eq(e2e_input(&B.e, PACKET_E2E_INIT, i1, sizeof(i1),
	    100, 0, r1, &t), E2E_OUT_REPLY);	/* every RESP lost */
	memcpy(rx, B.e.next.rx, sizeof(rx));
	for (k = 1; k < par.max_tries; k++)
		ck_assert_int_eq(e2e_start(&A.e, 100 + k, i2), E2E_MSG_LEN);
	ck_assert_int_eq(e2e_tick(&A.e, 100 + k + 1), 0);
	ck_assert(!A.e.pending);
	ck_assert_int_eq(e2e_tick(&A.e, 100 + k + 2), E2E_TICK_REKEY);
	ck_assert_int_eq(e2e_start(&A.e, 100 + k + 2, i2), E2E_MSG_LEN);
	ck_assert_uint_eq(i2[0], i1[0]);	/* same id, other key */
	ck_assert_int_eq(e2e_input(&B.e, PACKET_E2E_INIT, i2, sizeof(i2),
	    100 + k + 2, 0, r2, &t), E2E_OUT_REPLY);
	ck_assert(memcmp(rx, B.e.next.rx, sizeof(rx)) != 0);
	/* the first RESP arriving now is stale for A */
	ck_assert_int_eq(e2e_input(&A.e, PACKET_E2E_RESP, r1, sizeof(r1),
	    100 + k + 2, 0, NULL, &t), E2E_ERR_STATE);
	ck_assert_int_eq(e2e_input(&A.e, PACKET_E2E_RESP, r2, sizeof(r2),
	    100 + k + 2, 0, NULL, &t), E2E_OUT_NEWKEY | E2E_OUT_CONFIRM);
	confirm(&A, &B, 100 + k + 2);
}
END_TEST

/*
 * Crossing INITs: A (smaller id, odd key ids) wins; B (even ids) drops
 * its own. B's INIT delivered to A after A's handshake completed, as a
 * late copy or reordered behind the RESP, does not touch the session.
 */
START_TEST(test_crossing_late)
{
	uint8_t	ia[E2E_MSG_LEN], ib[E2E_MSG_LEN], ra[E2E_MSG_LEN];
	uint8_t	out[E2E_MSG_LEN], p[128], t;
	size_t	n;

	ck_assert_int_eq(e2e_start(&A.e, 100, ia), E2E_MSG_LEN);
	ck_assert_int_eq(e2e_start(&B.e, 100, ib), E2E_MSG_LEN);
	ck_assert_uint_eq(ia[0] & 1, 1);
	ck_assert_uint_eq(ib[0] & 1, 0);
	/* seen while pending: ignored, and a copy later is stale */
	ck_assert_int_eq(e2e_input(&A.e, PACKET_E2E_INIT, ib, sizeof(ib), 100,
	    0, out, &t), 0);
	ck_assert_int_eq(e2e_input(&B.e, PACKET_E2E_INIT, ia, sizeof(ia), 100,
	    0, ra, &t), E2E_OUT_REPLY);
	ck_assert_int_eq(e2e_input(&A.e, PACKET_E2E_RESP, ra, sizeof(ra), 100,
	    0, NULL, &t), E2E_OUT_NEWKEY | E2E_OUT_CONFIRM);
	ck_assert_int_eq(e2e_input(&A.e, PACKET_E2E_INIT, ib, sizeof(ib), 100,
	    0, out, &t), E2E_ERR_STATE);
	confirm(&A, &B, 100);
	/* the same again at the next rekey, but B's INIT reaches A only
	 * after the RESP: A answers it (B, no longer waiting, ignores the
	 * answer); A's session is not touched */
	ck_assert_int_eq(e2e_start(&A.e, 110, ia), E2E_MSG_LEN);
	ck_assert_int_eq(e2e_start(&B.e, 110, ib), E2E_MSG_LEN);
	ck_assert_uint_ne(ia[0], ib[0]);
	ck_assert_int_eq(e2e_input(&B.e, PACKET_E2E_INIT, ia, sizeof(ia), 110,
	    0, ra, &t), E2E_OUT_REPLY);
	ck_assert_int_eq(e2e_input(&A.e, PACKET_E2E_RESP, ra, sizeof(ra), 110,
	    0, NULL, &t), E2E_OUT_NEWKEY | E2E_OUT_CONFIRM);
	confirm(&A, &B, 110);
	ck_assert_int_eq(e2e_input(&A.e, PACKET_E2E_INIT, ib, sizeof(ib), 110,
	    0, out, &t), E2E_OUT_REPLY);
	ck_assert_uint_eq(A.e.next.id, ib[0]);
	ck_assert_uint_eq(A.e.cur.id, ia[0]);
	ck_assert_int_eq(e2e_input(&B.e, PACKET_E2E_RESP, out, sizeof(out),
	    110, 0, NULL, &t), E2E_ERR_STATE);
	n = seal(&A, p, sizeof(p), "a");
	ck_assert_int_eq(open_copy(&B, p, n, 110.1, "a"), 0);
	n = seal(&B, p, sizeof(p), "b");
	ck_assert_int_eq(open_copy(&A, p, n, 110.1, "b"), 0);
	/* B's next rekey (A is busy with the dead one) replaces it */
	ck_assert(e2e_busy(&A.e) && !e2e_busy(&B.e));
	ck_assert_int_eq(e2e_tick(&B.e, 120), E2E_TICK_REKEY);
	exchange(&B, &A, 120);
	confirm(&B, &A, 120);
	ck_assert_uint_eq(A.e.rx_nokey + B.e.rx_nokey, 0);
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
	tcase_add_test(tc, test_lost_resp_rekey);
	tcase_add_test(tc, test_lost_resp_first);
	tcase_add_test(tc, test_confirm_give_up);
	tcase_add_test(tc, test_next_replaced);
	tcase_add_test(tc, test_crossing_late);
	suite_add_tcase(s, tc);
	return s;
}
