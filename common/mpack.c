/*
 * Helpers over msgpack-c objects: typed lookups in params maps, key/value
 * packing, and conversion to jansson for --json output.
 */
#include "mpack.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

const msgpack_object *
mpack_get(const msgpack_object *o, const char *key)
{
	const msgpack_object_kv	*kv;
	size_t			 n = strlen(key);
	uint32_t		 i;

	if (o == NULL || o->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (i = 0; i < o->via.map.size; i++) {
		kv = &o->via.map.ptr[i];
		if (kv->key.type == MSGPACK_OBJECT_STR &&
		    kv->key.via.str.size == n &&
		    (n == 0 || memcmp(kv->key.via.str.ptr, key, n) == 0))
			return &kv->val;
	}
	return NULL;
}

int
mpack_str_eq(const msgpack_object *o, const char *s)
{
	size_t n = strlen(s);

	return o != NULL && o->type == MSGPACK_OBJECT_STR &&
	    o->via.str.size == n &&
	    (n == 0 || memcmp(o->via.str.ptr, s, n) == 0);
}

int
mpack_str_copy(const msgpack_object *o, char *buf, size_t len)
{
	/* an embedded NUL would silently cut the value short; msgpack-c
	 * gives an empty str a NULL ptr, which memchr/memcpy must not see */
	if (o == NULL || o->type != MSGPACK_OBJECT_STR ||
	    o->via.str.size >= len || (o->via.str.size > 0 &&
	    memchr(o->via.str.ptr, '\0', o->via.str.size) != NULL))
		return -1;
	if (o->via.str.size > 0)
		memcpy(buf, o->via.str.ptr, o->via.str.size);
	buf[o->via.str.size] = '\0';
	return 0;
}

/* Absent and nil are the same to optional params. */
static const msgpack_object *
mpack_get_present(const msgpack_object *map, const char *key)
{
	const msgpack_object *v = mpack_get(map, key);

	return v == NULL || v->type == MSGPACK_OBJECT_NIL ? NULL : v;
}

int
mpack_get_str(const msgpack_object *map, const char *key, char *buf,
    size_t len)
{
	const msgpack_object *v;

	if ((v = mpack_get_present(map, key)) == NULL)
		return 1;
	return mpack_str_copy(v, buf, len);
}

int
mpack_get_int(const msgpack_object *map, const char *key, int64_t *out)
{
	const msgpack_object *v;

	if ((v = mpack_get_present(map, key)) == NULL)
		return 1;
	if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
		if (v->via.u64 > INT64_MAX)
			return -1;
		*out = (int64_t)v->via.u64;
		return 0;
	}
	if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		*out = v->via.i64;
		return 0;
	}
	return -1;
}

int
mpack_get_bool(const msgpack_object *map, const char *key, int *out)
{
	const msgpack_object *v;

	if ((v = mpack_get_present(map, key)) == NULL)
		return 1;
	if (v->type != MSGPACK_OBJECT_BOOLEAN)
		return -1;
	*out = v->via.boolean ? 1 : 0;
	return 0;
}

int
mpack_get_bin(const msgpack_object *map, const char *key, const char **data,
    size_t *len)
{
	const msgpack_object *v;

	if ((v = mpack_get_present(map, key)) == NULL)
		return 1;
	if (v->type == MSGPACK_OBJECT_BIN) {
		*data = v->via.bin.ptr;
		*len = v->via.bin.size;
		return 0;
	}
	if (v->type == MSGPACK_OBJECT_STR) {
		*data = v->via.str.ptr;
		*len = v->via.str.size;
		return 0;
	}
	return -1;
}

/* ---- packing --------------------------------------------------------------- */

void
mpack_pack_str(msgpack_packer *pk, const char *s)
{
	size_t n = strlen(s);

	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

void
mpack_key(msgpack_packer *pk, const char *k)
{
	mpack_pack_str(pk, k);
}

void
mpack_kv_str(msgpack_packer *pk, const char *k, const char *v)
{
	mpack_pack_str(pk, k);
	if (v == NULL)
		msgpack_pack_nil(pk);
	else
		mpack_pack_str(pk, v);
}

void
mpack_kv_int(msgpack_packer *pk, const char *k, int64_t v)
{
	mpack_pack_str(pk, k);
	msgpack_pack_int64(pk, v);
}

void
mpack_kv_uint(msgpack_packer *pk, const char *k, uint64_t v)
{
	mpack_pack_str(pk, k);
	msgpack_pack_uint64(pk, v);
}

void
mpack_kv_bool(msgpack_packer *pk, const char *k, int v)
{
	mpack_pack_str(pk, k);
	if (v)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
}

void
mpack_kv_double(msgpack_packer *pk, const char *k, double v)
{
	mpack_pack_str(pk, k);
	msgpack_pack_double(pk, v);
}

void
mpack_kv_bin(msgpack_packer *pk, const char *k, const void *v, size_t n)
{
	mpack_pack_str(pk, k);
	msgpack_pack_bin(pk, n);
	msgpack_pack_bin_body(pk, v, n);
}

/* ---- JSON ------------------------------------------------------------------ */

/* Length of the valid UTF-8 sequence at p (1-4), or 0. */
static size_t
mpack_utf8_len(const unsigned char *p, size_t n)
{
	size_t		need, i;
	uint32_t	cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		need = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		need = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		need = 4;
		cp = p[0] & 0x07;
	} else
		return 0;
	if (n < need)
		return 0;
	for (i = 1; i < need; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return need;
}

/*
 * A peer's str may not be UTF-8; JSON text must be. Invalid bytes become
 * U+FFFD, so the output stays valid and shows where the damage was.
 */
static char *
mpack_utf8_clean(const char *s, size_t n, size_t *outlen)
{
	const unsigned char	*p = (const unsigned char *)s;
	char			*out, *q;
	size_t			 i = 0, k;

	if ((out = malloc(n * 3 + 1)) == NULL)
		return NULL;
	q = out;
	while (i < n) {
		if ((k = mpack_utf8_len(p + i, n - i)) == 0) {
			memcpy(q, "\xef\xbf\xbd", 3);
			q += 3;
			i++;
			continue;
		}
		memcpy(q, p + i, k);
		q += k;
		i += k;
	}
	*q = '\0';
	*outlen = (size_t)(q - out);
	return out;
}

static json_t *
mpack_json_str(const char *s, size_t n)
{
	json_t	*j;
	char	*clean;
	size_t	 len;

	if ((j = json_stringn(s, n)) != NULL)
		return j;
	if ((clean = mpack_utf8_clean(s, n, &len)) == NULL)
		return NULL;
	j = json_stringn(clean, len);
	free(clean);
	return j;
}

static json_t *
mpack_json_base64(const void *data, size_t n)
{
	json_t	*j;
	char	*b;
	size_t	 len;

	len = sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL);
	if ((b = malloc(len)) == NULL)
		return NULL;
	sodium_bin2base64(b, len, data, n, sodium_base64_VARIANT_ORIGINAL);
	j = json_string(b);
	free(b);
	return j;
}

