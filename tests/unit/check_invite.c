/*
 * proto/invite: codes and URIs round-trip; every kind of broken code gets
 * its own error (typo, truncation, prefix, version, expiry, characters,
 * fields); URIs in the current, seeds (raw JSON) and legacy forms; hostile
 * input never crashes.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "proto/invite.h"
#include "suites.h"

#define EXPIRES	2000000000ULL	/* 2033-05-18 03:33:20 UTC */
#define NOW	1767225600ULL	/* 2026-01-01 */

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void
make_invite(struct invite *inv)
{
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
	int i;

	ck_assert_int_ge(sodium_init(), 0);
	invite_init(inv);
	for (i = 0; i < INVITE_MESH_ID_LEN; i++)
		inv->mesh_id[i] = 0x10 + i;
	strlcpy(inv->mesh_name, "Home Mesh", sizeof(inv->mesh_name));
	for (i = 0; i < INVITE_NODEID_LEN; i++)
		inv->inviter_id[i] = 0xa0 + i;
	crypto_sign_keypair(inv->inviter_pk, sk);
	sodium_memzero(sk, sizeof(sk));
	randombytes_buf(inv->secret, sizeof(inv->secret));
	inv->expires = EXPIRES;
	inv->max_uses = 3;
	ck_assert_int_eq(invite_addr_parse("udp://192.168.86.237:7777",
	    &inv->ep_local), 0);
	ck_assert_int_eq(invite_addr_parse("73.45.123.89:40123",
	    &inv->ep_public), 0);
	strlcpy(inv->ep_relay, "wss://relay.example.org:8080/v1/relay/abc123",
	    sizeof(inv->ep_relay));
	ck_assert_int_eq(invite_addr_parse("192.168.86.237:1", &inv->local_ip), 0);
	inv->local_ip.port = 0;
	ck_assert_int_eq(invite_addr_parse("73.45.123.89:1", &inv->public_ip), 0);
	inv->public_ip.port = 0;
	inv->behind_nat = 1;
	strlcpy(inv->nat_type, "endpoint-independent", sizeof(inv->nat_type));
}

static void
make_minimal(struct invite *inv)
{
	invite_init(inv);
	memset(inv->mesh_id, 1, sizeof(inv->mesh_id));
	strlcpy(inv->mesh_name, "m", sizeof(inv->mesh_name));
	memset(inv->secret, 0x5a, sizeof(inv->secret));
	inv->expires = EXPIRES;
	inv->max_uses = 1;
}

static void
assert_addr_eq(const struct invite_addr *a, const struct invite_addr *b)
{
	ck_assert_int_eq(a->family, b->family);
	ck_assert_int_eq(a->port, b->port);
	if (a->family)
		ck_assert_mem_eq(a->addr, b->addr,
		    a->family == INVITE_AF_INET ? 4 : 16);
}

static void
assert_invite_eq(const struct invite *a, const struct invite *b)
{
	ck_assert_int_eq(a->version, b->version);
	ck_assert_mem_eq(a->mesh_id, b->mesh_id, INVITE_MESH_ID_LEN);
	ck_assert_str_eq(a->mesh_name, b->mesh_name);
	ck_assert_mem_eq(a->inviter_id, b->inviter_id, INVITE_NODEID_LEN);
	ck_assert_mem_eq(a->inviter_pk, b->inviter_pk, INVITE_PK_LEN);
	ck_assert_mem_eq(a->secret, b->secret, INVITE_SECRET_LEN);
	ck_assert_uint_eq(a->expires, b->expires);
	ck_assert_uint_eq(a->max_uses, b->max_uses);
	assert_addr_eq(&a->ep_local, &b->ep_local);
	assert_addr_eq(&a->ep_public, &b->ep_public);
	ck_assert_str_eq(a->ep_relay, b->ep_relay);
	assert_addr_eq(&a->local_ip, &b->local_ip);
	assert_addr_eq(&a->public_ip, &b->public_ip);
	ck_assert_int_eq(a->behind_nat, b->behind_nat);
	ck_assert_str_eq(a->nat_type, b->nat_type);
	assert_addr_eq(&a->ep_local6, &b->ep_local6);
	assert_addr_eq(&a->ep_public6, &b->ep_public6);
	ck_assert_str_eq(a->stun_source, b->stun_source);
}

/* code -> blob, for crafting codes the encoder would refuse to write */
static size_t
to_blob(const char *code, uint8_t *blob)
{
	unsigned trailing;
	size_t bad;
	int n;

	n = invite_b32_decode(code + 4, blob, INVITE_BLOB_MAX, &trailing, &bad);
	ck_assert_int_gt(n, 0);
	ck_assert_uint_eq(trailing, 0);
	return (size_t)n;
}

/* blob (without its checksum) -> code with correct length and checksum */
static void
from_blob(uint8_t *blob, size_t n, char *code, size_t cap)
{
	uint8_t h[crypto_generichash_BYTES_MIN];

	blob[1] = (n + 4) >> 8;
	blob[2] = n + 4;
	crypto_generichash(h, sizeof(h), blob, n, NULL, 0);
	memcpy(blob + n, h, 4);
	memcpy(code, "ATM-", 4);
	ck_assert_int_gt(invite_b32_encode(blob, n + 4, code + 4, cap - 4), 0);
}

START_TEST(test_b32)
{
	uint8_t in[64], out[64];
	char s[128];
	unsigned tr;
	size_t bad;
	int len, n;

	ck_assert_int_eq(invite_b32_encode((const uint8_t *)"\xff", 1, s,
	    sizeof(s)), 2);
	ck_assert_str_eq(s, "ZW");
	invite_b32_encode((const uint8_t *)"f", 1, s, sizeof(s));
	ck_assert_str_eq(s, "CR");
	ck_assert_int_eq(invite_b32_encode(in, 0, s, sizeof(s)), 0);
	ck_assert_str_eq(s, "");
	ck_assert_int_eq(invite_b32_encode(in, 5, s, 8), -1);	/* 8 + NUL */
	for (len = 0; len <= 64; len++) {
		randombytes_buf(in, len);
		n = invite_b32_encode(in, len, s, sizeof(s));
		ck_assert_int_eq(n, (len * 8 + 4) / 5);
		ck_assert_int_eq(invite_b32_decode(s, out, sizeof(out), &tr,
		    &bad), len);
		ck_assert_uint_eq(tr, 0);
		if (len)
			ck_assert_mem_eq(in, out, len);
	}
	/* Crockford aliases and separators */
	ck_assert_int_eq(invite_b32_decode("zw", out, 4, &tr, &bad), 1);
	ck_assert_uint_eq(out[0], 0xff);
	ck_assert_int_eq(invite_b32_decode("O-I L\n", out, 4, &tr, &bad), 1);
	ck_assert_uint_eq(out[0], 0x00);
	ck_assert_int_eq(invite_b32_decode("ZU", out, 4, &tr, &bad), -1);
	ck_assert_uint_eq(bad, 1);
	ck_assert_int_eq(invite_b32_decode("ZZZZ", out, 1, &tr, &bad), -2);
}
END_TEST

START_TEST(test_roundtrip)
{
	struct invite a, b;
	char code[INVITE_CODE_MAX], err[256];
	int n;

	make_invite(&a);
	n = invite_encode(&a, code, sizeof(code));
	ck_assert_int_gt(n, 4);
	ck_assert_int_eq((int)strlen(code), n);
	ck_assert(strncmp(code, "ATM-", 4) == 0);
	ck_assert_uint_eq(strspn(code + 4, "0123456789ABCDEFGHJKMNPQRSTVWXYZ"),
	    n - 4);
	ck_assert_int_eq(invite_decode(code, NOW, &b, err, sizeof(err)),
	    INVITE_OK);
	assert_invite_eq(&a, &b);

	/* lower case, grouped, wrapped, with ambiguous letters: the same */
	{
		char messy[2 * INVITE_CODE_MAX];
		size_t i, o = 0;

		for (i = 0; code[i]; i++) {
			char c = code[i];

			if (i >= 4 && c == '1')
				c = (i & 1) ? 'l' : 'I';
			else if (i >= 4 && c == '0')
				c = 'o';
			else
				c = (char)tolower((unsigned char)c);
			messy[o++] = c;
			if (i >= 4 && i % 5 == 0)
				messy[o++] = (i % 10 == 0) ? '\n' : '-';
		}
		messy[o] = '\0';
		ck_assert_int_eq(invite_decode(messy, NOW, &b, err,
		    sizeof(err)), INVITE_OK);
		assert_invite_eq(&a, &b);
	}

	/* the smallest invite, and IPv6 plus a UTF-8 name */
	make_minimal(&a);
	n = invite_encode(&a, code, sizeof(code));
	ck_assert_int_eq(n, 4 + ((INVITE_FIXED_LEN + 3 + 4) * 8 + 4) / 5);
	ck_assert_int_eq(invite_decode(code, NOW, &b, err, sizeof(err)), 0);
	assert_invite_eq(&a, &b);
	ck_assert_int_eq(b.behind_nat, -1);

	make_invite(&a);
	strlcpy(a.mesh_name, "Zuhause \xc3\xa9t\xc3\xa9 \xe2\x9c\x93",
	    sizeof(a.mesh_name));
	ck_assert_int_eq(invite_addr_parse("udp://[fd00::1]:7777", &a.ep_local), 0);
	ck_assert_int_eq(invite_addr_parse("[2001:db8::77]:51820", &a.ep_public),
	    0);
	a.behind_nat = 0;
	a.nat_type[0] = '\0';
	a.max_uses = 65535;
	ck_assert_int_gt(invite_encode(&a, code, sizeof(code)), 0);
	ck_assert_int_eq(invite_decode(code, NOW, &b, err, sizeof(err)), 0);
	assert_invite_eq(&a, &b);
	invite_clear(&a);
	invite_clear(&b);
}
END_TEST

