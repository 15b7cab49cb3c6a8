/*
 * End-to-end session keys in punchd: proto/e2e.c does the handshake and the
 * key schedule; this file decides when a peer needs a session key, sends
 * and retries the handshake, holds DATA until the first key exists and
 * runs the rekey timer. README.md (punchd), "End-to-end encryption".
 *
 * Policy: with e2e on, a node key of our own and the peer's node key known
 * (from the join, an ANNOUNCE or the peer's signed INIT), DATA, PING and
 * PONG to that peer only ever travel under a session key, and DATA under
 * the mesh key from it is dropped (drop_downgrade). Without a node key on
 * either side (mesh_secret-only setups) everything stays under the mesh
 * key, said once per peer at info level.
 *
 * Key confirmation (proto/e2e.h): as initiator, a PING under the new key
 * as soon as the RESP is in, again on the timer until the responder is
 * heard under it; as responder, the new key is used once a packet opens
 * with it (e2e_session_decrypt sees the epoch advance).
 *
 * The rekey/retransmit timer runs only while some peer has session state:
 * a node without peers never wakes up for it.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/log.h"
#include "punchd.h"

struct e2e_queued {
	STAILQ_ENTRY(e2e_queued) entry;
	size_t		len;
	uint8_t		data[];
};

static void e2e_session_timer_start(struct punchd *pd);

static void
e2e_session_params(const struct punchd *pd, struct e2e_params *par)
{
	e2e_params_default(par);
	par->rekey_interval = pd->cfg.rekey_interval_ms / 1000.0;
	par->rekey_packets = (uint64_t)pd->cfg.rekey_packets;
	par->grace = pd->cfg.rekey_grace_ms / 1000.0;
	par->retx = par->rekey_interval / 2;
	if (par->retx > 1)
		par->retx = 1;
	if (par->retx < 0.05)
		par->retx = 0.05;
}

/* Set up p's e2e state once we can, and pick up its node key. */
static struct e2e_peer *
e2e_session_sync(struct peer *p)
{
	struct punchd			*pd = p->pd;
	const struct mesh_member	*mm;
	struct e2e_params		 par;

	if (!pd->cfg.e2e || !pd->mesh.have_key || !p->bound)
		return NULL;
	mm = members_find(pd, p->id);
	if (!p->e2e_inited) {
		e2e_session_params(pd, &par);
		if (e2e_peer_init(&p->e2e, &par, pd->node_id, pd->mesh.pk,
		    pd->mesh.sk, p->id, mm != NULL ? mm->pk : NULL) != 0)
			return NULL;
		p->e2e_inited = 1;
		e2e_session_timer_start(pd);
	} else if (mm != NULL && (!p->e2e.have_peer_pk ||
	    (p->e2e.learned_pk && memcmp(mm->pk, p->e2e.peer_pk,
	    E2E_PK_LEN) != 0)))
		e2e_set_peer_pk(&p->e2e, mm->pk);
	return &p->e2e;
}

static int
e2e_session_required(struct peer *p)
{
	struct e2e_peer *e = e2e_session_sync(p);

	return e != NULL && e->have_peer_pk;
}

const char *
e2e_session_mode(struct peer *p)
{
	if (p->e2e_inited && e2e_ready(&p->e2e))
		return "session";
	return e2e_session_required(p) ? "handshake" : "mesh-key";
}

static void
e2e_session_fallback_note(struct peer *p)
{
	struct punchd *pd = p->pd;

	if (!pd->cfg.e2e || p->e2e_logged)
		return;
	p->e2e_logged = 1;
	if (!pd->mesh.have_key)
		log_info("peer %s: this node has no node key (mesh_secret "
		    "only): traffic under the mesh key, no per-session keys",
		    peer_label(p));
	else
		log_info("peer %s: its node key is unknown (mesh_secret "
		    "only?): traffic under the mesh key, no per-session keys",
		    peer_label(p));
}

static void
e2e_session_send_init(struct peer *p, const struct sockaddr *to)
{
	uint8_t	msg[E2E_MSG_LEN];
	int	r;

	if ((r = e2e_start(&p->e2e, punchd_now(p->pd), msg)) < 0)
		return;
	if (p->e2e.pend_tries == 1)
		log_debug("peer %s: session handshake, key id %u",
		    peer_label(p), p->e2e.pend_id);
	tx_send(p, PACKET_E2E_INIT, 0, msg, r, to);
}

