/*
 * Port mapping on the home gateway: asks for a UDP mapping of one local
 * port with UPnP IGD (libminiupnpc), NAT-PMP (RFC 6886, libnatpmp) or PCP
 * (RFC 6887, MAP opcode, our own client), keeps it renewed at half its
 * lease, notices a changed external address or a rebooted gateway, and
 * deletes the mapping at stop. docs/portmap.md describes the timings and
 * every message.
 *
 * Auto mode runs UPnP and PCP at once; a gateway that answers PCP with
 * "version 0" (NAT-PMP only) gets NAT-PMP next (RFC 6887 section 9). The
 * first mapping wins and the other protocols stop. Nothing blocks the
 * caller's loop: UPnP runs in a worker thread that hands its results back
 * through an ev_async; NAT-PMP and PCP are non-blocking sockets on the loop.
 *
 * The layer reports upward only through struct portmap_cb.
 */
#ifndef PUNCHD_PORTMAP_H
#define PUNCHD_PORTMAP_H

#include <netinet/in.h>
#include <stdint.h>

#include "punchd/portmap_priv.h"

enum portmap_mode {
	PORTMAP_AUTO,
	PORTMAP_UPNP,
	PORTMAP_NATPMP,
	PORTMAP_PCP,
	PORTMAP_NO,
};

struct portmap_cb {
	/*
	 * A mapping is held (first grant, and again after a change: another
	 * external address or port, or a re-map after the gateway forgot it).
	 * Renewals that change nothing are not reported.
	 */
	void	(*mapped_cb)(void *arg, const struct portmap_mapping *m);
	/*
	 * The mapping reported last is gone or no longer right (external
	 * address changed, gateway rebooted, lease ran out unanswered). The
	 * module tries again by itself; mapped_cb follows when it succeeds.
	 */
	void	(*lost_cb)(void *arg, enum portmap_proto p, const char *why);
	/* One protocol could not map (no gateway answer, refusal, ...). */
	void	(*failed_cb)(void *arg, enum portmap_proto p,
		    const char *reason);
};

/* For `meshctl network`: what each protocol did and the mapping held. */
struct portmap_status {
	enum portmap_mode	mode;
	struct in_addr		gateway;	/* 0 when none was found */
	struct {
		enum portmap_pstate	state;
		char			reason[PORTMAP_REASON_LEN];
	} proto[PORTMAP_NPROTO];
	int			mapped;		/* m is valid */
	struct portmap_mapping	m;
	double			renew_in;	/* s until the next renewal */
};

struct portmap {
	struct ev_loop		*loop;
	enum portmap_mode	 mode;
	uint16_t		 port;
	uint32_t		 lease;		/* asked for */
	struct in_addr		 gw_force;	/* tests: not the default route */
	const struct portmap_cb	*cb;
	void			*arg;
	int			 running;
	int			 winner;	/* protocol holding, or -1 */
	int			 on[PORTMAP_NPROTO];	/* client started */
	struct portmap_drv_cb	 drv_cb;
	struct portmap_pcp	 pcp;
	struct portmap_natpmp	 natpmp;
	struct portmap_upnp	 upnp;
	struct portmap_announce	 ann;
	uint16_t		 ann_port;	/* tests: not 5350 */
	ev_timer		 again;		/* all failed: try again later */
};

/* "auto", "upnp", "natpmp", "pcp", "no": 0, or -1 for anything else. */
int	portmap_mode_parse(const char *s, enum portmap_mode *mode);
const char *portmap_mode_name(enum portmap_mode mode);

void	portmap_init(struct portmap *pm);
/* Before start: lease to ask for (default PORTMAP_LEASE), gateway. */
void	portmap_set_lease(struct portmap *pm, uint32_t seconds);
void	portmap_set_gateway(struct portmap *pm, struct in_addr gw);
int	portmap_start(struct portmap *pm, struct ev_loop *loop, int udp_port,
	    enum portmap_mode mode, const struct portmap_cb *cb, void *arg);
/*
 * Deletes the mapping held and stops every protocol. With UPnP this waits
 * for the worker thread's call in progress and makes the delete call
 * itself (a few seconds at most, bounded by libminiupnpc's timeouts): meant
 * for shutdown or a configuration change.
 */
void	portmap_stop(struct portmap *pm);
void	portmap_status(const struct portmap *pm, struct portmap_status *st);

#endif
