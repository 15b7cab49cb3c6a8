#include "discover.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <netdb.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/netaddr.h"
#include "common/resolve.h"

#include "common/util.h"

/* Re-resolve names this often: STUN servers move behind anycast names. */
#define DISCOVER_RESOLVE_EVERY	600.0

static void	discover_run_finish(struct discover_run *r);
static void	discover_own_done(struct discover_run *r, void *arg);
static void	discover_start_own(struct stund *sd);

static void
discover_probe_cb(struct probe *p, int status, void *arg)
{
	struct discover_run		*r = arg;
	int				 i = p - r->probes;
	struct discover_srv_result	*res = &r->res[i];
	struct stund_srv		*srv = &r->sd->servers[res->srv];
	char				 a[NETADDR_STRLEN];

	r->pending--;
	if (status == PROBE_OK) {
		res->state = 1;
		res->rtt_ms = p->rtt_ms;
		res->mapped = p->mapped;
		res->has_other = p->has_other;
		res->other = p->other;
		log_debug("%s answered in %.1f ms: %s", srv->name, p->rtt_ms,
		    netaddr_str((struct sockaddr *)&p->mapped, a, sizeof(a)));
		if (r->winner == -1)
			r->winner = i;
		if (r->winner == i && !r->all) {
			ev_timer_set(&r->grace, DISCOVER_GRACE, 0);
			ev_timer_start(r->sd->loop, &r->grace);
		}
	} else {
		res->state = -1;
		strlcpy(res->error, p->error[0] ? p->error : "failed",
		    sizeof(res->error));
		log_debug("%s: %s", srv->name, res->error);
	}
	/* the server table shows what each server last said */
	srv->ok = res->state == 1;
	if (srv->ok) {
		srv->rtt_ms = res->rtt_ms;
		srv->mapped = res->mapped;
		srv->has_other = res->has_other;
		srv->other = res->other;
		srv->when = ev_now(r->sd->loop);
		srv->error[0] = '\0';
	} else
		strlcpy(srv->error, res->error, sizeof(srv->error));
	if (r->pending == 0)
		discover_run_finish(r);
}

static void
discover_grace_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct discover_run *r = container_of(w, struct discover_run, grace);
	int i;

	(void)loop;
	(void)revents;
	for (i = 0; i < r->nprobes; i++)
		if (r->res[i].state == 0) {
			probe_cancel(&r->probes[i]);
			strlcpy(r->res[i].error, "slower than the winner",
			    sizeof(r->res[i].error));
		}
	discover_run_finish(r);
}

static void
discover_local(struct discover_run *r)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof(ss);
	struct stund_srv	*srv;
	int			fd;

	memset(&r->local, 0, sizeof(r->local));
	/* fd -1 means the engine's own sockets: use the one the winner used */
	fd = r->fd != -1 ? r->fd : r->winner != -1 ? r->probes[r->winner].fd : -1;
	if (fd == -1 || getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return;
	r->local = ss;
	/* bound to the wildcard: name the address the route to the winner uses */
	if (r->winner != -1) {
		srv = &r->sd->servers[r->res[r->winner].srv];
		if (netaddr_route_src((struct sockaddr *)&srv->addr, &ss) == 0) {
			netaddr_set_port((struct sockaddr *)&ss,
			    netaddr_port((struct sockaddr *)&r->local));
			r->local = ss;
		}
	}
}

static void
discover_run_finish(struct discover_run *r)
{
	size_t	off = 0;
	int	i;

	if (!r->running)
		return;
	r->running = 0;
	ev_timer_stop(r->sd->loop, &r->grace);
	r->finished = ev_now(r->sd->loop);
	r->ok = r->winner != -1;
	if (r->ok)
		r->public = r->res[r->winner].mapped;
	discover_local(r);
	if (!r->ok) {
		off = r->nprobes == 0 ?
		    snprintf(r->error, sizeof(r->error),
		    "no STUN server could be asked:") :
		    snprintf(r->error, sizeof(r->error),
		    "no STUN server answered within %.1fs:",
		    r->finished - r->started);
		for (i = 0; i < r->sd->nservers && off < sizeof(r->error); i++) {
			struct stund_srv *s = &r->sd->servers[i];
			const char *why = s->error[0] ? s->error : "not asked";
			int j;

			for (j = 0; j < r->nprobes; j++)
				if (r->res[j].srv == i)
					why = r->res[j].error;
			off += snprintf(r->error + off, sizeof(r->error) - off,
			    "%s %s (%s)", i ? "," : "", s->name, why);
		}
		if (r->sd->nservers == 0)
			snprintf(r->error, sizeof(r->error),
			    "no STUN server configured (stund.servers)");
	}
	r->cb(r, r->arg);
}

