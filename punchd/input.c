/*
 * Our packets arriving on the socket: header check, peer lookup, replay
 * window, authentication, then one function per packet type. Anything
 * that fails a check is dropped silently and counted: a stranger, another
 * mesh or a replayer never gets a single byte back. What is not for the
 * peer layer goes up through pd->hooks (pong, announce, join_hello,
 * join_reply, ip) and DATA to the event hook (peer.data).
 */
#include <string.h>

#include "common/log.h"
#include "punchd.h"

/*
 * A peer named by a person has no node id until it answers. An
 * authenticated PUNCH from one of its candidates, or a PUNCH_ACK for one
 * of its transactions (the answer may come from another address when a
 * NAT is in the way), tells which node it is.
 */
static struct peer *
input_bind_named(struct punchd *pd, const struct packet_hdr *h,
    const uint8_t *pl, size_t plen, const struct sockaddr *from)
{
	struct packet_punch	 pp;
	struct peer		*p;
	int			 i, hit;

	if (packet_punch_decode(pl, plen, &pp) != 0)
		return NULL;
	TAILQ_FOREACH(p, &pd->peers, entry) {
		if (p->bound)
			continue;
		hit = h->type == PACKET_PUNCH &&
		    punch_find(&p->punch, from) != -1;
		for (i = 0; h->type == PACKET_PUNCH_ACK && i < p->punch.npairs;
		    i++)
			if (!memcmp(p->punch.pairs[i].txid, pp.txid,
			    PACKET_TXID_LEN))
				hit = 1;
		if (hit) {
			peer_bind(p, h->sender);
			log_info("peer %s is node %s", p->name, p->idstr);
			return p;
		}
	}
	return NULL;
}

static void
input_punch(struct peer *p, uint8_t type, const uint8_t *pl, size_t len,
    const struct sockaddr *from)
{
	struct punchd		*pd = p->pd;
	struct packet_punch	 pp;
	int			 ev;

	if (packet_punch_decode(pl, len, &pp) != 0) {
		pd->ctr.drop_malformed++;
		return;
	}
	/* someone punches us: punch back at once, so that both NATs open */
	if (type == PACKET_PUNCH && p->state != PEER_DIRECT &&
	    p->state != PEER_DEGRADED && p->punch.state != PUNCH_RUNNING) {
		punch_add_remote(&p->punch, CAND_PRFLX, from);
		peer_changed(pd);
		link_start_punch(p);
	}
	ev = punch_input(&p->punch, type, &pp, from, punchd_time(p->pd));
	if (ev == PUNCH_EV_VALID)
		choose_valid(p, from);
	if (ev == PUNCH_EV_SELECTED)
		choose_selected(p);
}

/*
 * Answer only on a proven path: the relay, the current endpoint, or a
 * candidate pair whose check succeeded both ways. A packet from any other
 * address may be a member's packet replayed by whoever captured it (the
 * mesh key authenticates it for every member); input_new_source() checks
 * such an address with PUNCHes, which name their receiver, before the
 * path moves there.
 */
static int
input_proven(const struct peer *p, const struct sockaddr *from)
{
	int i;

	if (from == NULL)
		return 1;
	if (p->has_endpoint &&
	    netaddr_equal(from, (const struct sockaddr *)&p->endpoint))
		return 1;
	return (i = punch_find(&p->punch, from)) != -1 &&
	    p->punch.pairs[i].state == PAIR_SUCCEEDED;
}

/* answered with an empty ACK: 64 bytes each way with IPv4 and UDP */
static void
input_keepalive(struct peer *p, const struct packet_hdr *h,
    const uint8_t *pl, size_t plen, const struct sockaddr *from)
{
	double	prev = p->ka.heard;

	if (!input_proven(p, from)) {
		p->pd->ctr.drop_unproven++;
		return;
	}
	keepalive_heard(&p->ka, punchd_time(p->pd),
	    (h->flags & PACKET_F_KA_MISSED) != 0);
	/* what we sent since the one before went unanswered: the leader's
	 * gap only looked survived, our packet reopened our NAT's side
	 * (lifetime.h; link_ka_answered) */
	tx_send(p, PACKET_KEEPALIVE_ACK, from != NULL && prev > 0 &&
	    p->doubt_at > prev ? PACKET_F_KA_BROKEN : 0, NULL, 0, from);
	if (from != NULL)
		link_ka_heard(p, pl, plen);
}

