/*
 * Join handshake and announcement payloads: proto/join.h has the formats
 * and the reasons behind them.
 */
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <sodium.h>

#include "join.h"

void
join_key(uint8_t key[32], const uint8_t secret[JOIN_SECRET_LEN])
{
	crypto_generichash(key, 32, (const uint8_t *)"atm-join-key", 12,
	    secret, JOIN_SECRET_LEN);
}

void
join_txid(uint8_t txid[JOIN_TXID_LEN], const uint8_t secret[JOIN_SECRET_LEN],
    const uint8_t id[JOIN_ID_LEN])
{
	crypto_generichash_state	st;
	uint8_t				h[16];

	crypto_generichash_init(&st, secret, JOIN_SECRET_LEN, sizeof(h));
	crypto_generichash_update(&st, (const uint8_t *)"atm-join-txid", 13);
	crypto_generichash_update(&st, id, JOIN_ID_LEN);
	crypto_generichash_final(&st, h, sizeof(h));
	memcpy(txid, h, JOIN_TXID_LEN);
}

void
join_session(char out[33], const uint8_t secret[JOIN_SECRET_LEN])
{
	uint8_t h[16];

	crypto_generichash(h, sizeof(h), (const uint8_t *)"atm-join-relay", 14,
	    secret, JOIN_SECRET_LEN);
	sodium_bin2hex(out, 33, h, sizeof(h));
}

static size_t
hello_msg(uint8_t *m, const struct join_hello *h, const uint8_t *id)
{
	memcpy(m, "atm-join-hello", 14);
	memcpy(m + 14, h->txid, JOIN_TXID_LEN);
	memcpy(m + 26, id, JOIN_ID_LEN);
	memcpy(m + 34, h->pk, JOIN_PK_LEN);
	return 66;
}

void
join_hello_sign(struct join_hello *h, const uint8_t id[JOIN_ID_LEN],
    const uint8_t sk[JOIN_SK_LEN])
{
	uint8_t m[66];

	crypto_sign_detached(h->sig, NULL, m, hello_msg(m, h, id), sk);
}

int
join_hello_verify(const struct join_hello *h, const uint8_t id[JOIN_ID_LEN])
{
	uint8_t m[66];

	return crypto_sign_verify_detached(h->sig, m, hello_msg(m, h, id),
	    h->pk) == 0 ? 0 : -1;
}

static size_t
welcome_msg(uint8_t *m, const struct join_welcome *w, const uint8_t *id,
    const uint8_t *pk)
{
	size_t n = 0;

	memcpy(m + n, "atm-join-welcome", 16), n += 16;
	memcpy(m + n, w->txid, JOIN_TXID_LEN), n += JOIN_TXID_LEN;
	memcpy(m + n, id, JOIN_ID_LEN), n += JOIN_ID_LEN;
	memcpy(m + n, pk, JOIN_PK_LEN), n += JOIN_PK_LEN;
	memcpy(m + n, w->mesh_id, JOIN_MESH_ID_LEN), n += JOIN_MESH_ID_LEN;
	memcpy(m + n, w->sealed, JOIN_SEALED_LEN), n += JOIN_SEALED_LEN;
	return n;
}

#define WELCOME_MSG_LEN	(16 + JOIN_TXID_LEN + JOIN_ID_LEN + JOIN_PK_LEN + \
			 JOIN_MESH_ID_LEN + JOIN_SEALED_LEN)

int
join_welcome_seal(struct join_welcome *w, const uint8_t *joiner_id,
    const uint8_t joiner_pk[JOIN_PK_LEN],
    const uint8_t mesh_secret[JOIN_SECRET_LEN],
    const uint8_t inviter_sk[JOIN_SK_LEN])
{
	uint8_t	xpk[crypto_box_PUBLICKEYBYTES], m[WELCOME_MSG_LEN];

	if (crypto_sign_ed25519_pk_to_curve25519(xpk, joiner_pk) != 0 ||
	    crypto_box_seal(w->sealed, mesh_secret, JOIN_SECRET_LEN, xpk) != 0)
		return -1;
	crypto_sign_detached(w->sig, NULL, m, welcome_msg(m, w, joiner_id,
	    joiner_pk), inviter_sk);
	return 0;
}

int
join_welcome_open(const struct join_welcome *w, const uint8_t *joiner_id,
    const uint8_t joiner_pk[JOIN_PK_LEN], const uint8_t joiner_sk[JOIN_SK_LEN],
    const uint8_t inviter_pk[JOIN_PK_LEN], uint8_t mesh_secret[JOIN_SECRET_LEN])
{
	uint8_t	xpk[crypto_box_PUBLICKEYBYTES], xsk[crypto_box_SECRETKEYBYTES];
	uint8_t	m[WELCOME_MSG_LEN];
	int	r;

	if (crypto_sign_verify_detached(w->sig, m, welcome_msg(m, w,
	    joiner_id, joiner_pk), inviter_pk) != 0)
		return -1;
	if (crypto_sign_ed25519_pk_to_curve25519(xpk, joiner_pk) != 0 ||
	    crypto_sign_ed25519_sk_to_curve25519(xsk, joiner_sk) != 0)
		return -2;
	r = crypto_box_seal_open(mesh_secret, w->sealed, JOIN_SEALED_LEN, xpk,
	    xsk);
	sodium_memzero(xsk, sizeof(xsk));
	return r == 0 ? 0 : -2;
}

