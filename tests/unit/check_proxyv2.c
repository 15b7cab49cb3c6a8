/*
 * relayd/proxyv2.c: PROXY v2 headers (TCP4, TCP6, LOCAL, UNSPEC, UNIX),
 * every truncation a "need more", every malformed header refused with a
 * reason, TLVs skipped or refused when they overrun, the CRC32C TLV, and
 * the proxy allowlist. Each parse reads from a buffer of exactly the bytes
 * given, so an ASan run catches a read past them.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "relayd/proxyv2.h"
#include "suites.h"

static const uint8_t sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

/* A header: signature, ver/cmd, fam, then body (addresses + TLVs). */
static size_t
mk(uint8_t *out, uint8_t vercmd, uint8_t fam, const uint8_t *body,
    size_t blen)
{
	memcpy(out, sig, 12);
	out[12] = vercmd;
	out[13] = fam;
	out[14] = (uint8_t)(blen >> 8);
	out[15] = (uint8_t)blen;
	if (blen > 0)
		memcpy(out + 16, body, blen);
	return 16 + blen;
}

/* 192.0.2.10:51000 -> 198.51.100.1:8080 */
static const uint8_t v4body[12] = {
	192, 0, 2, 10, 198, 51, 100, 1, 0xc7, 0x38, 0x1f, 0x90
};

static size_t
mk_v6(uint8_t *out)
{
	uint8_t b[36];

	inet_pton(AF_INET6, "2001:db8::1", b);
	inet_pton(AF_INET6, "2001:db8:ffff::2", b + 16);
	b[32] = 0x12; b[33] = 0x34;	/* 4660 */
	b[34] = 0x1f; b[35] = 0x90;	/* 8080 */
	return mk(out, 0x21, 0x21, b, sizeof(b));
}

/* parse from a heap copy of exactly len bytes */
static enum proxyv2_result
parse(const uint8_t *buf, size_t len, struct proxyv2_hdr *h, const char **why)
{
	uint8_t			*c = malloc(len ? len : 1);
	enum proxyv2_result	 r;

	ck_assert_ptr_nonnull(c);
	memcpy(c, buf, len);
	r = proxyv2_parse(c, len, h, why);
	free(c);
	return r;
}

static void
assert_bad(const uint8_t *buf, size_t len, const char *reason_part)
{
	struct proxyv2_hdr	h;
	const char		*why = NULL;

	ck_assert_int_eq(parse(buf, len, &h, &why), PROXYV2_BAD);
	ck_assert_ptr_nonnull(why);
	if (reason_part != NULL)
		ck_assert_msg(strstr(why, reason_part) != NULL,
		    "reason \"%s\" lacks \"%s\"", why, reason_part);
}

/* every proper prefix of a valid header needs more bytes, never BAD */
static void
assert_prefixes_more(const uint8_t *buf, size_t len)
{
	struct proxyv2_hdr	h;
	const char		*why;
	size_t			 i;

	for (i = 0; i < len; i++)
		ck_assert_msg(parse(buf, i, &h, &why) == PROXYV2_MORE,
		    "prefix of %zu bytes: not MORE (%s)", i, why ? why : "");
}

/* ss holds ip (either family, as inet_pton reads it) and port */
static void
assert_addr(const struct sockaddr_storage *ss, const char *ip, unsigned port)
{
	const struct sockaddr_in	*s4 = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6	*s6 = (const struct sockaddr_in6 *)ss;
	char				 a[INET6_ADDRSTRLEN];
	int				 v6 = strchr(ip, ':') != NULL;

	ck_assert_int_eq(ss->ss_family, v6 ? AF_INET6 : AF_INET);
	ck_assert_str_eq(v6 ? inet_ntop(AF_INET6, &s6->sin6_addr, a,
	    sizeof(a)) : inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a)), ip);
	ck_assert_uint_eq(ntohs(v6 ? s6->sin6_port : s4->sin_port), port);
}

/* buf holds a PROXY header of n bytes, then extra bytes of the request:
 * parsed whole, with these addresses; every prefix needs more */
static void
assert_proxied(const uint8_t *buf, size_t n, size_t extra, const char *src,
    unsigned sport, const char *dst, unsigned dport)
{
	struct proxyv2_hdr h;

	ck_assert_int_eq(parse(buf, n + extra, &h, NULL), PROXYV2_OK);
	ck_assert_uint_eq(h.len, n);
	ck_assert_int_eq(h.local, 0);
	assert_addr(&h.src, src, sport);
	assert_addr(&h.dst, dst, dport);
	assert_prefixes_more(buf, n);
}

