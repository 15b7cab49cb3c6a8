/*
 * The fixed world of fuzz/fuzz_e2e.c, shared with fuzz/gen_corpus.c so the
 * seeds hold handshake messages and session packets the harness's peers
 * really accept (the fuzzer cannot forge an Ed25519 signature or a Poly1305
 * tag, so without them it would never get past the checks).
 *
 * Two nodes, A (the smaller id) and B, with Ed25519 keys from fixed seeds,
 * and libsodium's random source replaced by a counter-based generator
 * (reset per input), so ephemeral keys, and with them every message and
 * packet below, are the same in every run and in both programs.
 *
 *   t=100  A: INIT0                 B: answers RESP0 (next = key 1)
 *          A: RESP0 -> key 1        A: PKT_A1 (DATA under key 1, confirms)
 *          B: key 1 in use          B: PKT_B1 (DATA under key 1)
 *   t=110  A: INIT1 (rekey)         B: answers RESP1 (next = key 3)
 *          B: PKT_B1R (DATA, still under key 1: not confirmed yet)
 *          A: RESP1 -> key 3        A: PKT_A3 (DATA under key 3)
 *   and B's own INIT_B (t=100, B fresh), answered by a fresh A: RESP_B.
 *
 * Snapshots of both peers at each step are kept (struct fx) so a harness
 * input starts from any of them without redoing the crypto.
 */
#ifndef FUZZ_E2E_FIXTURE_H
#define FUZZ_E2E_FIXTURE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "proto/e2e.h"
#include "proto/packet.h"

#define FX_T0		100.0
#define FX_T1		110.0
#define FX_PKT_MAX	192	/* a handshake message (138) or a short packet */

static uint64_t fx_rng_state;

