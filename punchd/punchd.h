/*
 * punchd: the node's UDP socket, peers, authenticated hole punching,
 * keep-alive, path health and the data path for local applications.
 * One struct punchd owns everything; each file handles one role, in layers
 * that only call down (a layer reports up through the hooks below, which
 * the layer above installs):
 *
 *   control.c control_*.c      IPC: decode, typed call, reply, events
 *   node.c node_portmap.c      the core's top: wiring, typed operations;
 *                              the gateway's port mapping (portmap*.c)
 *   pending.c                  peer.punch / peer.ping answered later
 *   iface.c iface_io.c         the mesh interface (tun.c, meshaddr.c):
 *                              IP packets to and from members
 *   joiner.c inviter.c         the join handshake, both sides
 *   joiner_race.c              the joiner's paths, raced
 *   mesh.c store.c             mesh identity and announcements; peers file
 *   input.c                    packets in: checks, one handler per type
 *   failover.c                 a path in use: in doubt, dead, back
 *   choose.c choose_cand.c     which working path carries the traffic
 *   link.c                     a peer's path: punch, keep-alive, relay
 *   pathwatch.c                the path in use watched (health.c)
 *   peer.c                     the peer table, states, events
 *   e2e_session.c members.c    session keys; the members' node keys
 *   tx.c                       packets out under the mesh key
 *   relay.c                    relay sessions (rendezvous, fallback)
 *   relay_access.c             the relay credential; relays' refusals
 *   punch.c keepalive.c path.c the per-peer state machines, no I/O
 *   health.c lifetime.c upgrade.c pathsel.c (and natpredict.c
 *   birthday.c, not wired yet)
 *   sock.c                     the UDP socket
 *   portmap*.c                 port mapping on the gateway (UPnP IGD,
 *                              NAT-PMP, PCP): no punchd.h, callbacks only
 *
 * punchd.c (main) and punchd_config.c sit beside control, on top.
 * Everything below control links into the unit tests; scripts/layers.py
 * shows the picture.
 */
#ifndef PUNCHD_PUNCHD_H
#define PUNCHD_PUNCHD_H

#include <stdint.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <ev.h>

#include "common/netaddr.h"
#include "common/relay_client.h"
#include "proto/packet.h"
#include "proto/e2e.h"
#include "hardnat.h"
#include "health.h"
#include "keepalive.h"
#include "lifetime.h"
#include "upgrade.h"
#include "roamlogic.h"
#include "mesh.h"
#include "path.h"
#include "punch.h"

#define PUNCHD_VERSION		"0.1.0"
/*
 * Largest peer.send payload: 1196 bytes of data + 36 of packet overhead
 * (PACKET_OVERHEAD) + 8 UDP + 40 IPv6 = 1280, the IPv6 minimum link MTU
 * (RFC 8200 5), so a datagram never needs fragmentation or PMTU discovery
 * on any path that carries IPv6, and IPv4 keeps room for a tunnel or two.
 */
#define PUNCHD_MTU		1196
/* Largest IP packet of the mesh interface (tun.h TUN_MTU_MAX): the seal
 * buffers hold PACKET_OVERHEAD + this; peer.send keeps PUNCHD_MTU. */
#define PUNCHD_IP_MTU		1416
#define PUNCHD_MAX_PEERS	4096
#define PUNCHD_NAME_LEN		64
/* DATA held while the first session key is negotiated */
#define PUNCHD_E2E_QUEUE	64
struct e2e_queued;
STAILQ_HEAD(e2e_queue, e2e_queued);

struct iface;
struct ipc_server;
struct ipc_peer;
struct portmap;
struct promfile;
struct relay_client;
struct netwatch;

/* the host addresses roam.c compares from one look to the next */
#define ROAM_MAX_HOSTS	8
struct relaymsg_signal;
struct hardnat;

