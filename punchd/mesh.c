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
 * every pair of members ends up punching each other.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <msgpack.h>
#include <sodium.h>

#include "common/ipc.h"
#include "common/log.h"
#include "common/mpack.h"
#include "common/relay_client.h"
#include "common/state.h"
#include "punchd.h"

static int
hexfield(const char *text, const char *key, uint8_t *out, size_t len)
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
strfield(const char *text, const char *key, char *out, size_t len)
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
	    "name=%s\nid=%s\nsecret=%s\nrelay=%s\n", m->name, id, sec,
	    m->relay);
	r = state_write(pd->statedir, "mesh", text, n);
	sodium_memzero(text, sizeof(text));
	sodium_memzero(sec, sizeof(sec));
	if (r == -1)
		log_warn("%s: %s/mesh", __func__, pd->statedir);
	return r;
}

static void
members_save(struct punchd *pd)
{
	struct mesh	*m = &pd->mesh;
	char		*text, id[17], pk[65];
	size_t		 cap = 128 + (size_t)m->nmembers * 160, n;
	int		 i;

	if ((text = malloc(cap)) == NULL)
		return;
	n = snprintf(text, cap, "# mesh members: id public-key name\n");
	for (i = 0; i < m->nmembers; i++) {
		sodium_bin2hex(id, sizeof(id), m->members[i].id, JOIN_ID_LEN);
		sodium_bin2hex(pk, sizeof(pk), m->members[i].pk, JOIN_PK_LEN);
		n += snprintf(text + n, cap - n, "%s %s %s\n", id, pk,
		    m->members[i].name[0] ? m->members[i].name : "-");
	}
	if (state_write(pd->statedir, "members", text, n) == -1)
		log_warn("%s: %s/members", __func__, pd->statedir);
	free(text);
}

