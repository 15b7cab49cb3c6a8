/*
 * TUN device and its rtnetlink set-up (tun.h). Own netlink code: three
 * requests (link MTU/up, two addresses) do not justify libmnl, and
 * common/netroute.c only reads /proc.
 *
 * Batching: a TUN fd yields one packet per read(2) and takes one per
 * write(2); there is no recvmmsg for it. What batching the kernel allows
 * without vnet headers is draining the queue in one wake-up (one poll per
 * burst, not per packet), which tun_read_batch does. IFF_VNET_HDR with
 * TUNSETOFFLOAD (TSO/GSO) would pay: measured through tests/tools/tunpipe,
 * 79 % of the data path's CPU is in the kernel (TUN and UDP per packet),
 * and XChaCha20-Poly1305 costs 1.2 s/GB per direction, a small part of
 * the 15-17 s/GB total (docs/mesh-interface.md). The socket's half is
 * built (UDP_SEGMENT out, sock_gso.c; UDP_GRO in, sock_rx.c); what is
 * left is this side's: super-packets segmented before sealing, GRO runs
 * coalesced into one write. Now the largest share: the receiving punchd
 * spends 59 % of its CPU in the per-packet write (mesh-interface.md).
 */
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <string.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/virtio_net.h>

#include "common/log.h"
#include "punchd/tun.h"

int
tun_open(const char *name, int flags, char *ifname)
{
	struct ifreq	ifr;
	int		fd;

	if (strlen(name) >= IFNAMSIZ) {
		log_warnx("%s: name too long: %s", __func__, name);
		return -1;
	}
	if ((fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC)) == -1) {
		log_warn("%s: /dev/net/tun", __func__);
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	if (flags & TUN_F_MULTI_QUEUE)
		ifr.ifr_flags |= IFF_MULTI_QUEUE;
	if (flags & TUN_F_VNET)
		ifr.ifr_flags |= IFF_VNET_HDR;
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(fd, TUNSETIFF, &ifr) == -1) {
		log_warn("%s: TUNSETIFF %s", __func__, name);
		close(fd);
		return -1;
	}
	memcpy(ifname, ifr.ifr_name, IFNAMSIZ);
	ifname[IFNAMSIZ - 1] = '\0';
	return fd;
}

/* One rtnetlink request being built: header, fixed part, attributes. */
union tun_nlreq {
	struct nlmsghdr	h;
	uint8_t		b[512];
};

static void *
tun_nl_begin(union tun_nlreq *r, int type, int flags, const void *fixed,
    size_t len)
{
	memset(r, 0, sizeof(*r));
	r->h.nlmsg_type = type;
	r->h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	r->h.nlmsg_len = NLMSG_LENGTH(len);
	memcpy(NLMSG_DATA(&r->h), fixed, len);
	return NLMSG_DATA(&r->h);
}

static void
tun_nl_attr(union tun_nlreq *r, int type, const void *data, size_t len)
{
	struct rtattr	*a;

	/* callers add at most two 16-byte addresses and two u32s */
	a = (struct rtattr *)(r->b + NLMSG_ALIGN(r->h.nlmsg_len));
	a->rta_type = type;
	a->rta_len = RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	r->h.nlmsg_len = NLMSG_ALIGN(r->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

/* Send and wait for the kernel's ack: 0, or -1 with errno set. */
static int
tun_nl_talk(int fd, union tun_nlreq *r, uint32_t seq)
{
	struct sockaddr_nl	 kernel = { .nl_family = AF_NETLINK };
	union {
		struct nlmsghdr	 h;
		uint8_t		 b[4096];
	}			 ans;
	struct nlmsghdr		*h;
	struct nlmsgerr		*e;
	ssize_t			 n;

	r->h.nlmsg_seq = seq;
	if (sendto(fd, r, r->h.nlmsg_len, 0, (struct sockaddr *)&kernel,
	    sizeof(kernel)) == -1)
		return -1;
	for (;;) {
		if ((n = recv(fd, &ans, sizeof(ans), 0)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (h = &ans.h; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != seq || h->nlmsg_type != NLMSG_ERROR)
				continue;
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e))) {
				errno = EPROTO;
				return -1;
			}
			e = NLMSG_DATA(h);
			if (e->error == 0)
				return 0;
			errno = -e->error;
			return -1;
		}
	}
}

static int
tun_nl_addr(int fd, int ifindex, int family, const void *addr, int plen,
    uint32_t seq)
{
	union tun_nlreq	r;
	struct ifaddrmsg	ifa = {
		.ifa_family = family,
		.ifa_prefixlen = plen,
		.ifa_scope = RT_SCOPE_UNIVERSE,
		.ifa_index = ifindex,
	};
	uint32_t		fl = IFA_F_NODAD;
	size_t			len = family == AF_INET ? 4 : 16;

	if (family == AF_INET6)
		ifa.ifa_flags = IFA_F_NODAD;
	tun_nl_begin(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, &ifa,
	    sizeof(ifa));
	tun_nl_attr(&r, IFA_LOCAL, addr, len);
	tun_nl_attr(&r, IFA_ADDRESS, addr, len);
	if (family == AF_INET6)
		tun_nl_attr(&r, IFA_FLAGS, &fl, sizeof(fl));
	return tun_nl_talk(fd, &r, seq);
}

