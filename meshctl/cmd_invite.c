/*
 * meshctl invite: punchd mints the join secret (mesh.invite) and answers
 * the code; this prints it, the atmosphere://join URI and a QR code.
 * The code is the secret's only copy outside punchd: it goes to stdout,
 * nowhere else.
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

int	qr_print(FILE *f, const char *text);
int	qr_write_png(const char *path, const char *text);

static void
invite_usage(FILE *f)
{
	fprintf(f, "usage: meshctl invite [--expires DUR] [--uses N] [--json] "
	    "[--qr-png FILE] [--no-qr]\n"
	    "                      [--local EP|-] [--public EP|-] "
	    "[--relay URL|-]\n");
}

/* 90, 90s, 30m, 1h, 2d -> seconds; -1 when malformed */
static long
invite_duration(const char *s)
{
	char	*end;
	long	 v = strtol(s, &end, 10);

	if (end == s || v <= 0)
		return -1;
	if (*end == '\0' || !strcmp(end, "s"))
		return v;
	if (!strcmp(end, "m"))
		return v * 60;
	if (!strcmp(end, "h"))
		return v * 3600;
	if (!strcmp(end, "d"))
		return v * 86400;
	return -1;
}

int
cmd_invite(int argc, char **argv)
{
	struct ipc_sync	*s;
	struct ipc_msg	 m;
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	struct invite	 inv;
	json_t		*j;
	const char	*png = NULL, *ep[3] = { NULL, NULL, NULL };
	static const char *const epname[3] = { "local", "public", "relay" };
	char		 token[INVITE_CODE_MAX], uri[INVITE_URI_MAX], err[200];
	char		 a[3][300], when[64];
	long		 expires = 3600, uses = 1;
	int		 i, k, n, r, qr = 1;
	time_t		 t;

	argc = meshctl_strip_common(argc, argv);
	for (i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
			invite_usage(stdout);
			printf("\nMint a join secret for this node's mesh "
			    "(default: one use, expires in 1h)\nand print the "
			    "invite code, the atmosphere://join URI and a QR "
			    "code of the\nURI. --local/--public/--relay "
			    "replace what punchd knows; '-' leaves it out.\n");
			return EXIT_OK;
		} else if (!strcmp(o, "--no-qr"))
			qr = 0;
		else if (v == NULL)
			goto usage;
		else if (!strcmp(o, "--expires")) {
			if ((expires = invite_duration(v)) < 0)
				goto usage;
			i++;
		} else if (!strcmp(o, "--uses")) {
			uses = strtol(v, NULL, 10);
			if (uses < 1 || uses > 64)
				goto usage;
			i++;
		} else if (!strcmp(o, "--qr-png"))
			png = argv[++i];
		else if (!strcmp(o, "--local"))
			ep[0] = argv[++i];
		else if (!strcmp(o, "--public"))
			ep[1] = argv[++i];
		else if (!strcmp(o, "--relay"))
			ep[2] = argv[++i];
		else
			goto usage;
	}
	for (k = 0, n = 2; k < 3; k++)
		n += ep[k] != NULL;
	meshctl_params(&sb, &pk, n);
	mpack_kv_int(&pk, "expires_s", expires);
	mpack_kv_int(&pk, "uses", uses);
	for (k = 0; k < 3; k++)
		if (ep[k] != NULL)
			mpack_kv_str(&pk, epname[k], strcmp(ep[k], "-") ?
			    ep[k] : "");
	r = meshctl_punchd("mesh.invite", &sb, meshctl.timeout_ms, &s, &m);
	msgpack_sbuffer_destroy(&sb);
	if (r != EXIT_OK)
		return r;
	r = mpack_get_str(m.result, "token", token, sizeof(token));
	ipc_sync_close(s);
	if (r != 0 || invite_decode(token, 0, &inv, err, sizeof(err)) !=
	    INVITE_OK || invite_uri_format(&inv, uri, sizeof(uri)) < 0) {
		fprintf(stderr, "meshctl: punchd answered no usable code\n");
		return EXIT_FAIL;
	}
	/* the QR code holds the URI (the seeds' qr_data): an app that scans
	 * it gets the endpoints too, and `meshctl join` reads either form */
	if (png != NULL && qr_write_png(png, uri) == -1) {
		fprintf(stderr, "meshctl: cannot write %s\n", png);
		r = EXIT_FAIL;
	}
	if (meshctl.json) {
		if ((j = invite_to_json(&inv)) != NULL && png != NULL)
			json_object_set_new(j, "qr_png", json_string(png));
		meshctl_print_json(j);
	} else {
		t = (time_t)inv.expires;
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC",
		    gmtime(&t));
		printf("Invite to mesh %s: %d use%s, expires %s\n\n  %s\n\n"
		    "  %s\n\n", inv.mesh_name, inv.max_uses,
		    inv.max_uses == 1 ? "" : "s", when, token, uri);
		if (qr && qr_print(stdout, uri) == -1)
			fprintf(stderr, "meshctl: the URI does not fit a QR "
			    "code\n");
		printf("%sendpoints: local %s, public %s, relay %s\n",
		    qr ? "\n" : "",
		    invite_addr_str(&inv.ep_local, "udp://", a[0], sizeof(a[0]))[0] ?
		    a[0] : "-",
		    invite_addr_str(&inv.ep_public, "udp://", a[1], sizeof(a[1]))[0] ?
		    a[1] : "-", inv.ep_relay[0] ? inv.ep_relay : "-");
		if (inv.ep_local6.family != INVITE_AF_NONE)
			printf("local IPv6 %s\n", invite_addr_str(&inv.ep_local6,
			    "udp://", a[0], sizeof(a[0])));
		if (inv.ep_public6.family != INVITE_AF_NONE)
			printf("public IPv6 %s\n", invite_addr_str(
			    &inv.ep_public6, "udp://", a[0], sizeof(a[0])));
		if (inv.nat_type[0] != '\0' || inv.stun_source[0] != '\0')
			printf("NAT type %s, public endpoint from %s\n",
			    inv.nat_type[0] ? inv.nat_type : "unknown",
			    inv.stun_source[0] ? inv.stun_source : "-");
		if (png != NULL)
			printf("QR code written to %s\n", png);
		printf("On the other node: meshctl join CODE (or the URI)\n");
	}
	invite_clear(&inv);
	sodium_memzero(token, sizeof(token));
	sodium_memzero(uri, sizeof(uri));
	return r == EXIT_FAIL ? EXIT_FAIL : EXIT_OK;
usage:
	invite_usage(stderr);
	return EXIT_USAGE;
}
