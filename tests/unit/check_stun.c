/*
 * proto/stun: the RFC 5769 test vectors (decode every field, FINGERPRINT,
 * MESSAGE-INTEGRITY with the right and the wrong key, re-encode byte for
 * byte), hostile datagrams of every shape the decoder has a branch for,
 * random attribute soup, and the writer at every buffer size.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>

#include "proto/stun.h"
#include "suites.h"

/* --- RFC 5769 vectors ------------------------------------------------- */

static const uint8_t rfc_tid[STUN_TID_LEN] = {
	0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae
};
static const char rfc_pass[] = "VOkJxbRl1RmTxUk/WvJxBt";

/* RFC 5769 2.1, sample request. SOFTWARE "STUN test client", USERNAME
 * "evtj:h6vY" padded with spaces, password "VOkJxbRl1RmTxUk/WvJxBt". */
static const uint8_t rfc_req[] = {
	0x00, 0x01, 0x00, 0x58,	/* Request type and message length */
	0x21, 0x12, 0xa4, 0x42,	/* Magic cookie */
	0xb7, 0xe7, 0xa7, 0x01,	/* } */
	0xbc, 0x34, 0xd6, 0x86,	/* }  Transaction ID */
	0xfa, 0x87, 0xdf, 0xae,	/* } */
	0x80, 0x22, 0x00, 0x10,	/* SOFTWARE attribute header */
	0x53, 0x54, 0x55, 0x4e,	/* } */
	0x20, 0x74, 0x65, 0x73,	/* }  User-agent... */
	0x74, 0x20, 0x63, 0x6c,	/* }  ...name */
	0x69, 0x65, 0x6e, 0x74,	/* } */
	0x00, 0x24, 0x00, 0x04,	/* PRIORITY attribute header */
	0x6e, 0x00, 0x01, 0xff,	/* ICE priority value */
	0x80, 0x29, 0x00, 0x08,	/* ICE-CONTROLLED attribute header */
	0x93, 0x2f, 0xf9, 0xb1,	/* }  Pseudo-random tie breaker... */
	0x51, 0x26, 0x3b, 0x36,	/* }   ...for ICE control */
	0x00, 0x06, 0x00, 0x09,	/* USERNAME attribute header */
	0x65, 0x76, 0x74, 0x6a,	/* } */
	0x3a, 0x68, 0x36, 0x76,	/* }  Username (9 bytes) and padding (3 bytes) */
	0x59, 0x20, 0x20, 0x20,	/* } */
	0x00, 0x08, 0x00, 0x14,	/* MESSAGE-INTEGRITY attribute header */
	0x9a, 0xea, 0xa7, 0x0c,	/* } */
	0xbf, 0xd8, 0xcb, 0x56,	/* } */
	0x78, 0x1e, 0xf2, 0xb5,	/* }  HMAC-SHA1 fingerprint */
	0xb2, 0xd3, 0xf2, 0x49,	/* } */
	0xc1, 0xb5, 0x71, 0xa2,	/* } */
	0x80, 0x28, 0x00, 0x04,	/* FINGERPRINT attribute header */
	0xe5, 0x7a, 0x3b, 0xcf,	/* CRC32 fingerprint */
};

/* RFC 5769 2.2, sample IPv4 response: SOFTWARE "test vector" (padded with a
 * space), XOR-MAPPED-ADDRESS 192.0.2.1 port 32853. */
static const uint8_t rfc_resp4[] = {
	0x01, 0x01, 0x00, 0x3c,	/* Response type and message length */
	0x21, 0x12, 0xa4, 0x42,	/* Magic cookie */
	0xb7, 0xe7, 0xa7, 0x01,	/* } */
	0xbc, 0x34, 0xd6, 0x86,	/* }  Transaction ID */
	0xfa, 0x87, 0xdf, 0xae,	/* } */
	0x80, 0x22, 0x00, 0x0b,	/* SOFTWARE attribute header */
	0x74, 0x65, 0x73, 0x74,	/* } */
	0x20, 0x76, 0x65, 0x63,	/* }  UTF-8 server name */
	0x74, 0x6f, 0x72, 0x20,	/* } */
	0x00, 0x20, 0x00, 0x08,	/* XOR-MAPPED-ADDRESS attribute header */
	0x00, 0x01, 0xa1, 0x47,	/* Address family (IPv4) and xor'd mapped port */
	0xe1, 0x12, 0xa6, 0x43,	/* Xor'd mapped IPv4 address */
	0x00, 0x08, 0x00, 0x14,	/* MESSAGE-INTEGRITY attribute header */
	0x2b, 0x91, 0xf5, 0x99,	/* } */
	0xfd, 0x9e, 0x90, 0xc3,	/* } */
	0x8c, 0x74, 0x89, 0xf9,	/* }  HMAC-SHA1 fingerprint */
	0x2a, 0xf9, 0xba, 0x53,	/* } */
	0xf0, 0x6b, 0xe7, 0xd7,	/* } */
	0x80, 0x28, 0x00, 0x04,	/* FINGERPRINT attribute header */
	0xc0, 0x7d, 0x4c, 0x96,	/* CRC32 fingerprint */
};

/* RFC 5769 2.3, sample IPv6 response: XOR-MAPPED-ADDRESS
 * 2001:db8:1234:5678:11:2233:4455:6677 port 32853. */
static const uint8_t rfc_resp6[] = {
	0x01, 0x01, 0x00, 0x48,	/* Response type and message length */
	0x21, 0x12, 0xa4, 0x42,	/* Magic cookie */
	0xb7, 0xe7, 0xa7, 0x01,	/* } */
	0xbc, 0x34, 0xd6, 0x86,	/* }  Transaction ID */
	0xfa, 0x87, 0xdf, 0xae,	/* } */
	0x80, 0x22, 0x00, 0x0b,	/* SOFTWARE attribute header */
	0x74, 0x65, 0x73, 0x74,	/* } */
	0x20, 0x76, 0x65, 0x63,	/* }  UTF-8 server name */
	0x74, 0x6f, 0x72, 0x20,	/* } */
	0x00, 0x20, 0x00, 0x14,	/* XOR-MAPPED-ADDRESS attribute header */
	0x00, 0x02, 0xa1, 0x47,	/* Address family (IPv6) and xor'd mapped port */
	0x01, 0x13, 0xa9, 0xfa,	/* } */
	0xa5, 0xd3, 0xf1, 0x79,	/* }  Xor'd mapped IPv6 address */
	0xbc, 0x25, 0xf4, 0xb5,	/* } */
	0xbe, 0xd2, 0xb9, 0xd9,	/* } */
	0x00, 0x08, 0x00, 0x14,	/* MESSAGE-INTEGRITY attribute header */
	0xa3, 0x82, 0x95, 0x4e,	/* } */
	0x4b, 0xe6, 0x7b, 0xf1,	/* } */
	0x17, 0x84, 0xc9, 0x7c,	/* }  HMAC-SHA1 fingerprint */
	0x82, 0x92, 0xc2, 0x75,	/* } */
	0xbf, 0xe3, 0xed, 0x41,	/* } */
	0x80, 0x28, 0x00, 0x04,	/* FINGERPRINT attribute header */
	0xc8, 0xfb, 0x0b, 0x4c,	/* CRC32 fingerprint */
};

/* RFC 5769 2.4, request with long-term authentication: USERNAME
 * U+30DE U+30C8 U+30EA U+30C3 U+30AF U+30B9 (UTF-8), password "TheMatrIX"
 * (unchanged by SASLprep), realm "example.org", nonce
 * "f//499k954d6OL34oL9FSTvy64sA". Padding here is zeros; no FINGERPRINT. */
static const uint8_t rfc_req_lt[] = {
	0x00, 0x01, 0x00, 0x60,	/* Request type and message length */
	0x21, 0x12, 0xa4, 0x42,	/* Magic cookie */
	0x78, 0xad, 0x34, 0x33,	/* } */
	0xc6, 0xad, 0x72, 0xc0,	/* }  Transaction ID */
	0x29, 0xda, 0x41, 0x2e,	/* } */
	0x00, 0x06, 0x00, 0x12,	/* USERNAME attribute header */
	0xe3, 0x83, 0x9e, 0xe3,	/* } */
	0x83, 0x88, 0xe3, 0x83,	/* } */
	0xaa, 0xe3, 0x83, 0x83,	/* }  Username value (18 bytes) and padding (2) */
	0xe3, 0x82, 0xaf, 0xe3,	/* } */
	0x82, 0xb9, 0x00, 0x00,	/* } */
	0x00, 0x15, 0x00, 0x1c,	/* NONCE attribute header */
	0x66, 0x2f, 0x2f, 0x34,	/* } */
	0x39, 0x39, 0x6b, 0x39,	/* } */
	0x35, 0x34, 0x64, 0x36,	/* } */
	0x4f, 0x4c, 0x33, 0x34,	/* }  Nonce value */
	0x6f, 0x4c, 0x39, 0x46,	/* } */
	0x53, 0x54, 0x76, 0x79,	/* } */
	0x36, 0x34, 0x73, 0x41,	/* } */
	0x00, 0x14, 0x00, 0x0b,	/* REALM attribute header */
	0x65, 0x78, 0x61, 0x6d,	/* } */
	0x70, 0x6c, 0x65, 0x2e,	/* }  Realm value (11 bytes) and padding (1) */
	0x6f, 0x72, 0x67, 0x00,	/* } */
	0x00, 0x08, 0x00, 0x14,	/* MESSAGE-INTEGRITY attribute header */
	0xf6, 0x70, 0x24, 0x65,	/* } */
	0x6d, 0xd6, 0x4a, 0x3e,	/* } */
	0x02, 0xb8, 0xe0, 0x71,	/* }  HMAC-SHA1 fingerprint */
	0x2e, 0x85, 0xc9, 0xa2,	/* } */
	0x8c, 0xa8, 0x96, 0x66,	/* } */
};
static const uint8_t rfc_lt_tid[STUN_TID_LEN] = {
	0x78, 0xad, 0x34, 0x33, 0xc6, 0xad, 0x72, 0xc0, 0x29, 0xda, 0x41, 0x2e
};
static const char rfc_lt_user[] =
    "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9";
