/*
 * The joiner's side of the join handshake (joiner.c): one join at a time,
 * its paths raced (staggered starts, first WELCOME wins), answered through
 * a completion callback.
 */
#ifndef PUNCHD_JOINER_H
#define PUNCHD_JOINER_H

#include <stdint.h>

#include "proto/invite.h"
#include "proto/join.h"
#include "result.h"

struct peer;
struct punchd;
struct sockaddr;

/* in the order they are shown; the IPv6 endpoints beside IPv4 ones
 * (invite tags 9 and 11) are paths of their own */
enum { JOINER_LOCAL, JOINER_LOCAL6, JOINER_PUBLIC, JOINER_PUBLIC6,
    JOINER_RELAY, JOINER_NPATHS };

enum joiner_try_state {
	JOINER_TRY_ABSENT,	/* not asked for, or not in the invite */
	JOINER_TRY_WAITING,	/* its start is staggered */
	JOINER_TRY_TRYING,
	JOINER_TRY_FAILED,
	JOINER_TRY_WON,
	JOINER_TRY_CANCELLED,	/* another path answered first */
};

struct joiner_req {
	char		token[INVITE_URI_MAX];	/* secret: wipe after use */
	char		path[48];		/* "local,public,relay" (start
						 * order), some of them, or ""
						 * for all; local and public
						 * take their IPv6 endpoint
						 * along unless local6 or
						 * public6 is named too */
	int64_t		stagger_ms;		/* between path starts */
	int64_t		timeout_ms;		/* local, public: WELCOME */
	int64_t		relay_timeout_ms;	/* relay: WELCOME */
	int64_t		connect_ms;		/* then for a direct path */
	char		name[JOIN_NAME_MAX + 1];
	int		force;			/* leave the mesh we are in */
};

/* how one path went, for the answer (strings live until done returns) */
struct joiner_attempt {
	const char	*path, *via, *state, *why;
	double		 start_ms, end_ms;	/* -1: never */
};

struct joiner_res {
	const char	*mesh;
	char		 mesh_id[2 * JOIN_MESH_ID_LEN + 1];
	const char	*path;
	const char	*via;		/* endpoint or relay URL */
	struct peer	*peer;		/* the inviter, NULL when none */
	double		 welcome_ms, elapsed_ms;
	struct joiner_attempt attempts[JOINER_NPATHS];
};

/* Called once: res on success, else err. */
typedef void joiner_done_fn(void *arg, const struct joiner_res *res,
    const struct result *err);

int	joiner_start(struct punchd *pd, const struct joiner_req *req,
	    joiner_done_fn *done, void *arg, struct result *err);
void	joiner_cancel(struct punchd *pd, const char *why);
/* JOIN_WELCOME / JOIN_REFUSE, over UDP or (from NULL) the relay */
void	joiner_input(struct punchd *pd, uint8_t *buf, size_t len,
	    const struct sockaddr *from);
void	joiner_peer_up(struct peer *p);

#endif
