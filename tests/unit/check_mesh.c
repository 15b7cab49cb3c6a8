/*
 * punchd's mesh membership end to end in one process (fakenode.h: fake
 * socket, fake clock): a mesh created, an invite minted, a node joining
 * over the invite's local endpoint, the direct path and the end-to-end
 * session that follow, DATA under the session key, a rekey an hour later,
 * and the invite refused to a second joiner. Hostile JOIN packets are
 * counted and dropped.
 */
#include <string.h>

#include <sodium.h>

#include "punchd/inviter.h"
#include "punchd/joiner.h"
#include "fakenode.h"
#include "suites.h"

struct join_seen {
	int			called;
	struct result		err;
	struct joiner_res	res;
	enum peer_state		state;	/* the inviter's, at the answer */
};

static void
join_done(void *arg, const struct joiner_res *res, const struct result *err)
{
	struct join_seen *js = arg;

	js->called++;
	if (err != NULL)
		js->err = *err;
	else {
		js->res = *res;
		js->state = res->peer != NULL ? res->peer->state : PEER_NEW;
	}
}

static int
join_over(void *arg)
{
	return ((struct join_seen *)arg)->called > 0;
}

/* an invite of a's for its local endpoint only */
static void
mint(struct fake_node *a, struct inviter_res *res)
{
	struct inviter_req	req;
	struct result		err;

	memset(&req, 0, sizeof(req));
	req.expires_s = 3600;
	req.uses = 1;
	req.local_how = INVITER_GIVEN;
	snprintf(req.local, sizeof(req.local), "127.0.0.1:%d", a->port);
	req.public_how = INVITER_WITHHELD;
	req.relay_how = INVITER_WITHHELD;
	ck_assert_msg(inviter_mint(&a->pd, &req, res, &err) == 0, "%s",
	    err.msg);
}

static void
join(struct fake_node *b, const char *token, struct join_seen *js)
{
	struct joiner_req	req;
	struct result		err;

	memset(&req, 0, sizeof(req));
	strlcpy(req.token, token, sizeof(req.token));
	strlcpy(req.path, "local", sizeof(req.path));
	req.timeout_ms = 2000;
	req.connect_ms = 2000;
	/* the stagger counts from the loop's time: not from a stale one
	 * (key generation and files under load take a while) */
	ev_now_update(fake_loop);
	ck_assert_msg(joiner_start(&b->pd, &req, join_done, js, &err) == 0,
	    "%s", err.msg);
}

static int
sessions_up(void *arg)
{
	struct fake_node	**n = arg;
	struct peer		 *pa, *pb;

	pa = peer_find_id(&n[0]->pd, n[1]->pd.node_id);
	pb = peer_find_id(&n[1]->pd, n[0]->pd.node_id);
	return pa != NULL && pb != NULL &&
	    !strcmp(e2e_session_mode(pa), "session") &&
	    !strcmp(e2e_session_mode(pb), "session");
}

static int
got_data(void *arg)
{
	return ((struct fake_node *)arg)->ndata > 0;
}

