/*
 * Peers: the table, their states and the glue between the socket, the
 * punch and keep-alive state machines, and IPC notifications.
 *
 *   new -> punching -> direct <-> degraded
 *             ^  |        |          |
 *             |  v        v          v
 *             +- down <---+----------+   (keep-alive dead: re-punch;
 *                                          punch failed: down, retried)
 *
 * Every change of state or endpoint is a peer.up / peer.path / peer.down
 * event (pd->events). "relayed": no direct path, but an authenticated
 * packet of the peer came through its relay session (relay.c); punching
 * goes on in the background and moves the peer to direct when it can.
 * What happens above (pending requests, announcements, the join, the
 * peers file) hangs on pd->hooks: peer_up, punch_failed, peer_freeing,
 * peers_changed.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "common/log.h"
#include "common/util.h"
#include "punchd.h"

static void peer_punch_timer_cb(struct ev_loop *, ev_timer *, int);
static void peer_ka_timer_cb(struct ev_loop *, ev_timer *, int);
static void peer_retry_timer_cb(struct ev_loop *, ev_timer *, int);
static void peer_linger_timer_cb(struct ev_loop *, ev_timer *, int);
static void peer_relay_lost(struct peer *, const char *);
static void peer_ka_start(struct peer *);

/* s the relay session is kept after a direct path took over */
#define PEER_RELAY_LINGER	5.0

const char *
peer_state_str(enum peer_state s)
{
	static const char *const names[] = { "new", "punching", "direct",
	    "relayed", "degraded", "down" };

	return (unsigned)s < 6 ? names[s] : "?";
}

/* the path a peer's traffic takes now: "direct", "relay", or NULL */
const char *
peer_path(const struct peer *p)
{
	if (p->state == PEER_RELAYED)
		return "relay";
	return peer_is_up(p) ? "direct" : NULL;
}

void
peer_changed(struct punchd *pd)
{
	if (pd->hooks.peers_changed != NULL)
		pd->hooks.peers_changed(pd);
}

void
peer_event(struct peer *p, const char *event, const char *reason,
    const struct sockaddr_storage *previous)
{
	struct punchd *pd = p->pd;

	if (pd->events.peer != NULL)
		pd->events.peer(pd, p, event, reason, previous);
}

struct peer *
peer_find(struct punchd *pd, const char *name)
{
	struct peer *p;

	TAILQ_FOREACH(p, &pd->peers, entry)
		if (!strcmp(p->name, name) ||
		    (p->bound && !strcasecmp(p->idstr, name)))
			return p;
	return NULL;
}

struct peer *
peer_find_id(struct punchd *pd, const uint8_t *id)
{
	struct peer *p;

	TAILQ_FOREACH(p, &pd->peers, entry)
		if (p->bound && !memcmp(p->id, id, PACKET_NODEID_LEN))
			return p;
	return NULL;
}

void
peer_bind(struct peer *p, const uint8_t *id)
{
	memcpy(p->id, id, PACKET_NODEID_LEN);
	sodium_bin2hex(p->idstr, sizeof(p->idstr), id, PACKET_NODEID_LEN);
	p->bound = 1;
	/* the larger node id controls nomination */
	p->punch.controlling = memcmp(p->pd->node_id, id,
	    PACKET_NODEID_LEN) > 0;
	peer_changed(p->pd);
}

static void
peer_punch_send(void *arg, uint8_t type, const struct packet_punch *pp,
    const struct sockaddr *to)
{
	struct peer		*p = arg;
	struct packet_punch	 out = *pp;
	uint8_t			 buf[PACKET_PUNCH_LEN];
	int			 n;

	if (p->bound)
		memcpy(out.dest, p->id, PACKET_NODEID_LEN);
	else
		memset(out.dest, 0, PACKET_NODEID_LEN);
	if ((n = packet_punch_encode(buf, sizeof(buf), &out)) == -1)
		return;
	tx_send(p, type, 0, buf, n, to);
}

static void
peer_rand(void *arg, uint8_t *buf, size_t len)
{
	(void)arg;
	randombytes_buf(buf, len);
}