/*
 * Key confirmation: a PING under the new key. The responder switches on
 * it and its PONG comes back under the new key, which ends our wait. Id 0
 * is never one of peer_ping's (they count from 1): no pending ping takes
 * it.
 */
static void
e2e_session_send_confirm(struct peer *p, const struct sockaddr *to)
{
	struct packet_ping	pg;
	uint8_t			buf[PACKET_PING_LEN];
	int			n;

	pg.id = 0;
	pg.ts = (uint64_t)(punchd_time(p->pd) * 1e6);
	if ((n = packet_ping_encode(buf, sizeof(buf), &pg)) > 0)
		e2e_session_send(p, PACKET_PING, buf, (size_t)n, to);
}

/* in order; the list is taken off the peer first, so a send that queues
 * again (no key after all) starts a new one */
static void
e2e_session_queue_flush(struct peer *p)
{
	struct e2e_queue	 q = STAILQ_HEAD_INITIALIZER(q);
	struct e2e_queued	*e;

	STAILQ_CONCAT(&q, &p->e2e_q);
	p->e2e_nq = 0;
	while ((e = STAILQ_FIRST(&q)) != NULL) {
		STAILQ_REMOVE_HEAD(&q, entry);
		if (peer_is_up(p))
			e2e_session_send(p, PACKET_DATA, e->data, e->len,
			    peer_dest(p));
		else
			p->pd->ctr.e2e_queue_drops++;
		free(e);
	}
}

static void
e2e_session_queue_clear(struct peer *p)
{
	struct e2e_queued *e;

	while ((e = STAILQ_FIRST(&p->e2e_q)) != NULL) {
		STAILQ_REMOVE_HEAD(&p->e2e_q, entry);
		sodium_memzero(e->data, e->len);
		free(e);
	}
	p->e2e_nq = 0;
}

/* 1 when p's packet of this type was sent, queued or dropped here (IP:
 * never queued); 0 to
 * send it under the mesh key */
static int
e2e_session_seal_send(struct peer *p, uint8_t type, const uint8_t *payload,
    size_t len, const struct sockaddr *to, uint64_t *seq)
{
	struct punchd		*pd = p->pd;
	uint8_t			 buf[PACKET_OVERHEAD + PUNCHD_IP_MTU];
	struct packet_hdr	 h;
	struct e2e_queued	*q;
	ssize_t			 n;

	if (type != PACKET_DATA && type != PACKET_PING &&
	    type != PACKET_PONG && type != PACKET_IP)
		return 0;
	if (!e2e_session_required(p)) {
		if (type == PACKET_DATA || type == PACKET_IP)
			e2e_session_fallback_note(p);
		return 0;
	}
	*seq = 0;
	if (!e2e_ready(&p->e2e)) {
		/* PING/PONG wait for nothing: mesh key until there is one */
		if (type != PACKET_DATA && type != PACKET_IP)
			return 0;
		/* IP packets are not held (the sender retransmits; the
		 * handshake takes one round trip): dropped, the key asked */
		if (type == PACKET_IP) {
			pd->ctr.e2e_queue_drops++;
			if (!e2e_busy(&p->e2e))
				e2e_session_send_init(p, to);
			return 1;
		}
		if (p->e2e_nq >= PUNCHD_E2E_QUEUE ||
		    (q = malloc(sizeof(*q) + len)) == NULL) {
			pd->ctr.e2e_queue_drops++;
			return 1;
		}
		q->len = len;
		if (len > 0)
			memcpy(q->data, payload, len);
		STAILQ_INSERT_TAIL(&p->e2e_q, q, entry);
		p->e2e_nq++;
		if (!e2e_busy(&p->e2e))
			e2e_session_send_init(p, to);
		return 1;
	}
	memset(&h, 0, sizeof(h));
	h.type = type;
	memcpy(h.sender, pd->node_id, PACKET_NODEID_LEN);
	if ((n = e2e_encrypt(&p->e2e, buf, sizeof(buf), &h, payload,
	    len)) == -1) {
		log_warnx("%s: cannot encode %s", __func__,
		    packet_type_str(type));
		return 1;
	}
	*seq = h.seq;
	tx_out(p, buf, n, to);
	/* the packet limit: start the rekey now, not at the next tick */
	if (p->e2e.cur.tx_seq >= p->e2e.par.rekey_packets &&
	    !e2e_busy(&p->e2e))
		e2e_session_send_init(p, to);
	return 1;
}

