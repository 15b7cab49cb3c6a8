/*
 * IPC clients. ipc_sync_*: blocking with poll() timeouts, for meshctl and
 * tests. ipc_peer_*: non-blocking on libev for daemons talking to each other;
 * reconnects with exponential backoff and jitter (so daemons restarted
 * together do not reconnect in lockstep) and fails pending calls with a
 * synthesized {code, message} error when the connection drops or a call
 * times out.
 */
#include "ipc.h"

#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include "log.h"

#define IPC_CONTAINER(p, t, m)	((t *)(void *)((char *)(p) - offsetof(t, m)))
#define IPC_READ_CHUNK		(64 * 1024)
/* Reconnect delays, seconds: quick after a restart, gentle when it is down. */
#define IPC_BACKOFF_MIN		0.1
#define IPC_BACKOFF_MAX		5.0

static int
ipc_sockaddr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun->sun_path, path, strlen(path) + 1);
	return 0;
}

static int64_t
ipc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ms left until deadline; -1 = forever */
static int
ipc_left(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - ipc_now_ms();
	return left < 0 ? 0 : left > 1000000000 ? 1000000000 : (int)left;
}

/* ---- blocking client ----------------------------------------------------- */

struct ipc_sync {
	int			 fd;
	int			 timeout_ms;
	uint32_t		 nextid;
	int			 broken;	/* stream out of step */
	char			 scanerr[128];
	msgpack_unpacker	 unp;
	msgpack_unpacked	 res;
	struct ipc_scan		 scan;
	msgpack_sbuffer		 sb;
	char			 path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static int
ipc_sync_wait(int fd, short events, int64_t deadline)
{
	struct pollfd	pfd;
	int		r;

	for (;;) {
		pfd.fd = fd;
		pfd.events = events;
		r = poll(&pfd, 1, ipc_left(deadline));
		if (r == -1 && errno == EINTR)
			continue;
		return r;	/* 1 ready, 0 timeout, -1 error */
	}
}

struct ipc_sync *
ipc_sync_connect(const char *path, int timeout_ms, char *err, size_t errlen)
{
	struct ipc_sync		*s;
	struct sockaddr_un	 sun;
	int64_t			 deadline;
	socklen_t		 len;
	int			 e;

	if (ipc_sockaddr(path, &sun) == -1) {
		snprintf(err, errlen, "connect %s: %s", path, strerror(errno));
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    !msgpack_unpacker_init(&s->unp, IPC_READ_CHUNK)) {
		snprintf(err, errlen, "connect %s: out of memory", path);
		free(s);
		return NULL;
	}
	msgpack_unpacked_init(&s->res);
	msgpack_sbuffer_init(&s->sb);
	ipc_scan_init(&s->scan);
	snprintf(s->path, sizeof(s->path), "%s", path);
	s->timeout_ms = timeout_ms;
	s->nextid = 1;
	deadline = timeout_ms < 0 ? -1 : ipc_now_ms() + timeout_ms;
	if ((s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1)
		goto fail;
	while (connect(s->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			/* listen backlog full: the daemon is busy */
			if (ipc_left(deadline) == 0) {
				errno = ETIMEDOUT;
				goto fail;
			}
			poll(NULL, 0, 10);
			continue;
		}
		if (errno != EINPROGRESS)
			goto fail;
		if ((e = ipc_sync_wait(s->fd, POLLOUT, deadline)) <= 0) {
			if (e == 0)
				errno = ETIMEDOUT;
			goto fail;
		}
		len = sizeof(e);
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &e, &len) == -1)
			goto fail;
		if (e != 0) {
			errno = e;
			goto fail;
		}
		break;
	}
	return s;

 fail:
	snprintf(err, errlen, "connect %s: %s", path, strerror(errno));
	log_debug("%s: %s", __func__, err);
	ipc_sync_close(s);
	return NULL;
}

void
ipc_sync_close(struct ipc_sync *s)
{
	if (s == NULL)
		return;
	if (s->fd != -1)
		close(s->fd);
	msgpack_unpacked_destroy(&s->res);
	msgpack_unpacker_destroy(&s->unp);
	msgpack_sbuffer_destroy(&s->sb);
	free(s);
}

