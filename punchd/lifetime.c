/*
 * Binding lifetime learning (see lifetime.h). Pure logic.
 */
#include <math.h>
#include <string.h>

#include "punchd/lifetime.h"

static void
lifetime_update(struct lifetime *l)
{
	double i = LIFETIME_CEILING;

	if (l->died > 0)
		i = LIFETIME_FRACTION * l->died;
	if (i > LIFETIME_CEILING)
		i = LIFETIME_CEILING;
	if (i < LIFETIME_FLOOR)
		i = LIFETIME_FLOOR;
	l->interval = i;
}

void
lifetime_init(struct lifetime *l)
{
	memset(l, 0, sizeof(*l));
	lifetime_update(l);
}

double
lifetime_interval(const struct lifetime *l)
{
	return l->interval;
}

static int
lifetime_gap_ok(double gap)
{
	/* a day: no NAT timer is longer, and a bigger gap is a bad clock */
	return isfinite(gap) && gap > 0 && gap <= 86400;
}

void
lifetime_survived(struct lifetime *l, double gap)
{
	if (!lifetime_gap_ok(gap))
		return;
	if (gap > l->survived)
		l->survived = gap;
	/* it outlived a gap we thought fatal: that death was something
	 * else, or the NAT changed; the fatal bound is no longer known */
	if (l->died > 0 && gap >= l->died)
		l->died = 0;
	lifetime_update(l);
}

int
lifetime_died(struct lifetime *l, double gap)
{
	if (!lifetime_gap_ok(gap) || gap <= l->survived) {
		l->ignored++;
		return 0;
	}
	if (l->died == 0 || gap < l->died)
		l->died = gap;
	l->deaths++;
	lifetime_update(l);
	return 1;
}

void
lifetime_probe(struct lifetime *l, double gap, int alive)
{
	if (!lifetime_gap_ok(gap))
		return;
	if (alive)
		lifetime_survived(l, gap);
	else if (gap > l->survived && (l->died == 0 || gap < l->died)) {
		/* an explicit probe is not a path death: no count */
		l->died = gap;
		lifetime_update(l);
	}
}

double
lifetime_next_probe(const struct lifetime *l)
{
	/* gaps shorter than the floor say nothing worth probing from */
	double lo = fmax(l->survived, LIFETIME_FLOOR);

	if (l->died == 0)
		return 0;	/* never died: the ceiling is safe */
	if (l->died <= LIFETIME_FLOOR / LIFETIME_FRACTION)
		return 0;	/* the floor applies whatever the truth */
	if (l->died - lo <= LIFETIME_PRECISION * l->died)
		return 0;
	return (lo + l->died) / 2;
}

double
lifetime_next_gap(const struct lifetime *l)
{
	double g = lifetime_next_probe(l);

	/* nothing known: half the ceiling first, so that a short timer
	 * (10 s) is found within the first minute, not after 25 s gaps */
	if (l->died == 0 && l->survived < LIFETIME_PROVEN * LIFETIME_FIRST)
		return fmin(LIFETIME_FIRST, l->interval);

	/* above an interval not yet seen surviving only after a second
	 * death: two halvings already say the timer is short */
	if (g <= l->interval || (l->survived < LIFETIME_PROVEN * l->interval &&
	    l->deaths < 2))
		return l->interval;
	return fmin(g, LIFETIME_CEILING);
}