struct punchd_config {
	int	port;
	char	bind[128];		/* "" = every address, v4 and v6 */
	int	punch_interval_ms;
	int	punch_timeout_ms;
	int	max_retries;		/* PUNCHes per pair per attempt */
	int	keepalive_interval_ms;
	int	warn_after;
	int	dead_after;
	int	repunch_ms;		/* retry a lost peer this often */
	int	host_loopback;		/* loopback/link-local host candidates */
	char	mesh_secret[512];	/* hex, or a file holding it */
	char	node_id[32];		/* hex; "" = generated and persisted */
	char	state_dir[256];		/* "" = $STATE_DIRECTORY ... */
	char	stund_socket[256];	/* "" = $runtime/stund.sock */
	char	socket[256];		/* own IPC socket, "" = default */
	int	stun_refresh_ms;	/* rediscover the mapping this often */
	char	relay_url[1024];	/* ws[s]://HOST:PORT, comma-separated */
	char	relay_token[512];
	char	invite_relay_token[512];	/* "", "auto" or a token */
	int	relay_signal_host;	/* offer host addresses through it */
	int	roam;			/* watch addresses and routes */
	int	hardnat;		/* hardnat.c: signal NAT, probe */
	int	relay_return_ms;	/* back to a session's first relay */
	int	e2e;			/* per-session keys (default yes) */
	int	rekey_interval_ms;
	int	rekey_packets;
	int	rekey_grace_ms;
	char	metrics_file[256];	/* Prometheus text, "" = off */
	char	portmap[16];		/* auto, upnp, natpmp, pcp, no */
	int	metrics_interval_ms;
	int	tun;			/* the mesh interface (iface.c) */
	char	tun_name[16];		/* IFNAMSIZ */
	int	tun_mtu;
	int	tun_offload;		/* IFF_VNET_HDR, TSO in, GRO out */
};

enum peer_state {
	PEER_NEW,
	PEER_PUNCHING,
	PEER_DIRECT,
	PEER_RELAYED,
	PEER_DEGRADED,
	PEER_DOWN,
};

struct pending;

/* relay_access.c: what one relay last said to our credential */
#define PUNCHD_MAX_RELAYS	16	/* 8 configured, the rest from invites */
enum relay_access_state {
	RELAY_ACCESS_UNTRIED,
	RELAY_ACCESS_ACCEPTED,
	RELAY_ACCESS_REFUSED,
};
struct relay_access_row {
	char			 url[256];
	int			 configured;	/* in punchd.relay_url */
	enum relay_access_state	 state;		/* as of the last answer */
	double			 answered_at;	/* unix time, 0: never */
	/* the last refusal, kept after an acceptance */
	int			 status;	/* 0: never refused */
	char			 reason[24];
	char			 text[48];
	double			 refused_at;
	uint64_t		 refusals;
	/* relay_pick.c: what the sessions saw */
	double			 heard_at;	/* ev_now of the last answer */
	int			 down;		/* last attempt: no answer */
	double			 down_at;	/* unix time */
};

