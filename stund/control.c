/*
 * stund's IPC dispatch: decode params, call a named function, reply.
 */
#include "control.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#include "common/ipc.h"
#include "common/log.h"
#include "common/mpack.h"
#include "common/mpack_map.h"
#include "common/netaddr.h"
#include "common/promtext.h"
#include "counters.h"
#include "discover.h"
#include "natbehav.h"
#include "probe.h"
#include "server.h"
#include "stund.h"

/* A discovery through another process's socket (stun.discover socket:true). */
struct ext_run {
	LIST_ENTRY(ext_run)	 entry;
	struct stund		*sd;
	struct discover_run	 run;
	int			 fd;
	uint64_t		 conn;
	uint32_t		 msgid;
};
static LIST_HEAD(, ext_run) ext_runs = LIST_HEAD_INITIALIZER(ext_runs);

static void
pack_addr(msgpack_packer *pk, const char *key,
    const struct sockaddr_storage *ss)
{
	char a[NETADDR_STRLEN];

	mpack_kv_str(pk, key, ss->ss_family == AF_UNSPEC ? NULL :
	    netaddr_str((const struct sockaddr *)ss, a, sizeof(a)));
}

static void
pack_servers(msgpack_packer *out, struct stund *sd,
    const struct discover_run *r)
{
	struct mpack_map	 m;
	msgpack_packer		*pk;
	int			 i, j;

	msgpack_pack_array(out, sd->nservers);
	for (i = 0; i < sd->nservers; i++) {
		const struct stund_srv			*s = &sd->servers[i];
		const struct discover_srv_result	*res = NULL;

		for (j = 0; r != NULL && j < r->nprobes; j++)
			if (r->res[j].srv == i)
				res = &r->res[j];
		pk = mpack_map_begin(&m, out);
		mpack_kv_str(pk, "server", s->name);
		if (s->resolved == 1)
			pack_addr(pk, "address", &s->addr);
		else
			mpack_kv_str(pk, "address", NULL);
		if (res != NULL && res->state == 1) {
			mpack_kv_bool(pk, "ok", 1);
			mpack_kv_double(pk, "rtt_ms", res->rtt_ms);
			pack_addr(pk, "mapped", &res->mapped);
			if (res->has_other)
				pack_addr(pk, "other_address", &res->other);
			else
				mpack_kv_str(pk, "other_address", NULL);
		} else {
			mpack_kv_bool(pk, "ok", 0);
			mpack_kv_str(pk, "error", res != NULL ?
			    (res->state == 0 ? "pending" : res->error) :
			    (s->error[0] ? s->error : "not asked yet"));
			mpack_kv_str(pk, "mapped", NULL);
			mpack_kv_str(pk, "other_address", NULL);
		}
		mpack_map_end(&m);
	}
}

static void
pack_discovery(msgpack_packer *out, struct stund *sd,
    const struct discover_run *r, const struct sockaddr_storage *pub,
    const struct sockaddr_storage *local, double age)
{
	struct mpack_map	 m;
	msgpack_packer		*pk;
	struct sockaddr_storage	 v6;
	int			 i, have6 = 0;

	for (i = 0; i < r->nprobes; i++)
		if (r->res[i].state == 1 &&
		    r->res[i].mapped.ss_family == AF_INET6) {
			v6 = r->res[i].mapped;
			have6 = 1;
			break;
		}
	pk = mpack_map_begin(&m, out);
	pack_addr(pk, "public", pub);
	if (have6)
		pack_addr(pk, "public6", &v6);
	else
		mpack_kv_str(pk, "public6", NULL);
	pack_addr(pk, "local", local);
	mpack_kv_str(pk, "server", r->winner >= 0 ?
	    sd->servers[r->res[r->winner].srv].name : NULL);
	mpack_kv_double(pk, "rtt_ms", r->winner >= 0 ?
	    r->res[r->winner].rtt_ms : 0);
	mpack_kv_double(pk, "age_s", age);
	mpack_key(pk, "servers");
	pack_servers(pk, sd, r);
	mpack_map_end(&m);
}

/* A request answered later: the client may leave meanwhile, so it is
 * found again by its id. */
struct pending {
	uint64_t	 conn;
	uint32_t	 msgid;
};

static struct pending *
control_pending(struct ipc_conn *c, uint32_t msgid)
{
	struct pending *q;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	q->conn = ipc_conn_id(c);
	q->msgid = msgid;
	return q;
}

