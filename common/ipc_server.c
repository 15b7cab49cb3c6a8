/*
 * The IPC server: one listening AF_UNIX socket per daemon on libev, a
 * struct ipc_conn per client with its own unpacker (input) and sbuffer
 * (output), dispatch by method name through the daemon's table.
 *
 * A client that sends something malformed gets an error response where a
 * msgid can be recovered and is closed once that response is flushed; one
 * that stops reading is dropped when IPC_MAX_OUTQ bytes queue up. Neither
 * affects anyone else.
 *
 * Lifetime: a conn is freed right away unless its own read callback is on the
 * stack (a handler may close or overflow its own client); then it is marked
 * dead and freed when the callback unwinds.
 */
#include "ipc.h"

#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "log.h"
#include "proto/methods.h"

#define IPC_CONTAINER(p, t, m)	((t *)(void *)((char *)(p) - offsetof(t, m)))

/* One read: large enough for a typical reply burst, small enough that one
 * chatty client cannot starve the others for long. */
#define IPC_READ_CHUNK		(64 * 1024)
/* Descriptors that may wait for their message; more is a confused client. */
#define IPC_MAX_FDS		8
/* Seconds a closing client gets to read its last reply. */
#define IPC_LINGER		2.0
/* Event names one client may subscribe to, each under 64 bytes. */
#define IPC_MAX_SUBS		64

struct ipc_fd {
	int		fd;
	uint64_t	msgno;		/* index of the message it came with */
};

struct ipc_conn {
	TAILQ_ENTRY(ipc_conn)	 entry;
	struct ipc_server	*s;
	uint64_t		 id;
	int			 fd;
	uid_t			 uid;
	gid_t			 gid;
	pid_t			 pid;
	ev_io			 rd;
	ev_io			 wr;
	ev_timer		 linger;

	msgpack_unpacker	 unp;
	struct ipc_scan		 scan;
	uint64_t		 ndispatched;
	struct ipc_fd		 fds[IPC_MAX_FDS];
	size_t			 nfds;
	int			 curfd;

	msgpack_sbuffer		 out;
	size_t			 outoff;
	msgpack_packer		 pk;
	size_t			 mark;		/* out.size at reply start */
	int			 oom;
	uint32_t		 replyid;
	int			 replying;
	int			 discard;	/* reply to a notification */

	int			 busy;		/* in its read callback */
	int			 dead;
	int			 closing;
	int			 innotify;

	int			 subscribed;
	int			 suball;
	char			 (*events)[64];
	size_t			 nevents;
};

struct ipc_server {
	struct ev_loop		*loop;
	char			 daemon[32];
	char			*path;		/* NULL when adopted */
	dev_t			 dev;
	ino_t			 ino;
	int			 fd;
	ev_io			 accept;
	ev_timer		 pause;		/* out of descriptors */
	const struct ipc_method	*methods;
	size_t			 nmethods;
	void			*arg;
	TAILQ_HEAD(, ipc_conn)	 conns;
	unsigned		 nclients;
	uint64_t		 nextid;
	struct ipc_stats	 stats;
	msgpack_sbuffer		 nbuf;
	msgpack_packer		 npk;
	char			 nevent[64];
	struct log_ratelimit	 rl_refused;
	struct log_ratelimit	 rl_bad;
	struct log_ratelimit	 rl_accept;
};

static void	ipc_conn_free(struct ipc_conn *);

/* ---- connection lifetime ------------------------------------------------- */

static void
ipc_conn_stop(struct ipc_conn *c)
{
	struct ev_loop *loop = c->s->loop;

	ev_io_stop(loop, &c->rd);
	ev_io_stop(loop, &c->wr);
	ev_timer_stop(loop, &c->linger);
}

static void
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
static void
ipc_conn_drop(struct ipc_conn *c)
{
	if (c->busy) {
		c->dead = 1;
		ipc_conn_stop(c);
		return;
	}
	ipc_conn_free(c);
}

