/*
 * punchd's IPC: the one dispatch table, replies, notifications. Requests
 * that wait for the network (peer.punch, peer.ping) keep the connection id
 * and msgid in a struct peer_waiter and answer later.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <msgpack.h>

#include "common/ipc.h"
#include "common/log.h"
#include "common/mpack.h"
#include "punchd.h"

#define container_of(p, t, m)	((t *)((char *)(p) - offsetof(t, m)))
#define WAIT_PUNCH	1
#define WAIT_PING	2
#define PING_MAX	16	/* per request: a person's ping, not a flood */
#define PING_SPACING	0.2	/* s between PINGs of one request */
#define PING_WAIT	2.0	/* s for the last PONG */

static void
pack_addr(msgpack_packer *pk, const char *k, const struct sockaddr_storage *ss,
    int has)
{
	char a[NETADDR_STRLEN];

	mpack_kv_str(pk, k, has ? netaddr_str((const struct sockaddr *)ss, a,
	    sizeof(a)) : NULL);
}

static void
pack_ms(msgpack_packer *pk, const char *k, double s, int has)
{
	mpack_key(pk, k);
	if (has)
		msgpack_pack_double(pk, s * 1000);
	else
		msgpack_pack_nil(pk);
}

static void
control_pack_endpoint(msgpack_packer *pk, struct peer *p)
{
	if (p->state == PEER_RELAYED)
		mpack_kv_str(pk, "endpoint", relay_peer_url(p));
	else
		pack_addr(pk, "endpoint", &p->endpoint, p->has_endpoint);
}

static const char *
control_path(const struct peer *p)
{
	if (p->state == PEER_RELAYED)
		return "relay";
	return peer_is_up(p) ? "direct" : NULL;
}

static void
control_pack_peer(msgpack_packer *pk, struct peer *p, int full)
{
	double			 now = ev_now(p->pd->loop);
	int			 i, has = p->path.samples > 0;
	const struct punch_pair	*pp;

	msgpack_pack_map(pk, full ? 22 : 12);
	mpack_kv_str(pk, "id", p->bound ? p->idstr : NULL);
	mpack_kv_str(pk, "name", p->name[0] ? p->name : NULL);
	mpack_kv_str(pk, "state", peer_state_str(p->state));
	mpack_kv_str(pk, "path", control_path(p));
	control_pack_endpoint(pk, p);
	pack_ms(pk, "rtt_ms", p->path.srtt, has);
	pack_ms(pk, "rtt_min_ms", p->path.rtt_min, has);
	pack_ms(pk, "jitter_ms", p->path.jitter, p->path.samples > 1);
	mpack_key(pk, "loss");
	if (p->path.nhist > 0)
		msgpack_pack_double(pk, path_loss(&p->path));
	else
		msgpack_pack_nil(pk);
	mpack_key(pk, "last_seen_s");
	if (p->last_seen > 0)
		msgpack_pack_double(pk, now - p->last_seen);
	else
		msgpack_pack_nil(pk);
	mpack_kv_double(pk, "since_s", now - p->since);
	mpack_kv_bool(pk, "controlling", p->punch.controlling == 1);
	if (!full)
		return;
	mpack_kv_str(pk, "punch", punch_state_str(p->punch.state));
	mpack_kv_int(pk, "attempts", p->attempts);
	mpack_kv_int(pk, "keepalive_failures", p->ka.failures);
	mpack_kv_uint(pk, "keepalives_sent", p->ka.sent);
	mpack_kv_uint(pk, "keepalives_acked", p->ka.acked);
	mpack_kv_uint(pk, "rx_packets", p->rx_packets);
	mpack_kv_uint(pk, "tx_packets", p->tx_packets);
	mpack_kv_uint(pk, "rx_data", p->rx_data);
	mpack_kv_uint(pk, "tx_data", p->tx_data);
	mpack_key(pk, "candidates");
	msgpack_pack_array(pk, p->punch.npairs);
	for (i = 0; i < p->punch.npairs; i++) {
		static const char *const st[] = { "waiting", "in-progress",
		    "succeeded", "failed" };

		pp = &p->punch.pairs[i];
		msgpack_pack_map(pk, 6);
		pack_addr(pk, "address", &pp->remote.addr, 1);
		mpack_kv_str(pk, "type", punch_cand_type_str(pp->remote.type));
		mpack_kv_uint(pk, "priority", pp->prio);
		mpack_kv_str(pk, "check", st[pp->state]);
		mpack_kv_int(pk, "sent", pp->sends);
		mpack_kv_bool(pk, "selected", i == p->punch.selected);
	}
}

