/*
 * End-to-end session keys between two nodes (issue 7): an ephemeral X25519
 * exchange signed with both Ed25519 node keys, per-session XChaCha20-Poly1305
 * keys with their own sequence counters and replay windows, rekeying on a
 * timer and a packet count, and a grace period for the previous key.
 * README.md (punchd) ("End-to-end encryption") has the prose, docs/packet-format.md
 * the wire format. No I/O, no clock, no allocation: the caller passes `now`
 * and sends what it is told to send (punchd/e2e_session.c), so the unit tests can run
 * two sides against each other in memory (tests/unit/check_e2e.c).
 *
 *   initiator                                               responder
 *   |-- E2E_INIT (mesh key) key id, e_i, pk_i, sig_i ------------->|
 *   |<- E2E_RESP (mesh key) key id, e_i, e_r, sig_r ---------------|
 *   |== DATA, PING, PONG: flags SESSION, key id, per-key seq ======|
 *
 *   INIT: key id (1) | zero (1) | e_i (32) | pk_i (32) | ts (8) | sig_i (64)
 *   RESP: key id (1) | zero (1) | e_i (32) | e_r (32)  | ts (8) | sig_r (64)
 *   (138 bytes each; ts = the initiator's clock in microseconds, strictly
 *   increasing per sender, echoed in RESP; the zero byte is not signed and
 *   is ignored on receipt: a later use must sign it, under new labels)
 *   sig_i = Ed25519(sk_i, "atm-e2e-init-v1" || id_i || id_r || key id
 *                         || e_i || pk_i || ts)
 *   sig_r = Ed25519(sk_r, "atm-e2e-resp-v1" || id_r || id_i || key id
 *                         || e_i || e_r || ts)
 *
 * A responder accepts an INIT only if its ts is above the last one it
 * accepted from that peer (a resend of the INIT it answered gets the same
 * RESP again): an old INIT re-sent by someone holding the mesh key cannot
 * make it switch to keys nobody else has.
 *   okm   = BLAKE2b-512(key = X25519(e, E),
 *                       "atm-e2e-keys-v1" || e_i || e_r || id_i || id_r
 *                       || key id)
 *   key initiator->responder = okm[0..32], responder->initiator = okm[32..64]
 *
 * The ephemeral secrets and the DH output are wiped as soon as the keys
 * exist; a retired key is wiped when its grace period ends.
 *
 * Key confirmation: the responder cannot know whether its RESP arrived, so
 * the new key goes into `next`: it opens packets at once but is not sent
 * with. The responder keeps sending with its current key (the initiator
 * still holds it, as current while it waits and as previous after) or,
 * before the first session, sends nothing under a session key, until a
 * packet from the initiator opens with `next`: only the initiator can make
 * one, so it has the RESP, and `next` becomes current. The initiator, on
 * the RESP, switches at once and sends a packet under the new key
 * (E2E_OUT_CONFIRM: punchd sends a PING, whose PONG comes back under the
 * new key), resent every retx until the responder is heard under the new
 * key (max_tries times); meanwhile it keeps the previous key open past
 * its grace period. Neither side starts a rekey while a confirmation is
 * outstanding, so a key in use is never replaced before the peer has it.
 * A lost RESP therefore costs a resend of the INIT and nothing else.
 *
 * Key ids: the side with the smaller node id picks odd ones, the other
 * even, so INITs that cross (or one delayed past the handshake that won
 * the crossing) never name the key that came out of the other.
 */
#ifndef PROTO_E2E_H
#define PROTO_E2E_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto/packet.h"

#define E2E_PK_LEN		32	/* X25519 and Ed25519 public keys */
#define E2E_SK_LEN		64	/* Ed25519 secret key (libsodium) */
#define E2E_SIG_LEN		64
#define E2E_MSG_LEN		138	/* INIT and RESP payloads */
/* a key is never used past this many packets, whatever the config says */
#define E2E_SEQ_LIMIT		(UINT64_C(1) << 60)

/* results of e2e_input (bits) and errors (negative) */
#define E2E_OUT_REPLY		0x01	/* send out (type *out_type) back */
#define E2E_OUT_NEWKEY		0x02	/* a new session key is in use */
#define E2E_OUT_CONFIRM		0x04	/* send a packet under it now */
#define E2E_ERR_NOKEY		-20	/* session packet, key id unknown */
#define E2E_ERR_SIG		-21	/* handshake signature wrong */
#define E2E_ERR_STATE		-22	/* RESP nobody asked for, stale */
#define E2E_ERR_NOPK		-23	/* peer's node key unknown */
#define E2E_ERR_DH		-24	/* degenerate ephemeral key */

/* e2e_tick: what the caller should do */
#define E2E_TICK_REKEY		0x01	/* send e2e_start's INIT */
#define E2E_TICK_RETX		0x02	/* resend the pending INIT */
#define E2E_TICK_CONFIRM	0x04	/* send a packet under the new key
					   again (E2E_OUT_CONFIRM) */

struct e2e_params {
	double		rekey_interval;	/* s: rekey a key this old */
	uint64_t	rekey_packets;	/* rekey after sending this many */
	double		grace;		/* s: keep the previous rx key */
	double		retx;		/* s: resend INIT (and the key
					   confirmation) this often */
	int		max_tries;	/* INITs (confirmations) per attempt */
};

