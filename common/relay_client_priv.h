/*
 * Relay client internals shared by its files (see relay_client.c for the
 * connection's steps). Not for use outside common/relay_client*.c.
 *
 * Top down; each calls only the files below it, and a lower one reports
 * what happened by its return value (the reason in c->why), never by
 * calling up:
 *
 *	relay_client.c		public API, sending
 *	relay_client_cred.c	the shared credential, refusals
 *	relay_client_step.c	the steps of a connection in order, pings
 *	relay_client_conn.c	resolve and connect, state reports, teardown,
 *				retry with backoff, probing back to the first
 *				relay
 *	relay_client_ws.c	wslay callbacks, opening the WebSocket, one
 *				pass of reading and writing
 *	relay_client_http.c	URL parsing, the HTTP upgrade request, its
 *				sending and the check of the answer
 *	relay_client_frame.c	read/write buffers: binary frames parsed and
 *				built without wslay, masks, flushing
 *	relay_client_io.c	raw plain/TLS I/O and the TLS handshake
 */
#ifndef COMMON_RELAY_CLIENT_PRIV_H
#define COMMON_RELAY_CLIENT_PRIV_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include <ev.h>
#include <openssl/ssl.h>
#include <wslay/wslay.h>

#include "relay_client.h"

#include "common/resolve.h"
#include "common/util.h"

#define RC_HS_MAX	8192	/* a 101 answer is a few hundred bytes */
#define RC_WHY_MAX	160
/*
 * wslay reads 4 KiB at a time, copies each message into a malloc'd buffer,
 * and writes each frame header, and a masked payload in 4 KiB pieces, with a
 * call each: one syscall per call costs more than the relay hop. These
 * buffers turn that into one read or write per up to 128/256 KiB; complete
 * binary frames are parsed in relay_client_frame.c and handed to on_frame
 * from the read buffer (rc_parse), everything else goes to wslay. They
 * exist only while a connection is open.
 */
#define RC_RBUF		((128u << 10) + 16)	/* a 64 KiB frame and more */
#define RC_WBUF		(256u << 10)

enum rc_phase {
	RC_PH_NONE,
	RC_PH_RESOLVE,
	RC_PH_TCP,
	RC_PH_TLS,
	RC_PH_HTTP_SEND,
	RC_PH_HTTP_RECV,
	RC_PH_OPEN,
};

struct rc_url {
	char		*url;
	char		*region;
	int		 tls;
	char		 host[256];	/* no brackets */
	char		 port[12];
	char		*hosthdr;	/* Host: value */
	char		*target;	/* path and query of the GET */
	struct sockaddr_storage addrs[RESOLVE_ADDRS];	/* last resolved */
	int		 naddrs;
	double		 resolved_at;	/* ev_now of that lookup, 0: literal */
};

struct relay_client_cred {
	char		*token;		/* NULL: none */
	unsigned	 gen;		/* bumped by each new token */
	void		(*on_answer)(void *, const char *,
			    const struct relay_client_refusal *);
	void		*arg;
	TAILQ_HEAD(, relay_client) clients;
};

struct relay_client {
	struct ev_loop	*loop;
	struct relay_client_cfg cfg;	/* scalars and callbacks; strings below */
	char		*token;
	struct relay_client_cred *cred;	/* instead of token, or NULL */
	TAILQ_ENTRY(relay_client) cred_entry;
	unsigned	 cred_gen;	/* of the token this attempt shows */
	struct rc_url	*urls;
	size_t		 nurls;
	SSL_CTX		*ssl_ctx;

	size_t		 idx;		/* relay in use or being tried */
	size_t		 tried;		/* relays failed in this round */
	unsigned	 attempt;	/* backoff exponent */
	int		 needed;	/* relay_client_set_needed */
	int		 auth_wait;	/* this wait is auth_backoff's */
	enum relay_client_state state;
	const char	*state_url;	/* last url reported to on_state */
	enum rc_phase	 phase;

