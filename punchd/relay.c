/*
 * Relay sessions for rendezvous and fallback: one relay client
 * (common/relay_client.h) per wanted peer, in a session only that pair
 * can name,
 *
 *     session = hex(BLAKE2b-128(key: mesh key, "atm-relay" || lo id || hi id))
 *
 * so the relay forwards between exactly these two nodes, and nobody outside
 * the mesh can find or join the session by guessing. Both sides join while
 * they want each other and have no direct path (punch started, or the
 * direct path died). Through it they
 *   - exchange candidates (SIGNAL frames, proto/relaymsg.h) so that both
 *     punch at once, each towards the other's host and server-reflexive
 *     addresses: the rendezvous;
 *   - carry the same authenticated packets as UDP (DATA frames) when no
 *     direct path completes: state "relayed". The path counts as up once an
 *     authenticated packet of that peer came through the session.
 * Re-punching goes on in the background (repunch); when a direct path
 * completes the peer moves to it (peer.path) and leaves the session.
 * This file is the transport only: what comes out of a session goes up
 * through pd->hooks (relay_rx, relay_cands, relay_met, relay_lost) to
 * input.c and peer.c, which decide what it means.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

#include "common/log.h"
#include "common/relay_client.h"
#include "proto/join.h"
#include "proto/relaymsg.h"
#include "punchd.h"

#define RELAY_MAX_URLS	8

/* The node's credential (relay_access.c), shared by every session; the
 * token alone where there is none (unit tests). */
static void
relay_cfg_cred(struct punchd *pd, struct relay_client_cfg *cfg)
{
	cfg->cred = pd->relay_cred;
	if (cfg->cred == NULL)
		cfg->token = pd->cfg.relay_token[0] ? pd->cfg.relay_token :
		    NULL;
}

/*
 * A join session (proto/join.h join_session) on one relay, for the join
 * handshake: the inviter waits in it while an invite is live, the joiner
 * comes to it. Started; NULL when the client cannot be made.
 */
struct relay_client *
relay_join_open(struct punchd *pd, const char *url, const uint8_t *secret,
    void (*on_frame)(void *, const void *, size_t),
    void (*on_state)(void *, enum relay_client_state, const char *),
    void *arg)
{
	return relay_join_open_token(pd, url, secret, NULL, on_frame,
	    on_state, arg);
}

/* An invite's own token is for its session only: not the node's
 * credential (yet), so not reported with it. */
struct relay_client *
relay_join_open_token(struct punchd *pd, const char *url,
    const uint8_t *secret, const char *token,
    void (*on_frame)(void *, const void *, size_t),
    void (*on_state)(void *, enum relay_client_state, const char *),
    void *arg)
{
	struct relay_client_url	 u;
	struct relay_client_cfg	 cfg;
	struct relay_client	*rc;
	char			 session[33];

	join_session(session, secret);
	u.url = url;
	u.region = NULL;
	memset(&cfg, 0, sizeof(cfg));
	cfg.urls = &u;
	cfg.nurls = 1;
	cfg.session = session;
	if (token != NULL)
		cfg.token = token;
	else
		relay_cfg_cred(pd, &cfg);
	cfg.on_frame = on_frame;
	cfg.on_state = on_state;
	cfg.arg = arg;
	if ((rc = relay_client_new(pd->loop, &cfg)) != NULL)
		relay_client_start(rc);
	return rc;
}

/* One of our packets from a frame, copied into buf (decoded in place
 * later): its length, or 0 for anything else. */
size_t
relay_frame_packet(const void *data, size_t len, uint8_t *buf, size_t cap)
{
	if (relaymsg_kind(data, len) != RELAYMSG_KIND_DATA || len > cap ||
	    !packet_is_ours(data, len))
		return 0;
	memcpy(buf, data, len);
	return len;
}

static int
relay_enabled(const struct punchd *pd)
{
	return pd->relay_urls[0] != '\0';
}

static void
relay_session_name(struct peer *p, char *buf, size_t len)
{
	struct punchd		*pd = p->pd;
	crypto_generichash_state st;
	uint8_t			 h[16];
	int			 lo = memcmp(pd->node_id, p->id,
				    PACKET_NODEID_LEN) < 0;

	crypto_generichash_init(&st, pd->key, sizeof(pd->key), sizeof(h));
	crypto_generichash_update(&st, (const uint8_t *)"atm-relay", 9);
	crypto_generichash_update(&st, lo ? pd->node_id : p->id,
	    PACKET_NODEID_LEN);
	crypto_generichash_update(&st, lo ? p->id : pd->node_id,
	    PACKET_NODEID_LEN);
	crypto_generichash_final(&st, h, sizeof(h));
	sodium_bin2hex(buf, len, h, sizeof(h));
}

static void
relay_cand(struct relaymsg_cand *c, const struct sockaddr_storage *ss,
    enum punch_cand_type type, int i)
{
	strlcpy(c->kind, punch_cand_type_str(type), sizeof(c->kind));
	netaddr_str((const struct sockaddr *)ss, c->addr, sizeof(c->addr));
	c->prio = punch_cand_prio(type, i);
}