static const char rfc_lt_nonce[] = "f//499k954d6OL34oL9FSTvy64sA";

/* --- helpers ---------------------------------------------------------- */

/* deterministic, so a failure reproduces */
static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

static struct sockaddr_storage
mk4(const char *ip, uint16_t port)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	ck_assert_int_eq(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
	return ss;
}

static struct sockaddr_storage
mk6(const char *ip, uint16_t port)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	ck_assert_int_eq(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
	return ss;
}

/* family, port and address, as a decoder's output must match them */
static void
ck_addr(const struct sockaddr_storage *got, const struct sockaddr_storage *want)
{
	ck_assert_int_eq(got->ss_family, want->ss_family);
	if (want->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)got;
		const struct sockaddr_in *b = (const void *)want;

		ck_assert_uint_eq(ntohs(a->sin_port), ntohs(b->sin_port));
		ck_assert_uint_eq(a->sin_addr.s_addr, b->sin_addr.s_addr);
	} else {
		const struct sockaddr_in6 *a = (const void *)got;
		const struct sockaddr_in6 *b = (const void *)want;

		ck_assert_uint_eq(ntohs(a->sin6_port), ntohs(b->sin6_port));
		ck_assert_mem_eq(&a->sin6_addr, &b->sin6_addr, 16);
	}
}

static void
ck_str(const char *got, size_t gotlen, const char *want)
{
	ck_assert_ptr_nonnull(got);
	ck_assert_uint_eq(gotlen, strlen(want));
	ck_assert_mem_eq(got, want, gotlen);
}

/* a header for hand-built hostile messages: Binding request, body blen */
static void
hdr(uint8_t *b, size_t blen)
{
	b[0] = 0x00;
	b[1] = 0x01;
	b[2] = (blen >> 8) & 0xFF;
	b[3] = blen & 0xFF;
	b[4] = 0x21;
	b[5] = 0x12;
	b[6] = 0xa4;
	b[7] = 0x42;
	memcpy(b + 8, rfc_tid, STUN_TID_LEN);
}

static void
put_attr(uint8_t *p, uint16_t type, uint16_t len)
{
	p[0] = type >> 8;
	p[1] = type & 0xFF;
	p[2] = len >> 8;
	p[3] = len & 0xFF;
}

/* --- RFC 5769 --------------------------------------------------------- */

START_TEST(test_crc32)
{
	/* the catalogue check value of CRC-32/ISO-HDLC */
	ck_assert_uint_eq(stun_crc32((const uint8_t *)"123456789", 9),
	    0xCBF43926u);
	ck_assert_uint_eq(stun_crc32(NULL, 0), 0);
	/* the 2.1 FINGERPRINT covers the 104 bytes before it */
	ck_assert_uint_eq(stun_fingerprint(rfc_req, sizeof(rfc_req) - 8),
	    0xe57a3bcfu);
	ck_assert_uint_eq(stun_crc32(rfc_req, sizeof(rfc_req) - 8),
	    0xe57a3bcfu ^ STUN_FINGERPRINT_XOR);
}
END_TEST

START_TEST(test_rfc5769_request)
{
	struct stun_msg	m;
	uint8_t		copy[sizeof(rfc_req)];

	ck_assert_int_eq(stun_is_stun(rfc_req, sizeof(rfc_req)), 1);
	ck_assert_int_eq(stun_decode(rfc_req, sizeof(rfc_req), &m), STUN_OK);
	ck_assert_uint_eq(m.method, STUN_METHOD_BINDING);
	ck_assert_uint_eq(m.cls, STUN_CLASS_REQUEST);
	ck_assert_uint_eq(m.length, 0x58);
	ck_assert_mem_eq(m.tid, rfc_tid, STUN_TID_LEN);
	ck_assert_uint_eq(m.has, STUN_HAS_SOFTWARE | STUN_HAS_USERNAME |
	    STUN_HAS_INTEGRITY | STUN_HAS_FINGERPRINT);
	ck_str(m.software, m.software_len, "STUN test client");
	ck_str(m.username, m.username_len, "evtj:h6vY");
	/* PRIORITY (0x0024) is comprehension-required and not ours; the
	 * optional ICE-CONTROLLED (0x8029) is skipped silently */
	ck_assert_uint_eq(m.n_unknown_required, 1);
	ck_assert_uint_eq(m.unknown_required[0], 0x0024);
	ck_assert_uint_eq(m.integrity_off, 76);
	ck_assert_mem_eq(m.integrity, rfc_req + 80, 20);

	/* MI is followed by FINGERPRINT: passes only if the length field is
	 * cut back to end at MI before hashing */
	ck_assert_int_eq(stun_check_integrity(rfc_req, sizeof(rfc_req), &m,
	    (const uint8_t *)rfc_pass, strlen(rfc_pass)), 1);
	ck_assert_int_eq(stun_check_integrity(rfc_req, sizeof(rfc_req), &m,
	    (const uint8_t *)"VOkJxbRl1RmTxUk/WvJxBu", strlen(rfc_pass)), 0);
	ck_assert_int_eq(stun_check_integrity(rfc_req, sizeof(rfc_req), &m,
	    (const uint8_t *)rfc_pass, strlen(rfc_pass) - 1), 0);
	ck_assert_int_eq(stun_check_integrity(rfc_req, sizeof(rfc_req), &m,
	    NULL, 0), 0);

	/* one flipped bit anywhere before FINGERPRINT breaks it; before the
	 * end of MI it breaks MESSAGE-INTEGRITY too */
	for (size_t i = 0; i < sizeof(rfc_req) - 8; i++) {
		struct stun_msg	m2;

		memcpy(copy, rfc_req, sizeof(copy));
		copy[i] ^= 0x01;
		ck_assert_int_ne(stun_decode(copy, sizeof(copy), &m2), STUN_OK);
		if (i >= 2 && i < 4)
			continue;	/* length: m no longer fits copy */
		if (i >= 76 && i < 80)
			continue;	/* MI's own header is not hashed */
		ck_assert_int_eq(stun_check_integrity(copy, sizeof(copy), &m,
		    (const uint8_t *)rfc_pass, strlen(rfc_pass)), 0);
	}
	/* a flipped FINGERPRINT byte fails FINGERPRINT but not MI */
	memcpy(copy, rfc_req, sizeof(copy));
	copy[sizeof(copy) - 1] ^= 0x80;
	ck_assert_int_eq(stun_decode(copy, sizeof(copy), &m), STUN_ERR_FINGERPRINT);
}
END_TEST

START_TEST(test_rfc5769_response4)
{
	struct stun_msg		m;
	struct sockaddr_storage	want = mk4("192.0.2.1", 32853);

	ck_assert_int_eq(stun_decode(rfc_resp4, sizeof(rfc_resp4), &m),
	    STUN_OK);
	ck_assert_uint_eq(m.method, STUN_METHOD_BINDING);
	ck_assert_uint_eq(m.cls, STUN_CLASS_SUCCESS);
	ck_assert_uint_eq(m.length, 0x3c);
	ck_assert_mem_eq(m.tid, rfc_tid, STUN_TID_LEN);
	ck_assert_uint_eq(m.has, STUN_HAS_SOFTWARE | STUN_HAS_XOR_MAPPED |
	    STUN_HAS_INTEGRITY | STUN_HAS_FINGERPRINT);
	ck_str(m.software, m.software_len, "test vector");
	ck_addr(&m.xor_mapped, &want);
	ck_assert_uint_eq(m.n_unknown_required, 0);
	ck_assert_uint_eq(m.integrity_off, 48);
	ck_assert_int_eq(stun_check_integrity(rfc_resp4, sizeof(rfc_resp4),
	    &m, (const uint8_t *)rfc_pass, strlen(rfc_pass)), 1);
	ck_assert_int_eq(stun_check_integrity(rfc_resp4, sizeof(rfc_resp4),
	    &m, (const uint8_t *)"wrong", 5), 0);
}
END_TEST

