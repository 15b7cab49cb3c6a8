/*
 * Shared by proto/invite.c (codes) and proto/invite_uri.c (join URIs);
 * not part of the API (proto/invite.h).
 */
#ifndef PROTO_INVITE_PRIV_H
#define PROTO_INVITE_PRIV_H

#include <stddef.h>

/* Writes the message into err (if any) and returns code. */
int	invite_fail(char *err, size_t errlen, int code, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));
/* ws:// or wss://, a host, URI-safe characters only */
int	invite_relay_valid(const char *s, size_t len);

#endif
