/*
 * Punch, keep-alive and data packets on the node's UDP socket (punchd), and
 * inside relay DATA frames (proto/relaymsg.h) byte for byte. docs/packet-format.md
 * has the prose; this is the reference.
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |0 1 1 0 0| ver |     type      |     flags     |    key id     |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                                                               |
 *   +                  sender node id (64 bits)                     +
 *   |                                                               |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                                                               |
 *   +                  sequence number (64 bits)                    +
 *   |                                                               |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                                                               |
 *   ~            payload (encrypted, 0..n bytes)                    ~
 *   |                                                               |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                                                               |
 *   +            authenticator (Poly1305 tag, 128 bits)             +
 *   |                                                               |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Integers are big-endian. The 20-byte header is the AEAD's associated data,
 * so every header bit is authenticated; the payload is encrypted.
 *
 * First byte 0x61..0x67 (0x60 | version, version 1..7). RFC 7983 gives 0-3
 * to STUN, 16-19 ZRTP, 20-63 DTLS, 64-79 TURN channels, 128-191 RTP/RTCP;
 * 80-127 is unassigned there (RFC 9443 later lends it to QUIC, which never
 * runs on this socket), and relay frames 0xF0.. are taken by relaymsg.h. The
 * top two bits are 01, so a STUN demultiplexer that looks at those bits alone
 * (RFC 8489 section 6) can never mistake us for STUN.
 *
 * There is no length field: a packet is always exactly one UDP datagram or
 * one WebSocket frame, both of which carry the length. Two more bytes would
 * make a keep-alive 66 bytes on the IPv4 wire instead of 64.
 *
 * Crypto: XChaCha20-Poly1305-IETF (libsodium). The 24-byte nonce is
 *     sender node id (8) || sequence number (8) || 8 zero bytes
 * so it never repeats for a key as long as each sender never reuses a
 * sequence number under one key: the sequence is per sender, per key, and
 * strictly increasing (see packet_seq_start for restarts). Node ids differ
 * between senders, so senders sharing the mesh key cannot collide.
 *
 * Sizes on the wire (UDP payload; add 28 for IPv4+UDP, 48 for IPv6+UDP):
 *   KEEPALIVE 36, KEEPALIVE_ACK 40, PING/PONG >= 48,
 *   PUNCH/PUNCH_ACK/PUNCH_CONFIRM 92, DATA 36 + data, E2E_INIT/RESP 174.
 *
 * Bump PACKET_VERSION when the header or the nonce construction changes.
 */
#ifndef PROTO_PACKET_H
#define PROTO_PACKET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PACKET_VERSION		1
#define PACKET_MAGIC		0x60	/* first byte = PACKET_MAGIC | version */
#define PACKET_MAGIC_MASK	0xF8
#define PACKET_HDR_LEN		20
#define PACKET_TAG_LEN		16
#define PACKET_OVERHEAD		(PACKET_HDR_LEN + PACKET_TAG_LEN)
#define PACKET_KEY_LEN		32
#define PACKET_NODEID_LEN	8
/* Largest IPv4 UDP payload; decode refuses anything longer. */
#define PACKET_MAX_LEN		65507
#define PACKET_MAX_PAYLOAD	(PACKET_MAX_LEN - PACKET_OVERHEAD)
/* libsodium crypto_kdf context for keys derived from the mesh secret. */
#define PACKET_KDF_CONTEXT	"atmpunch"
#define PACKET_MESH_SECRET_LEN	32

/* types; 0 is never valid, 9..12 membership, 13..14 the end-to-end
 * handshake, 15 mesh interface, 16..127 are kept for later control types, 128..255 for
 * experiments */
#define PACKET_PUNCH		1
#define PACKET_PUNCH_ACK	2
#define PACKET_PUNCH_CONFIRM	3
#define PACKET_KEEPALIVE	4
#define PACKET_KEEPALIVE_ACK	5
#define PACKET_PING		6
#define PACKET_PONG		7
#define PACKET_DATA		8
/* membership (proto/join.h): JOIN_* under the key derived from an invite's
 * join secret, ANNOUNCE under the mesh key */
#define PACKET_JOIN_HELLO	9
#define PACKET_JOIN_WELCOME	10
#define PACKET_JOIN_REFUSE	11
#define PACKET_ANNOUNCE		12
/* end-to-end session handshake (proto/e2e.h), under the mesh key; DATA,
 * PING and PONG then travel under the session key (flag SESSION) */
#define PACKET_E2E_INIT		13
#define PACKET_E2E_RESP		14
/* an IP packet of the mesh interface (docs/mesh-interface.md), like DATA:
 * under the session key when the pair has one, payload = the bare IPv4 or
 * IPv6 packet; a node without the interface drops it */
#define PACKET_IP		15
#define PACKET_TYPE_MAX		15	/* highest type this build accepts */

