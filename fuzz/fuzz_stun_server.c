/*
 * stund's per-request logic, server_answer(): what a stranger's datagram
 * to the STUN server can make it do. The first input byte picks the
 * server's shape (IPv4/IPv6, RFC 5780 on or off, SOFTWARE or not), the
 * rest is the request. Every answer must decode, carry the request's
 * transaction id, and stay within the amplification bound server.h states.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/stun.h"
#include "stund/server.h"

static void
addr4(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
	struct sockaddr_in *s = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	s->sin_family = AF_INET;
	s->sin_port = htons(port);
	inet_pton(AF_INET, ip, &s->sin_addr);
}

static void
addr6(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
	struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	s->sin6_family = AF_INET6;
	s->sin6_port = htons(port);
	inet_pton(AF_INET6, ip, &s->sin6_addr);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_storage	from, local, other;
	struct server_stats	st;
	struct stun_msg		req, ans;
	uint8_t			out[1500];
	uint32_t		change;
	uint16_t		port;
	uint8_t			mode;
	int			n;

	if (size < 1)
		return 0;
	mode = data[0];
	data++;
	size--;
	if (mode & 1) {
		addr6(&from, "2001:db8::77", 40000);
		addr6(&local, "2001:db8::1", 3478);
		addr6(&other, "2001:db8::2", 3479);
	} else if (mode & 8) {
		/* a v4 client on a dual-stack socket */
		addr6(&from, "::ffff:198.51.100.7", 40000);
		addr6(&local, "::ffff:203.0.113.10", 3478);
		addr6(&other, "::ffff:203.0.113.11", 3479);
	} else {
		addr4(&from, "198.51.100.7", 40000);
		addr4(&local, "203.0.113.10", 3478);
		addr4(&other, "203.0.113.11", 3479);
	}
	memset(&st, 0, sizeof(st));
	n = server_answer(data, size, (struct sockaddr *)&from,
	    (struct sockaddr *)&local, (struct sockaddr *)&other,
	    (mode & 4) ? "atmosphere stund 0.1" : NULL, (mode & 2) != 0,
	    out, sizeof(out), &change, &port, &st);
	if (n < 0 || (size_t)n > sizeof(out))
		abort();
	if (n == 0)
		return 0;
	/* an answer only ever goes to a well-formed Binding request, RFC
	 * 8489 or RFC 3489 (no cookie: answered in kind, no FINGERPRINT) */
	if (stun_decode(data, size, &req) != STUN_OK &&
	    stun_decode_classic(data, size, &req) != STUN_OK)
		abort();
	if (req.method != STUN_METHOD_BINDING || req.cls != STUN_CLASS_REQUEST)
		abort();
	if (req.has & STUN_HAS_CLASSIC) {
		if (stun_decode_classic(out, (size_t)n, &ans) != STUN_OK ||
		    memcmp(ans.cookie, req.cookie, 4) != 0 ||
		    (ans.has & (STUN_HAS_FINGERPRINT | STUN_HAS_XOR_MAPPED)))
			abort();
	} else if (stun_decode(out, (size_t)n, &ans) != STUN_OK ||
	    !(ans.has & STUN_HAS_FINGERPRINT))
		abort();
	if (memcmp(ans.tid, req.tid, STUN_TID_LEN) != 0 ||
	    ans.method != STUN_METHOD_BINDING)
		abort();
	/* amplification: 420 answers list at most STUN_MAX_UNKNOWN + 1 types;
	 * success answers are addresses + SOFTWARE + FINGERPRINT */
	if (n > 200)
		abort();
	if ((change & ~(uint32_t)(STUN_CHANGE_IP | STUN_CHANGE_PORT)) != 0)
		abort();
	if (!(mode & 2) && (change != 0 || port != 0))
		abort();
	return 0;
}
