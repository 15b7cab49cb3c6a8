/*
 * stun_load: STUN Binding load generator. Prints how many valid Binding
 * success responses per second a server returns.
 *
 *   stun_load [-s HOST:PORT] [-d SECONDS] [-w WARMUP] [-c SOCKETS]
 *             [-n INFLIGHT] [-r RATE] [-v]
 *   stun_load -S HOST:PORT     (reference responder, see serve())
 *
 * Each of SOCKETS connected UDP sockets keeps at most INFLIGHT requests
 * outstanding (a bounded window, so the figure is the server's throughput and
 * not the depth of its socket buffer). Requests are the 20-byte RFC 8489
 * Binding request, built by hand so that the generator measures the server,
 * not our codec:
 *
 *      0                   1                   2                   3
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *     |0 0|  0x0001 Binding request   |     Message Length = 0        |
 *     |                     Magic Cookie 0x2112A442                   |
 *     |  run tag (32 bits) | socket (16) | sequence (48 bits)         |
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * A response counts as valid when it is a Binding success (0x0101) with the
 * cookie, a transaction id this socket sent (tag and socket match, sequence
 * not in the future), a header length equal to the datagram, attributes that
 * stay inside it, and an XOR-MAPPED-ADDRESS (or MAPPED-ADDRESS) equal to the
 * socket's own address. Anything else is counted as invalid.
 *
 * With -r RATE the generator paces itself to RATE requests/s in total (still
 * bounded by the window): an open-loop load, to measure how much of its core
 * a server needs for a given load rather than how fast it can go.
 *
 * When a socket has heard nothing for 200 ms its window is presumed lost and
 * reopened (counted in "stalls"), so drops cannot freeze the run.
 *
 * Last line: "responses/s N" (integer), for scripts.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proto/wire.h"

#define MAX_SOCKS	64
#define BATCH		64	/* sendmmsg/recvmmsg batch */
#define RX_BUF		1500	/* a Binding response is < 100 bytes */
#define STALL_NS	200000000LL
#define MAGIC		0x2112A442u

struct lsock {
	int			 fd;
	uint16_t		 idx;
	uint64_t		 seq;		/* next sequence to send */
	long			 inflight;
	int64_t			 last_rx;	/* ns */
	struct sockaddr_storage	 local;
};

static uint32_t	run_tag;
static struct {
	uint64_t	sent, valid, invalid, stalls, senderr;
} st;

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void
build_req(uint8_t req[20], const struct lsock *s, uint64_t seq)
{
	req[0] = 0x00; req[1] = 0x01;		/* Binding request */
	req[2] = 0; req[3] = 0;			/* no attributes */
	wire_put32(req + 4, MAGIC);
	wire_put32(req + 8, run_tag);
	req[12] = s->idx >> 8; req[13] = s->idx;
	for (int i = 0; i < 6; i++)
		req[14 + i] = seq >> (40 - 8 * i);
}

/* Does the (XOR-)MAPPED-ADDRESS value equal our socket's address? */
static int
addr_matches(const uint8_t *v, uint16_t vlen, int xor, const uint8_t *tid,
    const struct sockaddr_storage *local)
{
	uint8_t key[16];
	uint16_t port;

	if (vlen < 4)
		return 0;
	wire_put32(key, MAGIC);
	memcpy(key + 4, tid, 12);
	port = wire_get16(v + 2) ^ (xor ? MAGIC >> 16 : 0);
	if (v[1] == 0x01 && vlen == 8 && local->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)local;
		uint8_t a[4];

		for (int i = 0; i < 4; i++)
			a[i] = v[4 + i] ^ (xor ? key[i] : 0);
		return port == ntohs(sin->sin_port) &&
		    memcmp(a, &sin->sin_addr, 4) == 0;
	}
	if (v[1] == 0x02 && vlen == 20 && local->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)local;
		uint8_t a[16];

		for (int i = 0; i < 16; i++)
			a[i] = v[4 + i] ^ (xor ? key[i] : 0);
		return port == ntohs(s6->sin6_port) &&
		    memcmp(a, &s6->sin6_addr, 16) == 0;
	}
	return 0;
}

