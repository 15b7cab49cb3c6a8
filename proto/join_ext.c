/*
 * Optional fields at the end of JOIN_WELCOME and ANNOUNCE (proto/join.h):
 * type (1) | length (1) | value, as many as fit. Older decoders stop before
 * them (they ignore trailing bytes), so a field here never breaks an older
 * node; a payload without one reads as before (v4 0: not pinned).
 */
#include <string.h>

#include "join.h"

#define V4_NET		0x64400000u	/* 100.64.0.0/10 */
#define V4_MASK		0xffc00000u

int
join_v4_valid(uint32_t v)
{
	return (v & V4_MASK) == V4_NET && (v & 0xff) != 0 &&
	    (v & 0xff) != 0xff;
}

int
join_ext_put(uint8_t *buf, size_t cap, int n, uint32_t v4)
{
	if (n < 0 || v4 == 0)
		return n;
	if (!join_v4_valid(v4) || (size_t)n + 6 > cap)
		return -1;
	buf[n] = JOIN_EXT_V4;
	buf[n + 1] = 4;
	buf[n + 2] = v4 >> 24;
	buf[n + 3] = v4 >> 16;
	buf[n + 4] = v4 >> 8;
	buf[n + 5] = v4;
	return n + 6;
}

int
join_ext_get(const uint8_t *buf, size_t len, size_t off, uint32_t *v4)
{
	size_t		flen;
	uint32_t	v = 0;
	int		have_v4 = 0;

	*v4 = 0;		/* on any error too: nothing half-read */
	for (; off < len; off += 2 + flen) {
		if (off + 2 > len || off + 2 + (flen = buf[off + 1]) > len)
			return JOIN_E_TRUNC;
		if (buf[off] != JOIN_EXT_V4)
			continue;	/* a later field: skipped */
		if (have_v4++)
			return JOIN_E_DUP;
		if (flen != 4)
			return JOIN_E_LEN;
		v = (uint32_t)buf[off + 2] << 24 |
		    (uint32_t)buf[off + 3] << 16 |
		    (uint32_t)buf[off + 4] << 8 | buf[off + 5];
		if (!join_v4_valid(v))
			return JOIN_E_V4;
	}
	*v4 = v;
	return 0;
}

const char *
join_strerror(int err)
{
	switch (err) {
	case 0:			return "ok";
	case JOIN_E_MALFORMED:	return "malformed payload";
	case JOIN_E_TRUNC:	return "optional field cut short";
	case JOIN_E_LEN:	return "mesh IPv4 field: length is not 4";
	case JOIN_E_DUP:	return "mesh IPv4 field given twice";
	case JOIN_E_V4:		return "mesh IPv4 address outside "
				    "100.64.0.0/10 or ending in .0/.255";
	default:		return "unknown error";
	}
}
