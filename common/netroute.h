/*
 * The default route and the source address of packets that leave by it
 * (netroute.c): the address a node's LAN neighbours reach it at.
 */
#ifndef COMMON_NETROUTE_H
#define COMMON_NETROUTE_H

#include <sys/socket.h>

/*
 * The gateway of the default route with the lowest metric in the text of
 * /proc/net/route (AF_INET) or /proc/net/ipv6_route (AF_INET6); ifname
 * (IFNAMSIZ + 1 bytes, may be NULL) gets its interface for IPv6. 0 or -1
 * when there is none.
 */
int	netroute_default_gw_parse(int family, const char *text,
	    struct sockaddr_storage *gw, char *ifname);
/* The source address the kernel gives packets of `family` that leave by
 * the default route (no packet is sent). 0, or -1 without such a route. */
int	netroute_default_src(int family, struct sockaddr_storage *src);

#endif
