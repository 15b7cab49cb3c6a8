/*
 * meshctl status: every daemon, up or down. A daemon that is not running is
 * a row that says so (and exit status 3), never an error dump.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "common/mpack.h"
#include "meshctl.h"

static const char *const daemons[] = { "stund", "punchd", "relayd" };
#define NDAEMONS	(sizeof(daemons) / sizeof(daemons[0]))

static void
status_details(const char *daemon, const msgpack_object *st, char *buf,
    size_t len)
{
	const msgpack_object	*srv, *ctr;
	char			 a[80] = "", b[64] = "", c[80] = "";
	int64_t			 n1 = -1, n2 = -1;

	buf[0] = '\0';
	if (!strcmp(daemon, "stund")) {
		if (mpack_get_str(st, "public", a, sizeof(a)) != 0)
			strlcpy(a, "unknown yet", sizeof(a));
		if (mpack_get_str(st, "nat", b, sizeof(b)) != 0)
			strlcpy(b, "unknown yet", sizeof(b));
		srv = mpack_get(st, "server");
		if (srv != NULL && srv->type == MSGPACK_OBJECT_MAP)
			mpack_get_str(srv, "primary", c, sizeof(c));
		snprintf(buf, len, "public %s, NAT %s%s%s", a, b,
		    c[0] ? ", serving STUN on " : "", c);
		return;
	}
	ctr = mpack_get(st, "counters");
	if (!strcmp(daemon, "relayd")) {
		mpack_get_int(st, "sessions", &n1);
		mpack_get_int(st, "clients", &n2);
		if (n1 == -1 && ctr != NULL)
			mpack_get_int(ctr, "sessions", &n1);
		if (n2 == -1 && ctr != NULL)
			mpack_get_int(ctr, "clients", &n2);
		if (mpack_get_str(st, "listen", a, sizeof(a)) != 0)
			a[0] = '\0';
		snprintf(buf, len, "%s%s%lld sessions, %lld clients", a,
		    a[0] ? ", " : "", (long long)(n1 < 0 ? 0 : n1),
		    (long long)(n2 < 0 ? 0 : n2));
		return;
	}
	if (!strcmp(daemon, "punchd")) {
		mpack_get_int(st, "peers", &n1);
		mpack_get_int(st, "peers_direct", &n2);
		snprintf(buf, len, "%lld peers, %lld direct",
		    (long long)(n1 < 0 ? 0 : n1), (long long)(n2 < 0 ? 0 : n2));
	}
}

/* punchd's relays under its row: how each last answered, and for a
 * refusal what to do about it */
static void
status_relays(const msgpack_object *st)
{
	const msgpack_object	*rl = mpack_get(st, "relays"), *r, *ref;
	char			 url[300], state[16], err[64], hint[200];
	int64_t			 n;
	uint32_t		 i;

	if (rl == NULL || rl->type != MSGPACK_OBJECT_ARRAY)
		return;
	for (i = 0; i < rl->via.array.size; i++) {
		r = &rl->via.array.ptr[i];
		if (mpack_get_str(r, "url", url, sizeof(url)) != 0 ||
		    mpack_get_str(r, "state", state, sizeof(state)) != 0)
			continue;
		n = 0;
		mpack_get_int(r, "sessions", &n);
		ref = mpack_get(r, "last_refusal");
		if (!strcmp(state, "refused") && ref != NULL &&
		    ref->type == MSGPACK_OBJECT_MAP &&
		    mpack_get_str(ref, "error", err, sizeof(err)) == 0) {
			if (mpack_get_str(ref, "hint", hint, sizeof(hint)) != 0)
				hint[0] = '\0';
			printf("%-8s relay %s refused: %s%s%s\n", "", url, err,
			    hint[0] ? ": " : "", hint);
		} else
			printf("%-8s relay %s: %s, %lld session%s\n", "", url,
			    state, (long long)n, n == 1 ? "" : "s");
	}
}

int
cmd_status(int argc, char **argv)
{
	struct ipc_sync		*s[NDAEMONS];
	struct ipc_msg		 m;
	json_t			*out = NULL, *arr = NULL, *row;
	char			 err[NDAEMONS][300], det[512], up[32], ver[32];
	int			 i, ndown = 0, timeout;
	int64_t			 pid;
	const msgpack_object	*uptime;

	argc = meshctl_strip_common(argc, argv);
	if (argc > 1) {
		if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
			printf("usage: meshctl status [--json]\n\n"
			    "Every daemon (stund, punchd, relayd): up or down, "
			    "pid, version, uptime, key counters.\n"
			    "Exit status 3 when any daemon is down.\n");
			return EXIT_OK;
		}
		fprintf(stderr, "usage: meshctl status [--json]\n");
		return EXIT_USAGE;
	}
	timeout = meshctl.timeout_ms < 2000 ? meshctl.timeout_ms : 2000;
	if (meshctl.json) {
		out = json_object();
		arr = json_array();
		json_object_set_new(out, "daemons", arr);
	} else
		printf("%-8s %-5s %-8s %-8s %-8s %s\n", "DAEMON", "STATE", "PID",
		    "VERSION", "UPTIME", "DETAILS");
	for (i = 0; i < (int)NDAEMONS; i++) {
		err[i][0] = '\0';
		memset(&m, 0, sizeof(m));
		s[i] = meshctl_connect(daemons[i], err[i], sizeof(err[i]));
		if (s[i] != NULL && meshctl_call(s[i], "status.get", NULL, 0,
		    timeout, &m, err[i], sizeof(err[i])) == 0 &&
		    m.error != NULL)
			meshctl_errstr(&m, err[i], sizeof(err[i]));
		else if (s[i] != NULL && err[i][0] == '\0' &&
		    m.result != NULL) {
			/* up */
			if (meshctl.json) {
				row = json_object();
				json_object_set_new(row, "daemon",
				    json_string(daemons[i]));
				json_object_set_new(row, "up", json_true());
				json_object_set_new(row, "status",
				    mpack_to_json(m.result));
				json_array_append_new(arr, row);
			} else {
				pid = 0;
				mpack_get_int(m.result, "pid", &pid);
				if (mpack_get_str(m.result, "version", ver,
				    sizeof(ver)) != 0)
					strlcpy(ver, "?", sizeof(ver));
				uptime = mpack_get(m.result, "uptime_s");
				meshctl_duration(uptime != NULL &&
				    uptime->type == MSGPACK_OBJECT_FLOAT64 ?
				    uptime->via.f64 : 0, up, sizeof(up));
				status_details(daemons[i], m.result, det,
				    sizeof(det));
				printf("%-8s %-5s %-8lld %-8s %-8s %s\n",
				    daemons[i], "up", (long long)pid, ver, up,
				    det);
				if (!strcmp(daemons[i], "punchd"))
					status_relays(m.result);
			}
			ipc_sync_close(s[i]);
			continue;
		}
		/* down */
		ndown++;
		if (meshctl.json) {
			row = json_object();
			json_object_set_new(row, "daemon", json_string(daemons[i]));
			json_object_set_new(row, "up", json_false());
			json_object_set_new(row, "error", json_string(err[i]));
			json_array_append_new(arr, row);
		} else
			printf("%-8s %-5s %-8s %-8s %-8s %s\n", daemons[i],
			    "down", "-", "-", "-", err[i]);
		if (s[i] != NULL)
			ipc_sync_close(s[i]);
	}
	if (meshctl.json) {
		json_object_set_new(out, "down", json_integer(ndown));
		meshctl_print_json(out);
	}
	return ndown == 0 ? EXIT_OK : EXIT_DOWN;
}
