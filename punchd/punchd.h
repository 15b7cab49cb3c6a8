/*
 * punchd: the node's UDP socket, peers, authenticated hole punching,
 * keep-alive, path health and the data path for local applications.
 * One struct punchd owns everything; each file handles one role.
 */
#ifndef PUNCHD_PUNCHD_H
#define PUNCHD_PUNCHD_H

#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <ev.h>

#include "common/netaddr.h"
#include "common/promfile.h"
#include "proto/packet.h"
#include "proto/e2e.h"
#include "keepalive.h"
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
#define PUNCHD_MAX_PEERS	4096
#define PUNCHD_NAME_LEN		64
/* DATA held while the first session key is negotiated */
#define PUNCHD_E2E_QUEUE	64
struct e2e_queued;
STAILQ_HEAD(e2e_queue, e2e_queued);

struct ipc_server;
struct ipc_peer;
struct ipc_conn;
struct relay_client;
struct msgpack_packer;

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
	int	relay_signal_host;	/* offer host addresses through it */
	int	e2e;			/* per-session keys (default yes) */
	int	rekey_interval_ms;
	int	rekey_packets;
	int	rekey_grace_ms;
	char	metrics_file[256];	/* Prometheus text, "" = off */
	int	metrics_interval_ms;
};

enum peer_state {
	PEER_NEW,
	PEER_PUNCHING,
	PEER_DIRECT,
	PEER_RELAYED,
	PEER_DEGRADED,
	PEER_DOWN,
};

/* A request answered later: peer.punch, peer.ping. */
struct peer_waiter {
	LIST_ENTRY(peer_waiter)	 entry;
	uint64_t		 conn;
	uint32_t		 msgid;
	double			 started, deadline;
	int			 kind;		/* WAIT_PUNCH, WAIT_PING */
	/* ping */
	uint32_t		 first_id;
	int			 count, sent, got;
	double			 rtt[16];
	double			 sent_at[16];
	ev_timer		 timer;
	struct peer		*peer;
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
	LIST_HEAD(, peer_waiter) waiters;
	/* end-to-end session keys (e2e.c) */
	struct e2e_peer		 e2e;
	int			 e2e_inited;
	int			 e2e_logged;	/* mesh-key fallback said */
	int			 e2e_nq;	/* DATA waiting for a key, */
	struct e2e_queue	 e2e_q;		/* at most PUNCHD_E2E_QUEUE */
};

struct punchd_counters {
	uint64_t	rx_datagrams, tx_datagrams, tx_errors;
	uint64_t	stun_forwarded, stun_dropped;
	uint64_t	drop_other;	/* neither STUN nor ours */
	uint64_t	drop_malformed;	/* ours but bad header/payload */
	uint64_t	drop_auth;	/* wrong key: tampered or other mesh */
	uint64_t	drop_replay;
	uint64_t	drop_unknown;	/* authenticated, peer unknown, not PUNCH */
	uint64_t	drop_self;
	uint64_t	drop_misdirected; /* punch packet for another node */
	uint64_t	drop_unproven;	/* KEEPALIVE/PING from an address not
					   (yet) checked: not answered */
	uint64_t	peers_full;
	uint64_t	relay_rx;	/* authenticated packets via relays */
	uint64_t	drop_downgrade;	/* DATA under the mesh key from a peer
					   that must use a session key */
	uint64_t	drop_nokey;	/* session key id unknown or retired */
	uint64_t	e2e_queue_drops; /* DATA dropped waiting for a key */
};

struct punchd {
	struct ev_loop		*loop;
	struct punchd_config	 cfg;
	char			 cfgpath[256];
	char			 sockpath[256];
	char			 statedir[256];
	char			 relay_urls[1024];	/* config or environment */
	double			 started;
	uint8_t			 node_id[PACKET_NODEID_LEN];
	char			 node_idstr[2 * PACKET_NODEID_LEN + 1];
	uint8_t			 key[PACKET_KEY_LEN];
	uint64_t		 seq;
	int			 fd4, fd6;
	ev_io			 io4, io6;
	struct ipc_server	*ipc;
	struct ipc_peer		*stund;
	int			 stund_up;
	struct sockaddr_storage	 public4, public6;	/* server-reflexive */
	int			 has_public4, has_public6;
	ev_timer		 stun_timer;
	ev_timer		 store_timer;
	int			 stun_busy;
	TAILQ_HEAD(, peer)	 peers;
	int			 npeers;
	struct punchd_counters	 ctr;
	struct mesh		 mesh;
	struct promfile		 metrics;	/* punchd.metrics_file */
	ev_timer		 e2e_timer;
	int			 e2e_logged;	/* "no node key" said */
};

/* punchd_config.c */
void	punchd_config_defaults(struct punchd_config *c);
int	punchd_config_check(const struct punchd_config *c, char *err,
	    size_t errlen);
/* the [punchd] keys: startup.c loads and reloads through it */
extern const struct config_table punchd_config_table;
/* mesh key, node id, sequence start: from config and the state directory */
int	punchd_config_identity(struct punchd *pd, char *err, size_t errlen);

