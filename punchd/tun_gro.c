/*
 * Receive coalescing for atm0 (tun_vnet.h): the TCP segments of one batch
 * that the kernel's own GRO would merge are merged here and written as one
 * super-packet with a virtio_net_hdr asking for TCP segmentation offload,
 * so the kernel walks its stack once per run instead of once per segment.
 * The rules follow Linux's tcp_gro_receive: the same flow, IP header fields
 * (TOS/traffic class, flow label, TTL/hop limit, DF) and TCP
 * acknowledgment number and options; only ACK (PSH on the last) set; the
 * next sequence number in order; every segment the first one's size but
 * the last, which may be shorter. A segment with a wrong checksum is never
 * merged (a merged packet's checksum is left to the kernel as partial, so
 * merging would hide it): it goes through as it came and the kernel drops
 * it. Everything else goes through at once, after the held packet of its
 * own flow, so no flow is reordered.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "punchd/tun_vnet.h"

#define TCP_ACK		0x10
#define TCP_PSH		0x08

struct tun_gro_item {
	int		 used;
	int		 v6;
	int		 udp;
	uint8_t		 key[36];	/* addresses and ports */
	size_t		 keylen;
	size_t		 ts, hl;	/* transport header at, headers' length */
	size_t		 gso;		/* the first segment's payload */
	size_t		 len;
	unsigned	 segs;
	int		 ended;		/* a short segment or PSH came */
	uint32_t	 next_seq;
	uint64_t	 age;
	uint8_t		*buf;		/* TUN_VNET_MAX bytes */
};

struct tun_gro {
	int			udp;		/* merge UDP too (USO) */
	tun_gro_write_fn	fn;
	void			*arg;
	uint64_t		clock;
	struct tun_gro_item	items[TUN_GRO_FLOWS];
	struct tun_gro_stats	st;
	uint8_t			*mem;
};

/* what a packet is to us */
struct tun_gro_pkt {
	int		 l4;		/* TCP or UDP, with a readable key */
	int		 cand;		/* ... and one we may merge */
	int		 udp;
	int		 v6;
	uint8_t		 key[36];
	size_t		 keylen, ts, hl, pl;
	uint32_t	 seq;
	uint8_t		 flags;
};

struct tun_gro *
tun_gro_new(int udp, tun_gro_write_fn fn, void *arg)
{
	struct tun_gro	*g;
	int		 i;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return NULL;
	if ((g->mem = malloc((size_t)TUN_GRO_FLOWS * TUN_VNET_MAX)) == NULL) {
		free(g);
		return NULL;
	}
	for (i = 0; i < TUN_GRO_FLOWS; i++)
		g->items[i].buf = g->mem + (size_t)i * TUN_VNET_MAX;
	g->udp = udp;
	g->fn = fn;
	g->arg = arg;
	return g;
}

void
tun_gro_free(struct tun_gro *g)
{
	if (g == NULL)
		return;
	free(g->mem);
	free(g);
}

const struct tun_gro_stats *
tun_gro_stats(const struct tun_gro *g)
{
	return &g->st;
}

static void
tun_gro_plain(struct tun_gro *g, const uint8_t *pkt, size_t len)
{
	struct virtio_net_hdr h;

	memset(&h, 0, sizeof(h));
	g->st.writes++;
	g->fn(g->arg, &h, pkt, len);
}

/* Read what the merge needs; leaves p->l4 = 0 for anything but TCP and
 * UDP. A UDP datagram is a candidate only when the table merges UDP. */
static void
tun_gro_parse(const struct tun_gro *g, const uint8_t *pkt, size_t len,
    struct tun_gro_pkt *p)
{
	uint16_t	tot, frag;
	size_t		ts;
	int		proto;

