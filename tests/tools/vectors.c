/*
 * vectors: test vectors from the C protocol code (proto/) for other
 * implementations of a relay-only member (web/src/, a phone app), and a
 * C peer that answers what they send. docs/browser-member.md.
 *
 *   vectors          print JSON: invite codes and URIs as invite_parse()
 *                    reads them, join key/txid/session, a HELLO and a
 *                    sealed WELCOME, mesh-key packets, an ANNOUNCE, an e2e
 *                    handshake with its keys and a session packet
 *   vectors serve    the inviter of the vectors' invite A as a line peer:
 *                    each stdin line is a packet in hex (what a member
 *                    would send over the relay) or a command; the answer
 *                    is lines "pkt HEX" (packets back), "got TYPE HEX"
 *                    (what it accepted), "drop REASON", then ".".
 *                    Commands: "init" (start an e2e handshake), "send HEX"
 *                    (DATA under the session key).
 *
 * Every key and nonce is fixed except what libsodium makes random inside
 * the C API (the sealed box's ephemeral key, e2e ephemeral keys): those
 * vectors give the secret that lets the reader check them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "proto/e2e.h"
#include "proto/invite.h"
#include "proto/join.h"
#include "proto/packet.h"

#include <netinet/in.h>
#include <sys/socket.h>

#define NOW_A		UINT64_C(1767225600)	/* an hour before A expires */
#define SEQ_START	(UINT64_C(1767225600) << 32)

static const uint8_t ID_A[8] = { 0xa0, 0xa0, 0xa0, 0xa0, 0xa0, 0xa0, 0xa0, 0xa0 };
static const uint8_t ID_J[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

static uint8_t	pk_a[32], sk_a[64], pk_j[32], sk_j[64];
static uint8_t	mesh_secret[32], mesh_key[32];

static json_t *
hexj(const uint8_t *b, size_t n)
{
	char	*s = malloc(2 * n + 1);
	json_t	*j;

	if (s == NULL)
		abort();
	sodium_bin2hex(s, 2 * n + 1, b, n);
	j = json_string(s);
	free(s);
	return j;
}

static void
keys_init(void)
{
	uint8_t seed[32];

	if (sodium_init() < 0)
		abort();
	memset(seed, 1, sizeof(seed));
	crypto_sign_seed_keypair(pk_a, sk_a, seed);
	memset(seed, 2, sizeof(seed));
	crypto_sign_seed_keypair(pk_j, sk_j, seed);
	memset(mesh_secret, 0x44, sizeof(mesh_secret));
	packet_key_derive(mesh_key, mesh_secret, 0);
}

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
	    "s:i s:s s:o s:o s:s}",
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
	    "stun_source", inv->stun_source);
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
 * Tags 9-11 (the IPv6 endpoints beside IPv4 ones, the STUN source): read,
 * skipped when later, and every form a reader refuses. Codes: a (invite A,
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
	};
	struct invite	inv;
	char		a[INVITE_CODE_MAX], n[INVITE_CODE_MAX], v6[INVITE_CODE_MAX];
	char		f[INVITE_CODE_MAX], s[INVITE_CODE_MAX], uri[INVITE_URI_MAX];
	char		src[INVITE_STUN_SOURCE_MAX + 2];
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

static json_t *
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

static json_t *
pkt_j(uint8_t type, uint8_t flags, const uint8_t *sender, uint64_t seq,
    const uint8_t *pl, size_t len, const uint8_t *key)
{
	struct packet_hdr	h = { PACKET_VERSION, type, flags, 0, {0}, seq };
	uint8_t			buf[1024];
	ssize_t			n;

	memcpy(h.sender, sender, 8);
	if ((n = packet_encode(buf, sizeof(buf), &h, pl, len, key)) < 0)
		abort();
	/* seq as a decimal string: JSON readers hold 53 bits */
	return json_pack("{s:i s:o s:o s:o s:o}", "type", type, "sender",
	    hexj(sender, 8), "seq", json_sprintf("%llu",
	    (unsigned long long)seq), "payload", hexj(pl, len),
	    "packet", hexj(buf, (size_t)n));
}

