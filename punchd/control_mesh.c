/*
 * mesh.init, mesh.get, mesh.leave, mesh.invite and mesh.join: params
 * decoded here, the work done by node.c, inviter.c and joiner.c, answers
 * packed here (mesh.join's when the join is over).
 */
#include <string.h>
#include <time.h>

#include <msgpack.h>
#include <sodium.h>

#include "common/ipc.h"
#include "common/mpack.h"
#include "control.h"
#include "inviter.h"
#include "joiner.h"
#include "node.h"
#include "punchd.h"

static void
control_mesh_pack(struct punchd *pd, msgpack_packer *out)
{
	struct mesh		*m = &pd->mesh;
	struct mesh_invite	*inv;
	struct control_map	 map, im;
	char			 id[2 * JOIN_MESH_ID_LEN + 1], key[65];
	int			 n = 0;
	uint64_t		 now = (uint64_t)time(NULL);
	msgpack_packer		*pk = control_map_begin(&map, out);

	LIST_FOREACH(inv, &m->invites, entry)
		n++;
	sodium_bin2hex(id, sizeof(id), m->id, sizeof(m->id));
	sodium_bin2hex(key, sizeof(key), m->pk, sizeof(m->pk));
	mpack_kv_str(pk, "name", m->have ? m->name : NULL);
	mpack_kv_str(pk, "mesh_id", m->have ? id : NULL);
	mpack_kv_str(pk, "source", m->source);
	mpack_kv_str(pk, "node_id", pd->node_idstr);
	mpack_kv_str(pk, "public_key", m->have_key ? key : NULL);
	mpack_kv_int(pk, "members", m->nmembers);
	mpack_kv_int(pk, "peers", pd->npeers);
	mpack_key(pk, "invites");
	msgpack_pack_array(pk, n);
	LIST_FOREACH(inv, &m->invites, entry) {
		control_map_begin(&im, pk);
		mpack_kv_str(&im.pk, "invite", inv->tag);
		mpack_kv_int(&im.pk, "expires_in_s", (int64_t)inv->expires -
		    (int64_t)now);
		mpack_kv_int(&im.pk, "uses", inv->nuses);
		mpack_kv_int(&im.pk, "max_uses", inv->max_uses);
		control_map_end(&im);
	}
	control_map_end(&map);
}

void
control_mesh_get(struct ipc_conn *c, uint32_t msgid,
    const msgpack_object *params, void *arg)
{
	(void)params;
	control_mesh_pack(arg, ipc_reply_start(c, msgid));
	ipc_reply_finish(c);
}

void
control_mesh_init(struct ipc_conn *c, uint32_t msgid,
    const msgpack_object *params, void *arg)
{
	struct punchd	*pd = arg;
	struct result	 err;
	char		 name[JOIN_NAME_MAX + 1];
	int		 force = 0;

	if (mpack_get_str(params, "name", name, sizeof(name)) != 0 ||
	    mpack_get_bool(params, "force", &force) == -1 || name[0] == '\0') {
		ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS, "expected {name: "
		    "1..%d bytes, force?: bool}", JOIN_NAME_MAX);
		return;
	}
	if (node_mesh_create(pd, name, force, &err) == -1) {
		control_error(c, msgid, &err);
		return;
	}
	control_mesh_get(c, msgid, params, arg);
}

void
control_mesh_leave(struct ipc_conn *c, uint32_t msgid,
    const msgpack_object *params, void *arg)
{
	struct result err;

	(void)params;
	if (node_mesh_leave(arg, &err) == -1) {
		control_error(c, msgid, &err);
		return;
	}
	ipc_reply_ok(c, msgid);
}

/*
 * An endpoint parameter: absent = what punchd knows, "" = withheld (tests,
 * or a node that should only be joined through the relay), else as given.
 * -1 when malformed.
 */
static int
control_mesh_endpoint(const msgpack_object *params, const char *key,
    char *buf, size_t len, enum inviter_how *how)
{
	int r = mpack_get_str(params, key, buf, len);

	if (r == -1)
		return -1;
	*how = r != 0 ? INVITER_AUTO : buf[0] != '\0' ? INVITER_GIVEN :
	    INVITER_WITHHELD;
	return 0;
}

void
control_mesh_invite(struct ipc_conn *c, uint32_t msgid,
    const msgpack_object *params, void *arg)
{
	struct punchd		*pd = arg;
	struct inviter_req	 req;
	struct inviter_res	 res;
	struct result		 err;
	struct control_map	 m;

	memset(&req, 0, sizeof(req));
	req.expires_s = 3600;
	req.uses = 1;
	if (mpack_get_int(params, "expires_s", &req.expires_s) == -1 ||
	    mpack_get_int(params, "uses", &req.uses) == -1 ||
	    req.expires_s < 1 || req.expires_s > 30 * 86400 || req.uses < 1 ||
	    req.uses > MESH_MAX_USES ||
	    control_mesh_endpoint(params, "local", req.local,
	    sizeof(req.local), &req.local_how) == -1 ||
	    control_mesh_endpoint(params, "public", req.public,
	    sizeof(req.public), &req.public_how) == -1 ||
	    control_mesh_endpoint(params, "relay", req.relay,
	    sizeof(req.relay), &req.relay_how) == -1) {
		ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS, "expected "
		    "{expires_s?: 1..2592000, uses?: 1..%d, local?, public?, "
		    "relay?}", MESH_MAX_USES);
		return;
	}
	if (inviter_mint(pd, &req, &res, &err) == -1) {
		control_error(c, msgid, &err);
		return;
	}
	control_map_begin(&m, ipc_reply_start(c, msgid));
	mpack_kv_str(&m.pk, "token", res.token);
	mpack_kv_str(&m.pk, "invite", res.tag);
	mpack_kv_uint(&m.pk, "expires", res.expires);
	mpack_kv_int(&m.pk, "max_uses", res.max_uses);
	control_map_end(&m);
	ipc_reply_finish(c);
	sodium_memzero(&res, sizeof(res));
}

