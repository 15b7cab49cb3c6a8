/*
 * STUN codec: RFC 8489 messages, RFC 5780 attributes. See stun.h.
 *
 * The decoder trusts nothing in the datagram: every length is checked
 * against what is left before it is used, strings point into the caller's
 * buffer, nothing is allocated. The encoder checks the space left before
 * every write and latches the first error, so a caller can add attributes
 * blindly and look at stun_finish() once.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "proto/stun.h"

#define STUN_PAD4(n)		(((size_t)(n) + 3) & ~(size_t)3)
/* the header length is 16 bits and counts whole 32-bit words */
#define STUN_MAX_BODY		0xFFFC
#define STUN_HMAC_LEN		20
/* attribute header (type, length) + HMAC-SHA1 */
#define STUN_INTEGRITY_ATTR_LEN	(4 + STUN_HMAC_LEN)
#define STUN_FAMILY_IPV4	0x01
#define STUN_FAMILY_IPV6	0x02

static uint16_t
stun_get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t
stun_get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
}

static void
stun_put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xFF;
}

static void
stun_put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = (v >> 16) & 0xFF;
	p[2] = (v >> 8) & 0xFF;
	p[3] = v & 0xFF;
}

/*
 * The message type interleaves the class bits into the method
 * (RFC 8489 section 5):
 *
 *       0                 1
 *       2  3  4 5 6 7 8 9 0 1 2 3 4 5
 *      +--+--+-+-+-+-+-+-+-+-+-+-+-+-+
 *      |M |M |M|M|M|C|M|M|M|C|M|M|M|M|
 *      |11|10|9|8|7|1|6|5|4|0|3|2|1|0|
 *      +--+--+-+-+-+-+-+-+-+-+-+-+-+-+
 */
static uint16_t
stun_type(uint16_t method, uint8_t cls)
{
	return (method & 0x000F) | ((method & 0x0070) << 1) |
	    ((method & 0x0F80) << 2) | ((cls & 0x1) << 4) | ((cls & 0x2) << 7);
}

static uint16_t
stun_type_method(uint16_t t)
{
	return (t & 0x000F) | ((t & 0x00E0) >> 1) | ((t & 0x3E00) >> 2);
}

static uint8_t
stun_type_class(uint16_t t)
{
	return ((t & 0x0010) >> 4) | ((t & 0x0100) >> 7);
}

int
stun_is_stun(const uint8_t *buf, size_t len)
{
	/* RFC 7983 section 7: first byte 0..3 is STUN; the cookie tells it
	 * from anything else that starts with a small byte */
	return buf != NULL && len >= STUN_HDR_LEN && buf[0] <= 3 &&
	    stun_get32(buf + 4) == STUN_MAGIC;
}

/*
 * MAPPED-ADDRESS and everything that shares its format (RESPONSE-ORIGIN,
 * OTHER-ADDRESS, and XOR-MAPPED-ADDRESS after the XOR), RFC 8489 14.1/14.2:
 *
 *      0                   1                   2                   3
 *      0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *     |0 0 0 0 0 0 0 0|    Family     |         Port (X-Port)         |
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *     |                                                               |
 *     |           Address (X-Address) (32 bits or 128 bits)           |
 *     |                                                               |
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * X-Port is the port XORed with the top 16 bits of the cookie; X-Address is
 * XORed with the cookie (IPv4) or the cookie followed by the transaction id
 * (IPv6), which are bytes 4..19 of the header. The first byte is ignored,
 * as the RFC says receivers must. The length must match the family exactly:
 * an IPv4 address in 20 bytes is malformed, not an address with slack.
 */
