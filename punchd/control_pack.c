/*
 * What every control file packs and answers with: counted maps, addresses,
 * a peer's endpoint, the core's errors as IPC errors, and the requests
 * answered later (control_wait). The bottom of the control group.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "common/ipc.h"
#include "common/mpack.h"
#include "common/relay_client.h"
#include "control.h"
#include "punchd.h"

msgpack_packer *
control_map_begin(struct control_map *m, msgpack_packer *out)
{
	m->out = out;
	msgpack_sbuffer_init(&m->sb);
	msgpack_packer_init(&m->pk, &m->sb, msgpack_sbuffer_write);
	return &m->pk;
}

/* Counts what was packed (a key and a value per entry), then writes the
 * header and the entries to the real packer. */
void
control_map_end(struct control_map *m)
{
	msgpack_unpacked	u;
	size_t			off = 0;
	uint32_t		n = 0;

	msgpack_unpacked_init(&u);
	while (m->sb.size > 0 && msgpack_unpack_next(&u, m->sb.data,
	    m->sb.size, &off) == MSGPACK_UNPACK_SUCCESS)
		n++;
	msgpack_unpacked_destroy(&u);
	msgpack_pack_map(m->out, n / 2);
	if (m->sb.size > 0)
		m->out->callback(m->out->data, m->sb.data, m->sb.size);
	msgpack_sbuffer_destroy(&m->sb);
}

void
control_pack_addr(msgpack_packer *pk, const char *k,
    const struct sockaddr_storage *ss, int has)
{
	char a[NETADDR_STRLEN];

	mpack_kv_str(pk, k, has ? netaddr_str((const struct sockaddr *)ss, a,
	    sizeof(a)) : NULL);
}

void
control_pack_ms(msgpack_packer *pk, const char *k, double s, int has)
{
	mpack_key(pk, k);
	if (has)
		msgpack_pack_double(pk, s * 1000);
	else
		msgpack_pack_nil(pk);
}

void
control_pack_endpoint(msgpack_packer *pk, struct peer *p)
{
	int i = -1;

	if (p->state == PEER_RELAYED)
		mpack_kv_str(pk, "endpoint", relay_url(p));
	else
		control_pack_addr(pk, "endpoint", &p->endpoint,
		    p->has_endpoint);
	/* what the endpoint is to us: host, mapped, prflx, srflx */
	if (p->state != PEER_RELAYED && p->has_endpoint)
		i = punch_find(&p->punch, (const struct sockaddr *)
		    &p->endpoint);
	mpack_kv_str(pk, "endpoint_type", i >= 0 ?
	    punch_cand_type_str(p->punch.pairs[i].remote.type) :
	    p->state == PEER_RELAYED ? "relay" : NULL);
}

const char *
control_code(enum result_code code)
{
	switch (code) {
	case RESULT_BAD_PARAMS:		return IPC_ERR_BAD_PARAMS;
	case RESULT_NOT_FOUND:		return IPC_ERR_NOT_FOUND;
	case RESULT_EXISTS:		return "exists";
	case RESULT_UNAVAILABLE:	return IPC_ERR_UNAVAILABLE;
	case RESULT_TIMEOUT:		return IPC_ERR_TIMEOUT;
	case RESULT_EXPIRED:		return "expired";
	case RESULT_REFUSED:		return "refused";
	case RESULT_TOO_BIG:		return "too_big";
	case RESULT_RELAY_REFUSED:	return "relay_refused";
	case RESULT_OK:
	case RESULT_INTERNAL:
	default:			return IPC_ERR_INTERNAL;
	}
}

void
control_error(struct ipc_conn *c, uint32_t msgid, const struct result *err)
{
	ipc_reply_error(c, msgid, control_code(err->code), "%s", err->msg);
}

struct control_wait *
control_wait_new(struct punchd *pd, struct ipc_conn *c, uint32_t msgid)
{
	struct control_wait *w;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		ipc_reply_error(c, msgid, IPC_ERR_INTERNAL, "out of memory");
		return NULL;
	}
	w->pd = pd;
	w->conn = ipc_conn_id(c);
	w->msgid = msgid;
	return w;
}

struct ipc_conn *
control_wait_end(struct control_wait *w, uint32_t *msgid)
{
	struct ipc_conn *c = NULL;

	if (w->pd->ipc != NULL)
		c = ipc_server_conn(w->pd->ipc, w->conn);
	*msgid = w->msgid;
	free(w);
	return c;
}