static void
input_keepalive_ack(struct peer *p, const struct packet_hdr *h,
    const struct sockaddr *from)
{
	double	rtt, late = punchd_time(p->pd) - p->ka.out_sent;
	int	f;

	if ((f = keepalive_ack(&p->ka, punchd_time(p->pd), &rtt)) == -1)
		return;
	if (from != NULL)
		link_ka_answered(p, late,
		    (h->flags & PACKET_F_KA_BROKEN) != 0);
	if (f & KA_RTT)
		path_rtt(&p->path, rtt);
	if (p->state == PEER_DEGRADED) {
		log_info("peer %s: keep-alives answered again", peer_label(p));
		peer_set_state(p, PEER_DIRECT);
		peer_event(p, "peer.path", NULL, NULL);
	}
}

static void
input_ping(struct peer *p, uint8_t type, const uint8_t *pl, size_t len,
    const struct sockaddr *from)
{
	struct packet_ping	pg;
	double			rtt;

	if (packet_ping_decode(pl, len, &pg) != 0) {
		p->pd->ctr.drop_malformed++;
		return;
	}
	if (type == PACKET_PING) {
		if (!input_proven(p, from)) {
			p->pd->ctr.drop_unproven++;
			return;
		}
		/* PONG echoes the PING exactly, padding included */
		e2e_session_send(p, PACKET_PONG, pl, len, from);
		choose_ping(p, pg.id);
		return;
	}
	rtt = punchd_time(p->pd) - pg.ts / 1e6;
	if (rtt < 0 || rtt > 3600 || choose_pong(p, pg.id, from, rtt))
		return;
	path_rtt(&p->path, rtt);
	if (p->pd->hooks.pong != NULL)
		p->pd->hooks.pong(p, pg.id, rtt);
}

/*
 * An authenticated packet from an address we do not know for this peer:
 * its NAT gave it a new mapping (a symmetric NAT after a flush or reboot,
 * a phone changing networks). The address is a peer-reflexive candidate,
 * and it is checked like any other (PUNCH, nomination) instead of being
 * trusted on sight: the path moves only once both directions are proven.
 */
static void
input_new_source(struct peer *p, const struct sockaddr *from)
{
	char a[NETADDR_STRLEN];

	if (punch_find(&p->punch, from) != -1 ||
	    punch_add_remote(&p->punch, CAND_PRFLX, from) == -1)
		return;
	log_info("peer %s: packets from a new address %s, checking it",
	    peer_label(p), netaddr_str(from, a, sizeof(a)));
	peer_changed(p->pd);
	if (p->punch.state != PUNCH_RUNNING)
		link_start_punch(p);	/* the current path stays meanwhile */
}

/*
 * Is an authenticated punch-family packet meant for us? The mesh key
 * authenticates it for every member, so a packet captured on one member's
 * path and replayed to another would pass; the receiver's node id in it
 * binds it to one node. Without an id (a peer punched by name and address
 * before its first answer), a PUNCH must name an address of ours as its
 * destination, or come from a candidate of a peer we are punching by name.
 * ACK and CONFIRM without an id only ever match our own transactions.
 */
