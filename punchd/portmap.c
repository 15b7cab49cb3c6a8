/*
 * The port-mapping layer's front: picks the protocols for the mode, finds
 * the gateway, starts the clients, lets the first mapping win, and reports
 * to the caller through struct portmap_cb. The clients (portmap_upnp.c,
 * portmap_natpmp.c, portmap_pcp.c) report here through struct
 * portmap_drv_cb.
 */
#include <arpa/inet.h>
#include <string.h>

#include "common/log.h"
#include "punchd/portmap.h"

#define container_of(p, t, m)	((t *)((char *)(p) - offsetof(t, m)))

static const char *mode_names[] = {
	[PORTMAP_AUTO] = "auto", [PORTMAP_UPNP] = "upnp",
	[PORTMAP_NATPMP] = "natpmp", [PORTMAP_PCP] = "pcp",
	[PORTMAP_NO] = "no",
};

int
portmap_mode_parse(const char *s, enum portmap_mode *mode)
{
	size_t i;

	for (i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
		if (s != NULL && strcmp(s, mode_names[i]) == 0) {
			*mode = (enum portmap_mode)i;
			return 0;
		}
	return -1;
}

const char *
portmap_mode_name(enum portmap_mode mode)
{
	if ((size_t)mode < sizeof(mode_names) / sizeof(mode_names[0]))
		return mode_names[mode];
	return "?";
}

static struct portmap_drv *
portmap_drv(struct portmap *pm, int p)
{
	switch (p) {
	case PORTMAP_P_UPNP:	return &pm->upnp.d;
	case PORTMAP_P_NATPMP:	return &pm->natpmp.d;
	default:		return &pm->pcp.d;
	}
}

static void
portmap_stop_one(struct portmap *pm, int p, int del)
{
	if (!pm->on[p])
		return;
	pm->on[p] = 0;
	if (p == PORTMAP_P_UPNP)
		portmap_upnp_stop(&pm->upnp, del);
	else if (p == PORTMAP_P_NATPMP)
		portmap_natpmp_stop(&pm->natpmp, del);
	else
		portmap_pcp_stop(&pm->pcp, del);
}

/* 100.64/10 (RFC 6598) and RFC 1918: an external address that is not. */
static int
portmap_private(struct in_addr a)
{
	uint32_t h = ntohl(a.s_addr);

	return (h >> 24) == 10 || (h >> 20) == 0xac1 || (h >> 16) == 0xc0a8 ||
	    (h >> 22) == (100u << 2 | 1);
}

static void
portmap_mapped(struct portmap_drv *d)
{
	struct portmap	*pm = d->cb->arg;
	int		 p;

	if (pm->winner != -1 && pm->winner != (int)d->proto)
		return;
	pm->winner = d->proto;
	/* first wins: the others stop; one holding the very same external
	 * port (one gateway, two protocols) must not delete it */
	for (p = 0; p < PORTMAP_NPROTO; p++) {
		struct portmap_drv *o = portmap_drv(pm, p);
		int same, answered;

		if (p == (int)d->proto || !pm->on[p])
			continue;
		same = o->have && o->m.ext.sin_addr.s_addr ==
		    d->m.ext.sin_addr.s_addr && o->m.ext.sin_port ==
		    d->m.ext.sin_port;
		answered = o->state == PORTMAP_S_MAPPED;
		if (answered)
			log_info("portmap: %s answered too; using %s",
			    portmap_proto_name(p), portmap_proto_name(d->proto));
		if (p == PORTMAP_P_UPNP) {
			/* its thread may be in a call: never wait for it */
			portmap_upnp_cancel(&pm->upnp, &d->m.ext);
			continue;
		}
		portmap_stop_one(pm, p, !same);
		if (answered)
			o->state = PORTMAP_S_OFFERED;
	}
	if (portmap_private(d->m.ext.sin_addr))
		log_notice("portmap: external address %s is private: the "
		    "gateway is behind another NAT, and peers on the internet "
		    "cannot reach this mapping", inet_ntoa(d->m.ext.sin_addr));
	if (pm->cb->mapped_cb != NULL)
		pm->cb->mapped_cb(pm->arg, &d->m);
}

static void
portmap_lost(struct portmap_drv *d, const char *why)
{
	struct portmap *pm = d->cb->arg;

	if (pm->winner == (int)d->proto && pm->cb->lost_cb != NULL)
		pm->cb->lost_cb(pm->arg, d->proto, why);
}

static int
portmap_alive(struct portmap *pm)
{
	int p;

	for (p = 0; p < PORTMAP_NPROTO; p++)
		if (pm->on[p] && (portmap_drv(pm, p)->state ==
		    PORTMAP_S_TRYING || portmap_drv(pm, p)->state ==
		    PORTMAP_S_MAPPED))
			return 1;
	return 0;
}

static void
portmap_failed(struct portmap_drv *d, const char *why)
{
	struct portmap	*pm = d->cb->arg;

	if (pm->winner == (int)d->proto) {
		pm->winner = -1;
		if (pm->cb->lost_cb != NULL)
			pm->cb->lost_cb(pm->arg, d->proto, why);
	}
	if (pm->cb->failed_cb != NULL)
		pm->cb->failed_cb(pm->arg, d->proto, why);
	/* RFC 6887 section 9: a version-0 answer is a NAT-PMP gateway */
	if (d->proto == PORTMAP_P_PCP && pm->pcp.v0_answer &&
	    pm->mode == PORTMAP_AUTO && !pm->on[PORTMAP_P_NATPMP] &&
	    pm->winner == -1) {
		log_info("portmap: gateway speaks NAT-PMP, not PCP: trying "
		    "NAT-PMP");
		pm->on[PORTMAP_P_NATPMP] = 1;
		portmap_natpmp_start(&pm->natpmp, pm->loop, &pm->drv_cb,
		    pm->port, pm->lease, pm->pcp.d.gw);
		return;
	}
	/* in auto, NAT-PMP is asked only after a version-0 answer: without
	 * one, the port both share gave PCP no server, so none for NAT-PMP */
	if (d->proto == PORTMAP_P_PCP && pm->mode == PORTMAP_AUTO &&
	    !pm->pcp.v0_answer && !pm->on[PORTMAP_P_NATPMP]) {
		portmap_drv_init(&pm->natpmp.d, PORTMAP_P_NATPMP, pm->loop,
		    &pm->drv_cb, pm->port, pm->lease, pm->pcp.d.gw);
		portmap_drv_fail(&pm->natpmp.d, "not asked: it shares port "
		    "5351 with PCP, which failed (%s)", why);
		return;
	}
	if (!portmap_alive(pm) && pm->winner == -1) {
		log_info("portmap: no port mapping; asking the gateway again "
		    "in %.0f s", PORTMAP_AGAIN);
		ev_timer_stop(pm->loop, &pm->again);
		ev_timer_set(&pm->again, PORTMAP_AGAIN, 0);
		ev_timer_start(pm->loop, &pm->again);
	}
}

/* A protocol that needs the gateway's address when there is none. */
static void
portmap_no_gateway(struct portmap *pm, int p)
{
	struct portmap_drv	*d = portmap_drv(pm, p);
	struct in_addr		 none = { 0 };

	portmap_drv_init(d, p, pm->loop, &pm->drv_cb, pm->port, pm->lease,
	    none);
	portmap_drv_fail(d, "no IPv4 default route: no gateway to ask");
}

static void	portmap_again_cb(struct ev_loop *, ev_timer *, int);

/* The gateway announced a restart or a new address. */
static void
portmap_heard(struct portmap_announce *a)
{
	struct portmap *pm = container_of(a, struct portmap, ann);

	if (pm->winner == PORTMAP_P_PCP)
		portmap_pcp_renew_now(&pm->pcp);
	else if (pm->winner == PORTMAP_P_NATPMP)
		portmap_natpmp_renew_now(&pm->natpmp);
	else if (pm->winner == -1 && !portmap_alive(pm)) {
		/* everything had failed: a gateway that just started may
		 * answer now */
		ev_timer_stop(pm->loop, &pm->again);
		ev_timer_set(&pm->again, 0, 0);
		ev_timer_start(pm->loop, &pm->again);
	}
}

static void
portmap_begin(struct portmap *pm)
{
	struct in_addr	gw = pm->gw_force;
	int		have_gw = 1;

	pm->winner = -1;
	if (gw.s_addr == 0 && portmap_default_gateway(&gw) == -1)
		have_gw = 0;
	if (have_gw && pm->mode != PORTMAP_UPNP)
		portmap_announce_start(&pm->ann, pm->loop, gw, pm->ann_port,
		    portmap_heard);
	if (pm->mode == PORTMAP_AUTO || pm->mode == PORTMAP_UPNP) {
		pm->on[PORTMAP_P_UPNP] = 1;
		portmap_upnp_start(&pm->upnp, pm->loop, &pm->drv_cb, pm->port,
		    pm->lease);
	}
	if (pm->mode == PORTMAP_AUTO || pm->mode == PORTMAP_PCP) {
		if (!have_gw) {
			portmap_no_gateway(pm, PORTMAP_P_PCP);
		} else {
			pm->on[PORTMAP_P_PCP] = 1;
			portmap_pcp_start(&pm->pcp, pm->loop, &pm->drv_cb,
			    pm->port, pm->lease, gw);
		}
	}
	if (pm->mode == PORTMAP_NATPMP) {
		if (!have_gw) {
			portmap_no_gateway(pm, PORTMAP_P_NATPMP);
		} else {
			pm->on[PORTMAP_P_NATPMP] = 1;
			portmap_natpmp_start(&pm->natpmp, pm->loop,
			    &pm->drv_cb, pm->port, pm->lease, gw);
		}
	}
}

static void
portmap_again_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct portmap	*pm = container_of(w, struct portmap, again);
	int		 p;

	(void)loop;
	(void)revents;
	for (p = 0; p < PORTMAP_NPROTO; p++)
		portmap_stop_one(pm, p, 0);
	portmap_announce_stop(&pm->ann);
	portmap_begin(pm);
}

