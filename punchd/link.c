/*
 * A peer's path over time, on top of the peer table (peer.c): punching
 * over its candidates, keep-alive on the chosen path, the relay fallback
 * and the upgrade back to direct, the data path.
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
 * peers file) hangs on pd->hooks: peer_up, punch_failed, peers_changed.
 */
#include <math.h>
#include <netinet/in.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "punchd.h"

static void link_punch_timer_cb(struct ev_loop *, ev_timer *, int);
static void link_ka_timer_cb(struct ev_loop *, ev_timer *, int);
static void link_retry_timer_cb(struct ev_loop *, ev_timer *, int);
static void link_linger_timer_cb(struct ev_loop *, ev_timer *, int);
static void link_relay_lost(struct peer *, const char *);
static void link_ka_start(struct peer *);

/* s the relay session is kept after a direct path took over */
#define LINK_RELAY_LINGER	5.0

/* (Re)arm one of p's timers (each is stopped first, so ev_init is safe). */
static void
link_timer(struct peer *p, ev_timer *w,
    void (*cb)(struct ev_loop *, ev_timer *, int), double after,
    double repeat)
{
	ev_timer_stop(p->pd->loop, w);
	ev_init(w, cb);
	ev_timer_set(w, after, repeat);
	ev_timer_start(p->pd->loop, w);
}

/* Private, loopback and link-local addresses are host candidates; the
 * rest was most likely learned from STUN on the other side. */
enum punch_cand_type
link_guess_type(const struct sockaddr *sa)
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
link_start_punch(struct peer *p)
{
	struct punchd *pd = p->pd;

	ev_timer_stop(pd->loop, &p->retry_timer);
	/* no UDP there (a browser): its relay session only, no punching */
	if (p->bound && members_relay_only(pd, p->id)) {
		relay_start(p);
		return;
	}
	if (!peer_is_up(p)) {
		ev_timer_stop(pd->loop, &p->ka_timer);
		peer_set_state(p, PEER_PUNCHING);
	}
	p->attempts++;
	punch_start(&p->punch, punchd_time(pd));
	/* rendezvous: meet the peer on the relay, swap candidates */
	if (p->state != PEER_DIRECT && p->state != PEER_DEGRADED)
		relay_start(p);
	link_timer(p, &p->punch_timer, link_punch_timer_cb, 0, 0);
}

void
link_punch(struct peer *p, const struct sockaddr_storage *cands, int n)
{
	link_punch_typed(p, cands, NULL, n);
}

void
link_punch_typed(struct peer *p, const struct sockaddr_storage *cands,
    const enum punch_cand_type *types, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (punch_add_remote(&p->punch, types != NULL &&
		    types[i] < CAND_NTYPES ? types[i] :
		    link_guess_type((const struct sockaddr *)&cands[i]),
		    (const struct sockaddr *)&cands[i]) == -1)
			log_warnx("peer %s: candidate list full",
			    peer_label(p));
	peer_changed(p->pd);
	if (p->punch.state == PUNCH_RUNNING)
		return;		/* the new pairs join the running attempt */
	if (p->state == PEER_DIRECT && n == 0)
		return;
	link_start_punch(p);
}

/* Pair i carries the peer's traffic from now on (choose.c decided):
 * reason, when given, goes with the peer.path event. */
