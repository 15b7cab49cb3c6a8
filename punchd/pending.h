/*
 * Requests that wait for the network (pending.c): a punch answers when a
 * path is up or its time is over, a ping when its PONGs are back. Each
 * ends with exactly one call of its completion callback.
 */
#ifndef PUNCHD_PENDING_H
#define PUNCHD_PENDING_H

#include <stdint.h>
#include <sys/socket.h>

#include "punch.h"
#include "result.h"

#define PENDING_PING_MAX	16	/* per request: a person's ping */

struct peer;
struct punchd;

struct pending_punch_req {
	const char		*name;		/* peer name or node id */
	struct sockaddr_storage	 cands[PUNCH_MAX_CANDS];
	int			 ncands;
	double			 timeout;	/* s */
};

struct pending_res {
	double	elapsed;		/* s since the request (punch) */
	int	sent, got;		/* ping: PINGs out, PONGs back */
	double	rtt[PENDING_PING_MAX];	/* s, 0 = lost, in order sent */
};

/* Called once: p the peer (its state is the answer), and res on success,
 * or err (its msg without the peer's name). */
typedef void pending_done_fn(void *arg, struct peer *p,
    const struct pending_res *res, const struct result *err);

/* peer.punch: 0 (done comes, maybe before this returns), or -1 with err */
int	pending_punch(struct punchd *pd, const struct pending_punch_req *req,
	    pending_done_fn *done, void *arg, struct result *err);
/* peer.ping: count PINGs 200 ms apart; 0, or -1 with err */
int	pending_ping(struct peer *p, int count, pending_done_fn *done,
	    void *arg, struct result *err);
/* every request of p ends with this error (peer removed, shutdown) */
void	pending_fail_all(struct peer *p, enum result_code code,
	    const char *msg);
/* hooks: a path came up, an attempt failed, a PONG came back */
void	pending_peer_up(struct peer *p);
void	pending_punch_failed(struct peer *p);
void	pending_pong(struct peer *p, uint32_t id, double rtt);

#endif