/*
 * A non-string map key as text: its JSON form ("1", "true", "null"...).
 * A map or array key becomes "(map)" or "(array)": written out, it would be
 * escaped again at every level of nesting, doubling the text per level (a
 * 63-byte message made 512 MB; fuzz/crashes-fixed/ipc-mpack-to-json-*).
 */
static char *
mpack_json_key(const msgpack_object *k)
{
	json_t	*j;
	char	*s;

	if (k->type == MSGPACK_OBJECT_MAP)
		return strdup("(map)");
	if (k->type == MSGPACK_OBJECT_ARRAY)
		return strdup("(array)");
	if ((j = mpack_to_json(k)) == NULL)
		return NULL;
	if (json_is_string(j))
		s = strdup(json_string_value(j));
	else
		s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY |
		    JSON_PRESERVE_ORDER);
	json_decref(j);
	return s;
}

static json_t *
mpack_json_map(const msgpack_object *o)
{
	const msgpack_object_kv	*kv;
	json_t			*j, *v;
	char			*key, *clean;
	size_t			 len;
	uint32_t		 i;
	int			 r;

	if ((j = json_object()) == NULL)
		return NULL;
	for (i = 0; i < o->via.map.size; i++) {
		kv = &o->via.map.ptr[i];
		if ((v = mpack_to_json(&kv->val)) == NULL)
			goto fail;
		if (kv->key.type == MSGPACK_OBJECT_STR) {
			clean = mpack_utf8_clean(kv->key.via.str.ptr,
			    kv->key.via.str.size, &len);
			if (clean == NULL) {
				json_decref(v);
				goto fail;
			}
			r = json_object_setn_new(j, clean, len, v);
			free(clean);
		} else {
			if ((key = mpack_json_key(&kv->key)) == NULL) {
				json_decref(v);
				goto fail;
			}
			r = json_object_set_new(j, key, v);
			free(key);
		}
		if (r == -1)
			goto fail;
	}
	return j;
 fail:
	json_decref(j);
	return NULL;
}

json_t *
mpack_to_json(const msgpack_object *o)
{
	json_t		*j, *v;
	uint32_t	 i;

	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		return json_null();
	case MSGPACK_OBJECT_BOOLEAN:
		return json_boolean(o->via.boolean);
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		if (o->via.u64 <= INT64_MAX)
			return json_integer((json_int_t)o->via.u64);
		/* beyond json_int_t: a real, like JSON parsers read it */
		return json_real((double)o->via.u64);
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return json_integer((json_int_t)o->via.i64);
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		/* JSON has no NaN or infinity */
		if (!isfinite(o->via.f64))
			return json_null();
		return json_real(o->via.f64);
	case MSGPACK_OBJECT_STR:
		return mpack_json_str(o->via.str.ptr, o->via.str.size);
	case MSGPACK_OBJECT_BIN:
		return mpack_json_base64(o->via.bin.ptr, o->via.bin.size);
	case MSGPACK_OBJECT_EXT:
		if ((j = json_object()) == NULL)
			return NULL;
		if (json_object_set_new(j, "ext_type",
		    json_integer(o->via.ext.type)) == -1 ||
		    (v = mpack_json_base64(o->via.ext.ptr,
		    o->via.ext.size)) == NULL ||
		    json_object_set_new(j, "data", v) == -1) {
			json_decref(j);
			return NULL;
		}
		return j;
	case MSGPACK_OBJECT_ARRAY:
		if ((j = json_array()) == NULL)
			return NULL;
		for (i = 0; i < o->via.array.size; i++) {
			if ((v = mpack_to_json(&o->via.array.ptr[i])) == NULL ||
			    json_array_append_new(j, v) == -1) {
				json_decref(j);
				return NULL;
			}
		}
		return j;
	case MSGPACK_OBJECT_MAP:
		return mpack_json_map(o);
	}
	return json_null();
}
