/*
 * One side's NAT behaviour for hard-NAT traversal (see hardnat.h): what
 * stund found, on the wire, as BDAY_SIDE_* and in words. No I/O.
 */
#include <stdio.h>
#include <string.h>

#include "birthday.h"
#include "hardnat.h"
#include "natpredict.h"
#include "proto/relaymsg.h"

/* allocators hand out NATPREDICT_PORT_MIN..65535 */
#define HARDNAT_RANGE	(65536 - NATPREDICT_PORT_MIN)

int
hardnat_behav_side(const struct hardnat_behav *b)
{
	if (!b->known || strcmp(b->mapping, "endpoint-independent") == 0)
		return BDAY_SIDE_EASY;
	if (strcmp(b->mapping, "address-dependent") != 0 &&
	    strcmp(b->mapping, "address-and-port-dependent") != 0)
		return BDAY_SIDE_EASY;	/* unknown: ordinary punching */
	if (strcmp(b->alloc, "constant") == 0 ||
	    strcmp(b->alloc, "port-preserving") == 0)
		return BDAY_SIDE_EASY;
	if (strcmp(b->alloc, "sequential") == 0 && b->delta != 0)
		return BDAY_SIDE_SEQ;
	return BDAY_SIDE_RANDOM;
}

void
hardnat_behav_to_wire(const struct hardnat_behav *b, double now,
    struct relaymsg_nat *w)
{
	double age = now - b->seen_at;

	memset(w, 0, sizeof(*w));
	strlcpy(w->mapping, b->mapping, sizeof(w->mapping));
	strlcpy(w->filtering, b->filtering, sizeof(w->filtering));
	strlcpy(w->alloc, b->alloc, sizeof(w->alloc));
	w->delta = b->delta;
	w->jitter = b->jitter;
	w->last_port = b->last_port;
	w->age_ms = age <= 0 ? 0 : age > 4e6 ? 4000000000u :
	    (uint32_t)(age * 1000);
	w->rate = b->rate;
	w->confidence = b->confidence;
}

void
hardnat_behav_from_wire(struct hardnat_behav *b, const struct relaymsg_nat *w,
    double now)
{
	memset(b, 0, sizeof(*b));
	b->known = 1;
	strlcpy(b->mapping, w->mapping, sizeof(b->mapping));
	strlcpy(b->filtering, w->filtering, sizeof(b->filtering));
	strlcpy(b->alloc, w->alloc, sizeof(b->alloc));
	b->delta = w->delta;
	b->jitter = w->jitter;
	b->last_port = w->last_port;
	b->seen_at = now - w->age_ms / 1000.0;
	b->rate = w->rate;
	b->confidence = w->confidence;
}

void
hardnat_behav_str(const struct hardnat_behav *b, char *buf, size_t len)
{
	if (!b->known) {
		snprintf(buf, len, "unknown");
		return;
	}
	if (strcmp(b->alloc, "sequential") == 0)
		snprintf(buf, len, "mapping %s, filtering %s, sequential ports "
		    "(delta %+d, last %u, confidence %.2f)", b->mapping,
		    b->filtering, b->delta, b->last_port, b->confidence);
	else if (strcmp(b->alloc, "unknown") == 0)
		snprintf(buf, len, "mapping %s, filtering %s", b->mapping,
		    b->filtering);
	else
		snprintf(buf, len, "mapping %s, filtering %s, %s ports",
		    b->mapping, b->filtering, b->alloc);
}

uint16_t
hardnat_behav_freshest(const struct hardnat_behav *b, uint16_t srflx_port)
{
	int ahead;

	if (hardnat_behav_side(b) != BDAY_SIDE_SEQ)
		return b->last_port;
	if (srflx_port < NATPREDICT_PORT_MIN ||
	    b->last_port < NATPREDICT_PORT_MIN)
		return b->last_port;
	/* how far the srflx port lies along the allocator's direction */
	ahead = ((int)srflx_port - (int)b->last_port) * (b->delta > 0 ? 1 : -1);
	ahead = ((ahead % HARDNAT_RANGE) + HARDNAT_RANGE) % HARDNAT_RANGE;
	return ahead > 0 && ahead < 4 * NATPREDICT_MAX ? srflx_port :
	    b->last_port;
}
