/*
 * stund: STUN discovery, NAT behaviour discovery, optional STUN server.
 */
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "common/daemon.h"
#include "common/log.h"
#include "common/startup.h"
#include "control.h"
#include "discover.h"
#include "natbehav.h"
#include "probe.h"
#include "server.h"
#include "stund.h"

static struct stund	 stund;
static struct startup	 startup;

/* stund's own flags: each sets one [stund] key */
static const struct startup_flag stund_flags[] = {
	{ "server", 0, NULL, "server", "yes", NULL,
	    "answer STUN Binding requests (stund.server=yes)" },
	{ "listen", 0, "ADDR", "listen", NULL, NULL,
	    "server address (stund.listen, default 0.0.0.0:3478)" },
	{ "alt-ip", 0, "IP", "alt_ip", NULL, NULL,
	    "RFC 5780 alternate IP (stund.alt_ip)" },
	{ "alt-port", 0, "PORT", "alt_port", NULL, NULL,
	    "RFC 5780 alternate port (stund.alt_port)" },
	{ "servers", 0, "LIST", "servers", NULL, NULL,
	    "STUN servers to query (stund.servers; \"none\")" },
};

static const struct startup_prog stund_prog = {
	.name = "stund",
	.synopsis =
"             [--server] [--listen IP:PORT] [--alt-ip IP] [--alt-port PORT]\n"
"             [--servers HOST:PORT,...]",
	.about =
"STUN discovery (RFC 8489), NAT behaviour discovery (RFC 5780) and an\n"
"optional STUN server, for Atmosphere's punchd and meshctl.",
	.example = "stund.timeout=2s",
	.table = &stund_config_table,
	.flags = stund_flags,
	.nflags = sizeof(stund_flags) / sizeof(stund_flags[0]),
};

static void
reload(void *arg)
{
	struct stund		*sd = arg;
	struct stund_config	 cfg, old = sd->cfg;
	char			 err[512];
	int			 server_changed;

	if (startup_reload(&startup, &cfg, &old) == -1)
		return;
	server_changed = cfg.server != old.server ||
	    strcmp(cfg.listen, old.listen) || strcmp(cfg.alt_ip, old.alt_ip) ||
	    cfg.alt_port != old.alt_port || cfg.rate_limit != old.rate_limit;
	sd->cfg = cfg;
	if (server_changed) {
		server_fini(sd);
		if (sd->cfg.server && server_init(sd) == -1) {
			log_errorx("reload: new STUN server settings failed, "
			    "restoring the previous ones");
			sd->cfg = old;
			if (old.server && server_init(sd) == -1)
				log_errorx("reload: previous STUN server could "
				    "not be restored either");
			return;
		}
	}
	if (strcmp(cfg.servers, old.servers) != 0) {
		if (stund_config_servers(sd, err, sizeof(err)) == -1) {
			log_errorx("reload: %s", err);
			return;
		}
		sd->disc->resolved_at = 0;
		discover_now(sd);
	}
	sd->probes.rto = sd->cfg.rto_ms / 1000.0;
	promfile_set(&sd->metrics, sd->cfg.metrics_file,
	    sd->cfg.metrics_interval_ms);
	log_info("configuration reloaded");
}

int
main(int argc, char *argv[])
{
	struct stund		*sd = &stund;
	struct daemon_ctx	 dctx;
	char			 err[512];
	const struct promtext_help *help;
	size_t			 n;

	startup_args(&startup, &stund_prog, argc, argv);
	startup_config(&startup, &sd->cfg);
	if (stund_config_servers(sd, err, sizeof(err)) == -1)
		startup_exit(&startup, STARTUP_EXIT_CONFIG, "%s", err);
	startup_checked(&startup);
	if (startup_socket(&startup, &sd->cfg, sd->sockpath,
	    sizeof(sd->sockpath)) == -1)
		exit(STARTUP_EXIT_FAIL);

	sd->loop = EV_DEFAULT;
	sd->started = ev_now(sd->loop);
	probe_engine_init(&sd->probes, sd->loop, sd->cfg.rto_ms / 1000.0);
	if (discover_init(sd) == -1 || natbehav_init(sd) == -1)
		fatalx("out of memory");
	if (sd->cfg.server && server_init(sd) == -1)
		exit(STARTUP_EXIT_FAIL);
	if (control_init(sd, sd->sockpath) == -1)
		exit(STARTUP_EXIT_FAIL);
	promfile_init(&sd->metrics, sd->loop, "stund", control_pack_status,
	    NULL, sd);
	help = control_counters_help(&n);
	promfile_help(&sd->metrics, help, n);
	promfile_set(&sd->metrics, sd->cfg.metrics_file,
	    sd->cfg.metrics_interval_ms);
	daemon_init(&dctx, sd->loop, NULL, reload, sd);
	log_info("ready: IPC %s, %d STUN server%s, server mode %s",
	    sd->sockpath, sd->nservers, sd->nservers == 1 ? "" : "s",
	    sd->cfg.server ? "on" : "off");
	daemon_ready(&dctx, "%d STUN servers, server mode %s", sd->nservers,
	    sd->cfg.server ? server_primary(sd) : "off");
	if (sd->nservers > 0)
		natbehav_start(sd);	/* resolves, discovers, then tests */

	ev_run(sd->loop, 0);

	daemon_stopping(&dctx);
	promfile_fini(&sd->metrics);
	control_fini(sd);
	server_fini(sd);
	natbehav_fini(sd);
	discover_fini(sd);
	probe_engine_fini(&sd->probes);
	daemon_fini(&dctx);
	ev_loop_destroy(sd->loop);
	startup_fini(&startup);
	log_info("terminating");
	return STARTUP_EXIT_OK;
}
