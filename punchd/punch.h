/*
 * Hole punching for one peer: candidates, candidate pairs in priority
 * order, PUNCH -> PUNCH_ACK -> PUNCH_CONFIRM checks and nomination.
 * No I/O and no globals: time comes in as `now` (seconds), packets go out
 * through a callback, so the unit tests drive it without sockets.
 *
 * Per pair (our socket -> one remote candidate) a check is:
 *
 *     A                                    B
 *     |--- PUNCH (txid, every interval) -->|   B learns A's source as a
 *     |<-- PUNCH_ACK (txid, A's source) ---|   peer-reflexive candidate
 *     |--- PUNCH_CONFIRM (txid) ---------->|
 *
 * A's pair is valid when the ACK arrives, B's when the CONFIRM arrives:
 * each has then seen its own packets answered across the path. The
 * controlling side (the larger node id) nominates the first valid pair:
 * it sends PUNCH with PF_NOMINATE on it until it gets a PUNCH_ACK with
 * PF_NOMINATE back; the controlled side selects whatever pair the
 * controlling side nominates. Both thus end on the same pair even when
 * several complete at once.
 */
#ifndef PUNCHD_PUNCH_H
#define PUNCHD_PUNCH_H

#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "proto/packet.h"

/* RFC 8445 5.1.2.2 type preferences; peer-reflexive above server-reflexive;
 * mapped (a port the gateway opened for us: UPnP IGD, NAT-PMP, PCP) just
 * below host. Values are in the order they were added, not by preference. */
enum punch_cand_type {
	CAND_HOST,
	CAND_PRFLX,
	CAND_SRFLX,
	CAND_RELAY,
	CAND_MAPPED,
	CAND_NTYPES
};

/* Enough for every address of a host plus what the NATs add; more
 * candidates only slow the checks down. */
#define PUNCH_MAX_CANDS		16
#define PUNCH_GROW		4

enum punch_pair_state {
	PAIR_WAITING,		/* not sent yet */
	PAIR_INPROGRESS,	/* PUNCH sent, no answer yet */
	PAIR_SUCCEEDED,		/* answered both ways: usable */
	PAIR_FAILED,		/* max_sends without an answer */
};

enum punch_state {
	PUNCH_IDLE,
	PUNCH_RUNNING,
	PUNCH_DONE,		/* selected >= 0 */
	PUNCH_FAILED,		/* timed out, no pair selected */
};

/* IPv4 or IPv6 in 28 bytes: sockaddr_storage would take 128, sixteen
 * times per peer (the per-peer memory target is 4 KiB). */
union punch_addr {
	struct sockaddr		sa;
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;
};

struct punch_cand {
	uint32_t		id;
	enum punch_cand_type	type;
	uint32_t		prio;
	union punch_addr	addr;
};

/* One remote candidate seen from our socket (ICE prunes local server-
 * reflexive candidates to their base, which is that one socket). */
struct punch_pair {
	struct punch_cand	remote;
	uint64_t		prio;
	enum punch_pair_state	state;
	uint8_t			txid[PACKET_TXID_LEN];
	int			sends;
	double			rtt;		/* s, from the completing check */
	int			nominate;	/* send PF_NOMINATE on it */
};

struct punch_params {
	double	interval;	/* s between rounds of PUNCH */
	double	timeout;	/* s for the whole attempt */
	int	max_sends;	/* per pair, per attempt */
};

/* Sends one punch-family packet (`type`, payload `p`) to `to`. */
typedef void punch_send_fn(void *arg, uint8_t type,
    const struct packet_punch *p, const struct sockaddr *to);
/* Fills a transaction id (random in punchd, counters in tests). */
typedef void punch_rand_fn(void *arg, uint8_t *buf, size_t len);

struct punch {
	struct punch_params	 params;
	int			 controlling;	/* 1, 0, -1 not known yet */
	enum punch_state	 state;
	double			 started;
	int			 selected;	/* pair index or -1 */
	int			 nominating;	/* pair index or -1 */
	uint32_t		 local_prio;	/* our socket's host priority */
	struct punch_pair	*pairs;		/* grown by PUNCH_GROW, at most
						   PUNCH_MAX_CANDS */
	int			 npairs, cap;
	uint32_t		 next_id;
	punch_send_fn		*send;
	punch_rand_fn		*rand;
	void			*arg;
};

/* What punch_input() concluded. */
#define PUNCH_EV_NONE		0
#define PUNCH_EV_VALID		1	/* a pair became valid */
#define PUNCH_EV_SELECTED	2	/* a pair was selected: path up */

uint32_t punch_cand_prio(enum punch_cand_type type, int index);
uint64_t punch_pair_prio(uint32_t controlling, uint32_t controlled);
const char *punch_cand_type_str(enum punch_cand_type type);

void	punch_init(struct punch *p, const struct punch_params *params,
	    punch_send_fn *send, punch_rand_fn *rnd, void *arg);
/* Frees the pairs (a few per peer, so that 1,000 peers stay small). */
void	punch_free(struct punch *p);
/* Add a remote candidate (duplicates of an address are ignored; a known
 * address keeps its better type). When the table is full the lowest
 * unproven pair not in use is replaced. Returns the pair index, or -1 when
 * nothing can be replaced or the address is not IPv4/IPv6. */
int	punch_add_remote(struct punch *p, enum punch_cand_type type,
	    const struct sockaddr *addr);
int	punch_find(const struct punch *p, const struct sockaddr *addr);
/* Pair indices in check order (highest priority first) into idx; count. */
int	punch_order(const struct punch *p, int *idx);
/* Start (or restart) an attempt over every known pair. */
void	punch_start(struct punch *p, double now);
/*
 * Send what is due. Returns the time of the next call, or 0 when the
 * attempt is over (state DONE or FAILED; FAILED is set here on timeout).
 */
double	punch_tick(struct punch *p, double now);
/*
 * An authenticated PUNCH/PUNCH_ACK/PUNCH_CONFIRM from `from`. Answers what
 * needs answering (in any state: a peer re-punching must get its ACKs).
 * Returns PUNCH_EV_*.
 */
int	punch_input(struct punch *p, uint8_t type, const struct packet_punch *in,
	    const struct sockaddr *from, double now);
const struct punch_pair *punch_selected(const struct punch *p);
/*
 * Hard-NAT probing (punchd/hardnat.c): one PUNCH with pair i's transaction
 * id to `to`, an address that is no pair (a predicted port of the peer's
 * NAT). The PUNCH_ACK from there makes it a peer-reflexive pair, valid at
 * once (punch_input). Nothing is added to the table before that.
 */
void	punch_probe(struct punch *p, int i, const struct sockaddr *to,
	    double now);
/* Use pair i (proven) from now on, whatever the nomination said: path
 * choice (punchd/pathsel.h) moved the peer there. Ends the attempt. */
void	punch_use(struct punch *p, int i);
const char *punch_state_str(enum punch_state s);

#endif
