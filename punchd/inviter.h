/*
 * The inviter's side of the join handshake and mesh.invite (inviter.c);
 * the invites this node minted (inviter_store.c).
 */
#ifndef PUNCHD_INVITER_H
#define PUNCHD_INVITER_H

#include <stdint.h>

#include "proto/invite.h"
#include "result.h"

struct punchd;
struct sockaddr;
struct mesh_bucket;
struct mesh_invite;
struct mesh_invite_use;

/* How an endpoint of the invite is chosen. */
enum inviter_how {
	INVITER_WITHHELD,	/* "": none (tests, relay-only nodes) */
	INVITER_GIVEN,		/* as the request says */
	INVITER_AUTO,		/* absent: what punchd knows */
};

struct inviter_req {
	int64_t			expires_s;	/* 1 .. 30 days */
	int64_t			uses;		/* 1 .. MESH_MAX_USES */
	enum inviter_how	local_how, public_how, relay_how;
	char			local[128], public[128], relay[256];
};

struct inviter_res {
	char		token[INVITE_CODE_MAX];	/* secret: wipe after use */
	char		tag[17];
	uint64_t	expires;
	int		max_uses;
};

void	inviter_start(struct punchd *pd);	/* relay sessions */
/* a JOIN_HELLO over UDP */
void	inviter_input(struct punchd *pd, uint8_t *buf, size_t len,
	    const struct sockaddr *from);
/* mesh.invite: 0 with res filled, or -1 with err */
int	inviter_mint(struct punchd *pd, const struct inviter_req *req,
	    struct inviter_res *res, struct result *err);

/* inviter_store.c: the invites, in memory and in the state directory */
int	inviter_store_load(struct punchd *pd);
void	inviter_store_free_all(struct punchd *pd);
void	inviter_store_reset(struct punchd *pd);	/* a new mesh: none left */
struct mesh_invite *inviter_store_new(struct punchd *pd, const uint8_t *secret,
	    uint64_t expires, int max_uses);
void	inviter_store_free(struct mesh_invite *inv);
int	inviter_store_save(struct punchd *pd);
int	inviter_store_live(const struct mesh_invite *inv);
void	inviter_store_prune(struct punchd *pd);	/* long-expired ones */

/* inviter_ends.c: the invite's endpoints and network_info */
struct invite_addr;
struct sockaddr_storage;
int	inviter_ends_fill(struct punchd *pd, const struct inviter_req *req,
	    struct invite *code);
int	inviter_ends_local(struct punchd *pd, int family,
	    struct sockaddr_storage *out);
void	inviter_ends_addr(const struct sockaddr_storage *ss,
	    struct invite_addr *a);

/* inviter_guard.c: what a HELLO may draw beyond a first use */
enum inviter_dest {
	INVITER_DEST_NONE,	/* no answer (counted) */
	INVITER_DEST_SOURCE,	/* to the HELLO's source: the first one */
	INVITER_DEST_RELAY,	/* through the invite's relay session */
};
int	inviter_guard_take(struct mesh_bucket *b, double now);
void	inviter_guard_first(struct mesh_invite_use *u,
	    const struct sockaddr *from);
enum inviter_dest inviter_guard_repeat(struct mesh_invite *inv,
	    struct mesh_invite_use *u, const struct sockaddr *from, double now);
int	inviter_guard_refuse(struct mesh_invite *inv, double now);

#endif
