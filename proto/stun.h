/*
 * STUN message codec: RFC 8489 (STUN), RFC 5780 (NAT behaviour discovery
 * attributes), checked against the RFC 5769 test vectors.
 *
 *      0                   1                   2                   3
 *      0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *     |0 0|     STUN Message Type     |         Message Length        |
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *     |                         Magic Cookie                          |
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *     |                     Transaction ID (96 bits)                  |
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Decoding never reads past `len` and never allocates: strings point into
 * the caller's buffer. Encoding writes into a caller's buffer and fails
 * cleanly when it is too small.
 */
#ifndef PROTO_STUN_H
#define PROTO_STUN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define STUN_HDR_LEN		20
#define STUN_MAGIC		0x2112A442u
#define STUN_TID_LEN		12
/* Largest message we build or accept. A UDP datagram can be 64 KiB, and the
 * decoder is tested with that; nothing legitimate here exceeds 548 bytes. */
#define STUN_MAX_MSG		65535

/* message classes (the C1/C0 bits) */
#define STUN_CLASS_REQUEST	0
#define STUN_CLASS_INDICATION	1
#define STUN_CLASS_SUCCESS	2
#define STUN_CLASS_ERROR	3

#define STUN_METHOD_BINDING	0x001

/* attributes: comprehension-required (< 0x8000) */
#define STUN_ATTR_MAPPED_ADDRESS	0x0001
#define STUN_ATTR_RESPONSE_ADDRESS	0x0002	/* RFC 3489, obsolete */
#define STUN_ATTR_CHANGE_REQUEST	0x0003	/* RFC 5780 */
#define STUN_ATTR_SOURCE_ADDRESS	0x0004	/* RFC 3489, answers only */
#define STUN_ATTR_CHANGED_ADDRESS	0x0005	/* RFC 3489, answers only */
#define STUN_ATTR_USERNAME		0x0006
#define STUN_ATTR_MESSAGE_INTEGRITY	0x0008
#define STUN_ATTR_ERROR_CODE		0x0009
#define STUN_ATTR_UNKNOWN_ATTRIBUTES	0x000A
#define STUN_ATTR_REALM			0x0014
#define STUN_ATTR_NONCE			0x0015
#define STUN_ATTR_MESSAGE_INTEGRITY_SHA256 0x001C
#define STUN_ATTR_PASSWORD_ALGORITHM	0x001D
#define STUN_ATTR_USERHASH		0x001E
#define STUN_ATTR_XOR_MAPPED_ADDRESS	0x0020
#define STUN_ATTR_PADDING		0x0026	/* RFC 5780 */
#define STUN_ATTR_RESPONSE_PORT		0x0027	/* RFC 5780 */
/* comprehension-optional (>= 0x8000) */
#define STUN_ATTR_PASSWORD_ALGORITHMS	0x8002
#define STUN_ATTR_ALTERNATE_DOMAIN	0x8003
#define STUN_ATTR_SOFTWARE		0x8022
#define STUN_ATTR_ALTERNATE_SERVER	0x8023
#define STUN_ATTR_FINGERPRINT		0x8028
#define STUN_ATTR_RESPONSE_ORIGIN	0x802B	/* RFC 5780 */
#define STUN_ATTR_OTHER_ADDRESS		0x802C	/* RFC 5780 */

/* FINGERPRINT is the CRC-32 XORed with "STUN" (RFC 8489 section 14.7) */
#define STUN_FINGERPRINT_XOR	0x5354554Eu

/* CHANGE-REQUEST flags (RFC 5780 section 7.2) */
#define STUN_CHANGE_IP		0x04
#define STUN_CHANGE_PORT	0x02

/* decoder results */
#define STUN_OK			 0
#define STUN_ERR_SHORT		-1	/* fewer than 20 bytes */
#define STUN_ERR_NOT_STUN	-2	/* top two bits set: not STUN (RFC 7983) */
#define STUN_ERR_COOKIE		-3	/* magic cookie wrong */
#define STUN_ERR_LENGTH		-4	/* header length not a multiple of 4 or != datagram */
#define STUN_ERR_ATTR_TRUNC	-5	/* attribute runs past the end */
#define STUN_ERR_ATTR_BAD	-6	/* attribute value malformed */
#define STUN_ERR_FINGERPRINT	-7	/* FINGERPRINT present and wrong, or not last */
#define STUN_ERR_AFTER_INTEGRITY -8	/* attribute after MESSAGE-INTEGRITY other than FINGERPRINT */
#define STUN_ERR_NOSPACE	-10	/* encoder: buffer too small */

