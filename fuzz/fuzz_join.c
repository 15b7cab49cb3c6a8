/*
 * The join handshake and announcement payloads (proto/join.h,
 * proto/join_ext.c). Input: a mode byte (0 HELLO, 1 WELCOME, 2 REFUSE,
 * 3 ANNOUNCE) and a payload. A payload that decodes encodes again, and
 * that decodes to the same fields; a mesh IPv4 address read is always a
 * valid one (in 100.64.0.0/10, not .0/.255); a refused payload says why in
 * a known word.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "proto/join.h"

static uint8_t	out[1024];

/* a decoder's result: 1 refused (with a known reason), 0 decoded; a v4
 * read must be a valid one */
static int
fuzz_join_refused(int r, uint32_t v4)
{
	if (r == 0) {
		if (v4 != 0 && !join_v4_valid(v4))
			abort();
		return 0;
	}
	if (r < JOIN_E_V4 || !strcmp(join_strerror(r), "unknown error"))
		abort();
	return 1;
}

static void
fuzz_join_welcome(const uint8_t *p, size_t n)
{
	struct join_welcome	w, w2;
	int			r, m;

	r = join_welcome_decode(p, n, &w);
	if (fuzz_join_refused(r, w.v4))
		return;
	if ((m = join_welcome_encode(out, sizeof(out), &w)) < 0 ||
	    join_welcome_decode(out, (size_t)m, &w2) != 0 ||
	    memcmp(&w, &w2, sizeof(w)) != 0)
		abort();
}

static void
fuzz_join_announce(const uint8_t *p, size_t n)
{
	struct sockaddr_storage	c[JOIN_MAX_CANDS], c2[JOIN_MAX_CANDS];
	struct join_announce	a, a2;
	int			r, m;

	memset(c, 0, sizeof(c));
	memset(c2, 0, sizeof(c2));
	a.cands = c;
	a2.cands = c2;
	r = join_announce_decode(p, n, &a);
	if (fuzz_join_refused(r, a.v4))
		return;
	if ((m = join_announce_encode(out, sizeof(out), &a)) < 0 ||
	    join_announce_decode(out, (size_t)m, &a2) != 0 ||
	    memcmp(a.id, a2.id, JOIN_ID_LEN) || memcmp(a.pk, a2.pk,
	    JOIN_PK_LEN) || a.ncands != a2.ncands || memcmp(c, c2,
	    (size_t)a.ncands * sizeof(c[0])) || strcmp(a.name, a2.name) ||
	    a.flags != a2.flags || a.v4 != a2.v4)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct join_hello	h, h2;
	struct join_refuse	f, f2;
	int			m;

	if (size < 1)
		return 0;
	switch (data[0] & 3) {
	case 0:
		if (join_hello_decode(data + 1, size - 1, &h) != 0)
			break;
		if ((m = join_hello_encode(out, sizeof(out), &h)) < 0 ||
		    join_hello_decode(out, (size_t)m, &h2) != 0 ||
		    memcmp(&h, &h2, sizeof(h)) != 0)
			abort();
		break;
	case 1:
		fuzz_join_welcome(data + 1, size - 1);
		break;
	case 2:
		if (join_refuse_decode(data + 1, size - 1, &f) != 0)
			break;
		if ((m = join_refuse_encode(out, sizeof(out), &f)) < 0 ||
		    join_refuse_decode(out, (size_t)m, &f2) != 0 ||
		    memcmp(&f, &f2, sizeof(f)) != 0)
			abort();
		break;
	default:
		fuzz_join_announce(data + 1, size - 1);
		break;
	}
	return 0;
}
