/*
 * relayd's token issuing (docs/relay-tokens.md), run instead of the relay:
 *
 *   relayd --issue-token SESSION [--ttl D] [--key-id N]   v1, one session
 *   relayd --issue-access [--prefix P] [--ttl D] [--key-id N]
 *                                    v2, any session or names starting P
 *
 * The token goes to stdout alone, so scripts can take it with $(...). The
 * key is --key-id, or the highest id configured (the newest, during a
 * rotation).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "relayd/http.h"
#include "relayd/relayd.h"

/* a session token is for a moment (a browser tab, a test); an access token
 * sits in a node's configuration and is renewed by the operator */
#define TOKENCLI_SESSION_TTL	(24ULL * 3600)
#define TOKENCLI_ACCESS_TTL	(30ULL * 24 * 3600)
/* ten years: longer is a secret, not a token */
#define TOKENCLI_TTL_MAX	(3650ULL * 24 * 3600)

/* "90", "90s", "15m", "12h", "30d" to seconds, 1 s .. ten years */
static int
tokencli_ttl(const char *s, uint64_t *secs)
{
	unsigned long long	 v;
	char			*end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || v > TOKENCLI_TTL_MAX)
		return -1;
	if (!strcmp(end, "m"))
		v *= 60;
	else if (!strcmp(end, "h"))
		v *= 3600;
	else if (!strcmp(end, "d"))
		v *= 86400;
	else if (*end != '\0' && strcmp(end, "s") != 0)
		return -1;
	if (v < 1 || v > TOKENCLI_TTL_MAX)
		return -1;
	*secs = v;
	return 0;
}

int
tokencli_wanted(const struct tokencli *t)
{
	return t->session != NULL || t->access != NULL || t->prefix != NULL ||
	    t->ttl != NULL || t->kid != NULL;
}

static const struct token_key *
tokencli_key(const struct relayd_conf *c, const char *kid)
{
	const struct token_key	*k = NULL;
	unsigned long		 id;
	unsigned		 i;
	char			*end;

	if (kid == NULL) {
		for (i = 0; i < c->keys.n; i++)
			if (k == NULL || c->keys.key[i].id > k->id)
				k = &c->keys.key[i];
		if (k == NULL)
			fprintf(stderr, "relayd: no relay secret configured "
			    "(secret, secret_file or secrets)\n");
		return k;
	}
	errno = 0;
	id = strtoul(kid, &end, 10);
	if (*kid < '0' || *kid > '9' || *end != '\0' || errno != 0 ||
	    id > TOKEN_KID_MAX || (k = token_keyring_find(&c->keys,
	    (unsigned)id)) == NULL)
		fprintf(stderr, "relayd: --key-id %s: no such key configured\n",
		    kid);
	return k;
}

int
tokencli_issue(const struct relayd_conf *c, const struct tokencli *t)
{
	const struct token_key	*k;
	char			 tok[TOKEN_MAXLEN];
	uint64_t		 ttl;
	int			 rv;

	if (t->session != NULL && t->access != NULL) {
		fprintf(stderr, "relayd: --issue-token or --issue-access, "
		    "not both\n");
		return 2;
	}
	if (t->session == NULL && t->access == NULL) {
		fprintf(stderr, "relayd: --prefix, --ttl and --key-id go with "
		    "--issue-token or --issue-access\n");
		return 2;
	}
	if (t->session != NULL && t->prefix != NULL) {
		fprintf(stderr, "relayd: --prefix goes with --issue-access\n");
		return 2;
	}
	if (t->session != NULL && !http_session_valid(t->session)) {
		fprintf(stderr, "relayd: session id must be "
		    "[A-Za-z0-9._-]{1,128}\n");
		return 2;
	}
	if (t->prefix != NULL && (!http_session_valid(t->prefix) ||
	    strlen(t->prefix) > TOKEN_PREFIX_MAX)) {
		fprintf(stderr, "relayd: --prefix must be [A-Za-z0-9._-]{1,%d}\n",
		    TOKEN_PREFIX_MAX);
		return 2;
	}
	ttl = t->access != NULL ? TOKENCLI_ACCESS_TTL : TOKENCLI_SESSION_TTL;
	if (t->ttl != NULL && tokencli_ttl(t->ttl, &ttl) == -1) {
		fprintf(stderr, "relayd: --ttl: '%s' is not a duration from 1s "
		    "to 3650d (90s, 15m, 12h, 30d)\n", t->ttl);
		return 2;
	}
	if ((k = tokencli_key(c, t->kid)) == NULL)
		return 1;
	ttl += (uint64_t)time(NULL);
	if (t->access != NULL)
		rv = token_access_issue(k->secret, k->len, k->id, t->prefix,
		    ttl, tok, sizeof(tok));
	else
		rv = token_issue(k->secret, k->len, t->session, ttl, tok,
		    sizeof(tok));
	if (rv == -1) {
		fprintf(stderr, "relayd: cannot issue a token\n");
		return 1;
	}
	printf("%s\n", tok);
	explicit_bzero(tok, sizeof(tok));
	return 0;
}
