/*
 * IPC client, ipc_peer_*: the connection of a daemon to another one, on
 * libev. Connects from the loop, reconnects with exponential backoff and
 * jitter (so daemons restarted together do not reconnect in lockstep), and
 * fails the pending calls with a synthesized {code, message} error when the
 * connection drops. User callbacks may free the peer (ipc_peer_leave).
 */
#include "ipc_client_priv.h"

#include <sys/inotify.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "log.h"

/* Reconnect delays, seconds: quick after a restart, gentle when it is down. */
#define IPC_BACKOFF_MIN		0.1
#define IPC_BACKOFF_MAX		5.0
/* While the socket's directory is watched, a server that comes back is
 * seen at once (its socket is renamed into place after listen()), so the
 * timer is only a safety net and may sleep long: an idle daemon whose
 * neighbour is down wakes once a minute, not every 5 s. */
#define IPC_BACKOFF_WATCHED	60.0

/* ---- reconnecting client -------------------------------------------------- */

static void
ipc_peer_destroy(struct ipc_peer *p)
{
	msgpack_unpacker_destroy(&p->unp);
	msgpack_sbuffer_destroy(&p->out);
	free(p->ofds);
	free(p);
}

/* After a user callback: nonzero when p must not be touched any more. */
int
ipc_peer_leave(struct ipc_peer *p)
{
	if (--p->incb == 0 && p->freed) {
		ipc_peer_destroy(p);
		return 1;
	}
	return p->freed;
}

static void
ipc_peer_drop_calls(struct ipc_peer *p)
{
	struct ipc_call *c;

	while ((c = TAILQ_FIRST(&p->calls)) != NULL) {
		TAILQ_REMOVE(&p->calls, c, entry);
		ev_timer_stop(p->loop, &c->timer);
		free(c);
	}
}

static void
ipc_peer_reset(struct ipc_peer *p)
{
	size_t i;

	ev_io_stop(p->loop, &p->rd);
	ev_io_stop(p->loop, &p->wr);
	if (p->fd != -1)
		close(p->fd);
	p->fd = -1;
	p->state = IPC_PEER_DOWN;
	for (i = 0; i < p->nofds; i++)
		close(p->ofds[i].fd);
	p->nofds = 0;
	msgpack_sbuffer_clear(&p->out);
	p->outoff = 0;
	/* drop whatever the old connection left half-read */
	msgpack_unpacker_destroy(&p->unp);
	if (!msgpack_unpacker_init(&p->unp, IPC_READ_CHUNK))
		fatalx("%s: out of memory", __func__);
	ipc_scan_init(&p->scan);
}

static void
ipc_peer_schedule(struct ipc_peer *p)
{
	double delay;

	/* +-20% */
	delay = p->backoff * (0.8 + 0.4 * arc4random_uniform(1001) / 1000.0);
	p->backoff *= 2;
	if (p->backoff > (p->wfd != -1 ? IPC_BACKOFF_WATCHED : IPC_BACKOFF_MAX))
		p->backoff = p->wfd != -1 ? IPC_BACKOFF_WATCHED :
		    IPC_BACKOFF_MAX;
	ev_timer_stop(p->loop, &p->retry);
	ev_timer_set(&p->retry, delay, 0.);
	ev_timer_start(p->loop, &p->retry);
}

void
ipc_peer_up(struct ipc_peer *p)
{
	p->state = IPC_PEER_UP;
	p->backoff = IPC_BACKOFF_MIN;
	p->warned = 0;
	ev_io_start(p->loop, &p->rd);
	log_debug("%s: connected to %s", __func__, p->path);
	if (p->state_cb != NULL) {
		p->incb++;
		p->state_cb(p->arg, 1);
		if (ipc_peer_leave(p))
			return;
	}
	if (p->out.size > p->outoff)
		ev_io_start(p->loop, &p->wr);
}

