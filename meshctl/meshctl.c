/*
 * meshctl: the command table and the options every command shares.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/log.h"
#include "common/mpack.h"
#include "common/paths.h"
#include "meshctl.h"

#define MESHCTL_VERSION	"0.1.0"

static const struct {
	const char	*name;
	int		(*fn)(int, char **);
	const char	*help;
} commands[] = {
	{ "status",	cmd_status,	"every daemon: up or down, pid, uptime, counters" },
	{ "metrics",	cmd_metrics,	"every daemon's counters in Prometheus text format" },
	{ "network",	cmd_network,	"public endpoint, NAT type, STUN servers (stund)" },
	{ "peers",	cmd_peers,	"punchd's peers: state, path, RTT, loss" },
	{ "punch",	cmd_punch,	"punch a direct path to a peer at HOST:PORT" },
	{ "ping",	cmd_ping,	"round trips to a peer over its path" },
	{ "send",	cmd_send,	"send one datagram to a peer" },
	{ "why",	cmd_why,	"why a peer's path is (not) direct, in words" },
	{ "listen",	cmd_listen,	"print datagrams (and events) from peers" },
	{ "init",	cmd_init,	"create a mesh and this node's key (punchd)" },
	{ "mesh",	cmd_mesh,	"the mesh this node is in, its key, invites" },
	{ "invite",	cmd_invite,	"invite code, URI and QR code to join the mesh" },
	{ "join",	cmd_join,	"join a mesh with an invite code or URI" },
	{ "hosts",	cmd_hosts,	"members' mesh interface addresses, /etc/hosts style" },
	{ "leave",	cmd_leave,	"leave the mesh, forget its peers" },
	{ "relays",	cmd_relays,	"punchd's relays: state, RTT, sessions on each" },
	{ "relay-test",	cmd_relaytest,	"two clients through a relay: RTT and throughput" },
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f,
"usage: meshctl [-S DIR] [-t MS] [--json] COMMAND [ARGS]\n"
"\n"
"  -S, --socket-dir DIR  where the daemons' sockets are (default\n"
"                        $RUNTIME_DIRECTORY, /run/atmosphere as root,\n"
"                        else $XDG_RUNTIME_DIR/atmosphere, then\n"
"                        /run/atmosphere)\n"
"  -t, --timeout MS      how long to wait for a daemon (default 5000)\n"
"  -j, --json            machine-readable output\n"
"  -h, --help            this help; COMMAND --help for a command's own\n"
"  -V, --version\n"
"\n"
"Commands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (commands[i].fn != NULL)
			fprintf(f, "  %-12s %s\n", commands[i].name,
			    commands[i].help);
	fprintf(f,
"\n"
"Exit status: 0 ok, 1 the operation failed, 2 usage error,\n"
"3 a daemon it needs is not running.\n");
}

int
main(int argc, char *argv[])
{
	size_t	 i;
	char	*end;

	log_init("meshctl", LOG_LVL_WARNING);
	while (argc > 1 && argv[1][0] == '-') {
		const char *o = argv[1];

		if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
			usage(stdout);
			return EXIT_OK;
		} else if (!strcmp(o, "-V") || !strcmp(o, "--version")) {
			printf("meshctl %s\n", MESHCTL_VERSION);
			return EXIT_OK;
		} else if (!strcmp(o, "-j") || !strcmp(o, "--json")) {
			meshctl.json = 1;
		} else if ((!strcmp(o, "-S") || !strcmp(o, "--socket-dir")) &&
		    argc > 2) {
			if (strlcpy(meshctl.sockdir, argv[2],
			    sizeof(meshctl.sockdir)) >= sizeof(meshctl.sockdir)) {
				fprintf(stderr, "meshctl: socket directory "
				    "path too long\n");
				return EXIT_USAGE;
			}
			argc--, argv++;
		} else if ((!strcmp(o, "-t") || !strcmp(o, "--timeout")) &&
		    argc > 2) {
			meshctl.timeout_ms = strtol(argv[2], &end, 10);
			if (*end != '\0' || meshctl.timeout_ms <= 0) {
				fprintf(stderr, "meshctl: bad timeout '%s'\n",
				    argv[2]);
				return EXIT_USAGE;
			}
			argc--, argv++;
		} else {
			fprintf(stderr, "meshctl: unknown option '%s'\n", o);
			usage(stderr);
			return EXIT_USAGE;
		}
		argc--, argv++;
	}
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (commands[i].fn != NULL && !strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "meshctl: unknown command '%s' (meshctl --help lists "
	    "them)\n", argv[1]);
	return EXIT_USAGE;
}
