/*
 * The inviter's side of the join handshake (proto/join.h) and minting an
 * invite (`meshctl invite`, mesh.invite). The invites themselves, their
 * uses and their file, are inviter_store.c's; what a repeated HELLO may
 * draw, inviter_guard.c's; the invite's endpoints, inviter_ends.c's.
 *
 * A HELLO for a live invite records a use (saved before the answer) and
 * gets a WELCOME; the same joiner asking again (another path, a lost
 * WELCOME) gets its WELCOME again; any other node gets JOIN_REFUSE
 * "used"; after expiry, "expired".
 *
 * When the invite carries a relay, punchd waits in the invite's relay
 * session (proto/join.h join_session) while the invite is live, so a
 * joiner that reaches no UDP endpoint meets it there.
 */
#include <string.h>
#include <time.h>
#include <netinet/in.h>

#include <sodium.h>

#include "common/log.h"
#include "common/relay_client.h"
#include "proto/invite.h"
#include "punchd.h"
#include "inviter.h"
#include "meshpin.h"

/* ---- the invite's relay session ------------------------------------------ */

static void inviter_input_from(struct punchd *, uint8_t *, size_t,
    const struct sockaddr *, struct mesh_invite *);

static void
inviter_relay_frame(void *arg, const void *data, size_t len)
{
	struct mesh_invite	*inv = arg;
	uint8_t			 buf[PACKET_OVERHEAD + PUNCHD_MTU];

	if ((len = relay_frame_packet(data, len, buf, sizeof(buf))) > 0)
		inviter_input_from(inv->pd, buf, len, NULL, inv);
}

static void
inviter_relay_start(struct mesh_invite *inv)
{
	if (inv->relay != NULL || inv->relay_url[0] == '\0' ||
	    !inviter_store_live(inv))
		return;
	if ((inv->relay = relay_join_open(inv->pd, inv->relay_url, inv->secret,
	    inviter_relay_frame, NULL, inv)) == NULL) {
		log_warn("invite %s: relay client", inv->tag);
		return;
	}
	log_debug("invite %s: waiting in its relay session", inv->tag);
}

void
inviter_start(struct punchd *pd)
{
	struct mesh_invite *inv;

	LIST_FOREACH(inv, &pd->mesh.invites, entry)
		inviter_relay_start(inv);
}

/* ---- JOIN_HELLO ---------------------------------------------------------- */

/* where an answer goes: the HELLO's source, or the relay (from NULL) */
static const struct sockaddr *
inviter_to(enum inviter_dest d, const struct sockaddr *from)
{
	return d == INVITER_DEST_SOURCE ? from : NULL;
}

static void
inviter_refuse(struct mesh_invite *inv, const struct join_hello *h,
    uint8_t reason, const struct sockaddr *from)
{
	struct join_refuse	r;
	uint8_t			buf[64];
	int			n;

	if (!inviter_guard_refuse(inv, punchd_now(inv->pd)))
		return;
	memcpy(r.txid, h->txid, JOIN_TXID_LEN);
	r.reason = reason;
	if ((n = join_refuse_encode(buf, sizeof(buf), &r)) > 0)
		tx_send_keyed(inv->pd, PACKET_JOIN_REFUSE, inv->key, buf, n,
		    from, inv->relay);
}

/* Seal the mesh secret to the joiner and sign, once per use and run: the
 * WELCOME is kept for the repeats. */
static int
inviter_seal(struct mesh_invite *inv, struct mesh_invite_use *u,
    const struct join_hello *h)
{
	struct punchd		*pd = inv->pd;
	struct join_welcome	 w;
	int			 n;

	memset(&w, 0, sizeof(w));
	memcpy(w.txid, h->txid, JOIN_TXID_LEN);
	memcpy(w.mesh_id, pd->mesh.id, JOIN_MESH_ID_LEN);
	strlcpy(w.mesh_name, pd->mesh.name, sizeof(w.mesh_name));
	/* its mesh IPv4, pinned from now on (meshpin.h) */
	w.v4 = u->v4 = meshpin_joiner(pd, u->id,
	    h->flags & JOIN_F_RELAY_ONLY);
	n = join_welcome_seal(&w, u->id, h->pk, pd->mesh.secret,
	    pd->mesh.sk);
	if (n != -1)
		n = join_welcome_encode(u->welcome, sizeof(u->welcome), &w);
	sodium_memzero(&w, sizeof(w));
	if (n < 0)
		return -1;
	u->welcome_len = (size_t)n;
	return 0;
}

static void
inviter_welcome(struct mesh_invite *inv, const struct mesh_invite_use *u,
    const struct sockaddr *to)
{
	tx_send_keyed(inv->pd, PACKET_JOIN_WELCOME, inv->key, u->welcome,
	    u->welcome_len, to, inv->relay);
}

