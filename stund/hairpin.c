/*
 * The hairpin test: hairpin.h. Pure socket and timer work, no IPC, so the
 * unit tests can run it on loopback.
 */
#include "hairpin.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/netaddr.h"
#include "common/util.h"
#include "probe.h"
#include "proto/stun.h"

static void
hairpin_send(struct hairpin *h)
{
	char a[NETADDR_STRLEN];

	h->nsent++;
	if (sendto(h->fd, h->req, h->reqlen, 0, (struct sockaddr *)&h->dst,
	    netaddr_len((struct sockaddr *)&h->dst)) == -1) {
		snprintf(h->note, sizeof(h->note), "send to %s: %s",
		    netaddr_str((struct sockaddr *)&h->dst, a, sizeof(a)),
		    strerror(errno));
		log_debug("%s: %s", __func__, h->note);
	}
}

static void
hairpin_done(struct hairpin *h, int result)
{
	ev_timer_stop(h->loop, &h->timer);
	h->running = 0;
	h->result = result;
	h->cb(h, h->arg);
}

static void
hairpin_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct hairpin	*h = container_of(w, struct hairpin, timer);
	double		 now = ev_now(loop), left = h->deadline - now;
	char		 a[NETADDR_STRLEN];

	(void)revents;
	if (left <= 0.001) {
		/* a send error is no verdict: unknown, with the error */
		if (h->note[0] != '\0') {
			hairpin_done(h, -1);
			return;
		}
		snprintf(h->note, sizeof(h->note), "a STUN request to our own "
		    "public address %s did not come back (%d sent in %.1f s)",
		    netaddr_str((struct sockaddr *)&h->dst, a, sizeof(a)),
		    h->nsent, now - h->started);
		hairpin_done(h, 0);
		return;
	}
	if (h->nsent < HAIRPIN_SENDS) {
		hairpin_send(h);
		h->next_gap *= 2;
	}
	ev_timer_set(w, h->nsent < HAIRPIN_SENDS && h->next_gap < left ?
	    h->next_gap : left, 0);
	ev_timer_start(loop, w);
}

int
hairpin_start(struct hairpin *h, struct ev_loop *loop, int fd,
    const struct sockaddr *mapped, double timeout_s, hairpin_done_cb *cb,
    void *arg)
{
	int n;

	memset(h, 0, sizeof(*h));
	h->loop = loop;
	h->fd = fd;
	h->cb = cb;
	h->arg = arg;
	h->result = -1;
	if (mapped->sa_family != AF_INET && mapped->sa_family != AF_INET6)
		return -1;
	memcpy(&h->dst, mapped, netaddr_len(mapped));
	if ((n = probe_request(h->req, sizeof(h->req), h->tid, 0)) == -1)
		return -1;
	h->reqlen = n;
	h->started = ev_time();	/* ev_now may be stale: ms is a time */
	h->deadline = h->started + timeout_s;
	h->next_gap = 0.25;
	h->running = 1;
	ev_timer_init(&h->timer, hairpin_timer_cb, 0, 0);
	hairpin_send(h);
	ev_timer_set(&h->timer, h->next_gap < timeout_s ? h->next_gap :
	    timeout_s, 0);
	ev_timer_start(loop, &h->timer);
	return 0;
}

void
hairpin_cancel(struct hairpin *h)
{
	if (!h->running)
		return;
	ev_timer_stop(h->loop, &h->timer);
	h->running = 0;
}

int
hairpin_input(struct hairpin *h, const uint8_t *buf, size_t len)
{
	struct stun_msg m;

	if (!h->running || stun_decode(buf, len, &m) != STUN_OK ||
	    m.method != STUN_METHOD_BINDING || m.cls != STUN_CLASS_REQUEST ||
	    memcmp(m.tid, h->tid, sizeof(h->tid)) != 0)
		return 0;
	h->ms = (ev_time() - h->started) * 1000.0;
	h->note[0] = '\0';
	hairpin_done(h, 1);
	return 1;
}
