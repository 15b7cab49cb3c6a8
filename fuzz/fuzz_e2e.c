/*
 * End-to-end session handshake and keys (proto/e2e.h), from the fixed
 * world of fuzz/e2e_fixture.h (deterministic: fixed node keys, libsodium's
 * random source replaced and reset per input). The first byte picks what
 * the rest is:
 *   0: state, time, an E2E_INIT payload for a responder (fresh, key
 *      unknown, already answered, mid-session, crossing its own INIT);
 *   1: state, time, an E2E_RESP payload for an initiator with an INIT
 *      outstanding (first session, rekey, B's);
 *   2: state, time, a session packet (header + ciphertext) for a peer with
 *      current, previous and/or next keys;
 *   3: a script: two peers (no key yet, the first RESP or a rekey's RESP
 *      in flight, a session), an in-memory network that can lose,
 *      repeat, reorder, corrupt and reflect, a clock, restarts; two bytes
 *      a step;
 *   4: an INIT or RESP whose fields come from the input but which the
 *      harness signs with the real node key (the signed message built from
 *      e2e.h's description, so this also checks the code against its
 *      documentation): what a peer holding its node key could send, past
 *      the signature check (low-order ephemeral keys, key ids, timestamps).
 * What must hold: nothing accepts a handshake message nobody made (the
 * fuzzer cannot forge a signature, so any accepted one is byte for byte a
 * genuine one but for the unsigned byte 1), nor a packet changed on its
 * way, nor one of a side's own; a RESP completed from an accepted INIT
 * gives both sides the same keys, and the initiator's first packet puts
 * them in use at the responder; no packet opens twice; a peer's own packet
 * reflected back does not open; and (scripts, until a restart or a
 * give-up) whenever a side can send under a key the other side holds that
 * key, so a lost or late message never makes a packet undecryptable, and
 * an intact packet never fails authentication (one key id, one key).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/e2e_fixture.h"

/* -DFUZZ_E2E_TRACE: a script's steps on stderr (replaying a finding) */
#ifdef FUZZ_E2E_TRACE
#define TRACE(...)	fprintf(stderr, __VA_ARGS__)
#else
#define TRACE(...)	do { } while (0)
#endif

static struct fx	F;

int	LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fx_rng_install();
	if (sodium_init() < 0)
		abort();
	fx_build(&F);
	return 0;
}

/* memcmp with zeros: an instrumented byte loop (or sodium_is_zero's
 * constant-time one) took a third to half of the run time */
static int
zero(const void *p, size_t n)
{
	static const uint8_t	z[sizeof(struct e2e_key)];

	if (n > sizeof(z))
		abort();
	return memcmp(p, z, n) == 0;
}

/* what must hold of one peer whatever happened */
static void
check_peer(const struct e2e_peer *e)
{
	const struct e2e_key	*k[3] = { &e->cur, &e->prev, &e->next };
	int			 i, j;

	for (i = 0; i < 3; i++) {
		if (!k[i]->valid) {
			if (!zero(k[i], sizeof(*k[i])))
				abort();	/* a retired key is wiped */
			continue;
		}
		if (k[i]->id == 0)
			abort();
		for (j = i + 1; j < 3; j++)
			if (k[j]->valid && k[j]->id == k[i]->id)
				abort();	/* one id, one key */
	}
	if (!e->pending && !zero(e->eph_sk, sizeof(e->eph_sk)))
		abort();		/* ephemeral secret kept */
	if (e->pending && (e->next.valid || e->confirm))
		abort();
}

/*
 * A genuine message, byte for byte, but for byte 1: it is not signed
 * (e2e.h: "zero (1)"), and receivers ignore it.
 */
static int
same_msg(const uint8_t *m, size_t n, const uint8_t *genuine)
{
	return n >= E2E_MSG_LEN && m[0] == genuine[0] &&
	    !memcmp(m + 2, genuine + 2, E2E_MSG_LEN - 2);
}

