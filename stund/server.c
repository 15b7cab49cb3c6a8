#include "server.h"

#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ev.h>

#include "common/log.h"
#include "common/netaddr.h"
#include "proto/stun.h"
#include "stund.h"

#define SERVER_BATCH	32	/* datagrams per recvmmsg/sendmmsg */
/* RFC 5780 clients pad requests to probe fragmentation (turnutils_stunclient
 * sends 1532 bytes): read up to this much; larger datagrams are dropped */
#define SERVER_INLEN	4096
/* The largest answer: 20 header + 3 x 24 (XOR-MAPPED, RESPONSE-ORIGIN,
 * OTHER-ADDRESS, IPv6) + 4 + 64 (SOFTWARE, at most 63 bytes) + 8
 * FINGERPRINT = 168; a 420 is at most 20 + 28 + 40 + 8 = 96. It was 128,
 * and a SOFTWARE over 60 bytes (IPv4, RFC 5780) or 24 bytes (IPv6, RFC
 * 5780) made every answer overflow and the server silently mute. */
#define SERVER_OUTLEN	192
#define RL_BUCKETS	4096	/* rate-limit table, hashed by source IP */

/* socket index: bit 0 = alternate port, bit 1 = alternate IP */
#define SOCK_PP		0
#define SOCK_PA		1
#define SOCK_AP		2
#define SOCK_AA		3

struct server_sock {
	struct server		*srv;
	int			 idx;
	int			 fd;
	ev_io			 io;
	struct sockaddr_storage	 addr;
};

struct rl_bucket {
	uint32_t	key;
	uint32_t	count;
	uint32_t	second;
};

struct server {
	struct stund		*sd;
	struct server_sock	 socks[4];
	int			 nsocks;	/* 1, or 4 with RFC 5780 */
	struct sockaddr_storage	 other;		/* A:ap */
	struct server_stats	 st;
	struct rl_bucket	*rl;
	char			 primary[NETADDR_STRLEN];
	char			 alternate[NETADDR_STRLEN];
	/* batch buffers */
	uint8_t			 in[SERVER_BATCH][SERVER_INLEN];
	uint8_t			 out[SERVER_BATCH][SERVER_OUTLEN];
	struct sockaddr_storage	 from[SERVER_BATCH];
	struct sockaddr_storage	 to[SERVER_BATCH];
	struct iovec		 iov_in[SERVER_BATCH], iov_out[SERVER_BATCH];
	struct mmsghdr		 msg_in[SERVER_BATCH], msg_out[SERVER_BATCH];
};

/* 420 listing what the request needed and we do not understand */
static int
server_answer_420(struct stun_writer *w, const struct stun_msg *m,
    const uint16_t *unknown, size_t nunknown, struct server_stats *st)
{
	stun_add_error(w, 420, "Unknown Attribute");
	stun_add_unknown(w, unknown, nunknown);
	if (!(m->has & STUN_HAS_CLASSIC))
		stun_add_fingerprint(w);
	st->unknown_attr++;
	return stun_finish(w);
}

/*
 * An RFC 3489 client gets what it knows (RFC 8489 section 11): its own
 * 128-bit transaction id back, MAPPED-ADDRESS instead of XOR-MAPPED-ADDRESS,
 * and with RFC 5780 the old names of RESPONSE-ORIGIN and OTHER-ADDRESS
 * (SOURCE-ADDRESS, CHANGED-ADDRESS, same format), which its NAT type tests
 * read. No FINGERPRINT or SOFTWARE: RFC 3489 has neither.
 */
