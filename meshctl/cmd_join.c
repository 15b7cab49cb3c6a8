/*
 * meshctl join CODE|URI: the invite's paths in turn (local, then public,
 * then relay), one mesh.join request each with its own timeout, printing
 * how each went; ends with the path that worked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "common/mpack.h"
#include "proto/invite.h"
#include "meshctl.h"

static void
join_usage(FILE *f)
{
	fprintf(f, "usage: meshctl join [--json] [--force] [--name NAME] "
	    "[--paths local,public,relay]\n"
	    "                    [--timeout MS] [--relay-timeout MS] "
	    "[--connect MS] CODE|URI\n");
}

/* a relay's refusal (punchd's relay_refused): the last thing said */
static char join_refusal[400];

static double
join_num(const msgpack_object *o, const char *k)
{
	const msgpack_object *v = mpack_get(o, k);

	if (v == NULL)
		return 0;
	if (v->type == MSGPACK_OBJECT_FLOAT64)
		return v->via.f64;
	if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		return (double)v->via.u64;
	return 0;
}

/* One path. 0 joined (result in *res), 1 try the next, -1 give up. */
static int
join_path(const char *token, const char *path, const char *via, int timeout,
    int connect, const char *name, int force, json_t *tries, json_t **res)
{
	struct ipc_sync	*s;
	struct ipc_msg	 m;
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	char		 err[512], code[32] = "", msg[400] = "";
	char		 st[32] = "", pp[16] = "", ep[300] = "";
	json_t		*t;
	int		 r;

	if ((s = meshctl_connect("punchd", err, sizeof(err))) == NULL) {
		fprintf(stderr, "meshctl: punchd is not running (%s)\n", err);
		return -3;
	}
	if (!meshctl.json) {
		printf("%s %s ... ", path, via);
		fflush(stdout);
	}
	meshctl_params(&sb, &pk, 6 + (name != NULL));
	mpack_kv_str(&pk, "token", token);
	mpack_kv_str(&pk, "path", path);
	mpack_kv_int(&pk, "timeout_ms", timeout);
	mpack_kv_int(&pk, "connect_ms", connect);
	mpack_kv_bool(&pk, "force", force);
	mpack_kv_str(&pk, "via", via);	/* ignored by punchd; for logs */
	if (name != NULL)
		mpack_kv_str(&pk, "name", name);
	memset(&m, 0, sizeof(m));
	r = meshctl_call(s, "mesh.join", sb.data, sb.size,
	    timeout + connect + 5000, &m, err, sizeof(err));
	sodium_memzero(sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	t = json_pack("{s:s, s:s}", "path", path, "via", via);
	if (r == -1) {
		ipc_sync_close(s);
		if (!meshctl.json)
			printf("failed (%s)\n", err);
		json_object_set_new(t, "error", json_string(err));
		json_array_append_new(tries, t);
		return 1;
	}
	if (m.error != NULL) {
		if (m.error->type == MSGPACK_OBJECT_MAP) {
			mpack_get_str(m.error, "code", code, sizeof(code));
			mpack_get_str(m.error, "message", msg, sizeof(msg));
		}
		ipc_sync_close(s);
		if (!strcmp(code, "relay_refused")) {
			/* "relay URL refused: 403 bad token (...): hint" */
			strlcpy(join_refusal, msg, sizeof(join_refusal));
			if (!meshctl.json)
				printf("%s\n", strstr(msg, "refused: ") != NULL ?
				    strstr(msg, "refused: ") : msg);
		} else if (!meshctl.json)
			printf("failed (%s)\n", !strcmp(code, "timeout") ?
			    "timeout" : msg);
		json_object_set_new(t, "error", json_string(code));
		json_object_set_new(t, "message", json_string(msg));
		json_array_append_new(tries, t);
		if (!strcmp(code, "refused") || !strcmp(code, "exists") ||
		    !strcmp(code, "expired") || !strcmp(code, "bad_params")) {
			fprintf(stderr, "meshctl: join: %s\n", msg);
			return -1;
		}
		return 1;
	}
	mpack_get_str(m.result, "state", st, sizeof(st));
	mpack_get_str(m.result, "peer_path", pp, sizeof(pp));
	mpack_get_str(m.result, "endpoint", ep, sizeof(ep));
	if (!meshctl.json) {
		printf("connected (welcome in %.0f ms)", join_num(m.result,
		    "welcome_ms"));
		if (!strcmp(st, "direct"))
			printf(", punching ... direct via %s in %.0f ms\n", ep,
			    join_num(m.result, "elapsed_ms"));
		else if (!strcmp(st, "relayed"))
			printf(", punching ... no direct path yet: relayed "
			    "via %s\n", ep);
		else
			printf(", punching ... no path yet (%s); punchd "
			    "keeps trying\n", st);
	}
	json_object_set_new(t, "result", json_string(st));
	json_array_append_new(tries, t);
	*res = mpack_to_json(m.result);
	ipc_sync_close(s);
	return 0;
}

int
cmd_join(int argc, char **argv)
{
	static const char *const all[3] = { "local", "public", "relay" };
	struct invite	 inv;
	json_t		*tries, *res = NULL, *out;
	const char	*arg = NULL, *name = NULL, *paths = "local,public,relay";
	char		 err[200], via[3][300], when[64], inviter[20];
	long		 timeout = 3000, rtimeout = 10000, connect = 5000;
	int		 i, k, r = 1, force = 0, tried = 0;
	time_t		 t;

	argc = meshctl_strip_common(argc, argv);
	for (i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
			join_usage(stdout);
			printf("\nJoin the mesh of an invite: its local "
			    "endpoint, then its public one, then its\nrelay, "
			    "each with its own timeout (3 s, 3 s, 10 s), then "
			    "punch the inviter.\n");
			return EXIT_OK;
		} else if (!strcmp(o, "--force"))
			force = 1;
		else if (o[0] == '-' && o[1] == '-' && v == NULL)
			goto usage;
		else if (!strcmp(o, "--name"))
			name = argv[++i];
		else if (!strcmp(o, "--paths"))
			paths = argv[++i];
		else if (!strcmp(o, "--timeout"))
			timeout = strtol(argv[++i], NULL, 10);
		else if (!strcmp(o, "--relay-timeout"))
			rtimeout = strtol(argv[++i], NULL, 10);
		else if (!strcmp(o, "--connect"))
			connect = strtol(argv[++i], NULL, 10);
		else if (arg == NULL && o[0] != '-')
			arg = o;
		else
			goto usage;
	}
	if (arg == NULL || timeout < 1 || rtimeout < 1 || connect < 0)
		goto usage;
	r = invite_parse(arg, (uint64_t)time(NULL), &inv, err, sizeof(err));
	if (r == INVITE_ERR_EXPIRED) {
		t = (time_t)inv.expires;
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC",
		    gmtime(&t));
		fprintf(stderr, "meshctl: join: the invite to mesh %s expired "
		    "at %s: ask for a new one\n", inv.mesh_name, when);
		invite_clear(&inv);
		return EXIT_FAIL;
	}
	if (r != INVITE_OK) {
		fprintf(stderr, "meshctl: join: %s\n", err);
		return EXIT_FAIL;
	}
	invite_addr_str(&inv.ep_local, "udp://", via[0], sizeof(via[0]));
	invite_addr_str(&inv.ep_public, "udp://", via[1], sizeof(via[1]));
	strlcpy(via[2], inv.ep_relay, sizeof(via[2]));
	sodium_bin2hex(inviter, sizeof(inviter), inv.inviter_id,
	    sizeof(inv.inviter_id));
	if (!meshctl.json)
		printf("joining mesh %s (inviter %s)\n", inv.mesh_name,
		    inviter);
	tries = json_array();
	r = 1;
	for (k = 0; k < 3 && r == 1; k++) {
		if (strstr(paths, all[k]) == NULL)
			continue;
		if (via[k][0] == '\0') {
			if (!meshctl.json)
				printf("%s: not in the invite\n", all[k]);
			continue;
		}
		tried++;
		r = join_path(arg, all[k], via[k], k == 2 ? (int)rtimeout :
		    (int)timeout, (int)connect, name, force, tries, &res);
	}
	invite_clear(&inv);
	if (r == -3) {
		json_decref(tries);
		return EXIT_DOWN;
	}
	if (meshctl.json) {
		out = res != NULL ? res : json_object();
		json_object_set_new(out, "joined", json_boolean(r == 0));
		json_object_set_new(out, "attempts", tries);
		meshctl_print_json(out);
	} else {
		json_decref(tries);
		if (r == 0) {
			printf("joined mesh %s via %s\n",
			    json_string_value(json_object_get(res, "mesh")),
			    json_string_value(json_object_get(res, "path")));
			json_decref(res);
		} else if (r == 1 && join_refusal[0] != '\0')
			printf("could not join: %s\n", join_refusal);
		else if (r == 1)
			printf("could not join: %s\n", tried ? "no path "
			    "answered" : "the invite has no endpoint to try");
	}
	return r == 0 ? EXIT_OK : EXIT_FAIL;
usage:
	join_usage(stderr);
	return EXIT_USAGE;
}
