/*
 * What control.c (the dispatch) and waiter.c (requests answered later)
 * share. Internal to punchd.
 */
#ifndef PUNCHD_CONTROL_H
#define PUNCHD_CONTROL_H

#include <stdint.h>

#include <msgpack.h>

struct ipc_conn;
struct peer;
struct punchd;
struct sockaddr_storage;

void	control_pack_addr(msgpack_packer *pk, const char *k,
	    const struct sockaddr_storage *ss, int has);
/* seconds packed as milliseconds, nil when !has */
void	control_pack_ms(msgpack_packer *pk, const char *k, double s, int has);
/* the peer's address, or its relay URL when relayed */
void	control_pack_endpoint(msgpack_packer *pk, struct peer *p);
const char *control_path(const struct peer *p);
/* the peer named in params, or NULL after an error reply */
struct peer *control_peer_param(struct punchd *pd, struct ipc_conn *c,
	    uint32_t msgid, const msgpack_object *params);

/* waiter.c: handlers */
void	waiter_punch(struct ipc_conn *c, uint32_t msgid,
	    const msgpack_object *params, void *arg);
void	waiter_ping(struct ipc_conn *c, uint32_t msgid,
	    const msgpack_object *params, void *arg);

#endif
