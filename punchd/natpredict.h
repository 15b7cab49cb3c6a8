/*
 * The ports to try for a peer behind a sequential allocator (see
 * stund/alloc.h): from its latest observed mapping, the allocator's delta
 * and the drift other hosts cause, the bounded list of external ports its
 * socket will most likely get towards us, most likely first. No I/O.
 */
#ifndef PUNCHD_NATPREDICT_H
#define PUNCHD_NATPREDICT_H

#include <stddef.h>
#include <stdint.h>

/* allocators hand out 1024-65535; a prediction wraps inside that range */
#define NATPREDICT_PORT_MIN	1024
/*
 * Longest list: at the 100 probes/s of punchd/birthday.h every port of it
 * is tried about every 2.5 s, inside the 3 s target.
 */
#define NATPREDICT_MAX		256

struct natpredict {
	uint16_t	last_port;	/* latest observed mapping */
	int		delta;		/* ports per new destination, != 0 */
	int		jitter;		/* ports behind the centre, at least */
	double		drift;		/* ports other hosts took since: rate x elapsed */
	int		steps;		/* new destinations the socket opened since, >= 1 */
};

/*
 * Fill out[] with at most max distinct ports: the expected one first
 * (last + delta x steps + drift), then alternately one further along the
 * allocator's direction and one behind, behind down to the port right
 * after the last one (or jitter, if larger); past that only forward:
 * other hosts only ever push the counter on. Returns the count, 0 on a
 * nonsensical input (delta 0, steps < 1, negative jitter or drift).
 */
size_t	natpredict_ports(const struct natpredict *np, uint16_t *out,
	    size_t max);

#endif