/* ---- codecs --------------------------------------------------------------- */

static int
put_name(uint8_t *buf, size_t cap, size_t off, const char *name)
{
	size_t n = strlen(name);

	if (n > JOIN_NAME_MAX || off + 1 + n > cap)
		return -1;
	buf[off] = (uint8_t)n;
	memcpy(buf + off + 1, name, n);
	return (int)(off + 1 + n);
}

static int
get_name(const uint8_t *buf, size_t len, size_t off, char *name)
{
	size_t n, i;

	if (off >= len) {		/* optional: absent */
		name[0] = '\0';
		return 0;
	}
	n = buf[off];
	if (n > JOIN_NAME_MAX || off + 1 + n > len)
		return -1;
	for (i = 0; i < n; i++)
		if (buf[off + 1 + i] < 0x20 || buf[off + 1 + i] == 0x7f)
			return -1;
	memcpy(name, buf + off + 1, n);
	name[n] = '\0';
	return 0;
}

/* the flags byte after a name that ends at n (a put_name result) */
static int
put_flags(uint8_t *buf, size_t cap, int n, uint8_t flags)
{
	if (n < 0 || flags == 0)
		return n;
	if ((size_t)n + 1 > cap)
		return -1;
	buf[n] = flags;
	return n + 1;
}

/* the byte after the name at off (get_name checked it), 0 when none */
static uint8_t
get_flags(const uint8_t *buf, size_t len, size_t off)
{
	if (off >= len)
		return 0;
	off += 1 + (size_t)buf[off];
	return off < len ? buf[off] : 0;
}

int
join_hello_encode(uint8_t *buf, size_t cap, const struct join_hello *h)
{
	if (cap < JOIN_TXID_LEN + JOIN_PK_LEN + JOIN_SIG_LEN)
		return -1;
	memcpy(buf, h->txid, JOIN_TXID_LEN);
	memcpy(buf + 12, h->pk, JOIN_PK_LEN);
	memcpy(buf + 44, h->sig, JOIN_SIG_LEN);
	return put_flags(buf, cap, put_name(buf, cap, 108, h->name), h->flags);
}

int
join_hello_decode(const uint8_t *buf, size_t len, struct join_hello *h)
{
	memset(h, 0, sizeof(*h));
	if (len < 108)
		return -1;
	memcpy(h->txid, buf, JOIN_TXID_LEN);
	memcpy(h->pk, buf + 12, JOIN_PK_LEN);
	memcpy(h->sig, buf + 44, JOIN_SIG_LEN);
	if (get_name(buf, len, 108, h->name) != 0)
		return -1;
	h->flags = get_flags(buf, len, 108);
	return 0;
}

#define WELCOME_FIXED	(JOIN_TXID_LEN + JOIN_MESH_ID_LEN + JOIN_SEALED_LEN + \
			 JOIN_SIG_LEN)

int
join_welcome_encode(uint8_t *buf, size_t cap, const struct join_welcome *w)
{
	size_t n = 0;

	if (cap < WELCOME_FIXED)
		return -1;
	memcpy(buf + n, w->txid, JOIN_TXID_LEN), n += JOIN_TXID_LEN;
	memcpy(buf + n, w->mesh_id, JOIN_MESH_ID_LEN), n += JOIN_MESH_ID_LEN;
	memcpy(buf + n, w->sealed, JOIN_SEALED_LEN), n += JOIN_SEALED_LEN;
	memcpy(buf + n, w->sig, JOIN_SIG_LEN), n += JOIN_SIG_LEN;
	return join_ext_put(buf, cap, put_name(buf, cap, n, w->mesh_name),
	    w->v4);
}

int
join_welcome_decode(const uint8_t *buf, size_t len, struct join_welcome *w)
{
	size_t n = 0;

	memset(w, 0, sizeof(*w));
	if (len < WELCOME_FIXED)
		return -1;
	memcpy(w->txid, buf + n, JOIN_TXID_LEN), n += JOIN_TXID_LEN;
	memcpy(w->mesh_id, buf + n, JOIN_MESH_ID_LEN), n += JOIN_MESH_ID_LEN;
	memcpy(w->sealed, buf + n, JOIN_SEALED_LEN), n += JOIN_SEALED_LEN;
	memcpy(w->sig, buf + n, JOIN_SIG_LEN), n += JOIN_SIG_LEN;
	if (get_name(buf, len, n, w->mesh_name) != 0)
		return JOIN_E_MALFORMED;
	return n < len ? join_ext_get(buf, len, n + 1 + buf[n], &w->v4) : 0;
}

