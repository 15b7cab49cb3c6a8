/*
 * punchd/choose.c and choose_cand.c: a peer's path candidates (slots of
 * punchd/pathsel.h: the pairs proven, and the relay) and what is measured
 * on each. Private to the two files.
 */
#ifndef PUNCHD_CHOOSE_PRIV_H
#define PUNCHD_CHOOSE_PRIV_H

#include "pathsel.h"

#define CHOOSE_TICK		0.5
#define CHOOSE_ACTIVE		30.0
/* a candidate not in use that answers nothing for this long is down */
#define CHOOSE_SILENT		10.0
/* ticks between probes of a direct candidate that is down */
#define CHOOSE_DEAD_EVERY	4
/* a lone path is watched only while data flows on it (sent or heard this
 * recently): an idle one keeps the cheap keep-alive (lifetime.c) */
#define CHOOSE_FLOW		2.0
/* probes: 8 s at CHOOSE_TICK, so a path that stopped losing is seen
 * clean again within seconds (path.h's 64 keep-alives take half an hour) */
#define CHOOSE_LOSS_WINDOW	16
#define CHOOSE_JOIN_LOSS	0.1
/* answered probes before a run of lost ones that make it a cut */
#define CHOOSE_CUT_CLEAN	4
#define CHOOSE_RECHECK_MIN	5.0
#define CHOOSE_RECHECK_MAX	300.0
/* our probes' PING ids; meshctl ping counts up from 1 */
#define CHOOSE_ID		0x80000000u

struct choose {
	struct pathsel		ps;
	int			relay;		/* its slot */
	struct path_stats	st[PATHSEL_MAX];
	union punch_addr	addr[PATHSEL_MAX];	/* direct slots' pair */
	uint32_t		out[PATHSEL_MAX];	/* probe unanswered, 0 */
	double			out_at[PATHSEL_MAX];	/* when it went */
	double			heard[PATHSEL_MAX];
	int			lossy[PATHSEL_MAX];	/* lossy when it died */
	int			nup[PATHSEL_MAX];	/* probes since up */
	uint32_t		seq;
	double			active_until;
	double			peer_poked;	/* its probe made us compare */
	double			lost_seen;	/* p->lost_at counted */
	double			recheck_at, recheck_every;
	int			by_cost;	/* the relay won on cost */
	unsigned		ticks;
};

/* choose_cand.c: the candidates and their probes */
struct choose *choose_cand_get(struct peer *p);	/* made on first use */
/* loss over the last CHOOSE_LOSS_WINDOW probes, the `skip` newest aside */
double	choose_cand_loss(const struct path_stats *st, int skip);
int	choose_cand_kind(const struct peer *p, const struct sockaddr *sa);
int	choose_cand_find(const struct choose *ch, const struct sockaddr *sa);
int	choose_cand_slot(struct peer *p, struct choose *ch,
	    const struct sockaddr *sa);
void	choose_cand_result(struct choose *ch, int i, double rtt);
void	choose_cand_up(struct choose *ch, int i, double now);
void	choose_cand_down(struct choose *ch, int i, double now);
/* lossy or cut; on_cost: the relay takes over on cost, not on a death */
void	choose_cand_judge(struct choose *ch, int i, int on_cost);
int	choose_cand_back(const struct choose *ch, int i);
void	choose_cand_probe(struct peer *p, struct choose *ch, int i);
int	choose_cand_pong(struct peer *p, uint32_t id,
	    const struct sockaddr *from, double rtt);
double	choose_cand_class(int kind, int family);

/* choose_recheck.c: the cheaper pairs that never answered, tried again */
void	choose_recheck_tick(struct peer *p, struct choose *ch, double now);

#endif
