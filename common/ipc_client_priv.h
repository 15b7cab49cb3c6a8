/*
 * IPC client internals shared by its files (see ipc_client.c). Not for use
 * outside common/ipc_client*.c.
 *
 *	ipc_client.c		the blocking client (ipc_sync_*)
 *	ipc_client_call.c	the reconnecting client's traffic (ipc_peer_*):
 *				calls and notifications out, answers and events
 *				in, call timeouts
 *	ipc_client_peer.c	its connection, below the traffic: connect,
 *				reconnect with backoff, lifetime
 */
#ifndef COMMON_IPC_CLIENT_PRIV_H
#define COMMON_IPC_CLIENT_PRIV_H

#include <sys/queue.h>
#include <sys/types.h>
#include <sys/un.h>

#include <stddef.h>
#include <stdint.h>

#include <ev.h>
#include <msgpack.h>

#include "ipc.h"

#define IPC_CONTAINER(p, t, m)	((t *)(void *)((char *)(p) - offsetof(t, m)))
#define IPC_READ_CHUNK		(64 * 1024)

enum { IPC_PEER_DOWN, IPC_PEER_CONNECTING, IPC_PEER_UP };

struct ipc_call {
	TAILQ_ENTRY(ipc_call)	 entry;
	struct ipc_peer		*p;
	uint32_t		 msgid;
	ipc_reply_cb		*cb;
	void			*cbarg;
	ev_timer		 timer;
};

struct ipc_outfd {
	size_t	off;	/* message start in out.data */
	size_t	len;
	int	fd;	/* our duplicate */
};

struct ipc_peer {
	struct ev_loop		*loop;
	char			 path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	ipc_state_cb		*state_cb;
	ipc_event_cb		*event_cb;
	void			*arg;
	int			 fd;
	int			 state;
	int			 warned;
	double			 backoff;
	ev_io			 rd;
	ev_io			 wr;
	ev_timer		 retry;
	int			 wfd;		/* inotify on the socket's
						   directory, -1 when none */
	ev_io			 watch;
	msgpack_unpacker	 unp;
	struct ipc_scan		 scan;
	msgpack_sbuffer		 out;
	size_t			 outoff;
	struct ipc_outfd	*ofds;
	size_t			 nofds;
	TAILQ_HEAD(, ipc_call)	 calls;
	uint32_t		 nextid;
	int			 incb;		/* user callbacks on the stack */
	int			 freed;
};

/* ipc_client.c */
int	ipc_sockaddr(const char *, struct sockaddr_un *);

/* ipc_client_peer.c */
typedef void ipc_io_cb(EV_P_ ev_io *, int);
struct ipc_peer *ipc_peer_create(struct ev_loop *, const char *,
	    ipc_state_cb *, ipc_event_cb *, void *, ipc_io_cb *, ipc_io_cb *);
int	ipc_peer_leave(struct ipc_peer *);
void	ipc_peer_up(struct ipc_peer *);
void	ipc_peer_down(struct ipc_peer *, const char *);

#endif