static int
input_for_us(struct punchd *pd, const struct packet_hdr *h,
    const uint8_t *pl, size_t plen, const struct sockaddr *from)
{
	static const uint8_t	 zero[PACKET_NODEID_LEN];
	struct packet_punch	 pp;
	struct sockaddr_storage	 to;
	struct peer		*p;

	if (h->type < PACKET_PUNCH || h->type > PACKET_PUNCH_CONFIRM ||
	    packet_punch_decode(pl, plen, &pp) != 0)
		return 1;	/* the type's own checks come later */
	if (memcmp(pp.dest, zero, sizeof(zero)) != 0)
		return !memcmp(pp.dest, pd->node_id, PACKET_NODEID_LEN);
	if (h->type != PACKET_PUNCH)
		return 1;
	TAILQ_FOREACH(p, &pd->peers, entry)
		if (!p->bound && punch_find(&p->punch, from) != -1)
			return 1;
	if (packet_punch_get_addr(&pp, &to) == -1)
		return 0;
	if ((pd->has_mapped && netaddr_equal((struct sockaddr *)&to,
	    (struct sockaddr *)&pd->mapped)) ||
	    (pd->has_public4 && netaddr_equal((struct sockaddr *)&to,
	    (struct sockaddr *)&pd->public4)) || (pd->has_public6 &&
	    netaddr_equal((struct sockaddr *)&to,
	    (struct sockaddr *)&pd->public6)))
		return 1;
	return netaddr_port((struct sockaddr *)&to) == pd->cfg.port &&
	    netaddr_is_local((struct sockaddr *)&to);
}

/* Header, peer, replay, authenticator: the cheap checks first. */
static struct peer *
input_check(struct punchd *pd, uint8_t *buf, size_t len,
    const struct sockaddr *from, struct packet_hdr *h,
    const uint8_t **pl, size_t *plen)
{
	struct peer	*p;
	char		 a[NETADDR_STRLEN];
	int		 r;

	if (packet_peek(buf, len, h) != 0) {
		pd->ctr.drop_malformed++;
		return NULL;
	}
	if (!memcmp(h->sender, pd->node_id, PACKET_NODEID_LEN)) {
		pd->ctr.drop_self++;
		return NULL;
	}
	p = peer_find_id(pd, h->sender);
	/* per-session key: its own key id, sequence and replay window */
	if (h->flags & PACKET_F_SESSION) {
		if (p == NULL) {
			pd->ctr.drop_unknown++;
			return NULL;
		}
		return e2e_session_decrypt(p, buf, len, h, pl, plen) == 0 ?
		    p : NULL;
	}
	if (p != NULL && packet_replay_check(&p->replay, h->seq) != 0) {
		pd->ctr.drop_replay++;
		return NULL;
	}
	if ((r = packet_decode(buf, len, pd->key, h, pl, plen)) != 0) {
		if (r == PACKET_ERR_AUTH)
			pd->ctr.drop_auth++;
		else
			pd->ctr.drop_malformed++;
		return NULL;
	}
	if (!input_for_us(pd, h, *pl, *plen, from)) {
		pd->ctr.drop_misdirected++;
		return NULL;
	}
	if (p == NULL && (h->type == PACKET_PUNCH ||
	    h->type == PACKET_PUNCH_ACK))
		p = input_bind_named(pd, h, *pl, *plen, from);
	if (p == NULL) {
		/* only an authenticated PUNCH introduces a new peer */
		if (h->type != PACKET_PUNCH) {
			pd->ctr.drop_unknown++;
			return NULL;
		}
		if ((p = peer_create(pd, NULL)) == NULL)
			return NULL;
		peer_bind(p, h->sender);
		log_info("new peer %s punching from %s", p->idstr,
		    netaddr_str(from, a, sizeof(a)));
	}
	if (!e2e_session_mesh_ok(p, h->type))
		return NULL;	/* DATA must come under the session key */
	if (packet_replay_check_and_update(&p->replay, h->seq) != 0) {
		pd->ctr.drop_replay++;
		return NULL;
	}
	return p;
}

/*
 * One authenticated packet of peer p, from `from` over UDP, or through its
 * relay session when `from` is NULL. Punch packets never travel through a
 * relay (a relay is no candidate pair to check); a KEEPALIVE_ACK through
 * it counts only while the relay is the path.
 */