	int		 fd;
	struct resolve	*resolver;	/* host names, off the loop */
	int		 addr_next;	/* of urls[idx].addrs, to try next */
	SSL		*ssl;
	int		 ssl_want_write;
	ev_io		 io;
	ev_timer	 timer;		/* connect timeout, backoff delay */
	ev_timer	 ping;		/* ping + liveness */
	ev_prepare	 flush;		/* write what this loop turn sent */
	wslay_event_context_ptr ws;

	char		*hs;		/* request out, then answer in */
	size_t		 hslen, hsoff;
	char		 accept[32];	/* expected Sec-WebSocket-Accept */
	unsigned char	*rbuf;		/* read ahead, wslay takes from it */
	size_t		 rlen, roff;
	size_t		 feed;		/* bytes wslay may take now */
	uint64_t	 wsl_left;	/* of the frame wslay parses */
	int		 wsl_frag;	/* wslay has a message open */
	unsigned char	 masks[256];	/* arc4random output, 4 bytes a frame */
	size_t		 maskoff;
	unsigned char	*wbuf;		/* wslay's output, one send() */
	size_t		 wlen, woff;

	int		 probe_fd;	/* TCP probe of the first relay */
	ev_io		 probe_io;
	ev_timer	 probe_timer;

	double		 connected_at, last_rx, rtt;
	int		 busy;		/* inside wslay: defer stop */
	int		 stop_pending;
	int		 io_error;
	int		 drain_wanted;
	char		 why[RC_WHY_MAX];	/* reason of the last I/O error */
	struct relay_client_refusal refusal;	/* status 0: none */
	int		 refused_now;	/* this attempt was refused */
	size_t		 round_auth;	/* token refusals in this round */
};

/* relay_client_step.c */
void	rc_io_cb(struct ev_loop *, ev_io *, int);
void	rc_ping_cb(struct ev_loop *, ev_timer *, int);

/* relay_client_cred.c */
void	rc_cred_add(struct relay_client *);
void	rc_cred_remove(struct relay_client *);
const char *rc_token(struct relay_client *);
void	rc_answer(struct relay_client *, const struct relay_client_refusal *);
void	rc_refusal_set(struct relay_client *, int, const char *,
	    const char *);

/* relay_client_conn.c */
void	rc_set_state(struct relay_client *, enum relay_client_state);
void	rc_stop(struct relay_client *);
void	rc_close(struct relay_client *, uint16_t);
void	rc_fail(struct relay_client *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	rc_timer_cb(struct ev_loop *, ev_timer *, int);
void	rc_connect(struct relay_client *);
int	rc_connect_next(struct relay_client *);
void	rc_probe_io_cb(struct ev_loop *, ev_io *, int);
void	rc_probe_timer_cb(struct ev_loop *, ev_timer *, int);

/* relay_client_ws.c */
int	rc_ws_open(struct relay_client *, const char *, size_t);
int	rc_ws_step(struct relay_client *, int);

/* relay_client_http.c: the upgrade's steps return 1 done, 0 waiting, -1
 * failed (c->why) */
int	rc_url_parse(struct rc_url *, const char *, const char *);
int	rc_http_request(struct relay_client *);
int	rc_http_send(struct relay_client *);
int	rc_http_recv(struct relay_client *, char *, size_t *);

/* relay_client_frame.c */
int	rc_genmask_cb(wslay_event_context_ptr, uint8_t *, size_t, void *);
int	rc_input(struct relay_client *);
int	rc_frame_direct(struct relay_client *, const unsigned char *, size_t);
int	rc_flush(struct relay_client *);
int	rc_push(struct relay_client *);
size_t	rc_queued(const struct relay_client *);

/* relay_client_io.c: n > 0, 0 at EOF, -1 with errno */
int	rc_why(struct relay_client *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
const char *rc_ssl_err(void);
ssize_t	rc_read(struct relay_client *, void *, size_t);
ssize_t	rc_write(struct relay_client *, const void *, size_t);
void	rc_watch(struct relay_client *, int);
int	rc_tls_step(struct relay_client *);
int	rc_tls_start(struct relay_client *);

#endif
