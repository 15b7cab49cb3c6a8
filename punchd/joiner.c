/*
 * The joiner's side of the join handshake (mesh.join, `meshctl join`):
 * one path per request, as meshctl asks for them in turn (local, public,
 * relay):
 *
 *   hello    JOIN_HELLO to the path's endpoint (UDP, or the invite's relay
 *            session) every JOIN_RESEND until JOIN_WELCOME, JOIN_REFUSE or
 *            the path's timeout;
 *   connect  WELCOME opened: the mesh is ours (saved, new packet key), the
 *            inviter is a peer, punched where the WELCOME came from (or
 *            met in the pair's relay session); the answer goes out when
 *            the path to it is direct, or at connect_ms with whatever
 *            path there is (relayed, or none yet: punchd keeps trying).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <msgpack.h>
#include <sodium.h>

#include "common/ipc.h"
#include "common/log.h"
#include "common/mpack.h"
#include "common/relay_client.h"
#include "proto/invite.h"
#include "proto/relaymsg.h"
#include "control.h"
#include "punchd.h"

#define JOIN_RESEND	0.25	/* s between HELLOs */

enum { JOIN_LOCAL, JOIN_PUBLIC, JOIN_RELAY };
static const char *const join_paths[] = { "local", "public", "relay" };

struct join_attempt {
	struct punchd		*pd;
	uint64_t		 conn;
	uint32_t		 msgid;
	struct invite		 inv;
	int			 path;
	char			 via[300];	/* endpoint or relay URL */
	struct sockaddr_storage	 to;
	struct relay_client	*relay;
	uint8_t			 key[32];
	uint8_t			 txid[JOIN_TXID_LEN];
	char			 name[JOIN_NAME_MAX + 1];
	int			 connecting;
	char			 refused[200];	/* answered by the timer */
	double			 started, welcomed;
	double			 connect_s;
	ev_timer		 resend, deadline;
};

static void
join_free(struct join_attempt *j)
{
	struct punchd *pd = j->pd;

	ev_timer_stop(pd->loop, &j->resend);
	ev_timer_stop(pd->loop, &j->deadline);
	if (j->relay != NULL) {
		relay_client_stop(j->relay);
		relay_client_free(j->relay);
	}
	invite_clear(&j->inv);
	sodium_memzero(j->key, sizeof(j->key));
	if (pd->mesh.join == j)
		pd->mesh.join = NULL;
	free(j);
}

static struct ipc_conn *
join_conn(struct join_attempt *j)
{
	return j->pd->ipc != NULL ? ipc_server_conn(j->pd->ipc, j->conn) : NULL;
}

static void
join_fail(struct join_attempt *j, const char *code, const char *msg)
{
	struct ipc_conn *c;

	if ((c = join_conn(j)) != NULL)
		ipc_reply_error(c, j->msgid, code, "%s", msg);
	join_free(j);
}

/* Joined: answer with the path to the inviter as it is now. */
static void
join_done(struct join_attempt *j)
{
	struct punchd	*pd = j->pd;
	struct ipc_conn	*c;
	struct peer	*p = peer_find_id(pd, j->inv.inviter_id);
	msgpack_packer	*pk;
	char		 mid[2 * JOIN_MESH_ID_LEN + 1];
	double		 now = ev_time();

	if ((c = join_conn(j)) != NULL) {
		sodium_bin2hex(mid, sizeof(mid), pd->mesh.id,
		    sizeof(pd->mesh.id));
		pk = ipc_reply_start(c, j->msgid);
		msgpack_pack_map(pk, 10);
		mpack_kv_str(pk, "mesh", pd->mesh.name);
		mpack_kv_str(pk, "mesh_id", mid);
		mpack_kv_str(pk, "path", join_paths[j->path]);
		mpack_kv_str(pk, "via", j->via);
		mpack_kv_str(pk, "inviter", p != NULL ? p->idstr : NULL);
		mpack_kv_str(pk, "state", p != NULL ?
		    peer_state_str(p->state) : NULL);
		mpack_kv_str(pk, "peer_path", p != NULL ? control_path(p) :
		    NULL);
		if (p != NULL)
			control_pack_endpoint(pk, p);
		else
			mpack_kv_str(pk, "endpoint", NULL);
		mpack_kv_double(pk, "welcome_ms", (j->welcomed - j->started) *
		    1000);
		mpack_kv_double(pk, "elapsed_ms", (now - j->started) * 1000);
		ipc_reply_finish(c);
	}
	join_free(j);
}

