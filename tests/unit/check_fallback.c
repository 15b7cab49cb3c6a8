/*
 * punchd's relay fallback in one process (fakenode.h: fake socket, fake
 * clock): no direct path, the punch attempt fails, a pending peer.punch
 * waits for the relay session instead of failing, the first authenticated
 * packet through the relay makes the peer "relayed" (peer.up) and answers
 * it; replays and forgeries through the relay are dropped; once the direct
 * path opens, background punching moves the peer to it (peer.path). The
 * relay itself is a listener that never answers: the session stays
 * "connecting", and the test hands the relayed packets to hooks.relay_rx
 * as relay.c would.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "punchd/pending.h"
#include "fakenode.h"
#include "suites.h"

#define SECRET	\
	"6d0c0ffee6d0c0ffee6d0c0ffee6d0c0ffee6d0c0ffee6d0c0ffee6d0c0ffee0"

struct punch_seen {
	int		called;
	struct result	err;
	enum peer_state	state;
};

static void
punch_done(void *arg, struct peer *p, const struct pending_res *res,
    const struct result *err)
{
	struct punch_seen *ps = arg;

	(void)res;
	ps->called++;
	ps->state = p->state;
	if (err != NULL)
		ps->err = *err;
}

static int
punch_called(void *arg)
{
	return ((struct punch_seen *)arg)->called > 0;
}

static void
punch(struct fake_node *from, struct fake_node *to, struct punch_seen *ps)
{
	struct pending_punch_req	req;
	struct sockaddr_in		sin = fake_addr(to->port);
	struct result			err;

	memset(&req, 0, sizeof(req));
	memset(ps, 0, sizeof(*ps));
	req.name = to->pd.node_idstr;
	memcpy(&req.cands[0], &sin, sizeof(sin));
	req.ncands = 1;
	req.timeout = 5;
	ck_assert_msg(pending_punch(&from->pd, &req, punch_done, ps,
	    &err) == 0, "%s", err.msg);
}

/* a TCP listener that accepts nothing: a relay that never answers */
static int
silent_relay(int *port)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

/* one packet of `from`'s, as its punchd would send it to the relay */
static size_t
packet_from(struct fake_node *from, uint8_t type, const uint8_t *key,
    uint8_t *buf, size_t cap)
{
	struct packet_hdr	h;
	ssize_t			n;

	memset(&h, 0, sizeof(h));
	h.version = PACKET_VERSION;
	h.type = type;
	memcpy(h.sender, from->pd.node_id, PACKET_NODEID_LEN);
	h.seq = from->pd.seq++;
	n = packet_encode(buf, cap, &h, NULL, 0, key);
	ck_assert_int_gt(n, 0);
	return (size_t)n;
}

struct wait_state {
	struct peer	*p;
	enum peer_state	 state;
};

static int
in_state(void *arg)
{
	struct wait_state *w = arg;

	return w->p->state == w->state;
}

static int
store_written(void *arg)
{
	return !ev_is_active(&((struct fake_node *)arg)->pd.store_timer);
}

/* n's peers file has a line for m's node id */
static int
peers_file_has(struct fake_node *n, struct fake_node *m)
{
	char	path[128], line[512];
	FILE	*f;
	int	found = 0;

	snprintf(path, sizeof(path), "%s/peers", n->dir);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (!strncmp(line, m->pd.node_idstr, strlen(m->pd.node_idstr)))
			found = 1;
	fclose(f);
	return found;
}

