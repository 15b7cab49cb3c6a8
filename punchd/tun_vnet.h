/*
 * TUN offloads in user space (docs/mesh-interface.md "Offloads"): with
 * IFF_VNET_HDR and TUNSETOFFLOAD the kernel hands punchd TCP super-packets
 * of up to 64 KiB (TSO) with the checksum left to finish, and takes such
 * super-packets back (GRO). Each read or write then carries a
 * struct virtio_net_hdr (10 bytes, host byte order) in front.
 *
 * Out: tun_vnet_split cuts a super-packet into the packets the wire
 * carries, each with its IP and TCP checksums complete (the peer may be an
 * older node that writes plain packets). In: a tun_gro table coalesces the
 * TCP segments of one receive batch, flow by flow, into super-packets
 * written once each (the kernel's TCP stack takes them whole), and passes
 * everything else through in order. Pure packet code: no punchd state, the
 * caller gives a write function.
 */
#ifndef PUNCHD_TUN_VNET_H
#define PUNCHD_TUN_VNET_H

#include <stddef.h>
#include <stdint.h>

#include <linux/virtio_net.h>

/* UDP segmentation offload, Linux 6.2 (Debian 12's headers are 6.1's) */
#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4	5
#endif

#define TUN_VNET_HDR_LEN	sizeof(struct virtio_net_hdr)
#define TUN_VNET_MAX		65535	/* largest super-packet, IP bytes */
#define TUN_GRO_FLOWS		8	/* flows held at once */
#define TUN_GRO_SEGS		64	/* segments in one merge at most (a
					   peer's 1-byte segments would make
					   64 KiB of them) */

#define TUN_VNET_ERR_HDR	-1	/* header and packet disagree */
#define TUN_VNET_ERR_KIND	-2	/* an offload we did not ask for */
#define TUN_VNET_ERR_BIG	-3	/* a segment longer than the cap */

/* one packet out of a split, complete; out is the caller's scratch */
typedef void (*tun_vnet_fn)(void *arg, const uint8_t *pkt, size_t len);

/*
 * A packet read with its header h: each wire packet to fn (one when h asks
 * no segmentation), checksums finished where h says they are partial.
 * scratch (cap bytes) holds one segment at a time; pkt is changed. The
 * number of packets given, or a TUN_VNET_ERR_* (nothing given).
 */
int	tun_vnet_split(const struct virtio_net_hdr *h, uint8_t *pkt,
	    size_t len, uint8_t *scratch, size_t cap, tun_vnet_fn fn,
	    void *arg);

/* what a write function gets: the header to put in front and the packet */
typedef int (*tun_gro_write_fn)(void *arg, const struct virtio_net_hdr *h,
    const uint8_t *pkt, size_t len);

struct tun_gro_stats {
	uint64_t	packets;	/* offered */
	uint64_t	merged;		/* appended to a held packet */
	uint64_t	writes;		/* write calls made */
	uint64_t	bad_csum;	/* TCP segments whose checksum was wrong,
					   passed through as they are */
};

struct tun_gro;

/* udp: merge UDP datagrams too (the device has USO: tun_offload 1) */
struct tun_gro	*tun_gro_new(int udp, tun_gro_write_fn fn, void *arg);
void		 tun_gro_free(struct tun_gro *g);
/* one packet from the batch (copied if held); the write function's -1
 * results are counted by the caller, not here */
void		 tun_gro_add(struct tun_gro *g, const uint8_t *pkt,
		    size_t len);
/* the batch is over: write every held packet */
void		 tun_gro_flush(struct tun_gro *g);
const struct tun_gro_stats *tun_gro_stats(const struct tun_gro *g);

/* Internet checksum helpers, shared with the tests: the one's complement
 * sum of buf added to sum (not folded), and the final 16-bit folded
 * complement in network byte order as it sits in a header */
uint64_t	tun_csum_add(uint64_t sum, const uint8_t *buf, size_t len);
uint16_t	tun_csum_fold(uint64_t sum);
/* the pseudo-header sum of an IPv4 or IPv6 packet for protocol proto and
 * transport length tlen (not folded) */
uint64_t	tun_csum_pseudo(const uint8_t *ip, int proto, size_t tlen);
/* the TCP or UDP checksum of a whole packet (transport header at ts, its
 * checksum field included as it is): 0 when the packet's verifies */
uint16_t	tun_csum_l4(const uint8_t *ip, size_t len, size_t ts, int proto);
/* a packet's new length len into its IP header: IPv4 total length and
 * header checksum (header ts bytes), or IPv6 payload length */
void		tun_ip_set_len(uint8_t *ip, size_t len, size_t ts);

#endif