START_TEST(test_invite_join_e2e)
{
	struct fake_node	*a, *b, *n[2];
	struct inviter_res	 inv;
	struct join_seen	 js;
	struct result		 err;
	struct peer		*pa, *pb;
	uint64_t		 epoch;

	a = fakenode_new(17101, NULL);
	b = fakenode_new(17102, NULL);
	ck_assert_int_eq(node_mesh_create(&a->pd, "lab", 0, &err), 0);
	ck_assert_int_eq(node_mesh_create(&a->pd, "again", 0, &err), -1);
	ck_assert_int_eq(err.code, RESULT_EXISTS);
	mint(a, &inv);
	ck_assert_int_eq(inv.max_uses, 1);

	memset(&js, 0, sizeof(js));
	join(b, inv.token, &js);
	ck_assert(fakenet_run(join_over, &js, 5));
	ck_assert_msg(js.err.code == RESULT_OK, "join: %s", js.err.msg);
	/* the same mesh, the same packet key, the inviter a direct peer */
	ck_assert_str_eq(js.res.mesh, "lab");
	ck_assert_str_eq(js.res.path, "local");
	ck_assert(b->pd.mesh.have);
	ck_assert_mem_eq(b->pd.mesh.id, a->pd.mesh.id, JOIN_MESH_ID_LEN);
	ck_assert_mem_eq(b->pd.key, a->pd.key, PACKET_KEY_LEN);
	ck_assert_int_eq(js.state, PEER_DIRECT);
	ck_assert_int_eq(LIST_FIRST(&a->pd.mesh.invites)->nuses, 1);
	ck_assert_ptr_nonnull(members_find(&a->pd, b->pd.node_id));
	ck_assert_ptr_nonnull(members_find(&b->pd, a->pd.node_id));
	ck_assert_str_eq(a->events[0], "peer.up");

	/* both have node keys: an end-to-end session comes up by itself */
	n[0] = a;
	n[1] = b;
	ck_assert(fakenet_run(sessions_up, n, 3));
	ck_assert_int_gt(e2e_session_count(&a->pd), 0);
	pa = peer_find_id(&a->pd, b->pd.node_id);
	pb = peer_find_id(&b->pd, a->pd.node_id);

	/* DATA travels under it, and arrives */
	ck_assert_int_eq(link_send_data(pb, "hello", 5), 0);
	ck_assert(fakenet_run(got_data, a, 2));
	ck_assert_uint_eq(a->datalen, 5);
	ck_assert_mem_eq(a->data, "hello", 5);
	ck_assert_uint_eq(a->pd.ctr.drop_downgrade, 0);
	ck_assert_uint_eq(a->pd.ctr.drop_auth, 0);

	/* an hour later (fake clock) the rekey timer starts a new key */
	epoch = pa->e2e.epoch;
	fakenet_jump(3600);
	ev_invoke(fake_loop, &a->pd.e2e_timer, EV_TIMER);
	ev_invoke(fake_loop, &b->pd.e2e_timer, EV_TIMER);
	fakenet_run(NULL, NULL, 0.3);
	ck_assert_uint_gt(pa->e2e.epoch + pb->e2e.epoch, 2 * epoch);
	a->ndata = 0;
	ck_assert_int_eq(link_send_data(pb, "again", 5), 0);
	ck_assert(fakenet_run(got_data, a, 2));
	ck_assert_mem_eq(a->data, "again", 5);
	fakenet_free();
}
END_TEST

START_TEST(test_invite_used)
{
	struct fake_node	*a, *b, *c;
	struct inviter_res	 inv;
	struct join_seen	 jb, jc;
	struct result		 err;

	a = fakenode_new(17111, NULL);
	b = fakenode_new(17112, NULL);
	c = fakenode_new(17113, NULL);
	ck_assert_int_eq(node_mesh_create(&a->pd, "lab", 0, &err), 0);
	mint(a, &inv);
	memset(&jb, 0, sizeof(jb));
	join(b, inv.token, &jb);
	ck_assert(fakenet_run(join_over, &jb, 5));
	ck_assert_int_eq(jb.err.code, RESULT_OK);
	/* a one-use invite: the next node is refused, and stays out */
	memset(&jc, 0, sizeof(jc));
	join(c, inv.token, &jc);
	ck_assert(fakenet_run(join_over, &jc, 5));
	ck_assert_int_eq(jc.err.code, RESULT_REFUSED);
	ck_assert_msg(strstr(jc.err.msg, "used") != NULL, "%s", jc.err.msg);
	ck_assert(!c->pd.mesh.have);
	ck_assert_ptr_null(members_find(&a->pd, c->pd.node_id));
	fakenet_free();
}
END_TEST

