/*
 * vectors: test vectors from the C protocol code (proto/) for other
 * implementations of a relay-only member (web/src/, a phone app), and a
 * C peer that answers what they send. docs/browser-member.md.
 *
 *   vectors          print JSON: invite codes and URIs as invite_parse()
 *                    reads them, join key/txid/session, a HELLO and a
 *                    sealed WELCOME, mesh-key packets, an ANNOUNCE, an e2e
 *                    handshake with its keys and a session packet
 *   vectors serve    the inviter of the vectors' invite A as a line peer:
 *                    each stdin line is a packet in hex (what a member
 *                    would send over the relay) or a command; the answer
 *                    is lines "pkt HEX" (packets back), "got TYPE HEX"
 *                    (what it accepted), "drop REASON", then ".".
 *                    Commands: "init" (start an e2e handshake), "send HEX"
 *                    (DATA under the session key).
 *
 * Every key and nonce is fixed except what libsodium makes random inside
 * the C API (the sealed box's ephemeral key, e2e ephemeral keys): those
 * vectors give the secret that lets the reader check them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "proto/e2e.h"
#include "proto/invite.h"
#include "proto/join.h"
#include "proto/packet.h"
#include "vectors/vectors.h"

#include <netinet/in.h>
#include <sys/socket.h>

#define SEQ_START	(UINT64_C(1767225600) << 32)

const uint8_t ID_A[8] = { 0xa0, 0xa0, 0xa0, 0xa0, 0xa0, 0xa0, 0xa0, 0xa0 };
static const uint8_t ID_J[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

uint8_t		pk_a[32];
static uint8_t	sk_a[64], pk_j[32], sk_j[64];
static uint8_t	mesh_secret[32], mesh_key[32];

json_t *
hexj(const uint8_t *b, size_t n)
{
	char	*s = malloc(2 * n + 1);
	json_t	*j;

	if (s == NULL)
		abort();
	sodium_bin2hex(s, 2 * n + 1, b, n);
	j = json_string(s);
	free(s);
	return j;
}

static void
keys_init(void)
{
	uint8_t seed[32];

	if (sodium_init() < 0)
		abort();
	memset(seed, 1, sizeof(seed));
	crypto_sign_seed_keypair(pk_a, sk_a, seed);
	memset(seed, 2, sizeof(seed));
	crypto_sign_seed_keypair(pk_j, sk_j, seed);
	memset(mesh_secret, 0x44, sizeof(mesh_secret));
	packet_key_derive(mesh_key, mesh_secret, 0);
}

static json_t *
pkt_j(uint8_t type, uint8_t flags, const uint8_t *sender, uint64_t seq,
    const uint8_t *pl, size_t len, const uint8_t *key)
{
	struct packet_hdr	h = { PACKET_VERSION, type, flags, 0, {0}, seq };
	uint8_t			buf[1024];
	ssize_t			n;

	memcpy(h.sender, sender, 8);
	if ((n = packet_encode(buf, sizeof(buf), &h, pl, len, key)) < 0)
		abort();
	/* seq as a decimal string: JSON readers hold 53 bits */
	return json_pack("{s:i s:o s:o s:o s:o}", "type", type, "sender",
	    hexj(sender, 8), "seq", json_sprintf("%llu",
	    (unsigned long long)seq), "payload", hexj(pl, len),
	    "packet", hexj(buf, (size_t)n));
}

