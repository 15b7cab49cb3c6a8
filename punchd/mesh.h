/*
 * Mesh membership in punchd: the mesh (name, id, secret), this node's
 * Ed25519 key and announcements (mesh.c), the members (members.c), the
 * invites it minted (inviter.c), a join under way (joiner.c). README.md
 * (mesh).
 */
#ifndef PUNCHD_MESH_H
#define PUNCHD_MESH_H

#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <ev.h>

#include "proto/join.h"

#define MESH_MAX_USES		64	/* uses per invite: each is kept */
#define MESH_MAX_MEMBERS	256
/* an expired invite is kept this long, to answer "expired" */
#define MESH_INVITE_GRACE	86400

struct punchd;
struct peer;
struct relay_client;
struct joiner;

/* a WELCOME payload at its longest: 12 + 16 + 80 + 64 + 1 + 63, + 6 for
 * the mesh IPv4 field (join.h) */
#define MESH_WELCOME_MAX	256

/* One use of an invite: the joiner (saved), and what this run of punchd
 * answered it (inviter_guard.c: repeats get the same, only there). */
struct mesh_invite_use {
	uint8_t			id[JOIN_ID_LEN];
	uint8_t			pk[JOIN_PK_LEN];
	int			seen;		/* first HELLO of this run */
	struct sockaddr_storage	first;		/* its source; AF_UNSPEC:
						   through the relay */
	uint8_t			welcome[MESH_WELCOME_MAX];
	size_t			welcome_len;	/* 0: not sealed yet */
	uint32_t		v4;		/* the mesh IPv4 given in it */
};

/* answers a HELLO may draw beyond a first use: a token bucket per invite */
struct mesh_bucket {
	double			tokens;
	double			at;		/* last refill */
};

struct mesh_invite {
	LIST_ENTRY(mesh_invite)	 entry;
	struct punchd		*pd;
	uint8_t			 secret[JOIN_SECRET_LEN];
	uint8_t			 key[32];
	char			 tag[17];	/* shown: hash of the secret */
	uint64_t		 expires;
	int			 max_uses;
	int			 nuses;
	struct mesh_invite_use	 uses[MESH_MAX_USES];
	struct mesh_bucket	 repeats, refusals;	/* inviter_guard.c */
	struct relay_client	*relay;		/* join session, while live */
	char			 relay_url[256];
};

struct mesh_member {
	uint8_t		id[JOIN_ID_LEN];
	uint8_t		pk[JOIN_PK_LEN];
	char		name[JOIN_NAME_MAX + 1];
	uint8_t		relay_only;	/* JOIN_F_RELAY_ONLY: no UDP (browser) */
	uint32_t	v4;		/* pinned mesh IPv4 (host order), 0:
					   none (meshpin.h) */
};

struct mesh {
	int			 have;		/* init or join made one */
	const char		*source;	/* "mesh", "config", "legacy" */
	char			 name[JOIN_NAME_MAX + 1];
	uint8_t			 id[JOIN_MESH_ID_LEN];
	uint8_t			 secret[JOIN_SECRET_LEN];
	int			 have_key;
	uint8_t			 pk[JOIN_PK_LEN];
	uint8_t			 sk[JOIN_SK_LEN];
	uint32_t		 v4;		/* this node's pinned mesh IPv4
						   (host order), 0: not yet */
	char			 relay[256];	/* the inviter's, for joiners
						   without relay_url */
	char			 relay_token[256];	/* the invite's, for
						   joiners without relay_token */
	LIST_HEAD(, mesh_invite) invites;
	struct mesh_member	 members[MESH_MAX_MEMBERS];
	int			 nmembers;
	struct joiner		*join;
};

/* mesh.c */
/* At start-up, before the key is derived: the managed mesh, if any, and
 * the node key. 1 loaded (secret filled), 0 none, -1 error in err. */
int	mesh_load(struct punchd *pd, uint8_t *secret, char *err, size_t errlen);
/* the node key exists (generated and saved when not): 0 or -1 */
int	mesh_node_key(struct punchd *pd);
/* switch to a new mesh: save it, new packet key, old peers and members
 * dropped (the caller drops the invites) */
int	mesh_adopt(struct punchd *pd, const char *name, const uint8_t *id,
	    const uint8_t *secret);
/* remember the mesh's relay (from the invite); used when none is set */
void	mesh_set_relay(struct punchd *pd, const char *url);
/* keep the invite's relay token (used when relay_token is not set) */
void	mesh_set_relay_token(struct punchd *pd, const char *token);
/* this node's pinned mesh IPv4 address (host order): kept in `mesh` */
void	mesh_set_v4(struct punchd *pd, uint32_t v4);
/* no relay_url configured: use the mesh's (start-up, SIGHUP) */
void	mesh_relay_default(struct punchd *pd);
/* mesh_announce.c: a peer's path came up: announcements both ways */
void	mesh_announce_peer_up(struct peer *p);
void	mesh_announce_input(struct peer *p, const uint8_t *pl, size_t len);

#endif
