/*
 * meshctl why PEER: why a pair is (not) direct, in words. punchd's
 * peer.why (state, the reason, our candidates, every pair and its last
 * check, the direct path's health and keep-alive lifetime, the relay) and
 * stund's nat.get (our NAT's mapping and filtering, from its cache).
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "common/mpack.h"
#include "meshctl.h"

/* stund's nat.get from its cache; NULL when stund is not there */
static json_t *
why_nat(void)
{
	struct ipc_sync	*s;
	struct ipc_msg	 m;
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	json_t		*j = NULL;
	char		 err[256];

	if ((s = meshctl_connect("stund", err, sizeof(err))) == NULL)
		return NULL;
	meshctl_params(&sb, &pk, 1);
	mpack_kv_bool(&pk, "refresh", 0);
	if (meshctl_call(s, "nat.get", sb.data, sb.size, meshctl.timeout_ms,
	    &m, err, sizeof(err)) == 0 && m.error == NULL)
		j = mpack_to_json(m.result);
	msgpack_sbuffer_destroy(&sb);
	ipc_sync_close(s);
	return j;
}

static const char *
why_str(json_t *o, const char *k, const char *dflt)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v != NULL ? v : dflt;
}

static void
why_print_pairs(json_t *pairs)
{
	json_t	*pp;
	size_t	 i;

	if (json_array_size(pairs) == 0) {
		printf("pairs:   none (no candidate of the peer known)\n");
		return;
	}
	printf("pairs:   %-28s %-6s %-12s %5s\n", "their candidate", "type",
	    "last check", "sent");
	json_array_foreach(pairs, i, pp)
		printf("         %-28s %-6s %-12s %5lld%s\n",
		    why_str(pp, "address", "?"), why_str(pp, "type", "?"),
		    why_str(pp, "check", "?"), (long long)json_integer_value(
		    json_object_get(pp, "sent")),
		    json_is_true(json_object_get(pp, "selected")) ?
		    "  (selected)" : "");
}

static void
why_print(json_t *w, json_t *nat)
{
	json_t	*ours = json_object_get(w, "ours"), *h = json_object_get(w,
		    "health"), *a;
	size_t	 i;

	printf("peer %s: %s", why_str(w, "peer", "?"), why_str(w, "state",
	    "?"));
	if (json_string_value(json_object_get(w, "endpoint")) != NULL &&
	    strcmp(why_str(w, "endpoint", ""), why_str(w, "relay", "")) != 0)
		printf(", endpoint %s", why_str(w, "endpoint", ""));
	if (json_string_value(json_object_get(w, "relay")) != NULL)
		printf(", relay %s (%s)", why_str(w, "relay", ""),
		    why_str(w, "relay_state", "?"));
	printf("\nwhy:     %s\n", why_str(w, "reason", "?"));
	printf("ours:    host");
	json_array_foreach(json_object_get(ours, "host"), i, a)
		printf(" %s", json_string_value(a));
	printf("; server-reflexive %s", why_str(ours, "srflx4", "unknown"));
	if (json_string_value(json_object_get(ours, "srflx6")) != NULL)
		printf(", %s", why_str(ours, "srflx6", ""));
	printf("\n");
	if (nat != NULL)
		printf("our NAT: mapping %s, filtering %s (%s; stund)%s%s\n",
		    why_str(nat, "mapping", "?"), why_str(nat, "filtering",
		    "?"), why_str(nat, "classic", "?"),
		    json_is_object(json_object_get(w, "nat_ours")) ?
		    "; as punchd signals it: " : "",
		    why_str(json_object_get(w, "nat_ours"), "text", ""));
	else
		printf("our NAT: unknown (stund is not running)\n");
	a = json_object_get(w, "nat_theirs");
	if (json_is_object(a))
		printf("their NAT: %s (signalled)\n", why_str(a, "text", "?"));
	else
		printf("their NAT: not signalled (no meeting on a relay yet, "
		    "or an older punchd)\n");
	if (json_string_value(json_object_get(w, "hardnat")) != NULL)
		printf("hard NAT: %s%s%s; %lld probes sent\n",
		    why_str(w, "hardnat", ""),
		    json_string_value(json_object_get(w, "hardnat_result")) ?
		    "; last run: " : "", why_str(w, "hardnat_result", ""),
		    (long long)json_integer_value(json_object_get(w,
		    "hardnat_probes")));
	why_print_pairs(json_object_get(w, "pairs"));
	printf("punch:   %s, %lld attempt%s\n", why_str(w, "punch", "?"),
	    (long long)json_integer_value(json_object_get(w, "attempts")),
	    json_integer_value(json_object_get(w, "attempts")) == 1 ? "" :
	    "s");
	printf("health:  direct path %s", why_str(h, "state", "not in use"));
	if (json_is_number(json_object_get(h, "last_heard_s")))
		printf(", last heard %.1f s ago", json_number_value(
		    json_object_get(h, "last_heard_s")));
	printf("; probes %lld, doubts %lld, deaths %lld, recoveries %lld, "
	    "copies through the relay %lld\n",
	    (long long)json_integer_value(json_object_get(h, "probes")),
	    (long long)json_integer_value(json_object_get(h, "doubts")),
	    (long long)json_integer_value(json_object_get(h, "deaths")),
	    (long long)json_integer_value(json_object_get(h, "recoveries")),
	    (long long)json_integer_value(json_object_get(h,
	    "relay_copies")));
	printf("keep-alive: every %.1f s (NAT lifetime says %.1f s; longest "
	    "idle gap survived %.1f s, shortest fatal %.1f s)\n",
	    json_number_value(json_object_get(h, "keepalive_interval_s")),
	    json_number_value(json_object_get(h, "lifetime_interval_s")),
	    json_number_value(json_object_get(h, "lifetime_survived_s")),
	    json_number_value(json_object_get(h, "lifetime_died_s")));
}

int
cmd_why(int argc, char **argv)
{
	struct ipc_sync	*s;
	struct ipc_msg	 m;
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	json_t		*w, *nat, *out;
	int		 r;

	argc = meshctl_strip_common(argc, argv);
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: meshctl why [--json] PEER\n\n"
		    "Why PEER's path is direct or not, in words: candidates "
		    "of both sides,\neach pair's last check, our NAT's "
		    "behaviour (stund), the direct path's\nhealth and "
		    "keep-alive, the relay.\n");
		return EXIT_OK;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: meshctl why [--json] PEER\n");
		return EXIT_USAGE;
	}
	meshctl_params(&sb, &pk, 1);
	mpack_kv_str(&pk, "peer", argv[1]);
	r = meshctl_punchd("peer.why", &sb, meshctl.timeout_ms, &s, &m);
	msgpack_sbuffer_destroy(&sb);
	if (r != EXIT_OK)
		return r;
	w = mpack_to_json(m.result);
	ipc_sync_close(s);
	nat = why_nat();
	if (meshctl.json) {
		out = json_object();
		json_object_set_new(out, "peer", w);
		json_object_set_new(out, "nat", nat != NULL ? nat :
		    json_null());
		meshctl_print_json(out);
		return EXIT_OK;
	}
	why_print(w, nat);
	json_decref(w);
	if (nat != NULL)
		json_decref(nat);
	return EXIT_OK;
}
