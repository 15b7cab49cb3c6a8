/*
 * The members of the mesh we heard of (the join, ANNOUNCE, a peer's signed
 * E2E_INIT), with their node keys: what e2e_session.c checks a peer's
 * handshake against. $STATE_DIRECTORY/members, through common/state.h:
 *
 *     # mesh members: id public-key name [r]
 *     <node id hex> <Ed25519 public key hex> <name or -> [r]
 *
 * "r": a relay-only member (a browser, docs/browser-member.md); files
 * without it read as before.
 */
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
	char		*text, id[17], pk[65];
	size_t		 cap = 128 + (size_t)m->nmembers * 160, n;
	int		 i;

	if ((text = malloc(cap)) == NULL)
		return;
	n = snprintf(text, cap, "# mesh members: id public-key name\n");
	for (i = 0; i < m->nmembers; i++) {
		sodium_bin2hex(id, sizeof(id), m->members[i].id, JOIN_ID_LEN);
		sodium_bin2hex(pk, sizeof(pk), m->members[i].pk, JOIN_PK_LEN);
		n += snprintf(text + n, cap - n, "%s %s %s%s\n", id, pk,
		    m->members[i].name[0] ? m->members[i].name : "-",
		    m->members[i].relay_only ? " r" : "");
	}
	if (state_write(pd->statedir, "members", text, n) == -1)
		log_warn("%s: %s/members", __func__, pd->statedir);
	free(text);
}

void
members_load(struct punchd *pd)
{
	struct mesh		*m = &pd->mesh;
	struct mesh_member	*mm;
	char			 text[MESH_MAX_MEMBERS * 160], *line, *save;
	char			 id[40], pk[80], name[80], fl[8];
	int			 nf;

	if (state_read(pd->statedir, "members", text, sizeof(text)) == -1)
		return;
	for (line = strtok_r(text, "\n", &save); line != NULL &&
	    m->nmembers < MESH_MAX_MEMBERS; line = strtok_r(NULL, "\n", &save)) {
		if (*line == '#' || (nf = sscanf(line, "%39s %79s %79s %7s", id,
		    pk, name, fl)) < 3)
			continue;
		mm = &m->members[m->nmembers];
		if (sodium_hex2bin(mm->id, JOIN_ID_LEN, id, strlen(id), NULL,
		    NULL, NULL) != 0 || sodium_hex2bin(mm->pk, JOIN_PK_LEN, pk,
		    strlen(pk), NULL, NULL, NULL) != 0)
			continue;
		strlcpy(mm->name, strcmp(name, "-") ? name : "",
		    sizeof(mm->name));
		mm->relay_only = nf == 4 && !strcmp(fl, "r");
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
