/*
 * Relay client: the wslay side of an open connection. wslay's callbacks
 * read from and write to the buffers of relay_client_frame.c; rc_ws_open()
 * sets up the context after the 101; rc_ws_step() is one pass of reading
 * and writing. Outcomes are returned: relay_client_conn.c acts on them.
 */
#include "relay_client_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>
#include <wslay/wslay.h>

#include "log.h"

/* wslay reads the frame bytes rc_input gave it (c->feed), no more. */
static ssize_t
rc_ws_recv_cb(wslay_event_context_ptr ws, uint8_t *buf, size_t len,
    int flags, void *arg)
{
	struct relay_client *c = arg;

	(void)flags;
	if (c->feed == 0) {
		wslay_event_set_error(ws, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	if (len > c->feed)
		len = c->feed;
	memcpy(buf, c->rbuf + c->roff, len);
	c->roff += len;
	c->feed -= len;
	c->wsl_left -= len;
	return len;
}

static ssize_t
rc_ws_send_cb(wslay_event_context_ptr ws, const uint8_t *data, size_t len,
    int flags, void *arg)
{
	struct relay_client *c = arg;
	size_t room;

	(void)flags;
	if (c->woff > 0 && c->wlen + len > RC_WBUF) {
		memmove(c->wbuf, c->wbuf + c->woff, c->wlen - c->woff);
		c->wlen -= c->woff;
		c->woff = 0;
	}
	if ((room = RC_WBUF - c->wlen) == 0) {
		wslay_event_set_error(ws, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	if (len > room)
		len = room;
	memcpy(c->wbuf + c->wlen, data, len);
	c->wlen += len;
	return len;
}

static void
rc_ws_msg_cb(wslay_event_context_ptr ws,
    const struct wslay_event_on_msg_recv_arg *m, void *arg)
{
	struct relay_client *c = arg;
	double sent;

	(void)ws;
	c->last_rx = ev_now(c->loop);
	switch (m->opcode) {
	case WSLAY_BINARY_FRAME:
	case WSLAY_TEXT_FRAME:
		if (c->cfg.on_frame != NULL && !c->stop_pending)
			c->cfg.on_frame(c->cfg.arg, m->msg, m->msg_length);
		break;
	case WSLAY_PONG:
		if (m->msg_length == sizeof(sent)) {
			memcpy(&sent, m->msg, sizeof(sent));
			if (sent > 0 && sent <= ev_time())
				c->rtt = ev_time() - sent;
		}
		break;
	case WSLAY_CONNECTION_CLOSE:
		snprintf(c->why, sizeof(c->why), "closed by relay (%u)",
		    m->status_code);
		break;
	}
}

/*
 * After the 101: the buffers, the wslay context, reading. rest holds what
 * came after the answer (restlen < RC_HS_MAX). 0, or -1 (out of memory).
 */
int
rc_ws_open(struct relay_client *c, const char *rest, size_t restlen)
{
	struct wslay_event_callbacks cb = {
		.recv_callback = rc_ws_recv_cb,
		.send_callback = rc_ws_send_cb,
		.genmask_callback = rc_genmask_cb,
		.on_msg_recv_callback = rc_ws_msg_cb,
	};

	if ((c->rbuf = malloc(RC_RBUF)) == NULL ||
	    (c->wbuf = malloc(RC_WBUF)) == NULL)
		return rc_why(c, "out of memory");
	memcpy(c->rbuf, rest, restlen);
	c->rlen = restlen;
	free(c->hs);
	c->hs = NULL;
	if (wslay_event_context_client_init(&c->ws, &cb, c) != 0)
		return rc_why(c, "out of memory");
	wslay_event_config_set_max_recv_msg_length(c->ws, c->cfg.max_frame);
	c->phase = RC_PH_OPEN;
	rc_watch(c, EV_READ);
	/* frames may already sit in c->rbuf or inside the TLS buffer */
	ev_feed_event(c->loop, &c->io, EV_READ);
	return 0;
}

/*
 * One pass of wslay once open: read what is there, write what is queued,
 * watch for what comes next. 0; 1 when relay_client_stop() came from a
 * callback meanwhile; -1 when the connection is over (c->why).
 */
int
rc_ws_step(struct relay_client *c, int readable)
{
	int r = 0;

	c->ssl_want_write = 0;
	c->busy++;
	if (readable && !c->io_error)
		r = rc_input(c);
	if (r == 0 && !c->io_error)
		r = rc_push(c);
	c->busy--;
	if (c->stop_pending)
		return 1;
	if (r != 0 || c->io_error)
		return c->why[0] ? -1 : rc_why(c, "WebSocket error");
	if (!wslay_event_want_read(c->ws) && !wslay_event_want_write(c->ws))
		return c->why[0] ? -1 : rc_why(c, "closed");
	rc_watch(c, (wslay_event_want_read(c->ws) ? EV_READ : 0) |
	    (wslay_event_want_write(c->ws) || c->wlen > 0 || c->ssl_want_write ?
	    EV_WRITE : 0));
	if (c->drain_wanted && rc_queued(c) < c->cfg.max_queue / 2) {
		c->drain_wanted = 0;
		if (c->cfg.on_drain != NULL)
			c->cfg.on_drain(c->cfg.arg);
	}
	return 0;
}
