/*
 * The WELCOME that ends a join (joiner_welcome.h). It must name our
 * transaction and the invite's mesh, and be signed by the inviter key in
 * the code: the joiner accepts a mesh only from the node that made the
 * invite. Then the mesh is ours (saved, new packet key, the IPv4 address
 * the inviter pinned for us), this node's own invites are dropped (they
 * were for another mesh), the invite's relay and relay token are kept,
 * and the inviter is a member and a peer, punched where the WELCOME came
 * from and at the code's endpoints of both families.
 */
#include <arpa/inet.h>
#include <string.h>

#include <sodium.h>

#include "common/log.h"
#include "common/netaddr.h"
#include "punchd.h"
#include "inviter.h"
#include "joiner.h"
#include "joiner_paths.h"
#include "joiner_welcome.h"

int
joiner_welcome_open(struct punchd *pd, const struct invite *inv,
    const uint8_t *txid, const uint8_t *pl, size_t plen,
    struct join_welcome *w, uint8_t *secret)
{
	int r;

	if ((r = join_welcome_decode(pl, plen, w)) != 0) {
		pd->ctr.drop_malformed++;
		if (r != JOIN_E_MALFORMED)
			log_warnx("join: a WELCOME refused: %s",
			    join_strerror(r));
		return -1;
	}
	if (memcmp(w->txid, txid, JOIN_TXID_LEN) != 0 ||
	    memcmp(w->mesh_id, inv->mesh_id, JOIN_MESH_ID_LEN) != 0) {
		pd->ctr.drop_malformed++;
		return -1;
	}
	if ((r = join_welcome_open(w, pd->node_id, pd->mesh.pk, pd->mesh.sk,
	    inv->inviter_pk, secret)) != 0) {
		log_warnx("join: a WELCOME %s (ignored)", r == -1 ?
		    "not signed by the inviter" : "that does not open");
		pd->ctr.drop_auth++;
		return -1;
	}
	return 0;
}

struct peer *
joiner_welcome_adopt(struct punchd *pd, const struct invite *inv,
    const struct join_welcome *w, uint8_t *secret, struct result *err)
{
	struct peer	*p;
	char		 idstr[2 * JOIN_ID_LEN + 1];
	char		 a4[INET_ADDRSTRLEN];
	int		 r;

	r = mesh_adopt(pd, w->mesh_name[0] ? w->mesh_name : inv->mesh_name,
	    w->mesh_id, secret);
	sodium_memzero(secret, JOIN_SECRET_LEN);
	if (r == -1) {
		result_set(err, RESULT_INTERNAL, "cannot save the mesh");
		return NULL;
	}
	if (w->v4 != 0) {	/* an older inviter sends none: meshpin.h */
		mesh_set_v4(pd, w->v4);
		log_info("join: mesh IPv4 address %s (from the inviter)",
		    members_v4_str(w->v4, a4));
	}
	inviter_store_reset(pd);
	if (inv->ep_relay[0] != '\0')
		mesh_set_relay(pd, inv->ep_relay);
	if (inv->relay_token[0] != '\0')
		relay_access_keep(pd, inv->relay_token);
	members_set(pd, inv->inviter_id, inv->inviter_pk, NULL);
	sodium_bin2hex(idstr, sizeof(idstr), inv->inviter_id, JOIN_ID_LEN);
	if ((p = peer_find_id(pd, inv->inviter_id)) == NULL &&
	    (p = peer_create(pd, idstr)) == NULL) {
		result_set(err, RESULT_UNAVAILABLE, "peer table full");
		return NULL;
	}
	return p;
}

int
joiner_welcome_cands(const struct invite *inv, const struct sockaddr *from,
    struct sockaddr_storage *cands, enum punch_cand_type *types)
{
	int i, n = 0;

	if (from != NULL) {
		memset(&cands[n], 0, sizeof(cands[n]));
		memcpy(&cands[n], from, netaddr_len(from));
		types[n++] = CAND_NTYPES;	/* guessed from the address */
	}
	/* the code's endpoints too, both families: one of them may be the
	 * better path. The local ones are host candidates whatever their
	 * address says (a global IPv6 one looks like a STUN mapping). */
	for (i = JOINER_LOCAL; i < JOINER_RELAY; i++)
		if (joiner_paths_cand(joiner_paths_addr(inv, i), &cands[n]))
			types[n++] = i == JOINER_LOCAL || i == JOINER_LOCAL6 ?
			    CAND_HOST : CAND_NTYPES;
	return n;
}
