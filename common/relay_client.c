/*
 * Relay client: see relay_client.h. One connection at a time goes through
 *
 *	TCP connect -> [TLS handshake] -> HTTP upgrade out -> 101 in -> OPEN
 *
 * driven by one ev_io whose interest follows what the current step (or
 * wslay, once open) wants. Any failure closes the socket and goes through
 * rc_fail(), the one place that picks the next relay and the delay.
 */
#include "relay_client.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ev.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <wslay/wslay.h>

#include "log.h"

#define container_of(p, t, m)	((t *)((char *)(p) - offsetof(t, m)))

#define RC_WS_GUID	"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"	/* RFC 6455 1.3 */
#define RC_HS_MAX	8192	/* a 101 answer is a few hundred bytes */
#define RC_STABLE	10.0	/* s up before a drop no longer counts as flapping */
#define RC_WHY_MAX	160
/*
 * wslay reads 4 KiB at a time, copies each message into a malloc'd buffer,
 * and writes each frame header, and a masked payload in 4 KiB pieces, with a
 * call each: one syscall per call costs more than the relay hop. These
 * buffers turn that into one read or write per up to 128/256 KiB; complete
 * binary frames are parsed here and handed to on_frame from the read buffer
 * (rc_parse), everything else goes to wslay. They exist only while a
 * connection is open.
 */
#define RC_RBUF		((128u << 10) + 16)	/* a 64 KiB frame and more */
#define RC_WBUF		(256u << 10)
/* Frames sent in one loop turn are written together, before the loop waits
 * again (c->flush), or as soon as this much is waiting. */
#define RC_FLUSH_AT	(64u << 10)

enum rc_phase {
	RC_PH_NONE,
	RC_PH_TCP,
	RC_PH_TLS,
	RC_PH_HTTP_SEND,
	RC_PH_HTTP_RECV,
	RC_PH_OPEN,
};

struct rc_url {
	char		*url;
	char		*region;
	int		 tls;
	char		 host[256];	/* no brackets */
	char		 port[12];
	char		*hosthdr;	/* Host: value */
	char		*target;	/* path and query of the GET */
};

struct relay_client {
	struct ev_loop	*loop;
	struct relay_client_cfg cfg;	/* scalars and callbacks; strings below */
	char		*token;
	struct rc_url	*urls;
	size_t		 nurls;
	SSL_CTX		*ssl_ctx;

	size_t		 idx;		/* relay in use or being tried */
	size_t		 tried;		/* relays failed in this round */
	unsigned	 attempt;	/* backoff exponent */
	enum relay_client_state state;
	const char	*state_url;	/* last url reported to on_state */
	enum rc_phase	 phase;

	int		 fd;
	struct addrinfo	*ai_res, *ai_cur;	/* addresses left to try */
	SSL		*ssl;
	int		 ssl_want_write;
	ev_io		 io;
	ev_timer	 timer;		/* connect timeout, backoff delay */
	ev_timer	 ping;		/* ping + liveness */
	ev_prepare	 flush;		/* write what this loop turn sent */
	wslay_event_context_ptr ws;

	char		*hs;		/* request out, then answer in */
	size_t		 hslen, hsoff;
	char		 accept[32];	/* expected Sec-WebSocket-Accept */
	unsigned char	*rbuf;		/* read ahead, wslay takes from it */
	size_t		 rlen, roff;
	size_t		 feed;		/* bytes wslay may take now */
	uint64_t	 wsl_left;	/* of the frame wslay parses */
	int		 wsl_frag;	/* wslay has a message open */
	unsigned char	 masks[256];	/* arc4random output, 4 bytes a frame */
	size_t		 maskoff;
	unsigned char	*wbuf;		/* wslay's output, one send() */
	size_t		 wlen, woff;

	int		 probe_fd;	/* TCP probe of the first relay */
	ev_io		 probe_io;
	ev_timer	 probe_timer;

	double		 connected_at, last_rx, rtt;
	int		 busy;		/* inside wslay: defer stop */
	int		 stop_pending;
	int		 io_error;
	int		 drain_wanted;
	char		 why[RC_WHY_MAX];	/* reason of the last I/O error */
};

static void	rc_connect(struct relay_client *);
static int	rc_connect_next(struct relay_client *);
static void	rc_fail(struct relay_client *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	rc_open_step(struct relay_client *, int);
static int	rc_push(struct relay_client *);
static void	rc_flush_cb(struct ev_loop *, ev_prepare *, int);
static int	rc_ws_genmask_cb(wslay_event_context_ptr, uint8_t *, size_t, void *);

/* --- small helpers ---------------------------------------------------------- */

const char *
relay_client_state_str(enum relay_client_state s)
{
	switch (s) {
	case RELAY_CLIENT_IDLE:		return "idle";
	case RELAY_CLIENT_CONNECTING:	return "connecting";
	case RELAY_CLIENT_CONNECTED:	return "connected";
	case RELAY_CLIENT_BACKOFF:	return "backoff";
	}
	return "?";
}

static void
rc_set_state(struct relay_client *c, enum relay_client_state s)
{
	const char *url = s == RELAY_CLIENT_IDLE ? NULL : c->urls[c->idx].url;

	if (c->state == s && c->state_url == url)
		return;
	c->state = s;
	c->state_url = url;
	/* last thing the caller does: the callback may stop us */
	if (c->cfg.on_state != NULL)
		c->cfg.on_state(c->cfg.arg, s, url);
}

/* Percent-encode everything but RFC 3986 unreserved characters. */
static int
rc_pct(char *out, size_t outlen, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s != '\0'; s++) {
		unsigned char ch = *s;
		if (isalnum(ch) || ch == '-' || ch == '.' || ch == '_' ||
		    ch == '~') {
			if (o + 1 >= outlen)
				return -1;
			out[o++] = ch;
		} else {
			if (o + 3 >= outlen)
				return -1;
			out[o++] = '%';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		}
	}
	out[o] = '\0';
	return 0;
}

