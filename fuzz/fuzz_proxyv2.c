/*
 * PROXY v2 headers (relayd/proxyv2.h). Input: the first bytes a proxy
 * sends. Checks: a header is accepted only whole (its length within the
 * input and the cap, the same answer on exactly its bytes, "need more" one
 * byte short); an answer never changes from BAD to anything else as bytes
 * arrive, nor from OK once complete; every refusal has a reason. The same
 * bytes as text go through the allowlist parser, whose entries must match
 * themselves.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "relayd/proxyv2.h"

static void
fuzz_allow(const uint8_t *data, size_t size, const struct proxyv2_hdr *h)
{
	struct proxyv2_allow	al;
	struct sockaddr_in6	s6;
	char			*s, err[128];
	int			 i;

	if ((s = malloc(size + 1)) == NULL)
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	if (proxyv2_allow_parse(&al, s, err, sizeof(err)) == 0) {
		if (al.n > PROXYV2_ALLOW_MAX)
			abort();
		memset(&s6, 0, sizeof(s6));
		s6.sin6_family = AF_INET6;
		/* each network address lies in its own prefix */
		for (i = 0; i < al.n; i++) {
			s6.sin6_addr = al.net[i];
			if (al.bits[i] > 128 ||
			    !proxyv2_allowed(&al, (struct sockaddr *)&s6))
				abort();
		}
	} else if (al.n != 0 || err[0] == '\0')
		abort();
	if (h != NULL && h->src.ss_family != AF_UNSPEC)
		(void)proxyv2_allowed(&al, (const struct sockaddr *)&h->src);
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxyv2_hdr	 h, h2;
	const char		*why;
	enum proxyv2_result	 r, r2;
	size_t			 half = size / 2;

	r = proxyv2_parse(data, size, &h, &why);
	if ((r == PROXYV2_BAD) != (why != NULL))
		abort();
	r2 = proxyv2_parse(data, half, &h2, &why);
	if (r2 == PROXYV2_BAD && r != PROXYV2_BAD)
		abort();		/* BAD stays BAD */
	if (r2 == PROXYV2_OK && (r != PROXYV2_OK || h2.len != h.len))
		abort();		/* complete stays complete */
	if (r == PROXYV2_MORE && size >= PROXYV2_MAX_LEN)
		abort();		/* nobody waits past the cap */
	if (r == PROXYV2_OK) {
		if (h.len < PROXYV2_HDRLEN || h.len > size ||
		    h.len > PROXYV2_MAX_LEN)
			abort();
		if (proxyv2_parse(data, h.len, &h2, &why) != PROXYV2_OK ||
		    h2.len != h.len || h2.local != h.local ||
		    memcmp(&h2.src, &h.src, sizeof(h.src)) != 0)
			abort();
		if (proxyv2_parse(data, h.len - 1, &h2, &why) != PROXYV2_MORE)
			abort();
		if (h.local && h.src.ss_family != AF_UNSPEC)
			abort();
		if (h.src.ss_family != AF_UNSPEC &&
		    h.src.ss_family != AF_INET && h.src.ss_family != AF_INET6)
			abort();
	}
	fuzz_allow(data, size, r == PROXYV2_OK ? &h : NULL);
	return 0;
}
