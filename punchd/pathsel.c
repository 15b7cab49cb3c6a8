/*
 * Path choice with hysteresis (see pathsel.h). Pure logic.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "punchd/pathsel.h"

static const double pathsel_kind_ms[] = { 0, 10, 20, 200 };

const char *
pathsel_kind_name(int kind)
{
	switch (kind) {
	case PATH_KIND_LAN:	return "LAN";
	case PATH_KIND_DIRECT:	return "direct";
	case PATH_KIND_HAIRPIN:	return "hairpin";
	case PATH_KIND_RELAY:	return "relay";
	default:		return "unknown";
	}
}

void
pathsel_init(struct pathsel *ps)
{
	memset(ps, 0, sizeof(*ps));
	ps->current = -1;
	ps->switched_at = -1e9;
}

static struct pathsel_cand *
pathsel_get(struct pathsel *ps, int idx)
{
	if (idx < 0 || idx >= PATHSEL_MAX || !ps->c[idx].used)
		return NULL;
	return &ps->c[idx];
}

int
pathsel_add(struct pathsel *ps, int kind, int family)
{
	int i;

	if (kind < PATH_KIND_LAN || kind > PATH_KIND_RELAY ||
	    (kind != PATH_KIND_RELAY && family != 4 && family != 6))
		return -1;
	for (i = 0; i < PATHSEL_MAX; i++)
		if (!ps->c[i].used) {
			memset(&ps->c[i], 0, sizeof(ps->c[i]));
			ps->c[i].used = 1;
			ps->c[i].kind = kind;
			ps->c[i].family = family;
			ps->c[i].better_since = -1;
			return i;
		}
	return -1;
}

void
pathsel_remove(struct pathsel *ps, int idx)
{
	if (pathsel_get(ps, idx) == NULL)
		return;
	ps->c[idx].used = 0;
	if (ps->current == idx)
		ps->current = -1;
}

void
pathsel_measure(struct pathsel *ps, int idx, double srtt, double loss,
    unsigned samples)
{
	struct pathsel_cand *c = pathsel_get(ps, idx);

	if (c == NULL || !isfinite(srtt) || srtt < 0 || srtt > 60 ||
	    !(loss >= 0 && loss <= 1))
		return;
	c->srtt = srtt;
	c->loss = loss;
	c->samples = samples;
}

void
pathsel_up(struct pathsel *ps, int idx, double now)
{
	struct pathsel_cand *c = pathsel_get(ps, idx);

	if (c == NULL || c->alive)
		return;
	c->alive = 1;
	c->up_since = now;
	c->better_since = -1;
}

void
pathsel_down(struct pathsel *ps, int idx, double now)
{
	struct pathsel_cand	*c = pathsel_get(ps, idx);
	int			 i;

	if (c == NULL || !c->alive)
		return;
	c->alive = 0;
	/* nothing else alive: it had no rival to flap with, and taking it
	 * again when it returns is no choice (the relay not met yet) */
	for (i = 0; i < PATHSEL_MAX; i++)
		if (i != idx && ps->c[i].used && ps->c[i].alive)
			break;
	if (i == PATHSEL_MAX)
		return;
	/* a path that was up a while before it died is not flapping: the
	 * series of deaths starts again (a cut cable, a NAT reboot) */
	if (now - c->up_since >= PATHSEL_STABLE)
		c->deaths = 0;
	c->deaths++;
	c->holddown = fmin(PATHSEL_HOLDDOWN * pow(2, c->deaths - 1),
	    PATHSEL_HOLDDOWN_MAX);
}

double
pathsel_cost(const struct pathsel_cand *c)
{
	double cost = c->srtt * 1000 + PATHSEL_LOSS_MS * c->loss +
	    pathsel_kind_ms[c->kind];

	if (c->kind != PATH_KIND_RELAY && c->family == 4)
		cost += PATHSEL_V4_MS;
	return cost;
}

/* may take over from a live path */
static int
pathsel_eligible(struct pathsel_cand *c, double now)
{
	if (!c->used || !c->alive)
		return 0;
	if (now - c->up_since >= PATHSEL_FORGIVE)
		c->deaths = 0;
	return now - c->up_since >= (c->deaths ? c->holddown : 0) &&
	    c->samples >= PATHSEL_MIN_SAMPLES;
}

static int
pathsel_switch(struct pathsel *ps, int to, double now, const char *why)
{
	char	from[48];
	int	cur = ps->current;

	if (cur >= 0 && ps->c[cur].used)
		snprintf(from, sizeof(from), "%s/%d (%.0f ms)",
		    pathsel_kind_name(ps->c[cur].kind), ps->c[cur].family,
		    pathsel_cost(&ps->c[cur]));
	else
		snprintf(from, sizeof(from), "none");
	if (to >= 0)
		snprintf(ps->reason, sizeof(ps->reason), "%s -> %s/%d "
		    "(%.0f ms): %s", from, pathsel_kind_name(ps->c[to].kind),
		    ps->c[to].family, pathsel_cost(&ps->c[to]), why);
	else
		snprintf(ps->reason, sizeof(ps->reason), "%s -> none: %s",
		    from, why);
	ps->current = to;
	ps->switched_at = now;
	ps->switches++;
	return to;
}

/* the cheapest live candidate, those past hold-down first */
static int
pathsel_fallback(struct pathsel *ps, double now)
{
	int i, best = -1, pass;

	for (pass = 0; pass < 2 && best < 0; pass++)
		for (i = 0; i < PATHSEL_MAX; i++) {
			struct pathsel_cand *c = &ps->c[i];

			if (!c->used || !c->alive || (pass == 0 &&
			    c->deaths && now - c->up_since < c->holddown))
				continue;
			if (best < 0 ||
			    pathsel_cost(c) < pathsel_cost(&ps->c[best]))
				best = i;
		}
	return best;
}

int
pathsel_choose(struct pathsel *ps, double now)
{
	struct pathsel_cand	*cur;
	double			 cc, margin;
	int			 i, best = -1;

	cur = pathsel_get(ps, ps->current);
	if (cur == NULL || !cur->alive) {
		i = pathsel_fallback(ps, now);
		if (i == ps->current)
			return i;
		return pathsel_switch(ps, i, now, cur == NULL ? "first path" :
		    "current path dead");
	}
	cc = pathsel_cost(cur);
	margin = fmax(PATHSEL_MARGIN_MS, PATHSEL_MARGIN * cc);
	for (i = 0; i < PATHSEL_MAX; i++) {
		struct pathsel_cand *c = &ps->c[i];

		if (i == ps->current || !c->used)
			continue;
		if (!pathsel_eligible(c, now) ||
		    pathsel_cost(c) >= cc - margin) {
			c->better_since = -1;
			continue;
		}
		if (c->better_since < 0)
			c->better_since = now;
		if (now - c->better_since >= PATHSEL_HOLD &&
		    (best < 0 || pathsel_cost(c) < pathsel_cost(&ps->c[best])))
			best = i;
	}
	if (best < 0 || now - ps->switched_at < PATHSEL_DWELL)
		return ps->current;
	return pathsel_switch(ps, best, now, "cheaper for 2 s");
}