/* discover_request's completion: the cached result or why there is none */
static void
control_discover_done(struct stund *sd, int status, void *arg)
{
	struct pending	*q = arg;
	struct discover	*d = sd->disc;
	struct ipc_conn	*c;
	msgpack_packer	*pk;
	uint32_t	 msgid = q->msgid;

	c = status == 0 ? ipc_server_conn(sd->ipc, q->conn) : NULL;
	free(q);
	if (c == NULL)
		return;		/* the client left meanwhile, or shutdown */
	if (!d->have) {
		ipc_reply_error(c, msgid, IPC_ERR_UNAVAILABLE, "%s",
		    d->run.error[0] ? d->run.error : "no answer yet");
		return;
	}
	pk = ipc_reply_start(c, msgid);
	pack_discovery(pk, sd, &d->run, &d->public, &d->local,
	    ev_now(sd->loop) - d->when);
	ipc_reply_finish(c);
}

static void
control_ext_done(struct discover_run *r, void *arg)
{
	struct ext_run	*x = arg;
	struct ipc_conn	*c;
	msgpack_packer	*pk;

	if ((c = ipc_server_conn(x->sd->ipc, x->conn)) != NULL) {
		if (!r->ok)
			ipc_reply_error(c, x->msgid, IPC_ERR_UNAVAILABLE, "%s",
			    r->error);
		else {
			pk = ipc_reply_start(c, x->msgid);
			pack_discovery(pk, x->sd, r, &r->public, &r->local, 0);
			ipc_reply_finish(c);
		}
	}
	LIST_REMOVE(x, entry);
	close(x->fd);	/* our duplicate; the owner keeps its socket */
	free(x);
}

static void
control_discover(struct ipc_conn *c, uint32_t msgid,
    const msgpack_object *params, void *arg)
{
	struct stund	*sd = arg;
	struct ext_run	*x;
	int64_t		 family = 0, timeout_ms = sd->cfg.timeout_ms;
	int		 refresh = 0, sock = 0, fd;

	if (mpack_get_bool(params, "refresh", &refresh) == -1 ||
	    mpack_get_bool(params, "socket", &sock) == -1 ||
	    mpack_get_int(params, "family", &family) == -1 ||
	    mpack_get_int(params, "timeout_ms", &timeout_ms) == -1 ||
	    (family != 0 && family != 4 && family != 6) ||
	    timeout_ms < 100 || timeout_ms > 60000) {
		ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS, "expected "
		    "{refresh?: bool, socket?: bool, family?: 4|6, "
		    "timeout_ms?: 100..60000}");
		return;
	}
	if (!sock) {
		/* stund's own discovery asks servers of every family (an IPv6
		 * answer is "public6"); family narrows only a passed socket's */
		struct pending *q = control_pending(c, msgid);

		if (q == NULL || discover_request(sd, refresh,
		    control_discover_done, q) == -1) {
			free(q);
			ipc_reply_error(c, msgid, IPC_ERR_UNAVAILABLE,
			    "out of memory");
		}
		return;
	}
	if ((fd = ipc_conn_take_fd(c)) == -1) {
		ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS,
		    "socket: true but no descriptor was passed (SCM_RIGHTS)");
		return;
	}
	if ((x = calloc(1, sizeof(*x))) == NULL) {
		close(fd);
		ipc_reply_error(c, msgid, IPC_ERR_INTERNAL, "out of memory");
		return;
	}
	x->sd = sd;
	x->fd = fd;
	x->conn = ipc_conn_id(c);
	x->msgid = msgid;
	LIST_INSERT_HEAD(&ext_runs, x, entry);
	sd->ctr.discoveries++;
	discover_run_start(&x->run, sd, fd, family == 6 ? AF_INET6 :
	    family == 4 ? AF_INET : AF_UNSPEC, timeout_ms / 1000.0,
	    control_ext_done, x);
}

static void
control_input(struct ipc_conn *c, uint32_t msgid,
    const msgpack_object *params, void *arg)
{
	struct stund		*sd = arg;
	struct sockaddr_storage	 from;
	const char		*data;
	size_t			 len;
	char			 fromstr[NETADDR_STRLEN];

	if (mpack_get_bin(params, "data", &data, &len) != 0 ||
	    mpack_get_str(params, "from", fromstr, sizeof(fromstr)) != 0 ||
	    netaddr_parse(fromstr, 0, &from) == -1) {
		if (msgid != 0)
			ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS,
			    "expected {data: bin, from: \"IP:PORT\"}");
		return;
	}
	probe_input(&sd->probes, (const uint8_t *)data, len,
	    (struct sockaddr *)&from);
	if (msgid != 0)
		ipc_reply_ok(c, msgid);
}

