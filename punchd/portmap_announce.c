/*
 * Gateway announcements: a NAT-PMP gateway multicasts its external address
 * to 224.0.0.1:5350 when it starts and when the address changes (RFC 6886
 * section 3.2.1), a PCP server multicasts an ANNOUNCE there when it starts
 * or lost its state (RFC 6887 section 14.1.3). Either means "renew now":
 * the renewal's answer then shows the new address or the epoch reset, and
 * the client reports it as usual. Only datagrams from the gateway count,
 * at most one a second (a flood must not become a flood of requests).
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "punchd/portmap_priv.h"

#define container_of(p, t, m)	((t *)((char *)(p) - offsetof(t, m)))

#define ANNOUNCE_GROUP	"224.0.0.1"
#define ANNOUNCE_PORT	5350
#define ANNOUNCE_MIN_GAP 1.0

static void
announce_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct portmap_announce	*a = container_of(w, struct portmap_announce,
				    io);
	struct sockaddr_in	 from;
	socklen_t		 fl = sizeof(from);
	uint8_t			 b[64];
	ssize_t			 n;
	int			 what;

	(void)revents;
	n = recvfrom(a->fd, b, sizeof(b), 0, (struct sockaddr *)&from, &fl);
	if (n < 2 || from.sin_addr.s_addr != a->gw.s_addr)
		return;
	if (b[0] == 0 && b[1] == 128 && n >= 12)
		what = 0;		/* NAT-PMP external address */
	else if (b[0] == PCP_VERSION && b[1] == (0x80 | PCP_OP_ANNOUNCE) &&
	    n >= 24)
		what = 1;		/* PCP ANNOUNCE response */
	else
		return;
	if (ev_now(loop) - a->last < ANNOUNCE_MIN_GAP)
		return;
	a->last = ev_now(loop);
	log_info("portmap: gateway %s announced %s: renewing now",
	    inet_ntoa(a->gw), what ? "a restart (PCP ANNOUNCE)" :
	    "its external address (NAT-PMP)");
	a->heard(a);
}

/* port 0: the standard 5350 (tests pass another). -1 when unavailable;
 * mappings still work, changes are then seen at the next renewal. */
int
portmap_announce_start(struct portmap_announce *a, struct ev_loop *loop,
    struct in_addr gw, uint16_t port, void (*heard)(struct portmap_announce *))
{
	struct sockaddr_in	sin;
	struct ip_mreqn		mr;
	int			one = 1;

	memset(a, 0, sizeof(*a));
	a->loop = loop;
	a->gw = gw;
	a->heard = heard;
	a->last = -ANNOUNCE_MIN_GAP;
	a->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (a->fd == -1)
		goto fail;
	/* others on this host (another client) may listen too */
	setsockopt(a->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(a->fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port ? port : ANNOUNCE_PORT);
	if (bind(a->fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		goto fail;
	memset(&mr, 0, sizeof(mr));
	inet_pton(AF_INET, ANNOUNCE_GROUP, &mr.imr_multiaddr);
	if (setsockopt(a->fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr,
	    sizeof(mr)) == -1)
		log_debug("portmap: no multicast membership for "
		    "announcements: %s", strerror(errno));
	ev_io_init(&a->io, announce_read_cb, a->fd, EV_READ);
	ev_io_start(loop, &a->io);
	return 0;
fail:
	log_notice("portmap: gateway announcements not heard (UDP %u: %s); "
	    "changes are seen at the next renewal", port ? port :
	    ANNOUNCE_PORT, strerror(errno));
	if (a->fd != -1)
		close(a->fd);
	a->fd = -1;
	return -1;
}

void
portmap_announce_stop(struct portmap_announce *a)
{
	if (a->fd == -1)
		return;
	ev_io_stop(a->loop, &a->io);
	close(a->fd);
	a->fd = -1;
}
