/*
 * The mesh interface in punchd (docs/mesh-interface.md): the TUN device
 * (tun.c) with this node's mesh addresses (meshaddr.c), its fd on the
 * loop, and the member table that maps an inner destination to a peer.
 * Packets read from the device go to the owning member's peer as
 * PACKET_IP under the pair's session key, over whatever path the pair has
 * (direct or relayed: e2e_session_send does not care); PACKET_IP from a
 * peer comes up through pd->hooks.ip, is source-checked and written to the
 * device. A layer between e2e_session and node; with tun = no (default)
 * nothing here runs and punchd behaves as before.
 */
#ifndef PUNCHD_IFACE_H
#define PUNCHD_IFACE_H

struct punchd;

/*
 * tun = yes: open the device (needs CAP_NET_ADMIN), and once the mesh is
 * known (now, or after meshctl init/join) give it the addresses and drop
 * the capability. 0, or -1 when the device cannot be opened (logged).
 */
int	iface_start(struct punchd *pd);
void	iface_stop(struct punchd *pd);

/*
 * The member table, fresh: fn once per member with an address (this node
 * included). The device's name (NULL: tun = no, nothing called), and the
 * number of members in *n (0 while this node is in no mesh).
 */
struct meshaddr_member;
const char *iface_each(struct punchd *pd, void (*fn)(void *,
	    const struct meshaddr_member *), void *arg, int *n);

#endif
