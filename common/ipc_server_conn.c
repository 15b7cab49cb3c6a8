/*
 * IPC server: one client connection (see ipc_server.c for the lifetime
 * rules): closing and freeing it, queueing and flushing its output, the
 * replies handlers build, and the accessors handlers use.
 */
#include "ipc_server_priv.h"

#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "log.h"

/* ---- connection lifetime ------------------------------------------------- */

static void
ipc_conn_stop(struct ipc_conn *c)
{
	struct ev_loop *loop = c->s->loop;

	ev_io_stop(loop, &c->rd);
	ev_io_stop(loop, &c->wr);
	ev_timer_stop(loop, &c->linger);
}

void
ipc_conn_free(struct ipc_conn *c)
{
	struct ipc_server	*s = c->s;
	size_t			 i;

	ipc_conn_stop(c);
	for (i = 0; i < c->nfds; i++)
		close(c->fds[i].fd);
	if (c->curfd != -1)
		close(c->curfd);
	close(c->fd);
	msgpack_unpacker_destroy(&c->unp);
	msgpack_sbuffer_destroy(&c->out);
	free(c->events);
	TAILQ_REMOVE(&s->conns, c, entry);
	s->nclients--;
	free(c);
}

/* Drop now, or as soon as the read callback on the stack unwinds. */
void
ipc_conn_drop(struct ipc_conn *c)
{
	if (c->busy) {
		c->dead = 1;
		ipc_conn_stop(c);
		return;
	}
	ipc_conn_free(c);
}

void
ipc_conn_linger_cb(EV_P_ ev_timer *w, int revents)
{
	struct ipc_conn *c = IPC_CONTAINER(w, struct ipc_conn, linger);

	(void)loop;
	(void)revents;
	log_debug("%s: client %llu did not read its last reply", __func__,
	    (unsigned long long)c->id);
	ipc_conn_drop(c);
}

void
ipc_conn_close(struct ipc_conn *c)
{
	if (c->dead || c->closing)
		return;
	c->closing = 1;
	ev_io_stop(c->s->loop, &c->rd);
	if (c->out.size == c->outoff) {
		ipc_conn_drop(c);
		return;
	}
	ev_io_start(c->s->loop, &c->wr);
	ev_timer_set(&c->linger, IPC_LINGER, 0.);
	ev_timer_start(c->s->loop, &c->linger);
}

/* ---- output ---------------------------------------------------------------- */

int
ipc_conn_pack_cb(void *data, const char *buf, size_t len)
{
	struct ipc_conn *c = data;

	if (msgpack_sbuffer_write(&c->out, buf, len) != 0) {
		c->oom = 1;
		return -1;
	}
	return 0;
}

/* New output is in c->out: check the caps and start flushing. */
void
ipc_conn_queued(struct ipc_conn *c)
{
	struct ipc_server *s = c->s;

	if (c->oom) {
		log_warnx("%s: client %llu: out of memory for output", __func__,
		    (unsigned long long)c->id);
		ipc_conn_drop(c);
		return;
	}
	if (c->out.size - c->outoff > IPC_MAX_OUTQ) {
		s->stats.dropped_slow++;
		log_warnx("%s: client %llu (pid %ld) is not reading: over %d "
		    "bytes queued, dropped", __func__,
		    (unsigned long long)c->id, (long)c->pid, IPC_MAX_OUTQ);
		ipc_conn_drop(c);
		return;
	}
	ev_io_start(s->loop, &c->wr);
}

void
ipc_conn_write_cb(EV_P_ ev_io *w, int revents)
{
	struct ipc_conn	*c = IPC_CONTAINER(w, struct ipc_conn, wr);
	ssize_t		 n;

	(void)revents;
	while (c->outoff < c->out.size) {
		n = send(c->fd, c->out.data + c->outoff,
		    c->out.size - c->outoff, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				/* keep the buffer from creeping forward */
				if (c->outoff > c->out.size / 2) {
					memmove(c->out.data,
					    c->out.data + c->outoff,
					    c->out.size - c->outoff);
					c->out.size -= c->outoff;
					c->outoff = 0;
				}
				return;
			}
			log_debug("%s: client %llu: %s", __func__,
			    (unsigned long long)c->id, strerror(errno));
			ipc_conn_drop(c);
			return;
		}
		c->outoff += (size_t)n;
	}
	c->out.size = c->outoff = 0;
	ev_io_stop(loop, &c->wr);
	if (c->closing)
		ipc_conn_drop(c);
}

/* ---- replies ------------------------------------------------------------- */

msgpack_packer *
ipc_reply_start(struct ipc_conn *c, uint32_t msgid)
{
	c->mark = c->out.size;
	c->replyid = msgid;
	c->replying = 1;
	c->discard = c->innotify && msgid == 0;
	msgpack_pack_array(&c->pk, 4);
	msgpack_pack_uint8(&c->pk, IPC_RESPONSE);
	msgpack_pack_uint32(&c->pk, msgid);
	msgpack_pack_nil(&c->pk);
	return &c->pk;
}

void
ipc_reply_finish(struct ipc_conn *c)
{
	c->replying = 0;
	if (c->dead || c->discard) {
		/* nobody to answer: a notification, or a client gone */
		c->out.size = c->mark;
		c->discard = 0;
		return;
	}
	if (c->out.size - c->mark > IPC_MAX_MSG) {
		/* the client would refuse it: say why instead */
		c->out.size = c->mark;
		log_warnx("%s: reply to client %llu over %d bytes", __func__,
		    (unsigned long long)c->id, IPC_MAX_MSG);
		ipc_reply_error(c, c->replyid, IPC_ERR_INTERNAL, "result "
		    "larger than %d bytes", IPC_MAX_MSG);
		return;
	}
	ipc_conn_queued(c);
}

void
ipc_reply_error(struct ipc_conn *c, uint32_t msgid, const char *code,
    const char *fmt, ...)
{
	char	msg[512];
	va_list	ap;

	if (c->dead || (c->innotify && msgid == 0))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ipc_pack_error(&c->pk, msgid, code, msg);
	ipc_conn_queued(c);
}

void
ipc_reply_ok(struct ipc_conn *c, uint32_t msgid)
{
	msgpack_pack_true(ipc_reply_start(c, msgid));
	ipc_reply_finish(c);
}

/* ---- accessors ------------------------------------------------------------- */

uint64_t
ipc_conn_id(const struct ipc_conn *c)
{
	return c->id;
}

struct ipc_conn *
ipc_server_conn(struct ipc_server *s, uint64_t id)
{
	struct ipc_conn *c;

	TAILQ_FOREACH(c, &s->conns, entry)
		if (c->id == id)
			return c->dead ? NULL : c;
	return NULL;
}

struct ipc_server *
ipc_conn_server(const struct ipc_conn *c)
{
	return c->s;
}

uid_t
ipc_conn_uid(const struct ipc_conn *c)
{
	return c->uid;
}

pid_t
ipc_conn_pid(const struct ipc_conn *c)
{
	return c->pid;
}

int
ipc_conn_take_fd(struct ipc_conn *c)
{
	int fd = c->curfd;

	c->curfd = -1;
	return fd;
}

unsigned
ipc_server_nclients(const struct ipc_server *s)
{
	return s->nclients;
}

const struct ipc_stats *
ipc_server_stats(const struct ipc_server *s)
{
	return &s->stats;
}
