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
 * notification. "relayed" is reserved for the relay fallback (not done).
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "common/log.h"
#include "punchd.h"

#define container_of(p, t, m)	((t *)((char *)(p) - offsetof(t, m)))

static void peer_punch_timer_cb(struct ev_loop *, ev_timer *, int);
static void peer_ka_timer_cb(struct ev_loop *, ev_timer *, int);
static void peer_retry_timer_cb(struct ev_loop *, ev_timer *, int);
static void peer_linger_timer_cb(struct ev_loop *, ev_timer *, int);

/* s the relay session is kept after a direct path took over */
#define PEER_RELAY_LINGER	5.0

const char *
peer_state_str(enum peer_state s)
{
	static const char *const names[] = { "new", "punching", "direct",
	    "relayed", "degraded", "down" };

	return (unsigned)s < 6 ? names[s] : "?";
}

const char *
peer_label(const struct peer *p)
{
	return p->name[0] != '\0' ? p->name : p->idstr;
}

int
peer_is_up(const struct peer *p)
{
	return p->state == PEER_DIRECT || p->state == PEER_DEGRADED ||
	    p->state == PEER_RELAYED;
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
}

uint64_t
peer_send_pkt(struct peer *p, uint8_t type, const uint8_t *payload,
    size_t len, const struct sockaddr *to)
{
	return peer_send_pkt_flags(p, type, 0, payload, len, to);
}

/* flags: header flags for packets under the mesh key (PACKET_F_KA_MISSED) */
uint64_t
peer_send_pkt_flags(struct peer *p, uint8_t type, uint8_t flags,
    const uint8_t *payload, size_t len, const struct sockaddr *to)
{
	struct punchd		*pd = p->pd;
	uint8_t			 buf[PACKET_OVERHEAD + PUNCHD_MTU];
	struct packet_hdr	 h;
	ssize_t			 n;
	uint64_t		 seq;

	/* DATA, PING, PONG under the session key when there is one */
	if (e2e_send(p, type, payload, len, to, &seq))
		return seq;
	memset(&h, 0, sizeof(h));
	h.version = PACKET_VERSION;
	h.type = type;
	h.flags = flags;
	memcpy(h.sender, pd->node_id, PACKET_NODEID_LEN);
	h.seq = pd->seq++;
	if ((n = packet_encode(buf, sizeof(buf), &h, payload, len,
	    pd->key)) == -1) {
		log_warnx("%s: cannot encode %s", __func__,
		    packet_type_str(type));
		return h.seq;
	}
	if ((to != NULL ? sock_send(pd, buf, n, to) :
	    relay_peer_send(p, buf, n)) == 0) {
		p->tx_packets++;
		p->tx_bytes += n;
	}
	return h.seq;
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
	peer_send_pkt(p, type, buf, n, to);
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
	LIST_INIT(&p->waiters);
	STAILQ_INIT(&p->e2e_q);
	p->state = PEER_NEW;
	p->since = ev_now(pd->loop);
	if (name != NULL && strlen(name) == 2 * PACKET_NODEID_LEN &&
	    sodium_hex2bin(id, sizeof(id), name, strlen(name), NULL, NULL,
	    NULL) == 0)
		peer_bind(p, id);
	else if (name != NULL)
		strlcpy(p->name, name, sizeof(p->name));
	TAILQ_INSERT_TAIL(&pd->peers, p, entry);
	pd->npeers++;
	return p;
}

