/*
 * IPC decoding as ipc_server.c does it for every client read: the byte
 * pre-scan (ipc_scan_feed, which keeps msgpack-c from allocating what a
 * header claims), msgpack-c's streaming unpacker over what the scan let
 * through, ipc_msg_parse on each object, then what handlers do with
 * params (the mpack_* getters, mpack_to_json for --json) and the error
 * reply built from a recovered msgid. The first byte sets the read size,
 * so messages are split across reads at varying places.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <msgpack.h>

#include "common/ipc.h"
#include "common/log.h"
#include "common/mpack.h"

/* keys the daemons' handlers read (proto/methods.c) */
static const char *const keys[] = {
	"refresh", "family", "socket", "timeout_ms", "data", "from",
	"events", "session", "peer", "id", "name", "addr", "count", "size",
	"interval_ms", "node", "mesh", "token", "relay", "",
};

static void
params(const msgpack_object *p)
{
	char		 buf[64];
	const char	*d;
	size_t		 i, n;
	int64_t		 v;
	int		 b;
	json_t		*j;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		(void)mpack_get(p, keys[i]);
		(void)mpack_get_str(p, keys[i], buf, sizeof(buf));
		(void)mpack_get_str(p, keys[i], buf, 1);
		(void)mpack_get_int(p, keys[i], &v);
		(void)mpack_get_bool(p, keys[i], &b);
		if (mpack_get_bin(p, keys[i], &d, &n) == 0 && n > 0)
			buf[0] = d[n - 1];
	}
	(void)mpack_str_eq(p, "status.get");
	(void)mpack_str_copy(p, buf, sizeof(buf));
	if ((j = mpack_to_json(p)) != NULL)
		json_decref(j);
}

static void
message(const msgpack_object *o)
{
	struct ipc_msg		m;
	msgpack_sbuffer		sb;
	msgpack_packer		pk;
	char			err[128];

	if (ipc_msg_parse(o, &m, err, sizeof(err)) == -1) {
		if (m.type == IPC_REQUEST) {
			msgpack_sbuffer_init(&sb);
			msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
			ipc_pack_error(&pk, m.msgid, IPC_ERR_BAD_REQUEST, err);
			msgpack_sbuffer_destroy(&sb);
		}
		return;
	}
	if (strlen(m.method) >= sizeof(m.method))
		abort();
	if (m.params != NULL)
		params(m.params);
	if (m.error != NULL)
		params(m.error);
	if (m.result != NULL)
		params(m.result);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int		 inited;
	struct ipc_scan		 sc;
	msgpack_unpacker	 unp;
	msgpack_unpacked	 u;
	msgpack_unpack_return	 r;
	size_t			 chunk, n, ok;
	char			 err[128];
	uint32_t		 msgid;
	int			 bad = 0, s;

	if (!inited) {
		log_init("fuzz_ipc", LOG_LVL_ERR);
		inited = 1;
	}
	if (size < 1)
		return 0;
	chunk = 1 + data[0] % 64 * 37;
	data++;
	size--;
	ipc_scan_init(&sc);
	if (!msgpack_unpacker_init(&unp, 4096))
		return 0;
	msgpack_unpacked_init(&u);
	while (size > 0 && !bad) {
		n = size < chunk ? size : chunk;
		if (!msgpack_unpacker_reserve_buffer(&unp, n))
			break;
		memcpy(msgpack_unpacker_buffer(&unp), data, n);
		s = ipc_scan_feed(&sc, data, n, &ok, err, sizeof(err));
		if (s == -1 && ok > n)
			abort();
		msgpack_unpacker_buffer_consumed(&unp, s == 0 ? n : ok);
		data += n;
		size -= n;
		for (;;) {
			r = msgpack_unpacker_next(&unp, &u);
			if (r != MSGPACK_UNPACK_SUCCESS) {
				if (r != MSGPACK_UNPACK_CONTINUE)
					bad = 1;
				break;
			}
			message(&u.data);
		}
		if (s == -1) {
			(void)ipc_scan_msgid(&sc, &msgid);
			bad = 1;
		}
	}
	msgpack_unpacked_destroy(&u);
	msgpack_unpacker_destroy(&unp);
	return 0;
}
