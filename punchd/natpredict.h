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
/*
 * Both sides sequential: each probes the other's range from its one
 * socket, and every probe to a new port takes a new port of its own. The
 * side with the smaller node id (A) probes B's last + delta x k (stride 1),
 * the other (B) A's last + delta x (2k - 1) (stride 2), k = 1, 2, ... in
 * that order, and both repeat the list. If other hosts took jA and jB
 * allocations on the two NATs since the observations, A's probe
 * k = jA + 2 jB + 1 and B's probe k = jA + jB + 1 are each other's mirror
 * (A's source port is B's target and the other way round), whatever jA and
 * jB: max ports cover jA + 2 jB < max. Drift and jitter are not used.
 * Returns the count, 0 on nonsense.
 */
size_t	natpredict_stride(const struct natpredict *np, int stride,
	    uint16_t *out, size_t max);

#endif
