/*
 * Rendezvous (highest-random-weight) hashing of a session name over a list
 * of relay URLs: two peers holding the same list pick the same relay for a
 * session without asking anyone, and when that relay is down both try the
 * next in the same order. Removing a relay from the list moves only the
 * sessions that were on it (Thaler and Ravishankar, "Using name-based
 * mappings to increase hit rates", 1998).
 *
 * The weight of a relay for a session is the first 8 bytes of
 * BLAKE2b-128(key = "atmosphere relay rendezvous v1", url "\n" session),
 * read big-endian: every implementation (punchd, a browser with libsodium)
 * computes the same. URLs are hashed exactly as written in the list.
 */
#ifndef COMMON_RENDEZVOUS_H
#define COMMON_RENDEZVOUS_H

#include <stddef.h>
#include <stdint.h>

#define RENDEZVOUS_MAX	64	/* relays in one client's list */

uint64_t	rendezvous_weight(const char *session, const char *url);
/*
 * order[0..n) receives the indexes into urls[], highest weight first (ties,
 * which need equal URLs, by index). 0, or -1 when n > RENDEZVOUS_MAX.
 */
int		rendezvous_order(const char *session, const char *const *urls,
		    size_t n, size_t *order);

#endif