struct peer *
control_peer_param(struct punchd *pd, struct ipc_conn *c, uint32_t msgid,
    const msgpack_object *params)
{
	struct peer	*p;
	char		 name[PUNCHD_NAME_LEN];

	if (mpack_get_str(params, "peer", name, sizeof(name)) != 0) {
		ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS,
		    "expected {peer: name or node id, ...}");
		return NULL;
	}
	if ((p = peer_find(pd, name)) == NULL)
		ipc_reply_error(c, msgid, IPC_ERR_NOT_FOUND, "no peer '%s'",
		    name);
	return p;
}

/* a peer's relay session refused: relay_error ("relay URL refused: 403
 * token expired"), and what to do (relay_hint); nil both otherwise */
void
control_pack_relay_error(msgpack_packer *pk, struct peer *p)
{
	const struct relay_client_refusal *r = relay_refusal(p);
	char e[400];

	if (r != NULL)
		snprintf(e, sizeof(e), "relay %s refused: %s", r->url, r->text);
	mpack_kv_str(pk, "relay_error", r != NULL ? e : NULL);
	mpack_kv_str(pk, "relay_hint", r != NULL ?
	    relay_access_hint(r->reason) : NULL);
}

/*
 * What one relay is to this node now: connected (a pair session is on
 * it), down (no answer to the last attempt, relay_pick.c), refused (its
 * last answer), accepted (answered, no session on it now) or untried.
 */
static const char *
control_relay_reach(const struct relay_access_row *r, int sessions)
{
	if (sessions > 0)
		return "connected";
	if (r->down)
		return "down";
	return relay_access_state_str(r->state);
}

static void
control_pack_relay(msgpack_packer *out, struct punchd *pd,
    const struct relay_access_row *r)
{
	struct control_map	 m;
	msgpack_packer		*pk = control_map_begin(&m, out);
	int			 n, relayed;
	double			 rtt;

	relay_pick_usage(pd, r->url, &n, &relayed, &rtt);
	mpack_kv_str(pk, "url", r->url);
	mpack_kv_bool(pk, "configured", r->configured);
	mpack_kv_str(pk, "state", relay_access_state_str(r->state));
	mpack_kv_int(pk, "sessions", n);
	/* relay_pick.c: connected, down, refused, accepted, untried */
	mpack_kv_str(pk, "reach", control_relay_reach(r, n));
	mpack_kv_int(pk, "relayed_peers", relayed);
	mpack_key(pk, "session_rtt_ms");
	if (rtt < 0)
		msgpack_pack_nil(pk);
	else
		msgpack_pack_double(pk, rtt);
	mpack_key(pk, "down_at");
	if (!r->down)
		msgpack_pack_nil(pk);
	else
		msgpack_pack_double(pk, r->down_at);
	mpack_key(pk, "last_refusal");
	if (r->status == 0)
		msgpack_pack_nil(pk);
	else {
		struct control_map	 e;
		msgpack_packer		*ek = control_map_begin(&e, pk);

		mpack_kv_int(ek, "status", r->status);
		mpack_kv_str(ek, "reason", r->reason[0] ? r->reason : NULL);
		mpack_kv_str(ek, "error", r->text);
		mpack_kv_str(ek, "hint", relay_access_hint(r->reason));
		mpack_kv_double(ek, "at", r->refused_at);
		mpack_kv_uint(ek, "count", r->refusals);
		control_map_end(&e);
	}
	control_map_end(&m);
}

/* status.get's relays: the configured ones, then those of invites */
void
control_pack_relays(msgpack_packer *pk, struct punchd *pd)
{
	int i;

	msgpack_pack_array(pk, pd->nrelays);
	for (i = 0; i < pd->nrelays; i++)
		control_pack_relay(pk, pd, &pd->relays[i]);
}

/* a peer's candidate pairs, as peer.get and peer.why show them */
void
control_pack_pairs(msgpack_packer *pk, struct peer *p)
{
	static const char *const st[] = { "waiting", "in-progress",
	    "succeeded", "failed" };
	const struct punch_pair	*pp;
	struct sockaddr_storage	 ss;
	struct control_map	 m;
	int			 i;

	msgpack_pack_array(pk, p->punch.npairs);
	for (i = 0; i < p->punch.npairs; i++) {
		pp = &p->punch.pairs[i];
		control_map_begin(&m, pk);
		memset(&ss, 0, sizeof(ss));
		memcpy(&ss, &pp->remote.addr, sizeof(pp->remote.addr));
		control_pack_addr(&m.pk, "address", &ss, 1);
		mpack_kv_str(&m.pk, "type",
		    punch_cand_type_str(pp->remote.type));
		mpack_kv_uint(&m.pk, "priority", pp->prio);
		mpack_kv_str(&m.pk, "check", st[pp->state]);
		mpack_kv_int(&m.pk, "sent", pp->sends);
		mpack_kv_bool(&m.pk, "selected", i == p->punch.selected);
		control_map_end(&m);
	}
}