static uint64_t
fx_rng_next(void)
{
	uint64_t z = (fx_rng_state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static const char *
fx_rng_name(void)
{
	return "fuzz-fixed";
}

static uint32_t
fx_rng_random(void)
{
	return (uint32_t)fx_rng_next();
}

static void
fx_rng_buf(void * const buf, const size_t size)
{
	uint8_t		*p = buf;
	uint64_t	 v = 0;
	size_t		 i;

	for (i = 0; i < size; i++) {
		if (i % 8 == 0)
			v = fx_rng_next();
		p[i] = (uint8_t)(v >> (8 * (i % 8)));
	}
}

static randombytes_implementation fx_rng = {
	fx_rng_name, fx_rng_random, NULL, NULL, fx_rng_buf, NULL
};

static void
fx_rng_reset(uint64_t seed)
{
	fx_rng_state = seed;
}

/* before sodium_init (libsodium's documented order) */
static void
fx_rng_install(void)
{
	randombytes_set_implementation(&fx_rng);
	fx_rng_reset(0);
}

struct fx_node {
	uint8_t		id[PACKET_NODEID_LEN];
	uint8_t		pk[E2E_PK_LEN];
	uint8_t		sk[E2E_SK_LEN];
};

struct fx_pkt {
	uint8_t		b[FX_PKT_MAX];
	size_t		len;
};

struct fx {
	struct e2e_params	par;
	struct fx_node		a, b;
	/* snapshots (see the timeline above) */
	struct e2e_peer		a_fresh, b_fresh, b_nopk;
	struct e2e_peer		a_pend0, b_resp0, a_key1, b_key1;
	struct e2e_peer		a_pend1, b_resp1, a_key3;
	struct e2e_peer		b_pend, a_resp_b;	/* B initiating */
	uint8_t			init0[E2E_MSG_LEN], resp0[E2E_MSG_LEN];
	uint8_t			init1[E2E_MSG_LEN], resp1[E2E_MSG_LEN];
	uint8_t			init_b[E2E_MSG_LEN], resp_b[E2E_MSG_LEN];
	struct fx_pkt		pkt_a1, pkt_b1, pkt_b1r, pkt_a3;
};

static void
fx_node(struct fx_node *n, uint8_t first, uint8_t seedbyte)
{
	uint8_t	seed[crypto_sign_SEEDBYTES];

	memset(n->id, 0x40 + first, sizeof(n->id));
	n->id[0] = first;
	memset(seed, seedbyte, sizeof(seed));
	crypto_sign_seed_keypair(n->pk, n->sk, seed);
}

static size_t
fx_seal(struct e2e_peer *e, const struct fx_node *from, uint8_t type,
    const char *msg, uint8_t *buf, size_t cap)
{
	struct packet_hdr	h;
	ssize_t			n;

	memset(&h, 0, sizeof(h));
	h.type = type;
	memcpy(h.sender, from->id, PACKET_NODEID_LEN);
	n = e2e_encrypt(e, buf, cap, &h, (const uint8_t *)msg, strlen(msg));
	if (n < 0)
		abort();
	return (size_t)n;
}

static int
fx_open(struct e2e_peer *e, const struct fx_pkt *p, double now)
{
	uint8_t			 buf[FX_PKT_MAX];
	struct packet_hdr	 h;
	const uint8_t		*pl;
	size_t			 plen;

	memcpy(buf, p->b, p->len);
	return e2e_decrypt(e, buf, p->len, now, &h, &pl, &plen);
}

/* the timeline above; aborts if the protocol does not run as drawn */
static void
fx_build(struct fx *f)
{
	uint8_t	out[E2E_MSG_LEN], t;

	memset(f, 0, sizeof(*f));
	fx_rng_reset(0);
	e2e_params_default(&f->par);
	f->par.rekey_interval = 10;
	f->par.grace = 2;
	f->par.retx = 1;
	f->par.max_tries = 3;
	fx_node(&f->a, 0x01, 0xa1);
	fx_node(&f->b, 0x02, 0xb2);
	if (e2e_peer_init(&f->a_fresh, &f->par, f->a.id, f->a.pk, f->a.sk,
	    f->b.id, f->b.pk) != 0 ||
	    e2e_peer_init(&f->b_fresh, &f->par, f->b.id, f->b.pk, f->b.sk,
	    f->a.id, f->a.pk) != 0 ||
	    e2e_peer_init(&f->b_nopk, &f->par, f->b.id, f->b.pk, f->b.sk,
	    f->a.id, NULL) != 0)
		abort();

	f->a_pend0 = f->a_fresh;
	if (e2e_start(&f->a_pend0, FX_T0, f->init0) != E2E_MSG_LEN)
		abort();
	f->b_resp0 = f->b_fresh;
	if (e2e_input(&f->b_resp0, PACKET_E2E_INIT, f->init0, E2E_MSG_LEN,
	    FX_T0, 0, f->resp0, &t) != E2E_OUT_REPLY)
		abort();
	f->a_key1 = f->a_pend0;
	if (e2e_input(&f->a_key1, PACKET_E2E_RESP, f->resp0, E2E_MSG_LEN,
	    FX_T0, 0, out, &t) != (E2E_OUT_NEWKEY | E2E_OUT_CONFIRM))
		abort();
	f->pkt_a1.len = fx_seal(&f->a_key1, &f->a, PACKET_DATA, "a1",
	    f->pkt_a1.b, sizeof(f->pkt_a1.b));
	f->b_key1 = f->b_resp0;
	if (fx_open(&f->b_key1, &f->pkt_a1, FX_T0) != 0 ||
	    !e2e_ready(&f->b_key1))
		abort();
	f->pkt_b1.len = fx_seal(&f->b_key1, &f->b, PACKET_DATA, "b1",
	    f->pkt_b1.b, sizeof(f->pkt_b1.b));
	{
		struct e2e_peer a = f->a_key1;

		if (fx_open(&a, &f->pkt_b1, FX_T0) != 0 || a.confirm)
			abort();
		f->a_key1 = a;
	}

	f->a_pend1 = f->a_key1;
	if (e2e_start(&f->a_pend1, FX_T1, f->init1) != E2E_MSG_LEN)
		abort();
	f->b_resp1 = f->b_key1;
	if (e2e_input(&f->b_resp1, PACKET_E2E_INIT, f->init1, E2E_MSG_LEN,
	    FX_T1, 0, f->resp1, &t) != E2E_OUT_REPLY)
		abort();
	f->pkt_b1r.len = fx_seal(&f->b_resp1, &f->b, PACKET_DATA, "b1r",
	    f->pkt_b1r.b, sizeof(f->pkt_b1r.b));
	if (f->pkt_b1r.b[3] != 1)
		abort();
	f->a_key3 = f->a_pend1;
	if (e2e_input(&f->a_key3, PACKET_E2E_RESP, f->resp1, E2E_MSG_LEN,
	    FX_T1, 0, out, &t) != (E2E_OUT_NEWKEY | E2E_OUT_CONFIRM))
		abort();
	f->pkt_a3.len = fx_seal(&f->a_key3, &f->a, PACKET_DATA, "a3",
	    f->pkt_a3.b, sizeof(f->pkt_a3.b));

	f->b_pend = f->b_fresh;
	if (e2e_start(&f->b_pend, FX_T0, f->init_b) != E2E_MSG_LEN)
		abort();
	f->a_resp_b = f->a_fresh;
	if (e2e_input(&f->a_resp_b, PACKET_E2E_INIT, f->init_b, E2E_MSG_LEN,
	    FX_T0, 0, f->resp_b, &t) != E2E_OUT_REPLY)
		abort();
}

#endif