static int
tun_nl_link(int fd, int ifindex, uint32_t mtu, int up, uint32_t seq)
{
	union tun_nlreq	r;
	struct ifinfomsg	ifi = {
		.ifi_family = AF_UNSPEC,
		.ifi_index = ifindex,
		.ifi_flags = up ? IFF_UP : 0,
		.ifi_change = up ? IFF_UP : 0,
	};

	tun_nl_begin(&r, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
	if (mtu != 0)
		tun_nl_attr(&r, IFLA_MTU, &mtu, sizeof(mtu));
	return tun_nl_talk(fd, &r, seq);
}

int
tun_setup(const char *ifname, const struct tun_config *c)
{
	static const uint8_t	 zero[16];
	uint32_t		 v4 = htonl(c->v4);
	int			 fd, ifindex, rc = -1;
	const char		*what = "socket";

	if (c->mtu < TUN_MTU_MIN || c->mtu > TUN_MTU_MAX) {
		log_warnx("%s: MTU %d outside %d..%d", __func__, c->mtu,
		    TUN_MTU_MIN, TUN_MTU_MAX);
		return -1;
	}
	if ((ifindex = (int)if_nametoindex(ifname)) == 0) {
		log_warn("%s: %s", __func__, ifname);
		return -1;
	}
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd == -1)
		goto out;
	/* the MTU first: IPv6 refuses a link under 1280 */
	what = "MTU";
	if (tun_nl_link(fd, ifindex, c->mtu, 0, 1) == -1)
		goto out;
	what = "IPv4 address";
	if (c->v4 != 0 &&
	    tun_nl_addr(fd, ifindex, AF_INET, &v4, c->v4_plen, 2) == -1)
		goto out;
	what = "IPv6 address";
	if (memcmp(c->v6, zero, 16) != 0 &&
	    tun_nl_addr(fd, ifindex, AF_INET6, c->v6, c->v6_plen, 3) == -1)
		goto out;
	what = "link up";
	if (tun_nl_link(fd, ifindex, 0, 1, 4) == -1)
		goto out;
	rc = 0;
out:
	if (rc == -1 && errno == EACCES && strcmp(what, "IPv6 address") == 0)
		log_warnx("%s: %s: IPv6 is disabled for new links "
		    "(net.ipv6.conf.default.disable_ipv6)", __func__, ifname);
	else if (rc == -1)
		log_warn("%s: %s: %s", __func__, ifname, what);
	if (fd != -1)
		close(fd);
	return rc;
}

int
tun_read_batch(int fd, uint8_t *const *bufs, size_t cap, size_t *lens,
    int max)
{
	ssize_t	n;
	int	i = 0;

	while (i < max) {
		n = read(fd, bufs[i], cap);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			log_warn("%s: read", __func__);
			return i > 0 ? i : -1;
		}
		lens[i++] = (size_t)n;
	}
	return i;
}

int
tun_write(int fd, const uint8_t *pkt, size_t len)
{
	ssize_t	n;

	do
		n = write(fd, pkt, len);
	while (n == -1 && errno == EINTR);
	return n == -1 ? -1 : 0;
}

int
tun_offload(int fd)
{
	if (ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 |
	    TUN_F_TSO_ECN) == -1) {
		log_warn("%s: TUNSETOFFLOAD", __func__);
		return -1;
	}
	return 0;
}

ssize_t
tun_read_vnet(int fd, uint8_t *buf, size_t cap)
{
	ssize_t n;

	do
		n = read(fd, buf, cap);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
	if ((size_t)n <= sizeof(struct virtio_net_hdr)) {
		errno = EPROTO;
		return -1;
	}
	return n - (ssize_t)sizeof(struct virtio_net_hdr);
}

int
tun_write_vnet(int fd, const void *hdr, const uint8_t *pkt, size_t len)
{
	struct iovec	iov[2];
	ssize_t		n;

	iov[0].iov_base = (void *)(uintptr_t)hdr;
	iov[0].iov_len = sizeof(struct virtio_net_hdr);
	iov[1].iov_base = (void *)(uintptr_t)pkt;
	iov[1].iov_len = len;
	do
		n = writev(fd, iov, 2);
	while (n == -1 && errno == EINTR);
	return n == -1 ? -1 : 0;
}

/* capget/capset have no glibc wrapper (libcap would be a dependency for
 * two system calls) */
static int
tun_caps(int set, struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h;

	memset(&h, 0, sizeof(h));
	h.version = _LINUX_CAPABILITY_VERSION_3;
	return (int)syscall(set ? SYS_capset : SYS_capget, &h, d);
}

int
tun_have_admin(void)
{
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	if (tun_caps(0, d) == -1)
		return 0;
	return (d[0].effective & (1u << CAP_NET_ADMIN)) != 0;
}

int
tun_drop_admin(void)
{
	struct __user_cap_data_struct	d[2];
	uint32_t			bit = 1u << CAP_NET_ADMIN;

	/* EINVAL: a kernel without ambient capabilities, nothing to lower */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, CAP_NET_ADMIN, 0, 0)
	    == -1 && errno != EINVAL) {
		log_warn("%s: PR_CAP_AMBIENT_LOWER", __func__);
		return -1;
	}
	memset(d, 0, sizeof(d));
	if (tun_caps(0, d) == -1) {
		log_warn("%s: capget", __func__);
		return -1;
	}
	d[0].effective &= ~bit;
	d[0].permitted &= ~bit;
	d[0].inheritable &= ~bit;
	if (tun_caps(1, d) == -1) {
		log_warn("%s: capset", __func__);
		return -1;
	}
	return 0;
}
