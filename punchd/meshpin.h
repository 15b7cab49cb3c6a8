/*
 * Pinned mesh IPv4 addresses (docs/mesh-interface.md, "Stability under
 * joins"): membership records each member's IPv4 address the first time it
 * is computed, and meshaddr_table_build_pinned lets those pins claim before
 * everyone else, so a newcomer never takes a running member's address.
 *
 * Where a pin comes from:
 *   - this node's own (`v4=` in the mesh file): the inviter's WELCOME, or,
 *     for the node that made the mesh (and meshes older than pins),
 *     computed here the first time it is needed (meshpin_self);
 *   - a joiner's: its inviter computes it against its own member list
 *     (meshpin_joiner), puts it in WELCOME and in the member record;
 *   - other members': ANNOUNCE (mesh_announce.c) carries the announced
 *     member's pin; a member's own announcement of itself sets it, a third
 *     party's only fills a member without one.
 * Two members pinned to the same address (two inviters admitted them at
 * once in partitioned halves): the smaller node id keeps it, the other
 * probes on from its home; meshpin_check logs that and, when this node
 * is the one that lost, pins what it got instead.
 */
#ifndef PUNCHD_MESHPIN_H
#define PUNCHD_MESHPIN_H

#include <stdint.h>

struct punchd;
struct meshaddr_table;

/* the pin membership recorded for a node id (this node's included), 0 */
uint32_t meshpin_of(struct punchd *pd, const uint8_t *id);
/* this node's pin, computed and saved the first time; 0 in no mesh */
uint32_t meshpin_self(struct punchd *pd);
/* the address an inviter gives a joiner (its record's pin if it has
 * one); 0 for a relay-only joiner, which has none, or on error */
uint32_t meshpin_joiner(struct punchd *pd, const uint8_t *id, int relay_only);
/* after a table was built: log lost pins; this node's lost pin is
 * replaced by the address it got */
void	meshpin_check(struct punchd *pd, const struct meshaddr_table *t);

#endif