struct peer {
	TAILQ_ENTRY(peer)	 entry;
	struct punchd		*pd;
	uint8_t			 id[PACKET_NODEID_LEN];
	int			 bound;		/* id known */
	char			 idstr[2 * PACKET_NODEID_LEN + 1];
	char			 name[PUNCHD_NAME_LEN];
	enum peer_state		 state;
	int			 was_up;
	int			 down_notified;	/* peer.down sent */
	struct punch		 punch;
	struct keepalive	 ka;
	struct path_stats	 path;
	struct sockaddr_storage	 endpoint;	/* current direct path */
	int			 has_endpoint;
	struct packet_replay	 replay;
	struct relay_client	*relay;		/* pair session, while wanted */
	const char		*relay_try_url;	/* relay_pick_seen() */
	double			 relay_try_at;
	ev_timer		 punch_timer;
	ev_timer		 ka_timer;
	ev_timer		 retry_timer;
	ev_timer		 linger_timer;	/* leave the relay */
	double			 last_seen, since;
	int			 attempts;
	int			 upgrade_tries;	/* while relayed: backoff */
	uint32_t		 ping_id;
	uint64_t		 rx_packets, tx_packets, rx_data, tx_data;
	uint64_t		 rx_bytes, tx_bytes;
	LIST_HEAD(, pending)	 pending;	/* pending.c: punch, ping */
	/* end-to-end session keys (e2e_session.c) */
	struct e2e_peer		 e2e;
	int			 e2e_inited;
	int			 e2e_logged;	/* mesh-key fallback said */
	int			 e2e_nq;	/* DATA waiting for a key, */
	struct e2e_queue	 e2e_q;		/* at most PUNCHD_E2E_QUEUE */
	/* the direct path in use (pathwatch.c, failover.c) */
	struct health		 health;
	int			 watching;
	ev_timer		 health_timer;
	ev_timer		 expect_timer;	/* the follower's */
	struct lifetime		 life;		/* keep-alive interval */
	double			 ka_gap;	/* idle before our last KEEPALIVE,
						 * 0 once judged (link.c) */
	double			 last_tx_direct, relay_heard, data_heard;
	double			 data_sent;	/* last DATA on the direct path */
	int			 relay_copy;	/* tx_out: 1 copy, 2 copied, 3 keep */
	struct tx_kept		*kept;		/* tx.c: recent DATA */
	int			 kept_next;
	/* a doubt began at doubt_at on a path last heard at unsure_since
	 * (0: none): what went since goes again on the path once it is
	 * back (link_resend_back) */
	double			 unsure_since, doubt_at;
	uint64_t		 relay_copies;
	struct upgrade		 upg;		/* relayed: when to try direct */
	char			 lost_why[96];	/* why the last path went */
	double			 lost_at;
	double			 moved_at;	/* new candidates while direct */
	struct hardnat		*hn;		/* hardnat.c: NAT signalled */
	int			 pair_fd;	/* its winning extra socket, or
						 * -1: the node's socket */
	/* choose.c: which path carries the traffic (punchd/pathsel.h);
	 * allocated once the peer has a path */
	struct choose		*choose;
	ev_timer		 choose_timer;
	int			 relay_want;	/* keep the session: compared */
};

/* What each counts, its status.get key and its Prometheus name: the one
 * table in control.c (control_counters), which packs them. */
struct punchd_counters {
	uint64_t	rx_datagrams, tx_datagrams, tx_errors;
	uint64_t	stun_forwarded, stun_dropped;
	uint64_t	drop_other, drop_malformed, drop_auth, drop_replay;
	uint64_t	drop_unknown, drop_self, drop_misdirected;
	uint64_t	drop_unproven, peers_full, relay_rx;
	uint64_t	drop_downgrade, drop_nokey, e2e_queue_drops;
	uint64_t	join_repeat, join_moved, join_limited, join_refused;
	/* iface.c: the mesh interface */
	uint64_t	tun_rx, tun_tx, tun_noroute, tun_nopath;
	uint64_t	tun_bad_source, tun_bad_dest, tun_full, tun_off;
	uint64_t	tun_refused, tun_super_in, tun_super_out;
	uint64_t	tun_offload_bad;
	/* sock.c: sock_rx's reads (rx_datagrams counts what they gave) */
	uint64_t	rx_reads, rx_gro_runs, rx_cut;
	uint64_t	roam_looks, roam_changes;
};

/*
 * How the lower layers report upward: function pointers the layer above
 * installs (node_init for the core). A NULL hook is skipped.
 */
struct punchd_hooks {
	/* sock.c: a datagram, STUN or ours (RFC 7983 demultiplexing) */
	void	(*stun_rx)(struct punchd *, const uint8_t *, size_t,
		    const struct sockaddr *);
	void	(*packet_rx)(struct punchd *, uint8_t *, size_t,
		    const struct sockaddr *);
	/* the unit tests' fake clock; NULL = libev's (punchd_time/now) */
	double	(*clock)(const struct punchd *);
	/* sock.c: a fake socket for the unit tests; NULL = sendto() */
	int	(*sock_tx)(struct punchd *, const void *, size_t,
		    const struct sockaddr *);
	/* relay.c: an authenticated-looking packet through p's session,
	 * candidates the peer signalled, both of us there, the session gone */
	void	(*relay_rx)(struct peer *, uint8_t *, size_t);
	void	(*relay_cands)(struct peer *, const struct sockaddr_storage *,
		    const enum punch_cand_type *, int);
	void	(*relay_met)(struct peer *);
	/* ... and a candidate signal that carried the peer's NAT behaviour
	 * (before relay_cands) */
	void	(*relay_nat)(struct peer *, const struct relaymsg_signal *);
	void	(*relay_lost)(struct peer *, const char *);
	/* link.c: a path came up, an attempt failed; peer.c: p is being
	 * freed, something the peers file holds changed */
	void	(*peer_up)(struct peer *);
	void	(*punch_failed)(struct peer *);
	void	(*peer_freeing)(struct peer *);
	void	(*peers_changed)(struct punchd *);
	/* pathwatch.c: the direct path in use is in doubt, dead, back */
	void	(*path_doubt)(struct peer *);
	void	(*path_dead)(struct peer *);
	void	(*path_back)(struct peer *);
	/* roam.c: find our socket's mapping again, now (control_stund.c) */
	void	(*rediscover)(struct punchd *);
	/* input.c */
	void	(*pong)(struct peer *, uint32_t, double);
	void	(*announce)(struct peer *, const uint8_t *, size_t);
	void	(*join_hello)(struct punchd *, uint8_t *, size_t,
		    const struct sockaddr *);
	void	(*join_reply)(struct punchd *, uint8_t *, size_t,
		    const struct sockaddr *);
	/* input.c: PACKET_IP (iface.c installs it when tun = yes) */
	void	(*ip)(struct peer *, const uint8_t *, size_t);
};