static int
stun_decode_addr(const uint8_t *v, size_t vlen, const uint8_t *hdr, int xor,
    struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin;
	struct sockaddr_in6	*sin6;
	uint16_t		 port;
	size_t			 i;

	if (vlen < 4)
		return STUN_ERR_ATTR_BAD;
	port = stun_get16(v + 2);
	if (xor)
		port ^= STUN_MAGIC >> 16;
	memset(ss, 0, sizeof(*ss));
	if (v[1] == STUN_FAMILY_IPV4 && vlen == 8) {
		sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, v + 4, 4);
		if (xor)
			for (i = 0; i < 4; i++)
				((uint8_t *)&sin->sin_addr)[i] ^= hdr[4 + i];
	} else if (v[1] == STUN_FAMILY_IPV6 && vlen == 20) {
		sin6 = (struct sockaddr_in6 *)ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, v + 4, 16);
		if (xor)
			for (i = 0; i < 16; i++)
				((uint8_t *)&sin6->sin6_addr)[i] ^= hdr[4 + i];
	} else
		return STUN_ERR_ATTR_BAD;
	return STUN_OK;
}

/*
 * ERROR-CODE, RFC 8489 14.8:
 *
 *      0                   1                   2                   3
 *      0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *     |           Reserved, should be 0         |Class|     Number    |
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *     |      Reason Phrase (variable)                                ..
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Class 3..6 and number 0..99 give the codes 300..699; anything else is
 * not an error code a caller could act on.
 */
static int
stun_decode_error(const uint8_t *v, size_t vlen, struct stun_msg *m)
{
	unsigned int	cls, num;

	if (vlen < 4)
		return STUN_ERR_ATTR_BAD;
	cls = v[2] & 0x07;
	num = v[3];
	if (cls < 3 || cls > 6 || num > 99)
		return STUN_ERR_ATTR_BAD;
	m->error_code = cls * 100 + num;
	m->error_reason = (const char *)v + 4;
	m->error_reason_len = vlen - 4;
	return STUN_OK;
}

/* String attributes point into the datagram. No limit beyond the
 * datagram's: the RFC's (USERNAME < 509 bytes, SOFTWARE < 128 characters...)
 * bind senders, and a long value costs us nothing. */
static void
stun_string(struct stun_msg *m, uint32_t flag, const char **str,
    size_t *slen, const uint8_t *v, size_t vlen)
{
	if (m->has & flag)
		return;
	*str = (const char *)v;
	*slen = vlen;
	m->has |= flag;
}

