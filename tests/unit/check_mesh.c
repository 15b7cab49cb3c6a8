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
	ck_assert_msg(joiner_start(&b->pd, &req, join_done, js, &err) == 0,
	    "%s", err.msg);
}

/*
 * The race: local (dead) starts at 0, public (the inviter) at 250 ms and
 * wins; local is cancelled, the relay (not in the invite) absent. Then
 * both endpoints dead and no relay: the join fails once both timed out,
 * naming each path and what would help.
 */
START_TEST(test_join_race)
{
	struct fake_node	*a, *b, *c;
	struct inviter_res	 inv;
	struct join_seen	 js;
	struct result		 err;
	const struct joiner_attempt *at;

	a = fakenode_new(17131, NULL);
	b = fakenode_new(17132, NULL);
	c = fakenode_new(17133, NULL);
	c->cut = 1;	/* a dead endpoint */
	ck_assert_int_eq(node_mesh_create(&a->pd, "lab", 0, &err), 0);
	mint_eps(a, "127.0.0.1:17133", "127.0.0.1:17131", &inv);
	race(b, inv.token, &js);
	ck_assert(fakenet_run(join_over, &js, 5));
	ck_assert_msg(js.err.code == RESULT_OK, "join: %s", js.err.msg);
	ck_assert_str_eq(js.res.path, "public");
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
	tcase_add_test(tc, test_join_hostile);
	tcase_add_test(tc, test_quiet_when_idle);
	suite_add_tcase(s, tc);
	return s;
}
