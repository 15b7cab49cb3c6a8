/*
 * The top of punchd's core. node_init() installs the hooks through which
 * the lower layers report (the socket's datagrams to input.c, a path that
 * came up to the pending requests, the join and the announcements, any
 * change of the peer table to the peers file); node_start()/node_stop()
 * bring the layers up and down in order. The mesh-wide operations (create,
 * leave) that touch invites, the join, peers and members live here, above
 * all of them. Nothing here speaks IPC: control.c does, on top.
 */
#include <string.h>

#include <sodium.h>

#include "common/log.h"
#include "common/state.h"
#include "punchd.h"
#include "inviter.h"
#include "joiner.h"
#include "node.h"
#include "pending.h"

static void
node_peer_up(struct peer *p)
{
	pending_peer_up(p);
	joiner_peer_up(p);
	mesh_announce_peer_up(p);
}

static void
node_peer_freeing(struct peer *p)
{
	pending_fail_all(p, RESULT_NOT_FOUND, "peer removed");
	hardnat_peer_free(p);
}

void
node_init(struct punchd *pd)
{
	TAILQ_INIT(&pd->peers);
	LIST_INIT(&pd->mesh.invites);
	pd->fd4 = pd->fd6 = pd->via_fd = -1;
	input_init(pd);
	link_init(pd);
	failover_init(pd);
	roam_init(pd);
	hardnat_init(pd);
	pd->hooks.peer_up = node_peer_up;
	pd->hooks.punch_failed = pending_punch_failed;
	pd->hooks.peer_freeing = node_peer_freeing;
	pd->hooks.pong = pending_pong;
	pd->hooks.announce = mesh_announce_input;
	pd->hooks.join_hello = inviter_input;
	pd->hooks.join_reply = joiner_input;
}

void
node_start(struct punchd *pd)
{
	if (pd->mesh.have)
		inviter_store_load(pd);
	relay_access_init(pd);
	e2e_session_start(pd);
	store_init(pd);
	mesh_relay_default(pd);
	relay_access_reload(pd);	/* the mesh's relay, when configured none */
	inviter_start(pd);
	roam_start(pd);
}

void
node_stop(struct punchd *pd)
{
	struct peer *p;

	roam_stop(pd);
	node_portmap_stop(pd);
	store_fini(pd);
	e2e_session_stop(pd);
	joiner_cancel(pd, "punchd stopping");
	inviter_store_free_all(pd);
	TAILQ_FOREACH(p, &pd->peers, entry)
		pending_fail_all(p, RESULT_UNAVAILABLE, "punchd stopping");
	peer_free_all(pd);
	relay_access_fini(pd);
}

void
node_reload(struct punchd *pd, int ka_changed)
{
	if (ka_changed)
		link_ka_retime(pd);
	mesh_relay_default(pd);
	relay_access_reload(pd);
	roam_reload(pd);
}

void
node_peer_remove(struct peer *p)
{
	struct punchd *pd = p->pd;

	log_info("peer %s removed", peer_label(p));
	if (p->bound)
		members_remove(pd, p->id);
	peer_free(p);
	store_changed(pd);
}

int
node_mesh_create(struct punchd *pd, const char *name, int force,
    struct result *err)
{
	uint8_t	id[JOIN_MESH_ID_LEN], secret[JOIN_SECRET_LEN];
	int	i;

	for (i = 0; name[i] != '\0'; i++)
		if ((unsigned char)name[i] < 0x21 || name[i] == 0x7f)
			return result_set(err, RESULT_BAD_PARAMS, "mesh names "
			    "are printable, without spaces");
	if (pd->mesh.have && !force)
		return result_set(err, RESULT_EXISTS, "this node is already "
		    "in mesh '%s' (meshctl init --force replaces it, meshctl "
		    "leave leaves it)", pd->mesh.name);
	if (mesh_node_key(pd) == -1)
		return result_set(err, RESULT_INTERNAL, "cannot write "
		    "%s/node.key", pd->statedir);
	joiner_cancel(pd, "a new mesh was created");
	randombytes_buf(id, sizeof(id));
	randombytes_buf(secret, sizeof(secret));
	i = mesh_adopt(pd, name, id, secret);
	sodium_memzero(secret, sizeof(secret));
	if (i == -1)
		return result_set(err, RESULT_INTERNAL, "cannot write "
		    "%s/mesh", pd->statedir);
	inviter_store_reset(pd);
	log_notice("created mesh '%s'", name);
	return 0;
}

int
node_mesh_leave(struct punchd *pd, struct result *err)
{
	struct mesh	*m = &pd->mesh;
	uint8_t		 secret[JOIN_SECRET_LEN];

	if (!m->have)
		return result_set(err, RESULT_NOT_FOUND, "this node is in no "
		    "mesh");
	log_notice("leaving mesh '%s'", m->name);
	joiner_cancel(pd, "left the mesh");
	peer_free_all(pd);
	inviter_store_free_all(pd);
	state_remove(pd->statedir, "mesh");
	state_remove(pd->statedir, "invites");
	state_remove(pd->statedir, "members");
	m->nmembers = 0;
	m->have = 0;
	m->source = "none";
	sodium_memzero(m->secret, sizeof(m->secret));
	/* a key nobody has, until the next init or join */
	randombytes_buf(secret, sizeof(secret));
	packet_key_derive(pd->key, secret, 0);
	sodium_memzero(secret, sizeof(secret));
	store_changed(pd);
	return 0;
}