/* ws[s]://host[:port][/path[?query]] -> u. */
static int
rc_url_parse(struct rc_url *u, const char *url, const char *session,
    const char *token, int token_mode)
{
	const char *p, *hend, *path;
	char sess[512], tok[256], buf[1024];
	size_t hl;
	int port = -1, n;

	if (strncasecmp(url, "wss://", 6) == 0) {
		u->tls = 1;
		p = url + 6;
	} else if (strncasecmp(url, "ws://", 5) == 0) {
		u->tls = 0;
		p = url + 5;
	} else {
		log_warnx("%s: %s: not a ws:// or wss:// URL", __func__, url);
		return -1;
	}
	path = p + strcspn(p, "/?#");
	if (*p == '[') {
		if ((hend = memchr(p, ']', path - p)) == NULL)
			goto bad;
		hl = hend - p - 1;
		if (hl == 0 || hl >= sizeof(u->host))
			goto bad;
		memcpy(u->host, p + 1, hl);
		hend++;
	} else {
		hend = memchr(p, ':', path - p);
		if (hend == NULL)
			hend = path;
		hl = hend - p;
		if (hl == 0 || hl >= sizeof(u->host))
			goto bad;
		memcpy(u->host, p, hl);
	}
	u->host[hl] = '\0';
	if (hend < path) {
		char *end;
		if (*hend != ':')
			goto bad;
		port = strtol(hend + 1, &end, 10);
		if (end != path || port < 1 || port > 65535)
			goto bad;
	}
	if (port < 0)
		port = u->tls ? 443 : 80;
	snprintf(u->port, sizeof(u->port), "%d", port);

	if (strchr(u->host, ':') != NULL)
		n = snprintf(buf, sizeof(buf), "[%s]", u->host);
	else
		n = snprintf(buf, sizeof(buf), "%s", u->host);
	if (port != (u->tls ? 443 : 80))
		snprintf(buf + n, sizeof(buf) - n, ":%d", port);
	if ((u->hosthdr = strdup(buf)) == NULL)
		return -1;

	/* the path: the URL's own, or the session route */
	if (*path == '/' && path[1] != '\0' && path[1] != '?' &&
	    path[1] != '#') {
		n = snprintf(buf, sizeof(buf), "%.*s", (int)strcspn(path, "#"),
		    path);
	} else {
		if (session == NULL || *session == '\0') {
			log_warnx("%s: %s: no path in the URL and no session",
			    __func__, url);
			return -1;
		}
		if (rc_pct(sess, sizeof(sess), session) == -1)
			goto bad;
		n = snprintf(buf, sizeof(buf), "/v1/relay/%s", sess);
	}
	if (token != NULL && (token_mode & RELAY_CLIENT_TOKEN_QUERY)) {
		if (rc_pct(tok, sizeof(tok), token) == -1)
			goto bad;
		n += snprintf(buf + n, sizeof(buf) - n, "%ctoken=%s",
		    strchr(buf, '?') != NULL ? '&' : '?', tok);
	}
	if (n >= (int)sizeof(buf))
		goto bad;
	if ((u->target = strdup(buf)) == NULL || (u->url = strdup(url)) == NULL)
		return -1;
	return 0;
bad:
	log_warnx("%s: %s: malformed relay URL", __func__, url);
	return -1;
}

static double
rc_backoff(struct relay_client *c)
{
	double d = c->cfg.backoff_min;
	unsigned i;

	for (i = 0; i < c->attempt && d < c->cfg.backoff_max; i++)
		d *= 2;
	if (d > c->cfg.backoff_max)
		d = c->cfg.backoff_max;
	if (c->attempt < 64)
		c->attempt++;
	/* +-25%: peers that lost the same relay do not come back in step */
	return d * (0.75 + arc4random_uniform(1001) / 2000.0);
}

/* --- raw I/O, plain or TLS: n > 0, 0 at EOF, -1 with errno ---------------- */

static const char *
rc_ssl_err(void)
{
	static char buf[120];
	unsigned long e = ERR_get_error();

	if (e == 0)
		return "TLS error";
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return buf;
}

static ssize_t
rc_read(struct relay_client *c, void *buf, size_t len)
{
	ssize_t n;
	int r;

	if (c->ssl == NULL) {
		n = read(c->fd, buf, len);
		if (n == -1 && errno != EAGAIN && errno != EINTR)
			snprintf(c->why, sizeof(c->why), "read: %s",
			    strerror(errno));
		return n;
	}
	ERR_clear_error();
	if ((r = SSL_read(c->ssl, buf, len)) > 0)
		return r;
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_WRITE:
		c->ssl_want_write = 1;
		/* FALLTHROUGH */
	case SSL_ERROR_WANT_READ:
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	default:
		snprintf(c->why, sizeof(c->why), "TLS read: %s", rc_ssl_err());
		errno = EIO;
		return -1;
	}
}

static ssize_t
rc_write(struct relay_client *c, const void *buf, size_t len)
{
	ssize_t n;
	int r;

	if (c->ssl == NULL) {
		n = send(c->fd, buf, len, MSG_NOSIGNAL);
		if (n == -1 && errno != EAGAIN && errno != EINTR)
			snprintf(c->why, sizeof(c->why), "write: %s",
			    strerror(errno));
		return n;
	}
	ERR_clear_error();
	if ((r = SSL_write(c->ssl, buf, len)) > 0)
		return r;
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_WRITE:
		c->ssl_want_write = 1;
		/* FALLTHROUGH */
	case SSL_ERROR_WANT_READ:
		errno = EAGAIN;
		return -1;
	default:
		snprintf(c->why, sizeof(c->why), "TLS write: %s", rc_ssl_err());
		errno = EIO;
		return -1;
	}
}

static void
rc_watch(struct relay_client *c, int events)
{
	if (ev_is_active(&c->io) && (c->io.events & (EV_READ | EV_WRITE)) ==
	    events)
		return;
	ev_io_stop(c->loop, &c->io);
	ev_io_set(&c->io, c->fd, events);
	if (events != 0)
		ev_io_start(c->loop, &c->io);
}

/* --- teardown and retry ------------------------------------------------------ */

static void
rc_probe_cancel(struct relay_client *c)
{
	ev_timer_stop(c->loop, &c->probe_timer);
	ev_io_stop(c->loop, &c->probe_io);
	if (c->probe_fd != -1)
		close(c->probe_fd);
	c->probe_fd = -1;
}

