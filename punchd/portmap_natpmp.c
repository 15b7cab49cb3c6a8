/*
 * NAT-PMP client (RFC 6886) on libnatpmp's non-blocking socket, watched by
 * the caller's loop. Each round asks the external address (opcode 0) and
 * then the UDP mapping (opcode 1); renewals redo both at half the lease,
 * so a changed external address is seen at the latest then.
 *
 * libnatpmp retransmits on its own schedule (250 ms doubling) but reads
 * every datagram into a 16-byte buffer without checking its length, so a
 * short answer would be read as stale bytes: each datagram's length is
 * looked at first (MSG_PEEK | MSG_TRUNC) and a short one is dropped with a
 * log line. The epoch is checked as RFC 6886 section 3.6 asks.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "proto/wire.h"
#include "punchd/portmap_priv.h"

#define container_of(p, t, m)	((t *)((char *)(p) - offsetof(t, m)))

/* give up on a request after the time PORTMAP_TRIES sends take */
#define NATPMP_WAIT	(PORTMAP_IRT * ((1 << PORTMAP_TRIES) - 1))

static const char *
natpmp_err(int r)
{
	switch (r) {
	case NATPMP_ERR_UNSUPPORTEDVERSION:
		return "unsupported version (result 1)";
	case NATPMP_ERR_NOTAUTHORIZED:
		return "not authorized (result 2)";
	case NATPMP_ERR_NETWORKFAILURE:
		return "network failure (result 3)";
	case NATPMP_ERR_OUTOFRESOURCES:
		return "out of resources (result 4)";
	case NATPMP_ERR_UNSUPPORTEDOPCODE:
		return "unsupported opcode (result 5)";
	case NATPMP_ERR_UNDEFINEDERROR:
		return "undefined error";
	case NATPMP_ERR_NOGATEWAYSUPPORT:
		return "no answer (gateway does not support NAT-PMP)";
	case NATPMP_ERR_WRONGPACKETSOURCE:
		return "answer from a wrong source";
	default:
		return "socket error";
	}
}

static void
natpmp_arm(struct portmap_natpmp *c, double after)
{
	ev_timer_stop(c->d.loop, &c->timer);
	ev_timer_set(&c->timer, after < 0.01 ? 0.01 : after, 0);
	ev_timer_start(c->d.loop, &c->timer);
}

static void
natpmp_lost(struct portmap_natpmp *c, const char *why, double again)
{
	c->deadline = 0;
	portmap_drv_lost(&c->d, why);
	natpmp_arm(c, again);
}

/* Send the request of the current step and wait for its answer. */
static void
natpmp_send(struct portmap_natpmp *c)
{
	struct timeval	tv;
	int		r;

	if (c->step == 0)
		r = sendpublicaddressrequest(&c->n);
	else
		r = sendnewportmappingrequest(&c->n, NATPMP_PROTOCOL_UDP,
		    c->d.port, c->d.have ? ntohs(c->d.m.ext.sin_port) :
		    c->d.port, c->d.lease_ask);
	if (r < 0)
		log_debug("portmap: natpmp: send: %s", natpmp_err(r));
	if (c->deadline == 0)
		c->deadline = ev_now(c->d.loop) + NATPMP_WAIT;
	if (getnatpmprequesttimeout(&c->n, &tv) == 0)
		natpmp_arm(c, tv.tv_sec + tv.tv_usec / 1e6);
	else
		natpmp_arm(c, PORTMAP_IRT);
}

static void
natpmp_round(struct portmap_natpmp *c)
{
	c->step = 0;
	c->deadline = 0;
	natpmp_send(c);
}

/* The round failed: before any mapping it is a failure, after one a loss
 * or a renewal to retry before the lease runs out. */
