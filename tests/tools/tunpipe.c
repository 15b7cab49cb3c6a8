/*
 * tunpipe: the mesh interface's data path without punchd around it, for
 * tests/natlab/50-tun.sh and bench/tun_bench.sh. One side of a pair: opens
 * a TUN device (punchd/tun.c) with the addresses meshaddr.c gives this node,
 * and moves packets between it and one UDP socket, each packet a DATA packet
 * (proto/packet.c) under a key derived from a mesh secret, so the crypto
 * cost is real. Packets in are authenticated, replay-checked and then
 * source-checked (meshaddr_check_in) before they enter the device.
 *
 *   tunpipe -i NAME -l IP:PORT -r IP:PORT -s HEX -p HEX [-x HEX] [-m MTU]
 *       run one side: this node -s, the peer -p at -r; -x adds another
 *       member to the table (that is not connected: the forger of -F)
 *   tunpipe -F -l IP:PORT -r IP:PORT -s HEX -p HEX [-x HEX] [-n N] -S IPV4
 *       send N (default 5) ICMP echo requests to the peer's mesh IPv4
 *       address as member -s, with inner source IPV4, and exit
 *   -k WORD   mesh secret = BLAKE2b(WORD) (default "tunpipe")
 *
 * On SIGUSR1 and at exit (SIGINT/SIGTERM) it prints one line:
 * "tunpipe: tx N rx N drop_noroute N drop_auth N drop_replay N
 *  drop_sender N drop_src N drop_dst N drop_full N".
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "common/log.h"
#include "common/netaddr.h"
#include "proto/packet.h"
#include "punchd/meshaddr.h"
#include "punchd/tun.h"

#define BATCH	64
#define BUFSZ	2048
#define MAXMEM	3

static const uint8_t mesh_id[MESHADDR_MESH_ID_LEN] = "tunpipe-mesh-id";

struct pipe {
	int			 tun, udp;
	struct sockaddr_storage	 peer;
	uint8_t			 key[PACKET_KEY_LEN];
	uint8_t			 self_id[8];
	uint64_t		 seq;
	struct meshaddr_table	 t;
	const struct meshaddr_member *self, *peer_m;	/* only the peer
							   has an endpoint */
	struct packet_replay	 replay[MAXMEM];	/* by index in t.m */
	uint64_t		 tx, rx, noroute, auth, replayed, sender, src,
				 dst, full;
};

static volatile sig_atomic_t	got_usr1, got_term;

static void
sig_cb(int sig)
{
	if (sig == SIGUSR1)
		got_usr1 = 1;
	else
		got_term = 1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: tunpipe -i NAME -l IP:PORT -r IP:PORT -s HEX "
	    "-p HEX [-x HEX] [-m MTU] [-k WORD]\n"
	    "       tunpipe -F -l IP:PORT -r IP:PORT -s HEX -p HEX [-x HEX] "
	    "[-n N] -S IPV4 [-k WORD]\n");
	exit(2);
}

static int
parse_id(const char *s, uint8_t id[8])
{
	unsigned long long	v;
	char			*end;
	int			 i;

	errno = 0;
	v = strtoull(s, &end, 16);
	if (errno != 0 || *end != '\0' || strlen(s) != 16)
		return -1;
	for (i = 7; i >= 0; i--, v >>= 8)
		id[i] = v & 0xff;
	return 0;
}

static socklen_t
salen(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET ? sizeof(struct sockaddr_in) :
	    sizeof(struct sockaddr_in6);
}

static void
pipe_stats(const struct pipe *p)
{
	printf("tunpipe: tx %llu rx %llu drop_noroute %llu drop_auth %llu "
	    "drop_replay %llu drop_sender %llu drop_src %llu drop_dst %llu "
	    "drop_full %llu\n", (unsigned long long)p->tx,
	    (unsigned long long)p->rx, (unsigned long long)p->noroute,
	    (unsigned long long)p->auth, (unsigned long long)p->replayed,
	    (unsigned long long)p->sender, (unsigned long long)p->src,
	    (unsigned long long)p->dst, (unsigned long long)p->full);
	fflush(stdout);
}

/* Encode payloads already read to bufs[i] + PACKET_HDR_LEN, in place. */
static ssize_t
pipe_seal(struct pipe *p, uint8_t *buf, size_t len)
{
	struct packet_hdr	h = { .version = PACKET_VERSION,
				      .type = PACKET_DATA };

	memcpy(h.sender, p->self_id, 8);
	h.seq = p->seq++;
	return packet_encode(buf, BUFSZ, &h, buf + PACKET_HDR_LEN, len,
	    p->key);
}

