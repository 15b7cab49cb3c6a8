/*
 * Upgraded connections: wslay's server-side event API per client, session
 * forwarding, join/leave announcements, back-pressure, ping/idle timers.
 *
 * Forwarding appends the frame to the receiver's output (wsio.c), which
 * is written at the end of the sender's read slice; a failed write only
 * marks the receiver and leaves the drop to its own write callback. No
 * client is freed from inside another's callbacks: every drop happens on
 * the dropped client's own stack, so the session member lists are never
 * changed while walked. The byte streams, and which frames wslay sees, are
 * wsio.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <wslay/wslay.h>

#include "common/log.h"
#include "common/wsmask.h"
#include "proto/relaymsg.h"
#include "relayd/http.h"
#include "relayd/relayd.h"

/* After our close frame, how long the peer has to answer it. */
#define WS_CLOSE_WAIT_S		2.0
/* ... unless it is a slow reader: its close frame waits behind a full
 * queue the client has not read for slow_grace; holding that queue two
 * more seconds buys nothing. */
#define WS_SLOW_WAIT_S		0.25

/* A masked message unmasked in place, once: for wslay's queue, which
 * takes plain payloads. */
static void
ws_msg_plain(struct ws_msg *m)
{
	if (m->inplace == NULL)
		return;
	wsmask_copy(m->inplace, m->inplace, m->len, m->key);
	m->inplace = NULL;
}

static void	ws_arm_timer(struct relayd_conn *, double);
static int	ws_ctx(struct relayd_conn *);

/* wslay has messages queued for c, which go before anything else */
static int
ws_queueing(const struct relayd_conn *c)
{
	return c->ws != NULL && wslay_event_want_write(c->ws);
}

/*
 * c's send queue is at sendq_max (a frame for it dropped, or a ping of
 * its own held): the slow-reader rule. Over the cap for slow_grace, c is
 * closed; the timer makes sure that happens even when nothing more comes
 * for c (a ping flooder that never reads sends and receives nothing else).
 */
static void
ws_over_cap(struct relayd_conn *c, double now)
{
	double grace = c->rd->conf.slow_grace_ms / 1000.0;

	if (c->over_since == 0) {
		c->over_since = now;
		if (ev_timer_remaining(c->rd->loop, &c->timer) > grace)
			ws_arm_timer(c, grace);
	} else if (now - c->over_since >= grace)
		ws_close(c, WSLAY_CODE_POLICY_VIOLATION,
		    "receiving too slowly", REASON_SLOW);
}

/* Queue one message towards c, within its send queue cap. 0 queued. */
static int
ws_enqueue(struct relayd_conn *c, struct ws_msg *msg)
{
	struct relayd			*rd = c->rd;
	struct wslay_event_msg		 m;
	double				 now = ev_now(rd->loop);

	if (c->state != CLIENT_WS)
		return -1;
	if (wsio_queued(c) + msg->len + WSIO_MSG_OVERHEAD >
	    (size_t)rd->conf.sendq_max) {
		c->drops++;
		rd->st.drops_queue++;
		ws_over_cap(c, now);
		return -1;
	}
	/* straight into c's output buffer (one copy) unless wslay has
	 * something queued, which must go first */
	if (ws_queueing(c) || wsio_append(c, msg) == -1) {
		/* the buffer is full: write some of it out first */
		if (ws_queueing(c) || c->eof ||
		    wsio_send(c) != 0 || wsio_append(c, msg) == -1) {
			if (ws_ctx(c) == -1)
				return -1;
			ws_msg_plain(msg);
			m.opcode = msg->opcode;
			m.msg = msg->data;
			m.msg_length = msg->len;
			if (wslay_event_queue_msg(c->ws, &m) != 0)
				return -1;
		}
	}
	/* inside ws_read, written at its end with whatever else the read
	 * slice brings for c; else now rather than on the next loop turn
	 * (latency). A failure is left to c's own write callback (never drop
	 * c here). */
	if (rd->batching) {
		wsio_flush_later(c);
		return 0;
	}
	if (!c->eof && wsio_send(c) != 0) {
		c->eof = 1;
		ev_feed_event(rd->loop, &c->wio, EV_WRITE);
		return 0;
	}
	connio_update(c);
	return 0;
}

