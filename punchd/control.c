/*
 * punchd's IPC: the one dispatch table, the requests answered at once,
 * notifications. peer.punch and peer.ping wait for the network: waiter.c.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <msgpack.h>

#include "common/ipc.h"
#include "common/log.h"
#include "common/mpack.h"
#include "control.h"
#include "punchd.h"


void
control_pack_addr(msgpack_packer *pk, const char *k, const struct sockaddr_storage *ss,
    int has)
{
	char a[NETADDR_STRLEN];

	mpack_kv_str(pk, k, has ? netaddr_str((const struct sockaddr *)ss, a,
	    sizeof(a)) : NULL);
}

void
control_pack_ms(msgpack_packer *pk, const char *k, double s, int has)
{
	mpack_key(pk, k);
	if (has)
		msgpack_pack_double(pk, s * 1000);
	else
		msgpack_pack_nil(pk);
}

void
control_pack_endpoint(msgpack_packer *pk, struct peer *p)
{
	if (p->state == PEER_RELAYED)
		mpack_kv_str(pk, "endpoint", relay_peer_url(p));
	else
		control_pack_addr(pk, "endpoint", &p->endpoint, p->has_endpoint);
}

const char *
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
	struct sockaddr_storage	 ss;

	msgpack_pack_map(pk, full ? 28 : 15);
	mpack_kv_str(pk, "id", p->bound ? p->idstr : NULL);
	mpack_kv_str(pk, "name", p->name[0] ? p->name : NULL);
	mpack_kv_str(pk, "state", peer_state_str(p->state));
	mpack_kv_str(pk, "path", control_path(p));
	control_pack_endpoint(pk, p);
	control_pack_ms(pk, "rtt_ms", p->path.srtt, has);
	control_pack_ms(pk, "rtt_min_ms", p->path.rtt_min, has);
	control_pack_ms(pk, "jitter_ms", p->path.jitter, p->path.samples > 1);
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
	mpack_kv_str(pk, "e2e", e2e_mode(p));
	mpack_kv_uint(pk, "key_epoch", p->e2e_inited ? p->e2e.epoch : 0);
	mpack_kv_int(pk, "key_id", p->e2e_inited && p->e2e.cur.valid ?
	    p->e2e.cur.id : 0);
	if (!full)
		return;
	mpack_kv_str(pk, "punch", punch_state_str(p->punch.state));
	mpack_kv_int(pk, "attempts", p->attempts);
	mpack_kv_int(pk, "keepalive_failures", p->ka.failures);
	mpack_kv_uint(pk, "keepalives_sent", p->ka.sent);
	mpack_kv_uint(pk, "keepalives_acked", p->ka.acked);
	mpack_kv_uint(pk, "keepalives_received", p->ka.received);
	mpack_kv_bool(pk, "keepalive_lead", p->ka.lead);
	mpack_kv_int(pk, "keepalive_interval_ms",
	    (int)(p->ka.interval * 1000 + 0.5));
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
		memset(&ss, 0, sizeof(ss));
		memcpy(&ss, &pp->remote.addr, sizeof(pp->remote.addr));
		control_pack_addr(pk, "address", &ss, 1);
		mpack_kv_str(pk, "type", punch_cand_type_str(pp->remote.type));
		mpack_kv_uint(pk, "priority", pp->prio);
		mpack_kv_str(pk, "check", st[pp->state]);
		mpack_kv_int(pk, "sent", pp->sends);
		mpack_kv_bool(pk, "selected", i == p->punch.selected);
	}
}

/* status.get's result (pd as void *: also the metrics file's source) */
void
control_pack_status(msgpack_packer *pk, void *arg)
{
	struct punchd		*pd = arg;
	struct peer		*p;
	struct sockaddr_storage	 host[PUNCH_MAX_CANDS];
	int			 i, n, direct = 0;

	TAILQ_FOREACH(p, &pd->peers, entry)
		direct += peer_is_up(p);
	n = sock_host_addrs(pd, host, PUNCH_MAX_CANDS);
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
		control_pack_addr(pk, "address", i < n ? &host[i] :
		    (i == n && pd->has_public4) ? &pd->public4 : &pd->public6,
		    1);
	}
	control_pack_addr(pk, "public", pd->has_public4 ? &pd->public4 :
	    &pd->public6, pd->has_public4 || pd->has_public6);
	mpack_kv_int(pk, "peers", pd->npeers);
	mpack_kv_int(pk, "peers_direct", direct);
	mpack_key(pk, "counters");
	msgpack_pack_map(pk, 19);
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
	mpack_kv_uint(pk, "drop_misdirected", pd->ctr.drop_misdirected);
	mpack_kv_uint(pk, "drop_unproven", pd->ctr.drop_unproven);
	mpack_kv_uint(pk, "peers_full", pd->ctr.peers_full);
	mpack_kv_uint(pk, "drop_downgrade", pd->ctr.drop_downgrade);
	mpack_kv_uint(pk, "drop_nokey", pd->ctr.drop_nokey);
	mpack_kv_uint(pk, "e2e_queue_drops", pd->ctr.e2e_queue_drops);
	mpack_kv_uint(pk, "ipc_requests", ipc_server_stats(pd->ipc)->requests);
}

static void
control_status(struct ipc_conn *c, uint32_t msgid,
    const msgpack_object *params, void *arg)
{
	(void)params;
	control_pack_status(ipc_reply_start(c, msgid), arg);
	ipc_reply_finish(c);
}

struct peer *
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

/* peer.list's result (pd as void *: also the metrics file's source) */
void
control_pack_peers(msgpack_packer *pk, void *arg)
{
	struct punchd	*pd = arg;
	struct peer	*p;

	msgpack_pack_array(pk, pd->npeers);
	TAILQ_FOREACH(p, &pd->peers, entry)
		control_pack_peer(pk, p, 0);
}

static void
control_list(struct ipc_conn *c, uint32_t msgid, const msgpack_object *params,
    void *arg)
{
	(void)params;
	control_pack_peers(ipc_reply_start(c, msgid), arg);
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
	if (p->bound)
		mesh_member_remove(arg, p->id);
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
	control_pack_addr(pk, "previous", previous, previous != NULL);
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
	{ "peer.punch",		waiter_punch },
	{ "peer.ping",		waiter_ping },
	{ "peer.send",		control_send },
	{ "peer.remove",	control_remove },
	{ "mesh.init",		mesh_ctl_init },
	{ "mesh.get",		mesh_ctl_get },
	{ "mesh.leave",		mesh_ctl_leave },
	{ "mesh.invite",	invites_ctl_invite },
	{ "mesh.join",		join_ctl_join },
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
		waiter_fail_all(p, IPC_ERR_UNAVAILABLE, "punchd stopping");
	if (pd->ipc != NULL)
		ipc_server_free(pd->ipc);
	pd->ipc = NULL;
}
