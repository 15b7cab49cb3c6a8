/*
 * Requests that wait for the network: a punch answers when a path is up
 * (or its time is over), a ping when its PONGs are back. Each is a struct
 * pending on its peer, with the caller's completion callback (control.c
 * keeps the client's connection id and msgid behind it; the client may
 * have gone by then).
 */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "punchd.h"
#include "pending.h"

#define PING_SPACING	0.2	/* s between PINGs of one request */
#define PING_WAIT	2.0	/* s for the last PONG */

enum pending_kind { PENDING_PUNCH, PENDING_PING };

struct pending {
	LIST_ENTRY(pending)	 entry;
	enum pending_kind	 kind;
	pending_done_fn		*done;
	void			*arg;
	struct peer		*peer;
	double			 started;
	ev_timer		 timer;
	/* ping */
	uint32_t		 first_id;
	int			 count;
	struct pending_res	 res;
};

/* End a request (err NULL = success) and free it. */
static void
pending_end(struct pending *w, enum result_code code, const char *msg)
{
	struct punchd	*pd = w->peer->pd;
	struct result	 err;

	ev_timer_stop(pd->loop, &w->timer);
	LIST_REMOVE(w, entry);
	if (code != RESULT_OK) {
		result_set(&err, code, "%s", msg);
		w->done(w->arg, w->peer, NULL, &err);
	} else {
		w->res.elapsed = punchd_now(pd) - w->started;
		w->done(w->arg, w->peer, &w->res, NULL);
	}
	free(w);
}

void
pending_fail_all(struct peer *p, enum result_code code, const char *msg)
{
	while (!LIST_EMPTY(&p->pending))
		pending_end(LIST_FIRST(&p->pending), code, msg);
}

static void
pending_punch_end(struct peer *p, enum result_code code, const char *msg)
{
	struct pending *w, *next;

	for (w = LIST_FIRST(&p->pending); w != NULL; w = next) {
		next = LIST_NEXT(w, entry);
		if (w->kind == PENDING_PUNCH)
			pending_end(w, code, msg);
	}
}

void
pending_peer_up(struct peer *p)
{
	pending_punch_end(p, RESULT_OK, NULL);
}

void
pending_punch_failed(struct peer *p)
{
	pending_punch_end(p, RESULT_TIMEOUT, "no candidate pair answered");
}

static void
pending_punch_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct pending *w = container_of(t, struct pending, timer);

	(void)loop;
	(void)revents;
	/* relayed, still trying direct: the path there is the answer */
	if (peer_is_up(w->peer))
		pending_end(w, RESULT_OK, NULL);
	else
		pending_end(w, RESULT_TIMEOUT,
		    "no path within the requested time");
}

static struct pending *
pending_new(struct peer *p, enum pending_kind kind, double timeout,
    void (*cb)(struct ev_loop *, ev_timer *, int), pending_done_fn *done,
    void *arg, struct result *err)
{
	struct punchd	*pd = p->pd;
	struct pending	*w;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		result_set(err, RESULT_INTERNAL, "out of memory");
		return NULL;
	}
	w->kind = kind;
	w->peer = p;
	w->done = done;
	w->arg = arg;
	w->started = punchd_now(pd);
	ev_timer_init(&w->timer, cb, timeout, 0);
	ev_timer_start(pd->loop, &w->timer);
	LIST_INSERT_HEAD(&p->pending, w, entry);
	return w;
}

/* ---- peer.punch ---------------------------------------------------------- */

/* A peer that punched us before anyone named it: same endpoint. */
static struct peer *
pending_adopt(struct punchd *pd, const char *name,
    const struct sockaddr_storage *cands, int n)
{
	struct peer	*p;
	int		 i;

	TAILQ_FOREACH(p, &pd->peers, entry) {
		if (p->name[0] != '\0' || !p->bound)
			continue;
		for (i = 0; i < n; i++)
			if (punch_find(&p->punch,
			    (const struct sockaddr *)&cands[i]) != -1 ||
			    (p->has_endpoint && netaddr_equal(
			    (const struct sockaddr *)&p->endpoint,
			    (const struct sockaddr *)&cands[i]))) {
				strlcpy(p->name, name, sizeof(p->name));
				peer_changed(pd);
				return p;
			}
	}
	return NULL;
}

int
pending_punch(struct punchd *pd, const struct pending_punch_req *req,
    pending_done_fn *done, void *arg, struct result *err)
{
	struct peer *p;

	if ((p = peer_find(pd, req->name)) == NULL &&
	    (p = pending_adopt(pd, req->name, req->cands,
	    req->ncands)) == NULL) {
		if (req->ncands == 0)
			return result_set(err, RESULT_NOT_FOUND, "no peer "
			    "'%s' and no endpoint to punch", req->name);
		if ((p = peer_create(pd, req->name)) == NULL)
			return result_set(err, RESULT_UNAVAILABLE,
			    "peer table full");
	}
	link_punch(p, req->cands, req->ncands);
	if (pending_new(p, PENDING_PUNCH, req->timeout, pending_punch_timer_cb,
	    done, arg, err) == NULL)
		return -1;
	/* already there (and no new address to try): answer now */
	if (peer_is_up(p) && p->punch.state != PUNCH_RUNNING)
		pending_peer_up(p);
	return 0;
}

/* ---- peer.ping ----------------------------------------------------------- */

static void
pending_ping_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct pending	*w = container_of(t, struct pending, timer);
	uint32_t	 id;

	(void)revents;
	if (w->res.sent < w->count && link_ping(w->peer, &id) == 0) {
		if (w->res.sent == 0)
			w->first_id = id;
		w->res.sent++;
		ev_timer_set(t, w->res.sent < w->count ? PING_SPACING :
		    PING_WAIT, 0);
		ev_timer_start(loop, t);
		return;
	}
	if (w->res.sent == 0) {
		pending_end(w, RESULT_UNAVAILABLE, "no path");
		return;
	}
	if (w->res.got == 0)
		pending_end(w, RESULT_TIMEOUT, "no PONG");
	else
		pending_end(w, RESULT_OK, NULL);
}

void
pending_pong(struct peer *p, uint32_t id, double rtt)
{
	struct pending *w;

	LIST_FOREACH(w, &p->pending, entry) {
		if (w->kind != PENDING_PING || w->res.sent == 0 ||
		    id < w->first_id ||
		    id - w->first_id >= (uint32_t)w->res.sent ||
		    w->res.rtt[id - w->first_id] > 0)
			continue;
		w->res.rtt[id - w->first_id] = rtt > 0 ? rtt : 1e-6;
		if (++w->res.got == w->count) {
			pending_end(w, RESULT_OK, NULL);
			return;
		}
	}
}

int
pending_ping(struct peer *p, int count, pending_done_fn *done, void *arg,
    struct result *err)
{
	struct pending *w;

	if (count < 1 || count > PENDING_PING_MAX)
		return result_set(err, RESULT_BAD_PARAMS, "count: 1..%d",
		    PENDING_PING_MAX);
	if (!peer_is_up(p))
		return result_set(err, RESULT_UNAVAILABLE, "peer %s is %s: "
		    "no path", peer_label(p), peer_state_str(p->state));
	if ((w = pending_new(p, PENDING_PING, 0, pending_ping_timer_cb, done,
	    arg, err)) == NULL)
		return -1;
	w->count = count;
	return 0;
}
