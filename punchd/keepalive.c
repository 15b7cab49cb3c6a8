/*
 * Keep-alive failure counting and who speaks (see keepalive.h). Pure logic.
 */
#include <math.h>
#include <string.h>

#include "keepalive.h"

/* How late the leader's KEEPALIVE may be: KA_EXPECT_SLACK, or half its
 * interval when that is shorter (the tests' 200 ms keep-alives) */
static double
keepalive_slack(const struct keepalive *k)
{
	return fmin(KA_EXPECT_SLACK, (KA_QUIET - 1) *
	    (k->lead_iv > 0 ? k->lead_iv : k->interval));
}

void
keepalive_init(struct keepalive *k, double interval, int warn_after,
    int dead_after, int lead)
{
	memset(k, 0, sizeof(*k));
	k->interval = interval;
	k->warn_after = warn_after;
	k->dead_after = dead_after;
	k->lead = lead;
	k->own = interval;
	k->expect_at = -1;
	k->heard = -1e9;
}

void
keepalive_set_interval(struct keepalive *k, double interval)
{
	k->own = interval;
	k->interval = !k->lead && k->lead_iv > 0 ?
	    fmin(interval, k->lead_iv) : interval;
}

static void
keepalive_put32(uint8_t *b, double s)
{
	uint32_t v = (uint32_t)(fmin(fmax(s, 0), KA_HINT_MAX) * 1000 + 0.5);

	b[0] = v >> 24;
	b[1] = v >> 16;
	b[2] = v >> 8;
	b[3] = v;
}

static double
keepalive_get32(const uint8_t *b)
{
	return ((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3]) / 1000.0;
}

void
keepalive_hint_pack(uint8_t *buf, double interval, double next)
{
	keepalive_put32(buf, interval);
	keepalive_put32(buf + 4, next);
}

int
keepalive_hint_parse(const uint8_t *pl, size_t len, double *interval,
    double *next)
{
	double iv, nx;

	if (pl == NULL || len < KA_HINT_LEN)
		return -1;
	iv = keepalive_get32(pl);
	nx = keepalive_get32(pl + 4);
	if (iv <= 0 || iv > KA_HINT_MAX || nx <= 0 || nx > KA_HINT_MAX)
		return -1;
	*interval = iv;
	*next = nx;
	return 0;
}

int
keepalive_hint(struct keepalive *k, double now, double interval, double next)
{
	double was = k->interval;

	if (k->lead || !isfinite(interval) || interval <= 0 ||
	    !isfinite(next) || next <= 0)
		return 0;
	k->lead_iv = interval;
	k->expect_at = now + next;
	keepalive_set_interval(k, k->own);
	return k->interval != was;
}

double
keepalive_expect(const struct keepalive *k, double last_heard)
{
	if (k->lead)
		return INFINITY;
	if (k->expect_at >= 0)
		return k->expect_at + keepalive_slack(k);
	return last_heard + k->interval + keepalive_slack(k);
}

void
keepalive_expect_missed(struct keepalive *k, double now)
{
	if (k->expect_at < 0 || k->lead_iv <= 0)
		return;
	while (k->expect_at + keepalive_slack(k) <= now)
		k->expect_at += k->lead_iv;
}

/*
 * The follower has not heard the leader for KA_QUIET intervals, or the
 * leader said its last one went unanswered. With the leader's schedule
 * known, not before its next KEEPALIVE is overdue: a gap longer than the
 * interval (a lifetime probe, link.c) must stay silent, or our KEEPALIVE
 * would keep our NAT's binding open and the probe prove nothing.
 */
static int
keepalive_quiet(const struct keepalive *k, double now)
{
	if (now - k->heard < KA_QUIET * k->interval)
		return 0;
	return k->told || k->expect_at < 0 ||
	    now >= k->expect_at + keepalive_slack(k);
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
	if (k->lead || k->failures > 0 || keepalive_quiet(k, now))
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
	k->told = missed;
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