static void
control_status(struct ipc_conn *c, uint32_t msgid,
    const msgpack_object *params, void *arg)
{
	struct punchd		*pd = arg;
	struct peer		*p;
	struct sockaddr_storage	 host[PUNCH_MAX_CANDS];
	msgpack_packer		*pk;
	int			 i, n, direct = 0;

	(void)params;
	TAILQ_FOREACH(p, &pd->peers, entry)
		direct += peer_is_up(p);
	n = sock_host_addrs(pd, host, PUNCH_MAX_CANDS);
	pk = ipc_reply_start(c, msgid);
	msgpack_pack_map(pk, 14);
	mpack_kv_str(pk, "daemon", "punchd");
	mpack_kv_str(pk, "version", PUNCHD_VERSION);
	mpack_kv_int(pk, "pid", getpid());
	mpack_kv_double(pk, "uptime_s", ev_now(pd->loop) - pd->started);
	mpack_kv_int(pk, "proto", IPC_PROTO_VERSION);
	mpack_kv_str(pk, "node_id", pd->node_idstr);
	mpack_kv_int(pk, "port", pd->cfg.port);
	mpack_kv_int(pk, "mtu", PUNCHD_MTU);
	mpack_kv_bool(pk, "stund", pd->stund_up);
	mpack_key(pk, "candidates");
	msgpack_pack_array(pk, n + pd->has_public4 + pd->has_public6);
	for (i = 0; i < n + pd->has_public4 + pd->has_public6; i++) {
		msgpack_pack_map(pk, 2);
		mpack_kv_str(pk, "type", i < n ? "host" : "srflx");
		pack_addr(pk, "address", i < n ? &host[i] :
		    (i == n && pd->has_public4) ? &pd->public4 : &pd->public6,
		    1);
	}
	pack_addr(pk, "public", pd->has_public4 ? &pd->public4 :
	    &pd->public6, pd->has_public4 || pd->has_public6);
	mpack_kv_int(pk, "peers", pd->npeers);
	mpack_kv_int(pk, "peers_direct", direct);
	mpack_key(pk, "counters");
	msgpack_pack_map(pk, 14);
	mpack_kv_uint(pk, "rx_datagrams", pd->ctr.rx_datagrams);
	mpack_kv_uint(pk, "relay_rx", pd->ctr.relay_rx);
	mpack_kv_uint(pk, "tx_datagrams", pd->ctr.tx_datagrams);
	mpack_kv_uint(pk, "tx_errors", pd->ctr.tx_errors);
	mpack_kv_uint(pk, "stun_forwarded", pd->ctr.stun_forwarded);
	mpack_kv_uint(pk, "stun_dropped", pd->ctr.stun_dropped);
	mpack_kv_uint(pk, "drop_other", pd->ctr.drop_other);
	mpack_kv_uint(pk, "drop_malformed", pd->ctr.drop_malformed);
	mpack_kv_uint(pk, "drop_auth", pd->ctr.drop_auth);
	mpack_kv_uint(pk, "drop_replay", pd->ctr.drop_replay);
	mpack_kv_uint(pk, "drop_unknown", pd->ctr.drop_unknown);
	mpack_kv_uint(pk, "drop_self", pd->ctr.drop_self);
	mpack_kv_uint(pk, "peers_full", pd->ctr.peers_full);
	mpack_kv_uint(pk, "ipc_requests", ipc_server_stats(pd->ipc)->requests);
	ipc_reply_finish(c);
}

static struct peer *
control_peer_param(struct punchd *pd, struct ipc_conn *c, uint32_t msgid,
    const msgpack_object *params)
{
	struct peer	*p;
	char		 name[PUNCHD_NAME_LEN];

	if (mpack_get_str(params, "peer", name, sizeof(name)) != 0) {
		ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS,
		    "expected {peer: name or node id, ...}");
		return NULL;
	}
	if ((p = peer_find(pd, name)) == NULL)
		ipc_reply_error(c, msgid, IPC_ERR_NOT_FOUND, "no peer '%s'",
		    name);
	return p;
}

static void
control_list(struct ipc_conn *c, uint32_t msgid, const msgpack_object *params,
    void *arg)
{
	struct punchd	*pd = arg;
	struct peer	*p;
	msgpack_packer	*pk;

	(void)params;
	pk = ipc_reply_start(c, msgid);
	msgpack_pack_array(pk, pd->npeers);
	TAILQ_FOREACH(p, &pd->peers, entry)
		control_pack_peer(pk, p, 0);
	ipc_reply_finish(c);
}

