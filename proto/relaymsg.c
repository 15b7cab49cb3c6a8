#include "relaymsg.h"
#include "relaymsg_priv.h"

#include <string.h>

#include <msgpack.h>

#include "common/ipc.h"
#include "common/mpack.h"
#include "common/mpack_map.h"

enum relaymsg_kind
relaymsg_kind(const void *buf, size_t len)
{
	const uint8_t *p = buf;

	if (len == 0)
		return RELAYMSG_KIND_EMPTY;
	if (p[0] < RELAYMSG_FIRST_RESERVED)
		return RELAYMSG_KIND_DATA;
	if (p[0] == RELAYMSG_CONTROL)
		return RELAYMSG_KIND_CONTROL;
	if (p[0] == RELAYMSG_SIGNAL)
		return RELAYMSG_KIND_SIGNAL;
	return RELAYMSG_KIND_RESERVED;
}

size_t
relaymsg_control_write(void *buf, size_t len, const struct relaymsg_control *c)
{
	uint8_t *p = buf;

	if (len < RELAYMSG_CONTROL_LEN)
		return 0;
	p[0] = RELAYMSG_CONTROL;
	p[1] = RELAYMSG_VERSION;
	p[2] = c->event;
	p[3] = c->flags;
	p[4] = (uint8_t)(c->client_id >> 24);
	p[5] = (uint8_t)(c->client_id >> 16);
	p[6] = (uint8_t)(c->client_id >> 8);
	p[7] = (uint8_t)c->client_id;
	p[8] = (uint8_t)(c->count >> 8);
	p[9] = (uint8_t)c->count;
	p[10] = (uint8_t)(c->max >> 8);
	p[11] = (uint8_t)c->max;
	return RELAYMSG_CONTROL_LEN;
}

int
relaymsg_control_read(const void *buf, size_t len, struct relaymsg_control *c)
{
	const uint8_t *p = buf;

	/* version 1 is the floor; newer versions only append */
	if (len < RELAYMSG_CONTROL_LEN || p[0] != RELAYMSG_CONTROL ||
	    p[1] < RELAYMSG_VERSION)
		return -1;
	c->event = p[2];
	c->flags = p[3];
	c->client_id = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 |
	    (uint32_t)p[6] << 8 | p[7];
	c->count = (uint16_t)(p[8] << 8 | p[9]);
	c->max = (uint16_t)(p[10] << 8 | p[11]);
	return 0;
}

/* one candidate: {"kind", "addr", "prio"} */
static void
relaymsg_cand_pack(msgpack_packer *out, const struct relaymsg_cand *c)
{
	struct mpack_map	 m;
	msgpack_packer		*pk = mpack_map_begin(&m, out);

	mpack_kv_str(pk, "kind", c->kind);
	mpack_kv_str(pk, "addr", c->addr);
	mpack_kv_uint(pk, "prio", c->prio);
	mpack_map_end(&m);
}

size_t
relaymsg_signal_write(void *buf, size_t len, const struct relaymsg_signal *s)
{
	msgpack_sbuffer	 sb;
	msgpack_packer	 out, *pk;
	struct mpack_map m;
	size_t		 i, n = 0;

	if (s->ncands > RELAYMSG_MAX_CANDS)
		return 0;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&out, &sb, msgpack_sbuffer_write);
	pk = mpack_map_begin(&m, &out);
	mpack_kv_str(pk, "type", s->type);
	mpack_kv_str(pk, "from", s->from);
	mpack_kv_uint(pk, "ts", s->ts);
	if (s->ncands > 0) {
		mpack_key(pk, "candidates");
		msgpack_pack_array(pk, s->ncands);
		for (i = 0; i < s->ncands; i++)
			relaymsg_cand_pack(pk, &s->cands[i]);
	}
	if (s->has_nat) {
		mpack_key(pk, "nat");
		relaymsg_nat_pack(pk, &s->nat);
	}
	mpack_map_end(&m);
	if (sb.size + 1 <= len) {
		((uint8_t *)buf)[0] = RELAYMSG_SIGNAL;
		memcpy((uint8_t *)buf + 1, sb.data, sb.size);
		n = sb.size + 1;
	}
	msgpack_sbuffer_destroy(&sb);
	return n;
}