/* Handle one attribute whose value v[0..vlen) is known to be in bounds. */
static int
stun_decode_attr(const uint8_t *buf, size_t off, uint16_t type,
    const uint8_t *v, size_t vlen, struct stun_msg *m)
{
	struct sockaddr_storage	*ss = NULL;
	uint32_t		 flag = 0;
	size_t			 i, n;
	int			 xor = 0, r;

	switch (type) {
	case STUN_ATTR_MAPPED_ADDRESS:
		ss = &m->mapped;
		flag = STUN_HAS_MAPPED;
		break;
	case STUN_ATTR_XOR_MAPPED_ADDRESS:
		ss = &m->xor_mapped;
		flag = STUN_HAS_XOR_MAPPED;
		xor = 1;
		break;
	case STUN_ATTR_RESPONSE_ORIGIN:
		ss = &m->response_origin;
		flag = STUN_HAS_RESPONSE_ORIGIN;
		break;
	case STUN_ATTR_OTHER_ADDRESS:
		ss = &m->other_address;
		flag = STUN_HAS_OTHER_ADDRESS;
		break;
	}
	if (ss != NULL) {
		struct sockaddr_storage	tmp;

		/* a duplicate is validated too, but the first one counts
		 * (RFC 8489 section 14: later duplicates may be ignored) */
		if ((r = stun_decode_addr(v, vlen, buf, xor, &tmp)) != STUN_OK)
			return r;
		if (!(m->has & flag)) {
			*ss = tmp;
			m->has |= flag;
		}
		return STUN_OK;
	}

	switch (type) {
	case STUN_ATTR_SOFTWARE:
		stun_string(m, STUN_HAS_SOFTWARE, &m->software,
		    &m->software_len, v, vlen);
		return STUN_OK;
	case STUN_ATTR_USERNAME:
		stun_string(m, STUN_HAS_USERNAME, &m->username,
		    &m->username_len, v, vlen);
		return STUN_OK;
	case STUN_ATTR_REALM:
		stun_string(m, STUN_HAS_REALM, &m->realm, &m->realm_len, v,
		    vlen);
		return STUN_OK;
	case STUN_ATTR_NONCE:
		stun_string(m, STUN_HAS_NONCE, &m->nonce, &m->nonce_len, v,
		    vlen);
		return STUN_OK;
	case STUN_ATTR_ERROR_CODE:
		if (m->has & STUN_HAS_ERROR)
			return STUN_OK;
		if ((r = stun_decode_error(v, vlen, m)) != STUN_OK)
			return r;
		m->has |= STUN_HAS_ERROR;
		return STUN_OK;
	case STUN_ATTR_UNKNOWN_ATTRIBUTES:
		/* a list of 16-bit types. It only informs a 420's reader,
		 * so past STUN_MAX_UNKNOWN we keep the first ones rather than
		 * throw the whole answer away. */
		if (vlen % 2 != 0)
			return STUN_ERR_ATTR_BAD;
		if (m->has & STUN_HAS_UNKNOWN_ATTRS)
			return STUN_OK;
		n = vlen / 2;
		if (n > STUN_MAX_UNKNOWN)
			n = STUN_MAX_UNKNOWN;
		for (i = 0; i < n; i++)
			m->unknown_attrs[i] = stun_get16(v + 2 * i);
		m->n_unknown_attrs = n;
		m->has |= STUN_HAS_UNKNOWN_ATTRS;
		return STUN_OK;
	case STUN_ATTR_CHANGE_REQUEST:
		/* RFC 5780 7.2: 32 bits, flags A (0x04) and B (0x02) */
		if (vlen != 4)
			return STUN_ERR_ATTR_BAD;
		if (!(m->has & STUN_HAS_CHANGE_REQUEST)) {
			m->change_request = stun_get32(v);
			m->has |= STUN_HAS_CHANGE_REQUEST;
		}
		return STUN_OK;
	case STUN_ATTR_RESPONSE_PORT:
		/* RFC 5780 7.5: 16-bit port, then 16 bits of padding that
		 * belong to the value (length 4) */
		if (vlen != 4)
			return STUN_ERR_ATTR_BAD;
		if (!(m->has & STUN_HAS_RESPONSE_PORT)) {
			m->response_port = stun_get16(v);
			m->has |= STUN_HAS_RESPONSE_PORT;
		}
		return STUN_OK;
	case STUN_ATTR_PADDING:
		if (!(m->has & STUN_HAS_PADDING)) {
			m->padding_len = (uint16_t)vlen;
			m->has |= STUN_HAS_PADDING;
		}
		return STUN_OK;
	case STUN_ATTR_MESSAGE_INTEGRITY:
		if (vlen != STUN_HMAC_LEN)
			return STUN_ERR_ATTR_BAD;
		m->integrity_off = off;
		memcpy(m->integrity, v, STUN_HMAC_LEN);
		m->has |= STUN_HAS_INTEGRITY;
		return STUN_OK;
	case STUN_ATTR_MESSAGE_INTEGRITY_SHA256:
		/* RFC 8489 14.6: 16 to 32 bytes, whole words. Not verified
		 * here (no SHA-256 credentials in Atmosphere). */
		if (vlen < 16 || vlen > 32 || vlen % 4 != 0)
			return STUN_ERR_ATTR_BAD;
		m->has |= STUN_HAS_INTEGRITY_SHA256;
		return STUN_OK;
	}

	/*
	 * Not understood. Comprehension-optional ones (0x8000..0xFFFF) are
	 * skipped. Comprehension-required ones are not an error of the
	 * message: a server answers 420 listing them, a client discards the
	 * response (RFC 8489 7.3.1, 7.3.3). Both decisions are the caller's.
	 * Past STUN_MAX_UNKNOWN the first ones are kept and the overflow is
	 * flagged: RFC 8489 14.13 lets a 420 list some of them, and an answer
	 * tells a client more than silence would.
	 */
	if (type < 0x8000) {
		for (i = 0; i < m->n_unknown_required; i++)
			if (m->unknown_required[i] == type)
				return STUN_OK;
		if (m->n_unknown_required == STUN_MAX_UNKNOWN)
			m->has |= STUN_HAS_UNKNOWN_OVERFLOW;
		else
			m->unknown_required[m->n_unknown_required++] = type;
	}
	return STUN_OK;
}

