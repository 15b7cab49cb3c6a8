/*
 * End-to-end session keys: see e2e.h for the handshake and key schedule,
 * README.md (punchd) for the reasoning.
 */
#include <string.h>

#include <sodium.h>

#include "proto/wire.h"
#include "proto/e2e.h"

#define LBL_INIT	"atm-e2e-init-v1"
#define LBL_RESP	"atm-e2e-resp-v1"
#define LBL_KEYS	"atm-e2e-keys-v1"

void
e2e_params_default(struct e2e_params *par)
{
	par->rekey_interval = 120;
	par->rekey_packets = UINT64_C(1) << 30;
	par->grace = 10;
	par->retx = 1;
	par->max_tries = 10;
}

int
e2e_peer_init(struct e2e_peer *e, const struct e2e_params *par,
    const uint8_t *self_id, const uint8_t *self_pk, const uint8_t *self_sk,
    const uint8_t *peer_id, const uint8_t *peer_pk)
{
	if (sodium_init() < 0)
		return -1;
	memset(e, 0, sizeof(*e));
	e->par = *par;
	memcpy(e->self_id, self_id, PACKET_NODEID_LEN);
	memcpy(e->peer_id, peer_id, PACKET_NODEID_LEN);
	memcpy(e->self_pk, self_pk, E2E_PK_LEN);
	e->self_sk = self_sk;
	if (peer_pk != NULL)
		e2e_set_peer_pk(e, peer_pk);
	return 0;
}

void
e2e_set_peer_pk(struct e2e_peer *e, const uint8_t *pk)
{
	memcpy(e->peer_pk, pk, E2E_PK_LEN);
	e->have_peer_pk = 1;
	e->learned_pk = 0;
}

static void
key_wipe(struct e2e_key *k)
{
	sodium_memzero(k, sizeof(*k));
}

static void
pending_wipe(struct e2e_peer *e)
{
	sodium_memzero(e->eph_sk, sizeof(e->eph_sk));
	e->pending = 0;
	e->pend_tries = 0;
}

void
e2e_peer_wipe(struct e2e_peer *e)
{
	sodium_memzero(e, sizeof(*e));
}

int
e2e_ready(const struct e2e_peer *e)
{
	return e->cur.valid && e->cur.tx_seq < E2E_SEQ_LIMIT;
}

int
e2e_busy(const struct e2e_peer *e)
{
	return e->pending || e->next.valid || e->confirm;
}

/* what sig_i / sig_r cover */
static size_t
sig_msg(uint8_t *m, const char *lbl, const uint8_t *a, const uint8_t *b,
    uint8_t id, const uint8_t *k1, const uint8_t *k2, const uint8_t *ts)
{
	size_t	n = strlen(lbl);

	memcpy(m, lbl, n);
	memcpy(m + n, a, PACKET_NODEID_LEN);
	n += PACKET_NODEID_LEN;
	memcpy(m + n, b, PACKET_NODEID_LEN);
	n += PACKET_NODEID_LEN;
	m[n++] = id;
	memcpy(m + n, k1, 32);
	n += 32;
	memcpy(m + n, k2, 32);
	n += 32;
	memcpy(m + n, ts, 8);
	return n + 8;
}

/*
 * Both directions' keys from our ephemeral secret and their ephemeral
 * public key. i_to_r and r_to_i name directions, not sides.
 */
static int
derive(const uint8_t *eph_sk, const uint8_t *their_eph, const uint8_t *e_i,
    const uint8_t *e_r, const uint8_t *id_i, const uint8_t *id_r,
    uint8_t key_id, uint8_t *i_to_r, uint8_t *r_to_i)
{
	crypto_generichash_state st;
	uint8_t		dh[crypto_scalarmult_BYTES];
	uint8_t		okm[64];

	if (crypto_scalarmult(dh, eph_sk, their_eph) != 0) {
		sodium_memzero(dh, sizeof(dh));
		return E2E_ERR_DH;	/* low-order point */
	}
	crypto_generichash_init(&st, dh, sizeof(dh), sizeof(okm));
	crypto_generichash_update(&st, (const uint8_t *)LBL_KEYS,
	    strlen(LBL_KEYS));
	crypto_generichash_update(&st, e_i, 32);
	crypto_generichash_update(&st, e_r, 32);
	crypto_generichash_update(&st, id_i, PACKET_NODEID_LEN);
	crypto_generichash_update(&st, id_r, PACKET_NODEID_LEN);
	crypto_generichash_update(&st, &key_id, 1);
	crypto_generichash_final(&st, okm, sizeof(okm));
	memcpy(i_to_r, okm, 32);
	memcpy(r_to_i, okm + 32, 32);
	sodium_memzero(dh, sizeof(dh));
	sodium_memzero(okm, sizeof(okm));
	sodium_memzero(&st, sizeof(st));
	return 0;
}

