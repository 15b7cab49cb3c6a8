/*
 * peer.punch and peer.ping: the params decoded here, the waiting done by
 * pending.c, the answer packed here when its completion callback comes
 * (the client may have gone by then: the answer is dropped).
 */
#include <string.h>

#include <msgpack.h>

#include "common/ipc.h"
#include "common/relay_client.h"
#include "common/mpack.h"
#include "control.h"
#include "pending.h"
#include "punchd.h"

/* "HOST:PORT", or a name resolved here, once, blocking (never per packet) */
static int
control_peer_addr(const char *s, struct sockaddr_storage *ss)
{
	char err[256];

	if (netaddr_parse(s, 7777, ss) == 0)
		return 0;
	return netaddr_resolve(s, 7777, AF_UNSPEC, ss, 1, err,
	    sizeof(err)) == 1 ? 0 : -1;
}

static int
control_peer_name_ok(const char *s)
{
	if (*s == '\0' || !strcmp(s, "-"))
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

/* the error of a request that waited names its peer */
static void
control_peer_failed(struct ipc_conn *c, uint32_t msgid, struct peer *p,
    const struct result *err)
{
	ipc_reply_error(c, msgid, control_code(err->code), "%s: %s",
	    peer_label(p), err->msg);
}

static void
control_punch_done(void *arg, struct peer *p, const struct pending_res *res,
    const struct result *err)
{
	struct control_map	 m;
	struct ipc_conn		*c;
	uint32_t		 msgid;

	if ((c = control_wait_end(arg, &msgid)) == NULL)
		return;		/* the client went away */
	if (err != NULL) {
		control_peer_failed(c, msgid, p, err);
		return;
	}
	control_map_begin(&m, ipc_reply_start(c, msgid));
	mpack_kv_str(&m.pk, "peer", peer_label(p));
	mpack_kv_str(&m.pk, "id", p->bound ? p->idstr : NULL);
	mpack_kv_str(&m.pk, "state", peer_state_str(p->state));
	mpack_kv_str(&m.pk, "path", peer_path(p));
	control_pack_endpoint(&m.pk, p);
	mpack_kv_double(&m.pk, "elapsed_ms", res->elapsed * 1000);
	control_pack_ms(&m.pk, "rtt_ms", p->path.srtt, p->path.samples > 0);
	control_map_end(&m);
	ipc_reply_finish(c);
}

/* the candidates of peer.punch: endpoint, then the list; 0 or -1 (replied) */
static int
control_punch_cands(struct ipc_conn *c, uint32_t msgid,
    const msgpack_object *params, struct pending_punch_req *req)
{
	const msgpack_object	*list;
	char			 ep[300];
	uint32_t		 i;

	if (mpack_get_str(params, "endpoint", ep, sizeof(ep)) == 0) {
		if (control_peer_addr(ep, &req->cands[req->ncands]) == -1) {
			ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS,
			    "endpoint '%s' is not HOST:PORT", ep);
			return -1;
		}
		req->ncands++;
	}
	if ((list = mpack_get(params, "candidates")) == NULL)
		return 0;
	if (list->type != MSGPACK_OBJECT_ARRAY)
		return 1;
	for (i = 0; i < list->via.array.size && req->ncands < PUNCH_MAX_CANDS;
	    i++) {
		if (mpack_str_copy(&list->via.array.ptr[i], ep,
		    sizeof(ep)) == -1 || control_peer_addr(ep,
		    &req->cands[req->ncands]) == -1) {
			ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS,
			    "candidate %u is not HOST:PORT", i);
			return -1;
		}
		req->ncands++;
	}
	return 0;
}

