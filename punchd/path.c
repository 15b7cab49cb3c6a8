/*
 * Path health: RTT, jitter, loss (see path.h). Pure logic.
 */
#include <string.h>

#include "path.h"

void
path_init(struct path_stats *ps)
{
	memset(ps, 0, sizeof(*ps));
}

static void
path_hist(struct path_stats *ps, int lost)
{
	ps->hist = (ps->hist << 1) | (lost ? 1 : 0);
	if (ps->nhist < PATH_LOSS_WINDOW)
		ps->nhist++;
	ps->probes++;
	if (lost)
		ps->lost++;
}

void
path_rtt(struct path_stats *ps, double rtt)
{
	double d;

	if (rtt < 0)
		rtt = 0;
	if (ps->samples == 0) {
		ps->srtt = rtt;
		ps->rttvar = rtt / 2;
		ps->rtt_min = rtt;
	} else {
		d = rtt - ps->srtt;
		ps->rttvar += ((d < 0 ? -d : d) - ps->rttvar) / 4;
		ps->srtt += d / 8;
		if (rtt < ps->rtt_min)
			ps->rtt_min = rtt;
		d = rtt - ps->rtt_last;
		ps->jitter += ((d < 0 ? -d : d) - ps->jitter) / 16;
	}
	ps->rtt_last = rtt;
	ps->samples++;
	path_hist(ps, 0);
}

void
path_lost(struct path_stats *ps)
{
	path_hist(ps, 1);
}

double
path_loss(const struct path_stats *ps)
{
	uint64_t	m;
	int		n;

	if (ps->nhist == 0)
		return 0;
	m = ps->nhist >= 64 ? ps->hist : ps->hist & ((1ULL << ps->nhist) - 1);
	n = __builtin_popcountll(m);
	return (double)n / ps->nhist;
}
