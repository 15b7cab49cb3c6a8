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
 *
 * This file: the listening socket (bind or adopt, accept, free); the rest
 * is in the other ipc_server_*.c files, listed in ipc_server_priv.h.
 */
#include "ipc_server_priv.h"

#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "log.h"
#include "proto/methods.h"

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
