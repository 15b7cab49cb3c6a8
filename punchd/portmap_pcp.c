/*
 * PCP client (RFC 6887): one MAP mapping for a UDP port, on a non-blocking
 * socket connected to the gateway's port 5351, driven by the caller's loop.
 *
 * Request: sent 4 times at most (portmap_retry_delay). An ICMP port
 * unreachable (ECONNREFUSED) ends it at once: no PCP server there.
 * Renewal: the same nonce at half the lease, suggesting the mapping held;
 * unanswered renewals retry halfway to the lease's end, then the mapping
 * is reported lost. Every answer's epoch is checked (section 8.5): a reset
 * means the gateway lost its state, and the answer in hand is a new mapping.
 * A version-0 answer means the gateway speaks NAT-PMP only (section 9).
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "punchd/portmap_priv.h"

#define container_of(p, t, m)	((t *)((char *)(p) - offsetof(t, m)))

static void	pcp_send(struct portmap_pcp *c, uint32_t lifetime);
static void	pcp_request(struct portmap_pcp *c);

static void
pcp_arm(struct portmap_pcp *c, double after)
{
	ev_timer_stop(c->d.loop, &c->timer);
	ev_timer_set(&c->timer, after, 0);
	ev_timer_start(c->d.loop, &c->timer);
}

/* The server answered with an error result (or a version we cannot use). */
static void
pcp_refused(struct portmap_pcp *c, const struct pcp_response *r)
{
	char	why[PORTMAP_REASON_LEN];

	c->tries = 0;
	ev_timer_stop(c->d.loop, &c->timer);
	if (r->version == 0 || (r->result == 1 && r->version < PCP_VERSION)) {
		c->v0_answer = (r->version == 0);
		portmap_drv_fail(&c->d, "gateway %s answers PCP version %u "
		    "only: unsupported", inet_ntoa(c->d.gw), r->version);
		return;
	}
	snprintf(why, sizeof(why), "gateway %s refused the mapping: %s "
	    "(result %u)", inet_ntoa(c->d.gw), pcp_result_name(r->result),
	    r->result);
	if (c->d.have) {
		portmap_drv_lost(&c->d, why);
		pcp_arm(c, PORTMAP_REMAP);
	} else
		portmap_drv_fail(&c->d, "%s", why);
}

static void
pcp_answer(struct portmap_pcp *c, const struct pcp_response *r, double now)
{
	char		why[PORTMAP_REASON_LEN];
	struct in_addr	old = c->d.m.ext.sin_addr;
	int		had = c->d.have, reset, g;

	reset = portmap_epoch_check(&c->d.epoch, r->epoch, now) == -1;
	if (r->map.external_port != c->d.port)
		log_notice("portmap: pcp: gateway mapped external port %u, "
		    "not %u as asked", r->map.external_port, c->d.port);
	g = portmap_drv_grant(&c->d, r->map.external, r->map.external_port,
	    r->lifetime, now, why, sizeof(why));
	c->tries = 0;
	ev_timer_stop(c->d.loop, &c->timer);
	if (g == -1) {
		c->d.have = had;
		if (had) {
			portmap_drv_lost(&c->d, why);
			pcp_arm(c, PORTMAP_REMAP);
		} else
			portmap_drv_fail(&c->d, "%s", why);
		return;
	}
	c->expires = now + r->lifetime;
	pcp_arm(c, c->d.renew_at - now);
	portmap_drv_granted(&c->d, g, had, old, had && reset ?
	    "gateway rebooted (PCP epoch went back), mapped again" : NULL);
}

static void
pcp_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct portmap_pcp	*c = container_of(w, struct portmap_pcp, io);
	struct pcp_response	 r;
	uint8_t			 buf[PCP_MAX_LEN + 4];
	char			 why[PORTMAP_REASON_LEN];
	ssize_t			 n;

	(void)revents;
	for (;;) {
		n = recv(c->fd, buf, sizeof(buf), 0);
		if (n == -1) {
			if (errno == ECONNREFUSED && c->tries > 0 &&
			    !c->d.have) {
				c->tries = 0;
				ev_timer_stop(loop, &c->timer);
				portmap_drv_fail(&c->d, "no PCP server on "
				    "gateway %s (port %u unreachable)",
				    inet_ntoa(c->d.gw), c->server_port);
			}
			return;
		}
		if (c->tries == 0) {
			log_debug("portmap: pcp: unexpected answer ignored");
			continue;
		}
		if (pcp_response_parse(buf, (size_t)n, &r, why,
		    sizeof(why)) == -1) {
			log_warnx("portmap: pcp: ignored answer from %s: %s",
			    inet_ntoa(c->d.gw), why);
			continue;
		}
		if (r.result != 0) {
			pcp_refused(c, &r);
			return;
		}
		if (r.opcode != PCP_OP_MAP) {
			log_warnx("portmap: pcp: ignored answer from %s: "
			    "opcode %u, not MAP", inet_ntoa(c->d.gw),
			    r.opcode);
			continue;
		}
		if (memcmp(r.map.nonce, c->nonce, sizeof(c->nonce)) != 0 ||
		    r.map.protocol != IPPROTO_UDP ||
		    r.map.internal_port != c->d.port) {
			log_warnx("portmap: pcp: ignored answer from %s: not "
			    "our mapping (protocol %u, internal port %u)",
			    inet_ntoa(c->d.gw), r.map.protocol,
			    r.map.internal_port);
			continue;
		}
		pcp_answer(c, &r, ev_now(loop));
		return;
	}
}