static void
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

static int
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
static void
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

static void
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

/* ---- notifications -------------------------------------------------------- */

static int
ipc_conn_wants(const struct ipc_conn *c, const char *event)
{
	size_t i;

	if (!c->subscribed || c->dead || c->closing)
		return 0;
	if (c->suball)
		return 1;
	for (i = 0; i < c->nevents; i++)
		if (!strcmp(c->events[i], event))
			return 1;
	return 0;
}

msgpack_packer *
ipc_notify_start(struct ipc_server *s, const char *event)
{
	size_t n = strlen(event);

	msgpack_sbuffer_clear(&s->nbuf);
	snprintf(s->nevent, sizeof(s->nevent), "%s", event);
	msgpack_pack_array(&s->npk, 3);
	msgpack_pack_uint8(&s->npk, IPC_NOTIFY);
	msgpack_pack_str(&s->npk, n);
	msgpack_pack_str_body(&s->npk, event, n);
	return &s->npk;
}

void
ipc_notify_finish(struct ipc_server *s)
{
	struct ipc_conn *c, *tmp;

	if (s->nbuf.size > IPC_MAX_MSG) {
		log_warnx("%s: %s over %d bytes: not sent", __func__,
		    s->nevent, IPC_MAX_MSG);
		msgpack_sbuffer_clear(&s->nbuf);
		return;
	}
	TAILQ_FOREACH_SAFE(c, &s->conns, entry, tmp) {
		if (!ipc_conn_wants(c, s->nevent))
			continue;
		if (c->replying) {
			log_warnx("%s: %s sent in the middle of a reply to "
			    "client %llu: not sent to it", __func__, s->nevent,
			    (unsigned long long)c->id);
			continue;
		}
		if (msgpack_sbuffer_write(&c->out, s->nbuf.data,
		    s->nbuf.size) != 0)
			c->oom = 1;
		ipc_conn_queued(c);
	}
	msgpack_sbuffer_clear(&s->nbuf);
}

/* "events.subscribe" {events?: [name, ...]}: adds to what the client gets. */
static void
ipc_server_subscribe(struct ipc_conn *c, uint32_t msgid,
    const msgpack_object *params)
{
	const msgpack_object		*ev = NULL, *e;
	const struct proto_method	*pm;
	char				 name[64];
	void				*p;
	uint32_t			 i, j;

	for (i = 0; i < params->via.map.size; i++)
		if (params->via.map.ptr[i].key.type == MSGPACK_OBJECT_STR &&
		    params->via.map.ptr[i].key.via.str.size == 6 &&
		    !memcmp(params->via.map.ptr[i].key.via.str.ptr, "events", 6))
			ev = &params->via.map.ptr[i].val;
	if (ev != NULL && ev->type != MSGPACK_OBJECT_NIL &&
	    ev->type != MSGPACK_OBJECT_ARRAY) {
		ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS,
		    "events must be a list of event names");
		return;
	}
	if (ev == NULL || ev->type == MSGPACK_OBJECT_NIL ||
	    ev->via.array.size == 0) {
		c->subscribed = c->suball = 1;
		ipc_reply_ok(c, msgid);
		return;
	}
	/* check them all before taking any */
	for (i = 0; i < ev->via.array.size; i++) {
		e = &ev->via.array.ptr[i];
		if (e->type != MSGPACK_OBJECT_STR || e->via.str.size == 0 ||
		    e->via.str.size >= sizeof(name)) {
			ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS,
			    "events must be a list of event names");
			return;
		}
		memcpy(name, e->via.str.ptr, e->via.str.size);
		name[e->via.str.size] = '\0';
		pm = proto_method_find(c->s->daemon, name);
		if (pm == NULL || pm->kind != PROTO_EVENT) {
			ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS,
			    "%s sends no event %s", c->s->daemon, name);
			return;
		}
	}
	if (c->nevents + ev->via.array.size > IPC_MAX_SUBS) {
		ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS,
		    "more than %d events", IPC_MAX_SUBS);
		return;
	}
	for (i = 0; i < ev->via.array.size; i++) {
		e = &ev->via.array.ptr[i];
		memcpy(name, e->via.str.ptr, e->via.str.size);
		name[e->via.str.size] = '\0';
		for (j = 0; j < c->nevents; j++)
			if (!strcmp(c->events[j], name))
				break;
		if (j < c->nevents)
			continue;
		if ((p = reallocarray(c->events, c->nevents + 1,
		    sizeof(*c->events))) == NULL) {
			ipc_reply_error(c, msgid, IPC_ERR_INTERNAL,
			    "out of memory");
			return;
		}
		c->events = p;
		memcpy(c->events[c->nevents++], name, sizeof(name));
	}
	c->subscribed = 1;
	ipc_reply_ok(c, msgid);
}

