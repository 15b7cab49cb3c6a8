/*
 * punchd's IPC: the one dispatch table, the requests answered at once,
 * the events (peer.up, peer.path, peer.down, peer.data) and the metrics
 * file. The core below never sees a msgpack object: a handler decodes the
 * params, calls a typed function and packs its answer. peer.punch and
 * peer.ping (control_peer.c) and mesh.join (control_mesh.c) are answered
 * later, through completion callbacks.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <msgpack.h>

#include "common/ipc.h"
#include "common/log.h"
#include "common/mpack.h"
#include "common/promfile.h"
#include "common/promtext.h"
#include "control.h"
#include "node.h"
#include "punchd.h"

/* ---- status.get ---------------------------------------------------------- */

/*
 * The counters, once: the field, its status.get key (Prometheus:
 * punchd_KEY_total, common/promtext.h) and what it counts.
 */
#define CTR(f)	offsetof(struct punchd_counters, f), #f, "counters." #f
static const struct control_counter {
	size_t		 off;
	const char	*key;
	const char	*path;		/* in status.get: the metrics' help */
	const char	*help;
} control_counters[] = {
	{ CTR(rx_datagrams),	"datagrams read from the UDP socket" },
	{ CTR(relay_rx),	"authenticated packets through relays" },
	{ CTR(tx_datagrams),	"datagrams sent" },
	{ CTR(tx_errors),	"datagrams the kernel refused" },
	{ CTR(stun_forwarded),	"STUN datagrams handed to stund" },
	{ CTR(stun_dropped),	"STUN datagrams dropped: stund down" },
	{ CTR(drop_other),	"datagrams neither STUN nor ours" },
	{ CTR(drop_malformed),	"ours, with a bad header or payload" },
	{ CTR(drop_auth),	"wrong key: tampered or another mesh" },
	{ CTR(drop_replay),	"sequence number seen or too old" },
	{ CTR(drop_unknown),	"authenticated, unknown peer, not PUNCH" },
	{ CTR(drop_self),	"our own node id as sender" },
	{ CTR(drop_misdirected), "punch packets for another node" },
	{ CTR(drop_unproven),	"KEEPALIVE/PING from an unchecked address" },
	{ CTR(peers_full),	"peers refused: table full" },
	{ CTR(drop_downgrade),	"DATA under the mesh key that needs a "
				"session key" },
	{ CTR(drop_nokey),	"session key id unknown or retired" },
	{ CTR(e2e_queue_drops),	"DATA dropped while waiting for a key" },
	{ CTR(join_repeat),	"JOIN_HELLOs of a use already recorded" },
	{ CTR(join_moved),	"repeated JOIN_HELLOs from another address "
				"than the first: relay only" },
	{ CTR(join_limited),	"JOIN_HELLOs unanswered: over the rate" },
	{ CTR(join_refused),	"JOIN_HELLOs refused: expired, used, no "
				"mesh" },
	{ CTR(tun_rx),		"IP packets from peers handed to the mesh "
				"interface (tun_full, tun_refused: of those, "
				"lost)" },
	{ CTR(tun_tx),		"IP packets from the mesh interface sent to "
				"peers" },
	{ CTR(tun_noroute),	"IP packets to an address no member owns" },
	{ CTR(tun_nopath),	"IP packets to a member without a path up" },
	{ CTR(tun_bad_source),	"IP packets from a peer with another source "
				"than its own address" },
	{ CTR(tun_bad_dest),	"IP packets from a peer not to our address" },
	{ CTR(tun_full),	"IP packets dropped: interface queue full" },
	{ CTR(tun_off),		"IP packets while the interface is off or "
				"not set up" },
	{ CTR(tun_refused),	"IP packets the interface refused (not IP)" },
	{ CTR(tun_super_in),	"TCP super-packets read from the interface "
				"(tun_offload), cut into packets" },
	{ CTR(tun_super_out),	"coalesced TCP super-packets written to the "
				"interface (tun_offload)" },
	{ CTR(tun_offload_bad),	"reads from the interface whose offload "
				"header did not fit the packet, dropped" },
	{ CTR(rx_reads),	"recvmmsg calls that returned datagrams" },
	{ CTR(rx_gro_runs),	"UDP_GRO runs among them, cut into datagrams" },
	{ CTR(rx_cut),		"datagrams lost cut at the end of a GRO run" },
	{ CTR(roam_looks),	"roaming: looks for our candidates (an "
				"address, route, path or NAT changed)" },
	{ CTR(roam_changes),	"roaming: our candidates changed, peers "
				"told" },
};
#undef CTR