static void
pcp_send(struct portmap_pcp *c, uint32_t lifetime)
{
	struct pcp_map	m;
	uint8_t		buf[PCP_MAP_REQ_LEN];
	size_t		len;

	memset(&m, 0, sizeof(m));
	memcpy(m.nonce, c->nonce, sizeof(m.nonce));
	m.protocol = IPPROTO_UDP;
	m.internal_port = c->d.port;
	m.external_port = c->d.have ? ntohs(c->d.m.ext.sin_port) : c->d.port;
	if (c->d.have)
		m.external = c->d.m.ext.sin_addr;
	len = pcp_map_request(buf, sizeof(buf), lifetime, c->self, &m);
	if (send(c->fd, buf, len, 0) == -1 && errno != ECONNREFUSED)
		log_debug("portmap: pcp: send: %s", strerror(errno));
}

static void
pcp_request(struct portmap_pcp *c)
{
	c->tries = 1;
	pcp_send(c, c->d.lease_ask);
	pcp_arm(c, portmap_retry_delay(1));
}

static void
pcp_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct portmap_pcp	*c = container_of(w, struct portmap_pcp, timer);
	double			 d, now = ev_now(loop);

	(void)revents;
	if (c->tries == 0) {		/* time to renew, or to map again */
		pcp_request(c);
		return;
	}
	d = portmap_retry_delay(++c->tries);
	if (d > 0) {
		pcp_send(c, c->d.lease_ask);
		pcp_arm(c, d);
		return;
	}
	c->tries = 0;
	if (!c->d.have) {
		portmap_drv_fail(&c->d, "no answer from gateway %s port %u "
		    "(%d tries)", inet_ntoa(c->d.gw), c->server_port,
		    PORTMAP_TRIES);
		return;
	}
	d = portmap_renew_retry(now, c->expires);
	if (d > 0) {
		log_warnx("portmap: pcp: renewal unanswered, again in %.0f s",
		    d);
		pcp_arm(c, d);
		return;
	}
	portmap_drv_lost(&c->d, "lease ran out: gateway did not answer renewals");
	pcp_arm(c, PORTMAP_REMAP);
}

int
portmap_pcp_start(struct portmap_pcp *c, struct ev_loop *loop,
    const struct portmap_drv_cb *cb, uint16_t port, uint32_t lease,
    struct in_addr gw)
{
	struct sockaddr_in	sin;
	socklen_t		slen = sizeof(sin);
	uint16_t		server_port = c->server_port ? c->server_port :
				    NATPMP_PORT;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->server_port = server_port;
	portmap_drv_init(&c->d, PORTMAP_P_PCP, loop, cb, port, lease, gw);
	ev_io_init(&c->io, pcp_read_cb, -1, EV_READ);
	ev_timer_init(&c->timer, pcp_timer_cb, 0, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr = gw;
	sin.sin_port = htons(server_port);
	c->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd == -1 || connect(c->fd, (struct sockaddr *)&sin,
	    sizeof(sin)) == -1 || getsockname(c->fd, (struct sockaddr *)&sin,
	    &slen) == -1) {
		portmap_drv_fail(&c->d, "socket towards gateway %s: %s",
		    inet_ntoa(gw), strerror(errno));
		if (c->fd != -1)
			close(c->fd);
		c->fd = -1;
		return -1;
	}
	c->self = sin.sin_addr;
	arc4random_buf(c->nonce, sizeof(c->nonce));
	ev_io_set(&c->io, c->fd, EV_READ);
	ev_io_start(loop, &c->io);
	pcp_request(c);
	return 0;
}

/* The gateway announced a change: renew at once (if not asking already). */
void
portmap_pcp_renew_now(struct portmap_pcp *c)
{
	if (c->fd != -1 && c->d.have && c->tries == 0)
		pcp_request(c);
}

/* Delete (lifetime 0, section 15) is sent once and not waited for. */
void
portmap_pcp_stop(struct portmap_pcp *c, int del)
{
	if (c->fd == -1)
		return;
	if (del && c->d.have) {
		pcp_send(c, 0);
		log_info("portmap: pcp: mapping %s:%u deleted",
		    inet_ntoa(c->d.m.ext.sin_addr),
		    ntohs(c->d.m.ext.sin_port));
	}
	ev_io_stop(c->d.loop, &c->io);
	ev_timer_stop(c->d.loop, &c->timer);
	close(c->fd);
	c->fd = -1;
	c->d.have = 0;
	if (c->d.state == PORTMAP_S_MAPPED || c->d.state == PORTMAP_S_TRYING)
		c->d.state = PORTMAP_S_OFF;
}
