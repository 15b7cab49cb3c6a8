/*
 * meshctl network: a netcheck. What stund knows of this host's place on
 * the internet (public endpoint, NAT behaviour on both RFC 5780 axes with
 * the classic name, hairpin) and what it measures now (stun.check: UDP,
 * IPv4, IPv6, round-trip time to every STUN server), with punchd's port
 * mapping and relays (their round-trip times). Every verdict that is
 * unknown says why and what to add.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "common/mpack.h"
#include "meshctl.h"

/* stund's own stund.timeout bounds stun.check (60 s at most) */
#define NETWORK_CHECK_WAIT_MS	61000

static void
network_usage(FILE *f)
{
	fprintf(f, "usage: meshctl network [--refresh] [--json]\n\n"
	    "A netcheck: whether UDP gets out (which STUN servers answered),\n"
	    "IPv4 and IPv6 reachability, the NAT type (mapping and filtering,\n"
	    "RFC 5780, and the classic name), whether the mapping varies by\n"
	    "destination, hairpinning, the port-mapping protocols the gateway\n"
	    "offers, and the round-trip time to every STUN server and relay.\n"
	    "--refresh measures the NAT again instead of using stund's cache\n"
	    "(NAT tests take a few seconds).\n");
}

/*
 * Call daemon's method; the result as JSON, or NULL with why in err.
 * *down is set when the daemon is not running.
 */
static json_t *
network_call(const char *daemon, const char *method, const msgpack_sbuffer *sb,
    int timeout_ms, char *err, size_t errlen, int *down)
{
	struct ipc_sync	*s;
	struct ipc_msg	 m;
	json_t		*j = NULL;

	*down = 0;
	if ((s = meshctl_connect(daemon, err, errlen)) == NULL) {
		*down = 1;
		return NULL;
	}
	if (meshctl_call(s, method, sb != NULL ? sb->data : NULL,
	    sb != NULL ? sb->size : 0, timeout_ms, &m, err, errlen) == 0) {
		if (m.error != NULL)
			meshctl_errstr(&m, err, errlen);
		else
			j = mpack_to_json(m.result);
	}
	ipc_sync_close(s);
	return j;
}

static const char *
str_or(const json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : dflt;
}

/* the NAT block: nat.get in words (the lines existing scripts read) */
static void
network_print_nat(const json_t *nat)
{
	const json_t	*bn = json_object_get(nat, "behind_nat");
	const char	*filt = str_or(nat, "filtering", "unknown");
	int		 rfc = !strcmp(str_or(nat, "method", "?"), "rfc5780");

	printf("Public endpoint:  %s\n", str_or(nat, "public", "unknown"));
	printf("Local endpoint:   %s\n", str_or(nat, "local", "unknown"));
	printf("Behind NAT:       %s\n", json_is_true(bn) ? "yes" :
	    json_is_false(bn) ? "no" : "unknown");
	printf("NAT type:         %s\n", str_or(nat, "classic", "unknown"));
	printf("  mapping:        %s\n", str_or(nat, "mapping", "unknown"));
	printf("  filtering:      %s\n", strcmp(filt, "unknown") != 0 ? filt :
	    "unknown: no STUN server answered the RFC 5780 tests "
	    "(OTHER-ADDRESS);\n                  add one to stund.servers, e.g. "
	    "stun.stunprotocol.org:3478");
	printf("  measured:       %s%s%s\n", rfc ? "RFC 5780 tests via " :
	    "comparing ", str_or(nat, "server", "?"), rfc ? "" :
	    " (no server offered RFC 5780)");
}

static void
network_print(const json_t *nat, const json_t *nc, const json_t *pstatus,
    const json_t *relays)
{
	network_check_print(nc, 0);
	if (nat != NULL)
		network_print_nat(nat);
	network_check_print(nc, 1);
	if (nat != NULL)
		printf("What it means:    %s\n", str_or(nat, "explanation", "-"));
	network_portmap(NULL, pstatus);
	network_check_print_servers(nc);
	network_relays_print(relays, pstatus != NULL);
}

int
cmd_network(int argc, char **argv)
{
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	json_t		*nat, *check, *pstatus, *nc, *relays, *out;
	char		 err[700], cerr[700], perr[300];
	int		 refresh = 0, i, down;

	argc = meshctl_strip_common(argc, argv);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--refresh"))
			refresh = 1;
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			network_usage(stdout);
			return EXIT_OK;
		} else {
			network_usage(stderr);
			return EXIT_USAGE;
		}
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	mpack_kv_bool(&pk, "refresh", refresh);
	/* NAT behaviour first (it resolves the servers' names); a first run
	 * (filtering tests wait for answers that may never come) takes a few
	 * seconds */
	nat = network_call("stund", "nat.get", &sb, meshctl.timeout_ms < 20000 ?
	    20000 : meshctl.timeout_ms, err, sizeof(err), &down);
	msgpack_sbuffer_destroy(&sb);
	if (down) {
		fprintf(stderr, "meshctl: stund is not running: %s\n", err);
		return EXIT_DOWN;
	}
	if (nat == NULL && !meshctl.json)
		fprintf(stderr, "meshctl: network discovery failed: %s\n", err);
	check = network_call("stund", "stun.check", NULL,
	    NETWORK_CHECK_WAIT_MS, cerr, sizeof(cerr), &down);
	pstatus = network_call("punchd", "status.get", NULL, meshctl.timeout_ms,
	    perr, sizeof(perr), &down);
	nc = network_check(nat, check);
	if (check == NULL)
		json_object_set_new(nc, "stun_error", json_string(cerr));
	relays = network_relays(pstatus);
	if (meshctl.json) {
		/* nat.get's fields stay at the top, as before the netcheck */
		out = nat != NULL ? json_incref(nat) : json_object();
		if (nat == NULL)
			json_object_set_new(out, "error", json_string(err));
		network_portmap(out, pstatus);
		json_object_set_new(nc, "relays", json_incref(relays));
		json_object_set_new(out, "netcheck", json_incref(nc));
		meshctl_print_json(out);
	} else
		network_print(nat, nc, pstatus, relays);
	json_decref(nat);
	json_decref(check);
	json_decref(pstatus);
	json_decref(nc);
	json_decref(relays);
	return nat != NULL ? EXIT_OK : EXIT_FAIL;
}