/* which attributes were present (struct stun_msg.has) */
#define STUN_HAS_MAPPED		(1u << 0)
#define STUN_HAS_XOR_MAPPED	(1u << 1)
#define STUN_HAS_SOFTWARE	(1u << 2)
#define STUN_HAS_FINGERPRINT	(1u << 3)
#define STUN_HAS_ERROR		(1u << 4)
#define STUN_HAS_UNKNOWN_ATTRS	(1u << 5)
#define STUN_HAS_INTEGRITY	(1u << 6)
#define STUN_HAS_USERNAME	(1u << 7)
#define STUN_HAS_CHANGE_REQUEST	(1u << 8)
#define STUN_HAS_RESPONSE_ORIGIN (1u << 9)
#define STUN_HAS_OTHER_ADDRESS	(1u << 10)
#define STUN_HAS_RESPONSE_PORT	(1u << 11)
#define STUN_HAS_PADDING	(1u << 12)
#define STUN_HAS_REALM		(1u << 13)
#define STUN_HAS_NONCE		(1u << 14)
#define STUN_HAS_INTEGRITY_SHA256 (1u << 15)
/* more unknown comprehension-required attributes than unknown_required holds */
#define STUN_HAS_UNKNOWN_OVERFLOW (1u << 16)
/* an RFC 3489 message: no magic cookie (stun_decode_classic) */
#define STUN_HAS_CLASSIC	(1u << 17)

#define STUN_MAX_UNKNOWN	16

struct stun_msg {
	uint16_t	method;
	uint8_t		cls;
	uint8_t		tid[STUN_TID_LEN];
	uint8_t		cookie[4];	/* as received: the first 32 bits of an
					   RFC 3489 transaction id */
	uint16_t	length;		/* from the header: bytes after it */
	uint32_t	has;

	struct sockaddr_storage	mapped;		/* MAPPED-ADDRESS */
	struct sockaddr_storage	xor_mapped;	/* XOR-MAPPED-ADDRESS, un-XORed */
	struct sockaddr_storage	response_origin;
	struct sockaddr_storage	other_address;
	uint32_t	change_request;	/* STUN_CHANGE_* flags */
	uint16_t	response_port;
	uint16_t	padding_len;

	const char	*software;	/* not NUL-terminated */
	size_t		 software_len;
	const char	*username;
	size_t		 username_len;
	const char	*realm;
	size_t		 realm_len;
	const char	*nonce;
	size_t		 nonce_len;

	uint16_t	 error_code;	/* 300..699 */
	const char	*error_reason;
	size_t		 error_reason_len;

	/* UNKNOWN-ATTRIBUTES as received (error responses) */
	uint16_t	 unknown_attrs[STUN_MAX_UNKNOWN];
	size_t		 n_unknown_attrs;
	/* comprehension-required attributes we did not understand: a server
	 * answers 420 listing these */
	uint16_t	 unknown_required[STUN_MAX_UNKNOWN];
	size_t		 n_unknown_required;

	/* offset of the MESSAGE-INTEGRITY attribute header, for verification */
	size_t		 integrity_off;
	uint8_t		 integrity[20];
};

/* RFC 7983 demultiplexing: first byte 0..3 and the magic cookie at 4..7. */
int	stun_is_stun(const uint8_t *buf, size_t len);

/*
 * Decode and check (cookie, lengths, attribute bounds, FINGERPRINT when
 * present). Returns STUN_OK or a negative STUN_ERR_*. m is zeroed first, and
 * its fields mean something only when the matching STUN_HAS_* bit is set.
 * - A repeated attribute is validated, but the first occurrence is kept.
 * - Unknown comprehension-required attributes are not an error: they are
 *   listed in unknown_required (a server answers 420, a client drops the
 *   answer). Past STUN_MAX_UNKNOWN of them the first ones are kept and
 *   STUN_HAS_UNKNOWN_OVERFLOW is set: a 420 can still list those.
 *   UNKNOWN-ATTRIBUTES longer than STUN_MAX_UNKNOWN keeps the first ones.
 * - Anything after MESSAGE-INTEGRITY other than MESSAGE-INTEGRITY-SHA256
 *   and FINGERPRINT is refused (STUN_ERR_AFTER_INTEGRITY) where RFC 8489
 *   14.5 says to ignore it: see stun.c. MESSAGE-INTEGRITY is not verified
 *   here (that needs a key): call stun_check_integrity().
 */
int	stun_decode(const uint8_t *buf, size_t len, struct stun_msg *m);
/*
 * The same for an RFC 3489 ("classic") message, which has no magic cookie:
 * the 32 bits where the cookie would be are part of its transaction id and
 * land in m->cookie. Sets STUN_HAS_CLASSIC. Only a server uses this, to
 * answer old clients as RFC 8489 section 11 asks; a client never accepts
 * an answer without the cookie. A message that has the cookie is refused
 * here (STUN_ERR_COOKIE): it is not classic.
 */
