/*
 * The joiner's side of the join handshake (mesh.join, `meshctl join`),
 * answered through the caller's completion callback:
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

#include <sodium.h>

#include "common/log.h"
#include "common/relay_client.h"
#include "proto/invite.h"
#include "punchd.h"
#include "inviter.h"
#include "joiner.h"

#define JOIN_RESEND	0.25	/* s between HELLOs */

enum { JOIN_LOCAL, JOIN_PUBLIC, JOIN_RELAY };
static const char *const joiner_paths[] = { "local", "public", "relay" };

struct joiner {
	struct punchd		*pd;
	joiner_done_fn		*done;
	void			*arg;
	struct invite		 inv;
	int			 path;
	char			 via[300];	/* endpoint or relay URL */
	struct sockaddr_storage	 to;
	struct relay_client	*relay;
	uint8_t			 key[32];
	uint8_t			 txid[JOIN_TXID_LEN];
	char			 name[JOIN_NAME_MAX + 1];
	int			 connecting;
	char			 refused[256];	/* answered by the timer */
	enum result_code	 refused_code;	/* 0: RESULT_REFUSED */
	double			 started, welcomed;
	double			 connect_s;
	ev_timer		 resend, deadline;
};

static void
joiner_free(struct joiner *j)
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

static void
joiner_fail(struct joiner *j, enum result_code code, const char *msg)
{
	struct result err;

	result_set(&err, code, "%s", msg);
	j->done(j->arg, NULL, &err);
	joiner_free(j);
}

/* Joined: answer with the path to the inviter as it is now. */
static void
joiner_done(struct joiner *j)
{
	struct punchd		*pd = j->pd;
	struct joiner_res	 res;

	memset(&res, 0, sizeof(res));
	res.peer = peer_find_id(pd, j->inv.inviter_id);
	res.mesh = pd->mesh.name;
	sodium_bin2hex(res.mesh_id, sizeof(res.mesh_id), pd->mesh.id,
	    sizeof(pd->mesh.id));
	res.path = joiner_paths[j->path];
	res.via = j->via;
	res.welcome_ms = (j->welcomed - j->started) * 1000;
	res.elapsed_ms = (punchd_time(j->pd) - j->started) * 1000;
	j->done(j->arg, &res, NULL);
	joiner_free(j);
}

void
joiner_cancel(struct punchd *pd, const char *why)
{
	if (pd->mesh.join != NULL)
		joiner_fail(pd->mesh.join, RESULT_UNAVAILABLE, why);
}

static void
joiner_send_hello(struct joiner *j)
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
	tx_send_keyed(pd, PACKET_JOIN_HELLO, j->key, buf, n,
	    j->path == JOIN_RELAY ? NULL : (struct sockaddr *)&j->to,
	    j->relay);
}

static void
joiner_resend_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct joiner *j = w->data;

	(void)loop;
	(void)revents;
	if (!j->connecting)
		joiner_send_hello(j);
}

static void
joiner_deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct joiner	*j = w->data;
	char			 msg[400];

	(void)loop;
	(void)revents;
	if (j->refused[0] != '\0') {
		joiner_fail(j, j->refused_code ? j->refused_code :
		    RESULT_REFUSED, j->refused);
		return;
	}
	if (j->connecting) {
		joiner_done(j);	/* joined; the path is what it is */
		return;
	}
	snprintf(msg, sizeof(msg), "no answer from %s within %.0f ms",
	    j->via, (punchd_time(j->pd) - j->started) * 1000);
	joiner_fail(j, RESULT_TIMEOUT, msg);
}

static void
joiner_relay_frame(void *arg, const void *data, size_t len)
{
	struct joiner	*j = arg;
	uint8_t		 buf[PACKET_OVERHEAD + PUNCHD_MTU];

	if ((len = relay_frame_packet(data, len, buf, sizeof(buf))) > 0)
		joiner_input(j->pd, buf, len, NULL);
}

