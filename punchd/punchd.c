/*
 * punchd: the node's UDP socket, authenticated hole punching, keep-alive,
 * path health and the data path for local applications.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "common/daemon.h"
#include "common/log.h"
#include "common/paths.h"
#include "control.h"
#include "node.h"
#include "punchd.h"

#define MAX_OVERRIDES	64

static struct punchd	 punchd;
static const char	*overrides[MAX_OVERRIDES];
static int		 noverrides;
static int		 cfg_explicit;

static void
usage(FILE *f)
{
	fprintf(f,
"usage: punchd [-hnqv] [-f config] [-s socket] [-p port] [-o section.key=value]\n"
"\n"
"Authenticated UDP hole punching, keep-alive, path health and a datagram\n"
"service between the nodes of a mesh, for Atmosphere's meshctl.\n"
"\n"
"  -f, --config FILE   configuration (default /etc/atmosphere/atmosphere.conf,\n"
"                      or $ATMOSPHERE_CONFIG; optional unless given here)\n"
"  -o KEY=VALUE        override one [punchd] key, e.g.\n"
"                      -o punchd.keepalive_interval=500ms\n"
"  -s, --socket PATH   IPC socket (default $RUNTIME_DIRECTORY/punchd.sock)\n"
"  -p, --port PORT     UDP port (punchd.port, default 7777)\n"
"  -n                  check the configuration, print \"configuration OK\", exit\n"
"  -v / -q             more / less logging (repeatable)\n"
"      --help-config   list every configuration key\n"
"  -h, --help          this help\n"
"\n"
"Exit status: 0 clean shutdown, 1 start-up failure, 2 usage or configuration error.\n");
}

static int
load_config(struct punchd_config *cfg, char *err, size_t errlen)
{
	int i;

	punchd_config_defaults(cfg);
	if (punchd_config_load(cfg, punchd.cfgpath, !cfg_explicit, err,
	    errlen) == -1)
		return -1;
	for (i = 0; i < noverrides; i++)
		if (punchd_config_override(cfg, overrides[i], err, errlen)
		    == -1)
			return -1;
	return punchd_config_check(cfg, err, errlen);
}

/*
 * SIGHUP: timers and limits apply to the next punch and keep-alive round
 * (paths already up are re-timed), relays to the next session; the keys
 * punchd_config_keep() names need a restart and keep their running value.
 */
static void
reload(void *arg)
{
	struct punchd		*pd = arg;
	struct punchd_config	 cfg;
	char			 err[512];
	int			 ka;

	if (load_config(&cfg, err, sizeof(err)) == -1) {
		log_errorx("reload refused, keeping the running configuration: "
		    "%s", err);
		return;
	}
	punchd_config_keep(&cfg, &pd->cfg, pd->cfgpath);
	ka = cfg.keepalive_interval_ms != pd->cfg.keepalive_interval_ms ||
	    cfg.warn_after != pd->cfg.warn_after ||
	    cfg.dead_after != pd->cfg.dead_after;
	pd->cfg = cfg;
	/* relay sessions opened from now on use the new list */
	strlcpy(pd->relay_urls, getenv("ATMOSPHERE_RELAY_URL") != NULL ?
	    getenv("ATMOSPHERE_RELAY_URL") : pd->cfg.relay_url,
	    sizeof(pd->relay_urls));
	node_reload(pd, ka);
	control_reload(pd);
	log_info("configuration reloaded");
}

static int
parse_args(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config",	 required_argument, NULL, 'f' },
		{ "socket",	 required_argument, NULL, 's' },
		{ "port",	 required_argument, NULL, 'p' },
		{ "help",	 no_argument,	    NULL, 'h' },
		{ "help-config", no_argument,	    NULL, 1 },
		{ NULL, 0, NULL, 0 }
	};
	static char	 portopt[64];
	int		 ch, check = 0;

	while ((ch = getopt_long(argc, argv, "f:hno:p:qs:v", longopts, NULL))
	    != -1) {
		switch (ch) {
		case 'f':
			strlcpy(punchd.cfgpath, optarg, sizeof(punchd.cfgpath));
			cfg_explicit = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'n':
			check = 1;
			break;
		case 'o':
		case 'p':
			if (noverrides == MAX_OVERRIDES)
				fatalx("too many -o options");
			if (ch == 'p') {
				snprintf(portopt, sizeof(portopt),
				    "punchd.port=%s", optarg);
				optarg = portopt;
			}
			overrides[noverrides++] = optarg;
			break;
		case 'q':
			log_verbose(-1);
			break;
		case 's':
			strlcpy(punchd.sockpath, optarg,
			    sizeof(punchd.sockpath));
			break;
		case 'v':
			log_verbose(1);
			break;
		case 1:
			printf("[punchd] keys:\n");
			punchd_config_usage();
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind != argc) {
		usage(stderr);
		exit(2);
	}
	return check;
}

static void
socket_path(struct punchd *pd)
{
	char dir[256];

	if (pd->sockpath[0] == '\0' && pd->cfg.socket[0] != '\0')
		strlcpy(pd->sockpath, pd->cfg.socket, sizeof(pd->sockpath));
	if (pd->sockpath[0] != '\0')
		return;
	if (paths_runtime_dir(dir, sizeof(dir)) == -1 ||
	    paths_mkdir(dir, 0750) == -1)
		fatal("runtime directory %s", dir);
	if (paths_socket("punchd", pd->sockpath, sizeof(pd->sockpath)) == -1)
		fatalx("socket path too long");
}

int
main(int argc, char *argv[])
{
	struct punchd		*pd = &punchd;
	struct daemon_ctx	 dctx;
	char			 err[512];
	int			 check;

	log_init("punchd", LOG_LVL_INFO);
	if (paths_config_file(pd->cfgpath, sizeof(pd->cfgpath)) == -1)
		fatalx("configuration path too long");
	check = parse_args(argc, argv);
	if (load_config(&pd->cfg, err, sizeof(err)) == -1) {
		log_errorx("%s", err);
		exit(2);
	}
	if (check) {
		printf("configuration OK\n");
		exit(0);
	}
	if (punchd_config_identity(pd, err, sizeof(err)) == -1) {
		log_errorx("%s", err);
		exit(1);
	}
	socket_path(pd);
	strlcpy(pd->relay_urls, getenv("ATMOSPHERE_RELAY_URL") != NULL ?
	    getenv("ATMOSPHERE_RELAY_URL") : pd->cfg.relay_url,
	    sizeof(pd->relay_urls));

	pd->loop = EV_DEFAULT;
	pd->started = ev_now(pd->loop);
	node_init(pd);
	if (sock_open(pd) == -1)
		exit(1);
	if (control_init(pd, pd->sockpath) == -1)
		exit(1);
	node_start(pd);
	daemon_init(&dctx, pd->loop, NULL, reload, pd);
	log_info("ready: node %s, UDP port %d, IPC %s", pd->node_idstr,
	    pd->cfg.port, pd->sockpath);
	daemon_ready(&dctx, "node %s, UDP port %d", pd->node_idstr,
	    pd->cfg.port);

	ev_run(pd->loop, 0);

	daemon_stopping(&dctx);
	control_stop_metrics(pd);
	node_stop(pd);
	control_fini(pd);
	sock_close(pd);
	daemon_fini(&dctx);
	ev_loop_destroy(pd->loop);
	log_info("terminating");
	return 0;
}
