/*
 * Invite codes (join URIs: invite_uri.c): see invite.h for the formats and
 * docs/invite-format.md for the reasoning. Errors are sentences for the
 * person who pasted the code; nothing here logs, so nothing leaks the
 * join secret.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "proto/wire.h"
#include "proto/invite.h"
#include "proto/invite_priv.h"

/* TLV tags */
#define TAG_MESH_NAME	1
#define TAG_EP_LOCAL	2
#define TAG_EP_PUBLIC	3
#define TAG_EP_RELAY	4
#define TAG_LOCAL_IP	5
#define TAG_PUBLIC_IP	6
#define TAG_BEHIND_NAT	7
#define TAG_NAT_TYPE	8
#define TAG_EP_LOCAL6	9
#define TAG_STUN_SOURCE	10
#define TAG_EP_PUBLIC6	11
#define TAG_RELAY_TOKEN	16	/* 12-15 free */
#define TAG_MAX		16

static const char b32_alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

int
invite_fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

void
invite_init(struct invite *inv)
{
	memset(inv, 0, sizeof(*inv));
	inv->version = INVITE_VERSION;
	inv->behind_nat = -1;
}

void
invite_clear(struct invite *inv)
{
	sodium_memzero(inv, sizeof(*inv));
}

/* --- Crockford base32 ------------------------------------------------------ */

int
invite_b32_encode(const uint8_t *in, size_t len, char *out, size_t cap)
{
	size_t		 i, o = 0;
	unsigned	 acc = 0, bits = 0;

	if (cap < (len * 8 + 4) / 5 + 1)
		return -1;
	for (i = 0; i < len; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = b32_alphabet[(acc >> bits) & 31];
		}
		acc &= (1u << bits) - 1;
	}
	if (bits > 0)
		out[o++] = b32_alphabet[(acc << (5 - bits)) & 31];
	out[o] = '\0';
	return (int)o;
}

/* value of a base32 character, -1 if none; I/L read as 1 and O as 0
 * (Crockford), because people copy codes by eye */
static int
b32_value(int c)
{
	const char *p;

	c = toupper((unsigned char)c);
	if (c == 'O')
		return 0;
	if (c == 'I' || c == 'L')
		return 1;
	if (c == '\0' || (p = strchr(b32_alphabet, c)) == NULL)
		return -1;
	return (int)(p - b32_alphabet);
}

static int
b32_skip(int c)
{
	return c == '-' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int
invite_b32_decode(const char *in, uint8_t *out, size_t cap,
    unsigned *trailing, size_t *bad)
{
	size_t		 i, o = 0;
	unsigned	 acc = 0, bits = 0;
	int		 v;

	for (i = 0; in[i] != '\0'; i++) {
		if (b32_skip(in[i]))
			continue;
		if ((v = b32_value(in[i])) < 0) {
			*bad = i;
			return -1;
		}
		acc = (acc << 5) | (unsigned)v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (o >= cap)
				return -2;
			out[o++] = acc >> bits;
			acc &= (1u << bits) - 1;
		}
	}
	*trailing = acc;
	return (int)o;
}

/* --- field checks ------------------------------------------------------------ */

/*
 * UTF-8, shortest form, no surrogates, and no control characters (C0, DEL,
 * C1): a mesh name lands in terminals, JSON and QR captions.
 */
static int
name_valid(const char *s, size_t len)
{
	const uint8_t	*p = (const uint8_t *)s;
	size_t		 i = 0, n, k;
	uint32_t	 cp;

	if (len == 0 || len > INVITE_NAME_MAX)
		return 0;
	while (i < len) {
		if (p[i] < 0x80) {
			if (p[i] < 0x20 || p[i] == 0x7f)
				return 0;
			i++;
			continue;
		}
		if ((p[i] & 0xe0) == 0xc0) {
			n = 1;
			cp = p[i] & 0x1f;
		} else if ((p[i] & 0xf0) == 0xe0) {
			n = 2;
			cp = p[i] & 0x0f;
		} else if ((p[i] & 0xf8) == 0xf0) {
			n = 3;
			cp = p[i] & 0x07;
		} else
			return 0;
		if (i + n >= len)
			return 0;	/* sequence cut by the end */
		for (k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
		    (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp < 0xa0))
			return 0;
		i += n + 1;
	}
	return 1;
}

