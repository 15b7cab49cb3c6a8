/*
 * The mesh this node belongs to and this node's key, in the state
 * directory (common/state.h: temp, fsync, rename, 0600):
 *
 *   mesh      name=NAME / id=HEX / secret=HEX   (meshctl init, join)
 *             [v4=A.B.C.D: this node's pinned mesh IPv4, meshpin.h]
 *   node.key  the Ed25519 secret key, hex (its public half is in it)
 *   members   id pk name, one line per member we heard of
 *
 * The packet key is derived from the mesh secret. punchd.mesh_secret in
 * the configuration still overrides it (tests, older set-ups), and a
 * node with neither keeps the generated mesh.secret of earlier versions.
 * Announcements are mesh_announce.c's. The members themselves are in
 * members.c; creating, joining and leaving a mesh as a whole (with the
 * invites and a join under way) in node.c.
 */
#include <arpa/inet.h>
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
	char		 sec[2 * JOIN_SECRET_LEN + 1], a[INET_ADDRSTRLEN];
	int		 n, r;

	sodium_bin2hex(id, sizeof(id), m->id, sizeof(m->id));
	sodium_bin2hex(sec, sizeof(sec), m->secret, sizeof(m->secret));
	n = snprintf(text, sizeof(text), "# atmosphere mesh: keep private\n"
	    "name=%s\nid=%s\nsecret=%s\nrelay=%s\nrelay_token=%s\n%s%s%s",
	    m->name, id, sec, m->relay, m->relay_token, m->v4 ? "v4=" : "",
	    m->v4 ? members_v4_str(m->v4, a) : "", m->v4 ? "\n" : "");
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
	char		 text[1024], v4[32];
	const char	*why;
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
	if (mesh_strfield(text, "v4", v4, sizeof(v4)) == 0 &&
	    members_v4_parse(v4, &m->v4, &why) == -1)
		log_warnx("%s/mesh: v4=%s: %s (not pinned: computed again)",
		    pd->statedir, v4, why);
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
mesh_set_v4(struct punchd *pd, uint32_t v4)
{
	if (pd->mesh.v4 == v4)
		return;
	pd->mesh.v4 = v4;
	mesh_save(pd);
}

void
mesh_set_relay_token(struct punchd *pd, const char *token)
{
	strlcpy(pd->mesh.relay_token, token, sizeof(pd->mesh.relay_token));
	mesh_save(pd);
}

/* The packet key changes: peers of the old mesh cannot talk to us now.
 * The caller drops this node's invites (inviter_store_reset). */
int
mesh_adopt(struct punchd *pd, const char *name, const uint8_t *id,
    const uint8_t *secret)
{
	struct mesh *m = &pd->mesh;

	strlcpy(m->name, name, sizeof(m->name));
	m->relay[0] = '\0';
	m->v4 = 0;		/* the new mesh's inviter gives one */
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
