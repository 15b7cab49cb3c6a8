/*
 * The node's UDP socket: one per address family on the same port (IPv4,
 * and IPv6 with IPV6_V6ONLY so each family's NAT mapping is discovered
 * through its own descriptor), SO_REUSEADDR. Every datagram read here is
 * demultiplexed (RFC 7983 style, on the first byte):
 *
 *   0..3 + STUN magic cookie  -> hooks.stun_rx: stund (control_stund.c),
 *                                for the discovery it runs through a
 *                                duplicate of this socket
 *   0x61..0x67 (proto/packet.h) -> hooks.packet_rx: input.c, authenticated
 *                                there
 *   anything else              -> dropped and counted, never answered
 *
 * Read in batches (sock_rx.c: recvmmsg, and UDP_GRO runs cut back into
 * the sender's datagrams), each datagram dispatched with its own source.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "proto/stun.h"
#include "punchd.h"
#include "sock_rx.h"

/* datagrams read per wake-up before yielding to the loop (sock_rx.c reads
 * them a batch, or a GRO run, per system call) */
#define SOCK_BURST		64

void
sock_dispatch(struct punchd *pd, int fd, uint8_t *buf, size_t n,
    const struct sockaddr *from)
{
	int extra = fd != pd->fd4 && fd != pd->fd6;

	pd->ctr.rx_datagrams++;
	if (stun_is_stun(buf, n) && !extra) {
		if (pd->hooks.stun_rx != NULL)
			pd->hooks.stun_rx(pd, buf, n, from);
		else
			pd->ctr.stun_dropped++;
	} else if (packet_is_ours(buf, n) && pd->hooks.packet_rx != NULL) {
		/* what answers it leaves by the socket it came on */
		if (extra)
			sock_via(pd, fd, from);
		pd->hooks.packet_rx(pd, buf, n, from);
		if (extra)
			sock_via(pd, -1, NULL);
	} else
		pd->ctr.drop_other++;
}

void
sock_via(struct punchd *pd, int fd, const struct sockaddr *to)
{
	pd->via_fd = fd;
	memset(&pd->via_to, 0, sizeof(pd->via_to));
	if (to != NULL)
		memcpy(&pd->via_to, to, netaddr_len(to));
}

int
sock_open_extra(int family)
{
	int fd;

	/* an ephemeral port of its own: the NAT gives it its own mappings */
	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
	    &(int){ 1 }, sizeof(int)) == -1) {
		close(fd);
		return -1;
	}
	sock_rx_gro(fd);
	return fd;
}

void
sock_close_extra(struct punchd *pd, int fd)
{
	close(fd);
	pd->sock_gen++;
}

struct sock_read {
	struct punchd	*pd;
	int		 fd;
	unsigned	 gen;
};

static int
sock_read_one(void *arg, uint8_t *buf, size_t n, const struct sockaddr *from)
{
	struct sock_read	*r = arg;
	struct punchd		*pd = r->pd;

	sock_dispatch(pd, r->fd, buf, n, from);
	/* a packet ended a hard-NAT run and its sockets closed: the rest of
	 * a batch read from one of them goes with it (its number may already
	 * name another socket) */
	if (pd->sock_gen != r->gen && r->fd != pd->fd4 && r->fd != pd->fd6)
		return -1;
	return 0;
}

void
sock_read_fd(struct punchd *pd, int fd)
{
	struct sock_read		 r = { pd, fd, pd->sock_gen };
	const struct sock_rx_stats	*st;

	if (pd->rx == NULL && (pd->rx = sock_rx_new()) == NULL) {
		log_warn("%s", __func__);
		return;
	}
	sock_rx_read(pd->rx, fd, SOCK_BURST, sock_read_one, &r);
	st = sock_rx_stats(pd->rx);
	pd->ctr.rx_reads = st->calls;
	pd->ctr.rx_gro_runs = st->runs;
	pd->ctr.rx_cut = st->cut;
}

static void
sock_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	sock_read_fd(w->data, w->fd);
}

#define SOCK_RCVBUF	(4 * 1024 * 1024)

static int
sock_open_one(struct punchd *pd, const struct sockaddr *sa, int *fdp,
    ev_io *io)
{
	int	fd, on = 1;
	char	a[NETADDR_STRLEN];

	fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    (sa->sa_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) == -1) ||
	    bind(fd, sa, netaddr_len(sa)) == -1) {
		log_warn("%s: %s", __func__, netaddr_str(sa, a, sizeof(a)));
		close(fd);
		return -1;
	}
	/*
	 * The default receive buffer (~208 KiB) overflows under a burst of
	 * peer.send traffic: the NAT lab bench lost up to 67% of a 50,000
	 * datagram burst there. Ask for 4 MiB; the kernel caps it at
	 * net.core.rmem_max unless we may force it (root). Best effort.
	 */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &(int){ SOCK_RCVBUF },
	    sizeof(int)) == -1)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &(int){ SOCK_RCVBUF },
		    sizeof(int));
	/* a peer's UDP_SEGMENT run reaches us whole (sock_rx.c) */
	if (sock_rx_gro(fd) == -1)
		log_debug("%s: no UDP_GRO: %s", __func__, strerror(errno));
	*fdp = fd;
	ev_io_init(io, sock_read_cb, fd, EV_READ);
	io->data = pd;
	ev_io_start(pd->loop, io);
	return 0;
}

