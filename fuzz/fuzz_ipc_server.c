/*
 * The IPC server's whole read and dispatch path, as a daemon runs it: a
 * real ipc_server (common/ipc_server.c) on an abstract AF_UNIX socket in
 * this process, one client connection per input, the loop run for a
 * bounded number of iterations. The handlers are stand-ins with stund's
 * method names that read their params the way the real ones do (typed
 * getters, a STUN datagram and an address in stun.input, a passed
 * descriptor in stun.discover) and reply, so replies, errors, the
 * events.subscribe built-in and SCM_RIGHTS bookkeeping all run.
 *
 * Input: byte 0 flags (bit 0: pass a descriptor with the first bytes;
 * bit 1: split the stream in two writes at byte 1), then the stream.
 * After each input no client and no descriptor may be left behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/un.h>

#include <ev.h>
#include <msgpack.h>

#include "common/ipc.h"
#include "common/log.h"
#include "common/mpack.h"
#include "common/netaddr.h"
#include "proto/stun.h"

static struct ev_loop		*loop;
static struct ipc_server	*srv;
static struct sockaddr_un	 sun;
static socklen_t		 sunlen;
static int			 fd_mark, srv_fd;

static void
h_status(struct ipc_conn *c, uint32_t msgid, const msgpack_object *p,
    void *arg)
{
	msgpack_packer *pk;

	(void)p;
	(void)arg;
	pk = ipc_reply_start(c, msgid);
	msgpack_pack_map(pk, 2);
	mpack_kv_str(pk, "daemon", "stund");
	mpack_kv_uint(pk, "requests", ipc_server_stats(srv)->requests);
	ipc_reply_finish(c);
}

static void
h_discover(struct ipc_conn *c, uint32_t msgid, const msgpack_object *p,
    void *arg)
{
	int64_t	 fam = 0, to = 0;
	int	 refresh = 0, sock = 0, fd;

	(void)arg;
	if (mpack_get_bool(p, "refresh", &refresh) == -1 ||
	    mpack_get_int(p, "family", &fam) == -1 ||
	    mpack_get_bool(p, "socket", &sock) == -1 ||
	    mpack_get_int(p, "timeout_ms", &to) == -1) {
		ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS, "bad types");
		return;
	}
	fd = ipc_conn_take_fd(c);
	if (sock && fd == -1) {
		ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS,
		    "socket: true without a descriptor");
		return;
	}
	if (fd != -1)
		close(fd);
	ipc_reply_error(c, msgid, IPC_ERR_UNAVAILABLE, "no server answered "
	    "(family %lld, timeout %lld)", (long long)fam, (long long)to);
}

static void
h_input(struct ipc_conn *c, uint32_t msgid, const msgpack_object *p,
    void *arg)
{
	struct sockaddr_storage	 ss;
	struct stun_msg		 m;
	const char		*d;
	size_t			 n;
	char			 from[64];

	(void)arg;
	if (mpack_get_bin(p, "data", &d, &n) != 0 ||
	    mpack_get_str(p, "from", from, sizeof(from)) != 0 ||
	    netaddr_parse(from, 0, &ss) == -1) {
		ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS, "data, from");
		return;
	}
	(void)stun_decode((const uint8_t *)d, n, &m);
	ipc_reply_ok(c, msgid);
}

static void
h_nat(struct ipc_conn *c, uint32_t msgid, const msgpack_object *p,
    void *arg)
{
	msgpack_packer	*pk;
	int		 refresh = 0;

	(void)arg;
	if (mpack_get_bool(p, "refresh", &refresh) == -1) {
		ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS, "refresh: bool");
		return;
	}
	pk = ipc_reply_start(c, msgid);
	msgpack_pack_map(pk, 1);
	mpack_kv_bool(pk, "behind_nat", refresh);
	ipc_reply_finish(c);
	/* and an event to whoever subscribed */
	pk = ipc_notify_start(srv, "nat.changed");
	if (pk != NULL) {
		msgpack_pack_map(pk, 1);
		mpack_kv_str(pk, "public", "192.0.2.1:1");
		ipc_notify_finish(srv);
	}
}

static void
h_servers(struct ipc_conn *c, uint32_t msgid, const msgpack_object *p,
    void *arg)
{
	msgpack_packer *pk;

	(void)p;
	(void)arg;
	pk = ipc_reply_start(c, msgid);
	msgpack_pack_array(pk, 0);
	ipc_reply_finish(c);
}

