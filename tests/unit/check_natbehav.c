/*
 * stund logic that needs no sockets: NAT classification and the STUN
 * server's answer to one request.
 */
#include <string.h>

#include "common/netaddr.h"
#include "proto/stun.h"
#include "stund/natbehav.h"
#include "stund/server.h"
#include "suites.h"

static struct nat_result
classify(int behind, int mapping, int filtering)
{
	struct nat_result r;

	memset(&r, 0, sizeof(r));
	r.behind_nat = behind;
	r.mapping = mapping;
	r.filtering = filtering;
	natbehav_classify(&r);
	return r;
}

START_TEST(test_classic_names)
{
	ck_assert_str_eq(classify(0, NAT_EI, NAT_EI).classic, "open internet");
	ck_assert_str_eq(classify(0, NAT_EI, NAT_APD).classic, "open internet");
	ck_assert_ptr_nonnull(strstr(classify(0, NAT_EI, NAT_APD).explanation,
	    "firewall"));
	ck_assert_str_eq(classify(1, NAT_EI, NAT_EI).classic, "full cone");
	ck_assert_str_eq(classify(1, NAT_EI, NAT_AD).classic, "restricted cone");
	ck_assert_str_eq(classify(1, NAT_EI, NAT_APD).classic,
	    "port-restricted cone");
	ck_assert_str_eq(classify(1, NAT_AD, NAT_APD).classic, "symmetric");
	ck_assert_str_eq(classify(1, NAT_APD, NAT_EI).classic, "symmetric");
	ck_assert_str_eq(classify(1, NAT_EI, NAT_UNKNOWN).classic,
	    "cone (filtering unknown)");
	ck_assert_str_eq(classify(1, NAT_UNKNOWN, NAT_UNKNOWN).classic,
	    "unknown");
	ck_assert_str_eq(natbehav_term(NAT_APD), "address-and-port-dependent");
	ck_assert_str_eq(natbehav_term(42), "unknown");
}
END_TEST

static int
build_request(uint8_t *buf, size_t cap, uint32_t change, int unknown_attr)
{
	struct stun_writer	w;
	uint8_t			tid[STUN_TID_LEN];

	memset(tid, 7, sizeof(tid));
	stun_init(&w, buf, cap, STUN_METHOD_BINDING, STUN_CLASS_REQUEST, tid);
	if (change)
		stun_add_change_request(&w, change);
	if (unknown_attr)
		stun_add_u32(&w, 0x7777, 1);	/* comprehension-required */
	stun_add_fingerprint(&w);
	return stun_finish(&w);
}

