/*
 * stun.check: the netcheck's STUN half. One Binding transaction to every
 * configured server at once, from stund's own sockets (one per family), and
 * every answer waited for (no grace after the first, unlike a discovery):
 * per server the round-trip time or why it failed, per family whether UDP
 * gets through and whether the mapping varies by destination (one socket,
 * several servers: different mapped addresses mean it does). Bounded by
 * timeout_ms: a server that never answers costs that, never a hang.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "common/ipc.h"
#include "common/mpack.h"
#include "common/mpack_map.h"
#include "common/netaddr.h"
#include "control.h"
#include "discover.h"
#include "stund.h"

struct check_run {
	LIST_ENTRY(check_run)	 entry;
	struct stund		*sd;
	struct discover_run	 run;
	int64_t			 timeout_ms;
	uint64_t		 conn;
	uint32_t		 msgid;
	int			 waiting;	/* for the names to resolve */
};
static LIST_HEAD(, check_run) check_runs = LIST_HEAD_INITIALIZER(check_runs);

static const struct discover_srv_result *
check_result(const struct discover_run *r, int srv)
{
	int i;

	for (i = 0; i < r->nprobes; i++)
		if (r->res[i].srv == srv)
			return &r->res[i];
	return NULL;
}

static void
check_pack_server(msgpack_packer *out, const struct stund_srv *s,
    const struct discover_srv_result *res)
{
	struct mpack_map	 m;
	msgpack_packer		*pk = mpack_map_begin(&m, out);
	char			 a[NETADDR_STRLEN];
	int			 ok = res != NULL && res->state == 1;

	mpack_kv_str(pk, "server", s->name);
	mpack_kv_str(pk, "address", s->resolved == 1 ? netaddr_str(
	    (const struct sockaddr *)&s->addr, a, sizeof(a)) : NULL);
	if (s->resolved == 1)
		mpack_kv_int(pk, "family", s->addr.ss_family == AF_INET6 ?
		    6 : 4);
	else
		mpack_kv_str(pk, "family", NULL);
	mpack_kv_bool(pk, "ok", ok);
	if (ok)
		mpack_kv_double(pk, "rtt_ms", res->rtt_ms);
	else
		mpack_kv_str(pk, "rtt_ms", NULL);
	mpack_kv_str(pk, "mapped", ok ? netaddr_str((const struct sockaddr *)
	    &res->mapped, a, sizeof(a)) : NULL);
	mpack_kv_str(pk, "other_address", ok && res->has_other ?
	    netaddr_str((const struct sockaddr *)&res->other, a, sizeof(a)) :
	    NULL);
	mpack_kv_str(pk, "error", ok ? NULL : res != NULL ? (res->state == 0 ?
	    "pending" : res->error) : s->resolved == -1 ? s->error :
	    s->resolved == 1 ? "not asked: no socket of its address family "
	    "could be opened (IPv6 off on this host?)" :
	    "not asked: its name is not resolved yet");
	mpack_map_end(&m);
}

/* One family's summary: asked, answered, public, mapping_varies, note. */
static void
check_pack_family(msgpack_packer *out, struct stund *sd,
    const struct discover_run *r, int family)
{
	const struct discover_srv_result *res, *first = NULL;
	struct mpack_map	 m;
	msgpack_packer		*pk = mpack_map_begin(&m, out);
	char			 a[NETADDR_STRLEN], note[400] = "";
	size_t			 off = 0;
	int			 i, configured = 0, asked = 0, ok = 0, varies = -1;

	for (i = 0; i < sd->nservers; i++) {
		const struct stund_srv *s = &sd->servers[i];

		if (s->resolved != 1 || s->addr.ss_family != family)
			continue;
		configured++;
		if ((res = check_result(r, i)) == NULL)
			continue;
		asked++;
		if (res->state != 1) {
			off += snprintf(note + off, off < sizeof(note) ?
			    sizeof(note) - off : 0, "%s%s (%s)", off ? ", " :
			    "", s->name, res->state == 0 ? "pending" :
			    res->error);
			continue;
		}
		ok++;
		if (first == NULL)
			first = res;
		else if (!netaddr_equal((const struct sockaddr *)&sd->servers[
		    first->srv].addr, (const struct sockaddr *)&s->addr))
			varies = varies == 1 || !netaddr_equal(
			    (const struct sockaddr *)&first->mapped,
			    (const struct sockaddr *)&res->mapped);
	}
	mpack_kv_int(pk, "servers", configured);
	mpack_kv_int(pk, "asked", asked);
	mpack_kv_int(pk, "answered", ok);
	mpack_kv_str(pk, "public", first != NULL ? netaddr_str(
	    (const struct sockaddr *)&first->mapped, a, sizeof(a)) : NULL);
	mpack_key(pk, "mapping_varies");
	if (varies == -1)
		msgpack_pack_nil(pk);
	else if (varies)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
	mpack_kv_str(pk, "no_answer_from", note[0] ? note : NULL);
	mpack_map_end(&m);
}

