/*
 * The joiner's side of the join handshake (mesh.join, `meshctl join`),
 * answered through the caller's completion callback. The invite's paths
 * (joiner_paths.c: which, both address families) race (joiner_race.c:
 * staggered starts, each path its own timeout); here, what the answers
 * mean:
 *
 *   hello    the race sends JOIN_HELLO on every started path; when every
 *            path is over without a WELCOME the join fails, naming each
 *            path's reason (and, with no relay in the invite, what would
 *            help);
 *   connect  the first WELCOME wins, the other paths are cancelled; the
 *            mesh is ours (saved, new packet key), the inviter is a peer
 *            (joiner_welcome.c: what a WELCOME must prove, what it
 *            changes), punched where the WELCOME came from (or met in the
 *            pair's relay session); the answer goes out when the path to
 *            it is direct, or at connect_ms with whatever path there is
 *            (relayed, or none yet: punchd keeps trying).
 *
 * A REFUSE on any path ends the join (the same inviter answers them all).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

#include "common/log.h"
#include "proto/invite.h"
#include "punchd.h"
#include "joiner.h"
#include "joiner_paths.h"
#include "joiner_race.h"
#include "joiner_welcome.h"

struct joiner {
	struct punchd		*pd;
	joiner_done_fn		*done;
	void			*arg;
	struct invite		 inv;
	struct joiner_race	 race;
	int			 won;		/* path, -1 before */
	uint8_t			 key[32];
	uint8_t			 txid[JOIN_TXID_LEN];
	int			 connecting;
	char			 refused[200];	/* answered by the timer */
	char			 failed[RESULT_MSG_MAX];	/* likewise */
	double			 started, welcomed;
	double			 connect_s;
	ev_timer		 deadline;
};

static void
joiner_free(struct joiner *j)
{
	struct punchd *pd = j->pd;

	ev_timer_stop(pd->loop, &j->deadline);
	joiner_race_free(&j->race);
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
	res.path = joiner_path_names[j->won];
	res.via = j->race.t[j->won].via;
	res.welcome_ms = (j->welcomed - j->started) * 1000;
	res.elapsed_ms = (punchd_time(j->pd) - j->started) * 1000;
	joiner_race_attempts(&j->race, res.attempts);
	j->done(j->arg, &res, NULL);
	joiner_free(j);
}

void
joiner_cancel(struct punchd *pd, const char *why)
{
	if (pd->mesh.join != NULL)
		joiner_fail(pd->mesh.join, RESULT_UNAVAILABLE, why);
}

