/*
 * relayd/http.c: the strict HTTP/1.1 request parser and route decision,
 * fed hostile input (oversized heads, missing or bad WebSocket headers,
 * bad versions, pipelined bytes, CR/LF injection, duplicates, bad methods).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relayd/http.h"
#include "suites.h"

#define KEY	"dGhlIHNhbXBsZSBub25jZQ=="	/* RFC 6455 1.3 */
#define UPGRADE	"Upgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n" \
		"Sec-WebSocket-Key: " KEY "\r\nSec-WebSocket-Version: 13\r\n"
#define WSREQ(path) "GET " path " HTTP/1.1\r\nHost: relay.example\r\n" \
		UPGRADE "\r\n"

static int
parse(const char *s, struct http_req *r)
{
	return http_parse(s, strlen(s), r);
}

/* parse + route a complete request; the HTTP status (0 = fine) */
static int
status_of(const char *s, struct http_target *t)
{
	struct http_req	 r;
	const char	*why;
	int		 n;

	n = parse(s, &r);
	if (n == -1)
		return r.status;
	ck_assert_int_gt(n, 0);
	return http_route(&r, strlen(s) - (size_t)n, t, &why);
}

START_TEST(test_upgrade_ok)
{
	struct http_req		r;
	struct http_target	t;
	const char		*s = WSREQ("/v1/relay/abc.DEF_1-2");

	ck_assert_int_eq(parse(s, &r), (int)strlen(s));
	ck_assert_str_eq(r.method, "GET");
	ck_assert_str_eq(r.ws_key, KEY);
	ck_assert_int_eq(r.ws_version, 13);
	ck_assert_int_eq(status_of(s, &t), 0);
	ck_assert_int_eq(t.route, HTTP_ROUTE_RELAY);
	ck_assert_str_eq(t.session, "abc.DEF_1-2");
	ck_assert_str_eq(t.token, "");
	ck_assert_int_eq(status_of(WSREQ("/mesh/node7"), &t), 0);
	ck_assert_str_eq(t.session, "node7");
}
END_TEST

