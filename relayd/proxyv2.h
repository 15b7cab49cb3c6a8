/*
 * The PROXY protocol, version 2 (binary), receiving side: what a load
 * balancer in front of relayd (HAProxy `send-proxy-v2`) puts before the
 * client's first byte to say who the client is. Spec: HAProxy's
 * doc/proxy-protocol.txt, section 2.2. No I/O here, so tests feed it bytes.
 *
 * A header is believed only from a configured proxy address (the allowlist
 * below): from anyone else it would let a client choose the address that
 * per-address limits and logs see. Version 1 (text) is refused: nothing we
 * ship sends it, and one format is less to get wrong.
 */
#ifndef RELAYD_PROXYV2_H
#define RELAYD_PROXYV2_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>

#define PROXYV2_SIGLEN	12
#define PROXYV2_HDRLEN	16	/* signature, ver/cmd, family, length */
/*
 * Largest header accepted, fixed part included. The addresses take at most
 * 216 bytes (AF_UNIX); the TLVs HAProxy can add (ALPN, authority, a 128-byte
 * unique id, SSL details, CRC32C) a few hundred more. relayd reads the
 * header into the connection's input buffer before the HTTP request; a
 * header past 2 KiB is not from a proxy we configured.
 */
#define PROXYV2_MAX_LEN	2048

enum proxyv2_result {
	PROXYV2_BAD = -1,	/* not a valid v2 header: close, *why says why */
	PROXYV2_OK = 0,		/* header complete, h->len bytes to consume */
	PROXYV2_MORE = 1,	/* a valid prefix so far: read more */
};

struct proxyv2_hdr {
	size_t			len;	/* bytes of the header, TLVs included */
	int			local;	/* LOCAL command (health check) */
	/* the client (src) and the address it connected to (dst); family
	 * AF_UNSPEC when the proxy did not say (LOCAL, UNSPEC or AF_UNIX):
	 * then the connection's own peer address stands. */
	struct sockaddr_storage	src, dst;
	int			has_crc;	/* a CRC32C TLV was checked */
};

/*
 * Parse buf[0..len), the first bytes a proxy sent. Reads nothing past len.
 * PROXYV2_MORE only while every byte so far can still start a valid header,
 * so a caller can wait with a timeout; PROXYV2_BAD as soon as one cannot.
 */
enum proxyv2_result proxyv2_parse(const void *buf, size_t len,
	    struct proxyv2_hdr *h, const char **why);
/* CRC32C (Castagnoli), as the PP2_TYPE_CRC32C TLV carries it. */
uint32_t proxyv2_crc32c(const void *buf, size_t len);

/*
 * The proxies whose headers relayd believes: addresses or prefixes,
 * "10.0.0.5", "10.1.0.0/16", "2001:db8::/48", "::1". IPv4 entries match
 * IPv4 peers and IPv4-mapped IPv6 peers (a dual-stack listener) alike.
 */
#define PROXYV2_ALLOW_MAX	32	/* a proxy tier, not an address plan */

struct proxyv2_allow {
	struct in6_addr	net[PROXYV2_ALLOW_MAX];	/* IPv4 as ::ffff:a.b.c.d */
	uint8_t		bits[PROXYV2_ALLOW_MAX];	/* prefix length in 128 */
	int		n;
};

/* "a, b c,d": comma- or space-separated entries; replaces al's contents.
 * 0, or -1 with a reason in err (al left empty). "" allows nobody. */
int	proxyv2_allow_parse(struct proxyv2_allow *al, const char *list,
	    char *err, size_t errlen);
/* 1 when the peer sa (AF_INET or AF_INET6) is an allowed proxy. */
int	proxyv2_allowed(const struct proxyv2_allow *al, const struct sockaddr *sa);

#endif
