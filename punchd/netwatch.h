/*
 * This host's addresses and routes, watched (issue 13, item 5: roaming):
 * an rtnetlink socket in the groups of IPv4/IPv6 addresses and routes,
 * read by a libev io watcher. Every read that holds an address or route
 * message (or says the kernel dropped some: ENOBUFS) calls cb(arg) once;
 * roam.c debounces. No punchd.h: a callback is all it reports through.
 */
#ifndef PUNCHD_NETWATCH_H
#define PUNCHD_NETWATCH_H

#include <stddef.h>

struct ev_loop;
struct netwatch;

typedef void netwatch_cb(void *arg);

/* NULL (logged) where netlink is refused: roaming then relies on dead
 * paths and stund alone */
struct netwatch	*netwatch_open(struct ev_loop *loop, netwatch_cb *cb,
		    void *arg);
void		 netwatch_close(struct netwatch *nw);
/* The address and route messages in one read of the socket: their
 * count, or -1 when the buffer is malformed (nothing trusted then). */
int		 netwatch_parse(const void *buf, size_t len);

#endif
