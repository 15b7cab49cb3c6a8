/*
 * relayd: what its files share. One struct relayd per process (no globals
 * beyond it), one struct relayd_conn per TCP connection.
 */
#ifndef RELAYD_RELAYD_H
#define RELAYD_RELAYD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <netinet/in.h>

#include <ev.h>
#include <wslay/wslay.h>

#include "common/daemon.h"
#include "common/log.h"
#include "proto/token.h"
#include "relayd/proxyv2.h"
#include "relayd/session.h"
#include "relayd/web.h"

#define RELAYD_VERSION		"0.1.0"
#define RELAYD_DEFAULT_PORT	8080

/* Bytes read from one client per loop turn: a sender's burst is read in
 * slices, so the receivers' writes get their turn in between and the send
 * queues drain instead of overflowing. */
#define WS_READ_BUDGET		(256 * 1024)
/* One I/O buffer (a client's input or output), and how many free ones the
 * process keeps for reuse. */
#define WSIO_BUF		(256 * 1024)
#define WSIO_POOL		16

#include "common/util.h"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;
struct ipc_server;
struct ipgroup;
struct iplimit;
struct sockaddr;

struct relayd_conf {
	char	listen[64];		/* "" = all addresses, v6 and v4 */
	int	port;
	int	open;			/* tokenless sessions allowed */
	char	secret[256];		/* key id 0 */
	char	secret_file[256];	/* or key id 0 from this file */
	char	secrets[1024];		/* "ID:FILE,..." more keys (keys.c) */
	char	tls_cert[256];
	char	tls_key[256];
	char	socket[256];		/* IPC; "" = default path */
	int	max_frame;		/* bytes per WebSocket message */
	int	max_session_clients;
	int	max_sessions;
	int	max_clients;
	int	max_clients_per_ip;	/* per address group (iplimit.c) */
	int	max_bytes_per_ip;	/* bytes/s read from one group; 0 = off */
	int	burst_bytes_per_ip;	/* what a group may read at once */
	int	ipv4_prefix, ipv6_prefix;	/* address group sizes */
	int	sendq_max;		/* bytes queued towards one client */
	int	slow_grace_ms;		/* over sendq_max this long: dropped */
	int	handshake_timeout_ms;
	int	idle_timeout_ms;
	int	ping_interval_ms;
	int	drain_ms;
	int	max_fragments;		/* frames per WebSocket message */
	int	message_timeout_ms;	/* to assemble a fragmented one */
	char	origins[1024];		/* WebSocket Origin allowlist, "" any */
	char	cors_origins[1024];	/* /health CORS: "", "*" or a list */
	char	proxy_from[1024];	/* PROXY v2 accepted from these */
	int	web;			/* serve web_root (web.h) */
	char	web_root[256];		/* "" = RELAYD_WEB_ROOT */
	/* derived at load time */
	struct token_keyring keys;	/* every secret, by key id */
	struct proxyv2_allow proxies;	/* proxy_from, parsed */
};

/* Why a client went away: the index into relayd_stats.disc and names. */
enum relay_reason {
	REASON_CLIENT_CLOSE,	/* close frame from the client */
	REASON_EOF,		/* TCP closed or reset without a close frame */
	REASON_PROTOCOL,	/* bad frame: unmasked, bad opcode, bad UTF-8 */
	REASON_TOO_BIG,		/* message over max_frame */
	REASON_IDLE,		/* no pong within idle_timeout */
	REASON_SLOW,		/* send queue over its cap too long */
	REASON_KICKED,		/* session.kick */
	REASON_SHUTDOWN,
	REASON_HANDSHAKE_TIMEOUT,
	REASON_HTTP,		/* plain HTTP request answered, or refused */
	REASON_TLS,		/* TLS handshake failed */
	REASON_ERROR,		/* I/O or memory error */
	REASON_PROXY,		/* no valid PROXY v2 header from a proxy */
	REASON_MAX
};

enum relay_auth_fail {
	AUTH_MISSING,
	AUTH_MALFORMED,
	AUTH_BAD_MAC,
	AUTH_EXPIRED,
	AUTH_UNKNOWN_KEY,	/* access token of a key not (or no longer) held */
	AUTH_WRONG_PREFIX,	/* access token for other session names */
	AUTH_ORIGIN,		/* a web page's Origin not in origins */
	AUTH_MAX
};