/* The one event hook: what the core tells its users (control.c installs
 * it; notifications peer.up, peer.path, peer.down, peer.data). */
struct punchd_events {
	void	(*peer)(struct punchd *, struct peer *, const char *event,
		    const char *reason, const struct sockaddr_storage *prev);
	void	(*data)(struct punchd *, struct peer *, const uint8_t *,
		    size_t);
};

struct punchd {
	struct ev_loop		*loop;
	struct punchd_config	 cfg;
	char			 cfgpath[256];
	char			 sockpath[256];
	char			 statedir[256];
	char			 relay_urls[1024];	/* config or environment */
	struct relay_client_cred *relay_cred;	/* relay_access.c */
	struct relay_access_row	 relays[PUNCHD_MAX_RELAYS];
	int			 nrelays;
	double			 started;
	uint8_t			 node_id[PACKET_NODEID_LEN];
	char			 node_idstr[2 * PACKET_NODEID_LEN + 1];
	uint8_t			 key[PACKET_KEY_LEN];
	uint64_t		 seq;
	int			 fd4, fd6;
	ev_io			 io4, io6;
	int			 via_fd;	/* sock_via, -1 none */
	struct sock_rx		*rx;		/* sock.c's receive buffers */
	unsigned		 sock_gen;	/* +1 when a socket closes */
	struct sockaddr_storage	 via_to;
	struct punchd_hooks	 hooks;
	struct punchd_events	 events;
	/* control.c and control_stund.c */
	struct ipc_server	*ipc;
	struct promfile		*metrics;	/* punchd.metrics_file */
	struct ipc_peer		*stund;
	int			 stund_up;
	ev_timer		 stun_timer;
	int			 stun_busy;
	struct sockaddr_storage	 public4, public6;	/* server-reflexive */
	int			 has_public4, has_public6;
	char			 stun_source4[128], stun_source6[128];
	char			 nat_type[32];	/* stund's, invite_nat_type_word */
	struct hardnat_behav	 nat_ours;	/* stund's, for hardnat.c */
	/* node_portmap.c: our port mapped on the gateway (candidate "mapped") */
	struct portmap		*pm;
	struct sockaddr_storage	 mapped;
	int			 has_mapped;
	/* store.c */
	ev_timer		 store_timer;
	int			 store_on;	/* between init and fini */
	uint8_t			 store_hash[32];	/* of what was written */
	int			 store_hashed;
	TAILQ_HEAD(, peer)	 peers;
	int			 npeers;
	struct punchd_counters	 ctr;
	struct mesh		 mesh;
	ev_timer		 e2e_timer;
	int			 e2e_logged;	/* "no node key" said */
	/* iface.c: the mesh interface, NULL with tun = no */
	struct iface		*iface;
	char			 tun_ifname[16];	/* "" without one */
	int			 tun_ifindex;		/* 0 without one */
	/* roam.c: addresses, routes and mappings watched */
	struct roamlogic	 roam;
	ev_timer		 roam_timer;
	struct netwatch		*netwatch;
	struct sockaddr_storage	 roam_hosts[ROAM_MAX_HOSTS];
	int			 roam_nhosts, roam_on;
	double			 roam_at;	/* when the last look's news began */
	double			 roam_changed;	/* our candidates last changed */
	int			 stun_again;	/* control_stund.c: ask once more */
};