static json_t *
join_j(void)
{
	struct join_hello	h;
	struct join_welcome	w;
	struct join_refuse	rf;
	uint8_t			secret[32], key[32], buf[512], opened[32];
	char			session[33];
	int			n, m;

	memset(secret, 0x33, sizeof(secret));
	join_key(key, secret);
	join_session(session, secret);
	memset(&h, 0, sizeof(h));
	join_txid(h.txid, secret, ID_J);
	memcpy(h.pk, pk_j, 32);
	strlcpy(h.name, "browser", sizeof(h.name));
	join_hello_sign(&h, ID_J, sk_j);
	n = join_hello_encode(buf, sizeof(buf), &h);

	memset(&w, 0, sizeof(w));
	memcpy(w.txid, h.txid, JOIN_TXID_LEN);
	memset(w.mesh_id, 0x11, 16);
	strlcpy(w.mesh_name, "Home Mesh", sizeof(w.mesh_name));
	if (join_welcome_seal(&w, ID_J, pk_j, mesh_secret, sk_a) != 0 ||
	    join_welcome_open(&w, ID_J, pk_j, sk_j, pk_a, opened) != 0 ||
	    memcmp(opened, mesh_secret, 32) != 0)
		abort();
	m = join_welcome_encode(buf + 256, 256, &w);
	memcpy(rf.txid, h.txid, JOIN_TXID_LEN);
	rf.reason = JOIN_R_USED;
	join_refuse_encode(buf + 200, 50, &rf);
	return json_pack("{s:o s:o s:o s:s s:o s:o s:o s:o s:o s:o s:o s:o}",
	    "secret", hexj(secret, 32), "joiner_id", hexj(ID_J, 8),
	    "joiner_seed", hexj((const uint8_t *)"\2\2\2\2\2\2\2\2\2\2\2\2\2\2"
	    "\2\2\2\2\2\2\2\2\2\2\2\2\2\2\2\2\2\2", 32),
	    "session", session, "key", hexj(key, 32), "txid",
	    hexj(h.txid, 12), "hello", pkt_j(PACKET_JOIN_HELLO, 0, ID_J,
	    SEQ_START, buf, (size_t)n, key), "welcome", pkt_j(
	    PACKET_JOIN_WELCOME, 0, ID_A, SEQ_START + 1, buf + 256, (size_t)m,
	    key), "refuse", pkt_j(PACKET_JOIN_REFUSE, 0, ID_A, SEQ_START + 2,
	    buf + 200, JOIN_TXID_LEN + 1, key), "mesh_secret",
	    hexj(mesh_secret, 32), "inviter_pk", hexj(pk_a, 32),
	    "joiner_pk", hexj(pk_j, 32));
}

static json_t *
packets_j(void)
{
	struct packet_ping	pg = { 7, UINT64_C(1767225600123456) };
	struct join_announce	a;
	struct sockaddr_storage	cands[JOIN_MAX_CANDS];
	uint8_t			key7[32], pl[256];
	int			n;

	packet_key_derive(key7, mesh_secret, 7);
	packet_ping_encode(pl, sizeof(pl), &pg);
	memset(&a, 0, sizeof(a));
	memcpy(a.id, ID_J, 8);
	memcpy(a.pk, pk_j, 32);
	a.cands = cands;
	memset(cands, 0, sizeof(cands));
	cands[0].ss_family = AF_INET;
	((struct sockaddr_in *)&cands[0])->sin_port = htons(7777);
	((struct sockaddr_in *)&cands[0])->sin_addr.s_addr = htonl(0xc0000201);
	cands[1].ss_family = AF_INET6;
	((struct sockaddr_in6 *)&cands[1])->sin6_port = htons(7778);
	((struct sockaddr_in6 *)&cands[1])->sin6_addr.s6_addr[0] = 0x20;
	((struct sockaddr_in6 *)&cands[1])->sin6_addr.s6_addr[15] = 1;
	a.ncands = 2;
	strlcpy(a.name, "bob", sizeof(a.name));
	n = join_announce_encode(pl + 64, 128, &a);
	return json_pack("{s:o s:o s:o s:o s:o s:o s:o}",
	    "mesh_key", hexj(mesh_key, 32), "mesh_key_epoch7", hexj(key7, 32),
	    "keepalive", pkt_j(PACKET_KEEPALIVE, 0, ID_A, SEQ_START, NULL, 0,
	    mesh_key), "data", pkt_j(PACKET_DATA, 0, ID_A, SEQ_START + 1,
	    (const uint8_t *)"hello", 5, mesh_key), "ping", pkt_j(PACKET_PING,
	    0, ID_J, SEQ_START + 2, pl, PACKET_PING_LEN, mesh_key),
	    "announce", pkt_j(PACKET_ANNOUNCE, 0, ID_A, SEQ_START + 3, pl + 64,
	    (size_t)n, mesh_key), "pair_session_ids", json_pack("[o o]",
	    hexj(ID_A, 8), hexj(ID_J, 8)));
}

