#include "http.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <sodium.h>

#define WS_GUID	"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

static int
http_tchar(unsigned char c)
{
	/* RFC 9110 5.6.2 token characters */
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int
http_fail(struct http_req *r, int status, const char *why)
{
	r->status = status;
	r->error = why;
	return -1;
}

int
http_list_has(const char *v, size_t vlen, const char *tok)
{
	size_t	 i = 0, s, e, n = strlen(tok);

	while (i < vlen) {
		while (i < vlen && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < vlen && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - s == n && strncasecmp(v + s, tok, n) == 0)
			return 1;
	}
	return 0;
}

static int
http_copy(char *dst, size_t dstlen, const char *v, size_t vlen)
{
	if (vlen >= dstlen)
		return -1;
	memcpy(dst, v, vlen);
	dst[vlen] = '\0';
	return 0;
}

static int
http_header(struct http_req *r, const char *name, size_t nlen, const char *v,
    size_t vlen)
{
	unsigned char	 bin[32];
	size_t		 binlen;

#define IS(h)	(nlen == strlen(h) && strncasecmp(name, h, nlen) == 0)
	if (IS("Host")) {
		if (r->flags & HTTP_F_HOST)
			return http_fail(r, 400, "duplicate Host");
		if (vlen == 0)
			return http_fail(r, 400, "empty Host");
		r->flags |= HTTP_F_HOST;
	} else if (IS("Upgrade")) {
		if (r->flags & HTTP_F_UPGRADE)
			return http_fail(r, 400, "duplicate Upgrade");
		r->flags |= HTTP_F_UPGRADE;
		if (http_list_has(v, vlen, "websocket"))
			r->flags |= HTTP_F_UPGRADE_WS;
	} else if (IS("Connection")) {
		/* a list header: repeating it is allowed (RFC 9110 5.3) */
		if (http_list_has(v, vlen, "upgrade"))
			r->flags |= HTTP_F_CONN_UPGRADE;
	} else if (IS("Sec-WebSocket-Key")) {
		if (r->flags & (HTTP_F_KEY | HTTP_F_BAD_KEY))
			return http_fail(r, 400, "duplicate Sec-WebSocket-Key");
		/* RFC 6455 4.1: base64 of a 16-byte nonce, so 24 chars */
		if (vlen == 24 && sodium_base642bin(bin, sizeof(bin), v, vlen,
		    NULL, &binlen, NULL, sodium_base64_VARIANT_ORIGINAL) == 0 &&
		    binlen == 16) {
			http_copy(r->ws_key, sizeof(r->ws_key), v, vlen);
			r->flags |= HTTP_F_KEY;
		} else
			r->flags |= HTTP_F_BAD_KEY;
	} else if (IS("Sec-WebSocket-Version")) {
		if (r->flags & HTTP_F_VERSION)
			return http_fail(r, 400,
			    "duplicate Sec-WebSocket-Version");
		r->flags |= HTTP_F_VERSION;
		if (vlen == 0 || vlen > 3 || strspn(v, "0123456789") < vlen)
			return http_fail(r, 400, "bad Sec-WebSocket-Version");
		r->ws_version = 0;
		for (size_t i = 0; i < vlen; i++)
			r->ws_version = r->ws_version * 10 + (v[i] - '0');
	} else if (IS("Authorization")) {
		if (r->flags & HTTP_F_AUTH)
			return http_fail(r, 400, "duplicate Authorization");
		r->flags |= HTTP_F_AUTH;
		if (vlen > 7 && strncasecmp(v, "Bearer ", 7) == 0 &&
		    http_copy(r->bearer, sizeof(r->bearer), v + 7, vlen - 7) == 0)
			;
		else
			r->bearer[0] = '\0';
	} else if (IS("Origin")) {
		if (r->flags & HTTP_F_ORIGIN)
			return http_fail(r, 400, "duplicate Origin");
		r->flags |= HTTP_F_ORIGIN;
		/* too long for any allowlist entry: kept as matching none */
		if (http_copy(r->origin, sizeof(r->origin), v, vlen) == -1)
			r->flags |= HTTP_F_ORIGIN_LONG;
	} else if (IS("If-None-Match")) {
		/* a list header; one line is what browsers send */
		if (r->flags & HTTP_F_INM)
			return http_fail(r, 400, "duplicate If-None-Match");
		r->flags |= HTTP_F_INM;
		/* too long for ours (WEB_ETAG_LEN): matches nothing */
		if (http_copy(r->inm, sizeof(r->inm), v, vlen) == -1)
			r->inm[0] = '\0';
	} else if (IS("Sec-WebSocket-Protocol")) {
		/* a list header, may repeat (RFC 6455 11.3.4) */
		r->flags |= HTTP_F_PROTO;
		if (http_list_has(v, vlen, HTTP_SUBPROTOCOL))
			r->flags |= HTTP_F_PROTO_OURS;
	} else if (IS("Content-Length")) {
		/* we take no bodies; refusing them closes smuggling games */
		if (vlen != 1 || v[0] != '0')
			return http_fail(r, 400, "request body not allowed");
	} else if (IS("Transfer-Encoding")) {
		return http_fail(r, 400, "request body not allowed");
	}
#undef IS
	return 0;
}

static int
http_request_line(struct http_req *r, const char *p, size_t n)
{
	const char	*sp1, *sp2;

	if ((sp1 = memchr(p, ' ', n)) == NULL)
		return http_fail(r, 400, "malformed request line");
	if (sp1 == p || (size_t)(sp1 - p) >= sizeof(r->method))
		return http_fail(r, 400, "bad method");
	for (const char *q = p; q < sp1; q++)
		if (!http_tchar((unsigned char)*q))
			return http_fail(r, 400, "bad method");
	http_copy(r->method, sizeof(r->method), p, (size_t)(sp1 - p));
	sp2 = memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - p));
	if (sp2 == NULL || sp2 == sp1 + 1)
		return http_fail(r, 400, "malformed request line");
	if ((size_t)(sp2 - sp1 - 1) >= sizeof(r->target))
		return http_fail(r, 414, "request target too long");
	for (const char *q = sp1 + 1; q < sp2; q++)
		if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f)
			return http_fail(r, 400, "bad request target");
	if (sp1[1] != '/')
		return http_fail(r, 400, "request target not origin-form");
	http_copy(r->target, sizeof(r->target), sp1 + 1,
	    (size_t)(sp2 - sp1 - 1));
	n -= (size_t)(sp2 + 1 - p);
	p = sp2 + 1;
	/* HTTP-version = "HTTP/" DIGIT "." DIGIT; 1.0 for /health and
	 * /metrics (HAProxy's httpchk and Nagios check_http send it), only
	 * 1.1 can upgrade (http_route) */
	if (n != 8 || strncmp(p, "HTTP/", 5) != 0 || p[5] < '0' || p[5] > '9' ||
	    p[6] != '.' || p[7] < '0' || p[7] > '9')
		return http_fail(r, 400, "malformed HTTP version");
	if (p[5] != '1' || (p[7] != '1' && p[7] != '0'))
		return http_fail(r, 505, "HTTP/1.1 or 1.0 required");
	r->http10 = p[7] == '0';
	return 0;
}

