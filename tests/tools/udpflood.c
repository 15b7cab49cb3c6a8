/*
 * udpflood: a stranger on the network, for the abuse tests (tests/integ/70,
 * 71). Sends datagrams to one UDP address from one or many source sockets
 * and counts every datagram that comes back; or listens and records.
 *
 *   udpflood [options] HOST:PORT          send
 *   udpflood -L IP:PORT [-w S] [-o DIR]   listen: count (and save) what
 *                                         arrives, "received N bytes B"
 *
 *   -m MODE     what to send:
 *                 random  random bytes (-z SIZE, default 92)
 *                 stun    20-byte STUN Binding requests, fresh transaction ids
 *                 punch   well-formed punch packets (proto/packet.h): PUNCH,
 *                         64-byte payload, random sender ids and sequence
 *                         numbers, authenticated with a random key (so a
 *                         receiver must run the AEAD to reject them)
 *                 member  KEEPALIVE and PING packets (alternately) as
 *                         a member would send them: under the mesh key
 *                         of -k, sender id -s, fresh sequence numbers.
 *                         To the receiver these are what a replay of a
 *                         member's packets it never saw looks like.
 *                 file    the files given with -f, in order, cycled
 *   -k FILE     member mode: the mesh secret (64 hex digits) in FILE
 *   -s HEX      member mode: the sender's node id (16 hex digits)
 *   -q SEQ      member mode: sequence numbers SEQ, SEQ+1, ... (a replay
 *               carries the member's real ones); default: an hour ahead
 *   -f FILE     payload for -m file (repeatable, up to 4096)
 *   -n COUNT    datagrams to send (default 1)
 *   -S SOCKS    spread them over this many source sockets/ports (default 1)
 *   -b IP[:PORT] source address (default 127.0.0.1, port 0 = any)
 *   -r RATE     pace to RATE datagrams/s (default 0: as fast as possible)
 *   -w SECONDS  keep listening this long after the last send (default 0.5)
 *   -o DIR      listen mode: write each datagram to DIR/NNNNNN
 *   -v          print "reply LEN from ADDR" for each datagram received
 *
 * Last line (send mode): "sent N replies R reply_bytes B max_reply M
 * secs S pps P". Exit 0, or 1 on a setup error.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "common/netaddr.h"
#include "proto/packet.h"

#define MAXSOCKS	4096
#define MAXFILES	4096
#define NPKT		1024	/* distinct pre-built datagrams per run */
#define BATCH		64
#define MAXLEN		65536

static int	 socks[MAXSOCKS];
static int	 nsocks = 1;
static int	 verbose;
static uint64_t	 nreplies, reply_bytes, max_reply;
static uint8_t	*pkt[NPKT];
static size_t	 pktlen[NPKT];
static int	 npkt;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
usage(void)
{
	fprintf(stderr, "usage: udpflood [-m random|stun|punch|member|file] [-f FILE] "
	    "[-n N] [-S SOCKS] [-b IP[:PORT]] [-r RATE] [-w S] [-z SIZE] [-k FILE -s HEX [-q SEQ]] [-v] "
	    "HOST:PORT\n       udpflood -L IP:PORT [-w S] [-o DIR] [-v]\n");
	exit(1);
}

static uint8_t *
readfile(const char *path, size_t *len)
{
	FILE	*f;
	uint8_t	*b = malloc(MAXLEN);

	if (b == NULL || (f = fopen(path, "rb")) == NULL) {
		perror(path);
		exit(1);
	}
	*len = fread(b, 1, MAXLEN, f);
	fclose(f);
	return b;
}

