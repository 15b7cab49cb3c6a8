#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/netaddr.h"
#include "proto/stun.h"

#include "common/util.h"

static void	probe_io_cb(struct ev_loop *, ev_io *, int);
static void	probe_rtx_cb(struct ev_loop *, ev_timer *, int);

int
probe_socket(int family)
{
	struct sockaddr_storage	ss;
	int			fd;

	if ((fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		log_error("%s: socket", __func__);
		return -1;
	}
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = family;
	if (family == AF_INET6) {
		int on = 1;

		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	}
	if (bind(fd, (struct sockaddr *)&ss, netaddr_len((struct sockaddr *)&ss))
	    == -1) {
		log_error("%s: bind", __func__);
		close(fd);
		return -1;
	}
	return fd;
}

int
probe_engine_init(struct probe_engine *e, struct ev_loop *loop, double rto_s)
{
	memset(e, 0, sizeof(*e));
	e->loop = loop;
	e->rto = rto_s;
	e->fd4 = e->fd6 = -1;
	TAILQ_INIT(&e->active);
	return 0;
}

int
probe_engine_fd(struct probe_engine *e, int family)
{
	int	*fdp = family == AF_INET6 ? &e->fd6 : &e->fd4;
	ev_io	*io = family == AF_INET6 ? &e->io6 : &e->io4;

	if (*fdp != -1)
		return *fdp;
	if ((*fdp = probe_socket(family)) == -1)
		return -1;
	ev_io_init(io, probe_io_cb, *fdp, EV_READ);
	io->data = e;
	ev_io_start(e->loop, io);
	return *fdp;
}

void
probe_engine_fini(struct probe_engine *e)
{
	struct probe *p;

	while ((p = TAILQ_FIRST(&e->active)) != NULL)
		probe_cancel(p);
	if (e->fd4 != -1) {
		ev_io_stop(e->loop, &e->io4);
		close(e->fd4);
	}
	if (e->fd6 != -1) {
		ev_io_stop(e->loop, &e->io6);
		close(e->fd6);
	}
	e->fd4 = e->fd6 = -1;
}

static int
probe_send(struct probe *p)
{
	ssize_t n;

	n = sendto(p->fd, p->req, p->reqlen, 0, (struct sockaddr *)&p->dst,
	    netaddr_len((struct sockaddr *)&p->dst));
	p->t_last = ev_now(p->eng->loop);
	if (p->nsent == 0)
		p->t_first = p->t_last;
	p->nsent++;
	p->eng->st.sent++;
	if (n == -1) {
		char a[NETADDR_STRLEN];

		snprintf(p->error, sizeof(p->error), "send to %s: %s",
		    netaddr_str((struct sockaddr *)&p->dst, a, sizeof(a)),
		    strerror(errno));
		log_debug("%s: %s", __func__, p->error);
		/* ENETUNREACH and friends: let the retransmission retry */
		return -1;
	}
	return 0;
}

static void
probe_done(struct probe *p, int status)
{
	ev_timer_stop(p->eng->loop, &p->rtx);
	TAILQ_REMOVE(&p->eng->active, p, entry);
	p->active = 0;
	p->status = status;
	p->cb(p, status, p->arg);
}

int
probe_request(uint8_t *buf, size_t cap, uint8_t tid[12], uint32_t change)
{
	struct stun_writer	w;
	int			n;

	stun_new_tid(tid);
	stun_init(&w, buf, cap, STUN_METHOD_BINDING, STUN_CLASS_REQUEST, tid);
	if (change != 0)
		stun_add_change_request(&w, change);
	stun_add_fingerprint(&w);
	if ((n = stun_finish(&w)) < 0) {
		log_errorx("%s: cannot build request: %s", __func__,
		    stun_strerror(n));
		return -1;
	}
	return n;
}

int
probe_start(struct probe *p, struct probe_engine *e, int fd,
    const struct sockaddr *dst, uint32_t change, double timeout_s,
    probe_cb *cb, void *arg)
{
	int n;

	if (fd < 0)
		return -1;	/* no socket of dst's family (IPv6 off?) */
	memset(p, 0, sizeof(*p));
	p->eng = e;
	p->fd = fd;
	p->cb = cb;
	p->arg = arg;
	memcpy(&p->dst, dst, netaddr_len(dst));
	if ((n = probe_request(p->req, sizeof(p->req), p->tid, change)) == -1)
		return -1;
	p->reqlen = n;
	p->rto = e->rto;
	p->deadline = ev_now(e->loop) + timeout_s;
	TAILQ_INSERT_TAIL(&e->active, p, entry);
	p->active = 1;
	ev_timer_init(&p->rtx, probe_rtx_cb, 0, 0);
	probe_send(p);
	ev_timer_set(&p->rtx, p->rto < timeout_s ? p->rto : timeout_s, 0);
	ev_timer_start(e->loop, &p->rtx);
	return 0;
}

void
probe_cancel(struct probe *p)
{
	if (!p->active)
		return;
	ev_timer_stop(p->eng->loop, &p->rtx);
	TAILQ_REMOVE(&p->eng->active, p, entry);
	p->active = 0;
}

static void
probe_rtx_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct probe	*p = container_of(w, struct probe, rtx);
	double		 now = ev_now(loop), left = p->deadline - now, next;

	(void)revents;
	if (left <= 0.001) {
		p->eng->st.timeouts++;
		if (p->error[0] == '\0')
			snprintf(p->error, sizeof(p->error),
			    "no answer after %d tries in %.1fs", p->nsent,
			    now - p->t_first);
		probe_done(p, PROBE_TIMEOUT);
		return;
	}
	if (p->nsent < PROBE_RC) {
		probe_send(p);
		p->rto *= 2;
		next = p->rto;
	} else
		next = left;	/* RFC 8489: wait Rm*RTO; our deadline bounds it */
	ev_timer_set(w, next < left ? next : left, 0);
	ev_timer_start(loop, w);
}