static void
server_answer_success(struct stun_writer *w, const struct stun_msg *m,
    const struct sockaddr *from, const struct sockaddr *local,
    const struct sockaddr *other, const char *software, int rfc5780)
{
	int classic = (m->has & STUN_HAS_CLASSIC) != 0;

	if (classic)
		stun_add_addr(w, STUN_ATTR_MAPPED_ADDRESS, from);
	else
		stun_add_xor_addr(w, STUN_ATTR_XOR_MAPPED_ADDRESS, from);
	if (rfc5780) {
		/* RESPONSE-ORIGIN is the socket actually sending: the caller
		 * passes the changed one when CHANGE-REQUEST is honoured */
		stun_add_addr(w, classic ? STUN_ATTR_SOURCE_ADDRESS :
		    STUN_ATTR_RESPONSE_ORIGIN, local);
		stun_add_addr(w, classic ? STUN_ATTR_CHANGED_ADDRESS :
		    STUN_ATTR_OTHER_ADDRESS, other);
	}
	if (classic)
		return;
	if (software != NULL && *software != '\0')
		stun_add_software(w, software);
	stun_add_fingerprint(w);
}

int
server_answer(const uint8_t *req, size_t reqlen, const struct sockaddr *from,
    const struct sockaddr *local, const struct sockaddr *other,
    const char *software, int rfc5780, uint8_t *out, size_t outcap,
    uint32_t *change, uint16_t *port, struct server_stats *st)
{
	struct stun_msg		m;
	struct stun_writer	w;
	uint16_t		unknown[STUN_MAX_UNKNOWN + 1];
	size_t			nunknown;
	uint8_t			cls;
	int			n, r;

	*change = 0;
	*port = 0;
	r = stun_decode(req, reqlen, &m);
	if (r == STUN_ERR_COOKIE && (r = stun_decode_classic(req, reqlen,
	    &m)) == STUN_OK)
		st->classic++;
	if (r != STUN_OK) {
		st->malformed++;
		return 0;
	}
	if (m.method != STUN_METHOD_BINDING || m.cls != STUN_CLASS_REQUEST) {
		st->ignored++;
		return 0;
	}
	st->requests++;
	nunknown = m.n_unknown_required;
	memcpy(unknown, m.unknown_required, nunknown * sizeof(unknown[0]));
	/* without an alternate address CHANGE-REQUEST is not understood */
	if (!rfc5780 && (m.has & STUN_HAS_CHANGE_REQUEST) &&
	    m.change_request != 0)
		unknown[nunknown++] = STUN_ATTR_CHANGE_REQUEST;
	cls = nunknown > 0 ? STUN_CLASS_ERROR : STUN_CLASS_SUCCESS;
	if (m.has & STUN_HAS_CLASSIC)
		stun_init_classic(&w, out, outcap, STUN_METHOD_BINDING, cls,
		    m.cookie, m.tid);
	else
		stun_init(&w, out, outcap, STUN_METHOD_BINDING, cls, m.tid);
	if (nunknown > 0) {
		n = server_answer_420(&w, &m, unknown, nunknown, st);
		return n < 0 ? 0 : n;
	}
	server_answer_success(&w, &m, from, local, other, software, rfc5780);
	if (rfc5780) {
		if (m.has & STUN_HAS_CHANGE_REQUEST)
			*change = m.change_request &
			    (STUN_CHANGE_IP | STUN_CHANGE_PORT);
		if (m.has & STUN_HAS_RESPONSE_PORT)
			*port = m.response_port;
	}
	n = stun_finish(&w);
	return n < 0 ? 0 : n;
}

static int
server_rate_ok(struct server *srv, const struct sockaddr *from, double now)
{
	const uint8_t	*a;
	size_t		 alen, i;
	uint32_t	 h = 2166136261u, sec = (uint32_t)now;
	struct rl_bucket *b;

	if (srv->rl == NULL)
		return 1;
	if (from->sa_family == AF_INET) {
		a = (const uint8_t *)&((const struct sockaddr_in *)from)->sin_addr;
		alen = 4;
	} else {
		/* one IPv6 host usually owns a /64: limit per /64 */
		a = (const uint8_t *)&((const struct sockaddr_in6 *)from)->sin6_addr;
		alen = 8;
	}
	for (i = 0; i < alen; i++)	/* FNV-1a */
		h = (h ^ a[i]) * 16777619u;
	b = &srv->rl[h % RL_BUCKETS];
	if (b->key != h || b->second != sec) {
		/* a colliding source shares the bucket; cheaper than a table
		 * that grows under a spoofed-source flood */
		b->key = h;
		b->second = sec;
		b->count = 0;
	}
	return ++b->count <= (uint32_t)srv->sd->cfg.rate_limit;
}