START_TEST(test_server_answer)
{
	struct sockaddr_storage	from, local, other;
	struct server_stats	st;
	struct stun_msg		m;
	uint8_t			req[128], out[128];
	uint32_t		change;
	uint16_t		port;
	int			reqlen, n;

	memset(&st, 0, sizeof(st));
	netaddr_parse("198.51.100.7:40000", 0, &from);
	netaddr_parse("203.0.113.10:3478", 0, &local);
	netaddr_parse("203.0.113.11:3479", 0, &other);

	/* plain Binding */
	reqlen = build_request(req, sizeof(req), 0, 0);
	ck_assert_int_gt(reqlen, 0);
	n = server_answer(req, reqlen, (struct sockaddr *)&from,
	    (struct sockaddr *)&local, (struct sockaddr *)&other, "atmosphere",
	    0, out, sizeof(out), &change, &port, &st);
	ck_assert_int_gt(n, 0);
	ck_assert_int_le(n, 92);	/* no amplification beyond this */
	ck_assert_int_eq(stun_decode(out, n, &m), STUN_OK);
	ck_assert_int_eq(m.cls, STUN_CLASS_SUCCESS);
	ck_assert(m.has & STUN_HAS_XOR_MAPPED);
	ck_assert(m.has & STUN_HAS_FINGERPRINT);
	ck_assert(netaddr_equal((struct sockaddr *)&m.xor_mapped,
	    (struct sockaddr *)&from));
	ck_assert(!(m.has & STUN_HAS_OTHER_ADDRESS));

	/* RFC 5780: OTHER-ADDRESS, RESPONSE-ORIGIN, CHANGE-REQUEST honoured */
	reqlen = build_request(req, sizeof(req),
	    STUN_CHANGE_IP | STUN_CHANGE_PORT, 0);
	n = server_answer(req, reqlen, (struct sockaddr *)&from,
	    (struct sockaddr *)&local, (struct sockaddr *)&other, "", 1, out,
	    sizeof(out), &change, &port, &st);
	ck_assert_int_gt(n, 0);
	ck_assert_uint_eq(change, STUN_CHANGE_IP | STUN_CHANGE_PORT);
	ck_assert_int_eq(stun_decode(out, n, &m), STUN_OK);
	ck_assert(m.has & STUN_HAS_OTHER_ADDRESS);
	ck_assert(netaddr_equal((struct sockaddr *)&m.other_address,
	    (struct sockaddr *)&other));
	ck_assert(netaddr_equal((struct sockaddr *)&m.response_origin,
	    (struct sockaddr *)&local));
	ck_assert(!(m.has & STUN_HAS_SOFTWARE));

	/* without an alternate address CHANGE-REQUEST is answered 420 */
	n = server_answer(req, reqlen, (struct sockaddr *)&from,
	    (struct sockaddr *)&local, (struct sockaddr *)&other, "", 0, out,
	    sizeof(out), &change, &port, &st);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(stun_decode(out, n, &m), STUN_OK);
	ck_assert_int_eq(m.cls, STUN_CLASS_ERROR);
	ck_assert_int_eq(m.error_code, 420);
	ck_assert_uint_eq(m.n_unknown_attrs, 1);
	ck_assert_uint_eq(m.unknown_attrs[0], STUN_ATTR_CHANGE_REQUEST);
	ck_assert_uint_eq(change, 0);

	/* unknown comprehension-required attribute: 420 naming it */
	reqlen = build_request(req, sizeof(req), 0, 1);
	n = server_answer(req, reqlen, (struct sockaddr *)&from,
	    (struct sockaddr *)&local, (struct sockaddr *)&other, "", 1, out,
	    sizeof(out), &change, &port, &st);
	ck_assert_int_eq(stun_decode(out, n, &m), STUN_OK);
	ck_assert_int_eq(m.error_code, 420);
	ck_assert_uint_eq(m.unknown_attrs[0], 0x7777);
	ck_assert_uint_eq(st.unknown_attr, 2);

	/* garbage, responses and truncation get nothing */
	memset(req, 0xff, sizeof(req));
	ck_assert_int_eq(server_answer(req, 40, (struct sockaddr *)&from,
	    (struct sockaddr *)&local, (struct sockaddr *)&other, "", 1, out,
	    sizeof(out), &change, &port, &st), 0);
	reqlen = build_request(req, sizeof(req), 0, 0);
	ck_assert_int_eq(server_answer(req, reqlen - 4,
	    (struct sockaddr *)&from, (struct sockaddr *)&local,
	    (struct sockaddr *)&other, "", 1, out, sizeof(out), &change, &port,
	    &st), 0);
	n = server_answer(req, reqlen, (struct sockaddr *)&from,
	    (struct sockaddr *)&local, (struct sockaddr *)&other, "", 1, out,
	    sizeof(out), &change, &port, &st);
	ck_assert_int_eq(server_answer(out, n, (struct sockaddr *)&from,
	    (struct sockaddr *)&local, (struct sockaddr *)&other, "", 1, req,
	    sizeof(req), &change, &port, &st), 0);
	ck_assert_uint_eq(st.malformed, 2);
	ck_assert_uint_eq(st.ignored, 1);
}
END_TEST

/* an RFC 3489 Binding request: 128-bit transaction id, no cookie */
static size_t
classic_request(uint8_t *b, uint16_t attr, uint32_t val)
{
	size_t n = 20;

	memset(b, 0, 20);
	b[1] = 0x01;				/* Binding Request */
	for (int i = 4; i < 20; i++)
		b[i] = (uint8_t)(0xA0 + i);	/* no magic cookie */
	if (attr != 0) {
		b[20] = attr >> 8;
		b[21] = attr & 0xff;
		b[23] = 4;
		b[24] = val >> 24;
		b[25] = (val >> 16) & 0xff;
		b[26] = (val >> 8) & 0xff;
		b[27] = val & 0xff;
		n += 8;
	}
	b[3] = (uint8_t)(n - 20);
	return n;
}

