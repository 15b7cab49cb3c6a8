/*
 * Name resolution off the event loop. getaddrinfo can block for the
 * resolver's whole timeout (seconds, times every nameserver and attempt)
 * when a nameserver does not answer; a daemon with one loop must keep
 * answering IPC and packets meanwhile. stund resolves its STUN servers and
 * the relay client its relays through this.
 *
 * One worker thread per batch of names; the loop learns of the answer
 * through an ev_async and calls `done` from the loop. The worker writes
 * only into memory of its own, so cancelling or freeing never waits for a
 * lookup: a lookup still in flight then finishes alone and is dropped.
 * Callers resolve numeric addresses themselves (netaddr_parse); nothing
 * here is needed for them.
 */
#ifndef COMMON_RESOLVE_H
#define COMMON_RESOLVE_H

#include <sys/socket.h>

#define RESOLVE_MAX	8	/* names in one batch */
#define RESOLVE_ADDRS	8	/* addresses kept per name */

struct ev_loop;
struct resolve;

struct resolve_query {
	char	name[256];	/* HOST, HOST:PORT or [V6]:PORT */
	int	port;		/* when name has none */
	int	family;		/* AF_UNSPEC, AF_INET, AF_INET6 */
	int	socktype;	/* SOCK_DGRAM, SOCK_STREAM (0: any) */
	int	flags;		/* getaddrinfo ai_flags, e.g. AI_ADDRCONFIG */
};

struct resolve_answer {
	int			 naddr;		/* 0: failed, err says why */
	struct sockaddr_storage	 addr[RESOLVE_ADDRS];
	char			 err[160];
};

/* ans[i] answers q[i], the batch as started; called from the loop */
typedef void resolve_done_fn(void *arg, const struct resolve_query *q,
    const struct resolve_answer *ans, int n);

struct resolve *resolve_new(struct ev_loop *loop, resolve_done_fn *done,
	    void *arg);
/* Start a batch of n (1..RESOLVE_MAX) queries, copied. -1 when one is
 * still in flight, n is out of range, or no thread can be started. */
int	resolve_start(struct resolve *r, const struct resolve_query *q, int n);
int	resolve_busy(const struct resolve *r);
/* Forget the batch in flight: done is not called for it. Never waits. */
void	resolve_cancel(struct resolve *r);
/* Cancels, then frees. Never waits. */
void	resolve_free(struct resolve *r);

#endif
