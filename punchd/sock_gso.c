/*
 * Several datagrams to one address in one system call: UDP generic
 * segmentation offload (UDP_SEGMENT, Linux 4.18). The caller hands a run of
 * packets of one size (the last may be shorter) laid end to end; the
 * kernel walks the stack once and splits the run into ordinary datagrams,
 * so the receiver sees nothing new. The mesh interface sends its drains
 * this way (iface.c); where the kernel or the path cannot, one sock_send()
 * per datagram, as before.
 */
#include <sys/socket.h>

#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>

#include "common/log.h"
#include "punchd.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT	103
#endif

static int	sock_gso_off;	/* the kernel said no once: never again */

static int
sock_gso_each(struct punchd *pd, const uint8_t *buf, size_t len, size_t seg,
    const struct sockaddr *to)
{
	size_t	off, n;
	int	rc = 0;

	for (off = 0; off < len; off += n) {
		n = len - off < seg ? len - off : seg;
		if (sock_send(pd, buf + off, n, to) == -1)
			rc = -1;
	}
	return rc;
}

int
sock_send_segs(struct punchd *pd, const uint8_t *buf, size_t len, size_t seg,
    const struct sockaddr *to)
{
	union {
		struct cmsghdr	c;
		char		b[CMSG_SPACE(sizeof(uint16_t))];
	}		 cm;
	struct msghdr	 mh;
	struct iovec	 iov;
	struct cmsghdr	*c;
	uint16_t	 gso = (uint16_t)seg;
	int		 fd;

	fd = to->sa_family == AF_INET ? pd->fd4 : pd->fd6;
	if (len <= seg || sock_gso_off || pd->hooks.sock_tx != NULL ||
	    fd == -1 || seg > UINT16_MAX)
		return sock_gso_each(pd, buf, len, seg, to);
	memset(&mh, 0, sizeof(mh));
	memset(&cm, 0, sizeof(cm));
	iov.iov_base = (void *)buf;
	iov.iov_len = len;
	mh.msg_name = (void *)to;
	mh.msg_namelen = netaddr_len(to);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.b;
	mh.msg_controllen = sizeof(cm.b);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_UDP;
	c->cmsg_type = UDP_SEGMENT;
	c->cmsg_len = CMSG_LEN(sizeof(gso));
	memcpy(CMSG_DATA(c), &gso, sizeof(gso));
	if (sendmsg(fd, &mh, 0) == -1) {
		if (errno == EAGAIN || errno == ECONNREFUSED) {
			pd->ctr.tx_errors += (len + seg - 1) / seg;
			return -1;
		}
		/* no GSO here (EIO, ENOPROTOOPT, EINVAL: the device, the
		 * kernel, a path MTU below the segment): one by one */
		log_info("UDP segmentation offload refused (%s): datagrams "
		    "sent one by one from now on", strerror(errno));
		sock_gso_off = 1;
		return sock_gso_each(pd, buf, len, seg, to);
	}
	pd->ctr.tx_datagrams += (len + seg - 1) / seg;
	return 0;
}