	memset(p, 0, sizeof(*p));
	if (len < 20)
		return;
	if ((pkt[0] >> 4) == 4) {
		ts = (size_t)(pkt[0] & 0x0f) * 4;
		tot = (uint16_t)((pkt[2] << 8) | pkt[3]);
		frag = (uint16_t)((pkt[6] << 8) | pkt[7]);
		proto = pkt[9];
		if (ts < 20 || tot != len || (frag & 0x3fff) != 0 ||
		    len < ts + 8)
			return;
		memcpy(p->key, pkt + 12, 8);
		p->keylen = 12;
	} else if ((pkt[0] >> 4) == 6) {
		ts = 40;
		tot = (uint16_t)((pkt[4] << 8) | pkt[5]);
		proto = pkt[6];
		if (len < 48 || (size_t)tot + 40 != len)
			return;
		memcpy(p->key, pkt + 8, 32);
		p->keylen = 36;
		p->v6 = 1;
	} else
		return;
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return;
	p->udp = proto == IPPROTO_UDP;
	if (!p->udp && len < ts + 20)
		return;
	memcpy(p->key + p->keylen - 4, pkt + ts, 4);
	p->l4 = 1;
	p->ts = ts;
	if (p->udp) {
		p->hl = ts + 8;
		p->pl = len - p->hl;
		/* the UDP length agrees; IPv4's "no checksum" (0) cannot be
		 * verified, so such a datagram is not merged */
		if (g->udp && p->pl > 0 && (size_t)((pkt[ts + 4] << 8) |
		    pkt[ts + 5]) == len - ts && (p->v6 || ts == 20) &&
		    (pkt[ts + 6] | pkt[ts + 7]) != 0)
			p->cand = 1;
		return;
	}
	p->hl = ts + (size_t)(pkt[ts + 12] >> 4) * 4;
	if (p->hl < ts + 20 || p->hl > len)
		return;
	p->pl = len - p->hl;
	p->flags = pkt[ts + 13];
	memcpy(&p->seq, pkt + ts + 4, 4);
	p->seq = ntohl(p->seq);
	if (p->pl == 0 || (p->flags & ~TCP_PSH) != TCP_ACK ||
	    (!p->v6 && ts != 20))
		return;
	p->cand = 1;
}

static int
tun_gro_csum_ok(const uint8_t *pkt, size_t len, size_t ts, int udp)
{
	return tun_csum_l4(pkt, len, ts, udp ? IPPROTO_UDP : IPPROTO_TCP) == 0;
}

static struct tun_gro_item *
tun_gro_find(struct tun_gro *g, const struct tun_gro_pkt *p)
{
	int i;

	for (i = 0; i < TUN_GRO_FLOWS; i++)
		if (g->items[i].used && g->items[i].v6 == p->v6 &&
		    g->items[i].udp == p->udp &&
		    !memcmp(g->items[i].key, p->key, p->keylen))
			return &g->items[i];
	return NULL;
}

/* The held packet out: as it came when alone, else as a super-packet. */
static void
tun_gro_write(struct tun_gro *g, struct tun_gro_item *it)
{
	struct virtio_net_hdr	h;
	uint8_t			*b = it->buf;
	uint16_t		c;

	it->used = 0;
	if (it->segs == 1) {
		tun_gro_plain(g, b, it->len);
		return;
	}
	memset(&h, 0, sizeof(h));
	tun_ip_set_len(b, it->len, it->ts);
	h.gso_type = it->v6 ? VIRTIO_NET_HDR_GSO_TCPV6 :
	    VIRTIO_NET_HDR_GSO_TCPV4;
	if (it->udp) {
		b[it->ts + 4] = (uint8_t)((it->len - it->ts) >> 8);
		b[it->ts + 5] = (uint8_t)(it->len - it->ts);
		h.gso_type = VIRTIO_NET_HDR_GSO_UDP_L4;
	}
	/* partial: the pseudo-header's sum, not complemented; the kernel
	 * adds the rest (CHECKSUM_PARTIAL) */
	c = (uint16_t)~tun_csum_fold(tun_csum_pseudo(b, it->udp ? IPPROTO_UDP :
	    IPPROTO_TCP, it->len - it->ts));
	memcpy(b + it->ts + (it->udp ? 6 : 16), &c, 2);
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.hdr_len = (uint16_t)it->hl;
	h.gso_size = (uint16_t)it->gso;
	h.csum_start = (uint16_t)it->ts;
	h.csum_offset = it->udp ? 6 : 16;
	g->st.writes++;
	g->fn(g->arg, &h, b, it->len);
}

