/*
 * meshctl ping PEER [-c N]: PING/PONG round trips over the peer's current
 * path, through punchd (which also feeds them into the path's RTT).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/mpack.h"
#include "meshctl.h"

int
cmd_ping(int argc, char **argv)
{
	struct ipc_sync		*s;
	struct ipc_msg		 m;
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	const msgpack_object	*rtts, *v;
	char			 ep[80] = "-", *end;
	const char		*peer = NULL;
	double			 min = 0, max = 0, sum = 0;
	int64_t			 sent = 0, lost = 0;
	long			 count = 3;
	uint32_t		 i;
	int			 a, r;

	argc = meshctl_strip_common(argc, argv);
	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--help") || !strcmp(argv[a], "-h")) {
			printf("usage: meshctl ping [--json] [-c N] PEER\n\n"
			    "N (1..16, default 3) round trips to PEER over its "
			    "current path.\nExit status 1 when none came "
			    "back.\n");
			return EXIT_OK;
		} else if (!strcmp(argv[a], "-c") && a + 1 < argc) {
			count = strtol(argv[++a], &end, 10);
			if (*end != '\0' || count < 1 || count > 16)
				goto usage;
		} else if (peer == NULL && argv[a][0] != '-')
			peer = argv[a];
		else
			goto usage;
	}
	if (peer == NULL)
		goto usage;
	meshctl_params(&sb, &pk, 2);
	mpack_kv_str(&pk, "peer", peer);
	mpack_kv_int(&pk, "count", count);
	r = meshctl_punchd("peer.ping", &sb, meshctl.timeout_ms +
	    (int)count * 200 + 2000, &s, &m);
	msgpack_sbuffer_destroy(&sb);
	if (r != EXIT_OK)
		return r;
	if (meshctl.json) {
		meshctl_print_json(mpack_to_json(m.result));
		ipc_sync_close(s);
		return EXIT_OK;
	}
	mpack_get_str(m.result, "endpoint", ep, sizeof(ep));
	mpack_get_int(m.result, "sent", &sent);
	mpack_get_int(m.result, "lost", &lost);
	rtts = mpack_get(m.result, "rtt_ms");
	for (i = 0; rtts != NULL && rtts->type == MSGPACK_OBJECT_ARRAY &&
	    i < rtts->via.array.size; i++) {
		v = &rtts->via.array.ptr[i];
		if (v->type != MSGPACK_OBJECT_FLOAT64)
			continue;
		printf("reply from %s (%s): time=%.3f ms\n", peer, ep,
		    v->via.f64);
		if (i == 0 || v->via.f64 < min)
			min = v->via.f64;
		if (v->via.f64 > max)
			max = v->via.f64;
		sum += v->via.f64;
	}
	printf("--- %s: %lld sent, %lld lost", peer, (long long)sent,
	    (long long)lost);
	if (sent > lost)
		printf(", rtt min/avg/max %.3f/%.3f/%.3f ms", min,
		    sum / (sent - lost), max);
	printf("\n");
	ipc_sync_close(s);
	return sent > lost ? EXIT_OK : EXIT_FAIL;
usage:
	fprintf(stderr, "usage: meshctl ping [--json] [-c N] PEER\n");
	return EXIT_USAGE;
}
