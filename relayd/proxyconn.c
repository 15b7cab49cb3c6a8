/*
 * A connection from a configured proxy (proxy_protocol_from) before its
 * TLS or HTTP: the PROXY v2 header HAProxy's send-proxy-v2 puts first
 * (docs/relay-scaling.md, "PROXY v2"), parsed by proxyv2.c.
 *
 * The header is read exactly: its fixed 16 bytes, then the length they
 * give, never a byte beyond, so what follows (a TLS ClientHello or the
 * HTTP request) stays in the socket for the layer that reads it next, and
 * TLS needs no buffer handed over. Unread input would also keep a
 * level-triggered watcher firing, which is why nothing is only peeked.
 * The handshake timeout conn.c armed at accept covers this phase too;
 * the header takes at most PROXYV2_MAX_LEN bytes of c->buf.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "relayd/http.h"
#include "relayd/proxyv2.h"
#include "relayd/relayd.h"

/* The header's source as c's address (v4 as v4-mapped, like accept's). */
static void
proxyconn_addr(struct relayd_conn *c, const struct proxyv2_hdr *h)
{
	const struct sockaddr_in	*s4;
	struct sockaddr_in6		 a6;

	memset(&a6, 0, sizeof(a6));
	a6.sin6_family = AF_INET6;
	if (h->src.ss_family == AF_INET) {
		s4 = (const struct sockaddr_in *)&h->src;
		a6.sin6_addr.s6_addr[10] = a6.sin6_addr.s6_addr[11] = 0xff;
		memcpy(&a6.sin6_addr.s6_addr[12], &s4->sin_addr, 4);
		a6.sin6_port = s4->sin_port;
	} else if (h->src.ss_family == AF_INET6)
		memcpy(&a6, &h->src, sizeof(a6));
	else
		return;		/* LOCAL, UNSPEC, AF_UNIX: the proxy's own */
	c->addr = a6;
}

/* Bytes of the header known so far: the fixed part, then what its length
 * field says (capped: the parser refuses a longer one). */
static size_t
proxyconn_need(const struct relayd_conn *c)
{
	size_t need = PROXYV2_HDRLEN;

	if (c->buflen >= PROXYV2_HDRLEN)
		need += (size_t)(uint8_t)c->buf[14] << 8 | (uint8_t)c->buf[15];
	return need > PROXYV2_MAX_LEN ? PROXYV2_MAX_LEN : need;
}

/*
 * Read what the socket has of the header. 1 when it is complete (c->addr
 * is the client's, c->buf empty again), 0 when more must come, -1 when the
 * connection must go: c->reason says why (REASON_EOF, REASON_PROXY, with
 * *why set for REASON_PROXY).
 */
int
proxyconn_read(struct relayd_conn *c, const char **why)
{
	struct proxyv2_hdr	h;
	size_t			need;
	ssize_t			n;
	enum proxyv2_result	r;

	if (c->buf == NULL && (c->buf = malloc(HTTP_MAX_REQUEST)) == NULL) {
		c->reason = REASON_ERROR;
		*why = "out of memory";
		return -1;
	}
	for (;;) {
		need = proxyconn_need(c);
		if (c->buflen < need) {
			n = read(c->fd, c->buf + c->buflen, need - c->buflen);
			if (n == -1 && (errno == EAGAIN || errno == EINTR))
				return 0;
			if (n <= 0) {
				c->reason = REASON_EOF;
				*why = "closed before the PROXY header";
				return -1;
			}
			c->buflen += (uint32_t)n;
		}
		r = proxyv2_parse(c->buf, c->buflen, &h, why);
		if (r == PROXYV2_BAD) {
			c->reason = REASON_PROXY;
			return -1;
		}
		if (r == PROXYV2_OK)
			break;
		if (c->buflen >= proxyconn_need(c)) {
			/* all the length said, and still not whole */
			c->reason = REASON_PROXY;
			*why = "PROXY header incomplete at its length";
			return -1;
		}
	}
	if (!h.local)
		proxyconn_addr(c, &h);
	c->buflen = c->bufoff = 0;
	return 1;
}
