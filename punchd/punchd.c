/*
 * punchd: the node's UDP socket, authenticated hole punching, keep-alive,
 * path health and the data path for local applications.
 */
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "common/daemon.h"
#include "common/log.h"
#include "common/startup.h"
#include "control.h"
#include "iface.h"
#include "node.h"
#include "punchd.h"

static struct punchd	 punchd;
static struct startup	 startup;

static const struct startup_flag punchd_flags[] = {
	{ "port", 'p', "PORT", "port", NULL, NULL,
	    "UDP port (punchd.port, default 7777)" },
};

static const struct startup_prog punchd_prog = {
	.name = "punchd",
	.synopsis = "              [-p port]",
	.about =
"Authenticated UDP hole punching, keep-alive, path health and a datagram\n"
"service between the nodes of a mesh, for Atmosphere's meshctl.",
	.example = "punchd.keepalive_interval=500ms",
	.table = &punchd_config_table,
	.flags = punchd_flags,
	.nflags = sizeof(punchd_flags) / sizeof(punchd_flags[0]),
};

/*
 * SIGHUP: timers and limits apply to the next punch and keep-alive round
 * (paths already up are re-timed), relays to the next session; the keys
 * marked CONFIG_RESTART in punchd_config.c keep their running value.
 */
static void
reload(void *arg)
{
	struct punchd		*pd = arg;
	struct punchd_config	 cfg;
	char			 portmap[sizeof(cfg.portmap)];
	int			 ka;

	if (startup_reload(&startup, &cfg, &pd->cfg) == -1)
		return;
	ka = cfg.keepalive_interval_ms != pd->cfg.keepalive_interval_ms ||
	    cfg.warn_after != pd->cfg.warn_after ||
	    cfg.dead_after != pd->cfg.dead_after;
	strlcpy(portmap, pd->cfg.portmap, sizeof(portmap));
	pd->cfg = cfg;
	/* relay sessions opened from now on use the new list */
	strlcpy(pd->relay_urls, getenv("ATMOSPHERE_RELAY_URL") != NULL ?
	    getenv("ATMOSPHERE_RELAY_URL") : pd->cfg.relay_url,
	    sizeof(pd->relay_urls));
	node_reload(pd, ka);
	node_portmap_reload(pd, portmap);
	control_reload(pd);
	log_info("configuration reloaded");
}

int
main(int argc, char *argv[])
{
	struct punchd		*pd = &punchd;
	struct daemon_ctx	 dctx;
	char			 err[512];

	startup_args(&startup, &punchd_prog, argc, argv);
	startup_config(&startup, &pd->cfg);
	startup_checked(&startup);
	if (punchd_config_identity(pd, err, sizeof(err)) == -1)
		startup_exit(&startup, STARTUP_EXIT_FAIL, "%s", err);
	if (startup_socket(&startup, &pd->cfg, pd->sockpath,
	    sizeof(pd->sockpath)) == -1)
		exit(STARTUP_EXIT_FAIL);
	strlcpy(pd->relay_urls, getenv("ATMOSPHERE_RELAY_URL") != NULL ?
	    getenv("ATMOSPHERE_RELAY_URL") : pd->cfg.relay_url,
	    sizeof(pd->relay_urls));

	pd->loop = EV_DEFAULT;
	pd->started = ev_now(pd->loop);
	node_init(pd);
	if (sock_open(pd) == -1)
		exit(STARTUP_EXIT_FAIL);
	if (control_init(pd, pd->sockpath) == -1)
		exit(STARTUP_EXIT_FAIL);
	node_start(pd);
	if (iface_start(pd) == -1)
		exit(STARTUP_EXIT_FAIL);
	node_portmap_start(pd);	/* on the port just bound */
	daemon_init(&dctx, pd->loop, NULL, reload, pd);
	log_info("ready: node %s, UDP port %d, IPC %s", pd->node_idstr,
	    pd->cfg.port, pd->sockpath);
	daemon_ready(&dctx, "node %s, UDP port %d", pd->node_idstr,
	    pd->cfg.port);

	ev_run(pd->loop, 0);

	daemon_stopping(&dctx);
	control_stop_metrics(pd);
	iface_stop(pd);
	node_stop(pd);
	control_fini(pd);
	sock_close(pd);
	daemon_fini(&dctx);
	ev_loop_destroy(pd->loop);
	startup_fini(&startup);
	log_info("terminating");
	return 0;
}
