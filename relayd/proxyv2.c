/*
 * PROXY protocol v2 header parser and the proxy allowlist (proxyv2.h).
 *
 * The header (doc/proxy-protocol.txt, 2.2), all integers in network order:
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |     signature: 0D 0A 0D 0A 00 0D 0A 51 55 49 54 0A (12 bytes)  |
 *   |                                                               |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  ver=2 | cmd  |  fam   | proto |         length (bytes        |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+           that follow)        |
 *   | addresses: TCP4 12 bytes, TCP6 36, UNIX 216; then TLVs        |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 *   TCP4/TCP6 addresses: src addr, dst addr, src port, dst port.
 *   TLV: type (1 byte), length (2 bytes), value.
 *
 * cmd 0 is LOCAL (the proxy's own connection, e.g. a health check: the
 * whole block after the length is skipped, family included), 1 is PROXY. fam/proto: 0x00 UNSPEC, 0x11 TCP4,
 * 0x21 TCP6, 0x31 UNIX stream; the datagram kinds (0x12, 0x22, 0x32) make
 * no sense before a TCP stream and everything else is invalid by the spec.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relayd/proxyv2.h"

static const uint8_t proxyv2_sig[PROXYV2_SIGLEN] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

#define PP2_CMD_LOCAL		0x0
#define PP2_CMD_PROXY		0x1
#define PP2_TYPE_CRC32C		0x03
#define PP2_TLV_HDRLEN		3

/* Address block length for a fam/proto byte, -1 when refused. */
static int
proxyv2_addrlen(uint8_t fam, const char **why)
{
	switch (fam) {
	case 0x00:
		return 0;
	case 0x11:
		return 12;
	case 0x21:
		return 36;
	case 0x31:
		return 216;
	case 0x12:
	case 0x22:
	case 0x32:
		*why = "PROXY v2: datagram transport before a TCP stream";
		return -1;
	default:
		*why = "PROXY v2: unknown address family or transport";
		return -1;
	}
}

/* The first bytes of the fixed part: signature, version, command, family.
 * Checked on what has arrived so far, so a bad header fails early. */
static enum proxyv2_result
proxyv2_check_start(const uint8_t *p, size_t len, const char **why)
{
	size_t n = len < PROXYV2_SIGLEN ? len : PROXYV2_SIGLEN;

	if (memcmp(p, proxyv2_sig, n) != 0) {
		if (len >= 1 && p[0] == 'P' &&
		    memcmp(p, "PROXY", len < 5 ? len : 5) == 0)
			*why = "PROXY v1 (text) header: only v2 is accepted "
			    "(send-proxy-v2)";
		else
			*why = "no PROXY v2 signature from a proxy address";
		return PROXYV2_BAD;
	}
	if (len > 12 && (p[12] >> 4) != 2) {
		*why = "PROXY header version is not 2";
		return PROXYV2_BAD;
	}
	if (len > 12 && (p[12] & 0x0f) > PP2_CMD_PROXY) {
		*why = "PROXY v2: unknown command";
		return PROXYV2_BAD;
	}
	/* LOCAL: "discard the protocol block including the family (which
	 * is ignored)" (2.2), so only PROXY needs a family we know */
	if (len > 13 && (p[12] & 0x0f) == PP2_CMD_PROXY &&
	    proxyv2_addrlen(p[13], why) < 0)
		return PROXYV2_BAD;
	return PROXYV2_OK;
}

static void
proxyv2_addrs(const uint8_t *a, uint8_t fam, struct proxyv2_hdr *h)
{
	struct sockaddr_in	*s4 = (struct sockaddr_in *)&h->src;
	struct sockaddr_in	*d4 = (struct sockaddr_in *)&h->dst;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)&h->src;
	struct sockaddr_in6	*d6 = (struct sockaddr_in6 *)&h->dst;

	if (fam == 0x11) {
		s4->sin_family = d4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, a, 4);
		memcpy(&d4->sin_addr, a + 4, 4);
		memcpy(&s4->sin_port, a + 8, 2);
		memcpy(&d4->sin_port, a + 10, 2);
	} else if (fam == 0x21) {
		s6->sin6_family = d6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, a, 16);
		memcpy(&d6->sin6_addr, a + 16, 16);
		memcpy(&s6->sin6_port, a + 32, 2);
		memcpy(&d6->sin6_port, a + 34, 2);
	}
	/* UNSPEC and UNIX: no IP address to give; the caller keeps the
	 * connection's own peer (the proxy) */
}

