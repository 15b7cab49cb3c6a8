/*
 * status.get's `portmap`: what the port-mapping layer did, for meshctl
 * network: the mode, the gateway asked, each protocol's state (off,
 * trying, offered, mapped, failed) and reason, and the mapping held.
 */
#include <arpa/inet.h>

#include <msgpack.h>

#include "common/mpack.h"
#include "control.h"
#include "punchd.h"
#include "portmap.h"

static void
control_pack_mapping(msgpack_packer *out, const struct portmap_status *st)
{
	struct control_map	m;
	char			a[NETADDR_STRLEN];
	msgpack_packer		*pk;

	if (!st->mapped) {
		msgpack_pack_nil(out);
		return;
	}
	pk = control_map_begin(&m, out);
	mpack_kv_str(pk, "proto", portmap_proto_name(st->m.proto));
	mpack_kv_str(pk, "external", netaddr_str((const struct sockaddr *)
	    &st->m.ext, a, sizeof(a)));
	mpack_kv_int(pk, "internal_port", st->m.internal_port);
	mpack_kv_uint(pk, "lease_s", st->m.lease);
	mpack_kv_double(pk, "renew_in_s", st->renew_in);
	control_map_end(&m);
}

void
control_pack_portmap(msgpack_packer *out, struct punchd *pd)
{
	struct portmap_status	st;
	struct control_map	m, pm;
	msgpack_packer		*pk = control_map_begin(&m, out);
	char			gw[INET_ADDRSTRLEN];
	int			i;

	mpack_kv_str(pk, "mode", pd->cfg.portmap);
	if (pd->pm == NULL) {
		mpack_kv_str(pk, "gateway", NULL);
		mpack_key(pk, "protocols");
		msgpack_pack_map(pk, 0);
		mpack_key(pk, "mapping");
		msgpack_pack_nil(pk);
		control_map_end(&m);
		return;
	}
	portmap_status(pd->pm, &st);
	mpack_kv_str(pk, "gateway", st.gateway.s_addr != 0 ?
	    inet_ntop(AF_INET, &st.gateway, gw, sizeof(gw)) : NULL);
	mpack_key(pk, "protocols");
	msgpack_pack_map(pk, PORTMAP_NPROTO);
	for (i = 0; i < PORTMAP_NPROTO; i++) {
		mpack_key(pk, portmap_proto_name(i));
		control_map_begin(&pm, pk);
		mpack_kv_str(&pm.pk, "state",
		    portmap_pstate_name(st.proto[i].state));
		mpack_kv_str(&pm.pk, "reason", st.proto[i].reason[0] != '\0' ?
		    st.proto[i].reason : NULL);
		control_map_end(&pm);
	}
	mpack_key(pk, "mapping");
	control_pack_mapping(pk, &st);
	control_map_end(&m);
}
