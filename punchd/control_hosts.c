/*
 * mesh.hosts: every member's mesh interface addresses (iface.c's table),
 * with the member's name, for `meshctl hosts` (an /etc/hosts list).
 */
#include <arpa/inet.h>
#include <string.h>

#include <msgpack.h>
#include <sodium.h>

#include "common/ipc.h"
#include "common/mpack.h"
#include "control.h"
#include "hostsfile.h"
#include "iface.h"
#include "meshaddr.h"
#include "punchd.h"

struct control_hosts {
	struct punchd	*pd;
	msgpack_packer	*pk;
};

static void
control_hosts_none(void *arg, const struct meshaddr_member *m)
{
	(void)arg;
	(void)m;
}

static void
control_hosts_one(void *arg, const struct meshaddr_member *m)
{
	struct control_hosts		*h = arg;
	struct control_map		 map;
	char				 id[2 * MESHADDR_NODE_ID_LEN + 1];
	char				 a4[INET_ADDRSTRLEN];
	char				 a6[INET6_ADDRSTRLEN];
	uint32_t			 v4 = htonl(m->v4);
	const char			*name = hostsfile_name(h->pd,
					    m->node_id);

	sodium_bin2hex(id, sizeof(id), m->node_id, MESHADDR_NODE_ID_LEN);
	inet_ntop(AF_INET, &v4, a4, sizeof(a4));
	inet_ntop(AF_INET6, m->v6, a6, sizeof(a6));
	control_map_begin(&map, h->pk);
	mpack_kv_str(&map.pk, "id", id);
	mpack_kv_str(&map.pk, "name", name);
	mpack_kv_str(&map.pk, "v4", a4);
	mpack_kv_str(&map.pk, "v6", a6);
	mpack_kv_bool(&map.pk, "self", !memcmp(m->node_id, h->pd->node_id,
	    MESHADDR_NODE_ID_LEN));
	control_map_end(&map);
}

void
control_mesh_hosts(struct ipc_conn *c, uint32_t msgid,
    const msgpack_object *params, void *arg)
{
	struct punchd		*pd = arg;
	struct control_hosts	 h;
	struct control_map	 map;
	const char		*ifname;
	int			 n;

	(void)params;
	if ((ifname = iface_each(pd, control_hosts_none, NULL, &n)) == NULL) {
		ipc_reply_error(c, msgid, IPC_ERR_UNAVAILABLE, "the mesh "
		    "interface is off (punchd.tun = no)");
		return;
	}
	h.pd = pd;
	h.pk = control_map_begin(&map, ipc_reply_start(c, msgid));
	mpack_kv_str(h.pk, "interface", ifname);
	mpack_kv_str(h.pk, "mesh", pd->mesh.have ? pd->mesh.name : NULL);
	mpack_key(h.pk, "hosts");
	msgpack_pack_array(h.pk, n);
	iface_each(pd, control_hosts_one, &h, &n);
	control_map_end(&map);
	ipc_reply_finish(c);
}