/* Walk the TLVs in p[0..len): each must fit; a CRC32C is checked over the
 * whole header hdr[0..hlen) with its own value taken as zero. */
static enum proxyv2_result
proxyv2_tlvs(const uint8_t *hdr, size_t hlen, size_t off,
    struct proxyv2_hdr *h, const char **why)
{
	uint8_t		copy[PROXYV2_MAX_LEN];
	uint32_t	want;
	size_t		vlen;

	while (off < hlen) {
		if (hlen - off < PP2_TLV_HDRLEN) {
			*why = "PROXY v2: truncated TLV";
			return PROXYV2_BAD;
		}
		vlen = (size_t)hdr[off + 1] << 8 | hdr[off + 2];
		if (vlen > hlen - off - PP2_TLV_HDRLEN) {
			*why = "PROXY v2: TLV runs past the header";
			return PROXYV2_BAD;
		}
		if (hdr[off] == PP2_TYPE_CRC32C) {
			if (vlen != 4 || h->has_crc) {
				*why = "PROXY v2: bad CRC32C TLV";
				return PROXYV2_BAD;
			}
			memcpy(&want, hdr + off + PP2_TLV_HDRLEN, 4);
			memcpy(copy, hdr, hlen);
			memset(copy + off + PP2_TLV_HDRLEN, 0, 4);
			if (htonl(proxyv2_crc32c(copy, hlen)) != want) {
				*why = "PROXY v2: CRC32C mismatch";
				return PROXYV2_BAD;
			}
			h->has_crc = 1;
		}
		off += PP2_TLV_HDRLEN + vlen;
	}
	return PROXYV2_OK;
}

enum proxyv2_result
proxyv2_parse(const void *buf, size_t len, struct proxyv2_hdr *h,
    const char **why)
{
	const uint8_t	*p = buf;
	const char	*dummy;
	size_t		 body, total;
	int		 alen;

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	memset(h, 0, sizeof(*h));
	if (len == 0)
		return PROXYV2_MORE;
	if (proxyv2_check_start(p, len, why) != PROXYV2_OK)
		return PROXYV2_BAD;
	if (len < PROXYV2_HDRLEN)
		return PROXYV2_MORE;
	body = (size_t)p[14] << 8 | p[15];
	total = PROXYV2_HDRLEN + body;
	if (total > PROXYV2_MAX_LEN) {
		*why = "PROXY v2 header longer than 2048 bytes";
		return PROXYV2_BAD;
	}
	h->local = (p[12] & 0x0f) == PP2_CMD_LOCAL;
	h->src.ss_family = h->dst.ss_family = AF_UNSPEC;
	if (h->local) {
		if (len < total)
			return PROXYV2_MORE;
		h->len = total;
		return PROXYV2_OK;
	}
	alen = proxyv2_addrlen(p[13], why);
	if ((size_t)alen > body) {
		*why = "PROXY v2: length shorter than the addresses";
		return PROXYV2_BAD;
	}
	if (len < total)
		return PROXYV2_MORE;
	if (proxyv2_tlvs(p, total, PROXYV2_HDRLEN + alen, h, why) != PROXYV2_OK)
		return PROXYV2_BAD;
	h->len = total;
	proxyv2_addrs(p + PROXYV2_HDRLEN, p[13], h);
	return PROXYV2_OK;
}

/* Bit by bit: a header is checked once per connection, a table would be
 * 1 KiB of data for nothing. Reflected polynomial 0x82F63B78; check value
 * CRC32C("123456789") = 0xE3069283. */
