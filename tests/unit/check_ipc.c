/*
 * IPC against a real server: each test forks a child running an ev loop
 * with an ipc_server on a socket in a fresh mkdtemp directory, then talks to
 * it from the test process (ipc_sync, raw bytes, ipc_peer). Hostile input is
 * always followed by a check that a second client is still served.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "common/ipc.h"
#include "common/log.h"
#include "common/mpack.h"
#include "suites.h"

static char	tdir[64];
static char	tsock[128];
static pid_t	srv_pid = -1;

/* ---- the server child ---------------------------------------------------- */

struct tsrv {
	struct ev_loop		*loop;
	struct ipc_server	*s;
	int64_t			 lost;
};
static struct tsrv T;

struct tdefer {
	ev_timer	 t;		/* first: the callback casts back */
	uint64_t	 conn;
	uint32_t	 msgid;
	struct tdefer	*next;
};
static struct tdefer *tdefers;	/* pending, freed at a clean exit */

static void
tdefer_unlink(struct tdefer *d)
{
	struct tdefer **pp;

	for (pp = &tdefers; *pp != NULL; pp = &(*pp)->next)
		if (*pp == d) {
			*pp = d->next;
			return;
		}
}

static void
h_status(struct ipc_conn *c, uint32_t msgid, const msgpack_object *params,
    void *arg)
{
	const struct ipc_stats	*st = ipc_server_stats(T.s);
	msgpack_packer		*pk;

	(void)params;
	(void)arg;
	pk = ipc_reply_start(c, msgid);
	msgpack_pack_map(pk, 9);
	mpack_kv_uint(pk, "accepted", st->accepted);
	mpack_kv_uint(pk, "refused", st->refused);
	mpack_kv_uint(pk, "requests", st->requests);
	mpack_kv_uint(pk, "bad", st->bad_messages);
	mpack_kv_uint(pk, "dropped", st->dropped_slow);
	mpack_kv_uint(pk, "clients", ipc_server_nclients(T.s));
	mpack_kv_int(pk, "lost", T.lost);
	mpack_kv_int(pk, "uid", ipc_conn_uid(c));
	mpack_kv_int(pk, "pid", ipc_conn_pid(c));
	ipc_reply_finish(c);
}

static void
h_echo(struct ipc_conn *c, uint32_t msgid, const msgpack_object *params,
    void *arg)
{
	msgpack_packer	*pk;
	int64_t		 grow = 0;
	char		*big;

	(void)arg;
	/* {grow: n}: answer n bytes instead (to overflow the reply cap) */
	if (mpack_get_int(params, "grow", &grow) == 0 && grow > 0 &&
	    grow < 4 * IPC_MAX_MSG && (big = calloc(1, grow)) != NULL) {
		pk = ipc_reply_start(c, msgid);
		msgpack_pack_bin(pk, grow);
		msgpack_pack_bin_body(pk, big, grow);
		ipc_reply_finish(c);
		free(big);
		return;
	}
	pk = ipc_reply_start(c, msgid);
	msgpack_pack_object(pk, *params);
	ipc_reply_finish(c);
}

static void
defer_cb(EV_P_ ev_timer *w, int revents)
{
	struct tdefer	*d = (struct tdefer *)w;
	struct ipc_conn	*c;
	msgpack_packer	*pk;

	(void)loop;
	(void)revents;
	if ((c = ipc_server_conn(T.s, d->conn)) == NULL)
		T.lost++;
	else {
		pk = ipc_reply_start(c, d->msgid);
		msgpack_pack_map(pk, 2);
		mpack_kv_bool(pk, "deferred", 1);
		mpack_kv_uint(pk, "msgid", d->msgid);
		ipc_reply_finish(c);
	}
	tdefer_unlink(d);
	free(d);
}

/* nat.get {delay_ms?}: answered later from a timer */
static void
h_deferred(struct ipc_conn *c, uint32_t msgid, const msgpack_object *params,
    void *arg)
{
	struct tdefer	*d;
	int64_t		 delay = 50;

	(void)arg;
	if (mpack_get_int(params, "delay_ms", &delay) == -1 ||
	    (d = calloc(1, sizeof(*d))) == NULL) {
		ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS, "delay_ms");
		return;
	}
	d->conn = ipc_conn_id(c);
	d->msgid = msgid;
	d->next = tdefers;
	tdefers = d;
	ev_timer_init(&d->t, defer_cb, delay / 1000.0, 0.);
	ev_timer_start(T.loop, &d->t);
}

/* stun.discover: report on the descriptor passed with the request */
static void
h_fd(struct ipc_conn *c, uint32_t msgid, const msgpack_object *params,
    void *arg)
{
	msgpack_packer	*pk;
	struct stat	 st;
	char		 buf[64];
	ssize_t		 n = 0;
	int		 fd, second;

	(void)params;
	(void)arg;
	if ((fd = ipc_conn_take_fd(c)) == -1) {
		ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS, "no descriptor");
		return;
	}
	second = ipc_conn_take_fd(c);
	if (fstat(fd, &st) == -1)
		st.st_mode = 0;
	if (S_ISFIFO(st.st_mode))
		n = read(fd, buf, sizeof(buf));
	close(fd);
	pk = ipc_reply_start(c, msgid);
	msgpack_pack_map(pk, 4);
	mpack_kv_bool(pk, "fifo", S_ISFIFO(st.st_mode));
	mpack_kv_bool(pk, "socket", S_ISSOCK(st.st_mode));
	mpack_kv_int(pk, "second", second);
	mpack_kv_bin(pk, "data", buf, n > 0 ? (size_t)n : 0);
	ipc_reply_finish(c);
}

/* stun.input {count?, size?}: emit that many nat.changed notifications */
static void
h_input(struct ipc_conn *c, uint32_t msgid, const msgpack_object *params,
    void *arg)
{
	msgpack_packer	*pk;
	int64_t		 count = 1, size = 0, i;
	char		*pad;

	(void)arg;
	mpack_get_int(params, "count", &count);
	mpack_get_int(params, "size", &size);
	if (size < 0 || size > 2 * IPC_MAX_MSG || count < 0 || count > 1000 ||
	    (pad = calloc(1, (size_t)size + 1)) == NULL) {
		ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS, "count/size");
		return;
	}
	for (i = 0; i < count; i++) {
		pk = ipc_notify_start(T.s, "nat.changed");
		msgpack_pack_map(pk, 3);
		mpack_kv_uint(pk, "msgid", msgid);
		mpack_kv_int(pk, "seq", i);
		mpack_kv_bin(pk, "pad", pad, (size_t)size);
		ipc_notify_finish(T.s);
	}
	free(pad);
	if (msgid != 0)
		ipc_reply_ok(c, msgid);
}

static const struct ipc_method tmethods[] = {
	{ "status.get",		h_status },
	{ "stun.servers",	h_echo },
	{ "nat.get",		h_deferred },
	{ "stun.discover",	h_fd },
	{ "stun.input",		h_input },
};
#define NTMETHODS	(sizeof(tmethods) / sizeof(tmethods[0]))

static void
server_term_cb(EV_P_ ev_signal *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

/*
 * Runs until SIGTERM, then frees everything and exits normally, so that
 * LeakSanitizer (asan build) checks the server side too: the exit status
 * says so and teardown checks it.
 */
static void
server_child(int ready)
{
	struct tdefer	*d;
	ev_signal	 term;

	signal(SIGPIPE, SIG_IGN);
	alarm(30);	/* never outlive a broken test */
	log_init("ipc-test-server", LOG_LVL_ERR);
	T.loop = ev_default_loop(0);
	T.s = ipc_server_new(T.loop, "stund", tsock, tmethods, NTMETHODS,
	    NULL);
	if (T.s == NULL)
		_exit(2);
	ev_signal_init(&term, server_term_cb, SIGTERM);
	ev_signal_start(T.loop, &term);
	if (write(ready, "r", 1) != 1)
		_exit(3);
	close(ready);
	ev_run(T.loop, 0);
	ipc_server_free(T.s);
	while ((d = tdefers) != NULL) {
		tdefers = d->next;
		ev_timer_stop(T.loop, &d->t);
		free(d);
	}
	ev_signal_stop(T.loop, &term);
	ev_loop_destroy(T.loop);
	exit(0);
}

static pid_t
server_start(void)
{
	struct pollfd	pfd;
	pid_t		pid;
	char		c;
	int		p[2];

	ck_assert_int_eq(pipe(p), 0);
	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(p[0]);
		server_child(p[1]);
	}
	close(p[1]);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	ck_assert_int_eq(poll(&pfd, 1, 3000), 1);
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	close(p[0]);
	return pid;
}

