/*
 * The listening socket: bind (one dual-stack socket by default), accept in
 * bounded batches with a pause when descriptors run out, and the graceful
 * stop on SIGTERM (stop accepting, close frames 1001, drain).
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <wslay/wslay.h>

#include "common/log.h"
#include "relayd/relayd.h"

static void
listener_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct relayd		*rd = container_of(w, struct relayd, lio);
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	int			 fd, i;

	(void)revents;
	/* bounded, so a connection storm cannot starve established clients */
	for (i = 0; i < 128; i++) {
		sl = sizeof(ss);
		fd = accept4(rd->lfd, (struct sockaddr *)&ss, &sl,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				log_warnx_rl(&rd->accept_rl, 10.0,
				    "accept: %s: pausing for 100 ms",
				    strerror(errno));
				/* out of descriptors: pause accepting (a
				 * level-triggered watcher would spin) */
				ev_io_stop(loop, &rd->lio);
				ev_timer_set(&rd->accept_retry, 0.1, 0);
				ev_timer_start(loop, &rd->accept_retry);
			}
			return;
		}
		conn_accept(rd, fd, (struct sockaddr *)&ss);
	}
}

static void
listener_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct relayd *rd = container_of(w, struct relayd, accept_retry);

	(void)revents;
	if (rd->lfd != -1 && !rd->stopping)
		ev_io_start(loop, &rd->lio);
}

static int
listener_socket(struct relayd *rd, const char *host, int v6only)
{
	struct addrinfo	 hints, *res = NULL;
	char		 port[8];
	int		 fd = -1, one = 1, r;
	struct sockaddr_storage ss;
	socklen_t	 sl = sizeof(ss);

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%d", rd->conf.port);
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0) {
		log_warnx("%s: listen address %s: %s", __func__, host,
		    gai_strerror(r));
		return -1;
	}
	if ((fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (res->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
		    sizeof(v6only));
	if (bind(fd, res->ai_addr, res->ai_addrlen) == -1 ||
	    listen(fd, 4096) == -1)
		goto fail;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		rd->port = ntohs(ss.ss_family == AF_INET ?
		    ((struct sockaddr_in *)&ss)->sin_port :
		    ((struct sockaddr_in6 *)&ss)->sin6_port);
	freeaddrinfo(res);
	return fd;
fail:
	log_warn("%s: listen on %s port %d", __func__, host, rd->conf.port);
	if (fd != -1)
		close(fd);
	freeaddrinfo(res);
	return -1;
}

int
listener_open(struct relayd *rd)
{
	const char *host = rd->conf.listen;

	if (host[0] == '\0' || !strcmp(host, "*")) {
		/* one dual-stack socket; hosts without IPv6 get IPv4 only */
		if ((rd->lfd = listener_socket(rd, "::", 0)) == -1)
			rd->lfd = listener_socket(rd, "0.0.0.0", 0);
		host = rd->lfd != -1 ? "*" : host;
	} else
		rd->lfd = listener_socket(rd, host, 1);
	if (rd->lfd == -1)
		return -1;
	ev_io_init(&rd->lio, listener_accept_cb, rd->lfd, EV_READ);
	ev_io_start(rd->loop, &rd->lio);
	ev_timer_init(&rd->accept_retry, listener_retry_cb, 0.1, 0);
	log_info("listening on %s port %d (%s)", host, rd->port,
	    rd->tls != NULL ? "wss" : "ws");
	return 0;
}

void
listener_close(struct relayd *rd)
{
	if (rd->lfd == -1)
		return;
	ev_io_stop(rd->loop, &rd->lio);
	ev_timer_stop(rd->loop, &rd->accept_retry);
	close(rd->lfd);
	rd->lfd = -1;
}

static void
listener_drain_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct relayd		*rd = container_of(w, struct relayd, drain);
	struct relayd_conn	*c;

	(void)revents;
	log_info("drain time over: closing %u clients", rd->nclients);
	while ((c = TAILQ_FIRST(&rd->clients)) != NULL)
		conn_drop(c, REASON_SHUTDOWN);
	ev_break(loop, EVBREAK_ALL);
}

/* SIGTERM: stop accepting, send close frames (1001), wait up to drain_ms. */
void
listener_shutdown(struct relayd *rd)
{
	struct relayd_conn *c, *next;

	if (rd->stopping) {
		/* second signal: do not wait any longer */
		listener_drain_cb(rd->loop, &rd->drain, 0);
		return;
	}
	rd->stopping = 1;
	listener_close(rd);
	log_info("shutting down: %u clients, draining up to %.1fs",
	    rd->nclients, rd->conf.drain_ms / 1000.0);
	TAILQ_FOREACH_SAFE(c, &rd->clients, entry, next) {
		if (c->state == CLIENT_WS)
			ws_close(c, WSLAY_CODE_GOING_AWAY, "relay shutting down",
			    REASON_SHUTDOWN);
		else if (c->state != CLIENT_CLOSING)
			conn_drop(c, REASON_SHUTDOWN);
	}
	if (rd->nclients == 0) {
		ev_break(rd->loop, EVBREAK_ALL);
		return;
	}
	ev_timer_init(&rd->drain, listener_drain_cb, rd->conf.drain_ms / 1000.0,
	    0);
	ev_timer_start(rd->loop, &rd->drain);
}