/* punchd_config.c */
void	punchd_config_defaults(struct punchd_config *c);
int	punchd_config_check(const struct punchd_config *c, char *err,
	    size_t errlen);
/* the [punchd] keys: startup.c loads and reloads through it */
extern const struct config_table punchd_config_table;
/* mesh key, node id, sequence start: from config and the state directory */
int	punchd_config_identity(struct punchd *pd, char *err, size_t errlen);

/* The time (s): now, and as of this loop iteration (timers' base). */
static inline double
punchd_time(const struct punchd *pd)
{
	return pd->hooks.clock != NULL ? pd->hooks.clock(pd) : ev_time();
}

static inline double
punchd_now(const struct punchd *pd)
{
	return pd->hooks.clock != NULL ? pd->hooks.clock(pd) :
	    ev_now(pd->loop);
}

/* A peer's path is up (direct, degraded or relayed). */
static inline int
peer_is_up(const struct peer *p)
{
	return p->state == PEER_DIRECT || p->state == PEER_DEGRADED ||
	    p->state == PEER_RELAYED;
}

/* Our candidates changed (roam.c) and the peer's direct path has not
 * answered since: what goes out on it may be lost (link.c copies it
 * through the relay meanwhile). */
static inline int
roam_unconfirmed(const struct peer *p)
{
	return p->pd->roam_changed > 0 && p->state == PEER_DIRECT &&
	    p->health.last_heard < p->pd->roam_changed;
}

/* where the current path goes: the endpoint, or NULL for the relay */
static inline const struct sockaddr *
peer_dest(const struct peer *p)
{
	return p->state == PEER_RELAYED ? NULL :
	    (const struct sockaddr *)&p->endpoint;
}

/*
 * Is this interface punchd's own mesh interface (by name, or by index for
 * netlink)? Its addresses are no host candidates and its changes are no
 * roaming: they are the mesh, not the underlay.
 */
static inline int
punchd_is_mesh_if(const struct punchd *pd, const char *ifname)
{
	return pd->tun_ifname[0] != '\0' && ifname != NULL &&
	    !strcmp(ifname, pd->tun_ifname);
}

static inline int
punchd_is_mesh_ifindex(const struct punchd *pd, int ifindex)
{
	return pd->tun_ifindex != 0 && ifindex == pd->tun_ifindex;
}

static inline const char *
peer_label(const struct peer *p)
{
	return p->name[0] != '\0' ? p->name : p->idstr;
}

/* sock.c */
int	sock_open(struct punchd *pd);
void	sock_close(struct punchd *pd);
int	sock_send(struct punchd *pd, const void *buf, size_t len,
	    const struct sockaddr *to);
/* from socket fd (-1: as sock_send chooses: the via socket for its
 * address, else the node's socket of the family) */
int	sock_send_fd(struct punchd *pd, int fd, const void *buf, size_t len,
	    const struct sockaddr *to);
/* extra sockets (hardnat.c): a fresh unbound UDP socket; read one with
 * sock_read_fd (demultiplexed like the node's: packets go to packet_rx,
 * and what answers them leaves by that socket); sock_via(pd, fd, to)
 * sends what goes to `to` from fd until sock_via(pd, -1, NULL); closed
 * with sock_close_extra (a batch being read from it stops there) */
int	sock_open_extra(int family);
void	sock_close_extra(struct punchd *pd, int fd);
void	sock_read_fd(struct punchd *pd, int fd);
void	sock_dispatch(struct punchd *pd, int fd, uint8_t *buf, size_t n,
	    const struct sockaddr *from);
void	sock_via(struct punchd *pd, int fd, const struct sockaddr *to);
/* sock_gso.c: a run of datagrams of `seg` bytes each (the last may be
 * shorter), end to end in buf, to one address in one send (UDP_SEGMENT),
 * else one by one */
int	sock_send_segs(struct punchd *pd, const uint8_t *buf, size_t len,
	    size_t seg, const struct sockaddr *to);
