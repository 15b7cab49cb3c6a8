/*
 * The top of punchd's core (node.c): wires the layers' hooks, starts and
 * stops them, and offers the operations that span several of them. What
 * control.c calls, with pending.h, inviter.h and joiner.h.
 */
#ifndef PUNCHD_NODE_H
#define PUNCHD_NODE_H

#include "result.h"

struct peer;
struct punchd;

/* before anything else: hooks, empty tables */
void	node_init(struct punchd *pd);
/* after the socket: saved peers, invites' relay sessions */
void	node_start(struct punchd *pd);
/* requests end with RESULT_UNAVAILABLE "punchd stopping"; peers freed */
void	node_stop(struct punchd *pd);
/* SIGHUP applied: keep-alive timing, relay list */
void	node_reload(struct punchd *pd, int ka_changed);
/* node_portmap.c: the gateway's mapping of our port, candidate "mapped";
 * start after the socket is bound; stop deletes the mapping (node_stop
 * does it); reload restarts it when punchd.portmap changed from `before` */
void	node_portmap_start(struct punchd *pd);
void	node_portmap_stop(struct punchd *pd);
void	node_portmap_reload(struct punchd *pd, const char *before);
/* peer.remove */
void	node_peer_remove(struct peer *p);
/* mesh.init: a new mesh with this name (force: replace ours) */
int	node_mesh_create(struct punchd *pd, const char *name, int force,
	    struct result *err);
/* mesh.leave */
int	node_mesh_leave(struct punchd *pd, struct result *err);

#endif