static void
ws_announce(struct relayd_conn *to, uint8_t event, const struct session *s,
    uint32_t who)
{
	struct relaymsg_control	 ctl;
	uint8_t			 buf[RELAYMSG_CONTROL_LEN];
	struct ws_msg		 m = { buf, NULL, sizeof(buf),
				    WSLAY_BINARY_FRAME, { 0 } };

	memset(&ctl, 0, sizeof(ctl));
	ctl.event = event;
	ctl.client_id = who;
	ctl.count = (uint16_t)(s->nmembers > 0xffff ? 0xffff : s->nmembers);
	ctl.max = (uint16_t)to->rd->conf.max_session_clients;
	relaymsg_control_write(buf, sizeof(buf), &ctl);
	ws_enqueue(to, &m);
}

/* A message from c to the others of its session (wsio_input's forward
 * callback too). */
static void
ws_forward(struct relayd_conn *c, struct ws_msg *msg)
{
	struct relayd		*rd = c->rd;
	struct session		*s = c->member.sess;
	struct session_member	*m;
	struct relayd_conn	*p;
	uint8_t			 first;

	/* the first byte says what it is; only it is unmasked to look */
	first = msg->len == 0 ? 0 : msg->inplace != NULL ?
	    msg->inplace[0] ^ msg->key[0] : msg->data[0];
	if (msg->opcode == WSLAY_BINARY_FRAME &&
	    relaymsg_kind(&first, msg->len > 0) == RELAYMSG_KIND_CONTROL) {
		/* only relayd speaks 0xF0: a client cannot forge joins */
		rd->st.drops_forged++;
		return;
	}
	rd->st.frames_in++;
	rd->st.bytes_in += msg->len;
	c->rx_bytes += msg->len;
	if (s == NULL)
		return;
	s->rx_bytes += msg->len;
	if (s->nmembers < 2) {
		rd->st.drops_alone++;
		return;
	}
	TAILQ_FOREACH(m, &s->members, entry) {
		if (m == &c->member)
			continue;
		p = container_of(m, struct relayd_conn, member);
		if (ws_enqueue(p, msg) == 0) {
			rd->st.frames_out++;
			rd->st.bytes_out += msg->len;
			p->tx_bytes += msg->len;
			s->tx_bytes += msg->len;
		}
	}
}

static void
ws_msg_cb(wslay_event_context_ptr ctx,
    const struct wslay_event_on_msg_recv_arg *a, void *arg)
{
	struct relayd_conn	*c = arg;
	struct ws_msg		 m = { a->msg, NULL, a->msg_length, a->opcode,
				    { 0 } };

	switch (a->opcode) {
	case WSLAY_BINARY_FRAME:
	case WSLAY_TEXT_FRAME:
		if (c->state == CLIENT_WS)
			ws_forward(c, &m);
		break;
	case WSLAY_CONNECTION_CLOSE:
		/* the client started the close (else this is its answer) */
		if (!wslay_event_get_close_sent(ctx) && c->state == CLIENT_WS) {
			c->reason = REASON_CLIENT_CLOSE;
			c->state = CLIENT_CLOSING;
		}
		break;
	default:
		break;	/* ping answered by wslay; pong only proves liveness */
	}
}

static const struct wslay_event_callbacks ws_callbacks = {
	wsio_recv_cb, wsio_send_cb, NULL, NULL, NULL, NULL, ws_msg_cb
};

void
ws_configure(struct relayd_conn *c)
{
	wslay_event_config_set_max_recv_msg_length(c->ws,
	    (uint64_t)c->rd->conf.max_frame);
}