/* ---- input ----------------------------------------------------------------- */

/* The descriptor that came with message number msgno, if any. */
static int
ipc_conn_fd_for(struct ipc_conn *c, uint64_t msgno)
{
	size_t	i, j;
	int	fd = -1;

	for (i = j = 0; i < c->nfds; i++) {
		if (c->fds[i].msgno > msgno)
			c->fds[j++] = c->fds[i];
		else if (c->fds[i].msgno == msgno && fd == -1)
			fd = c->fds[i].fd;
		else
			close(c->fds[i].fd);	/* stale or extra */
	}
	c->nfds = j;
	return fd;
}

static void
ipc_conn_bad(struct ipc_conn *c, int havemsgid, uint32_t msgid,
    const char *why)
{
	struct ipc_server *s = c->s;

	s->stats.bad_messages++;
	log_warnx_rl(&s->rl_bad, 10.0, "%s: client %llu (uid %lu pid %ld): "
	    "%s: closing it", __func__, (unsigned long long)c->id,
	    (unsigned long)c->uid, (long)c->pid, why);
	if (havemsgid)
		ipc_reply_error(c, msgid, IPC_ERR_BAD_REQUEST, "%s", why);
	ipc_conn_close(c);
}

static const struct ipc_method *
ipc_server_method(const struct ipc_server *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nmethods; i++)
		if (!strcmp(s->methods[i].name, name))
			return &s->methods[i];
	return NULL;
}

static void
ipc_conn_dispatch(struct ipc_conn *c, const msgpack_object *o)
{
	static const msgpack_object	 empty = { .type = MSGPACK_OBJECT_MAP };
	struct ipc_server		*s = c->s;
	const struct ipc_method		*im;
	const msgpack_object		*params;
	struct ipc_msg			 m;
	char				 why[128];
	uint32_t			 msgid;

	c->curfd = ipc_conn_fd_for(c, c->ndispatched);
	if (ipc_msg_parse(o, &m, why, sizeof(why)) == -1) {
		ipc_conn_bad(c, m.type == IPC_REQUEST, m.msgid, why);
		goto out;
	}
	if (m.type == IPC_RESPONSE) {
		ipc_conn_bad(c, 1, m.msgid, "clients send requests and "
		    "notifications, not responses");
		goto out;
	}
	c->innotify = m.type == IPC_NOTIFY;
	msgid = c->innotify ? 0 : m.msgid;
	if (!c->innotify)
		s->stats.requests++;
	params = m.params->type == MSGPACK_OBJECT_NIL ? &empty : m.params;
	if (params->type != MSGPACK_OBJECT_MAP) {
		/* well framed: answer, but keep the client */
		if (c->innotify)
			log_debug("%s: %s: params are not a map", __func__,
			    m.method);
		ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS,
		    "params must be a map");
		goto out;
	}
	if (!strcmp(m.method, "events.subscribe")) {
		if (!c->innotify)
			ipc_server_subscribe(c, msgid, params);
		goto out;
	}
	if ((im = ipc_server_method(s, m.method)) == NULL) {
		if (c->innotify)
			log_debug("%s: notification %s: no handler", __func__,
			    m.method);
		ipc_reply_error(c, msgid, IPC_ERR_UNKNOWN_METHOD,
		    "%s has no method %s", s->daemon, m.method);
		goto out;
	}
	im->fn(c, msgid, params, s->arg);
 out:
	c->innotify = 0;
	if (c->curfd != -1) {
		close(c->curfd);
		c->curfd = -1;
	}
}