START_TEST(test_rfc5769_response6)
{
	struct stun_msg		m;
	struct sockaddr_storage	want =
	    mk6("2001:db8:1234:5678:11:2233:4455:6677", 32853);

	ck_assert_int_eq(stun_decode(rfc_resp6, sizeof(rfc_resp6), &m),
	    STUN_OK);
	ck_assert_uint_eq(m.method, STUN_METHOD_BINDING);
	ck_assert_uint_eq(m.cls, STUN_CLASS_SUCCESS);
	ck_assert_uint_eq(m.length, 0x48);
	ck_assert_mem_eq(m.tid, rfc_tid, STUN_TID_LEN);
	ck_assert_uint_eq(m.has, STUN_HAS_SOFTWARE | STUN_HAS_XOR_MAPPED |
	    STUN_HAS_INTEGRITY | STUN_HAS_FINGERPRINT);
	ck_str(m.software, m.software_len, "test vector");
	ck_addr(&m.xor_mapped, &want);
	ck_assert_uint_eq(m.integrity_off, 60);
	ck_assert_int_eq(stun_check_integrity(rfc_resp6, sizeof(rfc_resp6),
	    &m, (const uint8_t *)rfc_pass, strlen(rfc_pass)), 1);
	ck_assert_int_eq(stun_check_integrity(rfc_resp6, sizeof(rfc_resp6),
	    &m, (const uint8_t *)"wrong", 5), 0);
}
END_TEST

START_TEST(test_rfc5769_longterm)
{
	struct stun_msg	m;
	uint8_t		key[16], copy[sizeof(rfc_req_lt)];

	ck_assert_int_eq(stun_decode(rfc_req_lt, sizeof(rfc_req_lt), &m),
	    STUN_OK);
	ck_assert_uint_eq(m.method, STUN_METHOD_BINDING);
	ck_assert_uint_eq(m.cls, STUN_CLASS_REQUEST);
	ck_assert_uint_eq(m.length, 0x60);
	ck_assert_mem_eq(m.tid, rfc_lt_tid, STUN_TID_LEN);
	ck_assert_uint_eq(m.has, STUN_HAS_USERNAME | STUN_HAS_NONCE |
	    STUN_HAS_REALM | STUN_HAS_INTEGRITY);
	ck_str(m.username, m.username_len, rfc_lt_user);
	ck_assert_uint_eq(m.username_len, 18);
	ck_str(m.nonce, m.nonce_len, rfc_lt_nonce);
	ck_str(m.realm, m.realm_len, "example.org");
	ck_assert_uint_eq(m.integrity_off, 92);

	stun_longterm_key(rfc_lt_user, "example.org", "TheMatrIX", key);
	ck_assert_int_eq(stun_check_integrity(rfc_req_lt, sizeof(rfc_req_lt),
	    &m, key, sizeof(key)), 1);
	/* the password alone is the short-term key: wrong here */
	ck_assert_int_eq(stun_check_integrity(rfc_req_lt, sizeof(rfc_req_lt),
	    &m, (const uint8_t *)"TheMatrIX", 9), 0);
	stun_longterm_key(rfc_lt_user, "example.org", "thematrix", key);
	ck_assert_int_eq(stun_check_integrity(rfc_req_lt, sizeof(rfc_req_lt),
	    &m, key, sizeof(key)), 0);
	stun_longterm_key(rfc_lt_user, "example.org", "TheMatrIX", key);
	memcpy(copy, rfc_req_lt, sizeof(copy));
	copy[60] ^= 0x20;	/* a nonce letter changes case */
	ck_assert_int_eq(stun_check_integrity(copy, sizeof(copy), &m, key,
	    sizeof(key)), 0);
}
END_TEST

/*
 * Rebuild each vector with the writer. RFC 5769 pads with spaces in 2.1 to
 * 2.3 and with zeros in 2.4; padding is covered by MESSAGE-INTEGRITY and
 * FINGERPRINT, so a byte-for-byte match needs the same padding byte, which
 * is what stun_set_pad() is for. With our default zero padding the bytes
 * (and hashes) differ but the message decodes to the same fields and its
 * own MI and FINGERPRINT check out: test_rfc5769_zero_pad.
 */
START_TEST(test_rfc5769_reencode)
{
	static const uint8_t	tiebreak[8] =
	    { 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36 };
	struct sockaddr_storage	a4 = mk4("192.0.2.1", 32853);
	struct sockaddr_storage	a6 =
	    mk6("2001:db8:1234:5678:11:2233:4455:6677", 32853);
	struct stun_writer	w;
	uint8_t			buf[256], key[16];
	const uint8_t		*pw = (const uint8_t *)rfc_pass;

	stun_init(&w, buf, sizeof(buf), STUN_METHOD_BINDING,
	    STUN_CLASS_REQUEST, rfc_tid);
	stun_set_pad(&w, 0x20);
	stun_add_software(&w, "STUN test client");
	stun_add_u32(&w, 0x0024, 0x6e0001ff);		/* PRIORITY */
	stun_add_raw(&w, 0x8029, tiebreak, sizeof(tiebreak)); /* ICE-CONTROLLED */
	stun_add_raw(&w, STUN_ATTR_USERNAME, "evtj:h6vY", 9);
	stun_add_integrity(&w, pw, strlen(rfc_pass));
	stun_add_fingerprint(&w);
	ck_assert_int_eq(stun_finish(&w), sizeof(rfc_req));
	ck_assert_mem_eq(buf, rfc_req, sizeof(rfc_req));

	stun_init(&w, buf, sizeof(buf), STUN_METHOD_BINDING,
	    STUN_CLASS_SUCCESS, rfc_tid);
	stun_set_pad(&w, 0x20);
	stun_add_software(&w, "test vector");
	stun_add_xor_addr(&w, STUN_ATTR_XOR_MAPPED_ADDRESS,
	    (struct sockaddr *)&a4);
	stun_add_integrity(&w, pw, strlen(rfc_pass));
	stun_add_fingerprint(&w);
	ck_assert_int_eq(stun_finish(&w), sizeof(rfc_resp4));
	ck_assert_mem_eq(buf, rfc_resp4, sizeof(rfc_resp4));

	stun_init(&w, buf, sizeof(buf), STUN_METHOD_BINDING,
	    STUN_CLASS_SUCCESS, rfc_tid);
	stun_set_pad(&w, 0x20);
	stun_add_software(&w, "test vector");
	stun_add_xor_addr(&w, STUN_ATTR_XOR_MAPPED_ADDRESS,
	    (struct sockaddr *)&a6);
	stun_add_integrity(&w, pw, strlen(rfc_pass));
	stun_add_fingerprint(&w);
	ck_assert_int_eq(stun_finish(&w), sizeof(rfc_resp6));
	ck_assert_mem_eq(buf, rfc_resp6, sizeof(rfc_resp6));

	/* 2.4 pads with zeros: the default */
	stun_longterm_key(rfc_lt_user, "example.org", "TheMatrIX", key);
	stun_init(&w, buf, sizeof(buf), STUN_METHOD_BINDING,
	    STUN_CLASS_REQUEST, rfc_lt_tid);
	stun_add_raw(&w, STUN_ATTR_USERNAME, rfc_lt_user, strlen(rfc_lt_user));
	stun_add_raw(&w, STUN_ATTR_NONCE, rfc_lt_nonce, strlen(rfc_lt_nonce));
	stun_add_raw(&w, STUN_ATTR_REALM, "example.org", 11);
	stun_add_integrity(&w, key, sizeof(key));
	ck_assert_int_eq(stun_finish(&w), sizeof(rfc_req_lt));
	ck_assert_mem_eq(buf, rfc_req_lt, sizeof(rfc_req_lt));
}
END_TEST

START_TEST(test_rfc5769_zero_pad)
{
	struct sockaddr_storage	a4 = mk4("192.0.2.1", 32853);
	struct stun_writer	w;
	struct stun_msg		m;
	uint8_t			buf[256];
	const uint8_t		*pw = (const uint8_t *)rfc_pass;
	int			n;

	stun_init(&w, buf, sizeof(buf), STUN_METHOD_BINDING,
	    STUN_CLASS_SUCCESS, rfc_tid);
	stun_add_software(&w, "test vector");
	stun_add_xor_addr(&w, STUN_ATTR_XOR_MAPPED_ADDRESS,
	    (struct sockaddr *)&a4);
	stun_add_integrity(&w, pw, strlen(rfc_pass));
	stun_add_fingerprint(&w);
	n = stun_finish(&w);
	ck_assert_int_eq(n, sizeof(rfc_resp4));
	/* identical up to the one padding byte after "test vector" */
	ck_assert_mem_eq(buf, rfc_resp4, 35);
	ck_assert_uint_eq(buf[35], 0x00);
	ck_assert_mem_eq(buf + 36, rfc_resp4 + 36, 12);
	ck_assert_mem_ne(buf + 52, rfc_resp4 + 52, 20);	/* so the HMAC differs */

	ck_assert_int_eq(stun_decode(buf, n, &m), STUN_OK);
	ck_assert_uint_eq(m.has, STUN_HAS_SOFTWARE | STUN_HAS_XOR_MAPPED |
	    STUN_HAS_INTEGRITY | STUN_HAS_FINGERPRINT);
	ck_str(m.software, m.software_len, "test vector");
	ck_addr(&m.xor_mapped, &a4);
	ck_assert_int_eq(stun_check_integrity(buf, n, &m, pw,
	    strlen(rfc_pass)), 1);
}
END_TEST

/* --- hostile input ---------------------------------------------------- */