uint32_t
proxyv2_crc32c(const void *buf, size_t len)
{
	const uint8_t	*p = buf;
	uint32_t	 c = 0xffffffff;
	int		 k;

	while (len-- > 0) {
		c ^= *p++;
		for (k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78 : c >> 1;
	}
	return c ^ 0xffffffff;
}

/* One entry "addr" or "addr/bits" into al (space checked by the caller). */
static int
proxyv2_allow_one(struct proxyv2_allow *al, const char *s, char *err,
    size_t errlen)
{
	char		 host[INET6_ADDRSTRLEN + 1], *slash, *end;
	struct in_addr	 a4;
	struct in6_addr	*net = &al->net[al->n];
	long		 bits, max;
	int		 i;

	if (strlcpy(host, s, sizeof(host)) >= sizeof(host))
		goto bad;
	if ((slash = strchr(host, '/')) != NULL)
		*slash++ = '\0';
	memset(net, 0, sizeof(*net));
	if (inet_pton(AF_INET, host, &a4) == 1) {
		net->s6_addr[10] = net->s6_addr[11] = 0xff;
		memcpy(&net->s6_addr[12], &a4, 4);
		max = 32;
	} else if (inet_pton(AF_INET6, host, net) == 1)
		max = 128;
	else
		goto bad;
	bits = max;
	if (slash != NULL) {
		if (!isdigit((unsigned char)*slash))
			goto bad;
		bits = strtol(slash, &end, 10);
		if (*end != '\0' || bits > max)
			goto bad;
	}
	if (max == 32)
		bits += 96;
	/* clear the host bits, so "10.1.2.3/16" means 10.1.0.0/16 */
	for (i = (int)bits; i < 128; i++)
		net->s6_addr[i / 8] &= ~(0x80 >> (i % 8));
	al->bits[al->n++] = (uint8_t)bits;
	return 0;
bad:
	snprintf(err, errlen, "proxy address \"%s\": not an IP address or "
	    "ADDRESS/PREFIX", s);
	return -1;
}

int
proxyv2_allow_parse(struct proxyv2_allow *al, const char *list, char *err,
    size_t errlen)
{
	char		 item[64];
	const char	*p = list;
	size_t		 n;

	memset(al, 0, sizeof(*al));
	for (;;) {
		p += strspn(p, ", \t");
		if (*p == '\0')
			return 0;
		n = strcspn(p, ", \t");
		if (al->n == PROXYV2_ALLOW_MAX) {
			snprintf(err, errlen, "more than %d proxy addresses",
			    PROXYV2_ALLOW_MAX);
			break;
		}
		if (n >= sizeof(item)) {
			snprintf(err, errlen, "proxy address \"%.*s...\": too "
			    "long", 20, p);
			break;
		}
		memcpy(item, p, n);
		item[n] = '\0';
		if (proxyv2_allow_one(al, item, err, errlen) == -1)
			break;
		p += n;
	}
	memset(al, 0, sizeof(*al));
	return -1;
}

int
proxyv2_allowed(const struct proxyv2_allow *al, const struct sockaddr *sa)
{
	struct in6_addr	 a;
	int		 i, b, full;

	memset(&a, 0, sizeof(a));
	if (sa->sa_family == AF_INET) {
		a.s6_addr[10] = a.s6_addr[11] = 0xff;
		memcpy(&a.s6_addr[12],
		    &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6)
		a = ((const struct sockaddr_in6 *)sa)->sin6_addr;
	else
		return 0;
	for (i = 0; i < al->n; i++) {
		b = al->bits[i];
		full = b / 8;
		if (memcmp(a.s6_addr, al->net[i].s6_addr, full) != 0)
			continue;
		if (b % 8 != 0 && ((a.s6_addr[full] ^ al->net[i].s6_addr[full]) &
		    (0xff << (8 - b % 8)) & 0xff) != 0)
			continue;
		return 1;
	}
	return 0;
}