START_TEST(test_join_errors)
{
	struct fake_node	*a, *b;
	struct inviter_res	 inv;
	struct joiner_req	 req;
	struct join_seen	 js;
	struct result		 err;

	a = fakenode_new(17121, NULL);
	b = fakenode_new(17122, NULL);
	/* no mesh: nothing to invite to */
	memset(&req, 0, sizeof(req));
	ck_assert_int_eq(inviter_mint(&a->pd, &(struct inviter_req){
	    .expires_s = 60, .uses = 1 }, &inv, &err), -1);
	ck_assert_int_eq(err.code, RESULT_NOT_FOUND);
	ck_assert_int_eq(node_mesh_create(&a->pd, "lab", 0, &err), 0);
	mint(a, &inv);
	/* in a mesh already; one's own invite; a bad path; garbage */
	strlcpy(req.token, inv.token, sizeof(req.token));
	strlcpy(req.path, "local", sizeof(req.path));
	req.timeout_ms = req.connect_ms = 500;
	ck_assert_int_eq(joiner_start(&a->pd, &req, join_done, &js, &err),
	    -1);
	ck_assert_int_eq(err.code, RESULT_EXISTS);
	req.force = 1;
	ck_assert_int_eq(joiner_start(&a->pd, &req, join_done, &js, &err),
	    -1);
	ck_assert_int_eq(err.code, RESULT_BAD_PARAMS);
	ck_assert_msg(strstr(err.msg, "this node") != NULL, "%s", err.msg);
	req.force = 0;
	strlcpy(req.path, "carrier-pigeon", sizeof(req.path));
	ck_assert_int_eq(joiner_start(&b->pd, &req, join_done, &js, &err),
	    -1);
	ck_assert_int_eq(err.code, RESULT_BAD_PARAMS);
	/* a list: a path twice, an empty name, a name not a path */
	strlcpy(req.path, "local,local", sizeof(req.path));
	ck_assert_int_eq(joiner_start(&b->pd, &req, join_done, &js, &err),
	    -1);
	ck_assert_int_eq(err.code, RESULT_BAD_PARAMS);
	strlcpy(req.path, "local,", sizeof(req.path));
	ck_assert_int_eq(joiner_start(&b->pd, &req, join_done, &js, &err),
	    -1);
	ck_assert_int_eq(err.code, RESULT_BAD_PARAMS);
	strlcpy(req.path, "relay,public,local,x", sizeof(req.path));
	ck_assert_int_eq(joiner_start(&b->pd, &req, join_done, &js, &err),
	    -1);
	ck_assert_int_eq(err.code, RESULT_BAD_PARAMS);
	/* public,relay asked, the invite has neither */
	strlcpy(req.path, "public,relay", sizeof(req.path));
	ck_assert_int_eq(joiner_start(&b->pd, &req, join_done, &js, &err),
	    -1);
	ck_assert_int_eq(err.code, RESULT_NOT_FOUND);
	strlcpy(req.token, "ATM-not-a-code", sizeof(req.token));
	strlcpy(req.path, "local", sizeof(req.path));
	ck_assert_int_eq(joiner_start(&b->pd, &req, join_done, &js, &err),
	    -1);
	ck_assert_int_eq(err.code, RESULT_BAD_PARAMS);
	/* the inviter gone quiet: the join times out, no mesh */
	strlcpy(req.token, inv.token, sizeof(req.token));
	a->cut = 1;
	memset(&js, 0, sizeof(js));
	ck_assert_int_eq(joiner_start(&b->pd, &req, join_done, &js, &err), 0);
	/* one at a time */
	ck_assert_int_eq(joiner_start(&b->pd, &req, join_done, &js, &err),
	    -1);
	ck_assert_int_eq(err.code, RESULT_UNAVAILABLE);
	ck_assert(fakenet_run(join_over, &js, 3));
	ck_assert_int_eq(js.err.code, RESULT_TIMEOUT);
	ck_assert(!b->pd.mesh.have);
	fakenet_free();
}
END_TEST

/* JOIN_* packets under no key we know, truncated or random: counted and
 * dropped, nothing answered */
/* an invite of a's with these local and public endpoints, no relay */
static void
mint_eps(struct fake_node *a, const char *local, const char *public,
    struct inviter_res *res)
{
	struct inviter_req	req;
	struct result		err;

	memset(&req, 0, sizeof(req));
	req.expires_s = 600;
	req.uses = 2;
	req.local_how = req.public_how = INVITER_GIVEN;
	strlcpy(req.local, local, sizeof(req.local));
	strlcpy(req.public, public, sizeof(req.public));
	req.relay_how = INVITER_WITHHELD;
	ck_assert_msg(inviter_mint(&a->pd, &req, res, &err) == 0, "%s",
	    err.msg);
}

static void
race(struct fake_node *b, const char *token, struct join_seen *js)
{
	struct joiner_req	req;
	struct result		err;

	memset(&req, 0, sizeof(req));
	memset(js, 0, sizeof(*js));
	strlcpy(req.token, token, sizeof(req.token));
	req.stagger_ms = 250;
	req.timeout_ms = 1500;
	req.relay_timeout_ms = 5000;
	req.connect_ms = 2000;
	/* the stagger counts from the loop's time: not from a stale one
	 * (key generation and files under load take a while) */
	ev_now_update(fake_loop);
	ck_assert_msg(joiner_start(&b->pd, &req, join_done, js, &err) == 0,
	    "%s", err.msg);
}

/* a (port), b (port + 1) and a dead node (port + 2); a makes a mesh and
 * an invite whose local endpoint is the dead node, public a itself */
static void
race_lab(int port, struct fake_node **a, struct fake_node **b,
    struct inviter_res *inv)
{
	struct result	err;
	char		local[32], public[32];