int
probe_input(struct probe_engine *e, const uint8_t *buf, size_t len,
    const struct sockaddr *from)
{
	struct stun_msg	 m;
	struct probe	*p;
	int		 r;

	if ((r = stun_decode(buf, len, &m)) != STUN_OK) {
		e->st.malformed++;
		log_debug("%s: dropping datagram: %s", __func__,
		    stun_strerror(r));
		return 0;
	}
	if (m.method != STUN_METHOD_BINDING ||
	    (m.cls != STUN_CLASS_SUCCESS && m.cls != STUN_CLASS_ERROR)) {
		e->st.unmatched++;
		return 0;
	}
	TAILQ_FOREACH(p, &e->active, entry)
		if (memcmp(p->tid, m.tid, sizeof(p->tid)) == 0)
			break;
	if (p == NULL) {
		/* late answer to a finished transaction, or a stray */
		e->st.unmatched++;
		return 0;
	}
	memcpy(&p->from, from, netaddr_len(from));
	/* Karn: an answer after a retransmission is timed from the last send */
	p->rtt_ms = (ev_time() - (p->nsent == 1 ? p->t_first : p->t_last)) *
	    1000.0;
	if (m.cls == STUN_CLASS_ERROR) {
		p->error_code = m.error_code;
		snprintf(p->error, sizeof(p->error), "error %u %.*s",
		    m.error_code, (int)(m.error_reason_len > 60 ? 60 :
		    m.error_reason_len), m.error_reason ? m.error_reason : "");
		e->st.answered++;
		probe_done(p, PROBE_ERROR_RESPONSE);
		return 1;
	}
	if (m.has & STUN_HAS_XOR_MAPPED)
		p->mapped = m.xor_mapped;
	else if (m.has & STUN_HAS_MAPPED)
		p->mapped = m.mapped;	/* RFC 3489 servers */
	else {
		e->st.malformed++;
		snprintf(p->error, sizeof(p->error),
		    "answer without a mapped address");
		return 0;	/* keep waiting: maybe a proper one follows */
	}
	if (m.has & STUN_HAS_RESPONSE_ORIGIN) {
		p->origin = m.response_origin;
		p->has_origin = 1;
	}
	if (m.has & STUN_HAS_OTHER_ADDRESS) {
		p->other = m.other_address;
		p->has_other = 1;
	}
	e->st.answered++;
	probe_done(p, PROBE_OK);
	return 1;
}

void
probe_drain(struct probe_engine *e, int fd)
{
	struct sockaddr_storage	from;
	socklen_t		fromlen;
	uint8_t			buf[2048];
	ssize_t			n;
	int			i;

	/* bounded so one busy socket cannot starve the loop */
	for (i = 0; i < 64; i++) {
		fromlen = sizeof(from);
		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from,
		    &fromlen);
		if (n == -1)
			return;
		probe_input(e, buf, n, (struct sockaddr *)&from);
	}
}

static void
probe_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	probe_drain(w->data, w->fd);
}