/* ws:// or wss://, a host, and only characters a URI may hold unescaped
 * (RFC 3986 section 2) */
int
invite_relay_valid(const char *s, size_t len)
{
	size_t i, skip;

	if (len > INVITE_URL_MAX)
		return 0;
	if (len > 5 && strncasecmp(s, "ws://", 5) == 0)
		skip = 5;
	else if (len > 6 && strncasecmp(s, "wss://", 6) == 0)
		skip = 6;
	else
		return 0;
	if (s[skip] == '/' || s[skip] == ':' || s[skip] == '?')
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f ||
		    strchr("\"<>\\^`{|}", s[i]) != NULL)
			return 0;
	return 1;
}

/* proto/token.h's alphabet: what relayd would accept at all */
static int
relay_token_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > INVITE_TOKEN_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' &&
		    s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}

static int
nat_type_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > INVITE_NAT_TYPE_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
			return 0;
	return 1;
}

/* "stun:" and a host, [v6] or host name, maybe ":PORT": what a STUN URI
 * (RFC 7064) holds, no more */
static int
stun_source_valid(const char *s, size_t len)
{
	size_t i;

	if (len <= 5 || len > INVITE_STUN_SOURCE_MAX ||
	    strncmp(s, "stun:", 5) != 0)
		return 0;
	for (i = 5; i < len; i++)
		if (!isalnum((unsigned char)s[i]) &&
		    strchr("-._:[]", s[i]) == NULL)
			return 0;
	return 1;
}

const char *
invite_nat_type_word(const char *classic, char *out, size_t len)
{
	size_t	i, n = 0;
	int	dash = 0;

	if (len == 0)
		return out;
	out[0] = '\0';
	if (classic == NULL || strcmp(classic, "unknown") == 0)
		return out;
	for (i = 0; classic[i] != '\0' && n + 1 < len &&
	    n < INVITE_NAT_TYPE_MAX; i++) {
		if (isalnum((unsigned char)classic[i]) || classic[i] == '-' ||
		    classic[i] == '_') {
			if (dash && n > 0 && n + 2 < len &&
			    n + 1 < INVITE_NAT_TYPE_MAX)
				out[n++] = '-';
			dash = 0;
			out[n++] = tolower((unsigned char)classic[i]);
		} else
			dash = 1;
	}
	out[n] = '\0';
	return out;
}

static size_t
addr_len(const struct invite_addr *a)
{
	return a->family == INVITE_AF_INET ? 4 : 16;
}

const char *
invite_addr_str(const struct invite_addr *a, const char *scheme, char *buf,
    size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (len > 0)
		buf[0] = '\0';
	if (a->family == INVITE_AF_NONE || len == 0)
		return buf;
	inet_ntop(a->family == INVITE_AF_INET ? AF_INET : AF_INET6, a->addr,
	    ip, sizeof(ip));
	if (a->port == 0)
		snprintf(buf, len, "%s%s", scheme ? scheme : "", ip);
	else if (a->family == INVITE_AF_INET)
		snprintf(buf, len, "%s%s:%u", scheme ? scheme : "", ip, a->port);
	else
		snprintf(buf, len, "%s[%s]:%u", scheme ? scheme : "", ip, a->port);
	return buf;
}