	*a = fakenode_new(port, NULL);
	*b = fakenode_new(port + 1, NULL);
	fakenode_new(port + 2, NULL)->cut = 1;	/* a dead endpoint */
	ck_assert_int_eq(node_mesh_create(&(*a)->pd, "lab", 0, &err), 0);
	snprintf(local, sizeof(local), "127.0.0.1:%d", port + 2);
	snprintf(public, sizeof(public), "127.0.0.1:%d", port);
	mint_eps(*a, local, public, inv);
}

/* b joins inv and path wins */
static void
race_won(struct fake_node *b, const struct inviter_res *inv,
    struct join_seen *js, const char *path)
{
	race(b, inv->token, js);
	ck_assert(fakenet_run(join_over, js, 5));
	ck_assert_msg(js->err.code == RESULT_OK, "join: %s", js->err.msg);
	ck_assert_str_eq(js->res.path, path);
}

/*
 * The race: local (dead) starts at 0, public (the inviter) at 250 ms and
 * wins; local is cancelled, the relay (not in the invite) absent. Then
 * both endpoints dead and no relay: the join fails once both timed out,
 * naming each path and what would help.
 */
START_TEST(test_join_race)
{
	struct fake_node	*a, *b;
	struct inviter_res	 inv;
	struct join_seen	 js;
	struct result		 err;
	const struct joiner_attempt *at;

	race_lab(17131, &a, &b, &inv);
	race_won(b, &inv, &js, "public");
	at = js.res.attempts;
	ck_assert_str_eq(at[JOINER_LOCAL].state, "cancelled");
	ck_assert_str_eq(at[JOINER_PUBLIC].state, "won");
	ck_assert_str_eq(at[JOINER_RELAY].state, "absent");
	/* staggered (the fake clock and libev's timers agree only roughly) */
	ck_assert_double_eq_tol(at[JOINER_LOCAL].start_ms, 0, 50);
	ck_assert_double_gt(at[JOINER_PUBLIC].start_ms,
	    at[JOINER_LOCAL].start_ms + 100);
	ck_assert_double_lt(js.res.welcome_ms, 400);
	ck_assert_double_eq_tol(at[JOINER_LOCAL].end_ms,
	    at[JOINER_PUBLIC].end_ms, 1);
	ck_assert_double_eq(at[JOINER_RELAY].start_ms, -1);

	/* nothing answers: both time out, then the answer says why */
	ck_assert_int_eq(node_mesh_leave(&b->pd, &err), 0);
	mint_eps(a, "127.0.0.1:17133", "127.0.0.1:17134", &inv);
	race(b, inv.token, &js);
	ck_assert(fakenet_run(join_over, &js, 5));
	ck_assert_int_eq(js.err.code, RESULT_TIMEOUT);
	ck_assert_msg(strstr(js.err.msg, "no path the inviter can receive on "
	    "(local: no answer within 1500 ms; public: no answer within 1500 "
	    "ms; the invite has no relay)") != NULL, "%s", js.err.msg);
	ck_assert_msg(strstr(js.err.msg, "port mapping") != NULL, "%s",
	    js.err.msg);
	ck_assert(!b->pd.mesh.have);
	fakenet_free();
}
END_TEST

/* the code of res with IPv6 endpoints beside the IPv4 ones (the fake
 * network carries IPv4 only: these are dead paths) */
static void
with_v6(struct inviter_res *res, const char *local6, const char *public6)
{
	struct invite iv;

	ck_assert_int_eq(invite_decode(res->token, 0, &iv, NULL, 0), 0);
	ck_assert_int_eq(invite_addr_parse(local6, &iv.ep_local6), 0);
	ck_assert_int_eq(invite_addr_parse(public6, &iv.ep_public6), 0);
	ck_assert_int_gt(invite_encode(&iv, res->token, sizeof(res->token)),
	    0);
	invite_clear(&iv);
}

/*
 * IPv6 endpoints race too (issue 13 item 6): local6 starts with local,
 * public6 with public, the relay's turn does not move; a public6 that is
 * the local6 address (an IPv6 host without NAT) is not sent to twice;
 * --paths local6 alone tries only it; a failed join names every family.
 */
