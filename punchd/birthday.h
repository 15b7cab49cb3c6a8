/*
 * Hard-NAT traversal planner: the birthday technique and predicted-range
 * probing, for one peer and one probing window. No I/O: the caller owns
 * the sockets and the clock, calls birthday_tick() at the deadline it
 * returns, and sends what the callbacks ask for as authenticated PUNCHes.
 *
 * Birthday (one side maps per destination with random ports, the other
 * endpoint-independently):
 *   hard side  opens `sockets` extra sockets, each sending to the easy
 *              side's endpoint (a mapping per socket, at a random port),
 *              round robin at `pps`, so each socket re-sends every
 *              sockets/pps s: a probe that reached its port before the
 *              mapping existed opened the easy side's filter, and the
 *              re-send then crosses.
 *   easy side  sends from its one socket to random, distinct ports of the
 *              hard side's address at `pps`.
 * With K mappings out of N = 64512 ports and P distinct probes, no probe
 * hits with probability about exp(-K P / N): K = 256, P = 1024 leave 1.7 %.
 *
 * Predicted range (the hard side's allocator is sequential, see
 * natpredict.h): the easy side probes the predicted ports cyclically; the
 * hard side needs no extra socket, its ordinary PUNCHes to our endpoint
 * open the mapping being predicted.
 *
 * Both are bounded: pps, a total budget and a window; the run gives up
 * BIRTHDAY_GRACE s after its last packet, and says why in `reason`.
 */
#ifndef PUNCHD_BIRTHDAY_H
#define PUNCHD_BIRTHDAY_H

#include <stddef.h>
#include <stdint.h>

/* what a side's NAT lets the peer guess about its mapping towards it */
#define BDAY_SIDE_EASY		1	/* endpoint-independent, or constant port */
#define BDAY_SIDE_SEQ		2	/* per destination, sequential ports */
#define BDAY_SIDE_RANDOM	3	/* per destination, random ports */

/* birthday_strategy() */
#define BDAY_DIRECT	0	/* ordinary punching reaches it */
#define BDAY_PREDICT	1	/* the easy side probes the predicted range */
#define BDAY_BIRTHDAY	2
#define BDAY_RELAY	3	/* nothing we can do: stay relayed */

/* roles */
#define BDAY_NONE	0	/* ordinary punching only */
#define BDAY_HARD	1	/* extra sockets towards the peer's endpoint */
#define BDAY_EASY	2	/* probe the peer's ports */

/* states */
#define BDAY_RUNNING	0
#define BDAY_WON	1
#define BDAY_FAILED	2

/* answers to the last packets may take this long (a slow RTT, doubled) */
#define BIRTHDAY_GRACE	1.0
/* a late timer never releases more than this many packets at once */
#define BIRTHDAY_BURST	32
/* descriptors are finite: 1024 is the usual soft RLIMIT_NOFILE */
#define BIRTHDAY_MAX_SOCKETS	512

struct birthday_cfg {
	int		 role;		/* BDAY_HARD or BDAY_EASY */
	unsigned	 sockets;	/* hard: extra sockets */
	double		 pps;		/* packets per second */
	unsigned	 budget;	/* packets in total */
	double		 window;	/* s: no packet after start + window */
	const uint16_t	*ports;		/* easy: predicted ports, cyclic; */
	size_t		 nports;	/* NULL/0: random ports */
};

struct birthday_cb {
	/* hard: open extra socket #sock; -1 if it cannot (counts, not sent) */
	int	(*open_cb)(void *arg, int sock);
	/* hard: from #sock to the easy endpoint (port 0); easy: from our
	 * socket (sock -1) to the hard side's address at port */
	void	(*send_cb)(void *arg, int sock, uint16_t port);
	/* hard: close #sock, every opened one but the winner */
	void	(*close_cb)(void *arg, int sock);
	void	 *arg;
};

struct birthday {
	struct birthday_cfg	 cfg;
	struct birthday_cb	 cb;
	int			 state;
	double			 start, last_send, end;
	unsigned		 sent;		/* packets */
	unsigned		 opened, open_failed;
	uint8_t			 nosock[BIRTHDAY_MAX_SOCKETS / 8];
	int			 winner_sock;	/* hard */
	uint16_t		 winner_port;	/* easy */
	double			 won_at;
	uint64_t		 rng;
	size_t			 pos;		/* easy, predicted list */
	uint8_t			 tried[65536 / 8];	/* easy, random mode */
	unsigned		 ntried;
	char			 reason[160];
};

/*
 * Which technique for this pair, and our role in it; *why says in words
 * why the pair is (or is not) worth it. `ours`, `theirs`: BDAY_SIDE_*.
 */
int	birthday_strategy(int ours, int theirs, int *role, const char **why);
/* Defaults for a role (see docs/paths-logic.md for the figures). */
void	birthday_defaults(struct birthday_cfg *cfg, int role);
/*
 * Start a run; seed the port choice (arc4random in punchd, fixed in
 * tests). The predicted list is copied by pointer: keep it alive.
 * Returns -1 on a config that is not bounded (pps, budget or window 0,
 * hard without sockets).
 */
int	birthday_start(struct birthday *b, const struct birthday_cfg *cfg,
	    const struct birthday_cb *cb, double now, uint64_t seed);
/* Send what is due; returns the next deadline, or -1 when the run is over. */
double	birthday_tick(struct birthday *b, double now);
/*
 * An authenticated packet of the peer arrived: hard: on extra socket
 * `sock`; easy: from the hard side's address at `port`. Returns 1 when it
 * won the run (the other sockets are closed), 0 otherwise.
 */
int	birthday_input(struct birthday *b, double now, int sock, uint16_t port);
/* End the run now (the pair went direct another way, or the peer left). */
void	birthday_stop(struct birthday *b, const char *why);

#endif
