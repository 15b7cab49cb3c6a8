/*
 * The peer table: peers by name and node id, created, bound to a node id,
 * freed; their state and how it is reported (pd->events: peer.up,
 * peer.path, peer.down; hooks.peers_changed for the peers file). What a
 * peer's path does over time (punching, keep-alive, relay fallback) is
 * link.c's, one layer up.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "common/log.h"
#include "punchd.h"

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
	p->pair_fd = -1;
	pp.interval = pd->cfg.punch_interval_ms / 1000.0;
	pp.timeout = pd->cfg.punch_timeout_ms / 1000.0;
	pp.max_sends = pd->cfg.max_retries;
	punch_init(&p->punch, &pp, peer_punch_send, peer_rand, p);
	keepalive_init(&p->ka, pd->cfg.keepalive_interval_ms / 1000.0,
	    pd->cfg.warn_after, pd->cfg.dead_after, 0);
	path_init(&p->path);
	lifetime_init(&p->life);
	packet_replay_reset(&p->replay);
	/* the timers are link.c's, set up as it starts them */
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
	ev_timer_stop(pd->loop, &p->health_timer);
	ev_timer_stop(pd->loop, &p->expect_timer);
	ev_timer_stop(pd->loop, &p->choose_timer);
	free(p->choose);	/* choose.c's, one layer up */
	e2e_session_peer_free(p);
	tx_kept_free(p);
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