struct e2e_key {
	int			valid;
	uint8_t			id;		/* key id byte, 1..255 */
	uint8_t			tx[PACKET_KEY_LEN];
	uint8_t			rx[PACKET_KEY_LEN];
	uint64_t		tx_seq;		/* next to send, from 1 */
	struct packet_replay	replay;
	double			created;
	double			expires;	/* previous key: wiped then;
						   next key: given up then */
};

struct e2e_peer {
	struct e2e_params	par;
	uint8_t			self_id[PACKET_NODEID_LEN];
	uint8_t			peer_id[PACKET_NODEID_LEN];
	uint8_t			self_pk[E2E_PK_LEN];
	const uint8_t		*self_sk;	/* the caller's, not copied:
						   must outlive this */
	int			have_peer_pk;
	int			learned_pk;	/* from an INIT, not known */
	uint8_t			peer_pk[E2E_PK_LEN];
	struct e2e_key		cur, prev;
	/* responder: the key of the INIT we answered, opens packets but is
	 * not sent with until the initiator has used it */
	struct e2e_key		next;
	/* initiator: switched, the responder not heard under cur yet */
	int			confirm;
	double			confirm_sent;
	int			confirm_tries;
	/* initiator: one INIT outstanding */
	int			pending;
	uint8_t			eph_sk[32];
	uint8_t			eph_pk[32];
	uint8_t			pend_id;
	double			pend_sent;
	int			pend_tries;
	uint8_t			init_msg[E2E_MSG_LEN];
	/* responder: the last RESP, for a resent INIT */
	int			have_resp;
	uint8_t			resp_msg[E2E_MSG_LEN];
	uint8_t			last_id;
	uint64_t		init_ts_sent;	/* last INIT's ts */
	uint64_t		init_ts_seen;	/* last accepted from the peer */
	/* counters */
	uint64_t		epoch;		/* keys established */
	uint64_t		handshakes_failed;
	uint64_t		rx_nokey, rx_auth, rx_replay;
};

void	e2e_params_default(struct e2e_params *par);
/* sk/pk: this node's Ed25519 key; peer_pk NULL when not known (yet). */
int	e2e_peer_init(struct e2e_peer *e, const struct e2e_params *par,
	    const uint8_t *self_id, const uint8_t *self_pk,
	    const uint8_t *self_sk, const uint8_t *peer_id,
	    const uint8_t *peer_pk);
void	e2e_set_peer_pk(struct e2e_peer *e, const uint8_t *pk);
/* wipe every secret (peer gone, shutdown) */
void	e2e_peer_wipe(struct e2e_peer *e);

/* A session key to send with. */
int	e2e_ready(const struct e2e_peer *e);
/* A handshake under way: our INIT, the peer's awaiting its first packet
 * under the new key, or our new key not yet used by the peer. Do not
 * start another. */
int	e2e_busy(const struct e2e_peer *e);

/*
 * Start a handshake: writes the INIT payload (E2E_MSG_LEN) into out. A
 * handshake already under way is not restarted: the same INIT is returned
 * (a resend). Returns E2E_MSG_LEN or a negative error (E2E_ERR_STATE while
 * a key confirmation is outstanding either way).
 */
int	e2e_start(struct e2e_peer *e, double now, uint8_t *out);

/*
 * An authenticated (mesh key) PACKET_E2E_INIT or PACKET_E2E_RESP payload.
 * allow_learn: an INIT may teach the peer's node key when none is known
 * (same trust as an ANNOUNCE, which is also under the mesh key).
 * Returns a mask of E2E_OUT_* (out holds *out_type's payload, E2E_MSG_LEN,
 * when E2E_OUT_REPLY), or a negative error. An INIT answered gives
 * E2E_OUT_REPLY only: its key is in use once the initiator has used it
 * (e2e_decrypt). A RESP accepted gives E2E_OUT_NEWKEY | E2E_OUT_CONFIRM.
 */
int	e2e_input(struct e2e_peer *e, uint8_t type, const uint8_t *pl,
	    size_t len, double now, int allow_learn, uint8_t *out,
	    uint8_t *out_type);

/*
 * Encrypt with the current session key: h's type and sender are used,
 * flags SESSION, key id and seq are filled in. Returns the packet length,
 * -1 (no key, limit reached, cap too small).
 */
ssize_t	e2e_encrypt(struct e2e_peer *e, uint8_t *buf, size_t cap,
	    struct packet_hdr *h, const uint8_t *payload, size_t len);

/*
 * A packet with flags SESSION: key by key id, replay window of that key,
 * decrypt in place. Returns 0 or PACKET_ERR_* / E2E_ERR_NOKEY. A packet
 * that opens with the next key puts that key in use (epoch advances: the
 * caller may now send what it held back); one that opens with the current
 * key ends our wait for confirmation.
 */
int	e2e_decrypt(struct e2e_peer *e, uint8_t *buf, size_t len, double now,
	    struct packet_hdr *h, const uint8_t **pl, size_t *plen);

/* Housekeeping: wipes the previous key after its grace period (not while
 * the peer may still send with it: confirmation outstanding) and a next
 * key never confirmed, says whether to rekey or resend (E2E_TICK_*; a
 * confirmation it asks for is counted as sent). */
int	e2e_tick(struct e2e_peer *e, double now);

#endif