static void
server_kill(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* Clean shutdown; the server's exit status must be 0 (no leak, no crash). */
static void
server_stop(pid_t pid)
{
	int	status, i;
	pid_t	r = 0;

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	for (i = 0; i < 300 && (r = waitpid(pid, &status, WNOHANG)) == 0; i++)
		usleep(10000);
	if (r == 0) {
		server_kill(pid);
		ck_abort_msg("server did not stop on SIGTERM");
	}
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "server ended badly: status 0x%x", status);
}

static void
setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	log_init("ipc-test", LOG_LVL_ERR);
	snprintf(tdir, sizeof(tdir), "/tmp/ipctest.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tdir));
	chmod(tdir, 0711);
	snprintf(tsock, sizeof(tsock), "%s/stund.sock", tdir);
	srv_pid = server_start();
}

static void
teardown(void)
{
	char		p[160];

	struct stat	st;
	pid_t		pid = srv_pid;
	int		left;

	srv_pid = -1;
	server_stop(pid);
	/* ipc_server_free removed its socket */
	left = stat(tsock, &st) == 0;
	unlink(tsock);
	snprintf(p, sizeof(p), "%s/other.sock", tdir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/file.sock", tdir);
	unlink(p);
	rmdir(tdir);
	ck_assert_msg(!left || pid <= 0, "socket file left behind");
}

/* ---- client helpers -------------------------------------------------------- */

static struct ipc_sync *
cli(void)
{
	struct ipc_sync	*s;
	char		 err[256];

	s = ipc_sync_connect(tsock, 2000, err, sizeof(err));
	ck_assert_msg(s != NULL, "connect: %s", err);
	return s;
}

struct tstats {
	int64_t	accepted, refused, requests, bad, dropped, clients, lost;
	int64_t	uid, pid;
};

/* A fresh client is served; returns the server's counters. */
static struct tstats
check_alive(void)
{
	struct ipc_sync	*s = cli();
	struct ipc_msg	 m;
	struct tstats	 t;
	char		 err[256];

	ck_assert_msg(ipc_sync_call(s, "status.get", NULL, 0, 2000, &m, err,
	    sizeof(err)) == 0, "status.get: %s", err);
	ck_assert_ptr_null(m.error);
	ck_assert_int_eq(mpack_get_int(m.result, "accepted", &t.accepted), 0);
	ck_assert_int_eq(mpack_get_int(m.result, "refused", &t.refused), 0);
	ck_assert_int_eq(mpack_get_int(m.result, "requests", &t.requests), 0);
	ck_assert_int_eq(mpack_get_int(m.result, "bad", &t.bad), 0);
	ck_assert_int_eq(mpack_get_int(m.result, "dropped", &t.dropped), 0);
	ck_assert_int_eq(mpack_get_int(m.result, "clients", &t.clients), 0);
	ck_assert_int_eq(mpack_get_int(m.result, "lost", &t.lost), 0);
	ck_assert_int_eq(mpack_get_int(m.result, "uid", &t.uid), 0);
	ck_assert_int_eq(mpack_get_int(m.result, "pid", &t.pid), 0);
	ipc_sync_close(s);
	return t;
}

/* Send everything that the peer will take within 2 s; errors are fine. */
static void
raw_send(int fd, const void *buf, size_t len)
{
	struct pollfd	 pfd = { fd, POLLOUT, 0 };
	const char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EINTR) &&
		    poll(&pfd, 1, 2000) == 1)
			continue;
		return;
	}
}

static void
expect_response(struct ipc_sync *s, uint32_t msgid, const char *code)
{
	struct ipc_msg	m;
	char		err[256], got[64] = "";
	int		r;

	r = ipc_sync_recv(s, 2000, &m, err, sizeof(err));
	ck_assert_msg(r == 0, "expected a response to %u: %s", msgid, err);
	ck_assert_int_eq(m.type, IPC_RESPONSE);
	ck_assert_uint_eq(m.msgid, msgid);
	if (code == NULL) {
		ck_assert_ptr_null(m.error);
		return;
	}
	ck_assert_ptr_nonnull(m.error);
	ck_assert_int_eq(mpack_get_str(m.error, "code", got, sizeof(got)), 0);
	ck_assert_str_eq(got, code);
	ck_assert_int_eq(mpack_get_str(m.error, "message", got, sizeof(got)) >=
	    0, 1);
}

static void
expect_closed(struct ipc_sync *s)
{
	struct ipc_msg	m;
	char		err[256];
	int		r;

	r = ipc_sync_recv(s, 2000, &m, err, sizeof(err));
	ck_assert_msg(r == -1, "expected the server to close us, got %d "
	    "(type %d msgid %u)", r, m.type, m.msgid);
}

static void
sb_start(msgpack_sbuffer *sb, msgpack_packer *pk)
{
	msgpack_sbuffer_init(sb);
	msgpack_packer_init(pk, sb, msgpack_sbuffer_write);
}

/* ---- unit pieces ------------------------------------------------------- */

static int
parse_bytes(const char *buf, size_t len, struct ipc_msg *m, char *err,
    size_t errlen, msgpack_unpacked *u)
{
	size_t off = 0;

	msgpack_unpacked_init(u);
	ck_assert_int_eq(msgpack_unpack_next(u, buf, len, &off),
	    MSGPACK_UNPACK_SUCCESS);
	return ipc_msg_parse(&u->data, m, err, errlen);
}

START_TEST(test_msg_parse)
{
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	msgpack_unpacked	 u;
	struct ipc_msg		 m;
	char			 err[128];

	/* a good request */
	sb_start(&sb, &pk);
	msgpack_pack_array(&pk, 4);
	msgpack_pack_int(&pk, 0);
	msgpack_pack_uint32(&pk, 70000);
	mpack_pack_str(&pk, "status.get");
	msgpack_pack_map(&pk, 0);
	ck_assert_int_eq(parse_bytes(sb.data, sb.size, &m, err, sizeof(err),
	    &u), 0);
	ck_assert_int_eq(m.type, IPC_REQUEST);
	ck_assert_uint_eq(m.msgid, 70000);
	ck_assert_str_eq(m.method, "status.get");
	ck_assert_int_eq(m.params->type, MSGPACK_OBJECT_MAP);
	msgpack_unpacked_destroy(&u);

	/* a response with an error */
	msgpack_sbuffer_clear(&sb);
	ipc_pack_error(&pk, 9, IPC_ERR_NOT_FOUND, "no such peer");
	ck_assert_int_eq(parse_bytes(sb.data, sb.size, &m, err, sizeof(err),
	    &u), 0);
	ck_assert_int_eq(m.type, IPC_RESPONSE);
	ck_assert_uint_eq(m.msgid, 9);
	ck_assert(mpack_str_eq(mpack_get(m.error, "code"), "not_found"));
	msgpack_unpacked_destroy(&u);

	/* method as int: error, msgid recovered */
	msgpack_sbuffer_clear(&sb);
	msgpack_pack_array(&pk, 4);
	msgpack_pack_int(&pk, 0);
	msgpack_pack_int(&pk, 5);
	msgpack_pack_int(&pk, 7);
	msgpack_pack_nil(&pk);
	ck_assert_int_eq(parse_bytes(sb.data, sb.size, &m, err, sizeof(err),
	    &u), -1);
	ck_assert_int_eq(m.type, IPC_REQUEST);
	ck_assert_uint_eq(m.msgid, 5);
	msgpack_unpacked_destroy(&u);

	/* msgid as string: not recoverable */
	msgpack_sbuffer_clear(&sb);
	msgpack_pack_array(&pk, 4);
	msgpack_pack_int(&pk, 0);
	mpack_pack_str(&pk, "5");
	mpack_pack_str(&pk, "status.get");
	msgpack_pack_nil(&pk);
	ck_assert_int_eq(parse_bytes(sb.data, sb.size, &m, err, sizeof(err),
	    &u), -1);
	ck_assert_int_eq(m.type, -1);
	msgpack_unpacked_destroy(&u);

	/* a notification with a 64-byte method */
	msgpack_sbuffer_clear(&sb);
	msgpack_pack_array(&pk, 3);
	msgpack_pack_int(&pk, 2);
	mpack_pack_str(&pk, "0123456789012345678901234567890123456789"
	    "012345678901234567890123");
	msgpack_pack_nil(&pk);
	ck_assert_int_eq(parse_bytes(sb.data, sb.size, &m, err, sizeof(err),
	    &u), -1);
	ck_assert_int_eq(m.type, -1);
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
}
END_TEST

