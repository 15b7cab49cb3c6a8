/*
 * proto/join.c: the join handshake payloads. HELLO, WELCOME, REFUSE and
 * ANNOUNCE round trips; short and malformed payloads; HELLO signature bound
 * to the node id and key; WELCOME opens only for its joiner and only with
 * the inviter's signature; derived keys, transaction ids and relay session
 * names differ per secret and per joiner.
 */
#include <string.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <sodium.h>

#include "proto/join.h"
#include "suites.h"

static const uint8_t id_j[JOIN_ID_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8 };
static const uint8_t id_x[JOIN_ID_LEN] = { 9, 2, 3, 4, 5, 6, 7, 8 };

START_TEST(test_derive)
{
	uint8_t	s1[JOIN_SECRET_LEN], s2[JOIN_SECRET_LEN];
	uint8_t	k1[32], k2[32], t1[JOIN_TXID_LEN], t2[JOIN_TXID_LEN];
	char	n1[33], n2[33];

	ck_assert_int_ne(sodium_init(), -1);
	memset(s1, 0x11, sizeof(s1));
	memset(s2, 0x22, sizeof(s2));
	join_key(k1, s1);
	join_key(k2, s2);
	ck_assert(memcmp(k1, k2, 32) != 0);
	ck_assert(memcmp(k1, s1, 32) != 0);	/* never the secret itself */
	join_txid(t1, s1, id_j);
	join_txid(t2, s1, id_j);
	ck_assert(memcmp(t1, t2, JOIN_TXID_LEN) == 0);	/* same joiner */
	join_txid(t2, s1, id_x);
	ck_assert(memcmp(t1, t2, JOIN_TXID_LEN) != 0);	/* another one */
	join_session(n1, s1);
	join_session(n2, s2);
	ck_assert_uint_eq(strlen(n1), 32);
	ck_assert_str_ne(n1, n2);
}
END_TEST

/* a signed HELLO of id_j with a fresh key */
static void
hello_make(struct join_hello *h, const char *name, uint8_t flags)
{
	uint8_t pk[JOIN_PK_LEN], sk[JOIN_SK_LEN];

	crypto_sign_keypair(pk, sk);
	memset(h, 0, sizeof(*h));
	memset(h->txid, 7, sizeof(h->txid));
	memcpy(h->pk, pk, sizeof(pk));
	strcpy(h->name, name);
	h->flags = flags;
	join_hello_sign(h, id_j, sk);
}

START_TEST(test_hello)
{
	struct join_hello	h, d;
	uint8_t			buf[256];
	int			n;

	hello_make(&h, "bob", 0);
	ck_assert_int_eq(join_hello_verify(&h, id_j), 0);
	/* bound to the node id */
	ck_assert_int_eq(join_hello_verify(&h, id_x), -1);
	n = join_hello_encode(buf, sizeof(buf), &h);
	ck_assert_int_eq(n, 108 + 1 + 3);
	ck_assert_int_eq(join_hello_decode(buf, n, &d), 0);
	ck_assert_mem_eq(&d, &h, sizeof(h));
	ck_assert_int_eq(join_hello_verify(&d, id_j), 0);
	/* another key in the HELLO: the signature no longer holds */
	d.pk[0] ^= 1;
	ck_assert_int_eq(join_hello_verify(&d, id_j), -1);
	/* short, name longer than the payload, control characters */
	ck_assert_int_eq(join_hello_decode(buf, 107, &d), -1);
	ck_assert_int_eq(join_hello_decode(buf, n - 1, &d), -1);
	ck_assert_int_eq(join_hello_decode(buf, 108, &d), 0);	/* no name */
	ck_assert_str_eq(d.name, "");
	buf[109] = '\n';
	ck_assert_int_eq(join_hello_decode(buf, n, &d), -1);
	/* a name that does not fit */
	memset(h.name, 'a', JOIN_NAME_MAX);
	h.name[JOIN_NAME_MAX] = '\0';
	ck_assert_int_eq(join_hello_encode(buf, 120, &h), -1);
	ck_assert_int_eq(join_hello_encode(buf, 50, &h), -1);
}
END_TEST