START_TEST(test_relay_fallback)
{
	struct fake_node	*a, *b;
	struct punch_seen	 pa_seen, pb_seen;
	struct wait_state	 w;
	struct peer		*p;
	uint8_t			 buf[PACKET_MAX_LEN], copy[PACKET_MAX_LEN];
	uint8_t			 bad[PACKET_KEY_LEN];
	size_t			 n;
	int			 lfd, port;

	a = fakenode_new(17201, SECRET);
	b = fakenode_new(17202, SECRET);
	lfd = silent_relay(&port);
	snprintf(a->pd.relay_urls, sizeof(a->pd.relay_urls),
	    "ws://127.0.0.1:%d", port);

	/* no direct path: the attempt fails, the request waits for the
	 * relay session that opened with it */
	b->cut = 1;
	punch(a, b, &pa_seen);
	p = peer_find_id(&a->pd, b->pd.node_id);
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(p->relay);
	w.p = p;
	w.state = PEER_DOWN;
	ck_assert(fakenet_run(in_state, &w, 3));
	ck_assert_str_eq(fake_last_event(a), "peer.down");
	ck_assert_int_eq(pa_seen.called, 0);

	/* b's KEEPALIVE through the relay: relayed, peer.up, answered */
	n = packet_from(b, PACKET_KEEPALIVE, b->pd.key, buf, sizeof(buf));
	memcpy(copy, buf, n);
	a->pd.hooks.relay_rx(p, buf, n);
	ck_assert_int_eq(p->state, PEER_RELAYED);
	ck_assert_str_eq(peer_path(p), "relay");
	ck_assert_str_eq(fake_last_event(a), "peer.up");
	ck_assert_int_eq(pa_seen.called, 1);
	ck_assert_int_eq(pa_seen.err.code, RESULT_OK);
	ck_assert_int_eq(pa_seen.state, PEER_RELAYED);
	ck_assert_uint_eq(a->pd.ctr.relay_rx, 1);
	/* a relay-only peer survives a restart: it is in the peers file */
	ck_assert(fakenet_run(store_written, a, 3));
	ck_assert_msg(peers_file_has(a, b), "b not in a's peers file");

	/* the same packet again, and one under another key: dropped */
	a->pd.hooks.relay_rx(p, copy, n);
	ck_assert_uint_eq(a->pd.ctr.drop_replay, 1);
	randombytes_buf(bad, sizeof(bad));
	n = packet_from(b, PACKET_KEEPALIVE, bad, buf, sizeof(buf));
	a->pd.hooks.relay_rx(p, buf, n);
	ck_assert_uint_eq(a->pd.ctr.drop_auth, 1);
	ck_assert_uint_eq(a->pd.ctr.relay_rx, 1);
	ck_assert_int_eq(p->state, PEER_RELAYED);

	/* the direct path opens: the peer moves to it (peer.path) */
	b->cut = 0;
	punch(b, a, &pb_seen);
	w.state = PEER_DIRECT;
	ck_assert(fakenet_run(in_state, &w, 3));
	ck_assert_str_eq(fake_last_event(a), "peer.path");
	ck_assert_str_eq(peer_path(p), "direct");
	ck_assert_int_eq(pb_seen.called, 1);
	ck_assert_int_eq(pb_seen.err.code, RESULT_OK);
	fakenet_free();
	close(lfd);
}
END_TEST

/* Without a relay the request fails with the attempt. */
START_TEST(test_no_relay_timeout)
{
	struct fake_node	*a, *b;
	struct punch_seen	 seen;

	a = fakenode_new(17211, SECRET);
	b = fakenode_new(17212, SECRET);
	b->cut = 1;
	punch(a, b, &seen);
	ck_assert_ptr_null(peer_find_id(&a->pd, b->pd.node_id)->relay);
	ck_assert(fakenet_run(punch_called, &seen, 3));
	ck_assert_int_eq(seen.err.code, RESULT_TIMEOUT);
	ck_assert_str_eq(seen.err.msg, "no candidate pair answered");
	ck_assert_int_eq(peer_find_id(&a->pd, b->pd.node_id)->state, PEER_DOWN);
	ck_assert_str_eq(fake_last_event(a), "peer.down");
	fakenet_free();
}
END_TEST

Suite *
fallback_suite(void)
{
	Suite	*s = suite_create("fallback");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_relay_fallback);
	tcase_add_test(tc, test_no_relay_timeout);
	suite_add_tcase(s, tc);
	return s;
}