START_TEST(test_scan)
{
	msgpack_sbuffer	sb;
	msgpack_packer	pk;
	struct ipc_scan	sc;
	size_t		i, ok;
	uint32_t	id;
	char		err[128];
	const uint8_t	huge[] = { 0x92, 0x01, 0xdd, 0xff, 0xff, 0xff, 0xff };

	sb_start(&sb, &pk);
	for (i = 0; i < 2; i++) {
		msgpack_pack_array(&pk, 4);
		msgpack_pack_int(&pk, 0);
		msgpack_pack_uint32(&pk, 256);
		mpack_pack_str(&pk, "x.y");
		msgpack_pack_map(&pk, 2);
		mpack_kv_bin(&pk, "b", "abc", 3);
		mpack_kv_double(&pk, "d", 1.0);
	}
	ipc_scan_init(&sc);
	/* byte by byte: both messages seen, no partial left */
	for (i = 0; i < sb.size; i++)
		ck_assert_int_eq(ipc_scan_feed(&sc, sb.data + i, 1, &ok, err,
		    sizeof(err)), 0);
	ck_assert_uint_eq(sc.nstarted, 2);
	ck_assert_int_eq(sc.inmsg, 0);
	ck_assert_int_eq(ipc_scan_msgid(&sc, &id), 0);
	ck_assert_uint_eq(id, 256);

	/* a valid message, then one declaring 2^32 elements */
	ipc_scan_init(&sc);
	msgpack_sbuffer_write(&sb, (const char *)huge, sizeof(huge));
	ck_assert_int_eq(ipc_scan_feed(&sc, sb.data, sb.size, &ok, err,
	    sizeof(err)), -1);
	ck_assert_uint_eq(ok, sb.size - sizeof(huge));
	ck_assert_uint_eq(sc.nstarted, 3);
	ck_assert_int_eq(ipc_scan_msgid(&sc, &id), -1);

	/* 0xc1 is never valid */
	ipc_scan_init(&sc);
	ck_assert_int_eq(ipc_scan_feed(&sc, "\xc1", 1, &ok, err, sizeof(err)),
	    -1);
	msgpack_sbuffer_destroy(&sb);
}
END_TEST

START_TEST(test_peer_allowed)
{
	struct group *gr = getgrnam("atmosphere");

	ck_assert_int_eq(ipc_peer_allowed(0, 0, 0), 1);
	ck_assert_int_eq(ipc_peer_allowed(geteuid(), getegid(), getpid()), 1);
	if (gr == NULL && geteuid() != 65534)
		ck_assert_int_eq(ipc_peer_allowed(65534, 65534, 0), 0);
	if (gr != NULL)
		ck_assert_int_eq(ipc_peer_allowed(65534, gr->gr_gid, 0), 1);
}
END_TEST

/* ---- against the server ------------------------------------------------ */

