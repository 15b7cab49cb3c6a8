/*
 * Keep-alive on a peer's chosen path: one KEEPALIVE per interval, answered
 * by KEEPALIVE_ACK (the low 32 bits of its sequence number). Each side runs
 * its own, so both NAT bindings see traffic both ways. An interval that
 * ends with the KEEPALIVE unanswered is one failure; failures are counted
 * while consecutive: a warning at warn_after, the path dead at dead_after.
 * No I/O, no globals: the caller sends and keeps the timer.
 */
#ifndef PUNCHD_KEEPALIVE_H
#define PUNCHD_KEEPALIVE_H

#include <stdint.h>

struct keepalive {
	double		interval;	/* s */
	int		warn_after;
	int		dead_after;
	int		outstanding;	/* one KEEPALIVE waiting for its ACK */
	uint32_t	out_seq;	/* its sequence number, low 32 bits */
	double		out_sent;
	int		failures;	/* consecutive */
	uint64_t	sent, acked, missed;
};

/* keepalive_tick() flags */
#define KA_SEND		0x01	/* send one now, then call keepalive_sent */
#define KA_MISSED	0x02	/* the previous one went unanswered */
#define KA_WARN		0x04	/* failures just reached warn_after */
#define KA_DEAD		0x08	/* failures reached dead_after: stop */
/* keepalive_ack() flag */
#define KA_RECOVERED	0x10	/* answered after at least warn_after failures */

void	keepalive_init(struct keepalive *k, double interval, int warn_after,
	    int dead_after);
/* Call once per interval (first call right after the path comes up). */
int	keepalive_tick(struct keepalive *k, double now);
void	keepalive_sent(struct keepalive *k, uint64_t seq, double now);
/* A KEEPALIVE_ACK: -1 when it answers nothing outstanding (a late one),
 * else flags; *rtt in seconds. Only ACKs reset the count: DATA or the
 * peer's own KEEPALIVEs prove one direction only, and a one-way path must
 * be declared dead. */
int	keepalive_ack(struct keepalive *k, uint32_t seq_lo, double now,
	    double *rtt);

#endif