void
join_cancel(struct punchd *pd, const char *why)
{
	if (pd->mesh.join != NULL)
		join_fail(pd->mesh.join, IPC_ERR_UNAVAILABLE, why);
}

static void
join_send_hello(struct join_attempt *j)
{
	struct punchd		*pd = j->pd;
	struct join_hello	 h;
	uint8_t			 buf[256];
	int			 n;

	if (j->path == JOIN_RELAY && (j->relay == NULL ||
	    relay_client_state(j->relay) != RELAY_CLIENT_CONNECTED))
		return;
	memset(&h, 0, sizeof(h));
	memcpy(h.txid, j->txid, JOIN_TXID_LEN);
	memcpy(h.pk, pd->mesh.pk, JOIN_PK_LEN);
	strlcpy(h.name, j->name, sizeof(h.name));
	join_hello_sign(&h, pd->node_id, pd->mesh.sk);
	if ((n = join_hello_encode(buf, sizeof(buf), &h)) < 0)
		return;
	mesh_send_keyed(pd, PACKET_JOIN_HELLO, j->key, buf, n,
	    j->path == JOIN_RELAY ? NULL : (struct sockaddr *)&j->to,
	    j->relay);
}

static void
join_resend_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct join_attempt *j = w->data;

	(void)loop;
	(void)revents;
	if (!j->connecting)
		join_send_hello(j);
}

static void
join_deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct join_attempt	*j = w->data;
	char			 msg[400];

	(void)loop;
	(void)revents;
	if (j->refused[0] != '\0') {
		join_fail(j, "refused", j->refused);
		return;
	}
	if (j->connecting) {
		join_done(j);	/* joined; the path is what it is */
		return;
	}
	snprintf(msg, sizeof(msg), "no answer from %s within %.0f ms",
	    j->via, (ev_time() - j->started) * 1000);
	join_fail(j, IPC_ERR_TIMEOUT, msg);
}

static void
join_relay_frame(void *arg, const void *data, size_t len)
{
	struct join_attempt	*j = arg;
	uint8_t			 buf[PACKET_OVERHEAD + PUNCHD_MTU];

	if (relaymsg_kind(data, len) != RELAYMSG_KIND_DATA ||
	    len > sizeof(buf) || !packet_is_ours(data, len))
		return;
	memcpy(buf, data, len);
	join_input(j->pd, buf, len, NULL);
}

static void
join_relay_state(void *arg, enum relay_client_state state, const char *url)
{
	struct join_attempt *j = arg;

	(void)url;
	if (state == RELAY_CLIENT_CONNECTED && !j->connecting)
		join_send_hello(j);
}

static int
join_relay_start(struct join_attempt *j)
{
	struct punchd		*pd = j->pd;
	struct relay_client_url	 url;
	struct relay_client_cfg	 cfg;
	char			 session[33];

	join_session(session, j->inv.secret);
	url.url = j->inv.ep_relay;
	url.region = NULL;
	memset(&cfg, 0, sizeof(cfg));
	cfg.urls = &url;
	cfg.nurls = 1;
	cfg.session = session;
	cfg.token = pd->cfg.relay_token[0] ? pd->cfg.relay_token : NULL;
	cfg.on_frame = join_relay_frame;
	cfg.on_state = join_relay_state;
	cfg.arg = j;
	if ((j->relay = relay_client_new(pd->loop, &cfg)) == NULL)
		return -1;
	relay_client_start(j->relay);
	return 0;
}

