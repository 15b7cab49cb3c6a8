/*
 * Which of a peer's working paths carries its traffic: direct pairs of
 * different kinds and families, and the relay. Each has a cost in
 * milliseconds of RTT:
 *
 *   cost = srtt + PATHSEL_LOSS_MS x loss + kind penalty + family penalty
 *
 *   kind     LAN 0, DIRECT 10, HAIRPIN 20 (through our own NAT's public
 *            address: it loads the NAT and breaks when it reboots),
 *            RELAY 200 (it costs the relay operator; it wins over a direct
 *            path only when the direct one loses 20 % or more, or is
 *            200 ms slower)
 *   family   IPv4 +10: IPv6 has no NAT binding to lose and no hairpin;
 *            it wins over IPv4 of the same kind unless it is 10 ms slower
 *            (plus the margin)
 *   loss     1 % = 10 ms: 50 % loss costs 500 ms, so a 50 %-loss direct
 *            path gives way to a 60 ms relay, and gets it back only below
 *            about 4 % loss
 *
 * Hysteresis: the current path stays unless it is dead, or another one
 * has been cheaper by the margin (5 ms or 15 %) for PATHSEL_HOLD s, and
 * the last switch is PATHSEL_DWELL s old. A path that died is held down
 * after it comes back (10 s, doubling per death to 5 minutes; forgiven
 * after 5 minutes up; a death after PATHSEL_STABLE s up starts a new
 * series; a death while no other path is alive does not count: there was
 * nothing to flap with) and needs PATHSEL_MIN_SAMPLES RTT samples before it
 * can take over from a live path. No I/O.
 */
#ifndef PUNCHD_PATHSEL_H
#define PUNCHD_PATHSEL_H

#define PATHSEL_MAX		17	/* PUNCH_MAX_CANDS pairs + the relay */

#define PATH_KIND_LAN		0
#define PATH_KIND_DIRECT	1
#define PATH_KIND_HAIRPIN	2
#define PATH_KIND_RELAY		3

#define PATHSEL_LOSS_MS		1000.0
#define PATHSEL_V4_MS		10.0
#define PATHSEL_MARGIN_MS	5.0
#define PATHSEL_MARGIN		0.15
#define PATHSEL_HOLD		2.0
#define PATHSEL_DWELL		10.0
#define PATHSEL_HOLDDOWN	10.0
#define PATHSEL_HOLDDOWN_MAX	300.0
#define PATHSEL_FORGIVE		300.0
#define PATHSEL_STABLE		5.0
#define PATHSEL_MIN_SAMPLES	3

struct pathsel_cand {
	int		used, kind, family;	/* family 4 or 6 */
	int		alive;
	double		srtt, loss;		/* s, fraction */
	unsigned	samples;
	double		up_since, better_since;
	unsigned	deaths;
	double		holddown;
};

struct pathsel {
	struct pathsel_cand	c[PATHSEL_MAX];
	int			current;	/* -1 none */
	double			switched_at;
	unsigned		switches;
	char			reason[160];
};

void	pathsel_init(struct pathsel *ps);
/* A new candidate, not alive until pathsel_up. Returns its index, -1 full. */
int	pathsel_add(struct pathsel *ps, int kind, int family);
void	pathsel_remove(struct pathsel *ps, int idx);
/* From punchd/path.h's figures; out-of-range values are ignored. */
void	pathsel_measure(struct pathsel *ps, int idx, double srtt, double loss,
	    unsigned samples);
/* Proven (handshake or health recovered) / dead (punchd/health.h). */
void	pathsel_up(struct pathsel *ps, int idx, double now);
void	pathsel_down(struct pathsel *ps, int idx, double now);
double	pathsel_cost(const struct pathsel_cand *c);
/* The path to use now (-1: none alive); ps->reason says why it changed. */
int	pathsel_choose(struct pathsel *ps, double now);
const char *pathsel_kind_name(int kind);

#endif
