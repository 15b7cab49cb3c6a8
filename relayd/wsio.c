/*
 * The byte streams of an upgraded connection, under ws.c.
 *
 * Input: read(2) in slices of up to 256 KiB into a per-client buffer. The
 * common frame, a complete, masked, final binary frame within max_frame, is
 * handled here: handed to the forward callback (ws.c's ws_forward) straight
 * from the buffer, still
 * masked, and unmasked while it is copied into each receiver's output
 * (common/wsmask.h, 64 bytes a step): one pass over the payload in user
 * space. Every other frame (text, control, fragments, anything malformed or
 * too big) goes to wslay whole, fed from the same buffer through
 * wsio_recv_cb, so wslay keeps deciding about pings, closes, UTF-8, limits
 * and errors exactly as before, and sees each such frame at a frame
 * boundary. While wslay holds an unfinished fragmented message, every frame
 * goes to it.
 *
 * Output: frames are appended to a per-client buffer (header and payload
 * together: the payload's one copy, which unmasks it) and written with one
 * send(2) per batch: ws_read() collects what one read slice produced for
 * every receiver and writes it at its end (wsio_flush_all). wslay's own
 * output (pongs, closes, pings, messages queued while the buffer was full)
 * is appended by wsio_send_cb behind what is already there, and frames are
 * appended directly only while wslay has nothing queued, so the stream
 * stays in order.
 *
 * Both buffers come from a small pool in struct relayd and go back to it
 * when empty, so idle clients hold neither and a busy one does not
 * malloc/free per frame.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <wslay/wslay.h>

#include "common/wsframe.h"
#include "common/wsmask.h"
#include "relayd/relayd.h"

/* What waits for c: wslay's queue (messages, pongs, closes), and the
 * frames in c->out. Data and control replies count against one cap. */
size_t
wsio_queued(const struct relayd_conn *c)
{
	if (c->ws == NULL)
		return c->outlen - c->outoff;
	return wslay_event_get_queued_msg_length(c->ws) +
	    wslay_event_get_queued_msg_count(c->ws) * WSIO_MSG_OVERHEAD +
	    (c->outlen - c->outoff);
}

static uint8_t *
wsio_get(struct relayd *rd)
{
	if (rd->npool > 0)
		return rd->pool[--rd->npool];
	return malloc(WSIO_BUF);
}

static void
wsio_put(struct relayd *rd, uint8_t *b)
{
	if (b == NULL)
		return;
	if (rd->npool < WSIO_POOL)
		rd->pool[rd->npool++] = b;
	else
		free(b);
}

void
wsio_fini(struct relayd *rd)
{
	while (rd->npool > 0)
		free(rd->pool[--rd->npool]);
}

/* The client goes: its buffers back to the pool, off the flush list. */
void
wsio_release(struct relayd_conn *c)
{
	struct relayd		*rd = c->rd;
	struct relayd_conn	**pp;

	if (c->flushing)
		for (pp = &rd->flushq; *pp != NULL; pp = &(*pp)->fnext)
			if (*pp == c) {
				*pp = c->fnext;
				break;
			}
	c->flushing = 0;
	wsio_put(rd, c->in);
	wsio_put(rd, c->out);
	c->in = c->out = NULL;
	c->inlen = c->inoff = c->outlen = c->outoff = 0;
}

/* Room for len more output bytes at the end of c->out; 0 or -1. */
static int
wsio_room(struct relayd_conn *c, size_t len)
{
	if (c->out == NULL && (c->out = wsio_get(c->rd)) == NULL)
		return -1;
	if (c->outlen + len > WSIO_BUF && c->outoff > 0) {
		memmove(c->out, c->out + c->outoff, c->outlen - c->outoff);
		c->outlen -= c->outoff;
		c->outoff = 0;
	}
	return c->outlen + len <= WSIO_BUF ? 0 : -1;
}