/*
 * Attributes follow the header back to back, each padded to 4 bytes
 * (RFC 8489 section 14):
 *
 *      0                   1                   2                   3
 *      0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *     |         Type                  |            Length             |
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *     |                         Value (variable)                ....
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Length excludes the padding, so an attribute occupies 4 + pad4(Length).
 *
 * Ordering rules enforced here:
 * - FINGERPRINT must be last (RFC 8489 14.7); anything after it fails with
 *   STUN_ERR_FINGERPRINT, and a wrong CRC fails the same way.
 * - After MESSAGE-INTEGRITY only MESSAGE-INTEGRITY-SHA256 and FINGERPRINT
 *   may follow, after MESSAGE-INTEGRITY-SHA256 only FINGERPRINT. RFC 8489
 *   14.5 tells receivers to ignore other attributes there; we reject the
 *   message (STUN_ERR_AFTER_INTEGRITY) instead. Either way they cannot be
 *   used, and silently dropping them would leave a caller that does not
 *   check integrity looking at a message that differs from what the peer
 *   sent. No conforming sender produces such a message, so the stricter
 *   rule costs nothing.
 */
static int	stun_decode_attrs(const uint8_t *, size_t, struct stun_msg *);

static int
stun_decode_header(const uint8_t *buf, size_t len, struct stun_msg *m,
    int classic)
{
	uint16_t	type;

	memset(m, 0, sizeof(*m));
	if (buf == NULL || len < STUN_HDR_LEN)
		return STUN_ERR_SHORT;
	if (buf[0] & 0xC0)
		return STUN_ERR_NOT_STUN;
	if ((stun_get32(buf + 4) != STUN_MAGIC) != classic)
		return STUN_ERR_COOKIE;
	m->length = stun_get16(buf + 2);
	if (m->length % 4 != 0 || (size_t)m->length != len - STUN_HDR_LEN)
		return STUN_ERR_LENGTH;
	type = stun_get16(buf);
	m->method = stun_type_method(type);
	m->cls = stun_type_class(type);
	memcpy(m->cookie, buf + 4, sizeof(m->cookie));
	memcpy(m->tid, buf + 8, STUN_TID_LEN);
	if (classic)
		m->has |= STUN_HAS_CLASSIC;
	return STUN_OK;
}

int
stun_decode(const uint8_t *buf, size_t len, struct stun_msg *m)
{
	int r;

	if ((r = stun_decode_header(buf, len, m, 0)) != STUN_OK)
		return r;
	return stun_decode_attrs(buf, len, m);
}

/*
 * RFC 3489 messages carry the attributes RFC 8489 kept under the same
 * numbers and formats (MAPPED-ADDRESS, CHANGE-REQUEST, USERNAME,
 * MESSAGE-INTEGRITY, ERROR-CODE, UNKNOWN-ATTRIBUTES); RESPONSE-ADDRESS is
 * not understood and lands in unknown_required, so a server answers 420
 * instead of sending anywhere the request names (RFC 8489 section 11).
 */
int
stun_decode_classic(const uint8_t *buf, size_t len, struct stun_msg *m)
{
	int r;

	if ((r = stun_decode_header(buf, len, m, 1)) != STUN_OK)
		return r;
	return stun_decode_attrs(buf, len, m);
}