static void
control_get(struct ipc_conn *c, uint32_t msgid, const msgpack_object *params,
    void *arg)
{
	struct peer *p;

	if ((p = control_peer_param(arg, c, msgid, params)) == NULL)
		return;
	control_pack_peer(ipc_reply_start(c, msgid), p, 1);
	ipc_reply_finish(c);
}

static void
control_remove(struct ipc_conn *c, uint32_t msgid,
    const msgpack_object *params, void *arg)
{
	struct peer *p;

	if ((p = control_peer_param(arg, c, msgid, params)) == NULL)
		return;
	log_info("peer %s removed", peer_label(p));
	peer_free(p);
	store_changed(arg);
	ipc_reply_ok(c, msgid);
}

static void
control_send(struct ipc_conn *c, uint32_t msgid, const msgpack_object *params,
    void *arg)
{
	struct peer	*p;
	const char	*data;
	size_t		 len;
	msgpack_packer	*pk;
	int		 r;

	if ((p = control_peer_param(arg, c, msgid, params)) == NULL)
		return;
	if (mpack_get_bin(params, "data", &data, &len) != 0) {
		ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS,
		    "expected {peer, data: bin}");
		return;
	}
	if ((r = peer_send_data(p, data, len)) == -2) {
		ipc_reply_error(c, msgid, "too_big", "%zu bytes is over the "
		    "path MTU of %d bytes", len, PUNCHD_MTU);
		return;
	}
	if (r == -1) {
		ipc_reply_error(c, msgid, IPC_ERR_UNAVAILABLE, "peer %s is "
		    "%s: no path", peer_label(p), peer_state_str(p->state));
		return;
	}
	pk = ipc_reply_start(c, msgid);
	msgpack_pack_map(pk, 3);
	mpack_kv_str(pk, "path", control_path(p));
	mpack_kv_uint(pk, "bytes", len);
	control_pack_endpoint(pk, p);
	ipc_reply_finish(c);
}

/* ---- waiters ------------------------------------------------------------- */

static void
control_waiter_free(struct punchd *pd, struct peer_waiter *w)
{
	ev_timer_stop(pd->loop, &w->timer);
	LIST_REMOVE(w, entry);
	free(w);
}

/* Reply to a waiter (error code NULL = success) and free it. */
static void
control_waiter_reply(struct punchd *pd, struct peer_waiter *w,
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
		pack_ms(pk, "rtt_ms", p->path.srtt, p->path.samples > 0);
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
	control_waiter_free(pd, w);
}

void
control_waiters_fail(struct peer *p, const char *code, const char *msg)
{
	while (!LIST_EMPTY(&p->waiters))
		control_waiter_reply(p->pd, LIST_FIRST(&p->waiters), code, msg);
}

void
control_punch_done(struct peer *p, const char *code, const char *msg)
{
	struct peer_waiter *w, *next;

	for (w = LIST_FIRST(&p->waiters); w != NULL; w = next) {
		next = LIST_NEXT(w, entry);
		if (w->kind == WAIT_PUNCH)
			control_waiter_reply(p->pd, w, code, msg);
	}
}

static void
control_punch_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct peer_waiter *w = container_of(t, struct peer_waiter, timer);

	(void)loop;
	(void)revents;
	control_waiter_reply(w->peer->pd, w, IPC_ERR_TIMEOUT,
	    "no direct path within the requested time");
}

static struct peer_waiter *
control_waiter_new(struct punchd *pd, struct peer *p, struct ipc_conn *c,
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
control_parse_addr(const char *s, struct sockaddr_storage *ss)
{
	char err[256];

	if (netaddr_parse(s, 7777, ss) == 0)
		return 0;
	/* a name: resolved here, once, blocking (never per packet) */
	return netaddr_resolve(s, 7777, AF_UNSPEC, ss, 1, err,
	    sizeof(err)) == 1 ? 0 : -1;
}

static int
control_name_ok(const char *s)
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
control_adopt(struct punchd *pd, const char *name,
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

static void
control_punch(struct ipc_conn *c, uint32_t msgid,
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
	if (!control_name_ok(name)) {
		ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS, "peer names are "
		    "1..%d printable characters without spaces",
		    PUNCHD_NAME_LEN - 1);
		return;
	}
	if (mpack_get_str(params, "endpoint", ep, sizeof(ep)) == 0) {
		if (control_parse_addr(ep, &cands[n]) == -1) {
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
			    control_parse_addr(ep, &cands[n]) == -1) {
				ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS,
				    "candidate %u is not HOST:PORT", i);
				return;
			}
			n++;
		}
	}
	if ((p = peer_find(pd, name)) == NULL &&
	    (p = control_adopt(pd, name, cands, n)) == NULL) {
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
	if (control_waiter_new(pd, p, c, msgid, WAIT_PUNCH, timeout / 1000.0,
	    control_punch_timer_cb) == NULL)
		return;
	/* already there (and no new address to try): answer now */
	if (peer_is_up(p) && p->punch.state != PUNCH_RUNNING)
		control_punch_done(p, NULL, NULL);
	return;
bad:
	ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS, "expected {peer, "
	    "endpoint?: \"HOST:PORT\", candidates?: [..], timeout_ms?: "
	    "1..600000}");
}

