/*
 * Invite codes and join URIs (`meshctl invite`, `meshctl join CODE|URI`).
 * docs/invite-format.md has the prose.
 *
 * Code: "ATM-" + Crockford base32 (0-9 A-Z without I L O U; decoding is
 * case-insensitive, reads I and L as 1 and O as 0, and skips '-' and
 * white space) of this blob, integers big-endian:
 *
 *   +---------+--------+---------+-----------------+--------------------+
 *   | version | length | mesh id | inviter node id | inviter public key |
 *   |    1    |   2    |   16    |        8        |   32 (Ed25519)     |
 *   +---------+--------+---------+-----------------+--------------------+
 *   | join secret | expiry (Unix s) | max uses | TLVs ...    | checksum |
 *   |     32      |        8        |    2     | tag len val |    4     |
 *   +-------------+-----------------+----------+-------------+----------+
 *
 *   sizes in bytes; length counts the whole blob, checksum included;
 *   checksum = first 4 bytes of BLAKE2b-128 (crypto_generichash, 16-byte
 *   output, no key) over every byte before it.
 *
 * 101 fixed bytes, then TLVs (tag and length one byte each), then the
 * 4-byte checksum. TLV tags: 1 mesh name, 2 local endpoint, 3 public
 * endpoint, 4 relay URL, 5 local IP, 6 public IP, 7 behind NAT, 8 NAT type,
 * 9 local IPv6 endpoint (beside an IPv4 one in tag 2), 10 STUN source,
 * 11 public IPv6 endpoint (beside an IPv4 one in tag 3),
 * 16 relay token (an access token for the relay, opt-in: docs/security.md);
 * unknown tags are skipped, so fields can be added without a version bump.
 * Addresses in TLVs: family (1 IPv4, 2 IPv6), port (16 bits), 4|16 bytes.
 *
 * The framing (version first, length next, checksum last) is the same for
 * every version, so an old meshctl can tell a newer code ("unsupported
 * version 2") from a mistyped one (checksum) or a cut one (length).
 *
 * Why Ed25519 for the inviter key: it signs the join handshake, and
 * crypto_sign_ed25519_pk_to_curve25519 gives the X25519 key to encrypt to.
 *
 * The join secret is in the code (that is what an invite is): never log a
 * code or a URI, only the mesh name and the inviter; invite_clear() when done.
 */
#ifndef PROTO_INVITE_H
#define PROTO_INVITE_H

#include <stddef.h>
#include <stdint.h>

#define INVITE_VERSION		1
#define INVITE_PREFIX		"ATM-"
#define INVITE_MESH_ID_LEN	16
#define INVITE_NODEID_LEN	8
#define INVITE_PK_LEN		32
#define INVITE_SECRET_LEN	32
#define INVITE_NAME_MAX		63	/* bytes of UTF-8 */
#define INVITE_URL_MAX		255	/* one TLV */
#define INVITE_NAT_TYPE_MAX	31
#define INVITE_STUN_SOURCE_MAX	127	/* "stun:HOST[:PORT]" */
#define INVITE_TOKEN_MAX	255	/* relay token: one TLV */
#define INVITE_FIXED_LEN	101
#define INVITE_CKSUM_LEN	4
/* Largest blob we accept: every v1 field at its longest is 951 bytes; the
 * rest is room for TLVs of later v1 builds. */
#define INVITE_BLOB_MAX		1024
/* Buffer sizes (with the NUL) that always fit what we produce. */
#define INVITE_CODE_MAX		(4 + (INVITE_BLOB_MAX * 8 + 4) / 5 + 1)
#define INVITE_URI_MAX		4096	/* also the longest URI we parse */

#define INVITE_AF_NONE		0
#define INVITE_AF_INET		1
#define INVITE_AF_INET6		2

#define INVITE_OK		 0
#define INVITE_ERR_EMPTY	-1	/* nothing given */
#define INVITE_ERR_PREFIX	-2	/* not an Atmosphere code or URI */
#define INVITE_ERR_CHAR		-3	/* a character base32 does not have */
#define INVITE_ERR_TRUNCATED	-4	/* shorter than its length says */
#define INVITE_ERR_CHECKSUM	-5	/* typo: checksum does not match */
#define INVITE_ERR_VERSION	-6	/* well-formed, version we cannot read */
#define INVITE_ERR_EXPIRED	-7	/* well-formed but past its expiry */
#define INVITE_ERR_FIELD	-8	/* a field is malformed or missing */
#define INVITE_ERR_TOOLONG	-9	/* code or URI longer than we accept */
#define INVITE_ERR_URI		-10	/* URI syntax: scheme, escapes, params */
#define INVITE_ERR_TRANSPORT	-11	/* a node endpoint we cannot speak to */

/* An IP endpoint or address; family INVITE_AF_NONE means absent. */
struct invite_addr {
	uint8_t		family;
	uint16_t	port;		/* 0 for bare addresses */
	uint8_t		addr[16];	/* IPv4 in the first 4 bytes */
};

