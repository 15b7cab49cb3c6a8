/*
 * IPC clients. ipc_sync_*: blocking with poll() timeouts, for meshctl and
 * tests. ipc_peer_*: non-blocking on libev for daemons talking to each other;
 * reconnects with exponential backoff and jitter (so daemons restarted
 * together do not reconnect in lockstep) and fails pending calls with a
 * synthesized {code, message} error when the connection drops or a call
 * times out.
 *
 * This file: the blocking client; the reconnecting one is in the other
 * ipc_client_*.c files, listed in ipc_client_priv.h.
 */
#include "ipc_client_priv.h"

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

int
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