static int
keys_mirror(const struct e2e_key *x, const struct e2e_key *y)
{
	return x->valid && y->valid && x->id == y->id &&
	    !memcmp(x->tx, y->rx, PACKET_KEY_LEN) &&
	    !memcmp(x->rx, y->tx, PACKET_KEY_LEN);
}

/*
 * i's RESP-accepting twin completes; its first packet must open at r with
 * the new key and put it in use.
 */
static void
complete(struct e2e_peer *i, const struct fx_node *in, struct e2e_peer *r,
    const uint8_t *resp, double now)
{
	struct fx_pkt	p;
	uint8_t		out[E2E_MSG_LEN], t;
	uint64_t	ep = r->epoch;

	if (e2e_input(i, PACKET_E2E_RESP, resp, E2E_MSG_LEN, now, 0, out,
	    &t) != (E2E_OUT_NEWKEY | E2E_OUT_CONFIRM))
		abort();
	/* a resend answered after the key went into use: the snapshot of
	 * the initiator is from before it sent anything under it */
	if (keys_mirror(&i->cur, &r->cur))
		return;
	if (!keys_mirror(&i->cur, &r->next))
		abort();
	p.len = fx_seal(i, in, PACKET_PING, "confirm", p.b, sizeof(p.b));
	if (fx_open(r, &p, now) != 0 || r->epoch != ep + 1 ||
	    !keys_mirror(&i->cur, &r->cur) || !e2e_ready(r))
		abort();
	check_peer(i);
	check_peer(r);
}

/* ---- 0: INIT --------------------------------------------------------------- */

static void
one_init(const uint8_t *d, size_t n)
{
	struct e2e_peer		 r, i;
	const struct fx_node	*in = &F.a;
	const uint8_t		*genuine[2] = { F.init0, F.init1 };
	const struct e2e_peer	*twin[2] = { &F.a_pend0, &F.a_pend1 };
	uint8_t			 out[E2E_MSG_LEN], t = 0;
	double			 now;
	int			 ret, g, learn, state;

	if (n < 2)
		return;
	learn = d[0] & 0x08;
	now = FX_T0 + d[1] * 0.1;
	switch ((state = (d[0] & 7) % 7)) {
	case 0: r = F.b_fresh; break;
	case 1: r = F.b_nopk; break;
	case 2: r = F.b_resp0; break;	/* a resend of init0 */
	case 3: r = F.b_key1; break;	/* rekey */
	case 4: r = F.b_pend; break;	/* crossing: B (larger) yields */
	case 5:				/* B's INIT to A, who waits: ignored */
		r = F.a_pend0;
		in = &F.b;
		break;
	default:			/* B's INIT to A */
		r = F.a_fresh;
		in = &F.b;
		break;
	}
	if (in == &F.b) {
		genuine[0] = genuine[1] = F.init_b;
		twin[0] = twin[1] = &F.b_pend;
	}
	d += 2;
	n -= 2;
	ret = e2e_input(&r, PACKET_E2E_INIT, d, n, now, learn, out, &t);
	check_peer(&r);
	if (ret < 0 || !(ret & E2E_OUT_REPLY))
		return;
	if (ret != E2E_OUT_REPLY || t != PACKET_E2E_RESP)
		abort();
	/* accepted: a genuine INIT */
	for (g = 0; g < 2; g++)
		if (same_msg(d, n, genuine[g]))
			break;
	if (g == 2)
		abort();
	if (state == 2 && g == 0 && memcmp(out, F.resp0, E2E_MSG_LEN) != 0)
		abort();		/* a resend gets the same RESP */
	i = *twin[g];
	if (!i.pending || memcmp(i.init_msg, genuine[g], E2E_MSG_LEN) != 0)
		return;			/* its initiator gave it up */
	complete(&i, in, &r, out, now);
	e2e_peer_wipe(&i);
}

/* ---- 1: RESP --------------------------------------------------------------- */

