/*
 * relayd's WebSocket frame path (relayd/ws.c) without a socket: two
 * clients are upgraded into one session with ws_start(), then client A's
 * byte stream (the input) reaches wslay through ws.c's own recv callback,
 * which calls connio_read(). This file stands in for relayd/connio.c and
 * relayd/conn.c: connio_read() serves the input in chunks, connio_write()
 * takes what wslay sends (and can refuse it, so B's queue fills up), and
 * drop() frees a client as conn_drop() does when ws.c says it is over. Everything ws.c does
 * with a frame runs: forwarding to B, forged CONTROL frames, pings,
 * close handshakes, max_frame, the send queue cap and slow-reader drop.
 *
 * Input: byte 0 mode bits, byte 1 read chunk size, then A's stream.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "relayd/http.h"
#include "relayd/relayd.h"

/* RFC 6455 section 1.3's example key */
#define WS_KEY		"dGhlIHNhbXBsZSBub25jZQ=="

static struct relayd	 rd;
static struct relayd_conn *conns[2];	/* A, B; NULL once dropped */
static const uint8_t	*in;
static size_t		 inlen, chunk;
static int		 b_blocked;

ssize_t
connio_read(struct relayd_conn *c, void *buf, size_t len)
{
	size_t n;

	if (c != conns[0]) {
		errno = EAGAIN;		/* B never sends */
		return -1;
	}
	if (inlen == 0) {
		errno = EAGAIN;
		return -1;
	}
	n = len < chunk ? len : chunk;
	if (n > inlen)
		n = inlen;
	memcpy(buf, in, n);
	in += n;
	inlen -= n;
	return (ssize_t)n;
}

ssize_t
connio_write(struct relayd_conn *c, const void *buf, size_t len)
{
	(void)buf;
	if (c == conns[1] && b_blocked) {
		errno = EAGAIN;
		return -1;
	}
	return (ssize_t)(len > 7 ? len - 7 : len);	/* short writes */
}

void
connio_update(struct relayd_conn *c)
{
	(void)c;
}

int
connio_want_write(const struct relayd_conn *c)
{
	return c->outoff < c->outlen ||
	    (c->ws != NULL && wslay_event_want_write(c->ws));
}

static void
drop(struct relayd_conn *c, enum relay_reason why)
{
	int i;

	rd.st.disc[why]++;
	if (c->state == CLIENT_WS || c->state == CLIENT_CLOSING) {
		ws_leave(c);
		rd.nws--;
	}
	ev_timer_stop(rd.loop, &c->timer);
	if (c->ws != NULL)
		wslay_event_context_free(c->ws);
	free(c->buf);
	TAILQ_REMOVE(&rd.clients, c, entry);
	rd.nclients--;
	for (i = 0; i < 2; i++)
		if (conns[i] == c)
			conns[i] = NULL;
	free(c);
}

static void
timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
}

static struct relayd_conn *
conn_new(void)
{
	struct relayd_conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->buf = malloc(HTTP_MAX_REQUEST)) == NULL)
		abort();
	c->rd = &rd;
	c->fd = -1;
	c->id = ++rd.next_id;
	snprintf(c->addr_str, sizeof(c->addr_str), "[2001:db8::%llu]:40000",
	    (unsigned long long)c->id);
	c->state = CLIENT_HTTP;
	ev_timer_init(&c->timer, timer_cb, 1.0, 0);
	TAILQ_INSERT_TAIL(&rd.clients, c, entry);
	rd.nclients++;
	if (ws_start(c, "fuzz-session", WS_KEY, 1) != 0)
		abort();
	/* conn_write_cb: the 101 answer is out, the buffer goes */
	free(c->buf);
	c->buf = NULL;
	c->buflen = c->bufoff = 0;
	return c;
}

/* ws_read, ws_write, ws_timer: -1 means over, and conn.c drops it */
static void
over(int r, struct relayd_conn *c)
{
	if (r == -1)
		drop(c, (enum relay_reason)c->reason);
}

static void
setup(void)
{
	log_init("fuzz_ws", LOG_LVL_ERR);
	rd.loop = ev_loop_new(EVFLAG_AUTO);
	if ((rd.sessions = session_table_new()) == NULL)
		abort();
	TAILQ_INIT(&rd.clients);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t	mode;
	int	i, rounds;

	if (rd.loop == NULL)
		setup();
	if (size < 2)
		return 0;
	mode = data[0];
	chunk = 1 + data[1];
	in = data + 2;
	inlen = size - 2;

	rd.conf.max_frame = (mode & 1) ? 64 : 65536;
	rd.conf.max_session_clients = 8;
	rd.conf.max_sessions = 16;
	rd.conf.sendq_max = (mode & 2) ? 256 : 1 << 20;
	rd.conf.slow_grace_ms = 0;
	rd.conf.ping_interval_ms = (mode & 4) ? 0 : 25000;
	rd.conf.idle_timeout_ms = 60000;
	rd.conf.drain_ms = 1000;
	rd.conf.max_fragments = (mode & 1) ? 4 : 1024;
	rd.conf.message_timeout_ms = 30000;
	b_blocked = (mode & 8) != 0;

	conns[0] = conn_new();
	conns[1] = conn_new();
	over(ws_write(conns[0]), conns[0]);
	if (conns[1] != NULL)
		over(ws_write(conns[1]), conns[1]);

	/* as the loop would: A readable until its bytes run out, both
	 * writable, the timers now and then */
	for (rounds = 0; rounds < 100000 && conns[0] != NULL; rounds++) {
		if (inlen == 0)
			break;
		over(ws_read(conns[0]), conns[0]);
		if (conns[0] != NULL && connio_want_write(conns[0]))
			over(ws_write(conns[0]), conns[0]);
		if (conns[1] != NULL && connio_want_write(conns[1]))
			over(ws_write(conns[1]), conns[1]);
		if ((mode & 16) && (rounds % 4) == 3)
			for (i = 0; i < 2; i++)
				if (conns[i] != NULL)
					over(ws_timer(conns[i]), conns[i]);
	}
	if (conns[0] != NULL && (mode & 32))
		ws_close(conns[0], WSLAY_CODE_GOING_AWAY, "shutdown",
		    REASON_SHUTDOWN);
	/* the end: the timers fire (CLOSING clients go), what is left is
	 * dropped as on shutdown */
	for (i = 0; i < 2; i++)
		if (conns[i] != NULL && conns[i]->state == CLIENT_CLOSING)
			over(ws_timer(conns[i]), conns[i]);
	for (i = 0; i < 2; i++)
		if (conns[i] != NULL)
			drop(conns[i], REASON_SHUTDOWN);
#ifdef FUZZ_WS_DEBUG
	fprintf(stderr, "in %llu out %llu forged %llu queue %llu upgrades %llu "
	    "protocol %llu too_big %llu client_close %llu slow %llu\n",
	    (unsigned long long)rd.st.frames_in,
	    (unsigned long long)rd.st.frames_out,
	    (unsigned long long)rd.st.drops_forged,
	    (unsigned long long)rd.st.drops_queue,
	    (unsigned long long)rd.st.upgrades,
	    (unsigned long long)rd.st.disc[REASON_PROTOCOL],
	    (unsigned long long)rd.st.disc[REASON_TOO_BIG],
	    (unsigned long long)rd.st.disc[REASON_CLIENT_CLOSE],
	    (unsigned long long)rd.st.disc[REASON_SLOW]);
#endif
	if (rd.nclients != 0 || rd.nws != 0 ||
	    session_count(rd.sessions) != 0)
		abort();
	return 0;
}
