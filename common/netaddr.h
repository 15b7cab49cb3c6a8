/*
 * Socket addresses as people write them: "192.0.2.1:3478", "[2001:db8::1]:3478",
 * "stun.example.org:19302". One place for parsing, printing and comparing.
 */
#ifndef COMMON_NETADDR_H
#define COMMON_NETADDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define NETADDR_STRLEN	64	/* "[v6]:port" fits */

/* Split "host:port" / "[v6]:port" / "host" (default_port, 0 = port required). */
int	netaddr_split(const char *s, int default_port, char *host, size_t hostlen,
	    int *port);
/* Numeric only (no DNS): 0 on success, -1 if not a literal address. */
int	netaddr_parse(const char *s, int default_port,
	    struct sockaddr_storage *ss);
/*
 * Resolve with getaddrinfo (blocking: used at start-up and on refresh, never
 * per packet). family AF_UNSPEC/AF_INET/AF_INET6. Fills up to max results,
 * returns how many, or -1 with a reason in err.
 */
int	netaddr_resolve(const char *s, int default_port, int family,
	    struct sockaddr_storage *out, int max, char *err, size_t errlen);
/* "1.2.3.4:5" or "[::1]:5"; returns buf. */
const char *netaddr_str(const struct sockaddr *sa, char *buf, size_t len);
/* address only, no port */
const char *netaddr_ipstr(const struct sockaddr *sa, char *buf, size_t len);
socklen_t netaddr_len(const struct sockaddr *sa);
int	netaddr_equal(const struct sockaddr *a, const struct sockaddr *b);
int	netaddr_equal_ip(const struct sockaddr *a, const struct sockaddr *b);
uint16_t netaddr_port(const struct sockaddr *sa);
void	netaddr_set_port(struct sockaddr *sa, uint16_t port);
/* 1 when sa's IP is assigned to a local interface (getifaddrs). */
int	netaddr_is_local(const struct sockaddr *sa);
/* The source address the kernel would use towards dst (UDP connect trick,
 * no packet sent). 0 on success. */
int	netaddr_route_src(const struct sockaddr *dst, struct sockaddr_storage *src);

#endif
