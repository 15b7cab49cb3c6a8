/*
 * IPC server internals shared by its files (see ipc_server.c). Not for use
 * outside common/ipc_server*.c.
 *
 *	ipc_server.c		the listening socket: bind or adopt, accept,
 *				free
 *	ipc_server_conn.c	one client: lifetime, output, replies, accessors
 *	ipc_server_input.c	reading, descriptors, dispatch
 *	ipc_server_notify.c	events: subscriptions and sending them
 */
#ifndef COMMON_IPC_SERVER_PRIV_H
#define COMMON_IPC_SERVER_PRIV_H

#include <sys/queue.h>
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include <ev.h>
#include <msgpack.h>

#include "ipc.h"
#include "log.h"

#define IPC_CONTAINER(p, t, m)	((t *)(void *)((char *)(p) - offsetof(t, m)))

/* One read: large enough for a typical reply burst, small enough that one
 * chatty client cannot starve the others for long. */
#define IPC_READ_CHUNK		(64 * 1024)
/* Descriptors that may wait for their message; more is a confused client. */
#define IPC_MAX_FDS		8
/* Seconds a closing client gets to read its last reply. */
#define IPC_LINGER		2.0

struct ipc_fd {
	int		fd;
	uint64_t	msgno;		/* index of the message it came with */
};

struct ipc_conn {
	TAILQ_ENTRY(ipc_conn)	 entry;
	struct ipc_server	*s;
	uint64_t		 id;
	int			 fd;
	uid_t			 uid;
	gid_t			 gid;
	pid_t			 pid;
	ev_io			 rd;
	ev_io			 wr;
	ev_timer		 linger;

	msgpack_unpacker	 unp;
	struct ipc_scan		 scan;
	uint64_t		 ndispatched;
	struct ipc_fd		 fds[IPC_MAX_FDS];
	size_t			 nfds;
	int			 curfd;

	msgpack_sbuffer		 out;
	size_t			 outoff;
	msgpack_packer		 pk;
	size_t			 mark;		/* out.size at reply start */
	int			 oom;
	uint32_t		 replyid;
	int			 replying;
	int			 discard;	/* reply to a notification */

	int			 busy;		/* in its read callback */
	int			 dead;
	int			 closing;
	int			 innotify;

	int			 subscribed;
	int			 suball;
	char			 (*events)[64];
	size_t			 nevents;
};

struct ipc_server {
	struct ev_loop		*loop;
	char			 daemon[32];
	char			*path;		/* NULL when adopted */
	dev_t			 dev;
	ino_t			 ino;
	int			 fd;
	ev_io			 accept;
	ev_timer		 pause;		/* out of descriptors */
	const struct ipc_method	*methods;
	size_t			 nmethods;
	void			*arg;
	TAILQ_HEAD(, ipc_conn)	 conns;
	unsigned		 nclients;
	uint64_t		 nextid;
	struct ipc_stats	 stats;
	msgpack_sbuffer		 nbuf;
	msgpack_packer		 npk;
	char			 nevent[64];
	struct log_ratelimit	 rl_refused;
	struct log_ratelimit	 rl_bad;
	struct log_ratelimit	 rl_accept;
};

/* ipc_server_conn.c */
void	ipc_conn_free(struct ipc_conn *);
void	ipc_conn_drop(struct ipc_conn *);
void	ipc_conn_linger_cb(EV_P_ ev_timer *, int);
int	ipc_conn_pack_cb(void *, const char *, size_t);
void	ipc_conn_queued(struct ipc_conn *);
void	ipc_conn_write_cb(EV_P_ ev_io *, int);

/* ipc_server_input.c */
void	ipc_conn_read_cb(EV_P_ ev_io *, int);

/* ipc_server_notify.c */
void	ipc_server_subscribe(struct ipc_conn *, uint32_t,
	    const msgpack_object *);

#endif
