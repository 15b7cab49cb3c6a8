/*
 * Writes the generated part of the seed corpora (fuzz/corpus/NAME/) with
 * the project's own encoders, so seeds are valid inputs of every parser
 * (e2e: handshake messages and session packets of the harness's fixed
 * world, fuzz/e2e_fixture.h).
 * The RFC 5769 vectors come from tests/unit/check_stun.c (docs/fuzzing.md).
 *   gen_corpus DIR                  write DIR/NAME/...
 *   gen_corpus DIR HOST PORT        also send Binding requests to a running
 *                                   stund and keep requests and answers
 * Built by hand (docs/fuzzing.md), against the gcc libatmo.a.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/time.h>

#include <msgpack.h>

#include "common/mpack.h"
#include "fuzz/e2e_fixture.h"
#include "proto/invite.h"
#include "proto/methods.h"
#include "proto/packet.h"
#include "proto/relaymsg.h"
#include "proto/stun.h"
#include "proto/token.h"

static const char *dir;

static void
put(const char *name, const char *file, const void *p, size_t n)
{
	char	 path[512];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s/%s", dir, name, file);
	if ((f = fopen(path, "wb")) == NULL || fwrite(p, 1, n, f) != n ||
	    fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* one mode/prefix byte (or two) then the payload */
static void
put2(const char *name, const char *file, const uint8_t *pre, size_t npre,
    const void *p, size_t n)
{
	uint8_t buf[70000];

	memcpy(buf, pre, npre);
	memcpy(buf + npre, p, n);
	put(name, file, buf, npre + n);
}

/* ---- STUN ---------------------------------------------------------------- */

static const uint8_t tid[STUN_TID_LEN] = "fuzzseedtid!";

static int
stun_req(uint8_t *buf, size_t cap, int kind)
{
	struct stun_writer	w;
	uint16_t		unk[2] = { 0x0024, 0x7777 };

	stun_init(&w, buf, cap, STUN_METHOD_BINDING, STUN_CLASS_REQUEST, tid);
	switch (kind) {
	case 1:
		stun_add_change_request(&w, STUN_CHANGE_IP | STUN_CHANGE_PORT);
		break;
	case 2:
		stun_add_response_port(&w, 40001);
		stun_add_padding(&w, 64);
		break;
	case 3:
		stun_add_raw(&w, 0x7777, "xyz", 3);
		stun_add_software(&w, "seed client");
		break;
	case 4:
		stun_add_raw(&w, STUN_ATTR_USERNAME, "evtj:h6vY", 9);
		stun_add_integrity(&w, (const uint8_t *)"VOkJxbRl1RmTxUk/WvJxBt",
		    22);
		break;
	case 5:
		stun_add_unknown(&w, unk, 2);
		break;
	}
	stun_add_fingerprint(&w);
	return stun_finish(&w);
}

static void
gen_stun(void)
{
	struct sockaddr_in	s4;
	struct sockaddr_in6	s6;
	struct stun_writer	w;
	uint8_t			buf[1500];
	uint8_t			mode;
	char			file[64];
	int			k, n;

	for (k = 0; k <= 5; k++) {
		n = stun_req(buf, sizeof(buf), k);
		snprintf(file, sizeof(file), "req-%d", k);
		put("stun", file, buf, (size_t)n);
		mode = (uint8_t)(k == 1 ? 2 : k == 2 ? 6 : k == 3 ? 1 : 0);
		put2("stun_server", file, &mode, 1, buf, (size_t)n);
	}
	memset(&s4, 0, sizeof(s4));
	s4.sin_family = AF_INET;
	s4.sin_port = htons(32853);
	inet_pton(AF_INET, "192.0.2.1", &s4.sin_addr);
	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	s6.sin6_port = htons(32853);
	inet_pton(AF_INET6, "2001:db8:1234:5678:11:2233:4455:6677",
	    &s6.sin6_addr);
	stun_init(&w, buf, sizeof(buf), STUN_METHOD_BINDING, STUN_CLASS_SUCCESS,
	    tid);
	stun_add_xor_addr(&w, STUN_ATTR_XOR_MAPPED_ADDRESS,
	    (struct sockaddr *)&s4);
	stun_add_addr(&w, STUN_ATTR_RESPONSE_ORIGIN, (struct sockaddr *)&s4);
	stun_add_addr(&w, STUN_ATTR_OTHER_ADDRESS, (struct sockaddr *)&s6);
	stun_add_addr(&w, STUN_ATTR_MAPPED_ADDRESS, (struct sockaddr *)&s6);
	stun_add_software(&w, "seed server");
	stun_add_fingerprint(&w);
	put("stun", "resp-5780", buf, (size_t)stun_finish(&w));
	stun_init(&w, buf, sizeof(buf), STUN_METHOD_BINDING, STUN_CLASS_ERROR,
	    tid);
	stun_add_error(&w, 420, "Unknown Attribute");
	stun_add_unknown(&w, (const uint16_t[]){ 0x0003, 0x7777 }, 2);
	stun_add_raw(&w, STUN_ATTR_REALM, "example.org", 11);
	stun_add_raw(&w, STUN_ATTR_NONCE, "f//499k954d6OL34oL9FSTvy64sA", 28);
	stun_add_fingerprint(&w);
	put("stun", "resp-420", buf, (size_t)stun_finish(&w));
}

