/*
 * Relay tokens (the formats are in token.h): issue and check v1 session
 * tokens and v2 access tokens, and the keyring a relay checks them with.
 */
#include "token.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#define TOKEN_V1	"v1."
#define TOKEN_V2	"v2."
#define TOKEN_CTX_V1	"atmosphere-relay-v1\n"
#define TOKEN_CTX_V2	"atmosphere-relay-access-v2\n"
#define TOKEN_MACB64	43	/* base64url(32 bytes), no padding */
#define TOKEN_MACLEN	crypto_auth_hmacsha256_BYTES

/* The pieces of a MAC input, after the context string, joined by "\n". */
struct token_msg {
	const char	*part[3];
	size_t		 len[3];
	int		 n;
};

static void
token_mac(const void *secret, size_t secretlen, const char *ctx,
    const struct token_msg *m, unsigned char mac[TOKEN_MACLEN])
{
	crypto_auth_hmacsha256_state	st;
	int				i;

	crypto_auth_hmacsha256_init(&st, secret, secretlen);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)ctx,
	    strlen(ctx));
	for (i = 0; i < m->n; i++) {
		if (i > 0)
			crypto_auth_hmacsha256_update(&st,
			    (const unsigned char *)"\n", 1);
		crypto_auth_hmacsha256_update(&st,
		    (const unsigned char *)m->part[i], m->len[i]);
	}
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof(st));
}

/* Constant-time: 1 when the MAC of m under secret is `got`. */
static int
token_mac_ok(const void *secret, size_t secretlen, const char *ctx,
    const struct token_msg *m, const unsigned char got[TOKEN_MACLEN])
{
	unsigned char	want[TOKEN_MACLEN];
	int		ok;

	token_mac(secret, secretlen, ctx, m, want);
	ok = sodium_memcmp(want, got, sizeof(want)) == 0;
	sodium_memzero(want, sizeof(want));
	return ok;
}