size_t
e2e_session_seal_ip(struct peer *p, const uint8_t *pkt, size_t len,
    uint8_t *out, size_t cap)
{
	struct packet_hdr	h;
	ssize_t			n;

	if (!p->e2e_inited || !e2e_ready(&p->e2e) || !e2e_session_required(p))
		return 0;
	memset(&h, 0, sizeof(h));
	h.type = PACKET_IP;
	memcpy(h.sender, p->pd->node_id, PACKET_NODEID_LEN);
	if ((n = e2e_encrypt(&p->e2e, out, cap, &h, pkt, len)) == -1)
		return 0;
	if (p->e2e.cur.tx_seq >= p->e2e.par.rekey_packets &&
	    !e2e_busy(&p->e2e))
		e2e_session_send_init(p, peer_dest(p));
	return (size_t)n;
}

uint64_t
e2e_session_send(struct peer *p, uint8_t type, const uint8_t *payload,
    size_t len, const struct sockaddr *to)
{
	uint64_t seq;

	if (e2e_session_seal_send(p, type, payload, len, to, &seq))
		return seq;
	return tx_send(p, type, 0, payload, len, to);
}

/* A new key is in use: say so, send what waited for it. */
static void
e2e_session_newkey(struct peer *p)
{
	struct e2e_peer *e = &p->e2e;

	log_debug("peer %s: session key id %u, epoch %llu", peer_label(p),
	    e->cur.id, (unsigned long long)e->epoch);
	if (e->epoch == 1)
		log_info("peer %s: end-to-end session established",
		    peer_label(p));
	e2e_session_queue_flush(p);
}

void
e2e_session_handshake(struct peer *p, uint8_t type, const uint8_t *pl,
    size_t len, const struct sockaddr *from)
{
	struct punchd	*pd = p->pd;
	struct e2e_peer	*e;
	uint8_t		 out[E2E_MSG_LEN], otype = 0;
	int		 r;

	if ((e = e2e_session_sync(p)) == NULL) {
		/* e2e off or no node key here: nothing to answer with
		 * (the peer keeps trying; docs: every node must agree) */
		e2e_session_fallback_note(p);
		pd->ctr.drop_unknown++;
		return;
	}
	r = e2e_input(e, type, pl, len, punchd_now(pd), 1, out, &otype);
	if (r < 0) {
		if (r == PACKET_ERR_PAYLOAD)
			pd->ctr.drop_malformed++;
		else if (r == E2E_ERR_SIG)
			pd->ctr.drop_auth++;
		log_debug("peer %s: %s refused (%d)", peer_label(p),
		    packet_type_str(type), r);
		return;
	}
	if (r & E2E_OUT_REPLY)
		tx_send(p, otype, 0, out, E2E_MSG_LEN, from);
	if (r & E2E_OUT_CONFIRM)
		e2e_session_send_confirm(p, from);
	if (r & E2E_OUT_NEWKEY)
		e2e_session_newkey(p);
}

int
e2e_session_decrypt(struct peer *p, uint8_t *buf, size_t len,
    struct packet_hdr *h, const uint8_t **pl, size_t *plen)
{
	struct punchd	*pd = p->pd;
	uint64_t	 epoch = p->e2e.epoch;
	int		 r;