static void
one_resp(const uint8_t *d, size_t n)
{
	struct e2e_peer		 i;
	const struct e2e_peer	*r;
	const uint8_t		*genuine;
	uint8_t			 out[E2E_MSG_LEN], t = 0;
	int			 ret;

	if (n < 2)
		return;
	switch (d[0] % 3) {
	case 0: i = F.a_pend0; r = &F.b_resp0; genuine = F.resp0; break;
	case 1: i = F.a_pend1; r = &F.b_resp1; genuine = F.resp1; break;
	default: i = F.b_pend; r = &F.a_resp_b; genuine = F.resp_b; break;
	}
	ret = e2e_input(&i, PACKET_E2E_RESP, d + 2, n - 2, FX_T0 + d[1] * 0.1,
	    0, out, &t);
	check_peer(&i);
	if (ret < 0 || ret == 0)
		return;
	if (ret != (E2E_OUT_NEWKEY | E2E_OUT_CONFIRM) ||
	    !same_msg(d + 2, n - 2, genuine) ||
	    !keys_mirror(&i.cur, &r->next) || i.pending || !i.confirm)
		abort();
}

/* ---- 2: a session packet --------------------------------------------------- */

static void
one_packet(const uint8_t *d, size_t n)
{
	struct e2e_peer		 e;
	uint8_t			 buf[PACKET_MAX_LEN], id;
	struct packet_hdr	 h;
	const uint8_t		*pl;
	size_t			 plen;
	double			 now;
	int			 r, was_next;

	if (n < 2 || n - 2 > sizeof(buf))
		return;
	switch (d[0] % 4) {
	case 0: e = F.b_resp0; break;	/* next 1 */
	case 1: e = F.b_resp1; break;	/* cur 1, next 3 */
	case 2: e = F.a_key3; break;	/* cur 3, prev 1, confirming */
	default: e = F.b_key1; break;	/* cur 1 */
	}
	now = FX_T0 + d[1] * 0.1;
	d += 2;
	n -= 2;
	memcpy(buf, d, n);
	id = n > 3 ? d[3] : 0;
	was_next = e.next.valid && e.next.id == id;
	r = e2e_decrypt(&e, buf, n, now, &h, &pl, &plen);
	check_peer(&e);
	if (r != 0)
		return;
	/* sealed by the peer (the seeds', or one the fuzzer lifted from a
	 * script of this world: same keys), never by this side */
	if (memcmp(h.sender, e.peer_id, PACKET_NODEID_LEN) != 0 ||
	    plen + PACKET_OVERHEAD != n)
		abort();
	if (was_next && (!e.cur.valid || e.cur.id != id || e.next.valid))
		abort();		/* used, so in use now */
	memcpy(buf, d, n);
	if (e2e_decrypt(&e, buf, n, now, &h, &pl, &plen) != PACKET_ERR_REPLAY)
		abort();
}

/* ---- 4: signed by the harness ---------------------------------------------- */

/* e2e.h: label || signer's id || other id || key id || two keys || ts */
static void
sign_msg(uint8_t *msg, const char *lbl, const struct fx_node *signer,
    const struct fx_node *other)
{
	uint8_t		m[15 + 8 + 8 + 1 + 32 + 32 + 8];

	memcpy(m, lbl, 15);
	memcpy(m + 15, signer->id, 8);
	memcpy(m + 23, other->id, 8);
	m[31] = msg[0];
	memcpy(m + 32, msg + 2, 64);	/* e_i || pk_i, or e_i || e_r */
	memcpy(m + 96, msg + 66, 8);	/* ts */
	crypto_sign_detached(msg + 74, NULL, m, sizeof(m), signer->sk);
}

