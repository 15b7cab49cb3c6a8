/*
 * Upgrade cadence for relayed pairs (see upgrade.h). Pure logic.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "punchd/upgrade.h"

/* a failed try is often a timing miss: the first retries come sooner */
static const double upgrade_steps[] = { 15, 30, UPGRADE_EVERY };

void
upgrade_init(struct upgrade *u, double now)
{
	memset(u, 0, sizeof(*u));
	u->next = now;
	snprintf(u->reason, sizeof(u->reason), "not tried yet");
}

void
upgrade_changed(struct upgrade *u, double now, const char *what)
{
	u->next = now;
	u->tries = 0;
	u->hopeless = 0;
	u->backoff = 0;
	snprintf(u->reason, sizeof(u->reason), "%s: trying direct now",
	    what != NULL ? what : "candidates changed");
}

void
upgrade_failed(struct upgrade *u, double now, int hopeless, const char *why)
{
	double wait;

	if (why == NULL)
		why = "no pair answered";
	u->tries++;
	if (hopeless) {
		u->hopeless = 1;
		u->backoff = u->backoff > 0 ?
		    fmin(2 * u->backoff, UPGRADE_HOPELESS_MAX) :
		    UPGRADE_HOPELESS;
		wait = u->backoff;
	} else {
		u->hopeless = 0;
		u->backoff = 0;
		wait = upgrade_steps[u->tries - 1 < 2 ? u->tries - 1 : 2];
	}
	u->next = now + wait;
	snprintf(u->reason, sizeof(u->reason), "%s%s; next try in %.0f s%s",
	    hopeless ? "hopeless: " : "", why, wait,
	    hopeless ? " or when a candidate changes" : "");
}

void
upgrade_succeeded(struct upgrade *u)
{
	u->next = INFINITY;
	u->tries = 0;
	u->hopeless = 0;
	u->backoff = 0;
	snprintf(u->reason, sizeof(u->reason), "direct");
}

int
upgrade_due(const struct upgrade *u, double now)
{
	return now >= u->next;
}