/* The joiner is a member now: a peer to punch, over UDP towards where the
 * HELLO came from, or through the relay (rendezvous) when it came there.
 * A member already known (same id and key) keeps the paths it has: a
 * HELLO's source is never punched for it. */
static void
inviter_new_member(struct punchd *pd, const uint8_t *id,
    const struct join_hello *h, uint32_t v4, const struct sockaddr *from)
{
	const struct mesh_member *known = members_find(pd, id);
	struct sockaddr_storage	 ss;
	struct peer		*p;
	char			 idstr[2 * JOIN_ID_LEN + 1];

	if (known != NULL && !memcmp(known->pk, h->pk, JOIN_PK_LEN) &&
	    peer_find_id(pd, id) != NULL) {
		members_set_v4(pd, id, v4);
		return;
	}
	members_set(pd, id, h->pk, h->name);
	members_set_relay_only(pd, id, h->flags & JOIN_F_RELAY_ONLY);
	members_set_v4(pd, id, v4);
	sodium_bin2hex(idstr, sizeof(idstr), id, JOIN_ID_LEN);
	if ((p = peer_find_id(pd, id)) == NULL) {
		if ((p = peer_create(pd, idstr)) == NULL)
			return;
		if (h->name[0] != '\0' && peer_find(pd, h->name) == NULL)
			strlcpy(p->name, h->name, sizeof(p->name));
	}
	if (peer_is_up(p))
		return;
	memset(&ss, 0, sizeof(ss));
	if (from != NULL)
		memcpy(&ss, from, netaddr_len(from));
	link_punch(p, &ss, from != NULL);
	store_changed(pd);
}

/*
 * The same joiner again (same id and key, so the same txid): its WELCOME
 * was lost, it tries another path, or someone replays its HELLO. The
 * cached WELCOME, where inviter_guard.c allows; nothing punched.
 */
static void
inviter_repeat(struct mesh_invite *inv, struct mesh_invite_use *u,
    const struct join_hello *h, const struct sockaddr *from)
{
	enum inviter_dest d;

	if (!inv->pd->mesh.have)
		return;
	d = inviter_guard_repeat(inv, u, from, punchd_now(inv->pd));
	if (d == INVITER_DEST_NONE)
		return;
	if (u->welcome_len == 0 && inviter_seal(inv, u, h) == -1)
		return;
	inviter_welcome(inv, u, inviter_to(d, from));
}

static void
inviter_hello(struct mesh_invite *inv, const struct packet_hdr *hdr,
    const uint8_t *pl, size_t plen, const struct sockaddr *from)
{
	struct punchd		*pd = inv->pd;
	struct mesh_invite_use	*u;
	struct join_hello	 h;
	char			 idstr[2 * JOIN_ID_LEN + 1], a[NETADDR_STRLEN];
	const char		*via;
	int			 i;

	if (join_hello_decode(pl, plen, &h) != 0 ||
	    join_hello_verify(&h, hdr->sender) != 0) {
		pd->ctr.drop_malformed++;
		return;
	}
	sodium_bin2hex(idstr, sizeof(idstr), hdr->sender, JOIN_ID_LEN);
	via = from != NULL ? netaddr_str(from, a, sizeof(a)) : "the relay";
	for (i = 0; i < inv->nuses; i++)
		if (!memcmp(inv->uses[i].id, hdr->sender, JOIN_ID_LEN) &&
		    !memcmp(inv->uses[i].pk, h.pk, JOIN_PK_LEN)) {
			inviter_repeat(inv, &inv->uses[i], &h, from);
			return;
		}
	if (!pd->mesh.have) {
		inviter_refuse(inv, &h, JOIN_R_NOMESH, from);
		return;
	}
	if ((uint64_t)time(NULL) >= inv->expires) {
		log_notice("invite %s: node %s refused: expired", inv->tag,
		    idstr);
		inviter_refuse(inv, &h, JOIN_R_EXPIRED, from);
		return;
	}
	if (inv->nuses >= inv->max_uses) {
		log_notice("invite %s: node %s refused: already used (%d of "
		    "%d)", inv->tag, idstr, inv->nuses, inv->max_uses);
		inviter_refuse(inv, &h, JOIN_R_USED, from);
		return;
	}
	u = &inv->uses[inv->nuses];
	memset(u, 0, sizeof(*u));
	memcpy(u->id, hdr->sender, JOIN_ID_LEN);
	memcpy(u->pk, h.pk, JOIN_PK_LEN);
	inv->nuses++;
	if (inviter_seal(inv, u, &h) == -1 || inviter_store_save(pd) == -1) {
		inv->nuses--;
		sodium_memzero(u, sizeof(*u));
		return;
	}
	inviter_guard_first(u, from);
	inviter_welcome(inv, u, from);
	log_notice("invite %s: node %s%s%s joined via %s (use %d of %d)",
	    inv->tag, idstr, h.name[0] ? " " : "", h.name, via, inv->nuses,
	    inv->max_uses);
	inviter_new_member(pd, hdr->sender, &h, u->v4, from);
}

