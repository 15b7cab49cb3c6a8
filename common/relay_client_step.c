/*
 * Relay client: the steps of one connection once its TCP connect is under
 * way (relay_client_conn.c starts it):
 *
 *	TCP connected -> [TLS handshake] -> upgrade request out -> 101 in
 *	-> open: wslay reads and writes, pings keep it alive
 *
 * rc_io_cb() runs the current step; each step is a lower file's function
 * that returns what happened, and a failure goes to rc_fail().
 */
#include "relay_client_priv.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <ev.h>
#include <wslay/wslay.h>

#include "log.h"

/* The 101 is in: the WebSocket is open. */
static void
rc_open(struct relay_client *c, const char *rest, size_t restlen)
{
	struct rc_url *u = &c->urls[c->idx];

	if (rc_ws_open(c, rest, restlen) == -1) {
		rc_fail(c, "%s", c->why);
		return;
	}
	c->connected_at = c->last_rx = ev_now(c->loop);
	ev_timer_stop(c->loop, &c->timer);
	/* the first ping soon: its pong is the relay's RTT (netcheck) */
	ev_timer_set(&c->ping, c->cfg.ping_interval < 1 ?
	    c->cfg.ping_interval : 1, c->cfg.ping_interval);
	ev_timer_start(c->loop, &c->ping);
	if (c->idx != 0) {
		ev_timer_set(&c->probe_timer, c->cfg.primary_retry, 0);
		ev_timer_start(c->loop, &c->probe_timer);
	}
	c->tried = c->round_auth = 0;
	rc_answer(c, NULL);
	log_info("relay %s%s%s%s connected", u->url, u->region ? " (" : "",
	    u->region ? u->region : "", u->region ? ")" : "");
	rc_set_state(c, RELAY_CLIENT_CONNECTED);
}

static void
rc_upgrade_recv(struct relay_client *c)
{
	char rest[RC_HS_MAX];
	size_t restlen = 0;
	int r;

	if ((r = rc_http_recv(c, rest, &restlen)) == -1)
		rc_fail(c, "%s", c->why);
	else if (r == 1)
		rc_open(c, rest, restlen);
}

static void
rc_upgrade_send(struct relay_client *c)
{
	int r;

	if ((r = rc_http_send(c)) == -1)
		rc_fail(c, "%s", c->why);
	else if (r == 1)
		rc_upgrade_recv(c);
}

/* TCP (and TLS) up: the upgrade request. */
static void
rc_upgrade(struct relay_client *c)
{
	c->phase = RC_PH_HTTP_SEND;
	if (rc_http_request(c) == -1) {
		rc_fail(c, "cannot build the upgrade request");
		return;
	}
	rc_upgrade_send(c);
}

static void
rc_tls(struct relay_client *c)
{
	int r;

	if ((r = rc_tls_step(c)) == -1)
		rc_fail(c, "%s", c->why);
	else if (r == 1)
		rc_upgrade(c);
}

static void
rc_open_step(struct relay_client *c, int readable)
{
	switch (rc_ws_step(c, readable)) {
	case 1:
		rc_stop(c);
		break;
	case -1:
		rc_fail(c, "%s", c->why);
		break;
	}
}

/* --- event callbacks ---------------------------------------------------------- */

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
rc_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct relay_client *c = container_of(w, struct relay_client, io);
	int err = 0;
	socklen_t len = sizeof(err);

	(void)loop;
	switch (c->phase) {
	case RC_PH_TCP:
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		if (err != 0) {
			/* e.g. ::1 refused, 127.0.0.1 listening */
			snprintf(c->why, sizeof(c->why), "connect: %s",
			    strerror(err));
			if (rc_connect_next(c) == -1)
				rc_fail(c, "%s", c->why);
			return;
		}
		if (c->urls[c->idx].tls) {
			if (rc_tls_start(c) == -1)
				rc_fail(c, "TLS setup: %s", rc_ssl_err());
			else
				rc_tls(c);
			return;
		}
		rc_upgrade(c);
		break;
	case RC_PH_TLS:
		rc_tls(c);
		break;
	case RC_PH_HTTP_SEND:
		rc_upgrade_send(c);
		break;
	case RC_PH_HTTP_RECV:
		rc_upgrade_recv(c);
		break;
	case RC_PH_OPEN:
		rc_open_step(c, revents & EV_READ);
		break;
	case RC_PH_NONE:
	case RC_PH_RESOLVE:
		ev_io_stop(c->loop, w);
		break;
	}
}