int
discover_run_start(struct discover_run *r, struct stund *sd, int fd,
    int family, double timeout_s, discover_done_cb *cb, void *arg)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof(ss);
	int			i, sockfam = AF_UNSPEC;

	memset(r, 0, sizeof(*r));
	r->sd = sd;
	r->fd = fd;
	r->family = family;
	r->winner = -1;
	r->cb = cb;
	r->arg = arg;
	r->started = ev_now(sd->loop);
	r->running = 1;
	ev_timer_init(&r->grace, discover_grace_cb, 0, 0);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		sockfam = ss.ss_family;
	for (i = 0; i < sd->nservers; i++) {
		struct stund_srv		*s = &sd->servers[i];
		struct discover_srv_result	*res = &r->res[r->nprobes];

		if (s->resolved != 1)
			continue;
		if (family != AF_UNSPEC && s->addr.ss_family != family)
			continue;
		if (sockfam != AF_UNSPEC && s->addr.ss_family != sockfam)
			continue;
		res->srv = i;
		if (probe_start(&r->probes[r->nprobes], &sd->probes,
		    fd == -1 ? probe_engine_fd(&sd->probes, s->addr.ss_family)
		    : fd, (struct sockaddr *)&s->addr, 0, timeout_s,
		    discover_probe_cb, r) == -1)
			continue;
		r->nprobes++;
		r->pending++;
	}
	if (r->nprobes == 0) {
		/* nothing to ask: finish from the loop, never re-entrantly */
		r->pending = 0;
		ev_timer_set(&r->grace, 0, 0);
		ev_timer_start(sd->loop, &r->grace);
	}
	return 0;
}

int
discover_run_start_all(struct discover_run *r, struct stund *sd, int fd,
    int family, double timeout_s, discover_done_cb *cb, void *arg)
{
	/* answers come from the loop, never from inside the start */
	if (discover_run_start(r, sd, fd, family, timeout_s, cb, arg) == -1)
		return -1;
	r->all = 1;
	return 0;
}

void
discover_run_cancel(struct discover_run *r)
{
	int i;

	if (!r->running)
		return;
	for (i = 0; i < r->nprobes; i++)
		probe_cancel(&r->probes[i]);
	ev_timer_stop(r->sd->loop, &r->grace);
	r->running = 0;
}

/* ---- stund's own discovery ---------------------------------------------- */

static void
discover_resolved(void *arg, const struct resolve_query *q,
    const struct resolve_answer *ans, int n)
{
	struct stund	*sd = arg;
	int		 i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < sd->nservers; j++) {
			if (strcmp(sd->servers[j].name, q[i].name) != 0)
				continue;
			if (ans[i].naddr > 0) {
				sd->servers[j].addr = ans[i].addr[0];
				sd->servers[j].resolved = 1;
			} else {
				sd->servers[j].resolved = -1;
				snprintf(sd->servers[j].error,
				    sizeof(sd->servers[j].error), "DNS: %s",
				    ans[i].err);
				log_warnx("STUN server %s", sd->servers[j].error);
			}
		}
	sd->disc->resolving = 0;
	sd->disc->resolved_at = ev_now(sd->loop);
	discover_start_own(sd);
}

/* Numeric names resolve at once; others go to the resolver thread. */
static int
discover_resolve(struct stund *sd)
{
	struct discover		*d = sd->disc;
	struct resolve_query	 q[RESOLVE_MAX];
	int			 i, n = 0;

	memset(q, 0, sizeof(q));
	for (i = 0; i < sd->nservers; i++) {
		struct stund_srv *s = &sd->servers[i];

		if (netaddr_parse(s->name, 3478, &s->addr) == 0) {
			s->resolved = 1;
			continue;
		}
		if (n == RESOLVE_MAX)
			break;
		strlcpy(q[n].name, s->name, sizeof(q[n].name));
		q[n].port = 3478;
		q[n].family = AF_UNSPEC;
		q[n].socktype = SOCK_DGRAM;
		q[n++].flags = AI_ADDRCONFIG;
	}
	if (n == 0) {
		d->resolved_at = ev_now(sd->loop);
		return 0;
	}
	if (resolve_start(d->resolver, q, n) == -1)
		return 0;	/* use what we had */
	d->resolving = 1;
	return 1;
}

