/*
 * The mesh interface (iface.h): the device, the member table, start and
 * stop; the packets are iface_io.c's.
 *
 * The member table is rebuilt when the set of node ids changes: this node,
 * the mesh's members (relay-only ones, browsers, have no address) and the
 * peers bound to a node id, with the IPv4 pins membership recorded for
 * them (meshpin.h). A one-second timer compares a hash of that set,
 * and a miss on either path (a destination or a sender no entry has) looks
 * again at once, at most every IFACE_RESYNC s: a member that just joined
 * is reachable from its first packet, without a hook into membership.
 *
 * Privilege: the device is opened at start; the addresses need the mesh id,
 * so a node that starts before meshctl init/join keeps CAP_NET_ADMIN until
 * then, sets the device up and drops it. After that the addresses cannot
 * change: a new mesh (or this node's IPv4 pin lost to a smaller node id's,
 * meshpin.h) is logged and needs a restart.
 *
 * No per-packet allocation: the read buffers and the run are fixed arrays
 * here. A drain's packets to one direct peer are sealed end to end into
 * the run and leave in one send (UDP_SEGMENT: the kernel walks its stack
 * once for up to 64 datagrams, the receiver sees ordinary ones); relayed
 * pairs, and a pair still without a session key, go packet by packet
 * through e2e_session_send.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "common/log.h"
#include "iface.h"
#include "iface_priv.h"
#include "meshpin.h"


/* The mesh id the addresses derive from: the managed mesh's; with a
 * configured mesh_secret (no managed mesh) a hash of the mesh key, the
 * same on every node. None before meshctl init/join. */
static int
iface_mesh_id(struct punchd *pd, uint8_t id[MESHADDR_MESH_ID_LEN])
{
	static const char ctx[] = "atmosphere meshaddr mesh_secret";

	if (pd->mesh.have) {
		memcpy(id, pd->mesh.id, MESHADDR_MESH_ID_LEN);
		return 0;
	}
	if (pd->cfg.mesh_secret[0] == '\0')
		return -1;
	crypto_generichash(id, MESHADDR_MESH_ID_LEN, (const uint8_t *)ctx,
	    sizeof(ctx) - 1, pd->key, PACKET_KEY_LEN);
	return 0;
}

static int
iface_id_cmp(const void *a, const void *b)
{
	return memcmp(a, b, MESHADDR_NODE_ID_LEN);
}

/* The node ids with an address, sorted, unique; how many. */
static size_t
iface_collect(struct iface *f)
{
	struct punchd	*pd = f->pd;
	struct peer	*p;
	size_t		 n = 0, i, u;
	int		 j;

	memcpy(f->ids[n++], pd->node_id, MESHADDR_NODE_ID_LEN);
	for (j = 0; j < pd->mesh.nmembers; j++)
		if (!pd->mesh.members[j].relay_only)
			memcpy(f->ids[n++], pd->mesh.members[j].id,
			    MESHADDR_NODE_ID_LEN);
	TAILQ_FOREACH(p, &pd->peers, entry)
		if (p->bound && n < IFACE_MAX_IDS &&
		    !members_relay_only(pd, p->id))
			memcpy(f->ids[n++], p->id, MESHADDR_NODE_ID_LEN);
	qsort(f->ids, n, sizeof(f->ids[0]), iface_id_cmp);
	for (i = 1, u = 1; i < n; i++)
		if (memcmp(f->ids[i], f->ids[u - 1], MESHADDR_NODE_ID_LEN))
			memcpy(f->ids[u++], f->ids[i], MESHADDR_NODE_ID_LEN);
	for (i = 0; i < u; i++)
		f->pins[i] = meshpin_of(pd, f->ids[i]);
	return u;
}

static void
iface_addr_str(const struct meshaddr_member *m, char *a4, char *a6)
{
	uint32_t v4 = htonl(m->v4);

	inet_ntop(AF_INET, &v4, a4, INET_ADDRSTRLEN);
	inet_ntop(AF_INET6, m->v6, a6, INET6_ADDRSTRLEN);
}

