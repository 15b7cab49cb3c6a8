/*
 * relayd's IPC dispatch: status.get, session.list, session.kick
 * (proto/methods.c has their params and results).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/ipc.h"
#include "common/log.h"
#include "common/mpack.h"
#include "common/mpack_map.h"
#include "relayd/http.h"
#include "relayd/relayd.h"

/* status.get's counters: metrics.c's table, "drops" (every reason of
 * relayd_drops_total), one auth_fail_ and one disconnect_ per reason. */
static void
control_counters(msgpack_packer *out, const struct relayd_stats *st)
{
	const struct metrics_counter	*m, *end = metrics_counters +
					    metrics_ncounters;
	struct mpack_map		 map;
	msgpack_packer			*p = mpack_map_begin(&map, out);
	uint64_t			 drops = 0;
	int				 i;

	for (m = metrics_counters; m < end; m++) {
		if (m->key != NULL)
			mpack_kv_uint(p, m->key, metrics_value(st, m));
		if (strcmp(m->family, "relayd_drops_total") == 0)
			drops += metrics_value(st, m);
	}
	mpack_kv_uint(p, "drops", drops);
	for (i = 0; i < AUTH_MAX; i++) {
		char k[48];

		snprintf(k, sizeof(k), "auth_fail_%s", metrics_auth_str(i));
		mpack_kv_uint(p, k, st->auth_fail[i]);
	}
	for (i = 0; i < REASON_MAX; i++) {
		char k[48];

		snprintf(k, sizeof(k), "disconnect_%s", metrics_reason_str(i));
		mpack_kv_uint(p, k, st->disc[i]);
	}
	mpack_map_end(&map);
}

static void
control_status(struct ipc_conn *c, uint32_t msgid, const msgpack_object *params,
    void *arg)
{
	struct relayd		*rd = arg;
	struct mpack_map	 m;
	msgpack_packer		*p;
	char			 listen[96];

	(void)params;
	snprintf(listen, sizeof(listen), strchr(rd->conf.listen, ':') ?
	    "%s[%s]:%d" : "%s%s:%d", rd->tls ? "wss://" : "ws://",
	    rd->conf.listen[0] ? rd->conf.listen : "*", rd->port);
	p = mpack_map_begin(&m, ipc_reply_start(c, msgid));
	mpack_kv_str(p, "listen", listen);
	mpack_kv_str(p, "daemon", "relayd");
	mpack_kv_str(p, "version", RELAYD_VERSION);
	mpack_kv_int(p, "pid", getpid());
	mpack_kv_double(p, "uptime_s", daemon_uptime(&rd->dctx));
	mpack_kv_int(p, "proto", IPC_PROTO_VERSION);
	mpack_kv_int(p, "port", rd->port);
	mpack_kv_bool(p, "tls", rd->tls != NULL);
	mpack_kv_uint(p, "sessions", session_count(rd->sessions));
	mpack_kv_uint(p, "clients", rd->nws);
	mpack_kv_uint(p, "connections", rd->nclients);
	mpack_key(p, "counters");
	control_counters(p, &rd->st);
	mpack_map_end(&m);
	ipc_reply_finish(c);
}

struct control_list {
	struct relayd	*rd;
	msgpack_packer	*p;
};

static void
control_list_one(struct session *s, void *arg)
{
	struct control_list	*l = arg;
	struct session_member	*m;
	struct relayd_conn	*c;
	struct mpack_map	 sm, cm;
	msgpack_packer		*p = mpack_map_begin(&sm, l->p), *cp;

	mpack_kv_str(p, "session", s->id);
	mpack_key(p, "clients");
	msgpack_pack_array(p, s->nmembers);
	TAILQ_FOREACH(m, &s->members, entry) {
		c = container_of(m, struct relayd_conn, member);
		cp = mpack_map_begin(&cm, p);
		mpack_kv_uint(cp, "id", m->id);
		mpack_kv_str(cp, "address", c->addr_str);
		mpack_kv_double(cp, "since_s", ev_now(l->rd->loop) - c->since);
		mpack_kv_uint(cp, "rx_bytes", c->rx_bytes);
		mpack_kv_uint(cp, "tx_bytes", c->tx_bytes);
		mpack_map_end(&cm);
	}
	mpack_kv_uint(p, "rx_bytes", s->rx_bytes);
	mpack_kv_uint(p, "tx_bytes", s->tx_bytes);
	mpack_map_end(&sm);
}

static void
control_session_list(struct ipc_conn *c, uint32_t msgid,
    const msgpack_object *params, void *arg)
{
	struct control_list l = { arg, NULL };

	(void)params;
	l.p = ipc_reply_start(c, msgid);
	msgpack_pack_array(l.p, session_count(l.rd->sessions));
	session_foreach(l.rd->sessions, control_list_one, &l);
	ipc_reply_finish(c);
}

static int
control_kick(struct relayd *rd, const char *id)
{
	struct session		*s;
	struct session_member	*m;
	int			 n = 0;

	if ((s = session_find(rd->sessions, id)) == NULL)
		return -1;
	/* ws_close only queues a close frame: the member list stays put */
	TAILQ_FOREACH(m, &s->members, entry) {
		struct relayd_conn *c = container_of(m, struct relayd_conn,
		    member);

		if (c->state == CLIENT_WS) {
			ws_close(c, 1008, "kicked by operator", REASON_KICKED);
			n++;
		}
	}
	log_info("session %s: kicked %d clients", id, n);
	return n;
}

static void
control_session_kick(struct ipc_conn *c, uint32_t msgid,
    const msgpack_object *params, void *arg)
{
	char		 id[HTTP_SESSION_MAX + 1];
	struct mpack_map m;
	msgpack_packer	*p;
	int		 n;

	if (mpack_get_str(params, "session", id, sizeof(id)) != 0 ||
	    !http_session_valid(id)) {
		ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS,
		    "session: a session id is required");
		return;
	}
	if ((n = control_kick(arg, id)) == -1) {
		ipc_reply_error(c, msgid, IPC_ERR_NOT_FOUND,
		    "no session %s", id);
		return;
	}
	p = mpack_map_begin(&m, ipc_reply_start(c, msgid));
	mpack_kv_int(p, "kicked", n);
	mpack_map_end(&m);
	ipc_reply_finish(c);
}

static const struct ipc_method control_methods[] = {
	{ "status.get", control_status },
	{ "session.list", control_session_list },
	{ "session.kick", control_session_kick },
};

int
control_init(struct relayd *rd, const char *path)
{
	rd->ipc = ipc_server_new(rd->loop, "relayd", path, control_methods,
	    sizeof(control_methods) / sizeof(control_methods[0]), rd);
	return rd->ipc != NULL ? 0 : -1;
}

void
control_fini(struct relayd *rd)
{
	if (rd->ipc != NULL)
		ipc_server_free(rd->ipc);
	rd->ipc = NULL;
}