struct relayd_stats {
	uint64_t	accepted;
	uint64_t	upgrades;
	uint64_t	http_requests;
	uint64_t	http_errors;
	uint64_t	refused_limit;		/* max clients, per-IP, full */
	uint64_t	frames_in, frames_out;
	uint64_t	bytes_in, bytes_out;	/* message payload bytes */
	uint64_t	drops_queue;		/* receiver over sendq_max */
	uint64_t	drops_forged;		/* client sent a 0xF0 frame */
	uint64_t	drops_alone;		/* nobody else in the session */
	uint64_t	auth_fail[AUTH_MAX];
	uint64_t	disc[REASON_MAX];
	uint64_t	refused_addr;		/* of those: max_clients_per_ip */
	uint64_t	ratelimited;		/* a group's reads paused */
	uint64_t	proxied;		/* PROXY v2 headers taken */
	double		ratelimited_s;		/* ended pauses, summed */
};

enum relay_state {
	CLIENT_PROXY,		/* PROXY v2 header from a proxy (proxyconn.c) */
	CLIENT_TLS,		/* TLS handshake */
	CLIENT_HTTP,		/* reading the request head */
	CLIENT_RESPOND,		/* writing an HTTP answer, then close */
	CLIENT_WS,		/* upgraded */
	CLIENT_CLOSING,		/* close frame queued, waiting for the end */
	CLIENT_LINGER,		/* gone (counted), half-closed: reading to EOF */
};

struct relayd_conn {
	struct relayd		*rd;
	TAILQ_ENTRY(relayd_conn) entry;
	struct session_member	 member;
	uint64_t		 id;
	int			 fd;
	uint8_t			 state;
	uint8_t			 reason;	/* set when closing */
	uint8_t			 eof;
	uint8_t			 ssl_want_write;
	uint8_t			 throttled;	/* on grp's blocked list */
	uint8_t			 rpaused;	/* ping held: own queue full */
	uint16_t		 fail_code;	/* wsio's close code, 0 none */
	ev_io			 rio, wio;
	ev_timer		 timer;
	SSL			*ssl;
	/* request head, then the HTTP answer; freed once upgraded */
	char			*buf;
	uint32_t		 buflen, bufoff;
	size_t			 rbudget;	/* bytes left this loop turn */
	/* wsio.c: input read ahead (a partial frame held between reads) and
	 * framed output not yet written; both from rd's pool, given back
	 * when empty, so an idle client holds neither */
	uint8_t			*in, *out;
	size_t			 inlen, inoff, outlen, outoff;
	size_t			 feed;		/* bytes wslay may take now */
	uint64_t		 wsl_left;	/* of the frame wslay parses */
	uint8_t			 wsl_frag;	/* wslay has a message open */
	uint32_t		 nfrag;		/* frames of that message */
	double			 frag_since;	/* its first frame */
	uint8_t			 flushing;	/* on rd->flushq */
	struct relayd_conn	*fnext;
	wslay_event_context_ptr	 ws;		/* only while wslay has work */
	struct sockaddr_in6	 addr;		/* v4 as v4-mapped */
	char			 addr_str[INET6_ADDRSTRLEN + 8]; /* "[v6]:port" */
	struct ipgroup		*grp;		/* iplimit.c: its address group */
	TAILQ_ENTRY(relayd_conn) blocked;	/* reads paused by the group */
	double			 since, last_rx, over_since;
	uint64_t		 rx_bytes, tx_bytes, drops;
};

TAILQ_HEAD(relayd_conns, relayd_conn);

struct relayd {
	struct ev_loop		*loop;
	struct daemon_ctx	 dctx;
	struct relayd_conf	 conf;
	int			 lfd;
	int			 port;		/* bound port */
	ev_io			 lio;
	ev_timer		 accept_retry;	/* after EMFILE */
	struct log_ratelimit	 accept_rl;
	struct log_ratelimit	 proxy_rl;	/* bad PROXY headers */
	SSL_CTX			*tls;
	struct session_table	*sessions;
	struct iplimit		*ips;
	struct relayd_conns	 clients;
	unsigned		 nclients, nws;
	uint64_t		 next_id;
	struct relayd_stats	 st;
	struct web_root		 web;		/* opened at start, SIGHUP */
	struct ipc_server	*ipc;
	uint8_t			*pool[WSIO_POOL];	/* free I/O buffers */
	unsigned		 npool;
	int			 batching;	/* in ws_read: flush at its end */
	struct relayd_conn	*flushq;	/* output appended, not written */
	int			 stopping;
	ev_timer		 drain;
	ev_timer		 trim;		/* conn.c: malloc_trim later */
	unsigned		 freed;		/* connections since the last */
};