START_TEST(test_short)
{
	struct stun_msg	m;
	uint8_t		b[STUN_HDR_LEN];

	ck_assert_int_eq(stun_decode(NULL, 0, &m), STUN_ERR_SHORT);
	ck_assert_int_eq(stun_decode(rfc_req, 0, &m), STUN_ERR_SHORT);
	hdr(b, 0);
	ck_assert_int_eq(stun_decode(b, sizeof(b), &m), STUN_OK);
	/* every prefix of a valid header, each in its own exact-size heap
	 * block so ASan sees a read one past it */
	for (size_t n = 1; n < STUN_HDR_LEN; n++) {
		uint8_t	*p = malloc(n);

		ck_assert_ptr_nonnull(p);
		memcpy(p, b, n);
		ck_assert_int_eq(stun_decode(p, n, &m), STUN_ERR_SHORT);
		ck_assert_int_eq(stun_is_stun(p, n), 0);
		free(p);
	}
	ck_assert_int_eq(stun_is_stun(NULL, 0), 0);
}
END_TEST

START_TEST(test_header)
{
	struct stun_msg	m;
	uint8_t		b[64];

	hdr(b, 0);
	b[0] = 0x80;		/* RTP-like */
	ck_assert_int_eq(stun_decode(b, 20, &m), STUN_ERR_NOT_STUN);
	ck_assert_int_eq(stun_is_stun(b, 20), 0);
	b[0] = 0x40;
	ck_assert_int_eq(stun_decode(b, 20, &m), STUN_ERR_NOT_STUN);
	b[0] = 0x04;		/* top bits clear but not 0..3: RFC 7983 */
	ck_assert_int_eq(stun_is_stun(b, 20), 0);

	hdr(b, 0);
	b[7] = 0x43;
	ck_assert_int_eq(stun_decode(b, 20, &m), STUN_ERR_COOKIE);
	ck_assert_int_eq(stun_is_stun(b, 20), 0);

	/* header length not a multiple of 4 */
	hdr(b, 2);
	memset(b + 20, 0, 2);
	ck_assert_int_eq(stun_decode(b, 22, &m), STUN_ERR_LENGTH);
	/* header length greater / smaller than the datagram */
	hdr(b, 8);
	memset(b + 20, 0, 12);
	ck_assert_int_eq(stun_decode(b, 24, &m), STUN_ERR_LENGTH);
	ck_assert_int_eq(stun_decode(b, 32, &m), STUN_ERR_LENGTH);
	ck_assert_int_eq(stun_decode(b, 20, &m), STUN_ERR_LENGTH);
	hdr(b, 0xFFFC);
	ck_assert_int_eq(stun_decode(b, 64, &m), STUN_ERR_LENGTH);

	/* class and method from the interleaved bits */
	hdr(b, 0);
	b[0] = 0x01; b[1] = 0x11;	/* Binding error response */
	ck_assert_int_eq(stun_decode(b, 20, &m), STUN_OK);
	ck_assert_uint_eq(m.method, STUN_METHOD_BINDING);
	ck_assert_uint_eq(m.cls, STUN_CLASS_ERROR);
	b[0] = 0x00; b[1] = 0x11;	/* Binding indication */
	ck_assert_int_eq(stun_decode(b, 20, &m), STUN_OK);
	ck_assert_uint_eq(m.cls, STUN_CLASS_INDICATION);
	b[0] = 0x3f; b[1] = 0xff;	/* all method bits, class 3 */
	ck_assert_int_eq(stun_decode(b, 20, &m), STUN_OK);
	ck_assert_uint_eq(m.method, 0xFFF);
	ck_assert_uint_eq(m.cls, STUN_CLASS_ERROR);
}
END_TEST

/* Decode a copy of b in a heap block of exactly len bytes, so ASan catches
 * any over-read. The copy is freed: m's pointers must not be used after. */
static int
decode_exact(const uint8_t *b, size_t len, struct stun_msg *m)
{
	uint8_t	*p = malloc(len ? len : 1);
	int	 r;

	ck_assert_ptr_nonnull(p);
	memcpy(p, b, len);
	r = stun_decode(p, len, m);
	free(p);
	return r;
}

START_TEST(test_attr_bounds)
{
	struct stun_msg	m;
	uint8_t		b[128];

	/* SOFTWARE claiming 5 bytes where 4 are left: past the end by 1
	 * (with its padding, by 4) */
	hdr(b, 8);
	put_attr(b + 20, STUN_ATTR_SOFTWARE, 5);
	memcpy(b + 24, "abcd", 4);
	ck_assert_int_eq(decode_exact(b, 28, &m), STUN_ERR_ATTR_TRUNC);
	/* exactly 4 fits */
	put_attr(b + 20, STUN_ATTR_SOFTWARE, 4);
	ck_assert_int_eq(decode_exact(b, 28, &m), STUN_OK);
	ck_assert_int_eq(stun_decode(b, 28, &m), STUN_OK);
	ck_str(m.software, m.software_len, "abcd");
	/* past the end by a lot */
	put_attr(b + 20, STUN_ATTR_SOFTWARE, 0xFFFF);
	ck_assert_int_eq(decode_exact(b, 28, &m), STUN_ERR_ATTR_TRUNC);
	put_attr(b + 20, 0x7FFF, 0xFFFC);
	ck_assert_int_eq(decode_exact(b, 28, &m), STUN_ERR_ATTR_TRUNC);
	/* the second attribute overruns, the first was fine */
	hdr(b, 16);
	put_attr(b + 20, STUN_ATTR_SOFTWARE, 4);
	memcpy(b + 24, "abcd", 4);
	put_attr(b + 28, STUN_ATTR_USERNAME, 8);
	memcpy(b + 32, "efgh", 4);
	ck_assert_int_eq(decode_exact(b, 36, &m), STUN_ERR_ATTR_TRUNC);

	/* An attribute header cut in the middle, or a value missing its
	 * padding, makes a body that is not a multiple of 4, which the header
	 * check refuses before the walker runs. */
	hdr(b, 2);
	put_attr(b + 20, STUN_ATTR_SOFTWARE, 0);
	ck_assert_int_eq(decode_exact(b, 22, &m), STUN_ERR_LENGTH);
	hdr(b, 9);			/* SOFTWARE of 5, unpadded */
	put_attr(b + 20, STUN_ATTR_SOFTWARE, 5);
	memcpy(b + 24, "abcde", 5);
	ck_assert_int_eq(decode_exact(b, 29, &m), STUN_ERR_LENGTH);
	hdr(b, 12);			/* header says padded, datagram not */
	ck_assert_int_eq(decode_exact(b, 29, &m), STUN_ERR_LENGTH);
	/* correctly padded: fine, and the padding is not part of the value */
	memset(b + 29, 0xEE, 3);
	ck_assert_int_eq(decode_exact(b, 32, &m), STUN_OK);
	ck_assert_int_eq(stun_decode(b, 32, &m), STUN_OK);
	ck_str(m.software, m.software_len, "abcde");
	/* zero-length attribute */
	hdr(b, 4);
	put_attr(b + 20, STUN_ATTR_SOFTWARE, 0);
	ck_assert_int_eq(decode_exact(b, 24, &m), STUN_OK);
	ck_assert_uint_eq(m.software_len, 0);
	ck_assert(m.has & STUN_HAS_SOFTWARE);
}
END_TEST

START_TEST(test_addr_bad)
{
	static const uint16_t	types[] = { STUN_ATTR_MAPPED_ADDRESS,
	    STUN_ATTR_XOR_MAPPED_ADDRESS, STUN_ATTR_RESPONSE_ORIGIN,
	    STUN_ATTR_OTHER_ADDRESS };
	struct stun_msg		m;
	uint8_t			b[64];

	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		/* family 0x03 */
		hdr(b, 12);
		put_attr(b + 20, types[t], 8);
		memset(b + 24, 0, 8);
		b[25] = 0x03;
		ck_assert_int_eq(decode_exact(b, 32, &m), STUN_ERR_ATTR_BAD);
		b[25] = 0x00;
		ck_assert_int_eq(decode_exact(b, 32, &m), STUN_ERR_ATTR_BAD);
		b[25] = 0x01;	/* the control: valid IPv4 */
		ck_assert_int_eq(decode_exact(b, 32, &m), STUN_OK);
		/* IPv4 with length 20 */
		hdr(b, 24);
		put_attr(b + 20, types[t], 20);
		memset(b + 24, 0, 20);
		b[25] = 0x01;
		ck_assert_int_eq(decode_exact(b, 44, &m), STUN_ERR_ATTR_BAD);
		b[25] = 0x02;	/* control: valid IPv6 */
		ck_assert_int_eq(decode_exact(b, 44, &m), STUN_OK);
		/* IPv6 with length 8, and lengths too short for any family */
		hdr(b, 12);
		put_attr(b + 20, types[t], 8);
		b[25] = 0x02;
		ck_assert_int_eq(decode_exact(b, 32, &m), STUN_ERR_ATTR_BAD);
		for (uint16_t l = 0; l < 8; l++) {
			hdr(b, 12);
			put_attr(b + 20, types[t], l);
			memset(b + 24, 0, 8);
			b[25] = 0x01;
			ck_assert_int_eq(decode_exact(b, 32, &m),
			    STUN_ERR_ATTR_BAD);
		}
	}
}
END_TEST

