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
#include "proto/token.h"
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

/* Queue an HTTP answer; the connection closes after it. */
static void
conn_respond(struct relayd_conn *c, int status, const char *headers,
    const char *ctype, const char *body, size_t bodylen, int head)
{
	char	*b;
	int	 n;
	size_t	 cap = 512 + bodylen;

	if (status >= 400)
		c->rd->st.http_errors++;
	free(c->buf);
	c->buf = NULL;
	c->buflen = c->bufoff = 0;
	c->state = CLIENT_RESPOND;
	if ((b = malloc(cap)) == NULL) {
		conn_drop(c, REASON_ERROR);
		return;
	}
	if (status == 204)	/* no body, no Content-* (RFC 9110 8.6) */
		n = snprintf(b, cap, "HTTP/1.1 204 %s\r\nServer: relayd/%s\r\n"
		    "Connection: close\r\n%s\r\n", http_reason(status),
		    RELAYD_VERSION, headers != NULL ? headers : "");
	else
		n = snprintf(b, cap, "HTTP/1.1 %d %s\r\nServer: relayd/%s\r\n"
		    "Content-Type: %s\r\nContent-Length: %zu\r\n"
		    "Cache-Control: no-store\r\nConnection: close\r\n%s\r\n",
		    status, http_reason(status), RELAYD_VERSION, ctype, bodylen,
		    headers != NULL ? headers : "");
	if (n < 0 || (size_t)n + bodylen > cap) {
		free(b);
		conn_drop(c, REASON_ERROR);
		return;
	}
	if (!head)
		memcpy(b + n, body, bodylen);
	c->buf = b;
	c->buflen = (uint32_t)(n + (head ? 0 : bodylen));
	connio_update(c);
}

static void
conn_error(struct relayd_conn *c, int status, const char *why)
{
	char		 body[160];
	const char	*h = NULL;

	switch (status) {
	case 401: h = "WWW-Authenticate: Bearer\r\n"; break;
	case 405: h = "Allow: GET, HEAD\r\n"; break;
	case 505: h = "Upgrade: HTTP/1.1\r\n"; break;
	case 426: h = "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n";
		break;
	}
	/* our own words only: nothing from the request is echoed */
	snprintf(body, sizeof(body), "%d %s: %s\n", status, http_reason(status),
	    why);
	conn_respond(c, status, h, "text/plain; charset=utf-8", body,
	    strlen(body), 0);
}

/*
 * Tokens (proto/token.h). A refusal says why in a header the relay client
 * reads (docs/relay-tokens.md): 401 when no token came, 403 with
 * "Atmosphere-Relay-Refused: malformed|bad_mac|expired|unknown_key|
 * wrong_prefix" when one did. Nothing from the request is echoed.
 */
static int
conn_auth(struct relayd_conn *c, const struct http_target *t)
{
	static const enum relay_auth_fail map[] = {
		[TOKEN_MALFORMED] = AUTH_MALFORMED,
		[TOKEN_BAD_MAC] = AUTH_BAD_MAC,
		[TOKEN_EXPIRED] = AUTH_EXPIRED,
		[TOKEN_UNKNOWN_KEY] = AUTH_UNKNOWN_KEY,
		[TOKEN_WRONG_PREFIX] = AUTH_WRONG_PREFIX,
	};
	struct relayd		*rd = c->rd;
	enum relay_auth_fail	 f;
	enum token_result	 r;
	char			 h[128], body[128];
	int			 status;

	if (rd->conf.open)
		return 0;
	if (t->bad_token)
		f = AUTH_MALFORMED;
	else if (t->token[0] == '\0')
		f = AUTH_MISSING;
	else {
		r = token_verify(&rd->conf.keys, t->session, t->token,
		    (uint64_t)ev_now(rd->loop), NULL);
		if (r == TOKEN_OK)
			return 0;
		f = r < sizeof(map) / sizeof(map[0]) ? map[r] : AUTH_MALFORMED;
	}
	rd->st.auth_fail[f]++;
	log_notice("client %llu %s: session %s refused: token %s",
	    (unsigned long long)c->id, c->addr_str,
	    t->session, metrics_auth_str(f));
	status = f == AUTH_MISSING ? 401 : 403;
	snprintf(h, sizeof(h), "%sAtmosphere-Relay-Refused: %s\r\n",
	    status == 401 ? "WWW-Authenticate: Bearer\r\n" : "",
	    metrics_auth_str(f));
	snprintf(body, sizeof(body), "%d %s: token %s\n", status,
	    http_reason(status), f == AUTH_MISSING ? "required" :
	    metrics_auth_str(f));
	conn_respond(c, status, h, "text/plain; charset=utf-8", body,
	    strlen(body), 0);
	return -1;
}