/* The relay refused us: no use waiting for the timeout, say why now. */
static void
joiner_relay_refused(struct joiner *j, const struct relay_client_refusal *r)
{
	char msg[200];

	relay_access_say(j->pd, r->url, r->text, msg, sizeof(msg));
	snprintf(j->refused, sizeof(j->refused), "%s: %s", msg,
	    relay_access_hint(r->reason));
	j->refused_code = RESULT_RELAY_REFUSED;
	/* inside the relay client's callback, which must not free it: the
	 * deadline timer answers at once instead */
	ev_timer_stop(j->pd->loop, &j->resend);
	relay_client_stop(j->relay);
	ev_timer_stop(j->pd->loop, &j->deadline);
	ev_timer_set(&j->deadline, 0, 0);
	ev_timer_start(j->pd->loop, &j->deadline);
}

static void
joiner_relay_state(void *arg, enum relay_client_state state, const char *url)
{
	struct joiner			 *j = arg;
	const struct relay_client_refusal *r;

	(void)url;
	if (state == RELAY_CLIENT_CONNECTED && !j->connecting)
		joiner_send_hello(j);
	else if (state == RELAY_CLIENT_BACKOFF && !j->connecting &&
	    j->refused[0] == '\0' && (r = relay_client_refusal(j->relay))
	    != NULL)
		joiner_relay_refused(j, r);
}

static int
joiner_relay_start(struct joiner *j)
{
	/* the invite's relay token, when the inviter handed one on */
	j->relay = relay_join_open_token(j->pd, j->inv.ep_relay, j->inv.secret,
	    j->inv.relay_token[0] ? j->inv.relay_token : NULL,
	    joiner_relay_frame, joiner_relay_state, j);
	return j->relay != NULL ? 0 : -1;
}

/* WELCOME: the mesh is ours; the inviter becomes a peer. */
static void
joiner_welcome(struct joiner *j, const uint8_t *pl, size_t plen,
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
	j->welcomed = punchd_time(j->pd);
	r = mesh_adopt(pd, w.mesh_name[0] ? w.mesh_name : j->inv.mesh_name,
	    w.mesh_id, secret);
	sodium_memzero(secret, sizeof(secret));
	if (r == -1) {
		joiner_fail(j, RESULT_INTERNAL, "cannot save the mesh");
		return;
	}
	inviter_reset(pd);
	if (j->inv.ep_relay[0] != '\0')
		mesh_set_relay(pd, j->inv.ep_relay);
	if (j->inv.relay_token[0] != '\0')
		relay_access_keep(pd, j->inv.relay_token);
	members_set(pd, j->inv.inviter_id, j->inv.inviter_pk, NULL);
	sodium_bin2hex(idstr, sizeof(idstr), j->inv.inviter_id, JOIN_ID_LEN);
	if ((p = peer_find_id(pd, j->inv.inviter_id)) == NULL &&
	    (p = peer_create(pd, idstr)) == NULL) {
		joiner_fail(j, RESULT_UNAVAILABLE, "peer table full");
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
	    joiner_paths[j->path], idstr);
	j->connecting = 1;
	ev_timer_stop(pd->loop, &j->resend);
	if (j->relay != NULL)
		relay_client_stop(j->relay);	/* freed with j, not here */
	ev_timer_stop(pd->loop, &j->deadline);
	ev_timer_set(&j->deadline, j->connect_s, 0);
	ev_timer_start(pd->loop, &j->deadline);
	link_punch(p, cands, n);
	store_changed(pd);
}

