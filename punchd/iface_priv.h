/*
 * The mesh interface's state, shared by iface.c (device, member table,
 * start and stop) and iface_io.c (packets both ways). Nothing else
 * includes it.
 */
#ifndef PUNCHD_IFACE_PRIV_H
#define PUNCHD_IFACE_PRIV_H

#include <net/if.h>

#include "punchd.h"
#include "hostsfile.h"
#include "meshaddr.h"
#include "tun.h"
#include "tun_vnet.h"

_Static_assert(PUNCHD_IP_MTU == TUN_MTU_MAX,
    "the seal buffers hold the largest inner packet");

#define IFACE_BATCH	64
/* one read with offloads: the header, then a super-packet (IPv6: its
 * 64 KiB payload behind a 40-byte header) */
#define IFACE_BIG	(TUN_VNET_HDR_LEN + TUN_VNET_MAX + 40)
#define IFACE_TICK	1.0	/* s: membership checked this often */
#define IFACE_RESYNC	0.2	/* s: at most this often on a miss */
#define IFACE_MAX_IDS	(PUNCHD_MAX_PEERS + MESH_MAX_MEMBERS + 1)

struct iface {
	struct punchd		*pd;
	int			 fd;
	char			 ifname[IFNAMSIZ];
	int			 up;		/* addresses set, reading */
	ev_io			 io;
	ev_timer		 tick;
	double			 synced_at;
	uint8_t			 sig[16];	/* hash of ids and pins */
	uint8_t			 mesh_id[MESHADDR_MESH_ID_LEN];	/* of set-up */
	uint32_t		 v4;		/* the device's, host order */
	int			 moved_said;
	struct hostsfile	 hosts;		/* NAME.mesh (hostsfile.h) */
	struct meshaddr_table	 t;
	/* iface.c's: the table again on a miss, at most every IFACE_RESYNC
	 * (a pointer: iface_io.c sits below iface.c, which installs it) */
	void			(*resync)(struct iface *);
	const struct meshaddr_member *self;
	uint8_t			 (*ids)[MESHADDR_NODE_ID_LEN];
	uint32_t		*pins;		/* ids' pinned IPv4, 0 */
	/* tun_offload = yes: one read at a time into big (header, then a
	 * super-packet of up to 64 KiB), cut into seg; the receive batch's
	 * TCP runs coalesced by gro and written when the loop is about to
	 * wait (prep) */
	int			 vnet;
	uint8_t			*big;
	uint8_t			 seg[TUN_MTU_MAX];
	struct tun_gro		*gro;
	ev_prepare		 prep;
	uint8_t			 buf[IFACE_BATCH][TUN_MTU_MAX];
	uint8_t			*bufs[IFACE_BATCH];
	size_t			 lens[IFACE_BATCH];
	/* the run being sealed: packets of one size to one direct peer,
	 * sent in one go (tx_out_segs: UDP_SEGMENT) */
	struct peer		*run_peer;
	size_t			 run_len, run_seg;
	uint8_t			 run[PACKET_MAX_LEN];
};

/* iface_io.c: the device readable; hooks.ip */
void	iface_io_cb(struct ev_loop *loop, ev_io *w, int revents);
void	iface_in(struct peer *p, const uint8_t *pkt, size_t len);
/* iface_io.c: the offload buffers and the flush watcher (tun_offload) */
int	iface_io_vnet(struct iface *f, int udp);
void	iface_io_vnet_free(struct iface *f);

#endif
