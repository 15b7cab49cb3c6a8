/*
 * IPC server: a client's input. Reads (with the descriptors that come
 * along), checks the framing, unpacks each message and dispatches it by
 * method name through the daemon's table; a malformed one closes the client
 * after an error reply where a msgid can be recovered.
 */
#include "ipc_server_priv.h"

#include <sys/socket.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "log.h"

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

void
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