/*
 * The origins allowlist: a browser says which page opens the WebSocket
 * (Origin); with origins set, pages elsewhere are refused like a bad token
 * (403, Atmosphere-Relay-Refused: origin). Clients that are not browsers
 * send no Origin and are not affected: they could send any Origin anyway,
 * so the list keeps other web sites off the relay, tokens keep everyone
 * else. 0 allowed, -1 refused (answered).
 */
static int
conn_origin(struct relayd_conn *c, const struct http_req *req)
{
	struct relayd	*rd = c->rd;
	const char	*o = rd->conf.origins;
	char		 body[64];

	if (o[0] == '\0' || !(req->flags & HTTP_F_ORIGIN) ||
	    (!(req->flags & HTTP_F_ORIGIN_LONG) &&
	    http_list_has(o, strlen(o), req->origin)))
		return 0;
	rd->st.auth_fail[AUTH_ORIGIN]++;
	log_notice("client %llu %s: refused: origin not in origins",
	    (unsigned long long)c->id, c->addr_str);
	snprintf(body, sizeof(body), "403 %s: origin not allowed\n",
	    http_reason(403));
	conn_respond(c, 403, "Atmosphere-Relay-Refused: origin\r\n",
	    "text/plain; charset=utf-8", body, strlen(body), 0);
	return -1;
}

/* CORS headers for /health when the page's Origin is in cors_origins
 * ("*": any); into h, "" when none apply. The origin echoed is one the
 * list holds (compared without case), never other request bytes. */
static void
conn_cors(struct relayd_conn *c, const struct http_req *req, int preflight,
    char *h, size_t hlen)
{
	const char	*l = c->rd->conf.cors_origins;
	int		 any = http_list_has(l, strlen(l), "*");

	h[0] = '\0';
	if (!(req->flags & HTTP_F_ORIGIN) || (req->flags & HTTP_F_ORIGIN_LONG) ||
	    (!any && !http_list_has(l, strlen(l), req->origin)))
		return;
	snprintf(h, hlen, "Access-Control-Allow-Origin: %s\r\n%s%s",
	    any ? "*" : req->origin, any ? "" : "Vary: Origin\r\n",
	    preflight ? "Access-Control-Allow-Methods: GET, HEAD, OPTIONS\r\n"
	    "Access-Control-Max-Age: 600\r\n" : "");
}

static void
conn_request(struct relayd_conn *c, const struct http_req *req,
    size_t extra)
{
	char			 cors[sizeof(req->origin) + 160];
	struct http_target	 t;
	const char		*why;
	char			*body;
	size_t			 len;
	int			 status;

	c->rd->st.http_requests++;
	if ((status = http_route(req, extra, &t, &why)) != 0) {
		conn_error(c, status, why);
		return;
	}
	switch (t.route) {
	case HTTP_ROUTE_PREFLIGHT:
		conn_cors(c, req, 1, cors, sizeof(cors));
		strlcat(cors, "Allow: GET, HEAD, OPTIONS\r\n", sizeof(cors));
		conn_respond(c, 204, cors, NULL, NULL, 0, 1);
		return;
	case HTTP_ROUTE_HEALTH:
	case HTTP_ROUTE_METRICS:
		body = t.route == HTTP_ROUTE_HEALTH ?
		    metrics_health(c->rd, &len) : metrics_prometheus(c->rd, &len);
		if (body == NULL) {
			conn_error(c, 503, "out of memory");
			return;
		}
		cors[0] = '\0';
		if (t.route == HTTP_ROUTE_HEALTH)
			conn_cors(c, req, 0, cors, sizeof(cors));
		conn_respond(c, 200, cors, t.route == HTTP_ROUTE_HEALTH ?
		    "application/json" : "text/plain; version=0.0.4",
		    body, len, t.head);
		free(body);
		return;
	case HTTP_ROUTE_RELAY:
		if (conn_origin(c, req) == -1 || conn_auth(c, &t) == -1)
			return;
		if ((status = ws_start(c, t.session, req->ws_key,
		    t.subprotocol)) != 0)
			conn_error(c, status, status == 503 ?
			    "session full or too many sessions" : "error");
		return;
	}
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
		conn_error(c, req.status, req.error);
		return;
	}
	conn_request(c, &req, c->buflen - (size_t)r);
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
