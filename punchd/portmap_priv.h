/*
 * Inside the port-mapping layer: the three protocol clients, the state they
 * share (struct portmap_drv), the pure helpers (timings, epoch check,
 * default gateway) and the PCP codec. punchd includes portmap.h only.
 *
 * Each client reports to portmap.c through struct portmap_drv_cb, never by
 * name, so portmap.c calls down into the clients and nothing calls up.
 */
#ifndef PUNCHD_PORTMAP_PRIV_H
#define PUNCHD_PORTMAP_PRIV_H

#include <netinet/in.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <ev.h>
#include <natpmp.h>

enum portmap_proto {
	PORTMAP_P_UPNP,
	PORTMAP_P_NATPMP,
	PORTMAP_P_PCP,
	PORTMAP_NPROTO
};

/* What one protocol did, for the status query. */
enum portmap_pstate {
	PORTMAP_S_OFF,		/* not tried (mode, or not yet) */
	PORTMAP_S_TRYING,
	PORTMAP_S_OFFERED,	/* the gateway answered; not the one used */
	PORTMAP_S_MAPPED,
	PORTMAP_S_FAILED,
};

#define PORTMAP_REASON_LEN	160
/* Lease asked for: an hour, renewed at half (RFC 6886 section 3.3). */
#define PORTMAP_LEASE		3600
/* Request schedule for NAT-PMP and PCP: 250 ms doubling, 4 sends, 4 s in
 * all. RFC 6886 allows 9 sends (64 s); a gateway that speaks the protocol
 * answers the first one on a LAN, and punchd must not wait a minute to
 * learn that this one does not. */
#define PORTMAP_IRT		0.25
#define PORTMAP_TRIES		4
/* UPnP SSDP discovery wait, ms */
#define PORTMAP_SSDP_MS		2000
/* every protocol failed: try the gateway again after this long */
#define PORTMAP_AGAIN		300.0
/* a mapping lost (gateway gone, lease expired): map again after */
#define PORTMAP_REMAP		10.0

struct portmap_mapping {
	enum portmap_proto	proto;
	struct sockaddr_in	ext;		/* external address:port */
	uint16_t		internal_port;
	uint32_t		lease;		/* s, as granted */
};

struct portmap_drv;
struct portmap_drv_cb {
	void	(*mapped)(struct portmap_drv *d);
	void	(*lost)(struct portmap_drv *d, const char *why);
	void	(*failed)(struct portmap_drv *d, const char *why);
	void	*arg;
};

/* RFC 6887 section 8.5: is the server's epoch consistent with our clock? */
struct portmap_epoch {
	int		have;
	uint32_t	server;
	double		client;
};

/* What every protocol client keeps. */
struct portmap_drv {
	enum portmap_proto	 proto;
	struct ev_loop		*loop;
	const struct portmap_drv_cb *cb;
	uint16_t		 port;
	uint32_t		 lease_ask;
	struct in_addr		 gw;
	enum portmap_pstate	 state;
	char			 reason[PORTMAP_REASON_LEN];
	int			 have;		/* m holds a mapping */
	struct portmap_mapping	 m;
	double			 granted;	/* ev_now when m was granted */
	double			 renew_at;
	struct portmap_epoch	 epoch;
};

/* PCP (RFC 6887) client: its own UDP socket connected to gateway:5351. */
struct portmap_pcp {
	struct portmap_drv	d;
	int			fd;
	uint16_t		server_port;	/* 5351; tests change it */
	struct in_addr		self;		/* our address towards gw */
	uint8_t			nonce[12];
	int			tries;
	int			deleting;
	int			v0_answer;	/* gateway said: NAT-PMP only */
	double			expires;	/* mapping's lease end */
	ev_io			io;
	ev_timer		timer;
};

/* NAT-PMP (RFC 6886) client over libnatpmp's non-blocking socket. */
struct portmap_natpmp {
	struct portmap_drv	d;
	natpmp_t		n;
	int			open;
	int			step;		/* 0 address, 1 mapping */
	int			renewing;
	double			deadline;
	double			expires;
	struct in_addr		ext_addr;
	ev_io			io;
	ev_timer		timer;
};