/* the relay-only byte after the name (docs/browser-member.md) */
START_TEST(test_hello_flags)
{
	struct join_hello	h, d;
	uint8_t			buf[256];
	int			n;

	hello_make(&h, "browser", JOIN_F_RELAY_ONLY);
	n = join_hello_encode(buf, sizeof(buf), &h);
	ck_assert_int_eq(n, 108 + 1 + 7 + 1);
	ck_assert_uint_eq(buf[n - 1], JOIN_F_RELAY_ONLY);
	ck_assert_int_eq(join_hello_decode(buf, n, &d), 0);
	ck_assert_mem_eq(&d, &h, sizeof(h));
	ck_assert_int_eq(join_hello_verify(&d, id_j), 0);
	/* an old HELLO (no byte) reads 0; a later byte is ignored */
	ck_assert_int_eq(join_hello_decode(buf, n - 1, &d), 0);
	ck_assert_uint_eq(d.flags, 0);
	buf[n] = 0xee;
	ck_assert_int_eq(join_hello_decode(buf, n + 1, &d), 0);
	ck_assert_uint_eq(d.flags, JOIN_F_RELAY_ONLY);
	/* no name, the flag: the empty name's length byte, then the flag */
	h.name[0] = '\0';
	n = join_hello_encode(buf, sizeof(buf), &h);
	ck_assert_int_eq(n, 108 + 1 + 1);
	ck_assert_int_eq(join_hello_decode(buf, n, &d), 0);
	ck_assert_str_eq(d.name, "");
	ck_assert_uint_eq(d.flags, JOIN_F_RELAY_ONLY);
	/* no room for it */
	ck_assert_int_eq(join_hello_encode(buf, 109, &h), -1);
	/* zero is not written: the bytes of an old encoder */
	h.flags = 0;
	ck_assert_int_eq(join_hello_encode(buf, sizeof(buf), &h), 109);
}
END_TEST

START_TEST(test_welcome)
{
	struct join_welcome	w, d;
	uint8_t			ipk[JOIN_PK_LEN], isk[JOIN_SK_LEN];
	uint8_t			jpk[JOIN_PK_LEN], jsk[JOIN_SK_LEN];
	uint8_t			xpk[JOIN_PK_LEN], xsk[JOIN_SK_LEN];
	uint8_t			secret[JOIN_SECRET_LEN], out[JOIN_SECRET_LEN];
	uint8_t			buf[512];
	int			n;

	crypto_sign_keypair(ipk, isk);
	crypto_sign_keypair(jpk, jsk);
	crypto_sign_keypair(xpk, xsk);
	randombytes_buf(secret, sizeof(secret));
	memset(&w, 0, sizeof(w));
	memset(w.txid, 3, sizeof(w.txid));
	memset(w.mesh_id, 4, sizeof(w.mesh_id));
	strcpy(w.mesh_name, "home");
	ck_assert_int_eq(join_welcome_seal(&w, id_j, jpk, secret, isk), 0);
	n = join_welcome_encode(buf, sizeof(buf), &w);
	ck_assert_int_eq(n, 12 + 16 + 80 + 64 + 1 + 4);
	ck_assert_int_eq(join_welcome_decode(buf, n, &d), 0);
	ck_assert_mem_eq(&d, &w, sizeof(w));
	ck_assert_int_eq(join_welcome_open(&d, id_j, jpk, jsk, ipk, out), 0);
	ck_assert_mem_eq(out, secret, sizeof(secret));
	/* the secret is not in the clear anywhere in the payload */
	ck_assert_ptr_null(memmem(buf, n, secret, sizeof(secret)));
	/* not signed by the code's inviter */
	ck_assert_int_eq(join_welcome_open(&d, id_j, jpk, jsk, xpk, out), -1);
	/* another joiner (id or key) */
	ck_assert_int_eq(join_welcome_open(&d, id_x, jpk, jsk, ipk, out), -1);
	ck_assert_int_eq(join_welcome_open(&d, id_j, xpk, xsk, ipk, out), -1);
	/* tampered: mesh id, sealed box */
	d.mesh_id[0] ^= 1;
	ck_assert_int_eq(join_welcome_open(&d, id_j, jpk, jsk, ipk, out), -1);
	d.mesh_id[0] ^= 1;
	d.sealed[5] ^= 1;
	ck_assert_int_eq(join_welcome_open(&d, id_j, jpk, jsk, ipk, out), -1);
	ck_assert_int_eq(join_welcome_decode(buf, 12 + 16 + 80 + 63, &d), -1);
}
END_TEST

