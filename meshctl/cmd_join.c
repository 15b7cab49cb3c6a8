/*
 * meshctl join CODE|URI: one mesh.join request in which punchd races the
 * invite's paths (local, public, relay, started 250 ms apart; the first
 * WELCOME wins, the others are cancelled), then one line per path: how it
 * went, and for the winner how the punch to the inviter went.
 * --sequential keeps the old way, one request per path in turn, each with
 * its own timeout (the benchmark's reference).
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

struct join_opts {
	const char	*token, *name, *paths;
	long		 stagger, timeout, rtimeout, connect;
	int		 force, sequential;
};

static void
join_usage(FILE *f)
{
	fprintf(f, "usage: meshctl join [--json] [--force] [--name NAME] "
	    "[--paths local,public,relay]\n"
	    "                    [--stagger MS] [--timeout MS] "
	    "[--relay-timeout MS] [--connect MS]\n"
	    "                    [--sequential] CODE|URI\n");
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
	if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		return (double)v->via.i64;
	return 0;
}

/* the winner's tail: how the punch to the inviter went */
static void
join_print_connected(const msgpack_object *res)
{
	char st[32] = "", ep[300] = "";

	mpack_get_str(res, "state", st, sizeof(st));
	mpack_get_str(res, "endpoint", ep, sizeof(ep));
	printf("connected (welcome in %.0f ms)", join_num(res, "welcome_ms"));
	if (!strcmp(st, "direct"))
		printf(", punching ... direct via %s in %.0f ms\n", ep,
		    join_num(res, "elapsed_ms"));
	else if (!strcmp(st, "relayed"))
		printf(", punching ... no direct path yet: relayed via %s\n",
		    ep);
	else
		printf(", punching ... no path yet (%s); punchd keeps "
		    "trying\n", st);
}

/* A race's answer: one line per path, in the invite's order. */
static void
join_print_race(const msgpack_object *res)
{
	const msgpack_object	*list = mpack_get(res, "attempts"), *a;
	char			 path[16], via[300], st[16], why[200];
	uint32_t		 i;

	if (list == NULL || list->type != MSGPACK_OBJECT_ARRAY)
		return;
	for (i = 0; i < list->via.array.size; i++) {
		a = &list->via.array.ptr[i];
		path[0] = via[0] = st[0] = why[0] = '\0';
		mpack_get_str(a, "path", path, sizeof(path));
		mpack_get_str(a, "via", via, sizeof(via));
		mpack_get_str(a, "state", st, sizeof(st));
		mpack_get_str(a, "why", why, sizeof(why));
		if (!strcmp(st, "absent")) {
			/* most invites have no IPv6 endpoint: say so only
			 * for the paths every invite may have */
			if (strcmp(why, "not asked for") != 0 &&
			    (strcmp(why, "not in the invite") != 0 ||
			    strchr(path, '6') == NULL))
				printf("%s: %s\n", path, why);
			continue;
		}
		printf("%s %s ... ", path, via);
		if (!strcmp(st, "won"))
			join_print_connected(res);
		else if (!strcmp(st, "cancelled") && join_num(a, "start_ms") < 0)
			printf("not started (another path answered first)\n");
		else if (!strcmp(st, "cancelled"))
			printf("cancelled at %.0f ms, tried from %.0f ms "
			    "(another path answered first)\n",
			    join_num(a, "end_ms"), join_num(a, "start_ms"));
		else
			printf("%s at %.0f ms (%s)\n", st, join_num(a,
			    "end_ms"), why);
	}
}

/*
 * One mesh.join over `path` (one path, or a comma-separated list that
 * punchd races). 0 joined (result in *res), 1 try the next, -1 give up,
 * -3 punchd is down.
 */
