/*
 * punchd's core in a unit test: nodes in one process, each a struct punchd
 * wired by node_init(), with
 *   - a fake socket: hooks.sock_tx queues every datagram in memory and
 *     fakenet_run() hands it to the addressed node's hooks.packet_rx; a
 *     node's address is 127.0.0.1:port, and a link can be cut;
 *   - a fake clock: hooks.clock is libev's time plus an offset that a test
 *     moves forward (fakenet_jump) to make an hour pass at once;
 *   - the event hook recorded (peer.up/path/down, peer.data).
 * The state directories are temporary and removed at the end.
 */
#ifndef TESTS_UNIT_FAKENODE_H
#define TESTS_UNIT_FAKENODE_H

#include <sys/stat.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <ev.h>

#include "punchd/punchd.h"
#include "punchd/node.h"

#define FAKE_NODES	4
#define FAKE_QUEUE	512
#define FAKE_EVENTS	64

struct fake_node {
	struct punchd	 pd;
	char		 dir[64];
	int		 port;
	int		 cut;		/* datagrams to and from it are lost */
	char		 events[FAKE_EVENTS][16];	/* peer.up ... */
	int		 nevents;
	uint8_t		 data[PUNCHD_MTU];		/* last peer.data */
	size_t		 datalen;
	int		 ndata;
};

struct fake_dgram {
	struct fake_node	*to;
	struct sockaddr_in	 from;
	size_t			 len;
	uint8_t			 buf[PACKET_MAX_LEN];
};

static struct fake_node		 fake_nodes[FAKE_NODES];
static int			 fake_nnodes;
static struct fake_dgram	 fake_q[FAKE_QUEUE];
static int			 fake_nq;
static double			 fake_offset;
static struct ev_loop		*fake_loop;
static ev_timer			 fake_tick;	/* ev_run never sleeps long */
static int			 fake_sent;	/* datagrams handed to the net */

static inline struct fake_node *
fake_of(const struct punchd *pd)
{
	return (struct fake_node *)((char *)pd -
	    offsetof(struct fake_node, pd));
}

static inline double
fake_clock(const struct punchd *pd)
{
	(void)pd;
	return ev_time() + fake_offset;
}

static inline void
fakenet_jump(double s)
{
	fake_offset += s;
}

static inline struct sockaddr_in
fake_addr(int port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	return sin;
}

static inline int
fake_sock_tx(struct punchd *pd, const void *buf, size_t len,
    const struct sockaddr *to)
{
	struct fake_node	*from = fake_of(pd), *n = NULL;
	int			 i;

	fake_sent++;
	if (to->sa_family != AF_INET || len > PACKET_MAX_LEN)
		return -1;
	for (i = 0; i < fake_nnodes; i++)
		if (((const struct sockaddr_in *)to)->sin_port ==
		    htons(fake_nodes[i].port))
			n = &fake_nodes[i];
	if (n == NULL || n->cut || from->cut || fake_nq == FAKE_QUEUE)
		return 0;	/* lost on the way, as UDP may be */
	fake_q[fake_nq].to = n;
	fake_q[fake_nq].from = fake_addr(from->port);
	fake_q[fake_nq].len = len;
	memcpy(fake_q[fake_nq].buf, buf, len);
	fake_nq++;
	return 0;
}

static inline void
fake_event_peer(struct punchd *pd, struct peer *p, const char *event,
    const char *reason, const struct sockaddr_storage *prev)
{
	struct fake_node *n = fake_of(pd);

	(void)p;
	(void)reason;
	(void)prev;
	if (n->nevents < FAKE_EVENTS)
		strlcpy(n->events[n->nevents++], event, sizeof(n->events[0]));
}

static inline void
fake_event_data(struct punchd *pd, struct peer *p, const uint8_t *data,
    size_t len)
{
	struct fake_node *n = fake_of(pd);

	(void)p;
	memcpy(n->data, data, len);
	n->datalen = len;
	n->ndata++;
}

/* the last event recorded, or "" */
static inline const char *
fake_last_event(const struct fake_node *n)
{
	return n->nevents > 0 ? n->events[n->nevents - 1] : "";
}

static inline void
fake_tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
}

/* A node with its own state directory on port `port`; mesh_secret NULL
 * leaves it without a mesh (a legacy secret of its own). */
static inline struct fake_node *
fakenode_new(int port, const char *mesh_secret)
{
	struct fake_node	*n = &fake_nodes[fake_nnodes++];
	char			 err[256];

	ck_assert_int_le(fake_nnodes, FAKE_NODES);
	memset(n, 0, sizeof(*n));
	if (fake_loop == NULL) {
		fake_loop = ev_loop_new(EVFLAG_AUTO);
		ev_timer_init(&fake_tick, fake_tick_cb, 0.005, 0.005);
		ev_timer_start(fake_loop, &fake_tick);
	}
	strlcpy(n->dir, "/tmp/punchd-unit-XXXXXX", sizeof(n->dir));
	ck_assert_ptr_nonnull(mkdtemp(n->dir));
	n->port = port;
	punchd_config_defaults(&n->pd.cfg);
	n->pd.cfg.port = port;
	n->pd.cfg.stun_refresh_ms = 0;
	n->pd.cfg.punch_interval_ms = 10;
	n->pd.cfg.punch_timeout_ms = 300;
	n->pd.cfg.repunch_ms = 100;
	strlcpy(n->pd.cfg.state_dir, n->dir, sizeof(n->pd.cfg.state_dir));
	if (mesh_secret != NULL)
		strlcpy(n->pd.cfg.mesh_secret, mesh_secret,
		    sizeof(n->pd.cfg.mesh_secret));
	n->pd.loop = fake_loop;
	ck_assert_msg(punchd_config_identity(&n->pd, err, sizeof(err)) == 0,
	    "%s", err);
	node_init(&n->pd);
	n->pd.hooks.sock_tx = fake_sock_tx;
	n->pd.hooks.clock = fake_clock;
	n->pd.events.peer = fake_event_peer;
	n->pd.events.data = fake_event_data;
	node_start(&n->pd);
	return n;
}

/* Delivers what is queued and runs due timers, until done(arg) or `s`
 * seconds of real time went by. Returns done's last answer. */
static inline int
fakenet_run(int (*done)(void *), void *arg, double s)
{
	struct fake_dgram	 d;
	double			 end = ev_time() + s;

	for (;;) {
		if (done != NULL && done(arg))
			return 1;
		if (ev_time() > end)
			return done != NULL ? done(arg) : 0;
		while (fake_nq > 0) {
			d = fake_q[0];
			memmove(&fake_q[0], &fake_q[1],
			    --fake_nq * sizeof(fake_q[0]));
			if (!d.to->cut && packet_is_ours(d.buf, d.len))
				d.to->pd.hooks.packet_rx(&d.to->pd, d.buf,
				    d.len, (struct sockaddr *)&d.from);
		}
		ev_run(fake_loop, EVRUN_ONCE);
	}
}

static inline int
fake_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* stops every node, removes their directories */
static inline void
fakenet_free(void)
{
	int i;

	for (i = 0; i < fake_nnodes; i++) {
		node_stop(&fake_nodes[i].pd);
		nftw(fake_nodes[i].dir, fake_rm, 8, FTW_DEPTH | FTW_PHYS);
	}
	fake_nnodes = 0;
	fake_nq = 0;
	fake_offset = 0;
	if (fake_loop != NULL) {
		ev_timer_stop(fake_loop, &fake_tick);
		ev_loop_destroy(fake_loop);
		fake_loop = NULL;
	}
}

#endif
