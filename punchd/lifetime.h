/*
 * The keep-alive interval from the NAT's real binding lifetime, learned
 * per path. A NAT forgets a UDP binding some time after the last outbound
 * packet (RFC 4787 REQ-5 asks for 2 minutes; home routers and mobile
 * carriers use 30 s, some 10 s). Evidence:
 *   survived  a gap of g s without our outbound traffic, and the path still
 *             answered: the lifetime is > g
 *   died      the path stopped answering after a gap of g s: the lifetime
 *             is <= g (unless we already saw it survive longer gaps: then
 *             the NAT rebooted or rebound, which says nothing of its timer)
 *   probe     an explicit test of a binding left idle g s (RFC 5780 4.6
 *             against stund's server, or a peer asked to answer late)
 * The interval is LIFETIME_FRACTION of the shortest fatal gap, between
 * LIFETIME_FLOOR and LIFETIME_CEILING; it starts at the ceiling. No I/O.
 */
#ifndef PUNCHD_LIFETIME_H
#define PUNCHD_LIFETIME_H

/*
 * 25 s: WireGuard's advice for persistent keep-alive, below the 30 s that
 * the commonest short NAT timer (Linux conntrack's unreplied UDP, many
 * CPE and carrier NATs) allows.
 */
#define LIFETIME_CEILING	25.0
/*
 * 5 s: half of the shortest timer seen in practice (10 s); below it a
 * keep-alive costs more than a relayed pair would (2 packets per 5 s per
 * peer is ~40 B/s) and the NAT is better treated as hostile.
 */
#define LIFETIME_FLOOR		5.0
/* half the fatal gap: one lost keep-alive still leaves the binding alive
 * when the next one goes out (1.5 x interval < lifetime needs < 2/3) */
#define LIFETIME_FRACTION	0.5
/*
 * The probe search stops once the longest gap survived is within a third
 * of the shortest fatal one: the interval (half the fatal gap) is then
 * between 1/2 and 3/4 of the true lifetime. Each further probe costs a
 * fatal gap (a second of doubt, repaired by the follower) and a gap's
 * length of time: with a 10 s NAT, 20 s dies, 10 s lives, 15 s dies and
 * the search ends about 50 s after the path came up (tests/natlab/48-punchd-lifetime.sh).
 */
#define LIFETIME_PRECISION	(1.0 / 3)

struct lifetime {
	double		survived;	/* longest gap survived, 0 none */
	double		died;		/* shortest fatal gap, 0 none */
	double		interval;
	unsigned	deaths;		/* counted as timeouts */
	unsigned	ignored;	/* deaths that were not the timer */
};

void	lifetime_init(struct lifetime *l);
/* A new network (address or route changed): forget, back to the ceiling. */
#define lifetime_reset(l)	lifetime_init(l)
/* The interval to keep alive at now. */
double	lifetime_interval(const struct lifetime *l);
void	lifetime_survived(struct lifetime *l, double gap);
/* Returns 1 when it counted as the NAT's timer (the interval shortened or
 * stayed at the floor), 0 when ignored (not a timeout, or a bad gap). */
int	lifetime_died(struct lifetime *l, double gap);
void	lifetime_probe(struct lifetime *l, double gap, int alive);
/* The next idle gap worth an explicit probe, 0 when known well enough. */
double	lifetime_next_probe(const struct lifetime *l);
/*
 * The gap to leave before the next keep-alive on an idle path: the
 * interval, or, once the interval itself was seen surviving
 * (LIFETIME_PROVEN of it) or two gaps were fatal, and the bracket between the longest gap
 * survived and the shortest fatal one is still loose, the probe gap in
 * between (lifetime_next_probe). The keep-alive is then the probe: kept
 * alive or not, its answer is the evidence, and the peer, told the gap
 * beforehand (keepalive.h), reopens its side within a second if it died.
 */
double	lifetime_next_gap(const struct lifetime *l);
#define LIFETIME_PROVEN		0.95
/* the first gap an idle path is left, before anything is known: 12.5 s
 * dies behind a 10 s NAT at once (25 s would, and would take as long
 * again); one that lives goes on to the ceiling */
#define LIFETIME_FIRST		(LIFETIME_CEILING / 2)

#endif
