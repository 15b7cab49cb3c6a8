/*
 * punchd/punch: candidate and pair priorities, check order, per-pair and
 * overall limits, and two state machines wired back to back through an
 * in-memory network (loss and restarts included) that must agree on one
 * pair.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "common/netaddr.h"
#include "punchd/punch.h"
#include "suites.h"

static const struct punch_params params = { 0.2, 10.0, 5 };

static struct sockaddr_storage
addr(const char *s)
{
	struct sockaddr_storage ss;

	ck_assert_int_eq(netaddr_parse(s, 0, &ss), 0);
	return ss;
}

/* ---- a recording sender -------------------------------------------------- */

struct sent {
	uint8_t			type;
	struct packet_punch	p;
	struct sockaddr_storage	to;
};

struct rec {
	struct sent	out[256];
	int		n;
	uint32_t	ctr;
};

static void
rec_send(void *arg, uint8_t type, const struct packet_punch *p,
    const struct sockaddr *to)
{
	struct rec *r = arg;

	ck_assert_int_lt(r->n, 256);
	r->out[r->n].type = type;
	r->out[r->n].p = *p;
	memcpy(&r->out[r->n].to, to, netaddr_len(to));
	r->n++;
}

static void
rec_rand(void *arg, uint8_t *buf, size_t len)
{
	struct rec *r = arg;

	memset(buf, 0, len);
	r->ctr++;
	memcpy(buf, &r->ctr, sizeof(r->ctr));
}

START_TEST(test_cand_prio)
{
	ck_assert_uint_gt(punch_cand_prio(CAND_HOST, 0),
	    punch_cand_prio(CAND_PRFLX, 0));
	ck_assert_uint_gt(punch_cand_prio(CAND_PRFLX, 0),
	    punch_cand_prio(CAND_SRFLX, 0));
	ck_assert_uint_gt(punch_cand_prio(CAND_SRFLX, 0),
	    punch_cand_prio(CAND_RELAY, 0));
	/* a port the gateway maps: below host, above the reflexive ones */
	ck_assert_uint_gt(punch_cand_prio(CAND_HOST, 0),
	    punch_cand_prio(CAND_MAPPED, 0));
	ck_assert_uint_gt(punch_cand_prio(CAND_MAPPED, 0),
	    punch_cand_prio(CAND_PRFLX, 0));
	ck_assert_str_eq(punch_cand_type_str(CAND_MAPPED), "mapped");
	ck_assert_str_eq(punch_cand_type_str(CAND_NTYPES), "?");
	/* a later candidate of one type never outranks a better type */
	ck_assert_uint_gt(punch_cand_prio(CAND_HOST, 1000),
	    punch_cand_prio(CAND_PRFLX, 0));
	ck_assert_uint_gt(punch_cand_prio(CAND_HOST, 0),
	    punch_cand_prio(CAND_HOST, 1));
	/* RFC 8445 5.1.2.1: host, first, component 1 */
	ck_assert_uint_eq(punch_cand_prio(CAND_HOST, 0),
	    (126u << 24) + (65535u << 8) + 255);
	/* RFC 8445 6.1.2.3 is symmetric up to the tie bit */
	ck_assert_uint_eq(punch_pair_prio(10, 20) + 1, punch_pair_prio(20, 10));
}
END_TEST

/* A known address keeps its better type, by preference, not enum order:
 * srflx (guessed) -> mapped (signalled) is an upgrade, back is not. */
START_TEST(test_cand_upgrade)
{
	struct punch		p;
	struct rec		r = { .n = 0 };
	struct sockaddr_storage	a = addr("100.128.0.11:7777");
	uint32_t		srflx;

	punch_init(&p, &params, rec_send, rec_rand, &r);
	ck_assert_int_eq(punch_add_remote(&p, CAND_SRFLX,
	    (struct sockaddr *)&a), 0);
	srflx = p.pairs[0].remote.prio;
	ck_assert_int_eq(punch_add_remote(&p, CAND_MAPPED,
	    (struct sockaddr *)&a), 0);
	ck_assert_int_eq(p.pairs[0].remote.type, CAND_MAPPED);
	ck_assert_uint_gt(p.pairs[0].remote.prio, srflx);
	ck_assert_int_eq(punch_add_remote(&p, CAND_SRFLX,
	    (struct sockaddr *)&a), 0);
	ck_assert_int_eq(p.pairs[0].remote.type, CAND_MAPPED);
	ck_assert_int_eq(punch_add_remote(&p, CAND_RELAY,
	    (struct sockaddr *)&a), 0);
	ck_assert_int_eq(p.pairs[0].remote.type, CAND_MAPPED);
	ck_assert_int_eq(punch_add_remote(&p, CAND_HOST,
	    (struct sockaddr *)&a), 0);
	ck_assert_int_eq(p.pairs[0].remote.type, CAND_HOST);
	punch_free(&p);
}
END_TEST

