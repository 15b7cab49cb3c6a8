/*
 * The IPC requests that wait for the network: peer.punch answers when a
 * path is up (or the wait ends), peer.ping when its PONGs are back. Each
 * keeps the client's connection id and msgid in a struct peer_waiter on
 * the peer, and looks the connection up again to answer (the client may
 * have gone).
 */
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "common/ipc.h"
#include "common/log.h"
#include "common/mpack.h"
#include "control.h"
#include "punchd.h"

#define container_of(p, t, m)	((t *)((char *)(p) - offsetof(t, m)))
#define WAIT_PUNCH	1
#define WAIT_PING	2
#define PING_MAX	16	/* per request: a person's ping, not a flood */
#define PING_SPACING	0.2	/* s between PINGs of one request */
#define PING_WAIT	2.0	/* s for the last PONG */

static void
waiter_free(struct punchd *pd, struct peer_waiter *w)
{
	ev_timer_stop(pd->loop, &w->timer);
	LIST_REMOVE(w, entry);
	free(w);
}

/* Reply to a waiter (error code NULL = success) and free it. */
static void
waiter_reply(struct punchd *pd, struct peer_waiter *w,
    const char *code, const char *msg)
{
	struct ipc_conn	*c = ipc_server_conn(pd->ipc, w->conn);
	struct peer	*p = w->peer;
	msgpack_packer	*pk;
	int		 i, lost = 0;

	if (c == NULL)
		;	/* the client went away */
	else if (code != NULL)
		ipc_reply_error(c, w->msgid, code, "%s: %s", peer_label(p),
		    msg);
	else if (w->kind == WAIT_PUNCH) {
		pk = ipc_reply_start(c, w->msgid);
		msgpack_pack_map(pk, 7);
		mpack_kv_str(pk, "peer", peer_label(p));
		mpack_kv_str(pk, "id", p->bound ? p->idstr : NULL);
		mpack_kv_str(pk, "state", peer_state_str(p->state));
		mpack_kv_str(pk, "path", control_path(p));
		control_pack_endpoint(pk, p);
		mpack_kv_double(pk, "elapsed_ms",
		    (ev_now(pd->loop) - w->started) * 1000);
		control_pack_ms(pk, "rtt_ms", p->path.srtt, p->path.samples > 0);
		ipc_reply_finish(c);
	} else {
		pk = ipc_reply_start(c, w->msgid);
		msgpack_pack_map(pk, 6);
		mpack_kv_str(pk, "peer", peer_label(p));
		mpack_kv_str(pk, "path", control_path(p));
		control_pack_endpoint(pk, p);
		mpack_key(pk, "rtt_ms");
		msgpack_pack_array(pk, w->got);
		for (i = 0; i < w->sent; i++)
			if (w->rtt[i] > 0)
				msgpack_pack_double(pk, w->rtt[i] * 1000);
			else
				lost++;
		mpack_kv_int(pk, "sent", w->sent);
		mpack_kv_int(pk, "lost", lost);
		ipc_reply_finish(c);
	}
	waiter_free(pd, w);
}

void
waiter_fail_all(struct peer *p, const char *code, const char *msg)
{
	while (!LIST_EMPTY(&p->waiters))
		waiter_reply(p->pd, LIST_FIRST(&p->waiters), code, msg);
}

void
waiter_punch_done(struct peer *p, const char *code, const char *msg)
{
	struct peer_waiter *w, *next;

	for (w = LIST_FIRST(&p->waiters); w != NULL; w = next) {
		next = LIST_NEXT(w, entry);
		if (w->kind == WAIT_PUNCH)
			waiter_reply(p->pd, w, code, msg);
	}
}

static void
waiter_punch_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct peer_waiter *w = container_of(t, struct peer_waiter, timer);

	(void)loop;
	(void)revents;
	/* relayed, still trying direct: the path there is the answer */
	if (peer_is_up(w->peer))
		waiter_reply(w->peer->pd, w, NULL, NULL);
	else
		waiter_reply(w->peer->pd, w, IPC_ERR_TIMEOUT,
		    "no path within the requested time");
}

static struct peer_waiter *
waiter_new(struct punchd *pd, struct peer *p, struct ipc_conn *c,
    uint32_t msgid, int kind, double timeout,
    void (*cb)(struct ev_loop *, ev_timer *, int))
{
	struct peer_waiter *w;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		ipc_reply_error(c, msgid, IPC_ERR_INTERNAL, "out of memory");
		return NULL;
	}
	w->conn = ipc_conn_id(c);
	w->msgid = msgid;
	w->kind = kind;
	w->peer = p;
	w->started = ev_now(pd->loop);
	ev_timer_init(&w->timer, cb, timeout, 0);
	ev_timer_start(pd->loop, &w->timer);
	LIST_INSERT_HEAD(&p->waiters, w, entry);
	return w;
}

/* ---- peer.punch ---------------------------------------------------------- */

static int
waiter_parse_addr(const char *s, struct sockaddr_storage *ss)
{
	char err[256];

	if (netaddr_parse(s, 7777, ss) == 0)
		return 0;
	/* a name: resolved here, once, blocking (never per packet) */
	return netaddr_resolve(s, 7777, AF_UNSPEC, ss, 1, err,
	    sizeof(err)) == 1 ? 0 : -1;
}

