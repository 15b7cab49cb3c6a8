/*
 * Relay client: one WebSocket (RFC 6455) connection to a relayd session,
 * non-blocking on libev, framing by wslay, TLS by OpenSSL.
 *
 *	ws[s]://HOST[:PORT]            -> GET /v1/relay/SESSION
 *	ws[s]://HOST[:PORT]/any/path   -> GET /any/path (used as is, e.g. /mesh/ID)
 *
 * The client keeps itself connected: a failed connect moves on to the next
 * relay of the list at once; once every relay has failed it waits with
 * exponential backoff (250 ms doubling to 30 s, +-25% jitter) and starts the
 * list again from the first. While its user depends on it
 * (relay_client_set_needed: punchd, while a peer is relayed, punching or in
 * doubt) the doubling stops at `backoff_needed` (2 s): a relay that comes
 * back is found within 2.5 s, not up to 37.5 s later. A connection that drops is retried on the same
 * relay first. While on a fallback relay it probes the first one (a plain
 * TCP connect) every `primary_retry` seconds and moves back when it answers,
 * so that two peers converge on the same relay.
 *
 * Liveness: a WebSocket ping every `ping_interval`; no frame at all (pong
 * included) for `dead_after` seconds drops the connection.
 *
 * Host names are resolved off the loop (common/resolve.h) at each connect,
 * within connect_timeout; numeric addresses need no lookup.
 *
 * Refusals: an upgrade answered with anything but 101 is kept as a struct
 * relay_client_refusal (HTTP status, relayd's Atmosphere-Relay-Refused
 * reason), readable with relay_client_refusal() from on_state(BACKOFF)
 * on, until a relay accepts. A round in which every relay refused the
 * token (401/403) waits auth_backoff, not the short backoff: retrying
 * cannot succeed until the token changes, and relay_client_cred_set()
 * with a new one retries at once.
 *
 * Callbacks run from the loop. They may call relay_client_send() and
 * relay_client_stop(), never relay_client_free().
 */
#ifndef COMMON_RELAY_CLIENT_H
#define COMMON_RELAY_CLIENT_H

#include <stddef.h>

struct ev_loop;
struct relay_client;
struct relay_client_cred;

enum relay_client_state {
	RELAY_CLIENT_IDLE,		/* not started, or stopped */
	RELAY_CLIENT_CONNECTING,	/* TCP, TLS or HTTP upgrade under way */
	RELAY_CLIENT_CONNECTED,		/* WebSocket open: send works */
	RELAY_CLIENT_BACKOFF,		/* waiting before the next attempt */
};

/*
 * Where the token goes: one place only (relayd refuses a token given twice).
 * The header keeps it out of proxies' access logs; the query string is what
 * browsers can do.
 */
#define RELAY_CLIENT_TOKEN_HEADER	0x1	/* Authorization: Bearer (default) */
#define RELAY_CLIENT_TOKEN_QUERY	0x2	/* ?token= */

/*
 * Why a relay refused an upgrade. reason is relayd's
 * Atmosphere-Relay-Refused header (missing, malformed, bad_mac, expired,
 * unknown_key, wrong_prefix; full for a full session), "unavailable" for
 * a 503 without it, "" for any other status without it.
 */
struct relay_client_refusal {
	const char	*url;		/* the relay; lives as long as the client */
	int		 status;	/* 401, 403, 404, 503, ... */
	char		 reason[24];
	char		 text[48];	/* for people: "403 token expired" */
};

struct relay_client_url {
	const char	*url;		/* ws://... or wss://... */
	const char	*region;	/* label for logs and state, may be NULL */
};

struct relay_client_cfg {
	const struct relay_client_url *urls;	/* tried in order */
	size_t		 nurls;
	const char	*session;	/* needed unless every URL carries a path */
	const char	*token;		/* NULL: none */
	int		 token_mode;	/* RELAY_CLIENT_TOKEN_*, 0 = header */
	/* instead of token: one shared by many clients, read at each
	 * attempt, with a hook for every relay's answer (below) */
	struct relay_client_cred *cred;

