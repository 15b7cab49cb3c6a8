/*
 * The mesh this node belongs to and this node's key, in the state
 * directory (common/state.h: temp, fsync, rename, 0600):
 *
 *   mesh      name=NAME / id=HEX / secret=HEX   (meshctl init, join)
 *   node.key  the Ed25519 secret key, hex (its public half is in it)
 *   members   id pk name, one line per member we heard of
 *
 * The packet key is derived from the mesh secret. punchd.mesh_secret in
 * the configuration still overrides it (tests, older set-ups), and a
 * node with neither keeps the generated mesh.secret of earlier versions.
 * Announcements: when a peer's path comes up, it hears of every other
 * member we know and they hear of it (ANNOUNCE, proto/join.h), so that
 * every pair of members ends up punching each other. The members
 * themselves are in members.c; creating, joining and leaving a mesh as a
 * whole (with the invites and a join under way) in node.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "common/log.h"
#include "common/state.h"
#include "punchd.h"

static int
mesh_hexfield(const char *text, const char *key, uint8_t *out, size_t len)
{
	char		 want[32];
	const char	*p;
	size_t		 n;

	snprintf(want, sizeof(want), "\n%s=", key);
	if (strncmp(text, want + 1, strlen(want + 1)) == 0)
		p = text + strlen(want + 1);
	else if ((p = strstr(text, want)) != NULL)
		p += strlen(want);
	else
		return -1;
	n = strcspn(p, "\n");
	return sodium_hex2bin(out, len, p, n, NULL, &n, NULL) == 0 &&
	    n == len ? 0 : -1;
}

static int
mesh_strfield(const char *text, const char *key, char *out, size_t len)
{
	char		 want[32];
	const char	*p;
	size_t		 n;

	snprintf(want, sizeof(want), "\n%s=", key);
	if (strncmp(text, want + 1, strlen(want + 1)) == 0)
		p = text + strlen(want + 1);
	else if ((p = strstr(text, want)) != NULL)
		p += strlen(want);
	else
		return -1;
	n = strcspn(p, "\n");
	if (n >= len)
		return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

static int
mesh_save(struct punchd *pd)
{
	struct mesh	*m = &pd->mesh;
	char		 text[1024], id[2 * JOIN_MESH_ID_LEN + 1];
	char		 sec[2 * JOIN_SECRET_LEN + 1];
	int		 n, r;

	sodium_bin2hex(id, sizeof(id), m->id, sizeof(m->id));
	sodium_bin2hex(sec, sizeof(sec), m->secret, sizeof(m->secret));
	n = snprintf(text, sizeof(text), "# atmosphere mesh: keep private\n"
	    "name=%s\nid=%s\nsecret=%s\nrelay=%s\nrelay_token=%s\n", m->name,
	    id, sec, m->relay, m->relay_token);
	r = state_write(pd->statedir, "mesh", text, n);
	sodium_memzero(text, sizeof(text));
	sodium_memzero(sec, sizeof(sec));
	if (r == -1)
		log_warn("%s: %s/mesh", __func__, pd->statedir);
	return r;
}

int
mesh_node_key(struct punchd *pd)
{
	struct mesh	*m = &pd->mesh;
	char		 hex[2 * JOIN_SK_LEN + 2];

	if (m->have_key)
		return 0;
	crypto_sign_keypair(m->pk, m->sk);
	sodium_bin2hex(hex, sizeof(hex), m->sk, sizeof(m->sk));
	strlcat(hex, "\n", sizeof(hex));
	if (state_write(pd->statedir, "node.key", hex, strlen(hex)) == -1) {
		log_warn("%s: %s/node.key", __func__, pd->statedir);
		sodium_memzero(hex, sizeof(hex));
		return -1;
	}
	sodium_memzero(hex, sizeof(hex));
	m->have_key = 1;
	return 0;
}

int
mesh_load(struct punchd *pd, uint8_t *secret, char *err, size_t errlen)
{
	struct mesh	*m = &pd->mesh;
	char		 text[1024];
	size_t		 n;

	LIST_INIT(&m->invites);
	if (state_read(pd->statedir, "node.key", text, sizeof(text)) >= 0) {
		n = strcspn(text, "\r\n");
		if (sodium_hex2bin(m->sk, sizeof(m->sk), text, n, NULL, &n,
		    NULL) != 0 || n != sizeof(m->sk)) {
			snprintf(err, errlen, "%s/node.key: expected %zu hex "
			    "digits", pd->statedir, 2 * sizeof(m->sk));
			return -1;
		}
		crypto_sign_ed25519_sk_to_pk(m->pk, m->sk);
		m->have_key = 1;
	}
	if (state_read(pd->statedir, "mesh", text, sizeof(text)) == -1) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s/mesh: %s", pd->statedir,
		    strerror(errno));
		return -1;
	}
	if (mesh_strfield(text, "name", m->name, sizeof(m->name)) == -1 ||
	    mesh_hexfield(text, "id", m->id, sizeof(m->id)) == -1 ||
	    mesh_hexfield(text, "secret", m->secret, sizeof(m->secret)) == -1) {
		sodium_memzero(text, sizeof(text));
		snprintf(err, errlen, "%s/mesh: malformed (name=, id=, "
		    "secret= expected)", pd->statedir);
		return -1;
	}
	if (mesh_strfield(text, "relay", m->relay, sizeof(m->relay)) == -1)
		m->relay[0] = '\0';
	if (mesh_strfield(text, "relay_token", m->relay_token,
	    sizeof(m->relay_token)) == -1)
		m->relay_token[0] = '\0';
	sodium_memzero(text, sizeof(text));
	m->have = 1;
	m->source = "mesh";
	memcpy(secret, m->secret, JOIN_SECRET_LEN);
	members_load(pd);
	return 1;
}

void
mesh_relay_default(struct punchd *pd)
{
	if (pd->relay_urls[0] == '\0' && pd->mesh.relay[0] != '\0')
		strlcpy(pd->relay_urls, pd->mesh.relay, sizeof(pd->relay_urls));
}

void
mesh_set_relay(struct punchd *pd, const char *url)
{
	strlcpy(pd->mesh.relay, url, sizeof(pd->mesh.relay));
	mesh_save(pd);
	mesh_relay_default(pd);
}

void
mesh_set_relay_token(struct punchd *pd, const char *token)
{
	strlcpy(pd->mesh.relay_token, token, sizeof(pd->mesh.relay_token));
	mesh_save(pd);
}

/* The packet key changes: peers of the old mesh cannot talk to us now.
 * The caller drops this node's invites (inviter_reset). */