static void
natpmp_give_up(struct portmap_natpmp *c, const char *why)
{
	double now = ev_now(c->d.loop), d;

	c->deadline = 0;
	ev_timer_stop(c->d.loop, &c->timer);
	if (!c->d.have) {
		portmap_drv_fail(&c->d, "gateway %s: %s", inet_ntoa(c->d.gw),
		    why);
		return;
	}
	d = portmap_renew_retry(now, c->expires);
	if (d > 0) {
		log_warnx("portmap: natpmp: renewal failed (%s), again in "
		    "%.0f s", why, d);
		c->step = 0;
		natpmp_arm(c, d);
	} else
		natpmp_lost(c, "lease ran out: gateway did not renew",
		    PORTMAP_REMAP);
}

static void
natpmp_mapped(struct portmap_natpmp *c, const natpmpresp_t *r, double now)
{
	char		why[PORTMAP_REASON_LEN];
	struct in_addr	old = c->d.m.ext.sin_addr;
	uint16_t	pub = r->pnu.newportmapping.mappedpublicport;
	uint32_t	life = r->pnu.newportmapping.lifetime;
	int		had = c->d.have, g;

	if (pub != c->d.port)
		log_notice("portmap: natpmp: gateway mapped external port %u, "
		    "not %u as asked", pub, c->d.port);
	g = portmap_drv_grant(&c->d, c->ext_addr, pub, life, now, why,
	    sizeof(why));
	c->deadline = 0;
	ev_timer_stop(c->d.loop, &c->timer);
	if (g == -1) {
		c->d.have = had;
		if (had)
			natpmp_lost(c, why, PORTMAP_REMAP);
		else
			portmap_drv_fail(&c->d, "%s", why);
		return;
	}
	c->expires = now + life;
	c->step = 0;
	natpmp_arm(c, c->d.renew_at - now);
	portmap_drv_granted(&c->d, g, had, old, NULL);
}

/* One answer from libnatpmp, already checked for length. */
static void
natpmp_answer(struct portmap_natpmp *c, const natpmpresp_t *r, double now)
{
	if (portmap_epoch_check(&c->d.epoch, r->epoch, now) == -1 &&
	    c->d.have) {
		/* the gateway rebooted: its mappings are gone, ours too */
		log_warnx("portmap: natpmp: gateway epoch reset (now %u s): "
		    "gateway rebooted, mapping again", r->epoch);
		c->d.have = 0;
		c->d.cb->lost(&c->d, "gateway rebooted (NAT-PMP epoch went "
		    "back)");
		c->d.state = PORTMAP_S_TRYING;
	}
	if (c->step == 0) {
		if (r->type != NATPMP_RESPTYPE_PUBLICADDRESS) {
			log_warnx("portmap: natpmp: ignored answer of type "
			    "%u to an address request", r->type);
			return;
		}
		c->ext_addr = r->pnu.publicaddress.addr;
		c->step = 1;
		natpmp_send(c);
		return;
	}
	if (r->type != NATPMP_RESPTYPE_UDPPORTMAPPING ||
	    r->pnu.newportmapping.privateport != c->d.port) {
		log_warnx("portmap: natpmp: ignored answer: not our mapping "
		    "(type %u, internal port %u)", r->type,
		    r->pnu.newportmapping.privateport);
		return;
	}
	natpmp_mapped(c, r, now);
}

/*
 * Length of the next datagram, dropping short ones: 0 none waiting, 1 one
 * worth reading, -1 the socket reports an error (ICMP unreachable).
 */
static int
natpmp_peek(struct portmap_natpmp *c)
{
	uint8_t	buf[16];
	ssize_t	n;
	size_t	want = c->step == 0 ? 12 : 16;

	for (;;) {
		n = recv(c->n.s, buf, sizeof(buf), MSG_PEEK | MSG_TRUNC |
		    MSG_DONTWAIT);
		if (n == -1)
			return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
		/* an error result may come without the data (RFC 6886 3.5) */
		if (n >= 8 && ((size_t)n >= want || buf[0] != 0 ||
		    wire_get16(buf + 2) != 0))
			return 1;
		log_warnx("portmap: natpmp: ignored answer from %s: truncated "
		    "(%zd bytes, %zu expected)", inet_ntoa(c->d.gw), n, want);
		(void)recv(c->n.s, buf, sizeof(buf), MSG_DONTWAIT);
	}
}

