/*
 * punchd's batched receive (punchd/sock_rx.c) and its use by the node's
 * reader (sock_read_fd, punchd/sock.c), on loopback UDP sockets.
 * Checks: a GRO buffer is cut into the sender's datagrams, including
 * hostile segment sizes (0, 1, larger than the buffer, a cut tail); a
 * burst interleaved from three sources arrives whole, each datagram with
 * its own source and in its source's order, a 65507-byte one uncut, at
 * most a budget's worth per read; a UDP_SEGMENT run from one source
 * (sock_send_segs) between two plain datagrams of another comes out as
 * the datagrams sent, through one GRO buffer where the kernel has GRO,
 * over IPv4 and IPv6; and a packet that
 * closes the hard-NAT socket it came on ends the batch read from it.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "punchd/punchd.h"
#include "punchd/sock_rx.h"
#include "suites.h"

#define SRC_MAX		256

struct got {
	int		n;
	size_t		len[SRC_MAX];
	uint8_t		tag[SRC_MAX][2];	/* first two bytes */
	uint16_t	port[SRC_MAX];
	int		af[SRC_MAX];
	const uint8_t	*at[SRC_MAX];
	int		stop_at;		/* -1 on that call; 0 never */
};

static int
got_cb(void *arg, uint8_t *buf, size_t len, const struct sockaddr *from)
{
	struct got *g = arg;

	ck_assert_int_lt(g->n, SRC_MAX);
	g->len[g->n] = len;
	g->at[g->n] = buf;
	g->tag[g->n][0] = len > 0 ? buf[0] : 0;
	g->tag[g->n][1] = len > 1 ? buf[1] : 0;
	g->port[g->n] = netaddr_port(from);
	g->af[g->n] = from->sa_family;
	g->n++;
	return g->n == g->stop_at ? -1 : 0;
}

START_TEST(test_split)
{
	static uint8_t		buf[1037];
	struct sockaddr_in	from = { .sin_family = AF_INET,
				    .sin_port = htons(4242) };
	struct got		g;
	int			i;

	/* a run of 10 x 100 and a last one of 37, the source on each */
	memset(&g, 0, sizeof(g));
	ck_assert_int_eq(sock_rx_split(buf, 1037, 100, 0,
	    (struct sockaddr *)&from, got_cb, &g), 11);
	for (i = 0; i < 11; i++) {
		ck_assert_ptr_eq(g.at[i], buf + 100 * i);
		ck_assert_uint_eq(g.len[i], i < 10 ? 100 : 37);
		ck_assert_uint_eq(g.port[i], 4242);
	}
	/* no size: one datagram, even an empty one (the dispatch counts it) */
	memset(&g, 0, sizeof(g));
	ck_assert_int_eq(sock_rx_split(buf, 1037, 0, 0,
	    (struct sockaddr *)&from, got_cb, &g), 1);
	ck_assert_uint_eq(g.len[0], 1037);
	memset(&g, 0, sizeof(g));
	ck_assert_int_eq(sock_rx_split(buf, 0, 0, 0,
	    (struct sockaddr *)&from, got_cb, &g), 1);
	ck_assert_uint_eq(g.len[0], 0);
	/* a run with no bytes: nothing */
	memset(&g, 0, sizeof(g));
	ck_assert_int_eq(sock_rx_split(buf, 0, 100, 0,
	    (struct sockaddr *)&from, got_cb, &g), 0);
	/* a size the buffer does not reach, or SIZE_MAX: one datagram */
	memset(&g, 0, sizeof(g));
	ck_assert_int_eq(sock_rx_split(buf, 1037, 1037, 0,
	    (struct sockaddr *)&from, got_cb, &g), 1);
	ck_assert_int_eq(sock_rx_split(buf, 1037, SIZE_MAX, 0,
	    (struct sockaddr *)&from, got_cb, &g), 1);
	ck_assert_uint_eq(g.len[1], 1037);
	/* size 1: one-byte datagrams, bounded by the buffer */
	memset(&g, 0, sizeof(g));
	ck_assert_int_eq(sock_rx_split(buf, 200, 1, 0,
	    (struct sockaddr *)&from, got_cb, &g), 200);
	ck_assert_ptr_eq(g.at[199], buf + 199);
	/* cut by the kernel: the cut tail is no datagram; a cut on a
	 * boundary loses none of what arrived */
	memset(&g, 0, sizeof(g));
	ck_assert_int_eq(sock_rx_split(buf, 1037, 100, 1,
	    (struct sockaddr *)&from, got_cb, &g), 10);
	ck_assert_int_eq(sock_rx_split(buf, 1000, 100, 1,
	    (struct sockaddr *)&from, got_cb, &g), 10);
	ck_assert_int_eq(sock_rx_split(buf, 99, 100, 1,
	    (struct sockaddr *)&from, got_cb, &g), 0);
	ck_assert_int_eq(g.n, 20);
	/* the callback stops it */
	memset(&g, 0, sizeof(g));
	g.stop_at = 3;
	ck_assert_int_eq(sock_rx_split(buf, 1037, 100, 0,
	    (struct sockaddr *)&from, got_cb, &g), -1);
	ck_assert_int_eq(g.n, 3);
}
END_TEST

