/*
 * Which paths a join races and where each one sends (joiner_paths.c): the
 * `path` list of mesh.join into starts, and the invite's endpoints of both
 * families into the race (joiner_race.h).
 */
#ifndef PUNCHD_JOINER_PATHS_H
#define PUNCHD_JOINER_PATHS_H

#include <sys/socket.h>

#include "proto/invite.h"
#include "joiner.h"

struct joiner_race;

/* "local,public,relay" (any of them and local6, public6, in start order;
 * "" for the default) into slots[JOINER_NPATHS]: the paths of each start,
 * a bit per path. How many starts, or -1 for a bad or repeated name. */
int	joiner_paths_parse(const char *list, unsigned *slots);
/* the invite's endpoint for a UDP path (JOINER_LOCAL ... PUBLIC6) */
const struct invite_addr *joiner_paths_addr(const struct invite *inv,
	    int path);
/* an invite endpoint as a socket address; 1, or 0 when absent or bad */
int	joiner_paths_cand(const struct invite_addr *ia,
	    struct sockaddr_storage *ss);
/* every path of the starts into the race, `stagger` apart; how many run */
int	joiner_paths_add(struct joiner_race *r, const struct invite *inv,
	    const struct joiner_req *req, const unsigned *slots, int n);

#endif
