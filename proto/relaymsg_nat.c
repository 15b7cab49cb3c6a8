/*
 * The "nat" map of a SIGNAL frame (proto/relaymsg.h): the sender's NAT
 * mapping, filtering and port allocation, for hard-NAT traversal.
 */
#include "relaymsg.h"
#include "relaymsg_priv.h"

#include <math.h>
#include <string.h>

#include <msgpack.h>

#include "common/mpack.h"
#include "common/mpack_map.h"

void
relaymsg_nat_pack(msgpack_packer *out, const struct relaymsg_nat *n)
{
	struct mpack_map	 m;
	msgpack_packer		*pk = mpack_map_begin(&m, out);

	mpack_kv_str(pk, "mapping", n->mapping);
	mpack_kv_str(pk, "filtering", n->filtering);
	mpack_kv_str(pk, "alloc", n->alloc);
	mpack_kv_int(pk, "delta", n->delta);
	mpack_kv_int(pk, "jitter", n->jitter);
	mpack_kv_uint(pk, "last_port", n->last_port);
	mpack_kv_uint(pk, "age_ms", n->age_ms);
	mpack_kv_double(pk, "rate", n->rate);
	mpack_kv_double(pk, "confidence", n->confidence);
	mpack_map_end(&m);
}

/*
 * One key the reader knows: a string into str (of len bytes), or a
 * number in [lo, hi]: an integer into i32, u16 or u32, or an integer or
 * a finite float into dbl.
 */
struct relaymsg_nat_key {
	const char	*key;
	char		*str;
	size_t		 len;
	double		 lo, hi;
	int32_t		*i32;
	uint16_t	*u16;
	uint32_t	*u32;
	double		*dbl;
};

/* o into where k says: 0, or -1 for the wrong type or out of range */
static int
relaymsg_nat_value(const msgpack_object *o, const struct relaymsg_nat_key *k)
{
	double	v;

	if (k->str != NULL)
		return mpack_str_copy(o, k->str, k->len);
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		v = (double)o->via.u64;
	else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER && k->dbl == NULL)
		v = (double)o->via.i64;
	else if ((o->type == MSGPACK_OBJECT_FLOAT32 ||
	    o->type == MSGPACK_OBJECT_FLOAT64) && k->dbl != NULL)
		v = o->via.f64;
	else
		return -1;
	if (!isfinite(v) || v < k->lo || v > k->hi)
		return -1;
	if (k->dbl != NULL)
		*k->dbl = v;
	else if (k->i32 != NULL)
		*k->i32 = (int32_t)v;
	else if (k->u16 != NULL)
		*k->u16 = (uint16_t)v;
	else
		*k->u32 = (uint32_t)v;
	return 0;
}

int
relaymsg_nat_read(const msgpack_object *o, struct relaymsg_nat *n)
{
	const struct relaymsg_nat_key keys[] = {
		{ "mapping", .str = n->mapping, .len = sizeof(n->mapping) },
		{ "filtering", .str = n->filtering,
		    .len = sizeof(n->filtering) },
		{ "alloc", .str = n->alloc, .len = sizeof(n->alloc) },
		{ "delta", .lo = -65535, .hi = 65535, .i32 = &n->delta },
		{ "jitter", .lo = 0, .hi = 65535, .i32 = &n->jitter },
		{ "last_port", .lo = 0, .hi = 65535, .u16 = &n->last_port },
		{ "age_ms", .lo = 0, .hi = UINT32_MAX, .u32 = &n->age_ms },
		{ "rate", .lo = 0, .hi = 65536, .dbl = &n->rate },
		{ "confidence", .lo = 0, .hi = 1, .dbl = &n->confidence },
	};
	const msgpack_object_kv	*kv;
	uint32_t		 i;
	size_t			 k;
	int			 r = 0;

	memset(n, 0, sizeof(*n));
	if (o->type != MSGPACK_OBJECT_MAP)
		return -1;
	strlcpy(n->mapping, "unknown", sizeof(n->mapping));
	strlcpy(n->filtering, "unknown", sizeof(n->filtering));
	strlcpy(n->alloc, "unknown", sizeof(n->alloc));
	for (i = 0; i < o->via.map.size && r == 0; i++) {
		kv = &o->via.map.ptr[i];
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (mpack_str_eq(&kv->key, keys[k].key))
				r = relaymsg_nat_value(&kv->val, &keys[k]);
	}
	if (r == -1)
		memset(n, 0, sizeof(*n));
	return r;
}