START_TEST(test_join_race6)
{
	struct fake_node	*a, *b;
	struct inviter_res	 inv;
	struct join_seen	 js;
	struct joiner_req	 req;
	struct result		 err;
	const struct joiner_attempt *at;

	race_lab(17141, &a, &b, &inv);
	with_v6(&inv, "[2001:db8:1::2]:7777", "[2001:db8:2::2]:7777");
	race_won(b, &inv, &js, "public");
	at = js.res.attempts;
	ck_assert_str_eq(at[JOINER_LOCAL6].path, "local6");
	ck_assert_str_eq(at[JOINER_LOCAL6].state, "cancelled");
	ck_assert_str_eq(at[JOINER_PUBLIC6].path, "public6");
	ck_assert_str_eq(at[JOINER_PUBLIC6].state, "cancelled");
	ck_assert_str_eq(at[JOINER_PUBLIC].state, "won");
	ck_assert_double_eq_tol(at[JOINER_LOCAL6].start_ms,
	    at[JOINER_LOCAL].start_ms, 50);
	ck_assert_double_eq_tol(at[JOINER_PUBLIC6].start_ms,
	    at[JOINER_PUBLIC].start_ms, 50);
	ck_assert_double_gt(at[JOINER_PUBLIC].start_ms,
	    at[JOINER_LOCAL].start_ms + 100);

	/* public6 = local6, everything dead: one HELLO stream to it, and
	 * the failure names each family */
	ck_assert_int_eq(node_mesh_leave(&b->pd, &err), 0);
	mint_eps(a, "127.0.0.1:17143", "127.0.0.1:17144", &inv);
	with_v6(&inv, "[2001:db8:1::2]:7777", "[2001:db8:1::2]:7777");
	race(b, inv.token, &js);
	ck_assert(fakenet_run(join_over, &js, 5));
	ck_assert_int_eq(js.err.code, RESULT_TIMEOUT);
	ck_assert_msg(strstr(js.err.msg, "local: no answer within 1500 ms; "
	    "local6: no answer within 1500 ms; public: no answer within 1500 "
	    "ms;") != NULL, "%s", js.err.msg);
	ck_assert_msg(strstr(js.err.msg, "public6") == NULL, "%s",
	    js.err.msg);

	/* --paths local6: that one alone; a name twice or unknown: refused */
	memset(&req, 0, sizeof(req));
	strlcpy(req.token, inv.token, sizeof(req.token));
	req.stagger_ms = 250;
	req.timeout_ms = 300;
	req.relay_timeout_ms = 300;
	req.connect_ms = 300;
	strlcpy(req.path, "local6", sizeof(req.path));
	memset(&js, 0, sizeof(js));
	ck_assert_int_eq(joiner_start(&b->pd, &req, join_done, &js, &err), 0);
	ck_assert(fakenet_run(join_over, &js, 3));
	ck_assert_int_eq(js.err.code, RESULT_TIMEOUT);
	ck_assert_msg(strstr(js.err.msg, "(local6: no answer within 300 ms;")
	    != NULL, "%s", js.err.msg);
	strlcpy(req.path, "local,local", sizeof(req.path));
	ck_assert_int_eq(joiner_start(&b->pd, &req, join_done, &js, &err), -1);
	ck_assert_int_eq(err.code, RESULT_BAD_PARAMS);
	strlcpy(req.path, "local7", sizeof(req.path));
	ck_assert_int_eq(joiner_start(&b->pd, &req, join_done, &js, &err), -1);
	fakenet_free();
}
END_TEST

START_TEST(test_join_hostile)
{
	struct fake_node	*a;
	struct sockaddr_in	 from = fake_addr(9);
	struct inviter_res	 inv;
	struct result		 err;
	struct packet_hdr	 h;
	uint8_t			 buf[256], key[32];
	ssize_t			 n;
	int			 i, sent;

	a = fakenode_new(17131, NULL);
	ck_assert_int_eq(node_mesh_create(&a->pd, "lab", 0, &err), 0);
	mint(a, &inv);
	randombytes_buf(key, sizeof(key));
	memset(&h, 0, sizeof(h));
	h.version = PACKET_VERSION;
	h.type = PACKET_JOIN_HELLO;
	randombytes_buf(h.sender, sizeof(h.sender));
	h.seq = 1;
	n = packet_encode(buf, sizeof(buf), &h, (const uint8_t *)"x", 1, key);
	ck_assert_int_gt(n, 0);
	sent = fake_sent;
	a->pd.hooks.packet_rx(&a->pd, buf, n, (struct sockaddr *)&from);
	ck_assert_uint_eq(a->pd.ctr.drop_auth, 1);
	for (i = 1; i < n; i++) {
		packet_encode(buf, sizeof(buf), &h, (const uint8_t *)"x", 1,
		    key);
		a->pd.hooks.packet_rx(&a->pd, buf, i,
		    (struct sockaddr *)&from);
	}
	h.type = PACKET_JOIN_WELCOME;	/* no join under way */
	n = packet_encode(buf, sizeof(buf), &h, (const uint8_t *)"x", 1, key);
	a->pd.hooks.packet_rx(&a->pd, buf, n, (struct sockaddr *)&from);
	ck_assert_uint_ge(a->pd.ctr.drop_unknown, 1);
	ck_assert_int_eq(fake_sent, sent);
	ck_assert_int_eq(LIST_FIRST(&a->pd.mesh.invites)->nuses, 0);
	fakenet_free();
}
END_TEST