/*
 * c's wslay context exists only while wslay has work for c: a frame
 * other than the common binary one being parsed (ping, pong, close, text,
 * fragments), a message or control frame queued, a close sent or received.
 * The common frames never need it (wsio.c), so an idle client holds no
 * context: wslay's is several KiB, most of an idle client's memory
 * otherwise (issue 14 item 3). 0, or -1 out of memory.
 */
static int
ws_ctx(struct relayd_conn *c)
{
	if (c->ws != NULL)
		return 0;
	if (wslay_event_context_server_init(&c->ws, &ws_callbacks, c) != 0) {
		c->ws = NULL;
		return -1;
	}
	ws_configure(c);
	return 0;
}

/* ... and goes when wslay holds nothing for c any more. */
static void
ws_ctx_idle(struct relayd_conn *c)
{
	if (c->ws == NULL || c->state != CLIENT_WS || c->wsl_frag ||
	    c->wsl_left > 0 || wslay_event_want_write(c->ws) ||
	    !wslay_event_get_read_enabled(c->ws) ||
	    wslay_event_get_close_sent(c->ws) ||
	    wslay_event_get_close_received(c->ws))
		return;
	wslay_event_context_free(c->ws);
	c->ws = NULL;
}

static void
ws_arm_timer(struct relayd_conn *c, double after)
{
	ev_timer_stop(c->rd->loop, &c->timer);
	ev_timer_set(&c->timer, after > 0.001 ? after : 0.001, 0);
	ev_timer_start(c->rd->loop, &c->timer);
}

/*
 * Accept the upgrade: join the session (limits), queue the 101 answer in
 * c->buf and our WELCOME behind it, announce JOINED to the others.
 * 0, or an HTTP status to answer with.
 */
int
ws_start(struct relayd_conn *c, const char *session, const char *key,
    int subprotocol)
{
	struct relayd		*rd = c->rd;
	struct session_member	*m;
	char			 accept[32];
	int			 r, n;

	if (http_ws_accept(key, accept, sizeof(accept)) == -1)
		return 500;
	c->member.id = (uint32_t)c->id;
	r = session_join(rd->sessions, session, &c->member,
	    (unsigned)rd->conf.max_session_clients,
	    (unsigned)rd->conf.max_sessions, ev_now(rd->loop));
	if (r != 0) {
		rd->st.refused_limit++;
		log_notice("client %llu %s: session %s refused: %s",
		    (unsigned long long)c->id, c->addr_str,
		    session, r == SESSION_EFULL ? "session full" :
		    r == SESSION_ETOOMANY ? "too many sessions" : "no memory");
		return 503;
	}
	n = snprintf(c->buf, HTTP_MAX_REQUEST, "HTTP/1.1 101 Switching Protocols"
	    "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: %s\r\n%sServer: relayd/%s\r\n\r\n",
	    accept, subprotocol ? "Sec-WebSocket-Protocol: " HTTP_SUBPROTOCOL
	    "\r\n" : "", RELAYD_VERSION);
	c->buflen = (uint32_t)n;
	c->bufoff = 0;
	c->state = CLIENT_WS;
	rd->nws++;
	rd->st.upgrades++;
	c->last_rx = ev_now(rd->loop);
	log_info("client %llu %s joined session %s (%u/%d)",
	    (unsigned long long)c->id, c->addr_str,
	    session, c->member.sess->nmembers, rd->conf.max_session_clients);
	ws_announce(c, RELAYMSG_WELCOME, c->member.sess, c->member.id);
	TAILQ_FOREACH(m, &c->member.sess->members, entry)
		if (m != &c->member)
			ws_announce(container_of(m, struct relayd_conn, member),
			    RELAYMSG_JOINED, c->member.sess, c->member.id);
	ws_arm_timer(c, rd->conf.ping_interval_ms / 1000.0);
	connio_update(c);
	return 0;
}