static void	control_metrics_help(struct punchd *);
/* a counter added to the struct and not here would never be seen */
_Static_assert(sizeof(control_counters) / sizeof(control_counters[0]) ==
    sizeof(struct punchd_counters) / sizeof(uint64_t),
    "every field of struct punchd_counters has a row in control_counters");

static void
control_pack_counters(msgpack_packer *out, struct punchd *pd)
{
	struct control_map	 m;
	msgpack_packer		*pk = control_map_begin(&m, out);
	size_t			 i;

	for (i = 0; i < sizeof(control_counters) /
	    sizeof(control_counters[0]); i++)
		mpack_kv_uint(pk, control_counters[i].key,
		    *(const uint64_t *)((const char *)&pd->ctr +
		    control_counters[i].off));
	mpack_kv_uint(pk, "ipc_requests", ipc_server_stats(pd->ipc)->requests);
	control_map_end(&m);
}

/* ours: host addresses, the gateway's mapping, the STUN ones */
static void
control_pack_candidates(msgpack_packer *pk, struct punchd *pd)
{
	struct sockaddr_storage	 c[PUNCH_MAX_CANDS + 3];
	const char		*type[PUNCH_MAX_CANDS + 3];
	struct control_map	 m;
	int			 i, n;

	n = sock_host_addrs(pd, c, PUNCH_MAX_CANDS);
	for (i = 0; i < n; i++)
		type[i] = "host";
	if (pd->has_mapped) {
		type[n] = "mapped";
		c[n++] = pd->mapped;
	}
	if (pd->has_public4) {
		type[n] = "srflx";
		c[n++] = pd->public4;
	}
	if (pd->has_public6) {
		type[n] = "srflx";
		c[n++] = pd->public6;
	}
	msgpack_pack_array(pk, n);
	for (i = 0; i < n; i++) {
		control_map_begin(&m, pk);
		mpack_kv_str(&m.pk, "type", type[i]);
		control_pack_addr(&m.pk, "address", &c[i], 1);
		control_map_end(&m);
	}
}

/* status.get's result (pd as void *: also the metrics file's source) */
static void
control_pack_status(msgpack_packer *out, void *arg)
{
	struct punchd		*pd = arg;
	struct peer		*p;
	struct control_map	 m;
	msgpack_packer		*pk = control_map_begin(&m, out);
	int			 direct = 0;

	TAILQ_FOREACH(p, &pd->peers, entry)
		direct += peer_is_up(p);
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
	control_pack_candidates(pk, pd);
	control_pack_addr(pk, "public", pd->has_public4 ? &pd->public4 :
	    &pd->public6, pd->has_public4 || pd->has_public6);
	control_pack_addr(pk, "mapped", &pd->mapped, pd->has_mapped);
	mpack_key(pk, "portmap");
	control_pack_portmap(pk, pd);
	mpack_kv_int(pk, "peers", pd->npeers);
	mpack_kv_int(pk, "peers_direct", direct);
	mpack_key(pk, "relays");
	control_pack_relays(pk, pd);
	mpack_key(pk, "counters");
	control_pack_counters(pk, pd);
	control_map_end(&m);
}

static void
control_status(struct ipc_conn *c, uint32_t msgid,
    const msgpack_object *params, void *arg)
{
	(void)params;
	control_pack_status(ipc_reply_start(c, msgid), arg);
	ipc_reply_finish(c);
}

