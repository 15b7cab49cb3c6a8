/*
 * Punch packet codec (proto/packet.h). The first byte picks what the rest
 * of the input is:
 *   0: a datagram off the wire: packet_peek, packet_decode with a fixed
 *      key (a stranger cannot forge the tag, so this covers the checks
 *      before the crypto), and the typed payload decoders on the raw bytes;
 *   1: header fields + plaintext: packet_encode then packet_decode must
 *      give them back, a flipped bit must fail authentication, and the
 *      decrypted payload goes through the typed decoders;
 *   2: a sequence of sequence numbers for the replay window, checked
 *      against a plain model (exact inside PACKET_REPLAY_WINDOW).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>

#include "proto/wire.h"
#include "proto/packet.h"

static const uint8_t key[PACKET_KEY_LEN] = {
	0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	0x13, 0x37, 0x13, 0x37, 0x13, 0x37, 0x13, 0x37,
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
};

static uint8_t	pkt[PACKET_MAX_LEN + 64];

static void
payloads(uint8_t type, const uint8_t *p, size_t n)
{
	struct packet_punch	 pu;
	struct packet_ping	 pi;
	struct sockaddr_storage	 ss;
	uint8_t			 buf[PACKET_PUNCH_LEN];

	switch (type) {
	case PACKET_PUNCH:
	case PACKET_PUNCH_ACK:
	case PACKET_PUNCH_CONFIRM:
		if (packet_punch_decode(p, n, &pu) != 0)
			break;
		(void)packet_punch_get_addr(&pu, &ss);
		/* what decoded encodes back to the same 64 bytes */
		if (packet_punch_encode(buf, sizeof(buf), &pu) !=
		    PACKET_PUNCH_LEN || memcmp(buf, p, PACKET_PUNCH_LEN) != 0)
			abort();
		break;
	case PACKET_PING:
	case PACKET_PONG:
		if (packet_ping_decode(p, n, &pi) == 0 &&
		    packet_ping_encode(buf, sizeof(buf), &pi) != PACKET_PING_LEN)
			abort();
		break;
	}
}

static void
wire(const uint8_t *data, size_t size)
{
	struct packet_hdr	 h, h2;
	const uint8_t		*pl;
	size_t			 plen;
	uint8_t			 t;

	(void)packet_is_ours(data, size);
	if (size > sizeof(pkt))
		return;
	memcpy(pkt, data, size);
	if (packet_peek(pkt, size, &h) == 0) {
		if (packet_decode(pkt, size, key, &h2, &pl, &plen) == 0)
			payloads(h2.type, pl, plen);
	} else
		(void)packet_decode(pkt, size, key, &h2, &pl, &plen);
	for (t = PACKET_PUNCH; t <= PACKET_TYPE_MAX; t++)
		payloads(t, data, size);
}

static void
roundtrip(const uint8_t *data, size_t size)
{
	struct packet_hdr	 h, h2;
	const uint8_t		*pl;
	size_t			 plen, flip;
	ssize_t			 n;

	if (size < 20)
		return;
	memset(&h, 0, sizeof(h));
	h.version = PACKET_VERSION;
	h.type = (uint8_t)(1 + data[0] % PACKET_TYPE_MAX);
	h.flags = data[1];
	h.key_id = data[2];
	memcpy(h.sender, data + 3, PACKET_NODEID_LEN);
	h.seq = wire_get64(data + 11);
	flip = data[19];
	data += 20;
	size -= 20;
	if (size > PACKET_MAX_PAYLOAD)
		return;
	n = packet_encode(pkt, sizeof(pkt), &h, data, size, key);
	if (n != (ssize_t)(size + PACKET_OVERHEAD))
		abort();
	if (packet_decode(pkt, (size_t)n, key, &h2, &pl, &plen) != 0)
		abort();
	if (h2.version != h.version || h2.type != h.type ||
	    h2.flags != h.flags || h2.key_id != h.key_id ||
	    memcmp(h2.sender, h.sender, PACKET_NODEID_LEN) != 0 ||
	    h2.seq != h.seq || plen != size ||
	    memcmp(pl, data, size) != 0)
		abort();
	payloads(h2.type, pl, plen);
	/* any flipped bit (header, payload or tag) fails, or the header
	 * check refuses it first */
	packet_encode(pkt, sizeof(pkt), &h, data, size, key);
	pkt[(flip * 7) % (size_t)n] ^= (uint8_t)(1u << (flip % 8));
	if (packet_decode(pkt, (size_t)n, key, &h2, &pl, &plen) == 0)
		abort();
}

#define MODEL_MAX	4096

static void
replay(const uint8_t *data, size_t size)
{
	static uint64_t		seen[MODEL_MAX];
	struct packet_replay	w;
	uint64_t		top = 0, seq;
	size_t			nseen = 0, i;
	int			any = 0, want, r, found;
	int16_t			d;

	if (size < 8)
		return;
	packet_replay_reset(&w);
	seq = wire_get64(data);
	data += 8;
	size -= 8;
	for (;;) {
		/* the model */
		found = 0;
		for (i = 0; i < nseen && !found; i++)
			found = seen[i] == seq;
		if (!any || seq > top)
			want = 0;
		else if (top - seq >= PACKET_REPLAY_WINDOW)
			want = PACKET_ERR_OLD;
		else
			want = found ? PACKET_ERR_REPLAY : 0;
		r = packet_replay_check(&w, seq);
		if (r != want)
			abort();
		r = packet_replay_check_and_update(&w, seq);
		if (r != want)
			abort();
		if (r == 0) {
			if (found || nseen == MODEL_MAX)
				abort();
			seen[nseen++] = seq;
			if (!any || seq > top)
				top = seq;
			any = 1;
		}
		if (size < 2)
			break;
		d = (int16_t)(data[0] << 8 | data[1]);
		data += 2;
		size -= 2;
		if (d == INT16_MIN)
			seq = top + 1000000;	/* slide far */
		else
			seq = top + (uint64_t)(int64_t)d;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		wire(data + 1, size - 1);
		break;
	case 1:
		roundtrip(data + 1, size - 1);
		break;
	default:
		replay(data + 1, size - 1);
		break;
	}
	return 0;
}
