/*
 * meshctl network: what stund knows of this host's place on the internet:
 * public endpoint, NAT behaviour on both RFC 5780 axes with the classic
 * name, what that means for reaching peers, and which STUN servers answered.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "common/mpack.h"
#include "meshctl.h"

static void
network_usage(FILE *f)
{
	fprintf(f, "usage: meshctl network [--refresh] [--json]\n\n"
	    "Public endpoint, NAT type (mapping and filtering, RFC 5780, and\n"
	    "the classic name), whether this host is behind NAT, and the STUN\n"
	    "servers stund asked. --refresh measures again instead of using\n"
	    "stund's cache (NAT tests take a few seconds).\n");
}

static void
network_print_servers(const msgpack_object *servers)
{
	char		name[256], mapped[80], err[256];
	const msgpack_object *o;
	double		rtt;
	uint32_t	i;

	if (servers == NULL || servers->type != MSGPACK_OBJECT_ARRAY)
		return;
	printf("STUN servers:\n");
	for (i = 0; i < servers->via.array.size; i++) {
		const msgpack_object *s = &servers->via.array.ptr[i];
		int ok = 0;

		name[0] = mapped[0] = err[0] = '\0';
		mpack_get_str(s, "server", name, sizeof(name));
		mpack_get_bool(s, "ok", &ok);
		if (ok) {
			o = mpack_get(s, "rtt_ms");
			rtt = o != NULL && o->type == MSGPACK_OBJECT_FLOAT64 ?
			    o->via.f64 : 0;
			mpack_get_str(s, "mapped", mapped, sizeof(mapped));
			printf("  %-32s ok      %7.1f ms  sees %s\n", name, rtt,
			    mapped);
		} else {
			mpack_get_str(s, "error", err, sizeof(err));
			printf("  %-32s failed  %s\n", name, err);
		}
	}
}

static const char *
str_or(const msgpack_object *map, const char *key, char *buf, size_t len,
    const char *dflt)
{
	if (mpack_get_str(map, key, buf, len) != 0)
		strlcpy(buf, dflt, len);
	return buf;
}

int
cmd_network(int argc, char **argv)
{
	struct ipc_sync		*s;
	struct ipc_msg		 m;
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	json_t			*out, *nat;
	const msgpack_object	*o;
	char			 err[700], b1[128], b2[128], b3[128], b4[300];
	int			 refresh = 0, i, rc = EXIT_OK, bn = -1;

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
	if ((s = meshctl_connect("stund", err, sizeof(err))) == NULL) {
		fprintf(stderr, "meshctl: stund is not running: %s\n", err);
		return EXIT_DOWN;
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	mpack_kv_bool(&pk, "refresh", refresh);

	/* NAT behaviour first: it includes the public endpoint and servers,
	 * and a first run (filtering tests wait for answers that may never
	 * come) takes a few seconds */
	if (meshctl_call(s, "nat.get", sb.data, sb.size,
	    meshctl.timeout_ms < 20000 ? 20000 : meshctl.timeout_ms, &m, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "meshctl: stund: %s\n", err);
		rc = EXIT_FAIL;
		goto out;
	}
	if (m.error != NULL) {
		if (meshctl.json) {
			out = json_object();
			json_object_set_new(out, "error", json_string(
			    meshctl_errstr(&m, err, sizeof(err))));
			meshctl_print_json(out);
		} else
			fprintf(stderr, "meshctl: network discovery failed: "
			    "%s\n", meshctl_errstr(&m, err, sizeof(err)));
		rc = EXIT_FAIL;
		goto out;
	}
	if (meshctl.json) {
		nat = mpack_to_json(m.result);
		network_portmap(nat);
		meshctl_print_json(nat);
		goto out;
	}
	o = mpack_get(m.result, "behind_nat");
	if (o != NULL && o->type == MSGPACK_OBJECT_BOOLEAN)
		bn = o->via.boolean;
	printf("Public endpoint:  %s\n", str_or(m.result, "public", b1,
	    sizeof(b1), "unknown"));
	printf("Local endpoint:   %s\n", str_or(m.result, "local", b1,
	    sizeof(b1), "unknown"));
	printf("Behind NAT:       %s\n", bn == 1 ? "yes" : bn == 0 ? "no" :
	    "unknown");
	printf("NAT type:         %s\n", str_or(m.result, "classic", b1,
	    sizeof(b1), "unknown"));
	printf("  mapping:        %s\n", str_or(m.result, "mapping", b2,
	    sizeof(b2), "unknown"));
	str_or(m.result, "filtering", b3, sizeof(b3), "unknown");
	printf("  filtering:      %s\n", strcmp(b3, "unknown") != 0 ? b3 :
	    "unknown: no STUN server answered the RFC 5780 tests "
	    "(OTHER-ADDRESS);\n                  add one to stund.servers, e.g. "
	    "stun.stunprotocol.org:3478");
	str_or(m.result, "method", b2, sizeof(b2), "?");
	printf("  measured:       %s%s%s\n", !strcmp(b2, "rfc5780") ?
	    "RFC 5780 tests via " : "comparing ", str_or(m.result, "server",
	    b4, sizeof(b4), "?"), !strcmp(b2, "rfc5780") ? "" :
	    " (no server offered RFC 5780)");
	printf("What it means:    %s\n", str_or(m.result, "explanation", b4,
	    sizeof(b4), "-"));
	network_print_servers(mpack_get(m.result, "servers"));
	network_portmap(NULL);
out:
	msgpack_sbuffer_destroy(&sb);
	ipc_sync_close(s);
	return rc;
}
