/*
 * bdayprobe: punchd/birthday.c's planner on real UDP sockets, for the NAT
 * lab (bench/bdayprobe_lab.sh): the birthday technique and
 * predicted-range probing through real nftables NATs, before punchd wires
 * them in. Not punchd's wire format: a probe is "BDAY?" plus a 16-byte run
 * token (so strays and other runs are ignored), an answer "BDAY!" plus it.
 *
 *   bdayprobe hard TOKEN EASYIP:PORT
 *       open 256 sockets towards the easy side's endpoint (birthday HARD)
 *   bdayprobe easy TOKEN HARDIP LOCALPORT
 *       probe random ports of HARDIP from LOCALPORT (birthday EASY)
 *   bdayprobe predict TOKEN HARDIP LOCALPORT LASTPORT [STRIDE]
 *       probe the ports after LASTPORT (natpredict, delta 1) from LOCALPORT;
 *       with STRIDE (1 or 2), natpredict_stride's list: both sides
 *       sequential, each runs predict with the other's last port
 *   bdayprobe punch TOKEN EASYIP:PORT
 *       the other side of predict: one socket sending every 0.2 s, as
 *       punchd's ordinary PUNCHes do
 *
 * Each side answers every probe of the run that reaches it ("!") and asks
 * back through the same hole ("?"); it has won when an answer arrives,
 * and lingers 0.5 s to answer the other side's last probes.
 * Last line: "won SECONDS sent N" or "failed SECONDS sent N: REASON".
 * Exit 0 won, 2 failed, 1 setup error.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "punchd/birthday.h"
#include "punchd/natpredict.h"

#define MAXS	BIRTHDAY_MAX_SOCKETS

struct bp {
	int			 role;		/* BDAY_HARD or BDAY_EASY */
	int			 fd[MAXS];	/* hard: extra sockets; easy: [0] */
	int			 nfd;
	struct sockaddr_in	 peer;		/* hard: the easy endpoint; easy: the hard address */
	char			 token[17];
	struct birthday		 b;
	unsigned		 sent;
	int			 won_fd;
	int			 answered;	/* an answer arrived */
	double			 t0;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
bp_socket(uint16_t port)
{
	struct sockaddr_in	sin = { .sin_family = AF_INET };
	int			fd, one = 1;

	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0)) == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sin.sin_port = htons(port);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
bp_tx(struct bp *p, int fd, const struct sockaddr_in *to, char kind)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "BDAY%c%s", kind, p->token);
	if (sendto(fd, buf, strlen(buf), 0, (const struct sockaddr *)to,
	    sizeof(*to)) > 0)
		p->sent++;
}

static int
open_cb(void *arg, int sock)
{
	struct bp *p = arg;

	if ((p->fd[sock] = bp_socket(0)) == -1)
		return -1;
	if (sock >= p->nfd)
		p->nfd = sock + 1;
	return 0;
}

static void
send_cb(void *arg, int sock, uint16_t port)
{
	struct bp		*p = arg;
	struct sockaddr_in	 to = p->peer;

	if (p->role == BDAY_EASY) {
		to.sin_port = htons(port);
		bp_tx(p, p->fd[0], &to, '?');
	} else
		bp_tx(p, p->fd[sock], &to, '?');
}

static void
close_cb(void *arg, int sock)
{
	struct bp *p = arg;

	close(p->fd[sock]);
	p->fd[sock] = -1;
}

/* one datagram on fd i: a probe is answered, an answer or probe of our
 * run is a crossing. Returns 1 on an answer ("!"), 2 on a probe, 0 else. */
static int
bp_rx(struct bp *p, int i)
{
	struct sockaddr_in	from;
	socklen_t		fl = sizeof(from);
	char			buf[64];
	ssize_t			n;

	n = recvfrom(p->fd[i], buf, sizeof(buf) - 1, 0,
	    (struct sockaddr *)&from, &fl);
	if (n != 21 || memcmp(buf, "BDAY", 4) ||
	    memcmp(buf + 5, p->token, 16) ||
	    from.sin_addr.s_addr != p->peer.sin_addr.s_addr)
		return 0;
	if (p->b.state == BDAY_RUNNING)
		birthday_input(&p->b, now(), p->role == BDAY_HARD ? i : -1,
		    ntohs(from.sin_port));
	p->won_fd = i;
	if (buf[4] == '?') {
		/* answer, and ask back through the same hole: the crossing
		 * is proven when each side has an answer (PUNCH, ACK,
		 * CONFIRM in punchd) */
		bp_tx(p, p->fd[i], &from, '!');
		if (!p->answered)
			bp_tx(p, p->fd[i], &from, '?');
		return 2;
	}
	p->answered = 1;
	return 1;
}

static int
usage(void)
{
	fprintf(stderr, "usage: bdayprobe hard|punch TOKEN EASYIP:PORT\n"
	    "       bdayprobe easy TOKEN HARDIP LOCALPORT\n"
	    "       bdayprobe predict TOKEN HARDIP LOCALPORT LASTPORT [STRIDE]\n");
	return 1;
}