START_TEST(test_refuse)
{
	struct join_refuse	r, d;
	uint8_t			buf[32];

	memset(r.txid, 9, sizeof(r.txid));
	r.reason = JOIN_R_USED;
	ck_assert_int_eq(join_refuse_encode(buf, sizeof(buf), &r), 13);
	ck_assert_int_eq(join_refuse_decode(buf, 13, &d), 0);
	ck_assert_int_eq(d.reason, JOIN_R_USED);
	ck_assert_mem_eq(d.txid, r.txid, JOIN_TXID_LEN);
	ck_assert_int_eq(join_refuse_decode(buf, 12, &d), -1);
	ck_assert_int_eq(join_refuse_encode(buf, 12, &r), -1);
	ck_assert_str_eq(join_reason_str(JOIN_R_EXPIRED),
	    "the invite has expired");
	ck_assert_str_eq(join_reason_str(JOIN_R_USED),
	    "the invite has already been used");
	ck_assert_str_eq(join_reason_str(200), "refused");
}
END_TEST

START_TEST(test_announce)
{
	struct sockaddr_storage	c[JOIN_MAX_CANDS], dc[JOIN_MAX_CANDS];
	struct sockaddr_in	*s4 = (struct sockaddr_in *)&c[0];
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)&c[1];
	struct join_announce	a, d;
	uint8_t			buf[512];
	int			n;

	memset(c, 0, sizeof(c));
	s4->sin_family = AF_INET;
	s4->sin_port = htons(7777);
	inet_pton(AF_INET, "198.51.100.7", &s4->sin_addr);
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(7778);
	inet_pton(AF_INET6, "2001:db8::7", &s6->sin6_addr);
	memset(&a, 0, sizeof(a));
	memcpy(a.id, id_j, JOIN_ID_LEN);
	memset(a.pk, 5, JOIN_PK_LEN);
	a.cands = c;
	a.ncands = 2;
	strcpy(a.name, "carol");
	n = join_announce_encode(buf, sizeof(buf), &a);
	ck_assert_int_eq(n, 8 + 32 + 1 + 2 * 19 + 1 + 5);
	d.cands = dc;
	ck_assert_int_eq(join_announce_decode(buf, n, &d), 0);
	ck_assert_int_eq(d.ncands, 2);
	ck_assert_mem_eq(d.id, id_j, JOIN_ID_LEN);
	ck_assert_mem_eq(d.pk, a.pk, JOIN_PK_LEN);
	ck_assert_str_eq(d.name, "carol");
	ck_assert_mem_eq(&dc[0], &c[0], sizeof(struct sockaddr_in));
	ck_assert_mem_eq(&dc[1], &c[1], sizeof(struct sockaddr_in6));
	/* truncated in the addresses, bad family, too many */
	ck_assert_int_eq(join_announce_decode(buf, 8 + 32 + 1 + 19, &d), -1);
	buf[41] = 3;
	ck_assert_int_eq(join_announce_decode(buf, n, &d), -1);
	buf[41] = 1;
	buf[40] = JOIN_MAX_CANDS + 1;
	ck_assert_int_eq(join_announce_decode(buf, n, &d), -1);
	a.ncands = JOIN_MAX_CANDS + 1;
	ck_assert_int_eq(join_announce_encode(buf, sizeof(buf), &a), -1);
	/* the relay-only byte after the name, passed on to other members */
	ck_assert_uint_eq(d.flags, 0);
	a.ncands = 1;
	a.flags = JOIN_F_RELAY_ONLY;
	n = join_announce_encode(buf, sizeof(buf), &a);
	ck_assert_int_eq(n, 8 + 32 + 1 + 19 + 1 + 5 + 1);
	ck_assert_int_eq(join_announce_decode(buf, n, &d), 0);
	ck_assert_uint_eq(d.flags, JOIN_F_RELAY_ONLY);
	ck_assert_str_eq(d.name, "carol");
	ck_assert_int_eq(join_announce_decode(buf, n - 1, &d), 0);
	ck_assert_uint_eq(d.flags, 0);
}
END_TEST

Suite *
join_suite(void)
{
	Suite	*s = suite_create("join");
	TCase	*tc = tcase_create("join");

	tcase_add_test(tc, test_derive);
	tcase_add_test(tc, test_hello);
	tcase_add_test(tc, test_hello_flags);
	tcase_add_test(tc, test_welcome);
	tcase_add_test(tc, test_refuse);
	tcase_add_test(tc, test_announce);
	suite_add_tcase(s, tc);
	return s;
}