void
link_up(struct peer *p, int i, const char *reason)
{
	struct punchd		*pd = p->pd;
	const struct punch_pair	*pp;
	struct sockaddr_storage	 prev = p->endpoint;
	int			 had = p->has_endpoint && peer_is_up(p);
	int			 relayed = p->state == PEER_RELAYED;
	char			 a[NETADDR_STRLEN];

	if (i < 0 || i >= p->punch.npairs)
		return;
	punch_use(&p->punch, i);
	pp = &p->punch.pairs[i];
	ev_timer_stop(pd->loop, &p->punch_timer);
	ev_timer_stop(pd->loop, &p->retry_timer);
	memset(&p->endpoint, 0, sizeof(p->endpoint));
	memcpy(&p->endpoint, &pp->remote.addr, sizeof(pp->remote.addr));
	p->has_endpoint = 1;
	/* another path, another NAT binding: its lifetime is unknown */
	if (!netaddr_equal((struct sockaddr *)&prev,
	    (struct sockaddr *)&p->endpoint))
		lifetime_reset(&p->life);
	if (pp->rtt > 0)
		path_rtt(&p->path, pp->rtt);
	peer_set_state(p, PEER_DIRECT);
	link_relay_leave_later(p);
	link_ka_start(p);
	pathwatch_start(p);
	netaddr_str((struct sockaddr *)&p->endpoint, a, sizeof(a));
	if (relayed) {
		log_info("peer %s: upgraded from the relay to direct via %s%s%s",
		    peer_label(p), a, reason != NULL ? ": " : "",
		    reason != NULL ? reason : "");
		peer_event(p, "peer.path", reason, NULL);
	} else if (!had) {
		log_info("peer %s up: direct via %s (%s), %.1f ms",
		    peer_label(p), a, punch_cand_type_str(pp->remote.type),
		    pp->rtt * 1000);
		peer_event(p, "peer.up", NULL, NULL);
	} else if (!netaddr_equal((struct sockaddr *)&prev,
	    (struct sockaddr *)&p->endpoint)) {
		log_info("peer %s: path now %s%s%s", peer_label(p), a,
		    reason != NULL ? ": " : "", reason != NULL ? reason : "");
		peer_event(p, "peer.path", reason, &prev);
	}
	p->was_up = 1;
	p->down_notified = 0;
	peer_changed(pd);
	if (pd->hooks.peer_up != NULL)
		pd->hooks.peer_up(p);
	e2e_session_peer_up(p);
	link_resend_back(p);
}

/*
 * The direct path answers again (link_up, failover.c's back) after a
 * doubt: what went out on it since its last answer before the doubt may
 * be lost, and its relay copy too when the peer never came into the
 * session (it saw nothing wrong: tests/natlab/48-punchd-lifetime.sh lost a datagram
 * sent into a binding a keep-alive probe had let expire). Again on the
 * path; the replay window drops the copies that did arrive. Only within
 * LINK_RESEND_BACK s of the doubt: older data is stale by now.
 */
#define LINK_RESEND_BACK	10.0

void
link_resend_back(struct peer *p)
{
	double	since = p->unsure_since;
	int	n;

	p->unsure_since = 0;
	if (since <= 0 || p->state != PEER_DIRECT || !p->has_endpoint ||
	    punchd_time(p->pd) - p->doubt_at > LINK_RESEND_BACK)
		return;
	if ((n = tx_resend(p, since, peer_dest(p))) > 0)
		log_info("peer %s: %d datagram%s sent since the path's last "
		    "answer, again on it", peer_label(p), n, n == 1 ? "" : "s");
}

/*
 * The relay carries the pair while a direct path is known: the direct
 * one died (failover.c) or costs more (choose.c). `event` is the
 * peer.path reason; after a peer.down it is a peer.up.
 */
void
link_relay_use(struct peer *p, const char *event, const char *why)
{
	struct punchd *pd = p->pd;

	link_relay_keep(p);
	peer_set_state(p, PEER_RELAYED);
	p->upgrade_tries = 0;
	upgrade_init(&p->upg, punchd_time(pd));
	link_ka_restart(p);
	log_info("peer %s: %s: relayed via %s", peer_label(p), why,
	    relay_url(p) != NULL ? relay_url(p) : "?");
	peer_event(p, p->was_up && !p->down_notified ? "peer.path" :
	    "peer.up", event, NULL);
	p->was_up = 1;
	p->down_notified = 0;
	peer_changed(pd);
}

/* Direct now: leave the relay session after a grace period in which the
 * peer may still be finishing its own switch. */