static void
check_reply(struct check_run *x)
{
	struct stund		*sd = x->sd;
	const struct discover_run *r = &x->run;
	struct ipc_conn		*c;
	struct mpack_map	 m;
	msgpack_packer		*pk;
	int			 i;

	if ((c = ipc_server_conn(sd->ipc, x->conn)) == NULL)
		return;		/* the client left meanwhile */
	pk = mpack_map_begin(&m, ipc_reply_start(c, x->msgid));
	mpack_kv_bool(pk, "udp", r->winner != -1);
	mpack_kv_double(pk, "duration_s", r->finished - r->started);
	mpack_kv_int(pk, "timeout_ms", x->timeout_ms);
	mpack_key(pk, "ipv4");
	check_pack_family(pk, sd, r, AF_INET);
	mpack_key(pk, "ipv6");
	check_pack_family(pk, sd, r, AF_INET6);
	mpack_kv_str(pk, "error", r->winner == -1 ? r->error : NULL);
	mpack_key(pk, "servers");
	msgpack_pack_array(pk, sd->nservers);
	for (i = 0; i < sd->nservers; i++)
		check_pack_server(pk, &sd->servers[i], check_result(r, i));
	mpack_map_end(&m);
	ipc_reply_finish(c);
}

static void
check_done(struct discover_run *r, void *arg)
{
	struct check_run *x = arg;

	(void)r;
	check_reply(x);
	LIST_REMOVE(x, entry);
	free(x);
}

static void
check_start(struct check_run *x)
{
	x->waiting = 0;
	discover_run_start_all(&x->run, x->sd, -1, AF_UNSPEC,
	    x->timeout_ms / 1000.0, check_done, x);
}

/* the names resolved (discover_request's completion) */
static void
check_resolved(struct stund *sd, int status, void *arg)
{
	struct check_run *x = arg;

	(void)sd;
	if (status == -1)
		return;		/* shutting down: control_check_fini frees x */
	check_start(x);
}

void
control_check(struct ipc_conn *c, uint32_t msgid,
    const msgpack_object *params, void *arg)
{
	struct stund		*sd = arg;
	struct check_run	*x;
	int64_t			 timeout_ms = sd->cfg.timeout_ms;

	if (mpack_get_int(params, "timeout_ms", &timeout_ms) == -1 ||
	    timeout_ms < 100 || timeout_ms > 60000) {
		ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS,
		    "expected {timeout_ms?: 100..60000}");
		return;
	}
	if ((x = calloc(1, sizeof(*x))) == NULL) {
		ipc_reply_error(c, msgid, IPC_ERR_INTERNAL, "out of memory");
		return;
	}
	x->sd = sd;
	x->timeout_ms = timeout_ms;
	x->conn = ipc_conn_id(c);
	x->msgid = msgid;
	LIST_INSERT_HEAD(&check_runs, x, entry);
	/* names never resolved yet: the first discovery resolves them */
	if (sd->disc->resolved_at == 0 && sd->nservers > 0) {
		x->waiting = 1;
		if (discover_request(sd, 1, check_resolved, x) == 0)
			return;
	}
	check_start(x);
}

void
control_check_fini(void)
{
	struct check_run *x;

	while ((x = LIST_FIRST(&check_runs)) != NULL) {
		if (!x->waiting)
			discover_run_cancel(&x->run);
		LIST_REMOVE(x, entry);
		free(x);
	}
}
