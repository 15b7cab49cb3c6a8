/*
 * common/wsmask.h: RFC 6455 5.3 masking, 64 bytes a step, against the
 * byte-at-a-time definition: every length from 0 to 300 (each tail of the
 * 64-, 8- and 1-byte loops), unaligned source and destination, in place,
 * and the RFC's own example ("Hello" masked with 37 fa 21 3d, 5.7).
 */
#include <string.h>

#include "common/wsmask.h"
#include "suites.h"

START_TEST(test_rfc_example)
{
	static const uint8_t key[4] = { 0x37, 0xfa, 0x21, 0x3d };
	static const uint8_t masked[5] = { 0x7f, 0x9f, 0x4d, 0x51, 0x58 };
	uint8_t out[5];

	wsmask_copy(out, masked, sizeof(masked), key);
	ck_assert_mem_eq(out, "Hello", 5);
	wsmask_copy(out, out, sizeof(out), key);	/* in place, back */
	ck_assert_mem_eq(out, masked, 5);
}
END_TEST

START_TEST(test_lengths_and_alignment)
{
	static const uint8_t key[4] = { 0xa5, 0x01, 0xff, 0x5a };
	uint8_t src[512], dst[512], want[512], tmp[512];
	size_t len, i, so, dof;

	for (i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i * 7 + 3);
	for (len = 0; len <= 300; len++)
		for (so = 0; so < 16; so += 5)
			for (dof = 0; dof < 16; dof += 3) {
				for (i = 0; i < len; i++)
					want[i] = src[so + i] ^ key[i & 3];
				memset(dst, 0xee, sizeof(dst));
				wsmask_copy(dst + dof, src + so, len, key);
				ck_assert_mem_eq(dst + dof, want, len);
				/* nothing written past the end */
				ck_assert_uint_eq(dst[dof + len], 0xee);
				if (dof > 0)
					ck_assert_uint_eq(dst[dof - 1], 0xee);
				memcpy(tmp + so, src + so, len);
				wsmask_copy(tmp + so, tmp + so, len, key);
				ck_assert_mem_eq(tmp + so, want, len);
			}
}
END_TEST

Suite *
wsmask_suite(void)
{
	Suite	*s = suite_create("wsmask");
	TCase	*tc = tcase_create("mask");

	tcase_add_test(tc, test_rfc_example);
	tcase_add_test(tc, test_lengths_and_alignment);
	suite_add_tcase(s, tc);
	return s;
}