/* ---- replayed JOIN_HELLOs (docs/security.md, "The join handshake") --- */

/* what the inviter sent, per destination port and type; the joiners'
 * HELLOs, captured as an on-path attacker would */
static struct {
	int		port;			/* count sends to this port */
	int		n[16];			/* by packet type */
	size_t		bytes;
	uint8_t		welcome[2][PACKET_MAX_LEN];
	size_t		welcome_len[2];
	uint8_t		hello[PACKET_MAX_LEN];
	size_t		hello_len;
} rp;

static int
rp_tx(struct punchd *pd, const void *buf, size_t len,
    const struct sockaddr *to)
{
	struct packet_hdr h;

	if (to->sa_family == AF_INET && packet_peek(buf, len, &h) == 0) {
		if (h.type == PACKET_JOIN_HELLO && len <= sizeof(rp.hello)) {
			memcpy(rp.hello, buf, len);
			rp.hello_len = len;
		}
		if (ntohs(((const struct sockaddr_in *)to)->sin_port) ==
		    rp.port && h.type < 16) {
			rp.n[h.type]++;
			rp.bytes += len;
			if (h.type == PACKET_JOIN_WELCOME &&
			    len <= sizeof(rp.welcome[0])) {
				memcpy(rp.welcome[rp.n[h.type] & 1], buf, len);
				rp.welcome_len[rp.n[h.type] & 1] = len;
			}
		}
	}
	return fake_sock_tx(pd, buf, len, to);
}

static int
rp_total(void)
{
	int i, t = 0;

	for (i = 0; i < 16; i++)
		t += rp.n[i];
	return t;
}

static void
rp_count(int port)
{
	memset(rp.n, 0, sizeof(rp.n));
	rp.bytes = 0;
	rp.port = port;
}

static void
rp_replay(struct fake_node *a, int port, int times)
{
	struct sockaddr_in	from = fake_addr(port);
	uint8_t			buf[PACKET_MAX_LEN];
	int			i;

	for (i = 0; i < times; i++) {
		memcpy(buf, rp.hello, rp.hello_len);
		a->pd.hooks.packet_rx(&a->pd, buf, rp.hello_len,
		    (struct sockaddr *)&from);
	}
}

/*
 * A captured HELLO replayed: from a stranger, nothing (not a WELCOME, not
 * a PUNCH, even with the member down); from the first source, the cached
 * WELCOME at most 4 + t times in t seconds; a refused joiner's HELLO, at
 * most as many REFUSEs. All counted.
 */