static json_t *
join_j(void)
{
	struct join_hello	h;
	struct join_welcome	w;
	struct join_refuse	rf;
	uint8_t			secret[32], key[32], buf[512], opened[32];
	char			session[33];
	int			n, m;

	memset(secret, 0x33, sizeof(secret));
	join_key(key, secret);
	join_session(session, secret);
	memset(&h, 0, sizeof(h));
	join_txid(h.txid, secret, ID_J);
	memcpy(h.pk, pk_j, 32);
	strlcpy(h.name, "browser", sizeof(h.name));
	join_hello_sign(&h, ID_J, sk_j);
	n = join_hello_encode(buf, sizeof(buf), &h);

	memset(&w, 0, sizeof(w));
	memcpy(w.txid, h.txid, JOIN_TXID_LEN);
	memset(w.mesh_id, 0x11, 16);
	strlcpy(w.mesh_name, "Home Mesh", sizeof(w.mesh_name));
	if (join_welcome_seal(&w, ID_J, pk_j, mesh_secret, sk_a) != 0 ||
	    join_welcome_open(&w, ID_J, pk_j, sk_j, pk_a, opened) != 0 ||
	    memcmp(opened, mesh_secret, 32) != 0)
		abort();
	m = join_welcome_encode(buf + 256, 256, &w);
	memcpy(rf.txid, h.txid, JOIN_TXID_LEN);
	rf.reason = JOIN_R_USED;
	join_refuse_encode(buf + 200, 50, &rf);
	return json_pack("{s:o s:o s:o s:s s:o s:o s:o s:o s:o s:o s:o s:o}",
	    "secret", hexj(secret, 32), "joiner_id", hexj(ID_J, 8),
	    "joiner_seed", hexj((const uint8_t *)"\2\2\2\2\2\2\2\2\2\2\2\2\2\2"
	    "\2\2\2\2\2\2\2\2\2\2\2\2\2\2\2\2\2\2", 32),
	    "session", session, "key", hexj(key, 32), "txid",
	    hexj(h.txid, 12), "hello", pkt_j(PACKET_JOIN_HELLO, 0, ID_J,
	    SEQ_START, buf, (size_t)n, key), "welcome", pkt_j(
	    PACKET_JOIN_WELCOME, 0, ID_A, SEQ_START + 1, buf + 256, (size_t)m,
	    key), "refuse", pkt_j(PACKET_JOIN_REFUSE, 0, ID_A, SEQ_START + 2,
	    buf + 200, JOIN_TXID_LEN + 1, key), "mesh_secret",
	    hexj(mesh_secret, 32), "inviter_pk", hexj(pk_a, 32),
	    "joiner_pk", hexj(pk_j, 32));
}

static json_t *
packets_j(void)
{
	struct packet_ping	pg = { 7, UINT64_C(1767225600123456) };
	struct join_announce	a;
	struct sockaddr_storage	cands[JOIN_MAX_CANDS];
	uint8_t			key7[32], pl[256];
	int			n;

	packet_key_derive(key7, mesh_secret, 7);
	packet_ping_encode(pl, sizeof(pl), &pg);
	memset(&a, 0, sizeof(a));
	memcpy(a.id, ID_J, 8);
	memcpy(a.pk, pk_j, 32);
	a.cands = cands;
	memset(cands, 0, sizeof(cands));
	cands[0].ss_family = AF_INET;
	((struct sockaddr_in *)&cands[0])->sin_port = htons(7777);
	((struct sockaddr_in *)&cands[0])->sin_addr.s_addr = htonl(0xc0000201);
	cands[1].ss_family = AF_INET6;
	((struct sockaddr_in6 *)&cands[1])->sin6_port = htons(7778);
	((struct sockaddr_in6 *)&cands[1])->sin6_addr.s6_addr[0] = 0x20;
	((struct sockaddr_in6 *)&cands[1])->sin6_addr.s6_addr[15] = 1;
	a.ncands = 2;
	strlcpy(a.name, "bob", sizeof(a.name));
	n = join_announce_encode(pl + 64, 128, &a);
	return json_pack("{s:o s:o s:o s:o s:o s:o s:o}",
	    "mesh_key", hexj(mesh_key, 32), "mesh_key_epoch7", hexj(key7, 32),
	    "keepalive", pkt_j(PACKET_KEEPALIVE, 0, ID_A, SEQ_START, NULL, 0,
	    mesh_key), "data", pkt_j(PACKET_DATA, 0, ID_A, SEQ_START + 1,
	    (const uint8_t *)"hello", 5, mesh_key), "ping", pkt_j(PACKET_PING,
	    0, ID_J, SEQ_START + 2, pl, PACKET_PING_LEN, mesh_key),
	    "announce", pkt_j(PACKET_ANNOUNCE, 0, ID_A, SEQ_START + 3, pl + 64,
	    (size_t)n, mesh_key), "pair_session_ids", json_pack("[o o]",
	    hexj(ID_A, 8), hexj(ID_J, 8)));
}