START_TEST(test_error_code)
{
	struct stun_msg	m;
	uint8_t		b[64];

	hdr(b, 16);
	put_attr(b + 20, STUN_ATTR_ERROR_CODE, 12);
	memcpy(b + 24, "\x00\x00\x04\x14" "Unknown!", 12);
	ck_assert_int_eq(decode_exact(b, 36, &m), STUN_OK);
	ck_assert_int_eq(stun_decode(b, 36, &m), STUN_OK);
	ck_assert_uint_eq(m.error_code, 420);
	ck_str(m.error_reason, m.error_reason_len, "Unknown!");

	b[26] = 0x09;		/* class 9 does not fit: read as 1 */
	ck_assert_int_eq(decode_exact(b, 36, &m), STUN_ERR_ATTR_BAD);
	b[26] = 0x07;
	ck_assert_int_eq(decode_exact(b, 36, &m), STUN_ERR_ATTR_BAD);
	b[26] = 0x02;
	ck_assert_int_eq(decode_exact(b, 36, &m), STUN_ERR_ATTR_BAD);
	b[26] = 0x06;
	b[27] = 99;
	ck_assert_int_eq(decode_exact(b, 36, &m), STUN_OK);
	ck_assert_uint_eq(m.error_code, 699);
	b[27] = 100;
	ck_assert_int_eq(decode_exact(b, 36, &m), STUN_ERR_ATTR_BAD);
	b[26] = 0x03;
	b[27] = 0;
	ck_assert_int_eq(decode_exact(b, 36, &m), STUN_OK);
	ck_assert_uint_eq(m.error_code, 300);
	/* too short for the class/number word */
	hdr(b, 8);
	put_attr(b + 20, STUN_ATTR_ERROR_CODE, 3);
	ck_assert_int_eq(decode_exact(b, 28, &m), STUN_ERR_ATTR_BAD);
}
END_TEST

START_TEST(test_fixed_sizes)
{
	struct stun_msg	m;
	uint8_t		b[64];

	/* CHANGE-REQUEST, RESPONSE-PORT: exactly 4 */
	hdr(b, 12);
	put_attr(b + 20, STUN_ATTR_CHANGE_REQUEST, 8);
	memset(b + 24, 0, 8);
	ck_assert_int_eq(decode_exact(b, 32, &m), STUN_ERR_ATTR_BAD);
	put_attr(b + 20, STUN_ATTR_RESPONSE_PORT, 2);
	ck_assert_int_eq(decode_exact(b, 32, &m), STUN_ERR_ATTR_BAD);
	/* MESSAGE-INTEGRITY: exactly 20 */
	hdr(b, 20);
	put_attr(b + 20, STUN_ATTR_MESSAGE_INTEGRITY, 16);
	memset(b + 24, 0, 16);
	ck_assert_int_eq(decode_exact(b, 40, &m), STUN_ERR_ATTR_BAD);
	/* MESSAGE-INTEGRITY-SHA256: 16..32, whole words */
	put_attr(b + 20, STUN_ATTR_MESSAGE_INTEGRITY_SHA256, 16);
	ck_assert_int_eq(decode_exact(b, 40, &m), STUN_OK);
	ck_assert(m.has & STUN_HAS_INTEGRITY_SHA256);
	put_attr(b + 20, STUN_ATTR_MESSAGE_INTEGRITY_SHA256, 14);
	ck_assert_int_eq(decode_exact(b, 40, &m), STUN_ERR_ATTR_BAD);
	put_attr(b + 20, STUN_ATTR_MESSAGE_INTEGRITY_SHA256, 12);
	ck_assert_int_eq(decode_exact(b, 40, &m), STUN_ERR_ATTR_BAD);
	/* UNKNOWN-ATTRIBUTES: a list of 16-bit values */
	hdr(b, 8);
	put_attr(b + 20, STUN_ATTR_UNKNOWN_ATTRIBUTES, 3);
	memset(b + 24, 0, 4);
	ck_assert_int_eq(decode_exact(b, 28, &m), STUN_ERR_ATTR_BAD);
}
END_TEST

/* a message ending in FINGERPRINT, built by hand */
static size_t
with_fp(uint8_t *b, size_t body)
{
	size_t	off = 20 + body;
	uint32_t crc;

	hdr(b, body + 8);
	put_attr(b + off, STUN_ATTR_FINGERPRINT, 4);
	crc = stun_fingerprint(b, off);
	b[off + 4] = crc >> 24;
	b[off + 5] = (crc >> 16) & 0xFF;
	b[off + 6] = (crc >> 8) & 0xFF;
	b[off + 7] = crc & 0xFF;
	return off + 8;
}

START_TEST(test_fingerprint)
{
	struct stun_msg	m;
	uint8_t		b[64];
	size_t		n;

	put_attr(b + 20, STUN_ATTR_SOFTWARE, 4);
	memcpy(b + 24, "abcd", 4);
	n = with_fp(b, 8);
	ck_assert_int_eq(decode_exact(b, n, &m), STUN_OK);
	ck_assert(m.has & STUN_HAS_FINGERPRINT);

	b[n - 1] ^= 1;		/* wrong CRC */
	ck_assert_int_eq(decode_exact(b, n, &m), STUN_ERR_FINGERPRINT);
	b[n - 1] ^= 1;
	b[24] ^= 1;		/* covered byte changed */
	ck_assert_int_eq(decode_exact(b, n, &m), STUN_ERR_FINGERPRINT);
	b[24] ^= 1;

	/* FINGERPRINT not last: a CRC that is right for the header as sent
	 * (length 16), followed by SOFTWARE. Only the position is wrong. */
	{
		uint32_t crc;

		hdr(b, 16);
		crc = stun_fingerprint(b, 20);
		put_attr(b + 20, STUN_ATTR_FINGERPRINT, 4);
		b[24] = crc >> 24;
		b[25] = (crc >> 16) & 0xFF;
		b[26] = (crc >> 8) & 0xFF;
		b[27] = crc & 0xFF;
		put_attr(b + 28, STUN_ATTR_SOFTWARE, 4);
		memcpy(b + 32, "abcd", 4);
		ck_assert_int_eq(decode_exact(b, 36, &m), STUN_ERR_FINGERPRINT);
		/* two FINGERPRINTs, the first right for the length sent */
		memcpy(b + 28, b + 20, 8);
		ck_assert_int_eq(decode_exact(b, 36, &m), STUN_ERR_FINGERPRINT);
		/* the control: with the first one alone it passes */
		hdr(b, 8);
		crc = stun_fingerprint(b, 20);
		b[24] = crc >> 24;
		b[25] = (crc >> 16) & 0xFF;
		b[26] = (crc >> 8) & 0xFF;
		b[27] = crc & 0xFF;
		ck_assert_int_eq(decode_exact(b, 28, &m), STUN_OK);
	}

	/* wrong length */
	hdr(b, 12);
	put_attr(b + 20, STUN_ATTR_FINGERPRINT, 8);
	memset(b + 24, 0, 8);
	ck_assert_int_eq(decode_exact(b, 32, &m), STUN_ERR_ATTR_BAD);
}
END_TEST

START_TEST(test_after_integrity)
{
	struct stun_msg	m;
	uint8_t		b[128];
	size_t		n;

	/* MI, then SOFTWARE */
	hdr(b, 32);
	put_attr(b + 20, STUN_ATTR_MESSAGE_INTEGRITY, 20);
	memset(b + 24, 0x11, 20);
	put_attr(b + 44, STUN_ATTR_SOFTWARE, 4);
	memcpy(b + 48, "abcd", 4);
	ck_assert_int_eq(decode_exact(b, 52, &m), STUN_ERR_AFTER_INTEGRITY);
	/* MI, then an unknown optional one: same */
	put_attr(b + 44, 0x8123, 4);
	ck_assert_int_eq(decode_exact(b, 52, &m), STUN_ERR_AFTER_INTEGRITY);
	/* MI twice */
	hdr(b, 48);
	memcpy(b + 44, b + 20, 24);
	ck_assert_int_eq(decode_exact(b, 68, &m), STUN_ERR_AFTER_INTEGRITY);
	/* MI, MI-SHA256, FINGERPRINT: allowed (RFC 8489 14.5, 14.6) */
	put_attr(b + 44, STUN_ATTR_MESSAGE_INTEGRITY_SHA256, 20);
	n = with_fp(b, 48);
	ck_assert_int_eq(decode_exact(b, n, &m), STUN_OK);
	ck_assert_uint_eq(m.has, STUN_HAS_INTEGRITY |
	    STUN_HAS_INTEGRITY_SHA256 | STUN_HAS_FINGERPRINT);
	ck_assert_uint_eq(m.integrity_off, 20);
	/* MI-SHA256 then MI: refused */
	put_attr(b + 20, STUN_ATTR_MESSAGE_INTEGRITY_SHA256, 20);
	put_attr(b + 44, STUN_ATTR_MESSAGE_INTEGRITY, 20);
	n = with_fp(b, 48);
	ck_assert_int_eq(decode_exact(b, n, &m), STUN_ERR_AFTER_INTEGRITY);
}
END_TEST

