/*
 * relay_bench: relayd figures on loopback, each beside its reference measured
 * in the same run by the same program (docs/relay-bench.md).
 *
 *   throughput  one session, two clients (common/relay_client.c) through
 *               relayd, 1 KiB and 64 KiB frames, vs one raw TCP hop
 *               carrying the same frames (4-byte length prefix). The sender
 *               keeps at most WINDOW bytes ahead of the receiver in both
 *               cases: relayd drops, rather than slows, past its sendq_max.
 *   latency     64-byte ping-pong A -> relayd -> B -> relayd -> A vs
 *               A -> B -> A over one TCP connection; p50 and p99.
 *   memory      relayd's RSS before and after N idle clients that completed
 *               the upgrade (raw sockets, pairs sharing a session).
 *   idle        (-s idle, not by default) the latency ping-pong through
 *               relayd before, while and after N such idle clients are
 *               connected to it: does a crowd of idle clients slow a
 *               well-behaved pair?
 *
 * Both ends of a session run in this process on one libev loop, so a relay
 * run keeps two processes busy (this one and relayd), the TCP reference
 * one; relayd is started here from -r with a temporary config (open mode,
 * no byte limit, the per-address connection limit raised for the memory
 * run). Figures are printed, not judged.
 *
 *   relay_bench -r build/bin/relayd [-Rv] [-b MiB] [-c roundtrips]
 *               [-a port,pid] [-n clients] [-N ws_relay.js|none]
 *               [-p relayd_cpu,client_cpu|same|split]
 *               [-s thru,lat,idle,mem]
 *               [-w window KiB]
 *   -v prints every round, -R runs only the relay side of the throughput
 *   (to profile it), -b sets the bytes per run (default 1024 MiB; the TCP
 *   per-frame yardstick sends at most 256 MiB). -a measures a relayd
 *   somebody else started (open mode, on 127.0.0.1:port; pid for its RSS)
 *   and leaves it running: bench/relay_idle_100k.sh takes the pair's
 *   latency that way through one of its relayd processes.
 *
 * Throughput and latency run two kinds of client: relay_client (batched:
 * the frames of one loop turn in one write) and ordinary clients (one
 * frame per write(2), like a browser or npm ws), the latter also through
 * the npm ws relay of bench/ws_relay.js (-N, when node and ws are there).
 * -p pins relayd (with the forwarder and the npm ws relay) and this
 * process; every figure line ends with the load average before and after
 * it and the pinning.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include "common/log.h"
#include "common/relay_client.h"
#include "common/wsmask.h"

/* bytes the sender stays ahead of the receiver (-w KiB): below relayd's
 * sendq_max (1 MiB, with 64 bytes per queued message counted), so no frame
 * is ever dropped */
#define WINDOW_DEFAULT	(512u << 10)
static size_t WINDOW = WINDOW_DEFAULT;
/* -p: relayd's CPU, where the forwarder goes too */
static int CPU_RELAYD = -1;
#define PING_LEN	64
#define WARMUP		500

enum mode { M_SYNC, M_THRU, M_LAT };

struct tcp_end {
	struct bench	*b;
	int		 side;		/* 0 = A, 1 = B */
	int		 fd;
	ev_io		 io;
	unsigned char	*rbuf, *wbuf;
	size_t		 rlen, wlen, woff, cap;
};

struct bench_end {
	struct bench		*b;
	int			 side;
	struct relay_client	*rc;
};

/* an ordinary WebSocket client: one frame per write(2), reads what comes */
struct ws_end {
	struct bench	*b;
	int		 side;
	int		 fd;
	ev_io		 io;
	unsigned char	*rbuf, *wbuf;
	size_t		 rlen, wlen, woff;
	uint32_t	 rng;		/* mask keys */
};

struct bench {
	struct ev_loop	*loop;
	int		 relay;		/* 1: relay clients, 0: raw TCP */
	int		 plain;		/* with relay: ordinary clients */
	pid_t		 fwd;		/* TCP through the forwarder */
	int		 per_frame;	/* TCP: one send(2) per frame */
	struct bench_end re[2];
	struct tcp_end	 te[2];
	struct ws_end	 we[2];
	enum mode	 mode;
	int		 failed, synced;
	ev_timer	 timer;

	unsigned char	*frame;
	size_t		 size;
	uint64_t	 total, sent_bytes, rx_bytes;
	double		 t_start, t_last;

	double		*rtt, t_ping;
	unsigned	 nrtt, want;
};

#define container_of(p, t, m)	((t *)((char *)(p) - offsetof(t, m)))

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* --- raw TCP with a length prefix ---------------------------------------------- */

static void	bench_frame(struct bench *, int, const unsigned char *, size_t);

static void
tcp_flush(struct tcp_end *t)
{
	ssize_t n;

	while (t->woff < t->wlen) {
		n = send(t->fd, t->wbuf + t->woff, t->wlen - t->woff,
		    MSG_NOSIGNAL);
		if (n <= 0)
			break;
		t->woff += n;
	}
	if (t->woff == t->wlen)
		t->woff = t->wlen = 0;
	ev_io_stop(t->b->loop, &t->io);
	ev_io_set(&t->io, t->fd, EV_READ | (t->wlen ? EV_WRITE : 0));
	ev_io_start(t->b->loop, &t->io);
}

static int
tcp_send(struct tcp_end *t, const void *data, size_t len)
{
	uint32_t l = htonl(len);

	if (t->woff > 0 && t->woff == t->wlen)
		t->woff = t->wlen = 0;
	if (t->wlen + 4 + len > t->cap) {
		memmove(t->wbuf, t->wbuf + t->woff, t->wlen - t->woff);
		t->wlen -= t->woff;
		t->woff = 0;
		if (t->wlen + 4 + len > t->cap) {
			errno = ENOBUFS;
			return -1;
		}
	}
	memcpy(t->wbuf + t->wlen, &l, 4);
	memcpy(t->wbuf + t->wlen + 4, data, len);
	t->wlen += 4 + len;
	if (t->b->per_frame)
		tcp_flush(t);
	return 0;		/* else bench_flush() writes: a bulk sender */
}

static void
tcp_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct tcp_end *t = container_of(w, struct tcp_end, io);
	uint32_t l;
	size_t off;
	ssize_t n;

	(void)loop;
	if (revents & EV_WRITE)
		tcp_flush(t);
	if (!(revents & EV_READ))
		return;
	while ((n = read(t->fd, t->rbuf + t->rlen, t->cap - t->rlen)) > 0) {
		t->rlen += n;
		for (off = 0; t->rlen - off >= 4; off += 4 + l) {
			memcpy(&l, t->rbuf + off, 4);
			l = ntohl(l);
			if (t->rlen - off - 4 < l)
				break;
			bench_frame(t->b, t->side, t->rbuf + off + 4, l);
		}
		memmove(t->rbuf, t->rbuf + off, t->rlen - off);
		t->rlen -= off;
	}
	if (n == 0 || (n == -1 && errno != EAGAIN)) {
		fprintf(stderr, "relay_bench: TCP peer closed\n");
		t->b->failed = 1;
		ev_break(t->b->loop, EVBREAK_ALL);
	}
}