static int
valid_resp(const uint8_t *b, size_t len, const struct lsock *s)
{
	uint64_t seq = 0;
	size_t off;
	int mapped = 0;

	if (len < 20 || wire_get16(b) != 0x0101 || wire_get32(b + 4) != MAGIC ||
	    (size_t)wire_get16(b + 2) + 20 != len || (len & 3) != 0)
		return 0;
	if (wire_get32(b + 8) != run_tag || wire_get16(b + 12) != s->idx)
		return 0;
	for (int i = 0; i < 6; i++)
		seq = seq << 8 | b[14 + i];
	if (seq >= s->seq)
		return 0;
	for (off = 20; off + 4 <= len; ) {
		uint16_t type = wire_get16(b + off), alen = wire_get16(b + off + 2);

		if (off + 4 + alen > len)
			return 0;
		if (type == 0x0020 && addr_matches(b + off + 4, alen, 1, b + 8,
		    &s->local))
			mapped = 1;
		else if (type == 0x0001 && !mapped &&
		    addr_matches(b + off + 4, alen, 0, b + 8, &s->local))
			mapped = 1;
		off += 4 + ((alen + 3u) & ~3u);
	}
	return off == len && mapped;
}

static void
sock_recv(struct lsock *s, int64_t now)
{
	static uint8_t bufs[BATCH][RX_BUF];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	int n;

	for (;;) {
		memset(msgs, 0, sizeof(msgs));
		for (int i = 0; i < BATCH; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = RX_BUF;
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(s->fd, msgs, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		s->last_rx = now;
		for (int i = 0; i < n; i++) {
			if (valid_resp(bufs[i], msgs[i].msg_len, s))
				st.valid++;
			else
				st.invalid++;
			if (s->inflight > 0)
				s->inflight--;
		}
		if (n < BATCH)
			return;
	}
}

/* send up to budget requests, keeping the window; returns how many */
static long
sock_fill(struct lsock *s, long window, long budget)
{
	static uint8_t reqs[BATCH][20];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	long done = 0;
	int want, n;

	while (s->inflight < window && done < budget) {
		want = window - s->inflight;
		if (want > budget - done)
			want = budget - done;
		if (want > BATCH)
			want = BATCH;
		memset(msgs, 0, sizeof(msgs));
		for (int i = 0; i < want; i++) {
			build_req(reqs[i], s, s->seq + i);
			iov[i].iov_base = reqs[i];
			iov[i].iov_len = 20;
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		n = sendmmsg(s->fd, msgs, want, MSG_DONTWAIT);
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
				st.senderr++;	/* e.g. ECONNREFUSED: nobody there */
			return done;
		}
		s->seq += n;
		s->inflight += n;
		st.sent += n;
		done += n;
	}
	return done;
}

static void
usage(void)
{
	fprintf(stderr, "usage: stun_load [-s HOST:PORT] [-d SECONDS] "
	    "[-w WARMUP] [-c SOCKETS] [-n INFLIGHT] [-r RATE] [-v]\n"
	    "       stun_load -S HOST:PORT\n");
	exit(2);
}

/*
 * The reference: the least a STUN server can do per request (one socket,
 * recvmmsg/sendmmsg batches, header check, XOR-MAPPED-ADDRESS only, IPv4).
 * On loopback the sender's core also does the receiver's softirq work, so
 * with the generator on one core no server can answer faster than this:
 * it is the ceiling of what this machine can measure.
 */
static int
serve(const struct sockaddr_storage *ss, socklen_t sl)
{
	static uint8_t in[BATCH][RX_BUF], out[BATCH][32];
	struct sockaddr_in from[BATCH];
	struct mmsghdr m[BATCH], o[BATCH];
	struct iovec iv[BATCH], ov[BATCH];
	int fd, n, k;

	if (ss->ss_family != AF_INET)
		usage();
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd == -1 || bind(fd, (const struct sockaddr *)ss, sl) == -1) {
		perror("stun_load: bind");
		return 1;
	}
	for (;;) {
		memset(m, 0, sizeof(m));
		for (int i = 0; i < BATCH; i++) {
			iv[i].iov_base = in[i];
			iv[i].iov_len = RX_BUF;
			m[i].msg_hdr.msg_iov = &iv[i];
			m[i].msg_hdr.msg_iovlen = 1;
			m[i].msg_hdr.msg_name = &from[i];
			m[i].msg_hdr.msg_namelen = sizeof(from[i]);
		}
		n = recvmmsg(fd, m, BATCH, MSG_WAITFORONE, NULL);
		if (n <= 0)
			continue;
		memset(o, 0, sizeof(o));
		for (int i = k = 0; i < n; i++) {
			uint8_t *p = out[k];
			uint32_t a = ntohl(from[i].sin_addr.s_addr) ^ MAGIC;
			uint16_t port = ntohs(from[i].sin_port) ^ (MAGIC >> 16);

			if (m[i].msg_len < 20 || wire_get16(in[i]) != 0x0001 ||
			    wire_get32(in[i] + 4) != MAGIC)
				continue;
			memcpy(p, in[i], 20);
			p[0] = 0x01; p[1] = 0x01; p[2] = 0; p[3] = 12;
			p[20] = 0x00; p[21] = 0x20; p[22] = 0; p[23] = 8;
			p[24] = 0; p[25] = 0x01; p[26] = port >> 8; p[27] = port;
			wire_put32(p + 28, a);
			ov[k].iov_base = p;
			ov[k].iov_len = 32;
			o[k].msg_hdr.msg_iov = &ov[k];
			o[k].msg_hdr.msg_iovlen = 1;
			o[k].msg_hdr.msg_name = &from[i];
			o[k].msg_hdr.msg_namelen = sizeof(from[i]);
			k++;
		}
		if (k > 0)
			sendmmsg(fd, o, k, 0);
	}
}

static int
resolve(const char *arg, struct sockaddr_storage *ss, socklen_t *sl)
{
	char host[256], *port;
	struct addrinfo hints, *res;
	int e;

	if (strlen(arg) >= sizeof(host))
		return -1;
	strcpy(host, arg);
	port = strrchr(host, ':');
	if (port == NULL)
		return -1;
	*port++ = '\0';
	if (host[0] == '[' && port - host >= 3 && port[-2] == ']') {
		port[-2] = '\0';
		memmove(host, host + 1, strlen(host));
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if ((e = getaddrinfo(host, port, &hints, &res)) != 0) {
		fprintf(stderr, "stun_load: %s: %s\n", arg, gai_strerror(e));
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sl = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

int
main(int argc, char *argv[])
{
	const char *server = "127.0.0.1:3478";
	double secs = 5, warm = 1, prate = 0;
	long nsock = 4, window = 64;
	const char *serve_at = NULL;
	int verbose = 0, ch;
	struct sockaddr_storage dst;
	socklen_t dlen;
	struct lsock socks[MAX_SOCKS];
	struct pollfd pfd[MAX_SOCKS];
	int64_t t0, tstart, tend, tnext;
	uint64_t valid0 = 0, last_valid = 0;

	while ((ch = getopt(argc, argv, "s:S:d:w:c:n:r:v")) != -1) {
		switch (ch) {
		case 's': server = optarg; break;
		case 'S': serve_at = optarg; break;
		case 'd': secs = atof(optarg); break;
		case 'w': warm = atof(optarg); break;
		case 'c': nsock = atol(optarg); break;
		case 'n': window = atol(optarg); break;
		case 'r': prate = atof(optarg); break;
		case 'v': verbose = 1; break;
		default: usage();
		}
	}
	if (secs <= 0 || warm < 0 || nsock < 1 || nsock > MAX_SOCKS ||
	    window < 1 || window > 100000 || prate < 0)
		usage();
	if (serve_at != NULL) {
		if (resolve(serve_at, &dst, &dlen) == -1)
			usage();
		return serve(&dst, dlen);
	}
	if (resolve(server, &dst, &dlen) == -1)
		usage();
	if (getentropy(&run_tag, sizeof(run_tag)) == -1)
		run_tag = (uint32_t)getpid() ^ (uint32_t)now_ns();

	for (long i = 0; i < nsock; i++) {
		struct lsock *s = &socks[i];
		socklen_t ll = sizeof(s->local);
		int rcv = 1 << 20;

		memset(s, 0, sizeof(*s));
		s->idx = i;
		s->fd = socket(dst.ss_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		if (s->fd == -1 || connect(s->fd, (struct sockaddr *)&dst, dlen) ||
		    getsockname(s->fd, (struct sockaddr *)&s->local, &ll)) {
			perror("stun_load: socket");
			return 1;
		}
		setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
		pfd[i].fd = s->fd;
		pfd[i].events = POLLIN;
	}

	printf("stun_load: server %s, %ld sockets x %ld in flight, "
	    "warm-up %.1f s, measuring %.1f s", server, nsock, window, warm,
	    secs);
	if (prate > 0)
		printf(", paced at %.0f requests/s", prate);
	printf("\n");
	fflush(stdout);
	t0 = now_ns();
	tstart = t0 + (int64_t)(warm * 1e9);
	tend = tstart + (int64_t)(secs * 1e9);
	tnext = tstart + 1000000000LL;
	for (long i = 0; i < nsock; i++)
		socks[i].last_rx = t0;

	int measuring = 0;
	long rr = 0;
	for (;;) {
		int64_t now = now_ns();

		if (!measuring && now >= tstart) {
			measuring = 1;
			valid0 = last_valid = st.valid;
		}
		if (now >= tend)
			break;
		if (measuring && verbose && now >= tnext) {
			printf("  %llu/s\n",
			    (unsigned long long)(st.valid - last_valid));
			fflush(stdout);
			last_valid = st.valid;
			tnext += 1000000000LL;
		}
		/* open loop: what the pace allows by now, shared out */
		long budget = window * nsock;
		if (prate > 0) {
			double due = (double)(now - t0) * prate / 1e9 -
			    (double)st.sent;
			budget = due > 0 ? (long)due : 0;
		}
		for (long i = 0; i < nsock; i++) {
			struct lsock *s = &socks[(i + rr) % nsock];

			sock_recv(s, now);
			if (s->inflight > 0 && now - s->last_rx > STALL_NS) {
				s->inflight = 0;	/* presumed lost */
				s->last_rx = now;
				st.stalls++;
			}
			budget -= sock_fill(s, window, prate > 0 ? budget : window);
		}
		rr++;
		/* everything in flight: sleep until an answer (1 ms at most) */
		if (poll(pfd, nsock, 1) == -1 && errno != EINTR) {
			perror("stun_load: poll");
			return 1;
		}
	}

	double rate = (double)(st.valid - valid0) / secs;
	printf("sent %llu, valid %llu, invalid %llu, window stalls %llu, "
	    "send errors %llu\n", (unsigned long long)st.sent,
	    (unsigned long long)st.valid, (unsigned long long)st.invalid,
	    (unsigned long long)st.stalls, (unsigned long long)st.senderr);
	if (st.valid == 0)
		fprintf(stderr, "stun_load: no valid response from %s\n", server);
	printf("responses/s %.0f\n", rate);
	return st.valid == 0 ? 1 : 0;
}