/* ---- peer.ping ----------------------------------------------------------- */

static void
control_ping_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
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
		control_waiter_reply(w->peer->pd, w, IPC_ERR_UNAVAILABLE,
		    "no path");
		return;
	}
	control_waiter_reply(w->peer->pd, w, w->got == 0 ? IPC_ERR_TIMEOUT :
	    NULL, "no PONG");
}

void
control_pong(struct peer *p, uint32_t id, double rtt)
{
	struct peer_waiter *w;

	LIST_FOREACH(w, &p->waiters, entry) {
		if (w->kind != WAIT_PING || w->sent == 0 || id < w->first_id ||
		    id - w->first_id >= (uint32_t)w->sent ||
		    w->rtt[id - w->first_id] > 0)
			continue;
		w->rtt[id - w->first_id] = rtt > 0 ? rtt : 1e-6;
		if (++w->got == w->count) {
			control_waiter_reply(p->pd, w, NULL, NULL);
			return;
		}
	}
}

static void
control_ping(struct ipc_conn *c, uint32_t msgid, const msgpack_object *params,
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
	if ((w = control_waiter_new(pd, p, c, msgid, WAIT_PING, 0,
	    control_ping_timer_cb)) != NULL)
		w->count = count;
}

/* ---- notifications ------------------------------------------------------- */

void
control_peer_event(struct punchd *pd, struct peer *p, const char *event,
    const char *reason, const struct sockaddr_storage *previous)
{
	msgpack_packer *pk;

	if (pd->ipc == NULL)
		return;
	pk = ipc_notify_start(pd->ipc, event);
	msgpack_pack_map(pk, 8);
	mpack_kv_str(pk, "peer", peer_label(p));
	mpack_kv_str(pk, "id", p->bound ? p->idstr : NULL);
	mpack_kv_str(pk, "state", peer_state_str(p->state));
	mpack_kv_str(pk, "path", control_path(p));
	control_pack_endpoint(pk, p);
	pack_addr(pk, "previous", previous, previous != NULL);
	mpack_kv_str(pk, "reason", reason);
	mpack_kv_int(pk, "keepalive_failures", p->ka.failures);
	ipc_notify_finish(pd->ipc);
}

void
control_peer_data(struct punchd *pd, struct peer *p, const uint8_t *data,
    size_t len)
{
	msgpack_packer *pk;

	pk = ipc_notify_start(pd->ipc, "peer.data");
	msgpack_pack_map(pk, 4);
	mpack_kv_str(pk, "peer", peer_label(p));
	mpack_kv_str(pk, "id", p->bound ? p->idstr : NULL);
	mpack_kv_bin(pk, "data", data, len);
	mpack_kv_str(pk, "path", control_path(p));
	ipc_notify_finish(pd->ipc);
}

static const struct ipc_method control_methods[] = {
	{ "status.get",		control_status },
	{ "peer.list",		control_list },
	{ "peer.get",		control_get },
	{ "peer.punch",		control_punch },
	{ "peer.ping",		control_ping },
	{ "peer.send",		control_send },
	{ "peer.remove",	control_remove },
};

int
control_init(struct punchd *pd, const char *path)
{
	pd->ipc = ipc_server_new(pd->loop, "punchd", path, control_methods,
	    sizeof(control_methods) / sizeof(control_methods[0]), pd);
	if (pd->ipc == NULL) {
		log_warnx("%s: cannot serve IPC on %s", __func__, path);
		return -1;
	}
	return 0;
}

void
control_fini(struct punchd *pd)
{
	struct peer *p;

	TAILQ_FOREACH(p, &pd->peers, entry)
		control_waiters_fail(p, IPC_ERR_UNAVAILABLE, "punchd stopping");
	if (pd->ipc != NULL)
		ipc_server_free(pd->ipc);
	pd->ipc = NULL;
}
