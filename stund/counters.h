/*
 * stund's counters, defined once: X(key, value, help). status.get's
 * "counters" map (control.c) and the metrics file's help texts come from
 * this list; the metrics file names each one stund_KEY_total (ipc_clients:
 * stund_ipc_clients, a gauge), by common/promtext.h's rule. The values are
 * expressions over sd (struct stund), ps (its probe_stats) and ss (the
 * server's stats, NULL when the server is off), read where it is expanded.
 */
#ifndef STUND_COUNTERS_H
#define STUND_COUNTERS_H

#define STUND_COUNTERS(X)						\
	X(discoveries, sd->ctr.discoveries,				\
	    "Public endpoint discoveries started, stund's own and "	\
	    "through a passed socket.")					\
	X(discovery_failures, sd->ctr.discovery_failures,		\
	    "Discoveries of stund's own endpoint no server answered.")	\
	X(nat_tests, sd->ctr.nat_tests,					\
	    "NAT behaviour tests (RFC 5780) started.")			\
	X(stun_sent, ps->sent,						\
	    "STUN requests sent, retransmissions included.")		\
	X(stun_answered, ps->answered, "STUN transactions answered.")	\
	X(stun_timeouts, ps->timeouts, "STUN transactions timed out.")	\
	X(stun_malformed, ps->malformed,				\
	    "STUN-looking datagrams that failed to decode.")		\
	X(stun_unmatched, ps->unmatched,				\
	    "STUN answers no transaction waited for.")			\
	X(server_requests, ss ? ss->requests : 0,			\
	    "Requests the STUN server received.")			\
	X(server_responses, ss ? ss->responses : 0,			\
	    "Answers the STUN server sent.")				\
	X(server_malformed, ss ? ss->malformed : 0,			\
	    "Malformed datagrams the STUN server dropped.")		\
	X(server_ignored, ss ? ss->ignored : 0,				\
	    "Datagrams the STUN server ignored (not a Binding request).") \
	X(server_rate_limited, ss ? ss->rate_limited : 0,		\
	    "Requests the STUN server dropped for rate_limit.")	\
	X(server_unknown_attr, ss ? ss->unknown_attr : 0,		\
	    "Requests answered 420 (unknown comprehension-required "	\
	    "attribute).")						\
	X(server_classic, ss ? ss->classic : 0,				\
	    "RFC 3489 Binding requests (no magic cookie) answered with "	\
	    "MAPPED-ADDRESS.")						\
	X(ipc_clients, ipc_server_nclients(sd->ipc),			\
	    "Connected IPC clients.")					\
	X(ipc_refused, ipc_server_stats(sd->ipc)->refused,		\
	    "IPC connections SO_PEERCRED turned away (not root, our uid "\
	    "or the atmosphere group).")

#endif