START_TEST(test_longest)
{
	struct invite a, b;
	char code[INVITE_CODE_MAX], uri[INVITE_URI_MAX];
	size_t i;

	make_invite(&a);
	memset(a.mesh_name, 'n', INVITE_NAME_MAX);
	a.mesh_name[INVITE_NAME_MAX] = '\0';
	strlcpy(a.ep_relay, "wss://", sizeof(a.ep_relay));
	for (i = 6; i < INVITE_URL_MAX; i++)
		a.ep_relay[i] = 'r';
	a.ep_relay[INVITE_URL_MAX] = '\0';
	invite_addr_parse("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535",
	    &a.ep_local);
	a.ep_public = a.ep_local;
	a.local_ip = a.ep_local;
	a.public_ip = a.ep_local;
	memset(a.nat_type, 'x', INVITE_NAT_TYPE_MAX);
	a.nat_type[INVITE_NAT_TYPE_MAX] = '\0';
	/* 547 bytes without tags 9 and 10 (test_local6_stun_source) */
	ck_assert_int_eq(invite_encode(&a, code, sizeof(code)),
	    4 + (547 * 8 + 4) / 5);
	ck_assert_int_eq(invite_decode(code, NOW, &b, NULL, 0), 0);
	assert_invite_eq(&a, &b);
	ck_assert_int_gt(invite_uri_format(&a, uri, sizeof(uri)), 0);
	ck_assert_int_eq(invite_uri_parse(uri, NOW, &b, NULL, 0), 0);
	assert_invite_eq(&a, &b);
	/* buffers one short fail cleanly */
	ck_assert_int_eq(invite_encode(&a, code, strlen(code)), -1);
	ck_assert_int_eq(invite_uri_format(&a, uri, strlen(uri)), -1);
}
END_TEST

START_TEST(test_encode_refuses)
{
	struct invite a;
	char code[INVITE_CODE_MAX];

	make_invite(&a);
	a.mesh_name[0] = '\0';
	ck_assert_int_eq(invite_encode(&a, code, sizeof(code)), -1);
	make_invite(&a);
	strlcpy(a.mesh_name, "bad\nname", sizeof(a.mesh_name));
	ck_assert_int_eq(invite_encode(&a, code, sizeof(code)), -1);
	strlcpy(a.mesh_name, "esc\x1b[31m", sizeof(a.mesh_name));
	ck_assert_int_eq(invite_encode(&a, code, sizeof(code)), -1);
	strlcpy(a.mesh_name, "bad \xc3", sizeof(a.mesh_name));
	ck_assert_int_eq(invite_encode(&a, code, sizeof(code)), -1);
	strlcpy(a.mesh_name, "overlong \xc0\xaf", sizeof(a.mesh_name));
	ck_assert_int_eq(invite_encode(&a, code, sizeof(code)), -1);
	strlcpy(a.mesh_name, "surrogate \xed\xa0\x80", sizeof(a.mesh_name));
	ck_assert_int_eq(invite_encode(&a, code, sizeof(code)), -1);
	make_invite(&a);
	a.expires = 0;
	ck_assert_int_eq(invite_encode(&a, code, sizeof(code)), -1);
	make_invite(&a);
	a.max_uses = 0;
	ck_assert_int_eq(invite_encode(&a, code, sizeof(code)), -1);
	make_invite(&a);
	strlcpy(a.ep_relay, "https://relay", sizeof(a.ep_relay));
	ck_assert_int_eq(invite_encode(&a, code, sizeof(code)), -1);
	strlcpy(a.ep_relay, "ws://", sizeof(a.ep_relay));
	ck_assert_int_eq(invite_encode(&a, code, sizeof(code)), -1);
	strlcpy(a.ep_relay, "ws://a b", sizeof(a.ep_relay));
	ck_assert_int_eq(invite_encode(&a, code, sizeof(code)), -1);
	make_invite(&a);
	a.ep_local.port = 0;
	ck_assert_int_eq(invite_encode(&a, code, sizeof(code)), -1);
	make_invite(&a);
	strlcpy(a.nat_type, "full cone", sizeof(a.nat_type));
	ck_assert_int_eq(invite_encode(&a, code, sizeof(code)), -1);
	make_invite(&a);
	a.behind_nat = 2;
	ck_assert_int_eq(invite_encode(&a, code, sizeof(code)), -1);
	make_invite(&a);
	ck_assert_int_eq(invite_encode(&a, code, 3), -1);
	ck_assert_int_eq(invite_encode(&a, code, 40), -1);
}
END_TEST

START_TEST(test_typo_every_position)
{
	static const char alpha[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
	struct invite a, b;
	char code[INVITE_CODE_MAX], bad[INVITE_CODE_MAX], err[256];
	size_t i, n, k;
	int r, delta;

	make_invite(&a);
	n = invite_encode(&a, code, sizeof(code));
	for (i = 4; i < n; i++) {
		for (delta = 1; delta < 32; delta += 10) {
			memcpy(bad, code, n + 1);
			k = strchr(alpha, code[i]) - alpha;
			bad[i] = alpha[(k + delta) % 32];
			r = invite_decode(bad, NOW, &b, err, sizeof(err));
			/* chars 5..8 hold the length: a typo there may look
			 * like a cut code; everywhere else it is a typo */
			if (i >= 5 && i <= 8 && r == INVITE_ERR_TRUNCATED)
				continue;
			ck_assert_msg(r == INVITE_ERR_CHECKSUM,
			    "typo at %zu: %d %s", i, r, err);
			ck_assert_ptr_nonnull(strstr(err, "typo"));
		}
		/* neighbours swapped, the other common slip */
		if (i + 1 < n && code[i] != code[i + 1]) {
			memcpy(bad, code, n + 1);
			bad[i] = code[i + 1];
			bad[i + 1] = code[i];
			r = invite_decode(bad, NOW, &b, err, sizeof(err));
			ck_assert_msg(r == INVITE_ERR_CHECKSUM ||
			    (i <= 8 && r == INVITE_ERR_TRUNCATED),
			    "swap at %zu: %d %s", i, r, err);
		}
	}
	/* and the secret never survives a failed decode */
	memcpy(bad, code, n + 1);
	bad[n - 1] = bad[n - 1] == 'A' ? 'B' : 'A';
	ck_assert_int_lt(invite_decode(bad, NOW, &b, NULL, 0), 0);
	for (i = 0; i < INVITE_SECRET_LEN; i++)
		ck_assert_uint_eq(b.secret[i], 0);
}
END_TEST

START_TEST(test_truncated_every_length)
{
	struct invite a, b;
	char code[INVITE_CODE_MAX], cut[INVITE_CODE_MAX], err[256];
	size_t len, n;
	int r;

	make_invite(&a);
	n = invite_encode(&a, code, sizeof(code));
	for (len = 0; len < n; len++) {
		memcpy(cut, code, len);
		cut[len] = '\0';
		r = invite_decode(cut, NOW, &b, err, sizeof(err));
		if (len == 0)
			ck_assert_int_eq(r, INVITE_ERR_EMPTY);
		else if (len < 4)
			ck_assert_int_eq(r, INVITE_ERR_PREFIX);
		else {
			ck_assert_msg(r == INVITE_ERR_TRUNCATED,
			    "cut at %zu: %d %s", len, r, err);
			ck_assert_ptr_nonnull(strstr(err, "truncated"));
		}
	}
	/* extra characters at the end are a typo, not a longer code */
	memcpy(cut, code, n);
	memcpy(cut + n, "AB", 3);
	ck_assert_int_eq(invite_decode(cut, NOW, &b, err, sizeof(err)),
	    INVITE_ERR_CHECKSUM);
}
END_TEST

START_TEST(test_prefix_empty_chars)
{
	struct invite a, b;
	char code[INVITE_CODE_MAX], bad[INVITE_CODE_MAX], err[256];
	static const char *junk[] = { "U", "*", "!", "\xc3", "\x01", "_",
	    "=", "#" };
	size_t n, i, pos;

	ck_assert_int_eq(invite_decode("", NOW, &b, err, sizeof(err)),
	    INVITE_ERR_EMPTY);
	ck_assert_int_eq(invite_decode(" \n", NOW, &b, err, sizeof(err)),
	    INVITE_ERR_EMPTY);
	ck_assert_int_eq(invite_decode(NULL, NOW, &b, err, sizeof(err)),
	    INVITE_ERR_EMPTY);
	ck_assert_int_eq(invite_parse(NULL, NOW, &b, err, sizeof(err)),
	    INVITE_ERR_EMPTY);

	make_invite(&a);
	n = invite_encode(&a, code, sizeof(code));
	/* wrong or missing prefix */
	memcpy(bad, code, n + 1);
	bad[2] = 'X';
	ck_assert_int_eq(invite_decode(bad, NOW, &b, err, sizeof(err)),
	    INVITE_ERR_PREFIX);
	ck_assert_ptr_nonnull(strstr(err, "not an Atmosphere invite code"));
	ck_assert_int_eq(invite_decode(code + 4, NOW, &b, err, sizeof(err)),
	    INVITE_ERR_PREFIX);
	ck_assert_int_eq(invite_decode("https://example.org", NOW, &b, err,
	    sizeof(err)), INVITE_ERR_PREFIX);
	memcpy(bad, code, n + 1);
	bad[3] = '_';
	ck_assert_int_eq(invite_decode(bad, NOW, &b, err, sizeof(err)),
	    INVITE_ERR_PREFIX);
	/* the prefix in lower case is still ours */
	memcpy(bad, code, n + 1);
	memcpy(bad, "atm-", 4);
	ck_assert_int_eq(invite_decode(bad, NOW, &b, err, sizeof(err)), 0);

	/* characters outside the alphabet, at several places */
	for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		for (pos = 4; pos < n; pos += 97) {
			memcpy(bad, code, n + 1);
			bad[pos] = junk[i][0];
			ck_assert_int_eq(invite_decode(bad, NOW, &b, err,
			    sizeof(err)), INVITE_ERR_CHAR);
			ck_assert_ptr_nonnull(strstr(err, "position"));
		}
	}
	memcpy(bad, code, n + 1);
	bad[10] = 'U';
	invite_decode(bad, NOW, &b, err, sizeof(err));
	ck_assert_str_eq(err, "invalid character 'U' at position 11 of the "
	    "invite code (codes use 0-9 and A-Z without U)");
	bad[10] = '\x01';
	invite_decode(bad, NOW, &b, err, sizeof(err));
	ck_assert_ptr_nonnull(strstr(err, "\\x01"));

	/* absurdly long */
	{
		char *big = malloc(20000);

		memcpy(big, "ATM-", 4);
		memset(big + 4, 'A', 19995);
		big[19999] = '\0';
		ck_assert_int_eq(invite_decode(big, NOW, &b, err, sizeof(err)),
		    INVITE_ERR_TOOLONG);
		big[4 + 2000] = '\0';
		ck_assert_int_eq(invite_decode(big, NOW, &b, err, sizeof(err)),
		    INVITE_ERR_TOOLONG);
		free(big);
	}
}
END_TEST

