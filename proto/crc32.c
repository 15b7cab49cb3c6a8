/*
 * CRC-32 for the STUN FINGERPRINT attribute (RFC 8489 section 14.7).
 *
 * The RFC names the CRC of ITU V.42, which is the ISO-HDLC CRC-32 that zlib,
 * Ethernet and PNG use: polynomial 0x04C11DB7 processed LSB-first (hence the
 * reflected constant 0xEDB88320 below), initial value and final XOR both
 * 0xFFFFFFFF. Check value: CRC-32("123456789") = 0xCBF43926.
 *
 * The table is built once on first use rather than written out: 256 lines of
 * hex are easy to get wrong by one digit and hard to review, while the loop
 * below is the definition. pthread_once keeps that first use race-free for
 * callers on several threads.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/stun.h"

#define CRC32_POLY_REFLECTED	0xEDB88320u

static uint32_t		crc32_table[256];
static pthread_once_t	crc32_once = PTHREAD_ONCE_INIT;

static void
crc32_init(void)
{
	uint32_t	c;
	int		i, k;

	for (i = 0; i < 256; i++) {
		c = (uint32_t)i;
		for (k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ CRC32_POLY_REFLECTED : c >> 1;
		crc32_table[i] = c;
	}
}

uint32_t
stun_crc32(const uint8_t *buf, size_t len)
{
	uint32_t	c = 0xFFFFFFFFu;
	size_t		i;

	(void)pthread_once(&crc32_once, crc32_init);
	for (i = 0; i < len; i++)
		c = crc32_table[(c ^ buf[i]) & 0xFF] ^ (c >> 8);
	return c ^ 0xFFFFFFFFu;
}

/* RFC 8489 14.7: the CRC XORed with 0x5354554e ("STUN"), so that a packet of
 * another protocol that happens to carry a CRC-32 of itself is not taken for
 * STUN. */
uint32_t
stun_fingerprint(const uint8_t *buf, size_t len)
{
	return stun_crc32(buf, len) ^ STUN_FINGERPRINT_XOR;
}
