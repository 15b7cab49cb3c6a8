/*
 * One connection: admission (limits), the I/O watchers shared with ws.c,
 * the HTTP phase (request head, routes, plain answers) and the drop. Once a
 * request upgrades, ws.c takes the connection over.
 */
#include <errno.h>
#include <malloc.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <wslay/wslay.h>

#include "common/log.h"
#include "relayd/http.h"
#include "relayd/relayd.h"

/* After answering a plain request, how long to wait for the client's EOF
 * before closing (closing with unread input would reset the connection and
 * could lose our answer). */
#define CONN_LINGER_S		1.0

/*
 * Memory back to the system after many connections went (glibc keeps freed
 * heap for reuse, so a spike of 10,000 clients left relayd at 108 MB after
 * they had gone): malloc_trim once CONN_TRIM_AFTER connections were freed,
 * CONN_TRIM_S after the first of them, so an exodus costs one trim, not
 * one per close. A trim walks the heap: milliseconds, not per frame.
 */
#define CONN_TRIM_AFTER		256
#define CONN_TRIM_S		1.0

static void conn_read_cb(struct ev_loop *, ev_io *, int);
static void conn_write_cb(struct ev_loop *, ev_io *, int);
static void conn_timer_cb(struct ev_loop *, ev_timer *, int);

/* The client's address as logs and session.list show it, once. */
static void
conn_addr_text(struct relayd_conn *c)
{
	char	ip[INET6_ADDRSTRLEN];

	if (IN6_IS_ADDR_V4MAPPED(&c->addr.sin6_addr)) {
		inet_ntop(AF_INET, &c->addr.sin6_addr.s6_addr[12], ip,
		    sizeof(ip));
		snprintf(c->addr_str, sizeof(c->addr_str), "%s:%u", ip,
		    ntohs(c->addr.sin6_port));
	} else {
		inet_ntop(AF_INET6, &c->addr.sin6_addr, ip, sizeof(ip));
		snprintf(c->addr_str, sizeof(c->addr_str), "[%s]:%u", ip,
		    ntohs(c->addr.sin6_port));
	}
}

static void
conn_trim_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct relayd *rd = container_of(w, struct relayd, trim);

	(void)loop;
	(void)revents;
	rd->freed = 0;
	malloc_trim(0);
}

static void
conn_trim_later(struct relayd *rd)
{
	if (++rd->freed < CONN_TRIM_AFTER || ev_is_active(&rd->trim))
		return;
	ev_timer_init(&rd->trim, conn_trim_cb, CONN_TRIM_S, 0);
	ev_timer_start(rd->loop, &rd->trim);
}

/* Free c: nothing of it remains. */
static void
conn_free(struct relayd_conn *c)
{
	struct relayd	*rd = c->rd;

	ev_io_stop(rd->loop, &c->rio);
	ev_io_stop(rd->loop, &c->wio);
	ev_timer_stop(rd->loop, &c->timer);
	tls_client_free(c);
	close(c->fd);
	if (c->ws != NULL)
		wslay_event_context_free(c->ws);
	free(c->buf);
	iplimit_del(rd->ips, c);
	TAILQ_REMOVE(&rd->clients, c, entry);
	rd->nclients--;
	conn_trim_later(rd);
	free(c);
	if (rd->stopping && rd->nclients == 0)
		ev_break(rd->loop, EVBREAK_ALL);
}

/*
 * A WebSocket that ends with our close frame written (1009 after an
 * oversized message, 1002, 1008 ...) may still have unread input: the rest
 * of that message. close(2) with unread input sends a reset, and the
 * client's kernel then throws away our close frame before the client read
 * it (npm ws saw 1006 instead of 1009). So, like an HTTP answer: half-close,
 * read and discard until the client's EOF or CONN_LINGER_S, then close.
 * Everything else of the connection is gone already.
 */
static void
conn_linger(struct relayd_conn *c)
{
	struct relayd *rd = c->rd;

	if (c->ws != NULL)
		wslay_event_context_free(c->ws);
	c->ws = NULL;
	c->rpaused = 0;
	if (c->ssl != NULL)
		tls_client_free(c);
	shutdown(c->fd, SHUT_WR);
	c->state = CLIENT_LINGER;
	ev_io_stop(rd->loop, &c->wio);
	ev_timer_stop(rd->loop, &c->timer);
	ev_timer_set(&c->timer, CONN_LINGER_S, 0);
	ev_timer_start(rd->loop, &c->timer);
	connio_update(c);
}