static void
key_set(struct e2e_key *k, uint8_t id, const uint8_t *tx, const uint8_t *rx,
    double now)
{
	key_wipe(k);
	k->valid = 1;
	k->id = id;
	memcpy(k->tx, tx, PACKET_KEY_LEN);
	memcpy(k->rx, rx, PACKET_KEY_LEN);
	k->tx_seq = 1;
	packet_replay_reset(&k->replay);
	k->created = now;
}

/* the current key becomes previous, open for the grace period */
static void
retire(struct e2e_peer *e, double now)
{
	if (e->prev.valid)
		key_wipe(&e->prev);
	if (e->cur.valid) {
		e->prev = e->cur;
		e->prev.expires = now + e->par.grace;
	}
	key_wipe(&e->cur);
}

/* Initiator, RESP accepted: the new key is current at once (unless its id
 * is the current one's: that cannot be told apart and is dropped). */
static void
install(struct e2e_peer *e, uint8_t id, const uint8_t *tx, const uint8_t *rx,
    double now)
{
	if (e->cur.valid && e->cur.id == id)
		key_wipe(&e->cur);
	retire(e, now);
	key_wipe(&e->next);
	key_set(&e->cur, id, tx, rx, now);
	e->last_id = id;
	e->epoch++;
	e->confirm = 1;
	e->confirm_sent = now;
	e->confirm_tries = 1;
}

/*
 * Responder, INIT answered: the new key opens packets (next) but is not
 * sent with yet. A key of ours with the same id cannot be told apart from
 * it: the peer lost its state (restart), so it is of no use to it either.
 * Given up when the initiator could not have confirmed it by then: all
 * its INIT resends, then all its confirmations.
 */
static void
accept_next(struct e2e_peer *e, uint8_t id, const uint8_t *tx,
    const uint8_t *rx, double now)
{
	if (e->cur.valid && e->cur.id == id)
		key_wipe(&e->cur);
	if (e->prev.valid && e->prev.id == id)
		key_wipe(&e->prev);
	key_set(&e->next, id, tx, rx, now);
	e->next.expires = now + (2 * e->par.max_tries + 1) * e->par.retx;
	e->last_id = id;
}

/* Responder: the initiator used the next key, it becomes current */
static void
promote(struct e2e_peer *e, double now)
{
	retire(e, now);
	e->cur = e->next;
	e->cur.created = now;
	e->cur.expires = 0;
	sodium_memzero(&e->next, sizeof(e->next));
	e->confirm = 0;
	e->epoch++;
}

static int
key_has(const struct e2e_key *k, uint8_t id)
{
	return k->valid && k->id == id;
}

/* The smaller node id picks odd key ids, the larger even ones, none in
 * use (e2e.h). */
static uint8_t
next_id(const struct e2e_peer *e)
{
	int	odd = memcmp(e->self_id, e->peer_id, PACKET_NODEID_LEN) < 0;
	uint8_t	id = e->last_id;

	do {
		id++;
	} while (id == 0 || (id & 1) != odd || key_has(&e->cur, id) ||
	    key_has(&e->prev, id) || key_has(&e->next, id));
	return id;
}

int
e2e_start(struct e2e_peer *e, double now, uint8_t *out)
{
	uint8_t	m[128];
	uint64_t ts;
	size_t	n;

	if (!e->have_peer_pk)
		return E2E_ERR_NOPK;
	if (!e->pending && (e->next.valid || e->confirm))
		return E2E_ERR_STATE;
	if (!e->pending) {
		crypto_box_keypair(e->eph_pk, e->eph_sk);
		e->pend_id = next_id(e);
		e->pending = 1;
		e->pend_tries = 0;
		e->init_msg[0] = e->pend_id;
		e->init_msg[1] = 0;
		memcpy(e->init_msg + 2, e->eph_pk, 32);
		memcpy(e->init_msg + 34, e->self_pk, 32);
		ts = now > 0 ? (uint64_t)(now * 1e6) : 0;
		if (ts <= e->init_ts_sent)
			ts = e->init_ts_sent + 1;
		e->init_ts_sent = ts;
		wire_put64(e->init_msg + 66, ts);
		n = sig_msg(m, LBL_INIT, e->self_id, e->peer_id, e->pend_id,
		    e->eph_pk, e->self_pk, e->init_msg + 66);
		crypto_sign_detached(e->init_msg + 74, NULL, m, n, e->self_sk);
	}
	e->pend_sent = now;
	e->pend_tries++;
	memcpy(out, e->init_msg, E2E_MSG_LEN);
	return E2E_MSG_LEN;
}