static void
natpmp_poll(struct portmap_natpmp *c)
{
	natpmpresp_t	r;
	double		now = ev_now(c->d.loop);
	int		p, rc;

	if (c->deadline == 0)
		return;			/* waiting to renew */
	p = natpmp_peek(c);
	if (p == -1) {
		natpmp_give_up(c, errno == ECONNREFUSED ? "no NAT-PMP server "
		    "(port 5351 unreachable)" : strerror(errno));
		return;
	}
	if (p == 1 || now >= c->n.retry_time.tv_sec +
	    c->n.retry_time.tv_usec / 1e6 - 0.001) {
		rc = readnatpmpresponseorretry(&c->n, &r);
		if (rc == 0) {
			natpmp_answer(c, &r, now);
			return;
		}
		if (rc != NATPMP_TRYAGAIN) {
			/* a result code, or libnatpmp's own retries ran out */
			natpmp_give_up(c, natpmp_err(rc));
			return;
		}
	}
	if (now >= c->deadline) {
		natpmp_give_up(c, "no answer from port 5351");
		return;
	}
	{
		struct timeval tv;

		if (getnatpmprequesttimeout(&c->n, &tv) == 0)
			natpmp_arm(c, tv.tv_sec + tv.tv_usec / 1e6);
	}
}

static void
natpmp_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct portmap_natpmp *c = container_of(w, struct portmap_natpmp, io);
	uint8_t	buf[16];

	(void)loop;
	(void)revents;
	if (c->deadline == 0) {
		/* nothing asked: a stray or late datagram */
		(void)recv(c->n.s, buf, sizeof(buf), MSG_DONTWAIT);
		return;
	}
	natpmp_poll(c);
}

static void
natpmp_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct portmap_natpmp *c = container_of(w, struct portmap_natpmp,
	    timer);

	(void)loop;
	(void)revents;
	if (c->deadline == 0)
		natpmp_round(c);	/* renew, or map again */
	else
		natpmp_poll(c);
}

int
portmap_natpmp_start(struct portmap_natpmp *c, struct ev_loop *loop,
    const struct portmap_drv_cb *cb, uint16_t port, uint32_t lease,
    struct in_addr gw)
{
	int	r;

	memset(c, 0, sizeof(*c));
	portmap_drv_init(&c->d, PORTMAP_P_NATPMP, loop, cb, port, lease, gw);
	ev_io_init(&c->io, natpmp_read_cb, -1, EV_READ);
	ev_timer_init(&c->timer, natpmp_timer_cb, 0, 0);
	r = initnatpmp(&c->n, 1, gw.s_addr);
	if (r < 0) {
		portmap_drv_fail(&c->d, "cannot open a socket towards "
		    "gateway %s (%d)", inet_ntoa(gw), r);
		return -1;
	}
	c->open = 1;
	ev_io_set(&c->io, c->n.s, EV_READ);
	ev_io_start(loop, &c->io);
	natpmp_round(c);
	return 0;
}

/* The gateway announced a change: renew at once (if not asking already). */
void
portmap_natpmp_renew_now(struct portmap_natpmp *c)
{
	if (c->open && c->d.have && c->deadline == 0)
		natpmp_round(c);
}

/* Delete: lifetime 0 and external port 0 (RFC 6886 3.4), sent once. */
void
portmap_natpmp_stop(struct portmap_natpmp *c, int del)
{
	if (!c->open)
		return;
	if (del && c->d.have) {
		sendnewportmappingrequest(&c->n, NATPMP_PROTOCOL_UDP,
		    c->d.port, 0, 0);
		log_info("portmap: natpmp: mapping %s:%u deleted",
		    inet_ntoa(c->d.m.ext.sin_addr),
		    ntohs(c->d.m.ext.sin_port));
	}
	ev_io_stop(c->d.loop, &c->io);
	ev_timer_stop(c->d.loop, &c->timer);
	closenatpmp(&c->n);
	c->open = 0;
	c->d.have = 0;
	if (c->d.state == PORTMAP_S_MAPPED || c->d.state == PORTMAP_S_TRYING)
		c->d.state = PORTMAP_S_OFF;
}