static void	pin(pid_t, int);

/*
 * The forwarder: a process that only moves bytes from its first accepted
 * connection to its second, read(2) then write(2), 256 KiB at a time, no
 * framing, no masking. A -> forwarder -> B is the ceiling of any relay on
 * this machine: two TCP hops and two processes like the relayd runs, and
 * nothing else.
 */
static pid_t
fwd_start(int l)
{
	unsigned char *buf;
	ssize_t n, w, off;
	pid_t pid;
	int a, c, one = 1;

	if ((pid = fork()) != 0)
		return pid;
	pin(0, CPU_RELAYD);
	if ((a = accept(l, NULL, NULL)) == -1 ||
	    (c = accept(l, NULL, NULL)) == -1 ||
	    (buf = malloc(256 << 10)) == NULL)
		_exit(1);
	setsockopt(a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	while ((n = read(a, buf, 256 << 10)) > 0)
		for (off = 0; off < n; off += w)
			if ((w = write(c, buf + off, n - off)) <= 0)
				_exit(1);
	_exit(0);
}

/* A -> B over one TCP connection, or through the forwarder (fwd). */
static int
tcp_setup(struct bench *b, int fwd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int l, fds[2], one = 1, i;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	b->fwd = -1;
	if ((l = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(l, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(l, 2) == -1 ||
	    getsockname(l, (struct sockaddr *)&sin, &len) == -1 ||
	    (fwd && (b->fwd = fwd_start(l)) == -1) ||
	    (fds[0] = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    connect(fds[0], (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    (fwd ? (fds[1] = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    connect(fds[1], (struct sockaddr *)&sin, sizeof(sin)) == -1 :
	    (fds[1] = accept(l, NULL, NULL)) == -1)) {
		perror("relay_bench: TCP setup");
		return -1;
	}
	close(l);
	for (i = 0; i < 2; i++) {
		struct tcp_end *t = &b->te[i];
		t->b = b;
		t->side = i;
		t->fd = fds[i];
		t->cap = WINDOW + (1u << 20);
		t->rbuf = malloc(t->cap);
		t->wbuf = malloc(t->cap);
		if (t->rbuf == NULL || t->wbuf == NULL)
			return -1;
		setsockopt(t->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		ev_io_init(&t->io, tcp_io_cb, t->fd, EV_READ);
		ev_io_start(b->loop, &t->io);
		if (fcntl(t->fd, F_SETFL, fcntl(t->fd, F_GETFL) | O_NONBLOCK)
		    == -1)
			return -1;
	}
	b->synced = 1;
	return 0;
}

static void
tcp_teardown(struct bench *b)
{
	int i;

	for (i = 0; i < 2; i++) {
		ev_io_stop(b->loop, &b->te[i].io);
		close(b->te[i].fd);
		free(b->te[i].rbuf);
		free(b->te[i].wbuf);
	}
	memset(b->te, 0, sizeof(b->te));
	if (b->fwd > 0)
		waitpid(b->fwd, NULL, 0);
	b->fwd = -1;
}

/* --- relay clients ------------------------------------------------------------ */

static void
relay_state_cb(void *arg, enum relay_client_state s, const char *url)
{
	struct bench_end *e = arg;
	struct bench *b = e->b;

	if (s == RELAY_CLIENT_BACKOFF) {
		fprintf(stderr, "relay_bench: relay %s lost\n", url);
		b->failed = 1;
		ev_break(b->loop, EVBREAK_ALL);
	}
}

static void
relay_frame_cb(void *arg, const void *data, size_t len)
{
	struct bench_end *e = arg;

	if (len > 0 && ((const unsigned char *)data)[0] < 0xF0)
		bench_frame(e->b, e->side, data, len);
}

static void	bench_pump(struct bench *);
static int	plain_send_op(struct ws_end *, int, const void *, size_t);

static void
relay_drain_cb(void *arg)
{
	struct bench_end *e = arg;

	if (e->b->mode == M_THRU)
		bench_pump(e->b);
}

static int
bench_send(struct bench *b, int side, const void *data, size_t len)
{
	if (b->plain)
		return plain_send_op(&b->we[side], 2, data, len);
	if (b->relay)
		return relay_client_send(b->re[side].rc, data, len);
	return tcp_send(&b->te[side], data, len);
}

static void
bench_flush(struct bench *b, int side)
{
	if (!b->relay)
		tcp_flush(&b->te[side]);
}

static void
sync_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct bench *b = container_of(w, struct bench, timer);

	(void)loop;
	(void)revents;
	if (relay_client_state(b->re[0].rc) == RELAY_CLIENT_CONNECTED &&
	    relay_client_state(b->re[1].rc) == RELAY_CLIENT_CONNECTED)
		relay_client_send(b->re[0].rc, "S", 1);
}

/* both clients in the session: A says 'S' (from cb, every 50 ms) until B
 * has heard it, for 10 s from t0 at most */
static int
bench_sync(struct bench *b, void (*cb)(struct ev_loop *, ev_timer *, int),
    double t0)
{
	b->mode = M_SYNC;
	b->synced = 0;
	ev_timer_init(&b->timer, cb, 0.02, 0.05);
	ev_timer_start(b->loop, &b->timer);
	while (!b->synced && !b->failed && now_s() - t0 < 10)
		ev_run(b->loop, EVRUN_ONCE);
	ev_timer_stop(b->loop, &b->timer);
	return b->synced ? 0 : -1;
}

static int
relay_setup(struct bench *b, const char *url, const char *session)
{
	struct relay_client_url u = { url, NULL };
	struct relay_client_cfg cfg;
	double t0 = now_s();
	int i;

	memset(&cfg, 0, sizeof(cfg));
	cfg.urls = &u;
	cfg.nurls = 1;
	cfg.session = session;
	cfg.on_state = relay_state_cb;
	cfg.on_frame = relay_frame_cb;
	cfg.on_drain = relay_drain_cb;
	cfg.max_queue = WINDOW;
	for (i = 0; i < 2; i++) {
		b->re[i].b = b;
		b->re[i].side = i;
		cfg.arg = &b->re[i];
		if ((b->re[i].rc = relay_client_new(b->loop, &cfg)) == NULL)
			return -1;
		relay_client_start(b->re[i].rc);
	}
	return bench_sync(b, sync_cb, t0);
}

static void
relay_teardown(struct bench *b)
{
	int i;

	for (i = 0; i < 2; i++) {
		relay_client_free(b->re[i].rc);
		b->re[i].rc = NULL;
	}
	ev_run(b->loop, EVRUN_NOWAIT);
}

/* --- ordinary clients: one WebSocket frame per write(2) --------------------------
 *
 * What a browser or npm ws does: each send() becomes one masked frame
 * written at once (TCP_NODELAY, as both set it), with a fresh mask key;
 * whatever the socket does not take waits for it to drain. relay_client
 * instead gathers the frames of one loop turn into one write, which is
 * kinder to relayd: its per-read work covers many frames.
 */

#define WS_RBUF		(256u << 10)
#define WS_WBUF		(65536 + 14)

static int	tcp_connect(int);

/* flush the rest of a frame the socket did not take at once; 0 when done */
static int
plain_flush(struct ws_end *e)
{
	ssize_t n;

	while (e->woff < e->wlen) {
		n = write(e->fd, e->wbuf + e->woff, e->wlen - e->woff);
		if (n == -1 && errno == EAGAIN)
			break;
		if (n <= 0) {
			e->b->failed = 1;
			ev_break(e->b->loop, EVBREAK_ALL);
			return -1;
		}
		e->woff += n;
	}
	ev_io_stop(e->b->loop, &e->io);
	ev_io_set(&e->io, e->fd, EV_READ | (e->woff < e->wlen ? EV_WRITE : 0));
	ev_io_start(e->b->loop, &e->io);
	if (e->woff < e->wlen)
		return 1;
	e->woff = e->wlen = 0;
	return 0;
}

/* one masked binary frame, one write(2); ENOBUFS while one is pending */
static int
plain_send_op(struct ws_end *e, int op, const void *data, size_t len)
{
	unsigned char	*h = e->wbuf, key[4];
	size_t		 hl = 2;

	if (e->wlen > 0 || len > WS_WBUF - 14) {
		errno = ENOBUFS;
		return -1;
	}
	h[0] = 0x80 | op;
	if (len < 126)
		h[1] = 0x80 | len;
	else if (len < 65536) {
		h[1] = 0x80 | 126;
		h[2] = len >> 8;
		h[3] = len;
		hl = 4;
	} else {
		h[1] = 0x80 | 127;
		memset(h + 2, 0, 4);
		h[6] = len >> 24; h[7] = len >> 16; h[8] = len >> 8; h[9] = len;
		hl = 10;
	}
	/* xorshift32: a fresh key per frame, not a secret here */
	e->rng ^= e->rng << 13;
	e->rng ^= e->rng >> 17;
	e->rng ^= e->rng << 5;
	memcpy(key, &e->rng, 4);
	memcpy(h + hl, key, 4);
	wsmask_copy(h + hl + 4, data, len, key);
	e->wlen = hl + 4 + len;
	e->woff = 0;
	return plain_flush(e) == -1 ? -1 : 0;
}

/* server frames: unmasked, final; binary ones below 0xF0 are the bench's */
static int
plain_parse(struct ws_end *e)
{
	unsigned char	*p = e->rbuf;
	size_t		 off = 0, hl, len;

	while (e->rlen - off >= 2) {
		p = e->rbuf + off;
		len = p[1] & 0x7f;
		hl = 2;
		if ((p[1] & 0x80) || !(p[0] & 0x80))
			return -1;	/* masked or fragmented: not relayd's */
		if (len == 126) {
			if (e->rlen - off < 4)
				break;
			len = (size_t)p[2] << 8 | p[3];
			hl = 4;
		} else if (len == 127) {
			if (e->rlen - off < 10)
				break;
			len = (size_t)p[6] << 24 | (size_t)p[7] << 16 |
			    (size_t)p[8] << 8 | p[9];
			hl = 10;
		}
		if (len > WS_RBUF - 14)
			return -1;
		if (e->rlen - off < hl + len)
			break;
		switch (p[0] & 0x0f) {
		case 2:
			if (len > 0 && p[hl] < 0xF0)
				bench_frame(e->b, e->side, p + hl, len);
			break;
		case 9:		/* relayd's keep-alive ping */
			plain_send_op(e, 10, p + hl, len);
			break;
		case 8:
			return -1;
		}
		off += hl + len;
	}
	memmove(e->rbuf, e->rbuf + off, e->rlen - off);
	e->rlen -= off;
	return 0;
}

static void
plain_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ws_end *e = container_of(w, struct ws_end, io);
	ssize_t n;

	(void)loop;
	if ((revents & EV_WRITE) && plain_flush(e) == 0 &&
	    e->b->mode == M_THRU && e->side == 0)
		bench_pump(e->b);
	if (!(revents & EV_READ))
		return;
	/* one read per readiness, 256 KiB at most, as an event loop does */
	n = read(e->fd, e->rbuf + e->rlen, WS_RBUF - e->rlen);
	if (n > 0) {
		e->rlen += n;
		if (plain_parse(e) == 0)
			return;
	} else if (n == -1 && errno == EAGAIN)
		return;
	fprintf(stderr, "relay_bench: ordinary client: relay closed or sent "
	    "what a relay does not\n");
	e->b->failed = 1;
	ev_break(e->b->loop, EVBREAK_ALL);
}

/* TCP, upgrade, 101; bytes after the answer stay in rbuf */
static int
plain_open(struct ws_end *e, int port, const char *session)
{
	struct timeval	 tv = { 5, 0 };
	char		 req[512], *end;
	ssize_t		 n;
	int		 len, one = 1;

	if ((e->rbuf = malloc(WS_RBUF)) == NULL ||
	    (e->wbuf = malloc(WS_WBUF)) == NULL ||
	    (e->fd = tcp_connect(port)) == -1)
		return -1;
	setsockopt(e->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(e->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	len = snprintf(req, sizeof(req),
	    "GET /v1/relay/%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "Sec-WebSocket-Version: 13\r\n\r\n", session, port);
	if (write(e->fd, req, len) != len)
		return -1;
	e->rlen = 0;
	for (;;) {
		if ((n = read(e->fd, e->rbuf + e->rlen, 4096)) <= 0)
			return -1;
		e->rlen += n;
		e->rbuf[e->rlen] = '\0';
		if ((end = strstr((char *)e->rbuf, "\r\n\r\n")) != NULL)
			break;
		if (e->rlen > 8192)
			return -1;
	}
	if (strncmp((char *)e->rbuf, "HTTP/1.1 101", 12) != 0)
		return -1;
	end += 4;
	e->rlen -= end - (char *)e->rbuf;
	memmove(e->rbuf, end, e->rlen);
	if (fcntl(e->fd, F_SETFL, fcntl(e->fd, F_GETFL) | O_NONBLOCK) == -1)
		return -1;
	ev_io_init(&e->io, plain_io_cb, e->fd, EV_READ);
	ev_io_start(e->b->loop, &e->io);
	return plain_parse(e);
}

static void
plain_sync_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct bench *b = container_of(w, struct bench, timer);

	(void)loop;
	(void)revents;
	plain_send_op(&b->we[0], 2, "S", 1);
}

static void
plain_teardown(struct bench *b)
{
	int i;

	for (i = 0; i < 2; i++) {
		struct ws_end *e = &b->we[i];
		if (e->b == NULL)
			continue;
		ev_io_stop(b->loop, &e->io);
		if (e->fd > 0)
			close(e->fd);
		free(e->rbuf);
		free(e->wbuf);
	}
	memset(b->we, 0, sizeof(b->we));
}

/* both ordinary clients in `session` of the relay on port */
static int
plain_setup(struct bench *b, int port, const char *session)
{
	double t0 = now_s();
	int i;

	memset(b->we, 0, sizeof(b->we));
	for (i = 0; i < 2; i++) {
		b->we[i].b = b;
		b->we[i].side = i;
		b->we[i].fd = -1;
		b->we[i].rng = 0x9e3779b9u * (i + 1) ^ (uint32_t)getpid();
		if (plain_open(&b->we[i], port, session) == -1) {
			fprintf(stderr, "relay_bench: ordinary client %d: no "
			    "upgrade\n", i);
			return -1;
		}
	}
	return bench_sync(b, plain_sync_cb, t0);
}

/* --- the measurements ------------------------------------------------------------ */

static void
bench_pump(struct bench *b)
{
	while (b->sent_bytes < b->total &&
	    b->sent_bytes - b->rx_bytes + b->size <= WINDOW) {
		if (bench_send(b, 0, b->frame, b->size) == -1) {
			if (errno != ENOBUFS) {
				b->failed = 1;
				ev_break(b->loop, EVBREAK_ALL);
			}
			return;
		}
		b->sent_bytes += b->size;
	}
	bench_flush(b, 0);
}

static void
bench_ping(struct bench *b)
{
	unsigned char buf[PING_LEN];

	memset(buf, 'p', sizeof(buf));
	b->t_ping = now_s();
	if (bench_send(b, 0, buf, sizeof(buf)) == -1) {
		b->failed = 1;
		ev_break(b->loop, EVBREAK_ALL);
	}
	bench_flush(b, 0);
}

static void
bench_frame(struct bench *b, int side, const unsigned char *p, size_t len)
{
	double t;

	switch (b->mode) {
	case M_SYNC:
		if (side == 1 && p[0] == 'S')
			b->synced = 1;
		break;
	case M_THRU:
		if (side != 1)
			break;
		b->rx_bytes += len;
		if (b->rx_bytes >= b->total) {
			b->t_last = now_s();
			ev_break(b->loop, EVBREAK_ALL);
		} else if (b->sent_bytes - b->rx_bytes <= WINDOW / 2)
			bench_pump(b);
		break;
	case M_LAT:
		if (side == 1) {
			bench_send(b, 1, p, len);	/* echo */
			bench_flush(b, 1);
			break;
		}
		t = now_s() - b->t_ping;
		if (b->nrtt >= WARMUP)
			b->rtt[b->nrtt - WARMUP] = t;
		if (++b->nrtt >= b->want + WARMUP)
			ev_break(b->loop, EVBREAK_ALL);
		else
			bench_ping(b);
		break;
	}
}

/* MB/s (10^6 bytes) for `total` bytes in frames of `size`, -1 on failure */
static double
bench_thru(struct bench *b, size_t size, uint64_t total)
{
	b->mode = M_THRU;
	b->size = size;
	b->total = total - total % size;
	b->sent_bytes = b->rx_bytes = 0;
	memset(b->frame, 'D', size);
	b->t_start = now_s();
	bench_pump(b);
	ev_run(b->loop, 0);
	if (b->failed || b->rx_bytes < b->total)
		return -1;
	return b->total / (b->t_last - b->t_start) / 1e6;
}

static int
dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
pct(const double *v, unsigned n, double p)
{
	unsigned i = (unsigned)(p / 100 * n + 0.999999);

	return v[i == 0 ? 0 : i - 1];
}

/* p50 and p99 of `n` round trips in microseconds; -1 on failure */
static int
bench_lat(struct bench *b, unsigned n, double *p50, double *p99)
{
	b->mode = M_LAT;
	b->want = n;
	b->nrtt = 0;
	bench_ping(b);
	ev_run(b->loop, 0);
	if (b->failed || b->nrtt < n + WARMUP)
		return -1;
	qsort(b->rtt, n, sizeof(double), dbl_cmp);
	*p50 = pct(b->rtt, n, 50) * 1e6;
	*p99 = pct(b->rtt, n, 99) * 1e6;
	return 0;
}

/* --- relayd, started and stopped here -------------------------------------------- */

struct relayd_proc {
	pid_t	pid;
	int	port;
	int	attached;	/* -a: not ours to stop */
	char	dir[64];
	char	url[64];
};

static int
free_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd, port = -1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) != -1 &&
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	if (fd != -1)
		close(fd);
	return port;
}

static int
tcp_connect(int port)
{
	struct sockaddr_in sin;
	int fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
pin(pid_t pid, int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(pid, sizeof(set), &set) == -1)
		perror("relay_bench: sched_setaffinity");
}

/* 1 when `relayd --help-config` lists key */
static int
relayd_has_key(const char *bin, const char *key)
{
	char	cmd[512], line[512];
	FILE	*p;
	int	found = 0;

	snprintf(cmd, sizeof(cmd), "'%s' --help-config 2>/dev/null", bin);
	if (strchr(bin, '\'') != NULL || (p = popen(cmd, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), p) != NULL)
		if (strstr(line, key) != NULL)
			found = 1;
	pclose(p);
	return found;
}

static int
relayd_start(struct relayd_proc *r, const char *bin, int nclients,
    int cpu)
{
	char conf[128], log[128];
	FILE *f;
	int i, fd;

	strlcpy(r->dir, "/tmp/relay-bench.XXXXXX", sizeof(r->dir));
	if (mkdtemp(r->dir) == NULL || (r->port = free_port()) == -1)
		return -1;
	snprintf(conf, sizeof(conf), "%s/relayd.conf", r->dir);
	snprintf(log, sizeof(log), "%s/relayd.log", r->dir);
	snprintf(r->url, sizeof(r->url), "ws://127.0.0.1:%d", r->port);
	if ((f = fopen(conf, "w")) == NULL)
		return -1;
	fprintf(f, "[relayd]\nlisten = 127.0.0.1\nport = %d\nopen = yes\n"
	    "socket = %s/relayd.sock\nmax_clients_per_ip = %d\n",
	    r->port, r->dir, nclients + 64);
	/* both clients are 127.0.0.1: one address group, which the default
	 * max_bytes_per_ip (100 Mbit/s) would hold far below what the relay
	 * path can do; the bench measures the path, so no byte limit (older
	 * relayd builds, measured for comparison, have no such key) */
	if (relayd_has_key(bin, "max_bytes_per_ip"))
		fprintf(f, "max_bytes_per_ip = 0\n");
	fclose(f);
	if ((r->pid = fork()) == -1)
		return -1;
	if (r->pid == 0) {
		pin(0, cpu);
		if ((fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644)) != -1) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(bin, "relayd", "-f", conf, (char *)NULL);
		perror(bin);
		_exit(127);
	}
	for (i = 0; i < 100; i++) {
		if ((fd = tcp_connect(r->port)) != -1) {
			close(fd);
			return 0;
		}
		usleep(50000);
	}
	fprintf(stderr, "relay_bench: relayd did not start, see %s\n", log);
	return -1;
}

static void
relayd_stop(struct relayd_proc *r)
{
	char path[128];

	if (r->attached)
		return;
	if (r->pid > 0) {
		kill(r->pid, SIGTERM);
		waitpid(r->pid, NULL, 0);
	}
	snprintf(path, sizeof(path), "%s/relayd.conf", r->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/relayd.log", r->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/relayd.sock", r->dir);
	unlink(path);
	rmdir(r->dir);
}

/* --- what each figure line says about the machine ------------------------------- */

/* -p: where relayd (and the forwarder, the npm ws relay) and the clients
 * run, said on every figure line */
static char PIN_DESC[128] = "not pinned";

static int
cpu_core(int cpu)
{
	char	path[96];
	FILE	*f;
	int	core = -1, pkg = -1;

	snprintf(path, sizeof(path),
	    "/sys/devices/system/cpu/cpu%d/topology/core_id", cpu);
	if ((f = fopen(path, "r")) != NULL) {
		if (fscanf(f, "%d", &core) != 1)
			core = -1;
		fclose(f);
	}
	snprintf(path, sizeof(path),
	    "/sys/devices/system/cpu/cpu%d/topology/physical_package_id", cpu);
	if ((f = fopen(path, "r")) != NULL) {
		if (fscanf(f, "%d", &pkg) != 1)
			pkg = -1;
		fclose(f);
	}
	return core < 0 ? -1 : pkg * 4096 + core;
}

static void
pin_describe(int relay_cpu, int client_cpu)
{
	if (relay_cpu < 0)
		snprintf(PIN_DESC, sizeof(PIN_DESC), "not pinned");
	else if (relay_cpu == client_cpu)
		snprintf(PIN_DESC, sizeof(PIN_DESC), "relay and clients pinned "
		    "to CPU %d: same core", relay_cpu);
	else
		snprintf(PIN_DESC, sizeof(PIN_DESC), "relay on CPU %d, clients "
		    "on CPU %d: %s", relay_cpu, client_cpu,
		    cpu_core(relay_cpu) >= 0 &&
		    cpu_core(relay_cpu) == cpu_core(client_cpu) ?
		    "SMT siblings of one core" : "different cores");
}

/* the 1-minute load average and the runnable count, from /proc/loadavg */
static void
load_now(char *buf, size_t len)
{
	char	 la[32] = "?", run[32] = "?";
	FILE	*f;

	if ((f = fopen("/proc/loadavg", "r")) != NULL) {
		if (fscanf(f, "%31s %*s %*s %31s", la, run) != 2)
			snprintf(run, sizeof(run), "?");
		fclose(f);
	}
	snprintf(buf, len, "%s (runnable %s)", la, run);
}

/* "[load A -> B; pinning]": what every figure line ends with */
struct load_span {
	char	before[48], after[48];
};

static void
load_print(const struct load_span *l)
{
	printf("  [load %s -> %s; %s]\n", l->before, l->after, PIN_DESC);
}

/* VmRSS in KiB */
static long
rss_kib(pid_t pid)
{
	char path[64], line[128];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* One idle client: TCP, upgrade, 101 read; the fd stays open. */
static int
mem_client(int port, int i)
{
	struct timeval tv = { 5, 0 };
	char req[512], buf[1024];
	size_t got = 0;
	ssize_t n;
	int fd, len;

	if ((fd = tcp_connect(port)) == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	len = snprintf(req, sizeof(req),
	    "GET /v1/relay/mem-%d HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "Sec-WebSocket-Version: 13\r\n\r\n", i / 2, port);
	if (write(fd, req, len) != len)
		goto fail;
	while (got < sizeof(buf) - 1) {
		if ((n = read(fd, buf + got, sizeof(buf) - 1 - got)) <= 0)
			goto fail;
		got += n;
		buf[got] = '\0';
		if (strstr(buf, "\r\n\r\n") != NULL)
			break;
	}
	if (strncmp(buf, "HTTP/1.1 101", 12) != 0)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

static void
bench_mem(struct relayd_proc *r, int n)
{
	struct load_span l;
	long before, after;
	int *fds, i, ok = 0;

	printf("relay memory: relayd RSS over %d idle clients (upgraded, "
	    "%d sessions of 2)\n", n, n / 2);
	if ((fds = calloc(n, sizeof(int))) == NULL)
		return;
	usleep(200000);
	load_now(l.before, sizeof(l.before));
	before = rss_kib(r->pid);
	for (i = 0; i < n; i++)
		if ((fds[i] = mem_client(r->port, i)) != -1)
			ok++;
	usleep(500000);
	after = rss_kib(r->pid);
	load_now(l.after, sizeof(l.after));
	printf("  clients upgraded  %d of %d\n", ok, n);
	printf("  RSS before        %ld KiB\n", before);
	printf("  RSS after         %ld KiB\n", after);
	if (ok > 0)
		printf("  per client        %.2f KiB   (target < 16 KiB)\n",
		    (double)(after - before) / ok);
	load_print(&l);
	for (i = 0; i < n; i++)
		if (fds[i] != -1)
			close(fds[i]);
	free(fds);
}

/* --- main ------------------------------------------------------------------------ */

/* CPU seconds used so far: relayd from /proc (clock ticks), us by rusage */
static double
cpu_pid(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* after "(comm)": state is field 3, utime 14, stime 15 */
	if ((p = strrchr(buf, ')')) == NULL || sscanf(p + 2,
	    "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	    &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / sysconf(_SC_CLK_TCK);
}

static double
cpu_self(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static double
median3(double *v)
{
	qsort(v, 3, sizeof(double), dbl_cmp);
	return v[1];
}

/* -v: every round's figures; -R: the relay runs only (for profiling) */
static int VERBOSE, RELAY_ONLY;
/* the per-frame yardstick sends at a few hundred MB/s: it gets at most
 * this much, its rate does not depend on the total */
#define PER_FRAME_MAX	((uint64_t)256 << 20)

/* One relay run: MB/s, and CPU seconds of relayd and of this process. */
static double
thru_relay(struct bench *b, struct relayd_proc *r, const char *sess,
    size_t size, uint64_t total, double *cr, double *cc)
{
	double v = -1, c0, d0;

	b->failed = 0;
	b->relay = 1;
	*cr = *cc = 0;
	if (relay_setup(b, r->url, sess) == 0) {
		c0 = cpu_self();
		d0 = cpu_pid(r->pid);
		v = bench_thru(b, size, total);
		*cc = cpu_self() - c0;
		*cr = cpu_pid(r->pid) - d0;
	}
	relay_teardown(b);
	b->relay = 0;
	return v;
}

/* One run with ordinary clients through the relay on port (relayd, or
 * the npm ws relay of pid): MB/s, CPU seconds of the relay and of us. */
static double
thru_plain(struct bench *b, int port, pid_t pid, const char *sess,
    size_t size, uint64_t total, double *cr, double *cc)
{
	double v = -1, c0, d0;

	b->failed = 0;
	b->relay = b->plain = 1;
	*cr = *cc = 0;
	if (plain_setup(b, port, sess) == 0) {
		c0 = cpu_self();
		d0 = cpu_pid(pid);
		v = bench_thru(b, size, total);
		*cc = cpu_self() - c0;
		*cr = cpu_pid(pid) - d0;
	}
	plain_teardown(b);
	b->relay = b->plain = 0;
	return v;
}

/* One TCP run, direct or through the forwarder (fwd): MB/s, and CPU
 * seconds of this process and of the forwarder. */
static double
thru_tcp(struct bench *b, int fwd, size_t size, uint64_t total, double *cc,
    double *cf)
{
	double v = -1, c0 = cpu_self();

	b->failed = 0;
	*cf = 0;
	if (tcp_setup(b, fwd) == 0) {
		v = bench_thru(b, size, total);
		if (b->fwd > 0)
			*cf = cpu_pid(b->fwd);
	}
	*cc = cpu_self() - c0;
	tcp_teardown(b);
	return v;
}

/* --- the npm ws reference relay (bench/ws_relay.js) ------------------------------- */

struct node_relay {
	pid_t	pid;
	int	port;
};

static int
node_start(struct node_relay *n, const char *script, int cpu)
{
	char	line[128];
	FILE	*f;
	int	pfd[2];

	n->pid = -1;
	if (pipe(pfd) == -1 || (n->pid = fork()) == -1)
		return -1;
	if (n->pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		pin(0, cpu);
		dup2(pfd[1], 1);
		if (null != -1)
			dup2(null, 2);	/* no "cannot find module" trace */
		close(pfd[0]);
		unsetenv("RELAY_SECRET");	/* open, like relay_bench's relayd */
		execlp("node", "node", script, "0", (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	if ((f = fdopen(pfd[0], "r")) == NULL)
		return -1;
	n->port = -1;
	if (fgets(line, sizeof(line), f) != NULL)
		sscanf(line, "listening %d", &n->port);
	fclose(f);
	return n->port > 0 ? 0 : -1;
}

static void
node_stop(struct node_relay *n)
{
	if (n->pid > 0) {
		kill(n->pid, SIGTERM);
		waitpid(n->pid, NULL, 0);
	}
	n->pid = -1;
}

/* --- throughput ----------------------------------------------------------------- */

/* per frame size: three rounds of each variant */
struct thru_row {
	double	relay[3], plain[3], node[3], tcp[3], perframe[3], fwd[3];
	/* CPU seconds per GB: relay process, client process */
	double	relay_r[3], relay_c[3], plain_r[3], plain_c[3];
	double	node_r[3], node_c[3], tcp_c[3], fwd_f[3], fwd_c[3];
	double	busy_r, busy_c;		/* batched relay runs, % of a CPU */
	struct load_span load;
};

static void
thru_round(struct bench *b, struct relayd_proc *r, struct node_relay *nr,
    size_t size, uint64_t total, int round, struct thru_row *t,
    double *wall)
{
	uint64_t	pf = total < PER_FRAME_MAX ? total : PER_FRAME_MAX;
	double		gb = (double)(total - total % size) / 1e9, cr, cc, w, x;
	char		sess[48];

	snprintf(sess, sizeof(sess), "thru-%zu-%d", size, round);
	w = now_s();
	t->relay[round] = thru_relay(b, r, sess, size, total, &cr, &cc);
	w = now_s() - w;
	*wall += w;
	t->busy_r += cr;
	t->busy_c += cc;
	t->relay_r[round] = cr / gb;
	t->relay_c[round] = cc / gb;
	strlcat(sess, "-o", sizeof(sess));
	t->plain[round] = thru_plain(b, r->port, r->pid, sess, size, total,
	    &cr, &cc);
	t->plain_r[round] = cr / gb;
	t->plain_c[round] = cc / gb;
	t->node[round] = -1;
	if (nr->pid > 0) {
		t->node[round] = thru_plain(b, nr->port, nr->pid, sess, size,
		    total, &cr, &cc);
		t->node_r[round] = cr / gb;
		t->node_c[round] = cc / gb;
	}
	t->tcp[round] = t->perframe[round] = t->fwd[round] = -1;
	if (RELAY_ONLY)
		return;
	t->tcp[round] = thru_tcp(b, 0, size, total, &cc, &x);
	t->tcp_c[round] = cc / gb;
	b->per_frame = 1;
	t->perframe[round] = thru_tcp(b, 0, size, pf, &x, &x);
	b->per_frame = 0;
	t->fwd[round] = thru_tcp(b, 1, size, total, &cc, &cr);
	t->fwd_f[round] = cr / gb;
	t->fwd_c[round] = cc / gb;
	if (VERBOSE)
		printf("  %zu B round %d: MB/s relayd batched %.1f, ordinary "
		    "%.1f, npm ws %.1f, TCP bulk %.1f, TCP/frame %.1f, fwd "
		    "%.1f; relayd busy %.0f%%\n", size, round + 1,
		    t->relay[round], t->plain[round], t->node[round],
		    t->tcp[round], t->perframe[round], t->fwd[round],
		    w > 0 ? 100 * t->relay_r[round] * gb / w : 0);
}

static double
pct_of(double a, double b)
{
	return a > 0 && b > 0 ? 100 * a / b : 0;
}

static void
run_thru(struct bench *b, struct relayd_proc *r, struct node_relay *nr,
    uint64_t total)
{
	static const size_t sizes[] = { 1024, 65536 };
	struct thru_row	rows[2], *t;
	double		wall, tm;
	const char	*name;
	size_t		s;
	int		round;

	printf("relay throughput: one session, two clients, through relayd "
	    "vs one raw TCP hop\n"
	    "  (loopback, same program, %llu MiB per run, %u KiB window, "
	    "median of 3 rounds)\n"
	    "  MB/s = 10^6 bytes/s; TCP bulk: frames batched into large "
	    "writes (the target's\n"
	    "  reference, >= 45%%); TCP/frame: one send(2) per frame, "
	    "(a per-frame yardstick);\n"
	    "  via fwd: TCP bulk through a process that only read(2)s and "
	    "write(2)s: the\n"
	    "  ceiling of any relay here (two hops, two processes).\n"
	    "  Batched: relay_client, which writes the frames of a loop turn "
	    "together;\n"
	    "  ordinary: one frame per write(2), like a browser or npm ws.\n",
	    (unsigned long long)(total >> 20), (unsigned)(WINDOW >> 10));
	memset(rows, 0, sizeof(rows));
	for (s = 0; s < 2; s++) {
		t = &rows[s];
		wall = 0;
		load_now(t->load.before, sizeof(t->load.before));
		for (round = 0; round < 3; round++)
			thru_round(b, r, nr, sizes[s], total, round, t, &wall);
		load_now(t->load.after, sizeof(t->load.after));
		if (wall > 0) {
			t->busy_r = 100 * t->busy_r / wall;
			t->busy_c = 100 * t->busy_c / wall;
		}
	}
	printf("\n  %-6s %14s %13s %6s %14s %11s %6s\n", "frame",
	    "batched MB/s", "TCP bulk MB/s", "ratio", "TCP/frame MB/s",
	    "fwd MB/s", "ratio");
	for (s = 0; s < 2; s++) {
		t = &rows[s];
		name = sizes[s] == 1024 ? "1 KiB" : "64 KiB";
		tm = median3(t->tcp);
		printf("  %-6s %14.1f %13.1f %5.1f%% %14.1f %11.1f %5.1f%%\n",
		    name, median3(t->relay), tm, pct_of(median3(t->relay), tm),
		    median3(t->perframe), median3(t->fwd),
		    pct_of(median3(t->fwd), tm));
		load_print(&t->load);
	}
	printf("\n  relay and client, CPU seconds per GB carried (medians):\n"
	    "  %-6s %-9s %-8s %10s %11s %14s\n", "frame", "clients", "relay",
	    "MB/s", "relay s/GB", "clients s/GB");
	for (s = 0; s < 2; s++) {
		t = &rows[s];
		name = sizes[s] == 1024 ? "1 KiB" : "64 KiB";
		printf("  %-6s %-9s %-8s %10.1f %11.3f %14.3f\n", name,
		    "batched", "relayd", median3(t->relay),
		    median3(t->relay_r), median3(t->relay_c));
		printf("  %-6s %-9s %-8s %10.1f %11.3f %14.3f\n", name,
		    "ordinary", "relayd", median3(t->plain),
		    median3(t->plain_r), median3(t->plain_c));
		if (nr->pid > 0)
			printf("  %-6s %-9s %-8s %10.1f %11.3f %14.3f\n", name,
			    "ordinary", "npm ws", median3(t->node),
			    median3(t->node_r), median3(t->node_c));
		if (!RELAY_ONLY)
			printf("  %-6s %-9s %-8s %10.1f %11.3f %14.3f   (fwd: "
			    "forwarder, its two ends)\n", name, "TCP bulk",
			    "fwd", median3(t->fwd), median3(t->fwd_f),
			    median3(t->fwd_c));
		load_print(&t->load);
	}
	/* which side is the bottleneck: near 100% is saturated */
	for (s = 0; s < 2; s++)
		printf("  %-6s CPU busy during the batched relay runs: relayd "
		    "%.0f%%, both clients %.0f%%\n", s == 0 ? "1 KiB" :
		    "64 KiB", rows[s].busy_r, rows[s].busy_c);
	fflush(stdout);
}

/* one latency figure: b->relay/b->plain say through what */
static int
lat_one(struct bench *b, struct relayd_proc *r, int port, unsigned n,
    double *p50, double *p99)
{
	int ok;

	b->failed = 0;
	if (b->plain)
		ok = plain_setup(b, port, "lat-o") == 0;
	else if (b->relay)
		ok = relay_setup(b, r->url, "lat") == 0;
	else
		ok = tcp_setup(b, 0) == 0;
	ok = ok && bench_lat(b, n, p50, p99) == 0;
	if (b->plain)
		plain_teardown(b);
	else if (b->relay)
		relay_teardown(b);
	else
		tcp_teardown(b);
	b->relay = b->plain = 0;
	return ok ? 0 : -1;
}

static void
run_lat(struct bench *b, struct relayd_proc *r, struct node_relay *nr,
    unsigned n)
{
	double		 v[4][2], t50, t99;
	const char	*what[4] = { "direct TCP", "via relayd, batched client",
	    "via relayd, ordinary client", "via npm ws, ordinary client" };
	struct load_span l;
	int		 ok[4], i;

	printf("relay latency: %d-byte ping-pong, %u round trips (after %d "
	    "warm-up)\n", PING_LEN, n, WARMUP);
	memset(v, 0, sizeof(v));
	load_now(l.before, sizeof(l.before));
	ok[0] = lat_one(b, r, 0, n, &v[0][0], &v[0][1]) == 0;
	b->relay = 1;
	ok[1] = lat_one(b, r, 0, n, &v[1][0], &v[1][1]) == 0;
	b->relay = b->plain = 1;
	ok[2] = lat_one(b, r, r->port, n, &v[2][0], &v[2][1]) == 0;
	ok[3] = 0;
	if (nr->pid > 0) {
		b->relay = b->plain = 1;
		ok[3] = lat_one(b, r, nr->port, n, &v[3][0], &v[3][1]) == 0;
	}
	load_now(l.after, sizeof(l.after));
	if (!ok[0]) {
		printf("  FAILED (TCP)\n");
		return;
	}
	t50 = v[0][0];
	t99 = v[0][1];
	printf("  %-30s %9s %9s %16s\n", "round trip", "p50 us", "p99 us",
	    "added/hop p50,p99");
	for (i = 0; i < 4; i++) {
		if (i == 3 && nr->pid <= 0)
			continue;
		if (!ok[i]) {
			printf("  %-30s FAILED\n", what[i]);
			continue;
		}
		if (i == 0)
			printf("  %-30s %9.1f %9.1f\n", what[i], t50, t99);
		else
			printf("  %-30s %9.1f %9.1f %7.1f,%7.1f\n", what[i],
			    v[i][0], v[i][1], (v[i][0] - t50) / 2,
			    (v[i][1] - t99) / 2);
	}
	printf("  (a round trip crosses the relay twice: added per hop is half "
	    "the difference;\n   target p99 < 100 us)\n");
	load_print(&l);
}

/* the batched and the ordinary pair's latency, into v[0..1][p50, p99] */
static void
idle_lat(struct bench *b, struct relayd_proc *r, unsigned n, double v[2][2],
    int ok[2])
{
	b->relay = 1;
	ok[0] = lat_one(b, r, 0, n, &v[0][0], &v[0][1]) == 0;
	b->relay = b->plain = 1;
	ok[1] = lat_one(b, r, r->port, n, &v[1][0], &v[1][1]) == 0;
}

static void
idle_print(const char *phase, long rss, double v[2][2], int ok[2],
    const struct load_span *l)
{
	static const char *what[2] = { "batched", "ordinary" };
	int i;

	for (i = 0; i < 2; i++)
		if (ok[i])
			printf("  %-22s %-9s %9.1f %9.1f %10ld\n", phase,
			    what[i], v[i][0], v[i][1], rss);
		else
			printf("  %-22s %-9s FAILED\n", phase, what[i]);
	load_print(l);
}

/*
 * -s idle: a well-behaved pair's round trip through relayd before, while
 * and after nidle idle clients are connected to the same relayd (issue 14
 * item 3: the pair's p99 must not move while they are there). Each phase
 * measures both kinds of client and carries its own load span.
 */
static void
run_idle(struct bench *b, struct relayd_proc *r, unsigned n, int nidle)
{
	struct load_span l;
	double		 v[2][2];
	int		 ok[2], *fds, i, up = 0;
	char		 phase[32];

	printf("relay latency under idle load: %d-byte ping-pong through "
	    "relayd, %u round trips\n  (after %d warm-up) per figure, before, "
	    "with and after %d idle upgraded clients\n", PING_LEN, n, WARMUP,
	    nidle);
	printf("  %-22s %-9s %9s %9s %10s\n", "phase", "clients", "p50 us",
	    "p99 us", "relayd KiB");
	if ((fds = calloc(nidle, sizeof(int))) == NULL)
		return;
	load_now(l.before, sizeof(l.before));
	idle_lat(b, r, n, v, ok);
	load_now(l.after, sizeof(l.after));
	idle_print("no idle clients", rss_kib(r->pid), v, ok, &l);
	for (i = 0; i < nidle; i++)
		if ((fds[i] = mem_client(r->port, i)) != -1)
			up++;
	usleep(500000);
	snprintf(phase, sizeof(phase), "%d idle clients", up);
	load_now(l.before, sizeof(l.before));
	idle_lat(b, r, n, v, ok);
	load_now(l.after, sizeof(l.after));
	idle_print(phase, rss_kib(r->pid), v, ok, &l);
	for (i = 0; i < nidle; i++)
		if (fds[i] != -1)
			close(fds[i]);
	free(fds);
	usleep(500000);
	load_now(l.before, sizeof(l.before));
	idle_lat(b, r, n, v, ok);
	load_now(l.after, sizeof(l.after));
	idle_print("after they left", rss_kib(r->pid), v, ok, &l);
	if (up < nidle)
		printf("  only %d of %d idle clients upgraded\n", up, nidle);
}

int
main(int argc, char **argv)
{
	struct relayd_proc r;
	struct bench b;
	struct rlimit rl;
	struct node_relay nr = { -1, -1 };
	const char *bin = NULL, *sections = "thru,lat,mem";
	const char *node = "bench/ws_relay.js";
	char defbin[256];
	uint64_t mib = 1024;
	unsigned rounds = 10000;
	int ch, nclients = 10000, cpu_relayd = -1, cpu_mine = -1;

	memset(&r, 0, sizeof(r));
	while ((ch = getopt(argc, argv, "a:b:c:n:N:p:r:Rs:vw:")) != -1) {
		switch (ch) {
		case 'a':
			if (sscanf(optarg, "%d,%d", &r.port, &r.pid) != 2 ||
			    r.port <= 0 || r.port > 65535 || r.pid <= 0)
				goto usage;
			r.attached = 1;
			break;
		case 'R': RELAY_ONLY = 1; break;
		case 'v': VERBOSE = 1; break;
		case 'w':
			WINDOW = strtoul(optarg, NULL, 10) << 10;
			if (WINDOW < (128u << 10) || WINDOW > (960u << 10))
				goto usage;
			break;
		case 'p':
			/* same: one CPU for both; split: CPUs 0 and 1 */
			if (!strcmp(optarg, "same"))
				cpu_relayd = cpu_mine = 0;
			else if (!strcmp(optarg, "split"))
				cpu_relayd = 0, cpu_mine = 1;
			else if (sscanf(optarg, "%d,%d", &cpu_relayd,
			    &cpu_mine) != 2 || cpu_relayd < 0 || cpu_mine < 0)
				goto usage;
			CPU_RELAYD = cpu_relayd;
			break;
		case 'b': mib = strtoull(optarg, NULL, 10); break;
		case 'c': rounds = strtoul(optarg, NULL, 10); break;
		case 'n': nclients = atoi(optarg); break;
		case 'N': node = optarg; break;
		case 'r': bin = optarg; break;
		case 's': sections = optarg; break;
		default:
		usage:
			fprintf(stderr, "usage: relay_bench [-Rv] [-r relayd] "
			    "[-a port,pid] [-b MiB] [-c roundtrips] "
			    "[-n clients]\n"
			    "                   [-N ws_relay.js|none] "
			    "[-p relaydcpu,mycpu|same|split]\n"
			    "                   [-s thru,lat,idle,mem] "
			    "[-w window KiB, 128-960]\n");
			return 2;
		}
	}
	if (bin == NULL) {
		snprintf(defbin, sizeof(defbin), "%s/bin/relayd",
		    getenv("BUILD") ? getenv("BUILD") : "build");
		bin = defbin;
	}
	if (!r.attached && access(bin, X_OK) == -1) {
		printf("relay_bench: %s is not built, nothing to measure\n", bin);
		return 0;
	}
	log_init("relay_bench", LOG_LVL_WARNING);
	signal(SIGPIPE, SIG_IGN);
	/* the memory run holds nclients sockets here and in relayd */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		if (rl.rlim_max < (rlim_t)nclients * 2 + 256)
			rl.rlim_max = (rlim_t)nclients * 2 + 256;
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
			getrlimit(RLIMIT_NOFILE, &rl);
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	memset(&b, 0, sizeof(b));
	b.loop = EV_DEFAULT;
	if ((b.frame = malloc(65536)) == NULL ||
	    (b.rtt = calloc(rounds + 1, sizeof(double))) == NULL)
		return 1;
	pin(0, cpu_mine);
	if (r.attached)
		snprintf(r.url, sizeof(r.url), "ws://127.0.0.1:%d", r.port);
	else if (relayd_start(&r, bin, nclients, cpu_relayd) == -1) {
		relayd_stop(&r);
		return 1;
	}
	pin_describe(cpu_relayd, cpu_mine);
	if (strcmp(node, "none") != 0 && (strstr(sections, "thru") ||
	    strstr(sections, "lat")) && (access(node, R_OK) == -1 ||
	    node_start(&nr, node, cpu_relayd) == -1)) {
		printf("npm ws relay (node %s) did not start: no reference "
		    "(node, and cd tests/interop && npm ci)\n", node);
		node_stop(&nr);
	}
	{
		char la[48];
		load_now(la, sizeof(la));
		printf("relayd %s on %s, %ld CPUs, %s, load average %s: "
		    "other work on the machine skews every figure\n",
		    r.attached ? "(attached)" : bin, r.url, sysconf(_SC_NPROCESSORS_ONLN), PIN_DESC, la);
	}
	if (nr.pid > 0)
		printf("npm ws reference relay: node %s on 127.0.0.1:%d "
		    "(pid %d)\n", node, nr.port, (int)nr.pid);
	printf("\n");
	fflush(stdout);
	if (strstr(sections, "thru") != NULL) {
		run_thru(&b, &r, &nr, mib << 20);
		printf("\n");
	}
	if (strstr(sections, "lat") != NULL) {
		run_lat(&b, &r, &nr, rounds);
		printf("\n");
	}
	if (strstr(sections, "idle") != NULL) {
		run_idle(&b, &r, rounds, nclients);
		printf("\n");
	}
	fflush(stdout);
	if (strstr(sections, "mem") != NULL)
		bench_mem(&r, nclients);
	node_stop(&nr);
	relayd_stop(&r);
	free(b.frame);
	free(b.rtt);
	return 0;
}
