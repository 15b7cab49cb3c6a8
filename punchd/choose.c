/*
 * Which of a peer's working paths carries its traffic (issue 13 item 3):
 * punchd/pathsel.h's cost with hysteresis, fed here. On top of link.c.
 *
 *   candidates  every direct pair whose check succeeded (its kind from
 *               its address: LAN for a private, loopback or link-local
 *               one, hairpin for our own public address, else direct),
 *               and the relay while both of us are in the pair's session
 *   measured    by PINGs (ids with CHOOSE_ID set) on each candidate every
 *               CHOOSE_TICK s while there is a choice to make: RTT, and
 *               loss over the last CHOOSE_LOSS_WINDOW probes
 *   when        CHOOSE_ACTIVE s after anything changed (a pair proven, a
 *               doubt, a death, a switch), and for as long as the path in
 *               use loses probes or the relay carries a pair whose direct
 *               path still answers (relayed on cost, also a direct one
 *               gone quiet, every 2 s); otherwise nothing is sent
 *   relay       joins the comparison (the session is opened and kept)
 *               when the direct path in use loses CHOOSE_JOIN_LOSS
 *   better      pairs of a cheaper class (LAN, IPv6) that never answered
 *               are checked again after 5 s, doubling to 5 minutes, while
 *               the peer is direct on a dearer one
 *
 * The handshake's selection (choose_selected) is a candidate coming up,
 * not an order: the path moves when pathsel says so. Two exceptions keep
 * failover quick: a direct path that died after it had been working (a
 * cut, not loss: the probes before the cut were answered) and has died
 * only once in its series takes over from the relay as soon as it is
 * proven again, without pathsel's hold-down; and while the direct path
 * in use is in doubt, a pair just proven takes over at once (the peer
 * roamed: roam.c).
 *
 * The slots and their probes are choose_cand.c's, the re-check of the
 * cheaper pairs choose_recheck.c's.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "punchd.h"
#include "choose_priv.h"

static void choose_timer_cb(struct ev_loop *, ev_timer *, int);

const char *
choose_why(const struct peer *p)
{
	return p->choose != NULL && p->choose->ps.reason[0] != '\0' ?
	    p->choose->ps.reason : NULL;
}

static void
choose_arm(struct peer *p, struct choose *ch)
{
	struct punchd	*pd = p->pd;
	double		 now = punchd_time(pd), next = ch->recheck_at;

	if (now < ch->active_until && next > now + CHOOSE_TICK)
		next = now + CHOOSE_TICK;
	ev_timer_stop(pd->loop, &p->choose_timer);
	ev_init(&p->choose_timer, choose_timer_cb);
	ev_timer_set(&p->choose_timer, next > now ? next - now : 0, 0);
	ev_timer_start(pd->loop, &p->choose_timer);
}

static void
choose_activate(struct peer *p, struct choose *ch)
{
	double now = punchd_time(p->pd);

	if (ch->active_until < now + CHOOSE_ACTIVE)
		ch->active_until = now + CHOOSE_ACTIVE;
	if (!ev_is_active(&p->choose_timer) ||
	    ev_timer_remaining(p->pd->loop, &p->choose_timer) > CHOOSE_TICK)
		choose_arm(p, ch);
}

/*
 * What happened below without us: a death (link_down and failover set
 * lost_at), the relay session met or lost, failover moving the pair, a
 * pair gone from the punch table.
 */
/*
 * A death below us not yet counted: the path in use goes down here, judged
 * on its probes as they were. Before any new result is recorded: a check
 * or a probe answered once the path is back, counted first, made the cut's
 * own lost probes look like loss before it (natlab/17: "lossy before 1",
 * history 0x6, back only through the hysteresis).
 */
static void
choose_sync_lost(struct peer *p, struct choose *ch, double now)
{
	int cur = ch->ps.current;

	if (p->lost_at > ch->lost_seen) {
		ch->lost_seen = p->lost_at;
		if (cur >= 0 && cur != ch->relay)
			choose_cand_down(ch, cur, now);
	}
}