int
http_parse(const char *buf, size_t len, struct http_req *r)
{
	const char	*p = buf, *end = buf + len, *eol, *colon, *v, *ve;
	int		 first = 1;

	memset(r, 0, sizeof(*r));
	for (;;) {
		/* find CRLF; a bare LF or CR, or a NUL, is refused */
		for (eol = p; eol < end; eol++) {
			if (*eol == '\n' || *eol == '\0')
				return http_fail(r, 400, *eol ? "bare LF" :
				    "NUL in request");
			if (*eol == '\r')
				break;
		}
		if (eol + 1 >= end) {
			if (len >= HTTP_MAX_REQUEST)
				return http_fail(r, first ? 414 : 431,
				    "request head too large");
			if (first && (size_t)(end - p) > HTTP_MAX_TARGET + 32)
				return http_fail(r, 414, "request line too long");
			return 0;
		}
		if (eol[1] != '\n')
			return http_fail(r, 400, "bare CR");
		if ((size_t)(eol + 2 - buf) > HTTP_MAX_REQUEST)
			return http_fail(r, 431, "request head too large");
		if (first) {
			if (http_request_line(r, p, (size_t)(eol - p)) == -1)
				return -1;
			first = 0;
		} else if (eol == p) {
			return (int)(eol + 2 - buf);
		} else {
			if (*p == ' ' || *p == '\t')
				return http_fail(r, 400, "obsolete line folding");
			if (++r->nheaders > HTTP_MAX_HEADERS)
				return http_fail(r, 431, "too many headers");
			colon = memchr(p, ':', (size_t)(eol - p));
			if (colon == NULL || colon == p)
				return http_fail(r, 400, "malformed header");
			for (const char *q = p; q < colon; q++)
				if (!http_tchar((unsigned char)*q))
					return http_fail(r, 400,
					    "bad header name");
			for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t');
			    v++)
				;
			for (ve = eol; ve > v && (ve[-1] == ' ' ||
			    ve[-1] == '\t'); ve--)
				;
			for (const char *q = v; q < ve; q++)
				if (((unsigned char)*q < 0x20 && *q != '\t') ||
				    *q == 0x7f)
					return http_fail(r, 400,
					    "control character in header");
			if (http_header(r, p, (size_t)(colon - p), v,
			    (size_t)(ve - v)) == -1)
				return -1;
		}
		p = eol + 2;
	}
}

