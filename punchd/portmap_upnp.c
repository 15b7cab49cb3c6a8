/*
 * UPnP IGD client with libminiupnpc. Its discovery (SSDP, 2 s) and SOAP
 * calls block, so each step runs in a worker thread: the loop starts one
 * job at a time, the thread works only on the job's context (struct
 * portmap_upnp_ctx), and hands the result back with ev_async_send; the
 * loop joins the thread and reads the result. Nothing else is shared.
 *
 * Jobs: MAP (discover the IGD once, GetExternalIPAddress, AddPortMapping of
 * the same external port, AddAnyPortMapping when another client holds it)
 * and RENEW (GetExternalIPAddress, GetSpecificPortMappingEntry to see
 * whether the gateway still has it, AddPortMapping again, which refreshes
 * the lease). The delete at stop runs on the caller's thread.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <miniupnpc/miniupnpc.h>
#include <miniupnpc/upnpcommands.h>
#include <miniupnpc/upnperrors.h>

#include "common/log.h"
#include "punchd/portmap_priv.h"

#define container_of(p, t, m)	((t *)((char *)(p) - offsetof(t, m)))

#define UPNP_DESC	"atmosphere punchd"
/* UPnP error codes (UPnP-gw-WANIPConnection) the client acts on */
#define UPNP_E_NOSUCHENTRY	714
#define UPNP_E_CONFLICT		718
#define UPNP_E_PERMANENTONLY	725

enum { UPNP_JOB_MAP, UPNP_JOB_RENEW, UPNP_JOB_DELETE };

struct portmap_upnp_ctx {
	/* kept across jobs */
	int		have_igd;
	struct UPNPUrls	urls;
	struct IGDdatas	data;
	char		lanaddr[64];
	/* in */
	int		job;
	uint16_t	port, ext_port;
	uint32_t	lease;
	/* out */
	int		ok;
	int		forgotten;	/* RENEW: the gateway had dropped it */
	int		permanent;	/* only permanent leases offered */
	char		ext_ip[40];
	uint16_t	got_port;
	char		err[PORTMAP_REASON_LEN];
	struct portmap_upnp *owner;
};

static int
upnp_discover(struct portmap_upnp_ctx *x)
{
	struct UPNPDev	*devs;
	int		 err = 0, r;

	/* upnpDiscover() would wait PORTMAP_SSDP_MS for each of four search
	 * targets in turn (8 s with no gateway); an IGD:2 answers a search
	 * for IGD:1 too, so one target is enough. */
	devs = upnpDiscoverDevice("urn:schemas-upnp-org:device:"
	    "InternetGatewayDevice:1", PORTMAP_SSDP_MS, NULL, NULL,
	    UPNP_LOCAL_PORT_ANY, 0, 2, &err);
	if (devs == NULL) {
		snprintf(x->err, sizeof(x->err), "no UPnP device answered "
		    "SSDP discovery in %d ms", PORTMAP_SSDP_MS);
		return -1;
	}
	r = UPNP_GetValidIGD(devs, &x->urls, &x->data, x->lanaddr,
	    sizeof(x->lanaddr));
	freeUPNPDevlist(devs);
	if (r == 1 || r == 2) {
		x->have_igd = 1;
		return 0;
	}
	if (r != 0)
		FreeUPNPUrls(&x->urls);
	snprintf(x->err, sizeof(x->err), r == 0 ? "no Internet Gateway "
	    "Device among the UPnP devices found" : "UPnP devices found, "
	    "none of them an Internet Gateway Device");
	return -1;
}

