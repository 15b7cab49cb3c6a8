/*
 * NAT behaviour discovery (RFC 5780 section 4).
 *
 * Order matters. Every test runs on a fresh socket, so no earlier traffic
 * has opened the NAT's filter, and the filtering tests run BEFORE the mapping
 * tests: mapping test II sends to the alternate IP, which would open an
 * address-dependent filter for it and make filtering test II (answer from the
 * alternate IP and port) pass wrongly - the skew stuntman's users reported.
 *
 *   Test I     to P:pp                      -> M1, OTHER-ADDRESS A:ap
 *   Filter II  to P:pp, CHANGE IP+PORT      answered: endpoint-independent
 *   Filter III to P:pp, CHANGE PORT         answered: address-dependent,
 *                                           else address-and-port-dependent
 *   Map II     to A:pp                      M2 == M1: endpoint-independent
 *   Map III    to A:ap                      M3 == M2: address-dependent,
 *                                           else address-and-port-dependent
 *
 * Without OTHER-ADDRESS from any server, the mapping is told from the
 * mapped addresses several servers (different IPs) see for one socket, as
 * the seeds did; filtering is then unknown.
 */
#ifndef STUND_NATBEHAV_H
#define STUND_NATBEHAV_H

#include <stdint.h>
#include <sys/socket.h>

#define NAT_UNKNOWN	0
#define NAT_EI		1	/* endpoint-independent */
#define NAT_AD		2	/* address-dependent */
#define NAT_APD		3	/* address-and-port-dependent */

struct stund;

struct nat_result {
	int			 valid;
	int			 behind_nat;	/* 1, 0, -1 unknown */
	int			 mapping;
	int			 filtering;
	const char		*classic;
	const char		*explanation;
	const char		*method;	/* "rfc5780", "multi-server" */
	char			 server[256];
	struct sockaddr_storage	 public;
	struct sockaddr_storage	 local;
	double			 when;
	double			 duration;
	char			 error[700];
	/* hairpin (hairpin.h), run last on the tests' socket */
	int			 hairpin;	/* 1, 0, -1 unknown */
	double			 hairpin_ms;
	char			 hairpin_note[160];
};

const char *natbehav_term(int behaviour);
/* Set classic and explanation from behind_nat, mapping and filtering. */
void	natbehav_classify(struct nat_result *r);

int	natbehav_init(struct stund *sd);
void	natbehav_fini(struct stund *sd);
/* Start a run unless one is going. */
void	natbehav_start(struct stund *sd);
/* cb(sd, 0, arg) now from the last result (unless refresh or a run is
 * going), else after the next run (natbehav_result() then valid, or not
 * with its error); cb(sd, -1, arg) when stund stops first. -1 (no memory)
 * and cb is never called. cb is a discover_wait_cb (discover.h). */
int	natbehav_request(struct stund *sd, int refresh,
	    void (*cb)(struct stund *, int, void *), void *arg);
const struct nat_result *natbehav_result(const struct stund *sd);
int	natbehav_running(const struct stund *sd);

#endif