/* WELCOME: the mesh is ours; the inviter becomes a peer. */
static void
join_welcome(struct join_attempt *j, const uint8_t *pl, size_t plen,
    const struct sockaddr *from)
{
	struct punchd		*pd = j->pd;
	struct join_welcome	 w;
	struct sockaddr_storage	 cands[4];
	uint8_t			 secret[JOIN_SECRET_LEN];
	struct peer		*p;
	char			 idstr[2 * JOIN_ID_LEN + 1], a[80];
	int			 n = 0, r;

	if (join_welcome_decode(pl, plen, &w) != 0 ||
	    memcmp(w.txid, j->txid, JOIN_TXID_LEN) != 0 ||
	    memcmp(w.mesh_id, j->inv.mesh_id, JOIN_MESH_ID_LEN) != 0) {
		pd->ctr.drop_malformed++;
		return;
	}
	if ((r = join_welcome_open(&w, pd->node_id, pd->mesh.pk, pd->mesh.sk,
	    j->inv.inviter_pk, secret)) != 0) {
		log_warnx("join: a WELCOME %s (ignored)", r == -1 ?
		    "not signed by the inviter" : "that does not open");
		pd->ctr.drop_auth++;
		return;
	}
	j->welcomed = ev_time();
	r = mesh_adopt(pd, w.mesh_name[0] ? w.mesh_name : j->inv.mesh_name,
	    w.mesh_id, secret);
	sodium_memzero(secret, sizeof(secret));
	if (r == -1) {
		join_fail(j, IPC_ERR_INTERNAL, "cannot save the mesh");
		return;
	}
	if (j->inv.ep_relay[0] != '\0')
		mesh_set_relay(pd, j->inv.ep_relay);
	mesh_member_set(pd, j->inv.inviter_id, j->inv.inviter_pk, NULL);
	sodium_bin2hex(idstr, sizeof(idstr), j->inv.inviter_id, JOIN_ID_LEN);
	if ((p = peer_find_id(pd, j->inv.inviter_id)) == NULL &&
	    (p = peer_create(pd, idstr)) == NULL) {
		join_fail(j, IPC_ERR_UNAVAILABLE, "peer table full");
		return;
	}
	if (from != NULL) {
		memset(&cands[n], 0, sizeof(cands[n]));
		memcpy(&cands[n++], from, netaddr_len(from));
	}
	/* the code's endpoints too: one of them may be the better path */
	if (j->inv.ep_local.family != INVITE_AF_NONE &&
	    netaddr_parse(invite_addr_str(&j->inv.ep_local, NULL, a,
	    sizeof(a)), 0, &cands[n]) == 0)
		n++;
	if (j->inv.ep_public.family != INVITE_AF_NONE &&
	    netaddr_parse(invite_addr_str(&j->inv.ep_public, NULL, a,
	    sizeof(a)), 0, &cands[n]) == 0)
		n++;
	log_notice("joined mesh '%s' through %s; inviter %s", pd->mesh.name,
	    join_paths[j->path], idstr);
	j->connecting = 1;
	ev_timer_stop(pd->loop, &j->resend);
	if (j->relay != NULL)
		relay_client_stop(j->relay);	/* freed with j, not here */
	ev_timer_stop(pd->loop, &j->deadline);
	ev_timer_set(&j->deadline, j->connect_s, 0);
	ev_timer_start(pd->loop, &j->deadline);
	peer_punch(p, cands, n);
	store_changed(pd);
}

void
join_input(struct punchd *pd, uint8_t *buf, size_t len,
    const struct sockaddr *from)
{
	struct join_attempt	*j = pd->mesh.join;
	struct join_refuse	 r;
	struct packet_hdr	 h;
	const uint8_t		*pl;
	size_t			 plen;

	if (j == NULL || j->connecting || j->refused[0] != '\0') {
		pd->ctr.drop_unknown++;
		return;
	}
	if (packet_decode(buf, len, j->key, &h, &pl, &plen) != 0 ||
	    memcmp(h.sender, j->inv.inviter_id, JOIN_ID_LEN) != 0) {
		pd->ctr.drop_auth++;
		return;
	}
	if (h.type == PACKET_JOIN_WELCOME) {
		join_welcome(j, pl, plen, from);
		return;
	}
	if (h.type != PACKET_JOIN_REFUSE || join_refuse_decode(pl, plen, &r)
	    != 0 || memcmp(r.txid, j->txid, JOIN_TXID_LEN) != 0) {
		pd->ctr.drop_malformed++;
		return;
	}
	snprintf(j->refused, sizeof(j->refused), "the inviter refused: %s",
	    join_reason_str(r.reason));
	log_notice("join: %s", j->refused);
	/* maybe inside the relay client's callback, which must not free it:
	 * the deadline timer answers at once instead */
	ev_timer_stop(pd->loop, &j->resend);
	if (j->relay != NULL)
		relay_client_stop(j->relay);
	ev_timer_stop(pd->loop, &j->deadline);
	ev_timer_set(&j->deadline, 0, 0);
	ev_timer_start(pd->loop, &j->deadline);
}

void
join_peer_up(struct peer *p)
{
	struct join_attempt *j = p->pd->mesh.join;

	if (j == NULL || !j->connecting ||
	    memcmp(p->id, j->inv.inviter_id, JOIN_ID_LEN) != 0)
		return;
	if (p->state == PEER_DIRECT)
		join_done(j);
	/* relayed: wait for direct until the deadline */
}