/* the loopback address of lo_af's family (the GRO case runs over both) */
static int	lo_af = AF_INET;

static socklen_t
lo_addr(struct sockaddr_storage *ss, uint16_t port)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (lo_af == AF_INET6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		sin6->sin6_port = htons(port);
		return sizeof(*sin6);
	}
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin->sin_port = htons(port);
	return sizeof(*sin);
}

/* fd bound to loopback and a port of the kernel's: which, 0 if it cannot
 * be (a host without IPv6) */
static uint16_t
bind_lo(int fd)
{
	struct sockaddr_storage	ss;
	socklen_t		len = lo_addr(&ss, 0);

	if (bind(fd, (struct sockaddr *)&ss, len) == -1)
		return 0;
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	return netaddr_port((struct sockaddr *)&ss);
}

/* a UDP socket on loopback, its port in *port; -1 without lo_af */
static int
udp_lo(uint16_t *port)
{
	int fd = socket(lo_af, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	if (fd != -1 && (*port = bind_lo(fd)) == 0) {
		close(fd);
		fd = -1;
	}
	ck_assert(fd != -1 || lo_af == AF_INET6);
	return fd;
}

static void
send_lo(int fd, uint16_t port, const void *buf, size_t len)
{
	struct sockaddr_storage	ss;
	socklen_t		sl = lo_addr(&ss, port);

	ck_assert_int_eq(sendto(fd, buf, len, 0, (struct sockaddr *)&ss, sl),
	    (ssize_t)len);
}

START_TEST(test_burst)
{
	static uint8_t	 big[65507], pkt[300];
	struct sock_rx	*rx = sock_rx_new();
	struct got	 g;
	uint16_t	 rport, sport[3];
	int		 rfd, sfd[3], i, k, seq[3] = { 0, 0, 0 }, n;

	ck_assert_ptr_nonnull(rx);
	rfd = udp_lo(&rport);
	for (k = 0; k < 3; k++)
		sfd[k] = udp_lo(&sport[k]);
	/* the largest UDP payload arrives uncut */
	memset(big, 0xab, sizeof(big));
	send_lo(sfd[0], rport, big, sizeof(big));
	memset(&g, 0, sizeof(g));
	ck_assert_int_eq(sock_rx_read(rx, rfd, 64, got_cb, &g), 1);
	ck_assert_uint_eq(g.len[0], sizeof(big));
	ck_assert_uint_eq(g.port[0], sport[0]);
	ck_assert_int_eq(g.at[0][sizeof(big) - 1], 0xab);
	/* 3 x 40, interleaved, sizes varying */
	for (i = 0; i < 40; i++)
		for (k = 0; k < 3; k++) {
			memset(pkt, i, sizeof(pkt));
			pkt[0] = (uint8_t)k;
			send_lo(sfd[k], rport, pkt, 2 + (size_t)(i * 7 + k));
		}
	memset(&g, 0, sizeof(g));
	n = sock_rx_read(rx, rfd, 64, got_cb, &g);
	ck_assert_int_ge(n, 64);
	ck_assert_int_lt(n, 120);	/* a budget, not the whole queue */
	n += sock_rx_read(rx, rfd, 64, got_cb, &g);
	ck_assert_int_eq(n, 120);
	ck_assert_int_eq(g.n, 120);
	for (i = 0; i < g.n; i++) {
		k = g.tag[i][0];
		ck_assert_int_lt(k, 3);
		ck_assert_uint_eq(g.port[i], sport[k]);
		ck_assert_int_eq(g.tag[i][1], seq[k]);
		ck_assert_uint_eq(g.len[i], 2 + (size_t)(seq[k] * 7 + k));
		seq[k]++;
	}
	ck_assert_int_eq(sock_rx_read(rx, rfd, 64, got_cb, &g), 0);
	ck_assert_uint_eq(sock_rx_stats(rx)->datagrams, 121);
	for (k = 0; k < 3; k++)
		close(sfd[k]);
	close(rfd);
	sock_rx_free(rx);
}
END_TEST

/* 10 x 100 bytes and 37 from fd as punchd sends a run (sock_gso.c: one
 * UDP_SEGMENT send where the kernel can) */
static void
send_run(int fd, uint16_t port)
{
	static uint8_t		run[1037];
	struct punchd		*pd = calloc(1, sizeof(*pd));
	struct sockaddr_storage	ss;
	int			i;

	ck_assert_ptr_nonnull(pd);
	pd->fd4 = pd->fd6 = pd->via_fd = -1;
	*(lo_af == AF_INET ? &pd->fd4 : &pd->fd6) = fd;
	for (i = 0; i < 11; i++) {
		run[100 * i] = 1;
		run[100 * i + 1] = (uint8_t)i;
	}
	lo_addr(&ss, port);
	ck_assert_int_eq(sock_send_segs(pd, run, sizeof(run), 100,
	    (struct sockaddr *)&ss), 0);
	ck_assert_uint_eq(pd->ctr.tx_datagrams, 11);
	free(pd);
}

START_TEST(test_gro)
{
	struct sock_rx	*rx = sock_rx_new();
	struct got	 g;
	uint8_t		 plain[2] = { 2, 0 };
	uint16_t	 rport, p1, p2;
	int		 rfd, s1, s2, gro, i;

	ck_assert_ptr_nonnull(rx);
	lo_af = _i == 0 ? AF_INET : AF_INET6;
	if ((rfd = udp_lo(&rport)) == -1) {
		sock_rx_free(rx);	/* no IPv6 loopback here */
		lo_af = AF_INET;
		return;
	}
	s1 = udp_lo(&p1);
	s2 = udp_lo(&p2);
	gro = sock_rx_gro(rfd) == 0;
	send_lo(s2, rport, plain, sizeof(plain));
	send_run(s1, rport);
	plain[1] = 1;
	send_lo(s2, rport, plain, sizeof(plain));
	memset(&g, 0, sizeof(g));
	ck_assert_int_eq(sock_rx_read(rx, rfd, 64, got_cb, &g), 13);
	ck_assert_uint_eq(g.port[0], p2);
	ck_assert_int_eq(g.tag[0][1], 0);
	for (i = 0; i < 11; i++) {
		ck_assert_uint_eq(g.port[1 + i], p1);
		ck_assert_uint_eq(g.len[1 + i], i < 10 ? 100 : 37);
		ck_assert_int_eq(g.tag[1 + i][0], 1);
		ck_assert_int_eq(g.tag[1 + i][1], i);
	}
	ck_assert_uint_eq(g.port[12], p2);
	ck_assert_int_eq(g.tag[12][1], 1);
	/* loopback keeps a UDP_SEGMENT send whole: one buffer, one run
	 * (a kernel with UDP_GRO has UDP_SEGMENT too) */
	if (gro) {
		ck_assert_uint_eq(sock_rx_stats(rx)->buffers, 3);
		ck_assert_uint_eq(sock_rx_stats(rx)->runs, 1);
	}
	for (i = 0; i < g.n; i++)
		ck_assert_int_eq(g.af[i], lo_af);
	close(s1);
	close(s2);
	close(rfd);
	sock_rx_free(rx);
	lo_af = AF_INET;
}
END_TEST

static struct punchd	*close_pd;
static int		 close_fd, close_after, close_n;

static void
close_rx(struct punchd *pd, uint8_t *buf, size_t len,
    const struct sockaddr *from)
{
	(void)buf;
	(void)len;
	(void)from;
	ck_assert_int_eq(pd->via_fd, close_fd);	/* answers leave by it */
	if (++close_n == close_after)
		sock_close_extra(close_pd, close_fd);
}

START_TEST(test_extra_closed)
{
	struct punchd	*pd = calloc(1, sizeof(*pd));
	uint8_t		 pkt[40];
	uint16_t	 rport, sport;
	int		 sfd, i;

	ck_assert_ptr_nonnull(pd);
	pd->fd4 = pd->fd6 = pd->via_fd = -1;
	pd->hooks.packet_rx = close_rx;
	close_pd = pd;
	close_fd = sock_open_extra(AF_INET);
	ck_assert_int_ne(close_fd, -1);
	rport = bind_lo(close_fd);
	sfd = udp_lo(&sport);
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0x61;		/* ours, by its first byte */
	for (i = 0; i < 10; i++)
		send_lo(sfd, rport, pkt, sizeof(pkt));
	close_after = 3;
	sock_read_fd(pd, close_fd);
	/* the other 7 were read with the 3 but left with their socket */
	ck_assert_int_eq(close_n, 3);
	ck_assert_uint_eq(pd->ctr.rx_datagrams, 3);
	ck_assert_int_eq(pd->via_fd, -1);
	close(sfd);
	sock_close(pd);		/* frees the receive buffers */
	ck_assert_ptr_null(pd->rx);
	free(pd);
}
END_TEST

Suite *
sockrx_suite(void)
{
	Suite	*s = suite_create("sockrx");
	TCase	*tc = tcase_create("sockrx");

	tcase_add_test(tc, test_split);
	tcase_add_test(tc, test_burst);
	tcase_add_loop_test(tc, test_gro, 0, 2);	/* IPv4, IPv6 */
	tcase_add_test(tc, test_extra_closed);
	suite_add_tcase(s, tc);
	return s;
}
