/*
 * Local IPC: MessagePack-RPC over AF_UNIX stream sockets.
 *
 *   request       [0, msgid, method, params]
 *   response      [1, msgid, error, result]     error: nil or {code, message}
 *   notification  [2, method, params]
 *
 * Messages are framed by the msgpack stream itself (msgpack-c's streaming
 * unpacker); one message may not exceed IPC_MAX_MSG bytes. A peer that sends
 * something malformed, oversized or of the wrong shape gets an error response
 * where a msgid can be recovered and is then closed; the server keeps serving
 * everyone else. Bump IPC_PROTO_VERSION when the envelope changes.
 *
 * Server: libev, one ipc_server per daemon, dispatch by method name through a
 * table of struct ipc_method whose names must all be in proto/methods.c.
 * Clients: ipc_sync_* (blocking with timeouts, for meshctl and tests) and
 * ipc_peer_* (non-blocking on libev, reconnecting with backoff, for daemons
 * talking to each other).
 */
#ifndef COMMON_IPC_H
#define COMMON_IPC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <msgpack.h>

struct ev_loop;
struct ipc_server;
struct ipc_conn;
struct ipc_sync;
struct ipc_peer;

#define IPC_PROTO_VERSION	1
/* Largest message either side accepts: peer.send payloads (<= 64 KiB) and
 * lists of a few thousand peers fit; anything larger is a bug or an attack. */
#define IPC_MAX_MSG		(1024 * 1024)
/* A subscriber that stops reading is dropped when this much output queues up. */
#define IPC_MAX_OUTQ		(4 * 1024 * 1024)

#define IPC_REQUEST		0
#define IPC_RESPONSE		1
#define IPC_NOTIFY		2

/* Error codes carried in the response's {code, message} map. */
#define IPC_ERR_BAD_REQUEST	"bad_request"	/* envelope wrong */
#define IPC_ERR_UNKNOWN_METHOD	"unknown_method"
#define IPC_ERR_BAD_PARAMS	"bad_params"
#define IPC_ERR_NOT_FOUND	"not_found"
#define IPC_ERR_UNAVAILABLE	"unavailable"	/* a dependency is down, retry later */
#define IPC_ERR_TIMEOUT		"timeout"
#define IPC_ERR_INTERNAL	"internal"
#define IPC_ERR_DISCONNECTED	"disconnected"	/* synthesized by clients */

/* ---- server --------------------------------------------------------------- */

typedef void ipc_method_fn(struct ipc_conn *c, uint32_t msgid,
    const msgpack_object *params, void *arg);

struct ipc_method {
	const char	*name;
	ipc_method_fn	*fn;
};

/*
 * Bind `path` (mode 0660, group "atmosphere" when it exists), refusing to
 * start when a live daemon already answers there (a stale socket file is
 * replaced). `daemon` is the name used in proto/methods.c; every name in
 * `methods` must be listed there for that daemon (fatalx otherwise).
 * `arg` is passed to every handler.
 * Built in: "events.subscribe" {events: [names]} (empty or absent = all);
 * each call adds to what the client receives; names must be events of
 * `daemon` in proto/methods.c (bad_params otherwise).
 * Notifications sent by clients ([2, method, params]) are dispatched through
 * the same table (msgid 0, no reply possible: replies to them are dropped).
 * params nil is passed as an empty map; params that are not a map get
 * bad_params without reaching the handler (the client is kept: the
 * envelope was fine). Unknown methods get unknown_method.
 * Returns NULL (logged) when the socket cannot be set up.
 */
struct ipc_server *ipc_server_new(struct ev_loop *loop, const char *daemon,
	    const char *path, const struct ipc_method *methods, size_t nmethods,
	    void *arg);
/* Adopt an already listening socket (systemd socket activation). */
struct ipc_server *ipc_server_new_fd(struct ev_loop *loop, const char *daemon,
	    int fd, const struct ipc_method *methods, size_t nmethods, void *arg);
void	ipc_server_free(struct ipc_server *s);	/* closes clients, unlinks path */
unsigned ipc_server_nclients(const struct ipc_server *s);

/* Counters for status.get. */
struct ipc_stats {
	uint64_t	accepted;
	uint64_t	refused;	/* SO_PEERCRED said no */
	uint64_t	requests;
	uint64_t	bad_messages;	/* malformed/oversized: client closed */
	uint64_t	dropped_slow;	/* output queue overflowed */
};
const struct ipc_stats *ipc_server_stats(const struct ipc_server *s);

/* The SO_PEERCRED policy applied on accept: 1 for root, the daemon's own
 * euid and members of group "atmosphere" (primary gid, or a supplementary
 * group of process `pid` per /proc/PID/status), else 0. */