int
ipc_sync_fd(const struct ipc_sync *s)
{
	return s->fd;
}

static int
ipc_sync_send_err(struct ipc_sync *s, const char *method, const char *params,
    size_t len, int fd, uint32_t *msgid, char *err, size_t errlen)
{
	int64_t		deadline;
	uint32_t	id = 0;
	size_t		off = 0;
	ssize_t		n;
	int		r;

	if (s->broken) {
		snprintf(err, errlen, "connection to %s is out of step",
		    s->path);
		return -1;
	}
	if (msgid != NULL) {
		id = s->nextid++;
		if (s->nextid == 0)
			s->nextid = 1;
	}
	msgpack_sbuffer_clear(&s->sb);
	if (ipc_pack_envelope(&s->sb, msgid != NULL ? IPC_REQUEST : IPC_NOTIFY,
	    id, method, params, len, err, errlen) == -1)
		return -1;
	deadline = s->timeout_ms < 0 ? -1 : ipc_now_ms() + s->timeout_ms;
	while (off < s->sb.size) {
		/* the descriptor travels with the message's first bytes */
		n = ipc_send_fd(s->fd, s->sb.data + off, s->sb.size - off,
		    off == 0 ? fd : -1);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if ((r = ipc_sync_wait(s->fd, POLLOUT,
				    deadline)) > 0)
					continue;
				if (r == 0)
					errno = ETIMEDOUT;
			}
			snprintf(err, errlen, "send to %s: %s", s->path,
			    strerror(errno));
			if (off > 0)
				s->broken = 1;
			return -1;
		}
		off += (size_t)n;
	}
	if (msgid != NULL)
		*msgid = id;
	return 0;
}

int
ipc_sync_send(struct ipc_sync *s, const char *method, const char *params,
    size_t len, int fd, uint32_t *msgid)
{
	char err[256];

	if (ipc_sync_send_err(s, method, params, len, fd, msgid, err,
	    sizeof(err)) == -1) {
		log_warnx("%s: %s: %s", __func__, method, err);
		return -1;
	}
	return 0;
}

int
ipc_sync_recv(struct ipc_sync *s, int timeout_ms, struct ipc_msg *m,
    char *err, size_t errlen)
{
	msgpack_unpack_return	 r;
	int64_t			 deadline;
	ssize_t			 n;
	size_t			 ok;
	char			 why[128];
	int			 w;

	deadline = timeout_ms < 0 ? -1 : ipc_now_ms() + timeout_ms;
	for (;;) {
		r = msgpack_unpacker_next(&s->unp, &s->res);
		if (r == MSGPACK_UNPACK_SUCCESS) {
			if (ipc_msg_parse(&s->res.data, m, why,
			    sizeof(why)) == -1) {
				snprintf(err, errlen, "bad message from %s: "
				    "%s", s->path, why);
				s->broken = 1;
				return -1;
			}
			return 0;
		}
		if (r != MSGPACK_UNPACK_CONTINUE) {
			snprintf(err, errlen, "malformed msgpack from %s",
			    s->path);
			s->broken = 1;
			return -1;
		}
		if (s->scanerr[0] != '\0') {
			snprintf(err, errlen, "bad message from %s: %s",
			    s->path, s->scanerr);
			s->broken = 1;
			return -1;
		}
		if (s->fd == -1) {
			snprintf(err, errlen, "connection to %s closed",
			    s->path);
			return -1;
		}
		if ((w = ipc_sync_wait(s->fd, POLLIN, deadline)) == 0) {
			snprintf(err, errlen, "timeout waiting for %s", s->path);
			return -2;
		}
		if (w == -1) {
			snprintf(err, errlen, "poll: %s", strerror(errno));
			return -1;
		}
		if (!msgpack_unpacker_reserve_buffer(&s->unp, IPC_READ_CHUNK)) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		n = recv(s->fd, msgpack_unpacker_buffer(&s->unp),
		    IPC_READ_CHUNK, MSG_DONTWAIT);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0) {
			snprintf(err, errlen, n == 0 ? "connection closed by "
			    "%s" : "read from %s: %s", s->path,
			    strerror(errno));
			close(s->fd);
			s->fd = -1;
			return -1;
		}
		if (ipc_scan_feed(&s->scan, msgpack_unpacker_buffer(&s->unp),
		    (size_t)n, &ok, why, sizeof(why)) == -1) {
			snprintf(s->scanerr, sizeof(s->scanerr), "%s", why);
			n = (ssize_t)ok;
		}
		msgpack_unpacker_buffer_consumed(&s->unp, (size_t)n);
	}
}

