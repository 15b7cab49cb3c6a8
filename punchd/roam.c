/*
 * Roaming (issue 13, item 5): when this node's addresses, routes or NAT
 * mapping change, its peers hear of it at once rather than at the next
 * 5-minute STUN refresh, and the pairs are punched again.
 *
 *   news      netwatch.c (an address or route changed), failover.c (a
 *             direct path in use went quiet: our NAT may have moved us),
 *             control_stund.c (stund's nat.changed)
 *   a look    roamlogic.h debounces the news and paces the looks; a look
 *             reads the host addresses again (getifaddrs), probes every
 *             direct path at once after a netlink change (its source
 *             address may be gone: the probe's silence casts doubt in
 *             0.5 s rather than after a second of silence), and asks for
 *             our socket's mapping again (hooks.rediscover: stund)
 *   a change  new host addresses, or a mapping that differs from the last
 *             (roam_candidates_changed, from control_stund.c): every peer
 *             with an open relay session hears our candidates now
 *             (SIGNAL; the peer checks the new ones at once, even while
 *             its direct path holds); a peer without a working direct
 *             path also ends its upgrade back-off and is punched again; a
 *             direct peer without a session meets our candidates on the
 *             relay if its path dies (every meeting signals them afresh)
 *   an address gone  relay sessions connect again at once: their TCP
 *             connection may leave from it (relay_reconnect)
 */
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "netwatch.h"
#include "punchd.h"

static void
roam_arm(struct punchd *pd)
{
	double due = roamlogic_due(&pd->roam), now = punchd_time(pd);

	ev_timer_stop(pd->loop, &pd->roam_timer);
	if (due < 0)
		return;
	ev_timer_set(&pd->roam_timer, due > now ? due - now : 0, 0);
	ev_timer_start(pd->loop, &pd->roam_timer);
}

void
roam_note(struct punchd *pd, unsigned why)
{
	if (!pd->roam_on)
		return;
	roamlogic_note(&pd->roam, why, punchd_time(pd));
	roam_arm(pd);
}

static void
roam_netwatch_cb(void *arg)
{
	roam_note(arg, ROAM_NET);
}

/* datagrams sent this long before a change that no look announced may
 * have gone to the old address: 2 s at 20 a second is 40 of TX_KEPT */
#define ROAM_RESEND_MAX		2.0

#define ROAM_HOSTS_CHANGED	0x1
#define ROAM_HOSTS_GONE		0x2	/* one of the last look's went away */

static int
roam_has(const struct sockaddr_storage *set, int n,
    const struct sockaddr_storage *a)
{
	int i;

	for (i = 0; i < n; i++)
		if (netaddr_equal((const struct sockaddr *)&set[i],
		    (const struct sockaddr *)a))
			return 1;
	return 0;
}

/* The host addresses now, against the last look's: ROAM_HOSTS_* */
static int
roam_hosts(struct punchd *pd)
{
	struct sockaddr_storage	 cur[ROAM_MAX_HOSTS];
	int			 n, i, f = 0;

	n = sock_host_addrs(pd, cur, ROAM_MAX_HOSTS);
	for (i = 0; i < pd->roam_nhosts; i++)
		if (!roam_has(cur, n, &pd->roam_hosts[i]))
			f |= ROAM_HOSTS_GONE | ROAM_HOSTS_CHANGED;
	for (i = 0; i < n; i++)
		if (!roam_has(pd->roam_hosts, pd->roam_nhosts, &cur[i]))
			f |= ROAM_HOSTS_CHANGED;
	memcpy(pd->roam_hosts, cur, sizeof(cur[0]) * (size_t)n);
	pd->roam_nhosts = n;
	return f;
}

/* An address went away: relay sessions connect again (relay_reconnect) */
static void
roam_relays(struct punchd *pd)
{
	struct peer	*p;
	int		 n = 0;

	TAILQ_FOREACH(p, &pd->peers, entry)
		n += relay_reconnect(p) == 0;
	if (n > 0)
		log_info("roaming: an address went away: %d relay session%s "
		    "connect%s again", n, n == 1 ? "" : "s", n == 1 ? "s" : "");
}

/* After a netlink change: every direct path answers a probe now, or
 * falls in doubt within the RTO (pathwatch.c). */
static void
roam_probe_direct(struct punchd *pd)
{
	struct peer *p;

	TAILQ_FOREACH(p, &pd->peers, entry)
		if (p->state == PEER_DIRECT && p->has_endpoint &&
		    p->watching) {
			tx_send(p, PACKET_KEEPALIVE, 0, NULL, 0,
			    (const struct sockaddr *)&p->endpoint);
			pathwatch_sent(p, 1);
		}
}