static int
waiter_name_ok(const char *s)
{
	if (*s == '\0' || !strcmp(s, "-"))
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

/* A peer that punched us before anyone named it: same endpoint. */
static struct peer *
waiter_adopt(struct punchd *pd, const char *name,
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
				store_changed(pd);
				return p;
			}
	}
	return NULL;
}

void
waiter_punch(struct ipc_conn *c, uint32_t msgid,
    const msgpack_object *params, void *arg)
{
	struct punchd		*pd = arg;
	struct sockaddr_storage	 cands[PUNCH_MAX_CANDS];
	const msgpack_object	*list;
	struct peer		*p;
	char			 name[PUNCHD_NAME_LEN], ep[300];
	int64_t			 timeout = pd->cfg.punch_timeout_ms;
	uint32_t		 i;
	int			 n = 0;

	if (mpack_get_str(params, "peer", name, sizeof(name)) != 0 ||
	    mpack_get_int(params, "timeout_ms", &timeout) == -1 ||
	    timeout < 1 || timeout > 600000)
		goto bad;
	if (!waiter_name_ok(name)) {
		ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS, "peer names are "
		    "1..%d printable characters without spaces",
		    PUNCHD_NAME_LEN - 1);
		return;
	}
	if (mpack_get_str(params, "endpoint", ep, sizeof(ep)) == 0) {
		if (waiter_parse_addr(ep, &cands[n]) == -1) {
			ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS,
			    "endpoint '%s' is not HOST:PORT", ep);
			return;
		}
		n++;
	}
	if ((list = mpack_get(params, "candidates")) != NULL) {
		if (list->type != MSGPACK_OBJECT_ARRAY)
			goto bad;
		for (i = 0; i < list->via.array.size && n < PUNCH_MAX_CANDS;
		    i++) {
			if (mpack_str_copy(&list->via.array.ptr[i], ep,
			    sizeof(ep)) == -1 ||
			    waiter_parse_addr(ep, &cands[n]) == -1) {
				ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS,
				    "candidate %u is not HOST:PORT", i);
				return;
			}
			n++;
		}
	}
	if ((p = peer_find(pd, name)) == NULL &&
	    (p = waiter_adopt(pd, name, cands, n)) == NULL) {
		if (n == 0) {
			ipc_reply_error(c, msgid, IPC_ERR_NOT_FOUND, "no peer "
			    "'%s' and no endpoint to punch", name);
			return;
		}
		if ((p = peer_create(pd, name)) == NULL) {
			ipc_reply_error(c, msgid, IPC_ERR_UNAVAILABLE,
			    "peer table full");
			return;
		}
	}
	peer_punch(p, cands, n);
	if (waiter_new(pd, p, c, msgid, WAIT_PUNCH, timeout / 1000.0,
	    waiter_punch_timer_cb) == NULL)
		return;
	/* already there (and no new address to try): answer now */
	if (peer_is_up(p) && p->punch.state != PUNCH_RUNNING)
		waiter_punch_done(p, NULL, NULL);
	return;
bad:
	ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS, "expected {peer, "
	    "endpoint?: \"HOST:PORT\", candidates?: [..], timeout_ms?: "
	    "1..600000}");
}

/* ---- peer.ping ----------------------------------------------------------- */

static void
waiter_ping_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct peer_waiter	*w = container_of(t, struct peer_waiter, timer);
	uint32_t		 id;

	(void)revents;
	if (w->sent < w->count && peer_ping(w->peer, &id) == 0) {
		if (w->sent == 0)
			w->first_id = id;
		w->sent_at[w->sent++] = ev_now(loop);
		ev_timer_set(t, w->sent < w->count ? PING_SPACING : PING_WAIT,
		    0);
		ev_timer_start(loop, t);
		return;
	}
	if (w->sent == 0) {
		waiter_reply(w->peer->pd, w, IPC_ERR_UNAVAILABLE,
		    "no path");
		return;
	}
	waiter_reply(w->peer->pd, w, w->got == 0 ? IPC_ERR_TIMEOUT :
	    NULL, "no PONG");
}

void
waiter_pong(struct peer *p, uint32_t id, double rtt)
{
	struct peer_waiter *w;

	LIST_FOREACH(w, &p->waiters, entry) {
		if (w->kind != WAIT_PING || w->sent == 0 || id < w->first_id ||
		    id - w->first_id >= (uint32_t)w->sent ||
		    w->rtt[id - w->first_id] > 0)
			continue;
		w->rtt[id - w->first_id] = rtt > 0 ? rtt : 1e-6;
		if (++w->got == w->count) {
			waiter_reply(p->pd, w, NULL, NULL);
			return;
		}
	}
}

void
waiter_ping(struct ipc_conn *c, uint32_t msgid, const msgpack_object *params,
    void *arg)
{
	struct punchd		*pd = arg;
	struct peer		*p;
	struct peer_waiter	*w;
	int64_t			 count = 3;

	if ((p = control_peer_param(pd, c, msgid, params)) == NULL)
		return;
	if (mpack_get_int(params, "count", &count) == -1 || count < 1 ||
	    count > PING_MAX) {
		ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS,
		    "count: 1..%d", PING_MAX);
		return;
	}
	if (!peer_is_up(p)) {
		ipc_reply_error(c, msgid, IPC_ERR_UNAVAILABLE, "peer %s is %s: "
		    "no path", peer_label(p), peer_state_str(p->state));
		return;
	}
	if ((w = waiter_new(pd, p, c, msgid, WAIT_PING, 0,
	    waiter_ping_timer_cb)) != NULL)
		w->count = count;
}
