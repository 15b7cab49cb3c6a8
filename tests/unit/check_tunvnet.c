/*
 * The mesh interface's offloads (punchd/tun_vnet.c, punchd/tun_gro.c),
 * against a byte-by-byte RFC 1071 checksum written here.
 * Checks: the fast checksum equals the slow one on random buffers of
 * every length parity; a TCP super-packet over IPv4 and IPv6, with the
 * kernel's partial checksum, is cut into segments whose IP and TCP
 * checksums verify, with sequence numbers, IPv4 identifications, FIN/PSH
 * (last only) and CWR (first only) as TSO sets them, the payload whole;
 * those segments merged again give one super-packet with the header the
 * kernel wants, whose checksum (finished as the kernel would) verifies
 * and which cuts into the same segments; two flows interleaved with a
 * datagram keep each flow's order and lose nothing; a gap, a PSH, a
 * shorter segment, other options or ack end a merge; a segment with a
 * wrong checksum is never merged and goes out as it came; hostile offload
 * headers are refused with the right error; and random packets through
 * the merge come out exactly once each (counted by segments).
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "punchd/tun_vnet.h"
#include "suites.h"

#define MSS	1240

/* RFC 1071, the slow way: 16-bit big-endian words */
static uint16_t
slow_csum(const uint8_t *b, size_t n, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		sum += (uint32_t)b[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* the IP header of a test packet: 100.64.0.1 -> .2 or fd00::1 -> ::2 */
static void
mk_ip(uint8_t *p, int v6, int proto, size_t len)
{
	uint16_t c;

	if (!v6) {
		p[0] = 0x45;
		p[2] = (uint8_t)(len >> 8);
		p[3] = (uint8_t)len;
		p[4] = 0x12;
		p[5] = 0x34;
		p[6] = 0x40;	/* DF */
		p[8] = 64;
		p[9] = (uint8_t)proto;
		memcpy(p + 12, "\x64\x40\x00\x01\x64\x40\x00\x02", 8);
		c = htons(slow_csum(p, 20, 0));
		memcpy(p + 10, &c, 2);
	} else {
		p[0] = 0x60;
		p[4] = (uint8_t)((len - 40) >> 8);
		p[5] = (uint8_t)(len - 40);
		p[6] = (uint8_t)proto;
		p[7] = 64;
		p[8] = 0xfd;
		p[23] = 1;
		p[24] = 0xfd;
		p[39] = 2;
	}
}

/* the pseudo-header's sum (slow path, not folded) */
static uint32_t
slow_pseudo(const uint8_t *p, int proto, size_t tlen)
{
	const uint8_t	*a = p + ((p[0] >> 4) == 4 ? 12 : 8);
	size_t		 al = (p[0] >> 4) == 4 ? 8 : 32, j;
	uint32_t	 sum = 0;

	for (j = 0; j < al; j += 2)
		sum += (uint32_t)(a[j] << 8 | a[j + 1]);
	return sum + (uint32_t)proto + (uint32_t)tlen;
}

/* the transport header's offset */
static size_t
l4_at(const uint8_t *p)
{
	return (p[0] >> 4) == 4 ? (size_t)(p[0] & 15) * 4 : 40;
}

/* does the TCP or UDP checksum of a whole packet verify (slow path)? */
static int
l4_ok(const uint8_t *p, size_t len, int proto)
{
	size_t ts = l4_at(p);

	return slow_csum(p + ts, len - ts, slow_pseudo(p, proto, len - ts))
	    == 0;
}

static int
tcp_ok(const uint8_t *p, size_t len)
{
	return l4_ok(p, len, IPPROTO_TCP);
}

static int
udp_ok(const uint8_t *p, size_t len)
{
	return l4_ok(p, len, IPPROTO_UDP);
}

/* the TCP checksum again, after a field changed */
static void
fix_tcp(uint8_t *p, size_t len)
{
	size_t		ts = l4_at(p);
	uint16_t	c;

	p[ts + 16] = p[ts + 17] = 0;
	c = htons(slow_csum(p + ts, len - ts, slow_pseudo(p, IPPROTO_TCP,
	    len - ts)));
	memcpy(p + ts + 16, &c, 2);
}

static size_t
mk_tcp(uint8_t *p, int v6, size_t plen, uint32_t seq, uint8_t flags,
    uint16_t sport, int opts, unsigned fill)
{
	size_t	ts = v6 ? 40 : 20, th = opts ? 32 : 20, len = ts + th + plen;
	size_t	i;

	memset(p, 0, ts + th);
	mk_ip(p, v6, IPPROTO_TCP, len);
	p[ts] = (uint8_t)(sport >> 8);
	p[ts + 1] = (uint8_t)sport;
	p[ts + 3] = 80;
	p[ts + 4] = (uint8_t)(seq >> 24);
	p[ts + 5] = (uint8_t)(seq >> 16);
	p[ts + 6] = (uint8_t)(seq >> 8);
	p[ts + 7] = (uint8_t)seq;
	p[ts + 11] = 7;				/* ack */
	p[ts + 12] = (uint8_t)((th / 4) << 4);
	p[ts + 13] = flags;
	p[ts + 15] = 0xff;			/* window */
	if (opts)	/* NOP NOP timestamps */
		memcpy(p + ts + 20, "\x01\x01\x08\x0a\0\0\0\x09\0\0\0\x05", 12);
	for (i = 0; i < plen; i++)
		p[ts + th + i] = (uint8_t)(fill + i * 7);
	fix_tcp(p, len);
	ck_assert(tcp_ok(p, len));
	return len;
}

/* a UDP datagram, checksum complete (csum 0: none, IPv4 only) */
static size_t
mk_udp(uint8_t *p, int v6, size_t plen, uint16_t sport, int csum,
    unsigned fill)
{
	size_t		ts = v6 ? 40 : 20, len = ts + 8 + plen, i;
	uint16_t	c;

	memset(p, 0, ts + 8);
	mk_ip(p, v6, IPPROTO_UDP, len);
	p[ts] = (uint8_t)(sport >> 8);
	p[ts + 1] = (uint8_t)sport;
	p[ts + 3] = 53;
	p[ts + 4] = (uint8_t)((len - ts) >> 8);
	p[ts + 5] = (uint8_t)(len - ts);
	for (i = 0; i < plen; i++)
		p[ts + 8 + i] = (uint8_t)(fill + i * 3);
	if (!csum)
		return len;
	c = htons(slow_csum(p + ts, len - ts, slow_pseudo(p, IPPROTO_UDP,
	    len - ts)));
	if (c == 0)
		c = 0xffff;
	memcpy(p + ts + 6, &c, 2);
	return len;
}

/* what split and the merge hand out */
struct rec {
	int		n;
	uint8_t		pkt[128][TUN_VNET_MAX + 40];
	size_t		len[128];
	struct virtio_net_hdr h[128];
};

static struct rec *rec;

static void
rec_seg(void *arg, const uint8_t *pkt, size_t len)
{
	(void)arg;
	ck_assert_int_lt(rec->n, 128);
	memcpy(rec->pkt[rec->n], pkt, len);
	rec->len[rec->n++] = len;
}

static int
rec_write(void *arg, const struct virtio_net_hdr *h, const uint8_t *pkt,
    size_t len)
{
	(void)arg;
	ck_assert_int_lt(rec->n, 128);
	rec->h[rec->n] = *h;
	memcpy(rec->pkt[rec->n], pkt, len);
	rec->len[rec->n++] = len;
	return 0;
}

static void
setup(void)
{
	rec = calloc(1, sizeof(*rec));
	ck_assert_ptr_nonnull(rec);
}

static void
teardown(void)
{
	free(rec);
}

START_TEST(test_csum)
{
	uint8_t	b[2001];
	size_t	n, i;
	int	r;

	srandom(1);
	for (r = 0; r < 2000; r++) {
		n = (size_t)random() % sizeof(b);
		for (i = 0; i < n; i++)
			b[i] = (uint8_t)random();
		ck_assert_uint_eq(ntohs(tun_csum_fold(tun_csum_add(0, b, n))),
		    slow_csum(b, n, 0));
	}
}
END_TEST

/* a super-packet as the kernel gives it: the TCP checksum field holds
 * the pseudo-header sum (partial) */
static size_t
mk_super(uint8_t *p, int v6, size_t plen, uint8_t flags,
    struct virtio_net_hdr *h)
{
	size_t		len = mk_tcp(p, v6, plen, 1000, flags, 5555, 1, 3);
	size_t		ts = v6 ? 40 : 20;
	uint16_t	c;

	if (!v6 && len > 65535)
		ck_abort();
	c = (uint16_t)~tun_csum_fold(tun_csum_pseudo(p, IPPROTO_TCP,
	    len - ts));
	memcpy(p + ts + 16, &c, 2);
	memset(h, 0, sizeof(*h));
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->gso_type = v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
	h->hdr_len = (uint16_t)(ts + 32);
	h->gso_size = MSS;
	h->csum_start = (uint16_t)ts;
	h->csum_offset = 16;
	return len;
}

START_TEST(test_split_merge)
{
	static uint8_t		sup[TUN_VNET_MAX + 40], orig[TUN_VNET_MAX + 40];
	static uint8_t		scratch[1500];
	struct virtio_net_hdr	h;
	int			v6 = _i, n, i, segs;
	size_t			ts = v6 ? 40 : 20, hl = ts + 32, len, plen;
	size_t			off = 0;
	uint32_t		seq;
	struct tun_gro		*g;

	plen = 50 * MSS + 333;
	len = mk_super(sup, v6, plen, 0x10 | 0x08 | 0x01 | 0x80, &h);
	memcpy(orig, sup, len);
	n = tun_vnet_split(&h, sup, len, scratch, sizeof(scratch), rec_seg,
	    NULL);
	ck_assert_int_eq(n, 51);
	for (i = 0; i < n; i++) {
		const uint8_t *s = rec->pkt[i];
		size_t want = hl + (i < 50 ? MSS : 333);

		ck_assert_uint_eq(rec->len[i], want);
		if (!v6) {
			ck_assert_uint_eq((size_t)(s[2] << 8 | s[3]), want);
			ck_assert_uint_eq(slow_csum(s, 20, 0), 0);
			ck_assert_uint_eq((unsigned)(s[4] << 8 | s[5]),
			    0x1234u + (unsigned)i);
		} else
			ck_assert_uint_eq((size_t)(s[4] << 8 | s[5]),
			    want - 40);
		ck_assert(tcp_ok(s, want));
		seq = (uint32_t)s[ts + 4] << 24 | (uint32_t)s[ts + 5] << 16 |
		    (uint32_t)s[ts + 6] << 8 | s[ts + 7];
		ck_assert_uint_eq(seq, 1000 + off);
		ck_assert_int_eq(!!(s[ts + 13] & 0x09), i == n - 1);
		ck_assert_int_eq(!!(s[ts + 13] & 0x80), i == 0);
		ck_assert(!memcmp(s + hl, orig + hl + off, want - hl));
		off += want - hl;
	}
	ck_assert_uint_eq(off, plen);

	/* merged again: the middle 49 (the first has CWR, the last FIN) */
	segs = n;
	g = tun_gro_new(0, rec_write, NULL);
	ck_assert_ptr_nonnull(g);
	rec->n = 0;
	{
		static uint8_t copy[51][1500];
		static size_t clen[51];

		for (i = 0; i < segs; i++) {
			memcpy(copy[i], rec->pkt[i], rec->len[i]);
			clen[i] = rec->len[i];
		}
		rec->n = 0;
		for (i = 1; i < segs - 1; i++)
			tun_gro_add(g, copy[i], clen[i]);
		tun_gro_flush(g);
		ck_assert_int_eq(rec->n, 1);
		ck_assert_uint_eq(rec->h[0].gso_type, h.gso_type);
		ck_assert_uint_eq(rec->h[0].gso_size, MSS);
		ck_assert_uint_eq(rec->h[0].hdr_len, hl);
		ck_assert_uint_eq(rec->h[0].csum_start, ts);
		ck_assert_uint_eq(rec->h[0].csum_offset, 16);
		ck_assert_uint_eq(rec->h[0].flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
		ck_assert_uint_eq(rec->len[0], hl + 49 * MSS);
		ck_assert(!memcmp(rec->pkt[0] + hl, orig + hl + MSS, 49 * MSS));
		ck_assert_uint_eq(tun_gro_stats(g)->merged, 48);
		if (!v6)
			ck_assert_uint_eq(slow_csum(rec->pkt[0], 20, 0), 0);
		/* finished as the kernel would, it verifies */
		memcpy(sup, rec->pkt[0], rec->len[0]);
		len = rec->len[0];
		h = rec->h[0];
		{
			uint16_t c = tun_csum_fold(tun_csum_add(0, sup + ts,
			    len - ts));

			memcpy(sup + ts + 16, &c, 2);
			ck_assert(tcp_ok(sup, len));
			/* back to partial, and cut again: the same segments */
			memcpy(sup, rec->pkt[0], len);
		}
		rec->n = 0;
		ck_assert_int_eq(tun_vnet_split(&h, sup, len, scratch,
		    sizeof(scratch), rec_seg, NULL), 49);
		for (i = 0; i < 49; i++) {
			ck_assert_uint_eq(rec->len[i], clen[i + 1]);
			/* IPv4 ids count from the merged packet's first */
			ck_assert(!memcmp(rec->pkt[i] + ts, copy[i + 1] + ts,
			    clen[i + 1] - ts));
		}
	}
	tun_gro_free(g);
}
END_TEST

START_TEST(test_flows)
{
	static uint8_t	a[6][1400], b[6][1400], u[100];
	size_t		la[6], lb[6], i, got_a = 0, got_b = 0;
	struct tun_gro	*g = tun_gro_new(0, rec_write, NULL);
	int		k, seen_u = 0, last_a = -1;

	for (i = 0; i < 6; i++) {
		la[i] = mk_tcp(a[i], 0, MSS, 100 + (uint32_t)i * MSS, 0x10,
		    1111, 1, (unsigned)i);
		lb[i] = mk_tcp(b[i], 1, 500, 9 + (uint32_t)i * 500, 0x10,
		    2222, 0, (unsigned)i);
	}
	memset(u, 0, sizeof(u));
	u[0] = 0x45;
	u[3] = sizeof(u);
	u[9] = 17;
	for (i = 0; i < 6; i++) {
		tun_gro_add(g, a[i], la[i]);
		tun_gro_add(g, b[i], lb[i]);
		if (i == 2)
			tun_gro_add(g, u, sizeof(u));
	}
	tun_gro_flush(g);
	ck_assert_int_eq(rec->n, 3);
	for (k = 0; k < rec->n; k++) {
		const uint8_t *p = rec->pkt[k];

		if (rec->len[k] == sizeof(u)) {
			seen_u = 1;
			ck_assert_uint_eq(rec->h[k].gso_type, 0);
		} else if ((p[0] >> 4) == 4) {
			got_a += rec->len[k] - 52;
			last_a = k;
			ck_assert(!memcmp(p + 52 + 5 * MSS, a[5] + 52, MSS));
		} else
			got_b += rec->len[k] - 60;
	}
	ck_assert(seen_u && last_a >= 0);
	ck_assert_uint_eq(got_a, 6 * MSS);
	ck_assert_uint_eq(got_b, 6 * 500);
	tun_gro_free(g);
}
END_TEST

/* each of these ends the merge before packet 2 of 3 */
START_TEST(test_breaks)
{
	static uint8_t	p[3][1400];
	size_t		l[3];
	struct tun_gro	*g = tun_gro_new(0, rec_write, NULL);
	int		i, c = _i;
	uint32_t	seq[3] = { 1, 1 + MSS, 1 + 2 * MSS };
	uint8_t		fl[3] = { 0x10, 0x10, 0x10 };
	size_t		pl[3] = { MSS, MSS, MSS };

	if (c == 0)
		seq[1] += 1;		/* a gap */
	if (c == 1)
		fl[0] = 0x18;		/* PSH ends it */
	if (c == 2)
		pl[0] = 100, seq[1] = 101, seq[2] = 101 + MSS; /* short first */
	if (c == 3)
		fl[1] = 0x11;		/* FIN is not merged */
	for (i = 0; i < 3; i++)
		l[i] = mk_tcp(p[i], 0, pl[i], seq[i], fl[i], 7, 1, 0);
	if (c == 4)			/* another ack */
		p[1][20 + 11] = 8;
	if (c == 5)			/* other options (a timestamp) */
		p[1][20 + 27] = 10;
	if (c >= 4)
		fix_tcp(p[1], l[1]);
	for (i = 0; i < 3; i++)
		tun_gro_add(g, p[i], l[i]);
	tun_gro_flush(g);
	ck_assert_int_ge(rec->n, 2);
	ck_assert_uint_eq(tun_gro_stats(g)->merged, (uint64_t)(3 - rec->n));
	tun_gro_free(g);
}
END_TEST

/* a peer's tiny segments: merged TUN_GRO_SEGS at a time at most */
START_TEST(test_tiny)
{
	static uint8_t	p[200][100];
	size_t		l[200];
	struct tun_gro	*g = tun_gro_new(0, rec_write, NULL);
	int		i, k;
	size_t		total = 0;

	for (i = 0; i < 200; i++) {
		l[i] = mk_tcp(p[i], 0, 1, 5 + (uint32_t)i, 0x10, 9, 0,
		    (unsigned)i);
		tun_gro_add(g, p[i], l[i]);
	}
	tun_gro_flush(g);
	ck_assert_int_eq(rec->n, 4);	/* 64 + 64 + 64 + 8 */
	for (k = 0; k < rec->n; k++) {
		ck_assert_uint_le(rec->len[k] - 40, TUN_GRO_SEGS);
		total += rec->len[k] - 40;
	}
	ck_assert_uint_eq(total, 200);
	tun_gro_free(g);
}
END_TEST

START_TEST(test_bad_csum)
{
	static uint8_t	p[3][1400];
	size_t		l[3];
	struct tun_gro	*g = tun_gro_new(0, rec_write, NULL);
	int		i;

	for (i = 0; i < 3; i++)
		l[i] = mk_tcp(p[i], 0, MSS, 1 + (uint32_t)i * MSS, 0x10, 7, 0,
		    0);
	p[1][100] ^= 1;
	for (i = 0; i < 3; i++)
		tun_gro_add(g, p[i], l[i]);
	tun_gro_flush(g);
	ck_assert_int_eq(rec->n, 3);
	ck_assert_uint_eq(tun_gro_stats(g)->bad_csum, 1);
	ck_assert_uint_eq(tun_gro_stats(g)->merged, 0);
	ck_assert(!memcmp(rec->pkt[1], p[1], l[1]));
	ck_assert_uint_eq(rec->h[1].flags, 0);
	tun_gro_free(g);
}
END_TEST

static uint64_t	counted;
static size_t	seg_max;

static void
count_seg(void *arg, const uint8_t *pkt, size_t len)
{
	(void)arg;
	(void)pkt;
	ck_assert_uint_le(len, seg_max);
	counted++;
}

START_TEST(test_hostile_split)
{
	static uint8_t		sup[TUN_VNET_MAX + 40], scratch[1500];
	struct virtio_net_hdr	h, h0;
	size_t			len;
	int			r, r2, valid = 0;

	len = mk_super(sup, 0, 5 * MSS, 0x10, &h0);
	h = h0;
	h.gso_type = VIRTIO_NET_HDR_GSO_UDP;
	ck_assert_int_eq(tun_vnet_split(&h, sup, len, scratch,
	    sizeof(scratch), rec_seg, NULL), TUN_VNET_ERR_KIND);
	h = h0;
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;	/* an IPv4 packet */
	ck_assert_int_eq(tun_vnet_split(&h, sup, len, scratch,
	    sizeof(scratch), rec_seg, NULL), TUN_VNET_ERR_HDR);
	h = h0;
	h.csum_start = 24;
	ck_assert_int_eq(tun_vnet_split(&h, sup, len, scratch,
	    sizeof(scratch), rec_seg, NULL), TUN_VNET_ERR_HDR);
	h = h0;
	h.csum_offset = 6;
	ck_assert_int_eq(tun_vnet_split(&h, sup, len, scratch,
	    sizeof(scratch), rec_seg, NULL), TUN_VNET_ERR_HDR);
	h = h0;
	h.gso_size = 0;
	ck_assert_int_eq(tun_vnet_split(&h, sup, len, scratch,
	    sizeof(scratch), rec_seg, NULL), TUN_VNET_ERR_HDR);
	h = h0;
	ck_assert_int_eq(tun_vnet_split(&h, sup, 40, scratch,
	    sizeof(scratch), rec_seg, NULL), TUN_VNET_ERR_HDR);
	ck_assert_int_eq(tun_vnet_split(&h, sup, len, scratch, 1000,
	    rec_seg, NULL), TUN_VNET_ERR_BIG);
	/* no segmentation, a partial checksum out of bounds */
	h = h0;
	h.gso_type = 0;
	h.csum_start = (uint16_t)(len - 1);
	ck_assert_int_eq(tun_vnet_split(&h, sup, len, scratch,
	    sizeof(scratch), rec_seg, NULL), TUN_VNET_ERR_HDR);
	h.csum_start = 65535;
	h.csum_offset = 65535;
	ck_assert_int_eq(tun_vnet_split(&h, sup, len, scratch,
	    sizeof(scratch), rec_seg, NULL), TUN_VNET_ERR_HDR);
	ck_assert_int_eq(rec->n, 0);
	/* random headers over random bytes: an error or segments that fit */
	srandom(7);
	for (r = 0; r < 20000; r++) {
		size_t n = (size_t)random() % 3000, i;

		for (i = 0; i < n; i++)
			sup[i] = (uint8_t)random();
		if (r & 1)
			sup[0] = (uint8_t)((r & 2) ? 0x45 : 0x60);
		h.flags = (uint8_t)random();
		h.gso_type = (uint8_t)(random() % 8);
		h.hdr_len = (uint16_t)random();
		h.gso_size = (uint16_t)(random() % 2000);
		h.csum_start = (uint16_t)(random() % 80);
		h.csum_offset = (uint16_t)((r & 4) ? 16 : random() % 40);
		counted = 0;
		seg_max = h.gso_type == 0 ? n : sizeof(scratch);
		r2 = tun_vnet_split(&h, sup, n, scratch, sizeof(scratch),
		    count_seg, NULL);
		ck_assert(r2 == (int)counted || (r2 < 0 && counted == 0));
		valid += r2 > 1;
	}
	ck_assert_int_gt(valid, 0);	/* some did cut (the 0x45 ones) */
}
END_TEST


static int
count_write(void *arg, const struct virtio_net_hdr *h, const uint8_t *pkt,
    size_t len)
{
	(void)arg;
	(void)pkt;
	if (h->gso_type == 0)
		counted++;
	else {
		ck_assert_uint_gt(len, h->hdr_len + h->gso_size);
		counted += (len - h->hdr_len + h->gso_size - 1) / h->gso_size;
	}
	return 0;
}

/* random packets, many of them valid segments of a few flows */
START_TEST(test_random_merge)
{
	static uint8_t	p[1500];
	struct tun_gro	*g = tun_gro_new(1, count_write, NULL);
	uint32_t	seq[12] = { 0 };
	int		r;
	uint64_t	offered = 0;

	counted = 0;
	srandom(11);
	for (r = 0; r < 60000; r++) {
		size_t	len, i;
		int	f = (int)(random() % 12);

		if (random() % 4 == 0) {
			len = (size_t)random() % sizeof(p);
			for (i = 0; i < len; i++)
				p[i] = (uint8_t)random();
			if (len > 0 && (r & 1))
				p[0] = (uint8_t)((r & 2) ? 0x45 : 0x60);
		} else {
			size_t pl = random() % 5 == 0 ? (size_t)random() %
			    MSS : MSS;

			if (f >= 9)	/* three UDP flows */
				len = mk_udp(p, f & 1, pl, (uint16_t)f,
				    f != 9, (unsigned)r);
			else
				len = mk_tcp(p, f & 1, pl, seq[f], random() %
				    9 == 0 ? 0x18 : 0x10, (uint16_t)f, f & 2,
				    (unsigned)r);
			if (random() % 7)
				seq[f] += (uint32_t)pl;
		}
		tun_gro_add(g, p, len);
		offered++;
		if (random() % 50 == 0)
			tun_gro_flush(g);
	}
	tun_gro_flush(g);
	ck_assert_uint_eq(counted, offered);
	ck_assert_uint_eq(tun_gro_stats(g)->packets, offered);
	ck_assert_uint_gt(tun_gro_stats(g)->merged, 1000);
	tun_gro_free(g);
}
END_TEST

/* USO: a UDP super-datagram cut (v4, v6), merged back, cut again */
START_TEST(test_udp)
{
	static uint8_t		sup[TUN_VNET_MAX + 40], scratch[1500];
	static uint8_t		copy[40][1500];
	static size_t		clen[40];
	struct virtio_net_hdr	h;
	int			v6 = _i, n, i;
	size_t			ts = v6 ? 40 : 20, len, plen = 30 * 1200 + 77;
	struct tun_gro		*g;
	uint16_t		c;

	len = mk_udp(sup, v6, plen, 4444, 1, 1);
	c = (uint16_t)~tun_csum_fold(tun_csum_pseudo(sup, IPPROTO_UDP,
	    len - ts));
	memcpy(sup + ts + 6, &c, 2);
	memset(&h, 0, sizeof(h));
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.gso_type = VIRTIO_NET_HDR_GSO_UDP_L4;
	h.hdr_len = (uint16_t)(ts + 8);
	h.gso_size = 1200;
	h.csum_start = (uint16_t)ts;
	h.csum_offset = 6;
	n = tun_vnet_split(&h, sup, len, scratch, sizeof(scratch), rec_seg,
	    NULL);
	ck_assert_int_eq(n, 31);
	for (i = 0; i < n; i++) {
		size_t want = ts + 8 + (i < 30 ? 1200 : 77);

		ck_assert_uint_eq(rec->len[i], want);
		ck_assert_uint_eq((size_t)(rec->pkt[i][ts + 4] << 8 |
		    rec->pkt[i][ts + 5]), want - ts);
		ck_assert(udp_ok(rec->pkt[i], want));
		if (!v6)
			ck_assert_uint_eq(slow_csum(rec->pkt[i], 20, 0), 0);
		ck_assert_uint_eq(rec->pkt[i][ts + 8], (uint8_t)(1 +
		    (size_t)i * 1200 * 3));
		memcpy(copy[i], rec->pkt[i], want);
		clen[i] = want;
	}
	/* a table without UDP passes them through one by one */
	g = tun_gro_new(0, rec_write, NULL);
	rec->n = 0;
	for (i = 0; i < n; i++)
		tun_gro_add(g, copy[i], clen[i]);
	tun_gro_flush(g);
	ck_assert_int_eq(rec->n, n);
	tun_gro_free(g);
	/* with UDP: one super-datagram, the header the kernel wants */
	g = tun_gro_new(1, rec_write, NULL);
	rec->n = 0;
	for (i = 0; i < n; i++)
		tun_gro_add(g, copy[i], clen[i]);
	tun_gro_flush(g);
	ck_assert_int_eq(rec->n, 1);
	ck_assert_uint_eq(rec->h[0].gso_type, VIRTIO_NET_HDR_GSO_UDP_L4);
	ck_assert_uint_eq(rec->h[0].gso_size, 1200);
	ck_assert_uint_eq(rec->h[0].csum_offset, 6);
	ck_assert_uint_eq(rec->h[0].hdr_len, ts + 8);
	ck_assert_uint_eq(rec->len[0], len);
	ck_assert(!memcmp(rec->pkt[0] + ts + 8, sup + ts + 8, plen));
	/* finished as the kernel would, the whole verifies */
	memcpy(sup, rec->pkt[0], len);
	c = tun_csum_fold(tun_csum_add(0, sup + ts, len - ts));
	memcpy(sup + ts + 6, &c, 2);
	ck_assert(udp_ok(sup, len));
	/* and cut again: the same datagrams */
	memcpy(sup, rec->pkt[0], len);
	h = rec->h[0];
	rec->n = 0;
	ck_assert_int_eq(tun_vnet_split(&h, sup, len, scratch,
	    sizeof(scratch), rec_seg, NULL), n);
	for (i = 0; i < n; i++)
		ck_assert(!memcmp(rec->pkt[i] + ts, copy[i] + ts, clen[i] -
		    ts));
	tun_gro_free(g);
}
END_TEST

/* UDP that must not merge: IPv4 without a checksum, a bad checksum, a
 * larger datagram after a smaller, another port */
START_TEST(test_udp_breaks)
{
	static uint8_t	p[4][1500];
	size_t		l[4];
	struct tun_gro	*g = tun_gro_new(1, rec_write, NULL);
	int		i, c = _i;

	for (i = 0; i < 4; i++)
		l[i] = mk_udp(p[i], 0, 1000, 7, 1, (unsigned)i);
	if (c == 0)
		l[1] = mk_udp(p[1], 0, 1000, 7, 0, 1);
	if (c == 1)
		p[1][30] ^= 0x40;
	if (c == 2) {
		l[1] = mk_udp(p[1], 0, 500, 7, 1, 1);
		l[2] = mk_udp(p[2], 0, 1000, 7, 1, 2);
	}
	if (c == 3)
		l[1] = mk_udp(p[1], 0, 1000, 8, 1, 1);
	for (i = 0; i < 4; i++)
		tun_gro_add(g, p[i], l[i]);
	tun_gro_flush(g);
	/* 0, 1: [0] [1] [2 3]; 2: [0 1] [2 3]; 3: [0 2 3] [1] */
	ck_assert_int_eq(rec->n, c < 2 ? 3 : 2);
	ck_assert_uint_eq(tun_gro_stats(g)->bad_csum, c == 1);
	tun_gro_free(g);
}
END_TEST

Suite *
tunvnet_suite(void)
{
	Suite	*s = suite_create("tunvnet");
	TCase	*tc = tcase_create("tunvnet");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_csum);
	tcase_add_loop_test(tc, test_split_merge, 0, 2);	/* v4, v6 */
	tcase_add_test(tc, test_flows);
	tcase_add_loop_test(tc, test_breaks, 0, 6);
	tcase_add_test(tc, test_tiny);
	tcase_add_test(tc, test_bad_csum);
	tcase_add_test(tc, test_hostile_split);
	tcase_add_test(tc, test_random_merge);
	tcase_add_loop_test(tc, test_udp, 0, 2);		/* v4, v6 */
	tcase_add_loop_test(tc, test_udp_breaks, 0, 4);
	suite_add_tcase(s, tc);
	return s;
}