int
mesh_adopt(struct punchd *pd, const char *name, const uint8_t *id,
    const uint8_t *secret)
{
	struct mesh *m = &pd->mesh;

	strlcpy(m->name, name, sizeof(m->name));
	m->relay[0] = '\0';
	sodium_memzero(m->relay_token, sizeof(m->relay_token));
	memcpy(m->id, id, sizeof(m->id));
	memcpy(m->secret, secret, sizeof(m->secret));
	if (mesh_save(pd) == -1)
		return -1;
	m->have = 1;
	m->source = "mesh";
	if (packet_key_derive(pd->key, m->secret, 0) == -1)
		return -1;
	peer_free_all(pd);
	members_clear(pd);
	store_changed(pd);
	return 0;
}

/* ---- announcements ------------------------------------------------------- */

static void
mesh_announce(struct peer *to, struct peer *about)
{
	struct sockaddr_storage	 cands[JOIN_MAX_CANDS];
	struct join_announce	 a;
	const struct mesh_member *mm;
	uint8_t			 buf[PUNCHD_MTU];
	int			 i, j, n = 0, dup;

	memset(&a, 0, sizeof(a));
	memcpy(a.id, about->id, JOIN_ID_LEN);
	if ((mm = members_find(to->pd, about->id)) != NULL) {
		memcpy(a.pk, mm->pk, JOIN_PK_LEN);
		strlcpy(a.name, mm->name, sizeof(a.name));
		a.flags = mm->relay_only ? JOIN_F_RELAY_ONLY : 0;
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
	if ((n = join_announce_encode(buf, sizeof(buf), &a)) > 0)
		tx_send(to, PACKET_ANNOUNCE, 0, buf, n, peer_dest(to));
}

void
mesh_peer_up(struct peer *p)
{
	struct punchd	*pd = p->pd;
	struct peer	*q;

	if (!pd->mesh.have || !p->bound)
		return;
	/* the new path: p hears of everyone, everyone hears of p */
	TAILQ_FOREACH(q, &pd->peers, entry) {
		if (q == p || !q->bound)
			continue;
		mesh_announce(p, q);
		if (peer_is_up(q))
			mesh_announce(q, p);
	}
}

void
mesh_announce_input(struct peer *from, const uint8_t *pl, size_t len)
{
	struct punchd		*pd = from->pd;
	struct sockaddr_storage	 cands[JOIN_MAX_CANDS];
	struct join_announce	 a;
	struct peer		*q;
	char			 idstr[2 * JOIN_ID_LEN + 1];

	a.cands = cands;
	if (!pd->mesh.have || join_announce_decode(pl, len, &a) != 0) {
		pd->ctr.drop_malformed++;
		return;
	}
	if (!memcmp(a.id, pd->node_id, JOIN_ID_LEN))
		return;
	members_set(pd, a.id, a.pk, a.name);
	members_set_relay_only(pd, a.id, a.flags & JOIN_F_RELAY_ONLY);
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