static json_t *
e2e_j(void)
{
	struct e2e_params	par;
	struct e2e_peer		*a = calloc(1, sizeof(*a));
	struct e2e_peer		*b = calloc(1, sizeof(*b));
	struct packet_hdr	h;
	uint8_t			init[E2E_MSG_LEN], resp[E2E_MSG_LEN], eph[32];
	uint8_t			pkt[256], t;
	const uint8_t		*pl;
	size_t			plen;
	ssize_t			n;
	json_t			*j;

	e2e_params_default(&par);
	if (a == NULL || b == NULL ||
	    e2e_peer_init(a, &par, ID_A, pk_a, sk_a, ID_J, pk_j) != 0 ||
	    e2e_peer_init(b, &par, ID_J, pk_j, sk_j, ID_A, pk_a) != 0 ||
	    e2e_start(a, 1000.0, init) != E2E_MSG_LEN)
		abort();
	memcpy(eph, a->eph_sk, 32);
	if (e2e_input(b, PACKET_E2E_INIT, init, sizeof(init), 1000.0, 0, resp,
	    &t) != E2E_OUT_REPLY || e2e_input(a, PACKET_E2E_RESP, resp,
	    sizeof(resp), 1000.1, 0, NULL, &t) != (E2E_OUT_NEWKEY |
	    E2E_OUT_CONFIRM))
		abort();
	memset(&h, 0, sizeof(h));
	h.type = PACKET_DATA;
	memcpy(h.sender, ID_A, 8);
	n = e2e_encrypt(a, pkt, sizeof(pkt), &h, (const uint8_t *)"e2e hello",
	    9);
	if (n < 0 || e2e_decrypt(b, pkt, (size_t)n, 1000.2, &h, &pl,
	    &plen) != 0 || plen != 9)
		abort();
	n = e2e_encrypt(a, pkt, sizeof(pkt), &h, (const uint8_t *)"e2e hello",
	    9);
	j = json_pack("{s:o s:o s:o s:o s:o s:i s:o s:o s:o}",
	    "initiator_id", hexj(ID_A, 8), "responder_id", hexj(ID_J, 8),
	    "init", hexj(init, sizeof(init)), "resp", hexj(resp, sizeof(resp)),
	    "initiator_eph_sk", hexj(eph, 32), "key_id", a->cur.id,
	    "key_i_to_r", hexj(a->cur.tx, 32), "key_r_to_i",
	    hexj(a->cur.rx, 32), "data", hexj(pkt, (size_t)n));
	e2e_peer_wipe(a);
	e2e_peer_wipe(b);
	free(a);
	free(b);
	return j;
}

/* ---- serve: the inviter as a line peer ---------------------------------- */

struct srv {
	uint8_t			 join_key[32];
	uint8_t			 peer_id[8];
	int			 have_peer;
	struct packet_replay	 replay;
	struct e2e_peer		 e2e;
	uint64_t		 seq;
	double			 now;
};

static void
srv_hex_out(const char *tag, const uint8_t *b, size_t n)
{
	char *s = malloc(2 * n + 1);

	if (s == NULL)
		abort();
	sodium_bin2hex(s, 2 * n + 1, b, n);
	printf("%s%s%s\n", tag, *tag ? " " : "", s);
	free(s);
}

