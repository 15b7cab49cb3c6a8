/*
 * WebSocket masking (RFC 6455 5.3): payload byte i is XORed with key
 * byte i % 4. Every client frame is masked, so relayd unmasks every byte it
 * relays and the relay client masks every byte it sends: the one pass over
 * the payload that user space makes on the relay path, as costly as the
 * copy it replaces when done a byte or a word at a time.
 *
 * wsmask_copy() writes src ^ key to dst 64 bytes per step (four 16-byte
 * vectors, GCC/Clang vector extensions: SSE2 on any x86-64, NEON on arm64,
 * plain words elsewhere), then 8 bytes, then single bytes. dst == src is
 * allowed (unmasking in place); other overlaps are not. The key phase
 * starts at src[0].
 */
#ifndef COMMON_WSMASK_H
#define COMMON_WSMASK_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef uint64_t wsmask_v16 __attribute__((vector_size(16)));

static inline void
wsmask_copy(uint8_t *dst, const uint8_t *src, size_t len,
    const uint8_t key[4])
{
	wsmask_v16	kv, a, b, c, d;
	uint64_t	k8, w;
	size_t		i = 0;

	memcpy(&k8, key, 4);
	memcpy((uint8_t *)&k8 + 4, key, 4);
	kv = (wsmask_v16){ k8, k8 };
	for (; i + 64 <= len; i += 64) {
		/* memcpy: unaligned loads and stores, no aliasing games */
		memcpy(&a, src + i, 16);
		memcpy(&b, src + i + 16, 16);
		memcpy(&c, src + i + 32, 16);
		memcpy(&d, src + i + 48, 16);
		a ^= kv;
		b ^= kv;
		c ^= kv;
		d ^= kv;
		memcpy(dst + i, &a, 16);
		memcpy(dst + i + 16, &b, 16);
		memcpy(dst + i + 32, &c, 16);
		memcpy(dst + i + 48, &d, 16);
	}
	for (; i + 8 <= len; i += 8) {
		memcpy(&w, src + i, 8);
		w ^= k8;
		memcpy(dst + i, &w, 8);
	}
	for (; i < len; i++)
		dst[i] = src[i] ^ key[i & 3];
}

#endif