static void
roam_look(struct punchd *pd)
{
	unsigned	why;
	double		at;
	char		words[160], hosts[400], a[NETADDR_STRLEN];
	int		i, off, hf;

	/* the news began here: a netlink burst's first message, else now */
	at = pd->roam.why & ROAM_NET ? pd->roam.first : punchd_time(pd);
	if ((why = roamlogic_take(&pd->roam, punchd_time(pd))) == 0) {
		roam_arm(pd);
		return;
	}
	pd->roam_at = at;
	pd->ctr.roam_looks++;
	roamlogic_words(why, words, sizeof(words));
	log_info("roaming: looking for our candidates again: %s", words);
	if ((hf = roam_hosts(pd)) != 0) {
		hosts[0] = '\0';
		for (i = off = 0; i < pd->roam_nhosts &&
		    off < (int)sizeof(hosts) - 1; i++)
			off += snprintf(hosts + off, sizeof(hosts) - off,
			    "%s%s", i ? " " : "", netaddr_str((struct sockaddr *)
			    &pd->roam_hosts[i], a, sizeof(a)));
		log_info("roaming: host addresses now %s", pd->roam_nhosts ?
		    hosts : "none");
		if (hf & ROAM_HOSTS_GONE)
			roam_relays(pd);
		roam_candidates_changed(pd, "our host addresses changed");
	}
	if (why & ROAM_NET)
		roam_probe_direct(pd);
	if (pd->hooks.rediscover != NULL)
		pd->hooks.rediscover(pd);
	roam_arm(pd);
}

static void
roam_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	roam_look(w->data);
}

void
roam_candidates_changed(struct punchd *pd, const char *what)
{
	struct peer	*p;
	double		 now = punchd_time(pd), since;
	int		 n = 0, k;

	pd->ctr.roam_changes++;
	pd->roam_changed = now;
	/* since the news of this look; a change no look started (the
	 * periodic STUN refresh): the last ROAM_RESEND_MAX s */
	since = now - pd->roam_at < ROAM_RESEND_MAX ? pd->roam_at :
	    now - ROAM_RESEND_MAX;
	TAILQ_FOREACH(p, &pd->peers, entry) {
		if (!p->bound)
			continue;
		/* every open session hears it, a direct pair's too: the
		 * peer checks what is new while its path may still hold */
		if (relay_resignal(p) == 0) {
			n++;
			/* what went out direct since the news may be lost
			 * (no doubt has been cast yet, so failover will not
			 * send it again): through the relay too, the replay
			 * window drops the copies that did arrive */
			if (p->state == PEER_DIRECT && !pathwatch_doubted(p) &&
			    (k = tx_resend(p, since, NULL)) > 0)
				log_info("peer %s: %d datagram%s sent since the "
				    "change, again through the relay",
				    peer_label(p), k, k == 1 ? "" : "s");
		}
		if (p->state == PEER_DIRECT && !pathwatch_doubted(p))
			continue;
		upgrade_changed(&p->upg, now, what);
		if (p->punch.state != PUNCH_RUNNING)
			link_start_punch(p);
	}
	log_info("roaming: %s: %d peer%s told through the relay", what, n,
	    n == 1 ? "" : "s");
}

void
roam_init(struct punchd *pd)
{
	roamlogic_init(&pd->roam);
	ev_init(&pd->roam_timer, roam_timer_cb);
	pd->roam_timer.data = pd;
}

void
roam_start(struct punchd *pd)
{
	pd->roam_on = 1;
	roam_hosts(pd);
	if (pd->cfg.roam && pd->netwatch == NULL)
		pd->netwatch = netwatch_open(pd->loop, roam_netwatch_cb, pd);
}

void
roam_stop(struct punchd *pd)
{
	pd->roam_on = 0;
	ev_timer_stop(pd->loop, &pd->roam_timer);
	netwatch_close(pd->netwatch);
	pd->netwatch = NULL;
}

/* SIGHUP: punchd.roam on or off */
void
roam_reload(struct punchd *pd)
{
	if (!pd->roam_on)
		return;
	if (!pd->cfg.roam) {
		netwatch_close(pd->netwatch);
		pd->netwatch = NULL;
	} else if (pd->netwatch == NULL)
		pd->netwatch = netwatch_open(pd->loop, roam_netwatch_cb, pd);
}
