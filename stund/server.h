/*
 * STUN server mode: answers Binding requests with XOR-MAPPED-ADDRESS,
 * SOFTWARE (when configured) and FINGERPRINT. With an alternate IP it serves
 * RFC 5780 from four sockets (P:pp, P:ap, A:pp, A:ap): RESPONSE-ORIGIN,
 * OTHER-ADDRESS and CHANGE-REQUEST (the answer leaves from the socket with
 * the other IP and/or port) and RESPONSE-PORT (to the requester's own IP
 * only: never to a third party).
 *
 * RFC 3489 clients (no magic cookie) get MAPPED-ADDRESS, and with RFC 5780
 * SOURCE-ADDRESS and CHANGED-ADDRESS, as RFC 8489 section 11 asks; their
 * RESPONSE-ADDRESS is answered with 420, never followed.
 *
 * Amplification: a response is at most ~80 bytes for IPv4 (PADDING in a
 * request is not echoed), so an attacker gains at most 80/20 on the smallest
 * request; malformed requests, indications and unknown methods get nothing;
 * with rate_limit set, a source IP gets at most that many answers a second.
 */
#ifndef STUND_SERVER_H
#define STUND_SERVER_H

#include <stddef.h>
#include <stdint.h>

struct sockaddr;

struct stund;

struct server_stats {
	uint64_t	requests;
	uint64_t	responses;
	uint64_t	malformed;
	uint64_t	ignored;	/* not a Binding request */
	uint64_t	rate_limited;
	uint64_t	unknown_attr;	/* answered 420 */
	uint64_t	classic;	/* RFC 3489 requests (no cookie) */
	uint64_t	send_errors;
};

int	server_init(struct stund *sd);
void	server_fini(struct stund *sd);
const struct server_stats *server_stats(const struct stund *sd);
/* "203.0.113.10:3478" primary, and alternate ("" when none) */
const char *server_primary(const struct stund *sd);
const char *server_alternate(const struct stund *sd);

/*
 * Build the answer to one request (exposed for unit tests and the fuzzer).
 * `from` is the requester, `local` the socket it reached. On success returns
 * the response length and sets *change (CHANGE-REQUEST flags to honour) and
 * *port (RESPONSE-PORT or 0); 0 when the datagram gets no answer.
 */
int	server_answer(const uint8_t *req, size_t reqlen,
	    const struct sockaddr *from, const struct sockaddr *local,
	    const struct sockaddr *other, const char *software, int rfc5780,
	    uint8_t *out, size_t outcap, uint32_t *change, uint16_t *port,
	    struct server_stats *st);

#endif
