/*
 * The join handshake (`meshctl join`) and member announcements: payloads
 * of packet types JOIN_HELLO, JOIN_WELCOME, JOIN_REFUSE and ANNOUNCE
 * (proto/packet.h). README.md (mesh) has the prose.
 *
 *   joiner                                                  inviter
 *   |-- JOIN_HELLO   txid, joiner pk, sig_joiner, name --------->|
 *   |<- JOIN_WELCOME txid, mesh id, sealed secret, sig_inviter --|
 *   |<- JOIN_REFUSE  txid, reason (expired, used up, no mesh) ---|
 *
 * The JOIN_* packets are ordinary packets (header, XChaCha20-Poly1305)
 * under the join key, BLAKE2b-256(key = join secret, "atm-join-key"),
 * instead of the mesh key: a valid HELLO proves that its sender holds the
 * invite (the Poly1305 tag is a MAC under a key only the code gives).
 * sig_joiner (Ed25519) binds the joiner's node id to its public key;
 * sig_inviter covers txid, joiner id and key, mesh id and the sealed
 * secret, and is checked against the inviter key in the code, so a
 * joiner talks to the node that made the invite and nobody else.
 * The mesh secret travels as crypto_box_seal to the joiner's X25519 key
 * (converted from its Ed25519 key): only the joiner can open it, even if
 * the invite code leaks later.
 *
 * txid = BLAKE2b-96(key = join secret, "atm-join-txid" || joiner id): the
 * same joiner trying another path (local, public, relay) is the same use
 * of the invite; another node with the same code is another use.
 *
 * ANNOUNCE (under the mesh key, between members): a member the sender
 * knows, with its public key and up to JOIN_MAX_CANDS addresses where the
 * sender reaches it, so that members of a mesh find each other.
 *
 *   ANNOUNCE: id (8) | pk (32) | n (1) | n x (family 1, port 2, addr 16)
 *             | name length (1) | name | [flags (1) | fields]
 *   WELCOME:  txid | mesh id | sealed | sig | name length (1) | name
 *             | [fields]
 *
 * Optional fields (proto/join_ext.c): type (1) | length (1) | value.
 * JOIN_EXT_V4: the member's mesh IPv4 address, pinned (docs/mesh-
 * interface.md): in WELCOME the joiner's, computed by the inviter; in
 * ANNOUNCE the announced member's. Not signed, like the name: under the
 * join key or the mesh key. A field an older node does not know is in the
 * bytes it ignores; unknown types are skipped; a field cut short, a type
 * twice, a v4 field of another length or an address outside 100.64.0.0/10
 * (or ending in .0/.255) refuse the payload (JOIN_E_*).
 *
 * Integers big-endian; receivers ignore trailing bytes.
 */
#ifndef PROTO_JOIN_H
#define PROTO_JOIN_H

#include <stddef.h>
#include <stdint.h>

#define JOIN_TXID_LEN		12
#define JOIN_ID_LEN		8
#define JOIN_MESH_ID_LEN	16
#define JOIN_PK_LEN		32	/* Ed25519 public key */
#define JOIN_SK_LEN		64	/* Ed25519 secret key (libsodium) */
#define JOIN_SIG_LEN		64
#define JOIN_SECRET_LEN		32
#define JOIN_SEALED_LEN		(JOIN_SECRET_LEN + 48)	/* crypto_box_SEALBYTES */
#define JOIN_NAME_MAX		63
#define JOIN_MAX_CANDS		8

/* refusal reasons */
#define JOIN_R_EXPIRED		1
#define JOIN_R_USED		2
#define JOIN_R_NOMESH		3

/*
 * A byte after the name of HELLO and ANNOUNCE (docs/browser-member.md):
 * written only when not zero, read when present (older encoders send
 * none: 0; bytes after it are ignored). Not signed, like the name: it is
 * under the join key or the mesh key, and it only makes nodes skip
 * punching that member.
 */
#define JOIN_F_RELAY_ONLY	0x01	/* no UDP (a browser): relay only */

/* optional field types */
#define JOIN_EXT_V4		1	/* 4 bytes: mesh IPv4, network order */

/* decoder results (negative; 0 is success) */
#define JOIN_E_MALFORMED	-1	/* short, bad name, bad address list */
#define JOIN_E_TRUNC		-2	/* an optional field cut short */
#define JOIN_E_LEN		-3	/* JOIN_EXT_V4 not 4 bytes */
#define JOIN_E_DUP		-4	/* JOIN_EXT_V4 twice */
#define JOIN_E_V4		-5	/* not in 100.64.0.0/10, or .0/.255 */

