/*
 * The HTTP/1.1 side of relayd: a strict request parser (RFC 9110/9112, and
 * RFC 6455 section 4.2.1 for the upgrade), the route decision and the
 * Sec-WebSocket-Accept computation. No I/O here, so tests feed it bytes.
 */
#ifndef RELAYD_HTTP_H
#define RELAYD_HTTP_H

#include <stddef.h>

/* A WebSocket upgrade request is ~500 bytes; browsers with cookies send a
 * few KiB. Anything past 8 KiB is not a relay client. */
#define HTTP_MAX_REQUEST	8192
#define HTTP_MAX_TARGET		512	/* /v1/relay/ + 128-byte id + token */
#define HTTP_MAX_HEADERS	64
#define HTTP_SESSION_MAX	128

#define HTTP_F_HOST		0x0001
#define HTTP_F_UPGRADE_WS	0x0002	/* Upgrade lists "websocket" */
#define HTTP_F_CONN_UPGRADE	0x0004	/* Connection lists "upgrade" */
#define HTTP_F_KEY		0x0008	/* valid Sec-WebSocket-Key */
#define HTTP_F_BAD_KEY		0x0010	/* present but not base64 of 16 bytes */
#define HTTP_F_VERSION		0x0020	/* Sec-WebSocket-Version present */
#define HTTP_F_AUTH		0x0040	/* Authorization: Bearer seen */
#define HTTP_F_UPGRADE		0x0080	/* any Upgrade header */
#define HTTP_F_ORIGIN		0x0100	/* Origin header (in origin[]) */
#define HTTP_F_PROTO		0x0200	/* Sec-WebSocket-Protocol offered */
#define HTTP_F_PROTO_OURS	0x0400	/* ... and it lists HTTP_SUBPROTOCOL */
#define HTTP_F_ORIGIN_LONG	0x0800	/* Origin too long to keep */
#define HTTP_F_INM		0x1000	/* If-None-Match (in inm[]) */

/* The WebSocket subprotocol relayd speaks (docs/relay.md): binary frames,
 * one packet each, 0xF0 control messages from the relay. A browser that
 * offers it gets it echoed; one offering only others is refused. */
#define HTTP_SUBPROTOCOL	"atmosphere.v1"

struct http_req {
	char		 method[16];
	char		 target[HTTP_MAX_TARGET];
	char		 ws_key[32];
	char		 bearer[192];	/* >= TOKEN_MAXLEN (proto/token.h) */
	char		 origin[256];	/* scheme://host[:port] of a page */
	char		 inm[128];	/* If-None-Match, "" when too long */
	int		 http10;	/* HTTP/1.0 (health checks) */
	int		 ws_version;
	unsigned	 flags;
	int		 nheaders;
	int		 status;	/* on error: 400, 405, 414, 431, 501, 505 */
	const char	*error;		/* on error: reason, for the log */
};

enum http_route {
	HTTP_ROUTE_HEALTH = 1,
	HTTP_ROUTE_METRICS,
	HTTP_ROUTE_RELAY,
	HTTP_ROUTE_PREFLIGHT,		/* OPTIONS /health (CORS) */
	HTTP_ROUTE_WEB,			/* anything else without Upgrade: a
					 * file under web_root (web.h) */
};

struct http_target {
	enum http_route	 route;
	int		 head;		/* HEAD: headers only */
	char		 session[HTTP_SESSION_MAX + 1];
	char		 token[192];	/* from ?token= or Bearer; "" if none */
	int		 bad_token;	/* present but not token-shaped */
	int		 subprotocol;	/* echo HTTP_SUBPROTOCOL */
};

/*
 * Parse the request head in buf[0..len). Returns its length (up to and
 * including the empty line) when complete, 0 when more bytes are needed,
 * -1 on a bad request (r->status, r->error say why).
 */
int	http_parse(const char *buf, size_t len, struct http_req *r);
/*
 * Decide what a parsed request asks for. `extra` is the number of bytes the
 * client sent after the request head (none are allowed before our answer
 * on an upgrade). Returns 0, or an HTTP status (400, 404, 405, 426, 505) with
 * *why set. A path other than /health, /metrics, /v1/relay/ and /mesh/ in a
 * request without Upgrade is HTTP_ROUTE_WEB, whatever its method (web.c
 * answers 405); with Upgrade it is 404.
 */
int	http_route(const struct http_req *r, size_t extra, struct http_target *t,
	    const char **why);
/* Is `tok` one element of the comma-separated list `v` (case-insensitive,
 * blanks around elements ignored)? */
int	http_list_has(const char *v, size_t vlen, const char *tok);
/* [A-Za-z0-9._-]{1,128} */
int	http_session_valid(const char *s);
/* base64(SHA-1(key + RFC 6455 GUID)) into out (>= 29 bytes). */
int	http_ws_accept(const char *key, char *out, size_t len);
const char *http_reason(int status);

#endif
