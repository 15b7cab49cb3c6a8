/*
 * The gateway's mapping of punchd's UDP port (the port-mapping layer,
 * portmap*.c, below; docs/portmap.md): started once the socket is bound,
 * restarted when a reload changes punchd.portmap, stopped at shutdown,
 * which deletes the mapping on the gateway.
 *
 * What the layer reports becomes the node's candidate of type `mapped`
 * (pd->mapped): reachable from anywhere, so it ranks just below host,
 * goes to peers in the relay's candidate exchange, and is the public
 * endpoint of the invites minted while it is held; peers met on a relay
 * without a direct path hear of it at once. A lost mapping is withdrawn at
 * once; the layer maps again by itself and reports anew.
 */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "punchd.h"
#include "node.h"
#include "portmap.h"

static void
node_portmap_mapped(void *arg, const struct portmap_mapping *m)
{
	struct punchd	*pd = arg;
	char		 a[80];

	memset(&pd->mapped, 0, sizeof(pd->mapped));
	memcpy(&pd->mapped, &m->ext, sizeof(m->ext));
	pd->has_mapped = 1;
	netaddr_str((struct sockaddr *)&pd->mapped, a, sizeof(a));
	log_notice("mapped candidate %s (%s, lease %u s)", a,
	    portmap_proto_name(m->proto), (unsigned)m->lease);
	peer_changed(pd);
	relay_signal_all(pd);	/* a relayed pair may go direct through it */
}

static void
node_portmap_lost(void *arg, enum portmap_proto p, const char *why)
{
	struct punchd *pd = arg;

	if (!pd->has_mapped)
		return;
	pd->has_mapped = 0;
	log_notice("mapped candidate withdrawn (%s: %s)",
	    portmap_proto_name(p), why);
	peer_changed(pd);
}

static void
node_portmap_failed(void *arg, enum portmap_proto p, const char *reason)
{
	(void)arg;
	log_info("no mapped candidate from %s: %s", portmap_proto_name(p),
	    reason);
}

static const struct portmap_cb node_portmap_cb = {
	.mapped_cb = node_portmap_mapped,
	.lost_cb = node_portmap_lost,
	.failed_cb = node_portmap_failed,
};

void
node_portmap_start(struct punchd *pd)
{
	enum portmap_mode mode;

	if (portmap_mode_parse(pd->cfg.portmap, &mode) == -1 ||
	    mode == PORTMAP_NO)
		return;		/* the config check refused a bad value */
	if ((pd->pm = calloc(1, sizeof(*pd->pm))) == NULL) {
		log_warn("%s: no port mapping", __func__);
		return;
	}
	portmap_init(pd->pm);
	if (portmap_start(pd->pm, pd->loop, pd->cfg.port, mode,
	    &node_portmap_cb, pd) == -1) {
		log_warnx("port mapping (%s) could not start",
		    portmap_mode_name(mode));
		free(pd->pm);
		pd->pm = NULL;
		return;
	}
	log_info("port mapping of UDP %d: %s", pd->cfg.port,
	    portmap_mode_name(mode));
}

void
node_portmap_stop(struct punchd *pd)
{
	if (pd->pm == NULL)
		return;
	portmap_stop(pd->pm);	/* deletes the mapping on the gateway */
	free(pd->pm);
	pd->pm = NULL;
	pd->has_mapped = 0;
}

/* SIGHUP: another mode is a new start (the old mapping deleted first) */
void
node_portmap_reload(struct punchd *pd, const char *before)
{
	if (strcmp(before, pd->cfg.portmap) == 0)
		return;
	log_info("portmap: %s -> %s", before, pd->cfg.portmap);
	node_portmap_stop(pd);
	node_portmap_start(pd);
}
