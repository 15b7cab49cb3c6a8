/*
 * The answer to a complete HTTP request, below conn.c: the route, the
 * refusals (tokens, origins: relay-tokens.md), /health with its CORS
 * headers and preflight, /metrics, and the upgrade (ws_start). Plain
 * answers are queued in c->buf; the connection closes after them
 * (conn.c). Nothing from the request is echoed, except an Origin the
 * operator listed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "proto/token.h"
#include "relayd/http.h"
#include "relayd/relayd.h"

/* Queue an HTTP answer; the connection closes after it. 0, or -1 out of
 * memory (the caller drops c). `cache` is the Cache-Control value. */
static int
answer_respond_cache(struct relayd_conn *c, int status, const char *headers,
    const char *ctype, const char *cache, const char *body, size_t bodylen,
    int head)
{
	char	*b;
	int	 n;
	/* the status line and our headers take < 200 bytes; the caller's
	 * (a web file's CSP is ~400) are counted */
	size_t	 len = head ? 0 : bodylen, cap = 256 + strlen(cache) +
	    (headers != NULL ? strlen(headers) : 0) + len;

	if (status >= 400)
		c->rd->st.http_errors++;
	free(c->buf);
	c->buf = NULL;
	c->buflen = c->bufoff = 0;
	c->state = CLIENT_RESPOND;
	if ((b = malloc(cap)) == NULL)
		return -1;
	if (status == 204 || status == 304)
		/* no body, no Content-* (RFC 9110 8.6, 15.4.5) */
		n = snprintf(b, cap, "HTTP/1.1 %d %s\r\nServer: relayd/%s\r\n"
		    "Cache-Control: %s\r\nConnection: close\r\n%s\r\n",
		    status, http_reason(status), RELAYD_VERSION, cache,
		    headers != NULL ? headers : "");
	else
		n = snprintf(b, cap, "HTTP/1.1 %d %s\r\nServer: relayd/%s\r\n"
		    "Content-Type: %s\r\nContent-Length: %zu\r\n"
		    "Cache-Control: %s\r\nConnection: close\r\n%s\r\n",
		    status, http_reason(status), RELAYD_VERSION, ctype, bodylen,
		    cache, headers != NULL ? headers : "");
	if (n < 0 || (size_t)n + len > cap) {
		free(b);
		return -1;
	}
	if (len > 0)
		memcpy(b + n, body, len);
	c->buf = b;
	c->buflen = (uint32_t)(n + len);
	connio_update(c);
	return 0;
}

static int
answer_respond(struct relayd_conn *c, int status, const char *headers,
    const char *ctype, const char *body, size_t bodylen, int head)
{
	return answer_respond_cache(c, status, headers, ctype, "no-store",
	    body, bodylen, head);
}

int
answer_error(struct relayd_conn *c, int status, const char *why)
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
	return answer_respond(c, status, h, "text/plain; charset=utf-8", body,
	    strlen(body), 0);
}

/*
 * Tokens (proto/token.h). A refusal says why in a header the relay client
 * reads (docs/relay-tokens.md): 401 when no token came, 403 with
 * "Atmosphere-Relay-Refused: malformed|bad_mac|expired|unknown_key|
 * wrong_prefix" when one did. Nothing from the request is echoed.
 */
static int
answer_auth(struct relayd_conn *c, const struct http_target *t)
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
	return answer_respond(c, status, h, "text/plain; charset=utf-8", body,
	    strlen(body), 0) == 0 ? 1 : -1;
}

/*
 * The origins allowlist: a browser says which page opens the WebSocket
 * (Origin); with origins set, pages elsewhere are refused like a bad token
 * (403, Atmosphere-Relay-Refused: origin). Clients that are not browsers
 * send no Origin and are not affected: they could send any Origin anyway,
 * so the list keeps other web sites off the relay, tokens keep everyone
 * else. 0 allowed, 1 refused (answered), -1 out of memory.
 */
static int
answer_origin(struct relayd_conn *c, const struct http_req *req)
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
	return answer_respond(c, 403, "Atmosphere-Relay-Refused: origin\r\n",
	    "text/plain; charset=utf-8", body, strlen(body), 0) == 0 ? 1 : -1;
}

/* CORS headers for /health when the page's Origin is in cors_origins
 * ("*": any); into h, "" when none apply. The origin echoed is one the
 * list holds (compared without case), never other request bytes. */
