/*
 * Health of one path while it is in use, WireGuard-style: silence after
 * we sent is the trigger, not a missed slot of a 25 s timer.
 *
 *   UP     packets from the peer arrive; when idle, a keep-alive goes out
 *          every interval (punchd/lifetime.h picks it)
 *   probe  we sent (data or a keep-alive) and have heard nothing for
 *          HEALTH_PROBE_AFTER s: one probe (a KEEPALIVE or PING that the
 *          peer must answer) goes out at once
 *   DOUBT  a probe went unanswered for the RTO: probes every
 *          HEALTH_PROBE_EVERY s, and data should also go over the relay
 *   DEAD   HEALTH_DEAD_AFTER s since the last reply (and at least 2 s
 *          since the first unanswered send, for a path that was idle),
 *          HEALTH_DEAD_PROBES probes unanswered: move to another path;
 *          a probe every HEALTH_DEAD_PROBE_EVERY s for HEALTH_DEAD_PROBING s
 *          notices its return
 * Any authenticated packet of the peer over this path makes it UP.
 * A one-way flow (we send, the peer never does) costs one probe per
 * HEALTH_PROBE_AFTER s and its answer: the price of knowing. No I/O.
 */
#ifndef PUNCHD_HEALTH_H
#define PUNCHD_HEALTH_H

#include <stdint.h>

#define HEALTH_UP	0
#define HEALTH_DOUBT	1
#define HEALTH_DEAD	2

/* data out, nothing in for this long: ask (a 20 pps flow's replies come
 * every 50 ms; 1 s is 20 of them) */
#define HEALTH_PROBE_AFTER	1.0
/* a probe unanswered this long (at least; 2 x srtt when larger) casts doubt */
#define HEALTH_RTO_MIN		0.5
#define HEALTH_PROBE_EVERY	0.5
/* issue 13: another path within 3 s of the last reply */
#define HEALTH_DEAD_AFTER	3.0
#define HEALTH_DEAD_PROBES	3
#define HEALTH_DEAD_PROBE_EVERY	2.0
#define HEALTH_DEAD_PROBING	30.0

/* health_tick() flags */
#define HEALTH_F_PROBE		0x01	/* send a probe now, then health_probed */
#define HEALTH_F_KEEPALIVE	0x02	/* idle: send the keep-alive, then health_probed */
#define HEALTH_F_DOUBT		0x04	/* just fell in doubt */
#define HEALTH_F_DEAD		0x08	/* just died */
/* health_heard() flags */
#define HEALTH_F_RECOVERED	0x10	/* was DOUBT or DEAD */

struct health {
	int		state;
	double		interval;	/* idle keep-alive */
	double		rto;
	double		last_heard, last_sent, last_probe;
	double		unanswered;	/* first send since last heard, -1 */
	double		dead_since;
	unsigned	probes_out;	/* unanswered probes */
	uint64_t	probes, doubts, deaths, recoveries;
};

void	health_init(struct health *h, double now, double interval);
void	health_set_interval(struct health *h, double interval);
/* srtt of the path (s): the RTO is max(HEALTH_RTO_MIN, 2 x srtt) */
void	health_set_rtt(struct health *h, double srtt);
/* Data went out on the path. */
void	health_sent(struct health *h, double now);
/* A probe or keep-alive went out (after HEALTH_F_PROBE/KEEPALIVE). */
void	health_probed(struct health *h, double now);
/* An authenticated packet of the peer came over this path. */
int	health_heard(struct health *h, double now);
/* Flags of what to do now; *next: when to call again (absolute). */
int	health_tick(struct health *h, double now, double *next);
const char *health_state_name(int state);

#endif
