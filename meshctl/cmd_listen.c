/*
 * meshctl listen: print the datagrams peers send to this node (punchd's
 * peer.data notifications), one line each, until --count N arrived or
 * SIGINT. --events adds peer.up, peer.path and peer.down.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/mpack.h"
#include "meshctl.h"

static volatile sig_atomic_t listen_stop;

static void
listen_sigint(int sig)
{
	(void)sig;
	listen_stop = 1;
}

static void
listen_print(const struct ipc_msg *m)
{
	const char	*data;
	size_t		 len, i;
	char		 peer[80] = "?", reason[80] = "", st[32] = "";
	char		 ep[80] = "";
	json_t		*j;
	char		*dump;

	if (meshctl.json) {
		j = json_object();
		json_object_set_new(j, "event", json_string(m->method));
		json_object_set_new(j, "params", mpack_to_json(m->params));
		if (!strcmp(m->method, "peer.data") &&
		    mpack_get_bin(m->params, "data", &data, &len) == 0)
			json_object_set_new(j, "text",
			    json_stringn_nocheck(data, len));
		if ((dump = json_dumps(j, JSON_COMPACT)) != NULL) {
			printf("%s\n", dump);
			free(dump);
		}
		json_decref(j);
		fflush(stdout);
		return;
	}
	mpack_get_str(m->params, "peer", peer, sizeof(peer));
	if (strcmp(m->method, "peer.data") != 0) {
		mpack_get_str(m->params, "state", st, sizeof(st));
		mpack_get_str(m->params, "endpoint", ep, sizeof(ep));
		mpack_get_str(m->params, "reason", reason, sizeof(reason));
		printf("%s %s %s %s%s%s\n", m->method, peer, st, ep,
		    reason[0] ? " " : "", reason);
	} else if (mpack_get_bin(m->params, "data", &data, &len) == 0) {
		printf("%s: ", peer);
		/* a terminal gets text, never raw control bytes */
		for (i = 0; i < len; i++) {
			unsigned char c = data[i];

			if (c == '\\' || c < 0x20 || c == 0x7f)
				printf("\\%03o", c);
			else
				putchar(c);
		}
		putchar('\n');
	}
	fflush(stdout);
}

int
cmd_listen(int argc, char **argv)
{
	struct ipc_sync		*s;
	struct ipc_msg		 m;
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	struct sigaction	 sa;
	char			 err[512], *end;
	long			 count = 0, got = 0;
	int			 a, events = 0, r;

	argc = meshctl_strip_common(argc, argv);
	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--help") || !strcmp(argv[a], "-h")) {
			printf("usage: meshctl listen [--json] [--events] "
			    "[--count N]\n\nPrint datagrams from peers as "
			    "\"PEER: TEXT\" (control bytes as \\ooo) until N\n"
			    "arrived or SIGINT. --events also prints "
			    "peer.up/peer.path/peer.down.\n");
			return EXIT_OK;
		} else if ((!strcmp(argv[a], "--count") || !strcmp(argv[a],
		    "-c")) && a + 1 < argc) {
			count = strtol(argv[++a], &end, 10);
			if (*end != '\0' || count < 1)
				goto usage;
		} else if (!strcmp(argv[a], "--events"))
			events = 1;
		else
			goto usage;
	}
	meshctl_params(&sb, &pk, 1);
	mpack_key(&pk, "events");
	msgpack_pack_array(&pk, events ? 4 : 1);
	mpack_pack_str(&pk, "peer.data");
	if (events) {
		mpack_pack_str(&pk, "peer.up");
		mpack_pack_str(&pk, "peer.path");
		mpack_pack_str(&pk, "peer.down");
	}
	r = meshctl_punchd("events.subscribe", &sb, meshctl.timeout_ms, &s,
	    &m);
	msgpack_sbuffer_destroy(&sb);
	if (r != EXIT_OK)
		return r;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = listen_sigint;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	fprintf(stderr, "meshctl: listening\n");
	while (!listen_stop && (count == 0 || got < count)) {
		r = ipc_sync_recv(s, 250, &m, err, sizeof(err));
		if (r == -2)
			continue;
		if (r == -1) {
			if (listen_stop)
				break;
			fprintf(stderr, "meshctl: punchd went away: %s\n", err);
			ipc_sync_close(s);
			return EXIT_DOWN;
		}
		if (m.type != IPC_NOTIFY)
			continue;
		listen_print(&m);
		if (!strcmp(m.method, "peer.data"))
			got++;
	}
	ipc_sync_close(s);
	return EXIT_OK;
usage:
	fprintf(stderr, "usage: meshctl listen [--json] [--events] "
	    "[--count N]\n");
	return EXIT_USAGE;
}
