/*
 * punch_ipc: drives punchd over its IPC socket for bench/punch_bench.sh and
 * the NAT lab tests (tests/natlab/1N-punchd-*.sh). Uses common/ipc.h's
 * blocking client.
 *
 *   punch_ipc get SOCK PEER
 *	peer.get as one line of JSON (meshctl has no command for it).
 *   punch_ipc remove SOCK PEER
 *	peer.remove (ignores not_found).
 *   punch_ipc punch2 SOCK_A PEER_A EP_A SOCK_B PEER_B EP_B [TIMEOUT_MS]
 *	both sides' peer.punch sent back to back (a few microseconds apart,
 *	which two meshctl processes cannot do), then both answers awaited.
 *	Prints "A_MS B_MS WALL_MS PATH_A PATH_B": punchd's own elapsed_ms
 *	for each side, and the wall time from the first request to the last
 *	answer. Exit 1 if either side failed.
 *   punch_ipc addpeers SOCK N ENDPOINT
 *	N peers (bench-0 ... bench-N-1) through peer.punch with timeout_ms 1,
 *	all to ENDPOINT (which should not answer): the memory benchmark.
 *	Requests are pipelined (64 outstanding). Prints how many were added.
 *   punch_ipc thru SOCK_A PEER SOCK_B N SIZE [WINDOW]
 *	throughput of punchd's data path: a child subscribes to peer.data on
 *	B, the parent sends N peer.send of SIZE bytes to PEER through A with
 *	WINDOW (64) requests outstanding. Prints sent, received, seconds,
 *	datagrams/s, MB/s (payload), from the first send to the last arrival.
 *   punch_ipc udp N SIZE [WINDOW]
 *	the same with plain UDP between two sockets on 127.0.0.1 (sender and
 *	receiver in two processes), the reference for "thru"; flow-controlled
 *	with a window of WINDOW (64) unacknowledged datagrams (see cmd_udp).
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <msgpack.h>

#include "common/ipc.h"
#include "common/mpack.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
die(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "punch_ipc: ");
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	exit(1);
}

static struct ipc_sync *
conn(const char *path)
{
	char			 err[512];
	struct ipc_sync		*s;

	if ((s = ipc_sync_connect(path, 10000, err, sizeof(err))) == NULL)
		die("%s%s", err, "");
	return s;
}

static void
errtext(const struct ipc_msg *m, char *buf, size_t len)
{
	char code[64] = "error", msg[400] = "";

	if (m->error != NULL && m->error->type == MSGPACK_OBJECT_MAP) {
		mpack_get_str(m->error, "code", code, sizeof(code));
		mpack_get_str(m->error, "message", msg, sizeof(msg));
	}
	snprintf(buf, len, "%s: %s", code, msg);
}

static void
print_json(const msgpack_object *o)
{
	json_t	*j = mpack_to_json(o);
	char	*s;

	if (j == NULL)
		die("%s%s", "cannot convert to JSON", "");
	s = json_dumps(j, JSON_COMPACT);
	printf("%s\n", s);
	free(s);
	json_decref(j);
}

static int
cmd_get(char **av)
{
	struct ipc_sync	*s = conn(av[0]);
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	struct ipc_msg	 m;
	char		 err[512];

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	mpack_kv_str(&pk, "peer", av[1]);
	if (ipc_sync_call(s, "peer.get", sb.data, sb.size, 5000, &m, err,
	    sizeof(err)) != 0)
		die("peer.get: %s%s", err, "");
	if (m.error != NULL) {
		errtext(&m, err, sizeof(err));
		die("peer.get: %s%s", err, "");
	}
	print_json(m.result);
	ipc_sync_close(s);
	msgpack_sbuffer_destroy(&sb);
	return 0;
}

static int
cmd_remove(char **av)
{
	struct ipc_sync	*s = conn(av[0]);
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	struct ipc_msg	 m;
	char		 err[512];

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	mpack_kv_str(&pk, "peer", av[1]);
	if (ipc_sync_call(s, "peer.remove", sb.data, sb.size, 5000, &m, err,
	    sizeof(err)) != 0)
		die("peer.remove: %s%s", err, "");
	if (m.error != NULL) {
		errtext(&m, err, sizeof(err));
		if (strncmp(err, "not_found", 9) != 0)
			die("peer.remove: %s%s", err, "");
	}
	ipc_sync_close(s);
	msgpack_sbuffer_destroy(&sb);
	return 0;
}

static void
pack_punch(msgpack_sbuffer *sb, const char *peer, const char *ep,
    int64_t timeout)
{
	msgpack_packer pk;

	msgpack_sbuffer_clear(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	mpack_kv_str(&pk, "peer", peer);
	mpack_kv_str(&pk, "endpoint", ep);
	mpack_kv_int(&pk, "timeout_ms", timeout);
}

/* wait for the response to msgid on s: 0 ok, -1 error (err set) */
static int
wait_reply(struct ipc_sync *s, uint32_t msgid, int timeout_ms,
    double *elapsed, char *path, size_t plen, char *err, size_t errlen)
{
	struct ipc_msg	m;
	double		end = now() + timeout_ms / 1000.0, d;
	int		r;

	for (;;) {
		r = ipc_sync_recv(s, (int)((end - now()) * 1000) + 1, &m, err,
		    errlen);
		if (r != 0) {
			if (r == -2)
				snprintf(err, errlen, "no answer");
			return -1;
		}
		if (m.type != IPC_RESPONSE || m.msgid != msgid)
			continue;
		if (m.error != NULL) {
			errtext(&m, err, errlen);
			return -1;
		}
		*elapsed = -1;
		if (mpack_get(m.result, "elapsed_ms") != NULL) {
			const msgpack_object *o = mpack_get(m.result,
			    "elapsed_ms");
			d = o->type == MSGPACK_OBJECT_FLOAT64 ||
			    o->type == MSGPACK_OBJECT_FLOAT32 ? o->via.f64 :
			    (double)o->via.u64;
			*elapsed = d;
		}
		if (mpack_get_str(m.result, "path", path, plen) != 0)
			snprintf(path, plen, "-");
		return 0;
	}
}

