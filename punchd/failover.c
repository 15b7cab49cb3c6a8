/*
 * Failover: what punchd does when pathwatch.c says the direct path is in
 * doubt, dead, or back (issue 13, item 2). On top of link.c.
 *
 *   in doubt  state degraded (peer.path), join the pair's relay session
 *             now, so that data sent meanwhile also goes through it
 *             (link_send_data copies it; the receiver's replay window
 *             drops whichever copy comes second); what went out
 *             since the path's last answer is sent there again when the
 *             peer is met, at once when the session is already up
 *             (link_relay_join)
 *   dead      the relay carries the pair (state relayed, peer.path) when
 *             the peer is in the session, else peer.down; either way the
 *             pair is punched again, and the dead path is still probed
 *             every 2 s for 30 s so that its return is noticed at once
 *   back      direct again (peer.path); the relay session is left 5 s
 *             later; from the relay, the pair is punched again at once
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "punchd.h"

static void
failover_doubt(struct peer *p)
{
	double quiet = punchd_time(p->pd) - p->health.last_heard;

	log_info("peer %s: direct path in doubt, no answer for %.1f s%s",
	    peer_label(p), quiet, p->pd->relay_urls[0] != '\0' ?
	    ": data goes through the relay too" : "");
	/* in the session before the path is declared dead: data copies
	 * can go through it, and the peer meets us there; what the path
	 * lost since its last answer goes through it too */
	if (p->unsure_since <= 0) {
		p->unsure_since = p->health.last_heard;
		p->doubt_at = punchd_time(p->pd);
	}
	link_relay_join(p);
	/* our NAT may have moved us: look for our candidates again */
	roam_note(p->pd, ROAM_PATH);
	choose_poke(p);		/* measure the paths, the relay among them */
	if (p->state == PEER_DIRECT) {
		peer_set_state(p, PEER_DEGRADED);
		peer_event(p, "peer.path", "no answer: path in doubt", NULL);
	}
}

static void
failover_dead(struct peer *p)
{
	struct punchd	*pd = p->pd;
	double		 quiet = punchd_time(pd) - p->health.last_heard;

	/* an idle path that died after a long gap: the NAT's timer, most
	 * likely (lifetime.h ignores gaps it saw survived) */
	if (p->ka_gap >= LIFETIME_FLOOR && lifetime_died(&p->life, p->ka_gap))
		log_info("peer %s: path died after %.1f s idle: keep-alive "
		    "every %.1f s", peer_label(p), p->ka_gap,
		    lifetime_interval(&p->life));
	p->ka_gap = 0;		/* judged */
	if (p->state != PEER_DIRECT && p->state != PEER_DEGRADED)
		return;
	if (link_relay_met_recently(p)) {
		snprintf(p->lost_why, sizeof(p->lost_why), "the direct path "
		    "died: no answer for %.1f s", quiet);
		p->lost_at = punchd_time(pd);
		link_relay_use(p, "direct path dead", p->lost_why);
	} else
		link_down(p, "path dead: no answer for 3 s");
	if (p->punch.state != PUNCH_RUNNING)
		link_start_punch(p);
}

static void
failover_back(struct peer *p)
{
	log_info("peer %s: direct path answers again", peer_label(p));
	if (p->state == PEER_DEGRADED && p->ka.failures < p->ka.warn_after) {
		peer_set_state(p, PEER_DIRECT);
		peer_event(p, "peer.path", "path answers again", NULL);
	}
	if (p->state == PEER_DIRECT) {
		link_resend_back(p);
		link_relay_leave_later(p);
	}
	else if (p->punch.state != PUNCH_RUNNING)
		link_start_punch(p);	/* relayed or down: prove it, move */
}

/* the last attempt's pairs, in words */
static void
failover_why_pairs(const struct peer *p, char *buf, size_t len)
{
	int i, ok = 0, sent = 0;

	for (i = 0; i < p->punch.npairs; i++) {
		ok += p->punch.pairs[i].state == PAIR_SUCCEEDED;
		sent += p->punch.pairs[i].sends;
	}
	if (p->punch.npairs == 0)
		snprintf(buf, len, "no candidate of the peer is known (it "
		    "signals them through the relay, or `meshctl punch` gives "
		    "one)");
	else if (p->punch.state == PUNCH_RUNNING)
		snprintf(buf, len, "punching: attempt %d running over %d "
		    "pair%s, %d PUNCH%s sent", p->attempts, p->punch.npairs,
		    p->punch.npairs == 1 ? "" : "s", sent, sent == 1 ? "" :
		    "es");
	else if (ok == 0)
		snprintf(buf, len, "the last attempt (%d) had no answer on "
		    "any of %d pair%s (%d PUNCH%s sent): the NATs drop what "
		    "we send, or map it per destination", p->attempts,
		    p->punch.npairs, p->punch.npairs == 1 ? "" : "s", sent,
		    sent == 1 ? "" : "es");
	else
		snprintf(buf, len, "%d of %d pairs answered in the last "
		    "attempt, none was nominated", ok, p->punch.npairs);
}

void
failover_why(const struct peer *p, char *buf, size_t len)
{
	char	pairs[200], lost[160] = "";
	double	now = punchd_time(p->pd);

	if (p->lost_why[0] != '\0')
		snprintf(lost, sizeof(lost), "; %.0f s ago %s", now -
		    p->lost_at, p->lost_why);
	failover_why_pairs(p, pairs, sizeof(pairs));
	switch (p->state) {
	case PEER_DIRECT:
	case PEER_DEGRADED:
		if (pathwatch_doubted(p))
			snprintf(buf, len, "direct, but the path is %s: no "
			    "answer for %.1f s%s", health_state_name(
			    p->health.state), now - p->health.last_heard,
			    p->relay != NULL ? "; data also goes through the "
			    "relay" : "");
		else
			snprintf(buf, len, "direct%s", p->state ==
			    PEER_DEGRADED ? ", degraded: keep-alives "
			    "unanswered" : "");
		return;
	case PEER_RELAYED:
		/* kept there by path choice while a direct pair works */
		if (p->punch.state == PUNCH_DONE && choose_why(p) != NULL) {
			snprintf(buf, len, "relayed: path choice: %s%s",
			    choose_why(p), lost);
			return;
		}
		snprintf(buf, len, "relayed: %s%s%s%s", pairs,
		    p->upg.tries > 0 ? "; " : "", p->upg.tries > 0 ?
		    p->upg.reason : "", lost);
		return;
	default:
		snprintf(buf, len, "%s%s%s%s", p->punch.state == PUNCH_RUNNING ?
		    "" : p->state == PEER_DOWN ? "down: " : "no path: ", pairs, p->pd->relay_urls[0] == '\0' ? "; no relay "
		    "configured" : p->relay == NULL ? "" : "; relay session "
		    "not (yet) shared with the peer", lost);
		return;
	}
}

void
failover_init(struct punchd *pd)
{
	pd->hooks.path_doubt = failover_doubt;
	pd->hooks.path_dead = failover_dead;
	pd->hooks.path_back = failover_back;
}