static void
choose_sync(struct peer *p, struct choose *ch, double now)
{
	struct pathsel	*ps = &ch->ps;
	int		 i, ok = link_relay_met_recently(p);

	choose_sync_lost(p, ch, now);
	if (ok && !ps->c[ch->relay].alive)
		choose_cand_up(ch, ch->relay, now);
	else if (!ok)
		choose_cand_down(ch, ch->relay, now);
	for (i = 0; i < PATHSEL_MAX; i++)
		if (i != ch->relay && ps->c[i].used &&
		    punch_find(&p->punch, &ch->addr[i].sa) == -1)
			pathsel_remove(ps, i);
	/* moved by failover.c (dead: relayed) or back (degraded: direct) */
	i = p->state == PEER_RELAYED ? ch->relay : (p->state == PEER_DIRECT ||
	    p->state == PEER_DEGRADED) && p->has_endpoint ?
	    choose_cand_find(ch, (const struct sockaddr *)&p->endpoint) : -1;
	if (i >= 0 && i != ps->current && ps->c[i].alive) {
		ps->current = i;
		ps->switched_at = now;
		ch->by_cost = 0;
	}
}

/* Move the traffic to what pathsel picked. */
static void
choose_apply(struct peer *p, struct choose *ch, int pick)
{
	int i;

	if (pick < 0)
		return;
	if (pick == ch->relay) {
		if (p->state == PEER_RELAYED)
			return;
		ch->by_cost = p->state == PEER_DIRECT ||
		    p->state == PEER_DEGRADED;
		if (ch->by_cost) {
			pathwatch_stop(p);	/* measured here from now */
			/* the evidence for choose_cand_back */
			if ((i = choose_cand_find(ch, (const struct sockaddr *)
			    &p->endpoint)) != -1)
				choose_cand_judge(ch, i, 1);
		}
		link_relay_use(p, ch->ps.reason, ch->ps.reason);
		return;
	}
	if ((i = punch_find(&p->punch, &ch->addr[pick].sa)) == -1)
		return;
	if ((p->state == PEER_DIRECT || p->state == PEER_DEGRADED) &&
	    p->has_endpoint && netaddr_equal(&ch->addr[pick].sa,
	    (const struct sockaddr *)&p->endpoint)) {
		punch_use(&p->punch, i);	/* the handshake's pick aside */
		return;
	}
	ch->by_cost = 0;
	ch->recheck_every = CHOOSE_RECHECK_MIN;
	link_up(p, i, ch->ps.reason);
}

/* Slot s carries the traffic from now, without pathsel's hold-down
 * (failover's back, choose_cand_back; a doubt): `why` ends the reason */
static int
choose_take(struct peer *p, struct choose *ch, int s, double now,
    const char *why)
{
	int cur = ch->ps.current;

	ch->ps.current = s;
	ch->ps.switched_at = now;
	ch->ps.switches++;
	snprintf(ch->ps.reason, sizeof(ch->ps.reason), "%s -> %s/%d: %s",
	    cur < 0 ? "none" : cur == ch->relay ? "relay" :
	    pathsel_kind_name(ch->ps.c[cur].kind),
	    pathsel_kind_name(ch->ps.c[s].kind), ch->ps.c[s].family, why);
	log_info("peer %s: path choice: %s", peer_label(p), ch->ps.reason);
	choose_activate(p, ch);
	return s;
}

/* failover's "back": slot s, cut and not lossy, works again */
#define CHOOSE_BACK	"the direct path answers again"

static void
choose_decide(struct peer *p, struct choose *ch)
{
	double		now = punchd_time(p->pd);
	unsigned	sw = ch->ps.switches;
	int		pick, i;

	choose_sync(p, ch, now);
	if (ch->ps.current == ch->relay && ch->ps.c[ch->relay].alive)
		for (i = 0; i < PATHSEL_MAX; i++)
			if (choose_cand_back(ch, i)) {
				choose_apply(p, ch, choose_take(p, ch, i, now,
				    CHOOSE_BACK));
				return;
			}
	pick = pathsel_choose(&ch->ps, now);
	if (ch->ps.switches != sw) {
		log_info("peer %s: path choice: %s", peer_label(p),
		    ch->ps.reason);
		choose_activate(p, ch);
	}
	choose_apply(p, ch, pick);
}

