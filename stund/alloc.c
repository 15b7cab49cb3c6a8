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

static int
alloc_gcd(int a, int b)
{
	while (b != 0) {
		int t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/*
 * Steps 0 < |d| <= ALLOC_MAX_DELTA in the direction most of them go are
 * "near": an allocator counting up (or down), plus whatever other hosts
 * took in between. Two thirds of the steps near make it SEQUENTIAL; a
 * random allocator puts a step that near once in 1000.
 */
static void
alloc_sequential(struct alloc_result *r, const struct alloc_obs **o,
    const int *d, int steps)
{
	double	extra = 0, span = 0;
	int	i, up = 0, down = 0, near, sign;

	for (i = 0; i < steps; i++)
		if (d[i] > 0 && d[i] <= ALLOC_MAX_DELTA)
			up++;
		else if (d[i] < 0 && d[i] >= -ALLOC_MAX_DELTA)
			down++;
	sign = up >= down ? 1 : -1;
	near = up >= down ? up : down;
	if (near == 0 || 3 * near < 2 * steps) {
		r->pattern = ALLOC_RANDOM;
		r->confidence = (steps - near + 1.0) / (steps + 2.0);
		return;
	}
	r->pattern = ALLOC_SEQUENTIAL;
	r->confidence = (near + 1.0) / (steps + 2.0);
	/* the allocator's own delta divides every near step: other hosts'
	 * allocations add whole deltas. Their greatest common divisor, not
	 * the smallest step: under load the smallest step is inflated too
	 * (steps 2 and 3 are delta 1, not 2) */
	r->delta = 0;
	for (i = 0; i < steps; i++)
		if (d[i] * sign > 0 && d[i] * sign <= ALLOC_MAX_DELTA)
			r->delta = alloc_gcd(r->delta, d[i] * sign);
	r->delta *= sign;
	for (i = 0; i < steps; i++) {
		int dev = (d[i] - r->delta) * sign;

		if (dev < 0 || d[i] * sign > ALLOC_MAX_DELTA)
			continue;
		if (dev > r->jitter)
			r->jitter = dev;
		extra += dev;
		span += o[i + 1]->when - o[i]->when;
	}
	r->rate = span > 0 ? extra / span : 0;
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