START_TEST(test_unknown)
{
	struct stun_msg	m;
	uint8_t		b[256];
	size_t		off;

	/* 16 distinct comprehension-required unknowns (plus repeats and
	 * optional ones) are listed; a 17th is flagged, not listed */
	off = 20;
	for (uint16_t i = 0; i < 16; i++) {
		put_attr(b + off, 0x7000 + i, 0);
		off += 4;
		put_attr(b + off, 0x7000, 0);	/* repeat: counted once */
		off += 4;
		put_attr(b + off, 0xC000 + i, 0);	/* optional: ignored */
		off += 4;
	}
	hdr(b, off - 20);
	ck_assert_int_eq(decode_exact(b, off, &m), STUN_OK);
	ck_assert_uint_eq(m.n_unknown_required, 16);
	for (uint16_t i = 0; i < 16; i++)
		ck_assert_uint_eq(m.unknown_required[i], 0x7000 + i);
	put_attr(b + off, 0x7777, 0);
	off += 4;
	hdr(b, off - 20);
	ck_assert(!(m.has & STUN_HAS_UNKNOWN_OVERFLOW));
	ck_assert_int_eq(decode_exact(b, off, &m), STUN_OK);
	ck_assert_uint_eq(m.n_unknown_required, 16);
	ck_assert_uint_eq(m.unknown_required[15], 0x700F);
	ck_assert(m.has & STUN_HAS_UNKNOWN_OVERFLOW);

	/* UNKNOWN-ATTRIBUTES longer than we track: the first 16 kept */
	hdr(b, 4 + 40);
	put_attr(b + 20, STUN_ATTR_UNKNOWN_ATTRIBUTES, 40);
	for (int i = 0; i < 20; i++) {
		b[24 + 2 * i] = 0x00;
		b[25 + 2 * i] = (uint8_t)(0x30 + i);
	}
	ck_assert_int_eq(decode_exact(b, 64, &m), STUN_OK);
	ck_assert_uint_eq(m.n_unknown_attrs, STUN_MAX_UNKNOWN);
	ck_assert_uint_eq(m.unknown_attrs[0], 0x30);
	ck_assert_uint_eq(m.unknown_attrs[15], 0x3F);
}
END_TEST

/* Every field of a successful decode points inside the datagram. */
static void
ck_inside(const uint8_t *b, size_t len, const struct stun_msg *m)
{
	const char	*s = (const char *)b, *e = (const char *)b + len;

#define INSIDE(flag, p, l) do {						\
	if (m->has & (flag)) {						\
		ck_assert(m->p >= s + 24 && m->p <= e);			\
		ck_assert_uint_le(m->l, (size_t)(e - m->p));		\
	}								\
} while (0)
	INSIDE(STUN_HAS_SOFTWARE, software, software_len);
	INSIDE(STUN_HAS_USERNAME, username, username_len);
	INSIDE(STUN_HAS_REALM, realm, realm_len);
	INSIDE(STUN_HAS_NONCE, nonce, nonce_len);
	INSIDE(STUN_HAS_ERROR, error_reason, error_reason_len);
#undef INSIDE
	if (m->has & STUN_HAS_INTEGRITY)
		ck_assert_uint_le(m->integrity_off + 24, len);
	if (m->has & STUN_HAS_ERROR)
		ck_assert(m->error_code >= 300 && m->error_code <= 699);
	ck_assert_uint_le(m->n_unknown_required, STUN_MAX_UNKNOWN);
	ck_assert_uint_le(m->n_unknown_attrs, STUN_MAX_UNKNOWN);
	ck_assert_uint_eq(m->length, len - 20);
}

START_TEST(test_big)
{
	struct stun_msg	m;
	size_t		len = 65536;
	uint8_t		*b = malloc(20 + 0xFFFF);

	ck_assert_ptr_nonnull(b);
	/* 64 KiB of zeros: type 0 and length 0 look fine, the cookie not */
	memset(b, 0, len);
	ck_assert_int_eq(stun_decode(b, len, &m), STUN_ERR_COOKIE);
	/* the same with a valid header of length 65516: 16379 empty
	 * attributes of type 0, one unknown comprehension-required type */
	hdr(b, len - 20);
	ck_assert_int_eq(stun_decode(b, len, &m), STUN_OK);
	ck_assert_uint_eq(m.n_unknown_required, 1);
	ck_assert_uint_eq(m.unknown_required[0], 0);
	ck_inside(b, len, &m);
	/* the largest header length there is */
	memset(b, 0, 20 + 0xFFFC);
	hdr(b, 0xFFFC);
	ck_assert_int_eq(stun_decode(b, 20 + 0xFFFC, &m), STUN_OK);
	ck_assert_int_eq(stun_decode(b, 20 + 0xFFFF, &m), STUN_ERR_LENGTH);
	/* one attribute spanning all of it */
	put_attr(b + 20, STUN_ATTR_PADDING, 0xFFF8);
	ck_assert_int_eq(stun_decode(b, 20 + 0xFFFC, &m), STUN_OK);
	ck_assert_uint_eq(m.padding_len, 0xFFF8);
	put_attr(b + 20, STUN_ATTR_PADDING, 0xFFF9);
	ck_assert_int_eq(stun_decode(b, 20 + 0xFFFC, &m), STUN_ERR_ATTR_TRUNC);

	/* 64 KiB of random bytes, raw and under a valid header */
	for (int round = 0; round < 8; round++) {
		int r;

		for (size_t i = 0; i < len; i++)
			b[i] = (uint8_t)rng();
		r = stun_decode(b, len, &m);
		ck_assert(r <= 0 && r >= STUN_ERR_NOSPACE);
		hdr(b, len - 20);
		r = stun_decode(b, len, &m);
		ck_assert(r <= 0 && r >= STUN_ERR_NOSPACE);
		if (r == STUN_OK)
			ck_inside(b, len, &m);
	}
	free(b);
}
END_TEST

/*
 * Random attribute soup under a valid header: types drawn mostly from the
 * ones the decoder has a case for, lengths mostly plausible, values random,
 * sometimes a FINGERPRINT that is right. Nothing may crash or over-read
 * (the buffer is an exact-size heap block for ASan), every result is one of
 * ours, every success keeps its pointers inside.
 */
START_TEST(test_random_walk)
{
	static const uint16_t	types[] = { STUN_ATTR_MAPPED_ADDRESS,
	    STUN_ATTR_XOR_MAPPED_ADDRESS, STUN_ATTR_RESPONSE_ORIGIN,
	    STUN_ATTR_OTHER_ADDRESS, STUN_ATTR_SOFTWARE, STUN_ATTR_USERNAME,
	    STUN_ATTR_REALM, STUN_ATTR_NONCE, STUN_ATTR_ERROR_CODE,
	    STUN_ATTR_UNKNOWN_ATTRIBUTES, STUN_ATTR_CHANGE_REQUEST,
	    STUN_ATTR_RESPONSE_PORT, STUN_ATTR_PADDING,
	    STUN_ATTR_MESSAGE_INTEGRITY, STUN_ATTR_MESSAGE_INTEGRITY_SHA256,
	    STUN_ATTR_FINGERPRINT, 0x0024, 0x8029, 0x7F00 };
	static const uint16_t	lens[] = { 0, 3, 4, 8, 12, 16, 20, 24, 32 };
	uint8_t			b[1024];
	size_t			ok = 0, counts[11] = { 0 };

	for (int iter = 0; iter < 5000; iter++) {
		struct stun_msg	 m;
		size_t		 off = 20, max = 20 + 4 * (rng() % 200);
		uint8_t		*p;
		int		 r;

		while (off + 4 <= max) {
			uint16_t type = rng() % 8 == 0 ? (uint16_t)rng() :
			    types[rng() % (sizeof(types) / sizeof(types[0]))];
			uint16_t alen = rng() % 8 == 0 ? (uint16_t)(rng() % 64) :
			    lens[rng() % (sizeof(lens) / sizeof(lens[0]))];
			size_t	 room = max - off - 4;

			if (rng() % 16 == 0)
				alen = (uint16_t)rng();	/* wild */
			put_attr(b + off, type, alen);
			for (size_t i = 0; i < (alen + 3u) / 4 * 4 &&
			    i < room; i++)
				b[off + 4 + i] = (uint8_t)rng();
			if (type == STUN_ATTR_ERROR_CODE && alen >= 4 &&
			    room >= 4 && rng() % 2) {
				b[off + 6] = 3 + rng() % 4;
				b[off + 7] = rng() % 100;
			}
			if ((type == STUN_ATTR_MAPPED_ADDRESS ||
			    type == STUN_ATTR_XOR_MAPPED_ADDRESS) &&
			    room >= 2 && rng() % 2)
				b[off + 5] = alen == 20 ? 2 : 1;
			off += 4 + (alen + 3u) / 4 * 4;
			if (off > max)
				break;
		}
		if (off > max)
			off = max;	/* the last attribute overruns */
		if (rng() % 4 == 0 && off + 8 <= sizeof(b)) {
			hdr(b, off - 20);
			off = with_fp(b, off - 20);
		}
		hdr(b, off - 20);
		if (rng() % 32 == 0)
			b[3] ^= 4;	/* header length off by a word */
		p = malloc(off);
		ck_assert_ptr_nonnull(p);
		memcpy(p, b, off);
		r = stun_decode(p, off, &m);
		ck_assert(r <= 0 && r >= STUN_ERR_AFTER_INTEGRITY);
		counts[-r]++;
		if (r == STUN_OK) {
			ok++;
			ck_inside(p, off, &m);
			/* must not read outside either, valid or not */
			(void)stun_check_integrity(p, off, &m,
			    (const uint8_t *)"k", 1);
		}
		free(p);
	}
	/* the generator reaches both sides of the walker */
	ck_assert_uint_gt(ok, 50);
	ck_assert_uint_gt(counts[-STUN_ERR_ATTR_TRUNC], 50);
	ck_assert_uint_gt(counts[-STUN_ERR_ATTR_BAD], 50);
}
END_TEST