/* Something to compare still: keep measuring. */
static int
choose_busy(const struct peer *p, const struct choose *ch)
{
	int i, cur = ch->ps.current;

	if (cur == ch->relay) {
		for (i = 0; i < PATHSEL_MAX; i++)
			if (i != ch->relay && ch->ps.c[i].used &&
			    (ch->ps.c[i].alive || ch->by_cost))
				return 1;
		return 0;
	}
	return cur >= 0 && p->state != PEER_DOWN &&
	    choose_cand_loss(&ch->st[cur], 0) > 0;
}

/*
 * Probe the path in use now? Always when there is another to compare it
 * with; alone, only when a relay could take over and data flows (every
 * 2 s, every 0.5 s once it lost one): nothing to choose between costs
 * nothing, and an idle path is the keep-alive's (keepalive.c, lifetime.c:
 * probes in its gaps would hide the NAT's real lifetime).
 */
static int
choose_watch_alone(const struct peer *p, const struct choose *ch)
{
	double	now;
	int	i;

	for (i = 0; i < PATHSEL_MAX; i++)
		if (i != ch->ps.current && ch->ps.c[i].used &&
		    ch->ps.c[i].alive)
			return 1;
	now = punchd_time(p->pd);
	if (now - p->data_sent > CHOOSE_FLOW && now - p->data_heard > CHOOSE_FLOW)
		return 0;
	return p->pd->relay_urls[0] != '\0' &&
	    (ch->ticks % CHOOSE_DEAD_EVERY == 0 ||
	    choose_cand_loss(&ch->st[ch->ps.current], 0) > 0);
}

static void
choose_tick(struct peer *p, struct choose *ch)
{
	struct pathsel	*ps = &ch->ps;
	double		 now = punchd_time(p->pd);
	int		 i, cur;

	choose_sync(p, ch, now);
	ch->ticks++;
	for (i = 0; i < PATHSEL_MAX; i++) {
		if (!ps->c[i].used || (i == ps->current &&
		    !choose_watch_alone(p, ch)))
			continue;
		/* relayed on cost, a direct path gone quiet is asked every
		 * 2 s: nothing else would notice its return (no punching) */
		if (!ps->c[i].alive) {
			if (i != ch->relay && ch->by_cost &&
			    ch->ticks % CHOOSE_DEAD_EVERY == 0)
				choose_cand_probe(p, ch, i);
			continue;
		}
		if (i != ch->relay && i != ps->current &&
		    now - ch->heard[i] > CHOOSE_SILENT) {
			choose_cand_down(ch, i, now);
			continue;
		}
		choose_cand_probe(p, ch, i);
	}
	/* the direct path in use loses: the relay joins the comparison */
	cur = ps->current;
	p->relay_want = cur >= 0 && cur != ch->relay &&
	    choose_cand_loss(&ch->st[cur], 0) >= CHOOSE_JOIN_LOSS;
	if (p->relay_want)
		relay_start(p);
	choose_decide(p, ch);
}

static void
choose_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct peer	*p = container_of(w, struct peer, choose_timer);
	struct choose	*ch = p->choose;
	double		 now = punchd_time(p->pd);

	(void)loop;
	(void)revents;
	if (ch == NULL)
		return;
	if (now < ch->active_until || choose_busy(p, ch)) {
		if (now >= ch->active_until)
			ch->active_until = now + CHOOSE_TICK;
		choose_tick(p, ch);
	} else if (p->relay_want) {
		/* nothing to compare: the relay may go (link.c lingers) */
		p->relay_want = 0;
		if (p->state == PEER_DIRECT && !pathwatch_doubted(p))
			link_relay_leave_later(p);
	}
	choose_recheck_tick(p, ch, now);
	choose_arm(p, ch);
}