static json_t *
e2e_j(void)
{
	struct e2e_params	par;
	struct e2e_peer		*a = calloc(1, sizeof(*a));
	struct e2e_peer		*b = calloc(1, sizeof(*b));
	struct packet_hdr	h;
	uint8_t			init[E2E_MSG_LEN], resp[E2E_MSG_LEN], eph[32];
	uint8_t			pkt[256], t;
	const uint8_t		*pl;
	size_t			plen;
	ssize_t			n;
	json_t			*j;

	e2e_params_default(&par);
	if (a == NULL || b == NULL ||
	    e2e_peer_init(a, &par, ID_A, pk_a, sk_a, ID_J, pk_j) != 0 ||
	    e2e_peer_init(b, &par, ID_J, pk_j, sk_j, ID_A, pk_a) != 0 ||
	    e2e_start(a, 1000.0, init) != E2E_MSG_LEN)
		abort();
	memcpy(eph, a->eph_sk, 32);
	if (e2e_input(b, PACKET_E2E_INIT, init, sizeof(init), 1000.0, 0, resp,
	    &t) != E2E_OUT_REPLY || e2e_input(a, PACKET_E2E_RESP, resp,
	    sizeof(resp), 1000.1, 0, NULL, &t) != (E2E_OUT_NEWKEY |
	    E2E_OUT_CONFIRM))
		abort();
	memset(&h, 0, sizeof(h));
	h.type = PACKET_DATA;
	memcpy(h.sender, ID_A, 8);
	n = e2e_encrypt(a, pkt, sizeof(pkt), &h, (const uint8_t *)"e2e hello",
	    9);
	if (n < 0 || e2e_decrypt(b, pkt, (size_t)n, 1000.2, &h, &pl,
	    &plen) != 0 || plen != 9)
		abort();
	n = e2e_encrypt(a, pkt, sizeof(pkt), &h, (const uint8_t *)"e2e hello",
	    9);
	j = json_pack("{s:o s:o s:o s:o s:o s:i s:o s:o s:o}",
	    "initiator_id", hexj(ID_A, 8), "responder_id", hexj(ID_J, 8),
	    "init", hexj(init, sizeof(init)), "resp", hexj(resp, sizeof(resp)),
	    "initiator_eph_sk", hexj(eph, 32), "key_id", a->cur.id,
	    "key_i_to_r", hexj(a->cur.tx, 32), "key_r_to_i",
	    hexj(a->cur.rx, 32), "data", hexj(pkt, (size_t)n));
	e2e_peer_wipe(a);
	e2e_peer_wipe(b);
	free(a);
	free(b);
	return j;
}

/* ---- serve: the inviter as a line peer ---------------------------------- */

struct srv {
	uint8_t			 join_key[32];
	uint8_t			 peer_id[8];
	int			 have_peer;
	struct packet_replay	 replay;
	struct e2e_peer		 e2e;
	uint64_t		 seq;
	double			 now;
};

static void
srv_hex_out(const char *tag, const uint8_t *b, size_t n)
{
	char *s = malloc(2 * n + 1);

	if (s == NULL)
		abort();
	sodium_bin2hex(s, 2 * n + 1, b, n);
	printf("%s%s%s\n", tag, *tag ? " " : "", s);
	free(s);
}

/* a packet from the inviter under key (mesh or join) */
static void
srv_send(struct srv *sv, uint8_t type, const uint8_t *pl, size_t len,
    const uint8_t *key)
{
	struct packet_hdr	h = { PACKET_VERSION, type, 0, 0, {0}, 0 };
	uint8_t			buf[PACKET_OVERHEAD + 2048];
	ssize_t			n;

	memcpy(h.sender, ID_A, 8);
	h.seq = sv->seq++;
	if ((n = packet_encode(buf, sizeof(buf), &h, pl, len, key)) > 0)
		srv_hex_out("pkt", buf, (size_t)n);
}

