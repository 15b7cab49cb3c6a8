/*
 * Packets out: one packet to a peer under the mesh key (or another key, for
 * the join handshake), over UDP to an address or through the peer's relay
 * session. The session-key path (e2e_session.c) seals its own and leaves
 * through tx_out() as well, so the per-peer counters see every packet.
 */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/relay_client.h"
#include "punchd.h"

/* one sealed packet to `to`, or through the relay (NULL) */
static int
tx_raw(struct peer *p, const void *buf, size_t len, const struct sockaddr *to)
{
	/* a pair won by birthday probing leaves by its own socket */
	return to != NULL ? sock_send_fd(p->pd, p->pair_fd != -1 &&
	    to->sa_family == AF_INET ? p->pair_fd : -1, buf, len, to) :
	    relay_send(p, buf, len);
}

int
tx_out(struct peer *p, const void *buf, size_t len, const struct sockaddr *to)
{
	if (tx_raw(p, buf, len, to) != 0)
		return -1;
	if (to != NULL && p->has_endpoint &&
	    netaddr_equal(to, (const struct sockaddr *)&p->endpoint))
		p->last_tx_direct = punchd_time(p->pd);
	/* the direct path is in doubt: the same bytes through the relay
	 * too; the receiver's replay window drops the second copy */
	if (to != NULL && p->relay_copy == 1 && relay_send(p, buf, len) == 0) {
		p->relay_copy = 2;
		p->relay_copies++;
	}
	if (to != NULL && p->relay_copy != 0)
		tx_keep(p, buf, len);
	p->tx_packets++;
	p->tx_bytes += len;
	return 0;
}

/*
 * A run of sealed packets of `seg` bytes each (the last may be shorter) to
 * p's direct endpoint in one send: the mesh interface's drains. While the
 * path is in doubt (relay copies) or through the relay, packet by packet
 * through tx_out, which copies and keeps them.
 */
int
tx_out_segs(struct peer *p, const uint8_t *buf, size_t len, size_t seg,
    const struct sockaddr *to)
{
	size_t	off, n;
	int	rc = 0;

	if (to == NULL || p->relay_copy != 0) {
		for (off = 0; off < len; off += n) {
			n = len - off < seg ? len - off : seg;
			if (tx_out(p, buf + off, n, to) == -1)
				rc = -1;
		}
		return rc;
	}
	if (sock_send_segs(p->pd, buf, len, seg, to) != 0)
		return -1;
	if (p->has_endpoint &&
	    netaddr_equal(to, (const struct sockaddr *)&p->endpoint))
		p->last_tx_direct = punchd_time(p->pd);
	p->tx_packets += (len + seg - 1) / seg;
	p->tx_bytes += len;
	return 0;
}

/*
 * The last TX_KEPT DATA packets sent direct, sealed: when the path turns
 * out to have been cut, those sent since its last answer go through the
 * relay once the peer is there (tx_resend); the receiver's replay window
 * drops the ones that did arrive. 64 covers the up to 2.5 s between a
 * path's last answer and the meeting in the relay at 20 datagrams/s; a
 * faster flow loses the oldest. Each slot holds its packet's own size
 * (grown, never shrunk): 64 small datagrams cost a few kB, 64 full ones
 * 80 kB, only for peers that send.
 */
struct tx_kept {
	double		 at;
	size_t		 len, cap;
	uint8_t		*buf;
};

void
tx_keep(struct peer *p, const void *buf, size_t len)
{
	struct tx_kept	*k;
	uint8_t		*nb;

	if (p->kept == NULL &&
	    (p->kept = calloc(TX_KEPT, sizeof(*p->kept))) == NULL)
		return;
	k = &p->kept[p->kept_next];
	if (k->cap < len) {
		if ((nb = realloc(k->buf, len)) == NULL)
			return;
		k->buf = nb;
		k->cap = len;
	}
	p->kept_next = (p->kept_next + 1) % TX_KEPT;
	k->at = punchd_time(p->pd);
	k->len = len;
	memcpy(k->buf, buf, len);
}

/* DATA sent direct at or after `since`, again (to `to` or through the
 * relay), oldest first; returns how many */
int
tx_resend(struct peer *p, double since, const struct sockaddr *to)
{
	struct tx_kept	*k;
	int		 i, n = 0;

	for (i = 0; p->kept != NULL && i < TX_KEPT; i++) {
		k = &p->kept[(p->kept_next + i) % TX_KEPT];
		if (k->len == 0 || k->at < since)
			continue;
		if (tx_raw(p, k->buf, k->len, to) == 0)
			n++;
	}
	return n;
}

void
tx_kept_free(struct peer *p)
{
	int i;

	for (i = 0; p->kept != NULL && i < TX_KEPT; i++)
		free(p->kept[i].buf);
	free(p->kept);
	p->kept = NULL;
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
	uint8_t		buf[PACKET_OVERHEAD + PUNCHD_IP_MTU];
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
