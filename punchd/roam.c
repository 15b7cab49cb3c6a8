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
 *             without a working direct path hears our candidates through
 *             its relay session now (SIGNAL), its upgrade back-off ends,
 *             and it is punched again; a peer whose direct path still
 *             answers keeps it (it meets our candidates on the relay if
 *             the path dies later: every meeting signals them afresh)
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

/* The host addresses now; 1 when they differ from the last look's. */
static int
roam_hosts(struct punchd *pd)
{
	struct sockaddr_storage	 cur[ROAM_MAX_HOSTS];
	int			 n, i, same;

	n = sock_host_addrs(pd, cur, ROAM_MAX_HOSTS);
	same = n == pd->roam_nhosts;
	for (i = 0; same && i < n; i++)
		same = netaddr_equal((struct sockaddr *)&cur[i],
		    (struct sockaddr *)&pd->roam_hosts[i]);
	memcpy(pd->roam_hosts, cur, sizeof(cur[0]) * (size_t)n);
	pd->roam_nhosts = n;
	return !same;
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
	char		words[160], hosts[400], a[NETADDR_STRLEN];
	int		i, off;

	if ((why = roamlogic_take(&pd->roam, punchd_time(pd))) == 0) {
		roam_arm(pd);
		return;
	}
	pd->ctr.roam_looks++;
	roamlogic_words(why, words, sizeof(words));
	log_info("roaming: looking for our candidates again: %s", words);
	if (roam_hosts(pd)) {
		hosts[0] = '\0';
		for (i = off = 0; i < pd->roam_nhosts &&
		    off < (int)sizeof(hosts) - 1; i++)
			off += snprintf(hosts + off, sizeof(hosts) - off,
			    "%s%s", i ? " " : "", netaddr_str((struct sockaddr *)
			    &pd->roam_hosts[i], a, sizeof(a)));
		log_info("roaming: host addresses now %s", pd->roam_nhosts ?
		    hosts : "none");
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
	double		 now = punchd_time(pd);
	int		 n = 0;

	pd->ctr.roam_changes++;
	TAILQ_FOREACH(p, &pd->peers, entry) {
		if (!p->bound || (p->state == PEER_DIRECT &&
		    !pathwatch_doubted(p)))
			continue;
		upgrade_changed(&p->upg, now, what);
		n += relay_resignal(p) == 0;
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