START_TEST(test_version)
{
	struct invite a, b;
	char code[INVITE_CODE_MAX], err[256];
	uint8_t blob[INVITE_BLOB_MAX];
	size_t n;

	make_invite(&a);
	invite_encode(&a, code, sizeof(code));
	n = to_blob(code, blob) - 4;
	blob[0] = 2;
	from_blob(blob, n, code, sizeof(code));
	ck_assert_int_eq(invite_decode(code, NOW, &b, err, sizeof(err)),
	    INVITE_ERR_VERSION);
	ck_assert_str_eq(err, "unsupported invite version 2 (this build reads "
	    "version 1): upgrade Atmosphere");
	blob[0] = 0;
	from_blob(blob, n, code, sizeof(code));
	ck_assert_int_eq(invite_decode(code, NOW, &b, err, sizeof(err)),
	    INVITE_ERR_VERSION);
	ck_assert_str_eq(err, "unsupported invite version 0 (this build reads "
	    "version 1)");
	/* a later version may be any length: only the framing is read */
	blob[0] = 9;
	from_blob(blob, 10, code, sizeof(code));
	ck_assert_int_eq(invite_decode(code, NOW, &b, err, sizeof(err)),
	    INVITE_ERR_VERSION);
}
END_TEST

START_TEST(test_expired)
{
	struct invite a, b;
	char code[INVITE_CODE_MAX], err[256];

	make_invite(&a);
	invite_encode(&a, code, sizeof(code));
	ck_assert_int_eq(invite_decode(code, EXPIRES - 1, &b, err, sizeof(err)),
	    INVITE_OK);
	ck_assert_int_eq(invite_decode(code, EXPIRES, &b, err, sizeof(err)),
	    INVITE_ERR_EXPIRED);
	ck_assert_int_eq(invite_decode(code, EXPIRES + 86400, &b, err,
	    sizeof(err)), INVITE_ERR_EXPIRED);
	ck_assert_str_eq(err, "invite expired at 2033-05-18 03:33:20 UTC: ask "
	    "for a new one");
	/* filled, so meshctl can say which mesh */
	ck_assert_str_eq(b.mesh_name, "Home Mesh");
	ck_assert_int_eq(invite_decode(code, 0, &b, err, sizeof(err)), 0);
}
END_TEST

/* a valid code whose TLV area is `tlv` (n bytes) */
static void
code_with_tlvs(const uint8_t *tlv, size_t n, char *code, size_t cap)
{
	struct invite a;
	uint8_t blob[INVITE_BLOB_MAX];
	char tmp[INVITE_CODE_MAX];

	make_minimal(&a);
	invite_encode(&a, tmp, sizeof(tmp));
	to_blob(tmp, blob);
	memcpy(blob + INVITE_FIXED_LEN, tlv, n);
	from_blob(blob, INVITE_FIXED_LEN + n, code, cap);
}

static void
expect_field(const uint8_t *tlv, size_t n, const char *field)
{
	struct invite b;
	char code[INVITE_CODE_MAX], err[256], want[128];

	code_with_tlvs(tlv, n, code, sizeof(code));
	ck_assert_msg(invite_decode(code, NOW, &b, err, sizeof(err)) ==
	    INVITE_ERR_FIELD, "%s accepted", field);
	snprintf(want, sizeof(want), "malformed field %s in invite code", field);
	ck_assert_str_eq(err, want);
}

#define TLV(...) (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ })

START_TEST(test_fields)
{
	struct invite b;
	char code[INVITE_CODE_MAX], err[256];

	/* fine: a name, and an unknown tag skipped */
	code_with_tlvs(TLV(1, 1, 'x', 200, 3, 1, 2, 3), code, sizeof(code));
	ck_assert_int_eq(invite_decode(code, NOW, &b, err, sizeof(err)), 0);
	ck_assert_str_eq(b.mesh_name, "x");

	expect_field(TLV(200, 0), "mesh_name");			/* missing */
	expect_field(TLV(1, 0), "mesh_name");			/* empty */
	expect_field(TLV(1, 2, 'a', '\n'), "mesh_name");
	expect_field(TLV(1, 1, 'a', 1, 1, 'b'), "mesh_name");	/* twice */
	expect_field(TLV(1, 1, 'a', 1, 9, 'b'), "fields");	/* overruns */
	expect_field(TLV(1, 1, 'a', 5), "fields");		/* half a TLV */
	expect_field(TLV(1, 1, 'a', 2, 7, 3, 0x1e, 0x61, 10, 0, 0, 1),
	    "endpoints.local");		/* family 3 */
	expect_field(TLV(1, 1, 'a', 3, 7, 1, 0, 0, 10, 0, 0, 1),
	    "endpoints.public");	/* port 0 */
	expect_field(TLV(1, 1, 'a', 3, 6, 1, 1, 0, 10, 0, 0),
	    "endpoints.public");	/* short address */
	expect_field(TLV(1, 1, 'a', 4, 6, 'h', 't', 't', 'p', ':', '/'),
	    "endpoints.relay");
	expect_field(TLV(1, 1, 'a', 5, 7, 2, 0, 0, 10, 0, 0, 1),
	    "network_info.local_ip");	/* IPv6 with 4 bytes */
	expect_field(TLV(1, 1, 'a', 7, 1, 2), "network_info.is_behind_nat");
	expect_field(TLV(1, 1, 'a', 7, 2, 1, 1), "network_info.is_behind_nat");
	expect_field(TLV(1, 1, 'a', 8, 2, 'a', ' '), "network_info.nat_type");
	expect_field(TLV(1, 1, 'a', 8, 0), "network_info.nat_type");
}
END_TEST

/* TLV 16: a relay access token rides in the code, and only there */
START_TEST(test_relay_token)
{
	static const char tok[] = "v2.1.1767225600.a.Q0xBQkNERUZHSElKS0xNTk9Q"
	    "UVJTVFVWV1hZWjAxMjM0NTY3ODk";
	struct invite a, b;
	char code[INVITE_CODE_MAX], uri[INVITE_URI_MAX], *js;
	json_t *j;

	make_invite(&a);
	strlcpy(a.relay_token, tok, sizeof(a.relay_token));
	ck_assert_int_gt(invite_encode(&a, code, sizeof(code)), 0);
	ck_assert_int_eq(invite_decode(code, NOW, &b, NULL, 0), 0);
	ck_assert_str_eq(b.relay_token, tok);
	assert_invite_eq(&a, &b);
	ck_assert_int_gt(invite_uri_format(&a, uri, sizeof(uri)), 0);
	ck_assert_int_eq(invite_uri_parse(uri, NOW, &b, NULL, 0), 0);
	ck_assert_str_eq(b.relay_token, tok);
	/* a credential: never in the JSON beside the code */
	ck_assert_ptr_nonnull(j = invite_to_json(&a));
	js = json_dumps(j, 0);
	ck_assert_ptr_null(strstr(js, "Q0xBQkNERUZH"));
	free(js);
	json_decref(j);
	/* absent: "" after decoding */
	make_invite(&a);
	ck_assert_int_gt(invite_encode(&a, code, sizeof(code)), 0);
	ck_assert_int_eq(invite_decode(code, NOW, &b, NULL, 0), 0);
	ck_assert_str_eq(b.relay_token, "");
	/* refused on encode: outside the token alphabet, or no relay */
	make_invite(&a);
	strlcpy(a.relay_token, "v2.1 x", sizeof(a.relay_token));
	ck_assert_int_eq(invite_encode(&a, code, sizeof(code)), -1);
	strlcpy(a.relay_token, tok, sizeof(a.relay_token));
	a.ep_relay[0] = '\0';
	ck_assert_int_eq(invite_encode(&a, code, sizeof(code)), -1);
	/* hostile TLVs */
	expect_field(TLV(1, 1, 'a', 16, 0), "relay_token");
	expect_field(TLV(1, 1, 'a', 16, 3, 'a', ' ', 'b'), "relay_token");
	expect_field(TLV(1, 1, 'a', 16, 2, 'a', '\n'), "relay_token");
	expect_field(TLV(1, 1, 'a', 16, 1, 'a', 16, 1, 'b'), "relay_token");
	/* tags 11-15 are nobody's yet: skipped */
	code_with_tlvs(TLV(1, 1, 'x', 12, 2, 0xff, 0), code, sizeof(code));
	ck_assert_int_eq(invite_decode(code, NOW, &b, NULL, 0), 0);
}
END_TEST