/* requests to a live stund, its answers kept as STUN seeds */
static void
capture(const char *host, int port)
{
	struct sockaddr_in	sa;
	struct timeval		tv = { 1, 0 };
	uint8_t			buf[1500], ans[1500];
	char			file[64];
	ssize_t			r;
	int			fd, k, n;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, host, &sa.sin_addr);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (k = 0; k <= 5; k++) {
		n = stun_req(buf, sizeof(buf), k);
		if (sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&sa,
		    sizeof(sa)) != n)
			continue;
		if ((r = recv(fd, ans, sizeof(ans), 0)) <= 0) {
			fprintf(stderr, "capture: request %d: no answer\n", k);
			continue;
		}
		snprintf(file, sizeof(file), "stund-answer-%d", k);
		put("stun", file, ans, (size_t)r);
		printf("captured %s (%zd bytes)\n", file, r);
	}
	close(fd);
}

/* ---- punch packets --------------------------------------------------------- */

static const uint8_t pkey[PACKET_KEY_LEN] = {
	0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	0x13, 0x37, 0x13, 0x37, 0x13, 0x37, 0x13, 0x37,
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
};

static void
gen_packet(void)
{
	struct packet_hdr	h;
	struct packet_punch	pu;
	struct packet_ping	pi = { 7, 123456789 };
	uint8_t			pl[256], pkt[512], rt[600], m;
	char			file[64];
	int			t, n;
	ssize_t			len;

	memset(&pu, 0, sizeof(pu));
	memcpy(pu.txid, "punchtxid123", PACKET_TXID_LEN);
	pu.local_cand = 1;
	pu.remote_cand = 2;
	pu.ts = 1000000;
	pu.pflags = PACKET_PF_CONTROLLING;
	pu.family = PACKET_AF_INET;
	pu.port = 7777;
	memcpy(pu.addr, "\xc0\x00\x02\x01", 4);
	for (t = PACKET_PUNCH; t <= PACKET_TYPE_MAX; t++) {
		memset(&h, 0, sizeof(h));
		h.version = PACKET_VERSION;
		h.type = (uint8_t)t;
		h.key_id = 1;
		memcpy(h.sender, "node0001", PACKET_NODEID_LEN);
		h.seq = packet_seq_start(1767225600) + (uint64_t)t;
		switch (t) {
		case PACKET_PUNCH: case PACKET_PUNCH_ACK:
		case PACKET_PUNCH_CONFIRM:
			n = packet_punch_encode(pl, sizeof(pl), &pu); break;
		case PACKET_PING: case PACKET_PONG:
			n = packet_ping_encode(pl, sizeof(pl), &pi); break;
		case PACKET_DATA:
			n = 11; memcpy(pl, "hello, mesh", 11); break;
		default:
			n = 0; break;
		}
		len = packet_encode(pkt, sizeof(pkt), &h, pl, (size_t)n, pkey);
		m = 0;
		snprintf(file, sizeof(file), "wire-%s", packet_type_str(h.type));
		put2("packet", file, &m, 1, pkt, (size_t)len);
		/* mode 1: type, flags, key id, sender, seq, flip, payload */
		rt[0] = 1;
		rt[1] = (uint8_t)(t - 1);
		rt[2] = 0;
		rt[3] = 1;
		memcpy(rt + 4, h.sender, 8);
		memcpy(rt + 12, pkt + 12, 8);
		rt[20] = (uint8_t)(t * 13);
		memcpy(rt + 21, pl, (size_t)n);
		snprintf(file, sizeof(file), "plain-%s", packet_type_str(h.type));
		put("packet", file, rt, 21 + (size_t)n);
	}
	/* mode 2: start seq, then deltas (int16, big-endian) */
	{
		static const uint8_t r1[] = { 2, 0, 0, 0, 1, 0, 0, 0, 0,
		    0x00, 0x01, 0x00, 0x01, 0xff, 0xff, 0x00, 0x00, 0x03, 0xc0,
		    0xfc, 0x40, 0xfc, 0x41, 0x80, 0x00, 0xfc, 0x3f, 0x00, 0x40 };
		static const uint8_t r2[] = { 2, 0xff, 0xff, 0xff, 0xff, 0xff,
		    0xff, 0xff, 0xf0, 0x00, 0x08, 0x00, 0x08, 0xff, 0xf0 };
		put("packet", "replay-1", r1, sizeof(r1));
		put("packet", "replay-wrap", r2, sizeof(r2));
	}
}