static int
upnp_add(struct portmap_upnp_ctx *x, uint16_t ext)
{
	const char	*ct = x->urls.controlURL, *st = x->data.first.servicetype;
	char		 eport[8], iport[8], lease[16], got[8] = "";
	int		 r;

	snprintf(eport, sizeof(eport), "%u", ext);
	snprintf(iport, sizeof(iport), "%u", x->port);
	snprintf(lease, sizeof(lease), "%u", x->permanent ? 0 : x->lease);
	r = UPNP_AddPortMapping(ct, st, eport, iport, x->lanaddr, UPNP_DESC,
	    "UDP", NULL, lease);
	if (r == UPNP_E_PERMANENTONLY && !x->permanent) {
		x->permanent = 1;
		r = UPNP_AddPortMapping(ct, st, eport, iport, x->lanaddr,
		    UPNP_DESC, "UDP", NULL, "0");
	}
	if (r == UPNP_E_CONFLICT) {
		r = UPNP_AddAnyPortMapping(ct, st, eport, iport, x->lanaddr,
		    UPNP_DESC, "UDP", NULL, lease, got);
		if (r == 0) {
			x->got_port = (uint16_t)strtoul(got, NULL, 10);
			return 0;
		}
	}
	if (r != 0) {
		snprintf(x->err, sizeof(x->err), "AddPortMapping refused: "
		    "%s (%d)", strupnperror(r) ? strupnperror(r) : "error", r);
		return -1;
	}
	x->got_port = ext;
	return 0;
}

static void *
upnp_thread(void *arg)
{
	struct portmap_upnp_ctx	*x = arg;
	char			 eport[8], c[16], p[6], d[80], e[4], l[16];
	int			 r;

	x->ok = 0;
	x->forgotten = 0;
	x->err[0] = '\0';
	if (x->job == UPNP_JOB_DELETE) {
		snprintf(eport, sizeof(eport), "%u", x->ext_port);
		r = UPNP_DeletePortMapping(x->urls.controlURL,
		    x->data.first.servicetype, eport, "UDP", NULL);
		x->ok = (r == 0);
		goto done;
	}
	if (!x->have_igd && upnp_discover(x) == -1)
		goto done;
	r = UPNP_GetExternalIPAddress(x->urls.controlURL,
	    x->data.first.servicetype, x->ext_ip);
	if (r != 0) {
		snprintf(x->err, sizeof(x->err), "GetExternalIPAddress "
		    "failed: %s (%d)", strupnperror(r) ? strupnperror(r) :
		    "error", r);
		goto done;
	}
	if (x->job == UPNP_JOB_RENEW) {
		snprintf(eport, sizeof(eport), "%u", x->ext_port);
		r = UPNP_GetSpecificPortMappingEntry(x->urls.controlURL,
		    x->data.first.servicetype, eport, "UDP", NULL, c, p, d, e,
		    l);
		if (r == UPNP_E_NOSUCHENTRY)
			x->forgotten = 1;
	}
	if (upnp_add(x, x->job == UPNP_JOB_RENEW ? x->ext_port : x->port) == 0)
		x->ok = 1;
done:
	ev_async_send(x->owner->d.loop, &x->owner->done);
	return NULL;
}

static void
upnp_run(struct portmap_upnp *c, int job)
{
	struct portmap_upnp_ctx *x = c->ctx;

	x->job = job;
	x->port = c->d.port;
	x->lease = c->d.lease_ask;
	if (job != UPNP_JOB_DELETE)
		x->ext_port = c->d.have ? ntohs(c->d.m.ext.sin_port) :
		    c->d.port;
	if (pthread_create(&c->th, NULL, upnp_thread, x) != 0) {
		log_warnx("portmap: upnp: cannot start a thread");
		portmap_drv_fail(&c->d, "cannot start the UPnP thread");
		return;
	}
	c->busy = 1;
	c->job = job;
}

static void
upnp_arm(struct portmap_upnp *c, double after)
{
	ev_timer_stop(c->d.loop, &c->timer);
	ev_timer_set(&c->timer, after, 0);
	ev_timer_start(c->d.loop, &c->timer);
}