/* Close the connection; with a status code, say goodbye first. */
static void
rc_close(struct relay_client *c, uint16_t code)
{
	if (c->ws != NULL && code != 0 && c->phase == RC_PH_OPEN) {
		wslay_event_queue_close(c->ws, code, NULL, 0);
		rc_push(c);	/* best effort, non-blocking */
	}
	if (c->ssl != NULL && code != 0) {
		ERR_clear_error();
		SSL_shutdown(c->ssl);
	}
	ev_io_stop(c->loop, &c->io);
	ev_timer_stop(c->loop, &c->timer);
	ev_timer_stop(c->loop, &c->ping);
	ev_prepare_stop(c->loop, &c->flush);
	rc_probe_cancel(c);
	if (c->ws != NULL)
		wslay_event_context_free(c->ws);
	c->ws = NULL;
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	c->ssl = NULL;
	ERR_clear_error();
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	if (c->ai_res != NULL)
		freeaddrinfo(c->ai_res);
	c->ai_res = c->ai_cur = NULL;
	free(c->hs);
	c->hs = NULL;
	free(c->rbuf);
	free(c->wbuf);
	c->rbuf = c->wbuf = NULL;
	c->hslen = c->hsoff = c->rlen = c->roff = c->wlen = c->woff = 0;
	c->ssl_want_write = c->io_error = c->drain_wanted = c->wsl_frag = 0;
	c->feed = 0;
	c->wsl_left = 0;
	c->phase = RC_PH_NONE;
}

/*
 * Something failed: close, pick the next relay and when to try it. A failed
 * attempt moves on to the next relay at once; after a whole round of
 * failures, back to the first one after a backoff delay. A drop after a
 * working connection retries the same relay first.
 */
static void
rc_fail(struct relay_client *c, const char *fmt, ...)
{
	struct rc_url *u = &c->urls[c->idx];
	char msg[256];
	va_list ap;
	double delay;
	int was_open = c->phase == RC_PH_OPEN;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("relay %s%s%s%s: %s", u->url, u->region ? " (" : "",
	    u->region ? u->region : "", u->region ? ")" : "", msg);
	rc_close(c, 0);

	if (was_open) {
		if (ev_now(c->loop) - c->connected_at >= RC_STABLE)
			c->attempt = 0;
		c->tried = 0;
		delay = rc_backoff(c);
	} else if (++c->tried < c->nurls) {
		c->idx = (c->idx + 1) % c->nurls;
		delay = 0;
	} else {
		c->tried = 0;
		c->idx = 0;
		delay = rc_backoff(c);
	}
	if (delay > 0)
		log_info("relay: next attempt on %s in %.2fs",
		    c->urls[c->idx].url, delay);
	ev_timer_set(&c->timer, delay, 0);
	ev_timer_start(c->loop, &c->timer);
	rc_set_state(c, RELAY_CLIENT_BACKOFF);
}

/* --- the handshake ---------------------------------------------------------- */

static void
rc_b64(char *out, const unsigned char *in, size_t len)
{
	EVP_EncodeBlock((unsigned char *)out, in, len);
}

static int
rc_http_request(struct relay_client *c)
{
	struct rc_url *u = &c->urls[c->idx];
	unsigned char nonce[16], md[EVP_MAX_MD_SIZE];
	char key[32], cat[80];
	unsigned int mdlen;
	int n;

	arc4random_buf(nonce, sizeof(nonce));
	rc_b64(key, nonce, sizeof(nonce));
	snprintf(cat, sizeof(cat), "%s%s", key, RC_WS_GUID);
	if (EVP_Digest(cat, strlen(cat), md, &mdlen, EVP_sha1(), NULL) != 1)
		return -1;
	rc_b64(c->accept, md, mdlen);

	if ((c->hs = malloc(RC_HS_MAX)) == NULL)
		return -1;
	n = snprintf(c->hs, RC_HS_MAX,
	    "GET %s HTTP/1.1\r\n"
	    "Host: %s\r\n"
	    "Upgrade: websocket\r\n"
	    "Connection: Upgrade\r\n"
	    "Sec-WebSocket-Key: %s\r\n"
	    "Sec-WebSocket-Version: 13\r\n"
	    "User-Agent: atmosphere-relay-client\r\n",
	    u->target, u->hosthdr, key);
	if (c->token != NULL && (c->cfg.token_mode & RELAY_CLIENT_TOKEN_HEADER))
		n += snprintf(c->hs + n, RC_HS_MAX - n,
		    "Authorization: Bearer %s\r\n", c->token);
	n += snprintf(c->hs + n, RC_HS_MAX - n, "\r\n");
	if (n >= RC_HS_MAX)
		return -1;
	c->hslen = n;
	c->hsoff = 0;
	return 0;
}

/* 1 when the comma-separated header value holds token (any case) */
static int
rc_has_token(const char *v, const char *token)
{
	size_t tl = strlen(token);

	while (*v != '\0') {
		v += strspn(v, " \t,");
		if (strncasecmp(v, token, tl) == 0 &&
		    (v[tl] == '\0' || v[tl] == ',' || v[tl] == ' ' ||
		    v[tl] == '\t'))
			return 1;
		v += strcspn(v, ",");
	}
	return 0;
}

/* Check the answer held in c->hs (NUL-terminated headers). */
static int
rc_http_check(struct relay_client *c)
{
	char *line, *next, *name, *v, *e;
	int status, upgrade = 0, connection = 0, accept = 0;

	line = c->hs;
	next = strstr(line, "\r\n");
	*next = '\0';
	if (sscanf(line, "HTTP/1.1 %d", &status) != 1) {
		rc_fail(c, "not an HTTP/1.1 answer");
		return -1;
	}
	if (status != 101) {
		rc_fail(c, "upgrade refused: %.80s", line + 9);
		return -1;
	}
	for (line = next + 2; *line != '\0'; line = next + 2) {
		if ((next = strstr(line, "\r\n")) == NULL)
			break;
		*next = '\0';
		name = line;
		if ((v = strchr(line, ':')) == NULL) {
			rc_fail(c, "malformed header line");
			return -1;
		}
		*v++ = '\0';
		v += strspn(v, " \t");
		for (e = v + strlen(v); e > v && (e[-1] == ' ' || e[-1] == '\t');)
			*--e = '\0';
		if (strcasecmp(name, "Upgrade") == 0)
			upgrade = strcasecmp(v, "websocket") == 0;
		else if (strcasecmp(name, "Connection") == 0)
			connection = rc_has_token(v, "upgrade");
		else if (strcasecmp(name, "Sec-WebSocket-Accept") == 0)
			accept = strcmp(v, c->accept) == 0;
		else if (strcasecmp(name, "Sec-WebSocket-Extensions") == 0 ||
		    strcasecmp(name, "Sec-WebSocket-Protocol") == 0) {
			/* RFC 6455 4.1: we asked for neither */
			rc_fail(c, "unrequested %s in the answer", name);
			return -1;
		}
	}
	if (!upgrade || !connection || !accept) {
		rc_fail(c, "bad upgrade answer (%s)", !upgrade ? "Upgrade" :
		    !connection ? "Connection" : "Sec-WebSocket-Accept");
		return -1;
	}
	return 0;
}

