/*
 * Shared between relaymsg.c and relaymsg_nat.c: the SIGNAL frame's "nat"
 * map. Not for users of proto/relaymsg.h.
 */
#ifndef PROTO_RELAYMSG_PRIV_H
#define PROTO_RELAYMSG_PRIV_H

#include <stddef.h>

#include <msgpack.h>

#include "relaymsg.h"

/* relaymsg_nat.c: the "nat" map */
void	relaymsg_nat_pack(msgpack_packer *pk, const struct relaymsg_nat *n);
/* 0, or -1 when not a map or a value has the wrong type or range */
int	relaymsg_nat_read(const msgpack_object *o, struct relaymsg_nat *n);

#endif