/* Addresses on the device, link up, then the capability goes. */
static int
iface_setup(struct iface *f)
{
	struct punchd		*pd = f->pd;
	struct tun_config	 tc;
	char			 a4[INET_ADDRSTRLEN], a6[INET6_ADDRSTRLEN];

	memset(&tc, 0, sizeof(tc));
	tc.mtu = pd->cfg.tun_mtu;
	tc.v4 = f->self->v4;
	tc.v4_plen = MESHADDR_V4_PLEN;
	memcpy(tc.v6, f->self->v6, 16);
	tc.v6_plen = MESHADDR_V6_PLEN;
	if (tun_setup(f->ifname, &tc) == -1) {
		/* a host with IPv6 off for new links: IPv4 only, said */
		memset(tc.v6, 0, sizeof(tc.v6));
		if (tun_setup(f->ifname, &tc) == -1) {
			log_errorx("%s: cannot set up the mesh interface "
			    "(punchd needs CAP_NET_ADMIN until then)",
			    f->ifname);
			return -1;
		}
		log_warnx("%s: IPv4 only: the IPv6 address was refused",
		    f->ifname);
	}
	f->v4 = f->self->v4;
	f->up = 1;
	iface_addr_str(f->self, a4, a6);
	log_notice("mesh interface %s up: %s/%d %s/%d, mtu %d", f->ifname, a4,
	    MESHADDR_V4_PLEN, a6, MESHADDR_V6_PLEN, tc.mtu);
	if (tun_have_admin() && tun_drop_admin() == 0)
		log_info("CAP_NET_ADMIN dropped");
	ev_io_start(pd->loop, &f->io);
	return 0;
}

/* The member table as of now; set-up once the mesh is known. */
static void
iface_sync(struct iface *f)
{
	struct punchd			*pd = f->pd;
	crypto_generichash_state	 st;
	uint8_t				 mesh_id[MESHADDR_MESH_ID_LEN], sig[16];
	size_t				 n;

	f->synced_at = punchd_now(pd);
	if (iface_mesh_id(pd, mesh_id) == -1)
		return;
	meshpin_self(pd);
	n = iface_collect(f);
	crypto_generichash_init(&st, mesh_id, sizeof(mesh_id), sizeof(sig));
	crypto_generichash_update(&st, (const uint8_t *)f->ids,
	    n * MESHADDR_NODE_ID_LEN);
	crypto_generichash_update(&st, (const uint8_t *)f->pins,
	    n * sizeof(*f->pins));
	crypto_generichash_final(&st, sig, sizeof(sig));
	if (f->self != NULL && !memcmp(sig, f->sig, sizeof(sig)))
		return;
	if (meshaddr_table_build_pinned(&f->t, mesh_id,
	    (const uint8_t (*)[MESHADDR_NODE_ID_LEN])f->ids, f->pins,
	    n) == -1) {
		log_warnx("mesh interface: cannot build the member table");
		return;
	}
	if (pd->mesh.have)
		meshpin_check(pd, &f->t);
	memcpy(f->sig, sig, sizeof(sig));
	f->self = meshaddr_by_node(&f->t, pd->node_id);
	log_debug("mesh interface: %zu members", n);
	if (!f->up) {
		memcpy(f->mesh_id, mesh_id, sizeof(mesh_id));
		iface_setup(f);
	} else if (!f->moved_said && (f->self->v4 != f->v4 ||
	    memcmp(mesh_id, f->mesh_id, sizeof(mesh_id)) != 0)) {
		f->moved_said = 1;
		log_warnx("mesh interface %s: this node's mesh address changed "
		    "(%s); the device keeps the old one until punchd restarts",
		    f->ifname, memcmp(mesh_id, f->mesh_id, sizeof(mesh_id)) ?
		    "another mesh" : "IPv4 pin clash");
	}
}

static void
iface_resync(struct iface *f)
{
	if (punchd_now(f->pd) - f->synced_at >= IFACE_RESYNC)
		iface_sync(f);
}


/* the names for the resolver: while this node is in a mesh */
static void
iface_hosts(struct iface *f)
{
	uint8_t id[MESHADDR_MESH_ID_LEN];

	if (f->self == NULL || iface_mesh_id(f->pd, id) == -1)
		hostsfile_remove(&f->hosts);
	else
		hostsfile_update(&f->hosts, f->pd, &f->t, f->ifname);
}