void
link_relay_leave_later(struct peer *p)
{
	if (p->relay == NULL)
		return;
	/* nothing depends on it now: a drop may wait the long backoff */
	relay_client_set_needed(p->relay, 0);
	if (!ev_is_active(&p->linger_timer))
		link_timer(p, &p->linger_timer, link_linger_timer_cb,
		    LINK_RELAY_LINGER, 0);
}

/* the peer counts as present in the relay session when it was heard
 * through it this recently (its own doubt makes it join and signal) */
#define LINK_RELAY_FRESH	10.0

/* Is the relay a path to the peer now: connected, the peer there? */
int
link_relay_met_recently(const struct peer *p)
{
	return p->relay != NULL &&
	    relay_client_state(p->relay) == RELAY_CLIENT_CONNECTED &&
	    punchd_time(p->pd) - p->relay_heard < LINK_RELAY_FRESH;
}

/* The relay carries the pair again: stay in the session. */
void
link_relay_keep(struct peer *p)
{
	ev_timer_stop(p->pd->loop, &p->linger_timer);
	if (p->relay != NULL)
		relay_client_set_needed(p->relay, 1);
}

void
link_down(struct peer *p, const char *reason)
{
	struct punchd *pd = p->pd;

	ev_timer_stop(pd->loop, &p->ka_timer);
	peer_set_state(p, PEER_DOWN);
	strlcpy(p->lost_why, reason, sizeof(p->lost_why));
	p->lost_at = punchd_time(pd);
	/* once per outage: retries that fail again say nothing new */
	if (!p->down_notified) {
		p->down_notified = 1;
		log_info("peer %s down: %s", peer_label(p), reason);
		peer_event(p, "peer.down", reason, NULL);
	}
}

static void
link_punch_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
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
		 * from repunch to 16 x repunch, but never waiting longer than
		 * punchd/upgrade says (15 s, 30 s, then every 60 s); a
		 * hopeless pair (hardnat.c) waits what upgrade says, 5 min
		 * doubling to an hour, unless a candidate changes */
		const char *hopeless = hardnat_hopeless(p);

		if (p->upgrade_tries < 4)
			p->upgrade_tries++;
		upgrade_failed(&p->upg, punchd_time(p->pd), hopeless != NULL,
		    hopeless != NULL ? hopeless : "no candidate pair answered");
		link_timer(p, &p->retry_timer, link_retry_timer_cb,
		    hopeless != NULL ? p->upg.next - punchd_time(p->pd) :
		    fmin(p->pd->cfg.repunch_ms / 1000.0 *
		    (1 << p->upgrade_tries), p->upg.next -
		    punchd_time(p->pd)), 0);
		return;
	}
	if (peer_is_up(p))
		return;
	/* with a relay session open pending punches wait for it, up to
	 * their own deadline; without, nothing else can come */
	if (p->relay == NULL && p->pd->hooks.punch_failed != NULL)
		p->pd->hooks.punch_failed(p);
	link_down(p, "punch timeout");
	if (p->punch.npairs > 0) {
		link_timer(p, &p->retry_timer, link_retry_timer_cb,
		    p->pd->cfg.repunch_ms / 1000.0, 0);
	}
}

static void
link_retry_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct peer *p = container_of(w, struct peer, retry_timer);

	(void)loop;
	(void)revents;
	if ((!peer_is_up(p) || p->state == PEER_RELAYED) &&
	    p->punch.state != PUNCH_RUNNING) {
		log_debug("peer %s: punching again", peer_label(p));
		link_start_punch(p);
	}
}

static void
link_linger_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct peer *p = container_of(w, struct peer, linger_timer);

	(void)loop;
	(void)revents;
	/* the peer still sends through it (its own choice), or choose.c
	 * keeps it as a path to compare: stay */
	if (p->relay_want || punchd_time(p->pd) - p->relay_heard <
	    LINK_RELAY_LINGER) {
		w->repeat = LINK_RELAY_LINGER;
		ev_timer_again(loop, w);
		return;
	}
	if (p->state == PEER_DIRECT || p->state == PEER_DEGRADED)
		relay_stop(p);
}

