/*
 * Path health from what was sent and heard (see health.h). Pure logic.
 */
#include <math.h>
#include <string.h>

#include "punchd/health.h"

const char *
health_state_name(int state)
{
	switch (state) {
	case HEALTH_UP:		return "up";
	case HEALTH_DOUBT:	return "in doubt";
	case HEALTH_DEAD:	return "dead";
	default:		return "unknown";
	}
}

void
health_init(struct health *h, double now, double interval)
{
	memset(h, 0, sizeof(*h));
	h->state = HEALTH_UP;
	h->interval = interval;
	h->rto = HEALTH_RTO_MIN;
	/* the path just proved itself (punch handshake) */
	h->last_heard = h->last_sent = now;
	h->last_probe = -1e9;
	h->unanswered = -1;
}

void
health_set_interval(struct health *h, double interval)
{
	if (isfinite(interval) && interval > 0)
		h->interval = interval;
}

void
health_set_rtt(struct health *h, double srtt)
{
	if (isfinite(srtt) && srtt >= 0)
		h->rto = fmax(HEALTH_RTO_MIN, 2 * srtt);
}

void
health_sent(struct health *h, double now)
{
	h->last_sent = now;
	if (h->unanswered < 0)
		h->unanswered = now;
}

void
health_probed(struct health *h, double now)
{
	health_sent(h, now);
	h->last_probe = now;
	h->probes_out++;
	h->probes++;
}

int
health_heard(struct health *h, double now)
{
	int flags = 0;

	if (h->state != HEALTH_UP) {
		flags |= HEALTH_F_RECOVERED;
		h->recoveries++;
	}
	h->state = HEALTH_UP;
	h->last_heard = now;
	h->unanswered = -1;
	h->probes_out = 0;
	return flags;
}

static int
health_tick_dead(struct health *h, double now, double *next)
{
	if (now - h->dead_since >= HEALTH_DEAD_PROBING) {
		*next = INFINITY;	/* the pair's re-punch takes over */
		return 0;
	}
	if (now - h->last_probe >= HEALTH_DEAD_PROBE_EVERY) {
		*next = now + HEALTH_DEAD_PROBE_EVERY;
		return HEALTH_F_PROBE;
	}
	*next = h->last_probe + HEALTH_DEAD_PROBE_EVERY;
	return 0;
}

/*
 * Dead HEALTH_DEAD_AFTER s after the last reply, but never sooner than
 * HEALTH_DEAD_AFTER - HEALTH_PROBE_AFTER s after the first unanswered send
 * (an idle path's last reply is old: it gets 2 s of probing).
 */
static double
health_dead_at(const struct health *h)
{
	return fmax(h->last_heard + HEALTH_DEAD_AFTER,
	    h->unanswered + HEALTH_DEAD_AFTER - HEALTH_PROBE_AFTER);
}

int
health_tick(struct health *h, double now, double *next)
{
	if (h->state == HEALTH_DEAD)
		return health_tick_dead(h, now, next);
	if (h->unanswered < 0) {
		/* nothing outstanding: the idle keep-alive */
		if (now - h->last_sent >= h->interval) {
			*next = now + h->rto;
			return HEALTH_F_KEEPALIVE;
		}
		*next = h->last_sent + h->interval;
		return 0;
	}
	if (h->state == HEALTH_DOUBT && health_dead_at(h) <= now &&
	    h->probes_out >= HEALTH_DEAD_PROBES) {
		h->state = HEALTH_DEAD;
		h->dead_since = now;
		h->deaths++;
		*next = now;
		return HEALTH_F_DEAD;
	}
	if (h->state == HEALTH_UP && h->probes_out > 0 &&
	    now - h->last_probe >= h->rto) {
		h->state = HEALTH_DOUBT;
		h->doubts++;
		*next = now + HEALTH_PROBE_EVERY;
		return HEALTH_F_DOUBT | HEALTH_F_PROBE;
	}
	if (h->state == HEALTH_DOUBT) {
		if (now - h->last_probe >= HEALTH_PROBE_EVERY) {
			*next = now + HEALTH_PROBE_EVERY;
			return HEALTH_F_PROBE;
		}
		*next = fmin(h->last_probe + HEALTH_PROBE_EVERY,
		    fmax(health_dead_at(h), now));
		return 0;
	}
	/* UP with something unanswered: ask once the peer has been quiet
	 * HEALTH_PROBE_AFTER s (at once when the path was idle) */
	if (h->probes_out == 0) {
		if (now - h->last_heard >= HEALTH_PROBE_AFTER) {
			*next = now + h->rto;
			return HEALTH_F_PROBE;
		}
		*next = h->last_heard + HEALTH_PROBE_AFTER;
		return 0;
	}
	*next = h->last_probe + h->rto;
	return 0;
}
