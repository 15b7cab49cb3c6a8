/*
 * Relay session tokens: who may join a relay session, until when.
 *
 *   token = "v1." EXPIRY "." MAC
 *   EXPIRY = expiry time, decimal Unix seconds (no sign, no leading zeros)
 *   MAC    = base64url, no padding (43 chars), of
 *            HMAC-SHA256(key = relay secret,
 *                        msg = "atmosphere-relay-v1\n" SESSION "\n" EXPIRY)
 *
 * e.g. v1.1767225600.Xq3...43 chars
 *
 * The token only uses [A-Za-z0-9._-], so it goes into a URL query string
 * (?token=...) without escaping, or into "Authorization: Bearer ...".
 * The session id is not in the token: a token for another session fails the
 * MAC check like a tampered one. The MAC is compared in constant time
 * (libsodium crypto_auth_hmacsha256_verify) before the expiry is looked at.
 */
#ifndef PROTO_TOKEN_H
#define PROTO_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define TOKEN_MAXLEN		80	/* "v1." + 20 digits + "." + 43 + NUL */
#define TOKEN_SECRET_MIN	16	/* shorter secrets are refused */

enum token_result {
	TOKEN_OK = 0,
	TOKEN_MALFORMED,	/* wrong shape or length */
	TOKEN_BAD_MAC,		/* tampered, wrong session or wrong secret */
	TOKEN_EXPIRED,
};

/* Write a token for `session` valid until `expiry` into buf (>= TOKEN_MAXLEN).
 * 0 on success, -1 when buf is too small or arguments are wrong. */
int	token_issue(const void *secret, size_t secretlen, const char *session,
	    uint64_t expiry, char *buf, size_t buflen);
/* Check `token` for `session` at time `now`. */
enum token_result token_check(const void *secret, size_t secretlen,
	    const char *session, const char *token, uint64_t now);
/* "ok", "malformed", "bad_mac", "expired" */
const char *token_result_str(enum token_result r);

#endif
