/*
 * Inside punchd's hard-NAT traversal: the per-peer state hardnat.c plans
 * and hardnat_sock.c's extra sockets serve. Not for other files.
 */
#ifndef PUNCHD_HARDNAT_PRIV_H
#define PUNCHD_HARDNAT_PRIV_H

#include <ev.h>

#include "birthday.h"
#include "hardnat.h"
#include "natpredict.h"
#include "punchd.h"

/* one probing run: allocated while it runs (the planner's port bitmap is
 * 8 KiB; a peer keeps only what `why` shows) */
struct hardnat_run {
	struct birthday		 b;
	uint16_t		 ports[NATPREDICT_MAX];
};

struct hardnat {
	struct peer		*p;
	struct hardnat_behav	 theirs;
	struct sockaddr_storage	 their_public;	/* their srflx, IPv4 */
	int			 has_public;
	int			 strategy, role;
	const char		*why;
	struct hardnat_run	*run;		/* NULL: no run going */
	int			 running;
	ev_timer		 timer;
	unsigned		 runs, probes;
	int			 hopeless;	/* nothing short of a change */
	char			 result[200];
	/* hard role: the extra sockets of the run (hardnat_sock.c) */
	int			*fds;
	ev_io			*ios;
	unsigned		 nsock;
	/* the socket that won, now the pair's (p->pair_fd) */
	ev_io			 win_io;
	int			 win_fd;
};

/* hardnat_sock.c */
void	hardnat_sock_init(struct hardnat *hn);
int	hardnat_sock_alloc(struct hardnat *hn, unsigned n);
int	hardnat_sock_open(void *hn, int k);
void	hardnat_sock_send(void *hn, int k, uint16_t port);
void	hardnat_sock_close(void *hn, int k);
/* every extra socket of the run closed, the arrays freed (not the
 * winner's) */
void	hardnat_sock_free(struct hardnat *hn);
/* the winner's socket closed too: the pair leaves by the node's socket */
void	hardnat_sock_drop_winner(struct hardnat *hn);

#endif
