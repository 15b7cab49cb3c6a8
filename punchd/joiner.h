/*
 * The joiner's side of the join handshake (joiner.c): one attempt at a
 * time, answered through a completion callback.
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

struct joiner_req {
	char		token[INVITE_URI_MAX];	/* secret: wipe after use */
	char		path[16];		/* local, public, relay */
	int64_t		timeout_ms;		/* for the WELCOME */
	int64_t		connect_ms;		/* then for a direct path */
	char		name[JOIN_NAME_MAX + 1];
	int		force;			/* leave the mesh we are in */
};

struct joiner_res {
	const char	*mesh;
	char		 mesh_id[2 * JOIN_MESH_ID_LEN + 1];
	const char	*path;
	const char	*via;		/* endpoint or relay URL */
	struct peer	*peer;		/* the inviter, NULL when none */
	double		 welcome_ms, elapsed_ms;
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
