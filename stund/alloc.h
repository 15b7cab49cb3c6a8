/*
 * Port allocation of a NAT, from several mappings of ONE local socket
 * towards different servers (what RFC 5780 mapping tests and a few more
 * Binding requests give). RFC 4787 section 4.2.1 names the choices a NAT
 * makes; hole punching cares about one question: can the peer guess the
 * external port our socket will get towards it?
 *
 *   CONSTANT     every destination sees the same external port
 *                (endpoint-independent mapping): the port is known
 *   PRESERVING   the external port is the local port, per destination too
 *   SEQUENTIAL   each new destination gets the previous port + delta,
 *                plus what other hosts took in between (the rate)
 *   RANDOM       no pattern: only the birthday technique helps
 *
 * Observations of the same server endpoint twice are one allocation (the
 * NAT reuses the mapping); they are skipped after the first. No I/O.
 */
#ifndef STUND_ALLOC_H
#define STUND_ALLOC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define ALLOC_UNKNOWN		0
#define ALLOC_CONSTANT		1
#define ALLOC_PRESERVING	2
#define ALLOC_SEQUENTIAL	3
#define ALLOC_RANDOM		4

#define ALLOC_MAX_OBS	16
/*
 * A step larger than this is not "sequential": allocators that skip
 * (delta 2, 4, 8: port parity, per-host blocks) stay well inside, and a
 * random allocator lands within +-32 of the last port with probability
 * 65/64512 = 0.1 % per step.
 */
#define ALLOC_MAX_DELTA	32

struct alloc_obs {
	double			 when;		/* s, any clock */
	uint16_t		 local_port;
	struct sockaddr_storage	 server;	/* the server's address:port */
	struct sockaddr_storage	 mapped;	/* what it saw */
};

struct alloc_result {
	int		pattern;	/* ALLOC_* */
	int		delta;		/* ports per new destination: the
					 * gcd of the steps that fit */
	int		jitter;		/* largest step beyond delta, ports */
	/*
	 * Ports per second other hosts took on top of our delta (measured
	 * over the steps that fit): the prediction shifts by rate x elapsed.
	 */
	double		rate;
	/*
	 * The chance that the NEXT allocation follows the pattern, by
	 * Laplace's rule of succession: (steps that fit + 1) / (steps + 2).
	 * 2 steps that fit give 0.75, 4 give 0.83, 8 give 0.9. A step fits
	 * SEQUENTIAL when it moves 1..ALLOC_MAX_DELTA ports the same way as
	 * most; CONSTANT/PRESERVING when it keeps the port; RANDOM when it
	 * does neither.
	 */
	double		confidence;
	int		nalloc;		/* distinct destinations used */
	int		addr_varies;	/* the mapped address changed too */
	uint16_t	last_port;	/* the latest mapping's port */
	double		last_when;
	char		why[160];
};

const char *alloc_term(int pattern);
/*
 * Classify n observations (any order; sorted by time here). Returns 0, or
 * -1 (r->pattern ALLOC_UNKNOWN, r->why says) when there is nothing to
 * classify: no observation, more than ALLOC_MAX_OBS, a missing address or
 * mixed families.
 */
int	alloc_analyse(const struct alloc_obs *obs, size_t n,
	    struct alloc_result *r);

#endif