/* Leave the session and tell whoever remains. */
void
ws_leave(struct relayd_conn *c)
{
	struct session		*s = c->member.sess;
	struct session_member	*m;
	uint32_t		 id = c->member.id;

	wsio_release(c);
	if (s == NULL)
		return;
	if (session_leave(c->rd->sessions, &c->member) == 0)
		return;		/* s is gone with its last member */
	TAILQ_FOREACH(m, &s->members, entry)
		ws_announce(container_of(m, struct relayd_conn, member),
		    RELAYMSG_LEFT, s, id);
}

/* Why this connection ends, from what wslay saw. */
static enum relay_reason
ws_reason(struct relayd_conn *c)
{
	if (c->state == CLIENT_CLOSING)
		return (enum relay_reason)c->reason;
	if (c->ws != NULL && wslay_event_get_close_sent(c->ws)) {
		switch (wslay_event_get_status_code_sent(c->ws)) {
		case WSLAY_CODE_MESSAGE_TOO_BIG:
			return REASON_TOO_BIG;
		default:
			return REASON_PROTOCOL;
		}
	}
	return c->eof ? REASON_EOF : REASON_ERROR;
}

/* The connection is over: why, for conn.c to drop it. */
static int
ws_over(struct relayd_conn *c)
{
	c->reason = ws_reason(c);
	return -1;
}

/* After wslay did I/O: finish when it wants nothing more (-1), else
 * re-arm (0). */
static int
ws_after_io(struct relayd_conn *c, int r)
{
	if (r != 0)
		log_debug("client %llu: wslay error %d", (unsigned long long)c->id,
		    r);
	if (r != 0 || (c->ws != NULL && !wslay_event_want_read(c->ws) &&
	    !connio_want_write(c)))
		return ws_over(c);
	if (c->state == CLIENT_WS && c->ws != NULL &&
	    wslay_event_get_close_sent(c->ws)) {
		/* wslay failed the connection (bad frame): wait for the end */
		c->reason = ws_reason(c);
		c->state = CLIENT_CLOSING;
		ws_arm_timer(c, WS_CLOSE_WAIT_S);
	}
	ws_ctx_idle(c);
	connio_update(c);
	return 0;
}

int
ws_read(struct relayd_conn *c)
{
	int r;

	c->rbudget = WS_READ_BUDGET;
	c->rd->batching = 1;
	r = wsio_input(c, ws_forward, ws_ctx);
	c->rd->batching = 0;
	wsio_flush_all(c->rd);
	if (r == 0 && c->rbudget == 0)
		/* more may wait, in the socket or inside TLS (where libev
		 * cannot see it): come back on the next loop turn */
		ev_feed_event(c->rd->loop, &c->rio, EV_READ);

	if (c->rpaused && c->state == CLIENT_WS)
		ws_over_cap(c, ev_now(c->rd->loop));
	if ((r == WSIO_ERR_POLICY || (r != 0 && r != WSLAY_ERR_NOMEM &&
	    !c->eof && c->state == CLIENT_WS)) && ws_ctx(c) == -1) {
		c->reason = REASON_ERROR;
		return -1;
	}
	if (r == WSIO_ERR_POLICY) {
		/* wsio refused a message (fragments, assembly time) */
		log_debug("client %llu: message refused: %s",
		    (unsigned long long)c->id, c->fail_code ==
		    WSLAY_CODE_MESSAGE_TOO_BIG ? "too many fragments" :
		    "assembled too slowly");
		wslay_event_shutdown_read(c->ws);
		r = wslay_event_queue_close(c->ws, c->fail_code, NULL, 0);
		if (r == WSLAY_ERR_NO_MORE_MSG)
			r = 0;
		c->reason = c->fail_code == WSLAY_CODE_MESSAGE_TOO_BIG ?
		    REASON_TOO_BIG : REASON_PROTOCOL;
		c->state = CLIENT_CLOSING;
		ws_arm_timer(c, WS_CLOSE_WAIT_S);
	} else if (r != 0 && r != WSLAY_ERR_NOMEM && !c->eof &&
	    c->state == CLIENT_WS) {
		/* a frame wslay's frame layer refused (e.g. a control frame
		 * over 125 bytes): it says "callback failure" although our
		 * callbacks did not fail. It may have queued a close already
		 * (NO_MORE_MSG); either way, send one and wait for the end. */
		wslay_event_shutdown_read(c->ws);
		r = wslay_event_queue_close(c->ws, WSLAY_CODE_PROTOCOL_ERROR,
		    NULL, 0);
		if (r == WSLAY_ERR_NO_MORE_MSG)
			r = 0;
		c->reason = REASON_PROTOCOL;
		c->state = CLIENT_CLOSING;
		ws_arm_timer(c, WS_CLOSE_WAIT_S);
	}
	/* a frame wslay refused queues a close: get it out now */
	if (r == 0 && connio_want_write(c))
		r = wsio_send(c);
	return ws_after_io(c, r);
}