static int
cmd_punch2(int ac, char **av)
{
	struct ipc_sync	*a = conn(av[0]), *b = conn(av[3]);
	msgpack_sbuffer	 sa, sb;
	uint32_t	 ida, idb;
	int64_t		 timeout = ac > 6 ? atoi(av[6]) : 10000;
	double		 t0, ea = -1, eb = -1;
	char		 erra[512] = "", errb[512] = "";
	char		 pa[32] = "-", pb[32] = "-";
	int		 ra, rb;

	msgpack_sbuffer_init(&sa);
	msgpack_sbuffer_init(&sb);
	pack_punch(&sa, av[1], av[2], timeout);
	pack_punch(&sb, av[4], av[5], timeout);
	t0 = now();
	if (ipc_sync_send(a, "peer.punch", sa.data, sa.size, -1, &ida) != 0 ||
	    ipc_sync_send(b, "peer.punch", sb.data, sb.size, -1, &idb) != 0)
		die("%s%s", "cannot send peer.punch", "");
	ra = wait_reply(a, ida, timeout + 2000, &ea, pa, sizeof(pa), erra,
	    sizeof(erra));
	rb = wait_reply(b, idb, timeout + 2000, &eb, pb, sizeof(pb), errb,
	    sizeof(errb));
	printf("%.3f %.3f %.3f %s %s\n", ea, eb, (now() - t0) * 1000, pa, pb);
	msgpack_sbuffer_destroy(&sa);
	msgpack_sbuffer_destroy(&sb);
	ipc_sync_close(a);
	ipc_sync_close(b);
	if (ra != 0 || rb != 0) {
		fprintf(stderr, "punch_ipc: punch2: A: %s; B: %s\n",
		    ra ? erra : "ok", rb ? errb : "ok");
		return 1;
	}
	return 0;
}

static int
cmd_addpeers(char **av)
{
	struct ipc_sync	*s = conn(av[0]);
	int		 n = atoi(av[1]), sent = 0, got = 0, ok = 0, r;
	msgpack_sbuffer	 sb;
	struct ipc_msg	 m;
	char		 name[64], err[512];
	uint32_t	 id;

	msgpack_sbuffer_init(&sb);
	while (got < n) {
		while (sent < n && sent - got < 64) {
			snprintf(name, sizeof(name), "bench-%d", sent);
			pack_punch(&sb, name, av[2], 1);
			if (ipc_sync_send(s, "peer.punch", sb.data, sb.size, -1,
			    &id) != 0)
				die("%s%s", "send failed", "");
			sent++;
		}
		if ((r = ipc_sync_recv(s, 10000, &m, err, sizeof(err))) != 0)
			die("recv: %s%s", r == -2 ? "timeout" : err, "");
		if (m.type != IPC_RESPONSE)
			continue;
		got++;
		/* "timeout" is the expected answer: nobody is there */
		if (m.error == NULL)
			ok++;
		else {
			errtext(&m, err, sizeof(err));
			if (strncmp(err, "timeout", 7) == 0)
				ok++;
			else if (got - ok < 3)
				fprintf(stderr, "punch_ipc: %s\n", err);
		}
	}
	printf("%d\n", ok);
	ipc_sync_close(s);
	msgpack_sbuffer_destroy(&sb);
	return ok == n ? 0 : 1;
}