static void
upnp_result(struct portmap_upnp *c, double now)
{
	struct portmap_upnp_ctx	*x = c->ctx;
	struct in_addr		 ext, old = c->d.m.ext.sin_addr;
	char			 why[PORTMAP_REASON_LEN];
	int			 had = c->d.have, g;
	uint32_t		 lease = x->permanent ? c->d.lease_ask :
				    x->lease;

	if (!x->ok) {
		if (!had) {
			portmap_drv_fail(&c->d, "%s", x->err);
			return;
		}
		/* a failed renewal: the lease may still run */
		double d = portmap_renew_retry(now, c->d.granted + c->d.m.lease);
		if (d > 0) {
			log_warnx("portmap: upnp: renewal failed (%s), again "
			    "in %.0f s", x->err, d);
			upnp_arm(c, d);
		} else {
			portmap_drv_lost(&c->d, "lease ran out: gateway did not renew");
			upnp_arm(c, PORTMAP_REMAP);
		}
		return;
	}
	if (inet_pton(AF_INET, x->ext_ip, &ext) != 1)
		ext.s_addr = 0;
	if (x->got_port != c->d.port)
		log_notice("portmap: upnp: gateway mapped external port %u, "
		    "not %u as asked", x->got_port, c->d.port);
	if (x->forgotten)
		log_warnx("portmap: upnp: the gateway had dropped the mapping "
		    "before its lease ended; added again");
	if (x->permanent)
		log_notice("portmap: upnp: gateway offers permanent leases "
		    "only; renewing every %.0f s", lease / 2.0);
	g = portmap_drv_grant(&c->d, ext, x->got_port, lease, now, why,
	    sizeof(why));
	if (g == -1) {
		c->d.have = had;
		if (had) {
			portmap_drv_lost(&c->d, why);
			upnp_arm(c, PORTMAP_REMAP);
		} else
			portmap_drv_fail(&c->d, "%s (external address '%s')",
			    why, x->ext_ip);
		return;
	}
	upnp_arm(c, c->d.renew_at - now);
	portmap_drv_granted(&c->d, g, had, old, NULL);
}

/* Resources go once nothing runs; called on the loop only. */
static void
upnp_release(struct portmap_upnp *c)
{
	ev_async_stop(c->d.loop, &c->done);
	ev_timer_stop(c->d.loop, &c->timer);
	if (c->ctx->have_igd)
		FreeUPNPUrls(&c->ctx->urls);
	free(c->ctx);
	c->ctx = NULL;
}

/* Is the mapping this job made another one than the winner's? */
static int
upnp_other(struct portmap_upnp *c, uint16_t port)
{
	struct in_addr ext;

	if (inet_pton(AF_INET, c->ctx->ext_ip, &ext) != 1)
		return 1;
	return ext.s_addr != c->keep.sin_addr.s_addr ||
	    port != ntohs(c->keep.sin_port);
}

/* The IGD's address, from its control URL, for the status (loop only). */
static void
upnp_note_gateway(struct portmap_upnp *c)
{
	char	host[64];

	if (c->ctx->have_igd && c->ctx->urls.controlURL != NULL &&
	    sscanf(c->ctx->urls.controlURL, "http://%63[^:/]", host) == 1)
		inet_pton(AF_INET, host, &c->d.gw);
}

/*
 * A cancelled client's job ended: note whether the gateway offers UPnP
 * (for the status), delete what it made, then go.
 */
static void
upnp_cancel_next(struct portmap_upnp *c)
{
	struct portmap_upnp_ctx *x = c->ctx;

	if (x->job != UPNP_JOB_DELETE) {
		upnp_note_gateway(c);
		if (x->ok || x->have_igd)
			c->d.state = PORTMAP_S_OFFERED;
		else if (x->err[0] != '\0') {
			c->d.state = PORTMAP_S_FAILED;
			snprintf(c->d.reason, sizeof(c->d.reason), "%s",
			    x->err);
		}
	}
	if (x->job != UPNP_JOB_DELETE && x->ok &&
	    upnp_other(c, x->got_port)) {
		x->ext_port = x->got_port;
		upnp_run(c, UPNP_JOB_DELETE);
		if (c->busy)
			return;
	}
	upnp_release(c);
}

/*
 * Another protocol won (its mapping `keep`): stop without blocking the
 * loop. A job in progress ends in the thread; a mapping of ours that is
 * not the winner's own (the same gateway may map one port for both
 * protocols, and deleting it would delete the winner's) is deleted there.
 */