int	ipc_peer_allowed(uid_t uid, gid_t gid, pid_t pid);

/*
 * Replies. For a request answered later (after network I/O), keep
 * ipc_conn_id(c) and the msgid and look the connection up again with
 * ipc_server_conn(); it is NULL when the client has gone.
 * A reply is: p = ipc_reply_start(c, msgid); pack exactly one object (the
 * result) into p; ipc_reply_finish(c). Do not send a notification between
 * start and finish. A result over IPC_MAX_MSG is replaced by an "internal"
 * error. A client whose queued output passes IPC_MAX_OUTQ is dropped
 * (stats.dropped_slow); c must not be used after ipc_reply_finish() then,
 * so look it up again for every deferred reply.
 */
msgpack_packer	*ipc_reply_start(struct ipc_conn *c, uint32_t msgid);
void		 ipc_reply_finish(struct ipc_conn *c);
void		 ipc_reply_error(struct ipc_conn *c, uint32_t msgid,
		    const char *code, const char *fmt, ...)
		    __attribute__((format(printf, 4, 5)));
/* shorthand: result true */
void		 ipc_reply_ok(struct ipc_conn *c, uint32_t msgid);

uint64_t	 ipc_conn_id(const struct ipc_conn *c);
struct ipc_conn	*ipc_server_conn(struct ipc_server *s, uint64_t id);
struct ipc_server *ipc_conn_server(const struct ipc_conn *c);
/* Credentials of the connected client. */
uid_t		 ipc_conn_uid(const struct ipc_conn *c);
pid_t		 ipc_conn_pid(const struct ipc_conn *c);
/* A file descriptor that arrived (SCM_RIGHTS) with the message being
 * dispatched, or -1. The caller owns it; unclaimed ones are closed after
 * dispatch. */
int		 ipc_conn_take_fd(struct ipc_conn *c);
/* Close one client (after its queued output is flushed). */
void		 ipc_conn_close(struct ipc_conn *c);

/*
 * Notifications to subscribers of `event`:
 * p = ipc_notify_start(s, "nat.changed"); pack params; ipc_notify_finish(s);
 * Subscribers that do not read are dropped (see IPC_MAX_OUTQ).
 */
msgpack_packer	*ipc_notify_start(struct ipc_server *s, const char *event);
void		 ipc_notify_finish(struct ipc_server *s);

/* ---- parsing shared by server and clients (exposed for tests/fuzzing) --- */

struct ipc_msg {
	int			 type;		/* IPC_REQUEST/RESPONSE/NOTIFY */
	uint32_t		 msgid;		/* request, response */
	char			 method[64];	/* request, notification */
	const msgpack_object	*params;	/* request, notification */
	const msgpack_object	*error;		/* response: NULL when nil */
	const msgpack_object	*result;	/* response */
};
/* Check the envelope of one decoded message. -1 with a reason on error;
 * then m->type is IPC_REQUEST and m->msgid set when a msgid could be
 * recovered (so an error response can be sent), else m->type is -1. */
int	ipc_msg_parse(const msgpack_object *o, struct ipc_msg *m,
	    char *err, size_t errlen);

/*
 * Byte-level pre-scan of the stream, run on received bytes before they reach
 * msgpack-c's unpacker. The unpacker allocates a container's elements as soon
 * as it reads the header, so five bytes claiming 2^32 elements would cost
 * 64 GB. Every element takes at least one byte, so a message whose bytes, or
 * whose declared elements summed over all its containers, exceed IPC_MAX_MSG
 * is refused before any of it is unpacked. The scan also counts message
 * starts (to tie a passed descriptor to its message) and keeps each
 * message's first bytes (to recover the msgid of a refused one).
 */
struct ipc_scan {
	uint64_t	nstarted;	/* messages whose first byte was seen */
	size_t		msglen;		/* bytes of the current message so far */
	size_t		declared;	/* elements its containers declared */
	size_t		pending;	/* objects still to come in it */
	size_t		skip;		/* payload bytes still to pass */
	size_t		hdrneed;	/* header bytes still to come */
	size_t		hdrlen;
	uint8_t		hdr[9];
	uint8_t		head[16];	/* first bytes of the current message */
	size_t		headlen;
	int		inmsg;		/* inside a message */
};
void	ipc_scan_init(struct ipc_scan *sc);
/* 0: all n bytes are acceptable. -1: a message is invalid or oversized;
 * *okbytes is how many of the n bytes come before that message (they may
 * still be unpacked), err says why. */
int	ipc_scan_feed(struct ipc_scan *sc, const void *buf, size_t n,
	    size_t *okbytes, char *err, size_t errlen);
/* msgid of the current (or last) message from its first bytes, when it
 * starts like a request [0, msgid, ...]: 0 and *msgid set, else -1. */