static int
tun_gro_fits(const struct tun_gro_item *it, const uint8_t *pkt,
    const struct tun_gro_pkt *p)
{
	const uint8_t *b = it->buf;

	if (it->ended || p->hl != it->hl || p->pl > it->gso ||
	    it->len + p->pl > TUN_VNET_MAX || it->segs >= TUN_GRO_SEGS ||
	    (!p->udp && p->seq != it->next_seq))
		return 0;
	if (!it->v6 ? (b[1] != pkt[1] || (b[6] & 0xe0) != (pkt[6] & 0xe0) ||
	    b[8] != pkt[8]) : (memcmp(b, pkt, 4) != 0 || b[7] != pkt[7]))
		return 0;
	if (p->udp)
		return 1;
	/* acknowledgment number, and the options (timestamps included) */
	return !memcmp(b + it->ts + 8, pkt + p->ts + 8, 4) &&
	    !memcmp(b + it->ts + 20, pkt + p->ts + 20, p->hl - p->ts - 20);
}

static void
tun_gro_append(struct tun_gro_item *it, const uint8_t *pkt,
    const struct tun_gro_pkt *p)
{
	memcpy(it->buf + it->len, pkt + p->hl, p->pl);
	it->len += p->pl;
	it->next_seq += (uint32_t)p->pl;
	it->segs++;
	if (p->pl < it->gso)
		it->ended = 1;
	if (p->udp)
		return;
	/* the newest window, and PSH when the last segment has it */
	memcpy(it->buf + it->ts + 14, pkt + p->ts + 14, 2);
	it->buf[it->ts + 13] |= p->flags & TCP_PSH;
	if (p->flags & TCP_PSH)
		it->ended = 1;
}

static struct tun_gro_item *
tun_gro_slot(struct tun_gro *g)
{
	struct tun_gro_item	*old = &g->items[0];
	int			 i;

	for (i = 0; i < TUN_GRO_FLOWS; i++) {
		if (!g->items[i].used)
			return &g->items[i];
		if (g->items[i].age < old->age)
			old = &g->items[i];
	}
	tun_gro_write(g, old);
	return old;
}

void
tun_gro_add(struct tun_gro *g, const uint8_t *pkt, size_t len)
{
	struct tun_gro_pkt	 p;
	struct tun_gro_item	*it;

	g->st.packets++;
	tun_gro_parse(g, pkt, len, &p);
	if (!p.l4) {
		tun_gro_plain(g, pkt, len);
		return;
	}
	it = tun_gro_find(g, &p);
	if (p.cand && !tun_gro_csum_ok(pkt, len, p.ts, p.udp)) {
		g->st.bad_csum++;
		p.cand = 0;
	}
	if (!p.cand) {
		if (it != NULL)
			tun_gro_write(g, it);
		tun_gro_plain(g, pkt, len);
		return;
	}
	if (it != NULL && tun_gro_fits(it, pkt, &p)) {
		tun_gro_append(it, pkt, &p);
		it->age = ++g->clock;
		g->st.merged++;
		return;
	}
	if (it != NULL)
		tun_gro_write(g, it);
	else
		it = tun_gro_slot(g);
	memcpy(it->buf, pkt, len);
	it->used = 1;
	it->v6 = p.v6;
	it->udp = p.udp;
	memcpy(it->key, p.key, p.keylen);
	it->keylen = p.keylen;
	it->ts = p.ts;
	it->hl = p.hl;
	it->gso = p.pl;
	it->len = len;
	it->segs = 1;
	it->ended = (p.flags & TCP_PSH) != 0;
	it->next_seq = p.seq + (uint32_t)p.pl;
	it->age = ++g->clock;
}

void
tun_gro_flush(struct tun_gro *g)
{
	int i;

	for (i = 0; i < TUN_GRO_FLOWS; i++)
		if (g->items[i].used)
			tun_gro_write(g, &g->items[i]);
}