void
control_peer_punch(struct ipc_conn *c, uint32_t msgid,
    const msgpack_object *params, void *arg)
{
	struct punchd			*pd = arg;
	struct pending_punch_req	 req;
	struct control_wait		*w;
	struct result			 err;
	char				 name[PUNCHD_NAME_LEN];
	int64_t				 timeout = pd->cfg.punch_timeout_ms;
	int				 r;

	memset(&req, 0, sizeof(req));
	if (mpack_get_str(params, "peer", name, sizeof(name)) != 0 ||
	    mpack_get_int(params, "timeout_ms", &timeout) == -1 ||
	    timeout < 1 || timeout > 600000)
		goto bad;
	if (!control_peer_name_ok(name)) {
		ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS, "peer names are "
		    "1..%d printable characters without spaces",
		    PUNCHD_NAME_LEN - 1);
		return;
	}
	if ((r = control_punch_cands(c, msgid, params, &req)) == -1)
		return;
	if (r == 1)
		goto bad;
	req.name = name;
	req.timeout = timeout / 1000.0;
	if ((w = control_wait_new(pd, c, msgid)) == NULL)
		return;
	if (pending_punch(pd, &req, control_punch_done, w, &err) == -1) {
		control_wait_end(w, &msgid);
		control_error(c, msgid, &err);
	}
	return;
bad:
	ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS, "expected {peer, "
	    "endpoint?: \"HOST:PORT\", candidates?: [..], timeout_ms?: "
	    "1..600000}");
}

static void
control_ping_done(void *arg, struct peer *p, const struct pending_res *res,
    const struct result *err)
{
	struct control_map	 m;
	struct ipc_conn		*c;
	uint32_t		 msgid;
	msgpack_packer		*pk;
	int			 i, lost = 0;

	if ((c = control_wait_end(arg, &msgid)) == NULL)
		return;
	if (err != NULL) {
		control_peer_failed(c, msgid, p, err);
		return;
	}
	pk = control_map_begin(&m, ipc_reply_start(c, msgid));
	mpack_kv_str(pk, "peer", peer_label(p));
	mpack_kv_str(pk, "path", peer_path(p));
	control_pack_endpoint(pk, p);
	mpack_key(pk, "rtt_ms");
	msgpack_pack_array(pk, res->got);
	for (i = 0; i < res->sent; i++)
		if (res->rtt[i] > 0)
			msgpack_pack_double(pk, res->rtt[i] * 1000);
		else
			lost++;
	mpack_kv_int(pk, "sent", res->sent);
	mpack_kv_int(pk, "lost", lost);
	control_map_end(&m);
	ipc_reply_finish(c);
}

void
control_peer_ping(struct ipc_conn *c, uint32_t msgid,
    const msgpack_object *params, void *arg)
{
	struct punchd		*pd = arg;
	struct control_wait	*w;
	struct result		 err;
	struct peer		*p;
	int64_t			 count = 3;

	if ((p = control_peer_param(pd, c, msgid, params)) == NULL)
		return;
	if (mpack_get_int(params, "count", &count) == -1 || count < 1 ||
	    count > PENDING_PING_MAX) {
		ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS,
		    "count: 1..%d", PENDING_PING_MAX);
		return;
	}
	if ((w = control_wait_new(pd, c, msgid)) == NULL)
		return;
	if (pending_ping(p, (int)count, control_ping_done, w, &err) == -1) {
		control_wait_end(w, &msgid);
		control_error(c, msgid, &err);
	}
}

/* ---- peer.why: everything that says why a pair is (not) direct ---------- */

static void
control_why_ours(msgpack_packer *out, struct punchd *pd)
{
	struct sockaddr_storage	 host[PUNCH_MAX_CANDS];
	struct control_map	 m;
	msgpack_packer		*pk = control_map_begin(&m, out);
	char			 a[NETADDR_STRLEN];
	int			 i, n;

	n = sock_host_addrs(pd, host, PUNCH_MAX_CANDS);
	mpack_key(pk, "host");
	msgpack_pack_array(pk, n);
	for (i = 0; i < n; i++)
		mpack_pack_str(pk, netaddr_str((struct sockaddr *)&host[i], a,
		    sizeof(a)));
	control_pack_addr(pk, "srflx4", &pd->public4, pd->has_public4);
	control_pack_addr(pk, "srflx6", &pd->public6, pd->has_public6);
	mpack_kv_bool(pk, "stund", pd->stund_up);
	control_map_end(&m);
}