/* ---- IPC ------------------------------------------------------------------- */

static void
ipc_put(const char *file, const msgpack_sbuffer *sb)
{
	uint8_t pre[2] = { 0, 0 };

	pre[0] = 63;				/* one big read */
	put2("ipc", file, pre, 1, sb->data, sb->size);
	pre[0] = 3;				/* small reads */
	pre[1] = 0;
	{
		char f2[80];

		snprintf(f2, sizeof(f2), "%s-split", file);
		put2("ipc", f2, pre, 1, sb->data, sb->size);
	}
	pre[0] = !strcmp(file, "stun.discover") ? 1 : 0;	/* pass an fd */
	pre[1] = 5;
	put2("ipc_server", file, pre, 2, sb->data, sb->size);
}

static void
params_for(msgpack_packer *pk, const char *name)
{
	if (!strcmp(name, "events.subscribe")) {
		msgpack_pack_map(pk, 1);
		mpack_key(pk, "events");
		msgpack_pack_array(pk, 1);
		mpack_pack_str(pk, "nat.changed");
	} else if (!strcmp(name, "stun.discover")) {
		msgpack_pack_map(pk, 4);
		mpack_kv_bool(pk, "refresh", 1);
		mpack_kv_int(pk, "family", 4);
		mpack_kv_bool(pk, "socket", 1);
		mpack_kv_int(pk, "timeout_ms", 500);
	} else if (!strcmp(name, "stun.input")) {
		uint8_t	b[64];
		int	n = stun_req(b, sizeof(b), 0);

		msgpack_pack_map(pk, 2);
		mpack_kv_bin(pk, "data", b, (size_t)n);
		mpack_kv_str(pk, "from", "198.51.100.7:3478");
	} else if (!strcmp(name, "session.kick")) {
		msgpack_pack_map(pk, 1);
		mpack_kv_str(pk, "session", "fuzz-session");
	} else if (!strcmp(name, "peer.ping")) {
		msgpack_pack_map(pk, 2);
		mpack_kv_str(pk, "peer", "alice");
		mpack_kv_int(pk, "count", 3);
	} else if (!strcmp(name, "peer.send")) {
		msgpack_pack_map(pk, 2);
		mpack_kv_str(pk, "peer", "alice");
		mpack_kv_bin(pk, "data", "hello", 5);
	} else if (!strncmp(name, "peer.", 5) && strcmp(name, "peer.list")) {
		msgpack_pack_map(pk, 1);
		mpack_kv_str(pk, "peer", "alice");
	} else
		msgpack_pack_map(pk, 0);
}