static void
iface_tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	iface_sync(w->data);
	iface_hosts(w->data);
}

const char *
iface_each(struct punchd *pd, void (*fn)(void *,
    const struct meshaddr_member *), void *arg, int *n)
{
	struct iface	*f = pd->iface;
	size_t		 i;

	*n = 0;
	if (f == NULL)
		return NULL;
	iface_resync(f);
	for (i = 0; f->self != NULL && i < f->t.n; i++)
		fn(arg, &f->t.m[i]);
	*n = f->self != NULL ? (int)f->t.n : 0;
	return f->ifname;
}

/* The device, with offloads when configured and the kernel agrees. */
static int
iface_open(struct punchd *pd, char *ifname, int *vnet)
{
	int fd, r;

	*vnet = 0;
	if (pd->cfg.tun_offload) {
		if ((fd = tun_open(pd->cfg.tun_name, TUN_F_VNET, ifname)) == -1)
			return -1;
		if ((r = tun_offload(fd)) != -1) {
			*vnet = 1 + r;	/* 2: UDP too */
			if (r == 0)
				log_info("%s: TCP offloads only (no UDP "
				    "segmentation offload before Linux 6.2)",
				    ifname);
			return fd;
		}
		close(fd);
		log_info("%s: no offloads from this kernel: one packet per "
		    "read and write", ifname);
	}
	return tun_open(pd->cfg.tun_name, 0, ifname);
}

int
iface_start(struct punchd *pd)
{
	struct iface	*f;
	int		 i, vnet;

	if (!pd->cfg.tun) {
		hostsfile_clean();
		return 0;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->ids = calloc(IFACE_MAX_IDS, sizeof(*f->ids))) == NULL ||
	    (f->pins = calloc(IFACE_MAX_IDS, sizeof(*f->pins))) == NULL) {
		log_warn("%s", __func__);
		goto fail;
	}
	f->pd = pd;
	if ((f->fd = iface_open(pd, f->ifname, &vnet)) == -1) {
		log_errorx("tun = yes: cannot create %s (punchd needs "
		    "CAP_NET_ADMIN and /dev/net/tun: docs/mesh-interface.md)",
		    pd->cfg.tun_name);
		goto fail;
	}
	if (vnet && iface_io_vnet(f, vnet == 2) == -1) {
		log_warn("%s", __func__);
		close(f->fd);
		goto fail;
	}
	f->resync = iface_resync;
	for (i = 0; i < IFACE_BATCH; i++)
		f->bufs[i] = f->buf[i];
	ev_io_init(&f->io, iface_io_cb, f->fd, EV_READ);
	f->io.data = f;
	ev_timer_init(&f->tick, iface_tick_cb, IFACE_TICK, IFACE_TICK);
	f->tick.data = f;
	ev_timer_start(pd->loop, &f->tick);
	pd->iface = f;
	strlcpy(pd->tun_ifname, f->ifname, sizeof(pd->tun_ifname));
	pd->tun_ifindex = (int)if_nametoindex(f->ifname);
	pd->hooks.ip = iface_in;
	hostsfile_init(&f->hosts);
	iface_sync(f);
	iface_hosts(f);
	if (!f->up)
		log_info("mesh interface %s: addresses once this node is in a "
		    "mesh (meshctl init or join)", f->ifname);
	return 0;
fail:
	if (f != NULL) {
		free(f->ids);
		free(f->pins);
	}
	free(f);
	return -1;
}

void
iface_stop(struct punchd *pd)
{
	struct iface *f = pd->iface;

	if (f == NULL)
		return;
	pd->hooks.ip = NULL;
	iface_io_vnet_free(f);
	ev_io_stop(pd->loop, &f->io);
	ev_timer_stop(pd->loop, &f->tick);
	hostsfile_remove(&f->hosts);
	close(f->fd);
	meshaddr_table_free(&f->t);
	free(f->ids);
	free(f->pins);
	free(f);
	pd->iface = NULL;
	pd->tun_ifname[0] = '\0';
	pd->tun_ifindex = 0;
}
