/*
 * Hairpin test (hairpinning: RFC 4787 section 6, REQ-9; run in the style
 * of RFC 5780 section 4.5, after the other tests): from a socket whose mapping M the NAT tests
 * just learnt, send a Binding request to M itself. A NAT that hairpins
 * turns it round to its own internal side, and the request comes back in
 * on the same socket (matched by its transaction id); one that does not
 * drops it or delivers it to itself. Hosts behind one NAT then reach each
 * other at their public endpoints only when the NAT hairpins.
 *
 *   socket S --- Binding request, tid T ---> M (the NAT's public side)
 *   socket S <-- the same request, tid T ---  (hairpinned)   => yes
 *   nothing within the timeout                               => no
 *
 * The request is sent up to three times (0, 0.25 s, 0.75 s) within the
 * timeout, so one lost datagram is not read as "no".
 */
#ifndef STUND_HAIRPIN_H
#define STUND_HAIRPIN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <ev.h>

#define HAIRPIN_SENDS	3

struct hairpin;
typedef void hairpin_done_cb(struct hairpin *h, void *arg);

struct hairpin {
	struct ev_loop		*loop;
	int			 fd;
	struct sockaddr_storage	 dst;		/* our own mapped address */
	uint8_t			 tid[12];
	uint8_t			 req[64];
	size_t			 reqlen;
	ev_timer		 timer;
	int			 nsent, running;
	double			 started, deadline, next_gap;
	hairpin_done_cb		*cb;
	void			*arg;

	/* results, valid in the callback */
	int			 result;	/* 1 yes, 0 no, -1 unknown
						 * (a send failed: note) */
	double			 ms;		/* first send to arrival */
	char			 note[160];	/* why, for people */
};

/* Start the test from fd (not owned) to mapped; cb runs once unless
 * hairpin_cancel() comes first. 0, or -1 (nothing started). */
int	hairpin_start(struct hairpin *h, struct ev_loop *loop, int fd,
	    const struct sockaddr *mapped, double timeout_s,
	    hairpin_done_cb *cb, void *arg);
void	hairpin_cancel(struct hairpin *h);
/* A datagram read from fd: 1 if it was our own request coming back (the
 * test is then done), 0 if it is someone else's to handle. */
int	hairpin_input(struct hairpin *h, const uint8_t *buf, size_t len);

#endif