/* ---- peer.list, peer.get ------------------------------------------------- */

static void
control_pack_peer(msgpack_packer *out, struct peer *p, int full)
{
	double			 now = ev_now(p->pd->loop);
	int			 has = p->path.samples > 0;
	struct control_map	 m;
	msgpack_packer		*pk = control_map_begin(&m, out);

	mpack_kv_str(pk, "id", p->bound ? p->idstr : NULL);
	mpack_kv_str(pk, "name", p->name[0] ? p->name : NULL);
	mpack_kv_str(pk, "state", peer_state_str(p->state));
	mpack_kv_str(pk, "path", peer_path(p));
	/* why its path is what it is, when that is not the network's doing */
	if (p->bound && members_relay_only(p->pd, p->id))
		mpack_kv_str(pk, "reason", "browser: no UDP");
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
	mpack_kv_str(pk, "e2e", e2e_session_mode(p));
	mpack_kv_uint(pk, "key_epoch", p->e2e_inited ? p->e2e.epoch : 0);
	mpack_kv_int(pk, "key_id", p->e2e_inited && p->e2e.cur.valid ?
	    p->e2e.cur.id : 0);
	control_pack_relay_error(pk, p);
	if (full) {
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
		control_pack_pairs(pk, p);
	}
	control_map_end(&m);
}

/* peer.list's result (pd as void *: also the metrics file's source) */
static void
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
	node_peer_remove(p);
	ipc_reply_ok(c, msgid);
}

static void
control_send(struct ipc_conn *c, uint32_t msgid, const msgpack_object *params,
    void *arg)
{
	struct peer		*p;
	const char		*data;
	size_t			 len;
	struct control_map	 m;
	int			 r;

	if ((p = control_peer_param(arg, c, msgid, params)) == NULL)
		return;
	if (mpack_get_bin(params, "data", &data, &len) != 0) {
		ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS,
		    "expected {peer, data: bin}");
		return;
	}
	if ((r = link_send_data(p, data, len)) == -2) {
		ipc_reply_error(c, msgid, "too_big", "%zu bytes is over the "
		    "path MTU of %d bytes", len, PUNCHD_MTU);
		return;
	}
	if (r == -1) {
		ipc_reply_error(c, msgid, IPC_ERR_UNAVAILABLE, "peer %s is "
		    "%s: no path", peer_label(p), peer_state_str(p->state));
		return;
	}
	/* never plain success on a path in doubt: say it, and whether the
	 * datagram also went through the relay */
	control_map_begin(&m, ipc_reply_start(c, msgid));
	mpack_kv_str(&m.pk, "path", r == 1 ? "direct+relay" : peer_path(p));
	mpack_kv_uint(&m.pk, "bytes", len);
	if (p->state != PEER_RELAYED && pathwatch_doubted(p)) {
		mpack_kv_str(&m.pk, "health", health_state_name(
		    p->health.state));
		mpack_kv_bool(&m.pk, "also_relay", r == 1);
	}
	control_pack_endpoint(&m.pk, p);
	control_map_end(&m);
	ipc_reply_finish(c);
}

/* ---- events -------------------------------------------------------------- */

static void
control_event_peer(struct punchd *pd, struct peer *p, const char *event,
    const char *reason, const struct sockaddr_storage *previous)
{
	struct control_map m;

	if (pd->ipc == NULL)
		return;
	control_map_begin(&m, ipc_notify_start(pd->ipc, event));
	mpack_kv_str(&m.pk, "peer", peer_label(p));
	mpack_kv_str(&m.pk, "id", p->bound ? p->idstr : NULL);
	mpack_kv_str(&m.pk, "state", peer_state_str(p->state));
	mpack_kv_str(&m.pk, "path", peer_path(p));
	control_pack_endpoint(&m.pk, p);
	control_pack_addr(&m.pk, "previous", previous, previous != NULL);
	mpack_kv_str(&m.pk, "reason", reason);
	mpack_kv_int(&m.pk, "keepalive_failures", p->ka.failures);
	control_map_end(&m);
	ipc_notify_finish(pd->ipc);
}

