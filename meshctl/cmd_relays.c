/*
 * meshctl relays: punchd's relays (status.get relays[]), one row each: the
 * URL, what it is to this node now (connected, refused and why, down,
 * accepted, untried), the lowest WebSocket ping RTT of the pair sessions
 * on it, and how many sessions and relayed peers it carries. Which relay a
 * pair uses is rendezvous hashing over punchd.relay_url (docs/relay.md).
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "common/mpack.h"
#include "meshctl.h"

static void
relays_row(const msgpack_object *r)
{
	const msgpack_object	*ref, *rtt;
	char			 url[300], reach[16], err[64], hint[200];
	char			 rttbuf[32], state[32];
	int64_t			 n = 0, peers = 0;

	if (mpack_get_str(r, "url", url, sizeof(url)) != 0)
		return;
	/* punchd without relay_pick.c: its answer state only */
	if (mpack_get_str(r, "reach", reach, sizeof(reach)) != 0 &&
	    mpack_get_str(r, "state", reach, sizeof(reach)) != 0)
		strlcpy(reach, "?", sizeof(reach));
	mpack_get_int(r, "sessions", &n);
	mpack_get_int(r, "relayed_peers", &peers);
	rtt = mpack_get(r, "session_rtt_ms");
	if (rtt != NULL && rtt->type == MSGPACK_OBJECT_FLOAT64)
		snprintf(rttbuf, sizeof(rttbuf), "%.2fms", rtt->via.f64);
	else
		strlcpy(rttbuf, "-", sizeof(rttbuf));
	err[0] = hint[0] = state[0] = '\0';
	ref = mpack_get(r, "last_refusal");
	if (!strcmp(reach, "refused") && ref != NULL &&
	    ref->type == MSGPACK_OBJECT_MAP) {
		if (mpack_get_str(ref, "reason", state, sizeof(state)) != 0)
			state[0] = '\0';
		if (mpack_get_str(ref, "error", err, sizeof(err)) != 0)
			strlcpy(err, "?", sizeof(err));
		if (mpack_get_str(ref, "hint", hint, sizeof(hint)) != 0)
			hint[0] = '\0';
	}
	printf("%-40s %-10s %-9s %-8lld %lld\n", url, reach, rttbuf,
	    (long long)n, (long long)peers);
	/* refused: why (relayd's reason), and what to do about it */
	if (err[0] != '\0')
		printf("  refused: %s%s%s%s\n", err, state[0] ? " (" : "",
		    state, state[0] ? ")" : "");
	if (hint[0] != '\0')
		printf("  %s\n", hint);
}

int
cmd_relays(int argc, char **argv)
{
	struct ipc_sync		*s;
	struct ipc_msg		 m;
	const msgpack_object	*rl;
	uint32_t		 i;
	int			 r;

	argc = meshctl_strip_common(argc, argv);
	if (argc > 1) {
		if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
			printf("usage: meshctl relays [--json]\n\n"
			    "punchd's relays: URL, state (connected, refused "
			    "and why, down, accepted,\nuntried), lowest ping "
			    "RTT of the sessions on it, sessions on it, peers\n"
			    "relayed through it. Each pair's session goes to "
			    "the first relay of its\nrendezvous order over "
			    "punchd.relay_url.\n");
			return EXIT_OK;
		}
		fprintf(stderr, "usage: meshctl relays [--json]\n");
		return EXIT_USAGE;
	}
	if ((r = meshctl_punchd("status.get", NULL, meshctl.timeout_ms, &s,
	    &m)) != EXIT_OK)
		return r;
	rl = mpack_get(m.result, "relays");
	if (meshctl.json) {
		meshctl_print_json(rl != NULL ? mpack_to_json(rl) :
		    json_array());
		ipc_sync_close(s);
		return EXIT_OK;
	}
	printf("%-40s %-10s %-9s %-8s %s\n", "RELAY", "STATE", "RTT",
	    "SESSIONS", "PEERS");
	for (i = 0; rl != NULL && rl->type == MSGPACK_OBJECT_ARRAY &&
	    i < rl->via.array.size; i++)
		relays_row(&rl->via.array.ptr[i]);
	ipc_sync_close(s);
	return EXIT_OK;
}
