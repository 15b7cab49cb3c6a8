/*
 * The "nat" map of a SIGNAL frame (proto/relaymsg.h): the sender's NAT
 * mapping, filtering and port allocation, for hard-NAT traversal.
 */
#include "relaymsg.h"
#include "relaymsg_priv.h"

#include <math.h>
#include <string.h>

#include <msgpack.h>

void
relaymsg_nat_pack(msgpack_packer *pk, const struct relaymsg_nat *n)
{
	msgpack_pack_map(pk, 9);
	relaymsg_mp_pack_str(pk, "mapping");
	relaymsg_mp_pack_str(pk, n->mapping);
	relaymsg_mp_pack_str(pk, "filtering");
	relaymsg_mp_pack_str(pk, n->filtering);
	relaymsg_mp_pack_str(pk, "alloc");
	relaymsg_mp_pack_str(pk, n->alloc);
	relaymsg_mp_pack_str(pk, "delta");
	msgpack_pack_int32(pk, n->delta);
	relaymsg_mp_pack_str(pk, "jitter");
	msgpack_pack_int32(pk, n->jitter);
	relaymsg_mp_pack_str(pk, "last_port");
	msgpack_pack_uint16(pk, n->last_port);
	relaymsg_mp_pack_str(pk, "age_ms");
	msgpack_pack_uint32(pk, n->age_ms);
	relaymsg_mp_pack_str(pk, "rate");
	msgpack_pack_double(pk, n->rate);
	relaymsg_mp_pack_str(pk, "confidence");
	msgpack_pack_double(pk, n->confidence);
}

/* an integer in [lo, hi] */
static int
relaymsg_nat_getint(const msgpack_object *o, int64_t lo, int64_t hi,
    int64_t *v)
{
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
		if (o->via.u64 > (uint64_t)hi)
			return -1;
		*v = (int64_t)o->via.u64;
	} else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		*v = o->via.i64;
	else
		return -1;
	return *v < lo || *v > hi ? -1 : 0;
}

/* a finite number in [lo, hi], integer or float */
static int
relaymsg_nat_getnum(const msgpack_object *o, double lo, double hi, double *v)
{
	if (o->type == MSGPACK_OBJECT_FLOAT32 ||
	    o->type == MSGPACK_OBJECT_FLOAT64)
		*v = o->via.f64;
	else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		*v = (double)o->via.u64;
	else
		return -1;
	return !isfinite(*v) || *v < lo || *v > hi ? -1 : 0;
}

int
relaymsg_nat_read(const msgpack_object *o, struct relaymsg_nat *n)
{
	const msgpack_object_kv	*kv;
	uint32_t		 i;
	int64_t			 v;
	int			 r = 0;

	memset(n, 0, sizeof(*n));
	if (o->type != MSGPACK_OBJECT_MAP)
		return -1;
	strlcpy(n->mapping, "unknown", sizeof(n->mapping));
	strlcpy(n->filtering, "unknown", sizeof(n->filtering));
	strlcpy(n->alloc, "unknown", sizeof(n->alloc));
	for (i = 0; i < o->via.map.size && r == 0; i++) {
		kv = &o->via.map.ptr[i];
		if (relaymsg_mp_key(kv, "mapping"))
			r = relaymsg_mp_str(&kv->val, n->mapping,
			    sizeof(n->mapping));
		else if (relaymsg_mp_key(kv, "filtering"))
			r = relaymsg_mp_str(&kv->val, n->filtering,
			    sizeof(n->filtering));
		else if (relaymsg_mp_key(kv, "alloc"))
			r = relaymsg_mp_str(&kv->val, n->alloc,
			    sizeof(n->alloc));
		else if (relaymsg_mp_key(kv, "delta")) {
			if ((r = relaymsg_nat_getint(&kv->val, -65535, 65535,
			    &v)) == 0)
				n->delta = (int32_t)v;
		} else if (relaymsg_mp_key(kv, "jitter")) {
			if ((r = relaymsg_nat_getint(&kv->val, 0, 65535,
			    &v)) == 0)
				n->jitter = (int32_t)v;
		} else if (relaymsg_mp_key(kv, "last_port")) {
			if ((r = relaymsg_nat_getint(&kv->val, 0, 65535,
			    &v)) == 0)
				n->last_port = (uint16_t)v;
		} else if (relaymsg_mp_key(kv, "age_ms")) {
			if ((r = relaymsg_nat_getint(&kv->val, 0, UINT32_MAX,
			    &v)) == 0)
				n->age_ms = (uint32_t)v;
		} else if (relaymsg_mp_key(kv, "rate"))
			r = relaymsg_nat_getnum(&kv->val, 0, 65536, &n->rate);
		else if (relaymsg_mp_key(kv, "confidence"))
			r = relaymsg_nat_getnum(&kv->val, 0, 1,
			    &n->confidence);
	}
	if (r == -1)
		memset(n, 0, sizeof(*n));
	return r;
}
