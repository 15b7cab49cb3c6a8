/*
 * Watching a peer's direct path while it is in use: punchd/health.h fed
 * with what goes out and comes in on the path, and its timer. Silence
 * after we sent is the trigger (WireGuard's rule):
 *
 *   data or a keep-alive out, nothing back for 1 s  -> a probe at once
 *   the probe unanswered for the RTO (>= 0.5 s)     -> in doubt
 *   3 s since the last reply, >= 3 probes out        -> dead
 *
 * A side that only receives a flow expects it to go on: while DATA came
 * within the last second, anything heard counts as "we are waiting for
 * more", so a flow that stops is asked about once (one KEEPALIVE and its ACK when it simply ended), and both
 * ends of a cut path notice it within the same 3 s, not only the sender.
 * The idle cadence is keepalive.c's (its interval from punchd/lifetime);
 * a KEEPALIVE it sends is a probe here, so a lost one is retried within
 * 0.5 s instead of at the next slot.
 *
 * What it means goes up through pd->hooks (path_doubt, path_dead,
 * path_back), which failover.c installs. Probes are plain KEEPALIVEs:
 * the peer answers them on a proven path, and a late ACK that
 * keepalive.c was not waiting for is ignored there.
 */
#include <math.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "punchd.h"

/* health.h's idle keep-alive is keepalive.c's job here: never due */
#define PATHWATCH_NO_IDLE	1e9

static void pathwatch_timer_cb(struct ev_loop *, ev_timer *, int);
static void pathwatch_expect_cb(struct ev_loop *, ev_timer *, int);

static void
pathwatch_arm(struct peer *p, double next)
{
	struct punchd	*pd = p->pd;
	double		 now = punchd_time(pd);

	ev_timer_stop(pd->loop, &p->health_timer);
	if (!isfinite(next) || next - now > PATHWATCH_NO_IDLE / 2)
		return;
	ev_init(&p->health_timer, pathwatch_timer_cb);
	ev_timer_set(&p->health_timer, next > now ? next - now : 0, 0);
	ev_timer_start(pd->loop, &p->health_timer);
}

/* A probe on the watched path, when health asks for one. */
static void
pathwatch_probe(struct peer *p, int f, double now)
{
	if (!(f & HEALTH_F_PROBE) || !p->has_endpoint)
		return;
	tx_send(p, PACKET_KEEPALIVE, 0, NULL, 0,
	    (const struct sockaddr *)&p->endpoint);
	health_probed(&p->health, now);
}

/* Ask health what to do now, and when next. */
static void
pathwatch_run(struct peer *p)
{
	struct punchd	*pd = p->pd;
	double		 now = punchd_time(pd), next = INFINITY;
	int		 f;

	if (!p->watching)
		return;
	f = health_tick(&p->health, now, &next);
	pathwatch_probe(p, f, now);
	if ((f & HEALTH_F_PROBE) && (!isfinite(next) ||
	    next > now + p->health.rto))
		next = now + p->health.rto;
	if ((f & HEALTH_F_DOUBT) && pd->hooks.path_doubt != NULL)
		pd->hooks.path_doubt(p);
	if ((f & HEALTH_F_DEAD) && pd->hooks.path_dead != NULL) {
		pd->hooks.path_dead(p);
		if (!p->watching)
			return;
		/* the first of the dead path's slow probes */
		pathwatch_probe(p, health_tick(&p->health, now, &next), now);
	}
	pathwatch_arm(p, next);
}

static void
pathwatch_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	pathwatch_run(container_of(w, struct peer, health_timer));
}

/* A direct pair was selected: it just proved itself. */
void
pathwatch_start(struct peer *p)
{
	health_init(&p->health, punchd_time(p->pd), PATHWATCH_NO_IDLE);
	if (p->path.samples > 0)
		health_set_rtt(&p->health, p->path.srtt);
	p->watching = 1;
	ev_timer_stop(p->pd->loop, &p->health_timer);
	pathwatch_expect(p);
}

void
pathwatch_stop(struct peer *p)
{
	p->watching = 0;
	ev_timer_stop(p->pd->loop, &p->health_timer);
	ev_timer_stop(p->pd->loop, &p->expect_timer);
}