static void
control_why_health(msgpack_packer *out, struct peer *p)
{
	double			 now = punchd_time(p->pd);
	struct control_map	 m;
	msgpack_packer		*pk = control_map_begin(&m, out);

	mpack_kv_str(pk, "state", p->watching ?
	    health_state_name(p->health.state) : NULL);
	mpack_key(pk, "last_heard_s");
	if (p->watching)
		msgpack_pack_double(pk, now - p->health.last_heard);
	else
		msgpack_pack_nil(pk);
	mpack_kv_uint(pk, "probes", p->health.probes);
	mpack_kv_uint(pk, "doubts", p->health.doubts);
	mpack_kv_uint(pk, "deaths", p->health.deaths);
	mpack_kv_uint(pk, "recoveries", p->health.recoveries);
	mpack_kv_double(pk, "keepalive_interval_s", p->ka.interval);
	mpack_kv_double(pk, "lifetime_interval_s",
	    lifetime_interval(&p->life));
	mpack_kv_double(pk, "lifetime_survived_s", p->life.survived);
	mpack_kv_double(pk, "lifetime_died_s", p->life.died);
	mpack_kv_uint(pk, "relay_copies", p->relay_copies);
	control_map_end(&m);
}

/* a side's NAT behaviour (hardnat.h), nil when not known */
static void
control_why_nat(msgpack_packer *pk, const char *key,
    const struct hardnat_behav *b)
{
	struct control_map	 m;
	char			 s[200];

	mpack_key(pk, key);
	if (b == NULL || !b->known) {
		msgpack_pack_nil(pk);
		return;
	}
	pk = control_map_begin(&m, pk);
	mpack_kv_str(pk, "mapping", b->mapping);
	mpack_kv_str(pk, "filtering", b->filtering);
	mpack_kv_str(pk, "alloc", b->alloc);
	mpack_kv_int(pk, "delta", b->delta);
	mpack_kv_uint(pk, "last_port", b->last_port);
	mpack_kv_double(pk, "confidence", b->confidence);
	hardnat_behav_str(b, s, sizeof(s));
	mpack_kv_str(pk, "text", s);
	control_map_end(&m);
}

/* both NAT behaviours, the hard-NAT strategy and its last run */
static void
control_why_hardnat(msgpack_packer *pk, struct peer *p)
{
	control_why_nat(pk, "nat_ours", &p->pd->nat_ours);
	control_why_nat(pk, "nat_theirs", hardnat_theirs(p));
	mpack_kv_str(pk, "hardnat", hardnat_strategy_why(p));
	mpack_kv_str(pk, "hardnat_result", hardnat_result(p));
	mpack_kv_uint(pk, "hardnat_probes", hardnat_probes(p));
}

void
control_peer_why(struct ipc_conn *c, uint32_t msgid,
    const msgpack_object *params, void *arg)
{
	struct punchd		*pd = arg;
	struct peer		*p;
	struct control_map	 m;
	msgpack_packer		*pk;
	char			 why[400];

	if ((p = control_peer_param(pd, c, msgid, params)) == NULL)
		return;
	failover_why(p, why, sizeof(why));
	pk = control_map_begin(&m, ipc_reply_start(c, msgid));
	mpack_kv_str(pk, "peer", peer_label(p));
	mpack_kv_str(pk, "id", p->bound ? p->idstr : NULL);
	mpack_kv_str(pk, "state", peer_state_str(p->state));
	mpack_kv_str(pk, "path", peer_path(p));
	control_pack_endpoint(pk, p);
	mpack_kv_str(pk, "reason", why);
	mpack_key(pk, "ours");
	control_why_ours(pk, pd);
	mpack_key(pk, "pairs");
	control_pack_pairs(pk, p);
	mpack_kv_str(pk, "punch", punch_state_str(p->punch.state));
	mpack_kv_int(pk, "attempts", p->attempts);
	mpack_key(pk, "health");
	control_why_health(pk, p);
	mpack_kv_str(pk, "relay", relay_url(p));
	mpack_kv_str(pk, "relay_state", p->relay != NULL ?
	    relay_client_state_str(relay_client_state(p->relay)) : NULL);
	mpack_kv_str(pk, "lost", p->lost_why[0] ? p->lost_why : NULL);
	control_why_hardnat(pk, p);
	control_map_end(&m);
	ipc_reply_finish(c);
}