/* Our candidates for the peer: host addresses, then the mapping(s):
 * the gateway's port mapping, then the STUN ones. */
static void
relay_signal_cands(struct peer *p)
{
	struct punchd		*pd = p->pd;
	struct relaymsg_signal	 sig;
	struct sockaddr_storage	 host[RELAYMSG_MAX_CANDS];
	uint8_t			 buf[2048];
	size_t			 len;
	int			 i, n = 0;

	memset(&sig, 0, sizeof(sig));
	strlcpy(sig.type, "candidates", sizeof(sig.type));
	strlcpy(sig.from, pd->node_idstr, sizeof(sig.from));
	sig.ts = (uint64_t)time(NULL) * 1000;
	if (pd->cfg.relay_signal_host)
		n = sock_host_addrs(pd, host, RELAYMSG_MAX_CANDS - 2);
	for (i = 0; i < n; i++)
		relay_cand(&sig.cands[i], &host[i], CAND_HOST, i);
	if (pd->has_mapped) {
		host[n++] = pd->mapped;
		relay_cand(&sig.cands[i], &host[i], CAND_MAPPED, i);
		i++;
	}
	if (pd->has_public4)
		host[n++] = pd->public4;
	if (pd->has_public6)
		host[n++] = pd->public6;
	for (; i < n; i++)
		relay_cand(&sig.cands[i], &host[i], CAND_SRFLX, i);
	sig.ncands = n;
	if ((len = relaymsg_signal_write(buf, sizeof(buf), &sig)) > 0)
		relay_client_send(p->relay, buf, len);
}

static void
relay_signal(struct peer *p)
{
	relay_signal_cands(p);
	/* and one authenticated packet, so that the peer can tell it is us */
	if (p->pd->hooks.relay_met != NULL)
		p->pd->hooks.relay_met(p);
}

int
relay_resignal(struct peer *p)
{
	if (p->relay == NULL ||
	    relay_client_state(p->relay) != RELAY_CLIENT_CONNECTED)
		return -1;
	relay_signal_cands(p);
	return 0;
}

/*
 * Our candidates changed (the gateway mapped our port): the peers we are
 * meeting on a relay without a direct path hear them again, so that a
 * relayed pair tries the new one (a mapped port takes a PUNCH from any
 * address, also from behind a symmetric NAT).
 */
void
relay_signal_all(struct punchd *pd)
{
	struct peer *p;

	TAILQ_FOREACH(p, &pd->peers, entry)
		if (p->relay != NULL && p->state != PEER_DIRECT &&
		    p->state != PEER_DEGRADED &&
		    relay_client_state(p->relay) == RELAY_CLIENT_CONNECTED)
			relay_signal(p);
}

/*
 * roam.c: an address of this host went away. A session's TCP connection
 * bound to it is dead without knowing it (no RST ever comes back to an
 * address that moved; the client would notice after 45 s without a
 * frame): connect again now, from the addresses we have.
 */
int
relay_reconnect(struct peer *p)
{
	if (p->relay == NULL)
		return -1;
	relay_client_stop(p->relay);
	relay_client_start(p->relay);
	return 0;
}

static int
relay_cands_new(const struct peer *p, const struct sockaddr_storage *cands,
    int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (punch_find(&p->punch, (const struct sockaddr *)&cands[i]) ==
		    -1)
			return 1;
	return 0;
}

/*
 * The type the peer gave a candidate: host, srflx and mapped are what it
 * knows and an address cannot tell (a global IPv6 host address looks
 * like a STUN mapping, and without NAT the two are one); anything else
 * is guessed from the address (CAND_NTYPES), as before. A PUNCH proves
 * the pair either way; the type only orders the checks.
 */
static enum punch_cand_type
relay_cand_kind(const char *kind)
{
	if (!strcmp(kind, "host"))
		return CAND_HOST;
	if (!strcmp(kind, "srflx"))
		return CAND_SRFLX;
	if (!strcmp(kind, "mapped"))
		return CAND_MAPPED;
	return CAND_NTYPES;
}

static void
relay_on_signal(struct peer *p, const void *data, size_t len)
{
	struct relaymsg_signal	 sig;
	struct sockaddr_storage	 cands[RELAYMSG_MAX_CANDS];
	enum punch_cand_type	 types[RELAYMSG_MAX_CANDS];
	size_t			 i;
	int			 n = 0;

	if (relaymsg_signal_read(data, len, &sig) == -1 ||
	    strcasecmp(sig.from, p->idstr) != 0 ||
	    strcmp(sig.type, "candidates") != 0)
		return;
	for (i = 0; i < sig.ncands; i++)
		if (netaddr_parse(sig.cands[i].addr, 0, &cands[n]) == 0)
			types[n++] = relay_cand_kind(sig.cands[i].kind);
	log_info("peer %s: %d candidate%s through the relay", peer_label(p),
	    n, n == 1 ? "" : "s");
	/* a degraded pair takes them too: its path is in doubt, and a peer
	 * that roamed signals its new candidates just then (roam.c); a
	 * direct one when one is new: the peer moved, and its new address
	 * is checked while the old path may still hold */
	if (n > 0 && (p->state != PEER_DIRECT || relay_cands_new(p, cands,
	    n)) && p->pd->hooks.relay_cands != NULL)
		p->pd->hooks.relay_cands(p, cands, types, n);
}

