/*
 * A connection's transport, the lowest layer of relayd's connections:
 * every byte read (through its address group's byte rate, iplimit.c) and
 * written (plain or TLS), and which of its watchers run. conn.c, ws.c and
 * wsio.c sit above it; iplimit.c resumes a paused connection through the
 * callback relayd.c installs (connio_update).
 */
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <wslay/wslay.h>

#include "relayd/relayd.h"

/* Every byte read from a client goes through here: its address group's
 * byte rate (iplimit.c) may allow fewer, or none (EAGAIN, c paused). */
ssize_t
connio_read(struct relayd_conn *c, void *buf, size_t len)
{
	ssize_t	n;

	if ((len = iplimit_allow(c, len)) == 0) {
		errno = EAGAIN;
		return -1;
	}
	n = c->ssl != NULL ? tls_read(c, buf, len) : read(c->fd, buf, len);
	if (n > 0)
		iplimit_spend(c, (size_t)n);
	return n;
}

ssize_t
connio_write(struct relayd_conn *c, const void *buf, size_t len)
{
	if (c->ssl != NULL)
		return tls_write(c, buf, len);
	return send(c->fd, buf, len, MSG_NOSIGNAL);
}

/* Watch c's socket for what it can do now: read unless an HTTP answer is
 * being written, wslay wants no more or its group is paused; write while
 * output waits. */
void
connio_update(struct relayd_conn *c)
{
	struct ev_loop	*loop = c->rd->loop;
	int		 r, w;

	r = c->state != CLIENT_RESPOND || c->bufoff == c->buflen;
	w = c->bufoff < c->buflen || c->ssl_want_write || connio_want_write(c);
	if ((c->ws != NULL && !wslay_event_want_read(c->ws)) || c->throttled ||
	    c->rpaused)
		r = 0;
	if (r && !ev_is_active(&c->rio))
		ev_io_start(loop, &c->rio);
	else if (!r && ev_is_active(&c->rio))
		ev_io_stop(loop, &c->rio);
	if (w && !ev_is_active(&c->wio))
		ev_io_start(loop, &c->wio);
	else if (!w && ev_is_active(&c->wio))
		ev_io_stop(loop, &c->wio);
}

/* Output waits: framed bytes in c->out, or wslay's own queue (when c has
 * a wslay context: ws.c makes it only while wslay has work). */
int
connio_want_write(const struct relayd_conn *c)
{
	return c->outoff < c->outlen ||
	    (c->ws != NULL && wslay_event_want_write(c->ws));
}
