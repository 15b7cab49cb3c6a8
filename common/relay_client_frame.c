/*
 * Relay client: the read and write buffers of an open connection (see the
 * RC_RBUF comment in relay_client_priv.h). Complete binary frames are parsed
 * from the read buffer and built into the write buffer here, without
 * wslay; everything else goes through wslay, always at a frame boundary.
 */
#include "relay_client_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>
#include <wslay/wslay.h>

#include "common/wsframe.h"
#include "common/wsmask.h"

/* wslay's genmask callback, and the mask of every frame built here */
int
rc_genmask_cb(wslay_event_context_ptr ws, uint8_t *buf, size_t len,
    void *arg)
{
	struct relay_client *c = arg;

	(void)ws;
	/* RFC 6455 5.3: unpredictable; one arc4random call per 64 frames */
	if (len > sizeof(c->masks)) {
		arc4random_buf(buf, len);
		return 0;
	}
	if (c->maskoff == 0 || c->maskoff + len > sizeof(c->masks)) {
		arc4random_buf(c->masks, sizeof(c->masks));
		c->maskoff = 0;
	}
	memcpy(buf, c->masks + c->maskoff, len);
	explicit_bzero(c->masks + c->maskoff, len);
	c->maskoff += len;
	return 0;
}

/*
 * Handle what c->rbuf holds. The common frame, a complete final binary
 * frame within max_frame, goes to on_frame straight from the buffer; every
 * other frame (control, text, fragments, anything malformed or too big)
 * goes to wslay whole, so it keeps deciding about those as before, always
 * at a frame boundary. 0; 1 when wslay stopped reading; or wslay's error.
 */
static int
rc_parse(struct relay_client *c)
{
	unsigned char *p;
	uint64_t plen;
	size_t hl, avail;
	int r;

	while (c->roff < c->rlen && !c->stop_pending) {
		p = c->rbuf + c->roff;
		avail = c->rlen - c->roff;
		if (c->wsl_left > 0) {
			c->feed = avail < c->wsl_left ? avail : c->wsl_left;
			if ((r = wslay_event_recv(c->ws)) != 0)
				return r;
			if (c->feed > 0) {
				c->feed = 0;
				return 1;
			}
			continue;
		}
		if ((hl = wsframe_header(p, avail, &plen)) == 0)
			break;
		if (p[0] != (0x80 | WSLAY_BINARY_FRAME) || (p[1] & 0x80) ||
		    c->wsl_frag || plen > c->cfg.max_frame ||
		    plen > RC_RBUF - hl || !wsframe_len_minimal(p, plen) ||
		    !wslay_event_get_read_enabled(c->ws)) {
			c->wsl_left = wsframe_to_wslay(p, hl, plen,
			    &c->wsl_frag);
			continue;
		}
		if (avail - hl < plen)
			break;
		c->roff += hl + plen;
		c->last_rx = ev_now(c->loop);
		if (c->cfg.on_frame != NULL)
			c->cfg.on_frame(c->cfg.arg, p + hl, plen);
	}
	return 0;
}

/* Read what the socket has into c->rbuf and handle it; 0 or wslay's
 * error. */
int
rc_input(struct relay_client *c)
{
	ssize_t n;
	size_t want;
	int r, drained = 0;

	for (;;) {
		if (c->roff < c->rlen && (r = rc_parse(c)) != 0) {
			if (r < 0)
				return r;
			c->roff = c->rlen = 0;	/* closing: not for wslay */
			return 0;
		}
		if (c->roff == c->rlen)
			c->roff = c->rlen = 0;
		if (drained || c->stop_pending ||
		    !wslay_event_get_read_enabled(c->ws))
			return 0;
		if (c->roff > 0 && RC_RBUF - c->rlen < RC_RBUF / 4) {
			/* a partial frame at the end: to the front */
			memmove(c->rbuf, c->rbuf + c->roff, c->rlen - c->roff);
			c->rlen -= c->roff;
			c->roff = 0;
		}
		want = RC_RBUF - c->rlen;
		n = rc_read(c, c->rbuf + c->rlen, want);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n <= 0) {
			if (n == 0 && c->why[0] == '\0')
				snprintf(c->why, sizeof(c->why),
				    "connection closed by relay");
			return WSLAY_ERR_CALLBACK_FAILURE;
		}
		c->rlen += n;
		c->last_rx = ev_now(c->loop);
		/* a short read emptied the socket: skip the read that would
		 * only say EAGAIN; the level-triggered watcher comes back if
		 * more arrived since. TLS records say nothing of the socket. */
		drained = c->ssl == NULL && (size_t)n < want;
	}
}

/*
 * A binary frame straight into c->wbuf, masked 64 bytes a step
 * (common/wsmask.h; wslay masks byte by byte, the largest cost of a big
 * frame). Only when wslay has
 * nothing queued or half-sent, so the byte stream stays in order. -1: no
 * room, let wslay queue it.
 *
 *   FIN|0x2, MASK|len7 [len16 | len64], masking key (4), payload ^ key
 *   (RFC 6455 5.2)
 */
int
rc_frame_direct(struct relay_client *c, const unsigned char *data, size_t len)
{
	unsigned char *p, key[4];
	size_t hl = len < 126 ? 2 : len < 65536 ? 4 : 10, i;

	if (c->woff > 0 && c->wlen + hl + 4 + len > RC_WBUF) {
		memmove(c->wbuf, c->wbuf + c->woff, c->wlen - c->woff);
		c->wlen -= c->woff;
		c->woff = 0;
	}
	if (c->wlen + hl + 4 + len > RC_WBUF)
		return -1;
	p = c->wbuf + c->wlen;
	*p++ = 0x80 | WSLAY_BINARY_FRAME;
	if (len < 126)
		*p++ = 0x80 | len;
	else if (len < 65536) {
		*p++ = 0x80 | 126;
		*p++ = len >> 8;
		*p++ = len;
	} else {
		*p++ = 0x80 | 127;
		for (i = 8; i-- > 0;)
			*p++ = (uint64_t)len >> (8 * i);
	}
	rc_genmask_cb(c->ws, key, 4, c);
	memcpy(p, key, 4);
	p += 4;
	wsmask_copy(p, data, len, key);
	c->wlen += hl + 4 + len;
	return 0;
}

/* Write out c->wbuf; 0 (maybe with bytes left), -1 on a dead socket. */
int
rc_flush(struct relay_client *c)
{
	ssize_t n;

	while (c->woff < c->wlen) {
		n = rc_write(c, c->wbuf + c->woff, c->wlen - c->woff);
		if (n > 0) {
			c->woff += n;
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			break;
		return -1;
	}
	if (c->woff == c->wlen)
		c->woff = c->wlen = 0;
	return 0;
}

/* Bytes not written yet: wslay's queue and the write buffer. */
size_t
rc_queued(const struct relay_client *c)
{
	if (c->ws == NULL)
		return 0;
	return wslay_event_get_queued_msg_length(c->ws) + c->wlen - c->woff;
}

/* Let wslay frame what is queued and write it; -1 on a dead socket. */
int
rc_push(struct relay_client *c)
{
	int i;

	for (i = 0; i < 16; i++) {
		if (wslay_event_send(c->ws) != 0 || rc_flush(c) == -1)
			return -1;
		/* socket full, or nothing left: the io watcher takes over */
		if (c->wlen > 0 || !wslay_event_want_write(c->ws))
			break;
	}
	return 0;
}