/* Unpack and dispatch every complete message in the buffer. */
static void
ipc_conn_drain(struct ipc_conn *c)
{
	msgpack_unpacked	u;
	msgpack_unpack_return	r;

	msgpack_unpacked_init(&u);
	while (!c->dead && !c->closing) {
		r = msgpack_unpacker_next(&c->unp, &u);
		if (r == MSGPACK_UNPACK_CONTINUE)
			break;
		if (r != MSGPACK_UNPACK_SUCCESS) {
			ipc_conn_bad(c, 0, 0, r == MSGPACK_UNPACK_NOMEM_ERROR ?
			    "message nested too deep or out of memory" :
			    "malformed msgpack");
			break;
		}
		ipc_conn_dispatch(c, &u.data);
		c->ndispatched++;
	}
	msgpack_unpacked_destroy(&u);
}

/* Keep the descriptors that arrived with a read for their message. */
static void
ipc_conn_keep_fds(struct ipc_conn *c, int *fds, size_t n, uint64_t before,
    int scanok)
{
	size_t i;

	for (i = 0; i < n; i++) {
		/*
		 * The kernel ends a read at the segment that carried
		 * descriptors, and senders attach them to the first bytes of
		 * their message: they belong to the last message begun here.
		 */
		if (!scanok || c->scan.nstarted == before ||
		    c->nfds == IPC_MAX_FDS) {
			log_debug("%s: client %llu: descriptor without a "
			    "message, closed", __func__,
			    (unsigned long long)c->id);
			close(fds[i]);
			continue;
		}
		c->fds[c->nfds].fd = fds[i];
		c->fds[c->nfds].msgno = c->scan.nstarted - 1;
		c->nfds++;
	}
}

static ssize_t
ipc_conn_recv(struct ipc_conn *c, char *buf, size_t len, int *fds,
    size_t *nfds)
{
	struct msghdr	 mh;
	struct iovec	 iov;
	struct cmsghdr	*cm;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * IPC_MAX_FDS)];
	} cbuf;
	ssize_t		 n;
	size_t		 i, k;
	int		 fd;

	*nfds = 0;
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = buf;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf.buf;
	mh.msg_controllen = sizeof(cbuf.buf);
	if ((n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT)) == -1)
		return -1;
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET ||
		    cm->cmsg_type != SCM_RIGHTS)
			continue;
		k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < k; i++) {
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(fd));
			if (*nfds < IPC_MAX_FDS)
				fds[(*nfds)++] = fd;
			else
				close(fd);
		}
	}
	if (mh.msg_flags & MSG_CTRUNC)
		log_debug("%s: client %llu: descriptors truncated", __func__,
		    (unsigned long long)c->id);
	return n;
}

