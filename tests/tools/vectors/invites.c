/*
 * tests/tools/vectors: the invite cases, codes and URIs as invite_parse()
 * reads them (the "invites" array; vectors.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "proto/invite.h"
#include "vectors.h"

static void
invite_a(struct invite *inv)
{
	invite_init(inv);
	memset(inv->mesh_id, 0x11, sizeof(inv->mesh_id));
	strlcpy(inv->mesh_name, "Home Mesh", sizeof(inv->mesh_name));
	memcpy(inv->inviter_id, ID_A, 8);
	memcpy(inv->inviter_pk, pk_a, 32);
	memset(inv->secret, 0x33, sizeof(inv->secret));
	inv->expires = NOW_A + 3600;
	inv->max_uses = 1;
	invite_addr_parse("udp://192.168.86.237:7777", &inv->ep_local);
	invite_addr_parse("udp://73.45.123.89:40123", &inv->ep_public);
	strlcpy(inv->ep_relay, "wss://relay.example.org:8080",
	    sizeof(inv->ep_relay));
	invite_addr_parse("192.168.86.237:1", &inv->local_ip);
	inv->local_ip.port = 0;
	invite_addr_parse("73.45.123.89:1", &inv->public_ip);
	inv->public_ip.port = 0;
	inv->behind_nat = 1;
	strlcpy(inv->nat_type, "endpoint-independent", sizeof(inv->nat_type));
}

static json_t *
addr_j(const struct invite_addr *a, const char *scheme)
{
	char buf[80];

	return a->family ? json_string(invite_addr_str(a, scheme, buf,
	    sizeof(buf))) : json_null();
}

static json_t *
invite_j(const struct invite *inv)
{
	return json_pack("{s:o s:s s:o s:o s:o s:I s:i s:o s:o s:s s:o s:o "
	    "s:i s:s s:o s:o s:s s:s}",
	    "mesh_id", hexj(inv->mesh_id, 16), "mesh_name", inv->mesh_name,
	    "inviter_id", hexj(inv->inviter_id, 8),
	    "inviter_pk", hexj(inv->inviter_pk, 32),
	    "secret", hexj(inv->secret, 32), "expires", (json_int_t)inv->expires,
	    "max_uses", inv->max_uses, "ep_local", addr_j(&inv->ep_local,
	    "udp://"), "ep_public", addr_j(&inv->ep_public, "udp://"),
	    "ep_relay", inv->ep_relay, "local_ip", addr_j(&inv->local_ip, NULL),
	    "public_ip", addr_j(&inv->public_ip, NULL),
	    "behind_nat", inv->behind_nat, "nat_type", inv->nat_type,
	    "ep_local6", addr_j(&inv->ep_local6, "udp://"),
	    "ep_public6", addr_j(&inv->ep_public6, "udp://"),
	    "stun_source", inv->stun_source, "relay_token", inv->relay_token);
}

static const char *
err_name(int r)
{
	static const char *n[] = { "ok", "empty", "prefix", "char",
	    "truncated", "checksum", "version", "expired", "field", "toolong",
	    "uri" };

	return r <= 0 && r >= -10 ? n[-r] : "?";
}

/* one case: what invite_parse says of s at now */
static void
parse_case(json_t *arr, const char *what, const char *s, uint64_t now)
{
	struct invite	inv;
	char		err[300] = "";
	int		r = invite_parse(s, now, &inv, err, sizeof(err));

	json_array_append_new(arr, json_pack("{s:s s:s s:I s:s s:s s:o}",
	    "what", what, "input", s, "now", (json_int_t)now,
	    "result", err_name(r), "error", err,
	    "invite", r == INVITE_OK || r == INVITE_ERR_EXPIRED ?
	    invite_j(&inv) : json_null()));
	invite_clear(&inv);
}

/* inv's code (into code, cap bytes) and URI, a case each: what and
 * "what, URI" */
static void
parse_code_uri(json_t *arr, const char *what, const struct invite *inv,
    char *code, size_t cap)
{
	char	uri[INVITE_URI_MAX], w[80];

	invite_encode(inv, code, cap);
	parse_case(arr, what, code, NOW_A);
	invite_uri_format(inv, uri, sizeof(uri));
	snprintf(w, sizeof(w), "%s, URI", what);
	parse_case(arr, w, uri, NOW_A);
}

/*
 * code's blob with its version byte set to version and tlv (tlen bytes)
 * added after its fields, its length and checksum made right again: a
 * code only a hand could write
 */