/*
 * The follower of an idle path (keepalive.h) sends nothing while the
 * leader's keep-alives come. When its own NAT forgets the binding (a
 * timer shorter than the interval), the leader's next keep-alive is
 * dropped there and only the follower can reopen it: so a KEEPALIVE of
 * the leader that was due (the leader's KEEPALIVEs say when the next one
 * is due) and did not come within KA_EXPECT_SLACK (1 s) is a reason to
 * probe, at once, well before the leader gives the path up (2 s after its
 * unanswered keep-alive). The leader learns the shorter lifetime from its
 * keep-alive answered only after probes (link.c) and keeps both bindings
 * alive from then. Without the leader's schedule (an older peer): an
 * interval and a second after anything was heard.
 */
void
pathwatch_expect(struct peer *p)
{
	struct punchd	*pd = p->pd;
	double		 at, now = punchd_time(pd);

	ev_timer_stop(pd->loop, &p->expect_timer);
	if (p->ka.lead || !p->watching || p->state == PEER_RELAYED)
		return;
	at = keepalive_expect(&p->ka, p->health.last_heard);
	if (!isfinite(at))
		return;
	ev_init(&p->expect_timer, pathwatch_expect_cb);
	ev_timer_set(&p->expect_timer, at > now ? at - now : 0, 0);
	ev_timer_start(pd->loop, &p->expect_timer);
}

static void
pathwatch_expect_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct peer	*p = container_of(w, struct peer, expect_timer);
	double		 now = punchd_time(p->pd);

	(void)loop;
	(void)revents;
	if (!p->watching || p->health.state != HEALTH_UP ||
	    (p->state != PEER_DIRECT && p->state != PEER_DEGRADED))
		return;
	log_debug("peer %s: the leader's keep-alive is overdue: probing "
	    "(t %.2f)", peer_label(p), now);
	pathwatch_probe(p, HEALTH_F_PROBE, now);
	/* one probe per missed KEEPALIVE: the next deadline (the slot after
	 * it) is armed by whatever comes next from the peer; unanswered,
	 * the probe is health's to follow up (doubt, dead) */
	keepalive_expect_missed(&p->ka, now);
	pathwatch_run(p);
}

/* Something went out on the direct path: data (probe 0) or a keep-alive
 * that must be answered (probe 1). */
void
pathwatch_sent(struct peer *p, int probe)
{
	double now = punchd_time(p->pd);

	if (!p->watching)
		return;
	if (probe)
		health_probed(&p->health, now);
	else
		health_sent(&p->health, now);
	/* a timer set for the dead path's slow probing is too late now */
	if (!ev_is_active(&p->health_timer) || ev_timer_remaining(p->pd->loop,
	    &p->health_timer) > HEALTH_PROBE_AFTER)
		pathwatch_run(p);
}

/*
 * An authenticated packet of the peer from `from` (NULL: the relay).
 * Only the watched endpoint counts; DATA also says more is expected.
 */
void
pathwatch_heard(struct peer *p, const struct sockaddr *from, int data)
{
	struct punchd	*pd = p->pd;
	double		 now = punchd_time(pd);

	if (from == NULL) {
		p->relay_heard = now;
		return;
	}
	if (!p->watching || !p->has_endpoint ||
	    !netaddr_equal(from, (const struct sockaddr *)&p->endpoint))
		return;
	if (p->path.samples > 0)
		health_set_rtt(&p->health, p->path.srtt);
	pathwatch_expect(p);
	if (health_heard(&p->health, now) & HEALTH_F_RECOVERED) {
		if (pd->hooks.path_back != NULL)
			pd->hooks.path_back(p);
		if (!p->watching)
			return;
		ev_timer_stop(pd->loop, &p->health_timer);
	}
	/* a flow in progress: still expected after a keep-alive or probe
	 * slipped in between two datagrams (it would read as "all quiet") */
	if (data)
		p->data_heard = now;
	if (now - p->data_heard < HEALTH_PROBE_AFTER) {
		health_sent(&p->health, now);
		if (!ev_is_active(&p->health_timer))
			pathwatch_run(p);
	}
}

/* Is the direct path in doubt (or dead, still being probed)? */
int
pathwatch_doubted(const struct peer *p)
{
	return p->watching && p->health.state != HEALTH_UP;
}