/* wslay reads the frame bytes rc_input gave it (c->feed), no more. */
static ssize_t
rc_ws_recv_cb(wslay_event_context_ptr ws, uint8_t *buf, size_t len,
    int flags, void *arg)
{
	struct relay_client *c = arg;

	(void)flags;
	if (c->feed == 0) {
		wslay_event_set_error(ws, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	if (len > c->feed)
		len = c->feed;
	memcpy(buf, c->rbuf + c->roff, len);
	c->roff += len;
	c->feed -= len;
	c->wsl_left -= len;
	return len;
}

/*
 * Handle what c->rbuf holds. The common frame, a complete final binary
 * frame within max_frame, goes to on_frame straight from the buffer; every
 * other frame (control, text, fragments, anything malformed or too big)
 * goes to wslay whole, so it keeps deciding about those as before, always
 * at a frame boundary. 0; 1 when wslay stopped reading; or wslay's error.
 */
static int
rc_parse(struct relay_client *c)
{
	unsigned char *p, l7;
	uint64_t plen;
	size_t hl, avail, i;
	int r;

	while (c->roff < c->rlen && !c->stop_pending) {
		p = c->rbuf + c->roff;
		avail = c->rlen - c->roff;
		if (c->wsl_left > 0) {
			c->feed = avail < c->wsl_left ? avail : c->wsl_left;
			if ((r = wslay_event_recv(c->ws)) != 0)
				return r;
			if (c->feed > 0) {
				c->feed = 0;
				return 1;
			}
			continue;
		}
		if (avail < 2)
			break;
		l7 = p[1] & 0x7f;
		hl = 2 + (l7 == 126 ? 2 : l7 == 127 ? 8 : 0) +
		    (p[1] & 0x80 ? 4 : 0);
		if (avail < hl)
			break;
		if (l7 == 126)
			plen = (uint64_t)p[2] << 8 | p[3];
		else if (l7 == 127)
			for (plen = 0, i = 2; i < 10; i++)
				plen = plen << 8 | p[i];
		else
			plen = l7;
		if (p[0] != (0x80 | WSLAY_BINARY_FRAME) || (p[1] & 0x80) ||
		    c->wsl_frag || plen > c->cfg.max_frame ||
		    plen > RC_RBUF - hl ||
		    (l7 == 126 && plen < 126) || (l7 == 127 && plen < 65536) ||
		    !wslay_event_get_read_enabled(c->ws)) {
			/* wslay's, whole: a data frame without FIN opens a
			 * message, a final continuation closes it */
			if ((p[0] & 0x0f) < 0x08)
				c->wsl_frag = !(p[0] & 0x80);
			c->wsl_left = plen > UINT64_MAX - hl ? UINT64_MAX :
			    plen + hl;
			continue;
		}
		if (avail - hl < plen)
			break;
		c->roff += hl + plen;
		c->last_rx = ev_now(c->loop);
		if (c->cfg.on_frame != NULL)
			c->cfg.on_frame(c->cfg.arg, p + hl, plen);
	}
	return 0;
}

/* Read what the socket has into c->rbuf and handle it; 0 or wslay's
 * error. */
static int
rc_input(struct relay_client *c)
{
	ssize_t n;
	size_t want;
	int r, drained = 0;

	for (;;) {
		if (c->roff < c->rlen && (r = rc_parse(c)) != 0) {
			if (r < 0)
				return r;
			c->roff = c->rlen = 0;	/* closing: not for wslay */
			return 0;
		}
		if (c->roff == c->rlen)
			c->roff = c->rlen = 0;
		if (drained || c->stop_pending ||
		    !wslay_event_get_read_enabled(c->ws))
			return 0;
		if (c->roff > 0 && RC_RBUF - c->rlen < RC_RBUF / 4) {
			/* a partial frame at the end: to the front */
			memmove(c->rbuf, c->rbuf + c->roff, c->rlen - c->roff);
			c->rlen -= c->roff;
			c->roff = 0;
		}
		want = RC_RBUF - c->rlen;
		n = rc_read(c, c->rbuf + c->rlen, want);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n <= 0) {
			if (n == 0 && c->why[0] == '\0')
				snprintf(c->why, sizeof(c->why),
				    "connection closed by relay");
			return WSLAY_ERR_CALLBACK_FAILURE;
		}
		c->rlen += n;
		c->last_rx = ev_now(c->loop);
		/* a short read emptied the socket: skip the read that would
		 * only say EAGAIN; the level-triggered watcher comes back if
		 * more arrived since. TLS records say nothing of the socket. */
		drained = c->ssl == NULL && (size_t)n < want;
	}
}

static ssize_t
rc_ws_send_cb(wslay_event_context_ptr ws, const uint8_t *data, size_t len,
    int flags, void *arg)
{
	struct relay_client *c = arg;
	size_t room;

	(void)flags;
	if (c->woff > 0 && c->wlen + len > RC_WBUF) {
		memmove(c->wbuf, c->wbuf + c->woff, c->wlen - c->woff);
		c->wlen -= c->woff;
		c->woff = 0;
	}
	if ((room = RC_WBUF - c->wlen) == 0) {
		wslay_event_set_error(ws, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	if (len > room)
		len = room;
	memcpy(c->wbuf + c->wlen, data, len);
	c->wlen += len;
	return len;
}

/*
 * A binary frame straight into c->wbuf, masked 8 bytes at a time (wslay
 * masks byte by byte, the largest cost of a big frame). Only when wslay has
 * nothing queued or half-sent, so the byte stream stays in order. -1: no
 * room, let wslay queue it.
 *
 *   FIN|0x2, MASK|len7 [len16 | len64], masking key (4), payload ^ key
 *   (RFC 6455 5.2)
 */
static int
rc_frame_direct(struct relay_client *c, const unsigned char *data, size_t len)
{
	unsigned char *p, key[4];
	uint64_t k8, w;
	size_t hl = len < 126 ? 2 : len < 65536 ? 4 : 10, i;

	if (c->woff > 0 && c->wlen + hl + 4 + len > RC_WBUF) {
		memmove(c->wbuf, c->wbuf + c->woff, c->wlen - c->woff);
		c->wlen -= c->woff;
		c->woff = 0;
	}
	if (c->wlen + hl + 4 + len > RC_WBUF)
		return -1;
	p = c->wbuf + c->wlen;
	*p++ = 0x80 | WSLAY_BINARY_FRAME;
	if (len < 126)
		*p++ = 0x80 | len;
	else if (len < 65536) {
		*p++ = 0x80 | 126;
		*p++ = len >> 8;
		*p++ = len;
	} else {
		*p++ = 0x80 | 127;
		for (i = 8; i-- > 0;)
			*p++ = (uint64_t)len >> (8 * i);
	}
	rc_ws_genmask_cb(c->ws, key, 4, c);
	memcpy(p, key, 4);
	p += 4;
	memcpy(&k8, key, 4);
	memcpy((unsigned char *)&k8 + 4, key, 4);
	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&w, data + i, 8);
		w ^= k8;
		memcpy(p + i, &w, 8);
	}
	for (; i < len; i++)
		p[i] = data[i] ^ key[i & 3];
	c->wlen += hl + 4 + len;
	return 0;
}

/* Write out c->wbuf; 0 (maybe with bytes left), -1 on a dead socket. */
static int
rc_flush(struct relay_client *c)
{
	ssize_t n;

	while (c->woff < c->wlen) {
		n = rc_write(c, c->wbuf + c->woff, c->wlen - c->woff);
		if (n > 0) {
			c->woff += n;
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			break;
		return -1;
	}
	if (c->woff == c->wlen)
		c->woff = c->wlen = 0;
	return 0;
}

/* Let wslay frame what is queued and write it; -1 on a dead socket. */
static int
rc_push(struct relay_client *c)
{
	int i;

	for (i = 0; i < 16; i++) {
		if (wslay_event_send(c->ws) != 0 || rc_flush(c) == -1)
			return -1;
		/* socket full, or nothing left: the io watcher takes over */
		if (c->wlen > 0 || !wslay_event_want_write(c->ws))
			break;
	}
	return 0;
}

static int
rc_ws_genmask_cb(wslay_event_context_ptr ws, uint8_t *buf, size_t len,
    void *arg)
{
	struct relay_client *c = arg;

	(void)ws;
	/* RFC 6455 5.3: unpredictable; one arc4random call per 64 frames */
	if (len > sizeof(c->masks)) {
		arc4random_buf(buf, len);
		return 0;
	}
	if (c->maskoff == 0 || c->maskoff + len > sizeof(c->masks)) {
		arc4random_buf(c->masks, sizeof(c->masks));
		c->maskoff = 0;
	}
	memcpy(buf, c->masks + c->maskoff, len);
	explicit_bzero(c->masks + c->maskoff, len);
	c->maskoff += len;
	return 0;
}

static void
rc_ws_msg_cb(wslay_event_context_ptr ws,
    const struct wslay_event_on_msg_recv_arg *m, void *arg)
{
	struct relay_client *c = arg;
	double sent;

	(void)ws;
	c->last_rx = ev_now(c->loop);
	switch (m->opcode) {
	case WSLAY_BINARY_FRAME:
	case WSLAY_TEXT_FRAME:
		if (c->cfg.on_frame != NULL && !c->stop_pending)
			c->cfg.on_frame(c->cfg.arg, m->msg, m->msg_length);
		break;
	case WSLAY_PONG:
		if (m->msg_length == sizeof(sent)) {
			memcpy(&sent, m->msg, sizeof(sent));
			if (sent > 0 && sent <= ev_time())
				c->rtt = ev_time() - sent;
		}
		break;
	case WSLAY_CONNECTION_CLOSE:
		snprintf(c->why, sizeof(c->why), "closed by relay (%u)",
		    m->status_code);
		break;
	}
}

static void
rc_ping_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct relay_client *c = container_of(w, struct relay_client, ping);
	struct wslay_event_msg m;
	double now = ev_time();

	(void)loop;
	(void)revents;
	if (ev_now(c->loop) - c->last_rx >= c->cfg.dead_after) {
		rc_fail(c, "no frame for %.0fs, connection dead",
		    ev_now(c->loop) - c->last_rx);
		return;
	}
	m.opcode = WSLAY_PING;
	m.msg = (const uint8_t *)&now;
	m.msg_length = sizeof(now);
	if (wslay_event_queue_msg(c->ws, &m) == 0)
		rc_open_step(c, 0);
}

static void
rc_ws_open(struct relay_client *c, const char *rest, size_t restlen)
{
	struct wslay_event_callbacks cb = {
		.recv_callback = rc_ws_recv_cb,
		.send_callback = rc_ws_send_cb,
		.genmask_callback = rc_ws_genmask_cb,
		.on_msg_recv_callback = rc_ws_msg_cb,
	};
	struct rc_url *u = &c->urls[c->idx];

	if ((c->rbuf = malloc(RC_RBUF)) == NULL ||
	    (c->wbuf = malloc(RC_WBUF)) == NULL) {
		rc_fail(c, "out of memory");
		return;
	}
	memcpy(c->rbuf, rest, restlen);		/* restlen < RC_HS_MAX */
	c->rlen = restlen;
	free(c->hs);
	c->hs = NULL;
	if (wslay_event_context_client_init(&c->ws, &cb, c) != 0) {
		rc_fail(c, "out of memory");
		return;
	}
	wslay_event_config_set_max_recv_msg_length(c->ws, c->cfg.max_frame);
	c->phase = RC_PH_OPEN;
	c->connected_at = c->last_rx = ev_now(c->loop);
	ev_timer_stop(c->loop, &c->timer);
	ev_timer_set(&c->ping, c->cfg.ping_interval, c->cfg.ping_interval);
	ev_timer_start(c->loop, &c->ping);
	if (c->idx != 0) {
		ev_timer_set(&c->probe_timer, c->cfg.primary_retry, 0);
		ev_timer_start(c->loop, &c->probe_timer);
	}
	c->tried = 0;
	rc_watch(c, EV_READ);
	log_info("relay %s%s%s%s connected", u->url, u->region ? " (" : "",
	    u->region ? u->region : "", u->region ? ")" : "");
	/* frames may already sit in c->rbuf or inside the TLS buffer */
	ev_feed_event(c->loop, &c->io, EV_READ);
	rc_set_state(c, RELAY_CLIENT_CONNECTED);
}

static void
rc_http_recv(struct relay_client *c)
{
	char *end;
	ssize_t n;

	for (;;) {
		if (c->hslen >= RC_HS_MAX - 1) {
			rc_fail(c, "upgrade answer too long");
			return;
		}
		n = rc_read(c, c->hs + c->hslen, RC_HS_MAX - 1 - c->hslen);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0) {
			rc_fail(c, "%s", n == 0 ? "closed during upgrade" :
			    c->why);
			return;
		}
		c->hslen += n;
		c->hs[c->hslen] = '\0';
		if ((end = strstr(c->hs, "\r\n\r\n")) != NULL) {
			size_t hdr = end + 4 - c->hs;
			char rest[RC_HS_MAX];
			size_t restlen = c->hslen - hdr;

			memcpy(rest, c->hs + hdr, restlen);
			end[2] = '\0';	/* keep the last header's CRLF */
			if (rc_http_check(c) == -1)
				return;
			rc_ws_open(c, rest, restlen);
			return;
		}
	}
	rc_watch(c, EV_READ | (c->ssl_want_write ? EV_WRITE : 0));
}

