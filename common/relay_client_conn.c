/*
 * Relay client: which relay, and when (see relay_client.c). rc_connect()
 * resolves the host name off the loop (common/resolve.h; a numeric one at
 * once) and starts a non-blocking TCP connect (relay_client_step.c takes
 * it from there); rc_fail() closes and picks the next relay and the delay;
 * while on a fallback relay, a TCP probe brings it back to the first one.
 * State changes go to the on_state callback.
 */
#include "relay_client_priv.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <wslay/wslay.h>

#include "log.h"

#define RC_STABLE	10.0	/* s up before a drop no longer counts as flapping */
/* a lookup's answer serves the retries of this long: a thread per retry
 * of every session would be many threads for one relay name */
#define RC_DNS_REUSE	60.0


/* --- state ---------------------------------------------------------------- */

void
rc_set_state(struct relay_client *c, enum relay_client_state s)
{
	const char *url = s == RELAY_CLIENT_IDLE ? NULL : c->urls[c->idx].url;

	if (c->state == s && c->state_url == url)
		return;
	c->state = s;
	c->state_url = url;
	/* last thing the caller does: the callback may stop us */
	if (c->cfg.on_state != NULL)
		c->cfg.on_state(c->cfg.arg, s, url);
}

/* relay_client_stop(): at once, or once wslay has returned (c->busy). */
void
rc_stop(struct relay_client *c)
{
	if (c->busy) {
		c->stop_pending = 1;
		return;
	}
	c->stop_pending = 0;
	rc_close(c, 1000);
	rc_set_state(c, RELAY_CLIENT_IDLE);
}

/* --- teardown and retry ------------------------------------------------------ */

double
relay_client_backoff(double min, double max, unsigned attempt)
{
	double d = min;
	unsigned i;

	for (i = 0; i < attempt && d < max; i++)
		d *= 2;
	return d > max ? max : d;
}

/* +-25%: peers that lost the same relay do not come back in step */
static double
rc_jitter(double d)
{
	return d * (0.75 + arc4random_uniform(1001) / 2000.0);
}

static double
rc_backoff(struct relay_client *c)
{
	double max = c->cfg.backoff_max;

	if (c->needed && c->cfg.backoff_needed < max)
		max = c->cfg.backoff_needed;
	max = relay_client_backoff(c->cfg.backoff_min, max, c->attempt);
	if (c->attempt < 64)
		c->attempt++;
	return rc_jitter(max);
}

void
relay_client_set_needed(struct relay_client *c, int needed)
{
	double cap = c->cfg.backoff_needed;

	c->needed = needed != 0;
	/* waiting longer than a needed client would: shorten the wait (not
	 * the long one after every relay refused the token) */
	if (!c->needed || c->state != RELAY_CLIENT_BACKOFF ||
	    !ev_is_active(&c->timer) || ev_timer_remaining(c->loop,
	    &c->timer) <= cap * 1.25 || c->auth_wait)
		return;
	ev_timer_stop(c->loop, &c->timer);
	ev_timer_set(&c->timer, rc_jitter(cap), 0);
	ev_timer_start(c->loop, &c->timer);
}

static void
rc_probe_cancel(struct relay_client *c)
{
	ev_timer_stop(c->loop, &c->probe_timer);
	ev_io_stop(c->loop, &c->probe_io);
	if (c->probe_fd != -1)
		close(c->probe_fd);
	c->probe_fd = -1;
}

/* Close the connection; with a status code, say goodbye first. */
void
rc_close(struct relay_client *c, uint16_t code)
{
	if (c->ws != NULL && code != 0 && c->phase == RC_PH_OPEN) {
		wslay_event_queue_close(c->ws, code, NULL, 0);
		rc_push(c);	/* best effort, non-blocking */
	}
	if (c->ssl != NULL && code != 0) {
		ERR_clear_error();
		SSL_shutdown(c->ssl);
	}
	ev_io_stop(c->loop, &c->io);
	ev_timer_stop(c->loop, &c->timer);
	ev_timer_stop(c->loop, &c->ping);
	ev_prepare_stop(c->loop, &c->flush);
	rc_probe_cancel(c);
	if (c->ws != NULL)
		wslay_event_context_free(c->ws);
	c->ws = NULL;
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	c->ssl = NULL;
	ERR_clear_error();
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	if (c->resolver != NULL)
		resolve_cancel(c->resolver);
	c->addr_next = 0;
	c->refused_now = 0;
	free(c->hs);
	c->hs = NULL;
	free(c->rbuf);
	free(c->wbuf);
	c->rbuf = c->wbuf = NULL;
	c->hslen = c->hsoff = c->rlen = c->roff = c->wlen = c->woff = 0;
	c->ssl_want_write = c->io_error = c->drain_wanted = c->wsl_frag = 0;
	c->feed = 0;
	c->wsl_left = 0;
	c->phase = RC_PH_NONE;
}