/* wslay's output goes behind what is in c->out. */
ssize_t
wsio_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len,
    int flags, void *arg)
{
	struct relayd_conn	*c = arg;
	size_t			 room;

	(void)flags;
	if (wsio_room(c, 1) == -1) {
		wslay_event_set_error(ctx, c->out == NULL ?
		    WSLAY_ERR_CALLBACK_FAILURE : WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	room = WSIO_BUF - c->outlen;
	if (len > room)
		len = room;
	memcpy(c->out + c->outlen, data, len);
	c->outlen += len;
	return (ssize_t)len;
}

/* One unmasked server frame into c->out, the payload unmasked on the way
 * if it still is masked: 0, or -1 when it does not fit. */
int
wsio_append(struct relayd_conn *c, const struct ws_msg *m)
{
	uint8_t	*p;
	size_t	 len = m->len, hl = len < 126 ? 2 : len < 65536 ? 4 : 10;
	int	 i;

	if (wsio_room(c, hl + len) == -1)
		return -1;
	p = c->out + c->outlen;
	*p++ = 0x80 | m->opcode;
	if (len < 126)
		*p++ = (uint8_t)len;
	else if (len < 65536) {
		*p++ = 126;
		*p++ = (uint8_t)(len >> 8);
		*p++ = (uint8_t)len;
	} else {
		*p++ = 127;
		for (i = 7; i >= 0; i--)
			*p++ = (uint8_t)((uint64_t)len >> (8 * i));
	}
	if (m->inplace != NULL)
		wsmask_copy(p, m->inplace, len, m->key);
	else if (len > 0)
		memcpy(p, m->data, len);
	c->outlen += hl + len;
	return 0;
}

/*
 * Write c->out, refilling it from wslay's queue, until both are empty or
 * the socket is full. Nothing goes out before the 101 answer (c->buf) has.
 * 0, or a wslay error code (c->eof set when the socket failed).
 */
int
wsio_send(struct relayd_conn *c)
{
	ssize_t	n;
	int	r;

	if (c->bufoff < c->buflen)
		return 0;
	for (;;) {
		if (c->outoff < c->outlen) {
			n = connio_write(c, c->out + c->outoff,
			    c->outlen - c->outoff);
			if (n > 0) {
				c->outoff += (size_t)n;
				continue;
			}
			if (n == -1 && (errno == EAGAIN || errno == EINTR))
				break;
			c->eof = 1;
			return WSLAY_ERR_CALLBACK_FAILURE;
		}
		c->outoff = c->outlen = 0;
		if (c->ws == NULL || !wslay_event_want_write(c->ws))
			break;
		if ((r = wslay_event_send(c->ws)) != 0)
			return r;
		if (c->outlen == 0)
			break;
	}
	if (c->outoff == c->outlen && c->out != NULL) {
		wsio_put(c->rd, c->out);
		c->out = NULL;
		c->outoff = c->outlen = 0;
	}
	return 0;
}

/* Output was appended inside ws_read: write it at its end. */
void
wsio_flush_later(struct relayd_conn *c)
{
	if (c->flushing)
		return;
	c->flushing = 1;
	c->fnext = c->rd->flushq;
	c->rd->flushq = c;
}

void
wsio_flush_all(struct relayd *rd)
{
	struct relayd_conn *c;

	while ((c = rd->flushq) != NULL) {
		rd->flushq = c->fnext;
		c->fnext = NULL;
		c->flushing = 0;
		/* a failure is left to c's own write callback */
		if (!c->eof && wsio_send(c) != 0) {
			c->eof = 1;
			ev_feed_event(rd->loop, &c->wio, EV_WRITE);
		}
		connio_update(c);
	}
}

/* wslay reads the frame bytes wsio_input gave it (c->feed), no more. */
ssize_t
wsio_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len,
    int flags, void *arg)
{
	struct relayd_conn *c = arg;

	(void)flags;
	if (c->feed == 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	if (len > c->feed)
		len = c->feed;
	memcpy(buf, c->in + c->inoff, len);
	c->inoff += len;
	c->feed -= len;
	c->wsl_left -= len;
	return (ssize_t)len;
}

/*
 * Before a frame goes to wslay (p: its header): the bounds wslay does not
 * keep. A ping while c's own queue is at sendq_max waits in c->in, and
 * reading stops (2), so pongs for a client that never reads cannot grow
 * past the cap that holds its data (ws.c's slow-reader rule then closes
 * it). A fragmented message gets max_fragments frames and
 * message_timeout to complete: endless empty continuation frames would
 * otherwise keep one message open forever.
 */
static int
wsio_check(struct relayd_conn *c, const uint8_t *p)
{
	struct relayd	*rd = c->rd;
	double		 now = ev_now(rd->loop);
	int		 op = p[0] & 0x0f;

	if (op == WSLAY_PING && c->state == CLIENT_WS &&
	    wsio_queued(c) >= (size_t)rd->conf.sendq_max) {
		c->rpaused = 1;
		return 2;
	}
	if (op >= 0x08 || c->state != CLIENT_WS)
		return 0;
	if (!c->wsl_frag) {
		if (p[0] & 0x80)
			return 0;	/* a whole message in one frame */
		c->nfrag = 0;
		c->frag_since = now;
	}
	if (++c->nfrag > (uint32_t)rd->conf.max_fragments) {
		c->fail_code = WSLAY_CODE_MESSAGE_TOO_BIG;
		return WSIO_ERR_POLICY;
	}
	if (now - c->frag_since > rd->conf.message_timeout_ms / 1000.0) {
		c->fail_code = WSLAY_CODE_POLICY_VIOLATION;
		return WSIO_ERR_POLICY;
	}
	return 0;
}

/* Handle what c->in holds. 0; 1 when wslay stopped reading (the rest is
 * dropped); 2 when a ping waits for c's queue (the rest is kept); or an
 * error (wslay's, or WSIO_ERR_POLICY). */
static int
wsio_parse(struct relayd_conn *c, wsio_forward_fn *forward, wsio_ctx_fn *ctx)
{
	struct relayd	*rd = c->rd;
	struct ws_msg	 m;
	uint8_t		*p;
	uint64_t	 plen;
	size_t		 hl, avail;
	int		 r, frag;

	while (c->inoff < c->inlen) {
		p = c->in + c->inoff;
		avail = c->inlen - c->inoff;
		if (c->wsl_left > 0) {
			c->feed = avail < c->wsl_left ? avail :
			    (size_t)c->wsl_left;
			r = wslay_event_recv(c->ws);
			if (r != 0)
				return r;
			if (c->feed > 0) {
				c->feed = 0;
				return 1;
			}
			continue;
		}
		if ((hl = wsframe_header(p, avail, &plen)) == 0)
			break;
		if (p[0] != (0x80 | WSLAY_BINARY_FRAME) || !(p[1] & 0x80) ||
		    c->wsl_frag || c->state != CLIENT_WS ||
		    plen > (uint64_t)rd->conf.max_frame ||
		    plen > WSIO_BUF - hl || !wsframe_len_minimal(p, plen) ||
		    (c->ws != NULL && (!wslay_event_get_read_enabled(c->ws) ||
		    wslay_event_get_close_sent(c->ws)))) {
			if ((r = wsio_check(c, p)) != 0)
				return r;
			if (ctx(c) == -1)
				return WSLAY_ERR_NOMEM;
			frag = c->wsl_frag;
			c->wsl_left = wsframe_to_wslay(p, hl, plen, &frag);
			c->wsl_frag = (uint8_t)frag;
			continue;
		}
		if (avail - hl < plen)
			break;
		/* still masked: each receiver's copy unmasks it */
		m.data = m.inplace = p + hl;
		m.len = (size_t)plen;
		m.opcode = WSLAY_BINARY_FRAME;
		memcpy(m.key, p + hl - 4, 4);
		c->inoff += hl + (size_t)plen;
		forward(c, &m);
	}
	return 0;
}

/*
 * Read what the socket has, up to this turn's budget, and handle it.
 * 0, or a wslay error (WSLAY_ERR_CALLBACK_FAILURE with c->eof set at EOF or
 * on a socket error).
 */
int
wsio_input(struct relayd_conn *c, wsio_forward_fn *forward, wsio_ctx_fn *ctx)
{
	struct relayd	*rd = c->rd;
	ssize_t		 n;
	size_t		 want;
	int		 r = 0, drained = 0;

	if (c->rpaused)
		return 0;
	for (;;) {
		if (c->inoff < c->inlen && (r = wsio_parse(c, forward, ctx)) != 0)
			break;
		if (c->inoff == c->inlen)
			c->inoff = c->inlen = 0;
		if (c->rbudget == 0 || drained || (c->ws != NULL &&
		    !wslay_event_get_read_enabled(c->ws)))
			break;
		if (c->in == NULL && (c->in = wsio_get(rd)) == NULL)
			return WSLAY_ERR_NOMEM;
		if (c->inoff > 0 && WSIO_BUF - c->inlen < WSIO_BUF / 4) {
			/* a partial frame at the end: to the front */
			memmove(c->in, c->in + c->inoff, c->inlen - c->inoff);
			c->inlen -= c->inoff;
			c->inoff = 0;
		}
		want = WSIO_BUF - c->inlen;
		if (want > c->rbudget)
			want = c->rbudget;
		n = connio_read(c, c->in + c->inlen, want);
		if (n > 0) {
			c->rbudget -= (size_t)n;
			c->inlen += (size_t)n;
			c->last_rx = ev_now(rd->loop);
			/* a short read emptied the socket: parse, and skip the
			 * read that would only say EAGAIN (the level-triggered
			 * watcher comes back for what arrives since). TLS
			 * records say nothing of the socket. */
			drained = (size_t)n < want && c->ssl == NULL;
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			break;
		c->eof = 1;
		r = WSLAY_ERR_CALLBACK_FAILURE;
		break;
	}
	if (r == 1) {
		/* wslay stopped reading (closing): nothing more is for it */
		c->inoff = c->inlen = 0;
		r = 0;
	} else if (r == 2)
		r = 0;		/* c->rpaused: the rest waits in c->in */
	if (c->inoff == c->inlen && c->in != NULL) {
		wsio_put(rd, c->in);
		c->in = NULL;
		c->inoff = c->inlen = 0;
	}
	return r;
}