struct peer *
peer_create(struct punchd *pd, const char *name)
{
	struct punch_params	 pp;
	struct peer		*p;
	uint8_t			 id[PACKET_NODEID_LEN];

	if (pd->npeers >= PUNCHD_MAX_PEERS) {
		pd->ctr.peers_full++;
		return NULL;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->pd = pd;
	pp.interval = pd->cfg.punch_interval_ms / 1000.0;
	pp.timeout = pd->cfg.punch_timeout_ms / 1000.0;
	pp.max_sends = pd->cfg.max_retries;
	punch_init(&p->punch, &pp, peer_punch_send, peer_rand, p);
	keepalive_init(&p->ka, pd->cfg.keepalive_interval_ms / 1000.0,
	    pd->cfg.warn_after, pd->cfg.dead_after, 0);
	path_init(&p->path);
	packet_replay_reset(&p->replay);
	ev_init(&p->punch_timer, peer_punch_timer_cb);
	ev_init(&p->ka_timer, peer_ka_timer_cb);
	ev_init(&p->retry_timer, peer_retry_timer_cb);
	ev_init(&p->linger_timer, peer_linger_timer_cb);
	LIST_INIT(&p->pending);
	STAILQ_INIT(&p->e2e_q);
	p->state = PEER_NEW;
	p->since = punchd_now(pd);
	if (name != NULL && strlen(name) == 2 * PACKET_NODEID_LEN &&
	    sodium_hex2bin(id, sizeof(id), name, strlen(name), NULL, NULL,
	    NULL) == 0)
		peer_bind(p, id);
	else if (name != NULL)
		strlcpy(p->name, name, sizeof(p->name));
	TAILQ_INSERT_TAIL(&pd->peers, p, entry);
	pd->npeers++;
	peer_changed(pd);
	return p;
}

void
peer_free(struct peer *p)
{
	struct punchd *pd = p->pd;

	if (pd->hooks.peer_freeing != NULL)
		pd->hooks.peer_freeing(p);
	relay_stop(p);
	ev_timer_stop(pd->loop, &p->punch_timer);
	ev_timer_stop(pd->loop, &p->ka_timer);
	ev_timer_stop(pd->loop, &p->retry_timer);
	ev_timer_stop(pd->loop, &p->linger_timer);
	e2e_session_peer_free(p);
	punch_free(&p->punch);
	TAILQ_REMOVE(&pd->peers, p, entry);
	pd->npeers--;
	free(p);
	peer_changed(pd);
}

void
peer_free_all(struct punchd *pd)
{
	while (!TAILQ_EMPTY(&pd->peers))
		peer_free(TAILQ_FIRST(&pd->peers));
}

void
peer_set_state(struct peer *p, enum peer_state s)
{
	if (p->state == s)
		return;
	log_debug("peer %s: %s -> %s", peer_label(p), peer_state_str(p->state),
	    peer_state_str(s));
	p->state = s;
	p->since = punchd_now(p->pd);
}

/* Private, loopback and link-local addresses are host candidates; the
 * rest was most likely learned from STUN on the other side. */
static enum punch_cand_type
peer_guess_type(const struct sockaddr *sa)
{
	const uint8_t *a;

	if (sa->sa_family == AF_INET) {
		a = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
		if (a[0] == 10 || a[0] == 127 || (a[0] == 172 &&
		    (a[1] & 0xf0) == 16) || (a[0] == 192 && a[1] == 168) ||
		    (a[0] == 169 && a[1] == 254))
			return CAND_HOST;
		return CAND_SRFLX;
	}
	a = (const uint8_t *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
	if ((a[0] & 0xfe) == 0xfc || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) ||
	    IN6_IS_ADDR_LOOPBACK((const struct in6_addr *)a))
		return CAND_HOST;
	return CAND_SRFLX;
}

void
peer_start_punch(struct peer *p)
{
	struct punchd *pd = p->pd;

	ev_timer_stop(pd->loop, &p->retry_timer);
	if (!peer_is_up(p)) {
		ev_timer_stop(pd->loop, &p->ka_timer);
		peer_set_state(p, PEER_PUNCHING);
	}
	p->attempts++;
	punch_start(&p->punch, punchd_time(pd));
	/* rendezvous: meet the peer on the relay, swap candidates */
	if (p->state != PEER_DIRECT && p->state != PEER_DEGRADED)
		relay_start(p);
	ev_timer_stop(pd->loop, &p->punch_timer);
	ev_timer_set(&p->punch_timer, 0, 0);
	ev_timer_start(pd->loop, &p->punch_timer);
}

void
peer_punch(struct peer *p, const struct sockaddr_storage *cands, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (punch_add_remote(&p->punch, peer_guess_type(
		    (const struct sockaddr *)&cands[i]),
		    (const struct sockaddr *)&cands[i]) == -1)
			log_warnx("peer %s: candidate list full",
			    peer_label(p));
	peer_changed(p->pd);
	if (p->punch.state == PUNCH_RUNNING)
		return;		/* the new pairs join the running attempt */
	if (p->state == PEER_DIRECT && n == 0)
		return;
	peer_start_punch(p);
}

void
peer_up(struct peer *p)
{
	struct punchd		*pd = p->pd;
	const struct punch_pair	*pp = punch_selected(&p->punch);
	struct sockaddr_storage	 prev = p->endpoint;
	int			 had = p->has_endpoint && peer_is_up(p);
	int			 relayed = p->state == PEER_RELAYED;
	char			 a[NETADDR_STRLEN];

	if (pp == NULL)
		return;
	ev_timer_stop(pd->loop, &p->punch_timer);
	ev_timer_stop(pd->loop, &p->retry_timer);
	memset(&p->endpoint, 0, sizeof(p->endpoint));
	memcpy(&p->endpoint, &pp->remote.addr, sizeof(pp->remote.addr));
	p->has_endpoint = 1;
	if (pp->rtt > 0)
		path_rtt(&p->path, pp->rtt);
	peer_set_state(p, PEER_DIRECT);
	/* direct now: leave the relay session, after a grace period in
	 * which the peer may still be finishing its own switch */
	if (p->relay != NULL && !ev_is_active(&p->linger_timer)) {
		ev_timer_set(&p->linger_timer, PEER_RELAY_LINGER, 0);
		ev_timer_start(pd->loop, &p->linger_timer);
	}
	peer_ka_start(p);
	netaddr_str((struct sockaddr *)&p->endpoint, a, sizeof(a));
	if (relayed) {
		log_info("peer %s: upgraded from the relay to direct via %s",
		    peer_label(p), a);
		peer_event(p, "peer.path", NULL, NULL);
	} else if (!had) {
		log_info("peer %s up: direct via %s (%s), %.1f ms",
		    peer_label(p), a, punch_cand_type_str(pp->remote.type),
		    pp->rtt * 1000);
		peer_event(p, "peer.up", NULL, NULL);
	} else if (!netaddr_equal((struct sockaddr *)&prev,
	    (struct sockaddr *)&p->endpoint)) {
		log_info("peer %s: path now %s", peer_label(p), a);
		peer_event(p, "peer.path", NULL, &prev);
	}
	p->was_up = 1;
	p->down_notified = 0;
	peer_changed(pd);
	if (pd->hooks.peer_up != NULL)
		pd->hooks.peer_up(p);
	e2e_session_peer_up(p);
}

static void
peer_down(struct peer *p, const char *reason)
{
	struct punchd *pd = p->pd;

	ev_timer_stop(pd->loop, &p->ka_timer);
	peer_set_state(p, PEER_DOWN);
	/* once per outage: retries that fail again say nothing new */
	if (!p->down_notified) {
		p->down_notified = 1;
		log_info("peer %s down: %s", peer_label(p), reason);
		peer_event(p, "peer.down", reason, NULL);
	}
}

static void
peer_punch_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct peer	*p = container_of(w, struct peer, punch_timer);
	double		 next;

	(void)revents;
	next = punch_tick(&p->punch, punchd_time(p->pd));
	if (next > 0) {
		ev_timer_set(w, next - punchd_time(p->pd), 0);
		ev_timer_start(loop, w);
		return;
	}
	if (p->punch.state != PUNCH_FAILED)
		return;
	if (p->state == PEER_RELAYED) {
		/* upgrade attempts go on in the background, backing off
		 * from repunch to 16 x repunch: a NAT that refused a few
		 * times will most likely go on refusing */
		if (p->upgrade_tries < 4)
			p->upgrade_tries++;
		ev_timer_set(&p->retry_timer, p->pd->cfg.repunch_ms / 1000.0 *
		    (1 << p->upgrade_tries), 0);
		ev_timer_start(loop, &p->retry_timer);
		return;
	}
	if (peer_is_up(p))
		return;
	/* with a relay session open pending punches wait for it, up to
	 * their own deadline; without, nothing else can come */
	if (p->relay == NULL && p->pd->hooks.punch_failed != NULL)
		p->pd->hooks.punch_failed(p);
	peer_down(p, "punch timeout");
	if (p->punch.npairs > 0) {
		ev_timer_set(&p->retry_timer, p->pd->cfg.repunch_ms / 1000.0,
		    0);
		ev_timer_start(loop, &p->retry_timer);
	}
}