void
peer_free(struct peer *p)
{
	struct punchd *pd = p->pd;

	waiter_fail_all(p, "not_found", "peer removed");
	relay_peer_stop(p);
	ev_timer_stop(pd->loop, &p->punch_timer);
	ev_timer_stop(pd->loop, &p->ka_timer);
	ev_timer_stop(pd->loop, &p->retry_timer);
	ev_timer_stop(pd->loop, &p->linger_timer);
	e2e_peer_free(p);
	punch_free(&p->punch);
	TAILQ_REMOVE(&pd->peers, p, entry);
	pd->npeers--;
	free(p);
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
	p->since = ev_now(p->pd->loop);
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
	punch_start(&p->punch, ev_time());
	/* rendezvous: meet the peer on the relay, swap candidates */
	if (p->state != PEER_DIRECT && p->state != PEER_DEGRADED)
		relay_peer_start(p);
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
		control_peer_event(pd, p, "peer.path", NULL, NULL);
	} else if (!had) {
		log_info("peer %s up: direct via %s (%s), %.1f ms",
		    peer_label(p), a, punch_cand_type_str(pp->remote.type),
		    pp->rtt * 1000);
		control_peer_event(pd, p, "peer.up", NULL, NULL);
	} else if (!netaddr_equal((struct sockaddr *)&prev,
	    (struct sockaddr *)&p->endpoint)) {
		log_info("peer %s: path now %s", peer_label(p), a);
		control_peer_event(pd, p, "peer.path", NULL, &prev);
	}
	p->was_up = 1;
	p->down_notified = 0;
	store_changed(pd);
	waiter_punch_done(p, NULL, NULL);
	mesh_peer_up(p);
	e2e_peer_up(p);
}

void
peer_down(struct peer *p, const char *reason)
{
	struct punchd *pd = p->pd;

	ev_timer_stop(pd->loop, &p->ka_timer);
	peer_set_state(p, PEER_DOWN);
	/* once per outage: retries that fail again say nothing new */
	if (!p->down_notified) {
		p->down_notified = 1;
		log_info("peer %s down: %s", peer_label(p), reason);
		control_peer_event(pd, p, "peer.down", reason, NULL);
	}
}

static void
peer_punch_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct peer	*p = container_of(w, struct peer, punch_timer);
	double		 next;

	(void)revents;
	next = punch_tick(&p->punch, ev_time());
	if (next > 0) {
		ev_timer_set(w, next - ev_time(), 0);
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
	/* with a relay session open the waiters wait for it, up to their
	 * own deadline; without, nothing else can come */
	if (p->relay == NULL)
		waiter_punch_done(p, "timeout", "no candidate pair answered");
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
		relay_peer_stop(p);
}

static void
peer_ka_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct peer	*p = container_of(w, struct peer, ka_timer);
	int		 f;

	(void)revents;
	f = keepalive_tick(&p->ka, ev_now(loop));
	if (f & KA_MISSED)
		path_lost(&p->path);
	if (f & KA_WARN) {
		log_warnx("peer %s: %d keep-alives unanswered", peer_label(p),
		    p->ka.failures);
		peer_set_state(p, PEER_DEGRADED);
		control_peer_event(p->pd, p, "peer.path", NULL, NULL);
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
		peer_send_pkt_flags(p, PACKET_KEEPALIVE,
		    p->ka.failures > 0 ? PACKET_F_KA_MISSED : 0, NULL, 0,
		    peer_dest(p));
		keepalive_sent(&p->ka, ev_time());
	}
}

/*
 * (Re)start keep-alives on the path that just came up, with the running
 * configuration's timing. The smaller node id leads (keepalive.h).
 */
void
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

/* where the current path goes: the endpoint, or NULL for the relay */
const struct sockaddr *
peer_dest(const struct peer *p)
{
	return p->state == PEER_RELAYED ? NULL :
	    (const struct sockaddr *)&p->endpoint;
}

int
peer_send_data(struct peer *p, const void *data, size_t len)
{
	if (len > PUNCHD_MTU)
		return -2;
	if (!peer_is_up(p))
		return -1;
	peer_send_pkt(p, PACKET_DATA, data, len, peer_dest(p));
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
	pg.ts = (uint64_t)(ev_time() * 1e6);
	if ((n = packet_ping_encode(buf, sizeof(buf), &pg)) == -1)
		return -1;
	peer_send_pkt(p, PACKET_PING, buf, n, peer_dest(p));
	*id = pg.id;
	return 0;
}
