/*
 * Relay client: the wslay side of an open connection. wslay's callbacks
 * read from and write to the buffers of relay_client_frame.c; rc_ws_open()
 * sets up the context after the 101; rc_open_step() is one pass of reading
 * and writing; rc_ping_cb() keeps the liveness check.
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

int
rc_ws_genmask_cb(wslay_event_context_ptr ws, uint8_t *buf, size_t len,
    void *arg)
{
	struct relay_client *c = arg;

	(void)ws;
	/* RFC 6455 5.3: unpredictable; one arc4random call per 64 frames */
	if (len > sizeof(c->masks)) {
		arc4random_buf(buf, len);
		return 0;
	}
	if (c->maskoff == 0 || c->maskoff + len > sizeof(c->masks)) {
		arc4random_buf(c->masks, sizeof(c->masks));
		c->maskoff = 0;
	}
	memcpy(buf, c->masks + c->maskoff, len);
	explicit_bzero(c->masks + c->maskoff, len);
	c->maskoff += len;
	return 0;
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

void
rc_ping_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct relay_client *c = container_of(w, struct relay_client, ping);
	struct wslay_event_msg m;
	double now = ev_time();

	(void)loop;
	(void)revents;
	if (ev_now(c->loop) - c->last_rx >= c->cfg.dead_after) {
		rc_fail(c, "no frame for %.0fs, connection dead",
		    ev_now(c->loop) - c->last_rx);
		return;
	}
	m.opcode = WSLAY_PING;
	m.msg = (const uint8_t *)&now;
	m.msg_length = sizeof(now);
	if (wslay_event_queue_msg(c->ws, &m) == 0)
		rc_open_step(c, 0);
}

void
rc_ws_open(struct relay_client *c, const char *rest, size_t restlen)
{
	struct wslay_event_callbacks cb = {
		.recv_callback = rc_ws_recv_cb,
		.send_callback = rc_ws_send_cb,
		.genmask_callback = rc_ws_genmask_cb,
		.on_msg_recv_callback = rc_ws_msg_cb,
	};
	struct rc_url *u = &c->urls[c->idx];

	if ((c->rbuf = malloc(RC_RBUF)) == NULL ||
	    (c->wbuf = malloc(RC_WBUF)) == NULL) {
		rc_fail(c, "out of memory");
		return;
	}
	memcpy(c->rbuf, rest, restlen);		/* restlen < RC_HS_MAX */
	c->rlen = restlen;
	free(c->hs);
	c->hs = NULL;
	if (wslay_event_context_client_init(&c->ws, &cb, c) != 0) {
		rc_fail(c, "out of memory");
		return;
	}
	wslay_event_config_set_max_recv_msg_length(c->ws, c->cfg.max_frame);
	c->phase = RC_PH_OPEN;
	c->connected_at = c->last_rx = ev_now(c->loop);
	ev_timer_stop(c->loop, &c->timer);
	ev_timer_set(&c->ping, c->cfg.ping_interval, c->cfg.ping_interval);
	ev_timer_start(c->loop, &c->ping);
	if (c->idx != 0) {
		ev_timer_set(&c->probe_timer, c->cfg.primary_retry, 0);
		ev_timer_start(c->loop, &c->probe_timer);
	}
	c->tried = 0;
	rc_watch(c, EV_READ);
	log_info("relay %s%s%s%s connected", u->url, u->region ? " (" : "",
	    u->region ? u->region : "", u->region ? ")" : "");
	/* frames may already sit in c->rbuf or inside the TLS buffer */
	ev_feed_event(c->loop, &c->io, EV_READ);
	rc_set_state(c, RELAY_CLIENT_CONNECTED);
}

/* One pass of wslay once open: read what is there, write what is queued. */
void
rc_open_step(struct relay_client *c, int readable)
{
	int r = 0;

	c->ssl_want_write = 0;
	c->busy++;
	if (readable && !c->io_error)
		r = rc_input(c);
	if (r == 0 && !c->io_error)
		r = rc_push(c);
	c->busy--;
	if (c->stop_pending) {
		relay_client_stop(c);
		return;
	}
	if (r != 0 || c->io_error) {
		rc_fail(c, "%s", c->why[0] ? c->why : "WebSocket error");
		return;
	}
	if (!wslay_event_want_read(c->ws) && !wslay_event_want_write(c->ws)) {
		rc_fail(c, "%s", c->why[0] ? c->why : "closed");
		return;
	}
	rc_watch(c, (wslay_event_want_read(c->ws) ? EV_READ : 0) |
	    (wslay_event_want_write(c->ws) || c->wlen > 0 || c->ssl_want_write ?
	    EV_WRITE : 0));
	if (c->drain_wanted && relay_client_queued(c) < c->cfg.max_queue / 2) {
		c->drain_wanted = 0;
		if (c->cfg.on_drain != NULL)
			c->cfg.on_drain(c->cfg.arg);
	}
}