int
ipc_sync_call(struct ipc_sync *s, const char *method, const char *params,
    size_t len, int timeout_ms, struct ipc_msg *m, char *err, size_t errlen)
{
	int64_t		deadline;
	uint32_t	id;
	int		r;

	if (ipc_sync_send_err(s, method, params, len, -1, &id, err,
	    errlen) == -1)
		return -1;
	deadline = timeout_ms < 0 ? -1 : ipc_now_ms() + timeout_ms;
	for (;;) {
		if ((r = ipc_sync_recv(s, ipc_left(deadline), m, err,
		    errlen)) != 0)
			return r;
		if (m->type == IPC_RESPONSE && m->msgid == id)
			return 0;
		/* a notification, or a late answer to an abandoned call */
	}
}

/* ---- reconnecting client -------------------------------------------------- */

enum { IPC_PEER_DOWN, IPC_PEER_CONNECTING, IPC_PEER_UP };

struct ipc_call {
	TAILQ_ENTRY(ipc_call)	 entry;
	struct ipc_peer		*p;
	uint32_t		 msgid;
	ipc_reply_cb		*cb;
	void			*cbarg;
	ev_timer		 timer;
};

struct ipc_outfd {
	size_t	off;	/* message start in out.data */
	size_t	len;
	int	fd;	/* our duplicate */
};

struct ipc_peer {
	struct ev_loop		*loop;
	char			 path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	ipc_state_cb		*state_cb;
	ipc_event_cb		*event_cb;
	void			*arg;
	int			 fd;
	int			 state;
	int			 warned;
	double			 backoff;
	ev_io			 rd;
	ev_io			 wr;
	ev_timer		 retry;
	msgpack_unpacker	 unp;
	struct ipc_scan		 scan;
	msgpack_sbuffer		 out;
	size_t			 outoff;
	struct ipc_outfd	*ofds;
	size_t			 nofds;
	TAILQ_HEAD(, ipc_call)	 calls;
	uint32_t		 nextid;
	int			 incb;		/* user callbacks on the stack */
	int			 freed;
};

static void	ipc_peer_down(struct ipc_peer *, const char *);

static void
ipc_peer_destroy(struct ipc_peer *p)
{
	msgpack_unpacker_destroy(&p->unp);
	msgpack_sbuffer_destroy(&p->out);
	free(p->ofds);
	free(p);
}

/* After a user callback: nonzero when p must not be touched any more. */
static int
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
	if (p->backoff > IPC_BACKOFF_MAX)
		p->backoff = IPC_BACKOFF_MAX;
	ev_timer_stop(p->loop, &p->retry);
	ev_timer_set(&p->retry, delay, 0.);
	ev_timer_start(p->loop, &p->retry);
}

static void
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
static void
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

static void
ipc_peer_call_timeout_cb(EV_P_ ev_timer *w, int revents)
{
	struct ipc_call		*c = IPC_CONTAINER(w, struct ipc_call, timer);
	struct ipc_peer		*p = c->p;
	struct ipc_errobj	 e;

	(void)loop;
	(void)revents;
	TAILQ_REMOVE(&p->calls, c, entry);
	ipc_errobj_set(&e, IPC_ERR_TIMEOUT, "no answer from %s in time",
	    p->path);
	p->incb++;
	c->cb(c->cbarg, &e.obj, NULL);
	free(c);
	ipc_peer_leave(p);
}

