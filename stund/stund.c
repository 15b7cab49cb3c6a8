/*
 * stund: STUN discovery, NAT behaviour discovery, optional STUN server.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "common/daemon.h"
#include "common/log.h"
#include "common/paths.h"
#include "control.h"
#include "discover.h"
#include "natbehav.h"
#include "probe.h"
#include "server.h"
#include "stund.h"

#define MAX_OVERRIDES	64

static struct stund	 stund;
static const char	*overrides[MAX_OVERRIDES];
static int		 noverrides;
static int		 cfg_explicit;

static void
usage(FILE *f)
{
	fprintf(f,
"usage: stund [-hnqv] [-f config] [-s socket] [-o section.key=value]\n"
"             [--server] [--listen IP:PORT] [--alt-ip IP] [--alt-port PORT]\n"
"             [--servers HOST:PORT,...]\n"
"\n"
"STUN discovery (RFC 8489), NAT behaviour discovery (RFC 5780) and an\n"
"optional STUN server, for Atmosphere's punchd and meshctl.\n"
"\n"
"  -f, --config FILE   configuration (default /etc/atmosphere/atmosphere.conf,\n"
"                      or $ATMOSPHERE_CONFIG; optional unless given here)\n"
"  -o KEY=VALUE        override one [stund] key, e.g. -o stund.timeout=2s\n"
"  -s, --socket PATH   IPC socket (default $RUNTIME_DIRECTORY/stund.sock)\n"
"      --server        answer STUN Binding requests (stund.server=yes)\n"
"      --listen ADDR   server address (stund.listen, default 0.0.0.0:3478)\n"
"      --alt-ip IP     RFC 5780 alternate IP (stund.alt_ip)\n"
"      --alt-port PORT RFC 5780 alternate port (stund.alt_port)\n"
"      --servers LIST  STUN servers to query (stund.servers; \"none\")\n"
"  -n                  check the configuration, print \"configuration OK\", exit\n"
"  -v / -q             more / less logging (repeatable)\n"
"      --help-config   list every configuration key\n"
"  -h, --help          this help\n"
"\n"
"Exit status: 0 clean shutdown, 1 start-up failure, 2 usage or configuration error.\n");
}

static int
load_config(struct stund_config *cfg, char *err, size_t errlen)
{
	int i;

	stund_config_defaults(cfg);
	if (stund_config_load(cfg, stund.cfgpath, !cfg_explicit, err,
	    errlen) == -1)
		return -1;
	for (i = 0; i < noverrides; i++)
		if (stund_config_override(cfg, overrides[i], err, errlen) == -1)
			return -1;
	return stund_config_check(cfg, err, errlen);
}

static void
reload(void *arg)
{
	struct stund		*sd = arg;
	struct stund_config	 cfg, old = sd->cfg;
	char			 err[512];
	int			 server_changed;

	if (load_config(&cfg, err, sizeof(err)) == -1) {
		log_errorx("reload refused, keeping the running configuration: "
		    "%s", err);
		return;
	}
	stund_config_keep(&cfg, &old, sd->cfgpath);
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

static int
parse_args(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config",	required_argument, NULL, 'f' },
		{ "socket",	required_argument, NULL, 's' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ "server",	no_argument,	   NULL, 1 },
		{ "listen",	required_argument, NULL, 2 },
		{ "alt-ip",	required_argument, NULL, 3 },
		{ "alt-port",	required_argument, NULL, 4 },
		{ "servers",	required_argument, NULL, 5 },
		{ "help-config", no_argument,	   NULL, 6 },
		{ NULL, 0, NULL, 0 }
	};
	static char	 buf[MAX_OVERRIDES][300];
	const char	*key;
	int		 ch, check = 0;

	while ((ch = getopt_long(argc, argv, "f:hno:qs:v", longopts, NULL))
	    != -1) {
		key = NULL;
		switch (ch) {
		case 'f':
			strlcpy(stund.cfgpath, optarg, sizeof(stund.cfgpath));
			cfg_explicit = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'n':
			check = 1;
			break;
		case 'o':
			if (noverrides == MAX_OVERRIDES)
				fatalx("too many -o options");
			overrides[noverrides++] = optarg;
			break;
		case 'q':
			log_verbose(-1);
			break;
		case 's':
			strlcpy(stund.sockpath, optarg, sizeof(stund.sockpath));
			break;
		case 'v':
			log_verbose(1);
			break;
		case 1:
			key = "server";
			optarg = "yes";
			break;
		case 2:
			key = "listen";
			break;
		case 3:
			key = "alt_ip";
			break;
		case 4:
			key = "alt_port";
			break;
		case 5:
			key = "servers";
			break;
		case 6:
			printf("[stund] keys:\n");
			stund_config_usage();
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
		if (key != NULL) {
			if (noverrides == MAX_OVERRIDES)
				fatalx("too many options");
			snprintf(buf[noverrides], sizeof(buf[0]), "stund.%s=%s",
			    key, optarg);
			overrides[noverrides] = buf[noverrides];
			noverrides++;
		}
	}
	if (optind != argc) {
		usage(stderr);
		exit(2);
	}
	return check;
}

int
main(int argc, char *argv[])
{
	struct stund		*sd = &stund;
	struct daemon_ctx	 dctx;
	char			 err[512], dir[256];
	const struct promtext_help *help;
	size_t			 n;
	int			 check;

	log_init("stund", LOG_LVL_INFO);
	if (paths_config_file(sd->cfgpath, sizeof(sd->cfgpath)) == -1)
		fatalx("configuration path too long");
	check = parse_args(argc, argv);
	if (load_config(&sd->cfg, err, sizeof(err)) == -1) {
		log_errorx("%s", err);
		exit(2);
	}
	if (stund_config_servers(sd, err, sizeof(err)) == -1) {
		log_errorx("%s", err);
		exit(2);
	}
	if (check) {
		printf("configuration OK\n");
		exit(0);
	}
	if (sd->sockpath[0] == '\0' && sd->cfg.socket[0] != '\0')
		strlcpy(sd->sockpath, sd->cfg.socket, sizeof(sd->sockpath));
	if (sd->sockpath[0] == '\0') {
		if (paths_runtime_dir(dir, sizeof(dir)) == -1 ||
		    paths_mkdir(dir, 0750) == -1)
			fatal("runtime directory %s", dir);
		if (paths_socket("stund", sd->sockpath,
		    sizeof(sd->sockpath)) == -1)
			fatalx("socket path too long");
	}

	sd->loop = EV_DEFAULT;
	sd->started = ev_now(sd->loop);
	probe_engine_init(&sd->probes, sd->loop, sd->cfg.rto_ms / 1000.0);
	if (discover_init(sd) == -1 || natbehav_init(sd) == -1)
		fatalx("out of memory");
	if (sd->cfg.server && server_init(sd) == -1)
		exit(1);
	if (control_init(sd, sd->sockpath) == -1)
		exit(1);
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
	log_info("terminating");
	return 0;
}
