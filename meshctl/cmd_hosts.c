/*
 * meshctl hosts: the members' mesh interface addresses as an /etc/hosts
 * list (punchd's mesh.hosts): one line per address, the member's name and
 * NAME.MESH. A member without a name is "node-ID". Names are cut down to
 * what a host name may hold (letters, digits, '-').
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "common/hostsline.h"
#include "common/mpack.h"
#include "meshctl.h"

static void
hosts_print(json_t *r)
{
	const char	*mesh = json_string_value(json_object_get(r, "mesh"));
	char		 line[HOSTSLINE_MAX];
	json_t		*h;
	size_t		 i;
	int		 fam;

	printf("# mesh %s, interface %s (meshctl hosts)\n", mesh != NULL ?
	    mesh : "-", json_string_value(json_object_get(r, "interface")));
	for (fam = 4; fam <= 6; fam += 2)
		json_array_foreach(json_object_get(r, "hosts"), i, h) {
			hostsline_format(line, sizeof(line), json_string_value(
			    json_object_get(h, fam == 4 ? "v4" : "v6")),
			    json_string_value(json_object_get(h, "name")),
			    json_string_value(json_object_get(h, "id")), mesh,
			    json_is_true(json_object_get(h, "self")));
			fputs(line, stdout);
		}
}

int
cmd_hosts(int argc, char **argv)
{
	struct ipc_sync	*s;
	struct ipc_msg	 m;
	json_t		*r;
	int		 rc;

	argc = meshctl_strip_common(argc, argv);
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: meshctl hosts [--json]\n\n"
		    "The members' addresses on the mesh interface (punchd.tun "
		    "= yes), in\n/etc/hosts format: IPv4 lines, then IPv6; "
		    "each NAME and NAME.MESH.\n");
		return EXIT_OK;
	}
	if (argc != 1) {
		fprintf(stderr, "usage: meshctl hosts [--json]\n");
		return EXIT_USAGE;
	}
	if ((rc = meshctl_punchd("mesh.hosts", NULL, meshctl.timeout_ms, &s,
	    &m)) != EXIT_OK)
		return rc;
	r = mpack_to_json(m.result);
	ipc_sync_close(s);
	if (meshctl.json) {
		meshctl_print_json(r);
		return EXIT_OK;
	}
	hosts_print(r);
	json_decref(r);
	return EXIT_OK;
}
