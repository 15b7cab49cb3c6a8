/*
 * meshctl init NAME [--force] and meshctl leave: punchd owns the mesh
 * files (mesh.init, mesh.leave), so a running punchd switches at once and
 * nothing it holds in memory is lost or overwritten behind its back.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "common/mpack.h"
#include "meshctl.h"

int
cmd_init(int argc, char **argv)
{
	struct ipc_sync	*s;
	struct ipc_msg	 m;
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	const char	*name = NULL;
	char		 id[40] = "", key[80] = "", node[40] = "";
	int		 i, force = 0, r;

	argc = meshctl_strip_common(argc, argv);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--force") || !strcmp(argv[i], "-f"))
			force = 1;
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: meshctl init [--force] NAME\n\nCreate "
			    "mesh NAME: a random mesh id and secret, and this "
			    "node's key\n(Ed25519) when it has none, in "
			    "punchd's state directory. Refuses to\nreplace an "
			    "existing mesh without --force.\n");
			return EXIT_OK;
		} else if (name == NULL && argv[i][0] != '-')
			name = argv[i];
		else
			name = NULL, i = argc + 1;
	}
	if (name == NULL || i > argc) {
		fprintf(stderr, "usage: meshctl init [--force] NAME\n");
		return EXIT_USAGE;
	}
	meshctl_params(&sb, &pk, 2);
	mpack_kv_str(&pk, "name", name);
	mpack_kv_bool(&pk, "force", force);
	r = meshctl_punchd("mesh.init", &sb, meshctl.timeout_ms, &s, &m);
	msgpack_sbuffer_destroy(&sb);
	if (r != EXIT_OK)
		return r;
	if (meshctl.json)
		meshctl_print_json(mpack_to_json(m.result));
	else {
		mpack_get_str(m.result, "mesh_id", id, sizeof(id));
		mpack_get_str(m.result, "node_id", node, sizeof(node));
		mpack_get_str(m.result, "public_key", key, sizeof(key));
		printf("mesh %s created (id %s)\nthis node: %s, key %s\n"
		    "next: meshctl invite\n", name, id, node, key);
	}
	ipc_sync_close(s);
	return EXIT_OK;
}

int
cmd_leave(int argc, char **argv)
{
	struct ipc_sync	*s;
	struct ipc_msg	 m;
	int		 r;

	argc = meshctl_strip_common(argc, argv);
	if (argc != 1) {
		fprintf(stderr, "usage: meshctl leave\n");
		return !strcmp(argv[1], "--help") ? EXIT_OK : EXIT_USAGE;
	}
	if ((r = meshctl_punchd("mesh.leave", NULL, meshctl.timeout_ms, &s,
	    &m)) != EXIT_OK)
		return r;
	if (meshctl.json)
		printf("{\"left\": true}\n");
	else
		printf("left the mesh; its peers, members and invites are "
		    "forgotten\n");
	ipc_sync_close(s);
	return EXIT_OK;
}

int
cmd_mesh(int argc, char **argv)
{
	struct ipc_sync	*s;
	struct ipc_msg	 m;
	char		 name[80] = "-", id[40] = "-", src[16] = "", node[40] = "";
	char		 key[80] = "-";
	int64_t		 peers = 0, members = 0;
	int		 r;

	argc = meshctl_strip_common(argc, argv);
	if (argc != 1) {
		fprintf(stderr, "usage: meshctl mesh [--json]\n");
		return !strcmp(argv[1], "--help") ? EXIT_OK : EXIT_USAGE;
	}
	if ((r = meshctl_punchd("mesh.get", NULL, meshctl.timeout_ms, &s,
	    &m)) != EXIT_OK)
		return r;
	if (meshctl.json)
		meshctl_print_json(mpack_to_json(m.result));
	else {
		mpack_get_str(m.result, "name", name, sizeof(name));
		mpack_get_str(m.result, "mesh_id", id, sizeof(id));
		mpack_get_str(m.result, "source", src, sizeof(src));
		mpack_get_str(m.result, "node_id", node, sizeof(node));
		mpack_get_str(m.result, "public_key", key, sizeof(key));
		mpack_get_int(m.result, "peers", &peers);
		mpack_get_int(m.result, "members", &members);
		printf("mesh:    %s (id %s, key from %s)\nnode:    %s\n"
		    "key:     %s\nmembers: %lld known, %lld peers\n", name, id,
		    src, node, key, (long long)members, (long long)peers);
	}
	ipc_sync_close(s);
	return EXIT_OK;
}