static void
inviter_input_from(struct punchd *pd, uint8_t *buf, size_t len,
    const struct sockaddr *from, struct mesh_invite *only)
{
	struct mesh_invite	*inv;
	struct packet_hdr	 h;
	uint8_t			 copy[PACKET_OVERHEAD + PUNCHD_MTU];
	const uint8_t		*pl;
	size_t			 plen;

	if (len > sizeof(copy) || packet_peek(buf, len, &h) != 0 ||
	    h.type != PACKET_JOIN_HELLO) {
		pd->ctr.drop_malformed++;
		return;
	}
	/* one trial decryption per invite: there are only a few */
	LIST_FOREACH(inv, &pd->mesh.invites, entry) {
		if (only != NULL && inv != only)
			continue;
		memcpy(copy, buf, len);
		if (packet_decode(copy, len, inv->key, &h, &pl, &plen) == 0) {
			inviter_hello(inv, &h, pl, plen, from);
			return;
		}
	}
	pd->ctr.drop_auth++;
}

/* a JOIN_HELLO over UDP (hooks.join_hello) */
void
inviter_input(struct punchd *pd, uint8_t *buf, size_t len,
    const struct sockaddr *from)
{
	inviter_input_from(pd, buf, len, from, NULL);
}


/* ---- mesh.invite --------------------------------------------------------- */

/*
 * The invite: its endpoints and network_info (inviter_ends.c), its code,
 * kept in the state directory before the code is handed out, and its
 * relay session.
 */
int
inviter_mint(struct punchd *pd, const struct inviter_req *req,
    struct inviter_res *res, struct result *err)
{
	struct mesh		*m = &pd->mesh;
	struct mesh_invite	*inv;
	struct invite		 code;

	if (!m->have)
		return result_set(err, RESULT_NOT_FOUND, "this node is in "
		    "no mesh: meshctl init NAME first");
	if (mesh_node_key(pd) == -1)
		return result_set(err, RESULT_INTERNAL, "no node key");
	inviter_store_prune(pd);
	invite_init(&code);
	memcpy(code.mesh_id, m->id, sizeof(code.mesh_id));
	strlcpy(code.mesh_name, m->name, sizeof(code.mesh_name));
	memcpy(code.inviter_id, pd->node_id, sizeof(code.inviter_id));
	memcpy(code.inviter_pk, m->pk, sizeof(code.inviter_pk));
	randombytes_buf(code.secret, sizeof(code.secret));
	code.expires = (uint64_t)time(NULL) + (uint64_t)req->expires_s;
	code.max_uses = (uint16_t)req->uses;
	if (inviter_ends_fill(pd, req, &code) == -1)
		goto badaddr;
	if (code.ep_relay[0] != '\0')	/* punchd.invite_relay_token, opt-in */
		relay_access_invite_token(pd, code.relay_token,
		    sizeof(code.relay_token));
	if (invite_encode(&code, res->token, sizeof(res->token)) < 0) {
		invite_clear(&code);
		return result_set(err, RESULT_BAD_PARAMS, "cannot encode "
		    "the invite (relay URL?)");
	}
	if ((inv = inviter_store_new(pd, code.secret, code.expires,
	    code.max_uses)) == NULL) {
		invite_clear(&code);
		sodium_memzero(res->token, sizeof(res->token));
		return result_set(err, RESULT_INTERNAL, "out of memory");
	}
	strlcpy(inv->relay_url, code.ep_relay, sizeof(inv->relay_url));
	invite_clear(&code);
	if (inviter_store_save(pd) == -1) {
		inviter_store_free(inv);
		sodium_memzero(res->token, sizeof(res->token));
		return result_set(err, RESULT_INTERNAL, "cannot write "
		    "%s/invites", pd->statedir);
	}
	inviter_relay_start(inv);
	log_info("invite %s minted: %d use%s, expires in %llds", inv->tag,
	    inv->max_uses, inv->max_uses == 1 ? "" : "s",
	    (long long)req->expires_s);
	strlcpy(res->tag, inv->tag, sizeof(res->tag));
	res->expires = inv->expires;
	res->max_uses = inv->max_uses;
	return 0;
badaddr:
	invite_clear(&code);
	return result_set(err, RESULT_BAD_PARAMS, "endpoints are "
	    "udp://IP:PORT or IP:PORT");
}