START_TEST(test_call)
{
	struct ipc_sync	*s = cli();
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	struct ipc_msg	 m;
	struct tstats	 t;
	struct stat	 st;
	char		 err[256], v[16];
	int64_t		 i;

	sb_start(&sb, &pk);
	msgpack_pack_map(&pk, 2);
	mpack_kv_int(&pk, "a", 12345);
	mpack_kv_str(&pk, "s", "hello");
	ck_assert_int_eq(ipc_sync_call(s, "stun.servers", sb.data, sb.size,
	    2000, &m, err, sizeof(err)), 0);
	ck_assert_ptr_null(m.error);
	ck_assert_int_eq(mpack_get_int(m.result, "a", &i), 0);
	ck_assert_int_eq(i, 12345);
	ck_assert_int_eq(mpack_get_str(m.result, "s", v, sizeof(v)), 0);
	ck_assert_str_eq(v, "hello");

	/* unknown methods: answered, connection kept */
	ck_assert_int_eq(ipc_sync_call(s, "peer.list", NULL, 0, 2000, &m, err,
	    sizeof(err)), 0);
	ck_assert(mpack_str_eq(mpack_get(m.error, "code"),
	    IPC_ERR_UNKNOWN_METHOD));
	ck_assert_int_eq(ipc_sync_call(s, "no.such", NULL, 0, 2000, &m, err,
	    sizeof(err)), 0);
	ck_assert(mpack_str_eq(mpack_get(m.error, "code"),
	    IPC_ERR_UNKNOWN_METHOD));
	/* bad params to the client side are refused before sending */
	ck_assert_int_eq(ipc_sync_send(s, "stun.servers", "\x81", 1, -1,
	    NULL), -1);
	ck_assert_int_eq(ipc_sync_send(s, "", NULL, 0, -1, NULL), -1);

	t = check_alive();
	ck_assert_int_eq(t.uid, (int64_t)getuid());
	ck_assert_int_eq(t.pid, (int64_t)getpid());
	ck_assert_int_eq(t.requests, 4);
	ck_assert_int_eq(t.bad, 0);
	ck_assert_int_eq(t.clients, 2);

	ck_assert_int_eq(stat(tsock, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_int_eq(st.st_mode & 0777, 0660);
	ipc_sync_close(s);
	msgpack_sbuffer_destroy(&sb);
}
END_TEST

START_TEST(test_params_shape)
{
	struct ipc_sync	*s = cli();
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	struct ipc_msg	 m;
	char		 err[256];

	/* params as an array: bad_params, and the client is kept */
	sb_start(&sb, &pk);
	msgpack_pack_array(&pk, 4);
	msgpack_pack_int(&pk, 0);
	msgpack_pack_int(&pk, 6);
	mpack_pack_str(&pk, "stun.servers");
	msgpack_pack_array(&pk, 2);
	msgpack_pack_int(&pk, 1);
	msgpack_pack_int(&pk, 2);
	/* params nil: treated as {} */
	msgpack_pack_array(&pk, 4);
	msgpack_pack_int(&pk, 0);
	msgpack_pack_int(&pk, 7);
	mpack_pack_str(&pk, "stun.servers");
	msgpack_pack_nil(&pk);
	raw_send(ipc_sync_fd(s), sb.data, sb.size);
	expect_response(s, 6, IPC_ERR_BAD_PARAMS);
	ck_assert_int_eq(ipc_sync_recv(s, 2000, &m, err, sizeof(err)), 0);
	ck_assert_uint_eq(m.msgid, 7);
	ck_assert_ptr_null(m.error);
	ck_assert_int_eq(m.result->type, MSGPACK_OBJECT_MAP);
	ck_assert_uint_eq(m.result->via.map.size, 0);
	ck_assert_int_eq(ipc_sync_call(s, "status.get", NULL, 0, 2000, &m, err,
	    sizeof(err)), 0);
	ck_assert_ptr_null(m.error);
	ipc_sync_close(s);
	msgpack_sbuffer_destroy(&sb);
}
END_TEST

/* One hostile envelope per connection: expected answer, then closed. */
struct hostile {
	const char	*name;
	int		 msgid;		/* -1: no response expected */
	const char	*code;		/* NULL: a success response */
};

static void
pack_hostile(int i, msgpack_packer *pk, msgpack_sbuffer *sb)
{
	char long_method[101];
	int k;

	memset(long_method, 'a', 100);
	long_method[100] = '\0';
	switch (i) {
	case 0:		/* not an array */
		msgpack_pack_map(pk, 0);
		break;
	case 1:		/* msgid as string */
		msgpack_pack_array(pk, 4);
		msgpack_pack_int(pk, 0);
		mpack_pack_str(pk, "x");
		mpack_pack_str(pk, "status.get");
		msgpack_pack_map(pk, 0);
		break;
	case 2:		/* method as int */
		msgpack_pack_array(pk, 4);
		msgpack_pack_int(pk, 0);
		msgpack_pack_int(pk, 5);
		msgpack_pack_int(pk, 7);
		msgpack_pack_map(pk, 0);
		break;
	case 3:		/* wrong length */
		msgpack_pack_array(pk, 3);
		msgpack_pack_int(pk, 0);
		msgpack_pack_int(pk, 8);
		mpack_pack_str(pk, "status.get");
		break;
	case 4:		/* unknown type */
		msgpack_pack_array(pk, 4);
		msgpack_pack_int(pk, 3);
		msgpack_pack_int(pk, 9);
		mpack_pack_str(pk, "status.get");
		msgpack_pack_map(pk, 0);
		break;
	case 5:		/* a response from a client */
		msgpack_pack_array(pk, 4);
		msgpack_pack_int(pk, 1);
		msgpack_pack_int(pk, 10);
		msgpack_pack_nil(pk);
		msgpack_pack_true(pk);
		break;
	case 6:		/* msgid beyond 32 bits */
		msgpack_pack_array(pk, 4);
		msgpack_pack_int(pk, 0);
		msgpack_pack_uint64(pk, 1ULL << 33);
		mpack_pack_str(pk, "status.get");
		msgpack_pack_map(pk, 0);
		break;
	case 7:		/* method too long */
		msgpack_pack_array(pk, 4);
		msgpack_pack_int(pk, 0);
		msgpack_pack_int(pk, 11);
		mpack_pack_str(pk, long_method);
		msgpack_pack_map(pk, 0);
		break;
	case 8:		/* empty method */
		msgpack_pack_array(pk, 4);
		msgpack_pack_int(pk, 0);
		msgpack_pack_int(pk, 12);
		mpack_pack_str(pk, "");
		msgpack_pack_map(pk, 0);
		break;
	case 9:		/* notification with an int method */
		msgpack_pack_array(pk, 3);
		msgpack_pack_int(pk, 2);
		msgpack_pack_int(pk, 5);
		msgpack_pack_map(pk, 0);
		break;
	case 10:	/* byte 0xc1 */
		msgpack_sbuffer_write(sb, "\xc1", 1);
		break;
	case 11:	/* nested deeper than the unpacker allows */
		for (k = 0; k < 40; k++)
			msgpack_pack_array(pk, 1);
		msgpack_pack_int(pk, 1);
		break;
	case 12:	/* bare array header declaring 2^32-1 elements */
		msgpack_sbuffer_write(sb, "\xdd\xff\xff\xff\xff", 5);
		break;
	case 13:	/* a request whose params declare 2^31 elements */
		msgpack_pack_array(pk, 4);
		msgpack_pack_int(pk, 0);
		msgpack_pack_int(pk, 13);
		mpack_pack_str(pk, "stun.servers");
		msgpack_pack_map(pk, 1);
		mpack_pack_str(pk, "x");
		msgpack_sbuffer_write(sb, "\xdd\x7f\xff\xff\xff", 5);
		break;
	case 14:	/* a str declaring 4 GB */
		msgpack_pack_array(pk, 4);
		msgpack_pack_int(pk, 0);
		msgpack_pack_int(pk, 14);
		mpack_pack_str(pk, "stun.servers");
		msgpack_sbuffer_write(sb, "\xdb\xff\xff\xff\xff", 5);
		break;
	case 15:	/* a good request, then garbage in the same write */
		msgpack_pack_array(pk, 4);
		msgpack_pack_int(pk, 0);
		msgpack_pack_int(pk, 15);
		mpack_pack_str(pk, "status.get");
		msgpack_pack_map(pk, 0);
		msgpack_sbuffer_write(sb, "\xc1", 1);
		break;
	}
}

static const struct hostile hostiles[] = {
	{ "not an array",		-1, NULL },
	{ "msgid as string",		-1, NULL },
	{ "method as int",		5, IPC_ERR_BAD_REQUEST },
	{ "wrong length",		8, IPC_ERR_BAD_REQUEST },
	{ "unknown type",		9, IPC_ERR_BAD_REQUEST },
	{ "response from client",	10, IPC_ERR_BAD_REQUEST },
	{ "msgid over 32 bits",		-1, NULL },
	{ "method too long",		11, IPC_ERR_BAD_REQUEST },
	{ "empty method",		12, IPC_ERR_BAD_REQUEST },
	{ "bad notification",		-1, NULL },
	{ "byte 0xc1",			-1, NULL },
	{ "nested 40 deep",		-1, NULL },
	{ "array of 2^32-1",		-1, NULL },
	{ "params of 2^31 elements",	13, IPC_ERR_BAD_REQUEST },
	{ "str of 4 GB",		14, IPC_ERR_BAD_REQUEST },
	{ "good then 0xc1",		15, NULL },
};
#define NHOSTILE (sizeof(hostiles) / sizeof(hostiles[0]))

START_TEST(test_hostile_envelopes)
{
	struct ipc_sync	*s;
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	struct tstats	 t0, t;
	size_t		 i;

	t0 = check_alive();
	for (i = 0; i < NHOSTILE; i++) {
		s = cli();
		sb_start(&sb, &pk);
		pack_hostile((int)i, &pk, &sb);
		raw_send(ipc_sync_fd(s), sb.data, sb.size);
		if (hostiles[i].msgid >= 0)
			expect_response(s, (uint32_t)hostiles[i].msgid,
			    hostiles[i].code);
		expect_closed(s);
		ipc_sync_close(s);
		msgpack_sbuffer_destroy(&sb);
		t = check_alive();
		ck_assert_msg(t.bad == t0.bad + (int64_t)i + 1,
		    "%s: bad_messages %lld, expected %lld", hostiles[i].name,
		    (long long)t.bad, (long long)(t0.bad + (int64_t)i + 1));
	}
}
END_TEST

START_TEST(test_oversize)
{
	struct ipc_sync	*s;
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	struct tstats	 t;
	char		*big;
	size_t		 n = IPC_MAX_MSG + 4096, i;

	big = calloc(1, n);
	ck_assert_ptr_nonnull(big);

	/* declared up front: a bin larger than the cap */
	s = cli();
	sb_start(&sb, &pk);
	msgpack_pack_array(&pk, 4);
	msgpack_pack_int(&pk, 0);
	msgpack_pack_int(&pk, 21);
	mpack_pack_str(&pk, "stun.servers");
	msgpack_pack_map(&pk, 1);
	mpack_kv_bin(&pk, "data", big, n);
	raw_send(ipc_sync_fd(s), sb.data, sb.size);
	expect_response(s, 21, IPC_ERR_BAD_REQUEST);
	expect_closed(s);
	ipc_sync_close(s);
	check_alive();

	/* growing: many small elements that add up past the cap */
	s = cli();
	msgpack_sbuffer_clear(&sb);
	msgpack_pack_array(&pk, 4);
	msgpack_pack_int(&pk, 0);
	msgpack_pack_int(&pk, 22);
	mpack_pack_str(&pk, "stun.servers");
	msgpack_pack_array(&pk, 8000);
	for (i = 0; i < 8000; i++) {
		msgpack_pack_bin(&pk, 200);
		msgpack_pack_bin_body(&pk, big, 200);
	}
	ck_assert_uint_gt(sb.size, IPC_MAX_MSG);
	raw_send(ipc_sync_fd(s), sb.data, sb.size);
	expect_response(s, 22, IPC_ERR_BAD_REQUEST);
	expect_closed(s);
	ipc_sync_close(s);
	t = check_alive();
	ck_assert_int_ge(t.bad, 2);

	/* a result over the cap becomes an error, the client is kept */
	s = cli();
	msgpack_sbuffer_clear(&sb);
	msgpack_pack_map(&pk, 1);
	mpack_kv_int(&pk, "grow", IPC_MAX_MSG + 1);
	{
		struct ipc_msg	m;
		char		err[256];

		ck_assert_int_eq(ipc_sync_call(s, "stun.servers", sb.data,
		    sb.size, 3000, &m, err, sizeof(err)), 0);
		ck_assert(mpack_str_eq(mpack_get(m.error, "code"),
		    IPC_ERR_INTERNAL));
		ck_assert_int_eq(ipc_sync_call(s, "status.get", NULL, 0, 2000,
		    &m, err, sizeof(err)), 0);
		ck_assert_ptr_null(m.error);
	}
	ipc_sync_close(s);

	/* just under the cap is fine */
	s = cli();
	msgpack_sbuffer_clear(&sb);
	msgpack_pack_map(&pk, 1);
	mpack_kv_bin(&pk, "data", big, IPC_MAX_MSG - 200);
	{
		struct ipc_msg	m;
		char		err[256];
		const char	*d;
		size_t		 len;

		ck_assert_int_eq(ipc_sync_call(s, "stun.servers", sb.data,
		    sb.size, 3000, &m, err, sizeof(err)), 0);
		ck_assert_ptr_null(m.error);
		ck_assert_int_eq(mpack_get_bin(m.result, "data", &d, &len), 0);
		ck_assert_uint_eq(len, IPC_MAX_MSG - 200);
	}
	ipc_sync_close(s);
	msgpack_sbuffer_destroy(&sb);
	free(big);
}
END_TEST

START_TEST(test_truncated)
{
	struct ipc_sync	*s;
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	struct tstats	 t0, t;

	t0 = check_alive();
	s = cli();
	sb_start(&sb, &pk);
	msgpack_pack_array(&pk, 4);
	msgpack_pack_int(&pk, 0);
	msgpack_pack_int(&pk, 1);
	mpack_pack_str(&pk, "stun.servers");
	msgpack_pack_map(&pk, 1);
	mpack_kv_str(&pk, "k", "some value");
	raw_send(ipc_sync_fd(s), sb.data, sb.size / 2);
	ipc_sync_close(s);
	usleep(100000);
	t = check_alive();
	ck_assert_int_eq(t.bad, t0.bad + 1);
	ck_assert_int_eq(t.clients, 1);
	msgpack_sbuffer_destroy(&sb);
}
END_TEST

/* A client that half-closes after its request still gets the answer. */
START_TEST(test_half_close)
{
	struct ipc_sync	*s = cli();
	uint32_t	 id;

	ck_assert_int_eq(ipc_sync_send(s, "status.get", NULL, 0, -1, &id), 0);
	shutdown(ipc_sync_fd(s), SHUT_WR);
	expect_response(s, id, NULL);
	expect_closed(s);
	ipc_sync_close(s);
	check_alive();
}
END_TEST

/* Deterministic garbage: every round must end in a close, not a hang. */
START_TEST(test_garbage)
{
	struct ipc_sync	*s;
	struct ipc_msg	 m;
	struct tstats	 t;
	uint64_t	 x = 0x9e3779b97f4a7c15ULL;
	char		 buf[4096], err[256];
	size_t		 len, i;
	int		 round, r;

	for (round = 0; round < 40; round++) {
		len = 1 + (size_t)(x % sizeof(buf));
		for (i = 0; i < len; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[i] = (char)x;
		}
		s = cli();
		raw_send(ipc_sync_fd(s), buf, len);
		shutdown(ipc_sync_fd(s), SHUT_WR);
		/* maybe an error response, then the close */
		while ((r = ipc_sync_recv(s, 2000, &m, err, sizeof(err))) == 0)
			ck_assert_int_eq(m.type, IPC_RESPONSE);
		ck_assert_msg(r == -1, "round %d: no close (%d)", round, r);
		ipc_sync_close(s);
	}
	usleep(50000);
	t = check_alive();
	ck_assert_int_eq(t.clients, 1);
}
END_TEST

START_TEST(test_deferred)
{
	struct ipc_sync	*s = cli(), *s2;
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	struct ipc_msg	 m;
	struct tstats	 t;
	uint32_t	 id1, id2;
	char		 err[256];
	int		 b = 0;
	int64_t		 id;

	/* two in flight; the later one asked for less delay */
	sb_start(&sb, &pk);
	msgpack_pack_map(&pk, 1);
	mpack_kv_int(&pk, "delay_ms", 200);
	ck_assert_int_eq(ipc_sync_send(s, "nat.get", sb.data, sb.size, -1,
	    &id1), 0);
	ck_assert_int_eq(ipc_sync_send(s, "nat.get", NULL, 0, -1, &id2), 0);
	ck_assert_uint_ne(id1, id2);
	ck_assert_int_eq(ipc_sync_recv(s, 2000, &m, err, sizeof(err)), 0);
	ck_assert_uint_eq(m.msgid, id2);
	ck_assert_int_eq(mpack_get_bool(m.result, "deferred", &b), 0);
	ck_assert_int_eq(b, 1);
	ck_assert_int_eq(ipc_sync_recv(s, 2000, &m, err, sizeof(err)), 0);
	ck_assert_uint_eq(m.msgid, id1);
	ck_assert_int_eq(mpack_get_int(m.result, "msgid", &id), 0);
	ck_assert_int_eq(id, id1);

	/* a call that takes longer than the caller waits: -2, and the late
	 * answer is skipped by the next call */
	msgpack_sbuffer_clear(&sb);
	msgpack_pack_map(&pk, 1);
	mpack_kv_int(&pk, "delay_ms", 300);
	ck_assert_int_eq(ipc_sync_call(s, "nat.get", sb.data, sb.size, 100, &m,
	    err, sizeof(err)), -2);
	usleep(400000);
	ck_assert_int_eq(ipc_sync_call(s, "status.get", NULL, 0, 2000, &m, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(mpack_get_int(m.result, "requests", &id), 0);

	/* the client leaves before the answer: the lookup says so */
	s2 = cli();
	ck_assert_int_eq(ipc_sync_send(s2, "nat.get", NULL, 0, -1, &id1), 0);
	ipc_sync_close(s2);
	usleep(300000);
	t = check_alive();
	ck_assert_int_eq(t.lost, 1);
	ipc_sync_close(s);
	msgpack_sbuffer_destroy(&sb);
}
END_TEST

static struct ipc_sync *
subscriber(const char *events)
{
	struct ipc_sync	*s = cli();
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	struct ipc_msg	 m;
	char		 err[256];

	sb_start(&sb, &pk);
	if (events != NULL) {
		msgpack_pack_map(&pk, 1);
		mpack_key(&pk, "events");
		msgpack_pack_array(&pk, 1);
		mpack_pack_str(&pk, events);
	}
	ck_assert_int_eq(ipc_sync_call(s, "events.subscribe",
	    events ? sb.data : NULL, events ? sb.size : 0, 2000, &m, err,
	    sizeof(err)), 0);
	ck_assert_ptr_null(m.error);
	ck_assert_int_eq(m.result->type, MSGPACK_OBJECT_BOOLEAN);
	msgpack_sbuffer_destroy(&sb);
	return s;
}

static void
expect_event(struct ipc_sync *s, int64_t want_msgid)
{
	struct ipc_msg	m;
	char		err[256];
	int64_t		id = -1;

	ck_assert_msg(ipc_sync_recv(s, 2000, &m, err, sizeof(err)) == 0,
	    "no event: %s", err);
	ck_assert_int_eq(m.type, IPC_NOTIFY);
	ck_assert_str_eq(m.method, "nat.changed");
	ck_assert_int_eq(mpack_get_int(m.params, "msgid", &id), 0);
	ck_assert_int_eq(id, want_msgid);
}

START_TEST(test_subscribe)
{
	struct ipc_sync	*a, *b, *c, *d;
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	struct ipc_msg	 m;
	char		 err[256];

	a = subscriber("nat.changed");
	b = subscriber(NULL);
	c = cli();
	d = cli();
	/* a client notification reaches its handler with msgid 0 */
	ck_assert_int_eq(ipc_sync_send(d, "stun.input", NULL, 0, -1, NULL), 0);
	expect_event(a, 0);
	expect_event(b, 0);
	ck_assert_int_eq(ipc_sync_recv(c, 200, &m, err, sizeof(err)), -2);
	ck_assert_int_eq(ipc_sync_recv(d, 200, &m, err, sizeof(err)), -2);

	sb_start(&sb, &pk);
	/* an event over the size cap is not sent; later ones still are */
	msgpack_sbuffer_clear(&sb);
	msgpack_pack_map(&pk, 1);
	mpack_kv_int(&pk, "size", IPC_MAX_MSG);
	ck_assert_int_eq(ipc_sync_send(d, "stun.input", sb.data, sb.size, -1,
	    NULL), 0);
	ck_assert_int_eq(ipc_sync_send(d, "stun.input", NULL, 0, -1, NULL), 0);
	expect_event(b, 0);
	ck_assert_int_eq(ipc_sync_recv(b, 200, &m, err, sizeof(err)), -2);

	/* a call that triggers events to its own caller: the call skips them */
	msgpack_sbuffer_clear(&sb);
	msgpack_pack_map(&pk, 1);
	mpack_kv_int(&pk, "count", 3);
	ck_assert_int_eq(ipc_sync_call(a, "stun.input", sb.data, sb.size, 2000,
	    &m, err, sizeof(err)), 0);
	ck_assert_int_eq(m.type, IPC_RESPONSE);
	ck_assert_ptr_null(m.error);

	/* unknown event names and wrong shapes are refused */
	msgpack_sbuffer_clear(&sb);
	msgpack_pack_map(&pk, 1);
	mpack_key(&pk, "events");
	msgpack_pack_array(&pk, 1);
	mpack_pack_str(&pk, "peer.up");
	ck_assert_int_eq(ipc_sync_call(c, "events.subscribe", sb.data, sb.size,
	    2000, &m, err, sizeof(err)), 0);
	ck_assert(mpack_str_eq(mpack_get(m.error, "code"), IPC_ERR_BAD_PARAMS));
	msgpack_sbuffer_clear(&sb);
	msgpack_pack_map(&pk, 1);
	mpack_kv_str(&pk, "events", "nat.changed");
	ck_assert_int_eq(ipc_sync_call(c, "events.subscribe", sb.data, sb.size,
	    2000, &m, err, sizeof(err)), 0);
	ck_assert(mpack_str_eq(mpack_get(m.error, "code"), IPC_ERR_BAD_PARAMS));
	/* still not subscribed */
	ck_assert_int_eq(ipc_sync_send(d, "stun.input", NULL, 0, -1, NULL), 0);
	ck_assert_int_eq(ipc_sync_recv(c, 200, &m, err, sizeof(err)), -2);

	ipc_sync_close(a);
	ipc_sync_close(b);
	ipc_sync_close(c);
	ipc_sync_close(d);
	msgpack_sbuffer_destroy(&sb);
}
END_TEST

START_TEST(test_slow_subscriber)
{
	struct ipc_sync	*a, *d;
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	struct ipc_msg	 m;
	struct tstats	 t;
	char		 err[256];
	int		 r, n = 0;

	a = subscriber(NULL);
	d = cli();
	sb_start(&sb, &pk);
	msgpack_pack_map(&pk, 2);
	mpack_kv_int(&pk, "count", 100);
	mpack_kv_int(&pk, "size", 65536);
	ck_assert_int_eq(ipc_sync_call(d, "stun.input", sb.data, sb.size, 3000,
	    &m, err, sizeof(err)), 0);
	ck_assert_ptr_null(m.error);
	t = check_alive();
	ck_assert_int_eq(t.dropped, 1);
	/* a gets what the kernel had buffered, then the close */
	while ((r = ipc_sync_recv(a, 2000, &m, err, sizeof(err))) == 0)
		n++;
	ck_assert_int_eq(r, -1);
	ck_assert_int_lt(n, 100);
	ipc_sync_close(a);
	ipc_sync_close(d);
	msgpack_sbuffer_destroy(&sb);
}
END_TEST

START_TEST(test_fd_passing)
{
	struct ipc_sync	*s = cli();
	struct ipc_msg	 m;
	struct pollfd	 pfd;
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	const char	*d;
	size_t		 len;
	uint32_t	 id;
	int64_t		 second;
	char		 err[256], c;
	int		 p[2], fifo = 0, round;

	/* the descriptor reaches the handler of its own message, also when
	 * the message before it arrives in the same read */
	sb_start(&sb, &pk);
	msgpack_pack_array(&pk, 4);
	msgpack_pack_int(&pk, 0);
	msgpack_pack_int(&pk, 999);
	mpack_pack_str(&pk, "status.get");
	msgpack_pack_map(&pk, 0);
	for (round = 0; round < 10; round++) {
		ck_assert_int_eq(pipe(p), 0);
		ck_assert_int_eq(write(p[1], "hello", 5), 5);
		raw_send(ipc_sync_fd(s), sb.data, sb.size);
		ck_assert_int_eq(ipc_sync_send(s, "stun.discover", NULL, 0,
		    p[0], &id), 0);
		close(p[0]);
		close(p[1]);
		expect_response(s, 999, NULL);
		ck_assert_int_eq(ipc_sync_recv(s, 2000, &m, err, sizeof(err)),
		    0);
		ck_assert_uint_eq(m.msgid, id);
		ck_assert_msg(m.error == NULL, "round %d: fd not delivered",
		    round);
		ck_assert_int_eq(mpack_get_bool(m.result, "fifo", &fifo), 0);
		ck_assert_int_eq(fifo, 1);
		ck_assert_int_eq(mpack_get_bin(m.result, "data", &d, &len), 0);
		ck_assert_uint_eq(len, 5);
		ck_assert_int_eq(memcmp(d, "hello", 5), 0);
		ck_assert_int_eq(mpack_get_int(m.result, "second", &second), 0);
		ck_assert_int_eq(second, -1);
	}

	/* without a descriptor the handler says so */
	ck_assert_int_eq(ipc_sync_call(s, "stun.discover", NULL, 0, 2000, &m,
	    err, sizeof(err)), 0);
	ck_assert(mpack_str_eq(mpack_get(m.error, "code"), IPC_ERR_BAD_PARAMS));

	/* a descriptor nobody takes is closed by the server: the pipe's
	 * reader sees EOF once our own write end is closed too */
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(ipc_sync_send(s, "status.get", NULL, 0, p[1], &id), 0);
	close(p[1]);
	expect_response(s, id, NULL);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	ck_assert_int_eq(poll(&pfd, 1, 2000), 1);
	ck_assert_int_eq(read(p[0], &c, 1), 0);
	close(p[0]);
	ipc_sync_close(s);
	msgpack_sbuffer_destroy(&sb);
}
END_TEST

START_TEST(test_refused)
{
	struct tstats	t;
	pid_t		pid;
	int		status;

	if (geteuid() != 0) {
		printf("ipc: test_refused skipped: needs root to setuid\n");
		return;
	}
	if (getgrnam("atmosphere") != NULL) {
		printf("ipc: test_refused skipped: group atmosphere exists\n");
		return;
	}
	/* let the file system allow it, so SO_PEERCRED is what refuses */
	ck_assert_int_eq(chmod(tsock, 0666), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct ipc_sync	*s;
		struct ipc_msg	 m;
		char		 err[256];

		alarm(5);
		if (setgroups(0, NULL) == -1 || setgid(65534) == -1 ||
		    setuid(65534) == -1)
			_exit(4);
		if ((s = ipc_sync_connect(tsock, 2000, err, sizeof(err))) ==
		    NULL)
			_exit(3);
		status = ipc_sync_call(s, "status.get", NULL, 0, 2000, &m,
		    err, sizeof(err)) == -1 ? 0 : 1;
		ipc_sync_close(s);
		_exit(status);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_msg(WEXITSTATUS(status) == 0, "nobody: exit %d (1: served)",
	    WEXITSTATUS(status));
	t = check_alive();
	ck_assert_int_eq(t.refused, 1);
}
END_TEST

START_TEST(test_socket_files)
{
	struct ev_loop		*loop = ev_loop_new(EVFLAG_AUTO);
	struct ipc_server	*s;
	struct sockaddr_un	 sun;
	struct stat		 st;
	char			 other[100], file[100], longp[200];
	int			 fd;

	/* a live daemon answers there: refuse, leave it alone */
	ck_assert_ptr_null(ipc_server_new(loop, "stund", tsock, tmethods,
	    NTMETHODS, NULL));
	check_alive();

	/* a stale socket file (nobody listening) is replaced */
	snprintf(other, sizeof(other), "%s/other.sock", tdir);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", other);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	s = ipc_server_new(loop, "stund", other, tmethods, NTMETHODS, NULL);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(stat(other, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0660);
	ipc_server_free(s);
	ck_assert_int_eq(stat(other, &st), -1);	/* unlinked */

	/* something that is not a socket is never removed */
	snprintf(file, sizeof(file), "%s/file.sock", tdir);
	fd = open(file, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_ptr_null(ipc_server_new(loop, "stund", file, tmethods,
	    NTMETHODS, NULL));
	ck_assert_int_eq(stat(file, &st), 0);
	ck_assert(S_ISREG(st.st_mode));

	/* what meshctl prints for a daemon that is not running */
	{
		char err[256], none[100];

		snprintf(none, sizeof(none), "%s/none.sock", tdir);
		ck_assert_ptr_null(ipc_sync_connect(none, 500, err,
		    sizeof(err)));
		ck_assert_msg(strstr(err, "connect ") == err &&
		    strstr(err, none) != NULL &&
		    strstr(err, "No such file or directory") != NULL,
		    "err: %s", err);
	}

	memset(longp, 'x', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	ck_assert_ptr_null(ipc_server_new(loop, "stund", longp, tmethods,
	    NTMETHODS, NULL));
	ev_loop_destroy(loop);
}
END_TEST

/* Socket activation: adopt a listening descriptor, refuse anything else. */
START_TEST(test_server_fd)
{
	struct ev_loop		*loop = ev_loop_new(EVFLAG_AUTO);
	struct ipc_server	*s;
	struct sockaddr_un	 sun;
	int			 fd, sv[2];

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/other.sock", tdir);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_ptr_null(ipc_server_new_fd(loop, "stund", sv[0], tmethods,
	    NTMETHODS, NULL));		/* not listening */
	ck_assert_int_eq(listen(fd, 4), 0);
	s = ipc_server_new_fd(loop, "stund", fd, tmethods, NTMETHODS, NULL);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(fcntl(fd, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
	ipc_server_free(s);		/* closes fd; the path is not its own */
	ck_assert_int_eq(access(sun.sun_path, F_OK), 0);
	close(sv[0]);
	close(sv[1]);
	ev_loop_destroy(loop);
}
END_TEST

/* A handler whose name is not in proto/methods.c for that daemon. */
static void
bad_table_child(const char *daemon, const char *method)
{
	struct ipc_method	 m = { method, h_status };
	struct ev_loop		*loop;

	log_init("ipc-test", LOG_LVL_ERR + 10);
	log_setlevel(LOG_LVL_ERR);
	loop = ev_loop_new(EVFLAG_AUTO);
	ipc_server_new(loop, daemon, "/nonexistent/x.sock", &m, 1, NULL);
	_exit(0);
}

START_TEST(test_bad_table)
{
	const char *cases[][2] = {
		{ "stund", "peer.list" },	/* another daemon's */
		{ "stund", "no.such" },
		{ "stund", "nat.changed" },	/* an event, not a call */
		{ "stund", "events.subscribe" },	/* built in */
	};
	size_t	i;
	pid_t	pid;
	int	status;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			close(2);	/* the fatalx line is expected */
			bad_table_child(cases[i][0], cases[i][1]);
		}
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert(WIFEXITED(status));
		ck_assert_msg(WEXITSTATUS(status) == 1, "%s: exit %d",
		    cases[i][1], WEXITSTATUS(status));
	}
}
END_TEST

/* ---- ipc_peer ------------------------------------------------------------ */

struct tpeer {
	int	ups, downs, replies, events;
	char	code[32];
	char	data[16];
	int64_t	lastid;
};

static void
tp_state(void *arg, int connected)
{
	struct tpeer *t = arg;

	if (connected)
		t->ups++;
	else
		t->downs++;
}

static void
tp_event(void *arg, const char *event, const msgpack_object *params)
{
	struct tpeer *t = arg;

	(void)params;
	if (!strcmp(event, "nat.changed"))
		t->events++;
}

static void
tp_reply(void *arg, const msgpack_object *error, const msgpack_object *result)
{
	struct tpeer	*t = arg;
	const char	*d;
	size_t		 len;

	t->replies++;
	t->code[0] = '\0';
	t->data[0] = '\0';
	if (error != NULL) {
		ck_assert_ptr_null(result);
		mpack_get_str(error, "code", t->code, sizeof(t->code));
		return;
	}
	if (mpack_get_bin(result, "data", &d, &len) == 0 &&
	    len < sizeof(t->data)) {
		memcpy(t->data, d, len);
		t->data[len] = '\0';
	}
	mpack_get_int(result, "msgid", &t->lastid);
}

static void
tick_cb(EV_P_ ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
}

static int
run_until(struct ev_loop *loop, int *v, int want, double secs)
{
	ev_tstamp	end = ev_time() + secs;
	ev_timer	t;

	ev_timer_init(&t, tick_cb, 0.02, 0.02);
	ev_timer_start(loop, &t);
	while (*v < want && ev_time() < end)
		ev_run(loop, EVRUN_ONCE);
	ev_timer_stop(loop, &t);
	return *v >= want;
}

START_TEST(test_peer)
{
	struct ev_loop	*loop = ev_loop_new(EVFLAG_AUTO);
	struct ipc_peer	*p;
	struct tpeer	 t;
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	int		 fds[2];

	memset(&t, 0, sizeof(t));
	p = ipc_peer_new(loop, tsock, tp_state, tp_event, &t);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(ipc_peer_connected(p), 0);
	ck_assert_int_eq(ipc_peer_call(p, "status.get", NULL, 0, -1, 1000,
	    tp_reply, &t), -1);	/* nothing queued while down */
	ck_assert(run_until(loop, &t.ups, 1, 2.0));
	ck_assert_int_eq(ipc_peer_connected(p), 1);

	ck_assert_int_eq(ipc_peer_call(p, "status.get", NULL, 0, -1, 1000,
	    tp_reply, &t), 0);
	ck_assert(run_until(loop, &t.replies, 1, 2.0));
	ck_assert_str_eq(t.code, "");

	ck_assert_int_eq(ipc_peer_call(p, "no.such", NULL, 0, -1, 1000,
	    tp_reply, &t), 0);
	ck_assert(run_until(loop, &t.replies, 2, 2.0));
	ck_assert_str_eq(t.code, IPC_ERR_UNKNOWN_METHOD);

	/* events after subscribing; a notification from us triggers one */
	ck_assert_int_eq(ipc_peer_call(p, "events.subscribe", NULL, 0, -1,
	    1000, tp_reply, &t), 0);
	ck_assert(run_until(loop, &t.replies, 3, 2.0));
	ck_assert_int_eq(ipc_peer_notify(p, "stun.input", NULL, 0), 0);
	ck_assert(run_until(loop, &t.events, 1, 2.0));

	/* a descriptor along with a call */
	ck_assert_int_eq(pipe(fds), 0);
	ck_assert_int_eq(write(fds[1], "world", 5), 5);
	ck_assert_int_eq(ipc_peer_call(p, "stun.discover", NULL, 0, fds[0],
	    1000, tp_reply, &t), 0);
	close(fds[0]);		/* the peer keeps its own duplicate */
	close(fds[1]);
	ck_assert(run_until(loop, &t.replies, 4, 2.0));
	ck_assert_str_eq(t.code, "");
	ck_assert_str_eq(t.data, "world");

	/* per-call timeout */
	sb_start(&sb, &pk);
	msgpack_pack_map(&pk, 1);
	mpack_kv_int(&pk, "delay_ms", 1500);
	ck_assert_int_eq(ipc_peer_call(p, "nat.get", sb.data, sb.size, -1,
	    100, tp_reply, &t), 0);
	ck_assert(run_until(loop, &t.replies, 5, 1.0));
	ck_assert_str_eq(t.code, IPC_ERR_TIMEOUT);

	ipc_peer_free(p);
	ev_loop_destroy(loop);
	msgpack_sbuffer_destroy(&sb);
}
END_TEST

START_TEST(test_peer_reconnect)
{
	struct ev_loop	*loop = ev_loop_new(EVFLAG_AUTO);
	struct ipc_peer	*p;
	struct tpeer	 t;
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;

	memset(&t, 0, sizeof(t));
	p = ipc_peer_new(loop, tsock, tp_state, tp_event, &t);
	ck_assert(run_until(loop, &t.ups, 1, 2.0));

	/* a call in flight when the daemon dies gets "disconnected" */
	sb_start(&sb, &pk);
	msgpack_pack_map(&pk, 1);
	mpack_kv_int(&pk, "delay_ms", 5000);
	ck_assert_int_eq(ipc_peer_call(p, "nat.get", sb.data, sb.size, -1,
	    8000, tp_reply, &t), 0);
	run_until(loop, &t.replies, 1, 0.2);	/* let it be sent */
	ck_assert_int_eq(t.replies, 0);
	server_kill(srv_pid);
	srv_pid = -1;
	ck_assert(run_until(loop, &t.replies, 1, 2.0));
	ck_assert_str_eq(t.code, IPC_ERR_DISCONNECTED);
	ck_assert(run_until(loop, &t.downs, 1, 1.0));
	ck_assert_int_eq(ipc_peer_connected(p), 0);
	ck_assert_int_eq(ipc_peer_call(p, "status.get", NULL, 0, -1, 1000,
	    tp_reply, &t), -1);

	/* stays down a while (several backoff rounds), then comes back */
	run_until(loop, &t.ups, 2, 0.8);
	ck_assert_int_eq(t.ups, 1);
	srv_pid = server_start();
	ck_assert(run_until(loop, &t.ups, 2, 3.0));
	ck_assert_int_eq(ipc_peer_call(p, "status.get", NULL, 0, -1, 1000,
	    tp_reply, &t), 0);
	ck_assert(run_until(loop, &t.replies, 2, 2.0));
	ck_assert_str_eq(t.code, "");

	ipc_peer_free(p);
	ev_loop_destroy(loop);
	msgpack_sbuffer_destroy(&sb);
}
END_TEST

/* A fake daemon: listening socket at dir/other.sock, never accepting. */
static int
fake_daemon(char *path, size_t len)
{
	struct sockaddr_un	sun;
	int			fd;

	snprintf(path, len, "%s/other.sock", tdir);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	return fd;
}

/* The clients are as careful with a daemon's bytes as it is with theirs. */
START_TEST(test_hostile_daemon)
{
	struct ev_loop	*loop = ev_loop_new(EVFLAG_AUTO);
	struct ipc_sync	*s;
	struct ipc_peer	*p;
	struct ipc_msg	 m;
	struct tpeer	 t;
	char		 path[100], err[256];
	int		 lfd, c;
	static const char *bad[] = {
		"\xdd\xff\xff\xff\xff",	/* 2^32 elements */
		"\xc1",			/* never valid */
		"\x93\x02\x05\x80",		/* notification, int method */
	};
	size_t		 i;

	lfd = fake_daemon(path, sizeof(path));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = ipc_sync_connect(path, 1000, err, sizeof(err));
		ck_assert_ptr_nonnull(s);
		c = accept(lfd, NULL, NULL);
		ck_assert_int_ge(c, 0);
		raw_send(c, bad[i], strlen(bad[i]) ? strlen(bad[i]) : 1);
		ck_assert_int_eq(ipc_sync_recv(s, 1000, &m, err, sizeof(err)),
		    -1);
		ck_assert_msg(strstr(err, "bad message") != NULL ||
		    strstr(err, "malformed") != NULL, "%zu: %s", i, err);
		/* and the stream is not trusted again */
		ck_assert_int_eq(ipc_sync_call(s, "status.get", NULL, 0, 100,
		    &m, err, sizeof(err)), -1);
		ipc_sync_close(s);
		close(c);
	}

	/* ipc_peer drops the connection and comes back */
	memset(&t, 0, sizeof(t));
	p = ipc_peer_new(loop, path, tp_state, tp_event, &t);
	ck_assert(run_until(loop, &t.ups, 1, 2.0));
	ck_assert_int_eq(ipc_peer_call(p, "status.get", NULL, 0, -1, 5000,
	    tp_reply, &t), 0);
	run_until(loop, &t.replies, 1, 0.1);
	c = accept(lfd, NULL, NULL);
	ck_assert_int_ge(c, 0);
	raw_send(c, "\xdd\xff\xff\xff\xff", 5);
	ck_assert(run_until(loop, &t.downs, 1, 2.0));
	ck_assert_int_eq(t.replies, 1);
	ck_assert_str_eq(t.code, IPC_ERR_DISCONNECTED);
	ck_assert(run_until(loop, &t.ups, 2, 2.0));
	close(c);
	ipc_peer_free(p);
	close(lfd);
	ev_loop_destroy(loop);
}
END_TEST

/* Freeing the peer from inside its own callback must be safe. */
static void
tp_free_reply(void *arg, const msgpack_object *error,
    const msgpack_object *result)
{
	struct ipc_peer **pp = arg;

	(void)error;
	(void)result;
	ipc_peer_free(*pp);
	*pp = NULL;
}

START_TEST(test_peer_free_in_cb)
{
	struct ev_loop	*loop = ev_loop_new(EVFLAG_AUTO);
	struct ipc_peer	*p;
	struct tpeer	 t;
	int		 gone = 0;

	memset(&t, 0, sizeof(t));
	p = ipc_peer_new(loop, tsock, tp_state, NULL, &t);
	ck_assert(run_until(loop, &t.ups, 1, 2.0));
	ck_assert_int_eq(ipc_peer_call(p, "status.get", NULL, 0, -1, 1000,
	    tp_free_reply, &p), 0);
	ck_assert_int_eq(ipc_peer_call(p, "status.get", NULL, 0, -1, 1000,
	    tp_free_reply, &p), 0);
	while (p != NULL && gone++ < 100)
		run_until(loop, &t.replies, 1, 0.05);
	ck_assert_ptr_null(p);
	run_until(loop, &t.replies, 1, 0.2);	/* nothing fires after free */
	ev_loop_destroy(loop);
}
END_TEST

Suite *
ipc_suite(void)
{
	Suite	*s = suite_create("ipc");
	TCase	*unit = tcase_create("parse");
	TCase	*srv = tcase_create("server");
	TCase	*peer = tcase_create("peer");

	tcase_add_test(unit, test_msg_parse);
	tcase_add_test(unit, test_scan);
	tcase_add_test(unit, test_peer_allowed);
	suite_add_tcase(s, unit);

	tcase_add_checked_fixture(srv, setup, teardown);
	tcase_set_timeout(srv, 20);
	tcase_add_test(srv, test_call);
	tcase_add_test(srv, test_params_shape);
	tcase_add_test(srv, test_hostile_envelopes);
	tcase_add_test(srv, test_oversize);
	tcase_add_test(srv, test_truncated);
	tcase_add_test(srv, test_half_close);
	tcase_add_test(srv, test_garbage);
	tcase_add_test(srv, test_deferred);
	tcase_add_test(srv, test_subscribe);
	tcase_add_test(srv, test_slow_subscriber);
	tcase_add_test(srv, test_fd_passing);
	tcase_add_test(srv, test_refused);
	tcase_add_test(srv, test_socket_files);
	tcase_add_test(srv, test_server_fd);
	tcase_add_test(srv, test_bad_table);
	suite_add_tcase(s, srv);

	tcase_add_checked_fixture(peer, setup, teardown);
	tcase_set_timeout(peer, 20);
	tcase_add_test(peer, test_peer);
	tcase_add_test(peer, test_peer_reconnect);
	tcase_add_test(peer, test_peer_free_in_cb);
	tcase_add_test(peer, test_hostile_daemon);
	suite_add_tcase(s, peer);
	return s;
}