int	ipc_scan_msgid(const struct ipc_scan *sc, uint32_t *msgid);

/* Helpers shared by the server and the clients. */
/* Pack [0, msgid, method, params] (or [2, method, params] when type is
 * IPC_NOTIFY); params/len must be exactly one msgpack object, NULL = {}. */
int	ipc_pack_envelope(msgpack_sbuffer *sb, int type, uint32_t msgid,
	    const char *method, const char *params, size_t len,
	    char *err, size_t errlen);
/* Pack an error response [1, msgid, {code, message}, nil]. */
void	ipc_pack_error(msgpack_packer *pk, uint32_t msgid, const char *code,
	    const char *message);
/* A {code, message} map built in place, for synthesized errors. */
struct ipc_errobj {
	msgpack_object		obj;
	msgpack_object_kv	kv[2];
	char			code[32];
	char			message[256];
};
const msgpack_object *ipc_errobj_set(struct ipc_errobj *e, const char *code,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* send() of buf with fd attached (SCM_RIGHTS) when fd >= 0; MSG_NOSIGNAL,
 * MSG_DONTWAIT. Bytes sent or -1 (errno set). */
ssize_t	ipc_send_fd(int sock, const void *buf, size_t len, int fd);

/* ---- blocking client (meshctl, tests) ------------------------------------ */

/*
 * NULL with err = "connect PATH: strerror" when nothing listens there (ENOENT,
 * ECONNREFUSED: the daemon is not running). timeout_ms also bounds each
 * later send; negative timeouts wait forever. Nothing is logged above
 * debug level: the caller decides how to report.
 */
struct ipc_sync	*ipc_sync_connect(const char *path, int timeout_ms,
		    char *err, size_t errlen);
void		 ipc_sync_close(struct ipc_sync *s);
int		 ipc_sync_fd(const struct ipc_sync *s);

/*
 * Send a request (returns its msgid in *msgid) or, with msgid == NULL, a
 * notification. params/len is one packed msgpack object (NULL = empty map).
 * fd >= 0 is passed along with SCM_RIGHTS. 0 on success, -1 on error.
 */
int	ipc_sync_send(struct ipc_sync *s, const char *method,
	    const char *params, size_t len, int fd, uint32_t *msgid);
/*
 * Wait up to timeout_ms for the next message. 0 and *m filled (valid until
 * the next recv/close), -1 on error or EOF (err says which), -2 on timeout.
 */
int	ipc_sync_recv(struct ipc_sync *s, int timeout_ms, struct ipc_msg *m,
	    char *err, size_t errlen);
/*
 * Request and wait for its response (notifications arriving meanwhile are
 * skipped). 0: *m holds the response (m->error set if the daemon said no);
 * -1: transport error; -2: timeout.
 */
int	ipc_sync_call(struct ipc_sync *s, const char *method,
	    const char *params, size_t len, int timeout_ms, struct ipc_msg *m,
	    char *err, size_t errlen);

/* ---- non-blocking reconnecting client (daemon to daemon) ----------------- */

/* error == NULL on success (result set); otherwise result is NULL and error
 * is the daemon's {code, message} or, on transport failure or timeout, a
 * synthesized {code: "disconnected"|"timeout", message} map. Both are valid
 * only during the callback. */
typedef void ipc_reply_cb(void *arg, const msgpack_object *error,
    const msgpack_object *result);
typedef void ipc_event_cb(void *arg, const char *event,
    const msgpack_object *params);
typedef void ipc_state_cb(void *arg, int connected);

/*
 * Connect to `path` now and whenever the connection drops, with exponential
 * backoff (100 ms doubling to 5 s, +-20% jitter). state_cb reports
 * connect/disconnect; event_cb receives notifications (subscribe with an
 * "events.subscribe" call from state_cb on connect). Callbacks run from the
 * loop only, never inside these functions; ipc_peer_free() may be called
 * from any of them. ipc_peer_free() drops pending calls without calling
 * their callbacks.
 */
struct ipc_peer	*ipc_peer_new(struct ev_loop *loop, const char *path,
		    ipc_state_cb *state_cb, ipc_event_cb *event_cb, void *arg);
void		 ipc_peer_free(struct ipc_peer *p);
int		 ipc_peer_connected(const struct ipc_peer *p);
/* -1 when not connected (nothing is queued while down). fd >= 0 is
 * duplicated and sent with the request (the caller keeps its own);
 * timeout_ms <= 0: no timeout. */
int		 ipc_peer_call(struct ipc_peer *p, const char *method,
		    const char *params, size_t len, int fd, int timeout_ms,
		    ipc_reply_cb *cb, void *cbarg);
int		 ipc_peer_notify(struct ipc_peer *p, const char *method,
		    const char *params, size_t len);

#endif
