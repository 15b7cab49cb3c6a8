/*
 * The join's paths (joiner_paths.h). Each start of the race holds one
 * kind of path: local and local6 together, public and public6 together,
 * the relay (issue 13 item 6: both address families raced, neither waits
 * for the other). `local` in the request takes `local6` along unless that
 * is named on its own, likewise `public`. An endpoint an earlier path
 * already sends to is not sent to twice: without NAT an IPv6 host's
 * global address is both local6 and public6.
 */
#include <stdio.h>
#include <string.h>

#include "common/netaddr.h"
#include "punchd.h"
#include "joiner_paths.h"
#include "joiner_race.h"

int
joiner_paths_parse(const char *list, unsigned *slots)
{
	char		 buf[64], *s = buf, *tok;
	int		 i, n = 0;
	unsigned	 seen = 0;

	strlcpy(buf, list[0] != '\0' ? list : "local,public,relay",
	    sizeof(buf));
	while ((tok = strsep(&s, ",")) != NULL) {
		for (i = 0; i < JOINER_NPATHS; i++)
			if (!strcmp(tok, joiner_path_names[i]))
				break;
		if (i == JOINER_NPATHS || (seen & (1u << i)))
			return -1;	/* unknown, or twice */
		seen |= 1u << i;
		slots[n++] = 1u << i;
	}
	for (i = 0; i < n; i++)
		if ((slots[i] == 1u << JOINER_LOCAL &&
		    !(seen & (1u << JOINER_LOCAL6))) ||
		    (slots[i] == 1u << JOINER_PUBLIC &&
		    !(seen & (1u << JOINER_PUBLIC6))))
			slots[i] |= slots[i] << 1;	/* its IPv6 one */
	return n;
}

const struct invite_addr *
joiner_paths_addr(const struct invite *inv, int path)
{
	switch (path) {
	case JOINER_LOCAL:	return &inv->ep_local;
	case JOINER_LOCAL6:	return &inv->ep_local6;
	case JOINER_PUBLIC:	return &inv->ep_public;
	default:		return &inv->ep_public6;
	}
}

int
joiner_paths_cand(const struct invite_addr *ia, struct sockaddr_storage *ss)
{
	char a[80];

	return ia->family != INVITE_AF_NONE && netaddr_parse(
	    invite_addr_str(ia, NULL, a, sizeof(a)), 0, ss) == 0;
}

/* One path of a start: its endpoint, unless an earlier path has the same
 * one. 1 when it runs. */
static int
joiner_paths_one(struct joiner_race *r, const struct invite *inv,
    const struct joiner_req *req, int path, double at)
{
	struct sockaddr_storage	 to;
	const struct invite_addr *ia;
	char			 via[300];
	int			 i;

	via[0] = '\0';
	memset(&to, 0, sizeof(to));
	if (path == JOINER_RELAY)
		strlcpy(via, inv->ep_relay, sizeof(via));
	else if (joiner_paths_cand((ia = joiner_paths_addr(inv, path)), &to))
		invite_addr_str(ia, "udp://", via, sizeof(via));
	for (i = 0; i < JOINER_NPATHS && via[0] != '\0'; i++)
		if (i != path && r->t[i].state == JOINER_TRY_WAITING &&
		    !strcmp(r->t[i].via, via)) {
			snprintf(r->t[path].why, sizeof(r->t[path].why),
			    "the same endpoint as %s", joiner_path_names[i]);
			return 0;
		}
	joiner_race_add(r, path, via, &to, at, (path == JOINER_RELAY ?
	    req->relay_timeout_ms : req->timeout_ms) / 1000.0);
	return via[0] != '\0';
}

int
joiner_paths_add(struct joiner_race *r, const struct invite *inv,
    const struct joiner_req *req, const unsigned *slots, int n)
{
	double	at = 0;
	int	k, i, started, running = 0;

	for (k = 0; k < n; k++) {
		started = 0;
		for (i = 0; i < JOINER_NPATHS; i++)
			if (slots[k] & (1u << i))
				started += joiner_paths_one(r, inv, req, i, at);
		if (started > 0) {
			running += started;
			at += req->stagger_ms / 1000.0;
		}
	}
	return running;
}
