/*
 * Punch/keep-alive/data packet codec: see packet.h for the wire format and
 * docs/packet-format.md for the reasoning. No allocation, no logging: the
 * caller counts drops (a stranger must learn nothing, so nothing is said).
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <string.h>

#include <sodium.h>

#include "proto/wire.h"
#include "proto/packet.h"

int
packet_key_derive(uint8_t key[PACKET_KEY_LEN],
    const uint8_t secret[PACKET_MESH_SECRET_LEN], uint64_t epoch)
{
	/* Both are 32 bytes; a compile-time check keeps it so if either
	 * constant moves. */
	_Static_assert(PACKET_KEY_LEN == crypto_aead_xchacha20poly1305_ietf_KEYBYTES,
	    "packet key is an XChaCha20-Poly1305 key");
	_Static_assert(PACKET_MESH_SECRET_LEN == crypto_kdf_KEYBYTES,
	    "mesh secret is a crypto_kdf master key");
	_Static_assert(sizeof(PACKET_KDF_CONTEXT) - 1 == crypto_kdf_CONTEXTBYTES,
	    "kdf context is 8 bytes");

	if (sodium_init() < 0)
		return -1;
	return crypto_kdf_derive_from_key(key, PACKET_KEY_LEN, epoch,
	    PACKET_KDF_CONTEXT, secret) == 0 ? 0 : -1;
}

uint64_t
packet_seq_start(uint64_t now)
{
	return now << 32;
}

int
packet_is_ours(const uint8_t *buf, size_t len)
{
	return len > 0 && (buf[0] & PACKET_MAGIC_MASK) == PACKET_MAGIC;
}

static void
hdr_write(uint8_t *p, const struct packet_hdr *h)
{
	p[0] = PACKET_MAGIC | h->version;
	p[1] = h->type;
	p[2] = h->flags;
	p[3] = h->key_id;
	memcpy(p + 4, h->sender, PACKET_NODEID_LEN);
	wire_put64(p + 12, h->seq);
}

int
packet_peek(const uint8_t *buf, size_t len, struct packet_hdr *out)
{
	if (!packet_is_ours(buf, len))
		return len == 0 ? PACKET_ERR_SHORT : PACKET_ERR_MAGIC;
	if ((buf[0] & ~PACKET_MAGIC_MASK) != PACKET_VERSION)
		return PACKET_ERR_VERSION;
	if (len < PACKET_OVERHEAD)
		return PACKET_ERR_SHORT;
	if (len > PACKET_MAX_LEN)
		return PACKET_ERR_LENGTH;
	if (buf[1] == 0 || buf[1] > PACKET_TYPE_MAX)
		return PACKET_ERR_TYPE;
	out->version = buf[0] & ~PACKET_MAGIC_MASK;
	out->type = buf[1];
	out->flags = buf[2];
	out->key_id = buf[3];
	memcpy(out->sender, buf + 4, PACKET_NODEID_LEN);
	out->seq = wire_get64(buf + 12);
	return 0;
}

/* (sender, seq) is unique per key: see the header. */
static void
nonce_make(uint8_t n[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES],
    const uint8_t *hdr)
{
	memset(n, 0, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
	memcpy(n, hdr + 4, PACKET_NODEID_LEN + 8);
}

ssize_t
packet_encode(uint8_t *buf, size_t cap, const struct packet_hdr *h,
    const uint8_t *payload, size_t len, const uint8_t key[PACKET_KEY_LEN])
{
	uint8_t		nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
	unsigned long long maclen;

	if (h->version != PACKET_VERSION || h->type == 0 ||
	    h->type > PACKET_TYPE_MAX)
		return -1;
	if (len > PACKET_MAX_PAYLOAD || cap < len + PACKET_OVERHEAD)
		return -1;
	if (len > 0 && payload == NULL)
		return -1;
	if (len > 0 && payload != buf + PACKET_HDR_LEN &&
	    (uintptr_t)payload < (uintptr_t)buf + PACKET_OVERHEAD + len &&
	    (uintptr_t)buf < (uintptr_t)payload + len)
		return -1;	/* overlapping, not in place */
	if (sodium_init() < 0)
		return -1;

	hdr_write(buf, h);
	nonce_make(nonce, buf);
	crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
	    buf + PACKET_HDR_LEN, buf + PACKET_HDR_LEN + len, &maclen,
	    payload, len, buf, PACKET_HDR_LEN, NULL, nonce, key);
	return (ssize_t)(len + PACKET_OVERHEAD);
}