static void
pack_nat(msgpack_packer *out, struct stund *sd)
{
	const struct nat_result	*n = natbehav_result(sd);
	struct mpack_map	 m;
	msgpack_packer		*pk = mpack_map_begin(&m, out);

	mpack_key(pk, "behind_nat");
	if (n->behind_nat == -1)
		msgpack_pack_nil(pk);
	else if (n->behind_nat)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
	mpack_kv_str(pk, "mapping", natbehav_term(n->mapping));
	mpack_kv_str(pk, "filtering", natbehav_term(n->filtering));
	mpack_kv_str(pk, "classic", n->valid ? n->classic : "unknown");
	mpack_kv_str(pk, "explanation", n->valid ? n->explanation : NULL);
	mpack_kv_str(pk, "method", n->method);
	mpack_kv_str(pk, "server", n->server[0] ? n->server : NULL);
	/* the endpoint peers use is stund's own socket's, not the tests'
	 * throw-away socket's (under a symmetric NAT they differ) */
	pack_addr(pk, "public", sd->disc->have ? &sd->disc->public : &n->public);
	pack_addr(pk, "local", sd->disc->have ? &sd->disc->local : &n->local);
	mpack_kv_double(pk, "age_s", n->when > 0 ?
	    ev_now(sd->loop) - n->when : -1);
	mpack_kv_double(pk, "duration_s", n->duration);
	mpack_kv_str(pk, "error", n->error[0] ? n->error : NULL);
	mpack_key(pk, "servers");
	pack_servers(pk, sd, &sd->disc->run);
	/* the hairpin test (stund/hairpin.h): nil when it could not run */
	mpack_key(pk, "hairpin");
	if (!n->valid || n->hairpin == -1)
		msgpack_pack_nil(pk);
	else if (n->hairpin)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
	mpack_kv_double(pk, "hairpin_ms", n->valid && n->hairpin == 1 ?
	    n->hairpin_ms : 0);
	mpack_kv_str(pk, "hairpin_note", n->hairpin_note[0] ?
	    n->hairpin_note : NULL);
	mpack_map_end(&m);
}

/* natbehav_request's completion */
static void
control_nat_done(struct stund *sd, int status, void *arg)
{
	struct pending	*q = arg;
	struct ipc_conn	*c;
	uint32_t	 msgid = q->msgid;

	c = status == 0 ? ipc_server_conn(sd->ipc, q->conn) : NULL;
	free(q);
	if (c == NULL)
		return;
	if (!natbehav_result(sd)->valid) {
		ipc_reply_error(c, msgid, IPC_ERR_UNAVAILABLE, "%s",
		    natbehav_result(sd)->error[0] ?
		    natbehav_result(sd)->error : "no result yet");
		return;
	}
	pack_nat(ipc_reply_start(c, msgid), sd);
	ipc_reply_finish(c);
}

static void
control_nat_get(struct ipc_conn *c, uint32_t msgid,
    const msgpack_object *params, void *arg)
{
	struct stund	*sd = arg;
	struct pending	*q;
	int		 refresh = 0;

	if (mpack_get_bool(params, "refresh", &refresh) == -1) {
		ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS,
		    "expected {refresh?: bool}");
		return;
	}
	if ((q = control_pending(c, msgid)) == NULL ||
	    natbehav_request(sd, refresh, control_nat_done, q) == -1) {
		free(q);
		ipc_reply_error(c, msgid, IPC_ERR_UNAVAILABLE, "out of memory");
	}
}

static void
control_servers(struct ipc_conn *c, uint32_t msgid,
    const msgpack_object *params, void *arg)
{
	struct stund *sd = arg;

	(void)params;
	pack_servers(ipc_reply_start(c, msgid), sd, &sd->disc->run);
	ipc_reply_finish(c);
}

#define CONTROL_ONE(key, value, help)	+ 1
enum { CONTROL_NCOUNTERS = 0 STUND_COUNTERS(CONTROL_ONE) };
#undef CONTROL_ONE

