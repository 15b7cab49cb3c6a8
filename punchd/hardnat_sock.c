/*
 * The birthday technique's hard side (see hardnat.h, birthday.h): extra
 * UDP sockets, each with its own mapping on our NAT, each sending
 * authenticated PUNCHes to the peer's endpoint. What arrives on one is
 * demultiplexed like the node's socket (sock_read_fd), and what answers it
 * leaves by the same socket; the first authenticated packet of the peer
 * on an extra socket means its probe crossed our NAT there: that socket
 * wins and becomes the pair's socket (p->pair_fd), the others close.
 */
#include <stdlib.h>
#include <unistd.h>

#include "common/log.h"
#include "hardnat_priv.h"

static void
hardnat_sock_won(struct hardnat *hn, int k)
{
	struct peer	*p = hn->p;
	int		 fd = hn->fds[k];

	/* the array goes when the run ends: the winner gets its own watcher */
	ev_io_stop(p->pd->loop, &hn->ios[k]);
	hn->fds[k] = -1;
	hardnat_sock_drop_winner(hn);
	hn->win_fd = fd;
	ev_io_set(&hn->win_io, fd, EV_READ);
	ev_io_start(p->pd->loop, &hn->win_io);
	p->pair_fd = fd;
}

static void
hardnat_sock_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct hardnat	*hn = w->data;
	struct peer	*p = hn->p;
	uint64_t	 rx = p->rx_packets;
	int		 k = (int)(w - hn->ios);

	(void)loop;
	(void)revents;
	sock_read_fd(p->pd, w->fd);
	if (p->rx_packets > rx && hn->running &&
	    birthday_input(&hn->run->b, punchd_time(p->pd), k, 0))
		hardnat_sock_won(hn, k);
}

static void
hardnat_sock_win_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct hardnat *hn = w->data;

	(void)loop;
	(void)revents;
	sock_read_fd(hn->p->pd, w->fd);
}

void
hardnat_sock_init(struct hardnat *hn)
{
	ev_init(&hn->win_io, hardnat_sock_win_cb);
	hn->win_io.data = hn;
	hn->win_fd = -1;
}

int
hardnat_sock_alloc(struct hardnat *hn, unsigned n)
{
	unsigned i;

	hardnat_sock_free(hn);
	if ((hn->fds = calloc(n, sizeof(*hn->fds))) == NULL ||
	    (hn->ios = calloc(n, sizeof(*hn->ios))) == NULL) {
		free(hn->fds);
		hn->fds = NULL;
		return -1;
	}
	for (i = 0; i < n; i++)
		hn->fds[i] = -1;
	hn->nsock = n;
	return 0;
}

int
hardnat_sock_open(void *arg, int k)
{
	struct hardnat	*hn = arg;
	int		 fd;

	if (k < 0 || (unsigned)k >= hn->nsock ||
	    (fd = sock_open_extra(AF_INET)) == -1)
		return -1;
	hn->fds[k] = fd;
	ev_io_init(&hn->ios[k], hardnat_sock_read_cb, fd, EV_READ);
	hn->ios[k].data = hn;
	ev_io_start(hn->p->pd->loop, &hn->ios[k]);
	return 0;
}

void
hardnat_sock_send(void *arg, int k, uint16_t port)
{
	struct hardnat	*hn = arg;
	struct peer	*p = hn->p;
	int		 i;

	(void)port;
	if (k < 0 || (unsigned)k >= hn->nsock || hn->fds[k] == -1 ||
	    (i = punch_find(&p->punch, (struct sockaddr *)&hn->their_public))
	    == -1)
		return;
	/* an authenticated PUNCH of the pair to their endpoint, from k */
	sock_via(p->pd, hn->fds[k], (struct sockaddr *)&hn->their_public);
	punch_probe(&p->punch, i, (struct sockaddr *)&hn->their_public,
	    punchd_time(p->pd));
	sock_via(p->pd, -1, NULL);
	hn->probes++;
}

void
hardnat_sock_close(void *arg, int k)
{
	struct hardnat *hn = arg;

	if (k < 0 || (unsigned)k >= hn->nsock || hn->fds[k] == -1)
		return;
	ev_io_stop(hn->p->pd->loop, &hn->ios[k]);
	sock_close_extra(hn->p->pd, hn->fds[k]);
	hn->fds[k] = -1;
}

void
hardnat_sock_free(struct hardnat *hn)
{
	unsigned i;

	for (i = 0; i < hn->nsock; i++)
		hardnat_sock_close(hn, (int)i);
	free(hn->fds);
	free(hn->ios);
	hn->fds = NULL;
	hn->ios = NULL;
	hn->nsock = 0;
}

void
hardnat_sock_drop_winner(struct hardnat *hn)
{
	if (hn->win_fd == -1)
		return;
	ev_io_stop(hn->p->pd->loop, &hn->win_io);
	sock_close_extra(hn->p->pd, hn->win_fd);
	hn->win_fd = -1;
	hn->p->pair_fd = -1;
}
