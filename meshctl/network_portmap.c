/*
 * meshctl network's port-mapping part, from punchd's status.get
 * (`portmap`): which protocols the gateway offers and the mapping held.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "common/mpack.h"
#include "meshctl.h"

static void
network_portmap_print(const msgpack_object *pm)
{
	const msgpack_object	*protos, *map, *k, *v;
	char			 mode[16] = "", gw[64] = "", st[16], why[200];
	char			 proto[16] = "", ext[80] = "";
	int64_t			 lease = 0, iport = 0;
	double			 renew = 0;
	uint32_t		 i;

	mpack_get_str(pm, "mode", mode, sizeof(mode));
	mpack_get_str(pm, "gateway", gw, sizeof(gw));
	map = mpack_get(pm, "mapping");
	if (map != NULL && map->type == MSGPACK_OBJECT_MAP) {
		mpack_get_str(map, "proto", proto, sizeof(proto));
		mpack_get_str(map, "external", ext, sizeof(ext));
		mpack_get_int(map, "lease_s", &lease);
		mpack_get_int(map, "internal_port", &iport);
		if ((v = mpack_get(map, "renew_in_s")) != NULL &&
		    v->type == MSGPACK_OBJECT_FLOAT64)
			renew = v->via.f64;
		printf("Port mapping:     %s -> UDP %lld here, by %s, lease "
		    "%lld s, renewal in %.0f s\n", ext, (long long)iport, proto,
		    (long long)lease, renew);
	} else if (!strcmp(mode, "no"))
		printf("Port mapping:     off (punchd.portmap = no)\n");
	else
		printf("Port mapping:     none held\n");
	if (strcmp(mode, "no") != 0)
		printf("  gateway:        %s (punchd.portmap = %s)\n",
		    gw[0] ? gw : "none found", mode);
	protos = mpack_get(pm, "protocols");
	if (protos == NULL || protos->type != MSGPACK_OBJECT_MAP)
		return;
	for (i = 0; i < protos->via.map.size; i++) {
		k = &protos->via.map.ptr[i].key;
		v = &protos->via.map.ptr[i].val;
		st[0] = why[0] = '\0';
		mpack_get_str(v, "state", st, sizeof(st));
		mpack_get_str(v, "reason", why, sizeof(why));
		printf("  %-8.*s        %-*s%s\n", k->type ==
		    MSGPACK_OBJECT_STR ? (int)k->via.str.size : 1,
		    k->type == MSGPACK_OBJECT_STR ? k->via.str.ptr : "?",
		    why[0] ? 8 : 0, !strcmp(st, "offered") ? "offered (the "
		    "gateway answers; another protocol is used)" : st, why);
	}
}

/* Print (or add to out, with --json) punchd's port mapping. */
void
network_portmap(json_t *out)
{
	struct ipc_sync		*s;
	struct ipc_msg		 m;
	const msgpack_object	*pm = NULL;
	char			 err[512];

	memset(&m, 0, sizeof(m));
	if ((s = meshctl_connect("punchd", err, sizeof(err))) != NULL &&
	    meshctl_call(s, "status.get", NULL, 0, meshctl.timeout_ms, &m,
	    err, sizeof(err)) == 0 && m.error == NULL)
		pm = mpack_get(m.result, "portmap");
	if (out != NULL)
		json_object_set_new(out, "portmap", pm != NULL ?
		    mpack_to_json(pm) : json_null());
	else if (pm == NULL)
		printf("Port mapping:     unknown (punchd is not running)\n");
	else
		network_portmap_print(pm);
	if (s != NULL)
		ipc_sync_close(s);
}