static void
rc_http_send(struct relay_client *c)
{
	ssize_t n;

	while (c->hsoff < c->hslen) {
		n = rc_write(c, c->hs + c->hsoff, c->hslen - c->hsoff);
		if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
			rc_watch(c, EV_WRITE | EV_READ);
			return;
		}
		if (n <= 0) {
			rc_fail(c, "%s", c->why);
			return;
		}
		c->hsoff += n;
	}
	c->phase = RC_PH_HTTP_RECV;
	c->hslen = 0;
	rc_http_recv(c);
}

static void
rc_tls_step(struct relay_client *c)
{
	long vr;
	int r;

	ERR_clear_error();
	if ((r = SSL_connect(c->ssl)) == 1) {
		c->phase = RC_PH_HTTP_SEND;
		if (rc_http_request(c) == -1) {
			rc_fail(c, "cannot build the upgrade request");
			return;
		}
		rc_http_send(c);
		return;
	}
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		rc_watch(c, EV_READ);
		return;
	case SSL_ERROR_WANT_WRITE:
		rc_watch(c, EV_WRITE);
		return;
	}
	if ((vr = SSL_get_verify_result(c->ssl)) != X509_V_OK)
		rc_fail(c, "TLS certificate verify failed: %s",
		    X509_verify_cert_error_string(vr));
	else
		rc_fail(c, "TLS handshake: %s", rc_ssl_err());
}