START_TEST(test_join_replay)
{
	struct fake_node	*a, *b, *c;
	struct inviter_res	 inv;
	struct join_seen	 js;
	struct result		 err;
	struct mesh_invite	*mi;
	struct packet_hdr	 h;
	const uint8_t		*pl[2];
	size_t			 plen[2];
	struct peer		*pb;
	int			 i;

	memset(&rp, 0, sizeof(rp));
	a = fakenode_new(17151, NULL);
	b = fakenode_new(17152, NULL);
	c = fakenode_new(17153, NULL);
	a->pd.hooks.sock_tx = b->pd.hooks.sock_tx = c->pd.hooks.sock_tx =
	    rp_tx;
	ck_assert_int_eq(node_mesh_create(&a->pd, "lab", 0, &err), 0);
	mint(a, &inv);
	mi = LIST_FIRST(&a->pd.mesh.invites);
	memset(&js, 0, sizeof(js));
	join(b, inv.token, &js);
	ck_assert(fakenet_run(join_over, &js, 5));
	ck_assert_int_eq(js.err.code, RESULT_OK);
	ck_assert_uint_gt(rp.hello_len, 0);
	ck_assert_uint_gt(mi->uses[0].welcome_len, 0);

	/* b gone quiet, its peer down on a: the old inviter punched the
	 * replay's source 50 times here */
	b->cut = 1;
	pb = peer_find_id(&a->pd, b->pd.node_id);
	ck_assert_ptr_nonnull(pb);
	peer_set_state(pb, PEER_DOWN);
	ev_timer_stop(fake_loop, &pb->punch_timer);
	ev_timer_stop(fake_loop, &pb->retry_timer);

	/* a stranger replays it 100 times: not one datagram towards it */
	rp_count(9);
	rp_replay(a, 9, 100);
	fakenet_run(NULL, NULL, 0.3);
	ck_assert_int_eq(rp_total(), 0);
	ck_assert_uint_eq(a->pd.ctr.join_repeat, 100);
	ck_assert_uint_eq(a->pd.ctr.join_moved, 100);
	ck_assert_int_eq(a->pd.npeers, 1);

	/* from b's own address (a spoofed source, or b itself): the cached
	 * WELCOME, at most the burst of 4 (+1 for the time the test takes) */
	rp_count(b->port);
	rp_replay(a, b->port, 100);
	ck_assert_int_ge(rp.n[PACKET_JOIN_WELCOME], 4);
	ck_assert_int_le(rp.n[PACKET_JOIN_WELCOME], 5);
	ck_assert_int_eq(rp_total(), rp.n[PACKET_JOIN_WELCOME]);
	ck_assert_uint_ge(a->pd.ctr.join_limited, 95);
	/* the same sealed secret and signature every time: no new sealing */
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(packet_decode(rp.welcome[i],
		    rp.welcome_len[i], mi->key, &h, &pl[i], &plen[i]), 0);
		ck_assert_int_eq(h.type, PACKET_JOIN_WELCOME);
	}
	ck_assert_uint_eq(plen[0], plen[1]);
	ck_assert_mem_eq(pl[0], pl[1], plen[0]);
	ck_assert_uint_eq(plen[0], mi->uses[0].welcome_len);
	ck_assert_mem_eq(pl[0], mi->uses[0].welcome, plen[0]);
	/* ten seconds on, the bucket is full again, and no fuller */
	fakenet_jump(10);
	rp_count(b->port);
	rp_replay(a, b->port, 100);
	ck_assert_int_le(rp.n[PACKET_JOIN_WELCOME], 5);
	ck_assert_int_ge(rp.n[PACKET_JOIN_WELCOME], 4);

	/* c is refused (one use, used); its HELLO replayed: at most the
	 * refusal bucket's 4 REFUSEs */
	memset(&js, 0, sizeof(js));
	join(c, inv.token, &js);
	ck_assert(fakenet_run(join_over, &js, 5));
	ck_assert_int_eq(js.err.code, RESULT_REFUSED);
	ck_assert_uint_ge(a->pd.ctr.join_refused, 1);
	fakenet_jump(10);
	rp_count(c->port);
	rp_replay(a, c->port, 100);
	ck_assert_int_le(rp.n[PACKET_JOIN_REFUSE], 5);
	ck_assert_int_ge(rp.n[PACKET_JOIN_REFUSE], 1);
	ck_assert_int_eq(rp_total(), rp.n[PACKET_JOIN_REFUSE]);
	ck_assert(!c->pd.mesh.have);
	fakenet_free();
}
END_TEST

