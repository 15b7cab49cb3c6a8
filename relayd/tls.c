/*
 * wss:// served directly: one SSL_CTX from the configured PEM files, one SSL
 * per connection, non-blocking. SSL_MODE_RELEASE_BUFFERS lets an idle
 * connection give back its 2x16 KiB record buffers, which is what keeps
 * thousands of idle TLS clients affordable.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/log.h"
#include "relayd/relayd.h"

SSL_CTX *
tls_ctx_new(const char *cert, const char *key, char *err, size_t errlen)
{
	SSL_CTX		*ctx;
	unsigned long	 e;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		goto fail;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
	    SSL_MODE_ENABLE_PARTIAL_WRITE);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
		goto fail;
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
		goto fail;
	if (SSL_CTX_check_private_key(ctx) != 1)
		goto fail;
	return ctx;
fail:
	e = ERR_get_error();
	snprintf(err, errlen, "TLS (%s, %s): %s", cert, key,
	    e ? ERR_reason_error_string(e) : "cannot create context");
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return NULL;
}

void
tls_ctx_free(SSL_CTX *ctx)
{
	SSL_CTX_free(ctx);
}

int
tls_client_new(struct relayd_conn *c)
{
	if ((c->ssl = SSL_new(c->rd->tls)) == NULL ||
	    SSL_set_fd(c->ssl, c->fd) != 1) {
		ERR_clear_error();
		return -1;
	}
	SSL_set_accept_state(c->ssl);
	return 0;
}

void
tls_client_free(struct relayd_conn *c)
{
	if (c->ssl == NULL)
		return;
	/* best effort close_notify; the socket is non-blocking */
	if (c->state != CLIENT_TLS)
		SSL_shutdown(c->ssl);
	SSL_free(c->ssl);
	c->ssl = NULL;
	ERR_clear_error();
}

/* Map an SSL result to our convention: >0 bytes, 0 EOF, -1 errno set. */
static ssize_t
tls_result(struct relayd_conn *c, int r)
{
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		c->ssl_want_write = 0;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_WANT_WRITE:
		c->ssl_want_write = 1;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		ERR_clear_error();
		if (errno == 0)
			errno = ECONNRESET;
		return -1;
	default:
		ERR_clear_error();
		errno = EPROTO;
		return -1;
	}
}

int
tls_handshake(struct relayd_conn *c)
{
	int r;

	ERR_clear_error();
	if ((r = SSL_do_handshake(c->ssl)) == 1) {
		c->ssl_want_write = 0;
		return 1;
	}
	if (tls_result(c, r) == -1 && errno == EAGAIN)
		return 0;
	return -1;
}

ssize_t
tls_read(struct relayd_conn *c, void *buf, size_t len)
{
	int r;

	ERR_clear_error();
	if ((r = SSL_read(c->ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len))
	    > 0) {
		c->ssl_want_write = 0;
		return r;
	}
	return tls_result(c, r);
}

ssize_t
tls_write(struct relayd_conn *c, const void *buf, size_t len)
{
	int r;

	if (len == 0)
		return 0;
	ERR_clear_error();
	if ((r = SSL_write(c->ssl, buf, len > INT32_MAX ? INT32_MAX :
	    (int)len)) > 0) {
		c->ssl_want_write = 0;
		return r;
	}
	if (tls_result(c, r) == 0)
		errno = EPIPE;
	return -1;
}
