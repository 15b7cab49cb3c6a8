/*
 * Super-packets from atm0 cut into wire packets, and the checksums they
 * need (tun_vnet.h). What the kernel's TSO would do on a NIC: each
 * segment gets the headers again, its own IPv4 total length, identification
 * (+1 per segment, as Linux's TSO) and header checksum, or IPv6 payload
 * length, its TCP sequence number, FIN and PSH on the last segment only,
 * CWR on the first only, and a complete TCP checksum.
 *
 * Checksums are summed in host byte order over 32-bit words: the one's
 * complement sum does not depend on the byte order (RFC 1071 2(B)), so the
 * folded result stored as it is lands in network order.
 */
#include <arpa/inet.h>
#include <string.h>

#include "punchd/tun_vnet.h"

#define TCP_FIN		0x01
#define TCP_PSH		0x08
#define TCP_CWR		0x80

uint64_t
tun_csum_add(uint64_t sum, const uint8_t *b, size_t n)
{
	uint32_t	w;
	uint16_t	h;
	uint8_t		last[2];

	while (n >= 4) {
		memcpy(&w, b, 4);
		sum += w;
		b += 4;
		n -= 4;
	}
	if (n >= 2) {
		memcpy(&h, b, 2);
		sum += h;
		b += 2;
		n -= 2;
	}
	if (n == 1) {
		last[0] = b[0];
		last[1] = 0;
		memcpy(&h, last, 2);
		sum += h;
	}
	return sum;
}

uint16_t
tun_csum_fold(uint64_t s)
{
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

uint64_t
tun_csum_pseudo(const uint8_t *ip, int proto, size_t tlen)
{
	uint64_t s;

	if ((ip[0] >> 4) == 4)
		s = tun_csum_add(0, ip + 12, 8);
	else
		s = tun_csum_add(0, ip + 8, 32);
	s += htons((uint16_t)proto);
	s += htons((uint16_t)(tlen >> 16));
	s += htons((uint16_t)(tlen & 0xffff));
	return s;
}

static void
tun_put16(uint8_t *p, uint16_t v)
{
	v = htons(v);
	memcpy(p, &v, 2);
}

/* A checksum the kernel left partial (the field holds the pseudo-header
 * sum): summed over the rest from csum_start. 0, or -1 out of bounds. */
static int
tun_vnet_finish(uint8_t *pkt, size_t len, size_t start, size_t off)
{
	uint16_t c;

	if (start >= len || off > len - start || len - start - off < 2)
		return -1;
	c = tun_csum_fold(tun_csum_add(0, pkt + start, len - start));
	if (c == 0 && off == 6)		/* UDP: 0 means "none" (RFC 768) */
		c = 0xffff;
	memcpy(pkt + start + off, &c, 2);
	return 0;
}

/* One segment of `n` payload bytes from `off` into out; its length. */
static size_t
tun_vnet_segment(const uint8_t *pkt, size_t hl, size_t ts, size_t off,
    size_t n, int first, int last, unsigned i, uint8_t *out)
{
	uint32_t	seq;
	uint16_t	c;
	size_t		len = hl + n;

	memcpy(out, pkt, hl);
	memcpy(out + hl, pkt + hl + off, n);
	if ((out[0] >> 4) == 4) {
		tun_put16(out + 2, (uint16_t)len);
		tun_put16(out + 4, (uint16_t)(((out[4] << 8) | out[5]) + i));
		out[10] = out[11] = 0;
		c = tun_csum_fold(tun_csum_add(0, out, ts));
		memcpy(out + 10, &c, 2);
	} else
		tun_put16(out + 4, (uint16_t)(len - 40));
	memcpy(&seq, out + ts + 4, 4);
	seq = htonl(ntohl(seq) + (uint32_t)off);
	memcpy(out + ts + 4, &seq, 4);
	if (!last)
		out[ts + 13] &= ~(TCP_FIN | TCP_PSH);
	if (!first)
		out[ts + 13] &= ~TCP_CWR;
	out[ts + 16] = out[ts + 17] = 0;
	c = tun_csum_fold(tun_csum_add(tun_csum_pseudo(out, IPPROTO_TCP,
	    len - ts), out + ts, len - ts));
	memcpy(out + ts + 16, &c, 2);
	return len;
}

int
tun_vnet_split(const struct virtio_net_hdr *h, uint8_t *pkt, size_t len,
    uint8_t *scratch, size_t cap, tun_vnet_fn fn, void *arg)
{
	size_t		ts = h->csum_start, hl, gs = h->gso_size, pl, off, n;
	unsigned	i;
	int		type = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN, v;

	if (len < 20)
		return TUN_VNET_ERR_HDR;
	v = pkt[0] >> 4;
	if (type == VIRTIO_NET_HDR_GSO_NONE) {
		if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
		    tun_vnet_finish(pkt, len, h->csum_start, h->csum_offset)
		    == -1)
			return TUN_VNET_ERR_HDR;
		fn(arg, pkt, len);
		return 1;
	}
	if (type != VIRTIO_NET_HDR_GSO_TCPV4 && type !=
	    VIRTIO_NET_HDR_GSO_TCPV6)
		return TUN_VNET_ERR_KIND;
	/* the transport header where the IP header says it starts (IPv6:
	 * after extension headers, where csum_start says, not before 40) */
	if ((type == VIRTIO_NET_HDR_GSO_TCPV4 && (v != 4 ||
	    ts != (size_t)(pkt[0] & 0x0f) * 4 || ts < 20)) ||
	    (type == VIRTIO_NET_HDR_GSO_TCPV6 && (v != 6 || ts < 40)) ||
	    h->csum_offset != 16 || gs == 0 || ts + 20 > len)
		return TUN_VNET_ERR_HDR;
	hl = ts + (size_t)(pkt[ts + 12] >> 4) * 4;
	if (hl < ts + 20 || hl > len)
		return TUN_VNET_ERR_HDR;
	if (len > TUN_VNET_MAX + (v == 6 ? 40 : 0))
		return TUN_VNET_ERR_HDR;
	pl = len - hl;
	if (hl + (pl < gs ? pl : gs) > cap)
		return TUN_VNET_ERR_BIG;
	if (pl == 0) {
		fn(arg, scratch, tun_vnet_segment(pkt, hl, ts, 0, 0, 1, 1, 0,
		    scratch));
		return 1;
	}
	for (off = 0, i = 0; off < pl; off += n, i++) {
		n = pl - off < gs ? pl - off : gs;
		fn(arg, scratch, tun_vnet_segment(pkt, hl, ts, off, n, i == 0,
		    off + n == pl, i, scratch));
	}
	return (int)i;
}