static int
rc_tls_start(struct relay_client *c)
{
	struct rc_url *u = &c->urls[c->idx];
	unsigned char ip[16];
	int isip;

	if ((c->ssl = SSL_new(c->ssl_ctx)) == NULL ||
	    SSL_set_fd(c->ssl, c->fd) != 1)
		return -1;
	SSL_set_mode(c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	isip = inet_pton(AF_INET, u->host, ip) == 1 ||
	    inet_pton(AF_INET6, u->host, ip) == 1;
	/* SNI takes names only (RFC 6066 3) */
	if (!isip && SSL_set_tlsext_host_name(c->ssl, u->host) != 1)
		return -1;
	if (!c->cfg.insecure) {
		if (isip) {
			if (X509_VERIFY_PARAM_set1_ip_asc(
			    SSL_get0_param(c->ssl), u->host) != 1)
				return -1;
		} else if (SSL_set1_host(c->ssl, u->host) != 1)
			return -1;
	}
	c->phase = RC_PH_TLS;
	rc_tls_step(c);
	return 0;
}

/* --- event callbacks ---------------------------------------------------------- */

/* One pass of wslay once open: read what is there, write what is queued. */
static void
rc_open_step(struct relay_client *c, int readable)
{
	int r = 0;

	c->ssl_want_write = 0;
	c->busy++;
	if (readable && !c->io_error)
		r = rc_input(c);
	if (r == 0 && !c->io_error)
		r = rc_push(c);
	c->busy--;
	if (c->stop_pending) {
		relay_client_stop(c);
		return;
	}
	if (r != 0 || c->io_error) {
		rc_fail(c, "%s", c->why[0] ? c->why : "WebSocket error");
		return;
	}
	if (!wslay_event_want_read(c->ws) && !wslay_event_want_write(c->ws)) {
		rc_fail(c, "%s", c->why[0] ? c->why : "closed");
		return;
	}
	rc_watch(c, (wslay_event_want_read(c->ws) ? EV_READ : 0) |
	    (wslay_event_want_write(c->ws) || c->wlen > 0 || c->ssl_want_write ?
	    EV_WRITE : 0));
	if (c->drain_wanted && relay_client_queued(c) < c->cfg.max_queue / 2) {
		c->drain_wanted = 0;
		if (c->cfg.on_drain != NULL)
			c->cfg.on_drain(c->cfg.arg);
	}
}

static void
rc_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct relay_client *c = container_of(w, struct relay_client, io);
	int err = 0;
	socklen_t len = sizeof(err);

	(void)loop;
	switch (c->phase) {
	case RC_PH_TCP:
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		if (err != 0) {
			/* e.g. ::1 refused, 127.0.0.1 listening */
			snprintf(c->why, sizeof(c->why), "connect: %s",
			    strerror(err));
			if (rc_connect_next(c) == -1)
				rc_fail(c, "%s", c->why);
			return;
		}
		freeaddrinfo(c->ai_res);
		c->ai_res = c->ai_cur = NULL;
		if (c->urls[c->idx].tls) {
			if (rc_tls_start(c) == -1)
				rc_fail(c, "TLS setup: %s", rc_ssl_err());
			return;
		}
		c->phase = RC_PH_HTTP_SEND;
		if (rc_http_request(c) == -1) {
			rc_fail(c, "cannot build the upgrade request");
			return;
		}
		rc_http_send(c);
		break;
	case RC_PH_TLS:
		rc_tls_step(c);
		break;
	case RC_PH_HTTP_SEND:
		rc_http_send(c);
		break;
	case RC_PH_HTTP_RECV:
		rc_http_recv(c);
		break;
	case RC_PH_OPEN:
		rc_open_step(c, revents & EV_READ);
		break;
	case RC_PH_NONE:
		ev_io_stop(c->loop, w);
		break;
	}
}

