/* stund's IPC: the one dispatch table and the replies it sends later. */
#ifndef STUND_CONTROL_H
#define STUND_CONTROL_H

#include <stdint.h>

struct stund;
struct msgpack_packer;

int	control_init(struct stund *sd, const char *path);
void	control_fini(struct stund *sd);
/* Deferred replies for stun.discover and nat.get. */
void	control_discover_reply(struct stund *sd, uint64_t conn, uint32_t msgid);
void	control_discover_fail(struct stund *sd, uint64_t conn, uint32_t msgid,
	    const char *why);
void	control_nat_reply(struct stund *sd, uint64_t conn, uint32_t msgid);
/* nat.changed to subscribers; previous public endpoint when known */
void	control_nat_changed(struct stund *sd, const char *previous);
/* status.get's result, arg a struct stund (a promfile_pack_fn) */
void	control_pack_status(struct msgpack_packer *pk, void *arg);

#endif