static int
join_call(const struct join_opts *o, const char *path, const char *via,
    json_t *tries, json_t **res)
{
	struct ipc_sync	*s;
	struct ipc_msg	 m;
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	char		 err[512], code[32] = "", msg[600] = "", st[32] = "";
	json_t		*t;
	int		 r, race = strchr(path, ',') != NULL;

	if ((s = meshctl_connect("punchd", err, sizeof(err))) == NULL) {
		fprintf(stderr, "meshctl: punchd is not running (%s)\n", err);
		return -3;
	}
	if (!meshctl.json) {
		if (race)
			printf("trying %s, %ld ms apart ...\n", path,
			    o->stagger);
		else
			printf("%s %s ... ", path, via);
		fflush(stdout);
	}
	meshctl_params(&sb, &pk, 8 + (o->name != NULL));
	mpack_kv_str(&pk, "token", o->token);
	mpack_kv_str(&pk, "path", path);
	mpack_kv_int(&pk, "stagger_ms", o->stagger);
	mpack_kv_int(&pk, "timeout_ms", o->timeout);
	mpack_kv_int(&pk, "relay_timeout_ms", race ? o->rtimeout : o->timeout);
	mpack_kv_int(&pk, "connect_ms", o->connect);
	mpack_kv_bool(&pk, "force", o->force);
	mpack_kv_str(&pk, "via", via);	/* ignored by punchd; for logs */
	if (o->name != NULL)
		mpack_kv_str(&pk, "name", o->name);
	memset(&m, 0, sizeof(m));
	r = meshctl_call(s, "mesh.join", sb.data, sb.size, (o->timeout >
	    o->rtimeout ? o->timeout : o->rtimeout) + 2 * o->stagger +
	    o->connect + 5000, &m, err, sizeof(err));
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
			if (!meshctl.json && !race)
				printf("%s\n", strstr(msg, "refused: ") != NULL ?
				    strstr(msg, "refused: ") : msg);
		} else if (!meshctl.json && !race)
			printf("failed (%s)\n", !strcmp(code, "timeout") ?
			    "timeout" : msg);
		json_object_set_new(t, "error", json_string(code));
		json_object_set_new(t, "message", json_string(msg));
		json_array_append_new(tries, t);
		if (race || !strcmp(code, "refused") || !strcmp(code, "exists")
		    || !strcmp(code, "expired") || !strcmp(code, "bad_params")) {
			fprintf(stderr, "meshctl: join: %s\n", msg);
			return -1;
		}
		return 1;
	}
	if (!meshctl.json) {
		if (race)
			join_print_race(m.result);
		else
			join_print_connected(m.result);
	}
	mpack_get_str(m.result, "state", st, sizeof(st));
	json_object_set_new(t, "result", json_string(st));
	json_array_append_new(tries, t);
	*res = mpack_to_json(m.result);
	ipc_sync_close(s);
	return 0;
}

/* --sequential: one request per path, in turn (the way before the race) */
static int
join_sequential(const struct join_opts *o, char via[5][300], json_t *tries,
    json_t **res, int *tried)
{
	static const char *const all[3] = { "local", "public", "relay" };
	struct join_opts	 one = *o;
	int			 k, r = 1;

	for (k = 0; k < 3 && r == 1; k++) {
		if (strstr(o->paths, all[k]) == NULL)
			continue;
		if (via[k][0] == '\0') {
			if (!meshctl.json)
				printf("%s: not in the invite\n", all[k]);
			continue;
		}
		(*tried)++;
		one.timeout = k == 2 ? o->rtimeout : o->timeout;
		one.rtimeout = one.timeout;
		one.stagger = 0;
		r = join_call(&one, all[k], via[k], tries, res);
	}
	return r;
}

static int
join_args(int argc, char **argv, struct join_opts *o)
{
	int i;

	memset(o, 0, sizeof(*o));
	o->paths = "local,public,relay";
	o->stagger = 250;
	o->timeout = 3000;
	o->rtimeout = 10000;
	o->connect = 5000;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--help") || !strcmp(a, "-h"))
			return 1;
		else if (!strcmp(a, "--force"))
			o->force = 1;
		else if (!strcmp(a, "--sequential"))
			o->sequential = 1;
		else if (a[0] == '-' && a[1] == '-' && v == NULL)
			return -1;
		else if (!strcmp(a, "--name"))
			o->name = argv[++i];
		else if (!strcmp(a, "--paths"))
			o->paths = argv[++i];
		else if (!strcmp(a, "--stagger"))
			o->stagger = strtol(argv[++i], NULL, 10);
		else if (!strcmp(a, "--timeout"))
			o->timeout = strtol(argv[++i], NULL, 10);
		else if (!strcmp(a, "--relay-timeout"))
			o->rtimeout = strtol(argv[++i], NULL, 10);
		else if (!strcmp(a, "--connect"))
			o->connect = strtol(argv[++i], NULL, 10);
		else if (o->token == NULL && a[0] != '-')
			o->token = a;
		else
			return -1;
	}
	if (o->token == NULL || o->timeout < 1 || o->rtimeout < 1 ||
	    o->connect < 0 || o->stagger < 0 || o->stagger > 60000)
		return -1;
	return 0;
}

