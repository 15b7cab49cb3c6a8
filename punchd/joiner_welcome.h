/*
 * What a JOIN_WELCOME proves and what it makes of this node
 * (joiner_welcome.c): opened and checked against the join under way,
 * then the mesh adopted and the inviter a member and a peer, with the
 * candidates to punch it at. When the join answers is joiner.c's.
 */
#ifndef PUNCHD_JOINER_WELCOME_H
#define PUNCHD_JOINER_WELCOME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "proto/invite.h"
#include "proto/join.h"
#include "punch.h"
#include "result.h"

struct peer;
struct punchd;

/* the code's four UDP endpoints and the WELCOME's source */
#define JOINER_WELCOME_NCANDS	(1 + 4)

/* 0: w decoded, ours (txid, mesh id) and signed by the inviter, the mesh
 * secret in secret; -1: dropped (counted, logged when suspicious) */
int	joiner_welcome_open(struct punchd *pd, const struct invite *inv,
	    const uint8_t *txid, const uint8_t *pl, size_t plen,
	    struct join_welcome *w, uint8_t *secret);
/* the mesh is ours (secret wiped), the inviter a member and a peer: the
 * peer, or NULL with err */
struct peer *joiner_welcome_adopt(struct punchd *pd, const struct invite *inv,
	    const struct join_welcome *w, uint8_t *secret, struct result *err);
/* where to punch the inviter: from (NULL: the relay) and the code's
 * endpoints; how many, at most JOINER_WELCOME_NCANDS */
int	joiner_welcome_cands(const struct invite *inv,
	    const struct sockaddr *from, struct sockaddr_storage *cands,
	    enum punch_cand_type *types);

#endif
