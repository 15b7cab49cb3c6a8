/*
 * What every meshctl command shares: the common options, finding and calling
 * daemons (punchd for the peer and mesh commands), printing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "common/mpack.h"
#include "common/paths.h"
#include "meshctl.h"

/* -S, -t, --json: set by main() in meshctl.c, read by every command */
struct meshctl_opts meshctl = { 0, 5000, "" };

/*
 * -S, else the daemons' own default (paths_socket). Not root and with no
 * RUNTIME_DIRECTORY, that default is the user's own directory, for daemons
 * the user runs; when the daemon's socket is not there, the system's
 * daemons (the systemd units) are asked in /run/atmosphere, which members
 * of the group atmosphere may enter.
 */
void
meshctl_socket(const char *daemon, char *buf, size_t len)
{
	struct stat	 st;
	char		 sys[300];
	const char	*rd = getenv("RUNTIME_DIRECTORY");

	snprintf(sys, sizeof(sys), "/run/atmosphere/%s.sock", daemon);
	if (meshctl.sockdir[0] != '\0')
		snprintf(buf, len, "%s/%s.sock", meshctl.sockdir, daemon);
	else if (paths_socket(daemon, buf, len) == -1)
		snprintf(buf, len, "%s", sys);
	else if (geteuid() != 0 && (rd == NULL || *rd == '\0') &&
	    stat(buf, &st) == -1 && errno == ENOENT && stat(sys, &st) == 0)
		snprintf(buf, len, "%s", sys);
}

struct ipc_sync *
meshctl_connect(const char *daemon, char *err, size_t errlen)
{
	char path[300];

	meshctl_socket(daemon, path, sizeof(path));
	return ipc_sync_connect(path, meshctl.timeout_ms, err, errlen);
}

int
meshctl_call(struct ipc_sync *s, const char *method, const char *params,
    size_t len, int timeout_ms, struct ipc_msg *m, char *err, size_t errlen)
{
	int r;

	r = ipc_sync_call(s, method, params, len, timeout_ms, m, err, errlen);
	if (r == -2)
		snprintf(err, errlen, "no answer to %s within %.1fs", method,
		    timeout_ms / 1000.0);
	return r == 0 ? 0 : -1;
}

const char *
meshctl_errstr(const struct ipc_msg *m, char *buf, size_t len)
{
	char code[64] = "error", msg[512] = "";

	if (m->error == NULL) {
		snprintf(buf, len, "no error");
		return buf;
	}
	if (m->error->type == MSGPACK_OBJECT_MAP) {
		mpack_get_str(m->error, "code", code, sizeof(code));
		mpack_get_str(m->error, "message", msg, sizeof(msg));
	} else if (m->error->type == MSGPACK_OBJECT_STR)
		mpack_str_copy(m->error, msg, sizeof(msg));
	snprintf(buf, len, "%s%s%s", msg[0] ? msg : code, msg[0] ? " (" : "",
	    msg[0] ? code : "");
	if (msg[0])
		strlcat(buf, ")", len);
	return buf;
}

void
meshctl_print_json(json_t *j)
{
	char *s;

	if (j == NULL) {
		fprintf(stderr, "meshctl: out of memory\n");
		return;
	}
	if ((s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) != NULL) {
		printf("%s\n", s);
		free(s);
	}
	json_decref(j);
}

int
meshctl_strip_common(int argc, char **argv)
{
	int i, j;

	for (i = j = 0; i < argc; i++) {
		if (i > 0 && (!strcmp(argv[i], "--json") ||
		    !strcmp(argv[i], "-j"))) {
			meshctl.json = 1;
			continue;
		}
		argv[j++] = argv[i];
	}
	argv[j] = NULL;
	return j;
}

const char *
meshctl_duration(double s, char *buf, size_t len)
{
	long t = (long)s;

	if (t < 60)
		snprintf(buf, len, "%lds", t);
	else if (t < 3600)
		snprintf(buf, len, "%ldm%02lds", t / 60, t % 60);
	else if (t < 86400)
		snprintf(buf, len, "%ldh%02ldm", t / 3600, (t % 3600) / 60);
	else
		snprintf(buf, len, "%ldd%02ldh", t / 86400, (t % 86400) / 3600);
	return buf;
}

/* Call punchd, printing why it failed: the peer and mesh commands share it. */
int
meshctl_punchd(const char *method, const msgpack_sbuffer *params,
    int timeout_ms, struct ipc_sync **sp, struct ipc_msg *m)
{
	struct ipc_sync	*s;
	char		 err[512];

	*sp = NULL;
	if ((s = meshctl_connect("punchd", err, sizeof(err))) == NULL) {
		fprintf(stderr, "meshctl: punchd is not running (%s)\n", err);
		return EXIT_DOWN;
	}
	memset(m, 0, sizeof(*m));
	if (meshctl_call(s, method, params != NULL ? params->data : NULL,
	    params != NULL ? params->size : 0, timeout_ms, m, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "meshctl: %s: %s\n", method, err);
		ipc_sync_close(s);
		return EXIT_FAIL;
	}
	if (m->error != NULL) {
		fprintf(stderr, "meshctl: %s\n", meshctl_errstr(m, err,
		    sizeof(err)));
		ipc_sync_close(s);
		return EXIT_FAIL;
	}
	*sp = s;
	return EXIT_OK;
}

/* {peer: name} and friends: start a params map of n entries */
void
meshctl_params(msgpack_sbuffer *sb, msgpack_packer *pk, int n)
{
	msgpack_sbuffer_init(sb);
	msgpack_packer_init(pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(pk, n);
}