static int
input_init(struct e2e_peer *e, const uint8_t *pl, double now,
    int allow_learn, uint8_t *out)
{
	uint8_t		m[128], e_r[32], s_r[32], tx[32], rx[32];
	const uint8_t	*e_i = pl + 2, *pk_i = pl + 34;
	uint8_t		id = pl[0];
	size_t		n;
	int		r;

	if (id == 0)
		return PACKET_ERR_PAYLOAD;
	if (e->have_peer_pk) {
		if (sodium_memcmp(pk_i, e->peer_pk, E2E_PK_LEN) != 0)
			return E2E_ERR_SIG;
	} else if (!allow_learn)
		return E2E_ERR_NOPK;
	n = sig_msg(m, LBL_INIT, e->peer_id, e->self_id, id, e_i, pk_i,
	    pl + 66);
	if (crypto_sign_verify_detached(pl + 74, m, n, pk_i) != 0)
		return E2E_ERR_SIG;
	if (!e->have_peer_pk) {
		memcpy(e->peer_pk, pk_i, E2E_PK_LEN);
		e->have_peer_pk = 1;
		e->learned_pk = 1;
	}
	/* the same INIT again (our RESP was lost): the same RESP */
	if (e->have_resp && e->resp_msg[0] == id &&
	    !memcmp(e->resp_msg + 2, e_i, 32) &&
	    !memcmp(e->resp_msg + 66, pl + 66, 8)) {
		memcpy(out, e->resp_msg, E2E_MSG_LEN);
		return E2E_OUT_REPLY;
	}
	/* an old INIT, sent again by someone holding the mesh key */
	if (wire_get64(pl + 66) <= e->init_ts_seen)
		return E2E_ERR_STATE;
	/* both started at once: the smaller node id's INIT wins, and the
	 * loser drops its own, so a copy of it arriving later is stale */
	if (e->pending) {
		if (memcmp(e->self_id, e->peer_id, PACKET_NODEID_LEN) < 0) {
			e->init_ts_seen = wire_get64(pl + 66);
			return 0;
		}
		pending_wipe(e);
	}
	crypto_box_keypair(e_r, s_r);
	r = derive(s_r, e_i, e_i, e_r, e->peer_id, e->self_id, id, rx, tx);
	sodium_memzero(s_r, sizeof(s_r));
	if (r != 0)
		return r;
	accept_next(e, id, tx, rx, now);
	sodium_memzero(tx, sizeof(tx));
	sodium_memzero(rx, sizeof(rx));
	e->init_ts_seen = wire_get64(pl + 66);
	e->resp_msg[0] = id;
	e->resp_msg[1] = 0;
	memcpy(e->resp_msg + 2, e_i, 32);
	memcpy(e->resp_msg + 34, e_r, 32);
	memcpy(e->resp_msg + 66, pl + 66, 8);
	n = sig_msg(m, LBL_RESP, e->self_id, e->peer_id, id, e_i, e_r,
	    pl + 66);
	crypto_sign_detached(e->resp_msg + 74, NULL, m, n, e->self_sk);
	e->have_resp = 1;
	memcpy(out, e->resp_msg, E2E_MSG_LEN);
	return E2E_OUT_REPLY;
}

static int
input_resp(struct e2e_peer *e, const uint8_t *pl, double now)
{
	uint8_t		m[128], tx[32], rx[32];
	const uint8_t	*e_i = pl + 2, *e_r = pl + 34;
	size_t		n;
	int		r;

	if (!e->pending || pl[0] != e->pend_id ||
	    memcmp(e_i, e->eph_pk, 32) != 0)
		return E2E_ERR_STATE;
	if (!e->have_peer_pk)
		return E2E_ERR_NOPK;
	if (memcmp(pl + 66, e->init_msg + 66, 8) != 0)
		return E2E_ERR_STATE;
	n = sig_msg(m, LBL_RESP, e->peer_id, e->self_id, pl[0], e_i, e_r,
	    pl + 66);
	if (crypto_sign_verify_detached(pl + 74, m, n, e->peer_pk) != 0)
		return E2E_ERR_SIG;
	r = derive(e->eph_sk, e_r, e_i, e_r, e->self_id, e->peer_id, pl[0],
	    tx, rx);
	pending_wipe(e);
	if (r != 0)
		return r;
	install(e, pl[0], tx, rx, now);
	sodium_memzero(tx, sizeof(tx));
	sodium_memzero(rx, sizeof(rx));
	/* a RESP we sent for an older INIT is of no use any more */
	e->have_resp = 0;
	return E2E_OUT_NEWKEY | E2E_OUT_CONFIRM;
}

