/*
 * Hard-NAT traversal in punchd (issue 13, item 1): each side's NAT
 * behaviour (RFC 5780 mapping and filtering from stund, the port
 * allocation from stund/alloc) is exchanged with the candidates through
 * the relay (proto/relaymsg.h "nat"); with both known, a relayed pair whose
 * peer maps per destination with sequential ports is probed on the
 * predicted ports (punchd/natpredict, planned by punchd/birthday), with
 * authenticated PUNCHes that carry the pair's transaction id, so that the
 * answer from the predicted mapping completes an ordinary check.
 *
 *   hardnat_behav.c  a side's behaviour: from stund, to and from the wire,
 *                    its BDAY_SIDE_*, in words (no I/O)
 *   hardnat.c        per peer: the strategy, the probing run, its result
 *                    (for `meshctl why`)
 */
#ifndef PUNCHD_HARDNAT_H
#define PUNCHD_HARDNAT_H

#include <stddef.h>
#include <stdint.h>

struct relaymsg_nat;
struct peer;
struct punchd;

#define HARDNAT_TERM_LEN	32

/* one side's NAT behaviour */
struct hardnat_behav {
	int		known;
	char		mapping[HARDNAT_TERM_LEN];	/* RFC 5780 words */
	char		filtering[HARDNAT_TERM_LEN];
	char		alloc[16];	/* constant, port-preserving, ... */
	int		delta, jitter;
	uint16_t	last_port;
	double		seen_at;	/* our clock: when last_port was seen */
	double		rate, confidence;
};

/* hardnat_behav.c */
/* BDAY_SIDE_* (punchd/birthday.h): what the peer can guess of our port */
int	hardnat_behav_side(const struct hardnat_behav *b);
/* to the wire; ages from `now` (our clock) */
void	hardnat_behav_to_wire(const struct hardnat_behav *b, double now,
	    struct relaymsg_nat *w);
/* from the wire; `now` is when it arrived */
void	hardnat_behav_from_wire(struct hardnat_behav *b,
	    const struct relaymsg_nat *w, double now);
/* "mapping address-and-port-dependent, filtering ..., sequential ports
 * (delta +1, confidence 0.80)" */
void	hardnat_behav_str(const struct hardnat_behav *b, char *buf,
	    size_t len);
/*
 * The freshest port a sequential allocator is known to have handed out:
 * our own socket's server-reflexive port when it lies ahead of stund's
 * last observation in the allocator's direction (it was allocated after
 * it), else stund's (always stund's when it is not sequential).
 */
uint16_t hardnat_behav_freshest(const struct hardnat_behav *b,
	    uint16_t srflx_port);

/* hardnat.c */
void	hardnat_init(struct punchd *pd);
/* stund's nat.get / nat.changed (control_stund.c) */
void	hardnat_set_ours(struct punchd *pd, const struct hardnat_behav *b);
/* the peer is being freed */
void	hardnat_peer_free(struct peer *p);
/* for peer.why: their behaviour, the strategy, the last run (NULLs when
 * nothing is known) */
const struct hardnat_behav *hardnat_theirs(const struct peer *p);
const char *hardnat_strategy_why(const struct peer *p);
const char *hardnat_result(const struct peer *p);
unsigned hardnat_probes(const struct peer *p);
/* why no probing can help this pair (both random, or a birthday run
 * failed), for upgrade_failed(hopeless); NULL when something can */
const char *hardnat_hopeless(const struct peer *p);

#endif