static void
srv_send_session(struct srv *sv, uint8_t type, const uint8_t *pl, size_t len)
{
	struct packet_hdr	h;
	uint8_t			buf[PACKET_OVERHEAD + 2048];
	ssize_t			n;

	memset(&h, 0, sizeof(h));
	h.type = type;
	memcpy(h.sender, ID_A, 8);
	if ((n = e2e_encrypt(&sv->e2e, buf, sizeof(buf), &h, pl, len)) > 0)
		srv_hex_out("pkt", buf, (size_t)n);
	else
		printf("drop nokey\n");
}

static void
srv_hello(struct srv *sv, uint8_t *buf, size_t len)
{
	struct packet_hdr	h;
	struct join_hello	hello;
	struct join_welcome	w;
	const uint8_t		*pl;
	size_t			plen;
	uint8_t			out[512], txid[JOIN_TXID_LEN], secret[32];
	struct e2e_params	par;
	int			n;

	memset(secret, 0x33, sizeof(secret));
	if (packet_decode(buf, len, sv->join_key, &h, &pl, &plen) != 0) {
		printf("drop auth\n");
		return;
	}
	join_txid(txid, secret, h.sender);
	if (join_hello_decode(pl, plen, &hello) != 0 ||
	    join_hello_verify(&hello, h.sender) != 0 ||
	    memcmp(txid, hello.txid, JOIN_TXID_LEN) != 0) {
		printf("drop hello\n");
		return;
	}
	srv_hex_out("got 9", pl, plen);
	memset(&w, 0, sizeof(w));
	memcpy(w.txid, hello.txid, JOIN_TXID_LEN);
	memset(w.mesh_id, 0x11, 16);
	strlcpy(w.mesh_name, "Home Mesh", sizeof(w.mesh_name));
	if (join_welcome_seal(&w, h.sender, hello.pk, mesh_secret, sk_a) != 0 ||
	    (n = join_welcome_encode(out, sizeof(out), &w)) < 0) {
		printf("drop seal\n");
		return;
	}
	srv_send(sv, PACKET_JOIN_WELCOME, out, (size_t)n, sv->join_key);
	memcpy(sv->peer_id, h.sender, 8);
	sv->have_peer = 1;
	packet_replay_reset(&sv->replay);
	e2e_params_default(&par);
	e2e_peer_init(&sv->e2e, &par, ID_A, pk_a, sk_a, h.sender, hello.pk);
}

/* as punchd/input.c with e2e = yes: session packets, or mesh-key packets
 * of the types allowed under it */
static void
srv_packet(struct srv *sv, uint8_t *buf, size_t len)
{
	struct packet_hdr	h;
	const uint8_t		*pl;
	size_t			plen;
	uint8_t			out[E2E_MSG_LEN], t, ping[PACKET_PING_LEN];
	struct packet_ping	pg = { 0, 0 };
	int			r;

	if ((r = packet_peek(buf, len, &h)) != 0) {
		printf("drop %s\n", packet_strerror(r));
		return;
	}
	if (h.type == PACKET_JOIN_HELLO) {
		srv_hello(sv, buf, len);
		return;
	}
	if (!sv->have_peer || memcmp(h.sender, sv->peer_id, 8) != 0) {
		printf("drop unknown sender\n");
		return;
	}
	if (h.flags & PACKET_F_SESSION)
		r = e2e_decrypt(&sv->e2e, buf, len, sv->now, &h, &pl, &plen);
	else if ((r = packet_replay_check(&sv->replay, h.seq)) == 0 &&
	    (r = packet_decode(buf, len, mesh_key, &h, &pl, &plen)) == 0) {
		if (h.type == PACKET_DATA) {
			printf("drop downgrade\n");
			return;
		}
		r = packet_replay_check_and_update(&sv->replay, h.seq);
	}
	if (r != 0) {
		printf("drop %s\n", r == E2E_ERR_NOKEY ? "nokey" :
		    packet_strerror(r));
		return;
	}
	printf("got %d%s", h.type, plen ? " " : "\n");
	if (plen)
		srv_hex_out("", pl, plen);
	switch (h.type) {
	case PACKET_KEEPALIVE:
		srv_send(sv, PACKET_KEEPALIVE_ACK, NULL, 0, mesh_key);
		break;
	case PACKET_PING:
		if (h.flags & PACKET_F_SESSION)
			srv_send_session(sv, PACKET_PONG, pl, plen);
		else
			srv_send(sv, PACKET_PONG, pl, plen, mesh_key);
		break;
	case PACKET_DATA:
		srv_send_session(sv, PACKET_DATA, pl, plen);	/* echo */
		break;
	case PACKET_E2E_INIT:
	case PACKET_E2E_RESP:
		r = e2e_input(&sv->e2e, h.type, pl, plen, sv->now, 0, out, &t);
		if (r < 0) {
			printf("drop e2e %d\n", r);
			break;
		}
		if (r & E2E_OUT_REPLY)
			srv_send(sv, t, out, E2E_MSG_LEN, mesh_key);
		if (r & E2E_OUT_CONFIRM) {
			packet_ping_encode(ping, sizeof(ping), &pg);
			srv_send_session(sv, PACKET_PING, ping, sizeof(ping));
		}
		break;
	}
}