static int
stun_decode_attrs(const uint8_t *buf, size_t len, struct stun_msg *m)
{
	const uint8_t	*v;
	size_t		 off, alen;
	uint16_t	 type;
	int		 sealed = 0, r;

	for (off = STUN_HDR_LEN; off < len; off += 4 + STUN_PAD4(alen)) {
		if (m->has & STUN_HAS_FINGERPRINT)
			return STUN_ERR_FINGERPRINT;
		/* cannot happen while the length is a multiple of 4, but
		 * the walker must not rely on a check made elsewhere */
		if (len - off < 4)
			return STUN_ERR_ATTR_TRUNC;
		type = stun_get16(buf + off);
		alen = stun_get16(buf + off + 2);
		if (STUN_PAD4(alen) > len - off - 4)
			return STUN_ERR_ATTR_TRUNC;
		v = buf + off + 4;

		if (sealed && type != STUN_ATTR_FINGERPRINT &&
		    !(type == STUN_ATTR_MESSAGE_INTEGRITY_SHA256 &&
		    !(m->has & STUN_HAS_INTEGRITY_SHA256)))
			return STUN_ERR_AFTER_INTEGRITY;

		if (type == STUN_ATTR_FINGERPRINT) {
			/* CRC over everything before this attribute, with
			 * the header length as received: FINGERPRINT being
			 * last, it already counts FINGERPRINT itself */
			if (alen != 4)
				return STUN_ERR_ATTR_BAD;
			if (stun_fingerprint(buf, off) != stun_get32(v))
				return STUN_ERR_FINGERPRINT;
			m->has |= STUN_HAS_FINGERPRINT;
			continue;
		}
		if ((r = stun_decode_attr(buf, off, type, v, alen, m)) !=
		    STUN_OK)
			return r;
		if (type == STUN_ATTR_MESSAGE_INTEGRITY ||
		    type == STUN_ATTR_MESSAGE_INTEGRITY_SHA256)
			sealed = 1;
	}
	return STUN_OK;
}

const char *
stun_strerror(int err)
{
	switch (err) {
	case STUN_OK:
		return "no error";
	case STUN_ERR_SHORT:
		return "datagram shorter than a STUN header (20 bytes)";
	case STUN_ERR_NOT_STUN:
		return "not a STUN message (top two bits of the type not zero)";
	case STUN_ERR_COOKIE:
		return "magic cookie is not 0x2112A442";
	case STUN_ERR_LENGTH:
		return "header length is not a multiple of 4 or does not "
		    "match the datagram size";
	case STUN_ERR_ATTR_TRUNC:
		return "an attribute runs past the end of the message";
	case STUN_ERR_ATTR_BAD:
		return "an attribute value is malformed";
	case STUN_ERR_FINGERPRINT:
		return "FINGERPRINT is wrong or is not the last attribute";
	case STUN_ERR_AFTER_INTEGRITY:
		return "an attribute other than FINGERPRINT follows "
		    "MESSAGE-INTEGRITY";
	case STUN_ERR_NOSPACE:
		return "buffer too small for the STUN message";
	}
	return "unknown STUN error";
}

/* HMAC-SHA1 of hdr[0..20) followed by rest[0..restlen): the header is
 * passed apart so a verifier can adjust its length field without copying
 * the message. 0 on success, -1 when OpenSSL fails. */
static int
stun_hmac_sha1(const uint8_t *key, size_t keylen, const uint8_t *hdr,
    const uint8_t *rest, size_t restlen, uint8_t out[STUN_HMAC_LEN])
{
	static const uint8_t	 nokey;
	EVP_MAC			*mac;
	EVP_MAC_CTX		*ctx = NULL;
	OSSL_PARAM		 params[2];
	size_t			 outlen = 0;
	int			 ok = 0;

	if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
		return -1;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)"SHA1", 0);
	params[1] = OSSL_PARAM_construct_end();
	/* a NULL key means "keep the previous one" to OpenSSL */
	if (key == NULL || keylen == 0)
		key = &nokey;
	if ((ctx = EVP_MAC_CTX_new(mac)) != NULL &&
	    EVP_MAC_init(ctx, key, keylen, params) == 1 &&
	    EVP_MAC_update(ctx, hdr, STUN_HDR_LEN) == 1 &&
	    (restlen == 0 || EVP_MAC_update(ctx, rest, restlen) == 1) &&
	    EVP_MAC_final(ctx, out, &outlen, STUN_HMAC_LEN) == 1 &&
	    outlen == STUN_HMAC_LEN)
		ok = 1;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return ok ? 0 : -1;
}