/* the local endpoint case above is valid; keep the fixed fields honest */
START_TEST(test_fixed_fields)
{
	struct invite a, b;
	uint8_t blob[INVITE_BLOB_MAX];
	char code[INVITE_CODE_MAX], err[256];
	size_t n;

	code_with_tlvs(TLV(1, 1, 'a', 2, 7, 1, 0x1e, 0x61, 10, 0, 0, 1), code,
	    sizeof(code));
	ck_assert_int_eq(invite_decode(code, NOW, &b, err, sizeof(err)), 0);
	ck_assert_int_eq(b.ep_local.port, 7777);

	make_minimal(&a);
	invite_encode(&a, code, sizeof(code));
	n = to_blob(code, blob) - 4;
	memset(blob + 91, 0, 8);		/* expires 0 */
	from_blob(blob, n, code, sizeof(code));
	ck_assert_int_eq(invite_decode(code, NOW, &b, err, sizeof(err)),
	    INVITE_ERR_FIELD);
	ck_assert_str_eq(err, "malformed field expires in invite code");

	invite_encode(&a, code, sizeof(code));
	n = to_blob(code, blob) - 4;
	blob[99] = blob[100] = 0;		/* max uses 0 */
	from_blob(blob, n, code, sizeof(code));
	ck_assert_int_eq(invite_decode(code, NOW, &b, err, sizeof(err)),
	    INVITE_ERR_FIELD);
	ck_assert_str_eq(err, "malformed field max_uses in invite code");

	/* shorter than the fixed part, yet consistent */
	invite_encode(&a, code, sizeof(code));
	n = to_blob(code, blob) - 4;
	from_blob(blob, 50, code, sizeof(code));
	ck_assert_int_eq(invite_decode(code, NOW, &b, err, sizeof(err)),
	    INVITE_ERR_FIELD);

	/* checksum right, length field wrong */
	invite_encode(&a, code, sizeof(code));
	n = to_blob(code, blob);
	blob[2] -= 1;
	{
		uint8_t h[crypto_generichash_BYTES_MIN];

		crypto_generichash(h, sizeof(h), blob, n - 4, NULL, 0);
		memcpy(blob + n - 4, h, 4);
		memcpy(code, "ATM-", 4);
		invite_b32_encode(blob, n, code + 4, sizeof(code) - 4);
	}
	ck_assert_int_eq(invite_decode(code, NOW, &b, err, sizeof(err)),
	    INVITE_ERR_FIELD);
	ck_assert_str_eq(err, "malformed field length in invite code");
}
END_TEST