int
invite_addr_parse(const char *s, struct invite_addr *a)
{
	char		 host[INET6_ADDRSTRLEN + 1];
	const char	*colon, *h;
	size_t		 hl;
	unsigned long	 port;
	char		*end;

	memset(a, 0, sizeof(*a));
	if (strncasecmp(s, "udp://", 6) == 0)
		s += 6;
	if (*s == '[') {
		if ((colon = strstr(s, "]:")) == NULL)
			return -1;
		h = s + 1;
		hl = colon - h;
		colon++;
	} else {
		if ((colon = strrchr(s, ':')) == NULL ||
		    memchr(s, ':', colon - s) != NULL)
			return -1;
		h = s;
		hl = colon - s;
	}
	if (hl == 0 || hl >= sizeof(host))
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (!isdigit((unsigned char)colon[1]))
		return -1;
	port = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || port == 0 || port > 65535 || end - colon > 6)
		return -1;
	if (s[0] != '[' && inet_pton(AF_INET, host, a->addr) == 1)
		a->family = INVITE_AF_INET;
	else if (s[0] == '[' && inet_pton(AF_INET6, host, a->addr) == 1)
		a->family = INVITE_AF_INET6;
	else
		return -1;
	a->port = port;
	return 0;
}

/* what encode must refuse so that decode never fails on our own codes */
static const char *
invite_invalid_field(const struct invite *inv)
{
	if (!name_valid(inv->mesh_name, strnlen(inv->mesh_name,
	    sizeof(inv->mesh_name))))
		return "mesh_name";
	if (inv->expires == 0)
		return "expires";
	if (inv->max_uses == 0)
		return "max_uses";
	if (inv->ep_local.family > INVITE_AF_INET6 || (inv->ep_local.family &&
	    inv->ep_local.port == 0))
		return "endpoints.local";
	if (inv->ep_local6.family != INVITE_AF_NONE &&
	    (inv->ep_local6.family != INVITE_AF_INET6 ||
	    inv->ep_local6.port == 0 || inv->ep_local.family != INVITE_AF_INET))
		return "endpoints.local6";
	if (inv->ep_public.family > INVITE_AF_INET6 ||
	    (inv->ep_public.family && inv->ep_public.port == 0))
		return "endpoints.public";
	if (inv->ep_public6.family != INVITE_AF_NONE &&
	    (inv->ep_public6.family != INVITE_AF_INET6 ||
	    inv->ep_public6.port == 0 || inv->ep_public.family != INVITE_AF_INET))
		return "endpoints.public6";
	if (inv->ep_relay[0] != '\0' && !invite_relay_valid(inv->ep_relay,
	    strnlen(inv->ep_relay, sizeof(inv->ep_relay))))
		return "endpoints.relay";
	if (inv->local_ip.family > INVITE_AF_INET6)
		return "network_info.local_ip";
	if (inv->public_ip.family > INVITE_AF_INET6)
		return "network_info.public_ip";
	if (inv->behind_nat < -1 || inv->behind_nat > 1)
		return "network_info.is_behind_nat";
	if (inv->nat_type[0] != '\0' && !nat_type_valid(inv->nat_type,
	    strnlen(inv->nat_type, sizeof(inv->nat_type))))
		return "network_info.nat_type";
	if (inv->stun_source[0] != '\0' && !stun_source_valid(inv->stun_source,
	    strnlen(inv->stun_source, sizeof(inv->stun_source))))
		return "network_info.stun_source";
	if (inv->relay_token[0] != '\0' && (inv->ep_relay[0] == '\0' ||
	    !relay_token_valid(inv->relay_token, strnlen(inv->relay_token,
	    sizeof(inv->relay_token)))))
		return "relay_token";
	return NULL;
}

/* --- blob ---------------------------------------------------------------------- */

static void
checksum(const uint8_t *blob, size_t len, uint8_t out[INVITE_CKSUM_LEN])
{
	uint8_t h[crypto_generichash_BYTES_MIN];

	crypto_generichash(h, sizeof(h), blob, len, NULL, 0);
	memcpy(out, h, INVITE_CKSUM_LEN);
}