/* Device -> peer: drain the device, seal, one sendmmsg per batch. */
static void
pipe_out(struct pipe *p)
{
	static uint8_t		 store[BATCH][BUFSZ];
	static uint8_t		*in[BATCH];
	const struct meshaddr_member *to;
	struct mmsghdr		 mm[BATCH];
	struct iovec		 iov[BATCH];
	size_t			 lens[BATCH];
	ssize_t			 n;
	int			 i, k, got, sent;

	for (i = 0; i < BATCH; i++)
		in[i] = store[i] + PACKET_HDR_LEN;
	do {
		got = tun_read_batch(p->tun, in, BUFSZ - PACKET_OVERHEAD, lens,
		    BATCH);
		for (i = 0, k = 0; i < got; i++) {
			to = meshaddr_route_out(&p->t, in[i], lens[i]);
			if (to == NULL || to != p->peer_m) {
				p->noroute++;
				continue;
			}
			if ((n = pipe_seal(p, store[i], lens[i])) == -1)
				continue;
			iov[k].iov_base = store[i];
			iov[k].iov_len = (size_t)n;
			memset(&mm[k], 0, sizeof(mm[k]));
			mm[k].msg_hdr.msg_name = &p->peer;
			mm[k].msg_hdr.msg_namelen = salen(&p->peer);
			mm[k].msg_hdr.msg_iov = &iov[k];
			mm[k].msg_hdr.msg_iovlen = 1;
			k++;
		}
		for (i = 0; i < k; i += sent) {
			sent = sendmmsg(p->udp, mm + i, k - i, 0);
			if (sent <= 0) {
				p->full += k - i;	/* socket buffer full */
				break;
			}
			p->tx += sent;
		}
	} while (got == BATCH);
}

/* One datagram from the peer: open, replay, source check, into the device. */
static void
pipe_in_one(struct pipe *p, uint8_t *buf, size_t len)
{
	const struct meshaddr_member	*from;
	struct packet_hdr		 h;
	const uint8_t			*pl;
	size_t				 plen;
	struct packet_replay		*w;
	int				 r;

	if (packet_peek(buf, len, &h) != 0 || h.type != PACKET_DATA) {
		p->auth++;
		return;
	}
	if ((from = meshaddr_by_node(&p->t, h.sender)) == NULL ||
	    from == p->self) {
		p->sender++;
		return;
	}
	w = &p->replay[from - p->t.m];
	if (packet_replay_check(w, h.seq) != 0) {
		p->replayed++;
		return;
	}
	if (packet_decode(buf, len, p->key, &h, &pl, &plen) != 0) {
		p->auth++;
		return;
	}
	if (packet_replay_check_and_update(w, h.seq) != 0) {
		p->replayed++;
		return;
	}
	r = meshaddr_check_in(&p->t, h.sender, p->self, pl, plen);
	if (r == MESHADDR_ERR_DST) {
		p->dst++;
		return;
	}
	if (r != MESHADDR_OK) {
		p->src++;
		return;
	}
	if (tun_write(p->tun, pl, plen) == -1) {
		p->full++;
		return;
	}
	p->rx++;
}

