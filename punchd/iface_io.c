/*
 * The mesh interface's packets (iface.h): out, from atm0 to the member
 * owning the destination, sealed under the pair's session key, a drain's
 * packets to one direct peer in one UDP_SEGMENT send; in, PACKET_IP from a
 * peer (hooks.ip), source-checked, to atm0.
 */
#include <errno.h>
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

void
iface_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct iface	*f = w->data;
	int		 n, i;

	(void)loop;
	(void)revents;
	if ((n = tun_read_batch(f->fd, f->bufs, sizeof(f->buf[0]), f->lens,
	    IFACE_BATCH)) == -1) {
		log_warn("%s: read", f->ifname);
		return;
	}
	for (i = 0; i < n; i++)
		iface_out(f, f->bufs[i], f->lens[i]);
	iface_flush(f);
}

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
	if (tun_write(f->fd, pkt, len) == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
			pd->ctr.tun_full++;
		else
			pd->ctr.drop_malformed++;	/* EINVAL: not IP */
		return;
	}
	pd->ctr.tun_rx++;
}