static void
server_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct server_sock	*ss = w->data;
	struct server		*srv = ss->srv;
	struct server_sock	*tx;
	uint32_t		 change;
	uint16_t		 port;
	int			 i, n, nout = 0, len, sent;

	(void)revents;
	for (i = 0; i < SERVER_BATCH; i++) {
		srv->iov_in[i].iov_base = srv->in[i];
		srv->iov_in[i].iov_len = sizeof(srv->in[i]);
		memset(&srv->msg_in[i].msg_hdr, 0, sizeof(struct msghdr));
		srv->msg_in[i].msg_hdr.msg_iov = &srv->iov_in[i];
		srv->msg_in[i].msg_hdr.msg_iovlen = 1;
		srv->msg_in[i].msg_hdr.msg_name = &srv->from[i];
		srv->msg_in[i].msg_hdr.msg_namelen = sizeof(srv->from[i]);
	}
	n = recvmmsg(ss->fd, srv->msg_in, SERVER_BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return;
	for (i = 0; i < n; i++) {
		const struct sockaddr *from =
		    (struct sockaddr *)&srv->from[i];

		if (srv->msg_in[i].msg_hdr.msg_flags & MSG_TRUNC) {
			srv->st.malformed++;
			continue;
		}

		if (srv->rl != NULL && !server_rate_ok(srv, from,
		    ev_now(loop))) {
			srv->st.rate_limited++;
			continue;
		}
		/* answer first as if from this socket, then see whether the
		 * request asked for another one */
		len = server_answer(srv->in[i], srv->msg_in[i].msg_len, from,
		    (struct sockaddr *)&ss->addr,
		    (struct sockaddr *)&srv->other, srv->sd->cfg.software,
		    srv->nsocks == 4, srv->out[nout], SERVER_OUTLEN, &change,
		    &port, &srv->st);
		if (len == 0)
			continue;
		tx = ss;
		if (change != 0) {
			int idx = ss->idx;

			if (change & STUN_CHANGE_IP)
				idx ^= 2;
			if (change & STUN_CHANGE_PORT)
				idx ^= 1;
			tx = &srv->socks[idx];
			/* RESPONSE-ORIGIN must name the socket sending */
			struct server_stats scratch;

			len = server_answer(srv->in[i], srv->msg_in[i].msg_len,
			    from, (struct sockaddr *)&tx->addr,
			    (struct sockaddr *)&srv->other,
			    srv->sd->cfg.software, 1, srv->out[nout],
			    SERVER_OUTLEN, &change, &port, &scratch);
		}
		memcpy(&srv->to[nout], from, sizeof(srv->to[nout]));
		if (port != 0)
			netaddr_set_port((struct sockaddr *)&srv->to[nout], port);
		if (tx != ss) {
			/* rare (behaviour tests): send at once */
			if (sendto(tx->fd, srv->out[nout], len, 0,
			    (struct sockaddr *)&srv->to[nout],
			    netaddr_len(from)) == -1)
				srv->st.send_errors++;
			else
				srv->st.responses++;
			continue;
		}
		srv->iov_out[nout].iov_base = srv->out[nout];
		srv->iov_out[nout].iov_len = len;
		memset(&srv->msg_out[nout].msg_hdr, 0, sizeof(struct msghdr));
		srv->msg_out[nout].msg_hdr.msg_iov = &srv->iov_out[nout];
		srv->msg_out[nout].msg_hdr.msg_iovlen = 1;
		srv->msg_out[nout].msg_hdr.msg_name = &srv->to[nout];
		srv->msg_out[nout].msg_hdr.msg_namelen = netaddr_len(from);
		nout++;
	}
	for (i = 0; i < nout; i += sent) {
		sent = sendmmsg(ss->fd, srv->msg_out + i, nout - i, 0);
		if (sent <= 0) {
			/* a full socket buffer: the client retransmits */
			srv->st.send_errors += nout - i;
			break;
		}
		srv->st.responses += sent;
	}
}