static void
code_edit(const char *code, uint8_t version, const void *tlv, size_t tlen,
    char *out, size_t cap)
{
	uint8_t		blob[INVITE_BLOB_MAX], h[16];
	unsigned	trailing;
	size_t		bad;
	int		n = invite_b32_decode(code + 4, blob, sizeof(blob),
			    &trailing, &bad);

	if (n < 4 || n + tlen > sizeof(blob))
		abort();
	blob[0] = version;
	if (tlen > 0)
		memcpy(blob + n - 4, tlv, tlen);
	n += (int)tlen;
	blob[1] = (uint8_t)(n >> 8);
	blob[2] = (uint8_t)n;
	crypto_generichash(h, sizeof(h), blob, n - 4, NULL, 0);
	memcpy(blob + n - 4, h, 4);
	memcpy(out, "ATM-", 4);
	invite_b32_encode(blob, n, out + 4, cap - 4);
}

/* code with one more TLV, an address: addr's IP ("IP:PORT") at port */
static void
code_plus_addr(const char *code, uint8_t tag, const char *addr,
    uint16_t port, char *out, size_t cap)
{
	struct invite_addr	a;
	uint8_t			t[2 + 3 + 16];
	size_t			alen;

	if (invite_addr_parse(addr, &a) != 0)
		abort();
	alen = a.family == INVITE_AF_INET ? 4 : 16;
	t[0] = tag;
	t[1] = (uint8_t)(3 + alen);
	t[2] = a.family;
	t[3] = (uint8_t)(port >> 8);
	t[4] = (uint8_t)port;
	memcpy(t + 5, a.addr, alen);
	code_edit(code, 1, t, 2 + t[1], out, cap);
}

static void
code_plus_str(const char *code, uint8_t tag, const char *v, char *out,
    size_t cap)
{
	uint8_t t[2 + 255];
	size_t	n = strlen(v);

	t[0] = tag;
	t[1] = (uint8_t)n;
	memcpy(t + 2, v, n);
	code_edit(code, 1, t, 2 + n, out, cap);
}

/*
 * Tags 9-11 (the IPv6 endpoints beside IPv4 ones, the STUN source) and
 * 16 (a relay token): read, skipped when later (12), and every form a
 * reader refuses. Codes: a (invite A,
 * IPv4 tags 2 and 3), n (A without them), v6 (A with IPv6 ones).
 */