/* sock.c */
int	sock_open(struct punchd *pd);
void	sock_close(struct punchd *pd);
int	sock_send(struct punchd *pd, const void *buf, size_t len,
	    const struct sockaddr *to);
/* host candidates: fills up to max, returns how many */
int	sock_host_addrs(struct punchd *pd, struct sockaddr_storage *out,
	    int max);

/* stunlink.c */
void	stunlink_init(struct punchd *pd);
void	stunlink_fini(struct punchd *pd);
void	stunlink_input(struct punchd *pd, const uint8_t *buf, size_t len,
	    const struct sockaddr *from);

/* relay.c */
int	relay_enabled(const struct punchd *pd);
void	relay_peer_start(struct peer *p);
void	relay_peer_stop(struct peer *p);	/* never from relay callbacks */
int	relay_peer_send(struct peer *p, const void *buf, size_t len);
const char *relay_peer_url(const struct peer *p);
/* the relayed path is up (an authenticated packet came through) / gone */
void	peer_relay_up(struct peer *p);
void	peer_relay_lost(struct peer *p, const char *reason);

/* store.c */
void	store_init(struct punchd *pd);	/* loads peers and punches them */
void	store_changed(struct punchd *pd);
void	store_fini(struct punchd *pd);

/* input.c */
void	peer_input(struct punchd *pd, uint8_t *buf, size_t len,
	    const struct sockaddr *from);
/* a packet that came through p's relay session */
void	peer_input_relay(struct peer *p, uint8_t *buf, size_t len);

/* peer.c */
struct peer *peer_find(struct punchd *pd, const char *name);
struct peer *peer_create(struct punchd *pd, const char *name);
void	peer_free(struct peer *p);
void	peer_free_all(struct punchd *pd);
void	peer_punch(struct peer *p, const struct sockaddr_storage *cands,
	    int ncands);
int	peer_send_data(struct peer *p, const void *data, size_t len);
int	peer_ping(struct peer *p, uint32_t *id);
const char *peer_state_str(enum peer_state s);
/* shared with input.c and relay.c; `to` NULL = through the relay */
struct peer *peer_find_id(struct punchd *pd, const uint8_t *id);
void	peer_bind(struct peer *p, const uint8_t *id);
uint64_t peer_send_pkt(struct peer *p, uint8_t type, const uint8_t *payload,
	    size_t len, const struct sockaddr *to);
uint64_t peer_send_pkt_flags(struct peer *p, uint8_t type, uint8_t flags,
	    const uint8_t *payload, size_t len, const struct sockaddr *to);
void	peer_ka_start(struct peer *p);
void	peer_ka_retime(struct punchd *pd);
void	peer_set_state(struct peer *p, enum peer_state s);
void	peer_start_punch(struct peer *p);
void	peer_up(struct peer *p);
void	peer_down(struct peer *p, const char *reason);
const struct sockaddr *peer_dest(const struct peer *p);
const char *peer_label(const struct peer *p);
int	peer_is_up(const struct peer *p);

/* e2e.c: end-to-end session keys (README.md (punchd)) */
void	e2e_pd_start(struct punchd *pd);
void	e2e_pd_stop(struct punchd *pd);
void	e2e_peer_free(struct peer *p);
void	e2e_peer_up(struct peer *p);
/* a session key is required with p (both have node keys, e2e on) */
int	e2e_required(struct peer *p);
/* 1 when p's packet of this type was sent, queued or dropped here; 0 to
 * send it under the mesh key */
int	e2e_send(struct peer *p, uint8_t type, const uint8_t *payload,
	    size_t len, const struct sockaddr *to, uint64_t *seq);
/* E2E_INIT / E2E_RESP from p (mesh key checked); from NULL = relay */
void	e2e_input_handshake(struct peer *p, uint8_t type, const uint8_t *pl,
	    size_t len, const struct sockaddr *from);
/* a packet with flag SESSION: 0 or a PACKET_ERR_* (counted) */
int	e2e_input_decrypt(struct peer *p, uint8_t *buf, size_t len,
	    struct packet_hdr *h, const uint8_t **pl, size_t *plen);
/* may a packet of this type come under the mesh key? */
int	e2e_mesh_ok(struct peer *p, uint8_t type);
const char *e2e_mode(struct peer *p);

/* control.c */
int	control_init(struct punchd *pd, const char *path);
void	control_fini(struct punchd *pd);
void	control_peer_event(struct punchd *pd, struct peer *p, const char *event,
	    const char *reason, const struct sockaddr_storage *previous);
void	control_peer_data(struct punchd *pd, struct peer *p, const uint8_t *data,
	    size_t len);
/* status.get and peer.list results, arg a struct punchd (promfile_pack_fn) */
void	control_pack_status(struct msgpack_packer *pk, void *arg);
void	control_pack_peers(struct msgpack_packer *pk, void *arg);

/* waiter.c */
/* every waiter of the peer fails with code (peer removed, shutdown) */
void	waiter_fail_all(struct peer *p, const char *code,
	    const char *msg);
/* peer.punch waiters: success when code is NULL */
void	waiter_punch_done(struct peer *p, const char *code, const char *msg);
/* a PONG arrived */
void	waiter_pong(struct peer *p, uint32_t id, double rtt);

#endif