static int
server_open(struct server *srv, int idx, const struct sockaddr_storage *addr)
{
	struct server_sock	*ss = &srv->socks[idx];
	char			 a[NETADDR_STRLEN];
	int			 on = 1;

	ss->srv = srv;
	ss->idx = idx;
	ss->addr = *addr;
	if ((ss->fd = socket(addr->ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		log_error("%s: socket", __func__);
		return -1;
	}
	setsockopt(ss->fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (addr->ss_family == AF_INET6)
		setsockopt(ss->fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	if (bind(ss->fd, (const struct sockaddr *)addr,
	    netaddr_len((const struct sockaddr *)addr)) == -1) {
		log_error("STUN server: bind %s",
		    netaddr_str((const struct sockaddr *)addr, a, sizeof(a)));
		close(ss->fd);
		ss->fd = -1;
		return -1;
	}
	ev_io_init(&ss->io, server_read_cb, ss->fd, EV_READ);
	ss->io.data = ss;
	ev_io_start(srv->sd->loop, &ss->io);
	return 0;
}

int
server_init(struct stund *sd)
{
	struct server		*srv;
	struct sockaddr_storage	 p, a, addrs[4];
	int			 i, ap;

	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return -1;
	srv->sd = sd;
	for (i = 0; i < 4; i++)
		srv->socks[i].fd = -1;
	if (netaddr_parse(sd->cfg.listen, 3478, &p) == -1) {
		log_errorx("STUN server: bad listen address %s", sd->cfg.listen);
		goto fail;
	}
	addrs[SOCK_PP] = p;
	srv->nsocks = 1;
	if (sd->cfg.alt_ip[0] != '\0') {
		if (netaddr_parse(sd->cfg.alt_ip, 1, &a) == -1)
			goto fail;
		ap = sd->cfg.alt_port ? sd->cfg.alt_port :
		    netaddr_port((struct sockaddr *)&p) + 1;
		addrs[SOCK_PA] = p;
		netaddr_set_port((struct sockaddr *)&addrs[SOCK_PA], ap);
		addrs[SOCK_AP] = a;
		netaddr_set_port((struct sockaddr *)&addrs[SOCK_AP],
		    netaddr_port((struct sockaddr *)&p));
		addrs[SOCK_AA] = a;
		netaddr_set_port((struct sockaddr *)&addrs[SOCK_AA], ap);
		srv->other = addrs[SOCK_AA];
		srv->nsocks = 4;
		netaddr_str((struct sockaddr *)&srv->other, srv->alternate,
		    sizeof(srv->alternate));
	}
	for (i = 0; i < srv->nsocks; i++)
		if (server_open(srv, i, &addrs[i]) == -1)
			goto fail;
	netaddr_str((struct sockaddr *)&p, srv->primary, sizeof(srv->primary));
	if (sd->cfg.rate_limit > 0 &&
	    (srv->rl = calloc(RL_BUCKETS, sizeof(*srv->rl))) == NULL)
		goto fail;
	sd->srv = srv;
	log_info("STUN server on %s%s%s", srv->primary,
	    srv->nsocks == 4 ? ", RFC 5780 alternate " : "", srv->alternate);
	return 0;
fail:
	sd->srv = srv;
	server_fini(sd);
	return -1;
}

void
server_fini(struct stund *sd)
{
	struct server	*srv = sd->srv;
	int		 i;

	if (srv == NULL)
		return;
	for (i = 0; i < 4; i++)
		if (srv->socks[i].fd != -1) {
			ev_io_stop(sd->loop, &srv->socks[i].io);
			close(srv->socks[i].fd);
		}
	free(srv->rl);
	free(srv);
	sd->srv = NULL;
}

const struct server_stats *
server_stats(const struct stund *sd)
{
	return sd->srv != NULL ? &sd->srv->st : NULL;
}

const char *
server_primary(const struct stund *sd)
{
	return sd->srv != NULL ? sd->srv->primary : "";
}

const char *
server_alternate(const struct stund *sd)
{
	return sd->srv != NULL ? sd->srv->alternate : "";
}