struct invite {
	uint8_t		version;
	uint8_t		mesh_id[INVITE_MESH_ID_LEN];
	char		mesh_name[INVITE_NAME_MAX + 1];
	uint8_t		inviter_id[INVITE_NODEID_LEN];
	uint8_t		inviter_pk[INVITE_PK_LEN];	/* Ed25519 */
	uint8_t		secret[INVITE_SECRET_LEN];
	uint64_t	expires;	/* Unix seconds, never 0 */
	uint16_t	max_uses;	/* >= 1 */
	/* endpoints: tried local, public, relay */
	struct invite_addr ep_local;	/* udp://LAN-IP:PORT, IPv4 if any */
	struct invite_addr ep_local6;	/* the IPv6 one, when ep_local is
					   IPv4 (tag 9; absent: none) */
	struct invite_addr ep_public;	/* udp://mapped IP:PORT (STUN),
					   IPv4 if any */
	struct invite_addr ep_public6;	/* the IPv6 one (STUN, or a global
					   host address), when ep_public is
					   IPv4 (tag 11; absent: none) */
	char		ep_relay[INVITE_URL_MAX + 1];	/* ws[s]://..., "" none */
	/* network_info */
	struct invite_addr local_ip;
	struct invite_addr public_ip;
	int		behind_nat;	/* -1 unknown, 0 no, 1 yes */
	char		nat_type[INVITE_NAT_TYPE_MAX + 1];	/* "" unknown */
	/* the STUN server that reported the public endpoint, "" unknown */
	char		stun_source[INVITE_STUN_SOURCE_MAX + 1];
	/* an access token for ep_relay ([A-Za-z0-9._-]), "" none; a
	 * credential like the secret: only inside the code, never in JSON */
	char		relay_token[INVITE_TOKEN_MAX + 1];
};

/* Zero everything, version = INVITE_VERSION, behind_nat = -1. */
void	invite_init(struct invite *inv);
/* sodium_memzero the whole struct (the secret with it). */
void	invite_clear(struct invite *inv);

/*
 * Write the code (NUL-terminated) into buf, INVITE_CODE_MAX always fits.
 * Returns its length, or -1 when a field would not decode again (empty or
 * unprintable name, expiry 0, max_uses 0, bad URL) or buf is too small.
 */
int	invite_encode(const struct invite *inv, char *buf, size_t cap);

/*
 * Read a code. now (Unix seconds) checks expiry; 0 skips the check.
 * Returns INVITE_OK or an INVITE_ERR_*; a sentence for people goes to err
 * (may be NULL), e.g. "invite code has a typo (checksum mismatch)".
 * inv is filled on success and on INVITE_ERR_EXPIRED (so the caller can say
 * which mesh), and zeroed on every other error.
 */
int	invite_decode(const char *code, uint64_t now, struct invite *inv,
	    char *err, size_t errlen);

/*
 * atmosphere://join?token=ATM-...&mesh=NAME&endpoints={"local":"udp://..",
 * "public":"udp://..","relay":"wss://.."} with the values percent-encoded.
 * Returns the length or -1 (invalid invite, buffer too small).
 */
int	invite_uri_format(const struct invite *inv, char *buf, size_t cap);

/*
 * Read a URI (that form, with raw or percent-encoded JSON, or the legacy
 * `endpoint=URL`). The token is authoritative: mesh, endpoints and endpoint
 * only fill what the token lacks. Unknown parameters are ignored. Errors as
 * invite_decode, plus INVITE_ERR_URI and INVITE_ERR_TOOLONG.
 */
int	invite_uri_parse(const char *uri, uint64_t now, struct invite *inv,
	    char *err, size_t errlen);

/* Either form, for `meshctl join CODE|URI`. */
int	invite_parse(const char *s, uint64_t now, struct invite *inv,
	    char *err, size_t errlen);

/*
 * The `meshctl invite --json` object (token, uri, mesh_id, mesh_name,
 * inviter_id, inviter_public_key, expires, expires_at, max_uses,
 * endpoints{local,public,relay}, endpoint (legacy), network_info{local_ip,
 * public_ip, is_behind_nat, nat_type}); the secret only inside the token.
 * A new reference, or NULL when the invite is invalid or out of memory.
 */
struct json_t;
struct json_t *invite_to_json(const struct invite *inv);

const char *invite_strerror(int err);

/* stund's classic NAT name ("port-restricted cone") as a nat_type word
 * ("port-restricted-cone"): lower case, runs of other characters one '-';
 * "" for NULL, "unknown" or nothing left. Returns out. */
const char *invite_nat_type_word(const char *classic, char *out, size_t len);

/* "udp://1.2.3.4:7777", "udp://[2001:db8::1]:7777"; bare address when
 * port is 0 and scheme NULL. Returns buf, "" when absent. */
const char *invite_addr_str(const struct invite_addr *a, const char *scheme,
	    char *buf, size_t len);
/* "udp://IP:PORT", "IP:PORT", "[v6]:PORT" (port required); 0 or -1. */
int	invite_addr_parse(const char *s, struct invite_addr *a);

/* Crockford base32, exposed for tests and tools. encode writes a NUL and
 * returns the length, or -1 when cap is short. decode skips '-' and white
 * space and returns the byte count; the bits left over past the last whole
 * byte go to *trailing (non-zero: not a code we wrote); -1 on a character
 * outside the alphabet (its index in *bad), -2 when cap is short. */
int	invite_b32_encode(const uint8_t *in, size_t len, char *out, size_t cap);
int	invite_b32_decode(const char *in, uint8_t *out, size_t cap,
	    unsigned *trailing, size_t *bad);

#endif
