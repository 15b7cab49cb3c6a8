#include "netaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
netaddr_split(const char *s, int default_port, char *host, size_t hostlen,
    int *port)
{
	const char	*colon, *end;
	char		*pend;
	size_t		 hl;
	long		 p;

	if (*s == '[') {
		if ((end = strchr(s, ']')) == NULL)
			return -1;
		hl = end - s - 1;
		s++;
		colon = (end[1] == ':') ? end + 1 : NULL;
		if (colon == NULL && end[1] != '\0')
			return -1;
	} else {
		colon = strrchr(s, ':');
		/* more than one colon without brackets: a bare IPv6 address */
		if (colon != NULL && strchr(s, ':') != colon)
			colon = NULL;
		hl = colon != NULL ? (size_t)(colon - s) : strlen(s);
	}
	if (hl == 0 || hl >= hostlen)
		return -1;
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (colon == NULL) {
		if (default_port <= 0)
			return -1;
		*port = default_port;
		return 0;
	}
	errno = 0;
	p = strtol(colon + 1, &pend, 10);
	if (colon[1] == '\0' || *pend != '\0' || errno != 0 || p < 1 ||
	    p > 65535)
		return -1;
	*port = (int)p;
	return 0;
}

int
netaddr_parse(const char *s, int default_port, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	char			 host[INET6_ADDRSTRLEN + 1];
	int			 port;

	if (netaddr_split(s, default_port, host, sizeof(host), &port) == -1)
		return -1;
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		return 0;
	}
	return -1;
}

int
netaddr_resolve(const char *s, int default_port, int family,
    struct sockaddr_storage *out, int max, char *err, size_t errlen)
{
	struct addrinfo	 hints, *res, *ai;
	char		 host[256], portstr[8];
	int		 port, r, n = 0;

	if (netaddr_split(s, default_port, host, sizeof(host), &port) == -1) {
		snprintf(err, errlen, "'%s' is not HOST:PORT", s);
		return -1;
	}
	snprintf(portstr, sizeof(portstr), "%d", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_ADDRCONFIG;
	if ((r = getaddrinfo(host, portstr, &hints, &res)) != 0) {
		snprintf(err, errlen, "%s: %s", host, gai_strerror(r));
		return -1;
	}
	for (ai = res; ai != NULL && n < max; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(*out))
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		memcpy(&out[n], ai->ai_addr, ai->ai_addrlen);
		n++;
	}
	freeaddrinfo(res);
	if (n == 0)
		snprintf(err, errlen, "%s: no usable address", host);
	return n == 0 ? -1 : n;
}

const char *
netaddr_ipstr(const struct sockaddr *sa, char *buf, size_t len)
{
	const void *a;

	if (sa->sa_family == AF_INET)
		a = &((const struct sockaddr_in *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	else {
		snprintf(buf, len, "(family %d)", sa->sa_family);
		return buf;
	}
	if (inet_ntop(sa->sa_family, a, buf, len) == NULL)
		snprintf(buf, len, "(invalid)");
	return buf;
}

const char *
netaddr_str(const struct sockaddr *sa, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	netaddr_ipstr(sa, ip, sizeof(ip));
	if (sa->sa_family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", ip, netaddr_port(sa));
	else if (sa->sa_family == AF_INET)
		snprintf(buf, len, "%s:%u", ip, netaddr_port(sa));
	else
		snprintf(buf, len, "%s", ip);
	return buf;
}

socklen_t
netaddr_len(const struct sockaddr *sa)
{
	return sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in);
}

int
netaddr_equal_ip(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family)
		return 0;
	if (a->sa_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		    ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->sa_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		    &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
	return 0;
}

int
netaddr_equal(const struct sockaddr *a, const struct sockaddr *b)
{
	return netaddr_equal_ip(a, b) && netaddr_port(a) == netaddr_port(b);
}

uint16_t
netaddr_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return 0;
}

void
netaddr_set_port(struct sockaddr *sa, uint16_t port)
{
	if (sa->sa_family == AF_INET)
		((struct sockaddr_in *)sa)->sin_port = htons(port);
	else if (sa->sa_family == AF_INET6)
		((struct sockaddr_in6 *)sa)->sin6_port = htons(port);
}

int
netaddr_is_local(const struct sockaddr *sa)
{
	struct ifaddrs	*ifa, *i;
	int		 found = 0;

	if (getifaddrs(&ifa) == -1)
		return 0;
	for (i = ifa; i != NULL && !found; i = i->ifa_next)
		if (i->ifa_addr != NULL && netaddr_equal_ip(i->ifa_addr, sa))
			found = 1;
	freeifaddrs(ifa);
	return found;
}

int
netaddr_route_src(const struct sockaddr *dst, struct sockaddr_storage *src)
{
	socklen_t	len = sizeof(*src);
	int		fd, r = -1;

	if ((fd = socket(dst->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	/* connect() on UDP only picks a route and a source; nothing is sent */
	if (connect(fd, dst, netaddr_len(dst)) == 0 &&
	    getsockname(fd, (struct sockaddr *)src, &len) == 0)
		r = 0;
	close(fd);
	return r;
}