static void
ipc_conn_read_cb(EV_P_ ev_io *w, int revents)
{
	struct ipc_conn	*c = IPC_CONTAINER(w, struct ipc_conn, rd);
	int		 fds[IPC_MAX_FDS], r, havemsgid;
	size_t		 nfds, ok, i;
	uint64_t	 before;
	uint32_t	 msgid = 0;
	ssize_t		 n;
	char		 why[128];

	(void)loop;
	(void)revents;
	if (!msgpack_unpacker_reserve_buffer(&c->unp, IPC_READ_CHUNK)) {
		log_warnx("%s: client %llu: out of memory", __func__,
		    (unsigned long long)c->id);
		ipc_conn_drop(c);
		return;
	}
	n = ipc_conn_recv(c, msgpack_unpacker_buffer(&c->unp),
	    IPC_READ_CHUNK, fds, &nfds);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		log_debug("%s: client %llu: %s", __func__,
		    (unsigned long long)c->id, strerror(errno));
		ipc_conn_drop(c);
		return;
	}
	if (n == 0) {
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		if (c->scan.inmsg) {
			c->s->stats.bad_messages++;
			log_debug("%s: client %llu closed in the middle of a "
			    "message", __func__, (unsigned long long)c->id);
		}
		/* a half-close still gets the answers already queued */
		ipc_conn_close(c);
		return;
	}
	before = c->scan.nstarted;
	r = ipc_scan_feed(&c->scan, msgpack_unpacker_buffer(&c->unp),
	    (size_t)n, &ok, why, sizeof(why));
	msgpack_unpacker_buffer_consumed(&c->unp, r == 0 ? (size_t)n : ok);
	ipc_conn_keep_fds(c, fds, nfds, before, r == 0);

	c->busy = 1;
	ipc_conn_drain(c);
	c->busy = 0;
	if (c->dead) {
		ipc_conn_free(c);
		return;
	}
	if (r == -1 && !c->closing) {
		havemsgid = ipc_scan_msgid(&c->scan, &msgid) == 0;
		ipc_conn_bad(c, havemsgid, msgid, why);
	}
}

/* ---- accept -------------------------------------------------------------- */

static struct ipc_conn *
ipc_conn_new(struct ipc_server *s, int fd, const struct ucred *uc)
{
	struct ipc_conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("%s", __func__);
		return NULL;
	}
	if (!msgpack_unpacker_init(&c->unp, IPC_READ_CHUNK)) {
		log_warnx("%s: out of memory", __func__);
		free(c);
		return NULL;
	}
	c->s = s;
	c->id = ++s->nextid;
	c->fd = fd;
	c->uid = uc->uid;
	c->gid = uc->gid;
	c->pid = uc->pid;
	c->curfd = -1;
	ipc_scan_init(&c->scan);
	msgpack_sbuffer_init(&c->out);
	msgpack_packer_init(&c->pk, c, ipc_conn_pack_cb);
	ev_io_init(&c->rd, ipc_conn_read_cb, fd, EV_READ);
	ev_io_init(&c->wr, ipc_conn_write_cb, fd, EV_WRITE);
	ev_timer_init(&c->linger, ipc_conn_linger_cb, IPC_LINGER, 0.);
	TAILQ_INSERT_TAIL(&s->conns, c, entry);
	s->nclients++;
	ev_io_start(s->loop, &c->rd);
	return c;
}

static void
ipc_server_pause_cb(EV_P_ ev_timer *w, int revents)
{
	struct ipc_server *s = IPC_CONTAINER(w, struct ipc_server, pause);

	(void)revents;
	ev_io_start(loop, &s->accept);
}

static void
ipc_server_accept_cb(EV_P_ ev_io *w, int revents)
{
	struct ipc_server	*s = IPC_CONTAINER(w, struct ipc_server, accept);
	struct ucred		 uc;
	socklen_t		 len;
	int			 fd, i;

	(void)revents;
	for (i = 0; i < 64; i++) {
		fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			/* out of descriptors: back off instead of spinning */
			log_warnx_rl(&s->rl_accept, 10.0, "%s: accept: %s",
			    __func__, strerror(errno));
			ev_io_stop(loop, &s->accept);
			ev_timer_set(&s->pause, 1.0, 0.);
			ev_timer_start(loop, &s->pause);
			return;
		}
		len = sizeof(uc);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == -1) {
			log_warn("%s: SO_PEERCRED", __func__);
			close(fd);
			continue;
		}
		if (!ipc_peer_allowed(uc.uid, uc.gid, uc.pid)) {
			s->stats.refused++;
			log_warnx_rl(&s->rl_refused, 60.0, "%s: refused uid %lu "
			    "gid %lu pid %ld: not root, not uid %lu, not in "
			    "group atmosphere", __func__, (unsigned long)uc.uid,
			    (unsigned long)uc.gid, (long)uc.pid,
			    (unsigned long)geteuid());
			close(fd);
			continue;
		}
		if (ipc_conn_new(s, fd, &uc) == NULL) {
			close(fd);
			continue;
		}
		s->stats.accepted++;
		log_debug("%s: client %llu uid %lu pid %ld", __func__,
		    (unsigned long long)s->nextid, (unsigned long)uc.uid,
		    (long)uc.pid);
	}
}

