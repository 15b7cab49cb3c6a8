/*
 * Announcements: when a peer's path comes up, it hears of every other
 * member we know and they hear of it (ANNOUNCE, proto/join.h), so that
 * every pair of members ends up punching each other. Each ANNOUNCE carries
 * the announced member's pinned mesh IPv4 address when it has one, and
 * the peer also hears of this node itself (no addresses, just its pin):
 * a member's word on its own pin sets it, a third party's only fills a
 * member without one (meshpin.h). Older nodes ignore the pin; one that
 * hears a node announce itself records the key it already has.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "common/log.h"
#include "punchd.h"
#include "meshpin.h"

static void
mesh_announce_send(struct peer *to, const struct join_announce *a)
{
	uint8_t	buf[PUNCHD_MTU];
	int	n;

	if ((n = join_announce_encode(buf, sizeof(buf), a)) > 0)
		tx_send(to, PACKET_ANNOUNCE, 0, buf, n, peer_dest(to));
}

static void
mesh_announce(struct peer *to, struct peer *about)
{
	struct sockaddr_storage	 cands[JOIN_MAX_CANDS];
	struct join_announce	 a;
	const struct mesh_member *mm;
	int			 i, j, n = 0, dup;

	memset(&a, 0, sizeof(a));
	memcpy(a.id, about->id, JOIN_ID_LEN);
	if ((mm = members_find(to->pd, about->id)) != NULL) {
		memcpy(a.pk, mm->pk, JOIN_PK_LEN);
		strlcpy(a.name, mm->name, sizeof(a.name));
		a.flags = mm->relay_only ? JOIN_F_RELAY_ONLY : 0;
		a.v4 = mm->v4;
	}
	if (about->has_endpoint)
		cands[n++] = about->endpoint;
	for (i = 0; i < about->punch.npairs && n < JOIN_MAX_CANDS; i++) {
		memset(&cands[n], 0, sizeof(cands[n]));
		memcpy(&cands[n], &about->punch.pairs[i].remote.addr,
		    sizeof(about->punch.pairs[i].remote.addr));
		for (j = 0, dup = 0; j < n; j++)
			dup |= netaddr_equal((struct sockaddr *)&cands[j],
			    (struct sockaddr *)&cands[n]);
		if (!dup)
			n++;
	}
	a.cands = cands;
	a.ncands = n;
	mesh_announce_send(to, &a);
}

/* this node to `to`: its pin (nothing else new to a peer that is up) */
static void
mesh_announce_self(struct peer *to)
{
	struct punchd		*pd = to->pd;
	struct join_announce	 a;

	memset(&a, 0, sizeof(a));
	if ((a.v4 = meshpin_self(pd)) == 0 || !pd->mesh.have_key)
		return;
	memcpy(a.id, pd->node_id, JOIN_ID_LEN);
	memcpy(a.pk, pd->mesh.pk, JOIN_PK_LEN);
	mesh_announce_send(to, &a);
}

void
mesh_announce_peer_up(struct peer *p)
{
	struct punchd	*pd = p->pd;
	struct peer	*q;

	if (!pd->mesh.have || !p->bound)
		return;
	/* the new path: p hears of us and everyone, everyone hears of p */
	mesh_announce_self(p);
	TAILQ_FOREACH(q, &pd->peers, entry) {
		if (q == p || !q->bound)
			continue;
		mesh_announce(p, q);
		if (peer_is_up(q))
			mesh_announce(q, p);
	}
}

/* a.v4 for member a.id, heard from `from` */
static void
mesh_announce_pin(struct peer *from, const struct join_announce *a)
{
	struct punchd	*pd = from->pd;
	uint32_t	 had = meshpin_of(pd, a->id);
	int		 own = !memcmp(a->id, from->id, JOIN_ID_LEN);
	char		 x[INET_ADDRSTRLEN], y[INET_ADDRSTRLEN];

	if (a->v4 == 0 || a->v4 == had || (had != 0 && !own))
		return;
	if (members_set_v4(pd, a->id, a->v4) && had != 0)
		log_notice("member %s: mesh IPv4 pin %s -> %s (its own word)",
		    peer_label(from), members_v4_str(had, x),
		    members_v4_str(a->v4, y));
}

void
mesh_announce_input(struct peer *from, const uint8_t *pl, size_t len)
{
	struct punchd		*pd = from->pd;
	struct sockaddr_storage	 cands[JOIN_MAX_CANDS];
	struct join_announce	 a;
	struct peer		*q;
	char			 idstr[2 * JOIN_ID_LEN + 1];
	int			 r = 0;

	a.cands = cands;
	if (!pd->mesh.have || (r = join_announce_decode(pl, len, &a)) != 0) {
		pd->ctr.drop_malformed++;
		if (pd->mesh.have && r != JOIN_E_MALFORMED)
			log_warnx("ANNOUNCE from %s refused: %s",
			    peer_label(from), join_strerror(r));
		return;
	}
	if (!memcmp(a.id, pd->node_id, JOIN_ID_LEN))
		return;
	if (!memcmp(a.id, from->id, JOIN_ID_LEN)) {
		/* the sender about itself: its pin, nothing to punch */
		members_set(pd, a.id, a.pk, NULL);
		mesh_announce_pin(from, &a);
		return;
	}
	members_set(pd, a.id, a.pk, a.name);
	members_set_relay_only(pd, a.id, a.flags & JOIN_F_RELAY_ONLY);
	mesh_announce_pin(from, &a);
	if ((q = peer_find_id(pd, a.id)) == NULL) {
		sodium_bin2hex(idstr, sizeof(idstr), a.id, JOIN_ID_LEN);
		if ((q = peer_create(pd, idstr)) == NULL)
			return;
		if (a.name[0] != '\0' && peer_find(pd, a.name) == NULL)
			strlcpy(q->name, a.name, sizeof(q->name));
		log_info("member %s announced by %s, punching it", peer_label(q),
		    peer_label(from));
		store_changed(pd);
	} else if (peer_is_up(q))
		return;
	link_punch(q, cands, a.ncands);
}
