/*
 * Name resolution off the event loop: see resolve.h.
 *
 * A batch lives in a job that the loop and the worker share, counted: each
 * drops its reference when done with it and the last one frees it. The
 * worker wakes the loop (ev_async_send) under the job's mutex, and only
 * while the job is still wanted; cancelling marks it unwanted under the
 * same mutex, so once resolve_cancel() returns the worker never touches
 * the owner again and the owner may be freed at once.
 */
#include "resolve.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "log.h"
#include "netaddr.h"

struct resolve_job {
	atomic_int		 refs;		/* loop's and worker's */
	atomic_int		 finished;	/* answers written */
	pthread_mutex_t		 mu;
	struct resolve		*owner;		/* under mu; NULL: cancelled */
	int			 n;
	struct resolve_query	 q[RESOLVE_MAX];
	struct resolve_answer	 a[RESOLVE_MAX];
};

struct resolve {
	struct ev_loop		*loop;
	ev_async		 async;
	struct resolve_job	*job;		/* in flight, or NULL */
	resolve_done_fn		*done;
	void			*arg;
};

static void
resolve_job_release(struct resolve_job *j)
{
	if (atomic_fetch_sub(&j->refs, 1) != 1)
		return;
	pthread_mutex_destroy(&j->mu);
	free(j);
}

static void
resolve_one(const struct resolve_query *q, struct resolve_answer *a)
{
	struct addrinfo	 hints, *res, *ai;
	char		 host[256], port[8];
	int		 p, r;

	a->naddr = 0;
	if (netaddr_split(q->name, q->port, host, sizeof(host), &p) == -1) {
		snprintf(a->err, sizeof(a->err), "'%.100s' is not HOST[:PORT]",
		    q->name);
		return;
	}
	snprintf(port, sizeof(port), "%d", p);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = q->family;
	hints.ai_socktype = q->socktype;
	hints.ai_flags = q->flags | AI_NUMERICSERV;
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(a->err, sizeof(a->err), "%.100s: %s", host,
		    r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
		return;
	}
	for (ai = res; ai != NULL && a->naddr < RESOLVE_ADDRS;
	    ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(a->addr[0]))
			continue;
		memset(&a->addr[a->naddr], 0, sizeof(a->addr[0]));
		memcpy(&a->addr[a->naddr++], ai->ai_addr, ai->ai_addrlen);
	}
	freeaddrinfo(res);
	if (a->naddr == 0)
		snprintf(a->err, sizeof(a->err), "%.100s: no usable address",
		    host);
}

static void *
resolve_main(void *arg)
{
	struct resolve_job	*j = arg;
	int			 i;

	for (i = 0; i < j->n; i++)
		resolve_one(&j->q[i], &j->a[i]);
	pthread_mutex_lock(&j->mu);
	atomic_store(&j->finished, 1);
	if (j->owner != NULL)
		ev_async_send(j->owner->loop, &j->owner->async);
	pthread_mutex_unlock(&j->mu);
	resolve_job_release(j);
	return NULL;
}

static void
resolve_async_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	struct resolve		*r = w->data;
	struct resolve_job	*j = r->job;

	(void)loop;
	(void)revents;
	/* a wake-up of a cancelled batch may arrive after a new one began */
	if (j == NULL || !atomic_load(&j->finished))
		return;
	r->job = NULL;
	r->done(r->arg, j->q, j->a, j->n);	/* may start another, or free r */
	resolve_job_release(j);
}

struct resolve *
resolve_new(struct ev_loop *loop, resolve_done_fn *done, void *arg)
{
	struct resolve *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->loop = loop;
	r->done = done;
	r->arg = arg;
	ev_async_init(&r->async, resolve_async_cb);
	r->async.data = r;
	ev_async_start(loop, &r->async);
	return r;
}

int
resolve_start(struct resolve *r, const struct resolve_query *q, int n)
{
	struct resolve_job	*j;
	pthread_attr_t		 attr;
	pthread_t		 t;
	sigset_t		 all, old;
	int			 e;

	if (r->job != NULL || n < 1 || n > RESOLVE_MAX)
		return -1;
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return -1;
	atomic_init(&j->refs, 2);
	atomic_init(&j->finished, 0);
	pthread_mutex_init(&j->mu, NULL);
	j->owner = r;
	j->n = n;
	memcpy(j->q, q, n * sizeof(*q));
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* signals stay with the loop's thread */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(&t, &attr, resolve_main, j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (e != 0) {
		log_warnx("%s: cannot start a resolver thread: %s", __func__,
		    strerror(e));
		pthread_mutex_destroy(&j->mu);
		free(j);
		return -1;
	}
	r->job = j;
	return 0;
}

int
resolve_busy(const struct resolve *r)
{
	return r->job != NULL;
}

void
resolve_cancel(struct resolve *r)
{
	struct resolve_job *j = r->job;

	if (j == NULL)
		return;
	pthread_mutex_lock(&j->mu);
	j->owner = NULL;
	pthread_mutex_unlock(&j->mu);
	r->job = NULL;
	resolve_job_release(j);
}

void
resolve_free(struct resolve *r)
{
	if (r == NULL)
		return;
	resolve_cancel(r);
	ev_async_stop(r->loop, &r->async);
	free(r);
}