/* ---- setup --------------------------------------------------------------- */

static void
ipc_server_check_methods(const char *daemon, const struct ipc_method *methods,
    size_t n)
{
	const struct proto_method	*pm;
	size_t				 i;

	for (i = 0; i < n; i++) {
		if (!strcmp(methods[i].name, "events.subscribe"))
			fatalx("%s: %s: events.subscribe is built in", __func__,
			    daemon);
		pm = proto_method_find(daemon, methods[i].name);
		if (pm == NULL || pm->kind == PROTO_EVENT || methods[i].fn == NULL)
			fatalx("%s: %s: handler for %s, which proto/methods.c "
			    "does not list as a call of %s", __func__, daemon,
			    methods[i].name, daemon);
	}
}

static struct ipc_server *
ipc_server_setup(struct ev_loop *loop, const char *daemon, int fd,
    const struct ipc_method *methods, size_t nmethods, void *arg)
{
	struct ipc_server *s;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		log_warn("%s", __func__);
		return NULL;
	}
	s->loop = loop;
	snprintf(s->daemon, sizeof(s->daemon), "%s", daemon);
	s->fd = fd;
	s->methods = methods;
	s->nmethods = nmethods;
	s->arg = arg;
	TAILQ_INIT(&s->conns);
	msgpack_sbuffer_init(&s->nbuf);
	msgpack_packer_init(&s->npk, &s->nbuf, msgpack_sbuffer_write);
	ev_io_init(&s->accept, ipc_server_accept_cb, fd, EV_READ);
	ev_timer_init(&s->pause, ipc_server_pause_cb, 1.0, 0.);
	ev_io_start(loop, &s->accept);
	return s;
}

/* Does a daemon answer at this address? */
static int
ipc_server_live(const struct sockaddr_un *sun)
{
	int fd, live;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		return 1;	/* cannot tell: do not steal the path */
	if (connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0)
		live = 1;
	else
		live = errno != ECONNREFUSED && errno != ENOENT;
	close(fd);
	return live;
}

/*
 * Bind under a temporary name, make it listen, then rename() it over `path`:
 * a client that sees the socket file can always connect (no window between
 * bind and listen where it gets ECONNREFUSED), and a stale socket is
 * replaced atomically. A live daemon at `path` is never displaced.
 */
