/*
 * When punchd looks for its candidates again (issue 13, item 5: roaming).
 * Three kinds of news start it:
 *
 *   ROAM_NET   netlink: an address or a route of this host changed. They
 *              come in bursts (a DHCP renewal or a Wi-Fi switch is an
 *              address removed, one added, routes for both, the default
 *              route): act once the burst is over, ROAMLOGIC_QUIET after
 *              its last message, but never later than ROAMLOGIC_HOLD
 *              after its first, so that a chatty link cannot stall it;
 *   ROAM_PATH  a direct path in use fell in doubt or died: our NAT may
 *              have moved us (a new external address, a flushed table);
 *   ROAM_NAT   stund's nat.changed: its own mapping moved.
 * PATH and NAT act at once. Whatever the news, one look at most every
 * ROAMLOGIC_GAP: a look is a STUN exchange and a SIGNAL to each peer on a
 * relay, and a dying mesh of 50 peers must not make 50 of them. News
 * during a look, or inside the gap, makes one more look as soon as the
 * gap allows. No I/O, no clock of its own: unit tests drive it.
 */
#ifndef PUNCHD_ROAMLOGIC_H
#define PUNCHD_ROAMLOGIC_H

#define ROAM_NET	0x1
#define ROAM_PATH	0x2
#define ROAM_NAT	0x4

/* the end of a burst: 0.15 s without a netlink message (a burst's
 * messages are microseconds apart; a DHCP client's address and route
 * steps, milliseconds) */
#define ROAMLOGIC_QUIET	0.15
/* issue 13: the peers hear of a change within 2 s; a look takes a STUN
 * round trip and a relay hop after this */
#define ROAMLOGIC_HOLD	0.5
#define ROAMLOGIC_GAP	1.0

struct roamlogic {
	unsigned	why;		/* news not acted on yet: ROAM_* */
	double		first, last;	/* of the pending netlink burst */
	double		ran;		/* the last look, -1: never */
	unsigned long	looks, news;
};

void		roamlogic_init(struct roamlogic *r);
/* News of kind `why` (ROAM_*) at `now`. */
void		roamlogic_note(struct roamlogic *r, unsigned why, double now);
/* When to look next (absolute); a negative value: nothing pending. */
double		roamlogic_due(const struct roamlogic *r);
/* At `now`: the news to act on (ROAM_* bits) when a look is due, the
 * look then counted as made; 0 when it is not due yet. */
unsigned	roamlogic_take(struct roamlogic *r, double now);
/* "an address or route changed, a path died" */
void		roamlogic_words(unsigned why, char *buf, unsigned long len);

#endif