START_TEST(t_v4)
{
	uint8_t	buf[64];
	size_t	n = mk(buf, 0x21, 0x11, v4body, 12);

	ck_assert_uint_eq(n, 28);
	/* the HTTP request that follows is not part of the header */
	memcpy(buf + n, "GET / HTTP/1.1\r\n", 16);
	assert_proxied(buf, n, 16, "192.0.2.10", 51000, "198.51.100.1", 8080);
}
END_TEST

START_TEST(t_v6)
{
	uint8_t	buf[64];
	size_t	n = mk_v6(buf);

	ck_assert_uint_eq(n, 52);
	assert_proxied(buf, n, 0, "2001:db8::1", 4660, "2001:db8:ffff::2",
	    8080);
}
END_TEST

START_TEST(t_local)
{
	uint8_t			buf[64];
	struct proxyv2_hdr	h;
	size_t			n;

	/* HAProxy's health checks: LOCAL, UNSPEC, no body */
	n = mk(buf, 0x20, 0x00, NULL, 0);
	ck_assert_int_eq(parse(buf, n, &h, NULL), PROXYV2_OK);
	ck_assert_uint_eq(h.len, 16);
	ck_assert_int_eq(h.local, 1);
	ck_assert_int_eq(h.src.ss_family, AF_UNSPEC);
	assert_prefixes_more(buf, n);
	/* LOCAL with addresses: they are ignored */
	n = mk(buf, 0x20, 0x11, v4body, 12);
	ck_assert_int_eq(parse(buf, n, &h, NULL), PROXYV2_OK);
	ck_assert_int_eq(h.local, 1);
	ck_assert_uint_eq(h.len, 28);
	ck_assert_int_eq(h.src.ss_family, AF_UNSPEC);
	/* LOCAL discards the block, family included (spec 2.2): even an
	 * unknown family, a short body or bytes that are no TLVs */
	n = mk(buf, 0x20, 0x41, (const uint8_t *)"\x09\xff\xff", 3);
	ck_assert_int_eq(parse(buf, n, &h, NULL), PROXYV2_OK);
	ck_assert_int_eq(h.local, 1);
	ck_assert_uint_eq(h.len, 19);
	assert_prefixes_more(buf, n);
	/* but not past the length cap */
	buf[14] = 0xff;
	assert_bad(buf, 16, "longer than");
	/* PROXY with UNSPEC: valid, but no client address to take */
	n = mk(buf, 0x21, 0x00, NULL, 0);
	ck_assert_int_eq(parse(buf, n, &h, NULL), PROXYV2_OK);
	ck_assert_int_eq(h.local, 0);
	ck_assert_int_eq(h.src.ss_family, AF_UNSPEC);
}
END_TEST

START_TEST(t_unix)
{
	uint8_t			buf[16 + 216], body[216];
	struct proxyv2_hdr	h;
	size_t			n;

	memset(body, 0, sizeof(body));
	memcpy(body, "/run/haproxy.sock", 17);
	n = mk(buf, 0x21, 0x31, body, sizeof(body));
	ck_assert_int_eq(parse(buf, n, &h, NULL), PROXYV2_OK);
	ck_assert_uint_eq(h.len, 232);
	ck_assert_int_eq(h.src.ss_family, AF_UNSPEC);
	assert_prefixes_more(buf, n);
	/* shorter than a UNIX address block */
	n = mk(buf, 0x21, 0x31, body, 100);
	assert_bad(buf, n, "shorter than the addresses");
}
END_TEST

START_TEST(t_tlvs)
{
	uint8_t			 buf[128], body[64];
	struct proxyv2_hdr	 h;
	size_t			 n, b = 0;

	memcpy(body, v4body, 12);
	b = 12;
	/* ALPN "http/1.1", authority "relay", an empty NOOP */
	memcpy(body + b, "\x01\x00\x08http/1.1", 11); b += 11;
	memcpy(body + b, "\x02\x00\x05relay", 8); b += 8;
	memcpy(body + b, "\x04\x00\x00", 3); b += 3;
	n = mk(buf, 0x21, 0x11, body, b);
	assert_proxied(buf, n, 0, "192.0.2.10", 51000, "198.51.100.1", 8080);
	proxyv2_parse(buf, n, &h, NULL);
	ck_assert_int_eq(h.has_crc, 0);
	/* last TLV says 9 bytes of value where 8 remain */
	body[12 + 11 + 2] = 9;
	n = mk(buf, 0x21, 0x11, body, 12 + 11 + 8);
	assert_bad(buf, n, "TLV runs past");
	/* 2 bytes after the addresses: not even a TLV header */
	n = mk(buf, 0x21, 0x11, body, 14);
	assert_bad(buf, n, "truncated TLV");
}
END_TEST