/* flags: senders set undefined bits to zero, receivers ignore them */
#define PACKET_F_SESSION	0x01	/* key is a per-session key (proto/e2e.h),
					   key id = its id, seq = its own
					   counter; not the mesh secret's */
#define PACKET_F_KA_MISSED	0x02	/* KEEPALIVE: the sender's previous
					   one went unanswered */
#define PACKET_F_KA_BROKEN	0x04	/* KEEPALIVE_ACK: the sender's side
					   of the path was in doubt since the
					   KEEPALIVE before: the gap was not
					   survived */

/* results: 0 or one of these (negative) */
#define PACKET_OK		 0
#define PACKET_ERR_SHORT	-1	/* shorter than header + tag */
#define PACKET_ERR_MAGIC	-2	/* first byte not ours (STUN, noise) */
#define PACKET_ERR_VERSION	-3	/* ours, but a version we do not speak */
#define PACKET_ERR_TYPE		-4	/* unknown type */
#define PACKET_ERR_LENGTH	-5	/* longer than PACKET_MAX_LEN */
#define PACKET_ERR_AUTH		-6	/* tag wrong: tampered, wrong key/mesh */
#define PACKET_ERR_REPLAY	-7	/* sequence already seen */
#define PACKET_ERR_OLD		-8	/* sequence behind the replay window */
#define PACKET_ERR_PAYLOAD	-9	/* typed payload too short or malformed */

struct packet_hdr {
	uint8_t		version;	/* PACKET_VERSION on encode */
	uint8_t		type;
	uint8_t		flags;
	uint8_t		key_id;		/* which key/epoch: picks the key
					   without trial decryption */
	uint8_t		sender[PACKET_NODEID_LEN];
	uint64_t	seq;
};

/*
 * Key for epoch `epoch` of the mesh secret: crypto_kdf_derive_from_key with
 * subkey id = epoch and context PACKET_KDF_CONTEXT. Senders put epoch & 0xff
 * in key_id. Returns 0, or -1 if libsodium fails.
 */
int	packet_key_derive(uint8_t key[PACKET_KEY_LEN],
	    const uint8_t secret[PACKET_MESH_SECRET_LEN], uint64_t epoch);

/*
 * First sequence number for a process that starts at Unix time `now`:
 * now << 32. A restarted sender thus starts above anything it sent before
 * (unless it sent 2^32 packets per second of uptime, or the clock went
 * back: punchd also persists a high-water mark), which keeps nonces unique
 * under a long-lived mesh key and keeps receivers' replay windows happy.
 */
uint64_t packet_seq_start(uint64_t now);

/* 1 when the first byte is one of ours (any version): for demultiplexing. */
int	packet_is_ours(const uint8_t *buf, size_t len);

/*
 * Header only, no crypto: is it ours, which version/type, which sender and
 * key id. Cheap enough to run on every datagram before looking up a peer.
 * Returns 0 or PACKET_ERR_SHORT/_MAGIC/_VERSION/_TYPE/_LENGTH.
 */
int	packet_peek(const uint8_t *buf, size_t len, struct packet_hdr *out);

/*
 * Build a packet into buf. payload may be NULL when len is 0, and may be
 * buf + PACKET_HDR_LEN (built in place); other overlaps are not allowed.
 * Returns the packet length (len + PACKET_OVERHEAD) or -1 when cap is too
 * small, the type or version is invalid or len > PACKET_MAX_PAYLOAD.
 */
ssize_t	packet_encode(uint8_t *buf, size_t cap, const struct packet_hdr *h,
	    const uint8_t *payload, size_t len,
	    const uint8_t key[PACKET_KEY_LEN]);

/*
 * Check and decrypt in place. On success *payload points into buf and
 * *plen is its length. On PACKET_ERR_AUTH libsodium has zeroed the payload
 * bytes in buf: to try a second key, decode a copy (key_id exists so that
 * this is never needed). Replay is not checked here: see packet_replay.
 */
int	packet_decode(uint8_t *buf, size_t len, const uint8_t key[PACKET_KEY_LEN],
	    struct packet_hdr *out, const uint8_t **payload, size_t *plen);

const char *packet_strerror(int err);
const char *packet_type_str(uint8_t type);

/*
 * Anti-replay window, RFC 6479 style (as in WireGuard): a ring of 64-bit
 * words holding which of the last PACKET_REPLAY_WINDOW sequence numbers
 * below the highest accepted one were seen. One per sender per key;
 * 144 bytes. 1024 bits absorb the reordering of a burst of ~960 packets,
 * far more than one path reorders; older packets are dropped as too old.
 */
#define PACKET_REPLAY_WORDS	16
#define PACKET_REPLAY_BITS	(PACKET_REPLAY_WORDS * 64)
/* one word is the one being filled, so the guaranteed window is smaller */
#define PACKET_REPLAY_WINDOW	(PACKET_REPLAY_BITS - 64)

