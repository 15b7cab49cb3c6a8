/*
 * A peer's path candidates for choose.c (see there): one pathsel slot per
 * proven pair, found by address, and one for the relay; PINGs on each and
 * what their answers say (RTT, loss over the last CHOOSE_LOSS_WINDOW
 * probes, whether a path that died was lossy or cut).
 */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "punchd.h"
#include "choose_priv.h"

struct choose *
choose_cand_get(struct peer *p)
{
	struct choose *ch;

	if (p->choose != NULL)
		return p->choose;
	if ((ch = calloc(1, sizeof(*ch))) == NULL) {
		log_warn("%s", __func__);
		return NULL;
	}
	pathsel_init(&ch->ps);
	ch->relay = pathsel_add(&ch->ps, PATH_KIND_RELAY, 0);
	path_init(&ch->st[ch->relay]);
	ch->lost_seen = p->lost_at;
	ch->recheck_every = CHOOSE_RECHECK_MIN;
	ch->recheck_at = punchd_time(p->pd) + CHOOSE_RECHECK_MIN;
	p->choose = ch;
	return ch;
}

/* loss over the last n probes of st, skipping the `skip` newest */
double
choose_cand_loss(const struct path_stats *st, int skip)
{
	uint64_t	m;
	int		n = st->nhist < CHOOSE_LOSS_WINDOW ? st->nhist :
			    CHOOSE_LOSS_WINDOW;

	n -= skip;
	if (n <= 0)
		return 0;
	m = (st->hist >> skip) & ((1ULL << n) - 1);
	return (double)__builtin_popcountll(m) / n;
}

int
choose_cand_kind(const struct peer *p, const struct sockaddr *sa)
{
	const struct punchd *pd = p->pd;

	if (link_guess_type(sa) == CAND_HOST)
		return PATH_KIND_LAN;
	if ((pd->has_public4 && netaddr_equal_ip(sa,
	    (const struct sockaddr *)&pd->public4)) || (pd->has_public6 &&
	    netaddr_equal_ip(sa, (const struct sockaddr *)&pd->public6)) ||
	    (pd->has_mapped && netaddr_equal_ip(sa,
	    (const struct sockaddr *)&pd->mapped)))
		return PATH_KIND_HAIRPIN;
	return PATH_KIND_DIRECT;
}

int
choose_cand_find(const struct choose *ch, const struct sockaddr *sa)
{
	int i;

	for (i = 0; i < PATHSEL_MAX; i++)
		if (i != ch->relay && ch->ps.c[i].used &&
		    netaddr_equal(&ch->addr[i].sa, sa))
			return i;
	return -1;
}

/* a direct candidate's slot, made when new (-1: full) */
int
choose_cand_slot(struct peer *p, struct choose *ch,
    const struct sockaddr *sa)
{
	int i;

	if ((i = choose_cand_find(ch, sa)) != -1)
		return i;
	if ((i = pathsel_add(&ch->ps, choose_cand_kind(p, sa),
	    sa->sa_family == AF_INET6 ? 6 : 4)) == -1)
		return -1;
	memset(&ch->addr[i], 0, sizeof(ch->addr[i]));
	memcpy(&ch->addr[i], sa, netaddr_len(sa));
	path_init(&ch->st[i]);
	ch->out[i] = 0;
	ch->lossy[i] = 0;
	ch->heard[i] = punchd_time(p->pd);
	return i;
}

/* one probe's fate, or a check's RTT (rtt >= 0) */
void
choose_cand_result(struct choose *ch, int i, double rtt)
{
	if (rtt >= 0)
		path_rtt(&ch->st[i], rtt);
	else
		path_lost(&ch->st[i]);
	if (ch->nup[i] < CHOOSE_LOSS_WINDOW)
		ch->nup[i]++;
	pathsel_measure(&ch->ps, i, ch->st[i].srtt,
	    choose_cand_loss(&ch->st[i], 0), (unsigned)ch->st[i].samples);
}

void
choose_cand_up(struct choose *ch, int i, double now)
{
	if (ch->ps.c[i].alive)
		return;
	ch->nup[i] = 0;
	pathsel_up(&ch->ps, i, now);
}

/*
 * Was candidate i lossy, or cut? Its probes since it came up, before the
 * final run of lost ones (the cut itself, if it was one): lossy when they
 * lost CHOOSE_JOIN_LOSS or more, and at least two, counted from its first
 * answered probe: one lost at the edge of a cut, or the first ones after
 * it came up, are no loss rate (natlab/17: a cut judged lossy stayed
 * relayed for 10 s). `on_cost`: the relay is taking over on cost, not on
 * a death; a cut then shows as the newest two probes or more lost after
 * CHOOSE_CUT_CLEAN or more probes with no loss at all (50 % loss loses
 * ten in a row now and then: "the last 10 lost, 1 of 4 lost before" was
 * judged a cut and flapped, natlab/46-loss in CI), and anything else
 * (a slow path, loss spread out, too few probes to tell) counts as
 * lossy: back through
 * pathsel's hold-down only (natlab/46-loss flapped under load: moved on
 * cost after four probes, judged cut, two answered brought it back).
 */