static void
rc_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct relay_client *c = container_of(w, struct relay_client, timer);

	(void)loop;
	(void)revents;
	if (c->state == RELAY_CLIENT_CONNECTING)
		rc_fail(c, "no answer within %.1fs", c->cfg.connect_timeout);
	else if (c->state == RELAY_CLIENT_BACKOFF)
		rc_connect(c);
}

/*
 * Start a non-blocking connect to the next address of c->ai_cur; 0 when
 * one is under way, -1 when none is left (c->why says the last error).
 */
static int
rc_connect_next(struct relay_client *c)
{
	struct addrinfo *ai;
	int one = 1;

	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	while ((ai = c->ai_cur) != NULL) {
		c->ai_cur = ai->ai_next;
		c->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, ai->ai_protocol);
		if (c->fd == -1)
			continue;
		if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
		    errno == EINPROGRESS) {
			/* small frames are the point: latency over batching */
			setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one,
			    sizeof(one));
			rc_watch(c, EV_WRITE);
			return 0;
		}
		snprintf(c->why, sizeof(c->why), "connect: %s",
		    strerror(errno));
		close(c->fd);
		c->fd = -1;
	}
	return -1;
}

static void
rc_connect(struct relay_client *c)
{
	struct rc_url *u = &c->urls[c->idx];
	struct addrinfo hints;
	int r;

	c->why[0] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	/* blocking: see the header */
	if ((r = getaddrinfo(u->host, u->port, &hints, &c->ai_res)) != 0) {
		c->ai_res = NULL;
		rc_fail(c, "resolve %s: %s", u->host, gai_strerror(r));
		return;
	}
	c->ai_cur = c->ai_res;
	if (rc_connect_next(c) == -1) {
		rc_fail(c, "%s", c->why[0] ? c->why : "no usable address");
		return;
	}
	c->phase = RC_PH_TCP;
	ev_timer_set(&c->timer, c->cfg.connect_timeout, 0);
	ev_timer_start(c->loop, &c->timer);
	rc_set_state(c, RELAY_CLIENT_CONNECTING);
}

/* --- coming back to the first relay --------------------------------------------- */

static void
rc_probe_done(struct relay_client *c, int ok)
{
	rc_probe_cancel(c);
	if (!ok) {
		ev_timer_set(&c->probe_timer, c->cfg.primary_retry, 0);
		ev_timer_start(c->loop, &c->probe_timer);
		return;
	}
	log_info("relay %s answers again, moving back to it",
	    c->urls[0].url);
	rc_close(c, 1001);	/* going away */
	c->idx = 0;
	c->tried = 0;
	c->attempt = 0;
	rc_connect(c);
}