int
sock_open(struct punchd *pd)
{
	struct sockaddr_storage	ss;
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;
	socklen_t		len = sizeof(ss);

	pd->fd4 = pd->fd6 = -1;
	if (pd->cfg.bind[0] != '\0') {
		netaddr_parse(pd->cfg.bind, 1, &ss);
		netaddr_set_port((struct sockaddr *)&ss, pd->cfg.port);
		return sock_open_one(pd, (struct sockaddr *)&ss,
		    ss.ss_family == AF_INET ? &pd->fd4 : &pd->fd6,
		    ss.ss_family == AF_INET ? &pd->io4 : &pd->io6);
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(pd->cfg.port);
	if (sock_open_one(pd, (struct sockaddr *)&sin, &pd->fd4, &pd->io4)
	    == -1)
		return -1;
	/* port 0: IPv6 takes the port the kernel gave IPv4 */
	if (pd->cfg.port == 0 && getsockname(pd->fd4, (struct sockaddr *)&ss,
	    &len) == 0)
		pd->cfg.port = netaddr_port((struct sockaddr *)&ss);
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_addr = in6addr_any;
	sin6.sin6_port = htons(pd->cfg.port);
	if (sock_open_one(pd, (struct sockaddr *)&sin6, &pd->fd6, &pd->io6)
	    == -1)
		log_warnx("IPv6 unavailable, IPv4 only");
	return 0;
}

void
sock_close(struct punchd *pd)
{
	if (pd->fd4 != -1) {
		ev_io_stop(pd->loop, &pd->io4);
		close(pd->fd4);
	}
	if (pd->fd6 != -1) {
		ev_io_stop(pd->loop, &pd->io6);
		close(pd->fd6);
	}
	pd->fd4 = pd->fd6 = -1;
	pd->sock_gen++;
	sock_rx_free(pd->rx);
	pd->rx = NULL;
}

int
sock_send(struct punchd *pd, const void *buf, size_t len,
    const struct sockaddr *to)
{
	return sock_send_fd(pd, -1, buf, len, to);
}

int
sock_send_fd(struct punchd *pd, int fd, const void *buf, size_t len,
    const struct sockaddr *to)
{
	static struct log_ratelimit	rl;
	char				a[NETADDR_STRLEN];

	if (pd->hooks.sock_tx != NULL) {
		if (pd->hooks.sock_tx(pd, buf, len, to) == -1) {
			pd->ctr.tx_errors++;
			return -1;
		}
		pd->ctr.tx_datagrams++;
		return 0;
	}
	if (fd == -1 && pd->via_fd != -1 &&
	    netaddr_equal(to, (struct sockaddr *)&pd->via_to))
		fd = pd->via_fd;
	if (fd == -1)
		fd = to->sa_family == AF_INET ? pd->fd4 : pd->fd6;
	if (fd == -1) {
		pd->ctr.tx_errors++;
		return -1;
	}
	if (sendto(fd, buf, len, 0, to, netaddr_len(to)) == -1) {
		pd->ctr.tx_errors++;
		if (errno != EAGAIN && errno != ECONNREFUSED)
			log_warnx_rl(&rl, 10, "sendto %s: %s",
			    netaddr_str(to, a, sizeof(a)), strerror(errno));
		return -1;
	}
	pd->ctr.tx_datagrams++;
	return 0;
}

/* Usable host addresses: up, not loopback or link-local unless asked. */
static int
sock_usable(const struct punchd *pd, const struct ifaddrs *ifa)
{
	const struct sockaddr_in6 *s6;

	if (ifa->ifa_addr == NULL || !(ifa->ifa_flags & IFF_UP) ||
	    punchd_is_mesh_if(pd, ifa->ifa_name))
		return 0;
	if (ifa->ifa_addr->sa_family == AF_INET) {
		if (pd->fd4 == -1)
			return 0;
		if ((ifa->ifa_flags & IFF_LOOPBACK) && !pd->cfg.host_loopback)
			return 0;
		return 1;
	}
	if (ifa->ifa_addr->sa_family != AF_INET6 || pd->fd6 == -1)
		return 0;
	s6 = (const struct sockaddr_in6 *)ifa->ifa_addr;
	if (!pd->cfg.host_loopback && (IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr) ||
	    IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr)))
		return 0;
	return 1;
}

/* bind=0.0.0.0 or :: binds one family but still means every address */
static int
sock_wildcard(const char *bind)
{
	struct sockaddr_storage ss;

	if (netaddr_parse(bind, 1, &ss) == -1)
		return 0;
	if (ss.ss_family == AF_INET)
		return ((struct sockaddr_in *)&ss)->sin_addr.s_addr ==
		    htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&ss)->sin6_addr);
}

int
sock_host_addrs(struct punchd *pd, struct sockaddr_storage *out, int max)
{
	struct ifaddrs	*ifap, *ifa;
	int		 n = 0;

	if (pd->cfg.bind[0] != '\0' && !sock_wildcard(pd->cfg.bind)) {
		if (max < 1 || netaddr_parse(pd->cfg.bind, pd->cfg.port,
		    &out[0]) == -1)
			return 0;
		netaddr_set_port((struct sockaddr *)&out[0], pd->cfg.port);
		return 1;
	}
	if (getifaddrs(&ifap) == -1) {
		log_warn("%s: getifaddrs", __func__);
		return 0;
	}
	for (ifa = ifap; ifa != NULL && n < max; ifa = ifa->ifa_next) {
		if (!sock_usable(pd, ifa))
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		memcpy(&out[n], ifa->ifa_addr,
		    netaddr_len(ifa->ifa_addr));
		netaddr_set_port((struct sockaddr *)&out[n], pd->cfg.port);
		n++;
	}
	freeifaddrs(ifap);
	return n;
}