START_TEST(test_check_integrity_guards)
{
	struct stun_msg	m;

	/* absent */
	ck_assert_int_eq(stun_decode(rfc_resp4, sizeof(rfc_resp4), &m),
	    STUN_OK);
	m.has &= ~STUN_HAS_INTEGRITY;
	ck_assert_int_eq(stun_check_integrity(rfc_resp4, sizeof(rfc_resp4),
	    &m, (const uint8_t *)rfc_pass, strlen(rfc_pass)), 0);
	/* m from a longer message than the buffer passed: refused, and no
	 * read past the shorter length */
	ck_assert_int_eq(stun_decode(rfc_req, sizeof(rfc_req), &m), STUN_OK);
	ck_assert_int_eq(stun_check_integrity(rfc_resp4, 60, &m,
	    (const uint8_t *)rfc_pass, strlen(rfc_pass)), 0);
	m.integrity_off = 4;
	ck_assert_int_eq(stun_check_integrity(rfc_req, sizeof(rfc_req), &m,
	    (const uint8_t *)rfc_pass, strlen(rfc_pass)), 0);
}
END_TEST

/* --- writer ----------------------------------------------------------- */

static const uint16_t unk_list[] = { 0x0024, 0x7001, 0x0003 };

/* one message with every attribute the writer has a function for */
static void
build_all(struct stun_writer *w, uint8_t *buf, size_t cap)
{
	struct sockaddr_storage	x4 = mk4("203.0.113.9", 65535);
	struct sockaddr_storage	m6 = mk6("2001:db8::1", 443);
	struct sockaddr_storage	o4 = mk4("198.51.100.7", 3479);
	struct sockaddr_storage	t6 = mk6("fe80::1:2:3:4", 1);

	stun_init(w, buf, cap, STUN_METHOD_BINDING, STUN_CLASS_ERROR,
	    rfc_tid);
	stun_add_xor_addr(w, STUN_ATTR_XOR_MAPPED_ADDRESS,
	    (struct sockaddr *)&x4);
	stun_add_addr(w, STUN_ATTR_MAPPED_ADDRESS, (struct sockaddr *)&m6);
	stun_add_addr(w, STUN_ATTR_RESPONSE_ORIGIN, (struct sockaddr *)&o4);
	stun_add_addr(w, STUN_ATTR_OTHER_ADDRESS, (struct sockaddr *)&t6);
	stun_add_software(w, "atmosphere 0.1");
	stun_add_raw(w, STUN_ATTR_USERNAME, "alice", 5);
	stun_add_raw(w, STUN_ATTR_REALM, "mesh.example", 12);
	stun_add_raw(w, STUN_ATTR_NONCE, "n0nce", 5);
	stun_add_error(w, 420, "Unknown Attribute");
	stun_add_unknown(w, unk_list, 3);
	stun_add_change_request(w, STUN_CHANGE_IP | STUN_CHANGE_PORT);
	stun_add_response_port(w, 54321);
	stun_add_padding(w, 7);
	stun_add_integrity(w, (const uint8_t *)"secret", 6);
	stun_add_fingerprint(w);
}

START_TEST(test_writer_roundtrip)
{
	struct sockaddr_storage	x4 = mk4("203.0.113.9", 65535);
	struct sockaddr_storage	m6 = mk6("2001:db8::1", 443);
	struct sockaddr_storage	o4 = mk4("198.51.100.7", 3479);
	struct sockaddr_storage	t6 = mk6("fe80::1:2:3:4", 1);
	struct stun_writer	w;
	struct stun_msg		m;
	uint8_t			buf[512];
	int			n;

	build_all(&w, buf, sizeof(buf));
	n = stun_finish(&w);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(n % 4, 0);
	ck_assert_int_eq(stun_decode(buf, n, &m), STUN_OK);
	ck_assert_uint_eq(m.method, STUN_METHOD_BINDING);
	ck_assert_uint_eq(m.cls, STUN_CLASS_ERROR);
	ck_assert_mem_eq(m.tid, rfc_tid, STUN_TID_LEN);
	ck_assert_uint_eq(m.has, STUN_HAS_XOR_MAPPED | STUN_HAS_MAPPED |
	    STUN_HAS_RESPONSE_ORIGIN | STUN_HAS_OTHER_ADDRESS |
	    STUN_HAS_SOFTWARE | STUN_HAS_USERNAME | STUN_HAS_REALM |
	    STUN_HAS_NONCE | STUN_HAS_ERROR | STUN_HAS_UNKNOWN_ATTRS |
	    STUN_HAS_CHANGE_REQUEST | STUN_HAS_RESPONSE_PORT |
	    STUN_HAS_PADDING | STUN_HAS_INTEGRITY | STUN_HAS_FINGERPRINT);
	ck_addr(&m.xor_mapped, &x4);
	ck_addr(&m.mapped, &m6);
	ck_addr(&m.response_origin, &o4);
	ck_addr(&m.other_address, &t6);
	ck_str(m.software, m.software_len, "atmosphere 0.1");
	ck_str(m.username, m.username_len, "alice");
	ck_str(m.realm, m.realm_len, "mesh.example");
	ck_str(m.nonce, m.nonce_len, "n0nce");
	ck_assert_uint_eq(m.error_code, 420);
	ck_str(m.error_reason, m.error_reason_len, "Unknown Attribute");
	ck_assert_uint_eq(m.n_unknown_attrs, 3);
	ck_assert_mem_eq(m.unknown_attrs, unk_list, sizeof(unk_list));
	ck_assert_uint_eq(m.change_request, STUN_CHANGE_IP | STUN_CHANGE_PORT);
	ck_assert_uint_eq(m.response_port, 54321);
	ck_assert_uint_eq(m.padding_len, 7);
	ck_assert_uint_eq(m.n_unknown_required, 0);
	ck_assert_int_eq(stun_check_integrity(buf, n, &m,
	    (const uint8_t *)"secret", 6), 1);
	ck_assert_int_eq(stun_check_integrity(buf, n, &m,
	    (const uint8_t *)"Secret", 6), 0);
	/* the addresses are XORed on the wire only where asked */
	ck_assert_uint_eq(buf[20], 0x00);
	ck_assert_uint_eq(buf[21], 0x20);
	ck_assert_uint_eq(buf[26], 0xFF ^ 0x21);
	ck_assert_uint_eq(buf[27], 0xFF ^ 0x12);
	ck_assert_uint_eq(buf[28], 203 ^ 0x21);
}
END_TEST

START_TEST(test_writer_xor6_and_mapped4)
{
	struct sockaddr_storage	x6 = mk6("2001:db8:aaaa::ffff", 3478);
	struct sockaddr_storage	v4m = mk6("::ffff:192.0.2.33", 40000);
	struct sockaddr_storage	want4 = mk4("192.0.2.33", 40000);
	struct stun_writer	w;
	struct stun_msg		m;
	uint8_t			buf[128], tid[STUN_TID_LEN];
	int			n;

	stun_new_tid(tid);
	stun_init(&w, buf, sizeof(buf), STUN_METHOD_BINDING,
	    STUN_CLASS_SUCCESS, tid);
	stun_add_xor_addr(&w, STUN_ATTR_XOR_MAPPED_ADDRESS,
	    (struct sockaddr *)&x6);
	stun_add_addr(&w, STUN_ATTR_MAPPED_ADDRESS, (struct sockaddr *)&v4m);
	n = stun_finish(&w);
	ck_assert_int_eq(n, 20 + 24 + 12);
	ck_assert_int_eq(stun_decode(buf, n, &m), STUN_OK);
	ck_addr(&m.xor_mapped, &x6);
	/* IPv4-mapped IPv6 goes out as IPv4 */
	ck_addr(&m.mapped, &want4);
	ck_assert_uint_eq(m.has, STUN_HAS_XOR_MAPPED | STUN_HAS_MAPPED);
	ck_assert_uint_eq(m.n_unknown_required, 0);
}
END_TEST

