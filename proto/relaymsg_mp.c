/*
 * msgpack helpers of the relay's SIGNAL frames (relaymsg.c and
 * relaymsg_nat.c, see relaymsg_priv.h).
 */
#include <string.h>

#include "relaymsg_priv.h"

void
relaymsg_mp_pack_str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str(pk, strlen(s));
	msgpack_pack_str_body(pk, s, strlen(s));
}

int
relaymsg_mp_str(const msgpack_object *o, char *buf, size_t len)
{
	if (o->type != MSGPACK_OBJECT_STR || o->via.str.size >= len ||
	    memchr(o->via.str.ptr, '\0', o->via.str.size) != NULL)
		return -1;
	memcpy(buf, o->via.str.ptr, o->via.str.size);
	buf[o->via.str.size] = '\0';
	return 0;
}

int
relaymsg_mp_key(const msgpack_object_kv *kv, const char *key)
{
	return kv->key.type == MSGPACK_OBJECT_STR &&
	    kv->key.via.str.size == strlen(key) &&
	    memcmp(kv->key.via.str.ptr, key, strlen(key)) == 0;
}
