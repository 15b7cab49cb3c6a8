/*
 * STUN client transactions (RFC 8489 section 6.2.1): a Binding request is
 * sent, retransmitted after RTO, 2*RTO, 4*RTO ... (at most Rc = 7 times), and
 * the transaction fails when the overall deadline passes. Responses are
 * matched by transaction id only: RFC 5780 answers legitimately come from
 * another address than the one asked.
 *
 * A probe sends through any UDP socket: the engine's own (one per family),
 * a fresh one (NAT behaviour tests) or one passed by another process. For
 * sockets the engine does not read, whoever reads them hands STUN datagrams
 * to probe_input().
 */
#ifndef STUND_PROBE_H
#define STUND_PROBE_H

#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <ev.h>

#define PROBE_OK		0
#define PROBE_TIMEOUT		-1
#define PROBE_ERROR_RESPONSE	-2	/* server answered with an error */
#define PROBE_SEND_FAILED	-3

#define PROBE_RC		7	/* RFC 8489 Rc */

struct probe_engine;
struct probe;

typedef void probe_cb(struct probe *p, int status, void *arg);

struct probe {
	TAILQ_ENTRY(probe)	 entry;
	struct probe_engine	*eng;
	int			 active;
	uint8_t			 tid[12];
	int			 fd;
	struct sockaddr_storage	 dst;
	uint8_t			 req[64];
	size_t			 reqlen;
	ev_timer		 rtx;
	double			 rto;
	double			 t_first, t_last, deadline;
	int			 nsent;
	probe_cb		*cb;
	void			*arg;

	/* results, valid in the callback */
	int			 status;
	double			 rtt_ms;
	struct sockaddr_storage	 from;		/* who answered */
	struct sockaddr_storage	 mapped;	/* XOR-MAPPED or MAPPED */
	struct sockaddr_storage	 origin;	/* RESPONSE-ORIGIN */
	struct sockaddr_storage	 other;		/* OTHER-ADDRESS */
	int			 has_origin, has_other;
	int			 error_code;
	char			 error[96];
};

struct probe_stats {
	uint64_t	sent;		/* datagrams, retransmissions included */
	uint64_t	answered;
	uint64_t	timeouts;
	uint64_t	malformed;	/* STUN-looking but failed to decode */
	uint64_t	unmatched;	/* no transaction waiting for it */
};

struct probe_engine {
	struct ev_loop		*loop;
	TAILQ_HEAD(, probe)	 active;
	double			 rto;
	int			 fd4, fd6;	/* the engine's own sockets */
	ev_io			 io4, io6;
	struct probe_stats	 st;
};

int	probe_engine_init(struct probe_engine *e, struct ev_loop *loop,
	    double rto_s);
void	probe_engine_fini(struct probe_engine *e);
/* The engine's own socket for a family (created on first use), or -1. */
int	probe_engine_fd(struct probe_engine *e, int family);
/* A fresh non-blocking UDP socket bound to an ephemeral port. */
int	probe_socket(int family);

/* A Binding request with a new transaction id (written to tid) and
 * CHANGE-REQUEST flags `change` (0: none), into buf: its length, or -1. */
int	probe_request(uint8_t *buf, size_t cap, uint8_t tid[12],
	    uint32_t change);
/*
 * Start a Binding transaction from fd to dst, with CHANGE-REQUEST flags
 * `change` (0: none). cb runs exactly once unless probe_cancel() comes first.
 */
int	probe_start(struct probe *p, struct probe_engine *e, int fd,
	    const struct sockaddr *dst, uint32_t change, double timeout_s,
	    probe_cb *cb, void *arg);
void	probe_cancel(struct probe *p);
/* Hand a received datagram to the engine: 1 if it answered a probe. */
int	probe_input(struct probe_engine *e, const uint8_t *buf, size_t len,
	    const struct sockaddr *from);
/* Read every pending datagram from fd into probe_input (for owned fds). */
void	probe_drain(struct probe_engine *e, int fd);

#endif