START_TEST(test_server_classic)
{
	struct sockaddr_storage	from, local, other;
	struct server_stats	st;
	struct stun_msg		m;
	uint8_t			req[128], out[192];
	uint32_t		change;
	uint16_t		port;
	size_t			reqlen;
	int			n;

	memset(&st, 0, sizeof(st));
	netaddr_parse("198.51.100.7:40000", 0, &from);
	netaddr_parse("203.0.113.10:3478", 0, &local);
	netaddr_parse("203.0.113.11:3479", 0, &other);

	/* RFC 8489 section 11: MAPPED-ADDRESS, the whole 128-bit id back */
	reqlen = classic_request(req, 0, 0);
	ck_assert_int_eq(stun_decode(req, reqlen, &m), STUN_ERR_COOKIE);
	n = server_answer(req, reqlen, (struct sockaddr *)&from,
	    (struct sockaddr *)&local, (struct sockaddr *)&other, "atmosphere",
	    0, out, sizeof(out), &change, &port, &st);
	ck_assert_int_gt(n, 0);
	ck_assert_uint_eq(st.classic, 1);
	ck_assert_mem_eq(out + 4, req + 4, 16);
	ck_assert_uint_eq(out[0], 0x01);
	ck_assert_uint_eq(out[1], 0x01);		/* Binding Response */
	ck_assert_int_eq(stun_decode_classic(out, n, &m), STUN_OK);
	ck_assert(m.has & STUN_HAS_MAPPED);
	ck_assert(!(m.has & (STUN_HAS_XOR_MAPPED | STUN_HAS_FINGERPRINT |
	    STUN_HAS_SOFTWARE)));
	ck_assert(netaddr_equal((struct sockaddr *)&m.mapped,
	    (struct sockaddr *)&from));
	ck_assert_int_eq(n, 32);

	/* RFC 5780 server: CHANGE-REQUEST honoured, SOURCE-ADDRESS and
	 * CHANGED-ADDRESS as an RFC 3489 NAT test reads them */
	reqlen = classic_request(req, STUN_ATTR_CHANGE_REQUEST,
	    STUN_CHANGE_IP | STUN_CHANGE_PORT);
	n = server_answer(req, reqlen, (struct sockaddr *)&from,
	    (struct sockaddr *)&local, (struct sockaddr *)&other, "", 1, out,
	    sizeof(out), &change, &port, &st);
	ck_assert_int_eq(n, 56);
	ck_assert_uint_eq(change, STUN_CHANGE_IP | STUN_CHANGE_PORT);
	ck_assert_uint_eq(out[20], 0x00);
	ck_assert_uint_eq(out[21], STUN_ATTR_MAPPED_ADDRESS);
	ck_assert_uint_eq(out[33], STUN_ATTR_SOURCE_ADDRESS);
	ck_assert_uint_eq(out[45], STUN_ATTR_CHANGED_ADDRESS);
	ck_assert_uint_eq((out[50] << 8) | out[51], 3479);

	/* RESPONSE-ADDRESS is never followed: 420 naming it, to the source */
	reqlen = classic_request(req, STUN_ATTR_RESPONSE_ADDRESS, 0x00010000);
	n = server_answer(req, reqlen, (struct sockaddr *)&from,
	    (struct sockaddr *)&local, (struct sockaddr *)&other, "", 1, out,
	    sizeof(out), &change, &port, &st);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(stun_decode_classic(out, n, &m), STUN_OK);
	ck_assert_int_eq(m.cls, STUN_CLASS_ERROR);
	ck_assert_int_eq(m.error_code, 420);
	ck_assert_uint_eq(m.unknown_attrs[0], STUN_ATTR_RESPONSE_ADDRESS);
	ck_assert_uint_eq(change, 0);

	/* a classic-looking message with a bad length is still garbage */
	reqlen = classic_request(req, 0, 0);
	req[3] = 4;
	ck_assert_int_eq(server_answer(req, reqlen, (struct sockaddr *)&from,
	    (struct sockaddr *)&local, (struct sockaddr *)&other, "", 1, out,
	    sizeof(out), &change, &port, &st), 0);
	ck_assert_uint_eq(st.malformed, 1);
}
END_TEST

/* More unknown comprehension-required attributes than we list: still a
 * 420 (RFC 8489 14.13: "some of them"), not silence. */
START_TEST(test_server_many_unknown)
{
	struct sockaddr_storage	from, local, other;
	struct server_stats	st;
	struct stun_msg		m;
	struct stun_writer	w;
	uint8_t			req[512], out[192], tid[STUN_TID_LEN];
	uint32_t		change;
	uint16_t		port;
	int			reqlen, n;

	memset(&st, 0, sizeof(st));
	memset(tid, 9, sizeof(tid));
	netaddr_parse("198.51.100.7:40000", 0, &from);
	netaddr_parse("203.0.113.10:3478", 0, &local);
	netaddr_parse("203.0.113.11:3479", 0, &other);
	stun_init(&w, req, sizeof(req), STUN_METHOD_BINDING,
	    STUN_CLASS_REQUEST, tid);
	for (uint16_t i = 0; i < 40; i++)
		stun_add_u32(&w, 0x7100 + i, i);
	stun_add_fingerprint(&w);
	reqlen = stun_finish(&w);
	ck_assert_int_gt(reqlen, 0);
	n = server_answer(req, reqlen, (struct sockaddr *)&from,
	    (struct sockaddr *)&local, (struct sockaddr *)&other, "", 1, out,
	    sizeof(out), &change, &port, &st);
	ck_assert_int_gt(n, 0);
	ck_assert_int_lt(n, reqlen);		/* no amplification */
	ck_assert_int_eq(stun_decode(out, n, &m), STUN_OK);
	ck_assert_int_eq(m.error_code, 420);
	ck_assert_uint_eq(m.n_unknown_attrs, STUN_MAX_UNKNOWN);
	ck_assert_uint_eq(m.unknown_attrs[0], 0x7100);
	ck_assert_uint_eq(st.unknown_attr, 1);
}
END_TEST

Suite *
natbehav_suite(void)
{
	Suite *s = suite_create("natbehav");
	TCase *tc = tcase_create("stund logic");

	tcase_add_test(tc, test_classic_names);
	tcase_add_test(tc, test_server_answer);
	tcase_add_test(tc, test_server_classic);
	tcase_add_test(tc, test_server_many_unknown);
	suite_add_tcase(s, tc);
	return s;
}
