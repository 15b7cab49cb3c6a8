/*
 * Packets out: one packet to a peer under the mesh key (or another key, for
 * the join handshake), over UDP to an address or through the peer's relay
 * session. The session-key path (e2e_session.c) seals its own and leaves
 * through tx_out() as well, so the per-peer counters see every packet.
 */
#include <string.h>

#include "common/log.h"
#include "common/relay_client.h"
#include "punchd.h"

int
tx_out(struct peer *p, const void *buf, size_t len, const struct sockaddr *to)
{
	if ((to != NULL ? sock_send(p->pd, buf, len, to) :
	    relay_send(p, buf, len)) != 0)
		return -1;
	if (to != NULL && p->has_endpoint &&
	    netaddr_equal(to, (const struct sockaddr *)&p->endpoint))
		p->last_tx_direct = punchd_time(p->pd);
	/* the direct path is in doubt: the same bytes through the relay
	 * too; the receiver's replay window drops the second copy */
	if (to != NULL && p->relay_copy && relay_send(p, buf, len) == 0) {
		p->relay_copy = 2;
		p->relay_copies++;
	}
	p->tx_packets++;
	p->tx_bytes += len;
	return 0;
}

static ssize_t
tx_seal(struct punchd *pd, uint8_t *buf, size_t cap, uint8_t type,
    uint8_t flags, const uint8_t *key, const uint8_t *payload, size_t len,
    uint64_t *seq)
{
	struct packet_hdr h;

	memset(&h, 0, sizeof(h));
	h.version = PACKET_VERSION;
	h.type = type;
	h.flags = flags;
	memcpy(h.sender, pd->node_id, PACKET_NODEID_LEN);
	h.seq = pd->seq++;
	*seq = h.seq;
	return packet_encode(buf, cap, &h, payload, len, key);
}

/* flags: header flags for packets under the mesh key (PACKET_F_KA_MISSED) */
uint64_t
tx_send(struct peer *p, uint8_t type, uint8_t flags, const uint8_t *payload,
    size_t len, const struct sockaddr *to)
{
	uint8_t		buf[PACKET_OVERHEAD + PUNCHD_MTU];
	ssize_t		n;
	uint64_t	seq;

	if ((n = tx_seal(p->pd, buf, sizeof(buf), type, flags, p->pd->key,
	    payload, len, &seq)) == -1) {
		log_warnx("%s: cannot encode %s", __func__,
		    packet_type_str(type));
		return seq;
	}
	tx_out(p, buf, n, to);
	return seq;
}

void
tx_send_keyed(struct punchd *pd, uint8_t type, const uint8_t *key,
    const uint8_t *payload, size_t len, const struct sockaddr *to,
    struct relay_client *relay)
{
	uint8_t		buf[PACKET_OVERHEAD + PUNCHD_MTU];
	ssize_t		n;
	uint64_t	seq;

	if ((n = tx_seal(pd, buf, sizeof(buf), type, 0, key, payload, len,
	    &seq)) == -1)
		return;
	if (to != NULL)
		sock_send(pd, buf, n, to);
	else if (relay != NULL)
		relay_client_send(relay, buf, n);
}
