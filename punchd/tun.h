/*
 * The mesh interface's device (docs/mesh-interface.md): a Linux TUN opened
 * with IFF_TUN | IFF_NO_PI (each read or write is one bare IP packet),
 * configured through rtnetlink (no `ip` command), read and written
 * nonblocking. No IPC, no policy: punchd's upper layers decide what goes in
 * and out (meshaddr.h).
 *
 * Privilege: opening /dev/net/tun to create a device and the rtnetlink
 * changes need CAP_NET_ADMIN; a persistent device that belongs to the
 * caller's user (`ip tuntap add atm0 mode tun user atmosphere`) opens
 * without it (TUNSETIFF checks tun->owner), but setting its addresses still
 * needs the capability unless whoever created it also configured it.
 */
#ifndef PUNCHD_TUN_H
#define PUNCHD_TUN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Inner MTU by default: 1280, the IPv6 minimum link MTU (RFC 8200 5; the
 * kernel turns IPv6 off on a link below it). Outer datagram: 1280 + 36
 * (PACKET_OVERHEAD) + 8 UDP + 20 IPv4 = 1344, or + 40 IPv6 = 1364, so no
 * fragmentation on any path of 1364 bytes or more (PPPoE's 1492, DS-Lite's
 * 1460, most VPN-in-VPN). TUN_MTU_MAX fills a clean 1500-byte IPv6 path:
 * 1500 - 40 - 8 - 36 = 1416 (IPv4 only would allow 1436).
 */
#define TUN_MTU_DEFAULT		1280
#define TUN_MTU_MIN		1280
#define TUN_MTU_MAX		1416

#define TUN_F_MULTI_QUEUE	0x01	/* IFF_MULTI_QUEUE: open again with the
					   same name for another queue */
#define TUN_F_VNET		0x02	/* IFF_VNET_HDR: a virtio_net_hdr in
					   front of every packet (tun_vnet.h) */

struct tun_config {
	int		mtu;		/* TUN_MTU_MIN..TUN_MTU_MAX */
	uint32_t	v4;		/* host order; 0 = no IPv4 address */
	int		v4_plen;	/* prefix route to the device */
	uint8_t		v6[16];		/* all zero = no IPv6 address */
	int		v6_plen;
};

/*
 * Create (or attach to) TUN device `name` ("atm%d" lets the kernel pick),
 * nonblocking and close-on-exec. The kernel's name goes to ifname
 * (IFNAMSIZ bytes). The fd, or -1 (logged).
 */
int	tun_open(const char *name, int flags, char *ifname);

/*
 * Set the MTU, the addresses (IPv6 without duplicate address detection:
 * the node id in the interface id is unique in the mesh) with their prefix
 * routes, which are the only routes it adds, and bring the link up, over
 * one rtnetlink socket. 0, or -1 (logged with the kernel's errno).
 */
int	tun_setup(const char *ifname, const struct tun_config *c);

/*
 * Read up to `max` packets, one read(2) each, until the device is empty
 * (EAGAIN) or max: bufs[i] (cap bytes each) gets packet i, lens[i] its
 * length. The number read (0 when none was waiting), or -1 on an error
 * other than EAGAIN/EINTR.
 */
int	tun_read_batch(int fd, uint8_t *const *bufs, size_t cap, size_t *lens,
	    int max);

/* Write one packet. 0, or -1 with errno (EAGAIN: the queue is full, the
 * caller drops and counts; EINVAL: not an IP packet the kernel takes). */
int	tun_write(int fd, const uint8_t *pkt, size_t len);

/*
 * On a TUN_F_VNET device: ask for TCP super-packets (TSO over IPv4 and
 * IPv6) with partial checksums, and so allow them in writes. 0, or -1
 * (the kernel refused; the device still works packet by packet, logged).
 */
int	tun_offload(int fd);

/*
 * One read from a TUN_F_VNET device into buf (cap bytes, the header
 * first): the packet's length after the header, 0 when none was waiting,
 * or -1 on an error other than EAGAIN/EINTR (also for a read shorter than
 * the header).
 */
ssize_t	tun_read_vnet(int fd, uint8_t *buf, size_t cap);

/* One write with its header (struct virtio_net_hdr, TUN_VNET_HDR_LEN
 * bytes) in front: 0, or -1 with errno as tun_write. */
int	tun_write_vnet(int fd, const void *hdr, const uint8_t *pkt,
	    size_t len);

/*
 * Give up CAP_NET_ADMIN for good once the device is set up: out of the
 * ambient, inheritable, permitted and effective sets (other capabilities
 * stay as they were). The fd keeps working. 0, or -1 (logged: the
 * process keeps the capability, e.g. capset filtered by seccomp).
 */
int	tun_drop_admin(void);
/* Does the calling process hold CAP_NET_ADMIN (effective)? */
int	tun_have_admin(void);

#endif