/* a packet from the inviter under key (mesh or join) */
static void
srv_send(struct srv *sv, uint8_t type, const uint8_t *pl, size_t len,
    const uint8_t *key)
{
	struct packet_hdr	h = { PACKET_VERSION, type, 0, 0, {0}, 0 };
	uint8_t			buf[PACKET_OVERHEAD + 2048];
	ssize_t			n;

	memcpy(h.sender, ID_A, 8);
	h.seq = sv->seq++;
	if ((n = packet_encode(buf, sizeof(buf), &h, pl, len, key)) > 0)
		srv_hex_out("pkt", buf, (size_t)n);
}

static void
srv_send_session(struct srv *sv, uint8_t type, const uint8_t *pl, size_t len)
{
	struct packet_hdr	h;
	uint8_t			buf[PACKET_OVERHEAD + 2048];
	ssize_t			n;

	memset(&h, 0, sizeof(h));
	h.type = type;
	memcpy(h.sender, ID_A, 8);
	if ((n = e2e_encrypt(&sv->e2e, buf, sizeof(buf), &h, pl, len)) > 0)
		srv_hex_out("pkt", buf, (size_t)n);
	else
		printf("drop nokey\n");
}

static void
srv_hello(struct srv *sv, uint8_t *buf, size_t len)
{
	struct packet_hdr	h;
	struct join_hello	hello;
	struct join_welcome	w;
	const uint8_t		*pl;
	size_t			plen;
	uint8_t			out[512], txid[JOIN_TXID_LEN], secret[32];
	struct e2e_params	par;
	int			n;

	memset(secret, 0x33, sizeof(secret));
	if (packet_decode(buf, len, sv->join_key, &h, &pl, &plen) != 0) {
		printf("drop auth\n");
		return;
	}
	join_txid(txid, secret, h.sender);
	if (join_hello_decode(pl, plen, &hello) != 0 ||
	    join_hello_verify(&hello, h.sender) != 0 ||
	    memcmp(txid, hello.txid, JOIN_TXID_LEN) != 0) {
		printf("drop hello\n");
		return;
	}
	srv_hex_out("got 9", pl, plen);
	memset(&w, 0, sizeof(w));
	memcpy(w.txid, hello.txid, JOIN_TXID_LEN);
	memset(w.mesh_id, 0x11, 16);
	strlcpy(w.mesh_name, "Home Mesh", sizeof(w.mesh_name));
	if (join_welcome_seal(&w, h.sender, hello.pk, mesh_secret, sk_a) != 0 ||
	    (n = join_welcome_encode(out, sizeof(out), &w)) < 0) {
		printf("drop seal\n");
		return;
	}
	srv_send(sv, PACKET_JOIN_WELCOME, out, (size_t)n, sv->join_key);
	memcpy(sv->peer_id, h.sender, 8);
	sv->have_peer = 1;
	packet_replay_reset(&sv->replay);
	e2e_params_default(&par);
	e2e_peer_init(&sv->e2e, &par, ID_A, pk_a, sk_a, h.sender, hello.pk);
}

/* as punchd/input.c with e2e = yes: session packets, or mesh-key packets
 * of the types allowed under it */
