/*
 * Batched receive on a UDP socket (sock_rx.c): recvmmsg into buffers
 * allocated once, and UDP generic receive offload (UDP_GRO) split back
 * into the datagrams the sender sent. No punchd state: the caller gets
 * each datagram, with its source, through a callback.
 */
#ifndef PUNCHD_SOCK_RX_H
#define PUNCHD_SOCK_RX_H

#include <stddef.h>
#include <stdint.h>

struct sockaddr;
struct sock_rx;

/* one datagram; return -1 to drop the rest of the batch (the socket is
 * gone), else 0 */
typedef int (*sock_rx_fn)(void *arg, uint8_t *buf, size_t len,
    const struct sockaddr *from);

/* what the reads did, since sock_rx_new (the bench and tests read them) */
struct sock_rx_stats {
	uint64_t	calls;		/* recvmmsg that returned datagrams */
	uint64_t	buffers;	/* buffers they filled */
	uint64_t	runs;		/* of those, GRO runs */
	uint64_t	datagrams;	/* handed to the callback */
	uint64_t	cut;		/* cut segments dropped (MSG_TRUNC) */
};

struct sock_rx	*sock_rx_new(void);
const struct sock_rx_stats *sock_rx_stats(const struct sock_rx *rx);
void		 sock_rx_free(struct sock_rx *rx);
/* UDP_GRO on fd (best effort): 0, or -1 where the kernel cannot */
int		 sock_rx_gro(int fd);
/* reads fd until it is empty or at least budget datagrams went to fn;
 * how many did (a read error other than "empty" is logged) */
int		 sock_rx_read(struct sock_rx *rx, int fd, int budget,
		    sock_rx_fn fn, void *arg);
/* one received buffer to fn, datagram by datagram: seg is the UDP_GRO
 * segment size (0: one datagram), trunc that the kernel cut the buffer
 * (a cut last segment is dropped); returns the datagrams delivered, or
 * -1 when fn asked to stop */
int		 sock_rx_split(uint8_t *buf, size_t len, size_t seg,
		    int trunc, const struct sockaddr *from, sock_rx_fn fn,
		    void *arg);

#endif
