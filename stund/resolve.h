/*
 * Name resolution off the event loop: getaddrinfo can block for seconds on a
 * dead resolver, and stund must keep answering IPC meanwhile. One worker
 * thread per batch; the loop learns of completion through an ev_async.
 * Numeric addresses never reach the thread.
 */
#ifndef STUND_RESOLVE_H
#define STUND_RESOLVE_H

#include <pthread.h>
#include <sys/socket.h>

#include <ev.h>

#define RESOLVE_MAX	8

struct resolve {
	struct ev_loop		*loop;
	ev_async		 async;
	pthread_t		 thread;
	int			 busy;
	int			 n;
	char			 names[RESOLVE_MAX][256];
	struct sockaddr_storage	 addr[RESOLVE_MAX];
	int			 ok[RESOLVE_MAX];
	char			 err[RESOLVE_MAX][160];
	void			(*done)(struct resolve *, void *);
	void			*arg;
};

struct resolve	*resolve_new(struct ev_loop *loop,
		    void (*done)(struct resolve *, void *), void *arg);
/* Start resolving names[0..n) (copied in by the caller). -1 if busy. */
int		 resolve_start(struct resolve *r);
/* Frees r, or hands it to the worker to free when a lookup is in flight. */
void		 resolve_free(struct resolve *r);

#endif
