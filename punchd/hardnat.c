/*
 * Hard-NAT traversal for one peer (see hardnat.h): with both sides' NAT
 * behaviour known, birthday_strategy() says what helps; when the peer
 * maps per destination with sequential ports we probe its predicted ports
 * (natpredict) from our one socket, planned and bounded by punchd/birthday
 * (rate, total budget, window). Each probe is an authenticated PUNCH with
 * the transaction id of the pair to the peer's server-reflexive address,
 * so the PUNCH_ACK that comes back from the predicted mapping completes an
 * ordinary check (punch_input takes the answering address as a
 * peer-reflexive pair). The result stays for `meshctl why`.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "hardnat_priv.h"
#include "proto/relaymsg.h"

/* the peer's first PUNCHes must have opened the mapping being predicted */
#define HARDNAT_DELAY	0.1
/* sequential on both sides: ports per side (docs/paths-logic.md) */
#define HARDNAT_STRIDE_PORTS	64
/* other hosts' drift is believed this far at most */
#define HARDNAT_MAX_DRIFT	1000.0

static void	hardnat_timer_cb(struct ev_loop *, ev_timer *, int);

static void
hardnat_send_cb(void *arg, int sock, uint16_t port)
{
	struct hardnat		*hn = arg;
	struct peer		*p = hn->p;
	struct sockaddr_storage	 to = hn->their_public;
	int			 i;

	(void)sock;
	if ((i = punch_find(&p->punch, (struct sockaddr *)&hn->their_public))
	    == -1 && (i = p->punch.npairs > 0 ? 0 : -1) == -1)
		return;
	netaddr_set_port((struct sockaddr *)&to, port);
	punch_probe(&p->punch, i, (struct sockaddr *)&to,
	    punchd_time(p->pd));
	hn->probes++;
}

static int
hardnat_ours_side(struct punchd *pd)
{
	return hardnat_behav_side(&pd->nat_ours);
}

/* what to try for this pair, from both behaviours */
static void
hardnat_plan(struct hardnat *hn)
{
	struct punchd *pd = hn->p->pd;

	hn->strategy = birthday_strategy(hardnat_ours_side(pd),
	    hardnat_behav_side(&hn->theirs), &hn->role, &hn->why);
}

/* the predicted ports of the peer's next mapping; their count */
static size_t
hardnat_predict(struct hardnat *hn, double now)
{
	struct natpredict	 np;
	struct peer		*p = hn->p;
	double			 drift;

	drift = hn->theirs.rate * (now - hn->theirs.seen_at);
	memset(&np, 0, sizeof(np));
	np.last_port = hn->theirs.last_port;
	np.delta = hn->theirs.delta;
	np.jitter = hn->theirs.jitter;
	np.drift = isfinite(drift) && drift > 0 ?
	    fmin(drift, HARDNAT_MAX_DRIFT) : 0;
	np.steps = 1;
	if (hardnat_ours_side(p->pd) == BDAY_SIDE_SEQ)
		/* both sequential: strides 1 (smaller node id) and 2 */
		return natpredict_stride(&np, memcmp(p->pd->node_id, p->id,
		    PACKET_NODEID_LEN) < 0 ? 1 : 2, hn->run->ports,
		    HARDNAT_STRIDE_PORTS);
	return natpredict_ports(&np, hn->run->ports, NATPREDICT_MAX);
}

static void
hardnat_run_free(struct hardnat *hn)
{
	free(hn->run);
	hn->run = NULL;
}

static void
hardnat_start(struct hardnat *hn)
{
	struct peer		*p = hn->p;
	struct punchd		*pd = p->pd;
	struct birthday_cfg	 cfg;
	struct birthday_cb	 cb = { NULL, hardnat_send_cb, NULL, hn };
	double			 now = punchd_time(pd);
	size_t			 n = 0;
	uint64_t		 seed;
	char			 a[NETADDR_STRLEN];

	if (hn->running || p->state == PEER_DIRECT ||
	    p->state == PEER_DEGRADED || !hn->has_public)
		return;
	hardnat_plan(hn);
	if (hn->role == BDAY_NONE)
		return;		/* nothing for this side to send */
	if ((hn->run = calloc(1, sizeof(*hn->run))) == NULL)
		return;
	birthday_defaults(&cfg, hn->role);
	if (hn->strategy == BDAY_PREDICT) {
		if ((n = hardnat_predict(hn, now)) == 0) {
			hardnat_run_free(hn);
			return;
		}
		cfg.ports = hn->run->ports;
		cfg.nports = n;
	}
	if (hn->role == BDAY_HARD) {
		/* a new run: the last winner's socket goes, its pair too */
		hardnat_sock_drop_winner(hn);
		if (hardnat_sock_alloc(hn, cfg.sockets) == -1) {
			hardnat_run_free(hn);
			return;
		}
		cb.open_cb = hardnat_sock_open;
		cb.send_cb = hardnat_sock_send;
		cb.close_cb = hardnat_sock_close;
	}
	arc4random_buf(&seed, sizeof(seed));
	if (birthday_start(&hn->run->b, &cfg, &cb, now, seed) == -1) {
		hardnat_sock_free(hn);
		hardnat_run_free(hn);
		return;
	}
	hn->running = 1;
	hn->runs++;
	netaddr_str((struct sockaddr *)&hn->their_public, a, sizeof(a));
	if (hn->role == BDAY_HARD)
		log_info("peer %s: %s; %u extra sockets towards %s",
		    peer_label(p), hn->why, cfg.sockets, a);
	else if (n > 0)
		log_info("peer %s: %s; probing %zu predicted ports of %s "
		    "from %u", peer_label(p), hn->why, n, a, hn->run->ports[0]);
	else
		log_info("peer %s: %s; probing random ports of %s",
		    peer_label(p), hn->why, a);
	ev_timer_set(&hn->timer, 0, 0);
	ev_timer_start(pd->loop, &hn->timer);
}

