/*
 * Public endpoint discovery: one Binding transaction to every configured
 * server at once; the first valid answer decides the mapping, the others are
 * recorded (who answered, RTT, mapped address). The answer is given when all
 * servers have answered or failed, or DISCOVER_GRACE after the first answer,
 * whichever comes first, so one slow server never delays the result.
 *
 * stund's own result is cached (cache_ttl) and refreshed (refresh); a
 * discovery on behalf of another process's socket runs the same way through
 * that socket and is not cached.
 */
#ifndef STUND_DISCOVER_H
#define STUND_DISCOVER_H

#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <ev.h>

#include "probe.h"
#include "stund.h"

#define DISCOVER_GRACE	0.25	/* seconds to wait for others after a winner */

struct discover_run;
typedef void discover_done_cb(struct discover_run *r, void *arg);

struct discover_srv_result {
	int			 srv;		/* index in sd->servers */
	int			 state;		/* 0 pending, 1 ok, -1 failed */
	double			 rtt_ms;
	struct sockaddr_storage	 mapped;
	int			 has_other;
	struct sockaddr_storage	 other;
	char			 error[160];
};

struct discover_run {
	struct stund		*sd;
	int			 fd;
	int			 family;	/* AF_UNSPEC = every server */
	struct probe		 probes[STUND_MAX_SERVERS];
	struct discover_srv_result res[STUND_MAX_SERVERS];
	int			 nprobes, pending, winner;
	ev_timer		 grace;
	double			 started, finished;
	discover_done_cb	*cb;
	void			*arg;
	int			 ok;
	struct sockaddr_storage	 public;
	struct sockaddr_storage	 local;
	char			 error[700];
	int			 running;
	int			 all;		/* wait for every server */
};

/*
 * A request's completion: status 0 when the result is ready to read (the
 * discovery's cache, good or with run.error; natbehav_result()), -1 when
 * stund shuts down first. natbehav.c keeps its requests the same way.
 */
typedef void discover_wait_cb(struct stund *sd, int status, void *arg);

struct discover_waiter {
	TAILQ_ENTRY(discover_waiter) entry;
	discover_wait_cb	*cb;
	void			*arg;
};
TAILQ_HEAD(discover_waiters, discover_waiter);

/* Queue (cb, arg) on l: 0, or -1 (no memory). */
int	discover_wait(struct discover_waiters *l, discover_wait_cb *cb,
	    void *arg);
/* Call and free the waiters on l; those a callback adds stay for later. */
void	discover_wake(struct stund *sd, struct discover_waiters *l,
	    int status);

/* stund's own, cached discovery */
struct discover {
	struct stund		*sd;
	struct resolve		*resolver;
	int			 resolving;
	double			 resolved_at;
	struct discover_run	 run;		/* the last (or running) one */
	int			 have;		/* a successful result is cached */
	double			 when;		/* ev_now when it finished */
	struct sockaddr_storage	 public, local;
	struct discover_waiters	 waiters;
	ev_timer		 refresh;
};

int	discover_init(struct stund *sd);
void	discover_fini(struct stund *sd);
/* Kick a discovery now unless one runs; when it ends, waiters are called. */
void	discover_now(struct stund *sd);
/* cb(sd, 0, arg) now from a fresh cache (unless refresh), else after the
 * next discovery; -1 (no memory) and cb is never called. */
int	discover_request(struct stund *sd, int refresh, discover_wait_cb *cb,
	    void *arg);

/* Run a discovery through fd (not owned: the caller closes it). */
int	discover_run_start(struct discover_run *r, struct stund *sd, int fd,
	    int family, double timeout_s, discover_done_cb *cb, void *arg);
/* The same, but every server is waited for (no grace after the first
 * answer): the netcheck's round-trip time to each (stun.check). */
int	discover_run_start_all(struct discover_run *r, struct stund *sd,
	    int fd, int family, double timeout_s, discover_done_cb *cb,
	    void *arg);
void	discover_run_cancel(struct discover_run *r);

#endif