/* UPnP IGD client: libminiupnpc's blocking calls in a worker thread. */
struct portmap_upnp_ctx;
struct portmap_upnp {
	struct portmap_drv	d;
	struct portmap_upnp_ctx	*ctx;		/* owned by the thread while busy */
	pthread_t		th;
	int			busy;
	int			job;
	int			cancelled;	/* another protocol won */
	struct sockaddr_in	keep;		/* the winner's mapping */
	ev_async		done;
	ev_timer		timer;
};

/* Gateway announcements on UDP 5350 (portmap_announce.c). */
struct portmap_announce {
	struct ev_loop	*loop;
	int		 fd;
	struct in_addr	 gw;
	double		 last;
	ev_io		 io;
	void		(*heard)(struct portmap_announce *a);
};
int	portmap_announce_start(struct portmap_announce *a,
	    struct ev_loop *loop, struct in_addr gw, uint16_t port,
	    void (*heard)(struct portmap_announce *));
void	portmap_announce_stop(struct portmap_announce *a);

/* portmap_util.c */
const char *portmap_proto_name(enum portmap_proto p);
const char *portmap_pstate_name(enum portmap_pstate s);
int	portmap_default_gateway(struct in_addr *gw);
int	portmap_default_gateway_parse(const char *route_text,
	    struct in_addr *gw);
double	portmap_retry_delay(int tries);
double	portmap_renew_delay(uint32_t lease);
double	portmap_renew_retry(double now, double expires);
int	portmap_epoch_check(struct portmap_epoch *e, uint32_t server,
	    double now);
void	portmap_drv_init(struct portmap_drv *d, enum portmap_proto p,
	    struct ev_loop *loop, const struct portmap_drv_cb *cb,
	    uint16_t port, uint32_t lease, struct in_addr gw);
void	portmap_drv_fail(struct portmap_drv *d, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	portmap_drv_lost(struct portmap_drv *d, const char *why);
void	portmap_drv_granted(struct portmap_drv *d, int g, int had,
	    struct in_addr old, const char *reset);
int	portmap_drv_grant(struct portmap_drv *d, struct in_addr ext,
	    uint16_t ext_port, uint32_t lease, double now, char *why,
	    size_t whylen);

/* portmap_pcp_wire.c: RFC 6887 MAP request and response */
#define PCP_VERSION		2
#define PCP_OP_ANNOUNCE		0
#define PCP_OP_MAP		1
#define PCP_MAP_REQ_LEN		60
#define PCP_MAX_LEN		1100
struct pcp_map {
	uint8_t		nonce[12];
	uint8_t		protocol;	/* 17 UDP */
	uint16_t	internal_port;
	uint16_t	external_port;
	struct in_addr	external;	/* IPv4-mapped on the wire */
};
struct pcp_response {
	uint8_t		version;
	uint8_t		opcode;		/* without the R bit */
	uint8_t		result;
	uint32_t	lifetime;
	uint32_t	epoch;
	struct pcp_map	map;		/* MAP responses only */
};
size_t	pcp_map_request(uint8_t *buf, size_t len, uint32_t lifetime,
	    struct in_addr client, const struct pcp_map *map);
int	pcp_response_parse(const uint8_t *buf, size_t len,
	    struct pcp_response *r, char *why, size_t whylen);
const char *pcp_result_name(uint8_t result);

/* the clients: start (map), stop (and delete when del) */
int	portmap_pcp_start(struct portmap_pcp *c, struct ev_loop *loop,
	    const struct portmap_drv_cb *cb, uint16_t port, uint32_t lease,
	    struct in_addr gw);
void	portmap_pcp_stop(struct portmap_pcp *c, int del);
void	portmap_pcp_renew_now(struct portmap_pcp *c);
int	portmap_natpmp_start(struct portmap_natpmp *c, struct ev_loop *loop,
	    const struct portmap_drv_cb *cb, uint16_t port, uint32_t lease,
	    struct in_addr gw);
void	portmap_natpmp_stop(struct portmap_natpmp *c, int del);
void	portmap_natpmp_renew_now(struct portmap_natpmp *c);
int	portmap_upnp_start(struct portmap_upnp *c, struct ev_loop *loop,
	    const struct portmap_drv_cb *cb, uint16_t port, uint32_t lease);
void	portmap_upnp_cancel(struct portmap_upnp *c,
	    const struct sockaddr_in *keep);
void	portmap_upnp_stop(struct portmap_upnp *c, int del);

#endif