/* relayd_config.c */
void	relayd_conf_defaults(struct relayd_conf *c);
/* the [relayd] keys: startup.c loads and reloads through it */
extern const struct config_table relayd_conf_table;

/* keys.c: the token secrets (secret, secret_file, secrets) into c->keys */
int	keys_load(struct relayd_conf *c, char *err, size_t errlen);

/* tokencli.c: relayd --issue-token / --issue-access */
struct tokencli {
	const char	*session;	/* --issue-token SESSION */
	const char	*access;	/* --issue-access: non-NULL */
	const char	*prefix;	/* --prefix P */
	const char	*ttl;		/* --ttl DURATION */
	const char	*kid;		/* --key-id N */
};
int	tokencli_wanted(const struct tokencli *t);
/* print the token; the process's exit code (0, 1 no key, 2 usage) */
int	tokencli_issue(const struct relayd_conf *c, const struct tokencli *t);

/* listener.c: the listening socket, accept, graceful stop */
int	listener_open(struct relayd *rd);
void	listener_close(struct relayd *rd);
void	listener_shutdown(struct relayd *rd);

/*
 * The layers, top down: control.c (IPC), listener.c (accept, graceful
 * stop), conn.c (one connection: admission, watchers, HTTP phase, drop),
 * answer.c (a request's answer), metrics.c (/health, /metrics), ws.c (the upgraded connection), wsio.c
 * (its byte streams), proxyconn.c (a proxy's PROXY v2 header), connio.c
 * (transport), iplimit.c, session.c, tls.c, http.c, proxyv2.c. A lower layer
 * reports upward through return values and callbacks, never by name.
 */

/* conn.c: one connection: admission, I/O watchers, HTTP phase, drop */
void	conn_accept(struct relayd *rd, int fd, const struct sockaddr *sa);
void	conn_drop(struct relayd_conn *c, enum relay_reason why);

/* answer.c: a complete request's answer (or upgrade): 0, or -1 when c
 * must be dropped (out of memory) */
struct http_req;
int	answer_request(struct relayd_conn *c, const struct http_req *req,
	    size_t extra);
int	answer_error(struct relayd_conn *c, int status, const char *why);

/* The static files' directory when none is configured: make install's
 * $(WEBDIR) (the Makefile passes it) */
#ifndef RELAYD_WEB_ROOT
#define RELAYD_WEB_ROOT		"/usr/local/share/atmosphere/web"
#endif

/* proxyconn.c: a proxy's PROXY v2 header before TLS/HTTP: 1 read (c->addr
 * is the client's), 0 more to come, -1 over (c->reason, *why) */
int	proxyconn_read(struct relayd_conn *c, const char **why);

/* ws.c: the upgraded connection. ws_read, ws_write and ws_timer return
 * -1 when the connection is over (why in c->reason: the caller drops it),
 * else 0. */
int	ws_start(struct relayd_conn *c, const char *session, const char *key,
	    int subprotocol);
int	ws_read(struct relayd_conn *c);
int	ws_write(struct relayd_conn *c);
int	ws_timer(struct relayd_conn *c);
void	ws_close(struct relayd_conn *c, uint16_t code, const char *msg,
	    enum relay_reason why);
void	ws_leave(struct relayd_conn *c);
void	ws_configure(struct relayd_conn *c);

/* A message to relay: a plain payload, or one still masked (RFC 6455
 * 5.3) in a writable buffer, inplace == data, which each receiver's copy
 * unmasks on the way (one pass for both) */
struct ws_msg {
	const uint8_t	*data;
	uint8_t		*inplace;	/* non-NULL while masked with key */
	size_t		 len;
	uint8_t		 opcode;
	uint8_t		 key[4];
};

/* connio.c: a connection's transport: reads (rate-limited per address
 * group), writes (plain or TLS), which watchers run */
ssize_t	connio_read(struct relayd_conn *c, void *buf, size_t len);
ssize_t	connio_write(struct relayd_conn *c, const void *buf, size_t len);
void	connio_update(struct relayd_conn *c);
int	connio_want_write(const struct relayd_conn *c);

