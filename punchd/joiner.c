/*
 * The joiner's side of the join handshake (mesh.join, `meshctl join`),
 * answered through the caller's completion callback. The invite's paths
 * race, happy-eyeballs style (RFC 8305's idea, applied to our three):
 * each path asked for starts `stagger` after the one before (local at 0,
 * public at 250 ms, relay at 500 ms by default), and the first WELCOME
 * wins; the others are cancelled. A path that is dead costs the join
 * nothing but its stagger, so a relay that answers is not kept waiting
 * behind two UDP timeouts.
 *
 *   hello    JOIN_HELLO to each started path's endpoint (UDP, or the
 *            invite's relay session) every JOIN_RESEND until JOIN_WELCOME,
 *            JOIN_REFUSE, or that path's timeout; when every path is over
 *            without a WELCOME the join fails, with each path's reason;
 *   connect  WELCOME opened: the mesh is ours (saved, new packet key), the
 *            inviter is a peer, punched where the WELCOME came from (or
 *            met in the pair's relay session); the answer goes out when
 *            the path to it is direct, or at connect_ms with whatever
 *            path there is (relayed, or none yet: punchd keeps trying).
 *
 * A REFUSE on any path ends the join (the same inviter answers them all).
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

static const char *const joiner_paths[JOINER_NPATHS] = { "local", "public",
    "relay" };
static const char *const joiner_states[] = { "absent", "waiting",
    "trying", "failed", "won", "cancelled" };

struct joiner;

struct joiner_try {
	struct joiner		*j;
	int			 path;
	enum joiner_try_state	 state;
	char			 via[300];	/* endpoint or relay URL */
	struct sockaddr_storage	 to;
	struct relay_client	*relay;
	int			 relay_seen;	/* connected once */
	double			 at, timeout;	/* start offset, s */
	double			 started, ended;
	char			 why[200];
	ev_timer		 timer;		/* start, then resend */
};

struct joiner {
	struct punchd		*pd;
	joiner_done_fn		*done;
	void			*arg;
	struct invite		 inv;
	struct joiner_try	 t[JOINER_NPATHS];
	int			 won;		/* path, -1 before */
	uint8_t			 key[32];
	uint8_t			 txid[JOIN_TXID_LEN];
	char			 name[JOIN_NAME_MAX + 1];
	int			 connecting;
	char			 refused[200];	/* answered by the timer */
	char			 failed[RESULT_MSG_MAX];	/* likewise */
	double			 started, welcomed;
	double			 connect_s;
	ev_timer		 deadline;
};

static void
joiner_try_stop(struct joiner_try *t)
{
	ev_timer_stop(t->j->pd->loop, &t->timer);
	if (t->relay != NULL)
		relay_client_stop(t->relay);	/* freed with j, not here */
}

static void
joiner_free(struct joiner *j)
{
	struct punchd	*pd = j->pd;
	int		 i;

	ev_timer_stop(pd->loop, &j->deadline);
	for (i = 0; i < JOINER_NPATHS; i++) {
		joiner_try_stop(&j->t[i]);
		if (j->t[i].relay != NULL)
			relay_client_free(j->t[i].relay);
	}
	invite_clear(&j->inv);
	sodium_memzero(j->key, sizeof(j->key));
	if (pd->mesh.join == j)
		pd->mesh.join = NULL;
	free(j);
}

