/*
 * The invites this node minted (`meshctl invite`, mesh.invite), in memory
 * and in $STATE_DIRECTORY/invites, 0600, one line per invite:
 *
 *     <join secret hex> <expiry> <max uses> <uses> [<joiner id>:<pk> ...]
 *
 * Every use is kept (joiner id and key) until the invite is a day past its
 * expiry (inviter.c answers the same joiner again, refuses any other). The
 * secret is never logged: logs name an invite by its tag, the first 8
 * bytes of BLAKE2b(secret), in hex. Each invite owns its relay session's
 * client (inviter.c starts it): freed with the invite, stopped once the
 * invite is no longer live.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "common/log.h"
#include "common/relay_client.h"
#include "common/state.h"
#include "punchd.h"
#include "inviter.h"

static void
inviter_store_tag(struct mesh_invite *inv)
{
	uint8_t h[8];

	crypto_generichash(h, sizeof(h), inv->secret, sizeof(inv->secret),
	    NULL, 0);
	sodium_bin2hex(inv->tag, sizeof(inv->tag), h, sizeof(h));
}

void
inviter_store_free(struct mesh_invite *inv)
{
	if (inv->relay != NULL) {
		relay_client_stop(inv->relay);
		relay_client_free(inv->relay);
	}
	LIST_REMOVE(inv, entry);
	sodium_memzero(inv, sizeof(*inv));
	free(inv);
}

void
inviter_store_free_all(struct punchd *pd)
{
	while (!LIST_EMPTY(&pd->mesh.invites))
		inviter_store_free(LIST_FIRST(&pd->mesh.invites));
}

struct mesh_invite *
inviter_store_new(struct punchd *pd, const uint8_t *secret, uint64_t expires,
    int max_uses)
{
	struct mesh_invite *inv;

	if ((inv = calloc(1, sizeof(*inv))) == NULL)
		return NULL;
	inv->pd = pd;
	memcpy(inv->secret, secret, JOIN_SECRET_LEN);
	join_key(inv->key, inv->secret);
	inviter_store_tag(inv);
	inv->expires = expires;
	inv->max_uses = max_uses;
	LIST_INSERT_HEAD(&pd->mesh.invites, inv, entry);
	return inv;
}

int
inviter_store_save(struct punchd *pd)
{
	struct mesh_invite	*inv;
	char			*text, sec[65], id[17], pk[65];
	size_t			 cap = 64, n;
	int			 i, r;

	LIST_FOREACH(inv, &pd->mesh.invites, entry)
		cap += 128 + 300 + (size_t)inv->nuses * 100;
	if ((text = malloc(cap)) == NULL)
		return -1;
	n = snprintf(text, cap, "# invites: secret expiry max uses "
	    "[id:pk ...]\n");
	LIST_FOREACH(inv, &pd->mesh.invites, entry) {
		sodium_bin2hex(sec, sizeof(sec), inv->secret, JOIN_SECRET_LEN);
		n += snprintf(text + n, cap - n, "%s %llu %d %d", sec,
		    (unsigned long long)inv->expires, inv->max_uses,
		    inv->nuses);
		for (i = 0; i < inv->nuses; i++) {
			sodium_bin2hex(id, sizeof(id), inv->uses[i].id,
			    JOIN_ID_LEN);
			sodium_bin2hex(pk, sizeof(pk), inv->uses[i].pk,
			    JOIN_PK_LEN);
			n += snprintf(text + n, cap - n, " %s:%s", id, pk);
		}
		n += snprintf(text + n, cap - n, " %s\n",
		    inv->relay_url[0] ? inv->relay_url : "-");
	}
	sodium_memzero(sec, sizeof(sec));
	if ((r = state_write(pd->statedir, "invites", text, n)) == -1)
		log_warn("%s: %s/invites", __func__, pd->statedir);
	sodium_memzero(text, n);
	free(text);
	return r;
}

static void
inviter_store_line(struct punchd *pd, char *line)
{
	struct mesh_invite	*inv;
	uint8_t			 secret[JOIN_SECRET_LEN];
	char			*tok, *save = NULL, *c;
	unsigned long long	 exp;
	int			 max, i = 0;

	if ((tok = strtok_r(line, " \n", &save)) == NULL || *tok == '#' ||
	    sodium_hex2bin(secret, sizeof(secret), tok, strlen(tok), NULL,
	    NULL, NULL) != 0)
		return;
	if ((tok = strtok_r(NULL, " \n", &save)) == NULL ||
	    sscanf(tok, "%llu", &exp) != 1 ||
	    (tok = strtok_r(NULL, " \n", &save)) == NULL ||
	    sscanf(tok, "%d", &max) != 1 || max < 1 || max > MESH_MAX_USES ||
	    strtok_r(NULL, " \n", &save) == NULL)
		return;
	if (exp + MESH_INVITE_GRACE < (unsigned long long)time(NULL))
		return;		/* long gone */
	if ((inv = inviter_store_new(pd, secret, exp, max)) == NULL)
		return;
	sodium_memzero(secret, sizeof(secret));
	while ((tok = strtok_r(NULL, " \n", &save)) != NULL) {
		if ((c = strchr(tok, ':')) == NULL) {
			if (strcmp(tok, "-") != 0)
				strlcpy(inv->relay_url, tok,
				    sizeof(inv->relay_url));
			continue;
		}
		*c++ = '\0';
		if (i < MESH_MAX_USES && sodium_hex2bin(inv->uses[i].id,
		    JOIN_ID_LEN, tok, strlen(tok), NULL, NULL, NULL) == 0 &&
		    sodium_hex2bin(inv->uses[i].pk, JOIN_PK_LEN, c, strlen(c),
		    NULL, NULL, NULL) == 0)
			i++;
	}
	inv->nuses = i;
}

int
inviter_store_load(struct punchd *pd)
{
	char	text[65536], *line, *save = NULL;

	if (state_read(pd->statedir, "invites", text, sizeof(text)) == -1)
		return errno == ENOENT ? 0 : -1;
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		inviter_store_line(pd, line);
	sodium_memzero(text, sizeof(text));
	return 0;
}

int
inviter_store_live(const struct mesh_invite *inv)
{
	return (uint64_t)time(NULL) < inv->expires &&
	    inv->nuses < inv->max_uses;
}

/* Forget long-expired invites; leave relay sessions of dead ones. Never
 * from inside an invite's relay callback (it frees relay clients). */
void
inviter_store_prune(struct punchd *pd)
{
	struct mesh_invite	*inv, *next;
	uint64_t		 now = (uint64_t)time(NULL);
	int			 changed = 0;

	for (inv = LIST_FIRST(&pd->mesh.invites); inv != NULL; inv = next) {
		next = LIST_NEXT(inv, entry);
		if (inv->expires + MESH_INVITE_GRACE < now) {
			inviter_store_free(inv);
			changed = 1;
		} else if (!inviter_store_live(inv) && inv->relay != NULL) {
			relay_client_stop(inv->relay);
			relay_client_free(inv->relay);
			inv->relay = NULL;
		}
	}
	if (changed)
		inviter_store_save(pd);
}

/* a new mesh: the invites of the old one mean nothing */
void
inviter_store_reset(struct punchd *pd)
{
	inviter_store_free_all(pd);
	inviter_store_save(pd);
}