struct packet_replay {
	uint64_t	top;		/* highest sequence accepted */
	uint64_t	any;		/* 0 until the first accept */
	uint64_t	map[PACKET_REPLAY_WORDS];
};

void	packet_replay_reset(struct packet_replay *w);
/* Would seq be accepted? 0, PACKET_ERR_REPLAY or PACKET_ERR_OLD. Does not
 * change the window: use it before crypto to drop cheap replays. */
int	packet_replay_check(const struct packet_replay *w, uint64_t seq);
/* Check and mark seq seen. Call only after packet_decode succeeded, or a
 * forger could slide the window forward and blind it. */
int	packet_replay_check_and_update(struct packet_replay *w, uint64_t seq);

/*
 * PUNCH, PUNCH_ACK, PUNCH_CONFIRM payload, 64 bytes:
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                                                               |
 *   +                transaction id (96 bits)                       +
 *   |                                                               |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                sender's candidate id                          |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                receiver's candidate id                        |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |       timestamp (64 bits, sender's monotonic clock, us)       |
 *   +                                                               +
 *   |                                                               |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |       echo (64 bits: timestamp of the packet answered, or 0)  |
 *   +                                                               +
 *   |                                                               |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |   pflags      |    family     |             port              |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                                                               |
 *   +           address (128 bits; IPv4 in the first 4 bytes)       +
 *   |                                                               |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                                                               |
 *   +          receiver's node id (64 bits; 0 = not known yet)      +
 *   |                                                               |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * One transaction per candidate pair: PUNCH (new seq each resend, same
 * txid), PUNCH_ACK and PUNCH_CONFIRM echo txid and swap candidate ids. RTT =
 * now - echo at the receiver of ACK or CONFIRM. The address is what the
 * sender saw or used: in PUNCH the destination it sent to, in PUNCH_ACK and
 * PUNCH_CONFIRM the source address the answered packet came from, so each
 * side learns its peer-reflexive mapping. family 0 = no address, 1 = IPv4,
 * 2 = IPv6 (as in STUN). The receiver's node id binds the packet to the
 * node it was meant for, so that a packet captured on one member's path
 * and replayed to another member is dropped there (the mesh key alone
 * would authenticate it); it is 0 only while punching a peer known by
 * name and address, before its first answer tells its id. Receivers
 * ignore trailing bytes (later fields).
 */
#define PACKET_TXID_LEN		12
#define PACKET_PUNCH_LEN	64
#define PACKET_PF_NOMINATE	0x01	/* controlling side: use this pair */
#define PACKET_PF_CONTROLLING	0x02	/* sender is the controlling side */
#define PACKET_AF_NONE		0
#define PACKET_AF_INET		1
#define PACKET_AF_INET6		2

struct packet_punch {
	uint8_t		txid[PACKET_TXID_LEN];
	uint32_t	local_cand;	/* the sender's candidate */
	uint32_t	remote_cand;	/* the receiver's candidate, as the
					   sender knows it */
	uint64_t	ts;
	uint64_t	echo;
	uint8_t		pflags;
	uint8_t		family;
	uint16_t	port;
	uint8_t		addr[16];
	uint8_t		dest[PACKET_NODEID_LEN];	/* receiver, or 0s */
};

/*
 * KEEPALIVE and KEEPALIVE_ACK: empty payloads (36 bytes on UDP, 64 with
 * IPv4+UDP headers), but for the leader's KEEPALIVE on a direct path: its
 * interval and the time to its next one, ms, big-endian u32 each
 * (punchd/keepalive.h KA_HINT_LEN). An ACK answers the sender's one
 * outstanding KEEPALIVE; receivers ignore any other payload.
 * PING and PONG: id (32) + timestamp (64) = 12 bytes, then optional padding
 * (PMTU probes); PONG echoes both and must never be longer than its PING.
 */
#define PACKET_PING_LEN		12

struct packet_ping {
	uint32_t	id;
	uint64_t	ts;
};

/* Encoders return the payload length written (or -1 when cap is short);
 * decoders 0 or PACKET_ERR_PAYLOAD. */
int	packet_punch_encode(uint8_t *buf, size_t cap,
	    const struct packet_punch *p);
int	packet_punch_decode(const uint8_t *buf, size_t len,
	    struct packet_punch *p);
int	packet_ping_encode(uint8_t *buf, size_t cap,
	    const struct packet_ping *p);
int	packet_ping_decode(const uint8_t *buf, size_t len,
	    struct packet_ping *p);

struct sockaddr;
struct sockaddr_storage;
/* struct packet_punch address <-> socket address; -1 if not IPv4/IPv6. */
int	packet_punch_set_addr(struct packet_punch *p, const struct sockaddr *sa);
int	packet_punch_get_addr(const struct packet_punch *p,
	    struct sockaddr_storage *ss);

#endif