static void
link_ka_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct peer	*p = container_of(w, struct peer, ka_timer);
	int		 f;

	(void)revents;
	f = keepalive_tick(&p->ka, punchd_now(p->pd));
	if (f & KA_MISSED)
		link_ka_missed(p);
	if (f & KA_WARN) {
		log_warnx("peer %s: %d keep-alives unanswered", peer_label(p),
		    p->ka.failures);
		peer_set_state(p, PEER_DEGRADED);
		peer_event(p, "peer.path", NULL, NULL);
	}
	if ((f & KA_DEAD) && p->state == PEER_RELAYED) {
		link_relay_lost(p, "keep-alive timeout on the relay");
		return;
	}
	if (f & KA_DEAD) {
		ev_timer_stop(loop, w);
		link_down(p, "keep-alive timeout");
		/* re-punch over what we know, the dead endpoint included */
		link_start_punch(p);
		return;
	}
	if ((f & KA_SEND) && (p->has_endpoint || p->state == PEER_RELAYED))
		link_ka_send(p);
	else if (p->ka_timer.repeat != p->ka.interval) {
		p->ka_timer.repeat = p->ka.interval;
		ev_timer_again(loop, w);
	}
}

/*
 * (Re)start keep-alives on the path that just came up, with the running
 * configuration's timing, or shorter on a direct path whose NAT was seen
 * to forget sooner (punchd/lifetime.h: half the shortest fatal idle gap,
 * 5 s at the least). The smaller node id leads (keepalive.h) and sends its
 * first KEEPALIVE at once: the follower learns its schedule from it.
 */
static void
link_ka_start(struct peer *p)
{
	struct punchd		*pd = p->pd;
	double			 iv = pd->cfg.keepalive_interval_ms / 1000.0;
	struct keepalive	 was = p->ka;

	if (p->state != PEER_RELAYED)
		iv = fmin(iv, lifetime_interval(&p->life));
	keepalive_init(&p->ka, iv, pd->cfg.warn_after, pd->cfg.dead_after,
	    memcmp(pd->node_id, p->id, PACKET_NODEID_LEN) < 0);
	/* a follower keeps what it knows of the leader's schedule (the path
	 * restarts on every completed check; the leader's KEEPALIVE that
	 * announced it may have come just before) */
	if (!p->ka.lead && !was.lead && p->state != PEER_RELAYED) {
		p->ka.heard = was.heard;
		p->ka.lead_iv = was.lead_iv;
		p->ka.expect_at = was.expect_at;
		keepalive_set_interval(&p->ka, iv);
	}
	link_timer(p, &p->ka_timer, link_ka_timer_cb,
	    p->ka.lead ? 0 : p->ka.interval, p->ka.interval);
}

void
link_ka_restart(struct peer *p)
{
	link_ka_start(p);
}

/* A reload changed the keep-alive timing: apply it to the paths that are up. */
void
link_ka_retime(struct punchd *pd)
{
	struct peer *p;

	TAILQ_FOREACH(p, &pd->peers, entry)
		if (ev_is_active(&p->ka_timer))
			link_ka_start(p);
}

int
link_send_data(struct peer *p, const void *data, size_t len)
{
	int copied;

	if (len > PUNCHD_MTU)
		return -2;
	if (!peer_is_up(p))
		return -1;
	/* a doubted direct path, or one not heard since we roamed: through
	 * the relay too (tx_out); with a relay, kept for a resend in any
	 * case while direct */
	p->relay_copy = p->state == PEER_RELAYED ? 0 :
	    pathwatch_doubted(p) || roam_unconfirmed(p) ? 1 :
	    p->pd->relay_urls[0] != '\0' ? 3 : 0;
	e2e_session_send(p, PACKET_DATA, data, len, peer_dest(p));
	copied = p->relay_copy == 2;
	p->relay_copy = 0;
	p->tx_data++;
	if (p->state != PEER_RELAYED) {
		p->data_sent = punchd_time(p->pd);
		pathwatch_sent(p, 0);
	}
	return copied;
}

