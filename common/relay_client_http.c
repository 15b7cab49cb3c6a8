/*
 * Relay client: the relay URLs (ws[s]://host[:port][/path]) and the HTTP
 * upgrade (RFC 6455 4.1): the GET out, the 101 answer in and checked, then
 * the WebSocket opens (relay_client_ws.c).
 */
#include "relay_client_priv.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "log.h"

#define RC_WS_GUID	"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"	/* RFC 6455 1.3 */

/* --- the URL -------------------------------------------------------------- */

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
int
rc_url_parse(struct rc_url *u, const char *url, const char *session)
{
	const char *p, *hend, *path;
	char sess[512], buf[1024];
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
	if (n >= (int)sizeof(buf))
		goto bad;
	if ((u->target = strdup(buf)) == NULL || (u->url = strdup(url)) == NULL)
		return -1;
	return 0;
bad:
	log_warnx("%s: %s: malformed relay URL", __func__, url);
	return -1;
}

/* --- the handshake ---------------------------------------------------------- */

static void
rc_b64(char *out, const unsigned char *in, size_t len)
{
	EVP_EncodeBlock((unsigned char *)out, in, len);
}

int
rc_http_request(struct relay_client *c)
{
	struct rc_url *u = &c->urls[c->idx];
	unsigned char nonce[16], md[EVP_MAX_MD_SIZE];
	char key[32], cat[80], tok[1024] = "";
	const char *token = rc_token(c);	/* read now: it may change */
	unsigned int mdlen;
	int n;

	arc4random_buf(nonce, sizeof(nonce));
	rc_b64(key, nonce, sizeof(nonce));
	snprintf(cat, sizeof(cat), "%s%s", key, RC_WS_GUID);
	if (EVP_Digest(cat, strlen(cat), md, &mdlen, EVP_sha1(), NULL) != 1)
		return -1;
	rc_b64(c->accept, md, mdlen);

	if (token != NULL && (c->cfg.token_mode & RELAY_CLIENT_TOKEN_QUERY)) {
		n = snprintf(tok, sizeof(tok), "%ctoken=",
		    strchr(u->target, '?') != NULL ? '&' : '?');
		if (rc_pct(tok + n, sizeof(tok) - n, token) == -1)
			return -1;
	}
	if ((c->hs = malloc(RC_HS_MAX)) == NULL)
		return -1;
	n = snprintf(c->hs, RC_HS_MAX,
	    "GET %s%s HTTP/1.1\r\n"
	    "Host: %s\r\n"
	    "Upgrade: websocket\r\n"
	    "Connection: Upgrade\r\n"
	    "Sec-WebSocket-Key: %s\r\n"
	    "Sec-WebSocket-Version: 13\r\n"
	    "User-Agent: atmosphere-relay-client\r\n",
	    u->target, tok, u->hosthdr, key);
	explicit_bzero(tok, sizeof(tok));
	if (token != NULL && (c->cfg.token_mode & RELAY_CLIENT_TOKEN_HEADER))
		n += snprintf(c->hs + n, RC_HS_MAX - n,
		    "Authorization: Bearer %s\r\n", token);
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

/*
 * Not a 101: keep why (c->refusal) from the status and relayd's
 * Atmosphere-Relay-Refused header, so that it reaches the user; -1.
 */
static int
rc_http_refused(struct relay_client *c, int status, const char *statusline,
    char *hdrs)
{
	char *line, *next, *v, *reason = NULL;
	const char *phrase = statusline + strlen("HTTP/1.1 ");

	phrase += strspn(phrase, "0123456789");
	phrase += strspn(phrase, " ");
	for (line = hdrs; *line != '\0'; line = next + 2) {
		if ((next = strstr(line, "\r\n")) == NULL)
			break;
		*next = '\0';
		if ((v = strchr(line, ':')) == NULL)
			continue;
		*v++ = '\0';
		if (strcasecmp(line, "Atmosphere-Relay-Refused") == 0) {
			v += strspn(v, " \t");
			v[strcspn(v, " \t")] = '\0';
			reason = v;
		}
	}
	rc_refusal_set(c, status, reason, phrase);
	return rc_why(c, "upgrade refused: %s", c->refusal.text);
}

/* Check the answer held in c->hs (NUL-terminated headers); -1 with the
 * reason in c->why. */
static int
rc_http_check(struct relay_client *c)
{
	char *line, *next, *name, *v, *e;
	int status, upgrade = 0, connection = 0, accept = 0;

	line = c->hs;
	next = strstr(line, "\r\n");
	*next = '\0';
	if (sscanf(line, "HTTP/1.1 %d", &status) != 1)
		return rc_why(c, "not an HTTP/1.1 answer");
	if (status != 101)
		return rc_http_refused(c, status, line, next + 2);
	for (line = next + 2; *line != '\0'; line = next + 2) {
		if ((next = strstr(line, "\r\n")) == NULL)
			break;
		*next = '\0';
		name = line;
		if ((v = strchr(line, ':')) == NULL)
			return rc_why(c, "malformed header line");
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
		    strcasecmp(name, "Sec-WebSocket-Protocol") == 0)
			/* RFC 6455 4.1: we asked for neither */
			return rc_why(c, "unrequested %s in the answer", name);
	}
	if (!upgrade || !connection || !accept)
		return rc_why(c, "bad upgrade answer (%s)", !upgrade ?
		    "Upgrade" : !connection ? "Connection" :
		    "Sec-WebSocket-Accept");
	return 0;
}

/*
 * Read the answer; 1 when a good 101 is in, with the bytes after it (the
 * relay's first frames, fewer than RC_HS_MAX) in rest; 0 waiting; -1 failed
 * (c->why).
 */
int
rc_http_recv(struct relay_client *c, char *rest, size_t *restlen)
{
	char *end;
	ssize_t n;

	for (;;) {
		if (c->hslen >= RC_HS_MAX - 1)
			return rc_why(c, "upgrade answer too long");
		n = rc_read(c, c->hs + c->hslen, RC_HS_MAX - 1 - c->hslen);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n == 0)
			return rc_why(c, "closed during upgrade");
		if (n < 0)
			return -1;	/* rc_read said why */
		c->hslen += n;
		c->hs[c->hslen] = '\0';
		if ((end = strstr(c->hs, "\r\n\r\n")) != NULL) {
			size_t hdr = end + 4 - c->hs;

			*restlen = c->hslen - hdr;
			memcpy(rest, c->hs + hdr, *restlen);
			end[2] = '\0';	/* keep the last header's CRLF */
			return rc_http_check(c) == -1 ? -1 : 1;
		}
	}
	rc_watch(c, EV_READ | (c->ssl_want_write ? EV_WRITE : 0));
	return 0;
}

/* Write the request; 1 all sent (the answer is next), 0 waiting, -1 failed
 * (c->why). */
int
rc_http_send(struct relay_client *c)
{
	ssize_t n;

	while (c->hsoff < c->hslen) {
		n = rc_write(c, c->hs + c->hsoff, c->hslen - c->hsoff);
		if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
			rc_watch(c, EV_WRITE | EV_READ);
			return 0;
		}
		if (n <= 0)
			return -1;
		c->hsoff += n;
	}
	c->phase = RC_PH_HTTP_RECV;
	c->hslen = 0;
	return 1;
}