/* Answer from the deadline timer, never from inside a relay callback. */
static void
joiner_answer_soon(struct joiner *j)
{
	joiner_race_stop(&j->race);
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
joiner_over(void *arg)
{
	struct joiner	*j = arg;
	char		 why[240];	/* leaves room for the advice */
	int		 norelay = j->inv.ep_relay[0] == '\0';

	joiner_race_why(&j->race, why, sizeof(why));
	/* cut to the IPC limit when the reasons are long: say so */
	if (snprintf(j->failed, sizeof(j->failed), "%s (%s%s)%s", norelay ?
	    "no path the inviter can receive on" : "no path answered", why,
	    norelay ? "; the invite has no relay" : "", norelay ? ". A NAT "
	    "in front of the inviter drops packets from hosts it never sent "
	    "to: give the inviter a relay (punchd.relay_url), forward its UDP "
	    "port on its router, or use a gateway with port mapping (UPnP "
	    "IGD, NAT-PMP or PCP: punchd.portmap), then make a new invite" :
	    "") >= (int)sizeof(j->failed))
		memcpy(j->failed + sizeof(j->failed) - 4, "...", 4);
	joiner_answer_soon(j);
}

static void
joiner_relay_rx(void *arg, uint8_t *buf, size_t len)
{
	struct joiner *j = arg;

	joiner_input(j->pd, buf, len, NULL);
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
		joiner_fail(j, j->race.relay_refused ? RESULT_RELAY_REFUSED :
		    RESULT_TIMEOUT, j->failed);
}

/* WELCOME: the first wins the race; the mesh is ours, the inviter a peer
 * (joiner_welcome.c), punched; the answer waits for a path to it. */
static void
joiner_welcome(struct joiner *j, const uint8_t *pl, size_t plen,
    const struct sockaddr *from)
{
	struct punchd		*pd = j->pd;
	struct join_welcome	 w;
	struct sockaddr_storage	 cands[JOINER_WELCOME_NCANDS];
	enum punch_cand_type	 types[JOINER_WELCOME_NCANDS];
	uint8_t			 secret[JOIN_SECRET_LEN];
	struct result		 err;
	struct peer		*p;
	char			 idstr[2 * JOIN_ID_LEN + 1];
	int			 i, n;

	if (joiner_welcome_open(pd, &j->inv, j->txid, pl, plen, &w,
	    secret) == -1)
		return;
	j->welcomed = punchd_time(j->pd);
	j->won = joiner_race_winner(&j->race, from);
	for (i = 0; i < JOINER_NPATHS; i++)
		if (i == j->won)
			joiner_race_end(&j->race, i, JOINER_TRY_WON, "WELCOME");
		else if (j->race.t[i].state == JOINER_TRY_WAITING ||
		    j->race.t[i].state == JOINER_TRY_TRYING)
			joiner_race_end(&j->race, i, JOINER_TRY_CANCELLED,
			    j->race.t[i].state == JOINER_TRY_WAITING ? "not "
			    "started: another path answered first" : "another "
			    "path answered first");
	if ((p = joiner_welcome_adopt(pd, &j->inv, &w, secret, &err)) ==
	    NULL) {
		joiner_fail(j, err.code, err.msg);
		return;
	}
	n = joiner_welcome_cands(&j->inv, from, cands, types);
	sodium_bin2hex(idstr, sizeof(idstr), j->inv.inviter_id, JOIN_ID_LEN);
	log_notice("joined mesh '%s' through %s; inviter %s", pd->mesh.name,
	    joiner_path_names[j->won], idstr);
	j->connecting = 1;
	ev_timer_stop(pd->loop, &j->deadline);
	ev_timer_set(&j->deadline, j->connect_s, 0);
	ev_timer_start(pd->loop, &j->deadline);
	link_punch_typed(p, cands, types, n);
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

static int
joiner_check(struct punchd *pd, const struct joiner_req *req,
    struct joiner *j, unsigned *slots, int *nslots, struct result *err)
{
	char	msg[200];
	int	r;

	*nslots = joiner_paths_parse(req->path, slots);
	r = invite_parse(req->token, (uint64_t)time(NULL), &j->inv, msg,
	    sizeof(msg));
	if (*nslots == -1)
		return result_set(err, RESULT_BAD_PARAMS, "path is local, "
		    "local6, public, public6 or relay, or a list of them "
		    "(local,public,relay; local and public include their IPv6 "
		    "endpoint)");
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

/* The one HELLO every path sends: it names no path. 0 or -1. */
static int
joiner_hello(struct joiner *j, const char *name)
{
	struct punchd		*pd = j->pd;
	struct join_hello	 h;
	int			 n;

	memset(&h, 0, sizeof(h));
	memcpy(h.txid, j->txid, JOIN_TXID_LEN);
	memcpy(h.pk, pd->mesh.pk, JOIN_PK_LEN);
	strlcpy(h.name, name, sizeof(h.name));
	join_hello_sign(&h, pd->node_id, pd->mesh.sk);
	if ((n = join_hello_encode(j->race.hello, sizeof(j->race.hello),
	    &h)) < 0)
		return -1;
	j->race.hello_len = (size_t)n;
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
	unsigned	 slots[JOINER_NPATHS];
	int		 n;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return result_set(err, RESULT_INTERNAL, "out of memory");
	j->pd = pd;
	joiner_race_init(&j->race, pd);
	ev_init(&j->deadline, joiner_deadline_cb);
	j->deadline.data = j;
	if (joiner_check(pd, req, j, slots, &n, err) == -1)
		goto fail;
	j->won = -1;
	j->started = punchd_time(pd);
	j->connect_s = req->connect_ms / 1000.0;
	join_key(j->key, j->inv.secret);
	join_txid(j->txid, j->inv.secret, pd->node_id);
	j->race.key = j->key;
	j->race.secret = j->inv.secret;
	/* the invite's relay token, when the inviter handed one on */
	j->race.relay_token = j->inv.relay_token[0] ? j->inv.relay_token :
	    NULL;
	j->race.rx = joiner_relay_rx;
	j->race.over = joiner_over;
	j->race.arg = j;
	if (joiner_hello(j, req->name) == -1) {
		result_set(err, RESULT_BAD_PARAMS, "name too long");
		goto fail;
	}
	if (joiner_paths_add(&j->race, &j->inv, req, slots, n) == 0) {
		result_set(err, RESULT_NOT_FOUND, "the invite has no %s "
		    "endpoint", n == 1 ? joiner_path_names[ffs(slots[0]) - 1] :
		    "usable");
		goto fail;
	}
	j->done = done;
	j->arg = arg;
	pd->mesh.join = j;
	joiner_race_start(&j->race);
	log_info("join: mesh '%s' via %s, %.0f ms apart", j->inv.mesh_name,
	    req->path[0] ? req->path : "local,public,relay",
	    (double)req->stagger_ms);
	return 0;
fail:
	joiner_race_free(&j->race);
	invite_clear(&j->inv);
	sodium_memzero(j->key, sizeof(j->key));
	free(j);
	return -1;
}