/* host candidates: fills up to max, returns how many */
int	sock_host_addrs(struct punchd *pd, struct sockaddr_storage *out,
	    int max);

/* relay.c: p's pair session on the relay (rendezvous and fallback) */
void	relay_start(struct peer *p);
void	relay_stop(struct peer *p);	/* never from relay callbacks */
int	relay_send(struct peer *p, const void *buf, size_t len);
const char *relay_url(const struct peer *p);
/* our candidates changed: signal them to the peers met on a relay */
void	relay_signal_all(struct punchd *pd);
/* roam.c: our candidates changed; p hears them now if its session is up
 * (0), else -1 */
int	relay_resignal(struct peer *p);
/* roam.c: an address went away: the session connects again now (0), -1
 * without one */
int	relay_reconnect(struct peer *p);
/* the join handshake's session on one relay (callbacks: relay_client.h) */
struct relay_client *relay_join_open(struct punchd *pd, const char *url,
	    const uint8_t *secret, void (*on_frame)(void *, const void *,
	    size_t), void (*on_state)(void *, enum relay_client_state,
	    const char *), void *arg);
/* the same with the invite's own relay token (NULL: as above) */
struct relay_client *relay_join_open_token(struct punchd *pd,
	    const char *url, const uint8_t *secret, const char *token,
	    void (*on_frame)(void *, const void *, size_t),
	    void (*on_state)(void *, enum relay_client_state, const char *),
	    void *arg);
size_t	relay_frame_packet(const void *data, size_t len, uint8_t *buf,
	    size_t cap);
/* why p's relay session was refused, NULL when it was not */
const struct relay_client_refusal *relay_refusal(const struct peer *p);

/* relay_pick.c: a session's relays in rendezvous order, what they are now */
size_t	relay_pick_split(const char *list, char *buf, size_t len,
	    const char **urls, size_t max);
size_t	relay_pick_order(struct punchd *pd, const char *session, char *buf,
	    size_t len, struct relay_client_url *urls, size_t max);
void	relay_pick_seen(struct peer *p, enum relay_client_state state,
	    const char *url);
void	relay_pick_usage(struct punchd *pd, const char *url, int *sessions,
	    int *relayed, double *rtt_ms);
/* relay_access.c: the credential every relay session shows, and what each
 * relay said to it */
int	relay_access_init(struct punchd *pd);
void	relay_access_reload(struct punchd *pd);	/* new token: retry now */
void	relay_access_fini(struct punchd *pd);	/* after every session */
const struct relay_access_row *relay_access_get(struct punchd *pd,
	    const char *url);
const char *relay_access_state_str(enum relay_access_state s);
/* invites: the token to hand on (punchd.invite_relay_token), and a
 * joiner keeping the one its invite carried */
void	relay_access_invite_token(struct punchd *pd, char *buf, size_t len);
void	relay_access_keep(struct punchd *pd, const char *token);
/* what to do about a refusal's reason */
const char *relay_access_hint(const char *reason);
/* "relay URL refused: TEXT (punchd.relay_token)" */
void	relay_access_say(struct punchd *pd, const char *url,
	    const char *text, char *buf, size_t len);

/* tx.c: one packet to p under the mesh key; `to` NULL = through the relay */
int	tx_out(struct peer *p, const void *buf, size_t len,
	    const struct sockaddr *to);
/* the same for a run of sealed packets of `seg` bytes (sock_send_segs) */
int	tx_out_segs(struct peer *p, const uint8_t *buf, size_t len, size_t seg,
	    const struct sockaddr *to);
uint64_t tx_send(struct peer *p, uint8_t type, uint8_t flags,
	    const uint8_t *payload, size_t len, const struct sockaddr *to);
/* recent DATA sent direct (tx_out keeps it while relay_copy is set), sent
 * again through the relay when the path turns out to have been cut */
#define TX_KEPT	64
struct tx_kept;
void	tx_keep(struct peer *p, const void *buf, size_t len);
/* kept DATA sent at or after `since`, again: to `to`, or through the relay
 * (NULL); returns how many */