static void
rc_probe_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct relay_client *c = container_of(w, struct relay_client, probe_io);
	int err = 0;
	socklen_t len = sizeof(err);

	(void)loop;
	(void)revents;
	if (getsockopt(c->probe_fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	rc_probe_done(c, err == 0);
}

/* A TCP connect to the first relay: cheap, and joins no session. */
static void
rc_probe_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct relay_client *c = container_of(w, struct relay_client,
	    probe_timer);
	struct addrinfo hints, *res;
	struct rc_url *u = &c->urls[0];

	(void)revents;
	if (c->probe_fd != -1) {		/* timed out */
		rc_probe_done(c, 0);
		return;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (getaddrinfo(u->host, u->port, &hints, &res) != 0) {
		rc_probe_done(c, 0);
		return;
	}
	c->probe_fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (c->probe_fd == -1 || (connect(c->probe_fd, res->ai_addr,
	    res->ai_addrlen) == -1 && errno != EINPROGRESS)) {
		freeaddrinfo(res);
		rc_probe_done(c, 0);
		return;
	}
	freeaddrinfo(res);
	ev_io_set(&c->probe_io, c->probe_fd, EV_WRITE);
	ev_io_start(loop, &c->probe_io);
	ev_timer_set(&c->probe_timer, c->cfg.connect_timeout, 0);
	ev_timer_start(loop, &c->probe_timer);
}

/* --- public ------------------------------------------------------------------ */

struct relay_client *
relay_client_new(struct ev_loop *loop, const struct relay_client_cfg *cfg)
{
	struct relay_client *c;
	size_t i;
	int tls = 0;

	if (cfg->nurls == 0) {
		errno = EINVAL;
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->loop = loop;
	c->cfg = *cfg;
	c->cfg.urls = NULL;
	c->cfg.session = c->cfg.token = c->cfg.ca_file = NULL;
	c->fd = c->probe_fd = -1;
	c->rtt = -1;
#define DFLT(f, v)	do { if (c->cfg.f <= 0) c->cfg.f = (v); } while (0)
	DFLT(connect_timeout, 10);
	DFLT(ping_interval, 15);
	DFLT(dead_after, 3 * c->cfg.ping_interval);
	DFLT(backoff_min, 0.25);
	DFLT(backoff_max, 30);
	DFLT(primary_retry, 300);
	DFLT(max_queue, 4u << 20);
	DFLT(max_frame, 1u << 20);
#undef DFLT
	/* relayd refuses a token given twice, even the same one */
	if (c->cfg.token_mode != RELAY_CLIENT_TOKEN_QUERY)
		c->cfg.token_mode = RELAY_CLIENT_TOKEN_HEADER;
	if (cfg->token != NULL && (c->token = strdup(cfg->token)) == NULL)
		goto fail;
	if ((c->urls = calloc(cfg->nurls, sizeof(*c->urls))) == NULL)
		goto fail;
	c->nurls = cfg->nurls;
	for (i = 0; i < c->nurls; i++) {
		if (rc_url_parse(&c->urls[i], cfg->urls[i].url, cfg->session,
		    c->token, c->cfg.token_mode) == -1) {
			errno = EINVAL;
			goto fail;
		}
		if (cfg->urls[i].region != NULL && (c->urls[i].region =
		    strdup(cfg->urls[i].region)) == NULL)
			goto fail;
		tls |= c->urls[i].tls;
	}
	if (tls) {
		if ((c->ssl_ctx = SSL_CTX_new(TLS_client_method())) == NULL)
			goto tlsfail;
		SSL_CTX_set_min_proto_version(c->ssl_ctx, TLS1_2_VERSION);
		SSL_CTX_set_verify(c->ssl_ctx, c->cfg.insecure ?
		    SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
		if (cfg->ca_file != NULL) {
			if (SSL_CTX_load_verify_locations(c->ssl_ctx,
			    cfg->ca_file, NULL) != 1) {
				log_warnx("%s: CA file %s: %s", __func__,
				    cfg->ca_file, rc_ssl_err());
				errno = EINVAL;
				goto fail;
			}
		} else if (SSL_CTX_set_default_verify_paths(c->ssl_ctx) != 1)
			goto tlsfail;
	}
	ev_init(&c->io, rc_io_cb);
	ev_init(&c->timer, rc_timer_cb);
	ev_init(&c->ping, rc_ping_cb);
	ev_prepare_init(&c->flush, rc_flush_cb);
	ev_init(&c->probe_io, rc_probe_io_cb);
	ev_init(&c->probe_timer, rc_probe_timer_cb);
	return c;
tlsfail:
	log_warnx("%s: TLS context: %s", __func__, rc_ssl_err());
	errno = EINVAL;
fail:
	relay_client_free(c);
	return NULL;
}

void
relay_client_start(struct relay_client *c)
{
	if (c->state != RELAY_CLIENT_IDLE)
		return;
	c->idx = c->tried = c->attempt = 0;
	rc_connect(c);
}

void
relay_client_stop(struct relay_client *c)
{
	if (c->busy) {
		c->stop_pending = 1;
		return;
	}
	c->stop_pending = 0;
	rc_close(c, 1000);
	rc_set_state(c, RELAY_CLIENT_IDLE);
}

void
relay_client_free(struct relay_client *c)
{
	size_t i;

	if (c == NULL)
		return;
	if (c->loop != NULL)
		rc_close(c, 1000);
	for (i = 0; i < c->nurls; i++) {
		free(c->urls[i].url);
		free(c->urls[i].region);
		free(c->urls[i].hosthdr);
		free(c->urls[i].target);
	}
	free(c->urls);
	if (c->token != NULL)
		explicit_bzero(c->token, strlen(c->token));
	free(c->token);
	SSL_CTX_free(c->ssl_ctx);
	free(c);
}

static void
rc_send_now(struct relay_client *c)
{
	ev_prepare_stop(c->loop, &c->flush);
	c->busy++;
	if (rc_push(c) == -1)
		c->io_error = 1;
	c->busy--;
	if (c->io_error || wslay_event_want_write(c->ws) || c->wlen > 0 ||
	    c->ssl_want_write)
		ev_feed_event(c->loop, &c->io, EV_WRITE);
}

static void
rc_flush_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct relay_client *c = container_of(w, struct relay_client, flush);

	(void)revents;
	ev_prepare_stop(loop, w);
	if (c->phase == RC_PH_OPEN && !c->busy && !c->io_error)
		rc_send_now(c);
}

int
relay_client_send(struct relay_client *c, const void *data, size_t len)
{
	struct wslay_event_msg m;
	size_t queued;

	if (c->phase != RC_PH_OPEN || c->stop_pending || c->io_error ||
	    !wslay_event_get_write_enabled(c->ws)) {
		errno = ENOTCONN;
		return -1;
	}
	if (len > c->cfg.max_queue) {
		errno = EMSGSIZE;
		return -1;
	}
	queued = relay_client_queued(c);
	if (queued > 0 && queued + len > c->cfg.max_queue) {
		c->drain_wanted = 1;
		errno = ENOBUFS;
		return -1;
	}
	/* no room: write some out first (not from inside wslay) */
	if (wslay_event_want_write(c->ws) ||
	    (rc_frame_direct(c, data, len) == -1 && (c->busy ||
	    rc_flush(c) == -1 || rc_frame_direct(c, data, len) == -1))) {
		m.opcode = WSLAY_BINARY_FRAME;
		m.msg = data;
		m.msg_length = len;
		if (wslay_event_queue_msg(c->ws, &m) != 0) {
			errno = ENOMEM;
			return -1;
		}
	}
	if (c->busy)
		return 0;	/* rc_open_step() sends after wslay returns */
	/*
	 * Written before the loop waits again (rc_flush_cb): no later for
	 * latency than writing now, and a burst of frames sent in one loop
	 * turn takes one send(2) per RC_FLUSH_AT instead of one per frame.
	 */
	if (c->wlen - c->woff < RC_FLUSH_AT && !wslay_event_want_write(c->ws)) {
		ev_prepare_start(c->loop, &c->flush);
		return 0;
	}
	rc_send_now(c);
	return 0;
}

enum relay_client_state
relay_client_state(const struct relay_client *c)
{
	return c->state;
}

const char *
relay_client_url(const struct relay_client *c)
{
	return c->urls[c->idx].url;
}

const char *
relay_client_region(const struct relay_client *c)
{
	return c->urls[c->idx].region;
}

size_t
relay_client_queued(const struct relay_client *c)
{
	if (c->ws == NULL)
		return 0;
	return wslay_event_get_queued_msg_length(c->ws) + c->wlen - c->woff;
}

double
relay_client_rtt(const struct relay_client *c)
{
	return c->rtt;
}
