/*
 * What punchd's control files share: control.c (the dispatch, status,
 * peers, events), control_peer.c (peer.punch, peer.ping), control_mesh.c
 * (mesh.*), control_stund.c (the stund client). Only they speak IPC.
 */
#ifndef PUNCHD_CONTROL_H
#define PUNCHD_CONTROL_H

#include <stdint.h>

#include <msgpack.h>

#include "result.h"

struct ipc_conn;
struct peer;
struct punchd;
struct sockaddr_storage;

/* control_portmap.c: status.get's portmap */
void	control_pack_portmap(msgpack_packer *out, struct punchd *pd);
/* control_pack.c */
/*
 * A map whose entries are counted, not announced: pack key/value pairs
 * (mpack_kv_*) into the packer control_map_begin() returns, and
 * control_map_end() writes the map header with their number, then them.
 */
struct control_map {
	msgpack_packer	*out;
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
};
msgpack_packer *control_map_begin(struct control_map *m, msgpack_packer *out);
void	control_map_end(struct control_map *m);

void	control_pack_addr(msgpack_packer *pk, const char *k,
	    const struct sockaddr_storage *ss, int has);
/* seconds packed as milliseconds, nil when !has */
void	control_pack_ms(msgpack_packer *pk, const char *k, double s, int has);
/* the peer's address, or its relay URL when relayed */
void	control_pack_endpoint(msgpack_packer *pk, struct peer *p);
/* relay_error, relay_hint of a peer; status.get's relays */
void	control_pack_relay_error(msgpack_packer *pk, struct peer *p);
void	control_pack_relays(msgpack_packer *pk, struct punchd *pd);
/* control_pack.c: a peer's candidate pairs, as in peer.get */
void	control_pack_pairs(msgpack_packer *pk, struct peer *p);
/* control_peer.c */
void	control_peer_why(struct ipc_conn *c, uint32_t msgid,
	    const msgpack_object *params, void *arg);
/* the peer named in params, or NULL after an error reply */
struct peer *control_peer_param(struct punchd *pd, struct ipc_conn *c,
	    uint32_t msgid, const msgpack_object *params);
/* an error of the core as an IPC error reply */
void	control_error(struct ipc_conn *c, uint32_t msgid,
	    const struct result *err);
const char *control_code(enum result_code code);
/* a request answered later: where the answer goes */
struct control_wait {
	struct punchd	*pd;
	uint64_t	 conn;
	uint32_t	 msgid;
};
struct control_wait *control_wait_new(struct punchd *pd, struct ipc_conn *c,
	    uint32_t msgid);
/* the client's connection, or NULL when it went away; frees w */
struct ipc_conn *control_wait_end(struct control_wait *w, uint32_t *msgid);

/* control.c */
int	control_init(struct punchd *pd, const char *path);
void	control_reload(struct punchd *pd);
void	control_stop_metrics(struct punchd *pd);
void	control_fini(struct punchd *pd);

/* control_peer.c */
void	control_peer_punch(struct ipc_conn *, uint32_t, const msgpack_object *,
	    void *);
void	control_peer_ping(struct ipc_conn *, uint32_t, const msgpack_object *,
	    void *);

/* control_mesh.c */
void	control_mesh_init(struct ipc_conn *, uint32_t, const msgpack_object *,
	    void *);
/* control_hosts.c: the members' mesh addresses (iface.c) */
void	control_mesh_hosts(struct ipc_conn *, uint32_t, const msgpack_object *,
	    void *);
void	control_mesh_get(struct ipc_conn *, uint32_t, const msgpack_object *,
	    void *);
void	control_mesh_leave(struct ipc_conn *, uint32_t, const msgpack_object *,
	    void *);
void	control_mesh_invite(struct ipc_conn *, uint32_t,
	    const msgpack_object *, void *);
void	control_mesh_join(struct ipc_conn *, uint32_t, const msgpack_object *,
	    void *);

/* control_stund.c: the server-reflexive candidate of our socket */
void	control_stund_init(struct punchd *pd);
void	control_stund_fini(struct punchd *pd);

#endif