/*
 * Something failed: close, pick the next relay and when to try it. A failed
 * attempt moves on to the next relay at once; after a whole round of
 * failures, back to the first one after a backoff delay, a long one when
 * every relay refused the token. A drop after a working connection retries
 * the same relay first.
 */
void
rc_fail(struct relay_client *c, const char *fmt, ...)
{
	struct rc_url *u = &c->urls[c->idx];
	char msg[256];
	va_list ap;
	double delay;
	int was_open = c->phase == RC_PH_OPEN, refused = c->refused_now;
	int auth = refused && relay_client_refusal_auth(&c->refusal);
	int stale = auth && c->cred != NULL && c->cred_gen != c->cred->gen;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("relay %s%s%s%s: %s", u->url, u->region ? " (" : "",
	    u->region ? u->region : "", u->region ? ")" : "", msg);
	rc_close(c, 0);
	if (refused)
		rc_answer(c, &c->refusal);
	c->round_auth += auth;		/* reset below unless the round goes on */
	c->auth_wait = 0;

	if (was_open) {
		if (ev_now(c->loop) - c->connected_at >= RC_STABLE)
			c->attempt = 0;
		c->tried = c->round_auth = 0;
		delay = rc_backoff(c);
	} else if (stale) {
		/* refused the token we had; a new one came meanwhile */
		c->tried = c->round_auth = 0;
		delay = 0;
	} else if (++c->tried < c->nurls) {
		c->idx = (c->idx + 1) % c->nurls;	/* the next, now */
		delay = 0;
	} else {
		/* a whole round failed: the first again, after a while */
		c->tried = 0;
		c->idx = 0;
		delay = rc_backoff(c);
		/* every relay refused the token, and would again: until it
		 * changes (relay_client_cred_set), come back rarely */
		if (c->round_auth == c->nurls && delay < c->cfg.auth_backoff) {
			delay = rc_jitter(c->cfg.auth_backoff);
			c->auth_wait = 1;
		}
		c->round_auth = 0;
	}
	if (delay > 0)
		log_info("relay: next attempt on %s in %.2fs",
		    c->urls[c->idx].url, delay);
	ev_timer_set(&c->timer, delay, 0);
	ev_timer_start(c->loop, &c->timer);
	rc_set_state(c, RELAY_CLIENT_BACKOFF);
}

void
rc_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct relay_client *c = container_of(w, struct relay_client, timer);

	(void)loop;
	(void)revents;
	if (c->state == RELAY_CLIENT_CONNECTING && c->phase == RC_PH_RESOLVE)
		rc_fail(c, "resolve %s: no answer within %.1fs",
		    c->urls[c->idx].host, c->cfg.connect_timeout);
	else if (c->state == RELAY_CLIENT_CONNECTING)
		rc_fail(c, "no answer within %.1fs", c->cfg.connect_timeout);
	else if (c->state == RELAY_CLIENT_BACKOFF)
		rc_connect(c);
}

/*
 * Start a non-blocking connect to the next address of the relay; 0 when
 * one is under way, -1 when none is left (c->why says the last error).
 */
int
rc_connect_next(struct relay_client *c)
{
	struct rc_url *u = &c->urls[c->idx];
	const struct sockaddr *sa;
	int one = 1;

	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	while (c->addr_next < u->naddrs) {
		sa = (const struct sockaddr *)&u->addrs[c->addr_next++];
		c->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (c->fd == -1)
			continue;
		if (connect(c->fd, sa, sa->sa_family == AF_INET6 ?
		    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in))
		    == 0 || errno == EINPROGRESS) {
			/* small frames are the point: latency over batching */
			setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one,
			    sizeof(one));
			c->phase = RC_PH_TCP;
			rc_watch(c, EV_WRITE);
			return 0;
		}
		snprintf(c->why, sizeof(c->why), "connect: %s",
		    strerror(errno));
		close(c->fd);
		c->fd = -1;
	}
	return -1;
}

/* The relay's addresses are known: connect to the first that answers. */
static void
rc_connect_addrs(struct relay_client *c)
{
	c->addr_next = 0;
	if (rc_connect_next(c) == -1)
		rc_fail(c, "%s", c->why[0] ? c->why : "no usable address");
}