static void
peer_retry_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct peer *p = container_of(w, struct peer, retry_timer);

	(void)loop;
	(void)revents;
	if ((!peer_is_up(p) || p->state == PEER_RELAYED) &&
	    p->punch.state != PUNCH_RUNNING) {
		log_debug("peer %s: punching again", peer_label(p));
		peer_start_punch(p);
	}
}

static void
peer_linger_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct peer *p = container_of(w, struct peer, linger_timer);

	(void)loop;
	(void)revents;
	if (p->state == PEER_DIRECT || p->state == PEER_DEGRADED)
		relay_stop(p);
}

static void
peer_ka_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct peer	*p = container_of(w, struct peer, ka_timer);
	int		 f;

	(void)revents;
	f = keepalive_tick(&p->ka, punchd_now(p->pd));
	if (f & KA_MISSED)
		path_lost(&p->path);
	if (f & KA_WARN) {
		log_warnx("peer %s: %d keep-alives unanswered", peer_label(p),
		    p->ka.failures);
		peer_set_state(p, PEER_DEGRADED);
		peer_event(p, "peer.path", NULL, NULL);
	}
	if ((f & KA_DEAD) && p->state == PEER_RELAYED) {
		peer_relay_lost(p, "keep-alive timeout on the relay");
		return;
	}
	if (f & KA_DEAD) {
		ev_timer_stop(loop, w);
		peer_down(p, "keep-alive timeout");
		/* re-punch over what we know, the dead endpoint included */
		peer_start_punch(p);
		return;
	}
	if ((f & KA_SEND) && (p->has_endpoint || p->state == PEER_RELAYED)) {
		tx_send(p, PACKET_KEEPALIVE,
		    p->ka.failures > 0 ? PACKET_F_KA_MISSED : 0, NULL, 0,
		    peer_dest(p));
		keepalive_sent(&p->ka, punchd_time(p->pd));
	}
}