void
portmap_upnp_cancel(struct portmap_upnp *c, const struct sockaddr_in *keep)
{
	if (c->ctx == NULL)
		return;
	c->cancelled = 1;
	c->keep = *keep;
	ev_timer_stop(c->d.loop, &c->timer);
	c->d.state = c->d.have ? PORTMAP_S_OFFERED : PORTMAP_S_OFF;
	if (c->busy)
		return;
	if (c->d.have) {
		c->ctx->ok = 1;
		c->ctx->job = UPNP_JOB_MAP;
		c->ctx->got_port = ntohs(c->d.m.ext.sin_port);
	} else
		c->ctx->ok = 0;
	c->d.have = 0;
	upnp_cancel_next(c);
}

static void
upnp_done_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	struct portmap_upnp *c = container_of(w, struct portmap_upnp, done);

	(void)revents;
	if (!c->busy)
		return;
	pthread_join(c->th, NULL);
	c->busy = 0;
	if (c->cancelled) {
		upnp_cancel_next(c);
		return;
	}
	upnp_note_gateway(c);
	upnp_result(c, ev_now(loop));
}

static void
upnp_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct portmap_upnp *c = container_of(w, struct portmap_upnp, timer);

	(void)loop;
	(void)revents;
	if (!c->busy)
		upnp_run(c, c->d.have ? UPNP_JOB_RENEW : UPNP_JOB_MAP);
}

int
portmap_upnp_start(struct portmap_upnp *c, struct ev_loop *loop,
    const struct portmap_drv_cb *cb, uint16_t port, uint32_t lease)
{
	struct in_addr	none = { 0 };

	memset(c, 0, sizeof(*c));
	portmap_drv_init(&c->d, PORTMAP_P_UPNP, loop, cb, port, lease, none);
	c->ctx = calloc(1, sizeof(*c->ctx));
	if (c->ctx == NULL)
		fatal("%s: calloc", __func__);
	c->ctx->owner = c;
	ev_async_init(&c->done, upnp_done_cb);
	ev_async_start(loop, &c->done);
	ev_timer_init(&c->timer, upnp_timer_cb, 0, 0);
	upnp_run(c, UPNP_JOB_MAP);
	return 0;
}

void
portmap_upnp_stop(struct portmap_upnp *c, int del)
{
	struct portmap_upnp_ctx	*x = c->ctx;
	char			 eport[8];
	int			 r;

	if (x == NULL)
		return;
	if (c->busy) {
		/* the call in progress ends within libminiupnpc's timeouts */
		pthread_join(c->th, NULL);
		c->busy = 0;
		if (x->ok && x->job != UPNP_JOB_DELETE && !c->d.have &&
		    (!c->cancelled || upnp_other(c, x->got_port))) {
			/* it just mapped: delete that one too */
			c->d.have = 1;
			c->d.m.ext.sin_port = htons(x->got_port);
		}
	}
	ev_async_stop(c->d.loop, &c->done);
	ev_timer_stop(c->d.loop, &c->timer);
	if (del && c->d.have && x->have_igd) {
		snprintf(eport, sizeof(eport), "%u",
		    ntohs(c->d.m.ext.sin_port));
		r = UPNP_DeletePortMapping(x->urls.controlURL,
		    x->data.first.servicetype, eport, "UDP", NULL);
		if (r == 0)
			log_info("portmap: upnp: mapping of external port %s "
			    "deleted", eport);
		else
			log_warnx("portmap: upnp: deleting the mapping of "
			    "external port %s: %s (%d)", eport,
			    strupnperror(r) ? strupnperror(r) : "error", r);
	}
	if (x->have_igd)
		FreeUPNPUrls(&x->urls);
	free(x);
	c->ctx = NULL;
	c->d.have = 0;
	if (c->d.state == PORTMAP_S_MAPPED || c->d.state == PORTMAP_S_TRYING)
		c->d.state = PORTMAP_S_OFF;
}
