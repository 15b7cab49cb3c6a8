/*
 * IPC client, ipc_peer_*: the traffic of a connected peer. Calls and
 * notifications are queued (with a descriptor, if any) and written from the
 * loop; answers are matched to their calls, events go to the owner's
 * callback; a call without an answer in time fails with a timeout error.
 */
#include "ipc_client_priv.h"

#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "log.h"

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
	return ipc_peer_create(loop, path, state_cb, event_cb, arg,
	    ipc_peer_read_cb, ipc_peer_write_cb);
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