START_TEST(test_writer_change_port)
{
	static const uint8_t	want[] = {
		0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x00, 0x04,	/* change IP */
		0x00, 0x27, 0x00, 0x04, 0xd4, 0x31, 0x00, 0x00,	/* port 54321 */
	};
	struct stun_writer	w;
	struct stun_msg		m;
	uint8_t			buf[64];
	int			n;

	stun_init(&w, buf, sizeof(buf), STUN_METHOD_BINDING,
	    STUN_CLASS_REQUEST, rfc_tid);
	stun_set_pad(&w, 0xAA);		/* must not leak into RESPONSE-PORT */
	stun_add_change_request(&w, STUN_CHANGE_IP);
	stun_add_response_port(&w, 54321);
	n = stun_finish(&w);
	ck_assert_int_eq(n, 20 + sizeof(want));
	ck_assert_uint_eq(buf[0], 0x00);
	ck_assert_uint_eq(buf[1], 0x01);
	ck_assert_uint_eq(buf[2], 0x00);
	ck_assert_uint_eq(buf[3], sizeof(want));
	ck_assert_mem_eq(buf + 20, want, sizeof(want));
	ck_assert_int_eq(stun_decode(buf, n, &m), STUN_OK);
	ck_assert_uint_eq(m.has, STUN_HAS_CHANGE_REQUEST |
	    STUN_HAS_RESPONSE_PORT);
	ck_assert_uint_eq(m.change_request, STUN_CHANGE_IP);
	ck_assert_uint_eq(m.response_port, 54321);

	stun_init(&w, buf, sizeof(buf), STUN_METHOD_BINDING,
	    STUN_CLASS_REQUEST, rfc_tid);
	stun_add_change_request(&w, STUN_CHANGE_PORT);
	stun_add_fingerprint(&w);
	n = stun_finish(&w);
	ck_assert_int_eq(stun_decode(buf, n, &m), STUN_OK);
	ck_assert_uint_eq(m.change_request, STUN_CHANGE_PORT);
	ck_assert(m.has & STUN_HAS_FINGERPRINT);
}
END_TEST

START_TEST(test_writer_types)
{
	struct stun_writer	w;
	struct stun_msg		m;
	uint8_t			buf[32];

	for (uint16_t method = 0; method <= 0xFFF; method += 0x111)
		for (uint8_t cls = 0; cls < 4; cls++) {
			stun_init(&w, buf, sizeof(buf), method, cls, rfc_tid);
			ck_assert_int_eq(stun_finish(&w), 20);
			ck_assert_int_eq(stun_decode(buf, 20, &m), STUN_OK);
			ck_assert_uint_eq(m.method, method);
			ck_assert_uint_eq(m.cls, cls);
		}
	/* the RFC's examples: Binding success 0x0101, error 0x0111 */
	stun_init(&w, buf, sizeof(buf), STUN_METHOD_BINDING,
	    STUN_CLASS_SUCCESS, rfc_tid);
	ck_assert_uint_eq(buf[0] << 8 | buf[1], 0x0101);
	stun_init(&w, buf, sizeof(buf), STUN_METHOD_BINDING,
	    STUN_CLASS_ERROR, rfc_tid);
	ck_assert_uint_eq(buf[0] << 8 | buf[1], 0x0111);
	stun_init(&w, buf, sizeof(buf), 0x1000, 0, rfc_tid);
	ck_assert_int_eq(stun_finish(&w), STUN_ERR_ATTR_BAD);
}
END_TEST

START_TEST(test_writer_bad_args)
{
	struct sockaddr_un	sun;
	struct stun_writer	w;
	uint8_t			buf[64];

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	stun_init(&w, buf, sizeof(buf), 1, 0, rfc_tid);
	stun_add_addr(&w, STUN_ATTR_MAPPED_ADDRESS, (struct sockaddr *)&sun);
	ck_assert_int_eq(stun_finish(&w), STUN_ERR_ATTR_BAD);
	stun_init(&w, buf, sizeof(buf), 1, 0, rfc_tid);
	stun_add_xor_addr(&w, STUN_ATTR_XOR_MAPPED_ADDRESS, NULL);
	ck_assert_int_eq(stun_finish(&w), STUN_ERR_ATTR_BAD);
	stun_init(&w, buf, sizeof(buf), 1, 0, rfc_tid);
	stun_add_error(&w, 299, "x");
	ck_assert_int_eq(stun_finish(&w), STUN_ERR_ATTR_BAD);
	stun_init(&w, buf, sizeof(buf), 1, 0, rfc_tid);
	stun_add_error(&w, 700, "x");
	ck_assert_int_eq(stun_finish(&w), STUN_ERR_ATTR_BAD);
	/* the first error sticks: later good calls are no-ops */
	stun_add_software(&w, "x");
	ck_assert_int_eq(stun_finish(&w), STUN_ERR_ATTR_BAD);
	ck_assert_uint_eq(w.len, 20);
}
END_TEST

/*
 * Every capacity from 0 to one short of the full message must fail with
 * NOSPACE without touching a byte at or past cap; the full size must give
 * the same bytes as an unconstrained build.
 */
START_TEST(test_writer_nospace)
{
	struct stun_writer	w;
	uint8_t			ref[512], buf[512 + 64];
	int			full;

	build_all(&w, ref, sizeof(ref));
	full = stun_finish(&w);
	ck_assert_int_gt(full, 200);
	for (int cap = 0; cap <= full; cap++) {
		int	r;

		memset(buf, 0xA5, sizeof(buf));
		build_all(&w, buf, cap);
		r = stun_finish(&w);
		for (size_t i = cap; i < sizeof(buf); i++)
			ck_assert_msg(buf[i] == 0xA5,
			    "cap %d: byte %zu written", cap, i);
		if (cap < full) {
			ck_assert_int_eq(r, STUN_ERR_NOSPACE);
			ck_assert_uint_le(w.len, (size_t)cap);
		} else {
			ck_assert_int_eq(r, full);
			ck_assert_mem_eq(buf, ref, full);
		}
	}
	/* an attribute too large for any STUN message */
	{
		static uint8_t	big[0x10000];

		stun_init(&w, buf, sizeof(buf), 1, 0, rfc_tid);
		stun_add_raw(&w, STUN_ATTR_SOFTWARE, big, sizeof(big));
		ck_assert_int_eq(stun_finish(&w), STUN_ERR_ATTR_BAD);
	}
	/* and many that add up past the 16-bit header length */
	{
		static uint8_t	hugebuf[0x20000];
		static uint8_t	chunk[1000];

		stun_init(&w, hugebuf, sizeof(hugebuf), 1, 0, rfc_tid);
		for (int i = 0; i < 70; i++)
			stun_add_raw(&w, STUN_ATTR_PADDING, chunk,
			    sizeof(chunk));
		ck_assert_int_eq(stun_finish(&w), STUN_ERR_NOSPACE);
		ck_assert_uint_le(w.len, 20 + 0xFFFC);
	}
}
END_TEST

START_TEST(test_misc)
{
	static const int	errs[] = { STUN_OK, STUN_ERR_SHORT,
	    STUN_ERR_NOT_STUN, STUN_ERR_COOKIE, STUN_ERR_LENGTH,
	    STUN_ERR_ATTR_TRUNC, STUN_ERR_ATTR_BAD, STUN_ERR_FINGERPRINT,
	    STUN_ERR_AFTER_INTEGRITY, STUN_ERR_NOSPACE };
	const char		*fallback = stun_strerror(-1000);
	uint8_t			t1[STUN_TID_LEN], t2[STUN_TID_LEN];

	ck_assert_ptr_nonnull(fallback);
	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		const char *s = stun_strerror(errs[i]);

		ck_assert_ptr_nonnull(s);
		ck_assert_str_ne(s, fallback);
		for (size_t j = 0; j < i; j++)
			ck_assert_str_ne(s, stun_strerror(errs[j]));
	}
	stun_new_tid(t1);
	stun_new_tid(t2);
	ck_assert_mem_ne(t1, t2, STUN_TID_LEN);
}
END_TEST

Suite *
stun_suite(void)
{
	Suite	*s = suite_create("stun");
	TCase	*tc;

	tc = tcase_create("rfc5769");
	tcase_add_test(tc, test_crc32);
	tcase_add_test(tc, test_rfc5769_request);
	tcase_add_test(tc, test_rfc5769_response4);
	tcase_add_test(tc, test_rfc5769_response6);
	tcase_add_test(tc, test_rfc5769_longterm);
	tcase_add_test(tc, test_rfc5769_reencode);
	tcase_add_test(tc, test_rfc5769_zero_pad);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile");
	tcase_set_timeout(tc, 60);	/* ASan makes the 64 KiB loops slow */
	tcase_add_test(tc, test_short);
	tcase_add_test(tc, test_header);
	tcase_add_test(tc, test_attr_bounds);
	tcase_add_test(tc, test_addr_bad);
	tcase_add_test(tc, test_error_code);
	tcase_add_test(tc, test_fixed_sizes);
	tcase_add_test(tc, test_fingerprint);
	tcase_add_test(tc, test_after_integrity);
	tcase_add_test(tc, test_unknown);
	tcase_add_test(tc, test_big);
	tcase_add_test(tc, test_random_walk);
	tcase_add_test(tc, test_check_integrity_guards);
	suite_add_tcase(s, tc);

	tc = tcase_create("writer");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_writer_roundtrip);
	tcase_add_test(tc, test_writer_xor6_and_mapped4);
	tcase_add_test(tc, test_writer_change_port);
	tcase_add_test(tc, test_writer_types);
	tcase_add_test(tc, test_writer_bad_args);
	tcase_add_test(tc, test_writer_nospace);
	tcase_add_test(tc, test_misc);
	suite_add_tcase(s, tc);
	return s;
}