int
main(int argc, char *argv[])
{
	static struct bp	 p;
	static uint16_t		 ports[NATPREDICT_MAX];
	struct birthday_cfg	 cfg;
	struct birthday_cb	 cb = { open_cb, send_cb, close_cb, &p };
	struct pollfd		 pfd[MAXS];
	struct natpredict	 np;
	const char		*mode;
	char			*colon;
	double			 next, t, done_at = -1, punch_next = 0, won_t = 0;
	int			 i, r, punch = 0, got_probe = 0, got_answer = 0;

	if (argc < 4)
		return usage();
	mode = argv[1];
	snprintf(p.token, sizeof(p.token), "%-16.16s", argv[2]);
	p.peer.sin_family = AF_INET;
	p.won_fd = -1;
	if (!strcmp(mode, "hard") || !strcmp(mode, "punch")) {
		if ((colon = strchr(argv[3], ':')) == NULL)
			return usage();
		*colon = '\0';
		p.peer.sin_port = htons(atoi(colon + 1));
		p.role = BDAY_HARD;
		punch = !strcmp(mode, "punch");
	} else if (!strcmp(mode, "easy") || !strcmp(mode, "predict")) {
		if (argc < 5 || (!strcmp(mode, "predict") && argc < 6))
			return usage();
		p.role = BDAY_EASY;
		if ((p.fd[0] = bp_socket(atoi(argv[4]))) == -1) {
			perror("bdayprobe: bind");
			return 1;
		}
		p.nfd = 1;
	} else
		return usage();
	if (inet_pton(AF_INET, argv[3], &p.peer.sin_addr) != 1)
		return usage();

	birthday_defaults(&cfg, p.role);
	if (!strcmp(mode, "predict")) {
		np = (struct natpredict){ (uint16_t)atoi(argv[5]), 1, 0, 0, 1 };
		if (argc > 6)	/* both sides sequential: 64 ports, strided */
			cfg.nports = natpredict_stride(&np, atoi(argv[6]),
			    ports, 64);
		else
			cfg.nports = natpredict_ports(&np, ports,
			    NATPREDICT_MAX);
		if (cfg.nports == 0)
			return usage();
		cfg.ports = ports;
	}
	p.t0 = now();
	if (punch) {
		if ((p.fd[0] = bp_socket(0)) == -1)
			return 1;
		p.nfd = 1;
		/* the same bounds as a birthday run: window and grace */
		p.b.state = BDAY_RUNNING;
		p.b.start = p.t0;
		next = p.t0;
	} else {
		if (birthday_start(&p.b, &cfg, &cb, p.t0, (uint64_t)getpid() ^
		    (uint64_t)(p.t0 * 1e6)) == -1) {
			fprintf(stderr, "bdayprobe: %s\n", p.b.reason);
			return 1;
		}
		next = p.t0;
	}
	for (;;) {
		t = now();
		if (punch) {
			if (t >= punch_next && !got_answer &&
			    t < p.t0 + cfg.window) {
				bp_tx(&p, p.fd[0], &p.peer, '?');
				punch_next = t + 0.2;
			}
			next = punch_next;
			if (t >= p.t0 + cfg.window + BIRTHDAY_GRACE &&
			    !got_answer)
				break;
		} else if (p.b.state == BDAY_RUNNING && t >= next &&
		    (next = birthday_tick(&p.b, t)) < 0)
			next = t + 0.1;
		if (done_at >= 0 && t >= done_at)
			break;
		if (p.b.state == BDAY_FAILED && !punch && done_at < 0)
			break;
		for (i = 0; i < p.nfd; i++) {
			pfd[i].fd = p.fd[i];
			pfd[i].events = POLLIN;
		}
		r = poll(pfd, p.nfd, (int)fmax(1, (fmin(next,
		    done_at >= 0 ? done_at : next) - t) * 1000));
		if (r == -1 && errno != EINTR)
			return 1;
		for (i = 0; r > 0 && i < p.nfd; i++) {
			if (p.fd[i] < 0 || !(pfd[i].revents & POLLIN))
				continue;
			switch (bp_rx(&p, i)) {
			case 1:
				got_answer = 1;
				break;
			case 2:
				got_probe = 1;
				break;
			}
			/* answered: done, after lingering 0.5 s to answer
			 * the other side's last probes */
			if (done_at < 0 && got_answer) {
				won_t = now() - p.t0;
				done_at = now() + 0.5;
			}
		}
	}
	t = now() - p.t0;
	if (got_answer) {
		printf("won %.2f sent %u%s\n", won_t, p.sent,
		    got_probe ? "" : " (no probe of theirs arrived)");
		return 0;
	}
	printf("failed %.2f sent %u: %s\n", t, p.sent,
	    punch ? "no answer" : p.b.reason);
	return 2;
}