static int
relaymsg_cand_read(const msgpack_object *o, struct relaymsg_cand *c)
{
	const msgpack_object_kv	*kv;
	uint32_t		 i;
	int			 have = 0;

	if (o->type != MSGPACK_OBJECT_MAP)
		return -1;
	memset(c, 0, sizeof(*c));
	for (i = 0; i < o->via.map.size; i++) {
		kv = &o->via.map.ptr[i];
		if (mpack_str_eq(&kv->key, "kind")) {
			if (mpack_str_copy(&kv->val, c->kind, sizeof(c->kind)))
				return -1;
			have |= 1;
		} else if (mpack_str_eq(&kv->key, "addr")) {
			if (mpack_str_copy(&kv->val, c->addr, sizeof(c->addr)))
				return -1;
			have |= 2;
		} else if (mpack_str_eq(&kv->key, "prio")) {
			if (kv->val.type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
			    kv->val.via.u64 > UINT32_MAX)
				return -1;
			c->prio = (uint32_t)kv->val.via.u64;
		}
	}
	return have == 3 ? 0 : -1;
}

static int
relaymsg_signal_map(const msgpack_object *o, struct relaymsg_signal *s)
{
	const msgpack_object_kv	*kv;
	const msgpack_object	*a;
	uint32_t		 i, j;
	int			 have = 0;

	if (o->type != MSGPACK_OBJECT_MAP)
		return -1;
	for (i = 0; i < o->via.map.size; i++) {
		kv = &o->via.map.ptr[i];
		if (mpack_str_eq(&kv->key, "type")) {
			if (mpack_str_copy(&kv->val, s->type, sizeof(s->type)))
				return -1;
			have |= 1;
		} else if (mpack_str_eq(&kv->key, "from")) {
			if (mpack_str_copy(&kv->val, s->from, sizeof(s->from)))
				return -1;
			have |= 2;
		} else if (mpack_str_eq(&kv->key, "ts")) {
			if (kv->val.type != MSGPACK_OBJECT_POSITIVE_INTEGER)
				return -1;
			s->ts = kv->val.via.u64;
		} else if (mpack_str_eq(&kv->key, "candidates")) {
			a = &kv->val;
			if (a->type != MSGPACK_OBJECT_ARRAY ||
			    a->via.array.size > RELAYMSG_MAX_CANDS)
				return -1;
			for (j = 0; j < a->via.array.size; j++)
				if (relaymsg_cand_read(&a->via.array.ptr[j],
				    &s->cands[j]) == -1)
					return -1;
			s->ncands = a->via.array.size;
		} else if (mpack_str_eq(&kv->key, "nat")) {
			if (relaymsg_nat_read(&kv->val, &s->nat) == -1)
				return -1;
			s->has_nat = 1;
		}
	}
	return have == 3 ? 0 : -1;
}

int
relaymsg_signal_read(const void *buf, size_t len, struct relaymsg_signal *s)
{
	msgpack_unpacked	 u;
	struct ipc_scan		 sc;
	size_t			 off = 0, ok;
	char			 why[64];
	int			 r = -1;

	memset(s, 0, sizeof(*s));
	if (len < 2 || ((const uint8_t *)buf)[0] != RELAYMSG_SIGNAL)
		return -1;
	/* msgpack-c allocates a container's elements when it reads the
	 * header: only one object complete within the frame goes on, so a
	 * 5-byte header cannot ask for gigabytes (found by fuzz_relaymsg) */
	ipc_scan_init(&sc);
	if (ipc_scan_feed(&sc, (const uint8_t *)buf + 1, len - 1, &ok, why,
	    sizeof(why)) == -1 || sc.inmsg || sc.nstarted != 1)
		return -1;
	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, (const char *)buf + 1, len - 1, &off) ==
	    MSGPACK_UNPACK_SUCCESS && off == len - 1)
		r = relaymsg_signal_map(&u.data, s);
	msgpack_unpacked_destroy(&u);
	if (r == -1)
		memset(s, 0, sizeof(*s));
	return r;
}

const char *
relaymsg_event_str(uint8_t event)
{
	switch (event) {
	case RELAYMSG_WELCOME:	return "welcome";
	case RELAYMSG_JOINED:	return "joined";
	case RELAYMSG_LEFT:	return "left";
	}
	return "unknown";
}