static size_t
tlv_put(uint8_t *p, uint8_t tag, const void *v, size_t len)
{
	p[0] = tag;
	p[1] = len;
	memcpy(p + 2, v, len);
	return 2 + len;
}

static size_t
tlv_put_addr(uint8_t *p, uint8_t tag, const struct invite_addr *a)
{
	uint8_t v[19];

	v[0] = a->family;
	wire_put16(v + 1, a->port);
	memcpy(v + 3, a->addr, addr_len(a));
	return tlv_put(p, tag, v, 3 + addr_len(a));
}

/* the blob for inv into b (INVITE_BLOB_MAX); returns its length */
static size_t
blob_write(const struct invite *inv, uint8_t *b)
{
	size_t n = 0;
	uint8_t nat;

	b[n++] = INVITE_VERSION;
	n += 2;			/* length, below */
	memcpy(b + n, inv->mesh_id, INVITE_MESH_ID_LEN);
	n += INVITE_MESH_ID_LEN;
	memcpy(b + n, inv->inviter_id, INVITE_NODEID_LEN);
	n += INVITE_NODEID_LEN;
	memcpy(b + n, inv->inviter_pk, INVITE_PK_LEN);
	n += INVITE_PK_LEN;
	memcpy(b + n, inv->secret, INVITE_SECRET_LEN);
	n += INVITE_SECRET_LEN;
	wire_put64(b + n, inv->expires);
	n += 8;
	wire_put16(b + n, inv->max_uses);
	n += 2;
	n += tlv_put(b + n, TAG_MESH_NAME, inv->mesh_name,
	    strlen(inv->mesh_name));
	if (inv->ep_local.family)
		n += tlv_put_addr(b + n, TAG_EP_LOCAL, &inv->ep_local);
	if (inv->ep_public.family)
		n += tlv_put_addr(b + n, TAG_EP_PUBLIC, &inv->ep_public);
	if (inv->ep_relay[0])
		n += tlv_put(b + n, TAG_EP_RELAY, inv->ep_relay,
		    strlen(inv->ep_relay));
	if (inv->local_ip.family)
		n += tlv_put_addr(b + n, TAG_LOCAL_IP, &inv->local_ip);
	if (inv->public_ip.family)
		n += tlv_put_addr(b + n, TAG_PUBLIC_IP, &inv->public_ip);
	if (inv->behind_nat >= 0) {
		nat = inv->behind_nat;
		n += tlv_put(b + n, TAG_BEHIND_NAT, &nat, 1);
	}
	if (inv->nat_type[0])
		n += tlv_put(b + n, TAG_NAT_TYPE, inv->nat_type,
		    strlen(inv->nat_type));
	if (inv->ep_local6.family)
		n += tlv_put_addr(b + n, TAG_EP_LOCAL6, &inv->ep_local6);
	if (inv->stun_source[0])
		n += tlv_put(b + n, TAG_STUN_SOURCE, inv->stun_source,
		    strlen(inv->stun_source));
	if (inv->ep_public6.family)
		n += tlv_put_addr(b + n, TAG_EP_PUBLIC6, &inv->ep_public6);
	if (inv->relay_token[0])
		n += tlv_put(b + n, TAG_RELAY_TOKEN, inv->relay_token,
		    strlen(inv->relay_token));
	wire_put16(b + 1, n + INVITE_CKSUM_LEN);
	checksum(b, n, b + n);
	return n + INVITE_CKSUM_LEN;
}

int
invite_encode(const struct invite *inv, char *buf, size_t cap)
{
	uint8_t	blob[INVITE_BLOB_MAX];
	size_t	n;
	int	r;

	if (invite_invalid_field(inv) != NULL || cap < sizeof(INVITE_PREFIX))
		return -1;
	if (sodium_init() < 0)
		return -1;
	n = blob_write(inv, blob);
	memcpy(buf, INVITE_PREFIX, 4);
	r = invite_b32_encode(blob, n, buf + 4, cap - 4);
	sodium_memzero(blob, sizeof(blob));
	return r < 0 ? -1 : r + 4;
}

