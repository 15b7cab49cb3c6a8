/*
 * relayd's HTTP side (relayd/http.h) as server_http_read() drives it: the
 * request head parsed from a buffer that grows read by read (here: a
 * prefix, then the whole input), the route decision, the token check of a
 * relay route and the Sec-WebSocket-Accept computation. The buffer is
 * exactly the input's size, so ASan catches any read past it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/token.h"
#include "relayd/http.h"

#define SECRET	"fuzz-relay-secret-0123456789abcdef"
#define NOW	1767225600ull

static void
route(const struct http_req *r, size_t extra)
{
	struct http_target	 t;
	const char		*why = NULL;
	char			 acc[32];
	int			 st;

	if (strnlen(r->method, sizeof(r->method)) == sizeof(r->method) ||
	    strnlen(r->target, sizeof(r->target)) == sizeof(r->target) ||
	    strnlen(r->ws_key, sizeof(r->ws_key)) == sizeof(r->ws_key) ||
	    strnlen(r->bearer, sizeof(r->bearer)) == sizeof(r->bearer))
		abort();
	memset(&t, 0, sizeof(t));
	st = http_route(r, extra, &t, &why);
	if (st != 0) {
		if (why == NULL || http_reason(st) == NULL)
			abort();
		return;
	}
	if (t.route == HTTP_ROUTE_RELAY) {
		if (!http_session_valid(t.session))
			abort();
		if (strnlen(t.token, sizeof(t.token)) == sizeof(t.token))
			abort();
		if (!t.bad_token && t.token[0] != '\0')
			(void)token_check(SECRET, strlen(SECRET), t.session,
			    t.token, NOW);
		if (r->flags & HTTP_F_KEY) {
			if (http_ws_accept(r->ws_key, acc, sizeof(acc)) != 0 ||
			    strlen(acc) != 28)
				abort();
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_req	 r;
	char		*buf;
	size_t		 cut;
	int		 n, np;

	if (size < 1 || size > HTTP_MAX_REQUEST + 1)
		return 0;
	cut = data[0] * (size - 1) / 255;
	data++;
	size--;
	if ((buf = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	/* first read: a prefix */
	memset(&r, 0, sizeof(r));
	np = http_parse(buf, cut, &r);
	if (np > (int)cut)
		abort();
	if (np == -1 && (r.status < 400 || r.status > 599 || r.error == NULL))
		abort();
	/* then all of it */
	memset(&r, 0, sizeof(r));
	n = http_parse(buf, size, &r);
	if (n > (int)size)
		abort();
	/* a head complete in the prefix ends at the same place */
	if (np > 0 && n != np)
		abort();
	if (n == -1 && (r.status < 400 || r.status > 599 || r.error == NULL))
		abort();
	if (n > 0)
		route(&r, size - (size_t)n);
	free(buf);
	return 0;
}
