/*
 * Small helpers over msgpack-c objects: typed lookups in maps (params are
 * always maps), packing key/value pairs, and conversion to jansson for --json.
 */
#ifndef COMMON_MPACK_H
#define COMMON_MPACK_H

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

struct json_t;

/* The value for `key` in map `o`, or NULL (absent, or `o` not a map). */
const msgpack_object *mpack_get(const msgpack_object *o, const char *key);
int	mpack_str_eq(const msgpack_object *o, const char *s);

/*
 * Typed getters: 0 found and stored, 1 absent (out untouched),
 * -1 present with the wrong type or does not fit.
 */
int	mpack_get_str(const msgpack_object *map, const char *key, char *buf,
	    size_t len);
int	mpack_get_int(const msgpack_object *map, const char *key, int64_t *out);
int	mpack_get_bool(const msgpack_object *map, const char *key, int *out);
/* bin or str; *data points into the object */
int	mpack_get_bin(const msgpack_object *map, const char *key,
	    const char **data, size_t *len);
/* copy a str object into buf (NUL-terminated); -1 when not a str or too long */
int	mpack_str_copy(const msgpack_object *o, char *buf, size_t len);

void	mpack_pack_str(msgpack_packer *pk, const char *s);
void	mpack_kv_str(msgpack_packer *pk, const char *k, const char *v); /* v NULL: nil */
void	mpack_kv_int(msgpack_packer *pk, const char *k, int64_t v);
void	mpack_kv_uint(msgpack_packer *pk, const char *k, uint64_t v);
void	mpack_kv_bool(msgpack_packer *pk, const char *k, int v);
void	mpack_kv_double(msgpack_packer *pk, const char *k, double v);
void	mpack_kv_bin(msgpack_packer *pk, const char *k, const void *v, size_t n);
/* packs the key only; the caller packs the value next */
void	mpack_key(msgpack_packer *pk, const char *k);

/* msgpack -> jansson (bin becomes base64 text, a map or array used as a map
 * key the string "(map)" or "(array)"); NULL on allocation failure */
struct json_t *mpack_to_json(const msgpack_object *o);

#endif