static void
invites_tags6(json_t *arr)
{
	static const struct {
		const char	*what;
		char		 base;	/* a, n or 6 */
		uint8_t		 tag;
		const char	*addr;
		uint16_t	 port;
	} addrs[] = {
		{ "tag 9 IPv4", 'a', 9, "192.168.1.2:7777", 7777 },
		{ "tag 9 port 0", 'a', 9, "[2001:db8::2]:1", 0 },
		{ "tag 9 without tag 2", 'n', 9, "[2001:db8::2]:1", 7777 },
		{ "tag 9 beside an IPv6 tag 2", '6', 9, "[2001:db8::2]:1", 7777 },
		{ "tag 11 IPv4", 'a', 11, "1.2.3.4:5", 5 },
		{ "tag 11 port 0", 'a', 11, "[2001:db8::2]:1", 0 },
		{ "tag 11 without tag 3", 'n', 11, "[2001:db8::2]:1", 7777 },
		{ "tag 11 beside an IPv6 tag 3", '6', 11, "[2001:db8::2]:1", 7777 },
		{ "tag 9 twice", 'f', 9, "[2001:db8::3]:1", 7777 },
		{ "tag 11 twice", 'f', 11, "[2001:db8::3]:1", 7777 },
	};
	static const struct {
		const char	*what;
		uint8_t		 tag;
		const char	*v;
	} strs[] = {
		{ "tag 10 [v6]:port", 10, "stun:[2001:db8::1]:3478" },
		{ "tag 10 stun: only", 10, "stun:" },
		{ "tag 10 a blank", 10, "stun:a b" },
		{ "tag 10 upper-case scheme", 10, "STUN:a" },
		{ "tag 10 UTF-8", 10, "stun:caf\xc3\xa9" },
		{ "tag 9 of 7 bytes", 9, "\x02\x1e" "aabcd" },
		{ "tag 12, later: skipped", 12, "later" },
		{ "tag 16", 16, "tok.EN_1-a" },
		{ "tag 16 a blank", 16, "tok en" },
		{ "tag 16 empty", 16, "" },
	};
	struct invite	inv;
	char		a[INVITE_CODE_MAX], n[INVITE_CODE_MAX], v6[INVITE_CODE_MAX];
	char		f[INVITE_CODE_MAX], s[INVITE_CODE_MAX], uri[INVITE_URI_MAX];
	char		src[INVITE_STUN_SOURCE_MAX + 2], t16[INVITE_CODE_MAX];
	const char	*base;
	size_t		i;

	invite_a(&inv);
	invite_encode(&inv, a, sizeof(a));
	invite_addr_parse("udp://[2001:db8::2]:7777", &inv.ep_local6);
	invite_addr_parse("udp://[2001:db8::2]:7777", &inv.ep_public6);
	strlcpy(inv.stun_source, "stun:stun.example.org:3478",
	    sizeof(inv.stun_source));
	parse_code_uri(arr, "tags 9, 10 and 11", &inv, f, sizeof(f));
	memset(&inv.ep_local6, 0, sizeof(inv.ep_local6));
	memset(&inv.ep_public6, 0, sizeof(inv.ep_public6));
	inv.stun_source[0] = '\0';
	memset(&inv.ep_local, 0, sizeof(inv.ep_local));
	memset(&inv.ep_public, 0, sizeof(inv.ep_public));
	invite_encode(&inv, n, sizeof(n));
	invite_addr_parse("udp://[2001:db8::4]:7777", &inv.ep_local);
	invite_addr_parse("udp://[2001:db8::5]:7777", &inv.ep_public);
	invite_encode(&inv, v6, sizeof(v6));
	invite_clear(&inv);
	for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		base = addrs[i].base == 'a' ? a : addrs[i].base == 'n' ? n :
		    addrs[i].base == '6' ? v6 : f;
		code_plus_addr(base, addrs[i].tag, addrs[i].addr,
		    addrs[i].port, s, sizeof(s));
		parse_case(arr, addrs[i].what, s, NOW_A);
	}
	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		code_plus_str(a, strs[i].tag, strs[i].v, s, sizeof(s));
		parse_case(arr, strs[i].what, s, NOW_A);
	}
	code_plus_str(f, 10, "stun:b", s, sizeof(s));
	parse_case(arr, "tag 10 twice", s, NOW_A);
	code_plus_str(a, 16, "t1", t16, sizeof(t16));
	code_plus_str(t16, 16, "t2", s, sizeof(s));
	parse_case(arr, "tag 16 twice", s, NOW_A);
	/* the URI's JSON: an IPv6 one beside an IPv4 one, else in its place */
	snprintf(uri, sizeof(uri), "atmosphere://join?token=%s&endpoints={"
	    "\"local\":\"udp://10.0.0.1:1\",\"local6\":\"udp://[2001:db8::9]:7777\","
	    "\"public6\":\"[2001:db8::8]:1\"}", n);
	parse_case(arr, "URI, local6 and public6", uri, NOW_A);
	snprintf(uri, sizeof(uri), "atmosphere://join?token=%s&endpoints={"
	    "\"local6\":\"udp://[2001:db8::9]:7777\"}", f);
	parse_case(arr, "URI, local6, the token's wins", uri, NOW_A);
	snprintf(uri, sizeof(uri), "atmosphere://join?token=%s&endpoints={"
	    "\"local6\":\"udp://10.0.0.1:1\"}", n);
	parse_case(arr, "URI, local6 IPv4", uri, NOW_A);
	snprintf(uri, sizeof(uri), "atmosphere://join?token=%s&endpoints={"
	    "\"public6\":\"udp://[2001:db8::8]:0\"}", n);
	parse_case(arr, "URI, public6 port 0", uri, NOW_A);
	/* the longest, and one byte more */
	memcpy(src, "stun:", 5);
	memset(src + 5, 'a', sizeof(src) - 6);
	src[sizeof(src) - 2] = '\0';
	code_plus_str(a, 10, src, s, sizeof(s));
	parse_case(arr, "tag 10 of 127 bytes", s, NOW_A);
	src[sizeof(src) - 2] = 'a';
	src[sizeof(src) - 1] = '\0';
	code_plus_str(a, 10, src, s, sizeof(s));
	parse_case(arr, "tag 10 of 128 bytes", s, NOW_A);
}

