/*
 * rtnetlink, watched: netwatch.h. The messages are only counted, never
 * interpreted: which address went or came is getifaddrs' answer when the
 * burst is over (sock_host_addrs), read whole rather than patched from
 * deltas that the kernel may drop under load (ENOBUFS says so, and counts
 * as a change).
 */
#include "netwatch.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <ev.h>

#include "common/log.h"

struct netwatch {
	ev_io		 io;
	struct ev_loop	*loop;
	int		 fd;
	netwatch_cb	*cb;
	void		*arg;
};

int
netwatch_parse(const void *buf, size_t len)
{
	const struct nlmsghdr	*nh = buf;
	int			 n = 0, left = (int)len;

	if (len > INT32_MAX)
		return -1;
	for (; NLMSG_OK(nh, left); nh = NLMSG_NEXT(nh, left)) {
		switch (nh->nlmsg_type) {
		case RTM_NEWADDR:
		case RTM_DELADDR:
			if (nh->nlmsg_len < NLMSG_LENGTH(
			    sizeof(struct ifaddrmsg)))
				return -1;
			n++;
			break;
		case RTM_NEWROUTE:
		case RTM_DELROUTE:
			if (nh->nlmsg_len < NLMSG_LENGTH(
			    sizeof(struct rtmsg)))
				return -1;
			/* the kernel's cloned (cache) routes are not news */
			if (!(((const struct rtmsg *)NLMSG_DATA(nh))->rtm_flags
			    & RTM_F_CLONED))
				n++;
			break;
		case NLMSG_ERROR:
		case NLMSG_DONE:
		case NLMSG_NOOP:
		default:
			break;
		}
	}
	/* trailing bytes that are not a whole message */
	return left != 0 ? -1 : n;
}

static void
netwatch_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct netwatch	*nw = (struct netwatch *)w;
	/* aligned for struct nlmsghdr; 8 kB holds a burst of a few dozen */
	uint32_t	 buf[2048];
	struct sockaddr_nl from;
	socklen_t	 slen;
	ssize_t		 r;
	int		 news = 0, n;

	(void)loop;
	(void)revents;
	for (;;) {
		slen = sizeof(from);
		r = recvfrom(nw->fd, buf, sizeof(buf), MSG_DONTWAIT,
		    (struct sockaddr *)&from, &slen);
		if (r == -1 && errno == ENOBUFS) {
			/* the kernel dropped messages: something changed */
			news = 1;
			continue;
		}
		if (r <= 0)
			break;
		/* the kernel's only: another process (root may send to our
		 * port id) makes no news */
		if (slen != sizeof(from) || from.nl_pid != 0)
			continue;
		if ((n = netwatch_parse(buf, (size_t)r)) == -1)
			log_debug("%s: a malformed netlink message", __func__);
		else if (n > 0)
			news = 1;
	}
	if (news)
		nw->cb(nw->arg);
}

struct netwatch *
netwatch_open(struct ev_loop *loop, netwatch_cb *cb, void *arg)
{
	struct netwatch		*nw;
	struct sockaddr_nl	 sa;

	if ((nw = calloc(1, sizeof(*nw))) == NULL) {
		log_warn("%s", __func__);
		return NULL;
	}
	nw->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    NETLINK_ROUTE);
	if (nw->fd == -1) {
		log_warn("%s: netlink socket: address changes go unseen",
		    __func__);
		free(nw);
		return NULL;
	}
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	sa.nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR |
	    RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE;
	if (bind(nw->fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		log_warn("%s: netlink bind: address changes go unseen",
		    __func__);
		close(nw->fd);
		free(nw);
		return NULL;
	}
	nw->loop = loop;
	nw->cb = cb;
	nw->arg = arg;
	ev_io_init(&nw->io, netwatch_read_cb, nw->fd, EV_READ);
	ev_io_start(loop, &nw->io);
	/* a watch alone keeps no loop running (libev's ev_unref idiom):
	 * a node with nothing else to do still ends its loop */
	ev_unref(loop);
	return nw;
}

void
netwatch_close(struct netwatch *nw)
{
	if (nw == NULL)
		return;
	ev_ref(nw->loop);
	ev_io_stop(nw->loop, &nw->io);
	close(nw->fd);
	free(nw);
}