static void
token_mac_b64(const unsigned char mac[TOKEN_MACLEN],
    char b64[TOKEN_MACB64 + 1])
{
	sodium_bin2base64(b64, TOKEN_MACB64 + 1, mac, TOKEN_MACLEN,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/*
 * The MAC field to bytes: exactly 43 base64url characters that are the
 * encoding of what they decode to. libsodium 1.0.18's decoder takes some
 * bytes outside the alphabet (0xa8 decoded, found by fuzz_token), so the
 * round trip is what makes one MAC have one spelling. Nothing secret is
 * compared here: both sides come from the client.
 */
static int
token_mac_parse(const char *s, unsigned char mac[TOKEN_MACLEN])
{
	char	again[TOKEN_MACB64 + 1];
	size_t	binlen;

	if (strlen(s) != TOKEN_MACB64 ||
	    sodium_base642bin(mac, TOKEN_MACLEN, s, TOKEN_MACB64, NULL,
	    &binlen, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    binlen != TOKEN_MACLEN)
		return -1;
	token_mac_b64(mac, again);
	return strcmp(again, s) == 0 ? 0 : -1;
}

/* Canonical decimal s[0..len): no sign, no leading zero, <= max. */
static int
token_number(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t	v = 0;
	size_t		i;

	if (len == 0 || len > 20 || (s[0] == '0' && len > 1))
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

static int
token_name_ok(const char *s, size_t len, size_t max)
{
	size_t i;

	if (len == 0 || len > max)
		return 0;
	for (i = 0; i < len; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789._-", s[i]) == NULL || s[i] == '\0')
			return 0;
	return 1;
}

int
token_issue(const void *secret, size_t secretlen, const char *session,
    uint64_t expiry, char *buf, size_t buflen)
{
	unsigned char	 mac[TOKEN_MACLEN];
	char		 exp[24], b64[TOKEN_MACB64 + 1];
	struct token_msg m;
	int		 n;

	if (secret == NULL || secretlen == 0 || session == NULL ||
	    buflen < TOKEN_MAXLEN)
		return -1;
	snprintf(exp, sizeof(exp), "%llu", (unsigned long long)expiry);
	m = (struct token_msg){ { session, exp }, { strlen(session),
	    strlen(exp) }, 2 };
	token_mac(secret, secretlen, TOKEN_CTX_V1, &m, mac);
	token_mac_b64(mac, b64);
	n = snprintf(buf, buflen, TOKEN_V1 "%s.%s", exp, b64);
	sodium_memzero(mac, sizeof(mac));
	return n < 0 || (size_t)n >= buflen ? -1 : 0;
}

int
token_access_issue(const void *secret, size_t secretlen, unsigned kid,
    const char *prefix, uint64_t expiry, char *buf, size_t buflen)
{
	unsigned char	 mac[TOKEN_MACLEN];
	char		 k[8], exp[24], scope[TOKEN_PREFIX_MAX + 2];
	char		 b64[TOKEN_MACB64 + 1];
	struct token_msg m;
	int		 n;

	if (secret == NULL || secretlen == 0 || kid > TOKEN_KID_MAX ||
	    buflen < TOKEN_MAXLEN || (prefix != NULL &&
	    !token_name_ok(prefix, strlen(prefix), TOKEN_PREFIX_MAX)))
		return -1;
	snprintf(k, sizeof(k), "%u", kid);
	snprintf(exp, sizeof(exp), "%llu", (unsigned long long)expiry);
	snprintf(scope, sizeof(scope), "%s%s", prefix != NULL ? "p" : "a",
	    prefix != NULL ? prefix : "");
	m = (struct token_msg){ { k, exp, scope }, { strlen(k), strlen(exp),
	    strlen(scope) }, 3 };
	token_mac(secret, secretlen, TOKEN_CTX_V2, &m, mac);
	token_mac_b64(mac, b64);
	n = snprintf(buf, buflen, TOKEN_V2 "%s.%s.%s.%s", k, exp, scope, b64);
	sodium_memzero(mac, sizeof(mac));
	return n < 0 || (size_t)n >= buflen ? -1 : 0;
}

enum token_result
token_check(const void *secret, size_t secretlen, const char *session,
    const char *token, uint64_t now)
{
	struct token_keyring	kr;
	enum token_result	r;

	/* a session checker takes v1 tokens only, never an access token */
	if (token == NULL || strncmp(token, TOKEN_V1, strlen(TOKEN_V1)) != 0)
		return TOKEN_MALFORMED;
	/* one key of any length: the keyring's bounds are relayd's rule */
	if (secret == NULL || secretlen > TOKEN_SECRET_MAX)
		return TOKEN_BAD_MAC;
	memset(&kr, 0, sizeof(kr));
	kr.n = 1;
	kr.key[0].len = secretlen;
	memcpy(kr.key[0].secret, secret, secretlen);
	r = token_verify(&kr, session, token, now, NULL);
	token_keyring_clear(&kr);
	return r;
}

/* v1: "v1." EXPIRY "." MAC, tried with every key. */
static enum token_result
token_verify_v1(const struct token_keyring *kr, const char *session,
    const char *t, uint64_t now, struct token_grant *g)
{
	unsigned char	 got[TOKEN_MACLEN];
	const char	*dot;
	struct token_msg m;
	uint64_t	 expiry;
	unsigned	 i, hit = 0, kid = 0;

	if ((dot = strchr(t, '.')) == NULL ||
	    token_number(t, (size_t)(dot - t), UINT64_MAX, &expiry) == -1 ||
	    token_mac_parse(dot + 1, got) == -1)
		return TOKEN_MALFORMED;
	m = (struct token_msg){ { session, t }, { strlen(session),
	    (size_t)(dot - t) }, 2 };
	/* every key is tried, also after a match: the time taken says how
	 * many keys there are, never which one matched */
	for (i = 0; i < kr->n; i++)
		if (token_mac_ok(kr->key[i].secret, kr->key[i].len,
		    TOKEN_CTX_V1, &m, got) && !hit) {
			hit = 1;
			kid = kr->key[i].id;
		}
	if (!hit)
		return TOKEN_BAD_MAC;
	if (g != NULL)
		*g = (struct token_grant){ TOKEN_KIND_SESSION, kid, expiry,
		    "" };
	return expiry <= now ? TOKEN_EXPIRED : TOKEN_OK;
}

/* v2: "v2." KID "." EXPIRY "." SCOPE "." MAC, with the key KID names. */
static enum token_result
token_verify_v2(const struct token_keyring *kr, const char *session,
    const char *t, uint64_t now, struct token_grant *g)
{
	unsigned char		 got[TOKEN_MACLEN];
	const char		*d1, *d2, *last, *scope;
	const struct token_key	*k;
	struct token_msg	 m;
	struct token_grant	 gr;
	uint64_t		 kid, expiry;
	size_t			 scopelen;

	memset(&gr, 0, sizeof(gr));
	if ((d1 = strchr(t, '.')) == NULL || (d2 = strchr(d1 + 1, '.')) ==
	    NULL || (last = strrchr(t, '.')) == d2 ||
	    token_number(t, (size_t)(d1 - t), TOKEN_KID_MAX, &kid) == -1 ||
	    token_number(d1 + 1, (size_t)(d2 - d1 - 1), UINT64_MAX,
	    &expiry) == -1 || token_mac_parse(last + 1, got) == -1)
		return TOKEN_MALFORMED;
	scope = d2 + 1;
	scopelen = (size_t)(last - scope);
	if (scopelen == 1 && scope[0] == 'a')
		gr.kind = TOKEN_KIND_ANY;
	else if (scopelen > 1 && scope[0] == 'p' &&
	    token_name_ok(scope + 1, scopelen - 1, TOKEN_PREFIX_MAX)) {
		gr.kind = TOKEN_KIND_PREFIX;
		memcpy(gr.prefix, scope + 1, scopelen - 1);
	} else
		return TOKEN_MALFORMED;
	if ((k = token_keyring_find(kr, (unsigned)kid)) == NULL)
		return TOKEN_UNKNOWN_KEY;
	m = (struct token_msg){ { t, d1 + 1, scope }, { (size_t)(d1 - t),
	    (size_t)(d2 - d1 - 1), scopelen }, 3 };
	if (!token_mac_ok(k->secret, k->len, TOKEN_CTX_V2, &m, got))
		return TOKEN_BAD_MAC;
	gr.kid = (unsigned)kid;
	gr.expiry = expiry;
	if (g != NULL)
		*g = gr;
	if (expiry <= now)
		return TOKEN_EXPIRED;
	if (gr.kind == TOKEN_KIND_PREFIX &&
	    strncmp(session, gr.prefix, strlen(gr.prefix)) != 0)
		return TOKEN_WRONG_PREFIX;
	return TOKEN_OK;
}

enum token_result
token_verify(const struct token_keyring *kr, const char *session,
    const char *token, uint64_t now, struct token_grant *g)
{
	if (token == NULL || session == NULL || strlen(token) >= TOKEN_MAXLEN)
		return TOKEN_MALFORMED;
	if (strncmp(token, TOKEN_V1, strlen(TOKEN_V1)) == 0)
		return token_verify_v1(kr, session, token + strlen(TOKEN_V1),
		    now, g);
	if (strncmp(token, TOKEN_V2, strlen(TOKEN_V2)) == 0)
		return token_verify_v2(kr, session, token + strlen(TOKEN_V2),
		    now, g);
	return TOKEN_MALFORMED;
}

int
token_keyring_add(struct token_keyring *kr, unsigned id, const void *secret,
    size_t len)
{
	if (kr->n >= TOKEN_KEYS_MAX || id > TOKEN_KID_MAX ||
	    len < TOKEN_SECRET_MIN || len > TOKEN_SECRET_MAX ||
	    token_keyring_find(kr, id) != NULL)
		return -1;
	kr->key[kr->n].id = id;
	kr->key[kr->n].len = len;
	memcpy(kr->key[kr->n].secret, secret, len);
	kr->n++;
	return 0;
}

const struct token_key *
token_keyring_find(const struct token_keyring *kr, unsigned id)
{
	unsigned i;

	for (i = 0; i < kr->n; i++)
		if (kr->key[i].id == id)
			return &kr->key[i];
	return NULL;
}

void
token_keyring_clear(struct token_keyring *kr)
{
	sodium_memzero(kr, sizeof(*kr));
}

const char *
token_result_str(enum token_result r)
{
	switch (r) {
	case TOKEN_OK:		return "ok";
	case TOKEN_MALFORMED:	return "malformed";
	case TOKEN_BAD_MAC:	return "bad_mac";
	case TOKEN_EXPIRED:	return "expired";
	case TOKEN_UNKNOWN_KEY:	return "unknown_key";
	case TOKEN_WRONG_PREFIX: return "wrong_prefix";
	}
	return "unknown";
}
