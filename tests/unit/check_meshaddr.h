/* helpers of check_meshaddr.c shared with check_meshaddr_pin.c */
#ifndef TESTS_UNIT_CHECK_MESHADDR_H
#define TESTS_UNIT_CHECK_MESHADDR_H

#include <stdint.h>

/* node id v, big-endian */
void	id_of(uint64_t v, uint8_t id[8]);
/* two node ids a < b with the same IPv4 home (asserts it) */
void	meshaddr_test_clashing(uint8_t a[8], uint8_t b[8]);

#endif
