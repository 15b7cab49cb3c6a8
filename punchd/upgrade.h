/*
 * When a relayed pair tries direct again. While a candidate is worth
 * trying: 15 s after a failure, then 30 s, then every 60 s (issue 13: at
 * least every 60 s), and at once when either side's candidates change (a
 * new mapping, a roam, stund's nat.changed). A pair found hopeless
 * (both sides map per destination with random ports, or probing already
 * failed) backs off from 5 minutes, doubling to an hour, with the reason
 * kept for `meshctl why`; a changed candidate ends the back-off. No I/O.
 */
#ifndef PUNCHD_UPGRADE_H
#define PUNCHD_UPGRADE_H

#define UPGRADE_EVERY		60.0
#define UPGRADE_HOPELESS	300.0
#define UPGRADE_HOPELESS_MAX	3600.0

struct upgrade {
	double		next;		/* INFINITY: direct, nothing to do */
	unsigned	tries;		/* failures since the last change */
	int		hopeless;
	double		backoff;
	char		reason[200];
};

void	upgrade_init(struct upgrade *u, double now);
/* Either side's candidates changed: try at once. */
void	upgrade_changed(struct upgrade *u, double now, const char *what);
/* A try failed; hopeless when nothing short of a change can help. */
void	upgrade_failed(struct upgrade *u, double now, int hopeless,
	    const char *why);
/* The pair is direct. */
void	upgrade_succeeded(struct upgrade *u);
/* Lost the direct path: relayed again, try again soon. */
#define upgrade_lost(u, now)	upgrade_changed((u), (now), "direct path lost")
int	upgrade_due(const struct upgrade *u, double now);

#endif
