/*
 * ipccall: one IPC request to a daemon, the result printed as one line of
 * JSON, for tests that need a method meshctl has no command for (punchd's
 * peer.get in tests/natlab/1N-punchd-*.sh):
 *   ipccall SOCKET METHOD ['{"json": "params"}']
 * JSON params are packed as msgpack (strings as str, integers as int, reals
 * as float64). Exit 0 with the result on stdout; 1 with the daemon's
 * {code, message} (or the transport error) on stderr; 2 usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <msgpack.h>

#include "common/ipc.h"
#include "common/mpack.h"

static void
pack_json(msgpack_packer *pk, json_t *j)
{
	const char	*k;
	json_t		*v;
	size_t		 i;

	switch (json_typeof(j)) {
	case JSON_OBJECT:
		msgpack_pack_map(pk, json_object_size(j));
		json_object_foreach(j, k, v) {
			mpack_pack_str(pk, k);
			pack_json(pk, v);
		}
		break;
	case JSON_ARRAY:
		msgpack_pack_array(pk, json_array_size(j));
		json_array_foreach(j, i, v)
			pack_json(pk, v);
		break;
	case JSON_STRING:
		mpack_pack_str(pk, json_string_value(j));
		break;
	case JSON_INTEGER:
		msgpack_pack_int64(pk, json_integer_value(j));
		break;
	case JSON_REAL:
		msgpack_pack_double(pk, json_real_value(j));
		break;
	case JSON_TRUE:
		msgpack_pack_true(pk);
		break;
	case JSON_FALSE:
		msgpack_pack_false(pk);
		break;
	default:
		msgpack_pack_nil(pk);
		break;
	}
}

int
main(int argc, char *argv[])
{
	struct ipc_sync	*s;
	struct ipc_msg	 m;
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	json_error_t	 jerr;
	json_t		*params = NULL, *out;
	char		 err[512], *dump;
	int		 rc = 1;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: ipccall SOCKET METHOD [JSON-PARAMS]\n");
		return 2;
	}
	if (argc == 4 && (params = json_loads(argv[3], 0, &jerr)) == NULL) {
		fprintf(stderr, "ipccall: params: %s\n", jerr.text);
		return 2;
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	if (params != NULL)
		pack_json(&pk, params);
	else
		msgpack_pack_map(&pk, 0);
	if ((s = ipc_sync_connect(argv[1], 5000, err, sizeof(err))) == NULL) {
		fprintf(stderr, "ipccall: %s\n", err);
		goto out;
	}
	if (ipc_sync_call(s, argv[2], sb.data, sb.size, 10000, &m, err,
	    sizeof(err)) != 0)
		fprintf(stderr, "ipccall: %s: %s\n", argv[2], err);
	else if ((out = mpack_to_json(m.error != NULL ? m.error :
	    m.result)) != NULL) {
		dump = json_dumps(out, JSON_COMPACT | JSON_ENCODE_ANY);
		fprintf(m.error != NULL ? stderr : stdout, "%s\n", dump);
		free(dump);
		json_decref(out);
		rc = m.error != NULL;
	}
	ipc_sync_close(s);
out:
	msgpack_sbuffer_destroy(&sb);
	json_decref(params);
	return rc;
}