int
ws_write(struct relayd_conn *c)
{
	int r;

	if (c->eof)
		return ws_over(c);	/* a write from ws_enqueue failed */
	r = wsio_send(c);

	if (r == 0 && c->over_since != 0 &&
	    wsio_queued(c) < (size_t)c->rd->conf.sendq_max / 2) {
		c->over_since = 0;
		if (c->rpaused) {
			/* the held ping's turn: parse c->in again */
			c->rpaused = 0;
			ev_feed_event(c->rd->loop, &c->rio, EV_READ);
		}
	}
	if (c->ssl != NULL && r == 0 && c->ssl_want_write) {
		/* an SSL_read wanted this write: read again now */
		c->rbudget = WS_READ_BUDGET;
		c->rd->batching = 1;
		r = wsio_input(c, ws_forward, ws_ctx);
		c->rd->batching = 0;
		wsio_flush_all(c->rd);
	}
	return ws_after_io(c, r);
}

int
ws_timer(struct relayd_conn *c)
{
	struct relayd		*rd = c->rd;
	struct wslay_event_msg	 ping = { WSLAY_PING, NULL, 0 };
	double			 idle = ev_now(rd->loop) - c->last_rx;
	double			 pi = rd->conf.ping_interval_ms / 1000.0;
	double			 to = rd->conf.idle_timeout_ms / 1000.0;
	double			 grace = rd->conf.slow_grace_ms / 1000.0;
	double			 next;

	if (c->state == CLIENT_CLOSING)
		return ws_over(c);
	if (c->over_since != 0 && ev_now(rd->loop) - c->over_since >= grace) {
		ws_close(c, WSLAY_CODE_POLICY_VIOLATION, "receiving too slowly",
		    REASON_SLOW);
		return 0;
	}
	if (idle >= to) {
		ws_close(c, WSLAY_CODE_GOING_AWAY, "idle timeout", REASON_IDLE);
		return 0;
	}
	if (idle >= pi) {
		if (ws_ctx(c) == 0)
			wslay_event_queue_msg(c->ws, &ping);
		connio_update(c);
		next = pi < to - idle ? pi : to - idle;
	} else
		next = pi - idle;
	if (c->over_since != 0 && c->over_since + grace - ev_now(rd->loop) <
	    next)
		next = c->over_since + grace - ev_now(rd->loop);
	ws_arm_timer(c, next);
	ws_ctx_idle(c);
	return 0;
}

/* Start the closing handshake; the client goes when it answers or after
 * WS_CLOSE_WAIT_S (the drain time on shutdown). */
void
ws_close(struct relayd_conn *c, uint16_t code, const char *msg,
    enum relay_reason why)
{
	if (c->state != CLIENT_WS)
		return;
	c->reason = why;
	c->state = CLIENT_CLOSING;
	if (ws_ctx(c) == 0)	/* else it goes at the timer, without */
		wslay_event_queue_close(c->ws, code, (const uint8_t *)msg,
		    strlen(msg));
	ws_arm_timer(c, why == REASON_SHUTDOWN ?
	    c->rd->conf.drain_ms / 1000.0 : why == REASON_SLOW ?
	    WS_SLOW_WAIT_S : WS_CLOSE_WAIT_S);
	connio_update(c);
}