static void
relay_lost(struct peer *p, const char *reason)
{
	if (p->pd->hooks.relay_lost != NULL)
		p->pd->hooks.relay_lost(p, reason);
}

static void
relay_on_frame(void *arg, const void *data, size_t len)
{
	struct peer		*p = arg;
	struct relaymsg_control	 ctl;
	uint8_t			 buf[PACKET_MAX_LEN];

	switch (relaymsg_kind(data, len)) {
	case RELAYMSG_KIND_CONTROL:
		if (relaymsg_control_read(data, len, &ctl) == -1)
			return;
		if ((ctl.event == RELAYMSG_WELCOME && ctl.count > 1) ||
		    ctl.event == RELAYMSG_JOINED)
			relay_signal(p);	/* both there: rendezvous */
		else if (ctl.event == RELAYMSG_LEFT &&
		    p->state == PEER_RELAYED)
			relay_lost(p, "left the relay session");
		return;
	case RELAYMSG_KIND_SIGNAL:
		relay_on_signal(p, data, len);
		return;
	case RELAYMSG_KIND_DATA:
		if ((len = relay_frame_packet(data, len, buf,
		    sizeof(buf))) > 0 && p->pd->hooks.relay_rx != NULL)
			p->pd->hooks.relay_rx(p, buf, len);
		return;
	default:
		return;
	}
}

static void
relay_on_state(void *arg, enum relay_client_state state, const char *url)
{
	struct peer *p = arg;

	log_debug("peer %s: relay %s %s", peer_label(p),
	    relay_client_state_str(state), url != NULL ? url : "");
	relay_pick_seen(p, state, url);
	if (state != RELAY_CLIENT_CONNECTED && p->state == PEER_RELAYED)
		relay_lost(p, "relay connection lost");
}

void
relay_start(struct peer *p)
{
	struct punchd		*pd = p->pd;
	struct relay_client_url	 urls[RELAY_MAX_URLS];
	struct relay_client_cfg	 cfg;
	char			 list[sizeof(pd->relay_urls)];
	char			 session[64];
	size_t			 n;

	if (!relay_enabled(pd) || !p->bound)
		return;
	if (p->relay != NULL) {
		/*
		 * Still in the session, lingering after a switch to direct,
		 * and the direct path is gone: the peer is likely still there
		 * too, so no JOINED will come to start the rendezvous. Signal
		 * now: candidates, and a packet that makes the relayed path up.
		 */
		if (ev_is_active(&p->linger_timer)) {
			ev_timer_stop(pd->loop, &p->linger_timer);
			if (relay_client_state(p->relay) ==
			    RELAY_CLIENT_CONNECTED)
				relay_signal(p);
		}
		return;
	}
	/* the session's relays in its rendezvous order: the peer, with the
	 * same list, tries the same ones in the same order (relay_pick.c) */
	relay_session_name(p, session, sizeof(session));
	if ((n = relay_pick_order(pd, session, list, sizeof(list), urls,
	    RELAY_MAX_URLS)) == 0)
		return;
	memset(&cfg, 0, sizeof(cfg));
	cfg.urls = urls;
	cfg.nurls = n;
	cfg.session = session;
	cfg.primary_retry = pd->cfg.relay_return_ms / 1000.0;
	relay_cfg_cred(pd, &cfg);
	cfg.on_state = relay_on_state;
	cfg.on_frame = relay_on_frame;
	cfg.arg = p;
	if ((p->relay = relay_client_new(pd->loop, &cfg)) == NULL) {
		log_warn("peer %s: relay client", peer_label(p));
		return;
	}
	log_debug("peer %s: joining relay session %.8s... on %s first",
	    peer_label(p), session, urls[0].url);
	relay_client_start(p->relay);
}

void
relay_stop(struct peer *p)
{
	if (p->relay == NULL)
		return;
	relay_client_stop(p->relay);
	relay_client_free(p->relay);
	p->relay = NULL;
	p->relay_try_url = NULL;	/* pointed into the client */
}

int
relay_send(struct peer *p, const void *buf, size_t len)
{
	if (p->relay == NULL)
		return -1;
	return relay_client_send(p->relay, buf, len);
}

const char *
relay_url(const struct peer *p)
{
	return p->relay != NULL ? relay_client_url(p->relay) : NULL;
}

const struct relay_client_refusal *
relay_refusal(const struct peer *p)
{
	return p->relay != NULL ? relay_client_refusal(p->relay) : NULL;
}