	const char	*ca_file;	/* NULL: system trust store */
	int		 insecure;	/* 1: no certificate check (tests only) */

	/* seconds; 0 takes the default in brackets */
	double		 connect_timeout;	/* [10] TCP + TLS + upgrade */
	double		 ping_interval;		/* [15] */
	double		 dead_after;		/* [3 * ping_interval] */
	double		 backoff_min;		/* [0.25] */
	double		 backoff_max;		/* [30] */
	double		 backoff_needed;	/* [2] the cap while needed */
	double		 primary_retry;		/* [300] */
	double		 auth_backoff;		/* [300] every relay refused
						 * the token (401/403) */
	size_t		 max_queue;	/* [4 MiB] bytes queued before ENOBUFS */
	size_t		 max_frame;	/* [1 MiB] largest frame accepted */

	/* state changes; url is the relay concerned (NULL when IDLE) */
	void	(*on_state)(void *arg, enum relay_client_state state,
		    const char *url);
	/* one binary or text message, payload only */
	void	(*on_frame)(void *arg, const void *data, size_t len);
	/* the queue fell below half of max_queue after an ENOBUFS */
	void	(*on_drain)(void *arg);
	void	*arg;
};

/* Copies everything it needs from cfg. NULL with errno on bad cfg/ENOMEM. */
struct relay_client *relay_client_new(struct ev_loop *loop,
	    const struct relay_client_cfg *cfg);
void	relay_client_start(struct relay_client *c);
/* Close frame (1000), then idle. Safe inside callbacks. */
void	relay_client_stop(struct relay_client *c);
void	relay_client_free(struct relay_client *c);

/*
 * Queue one binary frame. 0, or -1 with errno ENOTCONN (not connected),
 * ENOBUFS (more than max_queue pending: wait for on_drain), EMSGSIZE.
 */
int	relay_client_send(struct relay_client *c, const void *data, size_t len);

/*
 * Something depends on this connection now (1) or it only waits (0, the
 * default): the backoff between rounds stops growing at backoff_needed
 * instead of backoff_max. Becoming needed during a long wait shortens it.
 */
void	relay_client_set_needed(struct relay_client *c, int needed);
/*
 * The wait before the next round after `attempt` failed ones, before the
 * +-25% jitter: min doubling per attempt, at most max. Pure.
 */
double	relay_client_backoff(double min, double max, unsigned attempt);

enum relay_client_state relay_client_state(const struct relay_client *c);
const char *relay_client_state_str(enum relay_client_state s);
/* the relay connected or being tried, and its region (may be NULL) */
const char *relay_client_url(const struct relay_client *c);
const char *relay_client_region(const struct relay_client *c);
size_t	relay_client_queued(const struct relay_client *c);
/* last ping round-trip in seconds, -1 before the first pong */
double	relay_client_rtt(const struct relay_client *c);
/* the last refusal, NULL when none since the last accepted upgrade */
const struct relay_client_refusal *relay_client_refusal(
	    const struct relay_client *c);
/* 1 for 401/403: a token problem, no use retrying with the same one */
int	relay_client_refusal_auth(const struct relay_client_refusal *r);

/*
 * A credential shared by clients (punchd's relay_token): the token each
 * attempt presents, and on_answer(arg, url, refusal) for every upgrade
 * answer of every client using it, refusal NULL when the relay accepted.
 * relay_client_cred_set() with another token makes the clients that wait
 * (or are connecting with the old one) try again at once: 1 changed, 0
 * same token, -1 no memory. Free it after the last client using it.
 */
struct relay_client_cred *relay_client_cred_new(const char *token,
	    void (*on_answer)(void *arg, const char *url,
	    const struct relay_client_refusal *refusal), void *arg);
int	relay_client_cred_set(struct relay_client_cred *cr, const char *token);
const char *relay_client_cred_token(const struct relay_client_cred *cr);
void	relay_client_cred_free(struct relay_client_cred *cr);

#endif
