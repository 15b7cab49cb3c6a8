/*
 * Path choice's re-check (choose.c): pairs of a cheaper class than the
 * one in use (LAN, IPv6) that never answered are tried again 5 s after the
 * path came up, doubling to 5 minutes, while the peer is direct on a
 * dearer one. Private to path choice (choose_priv.h).
 */
#include <math.h>

#include "common/log.h"
#include "punchd.h"
#include "choose_priv.h"

/*
 * Check again the pairs of a cheaper class than the one in use that are
 * not proven: one PUNCH each (its PUNCH_ACK proves the pair, choose_valid).
 * Only those: punching the pair in use too would refresh its NAT binding
 * and hide the idle gaps the keep-alive learns the NAT's lifetime from
 * (lifetime.c). Returns how many went.
 */
static int
choose_recheck_send(struct peer *p, const struct choose *ch)
{
	const struct pathsel_cand	*cur;
	const struct sockaddr		*sa;
	int				 i, s, n = 0;

	if ((p->state != PEER_DIRECT && p->state != PEER_DEGRADED) ||
	    ch->ps.current < 0 || ch->ps.current == ch->relay)
		return 0;
	cur = &ch->ps.c[ch->ps.current];
	for (i = 0; i < p->punch.npairs; i++) {
		sa = &p->punch.pairs[i].remote.addr.sa;
		s = choose_cand_find(ch, sa);
		if ((s < 0 || !ch->ps.c[s].alive) &&
		    choose_cand_class(choose_cand_kind(p, sa), sa->sa_family ==
		    AF_INET6 ? 6 : 4) < choose_cand_class(cur->kind,
		    cur->family)) {
			punch_probe(&p->punch, i, sa, punchd_time(p->pd));
			n++;
		}
	}
	return n;
}

void
choose_recheck_tick(struct peer *p, struct choose *ch, double now)
{
	int n;

	if (now < ch->recheck_at)
		return;
	if (p->punch.state != PUNCH_RUNNING &&
	    (n = choose_recheck_send(p, ch)) > 0)
		log_debug("peer %s: checking its %d better pair%s again",
		    peer_label(p), n, n == 1 ? "" : "s");
	ch->recheck_at = now + ch->recheck_every;
	ch->recheck_every = fmin(ch->recheck_every * 2, CHOOSE_RECHECK_MAX);
}