void
join_ctl_join(struct ipc_conn *c, uint32_t msgid,
    const struct msgpack_object *params, void *arg)
{
	struct punchd		*pd = arg;
	struct join_attempt	*j;
	char			 token[INVITE_URI_MAX], path[16], err[200];
	char			 a[80];
	int64_t			 timeout = 3000, connect = 5000;
	int			 force = 0, r;

	if ((j = calloc(1, sizeof(*j))) == NULL) {
		ipc_reply_error(c, msgid, IPC_ERR_INTERNAL, "out of memory");
		return;
	}
	if (mpack_get_str(params, "token", token, sizeof(token)) != 0 ||
	    mpack_get_str(params, "path", path, sizeof(path)) != 0 ||
	    mpack_get_int(params, "timeout_ms", &timeout) == -1 ||
	    mpack_get_int(params, "connect_ms", &connect) == -1 ||
	    mpack_get_str(params, "name", j->name, sizeof(j->name)) == -1 ||
	    mpack_get_bool(params, "force", &force) == -1 ||
	    timeout < 1 || timeout > 600000 || connect < 0 ||
	    connect > 600000) {
		free(j);
		ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS, "expected {token, "
		    "path: local|public|relay, timeout_ms?, connect_ms?, "
		    "name?, force?}");
		return;
	}
	for (j->path = 0; j->path < 3; j->path++)
		if (!strcmp(path, join_paths[j->path]))
			break;
	r = invite_parse(token, (uint64_t)time(NULL), &j->inv, err,
	    sizeof(err));
	sodium_memzero(token, sizeof(token));
	if (j->path == 3 || r != INVITE_OK) {
		ipc_reply_error(c, msgid, r == INVITE_ERR_EXPIRED ? "expired" :
		    IPC_ERR_BAD_PARAMS, "%s", j->path == 3 ? "path is local, "
		    "public or relay" : err);
		invite_clear(&j->inv);
		free(j);
		return;
	}
	if (pd->mesh.join != NULL || (pd->mesh.have && !force)) {
		ipc_reply_error(c, msgid, pd->mesh.join != NULL ?
		    IPC_ERR_UNAVAILABLE : "exists", pd->mesh.join != NULL ?
		    "a join is already under way" : "this node is already in "
		    "mesh '%s' (meshctl leave first, or join --force)",
		    pd->mesh.name);
		invite_clear(&j->inv);
		free(j);
		return;
	}
	if (!memcmp(j->inv.inviter_id, pd->node_id, JOIN_ID_LEN)) {
		ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS, "this invite "
		    "was made by this node");
		invite_clear(&j->inv);
		free(j);
		return;
	}
	j->pd = pd;
	j->conn = ipc_conn_id(c);
	j->msgid = msgid;
	j->started = ev_time();
	j->connect_s = connect / 1000.0;
	join_key(j->key, j->inv.secret);
	join_txid(j->txid, j->inv.secret, pd->node_id);
	ev_init(&j->resend, join_resend_cb);
	ev_init(&j->deadline, join_deadline_cb);
	j->resend.data = j->deadline.data = j;
	if (mesh_node_key(pd) == -1) {
		join_fail(j, IPC_ERR_INTERNAL, "cannot write the node key");
		return;
	}
	switch (j->path) {
	case JOIN_LOCAL:
	case JOIN_PUBLIC:
		invite_addr_str(j->path == JOIN_LOCAL ? &j->inv.ep_local :
		    &j->inv.ep_public, "udp://", j->via, sizeof(j->via));
		if (j->via[0] == '\0' || netaddr_parse(invite_addr_str(
		    j->path == JOIN_LOCAL ? &j->inv.ep_local :
		    &j->inv.ep_public, NULL, a, sizeof(a)), 0, &j->to) == -1) {
			snprintf(err, sizeof(err), "the invite has no %s "
			    "endpoint", path);
			join_fail(j, IPC_ERR_NOT_FOUND, err);
			return;
		}
		break;
	case JOIN_RELAY:
		strlcpy(j->via, j->inv.ep_relay, sizeof(j->via));
		if (j->via[0] == '\0') {
			join_fail(j, IPC_ERR_NOT_FOUND, "the invite has no "
			    "relay");
			return;
		}
		if (join_relay_start(j) == -1) {
			join_fail(j, IPC_ERR_UNAVAILABLE, "relay client");
			return;
		}
		break;
	}
	pd->mesh.join = j;
	ev_timer_set(&j->resend, 0, JOIN_RESEND);
	ev_timer_start(pd->loop, &j->resend);
	ev_timer_set(&j->deadline, timeout / 1000.0, 0);
	ev_timer_start(pd->loop, &j->deadline);
	log_info("join: mesh '%s' via %s", j->inv.mesh_name, path);
}