/* the run is over: keep its result */
static void
hardnat_over(struct hardnat *hn)
{
	hn->running = 0;
	hardnat_sock_free(hn);
	/* probing that failed: only a change can help (upgrade.h) */
	hn->hopeless = hn->run->b.state == BDAY_FAILED &&
	    hn->strategy == BDAY_BIRTHDAY;
	strlcpy(hn->result, hn->run->b.reason, sizeof(hn->result));
	hardnat_run_free(hn);
	log_info("peer %s: %s", peer_label(hn->p), hn->result);
}

static void
hardnat_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct hardnat	*hn = container_of(w, struct hardnat, timer);
	struct peer	*p = hn->p;
	double		 now = punchd_time(p->pd), next;
	uint16_t	 port;

	(void)revents;
	if (!hn->running) {
		hardnat_start(hn);	/* the delayed start */
		return;
	}
	if (hn->run->b.state != BDAY_RUNNING) {
		hardnat_over(hn);	/* the hard side won on a socket */
		return;
	}
	if (p->state == PEER_DIRECT || p->state == PEER_DEGRADED) {
		port = netaddr_port((struct sockaddr *)&p->endpoint);
		if (hn->role == BDAY_EASY && netaddr_equal_ip(
		    (struct sockaddr *)&p->endpoint,
		    (struct sockaddr *)&hn->their_public) &&
		    port != netaddr_port((struct sockaddr *)&hn->their_public))
			birthday_input(&hn->run->b, now, -1, port);
		else
			birthday_stop(&hn->run->b, "direct by ordinary punching");
		hardnat_over(hn);
		return;
	}
	if ((next = birthday_tick(&hn->run->b, now)) < 0) {
		hardnat_over(hn);
		return;
	}
	ev_timer_set(w, fmax(next - now, 0.001), 0);
	ev_timer_start(loop, w);
}

static struct hardnat *
hardnat_get(struct peer *p)
{
	if (p->hn == NULL && (p->hn = calloc(1, sizeof(*p->hn))) != NULL) {
		p->hn->p = p;
		ev_init(&p->hn->timer, hardnat_timer_cb);
		hardnat_sock_init(p->hn);
	}
	return p->hn;
}

/* relay.c: the peer's candidates with its NAT behaviour */
static void
hardnat_heard(struct peer *p, const struct relaymsg_signal *sig)
{
	struct hardnat		*hn;
	struct sockaddr_storage	 a;
	char			 s[200];
	size_t			 i;

	if (!sig->has_nat || !p->pd->cfg.hardnat ||
	    (hn = hardnat_get(p)) == NULL)
		return;
	hardnat_behav_from_wire(&hn->theirs, &sig->nat, punchd_time(p->pd));
	for (i = 0; i < sig->ncands; i++)
		if (strcmp(sig->cands[i].kind, "srflx") == 0 &&
		    netaddr_parse(sig->cands[i].addr, 0, &a) == 0 &&
		    a.ss_family == AF_INET) {
			hn->their_public = a;
			hn->has_public = 1;
			break;
		}
	hardnat_plan(hn);
	hardnat_behav_str(&hn->theirs, s, sizeof(s));
	log_info("peer %s: NAT %s; %s", peer_label(p), s, hn->why);
	/* nothing any probing can do: the upgrade backs off (link.c) */
	hn->hopeless = hn->strategy == BDAY_RELAY;
	if (!hn->running && hn->role != BDAY_NONE) {
		ev_timer_set(&hn->timer, HARDNAT_DELAY, 0);
		ev_timer_start(p->pd->loop, &hn->timer);
	}
}

void
hardnat_init(struct punchd *pd)
{
	pd->hooks.relay_nat = hardnat_heard;
}

void
hardnat_set_ours(struct punchd *pd, const struct hardnat_behav *b)
{
	pd->nat_ours = *b;
}

void
hardnat_peer_free(struct peer *p)
{
	if (p->hn == NULL)
		return;
	ev_timer_stop(p->pd->loop, &p->hn->timer);
	if (p->hn->running)
		birthday_stop(&p->hn->run->b, "peer removed");
	hardnat_sock_free(p->hn);
	hardnat_sock_drop_winner(p->hn);
	hardnat_run_free(p->hn);
	free(p->hn);
	p->hn = NULL;
}

const struct hardnat_behav *
hardnat_theirs(const struct peer *p)
{
	return p->hn != NULL && p->hn->theirs.known ? &p->hn->theirs : NULL;
}

const char *
hardnat_strategy_why(const struct peer *p)
{
	return p->hn != NULL ? p->hn->why : NULL;
}

const char *
hardnat_result(const struct peer *p)
{
	if (p->hn == NULL)
		return NULL;
	if (p->hn->running)
		return p->hn->strategy == BDAY_PREDICT ?
		    "probing the predicted ports" : "birthday probing";
	return p->hn->result[0] ? p->hn->result : NULL;
}

unsigned
hardnat_probes(const struct peer *p)
{
	return p->hn != NULL ? p->hn->probes : 0;
}

const char *
hardnat_hopeless(const struct peer *p)
{
	if (p->hn == NULL || !p->hn->hopeless || p->hn->running)
		return NULL;
	return p->hn->strategy == BDAY_RELAY ? p->hn->why : p->hn->result;
}