void
joiner_input(struct punchd *pd, uint8_t *buf, size_t len,
    const struct sockaddr *from)
{
	struct joiner	*j = pd->mesh.join;
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
		joiner_welcome(j, pl, plen, from);
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
joiner_peer_up(struct peer *p)
{
	struct joiner *j = p->pd->mesh.join;

	if (j == NULL || !j->connecting ||
	    memcmp(p->id, j->inv.inviter_id, JOIN_ID_LEN) != 0)
		return;
	if (p->state == PEER_DIRECT)
		joiner_done(j);
	/* relayed: wait for direct until the deadline */
}

/*
 * mesh.join: 0 when the attempt runs (done is called once, later), or -1
 * with err (done is not called).
 */
int
joiner_start(struct punchd *pd, const struct joiner_req *req,
    joiner_done_fn *done, void *arg, struct result *err)
{
	struct joiner	*j;
	char		 msg[200], a[80];
	int		 r;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return result_set(err, RESULT_INTERNAL, "out of memory");
	strlcpy(j->name, req->name, sizeof(j->name));
	for (j->path = 0; j->path < 3; j->path++)
		if (!strcmp(req->path, joiner_paths[j->path]))
			break;
	r = invite_parse(req->token, (uint64_t)time(NULL), &j->inv, msg,
	    sizeof(msg));
	if (j->path == 3 || r != INVITE_OK) {
		result_set(err, r == INVITE_ERR_EXPIRED ? RESULT_EXPIRED :
		    RESULT_BAD_PARAMS, "%s", j->path == 3 ? "path is local, "
		    "public or relay" : msg);
		goto fail;
	}
	if (pd->mesh.join != NULL) {
		result_set(err, RESULT_UNAVAILABLE, "a join is already under "
		    "way");
		goto fail;
	}
	if (pd->mesh.have && !req->force) {
		result_set(err, RESULT_EXISTS, "this node is already in mesh "
		    "'%s' (meshctl leave first, or join --force)",
		    pd->mesh.name);
		goto fail;
	}
	if (!memcmp(j->inv.inviter_id, pd->node_id, JOIN_ID_LEN)) {
		result_set(err, RESULT_BAD_PARAMS, "this invite was made by "
		    "this node");
		goto fail;
	}
	j->pd = pd;
	j->started = punchd_time(pd);
	j->connect_s = req->connect_ms / 1000.0;
	join_key(j->key, j->inv.secret);
	join_txid(j->txid, j->inv.secret, pd->node_id);
	ev_init(&j->resend, joiner_resend_cb);
	ev_init(&j->deadline, joiner_deadline_cb);
	j->resend.data = j->deadline.data = j;
	if (mesh_node_key(pd) == -1) {
		result_set(err, RESULT_INTERNAL, "cannot write the node key");
		goto fail;
	}
	switch (j->path) {
	case JOIN_LOCAL:
	case JOIN_PUBLIC:
		invite_addr_str(j->path == JOIN_LOCAL ? &j->inv.ep_local :
		    &j->inv.ep_public, "udp://", j->via, sizeof(j->via));
		if (j->via[0] == '\0' || netaddr_parse(invite_addr_str(
		    j->path == JOIN_LOCAL ? &j->inv.ep_local :
		    &j->inv.ep_public, NULL, a, sizeof(a)), 0, &j->to) == -1) {
			result_set(err, RESULT_NOT_FOUND, "the invite has no %s "
			    "endpoint", req->path);
			goto fail;
		}
		break;
	case JOIN_RELAY:
		strlcpy(j->via, j->inv.ep_relay, sizeof(j->via));
		if (j->via[0] == '\0') {
			result_set(err, RESULT_NOT_FOUND, "the invite has no "
			    "relay");
			goto fail;
		}
		if (joiner_relay_start(j) == -1) {
			result_set(err, RESULT_UNAVAILABLE, "relay client");
			goto fail;
		}
		break;
	}
	j->done = done;
	j->arg = arg;
	pd->mesh.join = j;
	ev_timer_set(&j->resend, 0, JOIN_RESEND);
	ev_timer_start(pd->loop, &j->resend);
	ev_timer_set(&j->deadline, req->timeout_ms / 1000.0, 0);
	ev_timer_start(pd->loop, &j->deadline);
	log_info("join: mesh '%s' via %s", j->inv.mesh_name, req->path);
	return 0;
fail:
	invite_clear(&j->inv);
	sodium_memzero(j->key, sizeof(j->key));
	free(j);
	return -1;
}