int
join_refuse_encode(uint8_t *buf, size_t cap, const struct join_refuse *r)
{
	if (cap < JOIN_TXID_LEN + 1)
		return -1;
	memcpy(buf, r->txid, JOIN_TXID_LEN);
	buf[JOIN_TXID_LEN] = r->reason;
	return JOIN_TXID_LEN + 1;
}

int
join_refuse_decode(const uint8_t *buf, size_t len, struct join_refuse *r)
{
	memset(r, 0, sizeof(*r));
	if (len < JOIN_TXID_LEN + 1)
		return -1;
	memcpy(r->txid, buf, JOIN_TXID_LEN);
	r->reason = buf[JOIN_TXID_LEN];
	return 0;
}

#define ADDR_LEN	19	/* family 1, port 2, address 16 */

int
join_announce_encode(uint8_t *buf, size_t cap, const struct join_announce *a)
{
	const struct sockaddr_in	*s4;
	const struct sockaddr_in6	*s6;
	size_t				 n = 0;
	int				 i, cnt = 0;
	uint8_t				*e;

	if (a->ncands < 0 || a->ncands > JOIN_MAX_CANDS ||
	    cap < JOIN_ID_LEN + JOIN_PK_LEN + 1 + (size_t)a->ncands * ADDR_LEN)
		return -1;
	memcpy(buf + n, a->id, JOIN_ID_LEN), n += JOIN_ID_LEN;
	memcpy(buf + n, a->pk, JOIN_PK_LEN), n += JOIN_PK_LEN;
	e = buf + n++;
	for (i = 0; i < a->ncands; i++) {
		memset(buf + n, 0, ADDR_LEN);
		if (a->cands[i].ss_family == AF_INET) {
			s4 = (const struct sockaddr_in *)&a->cands[i];
			buf[n] = 1;
			memcpy(buf + n + 1, &s4->sin_port, 2);
			memcpy(buf + n + 3, &s4->sin_addr, 4);
		} else if (a->cands[i].ss_family == AF_INET6) {
			s6 = (const struct sockaddr_in6 *)&a->cands[i];
			buf[n] = 2;
			memcpy(buf + n + 1, &s6->sin6_port, 2);
			memcpy(buf + n + 3, &s6->sin6_addr, 16);
		} else
			continue;
		n += ADDR_LEN;
		cnt++;
	}
	*e = (uint8_t)cnt;
	if ((i = put_name(buf, cap, n, a->name)) < 0 || a->v4 == 0)
		return put_flags(buf, cap, i, a->flags);
	if ((size_t)i + 1 > cap)	/* the flags byte goes before fields */
		return -1;
	buf[i] = a->flags;
	return join_ext_put(buf, cap, i + 1, a->v4);
}

int
join_announce_decode(const uint8_t *buf, size_t len, struct join_announce *a)
{
	struct sockaddr_in	*s4;
	struct sockaddr_in6	*s6;
	size_t			 n = 0;
	int			 i, cnt;

	a->ncands = 0;
	a->name[0] = '\0';
	a->flags = 0;
	a->v4 = 0;
	if (len < JOIN_ID_LEN + JOIN_PK_LEN + 1)
		return -1;
	memcpy(a->id, buf + n, JOIN_ID_LEN), n += JOIN_ID_LEN;
	memcpy(a->pk, buf + n, JOIN_PK_LEN), n += JOIN_PK_LEN;
	cnt = buf[n++];
	if (cnt > JOIN_MAX_CANDS || n + (size_t)cnt * ADDR_LEN > len)
		return -1;
	for (i = 0; i < cnt; i++, n += ADDR_LEN) {
		memset(&a->cands[a->ncands], 0, sizeof(a->cands[0]));
		if (buf[n] == 1) {
			s4 = (struct sockaddr_in *)&a->cands[a->ncands];
			s4->sin_family = AF_INET;
			memcpy(&s4->sin_port, buf + n + 1, 2);
			memcpy(&s4->sin_addr, buf + n + 3, 4);
		} else if (buf[n] == 2) {
			s6 = (struct sockaddr_in6 *)&a->cands[a->ncands];
			s6->sin6_family = AF_INET6;
			memcpy(&s6->sin6_port, buf + n + 1, 2);
			memcpy(&s6->sin6_addr, buf + n + 3, 16);
		} else
			return -1;
		a->ncands++;
	}
	if (get_name(buf, len, n, a->name) != 0)
		return -1;
	a->flags = get_flags(buf, len, n);
	/* fields after the flags byte */
	return n < len ? join_ext_get(buf, len, n + 2 + buf[n], &a->v4) : 0;
}

const char *
join_reason_str(uint8_t reason)
{
	switch (reason) {
	case JOIN_R_EXPIRED:
		return "the invite has expired";
	case JOIN_R_USED:
		return "the invite has already been used";
	case JOIN_R_NOMESH:
		return "the inviter is no longer in a mesh";
	default:
		return "refused";
	}
}
