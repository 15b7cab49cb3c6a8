/*
 * Keep-alive failure counting and who speaks (see keepalive.h). Pure logic.
 */
#include <string.h>

#include "keepalive.h"

void
keepalive_init(struct keepalive *k, double interval, int warn_after,
    int dead_after, int lead)
{
	memset(k, 0, sizeof(*k));
	k->interval = interval;
	k->warn_after = warn_after;
	k->dead_after = dead_after;
	k->lead = lead;
	k->heard = -1e9;
}

int
keepalive_tick(struct keepalive *k, double now)
{
	int flags = 0;

	if (k->outstanding) {
		k->outstanding = 0;
		k->failures++;
		k->missed++;
		flags |= KA_MISSED;
		if (k->failures == k->warn_after)
			flags |= KA_WARN;
		if (k->failures >= k->dead_after)
			return flags | KA_DEAD;
	}
	/* a failing side keeps probing until answered or dead */
	if (k->lead || k->failures > 0 ||
	    now - k->heard >= KA_QUIET * k->interval)
		flags |= KA_SEND;
	return flags;
}

void
keepalive_sent(struct keepalive *k, double now)
{
	k->outstanding = 1;
	k->out_sent = now;
	k->sent++;
}

void
keepalive_heard(struct keepalive *k, double now, int missed)
{
	k->received++;
	/* a leader that is not answered: speak up and count for ourselves */
	if (!missed)
		k->heard = now;
}

int
keepalive_ack(struct keepalive *k, double now, double *rtt)
{
	int flags = 0;

	if (!k->outstanding)
		return -1;
	k->outstanding = 0;
	k->acked++;
	if (k->failures == 0) {
		*rtt = now - k->out_sent;
		flags |= KA_RTT;
	}
	if (k->failures >= k->warn_after)
		flags |= KA_RECOVERED;
	k->failures = 0;
	return flags;
}