static void
one_signed(const uint8_t *d, size_t n)
{
	struct e2e_peer	e;
	uint8_t		msg[E2E_MSG_LEN], out[E2E_MSG_LEN], t = 0, m[104];
	double		now;
	int		r;

	if (n < 2 + 1 + 32 + 8)
		return;
	now = FX_T0 + d[1] * 0.1;
	memset(msg, 0, sizeof(msg));
	msg[0] = d[2];
	if (d[0] % 2 == 0) {
		/* INIT from A: key id, e_i, ts from the input */
		e = (d[0] & 2) ? F.b_key1 : F.b_fresh;
		memcpy(msg + 2, d + 3, 32);
		memcpy(msg + 34, F.a.pk, 32);
		memcpy(msg + 66, d + 35, 8);
		sign_msg(msg, "atm-e2e-init-v1", &F.a, &F.b);
		r = e2e_input(&e, PACKET_E2E_INIT, msg, sizeof(msg), now, 0,
		    out, &t);
		check_peer(&e);
		if (r < 0 || !(r & E2E_OUT_REPLY))
			return;
		/* the RESP is what e2e.h says, signed by B */
		if (memcmp(out + 2, msg + 2, 32) != 0 ||
		    memcmp(out + 66, msg + 66, 8) != 0 || out[0] != msg[0])
			abort();
		memcpy(m, "atm-e2e-resp-v1", 15);
		memcpy(m + 15, F.b.id, 8);
		memcpy(m + 23, F.a.id, 8);
		m[31] = out[0];
		memcpy(m + 32, out + 2, 64);
		memcpy(m + 96, out + 66, 8);
		if (crypto_sign_verify_detached(out + 74, m, sizeof(m),
		    F.b.pk) != 0 || !e.next.valid || e.next.id != msg[0])
			abort();
	} else {
		/* RESP from B to A's INIT0 or INIT1: key id, e_r from the
		 * input; e_i and ts A's unless the input's flag says so */
		e = (d[0] & 2) ? F.a_pend1 : F.a_pend0;
		memcpy(msg, e.init_msg, E2E_MSG_LEN);
		msg[0] = (d[0] & 4) ? d[2] : e.init_msg[0];
		memcpy(msg + 34, d + 3, 32);
		if (d[0] & 8)
			memcpy(msg + 66, d + 35, 8);
		sign_msg(msg, "atm-e2e-resp-v1", &F.b, &F.a);
		r = e2e_input(&e, PACKET_E2E_RESP, msg, sizeof(msg), now, 0,
		    out, &t);
		check_peer(&e);
		if (r > 0 && (msg[0] != e.cur.id || !e.confirm ||
		    memcmp(msg + 66, e.init_msg + 66, 8) != 0))
			abort();
	}
	e2e_peer_wipe(&e);
}

/* ---- 3: scripts ------------------------------------------------------------ */

#define QMAX	24
#define CRYPTO	6	/* handshake steps per input (3 a handshake):
			   50 to 150 us each */

struct qpkt {
	uint8_t		from;		/* 0 A, 1 B */
	uint8_t		type;		/* E2E_INIT/RESP, or 0: session */
	uint32_t	serial;
	size_t		len;
	uint8_t		b[FX_PKT_MAX];
	uint8_t		sent[FX_PKT_MAX];	/* as sent: intact? */
};

struct world {
	struct e2e_peer		 p[2];
	const struct fx_node	*node[2];
	struct qpkt		 q[QMAX];
	int			 nq;
	double			 now;
	int			 crypto;
	int			 exempt;	/* restart or give-up seen */
	uint32_t		 serial;
	uint8_t			 opened[4096 / 8];	/* serials */
};

static void
push(struct world *w, const struct qpkt *p)
{
	if (w->nq < QMAX)
		w->q[w->nq++] = *p;
}

static void
pop(struct world *w)
{
	if (w->nq > 0)
		memmove(&w->q[0], &w->q[1], --w->nq * sizeof(w->q[0]));
}

static void
send_hs(struct world *w, int from, uint8_t type, const uint8_t *m)
{
	struct qpkt	p;

	p.from = (uint8_t)from;
	p.type = type;
	p.serial = 0;
	p.len = E2E_MSG_LEN;
	memcpy(p.b, m, E2E_MSG_LEN);
	memcpy(p.sent, m, E2E_MSG_LEN);
	push(w, &p);
}