static void
joiner_attempts(struct joiner *j, struct joiner_attempt *a)
{
	int i;

	for (i = 0; i < JOINER_NPATHS; i++) {
		a[i].path = joiner_paths[i];
		a[i].via = j->t[i].via;
		a[i].state = joiner_states[j->t[i].state];
		a[i].why = j->t[i].why;
		a[i].start_ms = j->t[i].started > 0 ?
		    (j->t[i].started - j->started) * 1000 : -1;
		a[i].end_ms = j->t[i].ended > 0 ?
		    (j->t[i].ended - j->started) * 1000 : -1;
	}
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
	res.path = joiner_paths[j->won];
	res.via = j->t[j->won].via;
	res.welcome_ms = (j->welcomed - j->started) * 1000;
	res.elapsed_ms = (punchd_time(j->pd) - j->started) * 1000;
	joiner_attempts(j, res.attempts);
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
joiner_send_hello(struct joiner_try *t)
{
	struct joiner		*j = t->j;
	struct punchd		*pd = j->pd;
	struct join_hello	 h;
	uint8_t			 buf[256];
	int			 n;

	if (t->path == JOINER_RELAY && (t->relay == NULL ||
	    relay_client_state(t->relay) != RELAY_CLIENT_CONNECTED))
		return;
	memset(&h, 0, sizeof(h));
	memcpy(h.txid, j->txid, JOIN_TXID_LEN);
	memcpy(h.pk, pd->mesh.pk, JOIN_PK_LEN);
	strlcpy(h.name, j->name, sizeof(h.name));
	join_hello_sign(&h, pd->node_id, pd->mesh.sk);
	if ((n = join_hello_encode(buf, sizeof(buf), &h)) < 0)
		return;
	tx_send_keyed(pd, PACKET_JOIN_HELLO, j->key, buf, n,
	    t->path == JOINER_RELAY ? NULL : (struct sockaddr *)&t->to,
	    t->relay);
}

/* Answer from the deadline timer, never from inside a relay callback. */
static void
joiner_answer_soon(struct joiner *j)
{
	int i;

	for (i = 0; i < JOINER_NPATHS; i++)
		joiner_try_stop(&j->t[i]);
	ev_timer_stop(j->pd->loop, &j->deadline);
	ev_timer_set(&j->deadline, 0, 0);
	ev_timer_start(j->pd->loop, &j->deadline);
}

/*
 * Every path over without a WELCOME: say why, and what would help. The
 * usual case is two nodes behind filtering NATs with no relay: the
 * inviter never sent to us, so its NAT drops what we send to its public
 * endpoint.
 */
static void
joiner_all_failed(struct joiner *j)
{
	size_t	len;
	int	i, sep = 0, norelay = j->inv.ep_relay[0] == '\0';

	len = strlcpy(j->failed, norelay ?
	    "no path the inviter can receive on (" : "no path answered (",
	    sizeof(j->failed));
	for (i = 0; i < JOINER_NPATHS && len < sizeof(j->failed); i++)
		if (j->t[i].state == JOINER_TRY_FAILED)
			len += snprintf(j->failed + len, sizeof(j->failed) -
			    len, "%s%s: %s", sep++ ? "; " : "", joiner_paths[i],
			    j->t[i].why);
	if (len < sizeof(j->failed))
		len += snprintf(j->failed + len, sizeof(j->failed) - len, "%s)",
		    norelay ?
		    "; the invite has no relay" : "");
	if (norelay &&
	    len < sizeof(j->failed))
		snprintf(j->failed + len, sizeof(j->failed) - len, ". A NAT "
		    "in front of the inviter drops packets from hosts it never "
		    "sent to: give the inviter a relay (punchd.relay_url), "
		    "forward its UDP port on its router, or use a gateway with "
		    "port mapping (UPnP IGD, NAT-PMP or PCP: punchd.portmap), "
		    "then make a new invite");
	joiner_answer_soon(j);
}

static void
joiner_try_end(struct joiner_try *t, enum joiner_try_state st,
    const char *why)
{
	struct joiner	*j = t->j;
	int		 i;

	joiner_try_stop(t);
	t->state = st;
	t->ended = punchd_time(j->pd);
	strlcpy(t->why, why, sizeof(t->why));
	if (st != JOINER_TRY_FAILED)
		return;
	log_info("join: %s %s: %s", joiner_paths[t->path], t->via, why);
	for (i = 0; i < JOINER_NPATHS; i++)
		if (j->t[i].state == JOINER_TRY_WAITING ||
		    j->t[i].state == JOINER_TRY_TRYING)
			return;
	joiner_all_failed(j);
}

static void
joiner_relay_frame(void *arg, const void *data, size_t len)
{
	struct joiner_try	*t = arg;
	uint8_t			 buf[PACKET_OVERHEAD + PUNCHD_MTU];

	if ((len = relay_frame_packet(data, len, buf, sizeof(buf))) > 0)
		joiner_input(t->j->pd, buf, len, NULL);
}

static void
joiner_relay_state(void *arg, enum relay_client_state state, const char *url)
{
	struct joiner_try *t = arg;

	(void)url;
	if (state == RELAY_CLIENT_CONNECTED && t->state == JOINER_TRY_TRYING) {
		t->relay_seen = 1;
		joiner_send_hello(t);
	}
}

static void
joiner_try_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct joiner_try	*t = w->data;
	struct joiner		*j = t->j;
	char			 why[200];

	(void)loop;
	(void)revents;
	if (t->state == JOINER_TRY_WAITING) {
		t->state = JOINER_TRY_TRYING;
		t->started = punchd_time(j->pd);
		log_info("join: mesh '%s': trying %s %s", j->inv.mesh_name,
		    joiner_paths[t->path], t->via);
		if (t->path == JOINER_RELAY && (t->relay = relay_join_open(
		    j->pd, t->via, j->inv.secret, joiner_relay_frame,
		    joiner_relay_state, t)) == NULL) {
			joiner_try_end(t, JOINER_TRY_FAILED, "cannot make a "
			    "relay client for this URL");
			return;
		}
	} else if (punchd_time(j->pd) - t->started >= t->timeout) {
		if (t->path != JOINER_RELAY)
			snprintf(why, sizeof(why), "no answer within %.0f ms",
			    t->timeout * 1000);
		else if (!t->relay_seen)
			snprintf(why, sizeof(why), "relay not reached within "
			    "%.0f ms (%s)", t->timeout * 1000,
			    relay_client_state_str(relay_client_state(
			    t->relay)));
		else
			snprintf(why, sizeof(why), "no answer through the "
			    "relay within %.0f ms (the inviter is not in its "
			    "session)", t->timeout * 1000);
		joiner_try_end(t, JOINER_TRY_FAILED, why);
		return;
	}
	joiner_send_hello(t);
	ev_timer_set(w, JOIN_RESEND, 0);
	ev_timer_start(j->pd->loop, w);
}

