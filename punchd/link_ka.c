/*
 * Keep-alive on a peer's direct path, what link.c's timer sends and what
 * the answers teach: the NAT's binding lifetime (punchd/lifetime.h) from
 * the idle gap before each KEEPALIVE, judged once, and the leader's
 * schedule in its KEEPALIVE (punchd/keepalive.h) for the follower, which
 * probes when one it expected did not come (pathwatch.c). The leader's
 * next gap is the interval or, while learning, a longer one that tests
 * the lifetime. docs/paths.md, "Keep-alive and health".
 */
#include <math.h>
#include <string.h>

#include "common/log.h"
#include "punchd.h"

/*
 * Our KEEPALIVE after an idle gap of 5 s or more went unanswered (or was
 * answered only after probes, once the peer had spoken up and reopened
 * its side) on a path that still works: the far NAT's timer.
 * punchd/lifetime shortens the interval (the failure counting goes on).
 * Each keep-alive's gap is judged once (ka_gap 0 after): 1 when the
 * interval just got shorter.
 */
static int
link_ka_lifetime(struct peer *p)
{
	double gap = p->ka_gap;

	p->ka_gap = 0;
	if (p->state == PEER_RELAYED || gap < LIFETIME_FLOOR ||
	    !lifetime_died(&p->life, gap) ||
	    lifetime_interval(&p->life) >= p->ka.own)
		return 0;
	log_info("peer %s: keep-alive unanswered after %.1f s idle: every "
	    "%.1f s from now", peer_label(p), gap,
	    lifetime_interval(&p->life));
	keepalive_set_interval(&p->ka, lifetime_interval(&p->life));
	return 1;
}

/* The next KEEPALIVE now (the leader tells the follower its new schedule),
 * then every interval. */
static void
link_ka_now(struct peer *p)
{
	ev_timer_stop(p->pd->loop, &p->ka_timer);
	ev_timer_set(&p->ka_timer, 0, p->ka.interval);
	ev_timer_start(p->pd->loop, &p->ka_timer);
}

void
link_ka_missed(struct peer *p)
{
	path_lost(&p->path);
	link_ka_lifetime(p);
}

/*
 * An ACK to our KEEPALIVE, `late` s after it. Before the RTO, when the
 * path is probed (punchd/health.h), it answers the keep-alive itself: the
 * NAT bindings outlived the idle gap before it. Later it may answer a
 * probe sent after the keep-alive was lost: the gap was fatal. So was it
 * when the follower says its side was in doubt meanwhile (`broken`): it
 * sent something we never heard, which reopened its NAT's binding just
 * before our keep-alive came (tests/natlab/48-punchd-lifetime.sh: a 15 s gap "survived"
 * a 10 s NAT that way).
 */
void
link_ka_answered(struct peer *p, double late, int broken)
{
	double gap = p->ka_gap;

	if (gap <= 0)
		return;
	if (late < p->health.rto && !broken) {
		p->ka_gap = 0;
		lifetime_survived(&p->life, gap);
		log_debug("peer %s: keep-alive answered after %.1f s idle "
		    "(t %.2f)", peer_label(p), gap, punchd_time(p->pd));
	} else if (link_ka_lifetime(p))
		link_ka_now(p);
}

/* How long the path's NAT bindings went without traffic: since the last
 * packet either way (a NAT that refreshes on outbound packets only kept
 * its binding at least that long; one that forgot did so sooner). */
static double
link_ka_gap(struct peer *p)
{
	double last = p->last_tx_direct;

	if (p->watching && p->health.last_heard > last)
		last = p->health.last_heard;
	return punchd_time(p->pd) - last;
}

/*
 * The gap before our next KEEPALIVE: the interval, or one that tests the
 * NAT's lifetime (punchd/lifetime.h: longer, or the first one, shorter)
 * on an idle direct path the lifetime governs, while nothing is wrong
 * with it. Chosen as if the one
 * going out now (after `gap`) survives: when it does not, the leader
 * learns so from the follower's probe and sends the next one at once with
 * the new schedule (link_ka_heard).
 */
static double
link_ka_next(struct peer *p, double gap)
{
	struct lifetime	l = p->life;
	double		g;

	lifetime_survived(&l, gap);
	g = lifetime_next_gap(&l);
	if (p->state != PEER_RELAYED && p->ka.lead && p->ka.failures == 0 &&
	    !pathwatch_doubted(p) && p->ka.interval ==
	    lifetime_interval(&p->life))
		return g;
	return p->ka.interval;
}

void
link_ka_send(struct peer *p)
{
	uint8_t	hint[KA_HINT_LEN];
	double	next;
	int	direct = p->state != PEER_RELAYED;

	/* the answer (or its absence) is lifetime evidence */
	if (direct)
		p->ka_gap = link_ka_gap(p);
	next = link_ka_next(p, direct ? p->ka_gap : 0);
	/* the leader tells the follower when its next one is due */
	keepalive_hint_pack(hint, p->ka.interval, next);
	tx_send(p, PACKET_KEEPALIVE,
	    p->ka.failures > 0 ? PACKET_F_KA_MISSED : 0,
	    direct && p->ka.lead ? hint : NULL,
	    direct && p->ka.lead ? sizeof(hint) : 0, peer_dest(p));
	keepalive_sent(&p->ka, punchd_time(p->pd));
	log_debug("peer %s: keep-alive out after %.1f s idle, next in %.1f s "
	    "(t %.2f)", peer_label(p), p->ka_gap, next, punchd_time(p->pd));
	if (next != p->ka_timer.repeat) {
		p->ka_timer.repeat = next;
		ev_timer_again(p->pd->loop, &p->ka_timer);
	}
	/* a lost one is retried within 0.5 s, not at the next slot */
	if (direct)
		pathwatch_sent(p, 1);
}

/*
 * The peer's KEEPALIVE on a direct path. To a follower it carries the
 * leader's schedule (keepalive.h): it takes the leader's interval when
 * shorter and expects the next one when due. To the leader, one that
 * comes while ours waits for its answer, the RTO or more after it, is the
 * follower's probe because ours never came (its NAT had forgotten the
 * binding): the gap before ours was fatal, learned now rather than at the
 * next slot; ours is written off as lost, and the next one, at once,
 * tells the follower the new schedule.
 */
void
link_ka_heard(struct peer *p, const uint8_t *pl, size_t len)
{
	double now = punchd_time(p->pd), late = now - p->ka.out_sent;
	double iv, next;

	if (p->ka.lead) {
		if ((p->state != PEER_DIRECT && p->state != PEER_DEGRADED) ||
		    !p->ka.outstanding || late < p->health.rto)
			return;
		p->ka.outstanding = 0;
		p->ka.missed++;
		path_lost(&p->path);
		link_ka_answered(p, late, 0);
		return;
	}
	/* only on our direct path: re-timing a relayed pair's keep-alive
	 * held it on the relay after a cut (tests/natlab/17 with pathsel) */
	if ((p->state != PEER_DIRECT && p->state != PEER_DEGRADED) ||
	    keepalive_hint_parse(pl, len, &iv, &next) != 0)
		return;
	if (keepalive_hint(&p->ka, now, iv, next) &&
	    ev_is_active(&p->ka_timer)) {
		p->ka_timer.repeat = p->ka.interval;
		ev_timer_again(p->pd->loop, &p->ka_timer);
	}
	pathwatch_expect(p);
}