int
e2e_input(struct e2e_peer *e, uint8_t type, const uint8_t *pl, size_t len,
    double now, int allow_learn, uint8_t *out, uint8_t *out_type)
{
	int	r;

	if (len < E2E_MSG_LEN)
		return PACKET_ERR_PAYLOAD;
	if (type == PACKET_E2E_INIT) {
		*out_type = PACKET_E2E_RESP;
		r = input_init(e, pl, now, allow_learn, out);
	} else if (type == PACKET_E2E_RESP)
		r = input_resp(e, pl, now);
	else
		return PACKET_ERR_TYPE;
	if (r < 0 && r != E2E_ERR_STATE)
		e->handshakes_failed++;
	return r;
}

ssize_t
e2e_encrypt(struct e2e_peer *e, uint8_t *buf, size_t cap,
    struct packet_hdr *h, const uint8_t *payload, size_t len)
{
	if (!e2e_ready(e))
		return -1;
	h->version = PACKET_VERSION;
	h->flags |= PACKET_F_SESSION;
	h->key_id = e->cur.id;
	h->seq = e->cur.tx_seq;
	if (packet_encode(buf, cap, h, payload, len, e->cur.tx) == -1)
		return -1;
	e->cur.tx_seq++;
	return (ssize_t)(len + PACKET_OVERHEAD);
}

int
e2e_decrypt(struct e2e_peer *e, uint8_t *buf, size_t len, double now,
    struct packet_hdr *h, const uint8_t **pl, size_t *plen)
{
	struct e2e_key	*k = NULL;
	int		 r;

	if ((r = packet_peek(buf, len, h)) != 0)
		return r;
	if (!(h->flags & PACKET_F_SESSION))
		return E2E_ERR_NOKEY;
	if (key_has(&e->cur, h->key_id))
		k = &e->cur;
	else if (key_has(&e->next, h->key_id))
		k = &e->next;
	else if (key_has(&e->prev, h->key_id) &&
	    (now < e->prev.expires || e->confirm))
		k = &e->prev;
	if (k == NULL) {
		e->rx_nokey++;
		return E2E_ERR_NOKEY;
	}
	if ((r = packet_replay_check(&k->replay, h->seq)) != 0) {
		e->rx_replay++;
		return r;
	}
	if ((r = packet_decode(buf, len, k->rx, h, pl, plen)) != 0) {
		if (r == PACKET_ERR_AUTH)
			e->rx_auth++;
		return r;
	}
	if ((r = packet_replay_check_and_update(&k->replay, h->seq)) != 0) {
		e->rx_replay++;
		return r;
	}
	if (k == &e->next)
		promote(e, now);
	else if (k == &e->cur && e->confirm) {
		/* the responder switched: its packets under the previous
		 * key are in flight for the grace period at most */
		e->confirm = 0;
		if (e->prev.valid && e->prev.expires < now + e->par.grace)
			e->prev.expires = now + e->par.grace;
	}
	return 0;
}

int
e2e_tick(struct e2e_peer *e, double now)
{
	int	need = 0;

	if (e->prev.valid && now >= e->prev.expires && !e->confirm)
		key_wipe(&e->prev);
	if (e->next.valid && now >= e->next.expires) {
		key_wipe(&e->next);	/* the initiator never used it */
		e->handshakes_failed++;
	}
	if (e->confirm && now - e->confirm_sent >= e->par.retx) {
		if (e->confirm_tries >= e->par.max_tries) {
			e->confirm = 0;	/* the responder never answered */
			e->handshakes_failed++;
		} else {
			e->confirm_sent = now;
			e->confirm_tries++;
			need |= E2E_TICK_CONFIRM;
		}
	}
	if (e->pending) {
		if (now - e->pend_sent >= e->par.retx) {
			if (e->pend_tries >= e->par.max_tries) {
				pending_wipe(e);
				e->handshakes_failed++;
			} else
				need |= E2E_TICK_RETX;
		}
		return need;
	}
	if (!e->have_peer_pk || e->next.valid || e->confirm)
		return need;
	if (!e->cur.valid || now - e->cur.created >= e->par.rekey_interval ||
	    e->cur.tx_seq >= e->par.rekey_packets ||
	    e->cur.tx_seq >= E2E_SEQ_LIMIT)
		need |= E2E_TICK_REKEY;
	return need;
}