static int
tlv_addr(const uint8_t *v, size_t len, int need_port, struct invite_addr *a)
{
	if (len < 1)
		return -1;
	a->family = v[0];
	if ((a->family != INVITE_AF_INET && a->family != INVITE_AF_INET6) ||
	    len != 3 + addr_len(a))
		return -1;
	a->port = wire_get16(v + 1);
	if (need_port && a->port == 0)
		return -1;
	memcpy(a->addr, v + 3, addr_len(a));
	return 0;
}

/* fields after the checksum and version passed; 0 or the name of the bad
 * field through *what */
static int
blob_read(const uint8_t *b, size_t n, struct invite *inv, const char **what)
{
	static const char *names[TAG_MAX + 1] = {
		NULL, "mesh_name", "endpoints.local", "endpoints.public",
		"endpoints.relay", "network_info.local_ip",
		"network_info.public_ip", "network_info.is_behind_nat",
		"network_info.nat_type", "endpoints.local6",
		"network_info.stun_source", "endpoints.public6",
		[TAG_RELAY_TOKEN] = "relay_token",
	};
	unsigned	seen = 0;
	size_t		off, end = n - INVITE_CKSUM_LEN, len;
	uint8_t		tag;
	const uint8_t	*v;

	*what = "length";
	if (n < INVITE_FIXED_LEN + INVITE_CKSUM_LEN)
		return -1;
	inv->version = b[0];
	off = 3;
	memcpy(inv->mesh_id, b + off, INVITE_MESH_ID_LEN);
	off += INVITE_MESH_ID_LEN;
	memcpy(inv->inviter_id, b + off, INVITE_NODEID_LEN);
	off += INVITE_NODEID_LEN;
	memcpy(inv->inviter_pk, b + off, INVITE_PK_LEN);
	off += INVITE_PK_LEN;
	memcpy(inv->secret, b + off, INVITE_SECRET_LEN);
	off += INVITE_SECRET_LEN;
	inv->expires = wire_get64(b + off);
	off += 8;
	inv->max_uses = wire_get16(b + off);
	off += 2;
	*what = "expires";
	if (inv->expires == 0)
		return -1;
	*what = "max_uses";
	if (inv->max_uses == 0)
		return -1;

	while (off < end) {
		*what = "fields";
		if (end - off < 2 || end - off - 2 < b[off + 1])
			return -1;
		tag = b[off];
		len = b[off + 1];
		v = b + off + 2;
		off += 2 + len;
		if (tag == 0 || tag > TAG_MAX || names[tag] == NULL)
			continue;	/* a later v1 field: skip it */
		*what = names[tag];
		if (seen & (1u << tag))
			return -1;	/* twice: which one would we trust? */
		seen |= 1u << tag;
		switch (tag) {
		case TAG_MESH_NAME:
			if (!name_valid((const char *)v, len))
				return -1;
			memcpy(inv->mesh_name, v, len);
			inv->mesh_name[len] = '\0';
			break;
		case TAG_EP_LOCAL:
			if (tlv_addr(v, len, 1, &inv->ep_local) != 0)
				return -1;
			break;
		case TAG_EP_PUBLIC:
			if (tlv_addr(v, len, 1, &inv->ep_public) != 0)
				return -1;
			break;
		case TAG_EP_RELAY:
			if (!invite_relay_valid((const char *)v, len))
				return -1;
			memcpy(inv->ep_relay, v, len);
			inv->ep_relay[len] = '\0';
			break;
		case TAG_LOCAL_IP:
			if (tlv_addr(v, len, 0, &inv->local_ip) != 0)
				return -1;
			break;
		case TAG_PUBLIC_IP:
			if (tlv_addr(v, len, 0, &inv->public_ip) != 0)
				return -1;
			break;
		case TAG_BEHIND_NAT:
			if (len != 1 || v[0] > 1)
				return -1;
			inv->behind_nat = v[0];
			break;
		case TAG_NAT_TYPE:
			if (!nat_type_valid((const char *)v, len))
				return -1;
			memcpy(inv->nat_type, v, len);
			inv->nat_type[len] = '\0';
			break;
		case TAG_EP_LOCAL6:
			if (tlv_addr(v, len, 1, &inv->ep_local6) != 0 ||
			    inv->ep_local6.family != INVITE_AF_INET6)
				return -1;
			break;
		case TAG_EP_PUBLIC6:
			if (tlv_addr(v, len, 1, &inv->ep_public6) != 0 ||
			    inv->ep_public6.family != INVITE_AF_INET6)
				return -1;
			break;
		case TAG_STUN_SOURCE:
			if (!stun_source_valid((const char *)v, len))
				return -1;
			memcpy(inv->stun_source, v, len);
			inv->stun_source[len] = '\0';
			break;
		case TAG_RELAY_TOKEN:
			if (!relay_token_valid((const char *)v, len))
				return -1;
			memcpy(inv->relay_token, v, len);
			inv->relay_token[len] = '\0';
			break;
		}
	}
	/* an IPv6 local endpoint beside a local endpoint that is IPv4 */
	*what = "endpoints.local6";
	if (inv->ep_local6.family && inv->ep_local.family != INVITE_AF_INET)
		return -1;
	/* likewise the IPv6 public endpoint beside an IPv4 one */
	*what = "endpoints.public6";
	if (inv->ep_public6.family && inv->ep_public.family != INVITE_AF_INET)
		return -1;
	*what = "mesh_name";
	if (!(seen & (1u << TAG_MESH_NAME)))
		return -1;
	return 0;
}

