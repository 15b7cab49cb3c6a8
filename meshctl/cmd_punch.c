/*
 * meshctl punch PEER HOST:PORT...: the manual flow (altair's
 * `connect --peer`): run it on both sides at about the same time, each
 * naming the other's public endpoint; it reports the path that won.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/mpack.h"
#include "meshctl.h"

static void
punch_usage(FILE *f)
{
	fprintf(f, "usage: meshctl punch [--json] [-w MS] PEER HOST:PORT "
	    "[HOST:PORT ...]\n");
}

int
cmd_punch(int argc, char **argv)
{
	struct ipc_sync	*s;
	struct ipc_msg	 m;
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	char		 st[32] = "", ep[80] = "-", id[40] = "";
	double		 elapsed = 0, rtt = 0;
	long		 wait = 10000;
	char		*end;
	int		 i, n, r, first = 2;

	argc = meshctl_strip_common(argc, argv);
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		punch_usage(stdout);
		printf("\nPunch a direct UDP path to PEER (a name of your "
		    "choice or its node id) at the\ngiven endpoints, in "
		    "order. Run it on both sides within the wait (default "
		    "10 s).\nExit status 1 when no path answered.\n");
		return EXIT_OK;
	}
	/* -w anywhere; the rest is PEER then endpoints */
	for (i = 1, n = 0; i < argc; i++) {
		if ((!strcmp(argv[i], "-w") || !strcmp(argv[i], "--wait")) &&
		    i + 1 < argc) {
			wait = strtol(argv[++i], &end, 10);
			if (*end != '\0' || wait < 1 || wait > 600000) {
				punch_usage(stderr);
				return EXIT_USAGE;
			}
		} else
			argv[1 + n++] = argv[i];
	}
	argc = 1 + n;
	if (argc < 3) {
		punch_usage(stderr);
		return EXIT_USAGE;
	}
	meshctl_params(&sb, &pk, 4);
	mpack_kv_str(&pk, "peer", argv[1]);
	mpack_kv_str(&pk, "endpoint", argv[first]);
	mpack_key(&pk, "candidates");
	msgpack_pack_array(&pk, argc - first - 1);
	for (i = first + 1; i < argc; i++)
		mpack_pack_str(&pk, argv[i]);
	mpack_kv_int(&pk, "timeout_ms", wait);
	r = meshctl_punchd("peer.punch", &sb, (int)wait + 2000, &s, &m);
	msgpack_sbuffer_destroy(&sb);
	if (r != EXIT_OK)
		return r;
	if (meshctl.json)
		meshctl_print_json(mpack_to_json(m.result));
	else {
		mpack_get_str(m.result, "state", st, sizeof(st));
		mpack_get_str(m.result, "endpoint", ep, sizeof(ep));
		mpack_get_str(m.result, "id", id, sizeof(id));
		if (mpack_get(m.result, "elapsed_ms") != NULL &&
		    mpack_get(m.result, "elapsed_ms")->type ==
		    MSGPACK_OBJECT_FLOAT64)
			elapsed = mpack_get(m.result, "elapsed_ms")->via.f64;
		if (mpack_get(m.result, "rtt_ms") != NULL &&
		    mpack_get(m.result, "rtt_ms")->type ==
		    MSGPACK_OBJECT_FLOAT64)
			rtt = mpack_get(m.result, "rtt_ms")->via.f64;
		printf("%s: %s via %s (node %s) in %.0f ms", argv[1], st, ep,
		    id, elapsed);
		if (rtt > 0)
			printf(", rtt %.2f ms", rtt);
		printf("\n");
	}
	ipc_sync_close(s);
	return EXIT_OK;
}