/* drain every socket without blocking; returns how many arrived */
static uint64_t
drain(void)
{
	uint8_t			 buf[MAXLEN];
	struct sockaddr_storage	 from;
	socklen_t		 fl;
	char			 a[NETADDR_STRLEN];
	ssize_t			 n;
	uint64_t		 got = 0;
	int			 i;

	for (i = 0; i < nsocks; i++) {
		for (;;) {
			fl = sizeof(from);
			n = recvfrom(socks[i], buf, sizeof(buf), MSG_DONTWAIT,
			    (struct sockaddr *)&from, &fl);
			if (n < 0)
				break;
			got++;
			nreplies++;
			reply_bytes += (uint64_t)n;
			if ((uint64_t)n > max_reply)
				max_reply = (uint64_t)n;
			if (verbose)
				printf("reply %zd from %s\n", n, netaddr_str(
				    (struct sockaddr *)&from, a, sizeof(a)));
		}
	}
	return got;
}

static void
wait_replies(double secs)
{
	struct pollfd	*pfd;
	double		 end = now() + secs, left;
	int		 i;

	if ((pfd = calloc(nsocks, sizeof(*pfd))) == NULL)
		exit(1);
	for (i = 0; i < nsocks; i++) {
		pfd[i].fd = socks[i];
		pfd[i].events = POLLIN;
	}
	while ((left = end - now()) > 0) {
		if (poll(pfd, nsocks, (int)(left * 1000) + 1) > 0)
			drain();
	}
	drain();
	free(pfd);
}

static void
build_punch(void)
{
	uint8_t			key[PACKET_KEY_LEN], pl[PACKET_PUNCH_LEN];
	struct packet_hdr	h;
	int			i;

	randombytes_buf(key, sizeof(key));
	for (i = 0; i < NPKT; i++) {
		memset(&h, 0, sizeof(h));
		h.version = PACKET_VERSION;
		h.type = PACKET_PUNCH;
		randombytes_buf(h.sender, sizeof(h.sender));
		h.seq = ((uint64_t)time(NULL) << 32) + randombytes_random();
		randombytes_buf(pl, sizeof(pl));
		pkt[i] = malloc(PACKET_PUNCH_LEN + PACKET_OVERHEAD);
		pktlen[i] = packet_encode(pkt[i], PACKET_PUNCH_LEN +
		    PACKET_OVERHEAD, &h, pl, sizeof(pl), key);
	}
	npkt = NPKT;
}

static int
unhex(const char *hex, uint8_t *out, size_t len)
{
	size_t	i;
	int	n;

	for (i = 0; i < len; i++) {
		if (sscanf(hex + 2 * i, "%2x", &n) != 1)
			return -1;
		out[i] = (uint8_t)n;
	}
	return 0;
}

static int
build_member(const char *secretfile, const char *sender, uint64_t seq0)
{
	uint8_t			secret[PACKET_MESH_SECRET_LEN];
	uint8_t			key[PACKET_KEY_LEN], pl[PACKET_PING_LEN];
	struct packet_hdr	h;
	struct packet_ping	pg;
	char			hex[2 * PACKET_MESH_SECRET_LEN + 2];
	FILE			*f;
	int			i;

	if (secretfile == NULL || sender == NULL ||
	    (f = fopen(secretfile, "r")) == NULL)
		return -1;
	if (fgets(hex, sizeof(hex), f) == NULL) {
		fclose(f);
		return -1;
	}
	fclose(f);
	memset(&h, 0, sizeof(h));
	if (unhex(hex, secret, sizeof(secret)) == -1 ||
	    unhex(sender, h.sender, sizeof(h.sender)) == -1 ||
	    packet_key_derive(key, secret, 0) == -1)
		return -1;
	h.version = PACKET_VERSION;
	for (i = 0; i < NPKT; i++) {
		h.type = i % 2 ? PACKET_PING : PACKET_KEEPALIVE;
		h.seq = (seq0 != 0 ? seq0 :
		    (uint64_t)(time(NULL) + 3600) << 32) + i;
		pg.id = i;
		pg.ts = 1;
		packet_ping_encode(pl, sizeof(pl), &pg);
		pkt[i] = malloc(PACKET_PING_LEN + PACKET_OVERHEAD);
		pktlen[i] = packet_encode(pkt[i], PACKET_PING_LEN +
		    PACKET_OVERHEAD, &h, pl, i % 2 ? sizeof(pl) : 0, key);
	}
	npkt = NPKT;
	return 0;
}