static void
time_str(uint64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t > (uint64_t)253402300799ULL || gmtime_r(&tt, &tm) == NULL)
		snprintf(buf, len, "%llu", (unsigned long long)t);
	else
		strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* a character for an error message: itself if printable, else \xNN */
static const char *
char_str(int c, char buf[8])
{
	if (c > 0x20 && c < 0x7f)
		snprintf(buf, 8, "'%c'", c);
	else
		snprintf(buf, 8, "\\x%02x", (unsigned char)c);
	return buf;
}

static int
decode_blob(const char *code, uint8_t *blob, size_t *np, char *err,
    size_t errlen)
{
	uint8_t		 ck[INVITE_CKSUM_LEN];
	unsigned	 trailing = 0;
	size_t		 bad = 0, n, declared, have_chars;
	char		 cb[8];
	int		 r;

	while (*code == ' ' || *code == '\t' || *code == '\n' || *code == '\r')
		code++;
	if (*code == '\0')
		return invite_fail(err, errlen, INVITE_ERR_EMPTY, "empty invite code");
	if (strncasecmp(code, INVITE_PREFIX, 4) != 0)
		return invite_fail(err, errlen, INVITE_ERR_PREFIX,
		    "not an Atmosphere invite code (codes start with "
		    INVITE_PREFIX ")");
	if (strlen(code) > INVITE_URI_MAX)
		return invite_fail(err, errlen, INVITE_ERR_TOOLONG,
		    "invite code too long (more than %d characters)",
		    INVITE_URI_MAX);
	r = invite_b32_decode(code + 4, blob, INVITE_BLOB_MAX, &trailing, &bad);
	if (r == -1) {
		/* a space inside is skipped, so only the tail can be blank */
		return invite_fail(err, errlen, INVITE_ERR_CHAR,
		    "invalid character %s at position %zu of the invite code "
		    "(codes use 0-9 and A-Z without U)",
		    char_str(code[4 + bad], cb), 4 + bad + 1);
	}
	if (r == -2)
		return invite_fail(err, errlen, INVITE_ERR_TOOLONG,
		    "invite code too long (more than %d bytes)",
		    INVITE_BLOB_MAX);
	n = (size_t)r;
	if (n < 3)
		return invite_fail(err, errlen, INVITE_ERR_TRUNCATED,
		    "invite code is truncated: copy the whole code");
	declared = wire_get16(blob + 1);
	if (n >= INVITE_CKSUM_LEN + 3 && trailing == 0) {
		checksum(blob, n - INVITE_CKSUM_LEN, ck);
		if (sodium_memcmp(ck, blob + n - INVITE_CKSUM_LEN,
		    INVITE_CKSUM_LEN) == 0) {
			if (declared != n)
				return invite_fail(err, errlen, INVITE_ERR_FIELD,
				    "malformed field length in invite code");
			*np = n;
			return INVITE_OK;
		}
	}
	if (declared > n && declared <= INVITE_BLOB_MAX) {
		have_chars = (n * 8 + 4) / 5;
		return invite_fail(err, errlen, INVITE_ERR_TRUNCATED,
		    "invite code is truncated: about %zu of %zu characters; "
		    "copy the whole code", have_chars + 4,
		    (declared * 8 + 4) / 5 + 4);
	}
	return invite_fail(err, errlen, INVITE_ERR_CHECKSUM,
	    "invite code has a typo (checksum mismatch): check it character "
	    "by character");
}

