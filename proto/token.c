#include "token.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#define TOKEN_PREFIX	"v1."
#define TOKEN_CONTEXT	"atmosphere-relay-v1\n"
#define TOKEN_MACB64	43	/* base64url(32 bytes), no padding */

static void
token_mac(const void *secret, size_t secretlen, const char *session,
    const char *expiry, size_t expirylen,
    unsigned char mac[crypto_auth_hmacsha256_BYTES])
{
	crypto_auth_hmacsha256_state	st;

	crypto_auth_hmacsha256_init(&st, secret, secretlen);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)TOKEN_CONTEXT,
	    strlen(TOKEN_CONTEXT));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)session,
	    strlen(session));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)"\n", 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)expiry,
	    expirylen);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof(st));
}

int
token_issue(const void *secret, size_t secretlen, const char *session,
    uint64_t expiry, char *buf, size_t buflen)
{
	unsigned char	 mac[crypto_auth_hmacsha256_BYTES];
	char		 exp[24], b64[TOKEN_MACB64 + 1];
	int		 n;

	if (secret == NULL || secretlen == 0 || session == NULL ||
	    buflen < TOKEN_MAXLEN)
		return -1;
	n = snprintf(exp, sizeof(exp), "%llu", (unsigned long long)expiry);
	token_mac(secret, secretlen, session, exp, (size_t)n, mac);
	sodium_bin2base64(b64, sizeof(b64), mac, sizeof(mac),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	n = snprintf(buf, buflen, TOKEN_PREFIX "%s.%s", exp, b64);
	sodium_memzero(mac, sizeof(mac));
	return n < 0 || (size_t)n >= buflen ? -1 : 0;
}

enum token_result
token_check(const void *secret, size_t secretlen, const char *session,
    const char *token, uint64_t now)
{
	unsigned char	 want[crypto_auth_hmacsha256_BYTES];
	unsigned char	 got[crypto_auth_hmacsha256_BYTES];
	const char	*exp, *dot, *p;
	size_t		 explen, binlen;
	uint64_t	 expiry = 0;
	int		 ok;

	if (token == NULL || strlen(token) >= TOKEN_MAXLEN ||
	    strncmp(token, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) != 0)
		return TOKEN_MALFORMED;
	exp = token + strlen(TOKEN_PREFIX);
	if ((dot = strchr(exp, '.')) == NULL)
		return TOKEN_MALFORMED;
	explen = (size_t)(dot - exp);
	/* canonical decimal only: one encoding per expiry */
	if (explen == 0 || explen > 20 || (exp[0] == '0' && explen > 1))
		return TOKEN_MALFORMED;
	for (p = exp; p < dot; p++) {
		if (*p < '0' || *p > '9')
			return TOKEN_MALFORMED;
		if (expiry > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return TOKEN_MALFORMED;
		expiry = expiry * 10 + (uint64_t)(*p - '0');
	}
	if (strlen(dot + 1) != TOKEN_MACB64 ||
	    sodium_base642bin(got, sizeof(got), dot + 1, TOKEN_MACB64, NULL,
	    &binlen, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    binlen != sizeof(got))
		return TOKEN_MALFORMED;
	token_mac(secret, secretlen, session, exp, explen, want);
	ok = sodium_memcmp(want, got, sizeof(want)) == 0;
	sodium_memzero(want, sizeof(want));
	if (!ok)
		return TOKEN_BAD_MAC;
	if (expiry <= now)
		return TOKEN_EXPIRED;
	return TOKEN_OK;
}

const char *
token_result_str(enum token_result r)
{
	switch (r) {
	case TOKEN_OK:		return "ok";
	case TOKEN_MALFORMED:	return "malformed";
	case TOKEN_BAD_MAC:	return "bad_mac";
	case TOKEN_EXPIRED:	return "expired";
	}
	return "unknown";
}