START_TEST(test_pair_order)
{
	struct punch		p;
	struct rec		r = { .n = 0 };
	struct sockaddr_storage	a[4];
	int			idx[PUNCH_MAX_CANDS], n, i;

	punch_init(&p, &params, rec_send, rec_rand, &r);
	a[0] = addr("203.0.113.5:7777");	/* srflx */
	a[1] = addr("198.51.100.9:443");	/* relay */
	a[2] = addr("192.168.1.5:7777");	/* host */
	a[3] = addr("203.0.113.5:40000");	/* prflx */
	ck_assert_int_eq(punch_add_remote(&p, CAND_SRFLX,
	    (struct sockaddr *)&a[0]), 0);
	ck_assert_int_eq(punch_add_remote(&p, CAND_RELAY,
	    (struct sockaddr *)&a[1]), 1);
	ck_assert_int_eq(punch_add_remote(&p, CAND_HOST,
	    (struct sockaddr *)&a[2]), 2);
	ck_assert_int_eq(punch_add_remote(&p, CAND_PRFLX,
	    (struct sockaddr *)&a[3]), 3);
	/* duplicates are the same pair */
	ck_assert_int_eq(punch_add_remote(&p, CAND_SRFLX,
	    (struct sockaddr *)&a[2]), 2);
	ck_assert_int_eq(p.npairs, 4);
	n = punch_order(&p, idx);
	ck_assert_int_eq(n, 4);
	ck_assert_int_eq(idx[0], 2);	/* host */
	ck_assert_int_eq(idx[1], 3);	/* peer-reflexive */
	ck_assert_int_eq(idx[2], 0);	/* server-reflexive */
	ck_assert_int_eq(idx[3], 1);	/* relay */

	/* one round of PUNCH goes out in that order */
	punch_start(&p, 100.0);
	ck_assert(punch_tick(&p, 100.0) > 100.0);
	ck_assert_int_eq(r.n, 4);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(r.out[i].type, PACKET_PUNCH);
		ck_assert(netaddr_equal((struct sockaddr *)&r.out[i].to,
		    (struct sockaddr *)&a[idx[i]]));
		ck_assert_int_eq(r.out[i].p.pflags & PACKET_PF_NOMINATE, 0);
	}

	/* learning a better type for a known address promotes it */
	ck_assert_int_eq(punch_add_remote(&p, CAND_HOST,
	    (struct sockaddr *)&a[0]), 0);
	n = punch_order(&p, idx);
	ck_assert(idx[0] == 0 || idx[1] == 0);
	punch_free(&p);
}
END_TEST

START_TEST(test_limits)
{
	struct punch		p;
	struct rec		r = { .n = 0 };
	struct sockaddr_storage	a = addr("192.0.2.1:1");
	double			now = 50, next;
	int			rounds = 0;

	punch_init(&p, &params, rec_send, rec_rand, &r);
	punch_add_remote(&p, CAND_HOST, (struct sockaddr *)&a);
	punch_start(&p, now);
	/* per-pair limit: max_sends PUNCHes, then the pair fails */
	while ((next = punch_tick(&p, now)) > 0 && rounds < 1000) {
		now = next;
		rounds++;
	}
	ck_assert_int_eq(r.n, params.max_sends);
	ck_assert_int_eq(p.pairs[0].state, PAIR_FAILED);
	/* ... and the attempt as a whole ends at the timeout */
	ck_assert_int_eq(p.state, PUNCH_FAILED);
	ck_assert(now - 50 >= params.timeout - 1e-9);
	ck_assert(now - 50 < params.timeout + params.interval + 1e-9);
	ck_assert_ptr_null(punch_selected(&p));
	/* every PUNCH of the attempt used the pair's one transaction id */
	ck_assert_mem_eq(r.out[0].p.txid, r.out[4].p.txid, PACKET_TXID_LEN);
	punch_free(&p);
}
END_TEST