static void
discover_start_own(struct stund *sd)
{
	struct discover *d = sd->disc;

	if (d->run.running || d->resolving)
		return;
	if (d->resolved_at == 0 ||
	    ev_now(sd->loop) - d->resolved_at > DISCOVER_RESOLVE_EVERY) {
		if (discover_resolve(sd))
			return;	/* continues in discover_resolved */
	}
	sd->ctr.discoveries++;
	discover_run_start(&d->run, sd, -1, AF_UNSPEC,
	    sd->cfg.timeout_ms / 1000.0, discover_own_done, sd);
}

int
discover_wait(struct discover_waiters *l, discover_wait_cb *cb, void *arg)
{
	struct discover_waiter *w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return -1;
	w->cb = cb;
	w->arg = arg;
	TAILQ_INSERT_TAIL(l, w, entry);
	return 0;
}

void
discover_wake(struct stund *sd, struct discover_waiters *l, int status)
{
	struct discover_waiters	 now = TAILQ_HEAD_INITIALIZER(now);
	struct discover_waiter	*w;

	TAILQ_CONCAT(&now, l, entry);
	while ((w = TAILQ_FIRST(&now)) != NULL) {
		TAILQ_REMOVE(&now, w, entry);
		w->cb(sd, status, w->arg);
		free(w);
	}
}

static void
discover_own_done(struct discover_run *r, void *arg)
{
	struct stund		*sd = arg;
	struct discover		*d = sd->disc;
	char			 prev[NETADDR_STRLEN] = "", now[NETADDR_STRLEN];
	int			 changed = 0;

	if (r->ok) {
		if (!d->have || !netaddr_equal((struct sockaddr *)&d->public,
		    (struct sockaddr *)&r->public)) {
			changed = 1;
			if (d->have)
				netaddr_str((struct sockaddr *)&d->public, prev,
				    sizeof(prev));
		}
		d->have = 1;
		d->public = r->public;
		d->local = r->local;
		d->when = r->finished;
		log_info("public endpoint %s (via %s, %.1f ms)",
		    netaddr_str((struct sockaddr *)&r->public, now, sizeof(now)),
		    sd->servers[r->res[r->winner].srv].name,
		    r->res[r->winner].rtt_ms);
	} else {
		sd->ctr.discovery_failures++;
		log_warnx("discovery failed: %s", r->error);
	}
	discover_wake(sd, &d->waiters, 0);
	if (changed && sd->changed != NULL)
		sd->changed(sd, prev[0] ? prev : NULL);
}

static void
discover_refresh_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct discover *d = container_of(w, struct discover, refresh);

	(void)loop;
	(void)revents;
	discover_start_own(d->sd);
}

int
discover_init(struct stund *sd)
{
	struct discover *d;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return -1;
	d->sd = sd;
	TAILQ_INIT(&d->waiters);
	if ((d->resolver = resolve_new(sd->loop, discover_resolved, sd))
	    == NULL) {
		free(d);
		return -1;
	}
	ev_timer_init(&d->refresh, discover_refresh_cb,
	    sd->cfg.refresh_ms / 1000.0, sd->cfg.refresh_ms / 1000.0);
	if (sd->cfg.refresh_ms > 0 && sd->nservers > 0)
		ev_timer_start(sd->loop, &d->refresh);
	sd->disc = d;
	return 0;
}

void
discover_fini(struct stund *sd)
{
	struct discover	*d = sd->disc;

	if (d == NULL)
		return;
	discover_run_cancel(&d->run);
	ev_timer_stop(sd->loop, &d->refresh);
	discover_wake(sd, &d->waiters, -1);
	resolve_free(d->resolver);
	free(d);
	sd->disc = NULL;
}

void
discover_now(struct stund *sd)
{
	discover_start_own(sd);
}

/* Cached result fresh enough to serve? */
static int
discover_fresh(const struct stund *sd)
{
	const struct discover *d = sd->disc;

	return d->have && !d->run.running &&
	    ev_now(sd->loop) - d->when <= sd->cfg.cache_ttl_ms / 1000.0;
}

int
discover_request(struct stund *sd, int refresh, discover_wait_cb *cb,
    void *arg)
{
	if (!refresh && discover_fresh(sd)) {
		cb(sd, 0, arg);
		return 0;
	}
	if (discover_wait(&sd->disc->waiters, cb, arg) == -1)
		return -1;
	discover_start_own(sd);
	return 0;
}
