/*
 * meshctl peers: punchd's peers with state, path, endpoint, RTT, loss and
 * last seen.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "common/mpack.h"
#include "meshctl.h"

static void
peers_col(const msgpack_object *o, const char *k, char *buf, size_t len,
    int what)
{
	const msgpack_object	*v = mpack_get(o, k);
	char			 d[32];

	snprintf(buf, len, "-");
	if (v == NULL || v->type == MSGPACK_OBJECT_NIL)
		return;
	if (v->type == MSGPACK_OBJECT_STR)
		mpack_str_copy(v, buf, len);
	else if (v->type == MSGPACK_OBJECT_FLOAT64 && what == 'm')
		snprintf(buf, len, "%.2fms", v->via.f64);
	else if (v->type == MSGPACK_OBJECT_FLOAT64 && what == '%')
		snprintf(buf, len, "%.0f%%", v->via.f64 * 100);
	else if (v->type == MSGPACK_OBJECT_FLOAT64 && what == 's')
		snprintf(buf, len, "%s ago", meshctl_duration(v->via.f64, d,
		    sizeof(d)));
}

/* meshctl peers remove ID: forget a peer (and the member) */
static int
peers_remove(int argc, char **argv)
{
	struct ipc_sync	*s;
	struct ipc_msg	 m;
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	int		 r;

	if (argc != 2) {
		fprintf(stderr, "usage: meshctl peers remove ID|NAME\n");
		return EXIT_USAGE;
	}
	meshctl_params(&sb, &pk, 1);
	mpack_kv_str(&pk, "peer", argv[1]);
	r = meshctl_punchd("peer.remove", &sb, meshctl.timeout_ms, &s, &m);
	msgpack_sbuffer_destroy(&sb);
	if (r != EXIT_OK)
		return r;
	if (!meshctl.json)
		printf("removed %s\n", argv[1]);
	else
		printf("{\"removed\": \"%s\"}\n", argv[1]);
	ipc_sync_close(s);
	return EXIT_OK;
}

int
cmd_peers(int argc, char **argv)
{
	struct ipc_sync		*s;
	struct ipc_msg		 m;
	const msgpack_object	*row;
	char			 c[8][80], err[400], hint[200];
	uint32_t		 i;
	int			 r;

	argc = meshctl_strip_common(argc, argv);
	if (argc > 1 && !strcmp(argv[1], "remove"))
		return peers_remove(argc - 1, argv + 1);
	if (argc > 1) {
		if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
			printf("usage: meshctl peers [--json]\n"
			    "       meshctl peers remove ID|NAME\n\n"
			    "punchd's peers: node id or name, state (new, "
			    "punching, direct, relayed,\ndegraded, down), path, "
			    "endpoint, smoothed RTT, loss, last packet.\n");
			return EXIT_OK;
		}
		fprintf(stderr, "usage: meshctl peers [--json]\n");
		return EXIT_USAGE;
	}
	if ((r = meshctl_punchd("peer.list", NULL, meshctl.timeout_ms, &s,
	    &m)) != EXIT_OK)
		return r;
	if (meshctl.json) {
		meshctl_print_json(mpack_to_json(m.result));
		ipc_sync_close(s);
		return EXIT_OK;
	}
	printf("%-16s %-16s %-9s %-6s %-22s %-9s %-5s %s\n", "PEER", "ID",
	    "STATE", "PATH", "ENDPOINT", "RTT", "LOSS", "LAST SEEN");
	for (i = 0; m.result->type == MSGPACK_OBJECT_ARRAY &&
	    i < m.result->via.array.size; i++) {
		row = &m.result->via.array.ptr[i];
		peers_col(row, "name", c[0], sizeof(c[0]), 0);
		peers_col(row, "id", c[1], sizeof(c[1]), 0);
		peers_col(row, "state", c[2], sizeof(c[2]), 0);
		peers_col(row, "path", c[3], sizeof(c[3]), 0);
		peers_col(row, "endpoint", c[4], sizeof(c[4]), 0);
		peers_col(row, "rtt_ms", c[5], sizeof(c[5]), 'm');
		peers_col(row, "loss", c[6], sizeof(c[6]), '%');
		peers_col(row, "last_seen_s", c[7], sizeof(c[7]), 's');
		/* a relay-only member says why: "browser: no UDP" */
		if (mpack_get_str(row, "reason", err, sizeof(err)) != 0)
			err[0] = '\0';
		printf("%-16s %-16s %-9s %-6s %-22s %-9s %-5s %s%s%s%s\n",
		    strcmp(c[0], "-") ? c[0] : c[1], c[1], c[2], c[3], c[4],
		    c[5], c[6], c[7], err[0] ? " (" : "", err,
		    err[0] ? ")" : "");
		/* why the relay will not carry this peer, and what to do */
		if (mpack_get_str(row, "relay_error", err, sizeof(err)) == 0) {
			if (mpack_get_str(row, "relay_hint", hint,
			    sizeof(hint)) != 0)
				hint[0] = '\0';
			printf("  %s%s%s\n", err,
			    hint[0] ? ": " : "", hint);
		}
	}
	ipc_sync_close(s);
	return EXIT_OK;
}