int
packet_decode(uint8_t *buf, size_t len, const uint8_t key[PACKET_KEY_LEN],
    struct packet_hdr *out, const uint8_t **payload, size_t *plen)
{
	uint8_t		nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
	struct packet_hdr h;
	size_t		clen;
	int		r;

	if ((r = packet_peek(buf, len, &h)) != 0)
		return r;
	if (sodium_init() < 0)
		return PACKET_ERR_AUTH;
	clen = len - PACKET_OVERHEAD;
	nonce_make(nonce, buf);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
	    buf + PACKET_HDR_LEN, NULL, buf + PACKET_HDR_LEN, clen,
	    buf + PACKET_HDR_LEN + clen, buf, PACKET_HDR_LEN, nonce, key) != 0)
		return PACKET_ERR_AUTH;
	*out = h;
	*payload = buf + PACKET_HDR_LEN;
	*plen = clen;
	return 0;
}

const char *
packet_strerror(int err)
{
	switch (err) {
	case PACKET_OK:		return "ok";
	case PACKET_ERR_SHORT:	return "packet too short";
	case PACKET_ERR_MAGIC:	return "not an Atmosphere packet";
	case PACKET_ERR_VERSION: return "unsupported packet version";
	case PACKET_ERR_TYPE:	return "unknown packet type";
	case PACKET_ERR_LENGTH:	return "packet too long";
	case PACKET_ERR_AUTH:	return "authentication failed";
	case PACKET_ERR_REPLAY:	return "replayed packet";
	case PACKET_ERR_OLD:	return "packet older than the replay window";
	case PACKET_ERR_PAYLOAD: return "malformed payload";
	default:		return "unknown packet error";
	}
}

const char *
packet_type_str(uint8_t type)
{
	static const char *names[] = {
		[PACKET_PUNCH] = "PUNCH",
		[PACKET_PUNCH_ACK] = "PUNCH_ACK",
		[PACKET_PUNCH_CONFIRM] = "PUNCH_CONFIRM",
		[PACKET_KEEPALIVE] = "KEEPALIVE",
		[PACKET_KEEPALIVE_ACK] = "KEEPALIVE_ACK",
		[PACKET_PING] = "PING",
		[PACKET_PONG] = "PONG",
		[PACKET_DATA] = "DATA",
		[PACKET_JOIN_HELLO] = "JOIN_HELLO",
		[PACKET_JOIN_WELCOME] = "JOIN_WELCOME",
		[PACKET_JOIN_REFUSE] = "JOIN_REFUSE",
		[PACKET_ANNOUNCE] = "ANNOUNCE",
		[PACKET_E2E_INIT] = "E2E_INIT",
		[PACKET_E2E_RESP] = "E2E_RESP",
		[PACKET_IP] = "IP",
	};

	if (type == 0 || type > PACKET_TYPE_MAX)
		return "UNKNOWN";
	return names[type];
}

/* --- replay window (RFC 6479) --------------------------------------------- */

void
packet_replay_reset(struct packet_replay *w)
{
	memset(w, 0, sizeof(*w));
}

int
packet_replay_check(const struct packet_replay *w, uint64_t seq)
{
	if (!w->any || seq > w->top)
		return 0;
	if (w->top - seq >= PACKET_REPLAY_WINDOW)
		return PACKET_ERR_OLD;
	if (w->map[(seq / 64) % PACKET_REPLAY_WORDS] & (1ULL << (seq % 64)))
		return PACKET_ERR_REPLAY;
	return 0;
}