int
invite_decode(const char *code, uint64_t now, struct invite *inv, char *err,
    size_t errlen)
{
	uint8_t		 blob[INVITE_BLOB_MAX];
	const char	*what;
	char		 when[64];
	size_t		 n = 0;
	int		 r;

	invite_init(inv);
	if (code == NULL)
		return invite_fail(err, errlen, INVITE_ERR_EMPTY, "empty invite code");
	if (sodium_init() < 0)
		return invite_fail(err, errlen, INVITE_ERR_FIELD, "libsodium failed");
	if ((r = decode_blob(code, blob, &n, err, errlen)) != INVITE_OK)
		goto out;
	if (blob[0] != INVITE_VERSION) {
		r = invite_fail(err, errlen, INVITE_ERR_VERSION,
		    "unsupported invite version %u (this build reads version "
		    "%d)%s", blob[0], INVITE_VERSION, blob[0] > INVITE_VERSION ?
		    ": upgrade Atmosphere" : "");
		goto out;
	}
	if (blob_read(blob, n, inv, &what) != 0) {
		r = invite_fail(err, errlen, INVITE_ERR_FIELD,
		    "malformed field %s in invite code", what);
		goto out;
	}
	if (now != 0 && inv->expires <= now) {
		time_str(inv->expires, when, sizeof(when));
		r = invite_fail(err, errlen, INVITE_ERR_EXPIRED,
		    "invite expired at %s: ask for a new one", when);
		sodium_memzero(blob, sizeof(blob));
		return r;
	}
	sodium_memzero(blob, sizeof(blob));
	return INVITE_OK;
 out:
	sodium_memzero(blob, sizeof(blob));
	invite_clear(inv);
	return r;
}

const char *
invite_strerror(int err)
{
	switch (err) {
	case INVITE_OK:		return "ok";
	case INVITE_ERR_EMPTY:	return "empty invite code";
	case INVITE_ERR_PREFIX:	return "not an Atmosphere invite code";
	case INVITE_ERR_CHAR:	return "invalid character in invite code";
	case INVITE_ERR_TRUNCATED: return "invite code is truncated";
	case INVITE_ERR_CHECKSUM: return "invite code has a typo";
	case INVITE_ERR_VERSION: return "unsupported invite version";
	case INVITE_ERR_EXPIRED: return "invite expired";
	case INVITE_ERR_FIELD:	return "malformed field in invite";
	case INVITE_ERR_TOOLONG: return "invite code or URI too long";
	case INVITE_ERR_URI:	return "malformed invite URI";
	case INVITE_ERR_TRANSPORT: return "invite endpoint uses a transport "
				    "nodes do not speak";
	default:		return "unknown invite error";
	}
}
