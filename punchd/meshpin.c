/*
 * Pinned mesh IPv4 addresses: the member records' pins through meshaddr's
 * clash rule (meshpin.h has where each pin comes from). Runs on joins,
 * path-ups and membership changes only.
 */
#include <arpa/inet.h>
#include <string.h>

#include <sodium.h>

#include "common/log.h"
#include "punchd.h"
#include "meshaddr.h"
#include "meshpin.h"

uint32_t
meshpin_of(struct punchd *pd, const uint8_t *id)
{
	const struct mesh_member *mm;

	if (!memcmp(id, pd->node_id, JOIN_ID_LEN))
		return pd->mesh.v4;
	mm = members_find(pd, id);
	return mm != NULL ? mm->v4 : 0;
}

/*
 * The table of this node and the members with an address, plus `extra`
 * (a joiner) when given and not among them: 0 or -1.
 */
static int
meshpin_build(struct punchd *pd, struct meshaddr_table *t,
    const uint8_t *extra)
{
	static uint8_t	 ids[MESH_MAX_MEMBERS + 2][MESHADDR_NODE_ID_LEN];
	static uint32_t	 pins[MESH_MAX_MEMBERS + 2];
	const struct mesh_member *mm;
	size_t		 n = 0, i;
	int		 j;

	memcpy(ids[n], pd->node_id, MESHADDR_NODE_ID_LEN);
	pins[n++] = pd->mesh.v4;
	for (j = 0; j < pd->mesh.nmembers; j++) {
		mm = &pd->mesh.members[j];
		if (mm->relay_only || !memcmp(mm->id, pd->node_id, JOIN_ID_LEN))
			continue;
		memcpy(ids[n], mm->id, MESHADDR_NODE_ID_LEN);
		pins[n++] = mm->v4;
	}
	for (i = 0; extra != NULL && i < n; i++)
		if (!memcmp(ids[i], extra, MESHADDR_NODE_ID_LEN))
			extra = NULL;
	if (extra != NULL) {
		memcpy(ids[n], extra, MESHADDR_NODE_ID_LEN);
		pins[n++] = 0;
	}
	if (meshaddr_table_build_pinned(t, pd->mesh.id,
	    (const uint8_t (*)[MESHADDR_NODE_ID_LEN])ids, pins, n) == -1) {
		log_warnx("mesh IPv4: cannot build the member table");
		return -1;
	}
	meshpin_check(pd, t);
	return 0;
}

uint32_t
meshpin_self(struct punchd *pd)
{
	struct meshaddr_table		 t = { 0 };
	const struct meshaddr_member	*me;
	char				 a[INET_ADDRSTRLEN];

	if (!pd->mesh.have || pd->mesh.v4 != 0)
		return pd->mesh.have ? pd->mesh.v4 : 0;
	if (meshpin_build(pd, &t, NULL) == 0 &&
	    (me = meshaddr_by_node(&t, pd->node_id)) != NULL) {
		mesh_set_v4(pd, me->v4);
		log_info("mesh IPv4 address %s: pinned",
		    members_v4_str(me->v4, a));
	}
	meshaddr_table_free(&t);
	return pd->mesh.v4;
}

uint32_t
meshpin_joiner(struct punchd *pd, const uint8_t *id, int relay_only)
{
	struct meshaddr_table		 t = { 0 };
	const struct meshaddr_member	*m;
	uint32_t			 v = meshpin_of(pd, id);

	if (relay_only || v != 0 || meshpin_self(pd) == 0)
		return relay_only ? 0 : v;
	if (meshpin_build(pd, &t, id) == 0 &&
	    (m = meshaddr_by_node(&t, id)) != NULL)
		v = m->v4;
	meshaddr_table_free(&t);
	return v;
}

static void
meshpin_v4_bytes(uint32_t v, uint8_t b[4])
{
	uint32_t n = htonl(v);

	memcpy(b, &n, 4);
}

void
meshpin_check(struct punchd *pd, const struct meshaddr_table *t)
{
	const struct meshaddr_member	*m, *holder;
	char				 id[2 * JOIN_ID_LEN + 1];
	char				 hid[2 * JOIN_ID_LEN + 1];
	char				 pin[INET_ADDRSTRLEN], got[INET_ADDRSTRLEN];
	uint8_t				 b[4];
	size_t				 i;

	for (i = 0; i < t->n; i++) {
		m = &t->m[i];
		if (m->pin == 0 || m->pin == m->v4)
			continue;
		meshpin_v4_bytes(m->pin, b);
		holder = meshaddr_by_addr(t, 4, b);
		sodium_bin2hex(id, sizeof(id), m->node_id, JOIN_ID_LEN);
		sodium_bin2hex(hid, sizeof(hid), holder != NULL ?
		    holder->node_id : m->node_id, JOIN_ID_LEN);
		members_v4_str(m->pin, pin);
		members_v4_str(m->v4, got);
		if (memcmp(m->node_id, pd->node_id, JOIN_ID_LEN) != 0) {
			log_notice("mesh IPv4 pin clash: member %s and member "
			    "%s both pinned %s; the smaller node id keeps it, "
			    "%s takes %s", id, hid, pin, id, got);
			continue;
		}
		log_warnx("mesh IPv4 pin clash: this node and member %s both "
		    "pinned %s; the smaller node id keeps it, this node takes "
		    "%s and pins it", hid, pin, got);
		mesh_set_v4(pd, m->v4);
	}
}