static void
ipc_peer_connect(struct ipc_peer *p)
{
	struct sockaddr_un sun;

	if (ipc_sockaddr(p->path, &sun) == -1 ||
	    (p->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		ipc_peer_down(p, strerror(errno));
		return;
	}
	ev_io_set(&p->wr, p->fd, EV_WRITE);
	ev_io_set(&p->rd, p->fd, EV_READ);
	if (connect(p->fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		ipc_peer_up(p);
		return;
	}
	if (errno == EINPROGRESS) {
		p->state = IPC_PEER_CONNECTING;
		ev_io_start(p->loop, &p->wr);
		return;
	}
	ipc_peer_down(p, strerror(errno));
}

/*
 * The socket's name appeared in its directory (created, or renamed into
 * place): connect now instead of at the next retry.
 */
static void
ipc_peer_watch_cb(EV_P_ ev_io *w, int revents)
{
	struct ipc_peer		*p = IPC_CONTAINER(w, struct ipc_peer, watch);
	char			 buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	const char		*base = strrchr(p->path, '/');
	ssize_t			 n;
	int			 hit = 0;

	(void)revents;
	base = base != NULL ? base + 1 : p->path;
	while ((n = read(p->wfd, buf, sizeof(buf))) > 0) {
		for (char *q = buf; q < buf + n;
		    q += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)q;
			if (ev->len > 0 && strcmp(ev->name, base) == 0)
				hit = 1;
		}
	}
	if (!hit || p->state != IPC_PEER_DOWN)
		return;
	ev_timer_stop(loop, &p->retry);
	ipc_peer_connect(p);
}

/* Watch the socket's directory where it exists; the retry timer alone
 * (every IPC_BACKOFF_MAX at most) otherwise. */
static void
ipc_peer_watch_start(struct ipc_peer *p)
{
	char	dir[sizeof(p->path)], *slash;

	p->wfd = -1;
	snprintf(dir, sizeof(dir), "%s", p->path);
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if ((p->wfd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1)
		return;
	if (inotify_add_watch(p->wfd, dir, IN_CREATE | IN_MOVED_TO |
	    IN_ONLYDIR) == -1) {
		close(p->wfd);
		p->wfd = -1;
		return;
	}
	ev_io_init(&p->watch, ipc_peer_watch_cb, p->wfd, EV_READ);
	ev_io_start(p->loop, &p->watch);
}

static void
ipc_peer_watch_stop(struct ipc_peer *p)
{
	if (p->wfd == -1)
		return;
	ev_io_stop(p->loop, &p->watch);
	close(p->wfd);
	p->wfd = -1;
}

static void
ipc_peer_retry_cb(EV_P_ ev_timer *w, int revents)
{
	struct ipc_peer *p = IPC_CONTAINER(w, struct ipc_peer, retry);

	(void)loop;
	(void)revents;
	ipc_peer_connect(p);
}

/*
 * The connection is gone (or never came): fail the pending calls, tell the
 * owner, try again later. May free p when a callback asked for it.
 */
void
ipc_peer_down(struct ipc_peer *p, const char *why)
{
	struct ipc_errobj	 e;
	struct ipc_call		*c;
	int			 was = p->state == IPC_PEER_UP;

	ipc_peer_reset(p);
	if (was)
		log_info("%s: lost %s: %s", __func__, p->path, why);
	else if (!p->warned)
		log_info("%s: cannot connect to %s: %s (retrying)", __func__,
		    p->path, why);
	p->warned = 1;
	ipc_peer_schedule(p);
	while ((c = TAILQ_FIRST(&p->calls)) != NULL) {
		TAILQ_REMOVE(&p->calls, c, entry);
		ev_timer_stop(p->loop, &c->timer);
		ipc_errobj_set(&e, IPC_ERR_DISCONNECTED, "connection to %s "
		    "lost: %s", p->path, why);
		p->incb++;
		c->cb(c->cbarg, &e.obj, NULL);
		free(c);
		if (ipc_peer_leave(p))
			return;
	}
	if (was && p->state_cb != NULL) {
		p->incb++;
		p->state_cb(p->arg, 0);
		ipc_peer_leave(p);
	}
}

/* The peer, its first connect scheduled; its socket's watchers call
 * read_cb and write_cb (ipc_client_call.c's traffic). */
struct ipc_peer *
ipc_peer_create(struct ev_loop *loop, const char *path,
    ipc_state_cb *state_cb, ipc_event_cb *event_cb, void *arg,
    ipc_io_cb *read_cb, ipc_io_cb *write_cb)
{
	struct ipc_peer *p;

	if (strlen(path) >= sizeof(p->path)) {
		log_warnx("%s: socket path too long: %s", __func__, path);
		return NULL;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    !msgpack_unpacker_init(&p->unp, IPC_READ_CHUNK)) {
		log_warnx("%s: out of memory", __func__);
		free(p);
		return NULL;
	}
	p->loop = loop;
	snprintf(p->path, sizeof(p->path), "%s", path);
	p->state_cb = state_cb;
	p->event_cb = event_cb;
	p->arg = arg;
	p->fd = -1;
	p->backoff = IPC_BACKOFF_MIN;
	p->nextid = 1;
	ipc_scan_init(&p->scan);
	msgpack_sbuffer_init(&p->out);
	TAILQ_INIT(&p->calls);
	ev_io_init(&p->rd, read_cb, -1, EV_READ);
	ev_io_init(&p->wr, write_cb, -1, EV_WRITE);
	ipc_peer_watch_start(p);
	/* first attempt from the loop, so callbacks never run in here */
	ev_timer_init(&p->retry, ipc_peer_retry_cb, 0., 0.);
	ev_timer_start(loop, &p->retry);
	return p;
}

void
ipc_peer_free(struct ipc_peer *p)
{
	if (p == NULL || p->freed)
		return;
	ipc_peer_drop_calls(p);
	ipc_peer_reset(p);
	ipc_peer_watch_stop(p);
	ev_timer_stop(p->loop, &p->retry);
	if (p->incb > 0) {
		p->freed = 1;	/* the callback on the stack unwinds first */
		return;
	}
	ipc_peer_destroy(p);
}

int
ipc_peer_connected(const struct ipc_peer *p)
{
	return p->state == IPC_PEER_UP;
}
