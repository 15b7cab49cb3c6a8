/*
 * Relay tokens: who may use a relay, for which sessions, until when.
 * docs/relay-tokens.md tells operators how to issue and rotate them.
 *
 * Two kinds, told apart by their first three characters.
 *
 * v1, a SESSION token: one session name, one-off use (a browser, a test).
 *
 *   token = "v1." EXPIRY "." MAC
 *   EXPIRY = expiry time, decimal Unix seconds (no sign, no leading zeros)
 *   MAC    = base64url, no padding (43 chars), of
 *            HMAC-SHA256(key = relay secret,
 *                        msg = "atmosphere-relay-v1\n" SESSION "\n" EXPIRY)
 *
 *   e.g. v1.1767225600.Xq3...43 chars
 *
 * The session id is not in the token: a token for another session fails the
 * MAC check like a tampered one. A v1 token carries no key id, so relayd
 * tries each of its keys (a handful, each compare constant-time).
 *
 * v2, an ACCESS token: use of the relay for every session, or for every
 * session whose name starts with PREFIX. This is what a node (punchd) holds:
 * its session names are secret hashes nobody could issue a v1 token for.
 *
 *   token  = "v2." KID "." EXPIRY "." SCOPE "." MAC
 *   KID    = key id, decimal 0..65535 (no leading zeros): which relay
 *            secret made the MAC, so relayd can hold several (rotation)
 *   EXPIRY = as in v1
 *   SCOPE  = "a"          any session
 *          | "p" PREFIX   sessions whose name starts with PREFIX,
 *                         PREFIX = [A-Za-z0-9._-]{1,64}
 *   MAC    = base64url, no padding (43 chars), of
 *            HMAC-SHA256(key = the secret with id KID,
 *                        msg = "atmosphere-relay-access-v2\n"
 *                              KID "\n" EXPIRY "\n" SCOPE)
 *
 *   e.g. v2.1.1767225600.a.Q0x...43 chars
 *        v2.1.1767225600.ptenant-7..Q0x...43 chars  (prefix "tenant-7.")
 *
 * Everything between the fourth dot and the last one is SCOPE (a prefix may
 * hold dots, the MAC never does). Every field is MAC'd exactly as it is
 * written, and each number has one spelling, so one grant has one token.
 *
 * Domain separation: the MAC input of v1 starts "atmosphere-relay-v1\n",
 * of v2 "atmosphere-relay-access-v2\n". They differ at the 18th byte ('v'
 * against 'a'), so no v1 input equals a v2 input whatever the fields hold:
 * under any key a v1 MAC is never a valid v2 MAC, nor the reverse. Within
 * a kind the fields split one way only (v1: EXPIRY is digits after the
 * last newline; v2: no field can hold a newline). The version tag also picks
 * the parser, and a v1 token does not have a v2 token's fields (nor the
 * reverse), so each is refused as malformed by the other's rules.
 *
 * Order of checks (token_verify): shape (MALFORMED), key id known
 * (UNKNOWN_KEY: the id is not trusted, it only picks the key to try), MAC
 * compared in constant time (libsodium sodium_memcmp; BAD_MAC). Only a
 * token whose MAC holds is read further: expiry (EXPIRED), then the scope
 * (WRONG_PREFIX). The MAC field must be the canonical base64url of its
 * bytes (it is re-encoded and compared), so one grant has one spelling.
 *
 * Tokens use only [A-Za-z0-9._-]: they go into a URL query string
 * (?token=...) without escaping, or into "Authorization: Bearer ...".
 */
#ifndef PROTO_TOKEN_H
#define PROTO_TOKEN_H

#include <stddef.h>
#include <stdint.h>

/* "v2." + 5 + "." + 20 + "." + "p" + 64 + "." + 43 = 139, and a NUL */
#define TOKEN_MAXLEN		160
#define TOKEN_SECRET_MIN	16	/* shorter secrets are refused */
#define TOKEN_SECRET_MAX	255
#define TOKEN_PREFIX_MAX	64
#define TOKEN_KID_MAX		65535
/* a relay holds its current key and the ones being retired */
#define TOKEN_KEYS_MAX		8

enum token_result {
	TOKEN_OK = 0,
	TOKEN_MALFORMED,	/* wrong shape or length */
	TOKEN_BAD_MAC,		/* tampered, wrong session or wrong secret */
	TOKEN_EXPIRED,
	TOKEN_UNKNOWN_KEY,	/* v2: no secret with that key id (retired) */
	TOKEN_WRONG_PREFIX,	/* v2: the session is outside the prefix */
};

enum token_kind {
	TOKEN_KIND_SESSION = 1,	/* v1 */
	TOKEN_KIND_ANY,		/* v2, any session */
	TOKEN_KIND_PREFIX,	/* v2, sessions starting with prefix */
};

/* What a checked token grants (filled once the MAC holds). */
struct token_grant {
	enum token_kind	kind;
	unsigned	kid;		/* v2; for v1 the key that matched */
	uint64_t	expiry;
	char		prefix[TOKEN_PREFIX_MAX + 1];
};

struct token_key {
	unsigned	id;
	size_t		len;
	unsigned char	secret[TOKEN_SECRET_MAX];
};

struct token_keyring {
	struct token_key key[TOKEN_KEYS_MAX];
	unsigned	 n;
};

/* Write a v1 token for `session` valid until `expiry` into buf
 * (>= TOKEN_MAXLEN). 0 on success, -1 when buf is too small or arguments
 * are wrong. */
int	token_issue(const void *secret, size_t secretlen, const char *session,
	    uint64_t expiry, char *buf, size_t buflen);
/* Check a v1 `token` for `session` at time `now` with one secret. */
enum token_result token_check(const void *secret, size_t secretlen,
	    const char *session, const char *token, uint64_t now);

/* Write a v2 access token: any session when prefix is NULL, else the
 * sessions starting with prefix ([A-Za-z0-9._-]{1,64}). kid names the
 * secret. 0, or -1 on wrong arguments or a short buf. */
int	token_access_issue(const void *secret, size_t secretlen, unsigned kid,
	    const char *prefix, uint64_t expiry, char *buf, size_t buflen);

/* Check a v1 or v2 token for `session` against every key of kr. On
 * TOKEN_OK, EXPIRED and WRONG_PREFIX, *g (if not NULL) says what the token
 * grants. */
enum token_result token_verify(const struct token_keyring *kr,
	    const char *session, const char *token, uint64_t now,
	    struct token_grant *g);

/* Keyring: add a secret under id (0, or -1: full, id taken, id over
 * TOKEN_KID_MAX, length outside TOKEN_SECRET_MIN..MAX). */
int	token_keyring_add(struct token_keyring *kr, unsigned id,
	    const void *secret, size_t len);
const struct token_key *token_keyring_find(const struct token_keyring *kr,
	    unsigned id);
/* Wipe every secret. */
void	token_keyring_clear(struct token_keyring *kr);

/* "ok", "malformed", "bad_mac", "expired", "unknown_key", "wrong_prefix" */
const char *token_result_str(enum token_result r);

#endif