json_t *
invites_j(void)
{
	struct invite	inv;
	json_t		*arr = json_array();
	char		code[INVITE_CODE_MAX], uri[INVITE_URI_MAX], s[INVITE_URI_MAX];
	size_t		n;

	invite_a(&inv);
	invite_encode(&inv, code, sizeof(code));
	invite_uri_format(&inv, uri, sizeof(uri));
	parse_case(arr, "full code", code, NOW_A);
	parse_case(arr, "full code, no expiry check", code, 0);
	parse_case(arr, "prefix only", "  atm-", NOW_A);
	snprintf(s, sizeof(s), " %s\n", code);
	for (n = 4; s[n] != '\0'; n++)
		if (s[n] >= 'A' && s[n] <= 'Z')
			s[n] = (char)(s[n] - 'A' + 'a');
	parse_case(arr, "lower case, blanks around", s, NOW_A);
	parse_case(arr, "expired", code, NOW_A + 3600);
	snprintf(s, sizeof(s), "%s", code);
	s[40] = s[40] == 'Z' ? 'Y' : 'Z';
	parse_case(arr, "typo", s, NOW_A);
	snprintf(s, sizeof(s), "%.*s", (int)(strlen(code) / 2), code);
	parse_case(arr, "truncated", s, NOW_A);
	parse_case(arr, "no prefix", code + 4, NOW_A);
	snprintf(s, sizeof(s), "%s", code);
	s[20] = 'U';
	parse_case(arr, "bad character", s, NOW_A);
	parse_case(arr, "empty", "", NOW_A);
	code_edit(code, 2, NULL, 0, s, sizeof(s));
	parse_case(arr, "version 2", s, NOW_A);
	parse_case(arr, "URI", uri, NOW_A);
	snprintf(s, sizeof(s), "atmosphere://join?token=%s&mesh=Other"
	    "&endpoints={\"local\":\"udp://10.0.0.1:1\",\"relay\":"
	    "\"ws://10.0.0.2:8080\"}&v=1", code);
	parse_case(arr, "URI, raw JSON, the token wins", s, NOW_A);
	snprintf(s, sizeof(s), "atmosphere://join?token=%s&token=%s", code,
	    code);
	parse_case(arr, "URI, token twice", s, NOW_A);
	snprintf(s, sizeof(s), "atmosphere://join?token=%s&mesh=%%ZZ", code);
	parse_case(arr, "URI, bad escape", s, NOW_A);
	snprintf(s, sizeof(s), "atmosphere://join?token=%s&endpoints="
	    "{\"relay\":\"ws://a\",\"relay\":\"ws://b\"}", code);
	parse_case(arr, "URI, duplicate JSON key", s, NOW_A);
	parse_case(arr, "URI, no token", "atmosphere://join?mesh=x", NOW_A);
	parse_case(arr, "URI, other scheme", "https://example.org/?token=x",
	    NOW_A);

	/* minimal (no endpoints): the legacy endpoint= fills the relay */
	invite_clear(&inv);
	invite_init(&inv);
	memset(inv.mesh_id, 0x22, 16);
	strlcpy(inv.mesh_name, "m", sizeof(inv.mesh_name));
	memcpy(inv.inviter_id, ID_A, 8);
	memcpy(inv.inviter_pk, pk_a, 32);
	memset(inv.secret, 0x55, 32);
	inv.expires = UINT64_C(4102444800);
	inv.max_uses = 3;
	invite_encode(&inv, code, sizeof(code));
	parse_case(arr, "minimal", code, NOW_A);
	snprintf(s, sizeof(s), "atmosphere://join/?token=%s&endpoint="
	    "ws://127.0.0.1:8080", code);
	parse_case(arr, "legacy endpoint= relay", s, NOW_A);

	/* IPv6 and a UTF-8 name */
	strlcpy(inv.mesh_name, "Caf\xc3\xa9 \xe2\x98\x95", sizeof(inv.mesh_name));
	invite_addr_parse("udp://[2001:db8::1]:7777", &inv.ep_public);
	invite_addr_parse("[fe80::1:2]:7778", &inv.ep_local);
	strlcpy(inv.ep_relay, "ws://127.0.0.1:8080/v1/relay/x",
	    sizeof(inv.ep_relay));
	parse_code_uri(arr, "IPv6, UTF-8 name", &inv, code, sizeof(code));
	invite_clear(&inv);
	invites_tags6(arr);
	return arr;
}