int
http_session_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > HTTP_SESSION_MAX)
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-") == n;
}

static void
http_query_token(const char *q, struct http_target *t)
{
	const char	*p = q, *amp;
	size_t		 n;

	while (p != NULL && *p != '\0') {
		amp = strchr(p, '&');
		n = amp != NULL ? (size_t)(amp - p) : strlen(p);
		if (n > 6 && strncmp(p, "token=", 6) == 0) {
			if (t->token[0] != '\0' || n - 6 >= sizeof(t->token))
				t->bad_token = 1;
			else
				http_copy(t->token, sizeof(t->token), p + 6,
				    n - 6);
		}
		p = amp != NULL ? amp + 1 : NULL;
	}
}

int
http_route(const struct http_req *r, size_t extra, struct http_target *t,
    const char **why)
{
	char		 path[HTTP_MAX_TARGET], *q;
	const char	*id = NULL;

	memset(t, 0, sizeof(*t));
	strlcpy(path, r->target, sizeof(path));
	if ((q = strchr(path, '?')) != NULL)
		*q++ = '\0';
	if (!strcmp(path, "/health") || !strcmp(path, "/metrics")) {
		t->route = path[1] == 'h' ? HTTP_ROUTE_HEALTH :
		    HTTP_ROUTE_METRICS;
		t->head = !strcmp(r->method, "HEAD");
		if (t->route == HTTP_ROUTE_HEALTH &&
		    !strcmp(r->method, "OPTIONS")) {
			t->route = HTTP_ROUTE_PREFLIGHT;
			return 0;
		}
		if (strcmp(r->method, "GET") != 0 && !t->head)
			return *why = "method not allowed", 405;
		return 0;
	}
	if (!strncmp(path, "/v1/relay/", 10))
		id = path + 10;
	else if (!strncmp(path, "/mesh/", 6))
		id = path + 6;
	if (id == NULL && !(r->flags & HTTP_F_UPGRADE)) {
		t->route = HTTP_ROUTE_WEB;
		t->head = !strcmp(r->method, "HEAD");
		return 0;
	}
	if (id == NULL)
		return *why = "no such route", 404;
	if (!http_session_valid(id))
		return *why = "bad session id", 404;
	if (strcmp(r->method, "GET") != 0)
		return *why = "method not allowed", 405;
	if (r->http10)
		return *why = "HTTP/1.1 required for WebSocket", 505;
	if (!(r->flags & HTTP_F_HOST))
		return *why = "missing Host", 400;
	if (!(r->flags & HTTP_F_UPGRADE_WS) || !(r->flags & HTTP_F_CONN_UPGRADE))
		return *why = "WebSocket upgrade required", 426;
	if (!(r->flags & HTTP_F_VERSION))
		return *why = "missing Sec-WebSocket-Version", 426;
	if (r->ws_version != 13)
		return *why = "unsupported WebSocket version", 426;
	if (!(r->flags & HTTP_F_KEY))
		return *why = r->flags & HTTP_F_BAD_KEY ?
		    "bad Sec-WebSocket-Key" : "missing Sec-WebSocket-Key", 400;
	if ((r->flags & HTTP_F_PROTO) && !(r->flags & HTTP_F_PROTO_OURS))
		return *why = "unsupported Sec-WebSocket-Protocol: relayd "
		    "speaks " HTTP_SUBPROTOCOL " (or none)", 400;
	if (extra > 0)
		return *why = "data before the handshake answer", 400;
	t->subprotocol = (r->flags & HTTP_F_PROTO_OURS) != 0;
	t->route = HTTP_ROUTE_RELAY;
	strlcpy(t->session, id, sizeof(t->session));
	if (q != NULL)
		http_query_token(q, t);
	if (r->flags & HTTP_F_AUTH) {
		if (r->bearer[0] == '\0' || t->token[0] != '\0')
			t->bad_token = 1;
		else
			strlcpy(t->token, r->bearer, sizeof(t->token));
	}
	return 0;
}

int
http_ws_accept(const char *key, char *out, size_t len)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen;
	char		 in[64];

	if (len < 29 || strlen(key) > 24)
		return -1;
	snprintf(in, sizeof(in), "%s%s", key, WS_GUID);
	if (!EVP_Digest(in, strlen(in), md, &mdlen, EVP_sha1(), NULL))
		return -1;
	sodium_bin2base64(out, len, md, mdlen, sodium_base64_VARIANT_ORIGINAL);
	return 0;
}

const char *
http_reason(int status)
{
	switch (status) {
	case 101: return "Switching Protocols";
	case 200: return "OK";
	case 204: return "No Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 414: return "URI Too Long";
	case 426: return "Upgrade Required";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	}
	return "Error";
}
