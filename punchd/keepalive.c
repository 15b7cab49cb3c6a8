/*
 * Keep-alive failure counting (see keepalive.h). Pure logic.
 */
#include <string.h>

#include "keepalive.h"

void
keepalive_init(struct keepalive *k, double interval, int warn_after,
    int dead_after)
{
	memset(k, 0, sizeof(*k));
	k->interval = interval;
	k->warn_after = warn_after;
	k->dead_after = dead_after;
}

int
keepalive_tick(struct keepalive *k, double now)
{
	int flags = 0;

	(void)now;
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
	return flags | KA_SEND;
}

void
keepalive_sent(struct keepalive *k, uint64_t seq, double now)
{
	k->outstanding = 1;
	k->out_seq = (uint32_t)seq;
	k->out_sent = now;
	k->sent++;
}

int
keepalive_ack(struct keepalive *k, uint32_t seq_lo, double now, double *rtt)
{
	int flags = 0;

	if (!k->outstanding || seq_lo != k->out_seq)
		return -1;
	k->outstanding = 0;
	k->acked++;
	*rtt = now - k->out_sent;
	if (k->failures >= k->warn_after)
		flags |= KA_RECOVERED;
	k->failures = 0;
	return flags;
}