static void
answer_cors(struct relayd_conn *c, const struct http_req *req, int preflight,
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

/*
 * A file under web_root (web.h): the status page, the browser member.
 * web = no, or no web_root open: 404 as for any unknown path. The page
 * is revalidated (ETag, 304) rather than cached blind, so an upgrade of
 * relayd's files reaches browsers at once.
 */
static int
answer_web(struct relayd_conn *c, const struct http_req *req,
    const struct http_target *t)
{
	struct relayd	*rd = c->rd;
	struct web_file	 f = { .fd = -1 };
	const char	*why;
	char		 h[1024], *body = NULL;
	int		 status;

	if (!rd->conf.web || rd->web.dirfd == -1)
		return answer_error(c, 404, "no such route");
	if ((status = web_lookup(&rd->web, req->method, req->target, &f,
	    &why)) != 0) {
		log_debug("client %llu %s: web: %d, %s",
		    (unsigned long long)c->id, c->addr_str, status, why);
		return answer_error(c, status, status == 405 ?
		    "method not allowed" : status == 400 ? "bad request" :
		    "no such file");
	}
	if (web_headers(&f, h, sizeof(h)) == -1) {
		web_file_close(&f);
		return answer_error(c, 500, "error");
	}
	if ((req->flags & HTTP_F_INM) && web_etag_match(&f, req->inm)) {
		web_file_close(&f);
		return answer_respond_cache(c, 304, h, NULL, "no-cache", NULL,
		    0, 1);
	}
	if (!t->head && (body = web_read(&f)) == NULL) {
		web_file_close(&f);
		log_warn("client %llu: web: reading a file",
		    (unsigned long long)c->id);
		return answer_error(c, 503, "unavailable");
	}
	status = answer_respond_cache(c, 200, h, f.type, "no-cache", body,
	    f.size, t->head);
	web_file_close(&f);
	free(body);
	return status;
}

/* c's request answered (or the upgrade accepted): 0, or -1 when c must be
 * dropped (out of memory) */
int
answer_request(struct relayd_conn *c, const struct http_req *req,
    size_t extra)
{
	char			 cors[sizeof(req->origin) + 160];
	struct http_target	 t;
	const char		*why;
	char			*body, lbody[128];
	size_t			 len;
	uint64_t		 limited;
	int			 status;

	c->rd->st.http_requests++;
	if ((status = http_route(req, extra, &t, &why)) != 0)
		return answer_error(c, status, why);
	switch (t.route) {
	case HTTP_ROUTE_PREFLIGHT:
		answer_cors(c, req, 1, cors, sizeof(cors));
		strlcat(cors, "Allow: GET, HEAD, OPTIONS\r\n", sizeof(cors));
		return answer_respond(c, 204, cors, NULL, NULL, 0, 1);
	case HTTP_ROUTE_HEALTH:
	case HTTP_ROUTE_METRICS:
		body = t.route == HTTP_ROUTE_HEALTH ?
		    metrics_health(c->rd, &len) : metrics_prometheus(c->rd, &len);
		if (body == NULL)
			return answer_error(c, 503, "out of memory");
		cors[0] = '\0';
		if (t.route == HTTP_ROUTE_HEALTH)
			answer_cors(c, req, 0, cors, sizeof(cors));
		status = answer_respond(c, 200, cors, t.route ==
		    HTTP_ROUTE_HEALTH ? "application/json" :
		    "text/plain; version=0.0.4", body, len, t.head);
		free(body);
		return status;
	case HTTP_ROUTE_WEB:
		return answer_web(c, req, &t);
	case HTTP_ROUTE_RELAY:
		if ((status = answer_origin(c, req)) != 0 ||
		    (status = answer_auth(c, &t)) != 0)
			return status == 1 ? 0 : -1;
		limited = c->rd->st.refused_limit;
		if ((status = ws_start(c, t.session, req->ws_key,
		    t.subprotocol)) == 0)
			return 0;
		if (c->rd->st.refused_limit != limited) {
			/* a limit, not a failure: say so to the relay client
			 * (docs/relay-tokens.md), as a token refusal does */
			snprintf(lbody, sizeof(lbody), "503 %s: session full or "
			    "too many sessions\n", http_reason(503));
			return answer_respond(c, 503,
			    "Atmosphere-Relay-Refused: full\r\n",
			    "text/plain; charset=utf-8", lbody, strlen(lbody),
			    0) == 0 ? 0 : -1;
		}
		return answer_error(c, status, status == 503 ? "unavailable" :
		    "error");
	}
	return 0;
}