static void
rc_resolved(void *arg, const struct resolve_query *q,
    const struct resolve_answer *ans, int n)
{
	struct relay_client *c = arg;
	struct rc_url *u = &c->urls[c->idx];

	(void)q;
	(void)n;
	if (c->phase != RC_PH_RESOLVE)
		return;
	if (ans[0].naddr == 0) {
		rc_fail(c, "resolve %s", ans[0].err);
		return;
	}
	memcpy(u->addrs, ans[0].addr, sizeof(u->addrs));
	u->naddrs = ans[0].naddr;
	u->resolved_at = ev_now(c->loop);
	rc_connect_addrs(c);
}

/* A literal address: no lookup. 1 when host was one. */
static int
rc_numeric(struct rc_url *u)
{
	struct addrinfo hints, *res;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if (getaddrinfo(u->host, u->port, &hints, &res) != 0)
		return 0;
	if (res->ai_addrlen <= sizeof(u->addrs[0])) {
		memset(&u->addrs[0], 0, sizeof(u->addrs[0]));
		memcpy(&u->addrs[0], res->ai_addr, res->ai_addrlen);
		u->naddrs = 1;
	}
	freeaddrinfo(res);
	return u->naddrs == 1;
}

void
rc_connect(struct relay_client *c)
{
	struct rc_url *u = &c->urls[c->idx];
	struct resolve_query q;

	c->why[0] = '\0';
	ev_timer_set(&c->timer, c->cfg.connect_timeout, 0);
	ev_timer_start(c->loop, &c->timer);
	if (rc_numeric(u) || (u->resolved_at > 0 && u->naddrs > 0 &&
	    ev_now(c->loop) - u->resolved_at < RC_DNS_REUSE)) {
		rc_connect_addrs(c);
		if (c->phase == RC_PH_TCP)
			rc_set_state(c, RELAY_CLIENT_CONNECTING);
		return;
	}
	/* a name: off the loop, a dead resolver must not freeze it */
	memset(&q, 0, sizeof(q));
	/* a name has no colon (rc_url_parse): no brackets needed */
	if ((size_t)snprintf(q.name, sizeof(q.name), "%.240s", u->host) >=
	    sizeof(q.name))
		q.name[0] = '\0';
	q.port = atoi(u->port);
	q.family = AF_UNSPEC;
	q.socktype = SOCK_STREAM;
	if ((c->resolver == NULL && (c->resolver = resolve_new(c->loop,
	    rc_resolved, c)) == NULL) || resolve_start(c->resolver, &q, 1)
	    == -1) {
		rc_fail(c, "resolve %s: cannot start a lookup", u->host);
		return;
	}
	c->phase = RC_PH_RESOLVE;
	rc_set_state(c, RELAY_CLIENT_CONNECTING);
}

/* --- coming back to the first relay --------------------------------------------- */

static void
rc_probe_done(struct relay_client *c, int ok)
{
	rc_probe_cancel(c);
	if (!ok) {
		ev_timer_set(&c->probe_timer, c->cfg.primary_retry, 0);
		ev_timer_start(c->loop, &c->probe_timer);
		return;
	}
	log_info("relay %s answers again, moving back to it",
	    c->urls[0].url);
	rc_close(c, 1001);	/* going away */
	c->idx = 0;
	c->tried = 0;
	c->attempt = 0;
	rc_connect(c);
}

void
rc_probe_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct relay_client *c = container_of(w, struct relay_client, probe_io);
	int err = 0;
	socklen_t len = sizeof(err);

	(void)loop;
	(void)revents;
	if (getsockopt(c->probe_fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	rc_probe_done(c, err == 0);
}

/*
 * A TCP connect to the first relay: cheap, and joins no session. To the
 * address it had when last resolved: no lookup here, the loop must not
 * wait for one, and a fresh one comes with the move back.
 */
void
rc_probe_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct relay_client *c = container_of(w, struct relay_client,
	    probe_timer);
	struct rc_url *u = &c->urls[0];
	const struct sockaddr *sa = (const struct sockaddr *)&u->addrs[0];

	(void)revents;
	if (c->probe_fd != -1 || u->naddrs == 0) {	/* timed out, or never
							 * resolved */
		rc_probe_done(c, 0);
		return;
	}
	c->probe_fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (c->probe_fd == -1 || (connect(c->probe_fd, sa,
	    sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in)) == -1 && errno != EINPROGRESS)) {
		rc_probe_done(c, 0);
		return;
	}
	ev_io_set(&c->probe_io, c->probe_fd, EV_WRITE);
	ev_io_start(loop, &c->probe_io);
	ev_timer_set(&c->probe_timer, c->cfg.connect_timeout, 0);
	ev_timer_start(loop, &c->probe_timer);
}
