/*
 * The joiner's paths (joiner_race.c): one attempt per path of the invite
 * (local, public: UDP to that endpoint; relay: the invite's relay
 * session), started `at` after the race began, each sending the same
 * JOIN_HELLO every JOIN_RACE_RESEND until its timeout or until the layer
 * above ends it. Reports up through the callbacks in struct joiner_race:
 * what came through the relay session, and "every path is over".
 */
#ifndef PUNCHD_JOINER_RACE_H
#define PUNCHD_JOINER_RACE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <ev.h>

#include "joiner.h"

struct punchd;
struct relay_client;

struct joiner_path {
	struct joiner_race	*race;
	int			 path;		/* JOINER_LOCAL ... */
	enum joiner_try_state	 state;
	char			 via[300];	/* endpoint or relay URL */
	struct sockaddr_storage	 to;
	struct relay_client	*relay;
	int			 relay_seen;	/* connected once */
	double			 at, timeout;	/* start offset, s */
	double			 started, ended;
	char			 why[200];
	ev_timer		 timer;		/* start, then resend */
};

struct joiner_race {
	struct punchd		*pd;
	struct joiner_path	 t[JOINER_NPATHS];
	double			 started;
	const uint8_t		*key;		/* join key, the caller's */
	const uint8_t		*secret;	/* join secret: relay session */
	const char		*relay_token;	/* the invite's, or NULL */
	int			 relay_refused;	/* the relay said no */
	uint8_t			 hello[256];	/* the HELLO payload */
	size_t			 hello_len;
	/* a packet through the relay session (maybe inside the relay
	 * client's callback: the race must not be freed from it) */
	void	(*rx)(void *arg, uint8_t *buf, size_t len);
	/* every path asked for failed: the last one's failure was just set */
	void	(*over)(void *arg);
	void	*arg;
};

extern const char *const joiner_path_names[JOINER_NPATHS];

void	joiner_race_init(struct joiner_race *r, struct punchd *pd);
/* a path at offset `at` s with its timeout; via "" = not in the invite */
void	joiner_race_add(struct joiner_race *r, int path, const char *via,
	    const struct sockaddr_storage *to, double at, double timeout);
int	joiner_race_pending(const struct joiner_race *r);
void	joiner_race_start(struct joiner_race *r);
/* end a path: won, cancelled or failed (with why) */
void	joiner_race_end(struct joiner_race *r, int path,
	    enum joiner_try_state st, const char *why);
/* stop every timer and relay client; free the clients */
void	joiner_race_stop(struct joiner_race *r);
void	joiner_race_free(struct joiner_race *r);
/* the path a WELCOME from `from` (NULL: the relay) came by */
int	joiner_race_winner(const struct joiner_race *r,
	    const struct sockaddr *from);
/* "; "-separated "path: why" of the failed paths into buf; its length */
size_t	joiner_race_why(const struct joiner_race *r, char *buf, size_t len);
void	joiner_race_attempts(const struct joiner_race *r,
	    struct joiner_attempt *a);

#endif