/*
 * RFC 8489 14.5: the HMAC covers the message up to, not including, the
 * MESSAGE-INTEGRITY attribute, with the header length set as if
 * MESSAGE-INTEGRITY were the last attribute (so a FINGERPRINT after it is
 * left out of the length).
 */
int
stun_check_integrity(const uint8_t *buf, size_t len,
    const struct stun_msg *m, const uint8_t *key, size_t keylen)
{
	uint8_t	hdr[STUN_HDR_LEN], mac[STUN_HMAC_LEN];
	size_t	off = m->integrity_off;

	if (!(m->has & STUN_HAS_INTEGRITY) || buf == NULL)
		return 0;
	/* m may not come from this buf: re-check what we are about to read */
	if (off < STUN_HDR_LEN || off > len ||
	    len - off < STUN_INTEGRITY_ATTR_LEN ||
	    off - STUN_HDR_LEN + STUN_INTEGRITY_ATTR_LEN > STUN_MAX_BODY)
		return 0;
	memcpy(hdr, buf, STUN_HDR_LEN);
	stun_put16(hdr + 2,
	    (uint16_t)(off - STUN_HDR_LEN + STUN_INTEGRITY_ATTR_LEN));
	if (stun_hmac_sha1(key, keylen, hdr, buf + STUN_HDR_LEN,
	    off - STUN_HDR_LEN, mac) == -1)
		return 0;
	/* the value in the buffer, not m->integrity: they are the same when
	 * m was decoded from buf, and the buffer is what we hashed */
	return CRYPTO_memcmp(mac, buf + off + 4, STUN_HMAC_LEN) == 0;
}

/* RFC 8489 9.2.2: key = MD5(username ":" OpaqueString(realm) ":"
 * OpaqueString(password)). The caller passes the strings already
 * processed (SASLprep / OpaqueString); we only hash. */
