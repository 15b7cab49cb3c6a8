/*
 * Port allocation analysis (see alloc.h). Pure logic.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/netaddr.h"
#include "stund/alloc.h"

const char *
alloc_term(int pattern)
{
	switch (pattern) {
	case ALLOC_CONSTANT:	return "constant";
	case ALLOC_PRESERVING:	return "port-preserving";
	case ALLOC_SEQUENTIAL:	return "sequential";
	case ALLOC_RANDOM:	return "random";
	default:		return "unknown";
	}
}

/* signed distance from port a to port b, the short way round */
static int
alloc_step(uint16_t a, uint16_t b)
{
	return (int16_t)(uint16_t)(b - a);
}

/* observations in time order, the repeats of a server left out */
static size_t
alloc_distinct(const struct alloc_obs *obs, size_t n,
    const struct alloc_obs **out)
{
	size_t	i, j, k, m = 0;

	for (i = 0; i < n; i++)
		out[m++] = &obs[i];
	/* insertion sort: n <= ALLOC_MAX_OBS */
	for (i = 1; i < m; i++)
		for (j = i; j > 0 && out[j]->when < out[j - 1]->when; j--) {
			const struct alloc_obs *t = out[j];
			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	for (i = 0, k = 0; i < m; i++) {
		for (j = 0; j < k; j++)
			if (netaddr_equal((const struct sockaddr *)
			    &out[j]->server,
			    (const struct sockaddr *)&out[i]->server))
				break;
		if (j == k)
			out[k++] = out[i];
	}
	return k;
}

/* the delta that most steps agree with (+-ALLOC_JITTER), smallest on ties */
static int
alloc_best_delta(const int *d, int steps, int *fitp)
{
	int	i, j, fit, best = d[0], bestfit = -1;

	for (i = 0; i < steps; i++) {
		for (fit = 0, j = 0; j < steps; j++)
			if (abs(d[j] - d[i]) <= ALLOC_JITTER)
				fit++;
		if (fit > bestfit || (fit == bestfit && abs(d[i]) < abs(best))) {
			bestfit = fit;
			best = d[i];
		}
	}
	*fitp = bestfit;
	return best;
}

static void
alloc_sequential(struct alloc_result *r, const struct alloc_obs **o,
    const int *d, int steps)
{
	double	extra = 0, span = 0;
	int	i, dev, fit, sign;

	r->delta = alloc_best_delta(d, steps, &fit);
	/* the allocator's delta is the smallest step that fits, not the mean
	 * one: other hosts' allocations only ever add to it */
	sign = r->delta < 0 ? -1 : 1;
	for (i = 0; i < steps; i++)
		if (abs(d[i] - r->delta) <= ALLOC_JITTER &&
		    d[i] * sign < r->delta * sign)
			r->delta = d[i];
	r->jitter = 0;
	for (i = 0; i < steps; i++) {
		dev = abs(d[i] - r->delta);
		if (dev > 2 * ALLOC_JITTER)
			continue;
		if (dev > r->jitter)
			r->jitter = dev;
		extra += dev;
		span += o[i + 1]->when - o[i]->when;
	}
	r->rate = span > 0 ? extra / span : 0;
	r->pattern = (r->delta != 0 && abs(r->delta) <= ALLOC_MAX_DELTA &&
	    3 * fit >= 2 * steps) ? ALLOC_SEQUENTIAL : ALLOC_RANDOM;
	if (r->pattern == ALLOC_SEQUENTIAL)
		r->confidence = (fit + 1.0) / (steps + 2.0);
	else {
		/* how many steps were NOT near the last port */
		for (fit = 0, i = 0; i < steps; i++)
			if (abs(d[i]) > ALLOC_MAX_DELTA)
				fit++;
		r->confidence = (fit + 1.0) / (steps + 2.0);
		r->delta = 0;
		r->jitter = 0;
		r->rate = 0;
	}
}

int
alloc_analyse(const struct alloc_obs *obs, size_t n, struct alloc_result *r)
{
	const struct alloc_obs	*o[ALLOC_MAX_OBS];
	int			 d[ALLOC_MAX_OBS] = { 0 };
	int			 i, m, same = 0, kept = 0;
	sa_family_t		 fam;

	memset(r, 0, sizeof(*r));
	if (obs == NULL || n == 0 || n > ALLOC_MAX_OBS) {
		snprintf(r->why, sizeof(r->why), "%zu observations (1-%d needed)",
		    n, ALLOC_MAX_OBS);
		return -1;
	}
	fam = obs[0].mapped.ss_family;
	for (i = 0; i < (int)n; i++)
		if ((fam != AF_INET && fam != AF_INET6) ||
		    obs[i].mapped.ss_family != fam ||
		    obs[i].server.ss_family != fam) {
			snprintf(r->why, sizeof(r->why),
			    "observation %d: no address or mixed families", i);
			return -1;
		}
	m = (int)alloc_distinct(obs, n, o);
	r->nalloc = m;
	r->last_port = netaddr_port((const struct sockaddr *)&o[m - 1]->mapped);
	r->last_when = o[m - 1]->when;
	for (i = 0; i < m; i++) {
		uint16_t p = netaddr_port((const struct sockaddr *)&o[i]->mapped);
		if (p == o[i]->local_port)
			kept++;
		if (p == r->last_port)
			same++;
		if (i > 0) {
			d[i - 1] = alloc_step(netaddr_port((const struct
			    sockaddr *)&o[i - 1]->mapped), p);
			if (!netaddr_equal_ip((const struct sockaddr *)
			    &o[i]->mapped,
			    (const struct sockaddr *)&o[i - 1]->mapped))
				r->addr_varies = 1;
		}
	}
	if (kept == m || (same == m && m > 1)) {
		r->pattern = kept == m ? ALLOC_PRESERVING : ALLOC_CONSTANT;
		/* every step kept the pattern: (m - 1 + 1) / (m - 1 + 2) */
		r->confidence = m / (m + 1.0);
	} else if (m == 1)
		r->pattern = ALLOC_UNKNOWN;
	else
		alloc_sequential(r, o, d, m - 1);
	if (r->pattern == ALLOC_UNKNOWN)
		snprintf(r->why, sizeof(r->why), "one destination: port %u, "
		    "local %u", r->last_port, o[0]->local_port);
	else if (r->pattern == ALLOC_SEQUENTIAL)
		snprintf(r->why, sizeof(r->why), "%d destinations, delta %+d "
		    "(jitter %d, %.1f ports/s by others), confidence %.2f%s",
		    m, r->delta, r->jitter, r->rate, r->confidence,
		    r->addr_varies ? ", external address varies" : "");
	else
		snprintf(r->why, sizeof(r->why), "%d destinations, %s ports, "
		    "confidence %.2f%s", m, alloc_term(r->pattern),
		    r->confidence,
		    r->addr_varies ? ", external address varies" : "");
	return 0;
}
