/*
 * ipcwatch: subscribe to a daemon's notifications and print each as one
 * JSON line: {"event": NAME, "params": {...}}.
 *   ipcwatch SOCKET [-n COUNT] [-t SECONDS] [EVENT ...]
 * Prints "subscribed" once the daemon has confirmed, so a test can wait for
 * that line before causing the event. Exit 0 after COUNT notifications,
 * 1 on timeout or error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/ipc.h"
#include "common/mpack.h"

int
main(int argc, char *argv[])
{
	struct ipc_sync	*s;
	struct ipc_msg	 m;
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	char		 err[512], *dump;
	json_t		*j;
	int		 i, count = 1, got = 0, nev = 0, r;
	double		 secs = 10, deadline;
	struct timespec	 ts;
	const char	*events[16];

	if (argc < 2) {
		fprintf(stderr, "usage: ipcwatch SOCKET [-n COUNT] [-t SECONDS] "
		    "[EVENT ...]\n");
		return 2;
	}
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "-n") && i + 1 < argc)
			count = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-t") && i + 1 < argc)
			secs = atof(argv[++i]);
		else if (nev < 16)
			events[nev++] = argv[i];
	}
	if ((s = ipc_sync_connect(argv[1], 2000, err, sizeof(err))) == NULL) {
		fprintf(stderr, "ipcwatch: %s\n", err);
		return 1;
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	mpack_key(&pk, "events");
	msgpack_pack_array(&pk, nev);
	for (i = 0; i < nev; i++)
		mpack_pack_str(&pk, events[i]);
	if (ipc_sync_call(s, "events.subscribe", sb.data, sb.size, 2000, &m,
	    err, sizeof(err)) != 0 || m.error != NULL) {
		fprintf(stderr, "ipcwatch: subscribe failed %s\n", err);
		return 1;
	}
	msgpack_sbuffer_destroy(&sb);
	printf("subscribed\n");
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	deadline = ts.tv_sec + ts.tv_nsec / 1e9 + secs;
	while (got < count) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		r = (int)((deadline - (ts.tv_sec + ts.tv_nsec / 1e9)) * 1000);
		if (r <= 0 || (r = ipc_sync_recv(s, r, &m, err, sizeof(err)))
		    != 0) {
			fprintf(stderr, "ipcwatch: %s\n", r == -2 ? "timeout" :
			    err);
			ipc_sync_close(s);
			return 1;
		}
		if (m.type != IPC_NOTIFY)
			continue;
		j = json_object();
		json_object_set_new(j, "event", json_string(m.method));
		json_object_set_new(j, "params", mpack_to_json(m.params));
		dump = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
		printf("%s\n", dump);
		fflush(stdout);
		free(dump);
		json_decref(j);
		got++;
	}
	ipc_sync_close(s);
	return 0;
}
