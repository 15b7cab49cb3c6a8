/*
 * The members of the mesh we heard of (the join, ANNOUNCE, a peer's signed
 * E2E_INIT), with their node keys: what e2e_session.c checks a peer's
 * handshake against. $STATE_DIRECTORY/members, through common/state.h:
 *
 *     # mesh members: id public-key name [r] [v4=A.B.C.D]
 *     <node id hex> <Ed25519 public key hex> <name or -> [r] [v4=...]
 *
 * "r": a relay-only member (a browser, docs/browser-member.md); "v4=": its
 * pinned mesh IPv4 address (meshpin.h); files without them read as before
 * (older versions read a "v4=" token where "r" may be as "not r": a member
 * with an address is never relay-only). A "v4=" that is not a mesh address
 * is logged and left out (the member stays, unpinned).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/log.h"
#include "common/state.h"
#include "punchd.h"

static void
members_save(struct punchd *pd)
{
	struct mesh	*m = &pd->mesh;
	char		*text, id[17], pk[65], a[INET_ADDRSTRLEN];
	size_t		 cap = 128 + (size_t)m->nmembers * 180, n;
	int		 i;

	if ((text = malloc(cap)) == NULL)
		return;
	n = snprintf(text, cap, "# mesh members: id public-key name [r] "
	    "[v4=A.B.C.D]\n");
	for (i = 0; i < m->nmembers; i++) {
		sodium_bin2hex(id, sizeof(id), m->members[i].id, JOIN_ID_LEN);
		sodium_bin2hex(pk, sizeof(pk), m->members[i].pk, JOIN_PK_LEN);
		n += snprintf(text + n, cap - n, "%s %s %s%s%s%s\n", id, pk,
		    m->members[i].name[0] ? m->members[i].name : "-",
		    m->members[i].relay_only ? " r" : "",
		    m->members[i].v4 ? " v4=" : "", m->members[i].v4 ?
		    members_v4_str(m->members[i].v4, a) : "");
	}
	if (state_write(pd->statedir, "members", text, n) == -1)
		log_warn("%s: %s/members", __func__, pd->statedir);
	free(text);
}

int
members_v4_parse(const char *s, uint32_t *v4, const char **err)
{
	struct in_addr a;

	*v4 = 0;
	if (inet_pton(AF_INET, s, &a) != 1) {
		*err = "not an IPv4 address";
		return -1;
	}
	if (!join_v4_valid(ntohl(a.s_addr))) {
		*err = "outside 100.64.0.0/10 or ending in .0/.255";
		return -1;
	}
	*v4 = ntohl(a.s_addr);
	return 0;
}

const char *
members_v4_str(uint32_t v4, char *buf)
{
	struct in_addr a = { .s_addr = htonl(v4) };

	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

/* the tokens after the name: "r", "v4=A.B.C.D"; others ignored */
static void
members_load_flag(struct punchd *pd, struct mesh_member *mm, const char *tok)
{
	const char	*err;
	char		 idstr[2 * JOIN_ID_LEN + 1];

	if (!strcmp(tok, "r"))
		mm->relay_only = 1;
	else if (!strncmp(tok, "v4=", 3) &&
	    members_v4_parse(tok + 3, &mm->v4, &err) == -1) {
		sodium_bin2hex(idstr, sizeof(idstr), mm->id, JOIN_ID_LEN);
		log_warnx("%s/members: member %s: %s: %s (not pinned)",
		    pd->statedir, idstr, tok, err);
	}
}

void
members_load(struct punchd *pd)
{
	struct mesh		*m = &pd->mesh;
	struct mesh_member	*mm;
	char			 text[MESH_MAX_MEMBERS * 180], *line, *save;
	char			 id[40], pk[80], name[80], fl[2][24];
	int			 nf, i;

	if (state_read(pd->statedir, "members", text, sizeof(text)) == -1)
		return;
	for (line = strtok_r(text, "\n", &save); line != NULL &&
	    m->nmembers < MESH_MAX_MEMBERS; line = strtok_r(NULL, "\n", &save)) {
		if (*line == '#' || (nf = sscanf(line, "%39s %79s %79s %23s "
		    "%23s", id, pk, name, fl[0], fl[1])) < 3)
			continue;
		mm = &m->members[m->nmembers];
		memset(mm, 0, sizeof(*mm));
		if (sodium_hex2bin(mm->id, JOIN_ID_LEN, id, strlen(id), NULL,
		    NULL, NULL) != 0 || sodium_hex2bin(mm->pk, JOIN_PK_LEN, pk,
		    strlen(pk), NULL, NULL, NULL) != 0)
			continue;
		strlcpy(mm->name, strcmp(name, "-") ? name : "",
		    sizeof(mm->name));
		for (i = 0; i < nf - 3; i++)
			members_load_flag(pd, mm, fl[i]);
		m->nmembers++;
	}
}

static struct mesh_member *
members_lookup(struct punchd *pd, const uint8_t *id)
{
	int i;

	for (i = 0; i < pd->mesh.nmembers; i++)
		if (!memcmp(pd->mesh.members[i].id, id, JOIN_ID_LEN))
			return &pd->mesh.members[i];
	return NULL;
}

const struct mesh_member *
members_find(struct punchd *pd, const uint8_t *id)
{
	return members_lookup(pd, id);
}

void
members_set(struct punchd *pd, const uint8_t *id, const uint8_t *pk,
    const char *name)
{
	struct mesh_member	*mm = members_lookup(pd, id);
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
members_set_relay_only(struct punchd *pd, const uint8_t *id, int on)
{
	struct mesh_member *mm = members_lookup(pd, id);

	if (mm == NULL || mm->relay_only == (on != 0))
		return;
	mm->relay_only = on != 0;
	members_save(pd);
}

int
members_set_v4(struct punchd *pd, const uint8_t *id, uint32_t v4)
{
	struct mesh_member *mm = members_lookup(pd, id);

	if (mm == NULL || mm->v4 == v4 || (v4 != 0 && !join_v4_valid(v4)))
		return 0;
	mm->v4 = v4;
	members_save(pd);
	return 1;
}

int
members_relay_only(struct punchd *pd, const uint8_t *id)
{
	const struct mesh_member *mm = members_lookup(pd, id);

	return mm != NULL && mm->relay_only;
}

void
members_remove(struct punchd *pd, const uint8_t *id)
{
	struct mesh_member *mm = members_lookup(pd, id);

	if (mm == NULL)
		return;
	*mm = pd->mesh.members[--pd->mesh.nmembers];
	members_save(pd);
}

/* a new mesh, or none: nobody is known */
void
members_clear(struct punchd *pd)
{
	pd->mesh.nmembers = 0;
	members_save(pd);
}