static int
serve(void)
{
	struct srv	*sv = calloc(1, sizeof(*sv));
	char		*line = NULL;
	size_t		 cap = 0, n;
	ssize_t		 len;
	uint8_t		 buf[PACKET_MAX_LEN], init[E2E_MSG_LEN], secret[32];

	if (sv == NULL)
		return 1;
	memset(secret, 0x33, sizeof(secret));
	join_key(sv->join_key, secret);
	sv->seq = SEQ_START;
	sv->now = 2000.0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((len = getline(&line, &cap, stdin)) > 0) {
		line[strcspn(line, "\r\n")] = '\0';
		sv->now += 0.01;
		if (strcmp(line, "init") == 0) {
			if (!sv->have_peer ||
			    e2e_start(&sv->e2e, sv->now, init) != E2E_MSG_LEN)
				printf("drop state\n");
			else
				srv_send(sv, PACKET_E2E_INIT, init,
				    sizeof(init), mesh_key);
		} else if (strncmp(line, "send ", 5) == 0) {
			if (sodium_hex2bin(buf, sizeof(buf), line + 5,
			    strlen(line + 5), NULL, &n, NULL) != 0)
				printf("drop hex\n");
			else
				srv_send_session(sv, PACKET_DATA, buf, n);
		} else if (sodium_hex2bin(buf, sizeof(buf), line, strlen(line),
		    NULL, &n, NULL) != 0)
			printf("drop hex\n");
		else
			srv_packet(sv, buf, n);
		printf(".\n");
	}
	free(line);
	if (sv->have_peer)
		e2e_peer_wipe(&sv->e2e);
	free(sv);
	return 0;
}

int
main(int argc, char *argv[])
{
	json_t	*root;

	keys_init();
	if (argc == 2 && strcmp(argv[1], "serve") == 0)
		return serve();
	if (argc != 1) {
		fprintf(stderr, "usage: vectors [serve]\n");
		return 2;
	}
	root = json_pack("{s:i s:o s:o s:o s:o s:o s:o}", "version", 1,
	    "keys", json_pack("{s:o s:o s:o s:o}", "a_id", hexj(ID_A, 8),
	    "a_pk", hexj(pk_a, 32), "j_id", hexj(ID_J, 8), "j_pk",
	    hexj(pk_j, 32)), "invites", invites_j(), "join", join_j(),
	    "packets", packets_j(), "e2e", e2e_j(),
	    "serve", json_pack("{s:o s:o s:o}", "inviter_id", hexj(ID_A, 8),
	    "inviter_pk", hexj(pk_a, 32), "mesh_secret",
	    hexj(mesh_secret, 32)));
	if (root == NULL || json_dumpf(root, stdout, JSON_INDENT(1) |
	    JSON_SORT_KEYS) != 0)
		return 1;
	putchar('\n');
	json_decref(root);
	return 0;
}
