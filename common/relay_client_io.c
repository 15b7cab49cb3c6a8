/*
 * Relay client: raw reads and writes on the socket, plain or through TLS,
 * the io watcher's interest, and the TLS handshake (SNI, certificate and
 * host name checks) before the HTTP upgrade.
 */
#include "relay_client_priv.h"

#include <sys/socket.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

/* --- raw I/O, plain or TLS: n > 0, 0 at EOF, -1 with errno ---------------- */

/* The reason of a failure, for whoever acts on it (rc_fail); -1. */
int
rc_why(struct relay_client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	return -1;
}

const char *
rc_ssl_err(void)
{
	static char buf[120];
	unsigned long e = ERR_get_error();

	if (e == 0)
		return "TLS error";
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return buf;
}

/*
 * The outcome of an SSL_read/SSL_write that returned r <= 0: -1 with errno
 * EAGAIN (wants I/O, perhaps the other direction first), 0 at a clean TLS
 * close when reading, else -1 with EIO and the reason in c->why.
 */
static ssize_t
rc_ssl_fail(struct relay_client *c, int r, const char *what)
{
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_WRITE:
		c->ssl_want_write = 1;
		/* FALLTHROUGH */
	case SSL_ERROR_WANT_READ:
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		if (strcmp(what, "read") == 0)
			return 0;
		/* FALLTHROUGH */
	default:
		snprintf(c->why, sizeof(c->why), "TLS %s: %s", what,
		    rc_ssl_err());
		errno = EIO;
		return -1;
	}
}

ssize_t
rc_read(struct relay_client *c, void *buf, size_t len)
{
	ssize_t n;
	int r;

	if (c->ssl == NULL) {
		n = read(c->fd, buf, len);
		if (n == -1 && errno != EAGAIN && errno != EINTR)
			snprintf(c->why, sizeof(c->why), "read: %s",
			    strerror(errno));
		return n;
	}
	ERR_clear_error();
	if ((r = SSL_read(c->ssl, buf, len)) > 0)
		return r;
	return rc_ssl_fail(c, r, "read");
}

ssize_t
rc_write(struct relay_client *c, const void *buf, size_t len)
{
	ssize_t n;
	int r;

	if (c->ssl == NULL) {
		n = send(c->fd, buf, len, MSG_NOSIGNAL);
		if (n == -1 && errno != EAGAIN && errno != EINTR)
			snprintf(c->why, sizeof(c->why), "write: %s",
			    strerror(errno));
		return n;
	}
	ERR_clear_error();
	if ((r = SSL_write(c->ssl, buf, len)) > 0)
		return r;
	return rc_ssl_fail(c, r, "write");
}

void
rc_watch(struct relay_client *c, int events)
{
	if (ev_is_active(&c->io) && (c->io.events & (EV_READ | EV_WRITE)) ==
	    events)
		return;
	ev_io_stop(c->loop, &c->io);
	ev_io_set(&c->io, c->fd, events);
	if (events != 0)
		ev_io_start(c->loop, &c->io);
}

/* --- the TLS handshake ---------------------------------------------------- */

/* SNI and the certificate checks for the relay being tried; 0 or -1. */

/* One step of the handshake: 1 done, 0 waiting for I/O, -1 failed (why in
 * c->why). */
int
rc_tls_step(struct relay_client *c)
{
	long vr;
	int r;

	ERR_clear_error();
	if ((r = SSL_connect(c->ssl)) == 1)
		return 1;
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		rc_watch(c, EV_READ);
		return 0;
	case SSL_ERROR_WANT_WRITE:
		rc_watch(c, EV_WRITE);
		return 0;
	}
	if ((vr = SSL_get_verify_result(c->ssl)) != X509_V_OK)
		snprintf(c->why, sizeof(c->why),
		    "TLS certificate verify failed: %s",
		    X509_verify_cert_error_string(vr));
	else
		snprintf(c->why, sizeof(c->why), "TLS handshake: %s",
		    rc_ssl_err());
	return -1;
}

int
rc_tls_start(struct relay_client *c)
{
	struct rc_url *u = &c->urls[c->idx];
	unsigned char ip[16];
	int isip;

	if ((c->ssl = SSL_new(c->ssl_ctx)) == NULL ||
	    SSL_set_fd(c->ssl, c->fd) != 1)
		return -1;
	SSL_set_mode(c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	isip = inet_pton(AF_INET, u->host, ip) == 1 ||
	    inet_pton(AF_INET6, u->host, ip) == 1;
	/* SNI takes names only (RFC 6066 3) */
	if (!isip && SSL_set_tlsext_host_name(c->ssl, u->host) != 1)
		return -1;
	if (!c->cfg.insecure) {
		if (isip) {
			if (X509_VERIFY_PARAM_set1_ip_asc(
			    SSL_get0_param(c->ssl), u->host) != 1)
				return -1;
		} else if (SSL_set1_host(c->ssl, u->host) != 1)
			return -1;
	}
	c->phase = RC_PH_TLS;
	return 0;
}