static void
members_load(struct punchd *pd)
{
	struct mesh		*m = &pd->mesh;
	struct mesh_member	*mm;
	char			 text[MESH_MAX_MEMBERS * 160], *line, *save;
	char			 id[40], pk[80], name[80];

	if (state_read(pd->statedir, "members", text, sizeof(text)) == -1)
		return;
	for (line = strtok_r(text, "\n", &save); line != NULL &&
	    m->nmembers < MESH_MAX_MEMBERS; line = strtok_r(NULL, "\n", &save)) {
		if (*line == '#' || sscanf(line, "%39s %79s %79s", id, pk,
		    name) != 3)
			continue;
		mm = &m->members[m->nmembers];
		if (sodium_hex2bin(mm->id, JOIN_ID_LEN, id, strlen(id), NULL,
		    NULL, NULL) != 0 || sodium_hex2bin(mm->pk, JOIN_PK_LEN, pk,
		    strlen(pk), NULL, NULL, NULL) != 0)
			continue;
		strlcpy(mm->name, strcmp(name, "-") ? name : "",
		    sizeof(mm->name));
		m->nmembers++;
	}
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
	if (strfield(text, "name", m->name, sizeof(m->name)) == -1 ||
	    hexfield(text, "id", m->id, sizeof(m->id)) == -1 ||
	    hexfield(text, "secret", m->secret, sizeof(m->secret)) == -1) {
		sodium_memzero(text, sizeof(text));
		snprintf(err, errlen, "%s/mesh: malformed (name=, id=, "
		    "secret= expected)", pd->statedir);
		return -1;
	}
	if (strfield(text, "relay", m->relay, sizeof(m->relay)) == -1)
		m->relay[0] = '\0';
	sodium_memzero(text, sizeof(text));
	m->have = 1;
	m->source = "mesh";
	memcpy(secret, m->secret, JOIN_SECRET_LEN);
	members_load(pd);
	invites_load(pd);
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
mesh_start(struct punchd *pd)
{
	mesh_relay_default(pd);
	invites_start(pd);
}

void
mesh_stop(struct punchd *pd)
{
	join_cancel(pd, "punchd stopping");
	invites_free_all(pd);
}

/* The packet key changes: peers of the old mesh cannot talk to us now. */
int
mesh_adopt(struct punchd *pd, const char *name, const uint8_t *id,
    const uint8_t *secret)
{
	struct mesh *m = &pd->mesh;

	strlcpy(m->name, name, sizeof(m->name));
	m->relay[0] = '\0';
	memcpy(m->id, id, sizeof(m->id));
	memcpy(m->secret, secret, sizeof(m->secret));
	if (mesh_save(pd) == -1)
		return -1;
	m->have = 1;
	m->source = "mesh";
	if (packet_key_derive(pd->key, m->secret, 0) == -1)
		return -1;
	peer_free_all(pd);
	m->nmembers = 0;
	members_save(pd);
	invites_free_all(pd);
	invites_save(pd);
	store_changed(pd);
	return 0;
}

const struct mesh_member *
mesh_member_find(struct punchd *pd, const uint8_t *id)
{
	int i;

	for (i = 0; i < pd->mesh.nmembers; i++)
		if (!memcmp(pd->mesh.members[i].id, id, JOIN_ID_LEN))
			return &pd->mesh.members[i];
	return NULL;
}

void
mesh_member_set(struct punchd *pd, const uint8_t *id, const uint8_t *pk,
    const char *name)
{
	struct mesh_member	*mm = (struct mesh_member *)mesh_member_find(pd,
				    id);
	static const uint8_t	 zero[JOIN_PK_LEN];

	if (mm == NULL) {
		if (pd->mesh.nmembers >= MESH_MAX_MEMBERS)
			return;
		mm = &pd->mesh.members[pd->mesh.nmembers++];
		memset(mm, 0, sizeof(*mm));
		memcpy(mm->id, id, JOIN_ID_LEN);
	} else if ((pk == NULL || !memcmp(mm->pk, pk, JOIN_PK_LEN) ||
	    !memcmp(pk, zero, JOIN_PK_LEN)) && (name == NULL || *name == '\0' ||
	    !strcmp(mm->name, name)))
		return;		/* nothing new */
	if (pk != NULL && memcmp(pk, zero, JOIN_PK_LEN) != 0)
		memcpy(mm->pk, pk, JOIN_PK_LEN);
	if (name != NULL && *name != '\0')
		strlcpy(mm->name, name, sizeof(mm->name));
	members_save(pd);
}

void
mesh_member_remove(struct punchd *pd, const uint8_t *id)
{
	struct mesh_member *mm = (struct mesh_member *)mesh_member_find(pd, id);

	if (mm == NULL)
		return;
	*mm = pd->mesh.members[--pd->mesh.nmembers];
	members_save(pd);
}

void
mesh_send_keyed(struct punchd *pd, uint8_t type, const uint8_t *key,
    const uint8_t *payload, size_t len, const struct sockaddr *to,
    struct relay_client *relay)
{
	uint8_t			buf[PACKET_OVERHEAD + PUNCHD_MTU];
	struct packet_hdr	h;
	ssize_t			n;

	memset(&h, 0, sizeof(h));
	h.version = PACKET_VERSION;
	h.type = type;
	memcpy(h.sender, pd->node_id, PACKET_NODEID_LEN);
	h.seq = pd->seq++;
	if ((n = packet_encode(buf, sizeof(buf), &h, payload, len, key)) == -1)
		return;
	if (to != NULL)
		sock_send(pd, buf, n, to);
	else if (relay != NULL)
		relay_client_send(relay, buf, n);
}

/* ---- announcements --------------------------------------------------------- */

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
	if ((mm = mesh_member_find(to->pd, about->id)) != NULL) {
		memcpy(a.pk, mm->pk, JOIN_PK_LEN);
		strlcpy(a.name, mm->name, sizeof(a.name));
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
		peer_send_pkt(to, PACKET_ANNOUNCE, buf, n, peer_dest(to));
}

void
mesh_peer_up(struct peer *p)
{
	struct punchd	*pd = p->pd;
	struct peer	*q;

	join_peer_up(p);
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
	mesh_member_set(pd, a.id, a.pk, a.name);
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
	peer_punch(q, cands, a.ncands);
}

/* ---- IPC ------------------------------------------------------------------- */

static void
mesh_pack(struct punchd *pd, msgpack_packer *pk)
{
	struct mesh		*m = &pd->mesh;
	struct mesh_invite	*inv;
	char			 id[2 * JOIN_MESH_ID_LEN + 1], key[65];
	int			 n = 0;
	uint64_t		 now = (uint64_t)time(NULL);

	LIST_FOREACH(inv, &m->invites, entry)
		n++;
	sodium_bin2hex(id, sizeof(id), m->id, sizeof(m->id));
	sodium_bin2hex(key, sizeof(key), m->pk, sizeof(m->pk));
	msgpack_pack_map(pk, 8);
	mpack_kv_str(pk, "name", m->have ? m->name : NULL);
	mpack_kv_str(pk, "mesh_id", m->have ? id : NULL);
	mpack_kv_str(pk, "source", m->source);
	mpack_kv_str(pk, "node_id", pd->node_idstr);
	mpack_kv_str(pk, "public_key", m->have_key ? key : NULL);
	mpack_kv_int(pk, "members", m->nmembers);
	mpack_kv_int(pk, "peers", pd->npeers);
	mpack_key(pk, "invites");
	msgpack_pack_array(pk, n);
	LIST_FOREACH(inv, &m->invites, entry) {
		msgpack_pack_map(pk, 4);
		mpack_kv_str(pk, "invite", inv->tag);
		mpack_kv_int(pk, "expires_in_s", (int64_t)inv->expires -
		    (int64_t)now);
		mpack_kv_int(pk, "uses", inv->nuses);
		mpack_kv_int(pk, "max_uses", inv->max_uses);
	}
}

void
mesh_ctl_get(struct ipc_conn *c, uint32_t msgid,
    const struct msgpack_object *params, void *arg)
{
	(void)params;
	mesh_pack(arg, ipc_reply_start(c, msgid));
	ipc_reply_finish(c);
}

void
mesh_ctl_init(struct ipc_conn *c, uint32_t msgid,
    const struct msgpack_object *params, void *arg)
{
	struct punchd	*pd = arg;
	char		 name[JOIN_NAME_MAX + 1];
	uint8_t		 id[JOIN_MESH_ID_LEN], secret[JOIN_SECRET_LEN];
	int		 force = 0, i;

	if (mpack_get_str(params, "name", name, sizeof(name)) != 0 ||
	    mpack_get_bool(params, "force", &force) == -1 || name[0] == '\0') {
		ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS, "expected {name: "
		    "1..%d bytes, force?: bool}", JOIN_NAME_MAX);
		return;
	}
	for (i = 0; name[i] != '\0'; i++)
		if ((unsigned char)name[i] < 0x21 || name[i] == 0x7f) {
			ipc_reply_error(c, msgid, IPC_ERR_BAD_PARAMS, "mesh "
			    "names are printable, without spaces");
			return;
		}
	if (pd->mesh.have && !force) {
		ipc_reply_error(c, msgid, "exists", "this node is already in "
		    "mesh '%s' (meshctl init --force replaces it, meshctl "
		    "leave leaves it)", pd->mesh.name);
		return;
	}
	if (mesh_node_key(pd) == -1) {
		ipc_reply_error(c, msgid, IPC_ERR_INTERNAL, "cannot write "
		    "%s/node.key", pd->statedir);
		return;
	}
	join_cancel(pd, "a new mesh was created");
	randombytes_buf(id, sizeof(id));
	randombytes_buf(secret, sizeof(secret));
	i = mesh_adopt(pd, name, id, secret);
	sodium_memzero(secret, sizeof(secret));
	if (i == -1) {
		ipc_reply_error(c, msgid, IPC_ERR_INTERNAL, "cannot write "
		    "%s/mesh", pd->statedir);
		return;
	}
	log_notice("created mesh '%s'", name);
	mesh_ctl_get(c, msgid, params, arg);
}

void
mesh_ctl_leave(struct ipc_conn *c, uint32_t msgid,
    const struct msgpack_object *params, void *arg)
{
	struct punchd	*pd = arg;
	struct mesh	*m = &pd->mesh;
	uint8_t		 secret[JOIN_SECRET_LEN];

	(void)params;
	if (!m->have) {
		ipc_reply_error(c, msgid, IPC_ERR_NOT_FOUND, "this node is in "
		    "no mesh");
		return;
	}
	log_notice("leaving mesh '%s'", m->name);
	join_cancel(pd, "left the mesh");
	peer_free_all(pd);
	invites_free_all(pd);
	state_remove(pd->statedir, "mesh");
	state_remove(pd->statedir, "invites");
	state_remove(pd->statedir, "members");
	m->nmembers = 0;
	m->have = 0;
	m->source = "none";
	sodium_memzero(m->secret, sizeof(m->secret));
	/* a key nobody has, until the next init or join */
	randombytes_buf(secret, sizeof(secret));
	packet_key_derive(pd->key, secret, 0);
	sodium_memzero(secret, sizeof(secret));
	store_changed(pd);
	ipc_reply_ok(c, msgid);
}