/* wsio.c: the upgraded connection's byte streams (README.md (relayd),
 * "Forwarding path") */
/* what wsio_input does with a complete binary message (ws_forward) */
typedef void wsio_forward_fn(struct relayd_conn *c, struct ws_msg *m);
/* makes c->ws when a frame needs wslay (ws.c's ws_ctx): 0 or -1 */
typedef int wsio_ctx_fn(struct relayd_conn *c);
ssize_t	wsio_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len,
	    int flags, void *arg);
ssize_t	wsio_send_cb(wslay_event_context_ptr ctx, const uint8_t *data,
	    size_t len, int flags, void *arg);
int	wsio_input(struct relayd_conn *c, wsio_forward_fn *forward,
	    wsio_ctx_fn *ctx);
/* bytes waiting for c (wslay's queue and c->out), overhead included */
size_t	wsio_queued(const struct relayd_conn *c);
/* per queued message, beyond its payload */
#define WSIO_MSG_OVERHEAD	64
/* wsio_input's answer when it failed the connection itself (fragments,
 * assembly time): c->fail_code is the close code to send */
#define WSIO_ERR_POLICY		(-9000)
int	wsio_append(struct relayd_conn *c, const struct ws_msg *m);
int	wsio_send(struct relayd_conn *c);
void	wsio_flush_later(struct relayd_conn *c);
void	wsio_flush_all(struct relayd *rd);
void	wsio_release(struct relayd_conn *c);
void	wsio_fini(struct relayd *rd);

/* tls.c */
SSL_CTX	*tls_ctx_new(const char *cert, const char *key, char *err,
	    size_t errlen);
void	tls_ctx_free(SSL_CTX *ctx);
int	tls_client_new(struct relayd_conn *c);
/* 1 done, 0 in progress, -1 failed */
int	tls_handshake(struct relayd_conn *c);
ssize_t	tls_read(struct relayd_conn *c, void *buf, size_t len);
ssize_t	tls_write(struct relayd_conn *c, const void *buf, size_t len);
void	tls_client_free(struct relayd_conn *c);

/* metrics.c: the counters, defined once (see the table there) */
struct metrics_counter {
	size_t		 off;		/* a uint64_t in struct relayd_stats */
	const char	*key;		/* status.get counters key, NULL none */
	const char	*family;	/* Prometheus family */
	const char	*reason;	/* its reason label, NULL none */
	const char	*help;
};
extern const struct metrics_counter metrics_counters[];
extern const size_t metrics_ncounters;
uint64_t metrics_value(const struct relayd_stats *st,
	    const struct metrics_counter *m);
char	*metrics_health(struct relayd *rd, size_t *len);
char	*metrics_prometheus(struct relayd *rd, size_t *len);
const char *metrics_auth_str(enum relay_auth_fail a);
const char *metrics_reason_str(enum relay_reason r);

/* control.c */
int	control_init(struct relayd *rd, const char *path);
void	control_fini(struct relayd *rd);

/* iplimit.c: per address group (IPv4 /32, IPv6 /64 by default): the
 * connections, and a token bucket of the bytes read from them */
struct tbucket {
	double	tokens;		/* bytes that may be read now */
	double	stamp;		/* last refill */
};
void	tbucket_refill(struct tbucket *b, double now, double rate,
	    double burst);
void	iplimit_group_key(const struct in6_addr *a, int v4prefix,
	    int v6prefix, struct in6_addr *key);
typedef void iplimit_resume_fn(struct relayd_conn *c);
struct iplimit *iplimit_new(struct relayd *rd, iplimit_resume_fn *resume);
void	iplimit_free(struct iplimit *l);
/* c joins its address's group (c->grp): 0, or -1 when the group has
 * max_clients_per_ip already (or no memory) */
int	iplimit_add(struct iplimit *l, struct relayd_conn *c);
void	iplimit_del(struct iplimit *l, struct relayd_conn *c);
unsigned iplimit_count(struct iplimit *l, const struct in6_addr *addr);
/* bytes c may read now, at most want; 0 pauses c until the bucket refills */
size_t	iplimit_allow(struct relayd_conn *c, size_t want);
void	iplimit_spend(struct relayd_conn *c, size_t n);
void	iplimit_reconf(struct relayd *rd);
size_t	iplimit_groups(struct iplimit *l);
unsigned iplimit_paused(const struct iplimit *l, double *seconds);

#endif
