/*
 * The mesh interface's packets (iface.h): out, from atm0 to the member
 * owning the destination, sealed under the pair's session key, a drain's
 * packets to one direct peer in one UDP_SEGMENT send; in, PACKET_IP from a
 * peer (hooks.ip), source-checked, to atm0.
 *
 * With offloads (tun_offload = yes, tun_vnet.h) a read from atm0 may be a
 * TCP super-packet, cut here into the packets the wire carries; and what
 * comes in is held by a tun_gro table and written when the loop has read
 * everything waiting (an ev_prepare watcher runs before each wait), a
 * flow's segments merged into one write.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "iface_priv.h"

static void
iface_flush(struct iface *f)
{
	if (f->run_len > 0)
		tx_out_segs(f->run_peer, f->run, f->run_len, f->run_seg,
		    peer_dest(f->run_peer));
	f->run_len = 0;
	f->run_peer = NULL;
}

/*
 * Sealed into the run when it can join it (the same direct peer, the same
 * size, room left; a shorter packet ends a run), else the run goes first
 * (order kept) and the packet by itself: through the relay, or without a
 * session key yet (e2e_session_send decides).
 */
static void
iface_seal(struct iface *f, struct peer *p, const uint8_t *pkt, size_t len)
{
	const struct sockaddr	*to = peer_dest(p);
	size_t			 n = len + PACKET_OVERHEAD, got;

	if (f->run_len > 0 && (f->run_peer != p || n > f->run_seg ||
	    f->run_len % f->run_seg != 0 || f->run_len + n > sizeof(f->run)))
		iface_flush(f);
	if (to == NULL || (got = e2e_session_seal_ip(p, pkt, len,
	    f->run + f->run_len, sizeof(f->run) - f->run_len)) == 0) {
		iface_flush(f);
		e2e_session_send(p, PACKET_IP, pkt, len, to);
		return;
	}
	if (f->run_len == 0) {
		f->run_peer = p;
		f->run_seg = got;
	}
	f->run_len += got;
}

/* One packet from the device to the member owning its destination. */
static void
iface_out(struct iface *f, const uint8_t *pkt, size_t len)
{
	struct punchd			*pd = f->pd;
	const struct meshaddr_member	*m;
	struct peer			*p;

	if ((m = meshaddr_route_out(&f->t, pkt, len)) == NULL) {
		f->resync(f);
		m = meshaddr_route_out(&f->t, pkt, len);
	}
	if (m == NULL || m == f->self) {
		pd->ctr.tun_noroute++;
		return;
	}
	if ((p = peer_find_id(pd, m->node_id)) == NULL || !peer_is_up(p)) {
		pd->ctr.tun_nopath++;
		return;
	}
	p->tx_data++;
	pd->ctr.tun_tx++;
	iface_seal(f, p, pkt, len);
}

static void
iface_out_seg(void *arg, const uint8_t *pkt, size_t len)
{
	iface_out(arg, pkt, len);
}

/* Offloads on: one read at a time, a super-packet cut into segments. */
static void
iface_read_vnet(struct iface *f)
{
	struct punchd		*pd = f->pd;
	struct virtio_net_hdr	 h;
	ssize_t			 n;
	int			 i;

	for (i = 0; i < IFACE_BATCH; i++) {
		if ((n = tun_read_vnet(f->fd, f->big, IFACE_BIG)) <= 0) {
			if (n == -1)
				log_warn("%s: read", f->ifname);
			break;
		}
		memcpy(&h, f->big, sizeof(h));
		if (h.gso_type != VIRTIO_NET_HDR_GSO_NONE)
			pd->ctr.tun_super_in++;
		if (tun_vnet_split(&h, f->big + TUN_VNET_HDR_LEN, (size_t)n,
		    f->seg, sizeof(f->seg), iface_out_seg, f) < 0)
			pd->ctr.tun_offload_bad++;
	}
	iface_flush(f);
}

void
iface_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct iface	*f = w->data;
	int		 n, i;

	(void)loop;
	(void)revents;
	if (f->vnet) {
		iface_read_vnet(f);
		return;
	}
	if ((n = tun_read_batch(f->fd, f->bufs, sizeof(f->buf[0]), f->lens,
	    IFACE_BATCH)) == -1) {
		log_warn("%s: read", f->ifname);
		return;
	}
	for (i = 0; i < n; i++)
		iface_out(f, f->bufs[i], f->lens[i]);
	iface_flush(f);
}

static void	iface_write_failed(struct punchd *, uint64_t);

/* hooks.ip: PACKET_IP from p, authenticated; checked, then to the device */
void
iface_in(struct peer *p, const uint8_t *pkt, size_t len)
{
	struct punchd	*pd = p->pd;
	struct iface	*f = pd->iface;
	int		 r;

	if (!f->up) {
		pd->ctr.tun_off++;
		return;
	}
	r = meshaddr_check_in(&f->t, p->id, f->self, pkt, len);
	if (r == MESHADDR_ERR_SENDER) {
		f->resync(f);
		r = meshaddr_check_in(&f->t, p->id, f->self, pkt, len);
	}
	switch (r) {
	case MESHADDR_OK:
		break;
	case MESHADDR_ERR_SRC:
	case MESHADDR_ERR_SENDER:
		pd->ctr.tun_bad_source++;
		return;
	case MESHADDR_ERR_DST:
		pd->ctr.tun_bad_dest++;
		return;
	default:
		pd->ctr.drop_malformed++;
		return;
	}
	p->rx_data++;
	pd->ctr.tun_rx++;
	if (f->gro != NULL) {
		tun_gro_add(f->gro, pkt, len);
		return;
	}
	if (tun_write(f->fd, pkt, len) == -1)
		iface_write_failed(pd, 1);
}

/* a write refused: n packets lost */
static void
iface_write_failed(struct punchd *pd, uint64_t n)
{
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
		pd->ctr.tun_full += n;
	else
		pd->ctr.tun_refused += n;	/* EINVAL: not IP */
}

/* tun_gro's write: a packet as it came, or a super-packet */
static int
iface_gro_write(void *arg, const struct virtio_net_hdr *h,
    const uint8_t *pkt, size_t len)
{
	struct iface	*f = arg;
	uint64_t	 segs = 1;

	if (h->gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		segs = (len - h->hdr_len + h->gso_size - 1) / h->gso_size;
		f->pd->ctr.tun_super_out++;
	}
	if (tun_write_vnet(f->fd, h, pkt, len) == -1) {
		iface_write_failed(f->pd, segs);
		return -1;
	}
	return 0;
}

static void
iface_prep_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct iface *f = w->data;

	(void)loop;
	(void)revents;
	tun_gro_flush(f->gro);
}

int
iface_io_vnet(struct iface *f, int udp)
{
	if ((f->big = malloc(IFACE_BIG)) == NULL ||
	    (f->gro = tun_gro_new(udp, iface_gro_write, f)) == NULL) {
		free(f->big);
		f->big = NULL;
		return -1;
	}
	f->vnet = 1;
	ev_prepare_init(&f->prep, iface_prep_cb);
	f->prep.data = f;
	ev_prepare_start(f->pd->loop, &f->prep);
	return 0;
}

void
iface_io_vnet_free(struct iface *f)
{
	if (!f->vnet)
		return;
	tun_gro_flush(f->gro);
	ev_prepare_stop(f->pd->loop, &f->prep);
	tun_gro_free(f->gro);
	free(f->big);
	f->gro = NULL;
	f->big = NULL;
	f->vnet = 0;
}
