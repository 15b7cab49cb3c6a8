/*
 * Shared between relaymsg.c and relaymsg_nat.c: msgpack helpers and the
 * SIGNAL frame's "nat" map. Not for users of proto/relaymsg.h.
 */
#ifndef PROTO_RELAYMSG_PRIV_H
#define PROTO_RELAYMSG_PRIV_H

#include <stddef.h>

#include <msgpack.h>

#include "relaymsg.h"

/* relaymsg_mp.c */
void	relaymsg_mp_pack_str(msgpack_packer *pk, const char *s);
/* a string without NUL shorter than len into buf: 0, else -1 */
int	relaymsg_mp_str(const msgpack_object *o, char *buf, size_t len);
/* is kv's key `key`? */
int	relaymsg_mp_key(const msgpack_object_kv *kv, const char *key);

/* relaymsg_nat.c: the "nat" map */
void	relaymsg_nat_pack(msgpack_packer *pk, const struct relaymsg_nat *n);
/* 0, or -1 when not a map or a value has the wrong type or range */
int	relaymsg_nat_read(const msgpack_object *o, struct relaymsg_nat *n);

#endif