static void
gen_ipc(void)
{
	msgpack_sbuffer	sb;
	msgpack_packer	pk;
	size_t		i;
	uint32_t	id = 1;

	for (i = 0; i < proto_nmethods; i++) {
		const struct proto_method *m = &proto_methods[i];

		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		if (m->kind == PROTO_CALL) {
			msgpack_pack_array(&pk, 4);
			msgpack_pack_uint32(&pk, id++);
			mpack_pack_str(&pk, m->name);
		} else {
			msgpack_pack_array(&pk, 3);
			msgpack_pack_uint32(&pk, 2);
			mpack_pack_str(&pk, m->name);
		}
		params_for(&pk, m->name);
		ipc_put(m->name, &sb);
		msgpack_sbuffer_destroy(&sb);
	}
	/* several messages in one stream, a response, and a nil params */
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 4);
	msgpack_pack_uint32(&pk, 0);
	msgpack_pack_uint32(&pk, 77);
	mpack_pack_str(&pk, "events.subscribe");
	msgpack_pack_nil(&pk);
	msgpack_pack_array(&pk, 4);
	msgpack_pack_uint32(&pk, 0);
	msgpack_pack_uint32(&pk, 78);
	mpack_pack_str(&pk, "nat.get");
	params_for(&pk, "nat.get");
	msgpack_pack_array(&pk, 4);
	msgpack_pack_uint32(&pk, 1);
	msgpack_pack_uint32(&pk, 79);
	msgpack_pack_map(&pk, 2);
	mpack_kv_str(&pk, "code", "bad_params");
	mpack_kv_str(&pk, "message", "x");
	msgpack_pack_nil(&pk);
	ipc_put("stream", &sb);
	msgpack_sbuffer_destroy(&sb);
	/* a header claiming 2^32 elements: the pre-scan's case */
	{
		static const uint8_t bomb[] = { 0x94, 0x00, 0x05, 0xa3, 'a',
		    '.', 'b', 0xdf, 0xff, 0xff, 0xff, 0xff };
		uint8_t pre[2] = { 0, 0 };

		put2("ipc", "bomb", pre, 1, bomb, sizeof(bomb));
		put2("ipc_server", "bomb", pre, 2, bomb, sizeof(bomb));
	}
}

/* ---- HTTP and WebSocket ------------------------------------------------------ */

static void
gen_http(void)
{
	char	tok[TOKEN_MAXLEN], req[2048];
	uint8_t	cut = 128;
	int	n;

	token_issue("fuzz-relay-secret-0123456789abcdef", 34, "fuzz-session",
	    1767229200, tok, sizeof(tok));
	n = snprintf(req, sizeof(req), "GET /v1/relay/fuzz-session?token=%s "
	    "HTTP/1.1\r\nHost: relay.example:8080\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="
	    "\r\nSec-WebSocket-Version: 13\r\n\r\n", tok);
	put2("http", "upgrade-query-token", &cut, 1, req, (size_t)n);
	n = snprintf(req, sizeof(req), "GET /v1/relay/abc.DEF_123-x HTTP/1.1"
	    "\r\nHost: [2001:db8::1]:443\r\nUpgrade: WebSocket, h2c\r\n"
	    "Connection: keep-alive, Upgrade\r\nAuthorization: Bearer %s\r\n"
	    "Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEC==\r\n"
	    "Sec-WebSocket-Version: 13\r\nOrigin: http://x\r\n\r\n", tok);
	put2("http", "upgrade-bearer", &cut, 1, req, (size_t)n);
	n = snprintf(req, sizeof(req), "GET /healthz HTTP/1.1\r\n"
	    "Host: r\r\n\r\n");
	put2("http", "health", &cut, 1, req, (size_t)n);
	n = snprintf(req, sizeof(req), "HEAD /metrics HTTP/1.1\r\nHost: r\r\n"
	    "Accept: */*\r\n\r\nextra");
	put2("http", "metrics-head", &cut, 1, req, (size_t)n);
	n = snprintf(req, sizeof(req), "POST /v1/relay/s HTTP/1.0\r\n"
	    "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc");
	put2("http", "post-bad", &cut, 1, req, (size_t)n);
	cut = 40;
	n = snprintf(req, sizeof(req), "GET /v1/relay/s HTTP/1.1\r\nHost: a\r\n"
	    " folded: x\r\nHost: b\r\nSec-WebSocket-Key: short\r\n"
	    "Sec-WebSocket-Version: 8\r\n\r\n");
	put2("http", "bad-headers", &cut, 1, req, (size_t)n);
}

/* A masked client frame (RFC 6455 section 5.2). */
static size_t
ws_frame(uint8_t *out, int fin, int op, const void *p, size_t n)
{
	static const uint8_t mask[4] = { 0x37, 0xfa, 0x21, 0x3d };
	size_t	 h = 0, i;

	out[h++] = (uint8_t)((fin ? 0x80 : 0) | op);
	if (n < 126)
		out[h++] = (uint8_t)(0x80 | n);
	else {
		out[h++] = 0x80 | 126;
		out[h++] = (uint8_t)(n >> 8);
		out[h++] = (uint8_t)n;
	}
	memcpy(out + h, mask, 4);
	h += 4;
	for (i = 0; i < n; i++)
		out[h + i] = ((const uint8_t *)p)[i] ^ mask[i % 4];
	return h + n;
}