/*
 * (Re)start keep-alives on the path that just came up, with the running
 * configuration's timing. The smaller node id leads (keepalive.h).
 */
static void
peer_ka_start(struct peer *p)
{
	struct punchd *pd = p->pd;

	keepalive_init(&p->ka, pd->cfg.keepalive_interval_ms / 1000.0,
	    pd->cfg.warn_after, pd->cfg.dead_after,
	    memcmp(pd->node_id, p->id, PACKET_NODEID_LEN) < 0);
	ev_timer_stop(pd->loop, &p->ka_timer);
	ev_timer_set(&p->ka_timer, p->ka.interval, p->ka.interval);
	ev_timer_start(pd->loop, &p->ka_timer);
}

/* A reload changed the keep-alive timing: apply it to the paths that are up. */
void
peer_ka_retime(struct punchd *pd)
{
	struct peer *p;

	TAILQ_FOREACH(p, &pd->peers, entry)
		if (ev_is_active(&p->ka_timer))
			peer_ka_start(p);
}

int
peer_send_data(struct peer *p, const void *data, size_t len)
{
	if (len > PUNCHD_MTU)
		return -2;
	if (!peer_is_up(p))
		return -1;
	e2e_session_send(p, PACKET_DATA, data, len, peer_dest(p));
	p->tx_data++;
	return 0;
}

int
peer_ping(struct peer *p, uint32_t *id)
{
	struct packet_ping	pg;
	uint8_t			buf[PACKET_PING_LEN];
	int			n;

	if (!peer_is_up(p))
		return -1;
	pg.id = ++p->ping_id;
	pg.ts = (uint64_t)(punchd_time(p->pd) * 1e6);
	if ((n = packet_ping_encode(buf, sizeof(buf), &pg)) == -1)
		return -1;
	e2e_session_send(p, PACKET_PING, buf, n, peer_dest(p));
	*id = pg.id;
	return 0;
}

/* An authenticated packet of this peer came through the relay. */
void
peer_relay_up(struct peer *p)
{
	struct punchd *pd = p->pd;

	if (p->state == PEER_RELAYED || p->state == PEER_DIRECT ||
	    p->state == PEER_DEGRADED)
		return;
	peer_set_state(p, PEER_RELAYED);
	p->upgrade_tries = 0;
	peer_ka_start(p);
	log_info("peer %s up: relayed via %s", peer_label(p),
	    relay_url(p) != NULL ? relay_url(p) : "?");
	/* after a peer.down the peer is up again, as on the direct path;
	 * without one, only its path changed */
	peer_event(p, p->was_up && !p->down_notified ? "peer.path" :
	    "peer.up", NULL, NULL);
	p->was_up = 1;
	p->down_notified = 0;
	peer_changed(pd);	/* a relay-only peer must survive a restart */
	if (pd->hooks.peer_up != NULL)
		pd->hooks.peer_up(p);
	e2e_session_peer_up(p);
	/* keep trying direct: the punch attempt runs on, then repunch */
}

/* The relayed path is gone (relay down, peer left, keep-alives lost). */
static void
peer_relay_lost(struct peer *p, const char *reason)
{
	if (p->state != PEER_RELAYED)
		return;
	peer_down(p, reason);
	if (p->punch.state != PUNCH_RUNNING)
		peer_start_punch(p);
}

/* both of us are in the relay session: one authenticated packet, so that
 * the peer can tell it is us (and its relayed path comes up) */
static void
peer_relay_met(struct peer *p)
{
	tx_send(p, PACKET_KEEPALIVE, 0, NULL, 0, NULL);
}

static void
peer_relay_cands(struct peer *p, const struct sockaddr_storage *cands, int n)
{
	peer_punch(p, cands, n);
}

void
peer_init(struct punchd *pd)
{
	pd->hooks.relay_cands = peer_relay_cands;
	pd->hooks.relay_met = peer_relay_met;
	pd->hooks.relay_lost = peer_relay_lost;
}