/* each path: how it went ("won", "failed", "cancelled", "absent") */
static void
control_join_attempts(msgpack_packer *pk, const struct joiner_attempt *a)
{
	struct control_map	m;
	int			i;

	msgpack_pack_array(pk, JOINER_NPATHS);
	for (i = 0; i < JOINER_NPATHS; i++) {
		control_map_begin(&m, pk);
		mpack_kv_str(&m.pk, "path", a[i].path);
		mpack_kv_str(&m.pk, "via", a[i].via[0] ? a[i].via : NULL);
		mpack_kv_str(&m.pk, "state", a[i].state);
		mpack_kv_str(&m.pk, "why", a[i].why[0] ? a[i].why : NULL);
		mpack_kv_double(&m.pk, "start_ms", a[i].start_ms);
		mpack_kv_double(&m.pk, "end_ms", a[i].end_ms);
		control_map_end(&m);
	}
}

static void
control_join_done(void *arg, const struct joiner_res *res,
    const struct result *err)
{
	struct control_map	 m;
	struct ipc_conn		*c;
	struct peer		*p;
	uint32_t		 msgid;

	if ((c = control_wait_end(arg, &msgid)) == NULL)
		return;
	if (err != NULL) {
		control_error(c, msgid, err);
		return;
	}
	p = res->peer;
	control_map_begin(&m, ipc_reply_start(c, msgid));
	mpack_kv_str(&m.pk, "mesh", res->mesh);
	mpack_kv_str(&m.pk, "mesh_id", res->mesh_id);
	mpack_kv_str(&m.pk, "path", res->path);
	mpack_kv_str(&m.pk, "via", res->via);
	mpack_kv_str(&m.pk, "inviter", p != NULL ? p->idstr : NULL);
	mpack_kv_str(&m.pk, "state", p != NULL ? peer_state_str(p->state) :
	    NULL);
	mpack_kv_str(&m.pk, "peer_path", p != NULL ? peer_path(p) : NULL);
	if (p != NULL)
		control_pack_endpoint(&m.pk, p);
	else
		mpack_kv_str(&m.pk, "endpoint", NULL);
	mpack_kv_double(&m.pk, "welcome_ms", res->welcome_ms);
	mpack_kv_double(&m.pk, "elapsed_ms", res->elapsed_ms);
	mpack_key(&m.pk, "attempts");
	control_join_attempts(&m.pk, res->attempts);
	control_map_end(&m);
	ipc_reply_finish(c);
}

void
control_mesh_join(struct ipc_conn *c, uint32_t msgid,
    const msgpack_object *params, void *arg)
{
	struct punchd		*pd = arg;
	struct joiner_req	 req;
	struct control_wait	*w;
	struct result		 err;

	memset(&req, 0, sizeof(req));
	req.timeout_ms = 3000;
	req.relay_timeout_ms = -1;
	req.stagger_ms = 250;
	req.connect_ms = 5000;
	if (mpack_get_str(params, "token", req.token, sizeof(req.token)) != 0 ||
	    mpack_get_str(params, "path", req.path, sizeof(req.path)) == -1 ||
	    mpack_get_int(params, "timeout_ms", &req.timeout_ms) == -1 ||
	    mpack_get_int(params, "relay_timeout_ms", &req.relay_timeout_ms)
	    == -1 ||
	    mpack_get_int(params, "stagger_ms", &req.stagger_ms) == -1 ||
	    mpack_get_int(params, "connect_ms", &req.connect_ms) == -1 ||
	    mpack_get_str(params, "name", req.name, sizeof(req.name)) == -1 ||
	    mpack_get_bool(params, "force", &req.force) == -1 ||
	    req.timeout_ms < 1 || req.timeout_ms > 600000 ||
	    req.relay_timeout_ms < -1 || req.relay_timeout_ms == 0 ||
	    req.relay_timeout_ms > 600000 ||
	    req.stagger_ms < 0 || req.stagger_ms > 60000 ||
	    req.connect_ms < 0 || req.connect_ms > 600000) {
		sodium_memzero(req.token, sizeof(req.token));
		ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS, "expected {token, "
		    "path?: local|public|relay or a list, stagger_ms?, "
		    "timeout_ms?, relay_timeout_ms?, connect_ms?, name?, "
		    "force?}");
		return;
	}
	/* one path asked for alone keeps timeout_ms, as before the race */
	if (req.relay_timeout_ms == -1)
		req.relay_timeout_ms = !strcmp(req.path, "relay") ?
		    req.timeout_ms : 10000;
	if ((w = control_wait_new(pd, c, msgid)) != NULL &&
	    joiner_start(pd, &req, control_join_done, w, &err) == -1) {
		control_wait_end(w, &msgid);
		control_error(c, msgid, &err);
	}
	sodium_memzero(req.token, sizeof(req.token));
}
