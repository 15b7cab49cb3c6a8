/*
 * Health of a peer's path from the probes that crossed it (PUNCH checks,
 * keep-alives, pings): RTT smoothed as TCP does (RFC 6298: srtt 1/8,
 * rttvar 1/4), minimum RTT, jitter as RTP does (RFC 3550 6.4.1: mean
 * deviation of successive RTTs, gain 1/16), loss over the last 64 probes.
 * No I/O, no globals.
 */
#ifndef PUNCHD_PATH_H
#define PUNCHD_PATH_H

#include <stdint.h>

#define PATH_LOSS_WINDOW	64	/* probes: about half an hour of keep-alives */

struct path_stats {
	double		srtt, rttvar, rtt_min, rtt_last, jitter;	/* s */
	uint64_t	samples;
	uint64_t	hist;		/* 1 bit per probe, 1 = lost */
	int		nhist;
	uint64_t	probes, lost;
};

void	path_init(struct path_stats *ps);
/* one probe answered after rtt seconds */
void	path_rtt(struct path_stats *ps, double rtt);
/* one probe never answered */
void	path_lost(struct path_stats *ps);
/* fraction lost over the window, 0 with no probes */
double	path_loss(const struct path_stats *ps);

#endif