void
portmap_init(struct portmap *pm)
{
	memset(pm, 0, sizeof(*pm));
	pm->lease = PORTMAP_LEASE;
	pm->winner = -1;
	pm->mode = PORTMAP_NO;
	pm->pcp.fd = -1;
	pm->ann.fd = -1;
}

void
portmap_set_lease(struct portmap *pm, uint32_t seconds)
{
	pm->lease = seconds ? seconds : PORTMAP_LEASE;
}

void
portmap_set_gateway(struct portmap *pm, struct in_addr gw)
{
	pm->gw_force = gw;
}

int
portmap_start(struct portmap *pm, struct ev_loop *loop, int udp_port,
    enum portmap_mode mode, const struct portmap_cb *cb, void *arg)
{
	if (udp_port <= 0 || udp_port > 65535 || pm->running) {
		log_warnx("%s: bad port %d or already running", __func__,
		    udp_port);
		return -1;
	}
	pm->loop = loop;
	pm->port = (uint16_t)udp_port;
	pm->mode = mode;
	pm->cb = cb;
	pm->arg = arg;
	pm->drv_cb.mapped = portmap_mapped;
	pm->drv_cb.lost = portmap_lost;
	pm->drv_cb.failed = portmap_failed;
	pm->drv_cb.arg = pm;
	ev_timer_init(&pm->again, portmap_again_cb, 0, 0);
	pm->running = 1;
	if (mode == PORTMAP_NO) {
		log_info("portmap: off (portmap = no)");
		return 0;
	}
	portmap_begin(pm);
	return 0;
}