static void
pipe_in(struct pipe *p)
{
	static uint8_t	bufs[BATCH][BUFSZ];
	struct mmsghdr	mm[BATCH];
	struct iovec	iov[BATCH];
	int		i, n;

	do {
		for (i = 0; i < BATCH; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = BUFSZ;
			memset(&mm[i], 0, sizeof(mm[i]));
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(p->udp, mm, BATCH, MSG_DONTWAIT, NULL);
		for (i = 0; i < n; i++)
			pipe_in_one(p, bufs[i], mm[i].msg_len);
	} while (n == BATCH);
}

/* -F: ICMP echo requests with a forged inner source, sealed as member -s. */
static int
pipe_forge(struct pipe *p, const struct meshaddr_member *to,
    const char *srcstr, int count)
{
	uint8_t		buf[BUFSZ], *ip = buf + PACKET_HDR_LEN;
	struct in_addr	src;
	uint32_t	dst = htonl(to->v4);
	ssize_t		n;
	int		i;

	if (inet_pton(AF_INET, srcstr, &src) != 1)
		usage();
	for (i = 0; i < count; i++) {
		memset(ip, 0, 28);
		ip[0] = 0x45;
		ip[3] = 28;
		ip[8] = 64;
		ip[9] = 1;		/* ICMP */
		memcpy(ip + 12, &src, 4);
		memcpy(ip + 16, &dst, 4);
		ip[20] = 8;		/* echo request */
		if ((n = pipe_seal(p, buf, 28)) == -1)
			return -1;
		if (sendto(p->udp, buf, n, 0, (struct sockaddr *)&p->peer,
		    salen(&p->peer)) == -1) {
			perror("tunpipe: sendto");
			return -1;
		}
		p->tx++;
	}
	printf("tunpipe: forged %d from %s\n", count, srcstr);
	return 0;
}

static int
pipe_socket(struct pipe *p, const char *local, const char *remote)
{
	struct sockaddr_storage	ss;
	int			bufsz = 4 << 20;

	if (netaddr_parse(local, 0, &ss) == -1 ||
	    netaddr_parse(remote, 0, &p->peer) == -1) {
		fprintf(stderr, "tunpipe: bad address\n");
		return -1;
	}
	p->udp = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (p->udp == -1 ||
	    bind(p->udp, (struct sockaddr *)&ss, salen(&ss)) == -1) {
		perror("tunpipe: socket");
		return -1;
	}
	/* bursts of a TCP window arrive faster than one wake-up drains */
	setsockopt(p->udp, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	setsockopt(p->udp, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	return 0;
}

static int
pipe_run(struct pipe *p)
{
	struct pollfd	pfd[2] = {
		{ .fd = p->tun, .events = POLLIN },
		{ .fd = p->udp, .events = POLLIN },
	};

	while (!got_term) {
		if (got_usr1) {
			got_usr1 = 0;
			pipe_stats(p);
		}
		if (poll(pfd, 2, 1000) == -1) {
			if (errno == EINTR)
				continue;
			perror("tunpipe: poll");
			return -1;
		}
		if (pfd[0].revents & POLLIN)
			pipe_out(p);
		if (pfd[1].revents & POLLIN)
			pipe_in(p);
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	static struct pipe	 p;
	struct tun_config	 tc = { .mtu = TUN_MTU_DEFAULT };
	struct sigaction	 sa;
	uint8_t			 ids[MAXMEM][8], peer_id[8], secret[32];
	const char		*name = NULL, *local = NULL, *remote = NULL;
	const char		*word = "tunpipe", *forged = NULL;
	char			 ifname[IFNAMSIZ], a4[INET_ADDRSTRLEN],
				 a6[INET6_ADDRSTRLEN];
	const struct meshaddr_member *peer;
	uint32_t		 v4;
	size_t			 n = 2;
	int			 ch, forge = 0, count = 5, have = 0, i;

	log_init("tunpipe", LOG_LVL_NOTICE);
	while ((ch = getopt(argc, argv, "Fi:k:l:m:n:p:r:s:S:x:")) != -1) {
		switch (ch) {
		case 'F': forge = 1; break;
		case 'i': name = optarg; break;
		case 'k': word = optarg; break;
		case 'l': local = optarg; break;
		case 'm': tc.mtu = atoi(optarg); break;
		case 'n': count = atoi(optarg); break;
		case 'p': if (parse_id(optarg, ids[1]) == -1) usage();
			have |= 2; break;
		case 'r': remote = optarg; break;
		case 's': if (parse_id(optarg, ids[0]) == -1) usage();
			have |= 1; break;
		case 'S': forged = optarg; break;
		case 'x': if (parse_id(optarg, ids[2]) == -1) usage();
			n = 3; break;
		default: usage();
		}
	}
	if (have != 3 || local == NULL || remote == NULL ||
	    (forge ? forged == NULL : name == NULL))
		usage();
	if (sodium_init() == -1)
		return 1;
	crypto_generichash(secret, sizeof(secret), (const uint8_t *)word,
	    strlen(word), NULL, 0);
	if (packet_key_derive(p.key, secret, 0) == -1)
		return 1;
	memcpy(p.self_id, ids[0], 8);
	memcpy(peer_id, ids[1], 8);
	p.seq = packet_seq_start((uint64_t)time(NULL));
	if (meshaddr_table_build(&p.t, mesh_id, (const uint8_t (*)[8])ids,
	    n) == -1) {
		fprintf(stderr, "tunpipe: member ids must differ and not be 0\n");
		return 2;
	}
	for (i = 0; i < MAXMEM; i++)
		packet_replay_reset(&p.replay[i]);
	p.self = meshaddr_by_node(&p.t, p.self_id);
	p.peer_m = peer = meshaddr_by_node(&p.t, peer_id);
	if (pipe_socket(&p, local, remote) == -1)
		return 1;
	if (forge)
		return pipe_forge(&p, peer, forged, count) == -1;

	if ((p.tun = tun_open(name, 0, ifname)) == -1)
		return 1;
	tc.v4 = p.self->v4;
	tc.v4_plen = MESHADDR_V4_PLEN;
	memcpy(tc.v6, p.self->v6, 16);
	tc.v6_plen = MESHADDR_V6_PLEN;
	if (tun_setup(ifname, &tc) == -1)
		return 1;
	v4 = htonl(p.self->v4);
	inet_ntop(AF_INET, &v4, a4, sizeof(a4));
	inet_ntop(AF_INET6, p.self->v6, a6, sizeof(a6));
	printf("tunpipe: %s up mtu %d self %s %s", ifname, tc.mtu, a4, a6);
	v4 = htonl(peer->v4);
	inet_ntop(AF_INET, &v4, a4, sizeof(a4));
	inet_ntop(AF_INET6, peer->v6, a6, sizeof(a6));
	printf(" peer %s %s\n", a4, a6);
	fflush(stdout);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sig_cb;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	i = pipe_run(&p);
	pipe_stats(&p);
	meshaddr_table_free(&p.t);
	close(p.tun);
	close(p.udp);
	return i == -1;
}