static void
joiner_deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct joiner *j = w->data;

	(void)loop;
	(void)revents;
	if (j->refused[0] != '\0')
		joiner_fail(j, RESULT_REFUSED, j->refused);
	else if (j->connecting)
		joiner_done(j);	/* joined; the path is what it is */
	else
		joiner_fail(j, RESULT_TIMEOUT, j->failed);
}

/* Which path a WELCOME came by: the relay (from NULL), the endpoint it
 * came from, else the public attempt if one runs (a NAT may answer from
 * another address than the code says). */
static int
joiner_winner(struct joiner *j, const struct sockaddr *from)
{
	int i;

	if (from == NULL)
		return JOINER_RELAY;
	for (i = JOINER_LOCAL; i <= JOINER_PUBLIC; i++)
		if (j->t[i].state == JOINER_TRY_TRYING &&
		    netaddr_equal(from, (struct sockaddr *)&j->t[i].to))
			return i;
	return j->t[JOINER_PUBLIC].state == JOINER_TRY_TRYING ?
	    JOINER_PUBLIC : JOINER_LOCAL;
}

static int
joiner_cand(const struct invite_addr *ia, struct sockaddr_storage *ss)
{
	char a[80];

	return ia->family != INVITE_AF_NONE && netaddr_parse(
	    invite_addr_str(ia, NULL, a, sizeof(a)), 0, ss) == 0;
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
	char			 idstr[2 * JOIN_ID_LEN + 1];
	int			 i, n = 0, r;

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
	j->won = joiner_winner(j, from);
	for (i = 0; i < JOINER_NPATHS; i++)
		if (i == j->won)
			joiner_try_end(&j->t[i], JOINER_TRY_WON, "WELCOME");
		else if (j->t[i].state == JOINER_TRY_WAITING ||
		    j->t[i].state == JOINER_TRY_TRYING)
			joiner_try_end(&j->t[i], JOINER_TRY_CANCELLED,
			    j->t[i].state == JOINER_TRY_WAITING ? "not started:"
			    " another path answered first" : "another path "
			    "answered first");
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
	n += joiner_cand(&j->inv.ep_local, &cands[n]);
	n += joiner_cand(&j->inv.ep_public, &cands[n]);
	log_notice("joined mesh '%s' through %s; inviter %s", pd->mesh.name,
	    joiner_paths[j->won], idstr);
	j->connecting = 1;
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

	if (j == NULL || j->connecting || j->refused[0] != '\0' ||
	    j->failed[0] != '\0') {
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
	/* maybe inside the relay client's callback, which must not free it */
	joiner_answer_soon(j);
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

/* The attempt at a path the request names: its endpoint from the code.
 * 1 when it will run, 0 when the code has no such endpoint. */
static int
joiner_try_init(struct joiner *j, int path, double at, double timeout)
{
	struct joiner_try	*t = &j->t[path];
	const struct invite_addr *ia = path == JOINER_LOCAL ?
	    &j->inv.ep_local : &j->inv.ep_public;

	if (path == JOINER_RELAY)
		strlcpy(t->via, j->inv.ep_relay, sizeof(t->via));
	else if (!joiner_cand(ia, &t->to))
		t->via[0] = '\0';
	else
		invite_addr_str(ia, "udp://", t->via, sizeof(t->via));
	if (t->via[0] == '\0') {
		strlcpy(t->why, "not in the invite", sizeof(t->why));
		return 0;
	}
	t->state = JOINER_TRY_WAITING;
	t->at = at;
	t->timeout = timeout;
	return 1;
}

/* "local,public,relay" (any of them, in any order: the order is the
 * start order) into paths[]; how many, or -1 for a bad name */
static int
joiner_parse_paths(const char *list, int *paths)
{
	char	buf[64], *s = buf, *tok;
	int	i, n = 0;

	strlcpy(buf, list[0] != '\0' ? list : "local,public,relay",
	    sizeof(buf));
	while ((tok = strsep(&s, ",")) != NULL) {
		for (i = 0; i < JOINER_NPATHS; i++)
			if (!strcmp(tok, joiner_paths[i]))
				break;
		if (i == JOINER_NPATHS || n == JOINER_NPATHS)
			return -1;
		paths[n++] = i;
	}
	return n;
}

static int
joiner_check(struct punchd *pd, const struct joiner_req *req,
    struct joiner *j, int *paths, int *npaths, struct result *err)
{
	char	msg[200];
	int	r;

	*npaths = joiner_parse_paths(req->path, paths);
	r = invite_parse(req->token, (uint64_t)time(NULL), &j->inv, msg,
	    sizeof(msg));
	if (*npaths == -1)
		return result_set(err, RESULT_BAD_PARAMS, "path is local, "
		    "public or relay, or a list of them (local,public,relay)");
	if (r != INVITE_OK)
		return result_set(err, r == INVITE_ERR_EXPIRED ?
		    RESULT_EXPIRED : RESULT_BAD_PARAMS, "%s", msg);
	if (pd->mesh.join != NULL)
		return result_set(err, RESULT_UNAVAILABLE, "a join is already "
		    "under way");
	if (pd->mesh.have && !req->force)
		return result_set(err, RESULT_EXISTS, "this node is already "
		    "in mesh '%s' (meshctl leave first, or join --force)",
		    pd->mesh.name);
	if (!memcmp(j->inv.inviter_id, pd->node_id, JOIN_ID_LEN))
		return result_set(err, RESULT_BAD_PARAMS, "this invite was "
		    "made by this node");
	if (mesh_node_key(pd) == -1)
		return result_set(err, RESULT_INTERNAL, "cannot write the node "
		    "key");
	return 0;
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
	int		 i, k, n, paths[JOINER_NPATHS], running = 0;
	double		 at = 0;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return result_set(err, RESULT_INTERNAL, "out of memory");
	j->pd = pd;
	if (joiner_check(pd, req, j, paths, &n, err) == -1)
		goto fail;
	strlcpy(j->name, req->name, sizeof(j->name));
	j->won = -1;
	j->started = punchd_time(pd);
	j->connect_s = req->connect_ms / 1000.0;
	join_key(j->key, j->inv.secret);
	join_txid(j->txid, j->inv.secret, pd->node_id);
	for (i = 0; i < JOINER_NPATHS; i++) {
		j->t[i].j = j;
		j->t[i].path = i;
		ev_init(&j->t[i].timer, joiner_try_cb);
		j->t[i].timer.data = &j->t[i];
		strlcpy(j->t[i].why, "not asked for", sizeof(j->t[i].why));
	}
	for (k = 0; k < n; k++)
		if (joiner_try_init(j, paths[k], at, (paths[k] == JOINER_RELAY ?
		    req->relay_timeout_ms : req->timeout_ms) / 1000.0)) {
			running++;
			at += req->stagger_ms / 1000.0;
		}
	if (running == 0) {
		result_set(err, RESULT_NOT_FOUND, "the invite has no %s "
		    "endpoint", n == 1 ? joiner_paths[paths[0]] : "usable");
		goto fail;
	}
	ev_init(&j->deadline, joiner_deadline_cb);
	j->deadline.data = j;
	j->done = done;
	j->arg = arg;
	pd->mesh.join = j;
	for (i = 0; i < JOINER_NPATHS; i++)
		if (j->t[i].state == JOINER_TRY_WAITING) {
			ev_timer_set(&j->t[i].timer, j->t[i].at, 0);
			ev_timer_start(pd->loop, &j->t[i].timer);
		}
	log_info("join: mesh '%s' via %s, %.0f ms apart", j->inv.mesh_name,
	    req->path[0] ? req->path : "local,public,relay",
	    (double)req->stagger_ms);
	return 0;
fail:
	invite_clear(&j->inv);
	sodium_memzero(j->key, sizeof(j->key));
	free(j);
	return -1;
}