int	tx_resend(struct peer *p, double since, const struct sockaddr *to);
void	tx_kept_free(struct peer *p);
/* under another key (the join handshake's), to `to` or through `relay` */
void	tx_send_keyed(struct punchd *pd, uint8_t type, const uint8_t *key,
	    const uint8_t *payload, size_t len, const struct sockaddr *to,
	    struct relay_client *relay);

/* members.c: the members we heard of, with their node keys */
void	members_load(struct punchd *pd);
const struct mesh_member *members_find(struct punchd *pd, const uint8_t *id);
void	members_set(struct punchd *pd, const uint8_t *id, const uint8_t *pk,
	    const char *name);
void	members_remove(struct punchd *pd, const uint8_t *id);
/* a member without UDP (JOIN_F_RELAY_ONLY, docs/browser-member.md): met
 * on the relay only, never punched */
void	members_set_relay_only(struct punchd *pd, const uint8_t *id, int on);
int	members_relay_only(struct punchd *pd, const uint8_t *id);
void	members_clear(struct punchd *pd);
/* a member's pinned mesh IPv4 (host order; 0 unpins): 1 changed, 0 not
 * (same, or no such member) */
int	members_set_v4(struct punchd *pd, const uint8_t *id, uint32_t v4);
/* "v4=A.B.C.D" values: parse (0, or -1 not a valid mesh IPv4, said in
 * err) and print (buf of INET_ADDRSTRLEN) */
int	members_v4_parse(const char *s, uint32_t *v4, const char **err);
const char *members_v4_str(uint32_t v4, char *buf);

/* e2e_session.c: end-to-end session keys (docs: e2e) */
void	e2e_session_start(struct punchd *pd);
void	e2e_session_stop(struct punchd *pd);
void	e2e_session_peer_free(struct peer *p);
void	e2e_session_peer_up(struct peer *p);
/* DATA, PING and PONG: under p's session key when it must have one (or
 * queued until it has), else under the mesh key */
uint64_t e2e_session_send(struct peer *p, uint8_t type,
	    const uint8_t *payload, size_t len, const struct sockaddr *to);
/* PACKET_IP sealed under p's session key into out: its length, or 0 when
 * p has no session key ready (then e2e_session_send knows what to do) */
size_t	e2e_session_seal_ip(struct peer *p, const uint8_t *pkt, size_t len,
	    uint8_t *out, size_t cap);
/* E2E_INIT / E2E_RESP from p (mesh key checked); from NULL = relay */
void	e2e_session_handshake(struct peer *p, uint8_t type,
	    const uint8_t *pl, size_t len, const struct sockaddr *from);
/* a packet with flag SESSION: 0 or a PACKET_ERR_* (counted) */
int	e2e_session_decrypt(struct peer *p, uint8_t *buf, size_t len,
	    struct packet_hdr *h, const uint8_t **pl, size_t *plen);
/* may a packet of this type come under the mesh key? */
int	e2e_session_mesh_ok(struct peer *p, uint8_t type);
const char *e2e_session_mode(struct peer *p);
/* peers with session state: the rekey timer runs while there are any */
int	e2e_session_count(struct punchd *pd);

/* peer.c: the table */
struct peer *peer_find(struct punchd *pd, const char *name);
struct peer *peer_find_id(struct punchd *pd, const uint8_t *id);
struct peer *peer_create(struct punchd *pd, const char *name);
void	peer_free(struct peer *p);
void	peer_free_all(struct punchd *pd);
void	peer_bind(struct peer *p, const uint8_t *id);
void	peer_set_state(struct peer *p, enum peer_state s);
void	peer_changed(struct punchd *pd);
void	peer_event(struct peer *p, const char *event, const char *reason,
	    const struct sockaddr_storage *previous);
const char *peer_state_str(enum peer_state s);
const char *peer_path(const struct peer *p);	/* "direct", "relay", NULL */

/* link.c: a peer's path: punching, keep-alive, relay fallback, data */
void	link_init(struct punchd *pd);	/* relay hooks */
void	link_punch(struct peer *p, const struct sockaddr_storage *cands,
	    int ncands);
/* the same with the types the peer gave (NULL, or CAND_NTYPES for one:
 * guessed from the address) */
void	link_punch_typed(struct peer *p, const struct sockaddr_storage *cands,
	    const enum punch_cand_type *types, int ncands);