static void
build_stun(void)
{
	int i;

	for (i = 0; i < NPKT; i++) {
		pkt[i] = malloc(20);
		memcpy(pkt[i], "\x00\x01\x00\x00\x21\x12\xa4\x42", 8);
		randombytes_buf(pkt[i] + 8, 12);
		pktlen[i] = 20;
	}
	npkt = NPKT;
}

static void
build_random(size_t size)
{
	int i;

	for (i = 0; i < NPKT; i++) {
		pkt[i] = malloc(size ? size : 1);
		randombytes_buf(pkt[i], size);
		pktlen[i] = size;
	}
	npkt = NPKT;
}

static int
listen_mode(const char *addr, double secs, const char *dir)
{
	struct sockaddr_storage	ss;
	uint8_t			buf[MAXLEN];
	char			path[4096];
	struct pollfd		pfd;
	ssize_t			n;
	uint64_t		count = 0, bytes = 0;
	double			end = now() + secs, left;
	FILE			*f;

	if (netaddr_parse(addr, 0, &ss) == -1) {
		fprintf(stderr, "bad address %s\n", addr);
		return 1;
	}
	pfd.fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	pfd.events = POLLIN;
	if (pfd.fd == -1 || bind(pfd.fd, (struct sockaddr *)&ss,
	    netaddr_len((struct sockaddr *)&ss)) == -1) {
		perror("bind");
		return 1;
	}
	printf("listening on %s\n", addr);
	fflush(stdout);
	while ((left = end - now()) > 0) {
		if (poll(&pfd, 1, (int)(left * 1000) + 1) <= 0)
			continue;
		if ((n = recv(pfd.fd, buf, sizeof(buf), 0)) < 0)
			continue;
		if (verbose)
			printf("datagram %zd\n", n);
		if (dir != NULL) {
			snprintf(path, sizeof(path), "%s/%06llu", dir,
			    (unsigned long long)count);
			if ((f = fopen(path, "wb")) != NULL) {
				fwrite(buf, 1, n, f);
				fclose(f);
			}
		}
		count++;
		bytes += (uint64_t)n;
		fflush(stdout);
	}
	printf("received %llu bytes %llu\n", (unsigned long long)count,
	    (unsigned long long)bytes);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct sockaddr_storage	 dst, src;
	struct mmsghdr		 msg[BATCH];
	struct iovec		 iov[BATCH];
	const char		*mode = "random", *bindaddr = "127.0.0.1";
	const char		*listen = NULL, *dir = NULL;
	const char		*secretfile = NULL, *sender = NULL;
	uint64_t		 seq0 = 0;
	const char		*files[MAXFILES];
	double			 rate = 0, wait = 0.5, t0, el;
	uint64_t		 count = 1, sent = 0;
	size_t			 size = 92;
	int			 nfiles = 0, c, i, k, s, b;

	if (sodium_init() < 0)
		return 1;
	while ((c = getopt(argc, argv, "m:f:n:S:b:r:w:z:L:o:vk:s:q:")) != -1) {
		switch (c) {
		case 'm': mode = optarg; break;
		case 'f':
			if (nfiles < MAXFILES)
				files[nfiles++] = optarg;
			break;
		case 'n': count = strtoull(optarg, NULL, 10); break;
		case 'S': nsocks = atoi(optarg); break;
		case 'b': bindaddr = optarg; break;
		case 'r': rate = atof(optarg); break;
		case 'w': wait = atof(optarg); break;
		case 'z': size = (size_t)atoi(optarg); break;
		case 'L': listen = optarg; break;
		case 'o': dir = optarg; break;
		case 'v': verbose = 1; break;
		case 'k': secretfile = optarg; break;
		case 's': sender = optarg; break;
		case 'q': seq0 = strtoull(optarg, NULL, 0); break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (listen != NULL)
		return listen_mode(listen, wait, dir);
	if (argc != 1 || nsocks < 1 || nsocks > MAXSOCKS || size > MAXLEN)
		usage();
	if (netaddr_parse(argv[0], 0, &dst) == -1 ||
	    netaddr_parse(bindaddr, 1, &src) == -1) {
		fprintf(stderr, "bad address\n");
		return 1;
	}
	/* "IP" alone: any port (1 was only the parser's default) */
	if (strstr(bindaddr, "]:") == NULL && (bindaddr[0] == '[' ||
	    strchr(bindaddr, ':') == NULL || strchr(bindaddr, ':') !=
	    strrchr(bindaddr, ':')))
		netaddr_set_port((struct sockaddr *)&src, 0);
	if (!strcmp(mode, "punch"))
		build_punch();
	else if (!strcmp(mode, "stun"))
		build_stun();
	else if (!strcmp(mode, "member")) {
		if (build_member(secretfile, sender, seq0) == -1) {
			fprintf(stderr, "member mode: -k SECRETFILE (64 hex "
			    "digits) and -s SENDER (16 hex digits)\n");
			return 1;
		}
	}
	else if (!strcmp(mode, "random"))
		build_random(size);
	else if (!strcmp(mode, "file")) {
		if (nfiles == 0)
			usage();
		for (i = 0; i < nfiles && i < NPKT; i++)
			pkt[i] = readfile(files[i], &pktlen[i]);
		npkt = i;
	} else
		usage();

	for (i = 0; i < nsocks; i++) {
		int big = 1 << 20;

		socks[i] = socket(dst.ss_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		if (socks[i] == -1) {
			perror("socket");
			return 1;
		}
		setsockopt(socks[i], SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
		if (bind(socks[i], (struct sockaddr *)&src,
		    netaddr_len((struct sockaddr *)&src)) == -1) {
			/* not connected: answers from another address (RFC
			 * 5780 CHANGE-REQUEST) must be counted too */
			perror("bind");
			return 1;
		}
	}

	t0 = now();
	k = 0;
	s = 0;
	while (sent < count) {
		b = count - sent < BATCH ? (int)(count - sent) : BATCH;
		if (rate > 0) {
			/* open loop: never ahead of the schedule */
			double due = t0 + sent / rate;

			while (now() < due) {
				drain();
				usleep(200);
			}
			if (b > rate / 100 + 1)
				b = (int)(rate / 100) + 1;
		}
		for (i = 0; i < b; i++) {
			iov[i].iov_base = pkt[(k + i) % npkt];
			iov[i].iov_len = pktlen[(k + i) % npkt];
			memset(&msg[i], 0, sizeof(msg[i]));
			msg[i].msg_hdr.msg_iov = &iov[i];
			msg[i].msg_hdr.msg_iovlen = 1;
			msg[i].msg_hdr.msg_name = &dst;
			msg[i].msg_hdr.msg_namelen =
			    netaddr_len((struct sockaddr *)&dst);
		}
		c = sendmmsg(socks[s], msg, b, 0);
		if (c <= 0) {
			/* a full buffer (or ICMP unreachable): drain, retry */
			if (c < 0 && errno != EAGAIN && errno != ENOBUFS &&
			    errno != ECONNREFUSED) {
				perror("sendmmsg");
				return 1;
			}
			drain();
			usleep(100);
			continue;
		}
		sent += (uint64_t)c;
		k = (k + c) % npkt;
		s = (s + 1) % nsocks;
		if ((sent & 1023) < (uint64_t)c)
			drain();
	}
	el = now() - t0;
	wait_replies(wait);
	printf("sent %llu replies %llu reply_bytes %llu max_reply %llu "
	    "secs %.2f pps %.0f\n", (unsigned long long)sent,
	    (unsigned long long)nreplies, (unsigned long long)reply_bytes,
	    (unsigned long long)max_reply, el, el > 0 ? sent / el : 0);
	return 0;
}