void
choose_cand_judge(struct choose *ch, int i, int on_cost)
{
	const struct path_stats	*st = &ch->st[i];
	int			 run = 0, n, lost;

	while (run < ch->nup[i] && (st->hist >> run & 1))
		run++;
	n = ch->nup[i] - run;
	/* nor the first ones after it came up, lost before the peer's side
	 * was open again: from its first answered probe on */
	while (n > 0 && (st->hist >> (run + n - 1) & 1))
		n--;
	lost = n > 0 ? __builtin_popcountll((st->hist >> run) &
	    (n < 64 ? (1ULL << n) - 1 : ~0ULL)) : 0;
	ch->lossy[i] = (lost >= 2 && (double)lost / n >= CHOOSE_JOIN_LOSS) ||
	    (on_cost && (run < 2 || n < CHOOSE_CUT_CLEAN || lost > 0));
	/* the evidence, for the odd slow return (natlab/17) */
	log_debug("path choice: slot %d judged %s%s: %d probes since up, "
	    "the last %d lost, %d of %d lost before (history %#llx)", i,
	    ch->lossy[i] ? "lossy" : "cut", on_cost ? " on cost" : "",
	    ch->nup[i], run, lost, n, (unsigned long long)st->hist);
}

void
choose_cand_down(struct choose *ch, int i, double now)
{
	if (!ch->ps.c[i].alive)
		return;
	choose_cand_judge(ch, i, 0);
	pathsel_down(&ch->ps, i, now);
	ch->out[i] = 0;
}

/*
 * The relay carries the pair because direct slot i went quiet or was cut
 * (not lossy before), it has died at most once in its series, and its two
 * latest probes were answered: it is back.
 */
int
choose_cand_back(const struct choose *ch, int i)
{
	return i != ch->relay && ch->ps.c[i].used && ch->ps.c[i].alive &&
	    !ch->lossy[i] && ch->ps.c[i].deaths <= 1 && ch->nup[i] >= 2 &&
	    (ch->st[i].hist & 3) == 0;
}

/* A probe on candidate i: a PING there, the last one counted lost. */
void
choose_cand_probe(struct peer *p, struct choose *ch, int i)
{
	struct packet_ping	pg;
	uint8_t			buf[PACKET_PING_LEN];
	int			n;

	/* a tick brought forward (a poke) finds the last probe still on
	 * its way: wait for it, it is not lost (false losses made a cut
	 * path look lossy, natlab/17) */
	if (ch->out[i] != 0 && punchd_time(p->pd) - ch->out_at[i] <
	    CHOOSE_TICK * 0.9)
		return;
	if (ch->out[i] != 0)
		choose_cand_result(ch, i, -1);
	ch->seq = (ch->seq + 1) & 0x3ffffff;
	pg.id = CHOOSE_ID | ch->seq << 5 | (uint32_t)i;
	pg.ts = (uint64_t)(punchd_time(p->pd) * 1e6);
	if ((n = packet_ping_encode(buf, sizeof(buf), &pg)) == -1)
		return;
	ch->out[i] = pg.id;
	ch->out_at[i] = punchd_time(p->pd);
	e2e_session_send(p, PACKET_PING, buf, n, i == ch->relay ? NULL :
	    &ch->addr[i].sa);
}

int
choose_cand_pong(struct peer *p, uint32_t id, const struct sockaddr *from,
    double rtt)
{
	struct choose	*ch = p->choose;
	int		 i = id & 31;

	if (!(id & CHOOSE_ID))
		return 0;
	if (ch == NULL || i >= PATHSEL_MAX || !ch->ps.c[i].used ||
	    ch->out[i] != id || (from == NULL) != (i == ch->relay) ||
	    (from != NULL && !netaddr_equal(from, &ch->addr[i].sa)))
		return 1;	/* late, or for a slot reused since */
	ch->out[i] = 0;
	ch->heard[i] = punchd_time(p->pd);
	choose_cand_result(ch, i, rtt);
	if (i != ch->relay)
		choose_cand_up(ch, i, punchd_time(p->pd));
	return 1;
}

/* the class (kind and family) pathsel ranks a candidate in, in ms */
double
choose_cand_class(int kind, int family)
{
	struct pathsel_cand c;

	memset(&c, 0, sizeof(c));
	c.kind = kind;
	c.family = family;
	return pathsel_cost(&c);
}