static const struct ipc_method methods[] = {
	{ "status.get", h_status },
	{ "stun.discover", h_discover },
	{ "stun.input", h_input },
	{ "nat.get", h_nat },
	{ "stun.servers", h_servers },
};

static void
setup(void)
{
	int lfd;

	log_init("fuzz_ipc_server", LOG_LVL_ERR);
	signal(SIGPIPE, SIG_IGN);
	loop = ev_loop_new(EVFLAG_AUTO);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path + 1, sizeof(sun.sun_path) - 1,
	    "atm-fuzz-ipc-%ld", (long)getpid());
	sunlen = offsetof(struct sockaddr_un, sun_path) + 1 +
	    strlen(sun.sun_path + 1);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (lfd == -1 || bind(lfd, (struct sockaddr *)&sun, sunlen) == -1 ||
	    listen(lfd, 16) == -1) {
		perror("fuzz_ipc_server: listen");
		exit(1);
	}
	srv_fd = lfd;
	srv = ipc_server_new_fd(loop, "stund", lfd, methods,
	    sizeof(methods) / sizeof(methods[0]), NULL);
	if (srv == NULL)
		exit(1);
	fd_mark = dup(0);
	close(fd_mark);
}

/*
 * A new descriptor is open since the last input. The server's would be a
 * socket or the passed /dev/null; anything else is the sanitizer's
 * symbolizer (pipes, opened when libFuzzer prints a new function), which
 * stays: remember where the free numbers start now.
 */
static void
fd_check(int probe)
{
	char	 path[64], link[256];
	ssize_t	 k;
	int	 fd;

	for (fd = 3; fd < probe; fd++) {
		if (fd == srv_fd)
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if ((k = readlink(path, link, sizeof(link) - 1)) <= 0)
			continue;
		link[k] = '\0';
		if (!strncmp(link, "socket:", 7) ||
		    !strcmp(link, "/dev/null")) {
			fprintf(stderr, "fuzz_ipc_server: descriptor %d "
			    "leaked: %s\n", fd, link);
			abort();
		}
	}
	fd_mark = probe;
}

/* read and drop what the server answered; 1 on EOF */
static int
drain(int fd)
{
	char	buf[65536];
	ssize_t	n;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0)
			continue;
		return n == 0 || (n == -1 && errno != EAGAIN &&
		    errno != EWOULDBLOCK && errno != EINTR);
	}
}

static void
spin(int fd, int rounds)
{
	int i;

	for (i = 0; i < rounds; i++) {
		ev_run(loop, EVRUN_NOWAIT);
		if (fd != -1 && drain(fd))
			break;
	}
}

static int
sendall(int fd, const uint8_t *p, size_t n, int passfd)
{
	ssize_t k;

	while (n > 0) {
		k = ipc_send_fd(fd, p, n, passfd);
		if (k == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			spin(fd, 1);
			continue;
		}
		if (k <= 0)
			return -1;
		passfd = -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int	 fd, passfd = -1, probe, i;
	size_t	 split;
	uint8_t	 flags;

	if (loop == NULL)
		setup();
	if (size < 2)
		return 0;
	flags = data[0];
	split = data[1];
	data += 2;
	size -= 2;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 || connect(fd, (struct sockaddr *)&sun, sunlen) == -1)
		abort();
	spin(-1, 2);			/* accept */
	if (flags & 1)
		passfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if ((flags & 2) && split < size) {
		if (sendall(fd, data, split, passfd) == 0) {
			spin(fd, 2);
			sendall(fd, data + split, size - split, -1);
		}
	} else
		sendall(fd, data, size, passfd);
	if (passfd != -1)
		close(passfd);
	shutdown(fd, SHUT_WR);
	spin(fd, 64);
	close(fd);
	/* the server sees the close and must let go of everything */
	for (i = 0; i < 1000 && ipc_server_nclients(srv) > 0; i++)
		ev_run(loop, EVRUN_NOWAIT);
	if (ipc_server_nclients(srv) != 0) {
		fprintf(stderr, "fuzz_ipc_server: client not freed\n");
		abort();
	}
	probe = dup(0);
	close(probe);
	if (probe != fd_mark)
		fd_check(probe);
	return 0;
}
