/*
 * The debounce and rate limit of roaming's looks: roamlogic.h.
 */
#include <stdio.h>
#include <string.h>

#include "roamlogic.h"

void
roamlogic_init(struct roamlogic *r)
{
	memset(r, 0, sizeof(*r));
	r->ran = -1;
}

void
roamlogic_note(struct roamlogic *r, unsigned why, double now)
{
	why &= ROAM_NET | ROAM_PATH | ROAM_NAT;
	if (why == 0)
		return;
	r->news++;
	if (why & ROAM_NET) {
		if (!(r->why & ROAM_NET))
			r->first = now;
		r->last = now;
	}
	r->why |= why;
}

double
roamlogic_due(const struct roamlogic *r)
{
	double t, hold;

	if (r->why == 0)
		return -1;
	if (r->why & (ROAM_PATH | ROAM_NAT))
		t = 0;
	else {
		/* a netlink burst: its end, or the hold */
		t = r->last + ROAMLOGIC_QUIET;
		hold = r->first + ROAMLOGIC_HOLD;
		if (hold < t)
			t = hold;
	}
	if (r->ran >= 0 && t < r->ran + ROAMLOGIC_GAP)
		t = r->ran + ROAMLOGIC_GAP;
	return t;
}

unsigned
roamlogic_take(struct roamlogic *r, double now)
{
	double		due = roamlogic_due(r);
	unsigned	why = r->why;

	if (due < 0 || now < due)
		return 0;
	r->why = 0;
	r->ran = now;
	r->looks++;
	return why;
}

void
roamlogic_words(unsigned why, char *buf, unsigned long len)
{
	snprintf(buf, len, "%s%s%s%s%s",
	    why & ROAM_NET ? "an address or route changed" : "",
	    (why & ROAM_NET) && (why & (ROAM_PATH | ROAM_NAT)) ? ", " : "",
	    why & ROAM_PATH ? "a direct path went quiet" : "",
	    (why & ROAM_PATH) && (why & ROAM_NAT) ? ", " : "",
	    why & ROAM_NAT ? "stund saw the NAT change" : "");
}
