/*
 * A NAT in memory for the unit tests of punchd's path logic: mappings,
 * port allocation and filtering as RFC 4787 names them, a UDP timeout,
 * and other hosts' allocations (load) for sequential allocators.
 * Addresses are plain uint32_t, time is the test's fake clock.
 * Filtering is always address-and-port-dependent (a "port-restricted"
 * NAT, the commonest home NAT): inbound passes only to a live mapping that
 * has sent to that exact source address and port.
 */
#ifndef TESTS_UNIT_FAKENAT_H
#define TESTS_UNIT_FAKENAT_H

#include <stddef.h>
#include <stdint.h>

#define FAKENAT_MAP_EI		1	/* one mapping per internal port */
#define FAKENAT_MAP_APD		3	/* one per internal port and destination */

#define FAKENAT_ALLOC_PRESERVE	1	/* the internal port while free */
#define FAKENAT_ALLOC_SEQ	2	/* previous + 1, plus other hosts' */
#define FAKENAT_ALLOC_RANDOM	3

struct fakenat_map {
	uint16_t	in_port, dport, ext;
	uint32_t	dst;
	double		last;		/* last outbound */
};

struct fakenat {
	int			 mapping, alloc;
	double			 timeout;	/* s since the last outbound */
	double			 load;		/* other hosts' allocations/s */
	double			 load_last;
	uint32_t		 ext_addr;
	uint16_t		 next_seq;
	uint64_t		 rng;
	struct fakenat_map	*maps;
	size_t			 nmaps, cap;
	int32_t			*by_ext;	/* 65536: map index + 1 */
	uint64_t		*perm;		/* filter: (ext, src, sport) set */
	size_t			 permcap, nperm;
	unsigned		 allocs, others;
};

int	fakenat_init(struct fakenat *n, int mapping, int alloc,
	    uint32_t ext_addr, double timeout, uint64_t seed);
void	fakenat_free(struct fakenat *n);
/* An outbound packet: the external port it leaves from. */
uint16_t fakenat_out(struct fakenat *n, double now, uint16_t in_port,
	    uint32_t dst, uint16_t dport);
/* An inbound packet to ext: the internal port, -1 when dropped. */
int	fakenat_in(struct fakenat *n, double now, uint32_t src, uint16_t sport,
	    uint16_t ext);
/* uniform in [0, 1) from the NAT's own generator (the tests share it) */
double	fakenat_uniform(uint64_t *state);

#endif
