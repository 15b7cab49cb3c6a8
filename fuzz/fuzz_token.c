/*
 * Relay tokens (proto/token.h). Input: session id, a newline, the token
 * as a client sends it. token_check must never accept what it did not
 * issue (the fuzzer cannot find an HMAC, so an OK here means the check is
 * broken), and token_issue's output for the same session and an expiry
 * from the input must check OK or EXPIRED, never MALFORMED.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/token.h"

#define SECRET	"fuzz-relay-secret-0123456789abcdef"
#define NOW	1767225600ull

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char			*s, *nl, tok[TOKEN_MAXLEN];
	uint64_t		 exp = 0;
	enum token_result	 r;
	size_t			 i;

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
	}
	free(s);
	return 0;
}
