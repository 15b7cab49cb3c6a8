/*
 * Port prediction for sequential allocators (see natpredict.h).
 */
#include <math.h>
#include <stdlib.h>

#include "punchd/natpredict.h"

#define NATPREDICT_SPAN	(65536 - NATPREDICT_PORT_MIN)

static uint16_t
natpredict_wrap(long p)
{
	long r = (p - NATPREDICT_PORT_MIN) % NATPREDICT_SPAN;

	if (r < 0)
		r += NATPREDICT_SPAN;
	return (uint16_t)(r + NATPREDICT_PORT_MIN);
}

size_t
natpredict_ports(const struct natpredict *np, uint16_t *out, size_t max)
{
	long	center, behind, k;
	int	dir;
	size_t	n = 0;

	if (np->delta == 0 || np->steps < 1 || np->jitter < 0 ||
	    !(np->drift >= 0) || np->drift > NATPREDICT_SPAN)
		return 0;
	if (max > NATPREDICT_MAX)
		max = NATPREDICT_MAX;
	dir = np->delta > 0 ? 1 : -1;
	center = (long)np->last_port + (long)np->delta * np->steps +
	    dir * lround(np->drift);
	/* behind the centre down to the port right after the last one: the
	 * delta and drift measured may both be too large (other hosts'
	 * allocations in every observed step), never too small */
	behind = labs(center - (long)np->last_port) - 1;
	if (behind < np->jitter)
		behind = np->jitter;
	if (n < max)
		out[n++] = natpredict_wrap(center);
	for (k = 1; n < max && k < NATPREDICT_SPAN / 2; k++) {
		out[n++] = natpredict_wrap(center + dir * k);
		if (k <= behind && n < max)
			out[n++] = natpredict_wrap(center - dir * k);
	}
	return n;
}

size_t
natpredict_stride(const struct natpredict *np, int stride, uint16_t *out,
    size_t max)
{
	size_t n;

	if (np->delta == 0 || (stride != 1 && stride != 2))
		return 0;
	if (max > NATPREDICT_MAX)
		max = NATPREDICT_MAX;
	for (n = 0; n < max; n++)
		out[n] = natpredict_wrap((long)np->last_port + (long)np->delta *
		    (stride == 1 ? (long)n + 1 : 2 * (long)n + 1));
	return n;
}