/* Receiver side of thru/udp: reports "count first last" on fd. */
static void
report(int fd, long count, double first, double last)
{
	char buf[128];
	int n;

	n = snprintf(buf, sizeof(buf), "%ld %.9f %.9f\n", count, first, last);
	if (write(fd, buf, n) != n)
		_exit(1);
}

static int
read_report(int fd, long *count, double *first, double *last)
{
	char	buf[128];
	ssize_t	n = read(fd, buf, sizeof(buf) - 1);

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return sscanf(buf, "%ld %lf %lf", count, first, last) == 3 ? 0 : -1;
}

static void
print_rate(const char *what, long sent, long got, double t0, double last,
    int size)
{
	double secs = last - t0;

	if (got == 0 || secs <= 0) {
		printf("%-28s sent %ld received 0\n", what, sent);
		return;
	}
	printf("%-28s sent %ld received %ld (loss %.1f%%) in %.3f s: "
	    "%.0f datagrams/s, %.1f MB/s of payload\n", what, sent, got,
	    100.0 * (sent - got) / sent, secs, got / secs,
	    got * (double)size / secs / 1e6);
}

static int
cmd_thru(int ac, char **av)
{
	int		 n = atoi(av[3]), size = atoi(av[4]);
	int		 window = ac > 5 ? atoi(av[5]) : 64;
	int		 ready[2], res[2], sent = 0, got = 0, r;
	pid_t		 pid;
	char		 c, err[512], *payload;
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	struct ipc_msg	 m;
	uint32_t	 id;
	long		 count;
	double		 t0, first, last;
	struct ipc_sync	*a;

	if (n < 1 || size < 1 || size > 65536 || window < 1)
		die("%s%s", "bad N, SIZE or WINDOW", "");
	if (pipe(ready) == -1 || pipe(res) == -1)
		die("%s%s", "pipe", "");
	if ((pid = fork()) == 0) {
		struct ipc_sync *b = conn(av[2]);

		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		msgpack_pack_map(&pk, 1);
		mpack_key(&pk, "events");
		msgpack_pack_array(&pk, 1);
		mpack_pack_str(&pk, "peer.data");
		if (ipc_sync_call(b, "events.subscribe", sb.data, sb.size,
		    5000, &m, err, sizeof(err)) != 0 || m.error != NULL)
			_exit(2);
		if (write(ready[1], "r", 1) != 1)
			_exit(2);
		count = 0;
		first = last = 0;
		/* until N, or 1 s without a datagram */
		while (count < n && (r = ipc_sync_recv(b, 1000, &m, err,
		    sizeof(err))) == 0) {
			if (m.type != IPC_NOTIFY ||
			    strcmp(m.method, "peer.data") != 0)
				continue;
			last = now();
			if (count++ == 0)
				first = last;
		}
		if (count < n && r == -1)
			fprintf(stderr, "punch_ipc: receiver: %s after %ld "
			    "datagrams\n", err, count);
		report(res[1], count, first, last);
		_exit(0);
	}
	if (pid == -1)
		die("%s%s", "fork", "");
	if (read(ready[0], &c, 1) != 1)
		die("%s%s", "the receiver could not subscribe on ", av[2]);
	a = conn(av[0]);
	if ((payload = malloc(size)) == NULL)
		die("%s%s", "malloc", "");
	memset(payload, 'x', size);
	msgpack_sbuffer_init(&sb);
	t0 = now();
	while (got < n) {
		while (sent < n && sent - got < window) {
			msgpack_sbuffer_clear(&sb);
			msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
			msgpack_pack_map(&pk, 2);
			mpack_kv_str(&pk, "peer", av[1]);
			mpack_kv_bin(&pk, "data", payload, size);
			if (ipc_sync_send(a, "peer.send", sb.data, sb.size, -1,
			    &id) != 0)
				die("%s%s", "peer.send failed", "");
			sent++;
		}
		if ((r = ipc_sync_recv(a, 10000, &m, err, sizeof(err))) != 0)
			die("recv: %s%s", r == -2 ? "timeout" : err, "");
		if (m.type != IPC_RESPONSE)
			continue;
		if (m.error != NULL) {
			errtext(&m, err, sizeof(err));
			die("peer.send: %s%s", err, "");
		}
		got++;
	}
	if (read_report(res[0], &count, &first, &last) != 0)
		die("%s%s", "no report from the receiver", "");
	waitpid(pid, NULL, 0);
	print_rate("punchd peer.send/peer.data", sent, count, t0, last, size);
	ipc_sync_close(a);
	msgpack_sbuffer_destroy(&sb);
	free(payload);
	return count > 0 ? 0 : 1;
}

/*
 * Plain UDP reference. Blasting datagrams at a receiver only measures how
 * many the socket buffer drops, so the sender is flow-controlled like the
 * punchd run (whose window is of IPC answers): the receiver acknowledges
 * every UDP_ACK_EVERY datagrams with a datagram carrying its count, the
 * sender keeps at most WINDOW unacknowledged, and a window that sees no
 * acknowledgement for 20 ms is presumed lost and reopened ("stalls").
 */