static void
control_event_data(struct punchd *pd, struct peer *p, const uint8_t *data,
    size_t len)
{
	struct control_map m;

	if (pd->ipc == NULL)
		return;
	control_map_begin(&m, ipc_notify_start(pd->ipc, "peer.data"));
	mpack_kv_str(&m.pk, "peer", peer_label(p));
	mpack_kv_str(&m.pk, "id", p->bound ? p->idstr : NULL);
	mpack_kv_bin(&m.pk, "data", data, len);
	mpack_kv_str(&m.pk, "path", peer_path(p));
	control_map_end(&m);
	ipc_notify_finish(pd->ipc);
}

/* ---- the table ----------------------------------------------------------- */

static const struct ipc_method control_methods[] = {
	{ "status.get",		control_status },
	{ "peer.list",		control_list },
	{ "peer.get",		control_get },
	{ "peer.why",		control_peer_why },
	{ "peer.punch",		control_peer_punch },
	{ "peer.ping",		control_peer_ping },
	{ "peer.send",		control_send },
	{ "peer.remove",	control_remove },
	{ "mesh.init",		control_mesh_init },
	{ "mesh.get",		control_mesh_get },
	{ "mesh.leave",		control_mesh_leave },
	{ "mesh.invite",	control_mesh_invite },
	{ "mesh.join",		control_mesh_join },
	{ "mesh.hosts",		control_mesh_hosts },
};

/* IPC, the events, the stund client and the metrics file */
int
control_init(struct punchd *pd, const char *path)
{
	pd->ipc = ipc_server_new(pd->loop, "punchd", path, control_methods,
	    sizeof(control_methods) / sizeof(control_methods[0]), pd);
	if (pd->ipc == NULL) {
		log_warnx("%s: cannot serve IPC on %s", __func__, path);
		return -1;
	}
	pd->events.peer = control_event_peer;
	pd->events.data = control_event_data;
	control_stund_init(pd);
	if ((pd->metrics = calloc(1, sizeof(*pd->metrics))) == NULL) {
		log_warn("%s: metrics", __func__);
		return -1;
	}
	promfile_init(pd->metrics, pd->loop, "punchd", control_pack_status,
	    control_pack_peers, pd);
	control_metrics_help(pd);
	control_reload(pd);
	return 0;
}

/* the metrics file's help texts: the counter table's */
static void
control_metrics_help(struct punchd *pd)
{
	static struct promtext_help	 help[sizeof(control_counters) /
					    sizeof(control_counters[0])];
	size_t				 i;

	for (i = 0; i < sizeof(help) / sizeof(help[0]); i++) {
		help[i].key = control_counters[i].path;
		help[i].help = control_counters[i].help;
	}
	promfile_help(pd->metrics, help, sizeof(help) / sizeof(help[0]));
}

/* after SIGHUP: the metrics file may have moved */
void
control_reload(struct punchd *pd)
{
	if (pd->metrics != NULL)
		promfile_set(pd->metrics, pd->cfg.metrics_file,
		    pd->cfg.metrics_interval_ms);
}

/* the metrics file first (a stopped daemon's counters are not served),
 * the IPC server last: the core's pending requests are answered before */
void
control_stop_metrics(struct punchd *pd)
{
	if (pd->metrics != NULL) {
		promfile_fini(pd->metrics);
		free(pd->metrics);
		pd->metrics = NULL;
	}
}

void
control_fini(struct punchd *pd)
{
	control_stop_metrics(pd);
	control_stund_fini(pd);
	pd->events.peer = NULL;
	pd->events.data = NULL;
	if (pd->ipc != NULL)
		ipc_server_free(pd->ipc);
	pd->ipc = NULL;
}