int
link_ping(struct peer *p, uint32_t *id)
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
link_relay_up(struct peer *p)
{
	struct punchd *pd = p->pd;

	if (p->state == PEER_RELAYED || p->state == PEER_DIRECT ||
	    p->state == PEER_DEGRADED)
		return;
	peer_set_state(p, PEER_RELAYED);
	p->upgrade_tries = 0;
	upgrade_init(&p->upg, punchd_time(pd));
	link_ka_start(p);
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
link_relay_lost(struct peer *p, const char *reason)
{
	if (p->state != PEER_RELAYED)
		return;
	link_down(p, reason);
	if (p->punch.state != PUNCH_RUNNING)
		link_start_punch(p);
}

/* what we sent on the direct path since its last answer may be lost:
 * again through the relay (the replay window drops what did arrive) */
static void
link_relay_resend(struct peer *p)
{
	int n;

	if ((n = tx_resend(p, p->health.last_heard, NULL)) > 0)
		log_info("peer %s: %d datagram%s sent since the path's last "
		    "answer, again through the relay", peer_label(p), n,
		    n == 1 ? "" : "s");
}

/* both of us are in the relay session: one authenticated packet, so that
 * the peer can tell it is us (and its relayed path comes up) */
static void
link_relay_met(struct peer *p)
{
	tx_send(p, PACKET_KEEPALIVE, 0, NULL, 0, NULL);
	/* we came here because the direct path went quiet, or we roamed
	 * (roam.c): the peer is here to get it */
	if (pathwatch_doubted(p) || roam_unconfirmed(p)) {
		link_relay_resend(p);
		p->unsure_since = 0;
	}
}

/*
 * The direct path fell in doubt (failover.c): into the pair's relay
 * session. A meeting there (link_relay_met) sends again what the path may
 * have lost; but a session already connected, not lingering (kept for
 * path choice, or met again after a reconnect before the doubt), has no
 * meeting to come: send it again now. A lingering one is signalled by
 * relay_start, which is a meeting.
 */
void
link_relay_join(struct peer *p)
{
	int lingering = ev_is_active(&p->linger_timer);

	relay_start(p);
	if (!lingering && p->relay != NULL &&
	    relay_client_state(p->relay) == RELAY_CLIENT_CONNECTED)
		link_relay_resend(p);
}

static void
link_relay_cands(struct peer *p, const struct sockaddr_storage *cands,
    const enum punch_cand_type *types, int n)
{
	int i;

	/* direct already: only new candidates are worth an attempt (a LAN
	 * pair beside a hairpin one, IPv6 beside IPv4: choose.c weighs
	 * them); a path in doubt is checked again on any (the peer that
	 * roamed signals just then, its new address may be one we knew) */
	for (i = 0; (p->state == PEER_DIRECT || p->state == PEER_DEGRADED) &&
	    !pathwatch_doubted(p) && i < n; i++)
		if (punch_find(&p->punch, (const struct sockaddr *)&cands[i])
		    == -1)
			break;
	if (i < n && p->state == PEER_DIRECT && !pathwatch_doubted(p) &&
	    p->has_endpoint && p->watching) {
		/* the peer may have moved (roam.c): the path in use answers
		 * a probe now or falls in doubt; until it answers, a new pair
		 * proven takes over at once (choose_selected) */
		p->moved_at = punchd_time(p->pd);
		tx_send(p, PACKET_KEEPALIVE, 0, NULL, 0,
		    (const struct sockaddr *)&p->endpoint);
		pathwatch_sent(p, 1);
	}
	if (i < n)
		link_punch_typed(p, cands, types, n);
}

void
link_init(struct punchd *pd)
{
	pd->hooks.relay_cands = link_relay_cands;
	pd->hooks.relay_met = link_relay_met;
	pd->hooks.relay_lost = link_relay_lost;
}
