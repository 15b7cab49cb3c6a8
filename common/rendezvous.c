/*
 * Rendezvous hashing of sessions over relays (rendezvous.h). Pure: no
 * state, no I/O; punchd calls it with its relay list for each session.
 */
#include <string.h>

#include <sodium.h>

#include "common/rendezvous.h"

/* A fixed key: domain separation from every other BLAKE2b use, not a
 * secret (both peers and anyone else compute the same weights). Changing
 * it moves every session: peers on different versions would not meet. */
static const unsigned char rendezvous_key[] = "atmosphere relay rendezvous v1";

uint64_t
rendezvous_weight(const char *session, const char *url)
{
	crypto_generichash_state	st;
	unsigned char			out[16];
	uint64_t			w = 0;
	int				i;

	crypto_generichash_init(&st, rendezvous_key,
	    sizeof(rendezvous_key) - 1, sizeof(out));
	crypto_generichash_update(&st, (const unsigned char *)url,
	    strlen(url));
	crypto_generichash_update(&st, (const unsigned char *)"\n", 1);
	crypto_generichash_update(&st, (const unsigned char *)session,
	    strlen(session));
	crypto_generichash_final(&st, out, sizeof(out));
	for (i = 0; i < 8; i++)
		w = w << 8 | out[i];
	return w;
}

int
rendezvous_order(const char *session, const char *const *urls, size_t n,
    size_t *order)
{
	uint64_t	w[RENDEZVOUS_MAX], wk;
	size_t		i, j, k;

	if (n > RENDEZVOUS_MAX)
		return -1;
	/* insertion sort, heaviest first; stable, so equal weights (equal
	 * URLs) keep their list order */
	for (i = 0; i < n; i++) {
		wk = rendezvous_weight(session, urls[i]);
		k = i;
		for (j = i; j > 0 && w[j - 1] < wk; j--) {
			w[j] = w[j - 1];
			order[j] = order[j - 1];
		}
		w[j] = wk;
		order[j] = k;
	}
	return 0;
}