static void
input_dispatch(struct peer *p, const struct packet_hdr *h, const uint8_t *pl,
    size_t plen, size_t len, const struct sockaddr *from)
{
	struct punchd *pd = p->pd;

	p->last_seen = punchd_now(pd);
	p->rx_packets++;
	p->rx_bytes += len;
	if (from == NULL) {
		pd->ctr.relay_rx++;
		link_relay_up(p);
	} else if (h->type != PACKET_PUNCH && h->type != PACKET_PUNCH_ACK &&
	    h->type != PACKET_PUNCH_CONFIRM)
		input_new_source(p, from);
	pathwatch_heard(p, from, h->type == PACKET_DATA ||
	    h->type == PACKET_IP);
	switch (h->type) {
	case PACKET_PUNCH:
	case PACKET_PUNCH_ACK:
	case PACKET_PUNCH_CONFIRM:
		if (from != NULL)
			input_punch(p, h->type, pl, plen, from);
		break;
	case PACKET_KEEPALIVE:
		input_keepalive(p, h, pl, plen, from);
		break;
	case PACKET_KEEPALIVE_ACK:
		if (from != NULL || p->state == PEER_RELAYED)
			input_keepalive_ack(p, h, from);
		break;
	case PACKET_PING:
	case PACKET_PONG:
		input_ping(p, h->type, pl, plen, from);
		break;
	case PACKET_DATA:
		p->rx_data++;
		if (pd->events.data != NULL)
			pd->events.data(pd, p, pl, plen);
		break;
	case PACKET_IP:
		if (pd->hooks.ip != NULL)
			pd->hooks.ip(p, pl, plen);
		else
			pd->ctr.tun_off++;
		break;
	case PACKET_ANNOUNCE:
		if (pd->hooks.announce != NULL)
			pd->hooks.announce(p, pl, plen);
		break;
	case PACKET_E2E_INIT:
	case PACKET_E2E_RESP:
		e2e_session_handshake(p, h->type, pl, plen, from);
		break;
	}
}

static void
input_packet(struct punchd *pd, uint8_t *buf, size_t len,
    const struct sockaddr *from)
{
	struct packet_hdr	 h;
	struct peer		*p;
	const uint8_t		*pl;
	size_t			 plen;

	/* the join handshake runs under an invite's key, not the mesh's */
	if (packet_peek(buf, len, &h) == 0 && h.type >= PACKET_JOIN_HELLO &&
	    h.type <= PACKET_JOIN_REFUSE) {
		if (h.type == PACKET_JOIN_HELLO) {
			if (pd->hooks.join_hello != NULL)
				pd->hooks.join_hello(pd, buf, len, from);
		} else if (pd->hooks.join_reply != NULL)
			pd->hooks.join_reply(pd, buf, len, from);
		return;
	}
	if ((p = input_check(pd, buf, len, from, &h, &pl, &plen)) == NULL)
		return;
	input_dispatch(p, &h, pl, plen, len, from);
}

/*
 * Through the relay: only the peer this session belongs to, only after the
 * same checks as on UDP. Its first authenticated packet makes the relayed
 * path up; answers go back through the relay.
 */
static void
input_relay(struct peer *p, uint8_t *buf, size_t len)
{
	struct punchd		*pd = p->pd;
	struct packet_hdr	 h;
	const uint8_t		*pl;
	size_t			 plen;

	if (packet_peek(buf, len, &h) != 0 ||
	    memcmp(h.sender, p->id, PACKET_NODEID_LEN) != 0) {
		pd->ctr.drop_malformed++;
		return;
	}
	if (h.flags & PACKET_F_SESSION) {
		if (e2e_session_decrypt(p, buf, len, &h, &pl, &plen) != 0)
			return;
	} else {
		if (packet_replay_check(&p->replay, h.seq) != 0) {
			pd->ctr.drop_replay++;
			return;
		}
		if (packet_decode(buf, len, pd->key, &h, &pl, &plen) != 0) {
			pd->ctr.drop_auth++;
			return;
		}
		if (!e2e_session_mesh_ok(p, h.type))
			return;
		if (packet_replay_check_and_update(&p->replay, h.seq) != 0) {
			pd->ctr.drop_replay++;
			return;
		}
	}
	input_dispatch(p, &h, pl, plen, len, NULL);
}

void
input_init(struct punchd *pd)
{
	pd->hooks.packet_rx = input_packet;
	pd->hooks.relay_rx = input_relay;
}
