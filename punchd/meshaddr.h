/*
 * A member's addresses on the mesh interface (docs/mesh-interface.md): pure
 * functions of the mesh id, the node id and the member list, so every member
 * computes the same answer without asking anyone.
 *
 * IPv6: a ULA (RFC 4193) fdGG:GGGG:GGGG:0000::/64. The 40-bit global id GG..
 * is the first 5 bytes of BLAKE2b("atmosphere meshaddr v6" || mesh id): the
 * RFC draws it from a hash so that two networks that later meet are unlikely
 * to clash, and a hash of the mesh id keeps that property and makes it the
 * same on every member. The subnet id is 0 (one /64 per mesh). The interface
 * id is the 64-bit node id itself: node ids are unique in a mesh, so the
 * IPv6 address never collides, and the source check is a compare.
 *
 * IPv4: one address in 100.64.0.0/10 (RFC 6598 shared space; 2^22 = 4M
 * addresses). A node's home is 100.64.0.0 + (BLAKE2b("atmosphere meshaddr
 * v4" || node id) mod 2^22), skipping host bytes .0 and .255 (valid in a /10,
 * but much software takes them for network or broadcast addresses). Two
 * homes can clash (n members: about n^2 / 2^23, 0.1 % for 100 members), so
 * meshaddr_table_build resolves clashes over the whole member list: members
 * claim in ascending node id order, each takes the first free address of
 * its probe sequence (home, home+1, ... modulo the /10, skipping .0/.255).
 * The member with the smaller node id therefore keeps a contested address.
 *
 * Pinned addresses (docs/mesh-interface.md, "Stability under joins"): a
 * member may come with the address membership recorded for it (the inviter
 * computed it at the join). Pinned members claim first, in ascending node
 * id order, each its pin; then the rest (unpinned members, and a pinned one
 * whose pin a smaller pinned node id took: two inviters in partitioned
 * halves) probe as above. A newcomer therefore never takes an address a
 * pinned member holds. The caller sees a lost pin as pin != v4.
 */
#ifndef PUNCHD_MESHADDR_H
#define PUNCHD_MESHADDR_H

#include <stddef.h>
#include <stdint.h>

#define MESHADDR_MESH_ID_LEN	16	/* JOIN_MESH_ID_LEN */
#define MESHADDR_NODE_ID_LEN	8	/* PACKET_NODEID_LEN */
#define MESHADDR_V4_NET		0x64400000u	/* 100.64.0.0 */
#define MESHADDR_V4_PLEN	10
#define MESHADDR_V6_PLEN	64
/* a table larger than this is refused: the O(n log n) build stays cheap and
 * the /10 stays sparse enough for short probe sequences */
#define MESHADDR_MAX_MEMBERS	65536

/* results of meshaddr_check_in (negative) */
#define MESHADDR_OK		 0
#define MESHADDR_ERR_SHORT	-1	/* not a whole IPv4/IPv6 header */
#define MESHADDR_ERR_VERSION	-2	/* IP version nibble not 4 or 6 */
#define MESHADDR_ERR_SENDER	-3	/* sender is not in the table */
#define MESHADDR_ERR_SRC	-4	/* inner source is not the sender's */
#define MESHADDR_ERR_DST	-5	/* inner destination is not ours */

struct meshaddr_member {
	uint8_t		node_id[MESHADDR_NODE_ID_LEN];
	uint32_t	v4;		/* host byte order */
	uint32_t	pin;		/* the pin it came with, 0: none */
	uint8_t		v6[16];
};

struct meshaddr_table {
	uint8_t			 prefix[16];	/* the /64, low 8 bytes 0 */
	struct meshaddr_member	*m;		/* sorted by node id */
	uint32_t		*by_v4;		/* indexes of m sorted by v4 */
	size_t			 n;
};

/* The mesh's IPv6 /64 (low 8 bytes zero). */
void	meshaddr_v6_prefix(const uint8_t mesh_id[MESHADDR_MESH_ID_LEN],
	    uint8_t prefix[16]);
/* A node's IPv6 address: prefix + node id. */
void	meshaddr_v6(const uint8_t mesh_id[MESHADDR_MESH_ID_LEN],
	    const uint8_t node_id[MESHADDR_NODE_ID_LEN], uint8_t addr[16]);
/* A node's IPv4 home address (before clashes), host byte order. */
uint32_t meshaddr_v4_home(const uint8_t node_id[MESHADDR_NODE_ID_LEN]);
/* The address after v in the probe sequence (wraps in the /10). */
uint32_t meshaddr_v4_next(uint32_t v);
/* v (host order) can be a member's address: in the /10, not .0 or .255 */
int	meshaddr_v4_valid(uint32_t v);

/*
 * Addresses of every member of `ids` (n node ids, in any order; the local
 * node among them). Replaces t's previous contents. 0, or -1 on a duplicate
 * node id, n == 0, n > MESHADDR_MAX_MEMBERS or out of memory (t unchanged).
 * Runs on membership changes only; lookups never allocate.
 */
int	meshaddr_table_build(struct meshaddr_table *t,
	    const uint8_t mesh_id[MESHADDR_MESH_ID_LEN],
	    const uint8_t (*ids)[MESHADDR_NODE_ID_LEN], size_t n);
/*
 * The same with pins: pins[i] is ids[i]'s pinned IPv4 address (host
 * order), 0 for none; pins NULL: none pinned. Also -1 on a pin that is
 * not meshaddr_v4_valid (t unchanged).
 */
int	meshaddr_table_build_pinned(struct meshaddr_table *t,
	    const uint8_t mesh_id[MESHADDR_MESH_ID_LEN],
	    const uint8_t (*ids)[MESHADDR_NODE_ID_LEN], const uint32_t *pins,
	    size_t n);
void	meshaddr_table_free(struct meshaddr_table *t);

const struct meshaddr_member *meshaddr_by_node(const struct meshaddr_table *t,
	    const uint8_t node_id[MESHADDR_NODE_ID_LEN]);
/* The member owning an address: family 4 (addr = 4 bytes, network order)
 * or 6 (16 bytes). NULL for any other address, the prefix itself included. */
const struct meshaddr_member *meshaddr_by_addr(const struct meshaddr_table *t,
	    int family, const uint8_t *addr);

/*
 * A packet read from the interface: the member that owns its destination,
 * or NULL (not a whole header, another version, multicast, an address no
 * member owns: the caller drops and counts it).
 */
const struct meshaddr_member *meshaddr_route_out(const struct meshaddr_table *t,
	    const uint8_t *pkt, size_t len);

/*
 * A packet that arrived from `sender` (its authenticated node id) for the
 * local member `self`: its inner source must be the sender's own address of
 * that family and its destination self's. MESHADDR_OK or MESHADDR_ERR_*.
 */
int	meshaddr_check_in(const struct meshaddr_table *t,
	    const uint8_t sender[MESHADDR_NODE_ID_LEN],
	    const struct meshaddr_member *self, const uint8_t *pkt, size_t len);

const char *meshaddr_strerror(int err);

#endif