void
portmap_stop(struct portmap *pm)
{
	int p;

	if (!pm->running)
		return;
	ev_timer_stop(pm->loop, &pm->again);
	/* the winner deletes its mapping; the others never kept one */
	for (p = 0; p < PORTMAP_NPROTO; p++)
		portmap_stop_one(pm, p, 1);
	portmap_announce_stop(&pm->ann);
	pm->winner = -1;
	pm->running = 0;
}

void
portmap_status(const struct portmap *pm, struct portmap_status *st)
{
	const struct portmap_drv *d;
	int p;

	memset(st, 0, sizeof(*st));
	st->mode = pm->mode;
	st->gateway = pm->pcp.d.gw.s_addr ? pm->pcp.d.gw :
	    pm->natpmp.d.gw.s_addr ? pm->natpmp.d.gw : pm->upnp.d.gw;
	for (p = 0; p < PORTMAP_NPROTO; p++) {
		d = portmap_drv((struct portmap *)pm, p);
		st->proto[p].state = d->state;
		memcpy(st->proto[p].reason, d->reason, sizeof(d->reason));
	}
	if (pm->winner != -1) {
		d = portmap_drv((struct portmap *)pm, pm->winner);
		if (d->have) {
			st->mapped = 1;
			st->m = d->m;
			st->renew_in = d->renew_at - ev_now(pm->loop);
		}
	}
}
