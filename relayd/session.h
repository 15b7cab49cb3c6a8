/*
 * The session table: session id -> the clients that joined it. A session
 * exists while it has members; the last leave frees it. Lookups hash the id
 * with a per-process random key (SipHash via crypto_shorthash) so a client
 * cannot pick ids that collide.
 */
#ifndef RELAYD_SESSION_H
#define RELAYD_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

struct session;
struct session_table;

struct session_member {
	TAILQ_ENTRY(session_member) entry;
	struct session	*sess;
	uint32_t	 id;		/* announced to the other members */
};

TAILQ_HEAD(session_members, session_member);

struct session {
	struct session		*next;		/* hash chain */
	struct session_members	 members;
	unsigned		 nmembers;
	double			 created;
	uint64_t		 rx_bytes, tx_bytes;
	char			 id[];
};

#define SESSION_EFULL		-1	/* the session has max members */
#define SESSION_ETOOMANY	-2	/* max sessions exist */
#define SESSION_ENOMEM		-3

struct session_table *session_table_new(void);
/* Members must have left; frees the remaining sessions otherwise. */
void	session_table_free(struct session_table *t);
struct session *session_find(struct session_table *t, const char *id);
/* Join `id` (created when absent). 0 or a SESSION_E* code. */
int	session_join(struct session_table *t, const char *id,
	    struct session_member *m, unsigned max_members,
	    unsigned max_sessions, double now);
/* Leave; the session is freed (and m->sess cleared) when it empties.
 * Returns the members still there. */
unsigned session_leave(struct session_table *t, struct session_member *m);
size_t	session_count(const struct session_table *t);
/* Calls fn for every session; fn must not join or leave. */
void	session_foreach(struct session_table *t,
	    void (*fn)(struct session *, void *), void *arg);

#endif
