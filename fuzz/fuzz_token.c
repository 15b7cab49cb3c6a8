/*
 * Relay tokens (proto/token.h). Input: session id, a newline, the token
 * as a client sends it. Neither token_check (v1, one secret) nor
 * token_verify (v1 and v2 access tokens, a keyring of two keys) may accept
 * what the issuers did not write: the fuzzer cannot find an HMAC, so an OK
 * for anything else means a check is broken. And the issuers' output, for
 * fields taken from the input (session, expiry, key id, prefix), must
 * check OK, EXPIRED or WRONG_PREFIX exactly as its fields say, never
 * MALFORMED, and never pass under a key it was not made with.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/token.h"

#define SECRET	"fuzz-relay-secret-0123456789abcdef"
#define SECRET2	"fuzz-relay-second-key-0123456789ab"
#define KID2	7u
#define NOW	1767225600ull

static struct token_keyring	ring;

static void
fuzz_ring(void)
{
	if (ring.n > 0)
		return;
	if (token_keyring_add(&ring, 0, SECRET, strlen(SECRET)) == -1 ||
	    token_keyring_add(&ring, KID2, SECRET2, strlen(SECRET2)) == -1)
		abort();
}

/* An OK from token_verify: the token must be one the issuers write. */
static void
fuzz_accepted(const char *session, const char *tok,
    const struct token_grant *g)
{
	char		 again[TOKEN_MAXLEN];
	const char	*s = g->kid == KID2 ? SECRET2 : SECRET;
	int		 rv;

	if (g->expiry <= NOW)
		abort();
	if (g->kind == TOKEN_KIND_SESSION)
		rv = token_issue(s, strlen(s), session, g->expiry, again,
		    sizeof(again));
	else if (g->kind == TOKEN_KIND_ANY)
		rv = token_access_issue(s, strlen(s), g->kid, NULL, g->expiry,
		    again, sizeof(again));
	else {
		if (strncmp(session, g->prefix, strlen(g->prefix)) != 0)
			abort();
		rv = token_access_issue(s, strlen(s), g->kid, g->prefix,
		    g->expiry, again, sizeof(again));
	}
	if (rv != 0 || strcmp(again, tok) != 0)
		abort();
}

/* Issue a v2 token from the input's bytes and check it every way. */
static void
fuzz_issue_access(const char *session, const uint8_t *data, size_t size)
{
	char			 tok[TOKEN_MAXLEN], prefix[TOKEN_PREFIX_MAX + 1];
	struct token_grant	 g;
	enum token_result	 r, want;
	uint64_t		 exp = 0;
	size_t			 i, plen;
	unsigned		 kid;

	for (i = 0; i < 8 && i < size; i++)
		exp = exp << 8 | data[i];
	kid = size > 8 && (data[8] & 1) ? KID2 : 0;
	/* a prefix: the first bytes of the session, or none */
	plen = size > 9 ? data[9] % (TOKEN_PREFIX_MAX + 1) : 0;
	if (plen > strlen(session))
		plen = strlen(session);
	memcpy(prefix, session, plen);
	prefix[plen] = '\0';
	if (token_access_issue(kid ? SECRET2 : SECRET, strlen(kid ? SECRET2 :
	    SECRET), kid, plen ? prefix : NULL, exp, tok, sizeof(tok)) != 0)
		return;		/* a prefix with characters names never have */
	if (strlen(tok) >= TOKEN_MAXLEN)
		abort();
	want = exp <= NOW ? TOKEN_EXPIRED : TOKEN_OK;
	r = token_verify(&ring, session, tok, NOW, &g);
	if (r != want || g.kid != kid || g.expiry != exp ||
	    g.kind != (plen ? TOKEN_KIND_PREFIX : TOKEN_KIND_ANY))
		abort();
	/* outside the prefix: refused, after the expiry */
	if (plen > 0 && token_verify(&ring, "", tok, NOW, NULL) !=
	    (exp <= NOW ? TOKEN_EXPIRED : TOKEN_WRONG_PREFIX))
		abort();
	/* the v1 checker never takes it, with either secret */
	if (token_check(SECRET, strlen(SECRET), session, tok, NOW) == TOKEN_OK ||
	    token_check(SECRET2, strlen(SECRET2), session, tok, NOW) ==
	    TOKEN_OK)
		abort();
	/* made with the other key under the same id: a MAC failure */
	if (token_access_issue(kid ? SECRET : SECRET2, strlen(kid ? SECRET :
	    SECRET2), kid, plen ? prefix : NULL, exp, tok, sizeof(tok)) != 0 ||
	    token_verify(&ring, session, tok, NOW, NULL) != TOKEN_BAD_MAC)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char			*s, *nl, tok[TOKEN_MAXLEN];
	uint64_t		 exp = 0;
	enum token_result	 r;
	struct token_grant	 g;
	size_t			 i;

	fuzz_ring();
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if ((nl = strchr(s, '\n')) == NULL) {
		free(s);
		return 0;
	}
	*nl++ = '\0';
	r = token_check(SECRET, strlen(SECRET), s, nl, NOW);
	if (r == TOKEN_OK) {
		/* only the one token token_issue writes for this session and
		 * expiry (the seeds hold one; the fuzzer cannot forge more) */
		exp = strtoull(nl + 3, NULL, 10);
		if (strncmp(nl, "v1.", 3) != 0 || token_issue(SECRET,
		    strlen(SECRET), s, exp, tok, sizeof(tok)) != 0 ||
		    strcmp(tok, nl) != 0)
			abort();
		exp = 0;
	}
	(void)token_result_str(r);
	memset(&g, 0, sizeof(g));
	r = token_verify(&ring, s, nl, NOW, &g);
	if (r == TOKEN_OK)
		fuzz_accepted(s, nl, &g);
	(void)token_result_str(r);
	exp = 0;
	for (i = 0; i < 8 && i < size; i++)
		exp = exp << 8 | data[i];
	if (token_issue(SECRET, strlen(SECRET), s, exp, tok,
	    sizeof(tok)) == 0) {
		if (strlen(tok) >= TOKEN_MAXLEN)
			abort();
		r = token_check(SECRET, strlen(SECRET), s, tok, NOW);
		if (r != TOKEN_OK && r != TOKEN_EXPIRED)
			abort();
		if ((r == TOKEN_OK) != (exp > NOW))
			abort();
		/* another secret never accepts it */
		if (token_check(SECRET "x", strlen(SECRET) + 1, s, tok,
		    NOW) == TOKEN_OK)
			abort();
		/* the keyring finds it (key 0) */
		if (token_verify(&ring, s, tok, NOW, NULL) != r)
			abort();
	}
	fuzz_issue_access(s, data, size);
	free(s);
	return 0;
}