START_TEST(test_addr)
{
	struct invite_addr a;
	char buf[80];

	ck_assert_int_eq(invite_addr_parse("udp://10.1.2.3:7777", &a), 0);
	ck_assert_str_eq(invite_addr_str(&a, "udp://", buf, sizeof(buf)),
	    "udp://10.1.2.3:7777");
	ck_assert_str_eq(invite_addr_str(&a, NULL, buf, sizeof(buf)),
	    "10.1.2.3:7777");
	ck_assert_int_eq(invite_addr_parse("UDP://[2001:db8::1]:1", &a), 0);
	ck_assert_int_eq(a.family, INVITE_AF_INET6);
	ck_assert_str_eq(invite_addr_str(&a, "udp://", buf, sizeof(buf)),
	    "udp://[2001:db8::1]:1");
	a.port = 0;
	ck_assert_str_eq(invite_addr_str(&a, NULL, buf, sizeof(buf)),
	    "2001:db8::1");
	a.family = INVITE_AF_NONE;
	ck_assert_str_eq(invite_addr_str(&a, NULL, buf, sizeof(buf)), "");

	static const char *bad[] = { "", "1.2.3.4", "1.2.3.4:", "1.2.3.4:0",
	    "1.2.3.4:65536", "1.2.3.4:-1", "1.2.3.4:+5", "1.2.3.4:5x",
	    "1.2.3.4:0000080", "host:80", "2001:db8::1:80", "[2001:db8::1]",
	    "[1.2.3.4]:80", "[2001:db8::1]80", "ws://1.2.3.4:80", "udp://",
	    "1.2.3:80", "[]:80" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(invite_addr_parse(bad[i], &a) == -1, "%s", bad[i]);
}
END_TEST

START_TEST(test_uri_roundtrip)
{
	struct invite a, b;
	char uri[INVITE_URI_MAX], code[INVITE_CODE_MAX], want[2 * INVITE_URI_MAX];
	char err[256];
	int n;

	make_invite(&a);
	n = invite_uri_format(&a, uri, sizeof(uri));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq((int)strlen(uri), n);
	invite_encode(&a, code, sizeof(code));
	snprintf(want, sizeof(want), "atmosphere://join?token=%s&mesh=Home%%20Mesh"
	    "&endpoints=%%7B%%22local%%22:%%22udp://192.168.86.237:7777%%22,"
	    "%%22public%%22:%%22udp://73.45.123.89:40123%%22,"
	    "%%22relay%%22:%%22wss://relay.example.org:8080/v1/relay/abc123"
	    "%%22%%7D", code);
	ck_assert_str_eq(uri, want);
	ck_assert_int_eq(invite_uri_parse(uri, NOW, &b, err, sizeof(err)), 0);
	assert_invite_eq(&a, &b);
	ck_assert_int_eq(invite_parse(uri, NOW, &b, err, sizeof(err)), 0);
	assert_invite_eq(&a, &b);
	ck_assert_int_eq(invite_parse(code, NOW, &b, err, sizeof(err)), 0);
	assert_invite_eq(&a, &b);

	/* no endpoints: no endpoints parameter */
	make_minimal(&a);
	invite_uri_format(&a, uri, sizeof(uri));
	ck_assert_ptr_null(strstr(uri, "endpoints"));
	ck_assert_int_eq(invite_uri_parse(uri, NOW, &b, err, sizeof(err)), 0);
	assert_invite_eq(&a, &b);
	/* the same URI pasted with blanks around it */
	snprintf(want, sizeof(want), "  %s \n", uri);
	ck_assert_int_eq(invite_parse(want, NOW, &b, err, sizeof(err)), 0);
	assert_invite_eq(&a, &b);
}
END_TEST

static void
minimal_code(char *code, size_t cap)
{
	struct invite a;

	make_minimal(&a);
	ck_assert_int_gt(invite_encode(&a, code, cap), 0);
}

START_TEST(test_uri_forms)
{
	struct invite a, b;
	char code[INVITE_CODE_MAX], full[INVITE_CODE_MAX], uri[INVITE_URI_MAX];
	char err[256], buf[80];

	minimal_code(code, sizeof(code));

	/* the seeds' form: JSON straight in the query, not escaped */
	snprintf(uri, sizeof(uri), "atmosphere://join?token=%s&mesh=Home"
	    "&endpoints={\"local\":\"udp://10.0.0.2:7777\",\"public\":"
	    "\"203.0.113.9:7777\",\"relay\":\"wss://relay.example.org/x?a=1&b=2\"}",
	    code);
	ck_assert_int_eq(invite_uri_parse(uri, NOW, &b, err, sizeof(err)), 0);
	ck_assert_str_eq(invite_addr_str(&b.ep_local, "udp://", buf,
	    sizeof(buf)), "udp://10.0.0.2:7777");
	ck_assert_str_eq(invite_addr_str(&b.ep_public, "udp://", buf,
	    sizeof(buf)), "udp://203.0.113.9:7777");
	ck_assert_str_eq(b.ep_relay, "wss://relay.example.org/x?a=1&b=2");
	ck_assert_str_eq(b.mesh_name, "m");	/* the token's name wins */

	/* percent-encoded JSON, lower-case escapes, '+' for space, nulls */
	snprintf(uri, sizeof(uri), "atmosphere://join/?mesh=Home+Mesh&token=%s"
	    "&endpoints=%%7b%%22local%%22%%3A+null,%%22relay%%22:%%22ws://r:8080"
	    "%%22,%%22public%%22:%%22%%22,%%22later%%22:[1,2]%%7d", code);
	ck_assert_int_eq(invite_uri_parse(uri, NOW, &b, err, sizeof(err)), 0);
	ck_assert_int_eq(b.ep_local.family, INVITE_AF_NONE);
	ck_assert_int_eq(b.ep_public.family, INVITE_AF_NONE);
	ck_assert_str_eq(b.ep_relay, "ws://r:8080");

	/* legacy single endpoint= */
	snprintf(uri, sizeof(uri), "atmosphere://join?token=%s&mesh=Home"
	    "&endpoint=ws://73.45.123.89:11451", code);
	ck_assert_int_eq(invite_uri_parse(uri, NOW, &b, err, sizeof(err)), 0);
	ck_assert_str_eq(b.ep_relay, "ws://73.45.123.89:11451");
	snprintf(uri, sizeof(uri), "atmosphere://join?token=%s&mesh=Home"
	    "&endpoint=udp%%3A%%2F%%2F73.45.123.89%%3A7777", code);
	ck_assert_int_eq(invite_uri_parse(uri, NOW, &b, err, sizeof(err)), 0);
	ck_assert_str_eq(invite_addr_str(&b.ep_public, NULL, buf, sizeof(buf)),
	    "73.45.123.89:7777");
	snprintf(uri, sizeof(uri), "atmosphere://join?token=%s&endpoint="
	    "73.45.123.89:7777", code);
	ck_assert_int_eq(invite_uri_parse(uri, NOW, &b, err, sizeof(err)), 0);
	ck_assert_int_eq(b.ep_public.port, 7777);
	snprintf(uri, sizeof(uri), "atmosphere://join?token=%s&endpoint="
	    "gopher://x", code);
	ck_assert_int_eq(invite_uri_parse(uri, NOW, &b, err, sizeof(err)),
	    INVITE_ERR_FIELD);
	ck_assert_str_eq(err, "malformed field endpoint in invite URI");

	/* unknown parameters, flags and empty pairs are ignored, even
	 * with escapes we would refuse in a known one */
	snprintf(uri, sizeof(uri), "atmosphere://join?v=2&&flag&utm=%%ZZ&"
	    "token=%s&qr_data=%%&x=", code);
	ck_assert_int_eq(invite_uri_parse(uri, NOW, &b, err, sizeof(err)), 0);
	ck_assert_str_eq(b.mesh_name, "m");

	/* the token is authoritative: URI endpoints do not override it */
	make_invite(&a);
	invite_encode(&a, full, sizeof(full));
	snprintf(uri, sizeof(uri), "atmosphere://join?token=%s&mesh=Evil"
	    "&endpoints={\"local\":\"udp://6.6.6.6:6\",\"relay\":\"ws://evil\"}"
	    "&endpoint=ws://evil2", full);
	ck_assert_int_eq(invite_uri_parse(uri, NOW, &b, err, sizeof(err)), 0);
	assert_invite_eq(&a, &b);

	/* errors from the token come through, expiry included */
	snprintf(uri, sizeof(uri), "atmosphere://join?token=%s", code);
	ck_assert_int_eq(invite_uri_parse(uri, EXPIRES + 1, &b, err,
	    sizeof(err)), INVITE_ERR_EXPIRED);
	uri[40] = uri[40] == 'A' ? 'B' : 'A';
	ck_assert_int_eq(invite_uri_parse(uri, NOW, &b, err, sizeof(err)),
	    INVITE_ERR_CHECKSUM);
	ck_assert_int_eq(invite_uri_parse("atmosphere://join?token=ATM-XXX&mesh="
	    "Home&endpoint=ws://x", NOW, &b, err, sizeof(err)),
	    INVITE_ERR_TRUNCATED);
}
END_TEST

static void
expect_uri(const char *uri, int want, const char *msg_part)
{
	struct invite b;
	char err[256] = "";
	int r;

	r = invite_uri_parse(uri, NOW, &b, err, sizeof(err));
	if (uri == NULL)
		uri = "(null)";
	ck_assert_msg(r == want, "%.80s: got %d (%s), want %d", uri, r, err,
	    want);
	if (msg_part != NULL)
		ck_assert_msg(strstr(err, msg_part) != NULL, "%.80s: '%s'", uri,
		    err);
}

START_TEST(test_uri_hostile)
{
	char code[INVITE_CODE_MAX], uri[INVITE_URI_MAX * 2], *big;
	size_t n;
	int i;

	minimal_code(code, sizeof(code));

	expect_uri("", INVITE_ERR_EMPTY, NULL);
	expect_uri(NULL, INVITE_ERR_EMPTY, NULL);
	expect_uri("https://example.org/join?token=x", INVITE_ERR_PREFIX,
	    "not an Atmosphere invite URI");
	expect_uri("atmosphere://leave?token=x", INVITE_ERR_URI, "expected");
	expect_uri("atmosphere://join", INVITE_ERR_URI, NULL);
	expect_uri("atmosphere://join?", INVITE_ERR_URI, "no token");
	expect_uri("atmosphere://join?mesh=Home", INVITE_ERR_URI, "no token");
	expect_uri("atmosphere://join?token=", INVITE_ERR_URI, "no token");
	expect_uri("atmosphere://join?token=%", INVITE_ERR_URI, "escape");
	expect_uri("atmosphere://join?token=%4", INVITE_ERR_URI, "escape");
	expect_uri("atmosphere://join?token=%G1", INVITE_ERR_URI, "escape");
	expect_uri("atmosphere://join?token=ATM-%00", INVITE_ERR_URI, "NUL");

	snprintf(uri, sizeof(uri), "atmosphere://join?token=%s&token=%s", code,
	    code);
	expect_uri(uri, INVITE_ERR_URI, "twice");
	snprintf(uri, sizeof(uri), "atmosphere://join?token=%s&endpoints=%%7Bnot"
	    "%%20json", code);
	expect_uri(uri, INVITE_ERR_FIELD, "invalid JSON");
	snprintf(uri, sizeof(uri), "atmosphere://join?token=%s&endpoints={\"local"
	    "\":\"udp://1.2.3.4:5\"", code);
	expect_uri(uri, INVITE_ERR_URI, "never closes");
	snprintf(uri, sizeof(uri), "atmosphere://join?token=%s&endpoints={}x",
	    code);
	expect_uri(uri, INVITE_ERR_URI, "after the endpoints");
	snprintf(uri, sizeof(uri), "atmosphere://join?token=%s&endpoints="
	    "%%5B1,2%%5D", code);
	expect_uri(uri, INVITE_ERR_FIELD, "not an object");
	snprintf(uri, sizeof(uri), "atmosphere://join?token=%s&endpoints="
	    "{\"local\":5}", code);
	expect_uri(uri, INVITE_ERR_FIELD, "endpoints.local");
	snprintf(uri, sizeof(uri), "atmosphere://join?token=%s&endpoints="
	    "{\"public\":\"ws://1.2.3.4:5\"}", code);
	/* a node endpoint over WebSocket: its own error (test_uri_transport) */
	expect_uri(uri, INVITE_ERR_TRANSPORT, "endpoints.public");
	snprintf(uri, sizeof(uri), "atmosphere://join?token=%s&endpoints="
	    "{\"relay\":\"udp://1.2.3.4:5\"}", code);
	expect_uri(uri, INVITE_ERR_FIELD, "endpoints.relay");
	snprintf(uri, sizeof(uri), "atmosphere://join?token=%s&endpoints="
	    "{\"relay\":\"ws://a\\u0000b\"}", code);
	expect_uri(uri, INVITE_ERR_FIELD, "endpoints");
	snprintf(uri, sizeof(uri), "atmosphere://join?token=%s&endpoints="
	    "{\"local\":\"udp://1.2.3.4:5\",\"local\":\"udp://1.2.3.4:6\"}",
	    code);
	expect_uri(uri, INVITE_ERR_FIELD, "invalid JSON");
	snprintf(uri, sizeof(uri), "atmosphere://join?token=%s&endpoints="
	    "{\"a\":\"\\\"}&\"}", code);	/* quote and & inside a string */
	expect_uri(uri, INVITE_OK, NULL);

	/* deep nesting: jansson's depth limit, no stack overflow */
	n = snprintf(uri, sizeof(uri), "atmosphere://join?token=%s&endpoints=",
	    code);
	for (i = 0; i < 1900; i++)
		uri[n++] = '[';
	for (i = 0; i < 1900; i++)
		uri[n++] = ']';
	uri[n] = '\0';
	expect_uri(uri, INVITE_ERR_FIELD, "endpoints");
	n = snprintf(uri, sizeof(uri), "atmosphere://join?token=%s&endpoints=",
	    code);
	for (i = 0; i < 1200; i++)
		uri[n++] = '{', uri[n++] = '"', uri[n++] = '"', uri[n++] = ':';
	uri[n] = '\0';
	expect_uri(uri, INVITE_ERR_TOOLONG, NULL);
	n = snprintf(uri, sizeof(uri), "atmosphere://join?token=%s&endpoints=",
	    code);
	for (i = 0; i < 600; i++)
		uri[n++] = '{', uri[n++] = '"', uri[n++] = '"', uri[n++] = ':';
	uri[n] = '\0';
	expect_uri(uri, INVITE_ERR_URI, "never closes");

	/* huge */
	big = malloc(1 << 20);
	n = snprintf(big, 1 << 20, "atmosphere://join?token=%s&pad=", code);
	memset(big + n, 'a', (1 << 20) - n - 1);
	big[(1 << 20) - 1] = '\0';
	expect_uri(big, INVITE_ERR_TOOLONG, "too long");
	big[INVITE_URI_MAX] = '\0';
	expect_uri(big, INVITE_OK, NULL);	/* exactly the limit */
	big[INVITE_URI_MAX + 1] = '\0';
	big[INVITE_URI_MAX] = 'a';
	expect_uri(big, INVITE_ERR_TOOLONG, NULL);
	free(big);
}
END_TEST

/* Thousands of random strings built from the characters that matter to the
 * parsers: whatever they return, they return (ASan watches the rest). */
START_TEST(test_random_input)
{
	static const char set[] = "%&=+{}[]\":,\\/ATM-0123456789abcdefUZ \n";
	char code[INVITE_CODE_MAX], s[INVITE_URI_MAX + 64], err[128];
	struct invite b;
	size_t n, i, len;
	int iter;

	minimal_code(code, sizeof(code));
	for (iter = 0; iter < 20000; iter++) {
		switch (iter % 4) {
		case 0:		/* random bytes */
			len = rng() % 600;
			for (i = 0; i < len; i++)
				s[i] = 1 + rng() % 255;
			s[len] = '\0';
			break;
		case 1:		/* a code, mangled */
			n = strlen(code);
			memcpy(s, code, n + 1);
			for (i = rng() % 4; i > 0; i--)
				s[4 + rng() % (n - 4)] = set[rng() % (sizeof(set) - 1)];
			s[rng() % (n + 1)] = '\0';
			break;
		default:	/* a URI of the significant characters */
			n = snprintf(s, sizeof(s), "atmosphere://join?%s",
			    (iter & 1) ? "token=" : "endpoints=");
			if (iter & 2)
				n += snprintf(s + n, sizeof(s) - n, "%s&", code);
			len = n + rng() % 300;
			for (i = n; i < len; i++)
				s[i] = set[rng() % (sizeof(set) - 1)];
			s[len] = '\0';
		}
		(void)invite_parse(s, NOW, &b, err, sizeof(err));
		(void)invite_uri_parse(s, NOW, &b, err, sizeof(err));
		(void)invite_decode(s, NOW, &b, err, sizeof(err));
	}
}
END_TEST

START_TEST(test_json)
{
	struct invite a, b;
	json_t *o, *ep, *ni;
	char *dump;

	make_invite(&a);
	o = invite_to_json(&a);
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(json_integer_value(json_object_get(o, "version")), 1);
	ck_assert_str_eq(json_string_value(json_object_get(o, "mesh_name")),
	    "Home Mesh");
	ck_assert_str_eq(json_string_value(json_object_get(o, "mesh_id")),
	    "101112131415161718191a1b1c1d1e1f");
	ck_assert_str_eq(json_string_value(json_object_get(o, "inviter_id")),
	    "a0a1a2a3a4a5a6a7");
	ck_assert_uint_eq(strlen(json_string_value(json_object_get(o,
	    "inviter_public_key"))), 64);
	ck_assert_str_eq(json_string_value(json_object_get(o, "expires_at")),
	    "2033-05-18T03:33:20Z");
	ck_assert_int_eq(json_integer_value(json_object_get(o, "expires")),
	    EXPIRES);
	ck_assert_int_eq(json_integer_value(json_object_get(o, "max_uses")), 3);
	ep = json_object_get(o, "endpoints");
	ck_assert_str_eq(json_string_value(json_object_get(ep, "local")),
	    "udp://192.168.86.237:7777");
	ck_assert_str_eq(json_string_value(json_object_get(ep, "public")),
	    "udp://73.45.123.89:40123");
	ck_assert_str_eq(json_string_value(json_object_get(ep, "relay")),
	    "wss://relay.example.org:8080/v1/relay/abc123");
	ck_assert_str_eq(json_string_value(json_object_get(o, "endpoint")),
	    "udp://73.45.123.89:40123");
	ni = json_object_get(o, "network_info");
	ck_assert_str_eq(json_string_value(json_object_get(ni, "local_ip")),
	    "192.168.86.237");
	ck_assert_str_eq(json_string_value(json_object_get(ni, "public_ip")),
	    "73.45.123.89");
	ck_assert(json_is_true(json_object_get(ni, "is_behind_nat")));
	ck_assert_str_eq(json_string_value(json_object_get(ni, "nat_type")),
	    "endpoint-independent");
	/* the token and URI work; the raw secret is nowhere else */
	ck_assert_int_eq(invite_decode(json_string_value(json_object_get(o,
	    "token")), NOW, &b, NULL, 0), 0);
	assert_invite_eq(&a, &b);
	ck_assert_int_eq(invite_uri_parse(json_string_value(json_object_get(o,
	    "uri")), NOW, &b, NULL, 0), 0);
	ck_assert_ptr_null(json_object_get(o, "secret"));
	ck_assert_ptr_null(json_object_get(o, "join_secret"));
	{
		char hex[2 * INVITE_SECRET_LEN + 1];

		dump = json_dumps(o, 0);
		sodium_bin2hex(hex, sizeof(hex), a.secret, INVITE_SECRET_LEN);
		ck_assert_ptr_null(strstr(dump, hex));
		free(dump);
	}
	json_decref(o);

	/* absent parts are null; legacy endpoint falls back to the relay */
	make_minimal(&a);
	strlcpy(a.ep_relay, "ws://r", sizeof(a.ep_relay));
	o = invite_to_json(&a);
	ep = json_object_get(o, "endpoints");
	ck_assert(json_is_null(json_object_get(ep, "local")));
	ck_assert(json_is_null(json_object_get(ep, "public")));
	ck_assert_str_eq(json_string_value(json_object_get(o, "endpoint")),
	    "ws://r");
	ni = json_object_get(o, "network_info");
	ck_assert(json_is_null(json_object_get(ni, "is_behind_nat")));
	ck_assert(json_is_null(json_object_get(ni, "nat_type")));
	json_decref(o);
	a.ep_relay[0] = '\0';
	o = invite_to_json(&a);
	ck_assert(json_is_null(json_object_get(o, "endpoint")));
	json_decref(o);

	a.max_uses = 0;
	ck_assert_ptr_null(invite_to_json(&a));
}
END_TEST

START_TEST(test_clear_and_strerror)
{
	struct invite a;
	size_t i;
	int e;

	make_invite(&a);
	invite_clear(&a);
	for (i = 0; i < INVITE_SECRET_LEN; i++)
		ck_assert_uint_eq(a.secret[i], 0);
	ck_assert_str_eq(a.mesh_name, "");
	for (e = INVITE_ERR_URI; e <= 0; e++)
		ck_assert_str_ne(invite_strerror(e), "unknown invite error");
	ck_assert_str_eq(invite_strerror(-99), "unknown invite error");
}
END_TEST

/* every field but the relay token at its longest (the public endpoint
 * IPv6, so no tag 11) */
static void
make_longest(struct invite *inv)
{
	size_t i;

	make_invite(inv);
	memset(inv->mesh_name, 'n', INVITE_NAME_MAX);
	inv->mesh_name[INVITE_NAME_MAX] = '\0';
	strlcpy(inv->ep_relay, "wss://", sizeof(inv->ep_relay));
	for (i = 6; i < INVITE_URL_MAX; i++)
		inv->ep_relay[i] = 'r';
	inv->ep_relay[INVITE_URL_MAX] = '\0';
	invite_addr_parse("255.255.255.255:65535", &inv->ep_local);
	invite_addr_parse("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535",
	    &inv->ep_local6);
	inv->ep_public = inv->ep_local6;
	inv->local_ip = inv->ep_local6;
	inv->public_ip = inv->ep_local6;
	memset(inv->nat_type, 'x', INVITE_NAT_TYPE_MAX);
	inv->nat_type[INVITE_NAT_TYPE_MAX] = '\0';
	strlcpy(inv->stun_source, "stun:", sizeof(inv->stun_source));
	memset(inv->stun_source + 5, 's', INVITE_STUN_SOURCE_MAX - 5);
	inv->stun_source[INVITE_STUN_SOURCE_MAX] = '\0';
}

/*
 * Tags 9 (an IPv6 local endpoint beside the IPv4 one) and 10 (the STUN
 * server that reported the public endpoint): round trips in the code, the
 * URI and the JSON; older readers skip them (unknown tags are skipped:
 * test_fields); malformed ones are named; the longest code is 685 bytes.
 */
START_TEST(test_local6_stun_source)
{
	struct invite	 a, b;
	char		 code[INVITE_CODE_MAX], uri[INVITE_URI_MAX], err[256];
	json_t		*o;

	make_invite(&a);
	ck_assert_int_eq(invite_addr_parse("udp://[2001:db8::2]:7777",
	    &a.ep_local6), 0);
	strlcpy(a.stun_source, "stun:stun.l.google.com", sizeof(a.stun_source));
	ck_assert_int_gt(invite_encode(&a, code, sizeof(code)), 0);
	ck_assert_int_eq(invite_decode(code, NOW, &b, err, sizeof(err)), 0);
	assert_invite_eq(&a, &b);
	ck_assert_int_gt(invite_uri_format(&a, uri, sizeof(uri)), 0);
	ck_assert_ptr_nonnull(strstr(uri, "%22local6%22:%22udp://%5B2001:db8::2"
	    "%5D:7777%22"));
	ck_assert_int_eq(invite_uri_parse(uri, NOW, &b, err, sizeof(err)), 0);
	assert_invite_eq(&a, &b);
	o = invite_to_json(&a);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(o,
	    "endpoints"), "local6")), "udp://[2001:db8::2]:7777");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(o,
	    "network_info"), "stun_source")), "stun:stun.l.google.com");
	/* qr_data, as the seeds name it, is the URI */
	ck_assert_str_eq(json_string_value(json_object_get(o, "qr_data")),
	    json_string_value(json_object_get(o, "uri")));
	json_decref(o);
	/* absent: no local6 key, stun_source null */
	a.ep_local6.family = INVITE_AF_NONE;
	a.stun_source[0] = '\0';
	o = invite_to_json(&a);
	ck_assert_ptr_null(json_object_get(json_object_get(o, "endpoints"),
	    "local6"));
	ck_assert(json_is_null(json_object_get(json_object_get(o,
	    "network_info"), "stun_source")));
	json_decref(o);

	/* the encoder refuses what the decoder would */
	invite_addr_parse("10.0.0.1:7777", &a.ep_local6);	/* not IPv6 */
	ck_assert_int_eq(invite_encode(&a, code, sizeof(code)), -1);
	invite_addr_parse("[2001:db8::2]:7777", &a.ep_local6);
	a.ep_local.family = INVITE_AF_NONE;	/* no IPv4 one beside it */
	ck_assert_int_eq(invite_encode(&a, code, sizeof(code)), -1);
	make_invite(&a);
	strlcpy(a.stun_source, "stun.l.google.com", sizeof(a.stun_source));
	ck_assert_int_eq(invite_encode(&a, code, sizeof(code)), -1);
	strlcpy(a.stun_source, "stun:", sizeof(a.stun_source));
	ck_assert_int_eq(invite_encode(&a, code, sizeof(code)), -1);
	strlcpy(a.stun_source, "stun:a b", sizeof(a.stun_source));
	ck_assert_int_eq(invite_encode(&a, code, sizeof(code)), -1);
	strlcpy(a.stun_source, "stun:[2001:db8::1]:3478", sizeof(a.stun_source));
	ck_assert_int_gt(invite_encode(&a, code, sizeof(code)), 0);

	/* malformed tags 9 and 10, named */
	expect_field(TLV(1, 1, 'a', 2, 7, 1, 0x1e, 0x61, 10, 0, 0, 1,
	    9, 7, 1, 0x1e, 0x61, 10, 0, 0, 2), "endpoints.local6");  /* IPv4 */
	expect_field(TLV(1, 1, 'a', 9, 19, 2, 0x1e, 0x61, 0x20, 1, 0xd, 0xb8,
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2), "endpoints.local6");  /* alone */
	expect_field(TLV(1, 1, 'a', 2, 7, 1, 0x1e, 0x61, 10, 0, 0, 1,
	    9, 19, 2, 0, 0, 0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    2),
	    "endpoints.local6");				/* port 0 */
	expect_field(TLV(1, 1, 'a', 10, 4, 's', 't', 'u', 'n'),
	    "network_info.stun_source");
	expect_field(TLV(1, 1, 'a', 10, 7, 's', 't', 'u', 'n', ':', 'a', '/'),
	    "network_info.stun_source");
	expect_field(TLV(1, 1, 'a', 10, 6, 's', 't', 'u', 'n', ':', 'a',
	    10, 6, 's', 't', 'u', 'n', ':', 'b'), "network_info.stun_source");

	/* every field at its longest: 685 bytes, as invite.h says */
	make_longest(&a);
	ck_assert_int_eq(invite_encode(&a, code, sizeof(code)),
	    4 + (685 * 8 + 4) / 5);
	ck_assert_int_eq(invite_decode(code, NOW, &b, NULL, 0), 0);
	assert_invite_eq(&a, &b);
	ck_assert_int_gt(invite_uri_format(&a, uri, sizeof(uri)), 0);
	ck_assert_int_eq(invite_uri_parse(uri, NOW, &b, NULL, 0), 0);
	assert_invite_eq(&a, &b);
	invite_clear(&a);
	invite_clear(&b);
}
END_TEST