START_TEST(test_accept_key)
{
	char out[32];

	/* the example of RFC 6455 section 1.3 */
	ck_assert_int_eq(http_ws_accept(KEY, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	ck_assert_int_eq(http_ws_accept(KEY, out, 10), -1);
}
END_TEST

START_TEST(test_incomplete)
{
	struct http_req	r;
	const char	*s = WSREQ("/v1/relay/x");
	size_t		 i;

	/* every proper prefix needs more bytes, none is an error */
	for (i = 0; i < strlen(s); i++)
		ck_assert_int_eq(http_parse(s, i, &r), 0);
}
END_TEST

START_TEST(test_oversized)
{
	struct http_req	 r;
	char		*big = malloc(HTTP_MAX_REQUEST + 64);
	int		 n;

	ck_assert_ptr_nonnull(big);
	n = snprintf(big, 64, "GET /health HTTP/1.1\r\nX-Big: ");
	memset(big + n, 'a', HTTP_MAX_REQUEST + 64 - (size_t)n);
	/* a head that never ends within the limit */
	ck_assert_int_eq(http_parse(big, HTTP_MAX_REQUEST, &r), -1);
	ck_assert_int_eq(r.status, 431);
	/* a request line longer than any route */
	memcpy(big, "GET /", 5);
	memset(big + 5, 'a', 2000);
	ck_assert_int_eq(http_parse(big, 2005, &r), -1);
	ck_assert_int_eq(r.status, 414);
	free(big);
}
END_TEST

START_TEST(test_too_many_headers)
{
	struct http_req	r;
	char		buf[HTTP_MAX_REQUEST];
	size_t		n;
	int		i;

	n = (size_t)snprintf(buf, sizeof(buf), "GET /health HTTP/1.1\r\n");
	for (i = 0; i <= HTTP_MAX_HEADERS; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "X-%d: y\r\n", i);
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\r\n");
	ck_assert_int_eq(http_parse(buf, n, &r), -1);
	ck_assert_int_eq(r.status, 431);
}
END_TEST

START_TEST(test_missing_or_bad_ws_headers)
{
	struct http_target t;

	/* no key */
	ck_assert_int_eq(status_of("GET /v1/relay/x HTTP/1.1\r\nHost: h\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Version: 13\r\n\r\n", &t), 400);
	/* key not base64 of 16 bytes */
	ck_assert_int_eq(status_of("GET /v1/relay/x HTTP/1.1\r\nHost: h\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: c2hvcnQ=\r\nSec-WebSocket-Version: 13\r\n\r\n",
	    &t), 400);
	ck_assert_int_eq(status_of("GET /v1/relay/x HTTP/1.1\r\nHost: h\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: !!!!!!!!!!!!!!!!!!!!!!==\r\n"
	    "Sec-WebSocket-Version: 13\r\n\r\n", &t), 400);
	/* version 8 and no version: 426 */
	ck_assert_int_eq(status_of("GET /v1/relay/x HTTP/1.1\r\nHost: h\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
	    KEY "\r\nSec-WebSocket-Version: 8\r\n\r\n", &t), 426);
	ck_assert_int_eq(status_of("GET /v1/relay/x HTTP/1.1\r\nHost: h\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
	    KEY "\r\n\r\n", &t), 426);
	/* version not a number */
	ck_assert_int_eq(status_of("GET /v1/relay/x HTTP/1.1\r\nHost: h\r\n"
	    "Sec-WebSocket-Version: 13a\r\n\r\n", &t), 400);
	/* no upgrade at all, or Connection without "upgrade" */
	ck_assert_int_eq(status_of("GET /v1/relay/x HTTP/1.1\r\nHost: h\r\n\r\n",
	    &t), 426);
	ck_assert_int_eq(status_of("GET /v1/relay/x HTTP/1.1\r\nHost: h\r\n"
	    "Upgrade: websocket\r\nConnection: keep-alive, upgraded\r\n"
	    "Sec-WebSocket-Key: " KEY "\r\nSec-WebSocket-Version: 13\r\n\r\n",
	    &t), 426);
	/* no Host */
	ck_assert_int_eq(status_of("GET /v1/relay/x HTTP/1.1\r\n" UPGRADE
	    "\r\n", &t), 400);
}
END_TEST

/* CORS preflight, Origin kept, subprotocol offers (issue 14 item 2) */
START_TEST(test_origin_subprotocol)
{
	struct http_req		r;
	struct http_target	t;
	char			long_origin[400], req[1024];
	const char		*why;
	int			n;

	ck_assert_int_eq(status_of("OPTIONS /health HTTP/1.1\r\nHost: h\r\n"
	    "Origin: https://a.example\r\n\r\n", &t), 0);
	ck_assert_int_eq(t.route, HTTP_ROUTE_PREFLIGHT);
	ck_assert_int_eq(status_of("OPTIONS /metrics HTTP/1.1\r\nHost: h\r\n"
	    "\r\n", &t), 405);
	ck_assert_int_gt(parse("GET /health HTTP/1.1\r\nHost: h\r\n"
	    "Origin: https://a.example\r\n\r\n", &r), 0);
	ck_assert(r.flags & HTTP_F_ORIGIN);
	ck_assert_str_eq(r.origin, "https://a.example");
	ck_assert_int_eq(parse("GET /health HTTP/1.1\r\nOrigin: a\r\n"
	    "Origin: b\r\n\r\n", &r), -1);
	memset(long_origin, 'a', sizeof(long_origin) - 1);
	long_origin[sizeof(long_origin) - 1] = '\0';
	snprintf(req, sizeof(req), "GET /health HTTP/1.1\r\nOrigin: %s\r\n"
	    "\r\n", long_origin);
	ck_assert_int_gt(parse(req, &r), 0);
	ck_assert(r.flags & HTTP_F_ORIGIN_LONG);
	ck_assert_str_eq(r.origin, "");
	/* ours offered (among others, any case, header repeated): echoed */
	ck_assert_int_eq(status_of("GET /v1/relay/x HTTP/1.1\r\nHost: h\r\n"
	    UPGRADE "Sec-WebSocket-Protocol: chat\r\n"
	    "Sec-WebSocket-Protocol: x, Atmosphere.V1\r\n\r\n", &t), 0);
	ck_assert_int_eq(t.subprotocol, 1);
	ck_assert_int_eq(status_of(WSREQ("/v1/relay/x"), &t), 0);
	ck_assert_int_eq(t.subprotocol, 0);
	/* only others: a clear 400 */
	n = parse("GET /v1/relay/x HTTP/1.1\r\nHost: h\r\n" UPGRADE
	    "Sec-WebSocket-Protocol: chat, superchat\r\n\r\n", &r);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(http_route(&r, 0, &t, &why), 400);
	ck_assert_ptr_nonnull(strstr(why, HTTP_SUBPROTOCOL));
	ck_assert(http_list_has("https://a, https://b", 20, "https://b"));
	ck_assert(!http_list_has("https://a, https://b", 20, "https://c"));
}
END_TEST

START_TEST(test_bad_version_and_method)
{
	struct http_target t;

	/* HTTP/1.0 (HAProxy httpchk, check_http) for /health and /metrics,
	 * not for the upgrade */
	ck_assert_int_eq(status_of("GET /health HTTP/1.0\r\n\r\n", &t), 0);
	ck_assert_int_eq(t.route, HTTP_ROUTE_HEALTH);
	ck_assert_int_eq(status_of("HEAD /metrics HTTP/1.0\r\n\r\n", &t), 0);
	ck_assert_int_eq(t.route, HTTP_ROUTE_METRICS);
	ck_assert_int_eq(t.head, 1);
	ck_assert_int_eq(status_of("GET /v1/relay/x HTTP/1.0\r\nHost: h\r\n"
	    UPGRADE "\r\n", &t), 505);
	ck_assert_int_eq(status_of("GET /health HTTP/2.0\r\n\r\n", &t), 505);
	ck_assert_int_eq(status_of("GET /health HTTP/0.9\r\n\r\n", &t), 505);
	ck_assert_int_eq(status_of("GET /health HTTP/1.1x\r\n\r\n", &t), 400);
	ck_assert_int_eq(status_of("GET /health FTP/1.1\r\n\r\n", &t), 400);
	ck_assert_int_eq(status_of("GET /health\r\n\r\n", &t), 400);
	ck_assert_int_eq(status_of("GET  /health HTTP/1.1\r\n\r\n", &t), 400);
	ck_assert_int_eq(status_of("G(T /health HTTP/1.1\r\n\r\n", &t), 400);
	ck_assert_int_eq(status_of("GET http://x/health HTTP/1.1\r\n\r\n", &t),
	    400);
	ck_assert_int_eq(status_of("POST /health HTTP/1.1\r\nHost: h\r\n\r\n",
	    &t), 405);
	ck_assert_int_eq(status_of("PUT /v1/relay/x HTTP/1.1\r\nHost: h\r\n"
	    UPGRADE "\r\n", &t), 405);
	ck_assert_int_eq(status_of("HEAD /health HTTP/1.1\r\nHost: h\r\n\r\n",
	    &t), 0);
	ck_assert_int_eq(t.head, 1);
	/* any other path is a file under web_root (answer.c, web.c: 404
	 * when there is none, 405 for other methods); with Upgrade, 404 */
	ck_assert_int_eq(status_of("GET /nope HTTP/1.1\r\nHost: h\r\n\r\n", &t),
	    0);
	ck_assert_int_eq(t.route, HTTP_ROUTE_WEB);
	ck_assert_int_eq(t.head, 0);
	ck_assert_int_eq(status_of("HEAD / HTTP/1.0\r\n\r\n", &t), 0);
	ck_assert_int_eq(t.route, HTTP_ROUTE_WEB);
	ck_assert_int_eq(t.head, 1);
	ck_assert_int_eq(status_of("POST / HTTP/1.1\r\nHost: h\r\n\r\n", &t),
	    0);
	ck_assert_int_eq(t.route, HTTP_ROUTE_WEB);
	ck_assert_int_eq(status_of("GET /nope HTTP/1.1\r\nHost: h\r\n"
	    UPGRADE "\r\n", &t), 404);
	ck_assert_int_eq(status_of("GET /x HTTP/1.1\r\nHost: h\r\n"
	    "Upgrade: h2c\r\n\r\n", &t), 404);
	ck_assert_int_eq(status_of("GET /v1/relay/ HTTP/1.1\r\nHost: h\r\n"
	    UPGRADE "\r\n", &t), 404);
	ck_assert_int_eq(status_of("GET /v1/relay/a/b HTTP/1.1\r\nHost: h\r\n"
	    UPGRADE "\r\n", &t), 404);
}
END_TEST

START_TEST(test_pipelined_garbage)
{
	struct http_req		 r;
	struct http_target	 t;
	const char		*why;
	char			 buf[1024];
	int			 n, len;

	len = snprintf(buf, sizeof(buf), "%s%s", WSREQ("/v1/relay/x"),
	    "\x82\x85garbage");
	n = http_parse(buf, (size_t)len, &r);
	/* the parser stops at the empty line... */
	ck_assert_int_eq(n, (int)strlen(WSREQ("/v1/relay/x")));
	/* ...and bytes before our 101 make the upgrade a bad request */
	ck_assert_int_eq(http_route(&r, (size_t)(len - n), &t, &why), 400);
	ck_assert_int_eq(http_route(&r, 0, &t, &why), 0);
}
END_TEST

START_TEST(test_header_injection)
{
	struct http_target t;

	/* bare LF, bare CR, NUL, control characters, folding */
	ck_assert_int_eq(status_of("GET /health HTTP/1.1\r\nHost: h\nX: y\r\n"
	    "\r\n", &t), 400);
	ck_assert_int_eq(status_of("GET /health HTTP/1.1\r\nHost: h\rX: y\r\n"
	    "\r\n", &t), 400);
	ck_assert_int_eq(status_of("GET /health HTTP/1.1\r\nX: a\x01" "b\r\n"
	    "\r\n", &t), 400);
	ck_assert_int_eq(status_of("GET /health HTTP/1.1\r\nX: a\x7f\r\n\r\n",
	    &t), 400);
	ck_assert_int_eq(status_of("GET /health HTTP/1.1\r\nX: a\r\n b\r\n"
	    "\r\n", &t), 400);
	ck_assert_int_eq(status_of("GET /health HTTP/1.1\r\nBad Name: a\r\n"
	    "\r\n", &t), 400);
	ck_assert_int_eq(status_of("GET /health HTTP/1.1\r\n: a\r\n\r\n", &t),
	    400);
	ck_assert_int_eq(status_of("GET /health HTTP/1.1\r\nNoColon\r\n\r\n",
	    &t), 400);
	ck_assert_int_eq(status_of("GET /he\x01lth HTTP/1.1\r\n\r\n", &t), 400);
	{
		struct http_req r;
		const char s[] = "GET /health HTTP/1.1\r\nX: a\0b\r\n\r\n";

		ck_assert_int_eq(http_parse(s, sizeof(s) - 1, &r), -1);
		ck_assert_int_eq(r.status, 400);
	}
	/* bodies are refused (no smuggling through Content-Length/TE) */
	ck_assert_int_eq(status_of("GET /health HTTP/1.1\r\nContent-Length: 3"
	    "\r\n\r\n", &t), 400);
	ck_assert_int_eq(status_of("GET /health HTTP/1.1\r\nTransfer-Encoding:"
	    " chunked\r\n\r\n", &t), 400);
	ck_assert_int_eq(status_of("GET /health HTTP/1.1\r\nContent-Length: 0"
	    "\r\nHost: h\r\n\r\n", &t), 0);
}
END_TEST

START_TEST(test_duplicates)
{
	struct http_target t;

	ck_assert_int_eq(status_of("GET /health HTTP/1.1\r\nHost: a\r\nHost: b"
	    "\r\n\r\n", &t), 400);
	ck_assert_int_eq(status_of("GET /v1/relay/x HTTP/1.1\r\nHost: h\r\n"
	    UPGRADE "Sec-WebSocket-Key: " KEY "\r\n\r\n", &t), 400);
	ck_assert_int_eq(status_of("GET /v1/relay/x HTTP/1.1\r\nHost: h\r\n"
	    UPGRADE "Sec-WebSocket-Version: 13\r\n\r\n", &t), 400);
	ck_assert_int_eq(status_of("GET /v1/relay/x HTTP/1.1\r\nHost: h\r\n"
	    UPGRADE "Upgrade: websocket\r\n\r\n", &t), 400);
	ck_assert_int_eq(status_of("GET /v1/relay/x HTTP/1.1\r\nHost: h\r\n"
	    "Authorization: Bearer a\r\nAuthorization: Bearer b\r\n" UPGRADE
	    "\r\n", &t), 400);
	/* Connection is a list header: repeating it is fine */
	ck_assert_int_eq(status_of("GET /v1/relay/x HTTP/1.1\r\nHost: h\r\n"
	    "Connection: keep-alive\r\n" UPGRADE "\r\n", &t), 0);
}
END_TEST

START_TEST(test_tokens)
{
	struct http_target t;

	ck_assert_int_eq(status_of(WSREQ("/v1/relay/s?a=1&token=v1.2.abc&b"),
	    &t), 0);
	ck_assert_str_eq(t.session, "s");
	ck_assert_str_eq(t.token, "v1.2.abc");
	ck_assert_int_eq(t.bad_token, 0);
	ck_assert_int_eq(status_of("GET /v1/relay/s HTTP/1.1\r\nHost: h\r\n"
	    "Authorization: bEaReR v1.3.xyz\r\n" UPGRADE "\r\n", &t), 0);
	ck_assert_str_eq(t.token, "v1.3.xyz");
	/* twice, even the same one: refused as malformed */
	ck_assert_int_eq(status_of(WSREQ("/v1/relay/s?token=a&token=a"), &t), 0);
	ck_assert_int_eq(t.bad_token, 1);
	ck_assert_int_eq(status_of("GET /v1/relay/s?token=a HTTP/1.1\r\n"
	    "Host: h\r\nAuthorization: Bearer a\r\n" UPGRADE "\r\n", &t), 0);
	ck_assert_int_eq(t.bad_token, 1);
	/* another scheme is not a token */
	ck_assert_int_eq(status_of("GET /v1/relay/s HTTP/1.1\r\nHost: h\r\n"
	    "Authorization: Basic YTpi\r\n" UPGRADE "\r\n", &t), 0);
	ck_assert_int_eq(t.bad_token, 1);
}
END_TEST

START_TEST(test_session_ids)
{
	char id[200];

	ck_assert(http_session_valid("a"));
	ck_assert(http_session_valid("A.b_c-9"));
	ck_assert(!http_session_valid(""));
	ck_assert(!http_session_valid("a/b"));
	ck_assert(!http_session_valid("a%2Fb"));
	ck_assert(!http_session_valid("a b"));
	ck_assert(!http_session_valid("\xc3\xa9"));
	memset(id, 'x', 128);
	id[128] = '\0';
	ck_assert(http_session_valid(id));
	id[128] = 'x';
	id[129] = '\0';
	ck_assert(!http_session_valid(id));
}
END_TEST

Suite *
http_suite(void)
{
	Suite	*s = suite_create("http");
	TCase	*tc = tcase_create("parse");

	tcase_add_test(tc, test_upgrade_ok);
	tcase_add_test(tc, test_accept_key);
	tcase_add_test(tc, test_incomplete);
	tcase_add_test(tc, test_oversized);
	tcase_add_test(tc, test_too_many_headers);
	tcase_add_test(tc, test_missing_or_bad_ws_headers);
	tcase_add_test(tc, test_bad_version_and_method);
	tcase_add_test(tc, test_origin_subprotocol);
	tcase_add_test(tc, test_pipelined_garbage);
	tcase_add_test(tc, test_header_injection);
	tcase_add_test(tc, test_duplicates);
	tcase_add_test(tc, test_tokens);
	tcase_add_test(tc, test_session_ids);
	suite_add_tcase(s, tc);
	return s;
}