/* inviter_guard.c alone: where a repeated HELLO's answer may go */
START_TEST(test_join_guard)
{
	static struct punchd	 pd;
	static struct mesh_invite inv;
	struct mesh_invite_use	 u;
	struct sockaddr_in	 first = fake_addr(1000), other = fake_addr(1001);
	int			 i, n;

	memset(&pd, 0, sizeof(pd));
	memset(&inv, 0, sizeof(inv));
	memset(&u, 0, sizeof(u));
	inv.pd = &pd;
	/* after a restart: the first repeat stands for the first use */
	ck_assert_int_eq(inviter_guard_repeat(&inv, &u,
	    (struct sockaddr *)&first, 100.0), INVITER_DEST_SOURCE);
	ck_assert(u.seen);
	/* another address, no relay session: nothing; with one: the relay */
	ck_assert_int_eq(inviter_guard_repeat(&inv, &u,
	    (struct sockaddr *)&other, 100.0), INVITER_DEST_NONE);
	ck_assert_uint_eq(pd.ctr.join_moved, 1);
	inv.relay = (struct relay_client *)&inv;	/* any non-NULL */
	ck_assert_int_eq(inviter_guard_repeat(&inv, &u,
	    (struct sockaddr *)&other, 100.0), INVITER_DEST_RELAY);
	ck_assert_int_eq(inviter_guard_repeat(&inv, &u, NULL, 100.0),
	    INVITER_DEST_RELAY);
	/* the burst of 4 is spent (3 answers above): one more, then none
	 * until time passes; 1 a second after that, never more than 4 */
	ck_assert_int_eq(inviter_guard_repeat(&inv, &u,
	    (struct sockaddr *)&first, 100.0), INVITER_DEST_SOURCE);
	ck_assert_int_eq(inviter_guard_repeat(&inv, &u,
	    (struct sockaddr *)&first, 100.0), INVITER_DEST_NONE);
	ck_assert_uint_eq(pd.ctr.join_limited, 1);
	ck_assert_int_eq(inviter_guard_repeat(&inv, &u,
	    (struct sockaddr *)&first, 101.0), INVITER_DEST_SOURCE);
	for (i = n = 0; i < 1000; i++)
		n += inviter_guard_repeat(&inv, &u, (struct sockaddr *)&first,
		    101.0 + i * 0.01) != INVITER_DEST_NONE;
	ck_assert_int_ge(n, 9);
	ck_assert_int_le(n, 11);		/* 10 s at 1/s */
	for (i = n = 0; i < 100; i++)
		n += inviter_guard_repeat(&inv, &u, (struct sockaddr *)&first,
		    5000.0) != INVITER_DEST_NONE;
	ck_assert_int_eq(n, 4);			/* an hour idle: 4, not 3600 */
	ck_assert_uint_eq(pd.ctr.join_repeat, 1107);
	/* a clock that went back does not stop answers for good */
	ck_assert_int_eq(inviter_guard_repeat(&inv, &u,
	    (struct sockaddr *)&first, 10.0), INVITER_DEST_SOURCE);
	/* refusals: their own bucket */
	for (i = n = 0; i < 100; i++)
		n += inviter_guard_refuse(&inv, 200.0);
	ck_assert_int_eq(n, 4);
	ck_assert_uint_eq(pd.ctr.join_refused, 100);
}
END_TEST

static int
store_idle(void *arg)
{
	return !ev_is_active(&((struct fake_node *)arg)->pd.store_timer);
}

/*
 * Quiet when idle: a node without peers runs no timer of its own; a
 * session starts the e2e timer, and it stops again with the last session,
 * as the peers file's timer stops once the change is written. Without the
 * harness's own tick, the loop then ends by itself: no watcher is left.
 */
START_TEST(test_quiet_when_idle)
{
	struct fake_node	*a, *b, *n[2];
	struct inviter_res	 inv;
	struct join_seen	 js;
	struct result		 err;
	double			 t0;

	a = fakenode_new(17141, NULL);
	ck_assert(!ev_is_active(&a->pd.e2e_timer));
	ck_assert(!ev_is_active(&a->pd.store_timer));

	b = fakenode_new(17142, NULL);
	ck_assert_int_eq(node_mesh_create(&a->pd, "lab", 0, &err), 0);
	mint(a, &inv);
	memset(&js, 0, sizeof(js));
	join(b, inv.token, &js);
	ck_assert(fakenet_run(join_over, &js, 5));
	n[0] = a;
	n[1] = b;
	ck_assert(fakenet_run(sessions_up, n, 3));
	ck_assert(ev_is_active(&a->pd.e2e_timer));

	/* b goes; a removes it: back to nothing to do */
	node_stop(&b->pd);
	node_peer_remove(peer_find_id(&a->pd, b->pd.node_id));
	ck_assert(ev_is_active(&a->pd.store_timer));
	ev_invoke(fake_loop, &a->pd.e2e_timer, EV_TIMER);
	ck_assert(!ev_is_active(&a->pd.e2e_timer));
	ck_assert(fakenet_run(store_idle, a, 3));
	ck_assert_int_eq(e2e_session_count(&a->pd), 0);
	ev_timer_stop(fake_loop, &fake_tick);
	t0 = ev_time();
	ev_run(fake_loop, 0);	/* returns once nothing is active */
	ck_assert_double_lt(ev_time() - t0, 1.0);
	fakenet_free();
}
END_TEST

Suite *
mesh_suite(void)
{
	Suite	*s = suite_create("mesh");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_invite_join_e2e);
	tcase_add_test(tc, test_invite_used);
	tcase_add_test(tc, test_join_errors);
	tcase_add_test(tc, test_join_race);
	tcase_add_test(tc, test_join_race6);
	tcase_add_test(tc, test_join_hostile);
	tcase_add_test(tc, test_join_replay);
	tcase_add_test(tc, test_join_guard);
	tcase_add_test(tc, test_quiet_when_idle);
	suite_add_tcase(s, tc);
	return s;
}