static void
send_sess(struct world *w, int from, uint8_t type)
{
	struct qpkt	p;
	char		msg[16];

	if (!e2e_ready(&w->p[from]))
		return;
	p.serial = ++w->serial;
	memcpy(msg, "s", 2);
	msg[0] = (char)('a' + p.serial % 26);
	p.len = fx_seal(&w->p[from], w->node[from], type, msg, p.b,
	    sizeof(p.b));
	p.from = (uint8_t)from;
	p.type = 0;
	memcpy(p.sent, p.b, p.len);
	push(w, &p);
}

static void
start(struct world *w, int s)
{
	uint8_t	m[E2E_MSG_LEN];
	int	fresh = !w->p[s].pending;

	if (fresh && (e2e_busy(&w->p[s]) || w->crypto >= CRYPTO))
		return;
	if (e2e_start(&w->p[s], w->now, m) != E2E_MSG_LEN)
		return;
	w->crypto += fresh;
	send_hs(w, s, PACKET_E2E_INIT, m);
}

static void
tick(struct world *w, int s)
{
	int	next = w->p[s].next.valid, confirm = w->p[s].confirm;
	int	t = e2e_tick(&w->p[s], w->now);

	/* a next key or a confirmation given up: the keys may part (an
	 * INIT given up parts nothing) */
	if ((next && !w->p[s].next.valid) || (confirm && !w->p[s].confirm))
		w->exempt = 1;
	if (t & E2E_TICK_CONFIRM)
		send_sess(w, s, PACKET_PING);
	if (t & (E2E_TICK_RETX | E2E_TICK_REKEY))
		start(w, s);
}

static void
deliver(struct world *w, const struct qpkt *qp, int to)
{
	struct e2e_peer		*e = &w->p[to];
	struct qpkt		 p = *qp;
	struct packet_hdr	 h;
	const uint8_t		*pl;
	size_t			 plen;
	uint8_t			 out[E2E_MSG_LEN], t;
	int			 r, intact = !memcmp(p.b, p.sent, p.len);

	if (p.type != 0) {
		if (w->crypto >= CRYPTO)
			return;
		w->crypto++;
		r = e2e_input(e, p.type, p.b, p.len, w->now, 1, out, &t);
		TRACE("  %c <- %s id %u: %d\n", 'A' + to,
		    p.type == PACKET_E2E_INIT ? "INIT" : "RESP", p.b[0], r);
		if (r > 0 && (r & E2E_OUT_REPLY))
			send_hs(w, to, t, out);
		if (r > 0 && (r & E2E_OUT_CONFIRM))
			send_sess(w, to, PACKET_PING);
		return;
	}
	r = e2e_decrypt(e, p.b, p.len, w->now, &h, &pl, &plen);
	TRACE("  %c <- #%u key %u: %d\n", 'A' + to, p.serial, p.b[3], r);
	if (r == 0) {
		if (!intact || to == p.from || plen != 1 ||
		    pl[0] != (uint8_t)('a' + p.serial % 26))
			abort();	/* forged, reflected or garbled */
		if (p.serial < sizeof(w->opened) * 8) {
			if (w->opened[p.serial / 8] & (1 << (p.serial % 8)))
				abort();	/* opened twice */
			w->opened[p.serial / 8] |= 1 << (p.serial % 8);
		}
		if (h.type == PACKET_PING)
			send_sess(w, to, PACKET_PONG);
	} else if (r == PACKET_ERR_AUTH && intact && to != p.from &&
	    !w->exempt)
		abort();		/* one key id named two keys */
}

/*
 * Whatever a side can send with, the other side can open (key
 * confirmation's promise), unless a restart or a give-up parted them.
 */