int	stun_decode_classic(const uint8_t *buf, size_t len,
	    struct stun_msg *m);
const char *stun_strerror(int err);

/*
 * MESSAGE-INTEGRITY (HMAC-SHA1) check over buf as decoded into m.
 * Short-term credential: key is the password. Long-term: key is
 * stun_longterm_key(). 1 valid, 0 invalid or absent.
 */
int	stun_check_integrity(const uint8_t *buf, size_t len,
	    const struct stun_msg *m, const uint8_t *key, size_t keylen);
/* MD5(username ":" realm ":" password) into out[16] */
void	stun_longterm_key(const char *user, const char *realm,
	    const char *pass, uint8_t out[16]);

/* New random transaction id (arc4random_buf). */
void	stun_new_tid(uint8_t tid[STUN_TID_LEN]);
/* Plain CRC-32 (ISO-HDLC, as zlib): stun_crc32("123456789") == 0xCBF43926 */
uint32_t stun_crc32(const uint8_t *buf, size_t len);
/* The FINGERPRINT value: stun_crc32() ^ STUN_FINGERPRINT_XOR */
uint32_t stun_fingerprint(const uint8_t *buf, size_t len);

/*
 * Encoder: init, add attributes in order, finish. Any call after running out
 * of space is a no-op and stun_finish() returns STUN_ERR_NOSPACE.
 * stun_add_integrity and stun_add_fingerprint update the header length as the
 * RFC requires and must come last (integrity, then fingerprint).
 * An argument the wire cannot carry (address family other than AF_INET or
 * AF_INET6, error code outside 300..699, a value longer than 65535 bytes)
 * makes stun_finish() return STUN_ERR_ATTR_BAD instead. The header length
 * is kept current after every call.
 */
struct stun_writer {
	uint8_t	*buf;
	size_t	 cap;
	size_t	 len;
	int	 err;
	uint8_t	 pad;		/* padding byte, 0 unless stun_set_pad() */
};

void	stun_init(struct stun_writer *w, uint8_t *buf, size_t cap,
	    uint16_t method, uint8_t cls, const uint8_t tid[STUN_TID_LEN]);
/* An answer to an RFC 3489 request: `cookie` (the request's m->cookie)
 * stands where the magic cookie would, so the old client sees its own
 * 128-bit transaction id. */
void	stun_init_classic(struct stun_writer *w, uint8_t *buf, size_t cap,
	    uint16_t method, uint8_t cls, const uint8_t cookie[4],
	    const uint8_t tid[STUN_TID_LEN]);
void	stun_add_raw(struct stun_writer *w, uint16_t type, const void *val,
	    size_t len);			/* pads to 4 with zeros */
/* An IPv4-mapped IPv6 address (::ffff:a.b.c.d, from a dual-stack socket)
 * is written as IPv4: the family tells the client what transport it used. */
void	stun_add_addr(struct stun_writer *w, uint16_t type,
	    const struct sockaddr *sa);		/* MAPPED-ADDRESS family format */
void	stun_add_xor_addr(struct stun_writer *w, uint16_t type,
	    const struct sockaddr *sa);		/* XOR with cookie (+ tid for v6) */
void	stun_add_u32(struct stun_writer *w, uint16_t type, uint32_t v);
void	stun_add_software(struct stun_writer *w, const char *s);
void	stun_add_error(struct stun_writer *w, uint16_t code, const char *reason);
void	stun_add_unknown(struct stun_writer *w, const uint16_t *types, size_t n);
void	stun_add_change_request(struct stun_writer *w, uint32_t flags);
void	stun_add_response_port(struct stun_writer *w, uint16_t port);
void	stun_add_integrity(struct stun_writer *w, const uint8_t *key,
	    size_t keylen);
void	stun_add_fingerprint(struct stun_writer *w);
/* RFC 5780 PADDING attribute of n bytes (value and alignment use w->pad) */
void	stun_add_padding(struct stun_writer *w, size_t n);
/*
 * Byte used to pad attribute values to 4 (default 0). Receivers ignore it
 * (RFC 8489 section 14); it exists so tests can rebuild the RFC 5769
 * vectors, which pad with spaces, byte for byte. Call it after stun_init()
 * (which resets it) and before the attributes it should apply to.
 */
void	stun_set_pad(struct stun_writer *w, uint8_t byte);
/* total length, or STUN_ERR_NOSPACE (or STUN_ERR_ATTR_BAD, see above) */
int	stun_finish(struct stun_writer *w);

#endif