/* 0, or -1 after the connection was torn down. */
static int
ipc_peer_flush(struct ipc_peer *p)
{
	size_t	 len, i;
	ssize_t	 n;
	int	 fd;

	while (p->outoff < p->out.size) {
		len = p->out.size - p->outoff;
		fd = -1;
		if (p->nofds > 0) {
			/* a message with a descriptor goes alone, fd first */
			if (p->ofds[0].off == p->outoff) {
				fd = p->ofds[0].fd;
				len = p->ofds[0].len;
			} else if (p->ofds[0].off - p->outoff < len)
				len = p->ofds[0].off - p->outoff;
		}
		n = ipc_send_fd(p->fd, p->out.data + p->outoff, len, fd);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				ev_io_start(p->loop, &p->wr);
				return 0;
			}
			ipc_peer_down(p, strerror(errno));
			return -1;
		}
		if (fd != -1) {
			close(fd);
			p->nofds--;
			memmove(p->ofds, p->ofds + 1,
			    p->nofds * sizeof(*p->ofds));
		}
		p->outoff += (size_t)n;
	}
	for (i = 0; i < p->nofds; i++)
		p->ofds[i].off -= p->outoff;
	msgpack_sbuffer_clear(&p->out);
	p->outoff = 0;
	ev_io_stop(p->loop, &p->wr);
	return 0;
}

static void
ipc_peer_write_cb(EV_P_ ev_io *w, int revents)
{
	struct ipc_peer	*p = IPC_CONTAINER(w, struct ipc_peer, wr);
	socklen_t	 len;
	int		 e = 0;

	(void)loop;
	(void)revents;
	if (p->state == IPC_PEER_CONNECTING) {
		len = sizeof(e);
		if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &e, &len) == -1)
			e = errno;
		if (e != 0) {
			ipc_peer_down(p, strerror(e));
			return;
		}
		ev_io_stop(p->loop, &p->wr);
		ipc_peer_up(p);
		return;
	}
	ipc_peer_flush(p);
}

/* One decoded message from the daemon. -1 when p is gone or torn down. */
static int
ipc_peer_dispatch(struct ipc_peer *p, const msgpack_object *o)
{
	struct ipc_msg	 m;
	struct ipc_call	*c;
	char		 why[128];

	if (ipc_msg_parse(o, &m, why, sizeof(why)) == -1) {
		ipc_peer_down(p, why);
		return -1;
	}
	switch (m.type) {
	case IPC_RESPONSE:
		TAILQ_FOREACH(c, &p->calls, entry)
			if (c->msgid == m.msgid)
				break;
		if (c == NULL) {
			log_debug("%s: %s: answer %u after its timeout",
			    __func__, p->path, m.msgid);
			return 0;
		}
		TAILQ_REMOVE(&p->calls, c, entry);
		ev_timer_stop(p->loop, &c->timer);
		p->incb++;
		c->cb(c->cbarg, m.error, m.error == NULL ? m.result : NULL);
		free(c);
		break;
	case IPC_NOTIFY:
		if (p->event_cb == NULL)
			return 0;
		p->incb++;
		p->event_cb(p->arg, m.method, m.params);
		break;
	default:
		log_debug("%s: %s sent a request (%s): ignored", __func__,
		    p->path, m.method);
		return 0;
	}
	if (ipc_peer_leave(p))
		return -1;
	return p->state == IPC_PEER_UP ? 0 : -1;
}

static void
ipc_peer_read_cb(EV_P_ ev_io *w, int revents)
{
	struct ipc_peer		*p = IPC_CONTAINER(w, struct ipc_peer, rd);
	msgpack_unpacked	 u;
	msgpack_unpack_return	 r;
	ssize_t			 n;
	size_t			 ok;
	char			 why[128];
	int			 bad;

	(void)loop;
	(void)revents;
	if (!msgpack_unpacker_reserve_buffer(&p->unp, IPC_READ_CHUNK)) {
		ipc_peer_down(p, "out of memory");
		return;
	}
	n = recv(p->fd, msgpack_unpacker_buffer(&p->unp), IPC_READ_CHUNK,
	    MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		ipc_peer_down(p, n == 0 ? "closed by the daemon" :
		    strerror(errno));
		return;
	}
	bad = ipc_scan_feed(&p->scan, msgpack_unpacker_buffer(&p->unp),
	    (size_t)n, &ok, why, sizeof(why)) == -1;
	msgpack_unpacker_buffer_consumed(&p->unp, bad ? ok : (size_t)n);
	msgpack_unpacked_init(&u);
	while ((r = msgpack_unpacker_next(&p->unp, &u)) ==
	    MSGPACK_UNPACK_SUCCESS) {
		if (ipc_peer_dispatch(p, &u.data) == -1) {
			msgpack_unpacked_destroy(&u);
			return;
		}
	}
	msgpack_unpacked_destroy(&u);
	if (r != MSGPACK_UNPACK_CONTINUE)
		ipc_peer_down(p, "malformed msgpack");
	else if (bad)
		ipc_peer_down(p, why);
}

