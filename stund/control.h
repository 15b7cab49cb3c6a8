/* stund's IPC: the one dispatch table and the replies it sends later. */
#ifndef STUND_CONTROL_H
#define STUND_CONTROL_H

#include <stdint.h>

struct stund;
struct msgpack_packer;

int	control_init(struct stund *sd, const char *path);
void	control_fini(struct stund *sd);
/* status.get's result, arg a struct stund (a promfile_pack_fn) */
void	control_pack_status(struct msgpack_packer *pk, void *arg);

#endif