#define CONTROL_HELP(key, value, help)	{ "counters." #key, help },
static const struct promtext_help control_help[] = {
	STUND_COUNTERS(CONTROL_HELP)
};
#undef CONTROL_HELP

const struct promtext_help *
control_counters_help(size_t *n)
{
	*n = CONTROL_NCOUNTERS;
	return control_help;
}

/* status.get's result (sd as void *: also the metrics file's source) */
void
control_pack_status(msgpack_packer *out, void *arg)
{
	struct stund			*sd = arg;
	const struct server_stats	*ss = server_stats(sd);
	const struct nat_result		*n = natbehav_result(sd);
	const struct probe_stats	*ps = &sd->probes.st;
	struct mpack_map		 m, srv;
	msgpack_packer			*pk = mpack_map_begin(&m, out);
	msgpack_packer			*spk;

	mpack_kv_str(pk, "daemon", "stund");
	mpack_kv_str(pk, "version", STUND_VERSION);
	mpack_kv_int(pk, "pid", getpid());
	mpack_kv_double(pk, "uptime_s", ev_now(sd->loop) - sd->started);
	mpack_kv_int(pk, "proto", IPC_PROTO_VERSION);
	if (sd->disc->have)
		pack_addr(pk, "public", &sd->disc->public);
	else
		mpack_kv_str(pk, "public", NULL);
	mpack_kv_str(pk, "nat", n->valid ? n->classic : NULL);
	mpack_key(pk, "server");
	if (ss == NULL)
		msgpack_pack_nil(pk);
	else {
		spk = mpack_map_begin(&srv, pk);
		mpack_kv_str(spk, "primary", server_primary(sd));
		mpack_kv_str(spk, "alternate", server_alternate(sd)[0] ?
		    server_alternate(sd) : NULL);
		mpack_map_end(&srv);
	}
	mpack_key(pk, "counters");
	msgpack_pack_map(pk, CONTROL_NCOUNTERS);
#define CONTROL_PACK(key, value, help)	mpack_kv_uint(pk, #key, (value));
	STUND_COUNTERS(CONTROL_PACK)
#undef CONTROL_PACK
	mpack_map_end(&m);
}

static void
control_status(struct ipc_conn *c, uint32_t msgid,
    const msgpack_object *params, void *arg)
{
	(void)params;
	control_pack_status(ipc_reply_start(c, msgid), arg);
	ipc_reply_finish(c);
}

/* sd->changed: nat.changed to subscribers */
static void
control_nat_changed(struct stund *sd, const char *previous)
{
	const struct nat_result	*n = natbehav_result(sd);
	struct mpack_map	 m;
	msgpack_packer		*pk;

	pk = mpack_map_begin(&m, ipc_notify_start(sd->ipc, "nat.changed"));
	if (sd->disc->have)
		pack_addr(pk, "public", &sd->disc->public);
	else if (n->valid)
		pack_addr(pk, "public", &n->public);
	else
		mpack_kv_str(pk, "public", NULL);
	mpack_kv_str(pk, "previous", previous);
	mpack_kv_str(pk, "mapping", natbehav_term(n->mapping));
	mpack_kv_str(pk, "filtering", natbehav_term(n->filtering));
	mpack_kv_str(pk, "classic", n->valid ? n->classic : "unknown");
	mpack_map_end(&m);
	ipc_notify_finish(sd->ipc);
}

static const struct ipc_method control_methods[] = {
	{ "status.get",		control_status },
	{ "stun.discover",	control_discover },
	{ "stun.input",		control_input },
	{ "nat.get",		control_nat_get },
	{ "stun.servers",	control_servers },
	{ "stun.check",		control_check },
};

int
control_init(struct stund *sd, const char *path)
{
	sd->ipc = ipc_server_new(sd->loop, "stund", path, control_methods,
	    sizeof(control_methods) / sizeof(control_methods[0]), sd);
	if (sd->ipc == NULL)
		return -1;
	sd->changed = control_nat_changed;
	return 0;
}

void
control_fini(struct stund *sd)
{
	struct ext_run *x;

	control_check_fini();
	while ((x = LIST_FIRST(&ext_runs)) != NULL) {
		discover_run_cancel(&x->run);
		LIST_REMOVE(x, entry);
		close(x->fd);
		free(x);
	}
	sd->changed = NULL;
	if (sd->ipc != NULL)
		ipc_server_free(sd->ipc);
	sd->ipc = NULL;
}