struct ipc_peer *
ipc_peer_new(struct ev_loop *loop, const char *path, ipc_state_cb *state_cb,
    ipc_event_cb *event_cb, void *arg)
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
	ev_io_init(&p->rd, ipc_peer_read_cb, -1, EV_READ);
	ev_io_init(&p->wr, ipc_peer_write_cb, -1, EV_WRITE);
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

/* Append one message to the output; msgid NULL: notification. */
static int
ipc_peer_queue(struct ipc_peer *p, const char *method, const char *params,
    size_t len, int fd, uint32_t *msgid)
{
	struct ipc_outfd	*o;
	size_t			 mark = p->out.size;
	uint32_t		 id = 0;
	char			 err[128];
	int			 dup = -1;

	if (p->state != IPC_PEER_UP || p->freed) {
		log_debug("%s: %s: not connected to %s", __func__, method,
		    p->path);
		return -1;
	}
	if (p->out.size - p->outoff + len > IPC_MAX_OUTQ) {
		log_warnx("%s: %s: %s is not reading", __func__, method,
		    p->path);
		return -1;
	}
	if (fd >= 0) {
		if ((o = reallocarray(p->ofds, p->nofds + 1,
		    sizeof(*p->ofds))) == NULL) {
			log_warn("%s", __func__);
			return -1;
		}
		p->ofds = o;
		if ((dup = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1) {
			log_warn("%s: dup", __func__);
			return -1;
		}
	}
	if (msgid != NULL) {
		id = p->nextid++;
		if (p->nextid == 0)
			p->nextid = 1;
	}
	if (ipc_pack_envelope(&p->out, msgid != NULL ? IPC_REQUEST :
	    IPC_NOTIFY, id, method, params, len, err, sizeof(err)) == -1) {
		log_warnx("%s: %s: %s", __func__, method, err);
		p->out.size = mark;
		if (dup != -1)
			close(dup);
		return -1;
	}
	if (dup != -1) {
		p->ofds[p->nofds].off = mark;
		p->ofds[p->nofds].len = p->out.size - mark;
		p->ofds[p->nofds].fd = dup;
		p->nofds++;
	}
	if (msgid != NULL)
		*msgid = id;
	/* written from the loop: no callback can run inside this call */
	ev_io_start(p->loop, &p->wr);
	return 0;
}

int
ipc_peer_call(struct ipc_peer *p, const char *method, const char *params,
    size_t len, int fd, int timeout_ms, ipc_reply_cb *cb, void *cbarg)
{
	struct ipc_call	*c;
	uint32_t	 id;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("%s", __func__);
		return -1;
	}
	if (ipc_peer_queue(p, method, params, len, fd, &id) == -1) {
		free(c);
		return -1;
	}
	c->p = p;
	c->msgid = id;
	c->cb = cb;
	c->cbarg = cbarg;
	ev_timer_init(&c->timer, ipc_peer_call_timeout_cb,
	    timeout_ms > 0 ? timeout_ms / 1000.0 : 0., 0.);
	if (timeout_ms > 0)
		ev_timer_start(p->loop, &c->timer);
	TAILQ_INSERT_TAIL(&p->calls, c, entry);
	return 0;
}

int
ipc_peer_notify(struct ipc_peer *p, const char *method, const char *params,
    size_t len)
{
	return ipc_peer_queue(p, method, params, len, -1, NULL);
}