/* ---- two state machines through an in-memory network --------------------- */

struct node {
	struct punch		p;
	struct sockaddr_storage	self;
	struct net		*net;
	uint32_t		ctr;
};

struct pkt {
	uint8_t			type;
	struct packet_punch	p;
	struct sockaddr_storage	from, to;
};

struct net {
	struct pkt	q[4096];
	int		head, tail;
	int		drop_every;	/* drop 1 in N at random, 0 = none */
	uint64_t	rng;
	int		count;
	struct node	*nodes[2];
};

static void
net_send(void *arg, uint8_t type, const struct packet_punch *p,
    const struct sockaddr *to)
{
	struct node	*n = arg;
	struct net	*net = n->net;
	struct pkt	*k;

	net->count++;
	/* xorshift: deterministic, so a failure reproduces */
	net->rng ^= net->rng << 13;
	net->rng ^= net->rng >> 7;
	net->rng ^= net->rng << 17;
	if (net->drop_every && net->rng % net->drop_every == 0)
		return;
	ck_assert_int_lt(net->tail, 4096);
	k = &net->q[net->tail++];
	k->type = type;
	k->p = *p;
	k->from = n->self;
	memcpy(&k->to, to, netaddr_len(to));
}

static void
net_rand(void *arg, uint8_t *buf, size_t len)
{
	struct node *n = arg;

	memset(buf, 0, len);
	n->ctr++;
	memcpy(buf, &n->ctr, sizeof(n->ctr));
	memcpy(buf + 4, &n, sizeof(void *) < 8 ? sizeof(void *) : 8);
}

static void
node_init(struct node *n, struct net *net, const char *self, int controlling)
{
	punch_init(&n->p, &params, net_send, net_rand, n);
	n->self = addr(self);
	n->net = net;
	n->p.controlling = controlling;
}

/* Run both until neither has anything to send or `until` passes. */
static void
net_run(struct net *net, double now, double until)
{
	struct pkt	*k;
	double		 next[2];
	int		 i;

	next[0] = next[1] = now;
	while (now < until) {
		for (i = 0; i < 2; i++)
			if (next[i] >= 0 && next[i] <= now) {
				next[i] = punch_tick(&net->nodes[i]->p, now);
				if (next[i] == 0)
					next[i] = -1;
			}
		while (net->head < net->tail) {
			k = &net->q[net->head++];
			for (i = 0; i < 2; i++)
				if (netaddr_equal((struct sockaddr *)&k->to,
				    (struct sockaddr *)&net->nodes[i]->self))
					punch_input(&net->nodes[i]->p, k->type,
					    &k->p, (struct sockaddr *)&k->from,
					    now);
		}
		if (net->nodes[0]->p.state != PUNCH_RUNNING &&
		    net->nodes[1]->p.state != PUNCH_RUNNING)
			break;
		now += 0.01;
	}
}

static void
assert_agree(struct node *a, struct node *b)
{
	const struct punch_pair *pa = punch_selected(&a->p),
	    *pb = punch_selected(&b->p);

	ck_assert_int_eq(a->p.state, PUNCH_DONE);
	ck_assert_int_eq(b->p.state, PUNCH_DONE);
	ck_assert_ptr_nonnull(pa);
	ck_assert_ptr_nonnull(pb);
	ck_assert(netaddr_equal((struct sockaddr *)&pa->remote.addr,
	    (struct sockaddr *)&b->self));
	ck_assert(netaddr_equal((struct sockaddr *)&pb->remote.addr,
	    (struct sockaddr *)&a->self));
}