void
conn_drop(struct relayd_conn *c, enum relay_reason why)
{
	struct relayd	*rd = c->rd;
	int		 linger = 0;

	if (c->state == CLIENT_LINGER) {
		conn_free(c);	/* counted when it started to linger */
		return;
	}
	rd->st.disc[why]++;
	if (c->state == CLIENT_WS || c->state == CLIENT_CLOSING) {
		log_info("client %llu %s left session %s: %s",
		    (unsigned long long)c->id, c->addr_str,
		    c->member.sess ? c->member.sess->id : "-",
		    metrics_reason_str(why));
		/* our close frame is out, the client may still be sending */
		linger = !c->eof && !rd->stopping && c->ws != NULL &&
		    wslay_event_get_close_sent(c->ws) &&
		    !connio_want_write(c) && c->bufoff == c->buflen;
		ws_leave(c);
		rd->nws--;
	} else
		log_debug("client %llu %s closed: %s",
		    (unsigned long long)c->id, c->addr_str,
		    metrics_reason_str(why));
	if (linger)
		conn_linger(c);
	else
		conn_free(c);
}

static void
conn_http_read(struct relayd_conn *c)
{
	struct http_req	 req;
	ssize_t		 n;
	int		 r;

	if (c->buf == NULL && (c->buf = malloc(HTTP_MAX_REQUEST)) == NULL) {
		conn_drop(c, REASON_ERROR);
		return;
	}
	n = connio_read(c, c->buf + c->buflen, HTTP_MAX_REQUEST - c->buflen);
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
		conn_drop(c, REASON_EOF);
		return;
	}
	if (n == -1) {
		connio_update(c);
		return;
	}
	c->buflen += (uint32_t)n;
	if ((r = http_parse(c->buf, c->buflen, &req)) == 0)
		return;
	if (r == -1) {
		log_debug("client %llu: bad request: %s",
		    (unsigned long long)c->id, req.error);
		if (answer_error(c, req.status, req.error) == -1)
			conn_drop(c, REASON_ERROR);
		return;
	}
	if (answer_request(c, &req, c->buflen - (size_t)r) == -1)
		conn_drop(c, REASON_ERROR);
}

/* Write what is left of c->buf; 1 when done, 0 pending, -1 dropped. */
static int
conn_flush(struct relayd_conn *c)
{
	ssize_t	n;

	while (c->bufoff < c->buflen) {
		n = connio_write(c, c->buf + c->bufoff, c->buflen - c->bufoff);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n <= 0) {
			conn_drop(c, REASON_EOF);
			return -1;
		}
		c->bufoff += (uint32_t)n;
	}
	return 1;
}

/*
 * A configured proxy's connection: its PROXY v2 header first (proxyconn.c).
 * Then the client's address is the header's, the connection joins that
 * address group (max_clients_per_ip), and TLS or HTTP goes on in the same
 * turn: the request may have come in the same segment.
 */
static void
conn_proxy_read(struct relayd_conn *c)
{
	struct relayd	*rd = c->rd;
	const char	*why = "";
	char		 proxy[sizeof(c->addr_str)];
	int		 r;

	if ((r = proxyconn_read(c, &why)) == 0)
		return;
	if (r == -1) {
		if (c->reason == REASON_PROXY)
			log_warnx_rl(&rd->proxy_rl, 10.0, "proxy %s: bad PROXY "
			    "v2 header: %s", c->addr_str, why);
		conn_drop(c, (enum relay_reason)c->reason);
		return;
	}
	rd->st.proxied++;
	strlcpy(proxy, c->addr_str, sizeof(proxy));
	conn_addr_text(c);
	if (iplimit_add(rd->ips, c) == -1) {
		rd->st.refused_limit++;
		rd->st.refused_addr++;
		log_debug("client %llu %s (via %s): max_clients_per_ip",
		    (unsigned long long)c->id, c->addr_str, proxy);
		conn_drop(c, REASON_HTTP);
		return;
	}
	log_debug("client %llu %s via proxy %s", (unsigned long long)c->id,
	    c->addr_str, proxy);
	c->state = rd->tls != NULL ? CLIENT_TLS : CLIENT_HTTP;
	conn_read_cb(rd->loop, &c->rio, EV_READ);
}