/*
 * Tag 11: the IPv6 public endpoint beside the IPv4 one (issue 13, item 6).
 * Round trips in the code, the URI and the JSON; an older reader skips it
 * and keeps the rest; hostile TLVs (truncated, wrong length, IPv4 inside,
 * port 0, alone, twice) are refused by name; the encoder refuses what the
 * decoder would; the longest code with it stays under INVITE_BLOB_MAX.
 */
START_TEST(test_public6)
{
	struct invite	 a, b;
	char		 code[INVITE_CODE_MAX], uri[INVITE_URI_MAX], err[256];
	uint8_t		 blob[INVITE_BLOB_MAX];
	json_t		*o;
	size_t		 i, n;

	make_invite(&a);
	ck_assert_int_eq(invite_addr_parse("udp://[2001:db8::2]:7777",
	    &a.ep_local6), 0);
	ck_assert_int_eq(invite_addr_parse("[2001:db8:a::2]:40000",
	    &a.ep_public6), 0);
	ck_assert_int_gt(invite_encode(&a, code, sizeof(code)), 0);
	ck_assert_int_eq(invite_decode(code, NOW, &b, err, sizeof(err)), 0);
	assert_invite_eq(&a, &b);
	ck_assert_int_eq(b.ep_public6.port, 40000);
	ck_assert_int_gt(invite_uri_format(&a, uri, sizeof(uri)), 0);
	ck_assert_ptr_nonnull(strstr(uri, "%22public6%22:%22udp://%5B2001:db8:a"
	    "::2%5D:40000%22"));
	ck_assert_int_eq(invite_uri_parse(uri, NOW, &b, err, sizeof(err)), 0);
	assert_invite_eq(&a, &b);
	o = invite_to_json(&a);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(o,
	    "endpoints"), "public6")), "udp://[2001:db8:a::2]:40000");
	json_decref(o);
	/* absent: no public6 key */
	b = a;
	b.ep_public6.family = INVITE_AF_NONE;
	o = invite_to_json(&b);
	ck_assert_ptr_null(json_object_get(json_object_get(o, "endpoints"),
	    "public6"));
	json_decref(o);

	/* a reader without tag 11 skips it: here, the same code with the
	 * tag renumbered to an unknown one reads as the code without it */
	ck_assert_int_gt(invite_encode(&a, code, sizeof(code)), 0);
	n = to_blob(code, blob);
	for (i = INVITE_FIXED_LEN; i + 2 <= n - 4; i += 2 + blob[i + 1])
		if (blob[i] == 11)
			blob[i] = 15;
	from_blob(blob, n - 4, code, sizeof(code));
	ck_assert_int_eq(invite_decode(code, NOW, &b, err, sizeof(err)), 0);
	ck_assert_int_eq(b.ep_public6.family, INVITE_AF_NONE);
	assert_addr_eq(&a.ep_public, &b.ep_public);
	assert_addr_eq(&a.ep_local6, &b.ep_local6);

	/* URI only: public6 fills what the token lacks, and an IPv6
	 * public6 alone is the public endpoint */
	b = a;
	b.ep_public.family = INVITE_AF_NONE;
	b.ep_public6.family = INVITE_AF_NONE;
	ck_assert_int_gt(invite_encode(&b, code, sizeof(code)), 0);
	snprintf(uri, sizeof(uri), "atmosphere://join?token=%s&endpoints="
	    "{\"public6\":\"udp://[2001:db8:a::2]:40000\"}", code);
	ck_assert_int_eq(invite_uri_parse(uri, NOW, &b, err, sizeof(err)), 0);
	ck_assert_int_eq(b.ep_public.family, INVITE_AF_INET6);
	ck_assert_int_eq(b.ep_public6.family, INVITE_AF_NONE);
	snprintf(uri, sizeof(uri), "atmosphere://join?token=%s&endpoints="
	    "{\"public\":\"1.2.3.4:5\",\"public6\":\"udp://[2001:db8:a::2]:"
	    "40000\"}", code);
	ck_assert_int_eq(invite_uri_parse(uri, NOW, &b, err, sizeof(err)), 0);
	ck_assert_int_eq(b.ep_public.family, INVITE_AF_INET);
	ck_assert_int_eq(b.ep_public6.port, 40000);
	snprintf(uri, sizeof(uri), "atmosphere://join?token=%s&endpoints="
	    "{\"public6\":\"udp://1.2.3.4:5\"}", code);
	ck_assert_int_eq(invite_uri_parse(uri, NOW, &b, err, sizeof(err)),
	    INVITE_ERR_FIELD);
	snprintf(uri, sizeof(uri), "atmosphere://join?token=%s&endpoints="
	    "{\"public6\":\"ws://[2001:db8::1]:80\"}", code);
	ck_assert_int_eq(invite_uri_parse(uri, NOW, &b, err, sizeof(err)),
	    INVITE_ERR_TRANSPORT);

	/* the encoder refuses what the decoder would */
	b = a;
	invite_addr_parse("10.0.0.1:7777", &b.ep_public6);	/* not IPv6 */
	ck_assert_int_eq(invite_encode(&b, code, sizeof(code)), -1);
	b = a;
	b.ep_public6.port = 0;
	ck_assert_int_eq(invite_encode(&b, code, sizeof(code)), -1);
	b = a;
	b.ep_public.family = INVITE_AF_NONE;	/* no IPv4 one beside it */
	ck_assert_int_eq(invite_encode(&b, code, sizeof(code)), -1);
	b = a;
	b.ep_public = b.ep_public6;		/* an IPv6 one beside it */
	ck_assert_int_eq(invite_encode(&b, code, sizeof(code)), -1);

	/* hostile tag 11, named */
