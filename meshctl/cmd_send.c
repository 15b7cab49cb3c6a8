/*
 * meshctl send PEER TEXT: one datagram to a peer through punchd, over
 * whichever path is up. Larger than the path MTU is refused (too_big).
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "common/mpack.h"
#include "meshctl.h"

int
cmd_send(int argc, char **argv)
{
	struct ipc_sync	*s;
	struct ipc_msg	 m;
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	char		 path[32] = "?", health[32];
	int64_t		 bytes = 0;
	int		 r;

	argc = meshctl_strip_common(argc, argv);
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: meshctl send [--json] PEER TEXT\n\n"
		    "Send TEXT as one datagram to PEER (at most 1196 bytes, "
		    "the path MTU).\nExit status 1 when the peer has no path "
		    "or TEXT is too big.\n");
		return EXIT_OK;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: meshctl send [--json] PEER TEXT\n");
		return EXIT_USAGE;
	}
	meshctl_params(&sb, &pk, 2);
	mpack_kv_str(&pk, "peer", argv[1]);
	mpack_kv_bin(&pk, "data", argv[2], strlen(argv[2]));
	r = meshctl_punchd("peer.send", &sb, meshctl.timeout_ms, &s, &m);
	msgpack_sbuffer_destroy(&sb);
	if (r != EXIT_OK)
		return r;
	if (meshctl.json)
		meshctl_print_json(mpack_to_json(m.result));
	else {
		mpack_get_str(m.result, "path", path, sizeof(path));
		mpack_get_int(m.result, "bytes", &bytes);
		/* a path in doubt is no plain success: say so */
		if (mpack_get_str(m.result, "health", health,
		    sizeof(health)) == 0)
			printf("sent %lld bytes to %s (%s, direct path %s%s)\n",
			    (long long)bytes, argv[1], path, health,
			    strcmp(path, "direct+relay") == 0 ?
			    ": also sent through the relay" : "");
		else
			printf("sent %lld bytes to %s (%s)\n",
			    (long long)bytes, argv[1], path);
	}
	ipc_sync_close(s);
	return EXIT_OK;
}