static void
gen_ws(void)
{
	struct relaymsg_signal	s;
	uint8_t			b[4096], sig[1024], big[300];
	uint8_t			pre[2];
	size_t			n = 0, sn;

	memset(&s, 0, sizeof(s));
	strcpy(s.type, "candidates");
	strcpy(s.from, "node0001");
	s.ts = 1767225600000ull;
	s.ncands = 2;
	strcpy(s.cands[0].kind, "host");
	strcpy(s.cands[0].addr, "192.168.1.10:7777");
	s.cands[0].prio = 100;
	strcpy(s.cands[1].kind, "srflx");
	strcpy(s.cands[1].addr, "[2001:db8::1]:7777");
	s.cands[1].prio = 50;
	sn = relaymsg_signal_write(sig, sizeof(sig), &s);
	memset(big, 'A', sizeof(big));

	pre[0] = 0;
	pre[1] = 255;
	n = ws_frame(b, 1, 0x2, "\x61\x08punch", 7);
	put2("ws", "binary", pre, 2, b, n);
	n = ws_frame(b, 1, 0x1, "hello", 5);
	put2("ws", "text", pre, 2, b, n);
	n = ws_frame(b, 1, 0x9, "ping", 4);
	put2("ws", "ping", pre, 2, b, n);
	n = ws_frame(b, 1, 0xA, "", 0);
	put2("ws", "pong", pre, 2, b, n);
	n = ws_frame(b, 1, 0x8, "\x03\xe8" "bye", 5);
	put2("ws", "close", pre, 2, b, n);
	n = ws_frame(b, 1, 0x2, sig, sn);
	put2("ws", "signal", pre, 2, b, n);
	n = ws_frame(b, 1, 0x2, "\xf0\x01\x02\x00\x00\x00\x00\x07\x00\x02\x00"
	    "\x08", 12);
	put2("ws", "forged-control", pre, 2, b, n);
	/* fragmented text with a ping in the middle, then close */
	n = ws_frame(b, 0, 0x1, "frag", 4);
	n += ws_frame(b + n, 1, 0x9, "", 0);
	n += ws_frame(b + n, 0, 0x0, "ment", 4);
	n += ws_frame(b + n, 1, 0x0, "ed", 2);
	n += ws_frame(b + n, 1, 0x8, "\x03\xe8", 2);
	pre[1] = 3;
	put2("ws", "fragmented", pre, 2, b, n);
	/* over max_frame (mode 1), and a slow receiver (modes 2, 8) */
	n = ws_frame(b, 1, 0x2, big, sizeof(big));
	n += ws_frame(b + n, 1, 0x2, big, sizeof(big));
	n += ws_frame(b + n, 1, 0x2, big, sizeof(big));
	pre[0] = 1 | 2 | 8 | 16;
	pre[1] = 100;
	put2("ws", "big", pre, 2, b, n);
	pre[0] = 2 | 8 | 16;
	put2("ws", "slow-reader", pre, 2, b, n);
	/* unmasked frame: a protocol error */
	pre[0] = 4 | 32;
	put2("ws", "unmasked", pre, 2, "\x82\x03" "abc", 5);
}

/* ---- invites, relay messages, tokens, config ------------------------------------ */