	if (!p->e2e_inited) {
		pd->ctr.drop_nokey++;
		return E2E_ERR_NOKEY;
	}
	r = e2e_decrypt(&p->e2e, buf, len, punchd_now(pd), h, pl, plen);
	switch (r) {
	case 0:
		if (p->e2e.epoch != epoch)
			e2e_session_newkey(p);	/* the initiator confirmed it */
		break;
	case E2E_ERR_NOKEY:
		pd->ctr.drop_nokey++;
		/* we lost our keys (restart) but the peer still has its
		 * session: start a new one instead of waiting for its
		 * rekey timer (one INIT outstanding at most) */
		if (!e2e_ready(&p->e2e) && !e2e_busy(&p->e2e) &&
		    e2e_session_required(p) && peer_is_up(p))
			e2e_session_send_init(p, peer_dest(p));
		break;
	case PACKET_ERR_AUTH:
		pd->ctr.drop_auth++;
		break;
	case PACKET_ERR_REPLAY:
	case PACKET_ERR_OLD:
		pd->ctr.drop_replay++;
		break;
	default:
		pd->ctr.drop_malformed++;
		break;
	}
	if (r == 0 && h->type != PACKET_DATA && h->type != PACKET_PING &&
	    h->type != PACKET_PONG && h->type != PACKET_IP) {
		pd->ctr.drop_malformed++;	/* only these use it */
		return PACKET_ERR_TYPE;
	}
	return r;
}

int
e2e_session_mesh_ok(struct peer *p, uint8_t type)
{
	if ((type != PACKET_DATA && type != PACKET_IP) ||
	    !e2e_session_required(p))
		return 1;
	p->pd->ctr.drop_downgrade++;
	return 0;
}

void
e2e_session_peer_up(struct peer *p)
{
	if (!e2e_session_required(p)) {
		e2e_session_fallback_note(p);
		return;
	}
	if (!e2e_ready(&p->e2e) && !e2e_busy(&p->e2e))
		e2e_session_send_init(p, peer_dest(p));
}

void
e2e_session_peer_free(struct peer *p)
{
	e2e_session_queue_clear(p);
	if (p->e2e_inited)
		e2e_peer_wipe(&p->e2e);
	p->e2e_inited = 0;
}

int
e2e_session_count(struct punchd *pd)
{
	struct peer	*p;
	int		 n = 0;

	TAILQ_FOREACH(p, &pd->peers, entry)
		n += p->e2e_inited;
	return n;
}

static void
e2e_session_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct punchd	*pd = w->data;
	struct peer	*p;
	int		 t, n = 0;

	(void)revents;
	TAILQ_FOREACH(p, &pd->peers, entry) {
		if (!p->e2e_inited)
			continue;
		n++;
		e2e_session_sync(p);
		t = e2e_tick(&p->e2e, punchd_now(pd));
		if (!peer_is_up(p))
			continue;
		if (t & E2E_TICK_CONFIRM)
			e2e_session_send_confirm(p, peer_dest(p));
		if (t & E2E_TICK_RETX || (t & E2E_TICK_REKEY &&
		    e2e_session_required(p)))
			e2e_session_send_init(p, peer_dest(p));
	}
	if (n == 0)
		ev_timer_stop(loop, w);	/* quiet until the next session */
}

/* The period: retransmits and rekeys each come within a quarter of their
 * own interval, and never more often than every 50 ms. */
static void
e2e_session_timer_start(struct punchd *pd)
{
	struct e2e_params	par;
	double			period;

	if (ev_is_active(&pd->e2e_timer) || pd->loop == NULL)
		return;
	e2e_session_params(pd, &par);
	period = par.retx;
	if (par.rekey_interval / 4 < period)
		period = par.rekey_interval / 4;
	if (period < 0.05)
		period = 0.05;
	ev_timer_set(&pd->e2e_timer, period, period);
	ev_timer_start(pd->loop, &pd->e2e_timer);
}

void
e2e_session_start(struct punchd *pd)
{
	ev_init(&pd->e2e_timer, e2e_session_timer_cb);
	pd->e2e_timer.data = pd;
	if (!pd->cfg.e2e) {
		log_info("e2e = no: DATA travels under the mesh key only");
		return;
	}
	if (!pd->mesh.have_key)
		log_info("no node key (mesh_secret only): DATA travels under "
		    "the mesh key until this node joins or creates a mesh");
	if (e2e_session_count(pd) > 0)
		e2e_session_timer_start(pd);
}

void
e2e_session_stop(struct punchd *pd)
{
	ev_timer_stop(pd->loop, &pd->e2e_timer);
}
