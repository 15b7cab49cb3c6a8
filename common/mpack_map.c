/*
 * Counted maps (see mpack_map.h). The entries are packed into a buffer of
 * their own and counted by reading them back: a reply or a status map is
 * small, and a count written by hand goes wrong the day a key is added.
 */
#include "mpack_map.h"

msgpack_packer *
mpack_map_begin(struct mpack_map *m, msgpack_packer *out)
{
	m->out = out;
	msgpack_sbuffer_init(&m->sb);
	msgpack_packer_init(&m->pk, &m->sb, msgpack_sbuffer_write);
	return &m->pk;
}

void
mpack_map_end(struct mpack_map *m)
{
	msgpack_unpacked	u;
	size_t			off = 0, pair = 0;
	uint32_t		n = 0;
	int			key = 1;

	/* whole key/value pairs only: after an allocation failure the
	 * buffer may end inside one, and the map stays well-formed */
	msgpack_unpacked_init(&u);
	while (m->sb.data != NULL && msgpack_unpack_next(&u, m->sb.data,
	    m->sb.size, &off) == MSGPACK_UNPACK_SUCCESS) {
		if (!key) {
			n++;
			pair = off;
		}
		key = !key;
	}
	msgpack_unpacked_destroy(&u);
	msgpack_pack_map(m->out, n);
	if (pair > 0)
		m->out->callback(m->out->data, m->sb.data, pair);
	msgpack_sbuffer_destroy(&m->sb);
}
