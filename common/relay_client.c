/*
 * Relay client: see relay_client.h. One connection at a time goes through
 *
 *	TCP connect -> [TLS handshake] -> HTTP upgrade out -> 101 in -> OPEN
 *
 * driven by one ev_io whose interest follows what the current step (or
 * wslay, once open) wants. Any failure closes the socket and goes through
 * rc_fail(), the one place that picks the next relay and the delay.
 *
 * This file: the public API and sending. The steps live in the other
 * relay_client_*.c files, listed in relay_client_priv.h.
 */
#include "relay_client_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>
#include <openssl/ssl.h>
#include <wslay/wslay.h>

#include "log.h"

/* Frames sent in one loop turn are written together, before the loop waits
 * again (c->flush), or as soon as this much is waiting. */
#define RC_FLUSH_AT	(64u << 10)

static void	rc_flush_cb(struct ev_loop *, ev_prepare *, int);

/* --- state ---------------------------------------------------------------- */

const char *
relay_client_state_str(enum relay_client_state s)
{
	switch (s) {
	case RELAY_CLIENT_IDLE:		return "idle";
	case RELAY_CLIENT_CONNECTING:	return "connecting";
	case RELAY_CLIENT_CONNECTED:	return "connected";
	case RELAY_CLIENT_BACKOFF:	return "backoff";
	}
	return "?";
}

/* --- public ------------------------------------------------------------------ */