#define PUB4	3, 7, 1, 0x9c, 0x40, 73, 45, 123, 89
#define V6ADDR	0x20, 1, 0xd, 0xb8, 0, 0xa, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2
	code_with_tlvs(TLV(1, 1, 'a', PUB4, 11, 19, 2, 0x9c, 0x40, V6ADDR),
	    code, sizeof(code));
	ck_assert_int_eq(invite_decode(code, NOW, &b, err, sizeof(err)), 0);
	ck_assert_int_eq(b.ep_public6.family, INVITE_AF_INET6);
	ck_assert_int_eq(b.ep_public6.port, 40000);
	expect_field(TLV(1, 1, 'a', PUB4, 11, 7, 1, 0x9c, 0x40, 10, 0, 0, 2),
	    "endpoints.public6");				/* IPv4 */
	expect_field(TLV(1, 1, 'a', PUB4, 11, 18, 2, 0x9c, 0x40, 0x20, 1, 0xd,
	    0xb8, 0, 0xa, 0, 0, 0, 0, 0, 0, 0, 0, 0),
	    "endpoints.public6");				/* 15-byte address */
	expect_field(TLV(1, 1, 'a', PUB4, 11, 20, 2, 0x9c, 0x40, V6ADDR, 0),
	    "endpoints.public6");				/* a byte too many */
	expect_field(TLV(1, 1, 'a', PUB4, 11, 3, 2, 0x9c, 0x40),
	    "endpoints.public6");				/* no address */
	expect_field(TLV(1, 1, 'a', PUB4, 11, 0), "endpoints.public6");
	expect_field(TLV(1, 1, 'a', PUB4, 11, 19, 3, 0x9c, 0x40, V6ADDR),
	    "endpoints.public6");				/* family 3 */
	expect_field(TLV(1, 1, 'a', PUB4, 11, 19, 2, 0, 0, V6ADDR),
	    "endpoints.public6");				/* port 0 */
	expect_field(TLV(1, 1, 'a', 11, 19, 2, 0x9c, 0x40, V6ADDR),
	    "endpoints.public6");				/* alone */
	expect_field(TLV(1, 1, 'a', 3, 19, 2, 0x9c, 0x40, V6ADDR,
	    11, 19, 2, 0x9c, 0x41, V6ADDR), "endpoints.public6"); /* beside v6 */
	expect_field(TLV(1, 1, 'a', PUB4, 11, 19, 2, 0x9c, 0x40, V6ADDR,
	    11, 19, 2, 0x9c, 0x41, V6ADDR), "endpoints.public6");  /* twice */
	expect_field(TLV(1, 1, 'a', PUB4, 11, 19, 2, 0x9c, 0x40, 0x20, 1),
	    "fields");					/* cut by the end */