void
stun_longterm_key(const char *user, const char *realm, const char *pass,
    uint8_t out[16])
{
	EVP_MD_CTX	*ctx;
	unsigned int	 outlen = 0;
	int		 ok = 0;

	if ((ctx = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestInit_ex(ctx, EVP_md5(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, user, strlen(user)) == 1 &&
	    EVP_DigestUpdate(ctx, ":", 1) == 1 &&
	    EVP_DigestUpdate(ctx, realm, strlen(realm)) == 1 &&
	    EVP_DigestUpdate(ctx, ":", 1) == 1 &&
	    EVP_DigestUpdate(ctx, pass, strlen(pass)) == 1 &&
	    EVP_DigestFinal_ex(ctx, out, &outlen) == 1 && outlen == 16)
		ok = 1;
	EVP_MD_CTX_free(ctx);
	/* no MD5 (a FIPS-only provider): a zero key verifies nothing real */
	if (!ok)
		memset(out, 0, 16);
}

void
stun_new_tid(uint8_t tid[STUN_TID_LEN])
{
	arc4random_buf(tid, STUN_TID_LEN);
}

/* --- encoder ---------------------------------------------------------- */

void
stun_init(struct stun_writer *w, uint8_t *buf, size_t cap, uint16_t method,
    uint8_t cls, const uint8_t tid[STUN_TID_LEN])
{
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->err = 0;
	w->pad = 0;
	if (method > 0x0FFF || cls > 3) {
		w->err = STUN_ERR_ATTR_BAD;
		return;
	}
	if (buf == NULL || cap < STUN_HDR_LEN) {
		w->err = STUN_ERR_NOSPACE;
		return;
	}
	stun_put16(buf, stun_type(method, cls));
	stun_put16(buf + 2, 0);
	stun_put32(buf + 4, STUN_MAGIC);
	memcpy(buf + 8, tid, STUN_TID_LEN);
	w->len = STUN_HDR_LEN;
}

void
stun_init_classic(struct stun_writer *w, uint8_t *buf, size_t cap,
    uint16_t method, uint8_t cls, const uint8_t cookie[4],
    const uint8_t tid[STUN_TID_LEN])
{
	stun_init(w, buf, cap, method, cls, tid);
	if (w->err == 0)
		memcpy(buf + 4, cookie, 4);
}

void
stun_set_pad(struct stun_writer *w, uint8_t byte)
{
	w->pad = byte;
}

/*
 * Reserve an attribute of vlen value bytes: write its header and padding,
 * grow the header length, return where the value goes (NULL and w->err set
 * when it does not fit). Everything is checked before the first byte is
 * written, so a failed call leaves the buffer as it was.
 */
static uint8_t *
stun_reserve(struct stun_writer *w, uint16_t type, size_t vlen)
{
	uint8_t	*p;
	size_t	 need;

	if (w->err)
		return NULL;
	if (vlen > 0xFFFF) {
		w->err = STUN_ERR_ATTR_BAD;
		return NULL;
	}
	need = 4 + STUN_PAD4(vlen);
	if (w->len > w->cap || need > w->cap - w->len ||
	    w->len - STUN_HDR_LEN + need > STUN_MAX_BODY) {
		w->err = STUN_ERR_NOSPACE;
		return NULL;
	}
	p = w->buf + w->len;
	stun_put16(p, type);
	stun_put16(p + 2, (uint16_t)vlen);
	memset(p + 4 + vlen, w->pad, STUN_PAD4(vlen) - vlen);
	w->len += need;
	stun_put16(w->buf + 2, (uint16_t)(w->len - STUN_HDR_LEN));
	return p + 4;
}

void
stun_add_raw(struct stun_writer *w, uint16_t type, const void *val,
    size_t len)
{
	uint8_t	*p;

	if ((p = stun_reserve(w, type, len)) != NULL && len > 0)
		memcpy(p, val, len);
}

/* Family, port and address bytes of sa, mapped IPv6 turned to IPv4.
 * Returns the address length (4 or 16), 0 for anything else. */
static size_t
stun_sockaddr(const struct sockaddr *sa, uint8_t *family, uint16_t *port,
    uint8_t addr[16])
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	if (sa == NULL)
		return 0;
	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)sa;
		*family = STUN_FAMILY_IPV4;
		*port = ntohs(sin->sin_port);
		memcpy(addr, &sin->sin_addr, 4);
		return 4;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)sa;
		*port = ntohs(sin6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			*family = STUN_FAMILY_IPV4;
			memcpy(addr, sin6->sin6_addr.s6_addr + 12, 4);
			return 4;
		}
		*family = STUN_FAMILY_IPV6;
		memcpy(addr, &sin6->sin6_addr, 16);
		return 16;
	}
	return 0;
}

static void
stun_add_addr_common(struct stun_writer *w, uint16_t type,
    const struct sockaddr *sa, int xor)
{
	uint8_t		 addr[16], family = 0, *p;
	uint16_t	 port = 0;
	size_t		 alen, i;

	if (w->err)
		return;
	if ((alen = stun_sockaddr(sa, &family, &port, addr)) == 0) {
		w->err = STUN_ERR_ATTR_BAD;
		return;
	}
	if (xor) {
		/* bytes 4..19 of the header: cookie, then transaction id */
		port ^= STUN_MAGIC >> 16;
		for (i = 0; i < alen; i++)
			addr[i] ^= w->buf[4 + i];
	}
	if ((p = stun_reserve(w, type, 4 + alen)) == NULL)
		return;
	p[0] = 0;
	p[1] = family;
	stun_put16(p + 2, port);
	memcpy(p + 4, addr, alen);
}

void
stun_add_addr(struct stun_writer *w, uint16_t type, const struct sockaddr *sa)
{
	stun_add_addr_common(w, type, sa, 0);
}

void
stun_add_xor_addr(struct stun_writer *w, uint16_t type,
    const struct sockaddr *sa)
{
	stun_add_addr_common(w, type, sa, 1);
}

