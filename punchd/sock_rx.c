/*
 * Batched receive (sock_rx.h). One recvmmsg fills up to SOCK_RX_MSGS
 * buffers; with UDP_GRO on the socket the kernel may also hand one buffer
 * holding a run of datagrams of one size from one source (the last may be
 * shorter), with the size in a UDP_GRO control message. A sender's
 * UDP_SEGMENT send (sock_gso.c) then crosses the stack as one packet
 * (loopback, veth and bridges keep it whole; a NIC's GRO builds such
 * runs too) instead of being cut into datagrams before our socket.
 * sock_rx_split cuts it back: the callback sees exactly the datagrams the
 * sender sent, each with the run's source address.
 *
 * The buffers are allocated once, each the largest a UDP payload or a
 * GRO run can be (64 KiB), so a datagram is never cut: what recvfrom
 * into a PACKET_MAX_LEN buffer saw, this sees. Their pages are touched
 * only as far as data lands in them.
 */
#include <sys/socket.h>

#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "punchd/sock_rx.h"

#ifndef UDP_GRO
#define UDP_GRO		104
#endif

/* buffers per recvmmsg: 16 x 64 KiB. Without GRO a call reads up to 16
 * datagrams (one system call instead of 16); with it up to 16 runs of up
 * to 64 datagrams each (UDP_GRO_CNT_MAX). */
#define SOCK_RX_MSGS	16
#define SOCK_RX_BUF	65536

struct sock_rx {
	struct sock_rx_stats	 st;
	struct mmsghdr		 msgs[SOCK_RX_MSGS];
	struct iovec		 iov[SOCK_RX_MSGS];
	struct sockaddr_storage	 from[SOCK_RX_MSGS];
	union {
		struct cmsghdr	 c;
		char		 b[CMSG_SPACE(sizeof(int))];
	}			 cm[SOCK_RX_MSGS];
	uint8_t			 buf[SOCK_RX_MSGS][SOCK_RX_BUF];
};

struct sock_rx *
sock_rx_new(void)
{
	struct sock_rx	*rx;
	int		 i;

	if ((rx = calloc(1, sizeof(*rx))) == NULL)
		return NULL;
	for (i = 0; i < SOCK_RX_MSGS; i++) {
		rx->iov[i].iov_base = rx->buf[i];
		rx->iov[i].iov_len = sizeof(rx->buf[i]);
		rx->msgs[i].msg_hdr.msg_iov = &rx->iov[i];
		rx->msgs[i].msg_hdr.msg_iovlen = 1;
		rx->msgs[i].msg_hdr.msg_name = &rx->from[i];
		rx->msgs[i].msg_hdr.msg_control = rx->cm[i].b;
	}
	return rx;
}

const struct sock_rx_stats *
sock_rx_stats(const struct sock_rx *rx)
{
	return &rx->st;
}

void
sock_rx_free(struct sock_rx *rx)
{
	free(rx);
}

int
sock_rx_gro(int fd)
{
	return setsockopt(fd, SOL_UDP, UDP_GRO, &(int){ 1 }, sizeof(int));
}

/* the lengths the last call changed */
static void
sock_rx_arm(struct sock_rx *rx)
{
	int i;

	for (i = 0; i < SOCK_RX_MSGS; i++) {
		rx->msgs[i].msg_hdr.msg_namelen = sizeof(rx->from[i]);
		rx->msgs[i].msg_hdr.msg_controllen = sizeof(rx->cm[i].b);
		rx->msgs[i].msg_hdr.msg_flags = 0;
	}
}

/* the UDP_GRO segment size of a received buffer, 0 for one datagram */
static size_t
sock_rx_segsize(struct msghdr *mh)
{
	struct cmsghdr	*c;
	int		 v;

	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c))
		if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO &&
		    c->cmsg_len >= CMSG_LEN(sizeof(int))) {
			memcpy(&v, CMSG_DATA(c), sizeof(v));
			return v > 0 ? (size_t)v : 0;
		}
	return 0;
}

int
sock_rx_split(uint8_t *buf, size_t len, size_t seg, int trunc,
    const struct sockaddr *from, sock_rx_fn fn, void *arg)
{
	size_t	off, n;
	int	k = 0;

	if (seg == 0)
		return fn(arg, buf, len, from) == -1 ? -1 : 1;
	for (off = 0; off < len; off += n) {
		n = len - off < seg ? len - off : seg;
		if (trunc && n < seg)
			break;		/* cut by the kernel: not a datagram */
		if (fn(arg, buf + off, n, from) == -1)
			return -1;
		k++;
	}
	return k;
}

/* buffer i of the last batch to fn; as sock_rx_split */
static int
sock_rx_one(struct sock_rx *rx, int i, sock_rx_fn fn, void *arg)
{
	struct msghdr	*mh = &rx->msgs[i].msg_hdr;
	size_t		 len = rx->msgs[i].msg_len, seg = sock_rx_segsize(mh);
	int		 trunc = (mh->msg_flags & MSG_TRUNC) != 0, r;

	rx->st.buffers++;
	if (seg != 0)
		rx->st.runs++;
	r = sock_rx_split(rx->buf[i], len, seg, trunc,
	    (struct sockaddr *)&rx->from[i], fn, arg);
	if (r >= 0) {
		rx->st.datagrams += (uint64_t)r;
		if (trunc && seg != 0 && len % seg != 0)
			rx->st.cut++;
	}
	return r;
}

int
sock_rx_read(struct sock_rx *rx, int fd, int budget, sock_rx_fn fn,
    void *arg)
{
	int	done = 0, n, i, r, want;

	while (done < budget) {
		/* no more buffers than the budget has datagrams left (a GRO
		 * run still brings up to 64 in one) */
		want = budget - done < SOCK_RX_MSGS ? budget - done : SOCK_RX_MSGS;
		sock_rx_arm(rx);
		n = recvmmsg(fd, rx->msgs, (unsigned)want, MSG_DONTWAIT, NULL);
		if (n == -1) {
			/* ECONNREFUSED: an ICMP error a send of ours earned */
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNREFUSED)
				log_warn("%s: recvmmsg", __func__);
			break;
		}
		rx->st.calls++;
		for (i = 0; i < n; i++) {
			if ((r = sock_rx_one(rx, i, fn, arg)) == -1)
				return done;
			done += r;
		}
		/* a short batch: the queue was empty a moment ago, and the
		 * watcher fires again for what came since */
		if (n < want)
			break;
	}
	return done;
}