static void
srv_packet(struct srv *sv, uint8_t *buf, size_t len)
{
	struct packet_hdr	h;
	const uint8_t		*pl;
	size_t			plen;
	uint8_t			out[E2E_MSG_LEN], t, ping[PACKET_PING_LEN];
	struct packet_ping	pg = { 0, 0 };
	int			r;

	if ((r = packet_peek(buf, len, &h)) != 0) {
		printf("drop %s\n", packet_strerror(r));
		return;
	}
	if (h.type == PACKET_JOIN_HELLO) {
		srv_hello(sv, buf, len);
		return;
	}
	if (!sv->have_peer || memcmp(h.sender, sv->peer_id, 8) != 0) {
		printf("drop unknown sender\n");
		return;
	}
	if (h.flags & PACKET_F_SESSION)
		r = e2e_decrypt(&sv->e2e, buf, len, sv->now, &h, &pl, &plen);
	else if ((r = packet_replay_check(&sv->replay, h.seq)) == 0 &&
	    (r = packet_decode(buf, len, mesh_key, &h, &pl, &plen)) == 0) {
		if (h.type == PACKET_DATA) {
			printf("drop downgrade\n");
			return;
		}
		r = packet_replay_check_and_update(&sv->replay, h.seq);
	}
	if (r != 0) {
		printf("drop %s\n", r == E2E_ERR_NOKEY ? "nokey" :
		    packet_strerror(r));
		return;
	}
	printf("got %d%s", h.type, plen ? " " : "\n");
	if (plen)
		srv_hex_out("", pl, plen);
	switch (h.type) {
	case PACKET_KEEPALIVE:
		srv_send(sv, PACKET_KEEPALIVE_ACK, NULL, 0, mesh_key);
		break;
	case PACKET_PING:
		if (h.flags & PACKET_F_SESSION)
			srv_send_session(sv, PACKET_PONG, pl, plen);
		else
			srv_send(sv, PACKET_PONG, pl, plen, mesh_key);
		break;
	case PACKET_DATA:
		srv_send_session(sv, PACKET_DATA, pl, plen);	/* echo */
		break;
	case PACKET_E2E_INIT:
	case PACKET_E2E_RESP:
		r = e2e_input(&sv->e2e, h.type, pl, plen, sv->now, 0, out, &t);
		if (r < 0) {
			printf("drop e2e %d\n", r);
			break;
		}
		if (r & E2E_OUT_REPLY)
			srv_send(sv, t, out, E2E_MSG_LEN, mesh_key);
		if (r & E2E_OUT_CONFIRM) {
			packet_ping_encode(ping, sizeof(ping), &pg);
			srv_send_session(sv, PACKET_PING, ping, sizeof(ping));
		}
		break;
	}
}

static int
serve(void)
{
	struct srv	*sv = calloc(1, sizeof(*sv));
	char		*line = NULL;
	size_t		 cap = 0, n;
	ssize_t		 len;
	uint8_t		 buf[PACKET_MAX_LEN], init[E2E_MSG_LEN], secret[32];

	if (sv == NULL)
		return 1;
	memset(secret, 0x33, sizeof(secret));
	join_key(sv->join_key, secret);
	sv->seq = SEQ_START;
	sv->now = 2000.0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((len = getline(&line, &cap, stdin)) > 0) {
		line[strcspn(line, "\r\n")] = '\0';
		sv->now += 0.01;
		if (strcmp(line, "init") == 0) {
			if (!sv->have_peer ||
			    e2e_start(&sv->e2e, sv->now, init) != E2E_MSG_LEN)
				printf("drop state\n");
			else
				srv_send(sv, PACKET_E2E_INIT, init,
				    sizeof(init), mesh_key);
		} else if (strncmp(line, "send ", 5) == 0) {
			if (sodium_hex2bin(buf, sizeof(buf), line + 5,
			    strlen(line + 5), NULL, &n, NULL) != 0)
				printf("drop hex\n");
			else
				srv_send_session(sv, PACKET_DATA, buf, n);
		} else if (sodium_hex2bin(buf, sizeof(buf), line, strlen(line),
		    NULL, &n, NULL) != 0)
			printf("drop hex\n");
		else
			srv_packet(sv, buf, n);
		printf(".\n");
	}
	free(line);
	if (sv->have_peer)
		e2e_peer_wipe(&sv->e2e);
	free(sv);
	return 0;
}

int
main(int argc, char *argv[])
{
	json_t	*root;

	keys_init();
	if (argc == 2 && strcmp(argv[1], "serve") == 0)
		return serve();
	if (argc != 1) {
		fprintf(stderr, "usage: vectors [serve]\n");
		return 2;
	}
	root = json_pack("{s:i s:o s:o s:o s:o s:o s:o}", "version", 1,
	    "keys", json_pack("{s:o s:o s:o s:o}", "a_id", hexj(ID_A, 8),
	    "a_pk", hexj(pk_a, 32), "j_id", hexj(ID_J, 8), "j_pk",
	    hexj(pk_j, 32)), "invites", invites_j(), "join", join_j(),
	    "packets", packets_j(), "e2e", e2e_j(),
	    "serve", json_pack("{s:o s:o s:o}", "inviter_id", hexj(ID_A, 8),
	    "inviter_pk", hexj(pk_a, 32), "mesh_secret",
	    hexj(mesh_secret, 32)));
	if (root == NULL || json_dumpf(root, stdout, JSON_INDENT(1) |
	    JSON_SORT_KEYS) != 0)
		return 1;
	putchar('\n');
	json_decref(root);
	return 0;
}