static void
check_world(struct world *w)
{
	const struct e2e_peer	*x, *y;
	int			 s;

	for (s = 0; s < 2; s++) {
		TRACE("  %c t=%.2f cur %u%s prev %u next %u%s%s%s\n", 'A' + s,
		    w->now, w->p[s].cur.valid ? w->p[s].cur.id : 0,
		    e2e_ready(&w->p[s]) ? "" : "(-)",
		    w->p[s].prev.valid ? w->p[s].prev.id : 0,
		    w->p[s].next.valid ? w->p[s].next.id : 0,
		    w->p[s].pending ? " pending" : "",
		    w->p[s].confirm ? " confirming" : "",
		    w->exempt ? " exempt" : "");
		check_peer(&w->p[s]);
		x = &w->p[s];
		y = &w->p[!s];
		if (w->exempt || !e2e_ready(x))
			continue;
		if (keys_mirror(&x->cur, &y->cur) ||
		    keys_mirror(&x->cur, &y->next))
			continue;
		if (keys_mirror(&x->cur, &y->prev) &&
		    (w->now < y->prev.expires || y->confirm))
			continue;
		abort();
	}
}

static void
script(const uint8_t *d, size_t n)
{
	static struct world	 w;
	struct qpkt		 c;
	size_t			 k;
	uint8_t			 op, arg;

	if (n < 1)
		return;
	memset(&w, 0, sizeof(w));
	w.node[0] = &F.a;
	w.node[1] = &F.b;
	w.now = FX_T0;
	/* where it starts: no key, the first RESP or a rekey's on its way,
	 * a session */
	switch (d[0] % 4) {
	case 0:
		w.p[0] = F.a_fresh;
		w.p[1] = F.b_fresh;
		break;
	case 1:
		w.p[0] = F.a_pend0;
		w.p[1] = F.b_resp0;
		send_hs(&w, 1, PACKET_E2E_RESP, F.resp0);
		break;
	case 2:
		w.p[0] = F.a_pend1;
		w.p[1] = F.b_resp1;
		w.now = FX_T1;
		send_hs(&w, 1, PACKET_E2E_RESP, F.resp1);
		break;
	default:
		w.p[0] = F.a_key1;
		w.p[1] = F.b_key1;
		break;
	}
	d++;
	n--;
	for (k = 0; k + 1 < n; k += 2) {
		op = d[k];
		arg = d[k + 1];
		TRACE("step %zu: op %u arg %u, %d queued\n", k / 2, op % 12,
		    arg, w.nq);
		switch (op % 12) {
		case 0:
		case 1:
			start(&w, op % 2);
			break;
		case 2:				/* deliver the oldest */
			if (w.nq == 0)
				break;
			c = w.q[0];
			pop(&w);
			deliver(&w, &c, !c.from);
			break;
		case 3:				/* lose it */
			pop(&w);
			break;
		case 4:				/* repeat it */
			if (w.nq > 0)
				push(&w, &w.q[0]);
			break;
		case 5:				/* late: to the back */
			if (w.nq > 0) {
				c = w.q[0];
				pop(&w);
				push(&w, &c);
			}
			break;
		case 6:				/* time passes */
			w.now += arg * 0.05;
			tick(&w, 0);
			tick(&w, 1);
			break;
		case 7:
		case 8:
			send_sess(&w, op == 7 ? 0 : 1, PACKET_DATA);
			break;
		case 9:				/* corrupt one bit */
			if (w.nq > 0) {
				w.q[0].b[(arg >> 3) % w.q[0].len] ^=
				    (uint8_t)(1 << (arg & 7));
			}
			break;
		case 10:			/* restart */
			w.p[arg & 1] = (arg & 1) ? F.b_fresh : F.a_fresh;
			w.exempt = 1;
			break;
		default:			/* reflected to its sender */
			if (w.nq == 0)
				break;
			c = w.q[0];
			pop(&w);
			deliver(&w, &c, c.from);
			break;
		}
		check_world(&w);
	}
	e2e_peer_wipe(&w.p[0]);
	e2e_peer_wipe(&w.p[1]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	fx_rng_reset(size);
	switch (data[0] % 5) {
	case 0:
		one_init(data + 1, size - 1);
		break;
	case 1:
		one_resp(data + 1, size - 1);
		break;
	case 2:
		one_packet(data + 1, size - 1);
		break;
	case 3:
		script(data + 1, size - 1);
		break;
	default:
		one_signed(data + 1, size - 1);
		break;
	}
	return 0;
}