/* A check succeeded on the pair to `from` (either side's). */
void
choose_valid(struct peer *p, const struct sockaddr *from)
{
	struct choose	*ch;
	int		 i, s;
	double		 now = punchd_time(p->pd);

	if (p->choose == NULL || (i = punch_find(&p->punch, from)) == -1 ||
	    (ch = p->choose, s = choose_cand_slot(p, ch, from)) == -1)
		return;
	choose_sync_lost(p, ch, now);
	choose_cand_up(ch, s, now);
	if (p->punch.pairs[i].rtt > 0)
		choose_cand_result(ch, s, p->punch.pairs[i].rtt);
	ch->heard[s] = now;
	choose_activate(p, ch);
}

/*
 * The handshake selected a pair: a candidate is up. Where the traffic
 * goes is pathsel's call; the first path, a path back after one clean
 * death, and a peer without a choice move at once.
 */
void
choose_selected(struct peer *p)
{
	const struct punch_pair	*pp = punch_selected(&p->punch);
	struct choose		*ch;
	double			 now = punchd_time(p->pd);
	int			 s, cur;

	if (pp == NULL)
		return;
	if ((ch = choose_cand_get(p)) == NULL ||
	    (s = choose_cand_slot(p, ch, &pp->remote.addr.sa)) == -1) {
		link_up(p, p->punch.selected, NULL);
		return;
	}
	choose_sync(p, ch, now);
	choose_cand_up(ch, s, now);
	if (pp->rtt > 0)
		choose_cand_result(ch, s, pp->rtt);
	ch->heard[s] = now;
	cur = ch->ps.current;
	log_debug("peer %s: pair %s proven: current %s, relay on cost %d, "
	    "lossy before %d, deaths %u", peer_label(p), pathsel_kind_name(
	    ch->ps.c[s].kind), cur < 0 ? "none" : pathsel_kind_name(
	    ch->ps.c[cur].kind), ch->by_cost, ch->lossy[s],
	    ch->ps.c[s].deaths);
	/* proven by the handshake: as good as two answered probes */
	if (cur == ch->relay && !ch->lossy[s] && ch->ps.c[s].deaths <= 1) {
		choose_take(p, ch, s, now, CHOOSE_BACK);
		link_up(p, p->punch.selected, NULL);
		return;
	}
	/* the direct path in use is in doubt (cut, or the peer moved,
	 * roam.c), or silent since the peer signalled new candidates: a
	 * new pair that answers takes over at once */
	if (cur >= 0 && cur != ch->relay && cur != s && (pathwatch_doubted(p) ||
	    p->health.last_heard < p->moved_at) && !ch->lossy[s] &&
	    ch->ps.c[s].deaths <= 1) {
		choose_take(p, ch, s, now, "the path in use is in doubt");
		link_up(p, p->punch.selected, NULL);
		return;
	}
	choose_activate(p, ch);
	choose_decide(p, ch);
	/* pathsel kept the relay: the punch attempt is over all the same */
	if (p->state == PEER_RELAYED)
		ev_timer_stop(p->pd->loop, &p->retry_timer);
}

void
choose_poke(struct peer *p)
{
	if (p->choose != NULL)
		choose_activate(p, p->choose);
}

/* The peer's PING: when it is one of its path probes, the peer compares
 * paths, and so do we (the loss it sees is ours too; both must be in the
 * relay session for the relay to count). Once per two windows: each side's
 * probes would otherwise keep the other comparing for ever, and an idle
 * pair would never be idle (the keep-alive learns the NAT's lifetime from
 * idle gaps). */
/* The answer to a PING: one of our probes (1), or not (0). */
int
choose_pong(struct peer *p, uint32_t id, const struct sockaddr *from,
    double rtt)
{
	if (p->choose != NULL && (id & CHOOSE_ID))
		choose_sync_lost(p, p->choose, punchd_time(p->pd));
	return choose_cand_pong(p, id, from, rtt);
}

void
choose_ping(struct peer *p, uint32_t id)
{
	struct choose	*ch = p->choose;
	double		 now = punchd_time(p->pd);

	if (!(id & CHOOSE_ID) || ch == NULL ||
	    (ch->peer_poked > 0 && now - ch->peer_poked < 2 * CHOOSE_ACTIVE))
		return;
	ch->peer_poked = now;
	choose_activate(p, ch);
}