#undef PUB4
#undef V6ADDR
	/* the code cut anywhere inside tag 11: truncated, never read */
	make_invite(&a);
	invite_addr_parse("[2001:db8:a::2]:40000", &a.ep_public6);
	n = (size_t)invite_encode(&a, code, sizeof(code));
	for (i = n - 40; i < n; i++) {
		char cut[INVITE_CODE_MAX];

		memcpy(cut, code, i);
		cut[i] = '\0';
		ck_assert_int_lt(invite_decode(cut, NOW, &b, NULL, 0), 0);
		ck_assert_int_eq(b.ep_public6.family, INVITE_AF_NONE);
	}

	/* every field at its longest, tag 11 and a relay token included:
	 * 951 bytes, under INVITE_BLOB_MAX as invite.h says */
	make_longest(&a);
	a.ep_public = a.ep_local;		/* IPv4, and tag 11 beside it */
	a.ep_public6 = a.ep_local6;
	memset(a.relay_token, 't', INVITE_TOKEN_MAX);
	a.relay_token[INVITE_TOKEN_MAX] = '\0';
	ck_assert_int_eq(invite_encode(&a, code, sizeof(code)),
	    4 + (951 * 8 + 4) / 5);
	ck_assert_int_eq(invite_decode(code, NOW, &b, NULL, 0), 0);
	assert_invite_eq(&a, &b);
	invite_clear(&a);
	invite_clear(&b);
}
END_TEST

START_TEST(test_nat_type_word)
{
	static const char *cases[][2] = {
		{ "port-restricted cone", "port-restricted-cone" },
		{ "full cone", "full-cone" },
		{ "restricted cone", "restricted-cone" },
		{ "symmetric", "symmetric" },
		{ "open internet", "open-internet" },
		{ "cone (filtering unknown)", "cone-filtering-unknown" },
		{ "  Odd  NAME!! ", "odd-name" },
		{ "unknown", "" },
		{ "", "" },
		{ "()", "" },
	};
	struct invite	a, b;
	char		w[INVITE_NAT_TYPE_MAX + 1], code[INVITE_CODE_MAX];
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_str_eq(invite_nat_type_word(cases[i][0], w,
		    sizeof(w)), cases[i][1]);
	ck_assert_str_eq(invite_nat_type_word(NULL, w, sizeof(w)), "");
	/* cut to the field's 31 characters, never ending in '-' */
	invite_nat_type_word("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa bbbbbbb", w,
	    sizeof(w));
	ck_assert_uint_le(strlen(w), INVITE_NAT_TYPE_MAX);
	ck_assert_int_ne(w[strlen(w) - 1], '-');
	invite_nat_type_word("full cone", w, 5);
	ck_assert_str_eq(w, "full");
	/* every word it makes is a valid nat_type */
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		make_invite(&a);
		invite_nat_type_word(cases[i][0], a.nat_type,
		    sizeof(a.nat_type));
		ck_assert_int_gt(invite_encode(&a, code, sizeof(code)), 0);
		ck_assert_int_eq(invite_decode(code, NOW, &b, NULL, 0), 0);
		ck_assert_str_eq(b.nat_type, cases[i][1]);
	}
}
END_TEST

/* the seeds' ws:// node endpoints: an error that says what is wrong */
START_TEST(test_uri_transport)
{
	static const char *eps[] = {
		"endpoints={\"local\":\"ws://192.168.86.237:11451\","
		"\"public\":\"ws://73.45.123.89:11451\",\"relay\":"
		"\"wss://relay.atmosphere.io/mesh/abc123\"}",
		"endpoints=%7B%22public%22:%22wss://73.45.123.89:11451%22%7D",
		"endpoints={\"local\":\"tcp://10.0.0.1:7777\"}",
		"endpoints={\"local6\":\"http://[2001:db8::1]:80\"}",
	};
	static const char *which[] = { "local", "public", "local", "local6" };
	struct invite	a, b;
	char		code[INVITE_CODE_MAX], uri[INVITE_URI_MAX], err[256];
	size_t		i;

	make_invite(&a);
	ck_assert_int_gt(invite_encode(&a, code, sizeof(code)), 0);
	for (i = 0; i < sizeof(eps) / sizeof(eps[0]); i++) {
		snprintf(uri, sizeof(uri), "atmosphere://join?token=%s&%s",
		    code, eps[i]);
		ck_assert_int_eq(invite_uri_parse(uri, NOW, &b, err,
		    sizeof(err)), INVITE_ERR_TRANSPORT);
		ck_assert_msg(strstr(err, which[i]) != NULL &&
		    strstr(err, "udp://IP:PORT") != NULL, "%s", err);
		ck_assert_int_eq(b.expires, 0);		/* zeroed */
	}
	/* the seeds' own token (not ours) with ws:// endpoints: the
	 * transport is what the user hears about, not a checksum */
	ck_assert_int_eq(invite_parse("atmosphere://join?token=ATM-XXX&mesh=Home"
	    "&endpoints={\"local\":\"ws://192.168.86.237:11451\"}", NOW, &b,
	    err, sizeof(err)), INVITE_ERR_TRANSPORT);
	ck_assert_msg(strstr(err, "ws://192.168.86.237:11451") != NULL, "%s",
	    err);
	ck_assert_str_eq(invite_strerror(INVITE_ERR_TRANSPORT),
	    "invite endpoint uses a transport nodes do not speak");
	/* udp:// and bare IP:PORT still read; a ws:// relay too */
	snprintf(uri, sizeof(uri), "atmosphere://join?token=%s&endpoints="
	    "{\"local\":\"UDP://10.0.0.1:7777\",\"relay\":\"ws://r:1\"}", code);
	ck_assert_int_eq(invite_uri_parse(uri, NOW, &b, err, sizeof(err)), 0);
	invite_clear(&a);
	invite_clear(&b);
}
END_TEST

Suite *
invite_suite(void)
{
	Suite *s = suite_create("invite");
	TCase *tc = tcase_create("code");
	TCase *tu = tcase_create("uri");

	tcase_add_test(tc, test_b32);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_longest);
	tcase_add_test(tc, test_relay_token);
	tcase_add_test(tc, test_encode_refuses);
	tcase_add_test(tc, test_typo_every_position);
	tcase_add_test(tc, test_truncated_every_length);
	tcase_add_test(tc, test_prefix_empty_chars);
	tcase_add_test(tc, test_version);
	tcase_add_test(tc, test_expired);
	tcase_add_test(tc, test_fields);
	tcase_add_test(tc, test_fixed_fields);
	tcase_add_test(tc, test_addr);
	tcase_add_test(tc, test_clear_and_strerror);
	tcase_add_test(tc, test_local6_stun_source);
	tcase_add_test(tc, test_public6);
	tcase_add_test(tc, test_nat_type_word);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tcase_add_test(tu, test_uri_roundtrip);
	tcase_add_test(tu, test_uri_forms);
	tcase_add_test(tu, test_uri_hostile);
	tcase_add_test(tu, test_random_input);
	tcase_add_test(tu, test_json);
	tcase_add_test(tu, test_uri_transport);
	tcase_set_timeout(tu, 120);
	suite_add_tcase(s, tu);
	return s;
}
