/*
 * Keep-alive on a peer's chosen path: one exchange per interval for the
 * pair, not one per side. The side with the smaller node id leads: it
 * sends a KEEPALIVE every interval and the other answers with an empty
 * KEEPALIVE_ACK. The other side stays quiet while it hears the leader,
 * and sends its own KEEPALIVEs (and counts failures) as soon as it has not
 * heard one for KA_QUIET intervals, or the leader says its last one went
 * unanswered (PACKET_F_KA_MISSED): so both ends still detect a dead or
 * one-way path, each on its own, and the NAT bindings see traffic both
 * ways every interval. README.md (punchd), "Keep-alive and health".
 *
 * An interval that ends with our KEEPALIVE unanswered is one failure;
 * failures count while consecutive: a warning at warn_after, the path
 * dead at dead_after. No I/O, no globals: the caller sends and keeps the
 * timer.
 */
#ifndef PUNCHD_KEEPALIVE_H
#define PUNCHD_KEEPALIVE_H

#include <stddef.h>
#include <stdint.h>

/* the follower speaks up after this many intervals without a KEEPALIVE */
#define KA_QUIET	1.5
/*
 * The leader's schedule, carried by its KEEPALIVEs on a direct path (an
 * optional 8-byte payload, proto/packet.h: its interval and the time until
 * its next one, ms, big-endian u32 each; older receivers ignore it). The
 * follower takes the leader's interval when shorter than its own, and
 * probes KA_EXPECT_SLACK s (half an interval when shorter) after a
 * KEEPALIVE that was due and did not come
 * (its own NAT may have forgotten the binding: only it can reopen it),
 * well inside the leader's 2 s before it declares an idle path dead.
 */
#define KA_HINT_LEN		8
#define KA_HINT_MAX		3600.0	/* s: the config's longest interval */
#define KA_EXPECT_SLACK		1.0

struct keepalive {
	double		interval;	/* s */
	int		warn_after;
	int		dead_after;
	int		lead;		/* we send every interval */
	double		own;		/* our interval, before the leader's */
	double		lead_iv;	/* the leader's, 0 unknown (follower) */
	double		expect_at;	/* the leader's next one due, -1 unknown */
	int		outstanding;	/* our KEEPALIVE waits for its ACK */
	double		out_sent;
	double		heard;		/* last KEEPALIVE from the peer */
	int		told;		/* its last one said KA_MISSED */
	int		failures;	/* consecutive */
	uint64_t	sent, acked, missed, received;
};

/* keepalive_tick() flags */
#define KA_SEND		0x01	/* send one now, then call keepalive_sent */
#define KA_MISSED	0x02	/* the previous one went unanswered */
#define KA_WARN		0x04	/* failures just reached warn_after */
#define KA_DEAD		0x08	/* failures reached dead_after: stop */
/* keepalive_ack() flags */
#define KA_RECOVERED	0x10	/* answered after at least warn_after failures */
#define KA_RTT		0x20	/* *rtt is a sample */

void	keepalive_init(struct keepalive *k, double interval, int warn_after,
	    int dead_after, int lead);
/* Call once per interval (first call right after the path comes up). */
int	keepalive_tick(struct keepalive *k, double now);
void	keepalive_sent(struct keepalive *k, double now);
/* The peer's KEEPALIVE; `missed`: it carried PACKET_F_KA_MISSED. */
void	keepalive_heard(struct keepalive *k, double now, int missed);
/*
 * A KEEPALIVE_ACK: -1 when nothing is outstanding (a late or stray one),
 * else flags. The ACK is empty: it answers the one outstanding KEEPALIVE,
 * and gives an RTT sample (KA_RTT) only when no earlier one is missing, so
 * a late answer to an earlier KEEPALIVE cannot shorten the RTT. Only ACKs
 * reset the failure count: the peer's KEEPALIVEs or DATA prove one
 * direction only, and a one-way path must be declared dead.
 */
int	keepalive_ack(struct keepalive *k, double now, double *rtt);

/* Our own interval changed (the NAT's lifetime); the follower still takes
 * the leader's when shorter. */
void	keepalive_set_interval(struct keepalive *k, double interval);
/* The leader's schedule into buf (KA_HINT_LEN bytes); and out of a
 * KEEPALIVE's payload: 0, or -1 when absent or out of range. */
void	keepalive_hint_pack(uint8_t *buf, double interval, double next);
int	keepalive_hint_parse(const uint8_t *pl, size_t len, double *interval,
	    double *next);
/* The follower heard the leader's schedule: 1 when our interval changed. */
int	keepalive_hint(struct keepalive *k, double now, double interval,
	    double next);
/* The follower's deadline to probe (absolute): the leader's next
 * KEEPALIVE + slack, or, with no schedule known, `last_heard` + interval
 * + slack; INFINITY for the leader. */
double	keepalive_expect(const struct keepalive *k, double last_heard);
/* The deadline passed and we probed: expect the slot after it. */
void	keepalive_expect_missed(struct keepalive *k, double now);

#endif
