/*
 * What travels inside a relay WebSocket session (ws[s]://HOST/v1/relay/SID).
 *
 * Every WebSocket message is one binary frame holding one unit. The first
 * byte tells the kind:
 *
 *   first byte   sender      meaning
 *   ----------   ---------   ---------------------------------------------
 *   0x00..0xEF   a peer      DATA: a packet exactly as it would go over UDP
 *                            (STUN, punch, keep-alive, data: proto/packet.h),
 *                            forwarded byte for byte to the other clients
 *                            of the session. relayd never looks inside.
 *   0xF0         relayd      CONTROL: somebody joined/left (below).
 *                            relayd drops 0xF0 frames sent by clients, so
 *                            a peer cannot forge them.
 *   0xF1         a peer      SIGNAL: rendezvous between peers (candidate
 *                            lists), forwarded like DATA.
 *   0xF2..0xFF   -           reserved; relayd forwards them like DATA,
 *                            receivers ignore them.
 *
 * Why 0xF0 and up: RFC 7983 demultiplexing gives 0-3 to STUN, 16-19 ZRTP,
 * 20-63 DTLS, 64-79 TURN channels, 128-191 RTP/RTCP; the top of the byte
 * range is unused by all of them. NOTE to proto/packet.h: UDP packet types
 * must keep their first byte below 0xF0 so relayed packets are never taken
 * for relay messages.
 *
 * CONTROL (relayd -> client), 12 bytes, integers big-endian:
 *
 *    0               1               2               3
 *    0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7
 *   +---------------+---------------+---------------+---------------+
 *   |     0xF0      |  version (1)  |     event     |  flags (0)    |
 *   +---------------+---------------+---------------+---------------+
 *   |                     client id (of the subject)                |
 *   +---------------+---------------+---------------+---------------+
 *   |  clients now in the session   |       max clients per session |
 *   +---------------+---------------+---------------+---------------+
 *
 *   event 1 WELCOME: sent to a client right after it joined; the id is its
 *                    own, the count includes it (count > 1: peers are there)
 *   event 2 JOINED:  another client joined (id = the new client)
 *   event 3 LEFT:    a client left (id = the client that left)
 *   Receivers ignore unknown events and trailing bytes (later versions may
 *   append fields); a frame shorter than 12 bytes is malformed.
 *
 * SIGNAL (client -> client, through relayd), 0xF1 then one msgpack map:
 *
 *   +------+------------------------------------------------------+
 *   | 0xF1 | {"type": "candidates", "from": NODE_ID, "ts": UINT,   |
 *   |      |  "candidates": [{"kind": "host"|"mapped"|"srflx"|"relay",|
 *   |      |                  "addr": "IP:PORT", "prio": UINT}, ...]}|
 *   +------+------------------------------------------------------+
 *
 *   type is "candidates" (here are mine; answer with yours) or "punch"
 *   (start punching at ts, Unix milliseconds, no candidates); unknown keys
 *   are ignored, unknown types are ignored by receivers.
 *
 *   A "candidates" signal may carry the sender's NAT behaviour (issue 13;
 *   senders before it leave it out, receivers before it ignore the key):
 *
 *     "nat": {"mapping": BEHAVIOUR, "filtering": BEHAVIOUR,
 *             "alloc": "constant"|"preserving"|"sequential"|"random"|
 *                      "unknown",
 *             "delta": INT, "jitter": INT, "last_port": UINT,
 *             "age_ms": UINT, "rate": FLOAT, "confidence": FLOAT}
 *
 *   BEHAVIOUR is RFC 5780's "endpoint-independent", "address-dependent",
 *   "address-and-port-dependent" or "unknown" (stund's nat.get words).
 *   alloc..confidence describe the port allocation (stund/alloc.h): ports
 *   per new destination, the largest step beyond it, the latest external
 *   port seen and how long ago the sender saw it (milliseconds: no clock
 *   is shared), other hosts' ports per second, the chance the next
 *   allocation follows the pattern. Unknown keys inside are ignored too;
 *   a value of the wrong type makes the frame malformed.
 *
 * Bump RELAYMSG_VERSION when a CONTROL field changes meaning.
 */
#ifndef PROTO_RELAYMSG_H
#define PROTO_RELAYMSG_H

#include <stddef.h>
#include <stdint.h>

#define RELAYMSG_CONTROL	0xF0
#define RELAYMSG_SIGNAL		0xF1
#define RELAYMSG_FIRST_RESERVED	0xF0	/* DATA first bytes are below this */

#define RELAYMSG_VERSION	1
#define RELAYMSG_CONTROL_LEN	12

#define RELAYMSG_WELCOME	1
#define RELAYMSG_JOINED		2
#define RELAYMSG_LEFT		3

#define RELAYMSG_MAX_CANDS	16
#define RELAYMSG_NODEID_MAX	128
#define RELAYMSG_ADDR_MAX	64

enum relaymsg_kind {
	RELAYMSG_KIND_EMPTY,	/* zero-length frame */
	RELAYMSG_KIND_DATA,
	RELAYMSG_KIND_CONTROL,
	RELAYMSG_KIND_SIGNAL,
	RELAYMSG_KIND_RESERVED,
};

struct relaymsg_control {
	uint8_t		event;
	uint8_t		flags;
	uint32_t	client_id;
	uint16_t	count;
	uint16_t	max;
};

struct relaymsg_cand {
	char		kind[8];		/* host, mapped, srflx, relay */
	char		addr[RELAYMSG_ADDR_MAX];
	uint32_t	prio;
};

/* the sender's NAT behaviour ("nat" in a SIGNAL) */
struct relaymsg_nat {
	char		mapping[32];
	char		filtering[32];
	char		alloc[16];
	int32_t		delta;		/* -65535..65535 */
	int32_t		jitter;		/* 0..65535 */
	uint16_t	last_port;
	uint32_t	age_ms;
	double		rate;		/* finite, >= 0 */
	double		confidence;	/* 0..1 */
};

struct relaymsg_signal {
	char		type[16];		/* candidates, punch */
	char		from[RELAYMSG_NODEID_MAX + 1];
	uint64_t	ts;
	size_t		ncands;
	struct relaymsg_cand cands[RELAYMSG_MAX_CANDS];
	int		has_nat;
	struct relaymsg_nat nat;
};

enum relaymsg_kind relaymsg_kind(const void *buf, size_t len);

/* Encode into buf (>= RELAYMSG_CONTROL_LEN); returns the length. */
size_t	relaymsg_control_write(void *buf, size_t len,
	    const struct relaymsg_control *c);
/* 0 on success, -1 when not a well-formed CONTROL frame. */
int	relaymsg_control_read(const void *buf, size_t len,
	    struct relaymsg_control *c);

/* Encode a SIGNAL frame (0xF1 + msgpack) into buf; returns its length,
 * or 0 when buf is too small. */
size_t	relaymsg_signal_write(void *buf, size_t len,
	    const struct relaymsg_signal *s);
/* 0 on success, -1 when malformed (wrong prefix, not a map, bad types,
 * too many candidates, strings too long). */
int	relaymsg_signal_read(const void *buf, size_t len,
	    struct relaymsg_signal *s);

const char *relaymsg_event_str(uint8_t event);

#endif