void	link_start_punch(struct peer *p);
/* pair i carries the traffic now (choose.c); reason for peer.path */
void	link_up(struct peer *p, int i, const char *reason);
void	link_resend_back(struct peer *p);	/* the path is back */
/* the relay is a path now: connected, the peer heard through it lately */
int	link_relay_met_recently(const struct peer *p);
/* the relay carries it, a direct path being dead or worse */
void	link_relay_use(struct peer *p, const char *event, const char *why);
/* host (private, loopback, link-local) or server-reflexive, by address */
enum punch_cand_type link_guess_type(const struct sockaddr *sa);
void	link_relay_up(struct peer *p);	/* a packet came through the relay */
void	link_ka_retime(struct punchd *pd);
void	link_ka_restart(struct peer *p);
/* an ACK to our KEEPALIVE came `late` s after it (lifetime evidence) */
/* broken: the follower's side was in doubt meanwhile (PACKET_F_KA_BROKEN) */
void	link_ka_answered(struct peer *p, double late, int broken);
/* link_ka.c: our KEEPALIVE now (lifetime evidence, the leader's schedule);
 * the last one went unanswered a whole interval */
void	link_ka_send(struct peer *p);
void	link_ka_missed(struct peer *p);
/* the peer's KEEPALIVE on a direct path: the leader's schedule in its
 * payload (keepalive.h), or the follower's probe for one it missed */
void	link_ka_heard(struct peer *p, const uint8_t *pl, size_t len);
void	link_down(struct peer *p, const char *reason);
void	link_relay_keep(struct peer *p);	/* stay in the session */
/* the direct path is in doubt: into the session, resend when there */
void	link_relay_join(struct peer *p);
void	link_relay_leave_later(struct peer *p);
/* 0 sent, 1 sent and copied through the relay (path in doubt), -1 no
 * path, -2 too big */
int	link_send_data(struct peer *p, const void *data, size_t len);
int	link_ping(struct peer *p, uint32_t *id);

/* pathwatch.c: health of the direct path in use (punchd/health.h) */
void	pathwatch_start(struct peer *p);
void	pathwatch_stop(struct peer *p);
void	pathwatch_sent(struct peer *p, int probe);
void	pathwatch_heard(struct peer *p, const struct sockaddr *from,
	    int data);
int	pathwatch_doubted(const struct peer *p);
/* (re)arm the follower's probe for when the leader's KEEPALIVE is overdue */
void	pathwatch_expect(struct peer *p);

/* roam.c: news that our candidates may have changed (ROAM_*), and the
 * change itself (new host addresses, a new mapping) */
void	roam_init(struct punchd *pd);
void	roam_start(struct punchd *pd);
void	roam_stop(struct punchd *pd);
void	roam_reload(struct punchd *pd);
void	roam_note(struct punchd *pd, unsigned why);
void	roam_candidates_changed(struct punchd *pd, const char *what);
/* choose.c choose_cand.c: which working path carries a peer's traffic,
 * by cost with hysteresis (punchd/pathsel.h), measured by probes while
 * there is a choice; on top of link.c */
/* the handshake selected a pair / a pair's check succeeded */
void	choose_selected(struct peer *p);
void	choose_valid(struct peer *p, const struct sockaddr *from);
/* a PONG, 1 when it answered one of choose's probes */
int	choose_pong(struct peer *p, uint32_t id, const struct sockaddr *from,
	    double rtt);
/* something changed (doubt, new candidates): measure and decide */
void	choose_poke(struct peer *p);
/* the peer's PING (its probes make us compare too) */
void	choose_ping(struct peer *p, uint32_t id);
/* why the current path was chosen, NULL before any choice */
const char *choose_why(const struct peer *p);

/* failover.c: in doubt, dead, back (installs the path_* hooks) */
void	failover_init(struct punchd *pd);
/* why p is not direct (or how it is), in words, for meshctl why */
void	failover_why(const struct peer *p, char *buf, size_t len);

/* input.c */
void	input_init(struct punchd *pd);	/* socket and relay hooks */

/* store.c: peers survive a restart */
void	store_init(struct punchd *pd);	/* loads peers and punches them */
void	store_changed(struct punchd *pd);
void	store_fini(struct punchd *pd);

#endif
