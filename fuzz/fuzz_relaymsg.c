/*
 * Relay frames (proto/relaymsg.h) as a relay client receives them: the
 * kind of every frame, CONTROL frames read and written back, SIGNAL frames
 * (0xF1 + msgpack) read, written back and read again to the same fields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/relaymsg.h"

static int
signal_eq(const struct relaymsg_signal *a, const struct relaymsg_signal *b)
{
	size_t i;

	if (strcmp(a->type, b->type) || strcmp(a->from, b->from) ||
	    a->ts != b->ts || a->ncands != b->ncands ||
	    a->has_nat != b->has_nat)
		return 0;
	if (a->has_nat && (strcmp(a->nat.mapping, b->nat.mapping) ||
	    strcmp(a->nat.filtering, b->nat.filtering) ||
	    strcmp(a->nat.alloc, b->nat.alloc) ||
	    a->nat.delta != b->nat.delta || a->nat.jitter != b->nat.jitter ||
	    a->nat.last_port != b->nat.last_port ||
	    a->nat.age_ms != b->nat.age_ms || a->nat.rate != b->nat.rate ||
	    a->nat.confidence != b->nat.confidence))
		return 0;
	for (i = 0; i < a->ncands; i++)
		if (strcmp(a->cands[i].kind, b->cands[i].kind) ||
		    strcmp(a->cands[i].addr, b->cands[i].addr) ||
		    a->cands[i].prio != b->cands[i].prio)
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct relaymsg_signal	 s, s2;
	struct relaymsg_control		 c, c2;
	uint8_t				 buf[16384], *copy;
	size_t				 n;

	/* an exact-size copy: a read past the frame is an ASan report */
	if ((copy = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	switch (relaymsg_kind(copy, size)) {
	case RELAYMSG_KIND_CONTROL:
		if (relaymsg_control_read(copy, size, &c) == 0) {
			(void)relaymsg_event_str(c.event);
			n = relaymsg_control_write(buf, sizeof(buf), &c);
			if (n != RELAYMSG_CONTROL_LEN ||
			    relaymsg_control_read(buf, n, &c2) != 0 ||
			    c.event != c2.event || c.flags != c2.flags ||
			    c.client_id != c2.client_id ||
			    c.count != c2.count || c.max != c2.max)
				abort();
		}
		break;
	case RELAYMSG_KIND_SIGNAL:
		memset(&s, 0, sizeof(s));
		if (relaymsg_signal_read(copy, size, &s) == 0) {
			n = relaymsg_signal_write(buf, sizeof(buf), &s);
			if (n == 0)
				abort();
			memset(&s2, 0, sizeof(s2));
			if (relaymsg_signal_read(buf, n, &s2) != 0 ||
			    !signal_eq(&s, &s2))
				abort();
		}
		break;
	default:
		/* a client also tries the other readers on any frame */
		(void)relaymsg_control_read(copy, size, &c);
		(void)relaymsg_signal_read(copy, size, &s);
		break;
	}
	free(copy);
	return 0;
}
