/*
 * The default route, and the source address packets leaving by it get:
 * what a node should tell others on its LAN, rather than whichever address
 * getifaddrs lists first (a docker0 bridge's, often). The route comes from
 * rtnetlink (a dump of the main table), or, where netlink is refused, from
 * /proc/net/route and /proc/net/ipv6_route; the systemd units set
 * ProcSubset=pid, which hides /proc/net, and allow AF_NETLINK. The /proc
 * parsers take the files' text, so unit tests feed them.
 */
#include "netroute.h"

#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "netaddr.h"

#define NETROUTE_UP		0x1	/* RTF_UP */
#define NETROUTE_GATEWAY	0x2	/* RTF_GATEWAY */

/*
 * /proc/net/route: "Iface Destination Gateway Flags RefCnt Use Metric
 * Mask ...", addresses as the hex of their bytes in host order.
 */
static int
netroute_parse4(const char *text, struct sockaddr_storage *gw)
{
	struct sockaddr_in	*s4 = (struct sockaddr_in *)gw;
	const char		*line;
	unsigned long		 best = (unsigned long)-1;
	unsigned int		 dst, gate, flags, refcnt, use, metric, mask;
	char			 ifname[IFNAMSIZ + 1];
	int			 found = 0;

	for (line = text; line != NULL && *line != '\0';
	    line = (line = strchr(line, '\n')) != NULL ? line + 1 : NULL) {
		if (sscanf(line, "%16s %x %x %x %u %u %u %x", ifname, &dst,
		    &gate, &flags, &refcnt, &use, &metric, &mask) != 8 ||
		    dst != 0 || mask != 0 || (flags & (NETROUTE_UP |
		    NETROUTE_GATEWAY)) != (NETROUTE_UP | NETROUTE_GATEWAY) ||
		    metric >= best)
			continue;
		best = metric;
		memset(gw, 0, sizeof(*gw));
		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = gate;
		found = 1;
	}
	return found ? 0 : -1;
}

/*
 * /proc/net/ipv6_route: "dest plen src plen nexthop metric refcnt use
 * flags iface", addresses as 32 hex digits in network order.
 */
static int
netroute_parse6(const char *text, struct sockaddr_storage *gw, char *ifname)
{
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)gw;
	const char		*line;
	unsigned long		 best = (unsigned long)-1;
	unsigned int		 dplen, splen, metric, refcnt, use, flags, i, b;
	char			 dst[33], src[33], hop[33], dev[IFNAMSIZ + 1];
	int			 found = 0;

	for (line = text; line != NULL && *line != '\0';
	    line = (line = strchr(line, '\n')) != NULL ? line + 1 : NULL) {
		if (sscanf(line, "%32s %x %32s %x %32s %x %x %x %x %16s", dst,
		    &dplen, src, &splen, hop, &metric, &refcnt, &use, &flags,
		    dev) != 10 || dplen != 0 || strspn(dst, "0") != 32 ||
		    strlen(hop) != 32 || strspn(hop, "0") == 32 ||
		    (flags & (NETROUTE_UP | NETROUTE_GATEWAY)) !=
		    (NETROUTE_UP | NETROUTE_GATEWAY) || metric >= best)
			continue;
		memset(gw, 0, sizeof(*gw));
		s6->sin6_family = AF_INET6;
		for (i = 0; i < 16; i++) {
			if (sscanf(hop + 2 * i, "%2x", &b) != 1)
				break;
			s6->sin6_addr.s6_addr[i] = (uint8_t)b;
		}
		if (i < 16)
			continue;
		best = metric;
		strlcpy(ifname, dev, IFNAMSIZ + 1);
		found = 1;
	}
	return found ? 0 : -1;
}

int
netroute_default_gw_parse(int family, const char *text,
    struct sockaddr_storage *gw, char *ifname)
{
	if (family == AF_INET) {
		if (ifname != NULL)
			ifname[0] = '\0';
		return netroute_parse4(text, gw);
	}
	if (family == AF_INET6) {
		char dev[IFNAMSIZ + 1];

		if (netroute_parse6(text, gw, dev) == -1)
			return -1;
		if (ifname != NULL)
			strlcpy(ifname, dev, IFNAMSIZ + 1);
		return 0;
	}
	return -1;
}