struct join_hello {
	uint8_t		txid[JOIN_TXID_LEN];
	uint8_t		pk[JOIN_PK_LEN];
	uint8_t		sig[JOIN_SIG_LEN];
	char		name[JOIN_NAME_MAX + 1];	/* "" = none */
	uint8_t		flags;				/* JOIN_F_* */
};

struct join_welcome {
	uint8_t		txid[JOIN_TXID_LEN];
	uint8_t		mesh_id[JOIN_MESH_ID_LEN];
	uint8_t		sealed[JOIN_SEALED_LEN];
	uint8_t		sig[JOIN_SIG_LEN];
	char		mesh_name[JOIN_NAME_MAX + 1];
	uint32_t	v4;		/* joiner's pinned IPv4 (host order), 0 */
};

struct join_refuse {
	uint8_t		txid[JOIN_TXID_LEN];
	uint8_t		reason;
};

struct sockaddr_storage;

struct join_announce {
	uint8_t		id[JOIN_ID_LEN];
	uint8_t		pk[JOIN_PK_LEN];	/* zero when unknown */
	int		ncands;
	struct sockaddr_storage *cands;	/* caller's array, JOIN_MAX_CANDS */
	char		name[JOIN_NAME_MAX + 1];
	uint8_t		flags;		/* JOIN_F_* of the member announced */
	uint32_t	v4;		/* its pinned IPv4 (host order), 0 */
};

/* Keys and names derived from the join secret. */
void	join_key(uint8_t key[32], const uint8_t secret[JOIN_SECRET_LEN]);
void	join_txid(uint8_t txid[JOIN_TXID_LEN],
	    const uint8_t secret[JOIN_SECRET_LEN], const uint8_t id[JOIN_ID_LEN]);
/* relay session both sides can name from the code: 32 hex digits + NUL */
void	join_session(char out[33], const uint8_t secret[JOIN_SECRET_LEN]);

/* sig over "atm-join-hello" || txid || id || pk with the joiner's sk */
void	join_hello_sign(struct join_hello *h, const uint8_t id[JOIN_ID_LEN],
	    const uint8_t sk[JOIN_SK_LEN]);
int	join_hello_verify(const struct join_hello *h,
	    const uint8_t id[JOIN_ID_LEN]);

/* Inviter: seal the mesh secret to the joiner and sign. 0 or -1 (the
 * joiner's key is not a valid Ed25519 point). */
int	join_welcome_seal(struct join_welcome *w, const uint8_t *joiner_id,
	    const uint8_t joiner_pk[JOIN_PK_LEN],
	    const uint8_t mesh_secret[JOIN_SECRET_LEN],
	    const uint8_t inviter_sk[JOIN_SK_LEN]);
/* Joiner: check the signature against the code's inviter key, open the
 * secret. 0, -1 bad signature, -2 cannot open. */
int	join_welcome_open(const struct join_welcome *w,
	    const uint8_t *joiner_id, const uint8_t joiner_pk[JOIN_PK_LEN],
	    const uint8_t joiner_sk[JOIN_SK_LEN],
	    const uint8_t inviter_pk[JOIN_PK_LEN],
	    uint8_t mesh_secret[JOIN_SECRET_LEN]);

/* Encoders return the length written or -1 (cap too small, bad field);
 * decoders 0 or a JOIN_E_* (short, malformed: the payload is refused). */
int	join_hello_encode(uint8_t *buf, size_t cap, const struct join_hello *h);
int	join_hello_decode(const uint8_t *buf, size_t len, struct join_hello *h);
int	join_welcome_encode(uint8_t *buf, size_t cap,
	    const struct join_welcome *w);
int	join_welcome_decode(const uint8_t *buf, size_t len,
	    struct join_welcome *w);
int	join_refuse_encode(uint8_t *buf, size_t cap, const struct join_refuse *r);
int	join_refuse_decode(const uint8_t *buf, size_t len, struct join_refuse *r);
int	join_announce_encode(uint8_t *buf, size_t cap,
	    const struct join_announce *a);
/* a->cands must point to JOIN_MAX_CANDS entries */
int	join_announce_decode(const uint8_t *buf, size_t len,
	    struct join_announce *a);

const char *join_reason_str(uint8_t reason);

/* join_ext.c: the optional fields. v (host order) can be a member's mesh
 * IPv4 address: in 100.64.0.0/10, not .0 or .255. */
int	join_v4_valid(uint32_t v);
/* after n bytes (a previous encoder's result, -1 passes through): the v4
 * field when v4 != 0. The new length, or -1 (cap, or v4 not valid). */
int	join_ext_put(uint8_t *buf, size_t cap, int n, uint32_t v4);
/* the fields from off to len: 0 or JOIN_E_*; *v4 0 when none */
int	join_ext_get(const uint8_t *buf, size_t len, size_t off, uint32_t *v4);
/* a decoder's result in words */
const char *join_strerror(int err);

#endif
