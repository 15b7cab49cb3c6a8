/*
 * A msgpack map whose size is counted, not written by hand: pack the
 * entries (mpack_kv_*, nested maps and arrays) into the packer
 * mpack_map_begin() returns; mpack_map_end() writes the map header with
 * the number of entries packed, then the entries, to the outer packer.
 */
#ifndef COMMON_MPACK_MAP_H
#define COMMON_MPACK_MAP_H

#include <msgpack.h>

struct mpack_map {
	msgpack_packer	*out;
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
};

msgpack_packer *mpack_map_begin(struct mpack_map *m, msgpack_packer *out);
void	mpack_map_end(struct mpack_map *m);

#endif