START_TEST(t_crc32c)
{
	uint8_t			buf[64], body[32];
	struct proxyv2_hdr	h;
	uint32_t		c;
	size_t			n;

	ck_assert_uint_eq(proxyv2_crc32c("123456789", 9), 0xe3069283);
	memcpy(body, v4body, 12);
	memcpy(body + 12, "\x03\x00\x04\x00\x00\x00\x00", 7);
	n = mk(buf, 0x21, 0x11, body, 19);
	c = htonl(proxyv2_crc32c(buf, n));
	memcpy(buf + n - 4, &c, 4);
	ck_assert_int_eq(parse(buf, n, &h, NULL), PROXYV2_OK);
	ck_assert_int_eq(h.has_crc, 1);
	assert_prefixes_more(buf, n);
	buf[19] ^= 1;	/* another source address: the CRC no longer holds */
	assert_bad(buf, n, "CRC32C mismatch");
	/* a CRC32C TLV of the wrong size */
	memcpy(body + 12, "\x03\x00\x02\x00\x00", 5);
	n = mk(buf, 0x21, 0x11, body, 17);
	assert_bad(buf, n, "CRC32C");
}
END_TEST

START_TEST(t_signature)
{
	uint8_t	buf[64];
	size_t	n = mk(buf, 0x21, 0x11, v4body, 12), i, k;

	/* any signature byte wrong: refused with only the bytes up to it */
	for (i = 0; i < 12; i++) {
		buf[i] ^= 0x40;
		for (k = i + 1; k <= n; k++)
			assert_bad(buf, k, "signature");
		buf[i] ^= 0x40;
	}
	/* plain HTTP from an allowed proxy address: not a header */
	assert_bad((const uint8_t *)"GET /health HTTP/1.1\r\n", 22,
	    "no PROXY v2 signature");
	assert_bad((const uint8_t *)"\x16\x03\x01", 3, "signature");
}
END_TEST

START_TEST(t_v1)
{
	const char	*v1 = "PROXY TCP4 192.0.2.10 198.51.100.1 51000 8080\r\n";
	size_t		 i;

	for (i = 1; i <= strlen(v1); i++)
		assert_bad((const uint8_t *)v1, i, "v1");
	assert_bad((const uint8_t *)"PROXY UNKNOWN\r\n", 15, "v1");
}
END_TEST

START_TEST(t_oversize)
{
	uint8_t			buf[16];
	struct proxyv2_hdr	h;
	const char		*why;

	/* refused on the fixed part alone: no waiting for 64 KiB */
	mk(buf, 0x21, 0x11, NULL, 0);
	buf[14] = 0xff; buf[15] = 0xff;
	assert_bad(buf, 16, "longer than");
	buf[14] = (PROXYV2_MAX_LEN - 16 + 1) >> 8;
	buf[15] = (PROXYV2_MAX_LEN - 16 + 1) & 0xff;
	assert_bad(buf, 16, "longer than");
	/* exactly the cap is still a valid start */
	buf[14] = (PROXYV2_MAX_LEN - 16) >> 8;
	buf[15] = (PROXYV2_MAX_LEN - 16) & 0xff;
	ck_assert_int_eq(parse(buf, 16, &h, &why), PROXYV2_MORE);
}
END_TEST

START_TEST(t_bad_fields)
{
	static const uint8_t fams[] = { 0x01, 0x10, 0x13, 0x20, 0x23, 0x30,
	    0x40, 0x41, 0xff };
	static const uint8_t dgram[] = { 0x12, 0x22, 0x32 };
	uint8_t	buf[64];
	size_t	n, i;

	for (i = 0; i < sizeof(fams); i++) {
		n = mk(buf, 0x21, fams[i], v4body, 12);
		assert_bad(buf, 14, "family");	/* known at byte 14 */
		assert_bad(buf, n, "family");
	}
	for (i = 0; i < sizeof(dgram); i++) {
		n = mk(buf, 0x21, dgram[i], v4body, 12);
		assert_bad(buf, n, "datagram");
	}
	n = mk(buf, 0x11, 0x11, v4body, 12);
	assert_bad(buf, 13, "version");
	n = mk(buf, 0x31, 0x11, v4body, 12);
	assert_bad(buf, n, "version");
	n = mk(buf, 0x22, 0x11, v4body, 12);
	assert_bad(buf, 13, "command");
	n = mk(buf, 0x2f, 0x11, v4body, 12);
	assert_bad(buf, n, "command");
	/* TCP6 family with a TCP4-sized body */
	n = mk(buf, 0x21, 0x21, v4body, 12);
	assert_bad(buf, 16, "shorter than the addresses");
	assert_bad(buf, n, "shorter than the addresses");
}
END_TEST