int
packet_replay_check_and_update(struct packet_replay *w, uint64_t seq)
{
	uint64_t	cur, next, diff, i;
	int		r;

	if ((r = packet_replay_check(w, seq)) != 0)
		return r;
	if (!w->any) {
		memset(w->map, 0, sizeof(w->map));
		w->any = 1;
		w->top = seq;
	} else if (seq > w->top) {
		/* clear the words the window slides over, at most all */
		cur = w->top / 64;
		next = seq / 64;
		diff = next - cur;
		if (diff > PACKET_REPLAY_WORDS)
			diff = PACKET_REPLAY_WORDS;
		for (i = 1; i <= diff; i++)
			w->map[(cur + i) % PACKET_REPLAY_WORDS] = 0;
		w->top = seq;
	}
	w->map[(seq / 64) % PACKET_REPLAY_WORDS] |= 1ULL << (seq % 64);
	return 0;
}

/* --- typed payloads -------------------------------------------------------- */

int
packet_punch_encode(uint8_t *buf, size_t cap, const struct packet_punch *p)
{
	if (cap < PACKET_PUNCH_LEN)
		return -1;
	memcpy(buf, p->txid, PACKET_TXID_LEN);
	wire_put32(buf + 12, p->local_cand);
	wire_put32(buf + 16, p->remote_cand);
	wire_put64(buf + 20, p->ts);
	wire_put64(buf + 28, p->echo);
	buf[36] = p->pflags;
	buf[37] = p->family;
	wire_put16(buf + 38, p->port);
	memcpy(buf + 40, p->addr, 16);
	memcpy(buf + 56, p->dest, PACKET_NODEID_LEN);
	return PACKET_PUNCH_LEN;
}

int
packet_punch_decode(const uint8_t *buf, size_t len, struct packet_punch *p)
{
	if (len < PACKET_PUNCH_LEN)
		return PACKET_ERR_PAYLOAD;
	if (buf[37] > PACKET_AF_INET6)
		return PACKET_ERR_PAYLOAD;
	memcpy(p->txid, buf, PACKET_TXID_LEN);
	p->local_cand = wire_get32(buf + 12);
	p->remote_cand = wire_get32(buf + 16);
	p->ts = wire_get64(buf + 20);
	p->echo = wire_get64(buf + 28);
	p->pflags = buf[36];
	p->family = buf[37];
	p->port = wire_get16(buf + 38);
	memcpy(p->addr, buf + 40, 16);
	memcpy(p->dest, buf + 56, PACKET_NODEID_LEN);
	return 0;
}

int
packet_ping_encode(uint8_t *buf, size_t cap, const struct packet_ping *p)
{
	if (cap < PACKET_PING_LEN)
		return -1;
	wire_put32(buf, p->id);
	wire_put64(buf + 4, p->ts);
	return PACKET_PING_LEN;
}

int
packet_ping_decode(const uint8_t *buf, size_t len, struct packet_ping *p)
{
	if (len < PACKET_PING_LEN)
		return PACKET_ERR_PAYLOAD;
	p->id = wire_get32(buf);
	p->ts = wire_get64(buf + 4);
	return 0;
}

int
packet_punch_set_addr(struct packet_punch *p, const struct sockaddr *sa)
{
	memset(p->addr, 0, sizeof(p->addr));
	switch (sa->sa_family) {
	case AF_INET: {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		p->family = PACKET_AF_INET;
		p->port = ntohs(sin->sin_port);
		memcpy(p->addr, &sin->sin_addr, 4);
		return 0;
	}
	case AF_INET6: {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		p->family = PACKET_AF_INET6;
		p->port = ntohs(sin6->sin6_port);
		memcpy(p->addr, &sin6->sin6_addr, 16);
		return 0;
	}
	default:
		p->family = PACKET_AF_NONE;
		p->port = 0;
		return -1;
	}
}

int
packet_punch_get_addr(const struct packet_punch *p, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	switch (p->family) {
	case PACKET_AF_INET: {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(p->port);
		memcpy(&sin->sin_addr, p->addr, 4);
		return 0;
	}
	case PACKET_AF_INET6: {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(p->port);
		memcpy(&sin6->sin6_addr, p->addr, 16);
		return 0;
	}
	default:
		return -1;
	}
}