static void
gen_invite(void)
{
	struct invite	inv;
	char		code[INVITE_CODE_MAX], uri[INVITE_URI_MAX];
	int		n;

	invite_init(&inv);
	memcpy(inv.mesh_id, "0123456789abcdef", 16);
	strcpy(inv.mesh_name, "home");
	memcpy(inv.inviter_id, "node0001", 8);
	memset(inv.inviter_pk, 0x11, sizeof(inv.inviter_pk));
	memset(inv.secret, 0x22, sizeof(inv.secret));
	inv.expires = 1893456000;
	inv.max_uses = 1;
	n = invite_encode(&inv, code, sizeof(code));
	put("invite", "code-minimal", code, (size_t)n);
	inv.ep_local.family = INVITE_AF_INET;
	inv.ep_local.port = 7777;
	memcpy(inv.ep_local.addr, "\xc0\xa8\x01\x0a", 4);
	inv.ep_public.family = INVITE_AF_INET6;
	inv.ep_public.port = 40000;
	memcpy(inv.ep_public.addr,
	    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	strcpy(inv.ep_relay, "wss://relay.example:443/v1/relay");
	inv.local_ip = inv.ep_local;
	inv.local_ip.port = 0;
	inv.behind_nat = 1;
	strcpy(inv.nat_type, "port-restricted");
	inv.max_uses = 5;
	n = invite_encode(&inv, code, sizeof(code));
	put("invite", "code-full", code, (size_t)n);
	n = invite_uri_format(&inv, uri, sizeof(uri));
	put("invite", "uri-full", uri, (size_t)n);
	n = snprintf(uri, sizeof(uri), "atmosphere://join?token=%s&mesh=home"
	    "&endpoint=wss%%3A%%2F%%2Frelay.example%%2Fv1%%2Frelay", code);
	put("invite", "uri-legacy", uri, (size_t)n);
	n = snprintf(uri, sizeof(uri), "atmosphere://join?token=%s&endpoints="
	    "{\"local\":\"udp://10.0.0.2:7777\",\"relay\":\"ws://r:8080\"}",
	    code);
	put("invite", "uri-raw-json", uri, (size_t)n);
	put("invite", "addr-v6", "udp://[2001:db8::1]:7777", 24);
	/* both families: tags 9 and 11 beside IPv4 tags 2 and 3 */
	inv.ep_local6 = inv.ep_public;
	inv.ep_public6 = inv.ep_public;
	inv.ep_public.family = INVITE_AF_INET;
	memcpy(inv.ep_public.addr, "\xcb\x00\x71\x0b", 4);
	n = invite_encode(&inv, code, sizeof(code));
	put("invite", "code-dual-stack", code, (size_t)n);
	n = invite_uri_format(&inv, uri, sizeof(uri));
	put("invite", "uri-dual-stack", uri, (size_t)n);
	invite_clear(&inv);
}

static void
gen_relaymsg(void)
{
	struct relaymsg_control	c = { RELAYMSG_WELCOME, 0, 7, 2, 8 };
	struct relaymsg_signal	s;
	uint8_t			b[1024];
	size_t			n;

	n = relaymsg_control_write(b, sizeof(b), &c);
	put("relaymsg", "control-welcome", b, n);
	c.event = RELAYMSG_LEFT;
	n = relaymsg_control_write(b, sizeof(b), &c);
	b[n++] = 0x99;			/* trailing bytes are allowed */
	put("relaymsg", "control-left-trailing", b, n);
	memset(&s, 0, sizeof(s));
	strcpy(s.type, "candidates");
	strcpy(s.from, "node0001");
	s.ts = 1767225600000ull;
	s.ncands = 3;
	strcpy(s.cands[0].kind, "host");
	strcpy(s.cands[0].addr, "192.168.1.10:7777");
	strcpy(s.cands[1].kind, "srflx");
	strcpy(s.cands[1].addr, "198.51.100.7:40000");
	strcpy(s.cands[2].kind, "relay");
	strcpy(s.cands[2].addr, "[2001:db8::1]:7777");
	s.cands[0].prio = 3;
	s.cands[1].prio = 2;
	s.cands[2].prio = 1;
	n = relaymsg_signal_write(b, sizeof(b), &s);
	put("relaymsg", "signal-candidates", b, n);
	memset(&s, 0, sizeof(s));
	strcpy(s.type, "punch");
	strcpy(s.from, "node0002");
	s.ts = 1767225600500ull;
	n = relaymsg_signal_write(b, sizeof(b), &s);
	put("relaymsg", "signal-punch", b, n);
	put("relaymsg", "data", "\x61\x08\x00\x01node0001", 12);
}

static void
gen_token(void)
{
	const char	*sec = "fuzz-relay-secret-0123456789abcdef";
	char		 tok[TOKEN_MAXLEN], b[256];
	int		 n;

	token_issue(sec, strlen(sec), "fuzz-session", 1767229200, tok,
	    sizeof(tok));
	n = snprintf(b, sizeof(b), "fuzz-session\n%s", tok);
	put("token", "valid", b, (size_t)n);
	token_issue(sec, strlen(sec), "s", 1, tok, sizeof(tok));
	n = snprintf(b, sizeof(b), "s\n%s", tok);
	put("token", "expired", b, (size_t)n);
	put("token", "malformed", "abc\nv1.0123.xyz", 15);
	/* v2 access tokens: any session, a prefix, one of key 7 (fuzz_token
	 * holds keys 0 and 7), and a shape with an unknown key id */
	token_access_issue(sec, strlen(sec), 0, NULL, 1767229200, tok,
	    sizeof(tok));
	n = snprintf(b, sizeof(b), "c90dfc52c8944dbb6e2ae4381d2a5c83\n%s", tok);
	put("token", "access-any", b, (size_t)n);
	token_access_issue(sec, strlen(sec), 0, "tenant-a.", 1767229200, tok,
	    sizeof(tok));
	n = snprintf(b, sizeof(b), "tenant-a.s1\n%s", tok);
	put("token", "access-prefix", b, (size_t)n);
	token_access_issue("fuzz-relay-second-key-0123456789ab", 34, 7, NULL,
	    1767229200, tok, sizeof(tok));
	n = snprintf(b, sizeof(b), "s\n%s", tok);
	put("token", "access-key7", b, (size_t)n);
	put("token", "access-unknown-key", "s\nv2.9.1.a."
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 56);
}

static void
gen_config(void)
{
	static const char full[] =
	    "; /etc/atmosphere/atmosphere.conf\n"
	    "[stund]\n"
	    "servers = stun.l.google.com:19302, [2001:db8::1]:3478\n"
	    "timeout = 3s\nrto = 500ms\ncache_ttl = 1m\nrefresh = 0\n"
	    "nat_refresh = 1h\nnat_timeout = 1500ms\n"
	    "server = yes\nlisten = 203.0.113.10:3478\n"
	    "alt_ip = 203.0.113.11\nalt_port = 3479\n"
	    "software = atmosphere stund\nrate_limit = 20\n"
	    "socket = /run/atmosphere/stund.sock\n\n"
	    "[punchd]\nport = 7777\n\n[relayd]\nport = 8080\nopen = no\n";
	static const char bad[] =
	    "[stund]\ntimeout = 10 parsecs\nservr = x\n";
	static const char odd[] =
	    "\xef\xbb\xbf# BOM and comments\n[stund] ; trailing\n"
	    "  server=on  \nlisten=[::1]:3478\nalt_ip=::2\n[stund]\n"
	    "rate_limit=1000001\n[\nkey without section=1\n";

	put("config", "full.ini", full, sizeof(full) - 1);
	put("config", "bad.ini", bad, sizeof(bad) - 1);
	put("config", "odd.ini", odd, sizeof(odd) - 1);
	put("config", "override.txt", "stund.server=1\nstund.rto=1s\n"
	    "timeout=2m\nbogus\n", 47);
}

/* ---- e2e (fuzz/e2e_fixture.h: the harness's own world) ------------------ */

static void
e2e_put(const char *file, uint8_t mode, uint8_t state, uint8_t t,
    const void *p, size_t n)
{
	uint8_t	pre[3] = { mode, state, t };

	put2("e2e", file, pre, 3, p, n);
}

/* mode 4: fields the harness signs: [4][flags][time][key id][key][ts] */
static void
e2e_signed(const char *file, uint8_t flags, uint8_t t, uint8_t id,
    const uint8_t *key, const uint8_t *ts)
{
	uint8_t	b[4 + 32 + 8] = { 4, flags, t, id };

	memcpy(b + 4, key, 32);
	memcpy(b + 36, ts, 8);
	put("e2e", file, b, sizeof(b));
}

static void
gen_e2e(void)
{
	static struct fx f;
	static const uint8_t zero32[32], one32[32] = { 1 };
	uint8_t ts[8];
	/* scripts: where they start, then (op, arg) steps (fuzz_e2e.c):
	 * 0/1 start A/B, 2 deliver, 3 lose, 4 repeat, 5 late, 6 time
	 * arg*50ms + ticks, 7/8 DATA from A/B, 9 corrupt, 10 restart,
	 * 11 reflect */
	static const uint8_t handshake[] = { 3, 0,
	    0, 0, 2, 0, 2, 0, 2, 0, 2, 0, 7, 0, 2, 0, 8, 0, 2, 0 };
	static const uint8_t lost_first[] = { 3, 1,
	    3, 0, 8, 0, 6, 20, 2, 0, 2, 0, 8, 0, 2, 0, 2, 0,
	    7, 0, 8, 0, 2, 0, 2, 0 };
	static const uint8_t lost_rekey[] = { 3, 2,
	    3, 0, 8, 0, 2, 0, 6, 20, 2, 0, 8, 0, 2, 0, 2, 0, 3, 0,
	    6, 40, 8, 0, 2, 0, 2, 0, 2, 0, 7, 0, 8, 0, 2, 0, 2, 0 };
	static const uint8_t crossing[] = { 3, 3,
	    6, 200, 5, 0, 2, 0, 2, 0, 2, 0, 2, 0, 2, 0, 7, 0, 8, 0, 2, 0,
	    2, 0 };
	static const uint8_t restart[] = { 3, 3,
	    10, 1, 7, 0, 2, 0, 6, 10, 1, 0, 2, 0, 2, 0, 2, 0, 2, 0, 8, 0,
	    2, 0 };
	static const uint8_t mangle[] = { 3, 3,
	    7, 0, 4, 0, 9, 77, 2, 0, 2, 0, 8, 0, 11, 0, 6, 255, 6, 255,
	    6, 255, 0, 0, 4, 0, 2, 0, 2, 0, 2, 0 };

	fx_rng_install();
	fx_build(&f);
	e2e_put("init-fresh", 0, 0, 0, f.init0, E2E_MSG_LEN);
	e2e_put("init-learn", 0, 1 | 8, 0, f.init0, E2E_MSG_LEN);
	e2e_put("init-nolearn", 0, 1, 0, f.init0, E2E_MSG_LEN);
	e2e_put("init-resend", 0, 2, 0, f.init0, E2E_MSG_LEN);
	e2e_put("init-rekey", 0, 3, 100, f.init1, E2E_MSG_LEN);
	e2e_put("init-stale", 0, 3, 100, f.init0, E2E_MSG_LEN);
	e2e_put("init-crossing", 0, 4, 0, f.init0, E2E_MSG_LEN);
	e2e_put("init-ignored", 0, 5, 0, f.init_b, E2E_MSG_LEN);
	e2e_put("init-from-b", 0, 6, 0, f.init_b, E2E_MSG_LEN);
	e2e_put("resp-first", 1, 0, 0, f.resp0, E2E_MSG_LEN);
	e2e_put("resp-rekey", 1, 1, 100, f.resp1, E2E_MSG_LEN);
	e2e_put("resp-b", 1, 2, 0, f.resp_b, E2E_MSG_LEN);
	e2e_put("resp-stale", 1, 1, 100, f.resp0, E2E_MSG_LEN);
	e2e_put("pkt-first-confirm", 2, 0, 0, f.pkt_a1.b, f.pkt_a1.len);
	e2e_put("pkt-rekey-confirm", 2, 1, 100, f.pkt_a3.b, f.pkt_a3.len);
	e2e_put("pkt-old-key-grace", 2, 2, 101, f.pkt_b1r.b, f.pkt_b1r.len);
	e2e_put("pkt-old-key-late", 2, 2, 200, f.pkt_b1r.b, f.pkt_b1r.len);
	e2e_put("pkt-replayed", 2, 3, 0, f.pkt_a1.b, f.pkt_a1.len);
	e2e_put("pkt-reflected", 2, 3, 0, f.pkt_b1.b, f.pkt_b1.len);
	put("e2e", "script-handshake", handshake, sizeof(handshake));
	put("e2e", "script-lost-resp-first", lost_first, sizeof(lost_first));
	put("e2e", "script-lost-resp-rekey", lost_rekey, sizeof(lost_rekey));
	put("e2e", "script-crossing", crossing, sizeof(crossing));
	put("e2e", "script-restart", restart, sizeof(restart));
	put("e2e", "script-mangle", mangle, sizeof(mangle));
	e2e_signed("signed-init", 0, 0, f.init0[0], f.init0 + 2, f.init0 + 66);
	memcpy(ts, f.init1 + 66, 8);
	ts[7]++;
	e2e_signed("signed-init-rekey", 2, 100, 3, f.init1 + 2, ts);
	e2e_signed("signed-init-low-order", 0, 0, 1, zero32, f.init0 + 66);
	e2e_signed("signed-resp", 1, 0, 0, f.resp0 + 34, f.resp0 + 66);
	e2e_signed("signed-resp-low-order", 1, 0, 0, one32, f.resp0 + 66);
	e2e_signed("signed-resp-other-ts", 1 | 8, 0, 0, f.resp0 + 34, ts);
}

int
main(int argc, char **argv)
{
	if (argc != 2 && argc != 4) {
		fprintf(stderr, "usage: gen_corpus DIR [STUND-HOST PORT]\n");
		return 2;
	}
	dir = argv[1];
	if (argc == 4) {
		capture(argv[2], atoi(argv[3]));
		return 0;
	}
	gen_stun();
	gen_packet();
	gen_ipc();
	gen_http();
	gen_ws();
	gen_invite();
	gen_relaymsg();
	gen_token();
	gen_config();
	gen_e2e();	/* last: it replaces libsodium's random source */
	return 0;
}