static struct sockaddr_storage ss;

static const struct sockaddr *
sa(const char *ip)
{
	struct sockaddr_in	*s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1)
		s4->sin_family = AF_INET;
	else {
		ck_assert_int_eq(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
		s6->sin6_family = AF_INET6;
	}
	return (const struct sockaddr *)&ss;
}

START_TEST(t_allow)
{
	struct proxyv2_allow	al;
	char			err[128];

	ck_assert_int_eq(proxyv2_allow_parse(&al,
	    "10.0.0.5, 10.1.2.3/16  2001:db8::/48,::1", err, sizeof(err)), 0);
	ck_assert_int_eq(al.n, 4);
	ck_assert_int_eq(proxyv2_allowed(&al, sa("10.0.0.5")), 1);
	ck_assert_int_eq(proxyv2_allowed(&al, sa("10.0.0.6")), 0);
	ck_assert_int_eq(proxyv2_allowed(&al, sa("10.1.255.7")), 1);
	ck_assert_int_eq(proxyv2_allowed(&al, sa("10.2.0.1")), 0);
	/* IPv4 on a dual-stack listener */
	ck_assert_int_eq(proxyv2_allowed(&al, sa("::ffff:10.0.0.5")), 1);
	ck_assert_int_eq(proxyv2_allowed(&al, sa("::ffff:10.0.0.7")), 0);
	ck_assert_int_eq(proxyv2_allowed(&al, sa("2001:db8:0:ffff::9")), 1);
	ck_assert_int_eq(proxyv2_allowed(&al, sa("2001:db8:1::9")), 0);
	ck_assert_int_eq(proxyv2_allowed(&al, sa("::1")), 1);
	ck_assert_int_eq(proxyv2_allowed(&al, sa("::2")), 0);
	/* prefixes not on a byte boundary */
	ck_assert_int_eq(proxyv2_allow_parse(&al, "192.0.2.64/27", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(proxyv2_allowed(&al, sa("192.0.2.95")), 1);
	ck_assert_int_eq(proxyv2_allowed(&al, sa("192.0.2.96")), 0);
	ck_assert_int_eq(proxyv2_allowed(&al, sa("192.0.2.63")), 0);
	/* /0 of one family does not take in the other */
	ck_assert_int_eq(proxyv2_allow_parse(&al, "0.0.0.0/0", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(proxyv2_allowed(&al, sa("203.0.113.1")), 1);
	ck_assert_int_eq(proxyv2_allowed(&al, sa("2001:db8::1")), 0);
	/* empty: nobody */
	ck_assert_int_eq(proxyv2_allow_parse(&al, " , ", err, sizeof(err)), 0);
	ck_assert_int_eq(al.n, 0);
	ck_assert_int_eq(proxyv2_allowed(&al, sa("127.0.0.1")), 0);
}
END_TEST

START_TEST(t_allow_bad)
{
	static const char *bad[] = { "10.0.0.256", "10.0.0.0/33", "::/129",
	    "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/1x", "host.example",
	    "10.0.0.1, nonsense", "2001:db8::/4 8",
	    "0123456789012345678901234567890123456789012345678901234567890123456789" };
	struct proxyv2_allow	al;
	char			err[128], many[1024];
	size_t			i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(proxyv2_allow_parse(&al, bad[i], err,
		    sizeof(err)) == -1, "accepted \"%s\"", bad[i]);
		ck_assert_int_eq(al.n, 0);
		ck_assert(err[0] != '\0');
	}
	many[0] = '\0';
	for (i = 0; i <= PROXYV2_ALLOW_MAX; i++) {
		char one[24];
		snprintf(one, sizeof(one), "10.0.%zu.1,", i);
		strlcat(many, one, sizeof(many));
	}
	ck_assert_int_eq(proxyv2_allow_parse(&al, many, err, sizeof(err)), -1);
	ck_assert(strstr(err, "more than") != NULL);
}
END_TEST

Suite *
proxyv2_suite(void)
{
	Suite	*s = suite_create("proxyv2");
	TCase	*tc = tcase_create("proxyv2");

	tcase_add_test(tc, t_v4);
	tcase_add_test(tc, t_v6);
	tcase_add_test(tc, t_local);
	tcase_add_test(tc, t_unix);
	tcase_add_test(tc, t_tlvs);
	tcase_add_test(tc, t_crc32c);
	tcase_add_test(tc, t_signature);
	tcase_add_test(tc, t_v1);
	tcase_add_test(tc, t_oversize);
	tcase_add_test(tc, t_bad_fields);
	tcase_add_test(tc, t_allow);
	tcase_add_test(tc, t_allow_bad);
	suite_add_tcase(s, tc);
	return s;
}