void
stun_add_u32(struct stun_writer *w, uint16_t type, uint32_t v)
{
	uint8_t	*p;

	if ((p = stun_reserve(w, type, 4)) != NULL)
		stun_put32(p, v);
}

void
stun_add_software(struct stun_writer *w, const char *s)
{
	stun_add_raw(w, STUN_ATTR_SOFTWARE, s, s == NULL ? 0 : strlen(s));
}

void
stun_add_error(struct stun_writer *w, uint16_t code, const char *reason)
{
	uint8_t	*p;
	size_t	 rlen = reason == NULL ? 0 : strlen(reason);

	if (w->err)
		return;
	if (code < 300 || code > 699) {
		w->err = STUN_ERR_ATTR_BAD;
		return;
	}
	if ((p = stun_reserve(w, STUN_ATTR_ERROR_CODE, 4 + rlen)) == NULL)
		return;
	p[0] = 0;
	p[1] = 0;
	p[2] = code / 100;
	p[3] = code % 100;
	if (rlen > 0)
		memcpy(p + 4, reason, rlen);
}

void
stun_add_unknown(struct stun_writer *w, const uint16_t *types, size_t n)
{
	uint8_t	*p;
	size_t	 i;

	if (w->err)
		return;
	if (n > 0xFFFF / 2) {
		w->err = STUN_ERR_ATTR_BAD;
		return;
	}
	if ((p = stun_reserve(w, STUN_ATTR_UNKNOWN_ATTRIBUTES, 2 * n)) == NULL)
		return;
	for (i = 0; i < n; i++)
		stun_put16(p + 2 * i, types[i]);
}

void
stun_add_change_request(struct stun_writer *w, uint32_t flags)
{
	stun_add_u32(w, STUN_ATTR_CHANGE_REQUEST, flags);
}

/*
 * RESPONSE-PORT, RFC 5780 7.5:
 *
 *      0                   1                   2                   3
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *     |             Port              |    Padding (must be 0)        |
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * The padding is part of the value (length 4), so it is zero whatever
 * stun_set_pad() says.
 */
void
stun_add_response_port(struct stun_writer *w, uint16_t port)
{
	uint8_t	*p;

	if ((p = stun_reserve(w, STUN_ATTR_RESPONSE_PORT, 4)) != NULL) {
		stun_put16(p, port);
		stun_put16(p + 2, 0);
	}
}

void
stun_add_padding(struct stun_writer *w, size_t n)
{
	uint8_t	*p;

	if ((p = stun_reserve(w, STUN_ATTR_PADDING, n)) != NULL)
		memset(p, w->pad, n);
}

void
stun_add_integrity(struct stun_writer *w, const uint8_t *key, size_t keylen)
{
	uint8_t	*p, mac[STUN_HMAC_LEN];
	size_t	 off = w->len;

	/* reserving first sets the header length to end after this
	 * attribute, which is what the HMAC must see (RFC 8489 14.5) */
	if ((p = stun_reserve(w, STUN_ATTR_MESSAGE_INTEGRITY,
	    STUN_HMAC_LEN)) == NULL)
		return;
	if (stun_hmac_sha1(key, keylen, w->buf, w->buf + STUN_HDR_LEN,
	    off - STUN_HDR_LEN, mac) == -1) {
		/* not a space problem, but the message is unusable; ATTR_BAD
		 * is the nearest "cannot build this" we have */
		w->err = STUN_ERR_ATTR_BAD;
		return;
	}
	memcpy(p, mac, STUN_HMAC_LEN);
}

void
stun_add_fingerprint(struct stun_writer *w)
{
	uint8_t	*p;
	size_t	 off = w->len;

	/* as for integrity: the CRC covers a header that counts it */
	if ((p = stun_reserve(w, STUN_ATTR_FINGERPRINT, 4)) != NULL)
		stun_put32(p, stun_fingerprint(w->buf, off));
}

int
stun_finish(struct stun_writer *w)
{
	if (w->err)
		return w->err;
	stun_put16(w->buf + 2, (uint16_t)(w->len - STUN_HDR_LEN));
	return (int)w->len;
}
