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
	uint64_t	q;
	uint32_t	w;
	uint16_t	h;
	uint8_t		last[2];

	/* 8 bytes a step, as two 32-bit words: no carry is lost (the sum
	 * has 31 spare bits, far beyond 64 KiB of words) */
	while (n >= 8) {
		memcpy(&q, b, 8);
		sum += (q & 0xffffffffu) + (q >> 32);
		b += 8;
		n -= 8;
	}
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

uint16_t
tun_csum_l4(const uint8_t *ip, size_t len, size_t ts, int proto)
{
	return tun_csum_fold(tun_csum_add(tun_csum_pseudo(ip, proto, len - ts),
	    ip + ts, len - ts));
}

void
tun_ip_set_len(uint8_t *ip, size_t len, size_t ts)
{
	uint16_t c;

	if ((ip[0] >> 4) == 4) {
		tun_put16(ip + 2, (uint16_t)len);
		ip[10] = ip[11] = 0;
		c = tun_csum_fold(tun_csum_add(0, ip, ts));
		memcpy(ip + 10, &c, 2);
	} else
		tun_put16(ip + 4, (uint16_t)(len - 40));
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

/* One segment of `n` payload bytes from `off` into out, TCP or UDP; its
 * length. */
static size_t
tun_vnet_segment(const uint8_t *pkt, size_t hl, size_t ts, size_t off,
    size_t n, int udp, int first, int last, unsigned i, uint8_t *out)
{
	uint32_t	seq;
	uint16_t	c;
	size_t		len = hl + n, at;

	memcpy(out, pkt, hl);
	memcpy(out + hl, pkt + hl + off, n);
	if ((out[0] >> 4) == 4)
		tun_put16(out + 4, (uint16_t)(((out[4] << 8) | out[5]) + i));
	tun_ip_set_len(out, len, ts);
	if (udp) {
		tun_put16(out + ts + 4, (uint16_t)(len - ts));
		at = ts + 6;
	} else {
		memcpy(&seq, out + ts + 4, 4);
		seq = htonl(ntohl(seq) + (uint32_t)off);
		memcpy(out + ts + 4, &seq, 4);
		if (!last)
			out[ts + 13] &= ~(TCP_FIN | TCP_PSH);
		if (!first)
			out[ts + 13] &= ~TCP_CWR;
		at = ts + 16;
	}
	out[at] = out[at + 1] = 0;
	c = tun_csum_l4(out, len, ts, udp ? IPPROTO_UDP : IPPROTO_TCP);
	if (udp && c == 0)
		c = 0xffff;
	memcpy(out + at, &c, 2);
	return len;
}

/* Where the transport header starts and the headers end, from what h
 * says and the packet agrees with: 0, or -1. */
static int
tun_vnet_headers(const struct virtio_net_hdr *h, const uint8_t *pkt,
    size_t len, int udp, size_t *hlp)
{
	size_t	ts = h->csum_start;
	int	type = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN, v = pkt[0] >> 4;
	int	v6 = type == VIRTIO_NET_HDR_GSO_TCPV6 || (udp && v == 6);

	/* the transport header where the IP header says it starts (IPv6:
	 * after extension headers, where csum_start says, not before 40) */
	if ((!v6 && (v != 4 || ts != (size_t)(pkt[0] & 0x0f) * 4 || ts < 20 ||
	    pkt[9] != (udp ? IPPROTO_UDP : IPPROTO_TCP))) ||
	    (v6 && (v != 6 || ts < 40 || len < 40)) ||
	    h->csum_offset != (udp ? 6 : 16) || h->gso_size == 0 ||
	    ts + (udp ? 8 : 20) > len)
		return -1;
	*hlp = ts + (udp ? 8 : (size_t)(pkt[ts + 12] >> 4) * 4);
	if (*hlp < ts + 8 || *hlp > len || len > TUN_VNET_MAX + (v6 ? 40 : 0))
		return -1;
	return 0;
}

int
tun_vnet_split(const struct virtio_net_hdr *h, uint8_t *pkt, size_t len,
    uint8_t *scratch, size_t cap, tun_vnet_fn fn, void *arg)
{
	size_t		ts = h->csum_start, hl, gs = h->gso_size, pl, off, n;
	unsigned	i;
	int		type = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN, udp;

	if (len < 20)
		return TUN_VNET_ERR_HDR;
	if (type == VIRTIO_NET_HDR_GSO_NONE) {
		if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
		    tun_vnet_finish(pkt, len, h->csum_start, h->csum_offset)
		    == -1)
			return TUN_VNET_ERR_HDR;
		fn(arg, pkt, len);
		return 1;
	}
	if (type != VIRTIO_NET_HDR_GSO_TCPV4 && type !=
	    VIRTIO_NET_HDR_GSO_TCPV6 && type != VIRTIO_NET_HDR_GSO_UDP_L4)
		return TUN_VNET_ERR_KIND;
	udp = type == VIRTIO_NET_HDR_GSO_UDP_L4;
	if (tun_vnet_headers(h, pkt, len, udp, &hl) == -1)
		return TUN_VNET_ERR_HDR;
	pl = len - hl;
	if (hl + (pl < gs ? pl : gs) > cap)
		return TUN_VNET_ERR_BIG;
	if (pl == 0) {
		fn(arg, scratch, tun_vnet_segment(pkt, hl, ts, 0, 0, udp, 1, 1,
		    0, scratch));
		return 1;
	}
	for (off = 0, i = 0; off < pl; off += n, i++) {
		n = pl - off < gs ? pl - off : gs;
		fn(arg, scratch, tun_vnet_segment(pkt, hl, ts, off, n, udp,
		    i == 0, off + n == pl, i, scratch));
	}
	return (int)i;
}
