/*
 * RFC 6455 frame headers, for the two places that read frames straight
 * from their buffer before wslay (relayd/wsio.c, common/relay_client_frame.c):
 * the common frame is handled there, anything else is handed to wslay
 * whole, and both use the same header reading and the same hand-over.
 */
#ifndef COMMON_WSFRAME_H
#define COMMON_WSFRAME_H

#include <stddef.h>
#include <stdint.h>

/* Header length with the payload length in *plen, or 0 when the header is
 * not all in the avail bytes at p. */
static inline size_t
wsframe_header(const uint8_t *p, size_t avail, uint64_t *plen)
{
	size_t	hl = 2, i;
	uint8_t	l7;

	if (avail < 2)
		return 0;
	l7 = p[1] & 0x7f;
	hl += (l7 == 126 ? 2 : l7 == 127 ? 8 : 0) + (p[1] & 0x80 ? 4 : 0);
	if (avail < hl)
		return 0;
	if (l7 == 126)
		*plen = (uint64_t)p[2] << 8 | p[3];
	else if (l7 == 127)
		for (*plen = 0, i = 2; i < 10; i++)
			*plen = *plen << 8 | p[i];
	else
		*plen = l7;
	return hl;
}

/* 0 when the length is not in its shortest form (wslay refuses those,
 * with its own close code) */
static inline int
wsframe_len_minimal(const uint8_t *p, uint64_t plen)
{
	uint8_t l7 = p[1] & 0x7f;

	return !((l7 == 126 && plen < 126) || (l7 == 127 && plen < 65536));
}

/*
 * A frame for wslay: how many bytes to feed it (the whole frame), and
 * whether a fragmented message is open after it (a data frame without FIN
 * opens one, a final continuation closes it) in *frag.
 */
static inline uint64_t
wsframe_to_wslay(const uint8_t *p, size_t hl, uint64_t plen, int *frag)
{
	if ((p[0] & 0x0f) < 0x08)
		*frag = !(p[0] & 0x80);
	return plen > UINT64_MAX - hl ? UINT64_MAX : plen + hl;
}

#endif