/* One route of a dump: a default unicast route of the main table with a
 * gateway, better (lower metric) than *best: into gw. */
static void
netroute_nl_route(const struct nlmsghdr *nh, int family,
    struct sockaddr_storage *gw, uint32_t *best, int *found)
{
	const struct rtmsg	*rt = NLMSG_DATA(nh);
	const struct rtattr	*a;
	const void		*gate = NULL;
	uint32_t		 prio = 0;
	int			 len = RTM_PAYLOAD(nh);

	if (rt->rtm_family != family || rt->rtm_dst_len != 0 ||
	    rt->rtm_table != RT_TABLE_MAIN || rt->rtm_type != RTN_UNICAST)
		return;
	for (a = RTM_RTA(rt); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == RTA_GATEWAY && RTA_PAYLOAD(a) ==
		    (family == AF_INET ? 4u : 16u))
			gate = RTA_DATA(a);
		else if (a->rta_type == RTA_PRIORITY && RTA_PAYLOAD(a) == 4)
			memcpy(&prio, RTA_DATA(a), 4);
	}
	if (gate == NULL || (*found && prio >= *best))
		return;
	memset(gw, 0, sizeof(*gw));
	gw->ss_family = family;
	if (family == AF_INET)
		memcpy(&((struct sockaddr_in *)gw)->sin_addr, gate, 4);
	else
		memcpy(&((struct sockaddr_in6 *)gw)->sin6_addr, gate, 16);
	*best = prio;
	*found = 1;
}

/* The default gateway from rtnetlink: 0 or -1. */
static int
netroute_nl_gw(int family, struct sockaddr_storage *gw)
{
	struct {
		struct nlmsghdr	nh;
		struct rtmsg	rt;
	}			 req;
	struct timeval		 tv = { 1, 0 };
	struct nlmsghdr		*nh;
	char			 buf[16384];
	uint32_t		 best = 0;
	ssize_t			 n;
	int			 fd, found = 0, done = 0, err = 0;

	if ((fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
	    NETLINK_ROUTE)) == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
	req.nh.nlmsg_type = RTM_GETROUTE;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.nh.nlmsg_seq = 1;
	req.rt.rtm_family = family;
	if (send(fd, &req, req.nh.nlmsg_len, 0) == -1) {
		close(fd);
		return -1;
	}
	while (!done && !err && (n = recv(fd, buf, sizeof(buf), 0)) > 0)
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n);
		    nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_type == NLMSG_DONE)
				done = 1;
			else if (nh->nlmsg_type == NLMSG_ERROR)
				err = 1;
			else if (nh->nlmsg_type == RTM_NEWROUTE)
				netroute_nl_route(nh, family, gw, &best,
				    &found);
			if (done || err)
				break;
		}
	close(fd);
	return done && found ? 0 : -1;
}

/* The default gateway from /proc/net: 0 or -1. */
static int
netroute_proc_gw(int family, struct sockaddr_storage *gw)
{
	char	 text[16384];
	size_t	 n;
	FILE	*f;

	if ((f = fopen(family == AF_INET ? "/proc/net/route" :
	    "/proc/net/ipv6_route", "r")) == NULL)
		return -1;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	return netroute_default_gw_parse(family, text, gw, NULL);
}

int
netroute_default_src(int family, struct sockaddr_storage *src)
{
	struct sockaddr_storage	 gw, dst;

	if (family != AF_INET && family != AF_INET6)
		return -1;
	if (netroute_nl_gw(family, &gw) == -1 &&
	    netroute_proc_gw(family, &gw) == -1)
		return -1;
	dst = gw;
	/*
	 * A link-local IPv6 gateway (the usual one) would get a link-local
	 * source: ask for a global destination instead, which takes the
	 * default route as long as nothing more specific covers 2000::/3's
	 * first address.
	 */
	if (family == AF_INET6 && IN6_IS_ADDR_LINKLOCAL(
	    &((struct sockaddr_in6 *)&gw)->sin6_addr) &&
	    netaddr_parse("2000::1", 9, &dst) == -1)
		return -1;
	netaddr_set_port((struct sockaddr *)&dst, 9);
	return netaddr_route_src((struct sockaddr *)&dst, src);
}