START_TEST(test_handshake_one_side_knows)
{
	static struct net	net;
	static struct node	a, b;

	memset(&net, 0, sizeof(net));
	net.nodes[0] = &a;
	net.nodes[1] = &b;
	node_init(&a, &net, "10.0.0.1:7777", _i);
	node_init(&b, &net, "10.0.0.2:7777", !_i);
	/* only A knows where B is; B learns A as peer-reflexive */
	punch_add_remote(&a.p, CAND_SRFLX, (struct sockaddr *)&b.self);
	punch_start(&a.p, 0);
	punch_start(&b.p, 0);
	net_run(&net, 0, 5);
	assert_agree(&a, &b);
	ck_assert_int_eq(punch_selected(&b.p)->remote.type, CAND_PRFLX);
	/* it took at most a couple of rounds on a lossless network */
	ck_assert_int_lt(net.count, 20);
	punch_free(&a.p);
	punch_free(&b.p);
}
END_TEST

START_TEST(test_nomination_agrees)
{
	static struct net	net;
	static struct node	a, b;
	struct sockaddr_storage	dead1 = addr("192.0.2.99:1"),
				dead2 = addr("192.0.2.98:1");

	memset(&net, 0, sizeof(net));
	net.nodes[0] = &a;
	net.nodes[1] = &b;
	node_init(&a, &net, "10.0.0.1:7777", 1);
	node_init(&b, &net, "10.0.0.2:7777", 0);
	/* both know several candidates, some of them dead */
	punch_add_remote(&a.p, CAND_HOST, (struct sockaddr *)&dead1);
	punch_add_remote(&a.p, CAND_SRFLX, (struct sockaddr *)&b.self);
	punch_add_remote(&b.p, CAND_HOST, (struct sockaddr *)&dead2);
	punch_add_remote(&b.p, CAND_SRFLX, (struct sockaddr *)&a.self);
	punch_start(&a.p, 0);
	punch_start(&b.p, 0);
	net_run(&net, 0, 5);
	assert_agree(&a, &b);
	punch_free(&a.p);
	punch_free(&b.p);
}
END_TEST

START_TEST(test_lossy)
{
	static struct net	net;
	static struct node	a, b;

	memset(&net, 0, sizeof(net));
	net.drop_every = 2 + _i % 3;	/* lose 1 in 2, 3, 4 */
	net.rng = 0x9e3779b97f4a7c15ULL + _i;
	net.nodes[0] = &a;
	net.nodes[1] = &b;
	node_init(&a, &net, "10.0.0.1:7777", 0);
	node_init(&b, &net, "10.0.0.2:7777", 1);
	punch_add_remote(&a.p, CAND_SRFLX, (struct sockaddr *)&b.self);
	punch_add_remote(&b.p, CAND_SRFLX, (struct sockaddr *)&a.self);
	punch_start(&a.p, 0);
	punch_start(&b.p, 0);
	net_run(&net, 0, 9);
	assert_agree(&a, &b);
	punch_free(&a.p);
	punch_free(&b.p);
}
END_TEST

START_TEST(test_restart_rejoins)
{
	static struct net	net;
	static struct node	a, b;

	memset(&net, 0, sizeof(net));
	net.nodes[0] = &a;
	net.nodes[1] = &b;
	node_init(&a, &net, "10.0.0.1:7777", _i);
	node_init(&b, &net, "10.0.0.2:7777", !_i);
	punch_add_remote(&a.p, CAND_SRFLX, (struct sockaddr *)&b.self);
	punch_start(&a.p, 0);
	punch_start(&b.p, 0);
	net_run(&net, 0, 5);
	assert_agree(&a, &b);
	/* B restarts: a fresh state machine punches the still-settled A */
	punch_free(&b.p);
	node_init(&b, &net, "10.0.0.2:7777", !_i);
	b.ctr = 1000;
	punch_add_remote(&b.p, CAND_SRFLX, (struct sockaddr *)&a.self);
	punch_start(&b.p, 10);
	if (!_i)
		punch_start(&a.p, 10);	/* A controlled: it re-punches too */
	net_run(&net, 10, 15);
	assert_agree(&a, &b);
	punch_free(&a.p);
	punch_free(&b.p);
}
END_TEST