static void
conn_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct relayd_conn	*c = container_of(w, struct relayd_conn, rio);
	char			 junk[1024];
	ssize_t			 n;
	int			 r;

	(void)loop;
	(void)revents;
	switch (c->state) {
	case CLIENT_PROXY:
		conn_proxy_read(c);
		break;
	case CLIENT_TLS:
		if ((r = tls_handshake(c)) == -1)
			conn_drop(c, REASON_TLS);
		else if (r == 1) {
			c->state = CLIENT_HTTP;
			conn_http_read(c);
		} else
			connio_update(c);
		break;
	case CLIENT_HTTP:
		conn_http_read(c);
		break;
	case CLIENT_RESPOND:
	case CLIENT_LINGER:
		/* answer sent; discard input until EOF */
		n = connio_read(c, junk, sizeof(junk));
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
			conn_drop(c, REASON_HTTP);
		break;
	default:
		if (ws_read(c) == -1)
			conn_drop(c, (enum relay_reason)c->reason);
		break;
	}
}

static void
conn_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct relayd_conn	*c = container_of(w, struct relayd_conn, wio);
	int			 r;

	(void)revents;
	if (c->state == CLIENT_TLS) {
		conn_read_cb(loop, &c->rio, EV_READ);
		return;
	}
	if ((r = conn_flush(c)) == -1)
		return;
	if (c->state == CLIENT_RESPOND) {
		if (r == 1) {
			/* done: half-close, then linger for the EOF */
			if (c->ssl != NULL)
				tls_client_free(c);
			shutdown(c->fd, SHUT_WR);
			ev_timer_stop(loop, &c->timer);
			ev_timer_set(&c->timer, CONN_LINGER_S, 0);
			ev_timer_start(loop, &c->timer);
		}
		connio_update(c);
		return;
	}
	if (r == 1 && c->buf != NULL) {
		/* the 101 answer is out: the request buffer goes */
		free(c->buf);
		c->buf = NULL;
		c->buflen = c->bufoff = 0;
	}
	if (r == 1) {
		if (ws_write(c) == -1)
			conn_drop(c, (enum relay_reason)c->reason);
	} else
		connio_update(c);
}

static void
conn_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct relayd_conn *c = container_of(w, struct relayd_conn, timer);

	(void)loop;
	(void)revents;
	switch (c->state) {
	case CLIENT_PROXY:
	case CLIENT_TLS:
	case CLIENT_HTTP:
		conn_drop(c, REASON_HANDSHAKE_TIMEOUT);
		break;
	case CLIENT_RESPOND:
	case CLIENT_LINGER:
		conn_drop(c, c->bufoff < c->buflen ?
		    REASON_HANDSHAKE_TIMEOUT : REASON_HTTP);
		break;
	default:
		if (ws_timer(c) == -1)
			conn_drop(c, (enum relay_reason)c->reason);
		break;
	}
}

void
conn_accept(struct relayd *rd, int fd, const struct sockaddr *sa)
{
	struct relayd_conn	*c;
	struct sockaddr_in6	 a6;
	int			 one = 1, proxy;

	memset(&a6, 0, sizeof(a6));
	a6.sin6_family = AF_INET6;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		a6.sin6_addr.s6_addr[10] = a6.sin6_addr.s6_addr[11] = 0xff;
		memcpy(&a6.sin6_addr.s6_addr[12], &s4->sin_addr, 4);
		a6.sin6_port = s4->sin_port;
	} else
		memcpy(&a6, sa, sizeof(a6));
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return;
	}
	c->rd = rd;
	c->addr = a6;
	conn_addr_text(c);
	/* a proxy's connection joins its client's address group once the
	 * PROXY header names the client (conn_proxy_read) */
	proxy = proxyv2_allowed(&rd->conf.proxies, sa);
	if (rd->nclients >= (unsigned)rd->conf.max_clients ||
	    (!proxy && iplimit_add(rd->ips, c) == -1)) {
		rd->st.refused_limit++;
		if (rd->nclients < (unsigned)rd->conf.max_clients)
			rd->st.refused_addr++;
		close(fd);
		free(c);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = fd;
	c->id = ++rd->next_id;
	c->since = c->last_rx = ev_now(rd->loop);
	c->state = proxy ? CLIENT_PROXY : rd->tls != NULL ? CLIENT_TLS :
	    CLIENT_HTTP;
	TAILQ_INSERT_TAIL(&rd->clients, c, entry);
	rd->nclients++;
	rd->st.accepted++;
	ev_io_init(&c->rio, conn_read_cb, fd, EV_READ);
	ev_io_init(&c->wio, conn_write_cb, fd, EV_WRITE);
	ev_timer_init(&c->timer, conn_timer_cb,
	    rd->conf.handshake_timeout_ms / 1000.0, 0);
	ev_timer_start(rd->loop, &c->timer);
	if (rd->tls != NULL && tls_client_new(c) == -1) {
		conn_drop(c, REASON_TLS);
		return;
	}
	connio_update(c);
}