static int
ipc_server_bind(int fd, const char *path, struct stat *st)
{
	struct sockaddr_un	 sun, final;
	struct group		 gr, *grp = NULL;
	struct stat		 old;
	char			 grbuf[16384];
	mode_t			 mask;
	int			 n;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	n = snprintf(sun.sun_path, sizeof(sun.sun_path), "%s.%ld.tmp", path,
	    (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(sun.sun_path)) {
		log_warnx("%s: socket path too long: %s", __func__, path);
		return -1;
	}
	memset(&final, 0, sizeof(final));
	final.sun_family = AF_UNIX;
	memcpy(final.sun_path, path, strlen(path) + 1);
	if (lstat(path, &old) == 0) {
		if (!S_ISSOCK(old.st_mode)) {
			log_warnx("%s: %s exists and is not a socket", __func__,
			    path);
			return -1;
		}
		if (ipc_server_live(&final)) {
			log_warnx("%s: %s: another daemon is already "
			    "listening there", __func__, path);
			return -1;
		}
	}
	unlink(sun.sun_path);	/* left by a crashed daemon with our pid */
	/* fchmod() does not apply to AF_UNIX; umask does */
	mask = umask(0117);
	n = bind(fd, (const struct sockaddr *)&sun, sizeof(sun));
	umask(mask);
	if (n == -1) {
		log_warn("%s: bind %s", __func__, sun.sun_path);
		return -1;
	}
	if (chmod(sun.sun_path, 0660) == -1)
		log_warn("%s: chmod %s", __func__, sun.sun_path);
	if (stat(sun.sun_path, st) == -1 || listen(fd, 64) == -1) {
		log_warn("%s: listen %s", __func__, sun.sun_path);
		unlink(sun.sun_path);
		return -1;
	}
	/* under systemd the group is already right: no chown (the syscall
	 * filter then need not allow it) */
	if (getgrnam_r("atmosphere", &gr, grbuf, sizeof(grbuf), &grp) == 0 &&
	    grp != NULL && st->st_gid != grp->gr_gid &&
	    chown(sun.sun_path, (uid_t)-1, grp->gr_gid) == -1)
		log_warn("%s: chown %s to group atmosphere", __func__, path);
	if (rename(sun.sun_path, path) == -1) {
		log_warn("%s: rename to %s", __func__, path);
		unlink(sun.sun_path);
		return -1;
	}
	return 0;
}

struct ipc_server *
ipc_server_new(struct ev_loop *loop, const char *daemon, const char *path,
    const struct ipc_method *methods, size_t nmethods, void *arg)
{
	struct ipc_server	*s;
	struct sockaddr_un	 sun;
	struct stat		 st;
	int			 fd;

	ipc_server_check_methods(daemon, methods, nmethods);
	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_warnx("%s: socket path too long: %s", __func__, path);
		return NULL;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		log_warn("%s: socket", __func__);
		return NULL;
	}
	if (ipc_server_bind(fd, path, &st) == -1) {
		close(fd);
		return NULL;
	}
	if ((s = ipc_server_setup(loop, daemon, fd, methods, nmethods,
	    arg)) == NULL || (s->path = strdup(path)) == NULL) {
		log_warnx("%s: out of memory", __func__);
		if (s != NULL)
			ipc_server_free(s);
		else
			close(fd);
		unlink(path);
		return NULL;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	log_debug("%s: %s listening on %s", __func__, daemon, path);
	return s;
}

struct ipc_server *
ipc_server_new_fd(struct ev_loop *loop, const char *daemon, int fd,
    const struct ipc_method *methods, size_t nmethods, void *arg)
{
	int		 on = 0, fl;
	socklen_t	 len = sizeof(on);

	ipc_server_check_methods(daemon, methods, nmethods);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == -1 ||
	    !on) {
		log_warnx("%s: descriptor %d is not a listening socket",
		    __func__, fd);
		return NULL;
	}
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
		log_warn("%s: fcntl", __func__);
		return NULL;
	}
	return ipc_server_setup(loop, daemon, fd, methods, nmethods, arg);
}

void
ipc_server_free(struct ipc_server *s)
{
	struct ipc_conn	*c;
	struct stat	 st;

	if (s == NULL)
		return;
	while ((c = TAILQ_FIRST(&s->conns)) != NULL)
		ipc_conn_free(c);
	ev_io_stop(s->loop, &s->accept);
	ev_timer_stop(s->loop, &s->pause);
	close(s->fd);
	/* only our own socket: a newer daemon may have taken the path */
	if (s->path != NULL && lstat(s->path, &st) == 0 &&
	    st.st_dev == s->dev && st.st_ino == s->ino)
		unlink(s->path);
	free(s->path);
	msgpack_sbuffer_destroy(&s->nbuf);
	free(s);
}
