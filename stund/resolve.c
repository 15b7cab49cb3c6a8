#include "resolve.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/netaddr.h"

static void *
resolve_main(void *arg)
{
	struct resolve	*r = arg;
	int		 i;

	for (i = 0; i < r->n; i++) {
		r->ok[i] = netaddr_resolve(r->names[i], 3478, AF_UNSPEC,
		    &r->addr[i], 1, r->err[i], sizeof(r->err[i])) > 0;
	}
	ev_async_send(r->loop, &r->async);
	return NULL;
}

static void
resolve_async_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	struct resolve *r = w->data;

	(void)loop;
	(void)revents;
	pthread_join(r->thread, NULL);
	r->busy = 0;
	r->done(r, r->arg);
}

struct resolve *
resolve_new(struct ev_loop *loop, void (*done)(struct resolve *, void *),
    void *arg)
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
resolve_start(struct resolve *r)
{
	if (r->busy)
		return -1;
	r->busy = 1;
	if (pthread_create(&r->thread, NULL, resolve_main, r) != 0) {
		log_errorx("%s: cannot start resolver thread", __func__);
		r->busy = 0;
		return -1;
	}
	return 0;
}

void
resolve_free(struct resolve *r)
{
	if (r == NULL)
		return;
	ev_async_stop(r->loop, &r->async);
	if (r->busy) {
		/* a lookup can take the resolver's full timeout: wait for it
		 * rather than leave a thread writing into freed memory */
		log_info("waiting for a DNS lookup to finish");
		pthread_join(r->thread, NULL);
	}
	free(r);
}