#define UDP_ACK_EVERY	16

static int
cmd_udp(int ac, char **av)
{
	int			 n = atoi(av[0]), size = atoi(av[1]);
	int			 window = ac > 2 ? atoi(av[2]) : 64;
	int			 rx, tx, res[2], stalls = 0;
	struct sockaddr_in	 sin, txa;
	socklen_t		 sl = sizeof(sin);
	pid_t			 pid;
	char			*buf;
	long			 count, sent = 0, acked = 0;
	double			 t0, first, last;
	uint32_t		 a;

	if (n < 1 || size < 1 || size > 65000 || window < 1)
		die("%s%s", "bad N, SIZE or WINDOW", "");
	if ((buf = calloc(1, 65536)) == NULL)
		die("%s%s", "calloc", "");
	memset(buf, 'x', size);
	if ((rx = socket(AF_INET, SOCK_DGRAM, 0)) == -1 ||
	    (tx = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
		die("%s%s", "socket", "");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	txa = sin;
	if (bind(rx, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(rx, (struct sockaddr *)&sin, &sl) == -1 ||
	    bind(tx, (struct sockaddr *)&txa, sizeof(txa)) == -1 ||
	    (sl = sizeof(txa), getsockname(tx, (struct sockaddr *)&txa,
	    &sl)) == -1 || pipe(res) == -1)
		die("%s%s", "bind", "");
	if ((pid = fork()) == 0) {
		struct pollfd pfd = { rx, POLLIN, 0 };

		count = 0;
		first = last = 0;
		while (count < n && poll(&pfd, 1, 1000) == 1) {
			if (recv(rx, buf, 65536, 0) < 0)
				continue;
			last = now();
			if (count++ == 0)
				first = last;
			if (count % UDP_ACK_EVERY == 0 || count == n) {
				a = (uint32_t)count;
				sendto(rx, &a, sizeof(a), 0,
				    (struct sockaddr *)&txa, sizeof(txa));
			}
		}
		report(res[1], count, first, last);
		_exit(0);
	}
	if (pid == -1)
		die("%s%s", "fork", "");
	usleep(100000);
	t0 = now();
	while (sent < n) {
		struct pollfd pfd = { tx, POLLIN, 0 };

		while (sent < n && sent - acked < window) {
			if (sendto(tx, buf, size, 0, (struct sockaddr *)&sin,
			    sizeof(sin)) == -1) {
				if (errno == ENOBUFS || errno == EAGAIN)
					break;
				die("%s%s", "sendto", "");
			}
			sent++;
		}
		if (sent == n)
			break;
		if (poll(&pfd, 1, 20) != 1) {
			acked = sent;	/* lost: reopen the window */
			stalls++;
			continue;
		}
		while (recv(tx, &a, sizeof(a), MSG_DONTWAIT) ==
		    (ssize_t)sizeof(a))
			if ((long)a > acked)
				acked = a;
	}
	if (read_report(res[0], &count, &first, &last) != 0)
		die("%s%s", "no report from the receiver", "");
	waitpid(pid, NULL, 0);
	print_rate("plain UDP on loopback", n, count, t0, last, size);
	if (stalls > 0)
		printf("  (plain UDP: %d windows presumed lost)\n", stalls);
	close(rx);
	close(tx);
	free(buf);
	return 0;
}

int
main(int ac, char **av)
{
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (ac >= 4 && !strcmp(av[1], "get"))
		return cmd_get(av + 2);
	if (ac >= 4 && !strcmp(av[1], "remove"))
		return cmd_remove(av + 2);
	if (ac >= 8 && !strcmp(av[1], "punch2"))
		return cmd_punch2(ac - 2, av + 2);
	if (ac >= 5 && !strcmp(av[1], "addpeers"))
		return cmd_addpeers(av + 2);
	if (ac >= 7 && !strcmp(av[1], "thru"))
		return cmd_thru(ac - 2, av + 2);
	if (ac >= 4 && !strcmp(av[1], "udp"))
		return cmd_udp(ac - 2, av + 2);
	fprintf(stderr, "usage: punch_ipc get SOCK PEER\n"
	    "       punch_ipc remove SOCK PEER\n"
	    "       punch_ipc punch2 SOCK_A PEER_A EP_A SOCK_B PEER_B EP_B "
	    "[TIMEOUT_MS]\n"
	    "       punch_ipc addpeers SOCK N ENDPOINT\n"
	    "       punch_ipc thru SOCK_A PEER SOCK_B N SIZE [WINDOW]\n"
	    "       punch_ipc udp N SIZE [WINDOW]\n");
	return 2;
}