START_TEST(test_stale_ack_ignored)
{
	struct punch		p;
	struct rec		r = { .n = 0 };
	struct sockaddr_storage	a = addr("192.0.2.1:1");
	struct packet_punch	ack;

	punch_init(&p, &params, rec_send, rec_rand, &r);
	p.controlling = 1;
	punch_add_remote(&p, CAND_HOST, (struct sockaddr *)&a);
	punch_start(&p, 0);
	punch_tick(&p, 0);
	memset(&ack, 0, sizeof(ack));
	memset(ack.txid, 0xee, sizeof(ack.txid));	/* not ours */
	ck_assert_int_eq(punch_input(&p, PACKET_PUNCH_ACK, &ack,
	    (struct sockaddr *)&a, 0.1), PUNCH_EV_NONE);
	ck_assert_int_eq(p.pairs[0].state, PAIR_INPROGRESS);
	/* the real one validates the pair and starts the nomination */
	memcpy(ack.txid, p.pairs[0].txid, PACKET_TXID_LEN);
	ack.echo = 0;
	r.n = 0;
	ck_assert_int_eq(punch_input(&p, PACKET_PUNCH_ACK, &ack,
	    (struct sockaddr *)&a, 0.1), PUNCH_EV_VALID);
	ck_assert_int_eq(p.pairs[0].state, PAIR_SUCCEEDED);
	ck_assert_int_eq(p.nominating, 0);
	ck_assert_int_eq(r.n, 2);	/* CONFIRM, then nominating PUNCH */
	ck_assert_int_eq(r.out[0].type, PACKET_PUNCH_CONFIRM);
	ck_assert_int_eq(r.out[1].type, PACKET_PUNCH);
	ck_assert(r.out[1].p.pflags & PACKET_PF_NOMINATE);
	punch_free(&p);
}
END_TEST

START_TEST(test_full_table)
{
	struct punch		p;
	struct rec		r = { .n = 0 };
	struct sockaddr_storage	a;
	struct packet_punch	ack;
	char			buf[64];
	int			i, j;

	punch_init(&p, &params, rec_send, rec_rand, &r);
	p.controlling = 1;
	for (i = 0; i < PUNCH_MAX_CANDS; i++) {
		snprintf(buf, sizeof(buf), "192.0.2.%d:%d", i + 1, 1000 + i);
		a = addr(buf);
		ck_assert_int_eq(punch_add_remote(&p, i == 3 ? CAND_HOST :
		    CAND_PRFLX, (struct sockaddr *)&a), i);
	}
	/* pair 5 is proven: it must survive */
	punch_start(&p, 0);
	punch_tick(&p, 0);
	memset(&ack, 0, sizeof(ack));
	memcpy(ack.txid, p.pairs[5].txid, PACKET_TXID_LEN);
	a = addr("192.0.2.6:1005");
	ck_assert_int_eq(punch_input(&p, PACKET_PUNCH_ACK, &ack,
	    (struct sockaddr *)&a, 0.01), PUNCH_EV_VALID);
	/* a roaming peer: many new addresses, each gets a pair */
	for (j = 0; j < 40; j++) {
		snprintf(buf, sizeof(buf), "198.51.100.7:%d", 2000 + j);
		a = addr(buf);
		i = punch_add_remote(&p, CAND_PRFLX, (struct sockaddr *)&a);
		ck_assert_int_ge(i, 0);
		ck_assert_int_ne(i, 5);		/* proven */
		ck_assert_int_ne(i, 3);		/* host outranks prflx */
		ck_assert_int_eq(punch_find(&p, (struct sockaddr *)&a), i);
	}
	ck_assert_int_eq(p.npairs, PUNCH_MAX_CANDS);
	ck_assert_int_eq(p.pairs[5].state, PAIR_SUCCEEDED);
	ck_assert_int_eq(p.pairs[3].remote.type, CAND_HOST);
	/* the nominated pair is kept too */
	ck_assert_int_eq(p.nominating, 5);
	punch_free(&p);
}
END_TEST

Suite *
punch_suite(void)
{
	Suite	*s = suite_create("punch");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_cand_prio);
	tcase_add_test(tc, test_cand_upgrade);
	tcase_add_test(tc, test_pair_order);
	tcase_add_test(tc, test_limits);
	tcase_add_loop_test(tc, test_handshake_one_side_knows, 0, 2);
	tcase_add_test(tc, test_nomination_agrees);
	tcase_add_loop_test(tc, test_lossy, 0, 12);
	tcase_add_loop_test(tc, test_restart_rejoins, 0, 2);
	tcase_add_test(tc, test_stale_ack_ignored);
	tcase_add_test(tc, test_full_table);
	suite_add_tcase(s, tc);
	return s;
}