struct relay_client *
relay_client_new(struct ev_loop *loop, const struct relay_client_cfg *cfg)
{
	struct relay_client *c;
	size_t i;
	int tls = 0;

	if (cfg->nurls == 0) {
		errno = EINVAL;
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->loop = loop;
	c->cfg = *cfg;
	c->cfg.urls = NULL;
	c->cfg.session = c->cfg.token = c->cfg.ca_file = NULL;
	c->fd = c->probe_fd = -1;
	c->rtt = -1;
#define DFLT(f, v)	do { if (c->cfg.f <= 0) c->cfg.f = (v); } while (0)
	DFLT(connect_timeout, 10);
	DFLT(ping_interval, 15);
	DFLT(dead_after, 3 * c->cfg.ping_interval);
	DFLT(backoff_min, 0.25);
	DFLT(backoff_max, 30);
	DFLT(backoff_needed, 2);
	DFLT(primary_retry, 300);
	DFLT(auth_backoff, 300);
	DFLT(max_queue, 4u << 20);
	DFLT(max_frame, 1u << 20);
#undef DFLT
	/* relayd refuses a token given twice, even the same one */
	if (c->cfg.token_mode != RELAY_CLIENT_TOKEN_QUERY)
		c->cfg.token_mode = RELAY_CLIENT_TOKEN_HEADER;
	if (cfg->token != NULL && (c->token = strdup(cfg->token)) == NULL)
		goto fail;
	c->cfg.cred = NULL;
	if ((c->urls = calloc(cfg->nurls, sizeof(*c->urls))) == NULL)
		goto fail;
	c->nurls = cfg->nurls;
	for (i = 0; i < c->nurls; i++) {
		if (rc_url_parse(&c->urls[i], cfg->urls[i].url,
		    cfg->session) == -1) {
			errno = EINVAL;
			goto fail;
		}
		if (cfg->urls[i].region != NULL && (c->urls[i].region =
		    strdup(cfg->urls[i].region)) == NULL)
			goto fail;
		tls |= c->urls[i].tls;
	}
	if (tls) {
		if ((c->ssl_ctx = SSL_CTX_new(TLS_client_method())) == NULL)
			goto tlsfail;
		SSL_CTX_set_min_proto_version(c->ssl_ctx, TLS1_2_VERSION);
		SSL_CTX_set_verify(c->ssl_ctx, c->cfg.insecure ?
		    SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
		if (cfg->ca_file != NULL) {
			if (SSL_CTX_load_verify_locations(c->ssl_ctx,
			    cfg->ca_file, NULL) != 1) {
				log_warnx("%s: CA file %s: %s", __func__,
				    cfg->ca_file, rc_ssl_err());
				errno = EINVAL;
				goto fail;
			}
		} else if (SSL_CTX_set_default_verify_paths(c->ssl_ctx) != 1)
			goto tlsfail;
	}
	ev_init(&c->io, rc_io_cb);
	ev_init(&c->timer, rc_timer_cb);
	ev_init(&c->ping, rc_ping_cb);
	ev_prepare_init(&c->flush, rc_flush_cb);
	ev_init(&c->probe_io, rc_probe_io_cb);
	ev_init(&c->probe_timer, rc_probe_timer_cb);
	c->cred = cfg->cred;
	rc_cred_add(c);
	return c;
tlsfail:
	log_warnx("%s: TLS context: %s", __func__, rc_ssl_err());
	errno = EINVAL;
fail:
	relay_client_free(c);
	return NULL;
}

void
relay_client_start(struct relay_client *c)
{
	if (c->state != RELAY_CLIENT_IDLE)
		return;
	c->idx = c->tried = c->attempt = c->round_auth = 0;
	rc_connect(c);
}

void
relay_client_stop(struct relay_client *c)
{
	rc_stop(c);
}

void
relay_client_free(struct relay_client *c)
{
	size_t i;

	if (c == NULL)
		return;
	if (c->loop != NULL)
		rc_close(c, 1000);
	resolve_free(c->resolver);
	rc_cred_remove(c);
	for (i = 0; i < c->nurls; i++) {
		free(c->urls[i].url);
		free(c->urls[i].region);
		free(c->urls[i].hosthdr);
		free(c->urls[i].target);
	}
	free(c->urls);
	if (c->token != NULL)
		explicit_bzero(c->token, strlen(c->token));
	free(c->token);
	SSL_CTX_free(c->ssl_ctx);
	free(c);
}

static void
rc_send_now(struct relay_client *c)
{
	ev_prepare_stop(c->loop, &c->flush);
	c->busy++;
	if (rc_push(c) == -1)
		c->io_error = 1;
	c->busy--;
	if (c->io_error || wslay_event_want_write(c->ws) || c->wlen > 0 ||
	    c->ssl_want_write)
		ev_feed_event(c->loop, &c->io, EV_WRITE);
}

static void
rc_flush_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct relay_client *c = container_of(w, struct relay_client, flush);

	(void)revents;
	ev_prepare_stop(loop, w);
	if (c->phase == RC_PH_OPEN && !c->busy && !c->io_error)
		rc_send_now(c);
}

int
relay_client_send(struct relay_client *c, const void *data, size_t len)
{
	struct wslay_event_msg m;
	size_t queued;

	if (c->phase != RC_PH_OPEN || c->stop_pending || c->io_error ||
	    !wslay_event_get_write_enabled(c->ws)) {
		errno = ENOTCONN;
		return -1;
	}
	if (len > c->cfg.max_queue) {
		errno = EMSGSIZE;
		return -1;
	}
	queued = rc_queued(c);
	if (queued > 0 && queued + len > c->cfg.max_queue) {
		c->drain_wanted = 1;
		errno = ENOBUFS;
		return -1;
	}
	/* no room: write some out first (not from inside wslay) */
	if (wslay_event_want_write(c->ws) ||
	    (rc_frame_direct(c, data, len) == -1 && (c->busy ||
	    rc_flush(c) == -1 || rc_frame_direct(c, data, len) == -1))) {
		m.opcode = WSLAY_BINARY_FRAME;
		m.msg = data;
		m.msg_length = len;
		if (wslay_event_queue_msg(c->ws, &m) != 0) {
			errno = ENOMEM;
			return -1;
		}
	}
	if (c->busy)
		return 0;	/* rc_ws_step() sends after wslay returns */
	/*
	 * Written before the loop waits again (rc_flush_cb): no later for
	 * latency than writing now, and a burst of frames sent in one loop
	 * turn takes one send(2) per RC_FLUSH_AT instead of one per frame.
	 */
	if (c->wlen - c->woff < RC_FLUSH_AT && !wslay_event_want_write(c->ws)) {
		ev_prepare_start(c->loop, &c->flush);
		return 0;
	}
	rc_send_now(c);
	return 0;
}

enum relay_client_state
relay_client_state(const struct relay_client *c)
{
	return c->state;
}

const char *
relay_client_url(const struct relay_client *c)
{
	return c->urls[c->idx].url;
}

const char *
relay_client_region(const struct relay_client *c)
{
	return c->urls[c->idx].region;
}

size_t
relay_client_queued(const struct relay_client *c)
{
	return rc_queued(c);
}

double
relay_client_rtt(const struct relay_client *c)
{
	return c->rtt;
}
