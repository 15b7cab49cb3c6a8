/*
 * What tests/tools/vectors.c shares with the files of its cases here.
 */
#ifndef TESTS_TOOLS_VECTORS_H
#define TESTS_TOOLS_VECTORS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define NOW_A		UINT64_C(1767225600)	/* an hour before A expires */

/* vectors.c: the inviter A's node id and public key, b in hex */
extern const uint8_t	ID_A[8];
extern uint8_t		pk_a[32];
json_t	*hexj(const uint8_t *b, size_t n);

/* invites.c: the "invites" array */
json_t	*invites_j(void);

#endif