/* the invite's endpoints (local, public, relay, local6, public6), for
 * the lines; -1 when the code is bad */
static int
join_invite(const char *token, char via[5][300])
{
	struct invite	inv;
	char		err[200], when[64], inviter[20];
	time_t		t;
	int		r;

	r = invite_parse(token, (uint64_t)time(NULL), &inv, err, sizeof(err));
	if (r == INVITE_ERR_EXPIRED) {
		t = (time_t)inv.expires;
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC",
		    gmtime(&t));
		fprintf(stderr, "meshctl: join: the invite to mesh %s expired "
		    "at %s: ask for a new one\n", inv.mesh_name, when);
		invite_clear(&inv);
		return -1;
	}
	if (r != INVITE_OK) {
		fprintf(stderr, "meshctl: join: %s\n", err);
		return -1;
	}
	invite_addr_str(&inv.ep_local, "udp://", via[0], sizeof(via[0]));
	invite_addr_str(&inv.ep_public, "udp://", via[1], sizeof(via[1]));
	strlcpy(via[2], inv.ep_relay, sizeof(via[2]));
	invite_addr_str(&inv.ep_local6, "udp://", via[3], sizeof(via[3]));
	invite_addr_str(&inv.ep_public6, "udp://", via[4], sizeof(via[4]));
	sodium_bin2hex(inviter, sizeof(inviter), inv.inviter_id,
	    sizeof(inv.inviter_id));
	if (!meshctl.json)
		printf("joining mesh %s (inviter %s)\n", inv.mesh_name,
		    inviter);
	invite_clear(&inv);
	return 0;
}

int
cmd_join(int argc, char **argv)
{
	struct join_opts o;
	json_t		*tries, *res = NULL, *out;
	char		 via[5][300];
	int		 r, tried = 0;

	argc = meshctl_strip_common(argc, argv);
	if ((r = join_args(argc, argv, &o)) == 1) {
		join_usage(stdout);
		printf("\nJoin the mesh of an invite: its local endpoint, its "
		    "public one and its relay\nraced (started --stagger ms "
		    "apart, 250 by default; the first answer wins, the\n"
		    "others are cancelled), each with its own timeout (3 s, "
		    "3 s, 10 s), then punch\nthe inviter. local and public "
		    "include the invite's IPv6 endpoint (local6,\npublic6, "
		    "started with them; name them to give them their own "
		    "start).\n--sequential tries them one after another "
		    "instead.\n");
		return EXIT_OK;
	}
	if (r == -1) {
		join_usage(stderr);
		return EXIT_USAGE;
	}
	if (join_invite(o.token, via) == -1)
		return EXIT_FAIL;
	tries = json_array();
	if (o.sequential)
		r = join_sequential(&o, via, tries, &res, &tried);
	else {
		tried = 1;
		/* one path alone: name its endpoint on the progress line */
		r = join_call(&o, o.paths, !strcmp(o.paths, "local") ? via[0] :
		    !strcmp(o.paths, "public") ? via[1] :
		    !strcmp(o.paths, "relay") ? via[2] :
		    !strcmp(o.paths, "local6") ? via[3] :
		    !strcmp(o.paths, "public6") ? via[4] : "", tries, &res);
	}
	if (r == -3) {
		json_decref(tries);
		return EXIT_DOWN;
	}
	if (meshctl.json) {
		out = res != NULL ? res : json_object();
		json_object_set_new(out, "joined", json_boolean(r == 0));
		if (o.sequential || json_object_get(out, "attempts") == NULL)
			json_object_set_new(out, "attempts", tries);
		else
			json_decref(tries);
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
}
